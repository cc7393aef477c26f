"""Compare panel: the same text under two models (two trained sizes, or a trained model and
the released one), as coloured token spans with counts, and how each codes the corpus; and
model A against SentencePiece unigram/BPE and HF BPE models of the same size trained on the
same corpus (the peers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as W
import pandas as pd

from bytepiece_core.peers import Peer, compare_metrics, compare_tokenizations, train_peers

from ..html import compare_html, frame_html, token_spans_html
from ..state import RELEASED, AppState
from ..tables import metrics_frame
from ._base import Panel, section, sync_model_menu

__all__ = ["ComparePanel", "peer_spans_html"]


def peer_spans_html(frame: pd.DataFrame, text: str) -> str:
    """The tokenizations of :func:`~bytepiece_core.peers.compare_tokenizations` as coloured
    spans, one block per tokenizer, with its token count."""
    data = text.encode()
    blocks = []
    for name, rows in frame.groupby("tokenizer", sort=False):
        pieces = [data[s:e] for s, e in zip(rows["byte_start"], rows["byte_end"])]
        blocks.append(
            f"<div style='margin:6px 0 14px 0'><b>{name}</b>: {len(pieces):,} tokens"
            f"{token_spans_html(pieces, list(rows['id']))}</div>"
        )
    return "".join(blocks)


class ComparePanel(Panel):
    """Two models side by side on one text and on the corpus.

    Attributes
    ----------
    text : Textarea
    left, right : Dropdown, the two models
    spans : HTML, the two tokenizations with counts
    corpus_table : HTML, compression and code length of each model on the corpus
    """

    title = "Compare"

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        self._held = False
        self.text = W.Textarea(
            description="Text",
            continuous_update=False,
            layout=W.Layout(width="720px", height="90px"),
        )
        self.left = W.Dropdown(description="Model A", layout=W.Layout(width="420px"))
        self.right = W.Dropdown(description="Model B", layout=W.Layout(width="420px"))
        self.spans = W.HTML()
        self.corpus_table = W.HTML()
        self.peer_button = W.Button(
            description="Train peers",
            icon="cogs",
            tooltip="SentencePiece unigram and BPE, HF BPE: model A's size, 90% of the corpus",
        )
        self.peer_button.on_click(lambda _: self.train_peers())
        self.peer_status = W.HTML()
        self.peer_spans = W.HTML()
        self.peer_table = W.HTML()
        self.peers: dict[str, Peer] = {}
        self._peer_model: str | None = None
        self._sync_menus()
        self._fill_text()
        for w in (self.text, self.left, self.right):
            w.observe(lambda change: self.refresh(), "value")
        state.observe(self._on_models, "models")
        state.observe(self._on_corpus, "corpus")
        self.widget = W.VBox(
            [
                section(
                    "Compare two models",
                    "The same text cut by two models; hover a token for its id. Below, "
                    "how each codes the whole corpus (compression and bits per byte).",
                ),
                W.HBox([self.left, self.right]),
                self.text,
                self.status,
                self.spans,
                section("On the corpus"),
                self.corpus_table,
                section(
                    "Against SentencePiece and BPE",
                    "Peers of model A's vocabulary size, trained on the first 90% of the "
                    "corpus lines; the table compares all on the last 10% (held out). "
                    "bits/byte is NaN for BPE, which has no piece probabilities.",
                ),
                W.HBox([self.peer_button, self.peer_status]),
                self.peer_spans,
                self.peer_table,
            ]
        )
        self.refresh()

    def _sync_menus(self) -> None:
        labels = list(self.state.models)
        keep = self.left.value != RELEASED  # a new trained model replaces the released one
        sync_model_menu(self.left, labels, self.state.default_model(), keep=keep)
        sync_model_menu(self.right, labels, RELEASED)

    def _fill_text(self) -> None:
        self.text.value = "\n".join(self.state.corpus.sentences(3, max_chars=80))

    def _on_models(self, change: dict[str, Any]) -> None:
        with self.hold():
            self._sync_menus()
        self.refresh()

    def _on_corpus(self, change: dict[str, Any]) -> None:
        with self.hold():
            self._fill_text()
        self.refresh()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """A context in which control changes do not refresh (set several at once)."""
        self._held = True
        try:
            yield
        finally:
            self._held = False

    def _split(self) -> tuple[list[str], list[str]]:
        texts = self.state.corpus.texts
        n_held = max(1, len(texts) // 10)
        return texts[:-n_held] or texts, texts[-n_held:]

    def train_peers(self) -> None:
        """Train the peers at model A's size on the corpus and show the comparison."""
        if self.left.value is None:
            return
        label = self.left.value
        size = self.state.models[label].vocab_size
        self.peer_button.disabled = True
        self.peer_status.value = f"training peers of {size:,} ids ..."
        try:
            train, _ = self._split()
            self.peers = train_peers(train, size, num_threads=2)
            self._peer_model = label
            self.peer_status.value = f"peers of <b>{label}</b>: " + ", ".join(
                f"{n} ({p.vocab_size:,} ids)" for n, p in self.peers.items()
            )
            self.refresh_peers()
        except Exception as exc:
            self.peers, self._peer_model = {}, None
            self.peer_status.value = ""
            self.show_error(exc, "training the peers")
        finally:
            self.peer_button.disabled = False

    def refresh_peers(self) -> None:
        """Cut the text with model A and the peers; compare them on the held-out lines."""
        if not self.peers or self._peer_model not in self.state.models:
            self.peer_spans.value = self.peer_table.value = ""
            return
        tok = self.state.models[self._peer_model]
        frame = compare_tokenizations(self.text.value, tok, self.peers)
        self.peer_spans.value = peer_spans_html(frame, self.text.value)
        _, held = self._split()
        metrics = compare_metrics(held, tok, self.peers).reset_index()
        self.peer_table.value = frame_html(metrics)

    def refresh(self) -> None:
        """Tokenize the text and the corpus with both models."""
        if self._held or self.left.value is None or self.right.value is None:
            return
        models = {label: self.state.models[label] for label in (self.left.value, self.right.value)}
        try:
            a, b = (self.state.models[v] for v in (self.left.value, self.right.value))
            text = self.text.value
            self.spans.value = compare_html(
                (self.left.value, a.tokenize(text)), (self.right.value, b.tokenize(text))
            )
            self.corpus_table.value = frame_html(metrics_frame(models, self.state.corpus.texts))
            self.refresh_peers()
        except Exception as exc:
            self.show_error(exc, "comparing")
            return
        self.status.value = ""
