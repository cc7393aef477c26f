"""Lattice panel: every segmentation of one sentence under one model, the Viterbi path, the
marginals at an inverse temperature ``alpha``, and segmentations sampled with seeds."""

# ruff: noqa: RUF001, RUF002, RUF100 (CJK text, Greek alpha and angle-quoted hex are intended)

from __future__ import annotations

import math
from typing import Any

import ipywidgets as W

from bytepiece_core.lattice import Lattice

from ..figures import lattice_figure
from ..html import token_spans_html
from ..state import RELEASED, AppState
from ._base import Panel, labeled, section, sync_model_menu

__all__ = ["MAX_BYTES", "LatticePanel", "clip_text"]

MAX_BYTES = 240
"""Longest text drawn, in UTF-8 bytes (a longer one is cut at a character boundary)."""

DEFAULT_TEXT = "今天天气不错，我们去公园散步吧。"


def clip_text(text: str, max_bytes: int = MAX_BYTES) -> str:
    """The longest prefix of ``text`` of at most ``max_bytes`` UTF-8 bytes.

    >>> clip_text("中文ab", 7)
    '中文a'
    """
    out, size = [], 0
    for ch in text:
        size += len(ch.encode("utf-8", errors="surrogatepass"))
        if size > max_bytes:
            break
        out.append(ch)
    return "".join(out)


