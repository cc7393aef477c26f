"""Tune panel (TEACHING.md step 6): train one vocabulary per size in one run, plot compression,
bits per token, bits per byte and description length against size on training and held-out
text, and re-segment a sample text at the size chosen on a slider."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import pandas as pd

from bytepiece_core import analysis
from bytepiece_core.trainer import TrainEvent

from ..figures import mdl_size, sweep_figure
from ..html import frame_html, token_spans_html
from ..jobs import Job, Stopped
from ..state import AppState
from ..training import STAGES, parse_sizes, stage_progress
from ._base import Panel, Throttle, labeled, section

__all__ = ["DEFAULT_SIZES", "TunePanel", "size_label", "split_heldout"]

DEFAULT_SIZES = "300, 500, 750, 1000, 1500, 2000, 3000"


def split_heldout(texts: list[str], fraction: float) -> tuple[list[str], list[str] | None]:
    """Training texts and held-out texts: the last ``fraction`` of the lines is held out.

    >>> split_heldout(["a", "b", "c", "d"], 0.25)
    (['a', 'b', 'c'], ['d'])
    >>> split_heldout(["a", "b"], 0.0)
    (['a', 'b'], None)
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"the held-out fraction must be in [0, 1), got {fraction}")
    n = round(len(texts) * fraction)
    if n == 0:
        return list(texts), None
    if n >= len(texts):
        raise ValueError("nothing left to train on: lower the held-out fraction")
    return list(texts[:-n]), list(texts[-n:])


def size_label(size: int, vocab: int) -> str:
    """A sweep size as the slider shows it: flagged when its vocabulary fell short.

    >>> size_label(1000, 1000), size_label(3000, 1382)
    ('1000', '3000 (got 1382: not reached)')
    """
    return str(size) if vocab >= size else f"{size} (got {vocab}: not reached)"


