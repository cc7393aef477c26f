"""Compare panel: the same text under two models (two trained sizes, or a trained model and
the released one), as coloured token spans with counts, and how each codes the corpus; and,
like for like, BytePiece models of both algorithms and SentencePiece unigram/BPE and HF BPE
models (the peers) of model A's size, all trained on the same first 90% of the corpus lines
and scored on the last 10%, which none of them saw."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import ipywidgets as W
import pandas as pd

from bytepiece_core import Tokenizer
from bytepiece_core.peers import Peer, compare_metrics, compare_tokenizations, train_peers

from ..html import compare_html, frame_html, token_spans_html
from ..jobs import Job, Stopped
from ..state import RELEASED, AppState
from ..tables import metrics_frame, metrics_legend_html
from ._base import Panel, section, sync_model_menu

__all__ = ["ALGORITHM_NAMES", "PEER_NAMES", "ComparePanel", "peer_spans_html"]

ALGORITHM_NAMES = {"refined": "bytepiece refined", "bytepiece": "bytepiece reference"}
"""Table names of our models, by ``Trainer`` algorithm."""
PEER_NAMES = {
    "sp_unigram": "SentencePiece unigram",
    "sp_bpe": "SentencePiece BPE",
    "hf_bpe": "HF byte-level BPE",
}
"""Table names of the peers, by kind."""


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
            description="Train all",
            layout=W.Layout(width="120px"),
        )
        self.peer_stop = W.Button(
            description="Stop",
            button_style="danger",
            disabled=True,
            layout=W.Layout(width="90px"),
        )
        self.peer_button.on_click(lambda _: self.train_peers())
        self.peer_stop.on_click(lambda _: self.stop_job())
        self.peer_status = W.HTML()
        self.peer_spans = W.HTML()
        self.peer_table = W.HTML()
        self.peers: dict[str, Peer] = {}
        self.ours: dict[str, Tokenizer] = {}
        self.peer_size: int | None = None
        self.skipped: dict[str, str] = {}
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
                    "Against SentencePiece and BPE, like for like",
                    "Train all trains BytePiece (both algorithms, the Train tab's options) "
                    "and SentencePiece unigram and BPE and HF byte-level BPE at model A's "
                    "vocabulary size, every one on the first 90% of the corpus lines, and "
                    "scores them on the last 10%, which none of them saw. The sample text "
                    "above comes from that unseen part. bits/byte is NaN for BPE, which has "
                    "no piece probabilities.",
                ),
                W.HBox([self.peer_button, self.peer_stop, self.peer_status]),
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
        """Three short lines from the held-out part (unseen by the models compared below)."""
        _, held = self._split()
        lines = [t.strip() for t in held if t.strip() and len(t.strip()) <= 80][:3]
        self.text.value = "\n".join(lines or [t.strip()[:80] for t in held if t.strip()][:3])

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
        """Train ours (both algorithms) and the peers at model A's size on the training part,
        in the background (Stop ends it between models), then compare them on the rest."""
        if self.left.value is None or self.busy:
            return
        size = self.state.models[self.left.value].vocab_size
        train, _ = self._split()
        options = self.state.options
        steps: list[tuple[str, str]] = [("ours", a) for a in ALGORITHM_NAMES] + [
            ("peer", kind) for kind in PEER_NAMES
        ]
        self.peer_status.value = f"training {len(steps)} models of {size:,} ids…"

        def work(job: Job) -> tuple[dict[str, Tokenizer], dict[str, Peer], dict[str, str]]:
            ours: dict[str, Tokenizer] = {}
            peers: dict[str, Peer] = {}
            skipped: dict[str, str] = {}
            for k, (what, key) in enumerate(steps, 1):
                job.check_stop()
                name = ALGORITHM_NAMES[key] if what == "ours" else PEER_NAMES[key]
                self.peer_status.value = f"training {k} of {len(steps)}: {name}…"
                try:
                    if what == "ours":
                        # the Train tab's options; ensure_unicode too for its own algorithm
                        unicode = options.ensure_unicode if key == options.algorithm else None
                        trainer = replace(
                            options, max_vocab_size=[size], algorithm=key, ensure_unicode=unicode
                        ).trainer()
                        trainer.train(train, workers=options.workers)
                        ours[name] = trainer.tokenizer()
                    else:
                        peers[name] = train_peers(train, size, [key], num_threads=2)[key]
                except ValueError as exc:  # a size a peer cannot train: skip that one
                    skipped[name] = str(exc)
            return ours, peers, skipped

        def success(result: tuple[dict[str, Tokenizer], dict[str, Peer], dict[str, str]]) -> None:
            self.ours, self.peers, self.skipped = result
            self.peer_size = size
            self.peer_status.value = ""
            self.refresh_peers()

        def error(exc: BaseException) -> None:
            if isinstance(exc, Stopped):
                self.peer_status.value = "Stopped: the comparison was cancelled."
                return
            self.peer_status.value = ""
            self.show_error(exc, "training the models to compare")

        self.start_job(
            work,
            success,
            error,
            run_button=self.peer_button,
            stop_button=self.peer_stop,
            name="workbench-compare",
        )

    def refresh_peers(self) -> None:
        """Cut the text with every model trained by Train all; compare them on the held-out
        lines, flagging a model that fell short of the size and naming the ones skipped."""
        if not self.ours and not self.peers:
            self.peer_spans.value = self.peer_table.value = ""
            return
        frame = compare_tokenizations(self.text.value, self.ours, self.peers)
        self.peer_spans.value = peer_spans_html(frame, self.text.value)
        train, held = self._split()
        metrics = compare_metrics(held, self.ours, self.peers).reset_index()
        size = self.peer_size or 0
        metrics["note"] = [
            f"size not reached ({v:,} of {size:,})" if v < size else ""
            for v in metrics["vocab_size"]
        ]
        notes = [
            f"<b>{html.escape(name)}</b> not trained: {html.escape(why)}"
            for name, why in self.skipped.items()
        ]
        short = metrics.loc[metrics["note"] != "", "tokenizer"].tolist()
        if short:
            notes.append(
                f"{', '.join(short)}: fewer ids than {size:,} (their trainers stop where the "
                "training part gives no more pieces), so those rows are not quite like for "
                "like"
            )
        head = (
            f"<div>All trained at {size:,} ids on {len(train):,} lines, scored "
            f"on the {len(held):,} lines after them.</div>"
        )
        warn = "".join(f"<div style='color:#8a6d3b'>{n}</div>" for n in notes)
        self.peer_table.value = head + warn + frame_html(metrics)

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
            self.corpus_table.value = (
                frame_html(metrics_frame(models, self.state.corpus.texts)) + metrics_legend_html()
            )
            self.refresh_peers()
        except Exception as exc:
            self.show_error(exc, "comparing")
            return
        self.status.value = ""
