"""Corpus panel: choose a bundled sample, upload a file or give a path; see the corpus's size,
scripts and first lines."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import pandas as pd

from ..corpora import (
    MIXED,
    SAMPLES,
    Corpus,
    corpus_from_bytes,
    corpus_summary,
    load_corpus,
    script_breakdown,
)
from ..figures import script_figure
from ..html import frame_html
from ..state import AppState
from ._base import Panel, section, uploaded

__all__ = ["BACKGROUND_BYTES", "PREVIEW_LINES", "CorpusPanel"]

PREVIEW_LINES = 15


def _preview_html(corpus: Corpus, n: int = PREVIEW_LINES) -> str:
    lines = [html.escape(t.rstrip("\n")[:200]) for t in corpus.texts[:n]]
    body = "<br>".join(
        f"<span style='color:#999'>{i + 1:>3}</span> {line}" for i, line in enumerate(lines)
    )
    return (
        "<div style='font-family:monospace;font-size:13px;white-space:pre-wrap;"
        f"max-height:300px;overflow:auto;border:1px solid #ddd;padding:6px'>{body}</div>"
    )


BACKGROUND_BYTES = 2_000_000
"""Files larger than this load in the background, with a message, while the app stays usable."""


class CorpusPanel(Panel):
    """Pick the corpus the other panels work on.

    Attributes
    ----------
    sample : Dropdown
        Bundled samples (and ``mixed``, all of them); choosing one loads it.
    upload : FileUpload
        A UTF-8 text file from the browser (one document per line).
    path, load_button : Text, Button
        A file on the kernel's disk.
    summary, preview : HTML
        Size figures and the first lines.
    scripts : FigureSlot
        Characters by script.
    """

    title = "Corpus"

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        options = [(s.title, s.name) for s in SAMPLES.values()]
        options.append(("All bundled samples (mixed)", MIXED))
        current = state.corpus.name
        self.sample = W.Dropdown(
            options=options,
            value=current if current in [name for _, name in options] else None,
            description="Sample",
            layout=W.Layout(width="420px"),
        )
        self.upload = W.FileUpload(accept=".txt,text/plain", multiple=False, description="Upload")
        self.path = W.Text(
            placeholder="/path/to/corpus.txt", description="Path", layout=W.Layout(width="420px")
        )
        self.load_button = W.Button(description="Load file")
        self.summary = W.HTML()
        self.preview = W.HTML()
        self.scripts = self.slot(width=640)
        self.sample.observe(self._on_sample, "value")
        self.upload.observe(self._on_upload, "value")
        self.load_button.on_click(self._on_load)
        state.observe(lambda change: self.refresh(), "corpus")
        self.widget = W.VBox(
            [
                section(
                    "Corpus",
                    "Text to train and study: a bundled sample (about 100 KB each), a file you "
                    "upload, or a file on this machine. One document per line, UTF-8.",
                ),
                self.sample,
                W.HBox([self.path, self.load_button]),
                self.upload,
                self.status,
                W.HBox([W.VBox([self.summary], layout=W.Layout(width="320px")), self.scripts.box]),
                section("First lines"),
                self.preview,
            ]
        )
        self.refresh()

    # -- loading -------------------------------------------------------------------------

    def _use(self, corpus: Corpus) -> None:
        self.state.corpus = corpus
        self.show_status(
            f"Using {corpus.name}: {corpus.n_lines:,} lines, {corpus.n_bytes:,} bytes", "ok"
        )

    def _on_sample(self, change: dict[str, Any]) -> None:
        if change["new"] is None or change["new"] == self.state.corpus.name:
            return
        corpus = self.guarded("loading the sample", load_corpus, change["new"])
        if corpus is not None:
            self._use(corpus)

    def _on_upload(self, change: dict[str, Any]) -> None:
        file = uploaded(change)
        if file is None:
            return
        corpus = self.guarded(f"reading {file[0]}", corpus_from_bytes, *file)
        if corpus is not None:
            self._use(corpus)

    def _on_load(self, _: Any = None) -> None:
        name = self.path.value.strip()
        if not name:
            self.show_error(ValueError("type the path of a UTF-8 text file first"), "loading")
            return
        path = self.guarded(f"loading {name}", self.state.readable, name)
        if path is None or self.busy:
            return
        size = path.stat().st_size
        if size <= BACKGROUND_BYTES:
            corpus = self.guarded(f"loading {name}", load_corpus, str(path))
            if corpus is not None:
                self._use(corpus)
            return
        self.show_status(f"Loading {path} ({size / 1e6:.1f} MB)…")
        self.start_job(
            lambda job: load_corpus(str(path)),
            self._use,
            lambda exc: self.show_error(exc, f"loading {name}"),
            run_button=self.load_button,
            name="workbench-corpus",
        )

    # -- display -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the current corpus: summary, scripts and first lines."""
        corpus = self.state.corpus
        # an uploaded or loaded corpus leaves no sample chosen, so choosing one loads it
        self.sample.value = corpus.name if corpus.name in SAMPLES or corpus.name == MIXED else None
        summary = corpus_summary(corpus)
        frame = pd.DataFrame(
            {
                "": list(summary),
                "value": [
                    f"{v:,.2f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else v
                    for v in summary.values()
                ],
            }
        )
        self.summary.value = frame_html(frame) + (
            f"<div style='color:#666;font-size:12px;margin-top:4px'>"
            f"{html.escape(corpus.origin)}</div>"
        )
        breakdown = script_breakdown(corpus.texts)
        self.scripts.show(script_figure(breakdown))
        self.preview.value = _preview_html(corpus)