class TunePanel(Panel):
    """Choose a vocabulary size.

    Attributes
    ----------
    sizes : Text, sizes to train (one run makes all of them)
    heldout : FloatSlider, share of lines held out
    run_button : Button
    size : SelectionSlider, the chosen size (after a sweep)
    figure : FigureSlot, the sweep curves with the chosen size marked
    sample : Textarea, text re-segmented at the chosen size
    segmented : HTML, that text's tokens
    row : HTML, the sweep's figures at the chosen size
    add_button : Button, puts the chosen size's model in the other panels' menus
    """

    title = "Tune"

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        self.sizes = W.Text(
            value=DEFAULT_SIZES, description="sizes", layout=W.Layout(width="420px")
        )
        self.heldout = W.FloatSlider(
            value=0.1, min=0.0, max=0.5, step=0.05, description="held out", readout_format=".0%"
        )
        self.run_button = W.Button(description="Run sweep", button_style="primary")
        self.stop_button = W.Button(description="Stop", button_style="danger", disabled=True)
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0, layout=W.Layout(width="260px"))
        self.progress_note = W.Label()
        self.size = W.SelectionSlider(
            options=[""],
            description="size",
            continuous_update=False,
            layout=W.Layout(width="520px"),
            style={"description_width": "initial"},
            disabled=True,
        )
        self.figure = self.slot(width=1150)
        self.sample = W.Textarea(
            description="Sample",
            continuous_update=False,
            layout=W.Layout(width="720px", height="70px"),
        )
        self.segmented = W.HTML()
        self.row = W.HTML()
        self.add_button = W.Button(description="Add to models", disabled=True)
        self._throttle = Throttle(0.1)
        self._fill_sample()
        self.run_button.on_click(self._on_run)
        self.stop_button.on_click(self._on_stop)
        self.size.observe(lambda change: self.refresh_choice(), "value")
        self.sample.observe(lambda change: self.refresh_choice(), "value")
        self.add_button.on_click(self._on_add)
        state.observe(lambda change: self.refresh(), "sweep")
        state.observe(lambda change: self._fill_sample(), "corpus")
        self.widget = W.VBox(
            [
                section(
                    "Tune the vocabulary size",
                    "One training run makes a vocabulary per size (with the Train tab's "
                    "options). A bigger vocabulary makes tokens longer (bytes/token up) but "
                    "each more surprising (bits/token up); bits/byte is their ratio. Adding "
                    "the cost of writing the vocabulary gives a description length with a "
                    "minimum (star).",
                ),
                W.HBox(
                    [
                        labeled(
                            self.sizes,
                            "Sizes to try",
                            "vocab_sweep(sizes=...)",
                            "vocabulary sizes, e.g. 500, 1000, 2000: one run trains them all.",
                        ),
                        labeled(
                            self.heldout,
                            "Held out",
                            "heldout",
                            "the last share of the lines, kept out of training and scored as "
                            "unseen text (the dashed curves).",
                        ),
                    ]
                ),
                W.HBox([self.run_button, self.stop_button, self.progress, self.progress_note]),
                self.status,
                W.HBox(
                    [
                        labeled(
                            self.size,
                            "Vocabulary size",
                            "max_vocab_size",
                            "pick a size from the sweep to see it below; a size marked "
                            "'not reached' gave a smaller vocabulary.",
                        ),
                        self.add_button,
                    ]
                ),
                self.figure.box,
                self.row,
                self.sample,
                self.segmented,
            ]
        )

    def _fill_sample(self) -> None:
        _, held = split_heldout(self.state.corpus.texts, max(0.1, self.heldout.value))
        lines = [t.strip() for t in (held or []) if 0 < len(t.strip()) <= 120][:2]
        self.sample.value = "\n".join(lines or self.state.corpus.sentences(2))

    def _on_run(self, _: Any = None) -> None:
        if self.busy:
            return
        try:
            sizes = parse_sizes(self.sizes.value)
            train, held = split_heldout(self.state.corpus.texts, self.heldout.value)
        except ValueError as exc:
            self.show_error(exc, "the sweep")
            return
        options = self.state.options.trainer_options()
        workers = self.state.options.workers
        self.progress.value, self.progress.bar_style = 0.0, "info"
        n_docs = len(train)
        self.show_status(
            f"Training {len(sizes)} sizes on {len(train):,} lines"
            + (f", {len(held):,} held out…" if held else "…")
        )

        def work(job: Job) -> analysis.Sweep:
            def callback(event: TrainEvent) -> None:
                job.check_stop()
                self._on_event(event, n_docs)

            return analysis.vocab_sweep(
                train, sizes, heldout=held, workers=workers, callback=callback, **options
            )

        def success(sweep: analysis.Sweep) -> None:
            self.progress.value, self.progress.bar_style = 1.0, "success"
            self.progress_note.value = ""
            self.state.sweep = sweep
            best = mdl_size(sweep.table)
            note = f"; least description length at size {best}" if best is not None else ""
            short = sweep.table[sweep.table["vocab_size"] < sweep.table["size"]]
            if len(short):  # the reference algorithm often finds fewer pieces than asked for
                missed = ", ".join(
                    f"{s} (got {v})" for s, v in zip(short["size"], short["vocab_size"])
                )
                self.show_status(
                    f"Sweep done: {len(sweep.table)} sizes{note}. Not reached: {missed}: the "
                    "training found fewer pieces than asked for (the refined algorithm reaches "
                    "them)",
                    "warn",
                )
                return
            self.show_status(f"Sweep done: {len(sweep.table)} sizes{note}", "ok")

        def error(exc: BaseException) -> None:
            if isinstance(exc, Stopped):
                self.show_status(
                    "Stopped: the sweep was cancelled; the last sweep is kept.", "warn"
                )
            else:
                self.show_error(exc, "the sweep")

        self.start_job(
            work,
            success,
            error,
            run_button=self.run_button,
            stop_button=self.stop_button,
            name="workbench-sweep",
        )

    def _on_stop(self, _: Any = None) -> None:
        self.stop_job()

    def _on_event(self, event: TrainEvent, n_docs: int) -> None:
        p = stage_progress(event, n_docs)
        if not self._throttle(force=p.stage == "done"):
            return
        # the four stages share one bar, a quarter each
        index = STAGES.index(p.stage) if p.stage in STAGES else len(STAGES)
        self.progress.value = min(1.0, (index + (p.fraction or 0.0)) / len(STAGES))
        self.progress_note.value = "measuring each size…" if p.stage == "done" else p.stage

    def refresh(self) -> None:
        """Set the slider to the sweep's sizes (at the least description length) and redraw."""
        sweep = self.state.sweep
        if sweep is None:  # none yet, or the corpus changed
            self.size.disabled = True
            self.add_button.disabled = True
            self.figure.box.layout.display = "none"
            self.row.value = self.segmented.value = ""
            return
        self.figure.box.layout.display = None
        sizes = sorted(int(s) for s in sweep.table["size"])
        best = mdl_size(sweep.table)
        reached = dict(zip(sweep.table["size"].astype(int), sweep.table["vocab_size"].astype(int)))
        self.size.options = [(size_label(s, reached[s]), s) for s in sizes]
        self.size.disabled = False
        self.add_button.disabled = False
        self.size.value = best if best in sizes else sizes[len(sizes) // 2]
        self.refresh_choice()

    def refresh_choice(self) -> None:
        """Mark the chosen size on the curves and re-segment the sample at that size."""
        sweep = self.state.sweep
        size = self.size.value
        if sweep is None or not isinstance(size, int):
            return
        try:
            self.figure.show(sweep_figure(sweep.table, selected=size))
            row = sweep.table[sweep.table["size"] == size]
            self.row.value = frame_html(_transpose(row))
            pieces = sweep.tokenizers[size].tokenize(self.sample.value)
        except Exception as exc:
            self.show_error(exc, "showing the chosen size")
            return
        vocab = int(row["vocab_size"].iloc[0])
        where = size_label(size, vocab)
        self.segmented.value = f"<b>{len(pieces)} tokens</b> at size {where}" + token_spans_html(
            pieces
        )

    def _on_add(self, _: Any = None) -> None:
        sweep, size = self.state.sweep, self.size.value
        if sweep is None or not isinstance(size, int):
            return
        self.state.add_model(f"sweep {size}", sweep.tokenizers[size])
        self.show_status(f"Added 'sweep {size}' to the model menus", "ok")


def _transpose(row: pd.DataFrame) -> pd.DataFrame:
    """A one-row frame as a two-column (measure, value) frame."""
    record = row.iloc[0].to_dict() if len(row) else {}
    return pd.DataFrame(
        {
            "measure": list(record),
            "value": [
                f"{v:,.4g}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
                for v in record.values()
            ],
        }
    )