class LatticePanel(Panel):
    """See the segmentation lattice of a text.

    Attributes
    ----------
    sentence : Dropdown, short lines of the corpus (choosing one fills ``text``)
    text : Textarea, the text drawn
    model : Dropdown
    alpha : FloatSlider, inverse temperature of ``p(seg) ∝ Π p(piece)^alpha`` (0: uniform)
    n_samples, seed, sample_button : how many segmentations to draw, from which seed
    figure : FigureSlot, the lattice
    info : HTML, entropy, number of segmentations, the best path
    samples : HTML, the sampled segmentations
    lattice : Lattice or None, what the figure shows
    """

    title = "Lattice"

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        self.sentence = W.Dropdown(description="Sentence", layout=W.Layout(width="640px"))
        self.text = W.Textarea(
            value=DEFAULT_TEXT,
            description="Text",
            continuous_update=False,
            layout=W.Layout(width="640px", height="60px"),
        )
        self.model = W.Dropdown(description="Model", layout=W.Layout(width="420px"))
        self.alpha = W.FloatSlider(
            value=1.0,
            min=0.0,
            max=3.0,
            step=0.05,
            description="alpha",
            continuous_update=False,
            readout_format=".2f",
        )
        self.n_samples = W.IntSlider(value=5, min=1, max=20, description="samples")
        self.seed = W.IntText(value=0, description="first seed", layout=W.Layout(width="200px"))
        self.sample_button = W.Button(description="Sample")
        self.figure = self.slot()
        self.info = W.HTML()
        self.samples = W.HTML()
        self.lattice: Lattice | None = None
        self._fill_sentences()
        sync_model_menu(self.model, list(state.models), state.default_model())
        self.sentence.observe(self._on_sentence, "value")
        self.text.observe(lambda change: self.refresh(), "value")
        self.model.observe(lambda change: self.refresh(), "value")
        self.alpha.observe(lambda change: self.refresh(), "value")
        self.sample_button.on_click(self._on_sample)
        state.observe(self._on_models, "models")
        state.observe(lambda change: self._fill_sentences(), "corpus")
        self.widget = W.VBox(
            [
                section(
                    "Segmentation lattice",
                    "Each bar is a vocabulary match over its bytes; red outlines the best "
                    "(Viterbi) path. Under p(segmentation) ∝ Π p(piece)^α a bar's opacity is "
                    "the probability that a random segmentation uses it; the strip below is "
                    "the probability of a cut at each byte. α → ∞ is Viterbi, α = 0 uniform.",
                ),
                self.sentence,
                self.text,
                W.HBox(
                    [
                        self.model,
                        labeled(
                            self.alpha,
                            "Sharpness α",
                            "alpha",
                            "an inverse temperature: p(seg) ∝ Π p(piece)^α. 0: every "
                            "segmentation equally likely; large: all on the best path.",
                        ),
                    ]
                ),
                self.status,
                self.info,
                self.figure.box,
                W.HBox(
                    [
                        labeled(
                            self.n_samples,
                            "Samples",
                            "tokenize(text, alpha, seed=...)",
                            "how many segmentations to draw at this α (subword regularization).",
                        ),
                        labeled(
                            self.seed,
                            "First seed",
                            "seed",
                            "the same seeds draw the same samples.",
                        ),
                        self.sample_button,
                    ]
                ),
                self.samples,
            ]
        )
        self.refresh()

    def _fill_sentences(self) -> None:
        sentences = self.state.corpus.sentences(30, max_chars=50)
        self.sentence.options = [("(type your own below)", "")] + [(s, s) for s in sentences]
        self.sentence.value = ""

    def _on_sentence(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.text.value = change["new"]

    def _on_models(self, change: dict[str, Any]) -> None:
        before = self.model.value
        keep = before != RELEASED  # a new trained model replaces the released one
        sync_model_menu(self.model, list(change["new"]), self.state.default_model(), keep=keep)
        if self.model.value == before:  # same label, maybe a new model under it
            self.refresh()

    def refresh(self) -> None:
        """Recompute the lattice of the text and redraw (in place when only alpha moved)."""
        if self.model.value is None:
            return
        self.samples.value = ""  # drawn from another text, model or alpha
        text = self.text.value.strip("\n")
        if self.sentence.value and self.sentence.value != text:
            self.sentence.value = ""  # the text was edited: no sentence of the list is shown
        if not text:
            self.lattice = None
            self.figure.box.layout.display = "none"
            self.status.value = ""
            self.info.value = "Type a text above, or choose a sentence, to see its lattice."
            return
        self.figure.box.layout.display = None
        clipped = clip_text(text)
        try:
            tok = self.state.models[self.model.value]
            lat = tok.lattice(clipped, alpha=self.alpha.value)
            fig = lattice_figure(lat)
        except Exception as exc:
            self.show_error(exc, "drawing the lattice")
            return
        self.lattice = lat
        self.figure.show(fig)
        if clipped != text:
            self.show_status(
                f"The text is longer than {MAX_BYTES} bytes: showing its first "
                f"{len(clipped)} characters.",
                "warn",
            )
        else:
            self.status.value = ""
        best = [lat.pieces[i] for i in lat.best.tolist()]
        self.info.value = (
            f"{lat.n_bytes} bytes, {len(lat.ids):,} edges, "
            f"{_count(lat.log_count)} segmentations; entropy at α = {lat.alpha:g}: "
            f"<b>{lat.entropy:.2f} bits</b>. Best path ({len(best)} tokens):"
            + token_spans_html(best, ids=lat.ids[lat.best].tolist())
        )

    def _on_sample(self, _: Any = None) -> None:
        try:
            tok = self.state.models[self.model.value]
            text = clip_text(self.text.value.strip("\n"))
            rows = []
            for k in range(self.n_samples.value):
                seed = self.seed.value + k
                pieces = tok.tokenize(text, alpha=self.alpha.value, seed=seed)
                rows.append(
                    f"<div><span style='color:#777'>seed {seed}, {len(pieces)} tokens"
                    f"</span>{token_spans_html(pieces)}</div>"
                )
        except Exception as exc:
            self.show_error(exc, "sampling")
            return
        self.samples.value = "".join(rows)


def _count(log_count: float) -> str:
    """Number of segmentations from its natural log, exactly when small."""
    if log_count < math.log(1e7):
        return f"{round(math.exp(log_count)):,}"
    return f"about 10^{log_count / math.log(10):.1f}"
