"""Entropy panel (TEACHING.md steps 2-4 and 6): how predictable the next byte is given k bytes
of context, where surprisal peaks along a sentence (and whether the n-gram Viterbi cuts there,
scored against the gold words), and bits per byte and compression against vocabulary size
from the last sweep."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from bytepiece_core import analysis
from bytepiece_core.metrics import score_segmentation

from ..corpora import SAMPLES, Corpus, load_lines
from ..figures import (
    char_surprisal,
    ngram_entropy_figure,
    surprisal_figure,
    sweep_figure,
)
from ..html import cut_offsets, token_spans_html
from ..jobs import Job
from ..state import AppState
from ._base import Panel, labeled, section

__all__ = ["HELDOUT_CURVE", "EntropyPanel", "gold_for", "heldout_split"]

HELDOUT_CURVE = "held-out 10%, model of the rest"
"""Name of the curve of the last 10% of the lines under the n-gram model of the others."""


def heldout_split(texts: list[str]) -> tuple[list[str], list[str]]:
    """The first 90% of the lines and the last 10% (none for a corpus under 10 lines).

    >>> [len(p) for p in heldout_split(["a\\n"] * 25)]
    [23, 2]
    """
    n_held = len(texts) // 10
    if n_held == 0 or not any(t.strip() for t in texts[-n_held:]):
        return texts, []
    return texts[:-n_held], texts[-n_held:]


def gold_for(corpus: Corpus, sentence: str) -> list[str] | None:
    """The gold words of one line of the corpus (None if it has no gold or no such line).

    >>> from workbench.corpora import load_corpus
    >>> gold_for(load_corpus("zh_pd199801"), "中共中央总书记、国家主席江泽民")[:3]
    ['中共中央', '总书记', '、']
    """
    if corpus.gold is None:
        return None
    lines = [t.strip() for t in corpus.texts if t.strip()]
    for line, words in zip(lines, corpus.gold, strict=True):
        if line == sentence:
            return words
    return None


class EntropyPanel(Panel):
    """The byte n-gram model of the corpus.

    Attributes
    ----------
    order : IntSlider, the n-gram order
    all_samples : Checkbox, also draw the curves of the other bundled samples
    compute_button : Button, computes the curve and the n-gram model (in the background)
    curve : FigureSlot, H_k against k
    sentence : Dropdown, a line of the corpus
    surprisal : FigureSlot, surprisal per byte with gold boundaries and n-gram cuts
    cuts : HTML, the n-gram segmentation and its boundary scores
    sweep : FigureSlot, bits/byte and bytes/token against vocabulary size
    model : the ``NgramModel`` of the corpus (None until computed)
    """

    title = "Entropy"

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        self.order = W.IntSlider(value=6, min=1, max=10, description="order")
        self.all_samples = W.Checkbox(value=False, description="compare bundled samples")
        self.compute_button = W.Button(description="Compute", button_style="primary")
        self.curve = self.slot(width=760)
        self.sentence = W.Dropdown(description="Sentence", layout=W.Layout(width="640px"))
        self.unit = W.ToggleButtons(
            options=[("per character", "char"), ("per byte", "byte")],
            value="char",
            tooltip="per character: each character's bytes summed",
        )
        self.surprisal = self.slot(width=1150)
        self.cuts = W.HTML()
        self.sweep = self.slot(width=1150)
        self.sweep_note = W.HTML()
        self.model: analysis.NgramModel | None = None
        self._computed_for: tuple[int, int, bool] | None = None
        self.compute_button.on_click(self._on_compute)
        self.sentence.observe(lambda change: self.refresh_sentence(), "value")
        self.unit.observe(lambda change: self.refresh_sentence(), "value")
        state.observe(self._on_corpus, "corpus")
        state.observe(lambda change: self.refresh_sweep(), "sweep")
        self._fill_sentences()
        self.widget = W.VBox(
            [
                section(
                    "How predictable is the next byte?",
                    "H_k: entropy of a byte given the k bytes before it (bits/byte), counted "
                    "on the corpus itself. The drop from one order to the next is what "
                    "context tells. The held-out curve scores the last 10% of the lines "
                    "with the n-gram model of the rest (unseen n-grams get a share from "
                    "shorter contexts): it falls, then rises once long contexts are mostly "
                    "ones seen once.",
                ),
                W.HBox(
                    [
                        labeled(
                            self.order,
                            "Context (bytes)",
                            "order",
                            "the longest context k: H_0 .. H_k are drawn. Higher k needs "
                            "more text to estimate.",
                        ),
                        labeled(
                            self.all_samples,
                            "Other samples too",
                            "ngram_entropy",
                            "draw the bundled samples' curves beside this corpus.",
                        ),
                        self.compute_button,
                    ]
                ),
                self.status,
                self.curve.box,
                section(
                    "Where are the word boundaries?",
                    "Surprisal under the n-gram model: inside a word what comes next is "
                    "predictable, across a boundary it is not. Per character (its bytes "
                    "summed) hides the rhythm of UTF-8, where a Chinese character's second "
                    "and third bytes are nearly certain. Dotted: gold word boundaries; "
                    "triangles: cuts of the n-gram Viterbi segmentation.",
                ),
                W.HBox([self.sentence, self.unit]),
                self.surprisal.box,
                self.cuts,
                section("Bits per byte and compression against vocabulary size"),
                self.sweep_note,
                self.sweep.box,
            ]
        )
        self.refresh_sweep()

    def on_show(self) -> None:
        """Create the figures and compute on first view of a corpus (the tab was selected)."""
        super().on_show()
        if self._computed_for != self._key() and not self.busy:
            self._on_compute()

    def _key(self) -> tuple[int, int, bool]:
        return (id(self.state.corpus), self.order.value, self.all_samples.value)

    def _fill_sentences(self) -> None:
        corpus = self.state.corpus
        sentences = [s for s in corpus.sentences(40, max_chars=40) if len(s) >= 6]
        if corpus.gold is not None:  # lines with a gold segmentation first
            sentences.sort(key=lambda s: gold_for(corpus, s) is None)
        self.sentence.options = sentences
        self.sentence.value = sentences[0] if sentences else None

    def _on_corpus(self, change: dict[str, Any]) -> None:
        self.model = None
        self._fill_sentences()

    def _on_compute(self, _: Any = None) -> None:
        if self.busy:
            return
        corpus, order, compare = self.state.corpus, self.order.value, self.all_samples.value
        key = self._key()
        self.show_status(f"Computing the order-{order} model of {corpus.name}…")

        def work(job: Job) -> tuple[dict[str, Any], Any]:
            curves = {corpus.name: analysis.ngram_entropy(corpus.texts, order=order)}
            train, held = heldout_split(corpus.texts)
            if held:
                scored = analysis.heldout_entropy(train, held, order=order)
                curves[HELDOUT_CURVE] = scored.rename(columns={"heldout_bits": "entropy"})
            if compare:
                for name in SAMPLES:
                    if name != corpus.name:
                        curves[name] = analysis.ngram_entropy(load_lines(name), order=order)
            model: analysis.NgramModel | Exception
            try:  # the curve stands on its own if the model cannot be built
                model = analysis.ngram_model(
                    corpus.texts, order=order, min_count=self.state.options.min_count
                )
            except Exception as exc:
                model = exc
            return curves, model

        def success(result: tuple[dict[str, Any], Any]) -> None:
            curves, model = result
            self._computed_for = key
            self.curve.show(ngram_entropy_figure(curves))
            h = curves[corpus.name]["entropy"].tolist()
            note = ""
            if HELDOUT_CURVE in curves:
                held = curves[HELDOUT_CURVE]
                best = int(held["order"][held["entropy"].idxmin()])
                note = (
                    f"; on the held-out lines the fewest bits per byte are at k = {best} "
                    f"({held['entropy'].min():.2f}): longer contexts were mostly seen once"
                )
            self.show_status(f"H_0 = {h[0]:.2f} → H_{order} = {h[-1]:.2f} bits/byte{note}", "ok")
            if isinstance(model, Exception):
                self.model = None
                self.show_error(model, "building the n-gram model for surprisal")
                return
            self.model = model
            self.refresh_sentence()

        self.start_job(
            work,
            success,
            lambda exc: self.show_error(exc, "computing entropy"),
            run_button=self.compute_button,
            name="workbench-entropy",
        )

    def refresh_sentence(self) -> None:
        """Surprisal and n-gram cuts of the chosen sentence."""
        sentence = self.sentence.value
        if self.model is None or not sentence:
            return
        try:
            frame = self.model.surprisal(sentence)
            pieces = self.model.segment(sentence)
            gold = gold_for(self.state.corpus, sentence)
            gold_cuts = sorted(cut_offsets([w.encode("utf-8") for w in gold])) if gold else []
            model_cuts = sorted(cut_offsets(pieces))
            if self.unit.value == "char":
                frame, (gold_cuts, model_cuts) = char_surprisal(frame, gold_cuts, model_cuts)
            fig = surprisal_figure(
                frame, gold_cuts=gold_cuts, model_cuts=model_cuts, unit=self.unit.value
            )
        except Exception as exc:
            self.show_error(exc, "computing surprisal")
            return
        self.surprisal.show(fig)
        note = "no gold segmentation for this corpus"
        if gold:
            s = score_segmentation([pieces], [gold])
            note = (
                f"boundary precision {s.boundary_precision:.2f}, recall "
                f"{s.boundary_recall:.2f}, F1 <b>{s.boundary_f1:.2f}</b> against the gold "
                f"words ({len(gold)} words)"
            )
        self.cuts.value = f"n-gram Viterbi words ({len(pieces)}): {note}" + token_spans_html(pieces)

    def refresh_sweep(self) -> None:
        """Draw the last sweep (or say how to make one)."""
        sweep = self.state.sweep
        if sweep is None:
            self.sweep_note.value = "Run a sweep in the <b>Tune</b> tab to see these curves."
            self.sweep.box.layout.display = "none"
            return
        self.sweep_note.value = ""
        self.sweep.box.layout.display = None
        self.sweep.show(
            sweep_figure(
                sweep.table,
                metrics=["bytes_per_token", "bits_per_byte"],
                title="compression and code length (train solid, held-out dashed)",
            ),
        )
