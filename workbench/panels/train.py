"""Train panel: every ``Trainer`` option as a control, Train and Stop, a progress bar per
stage, the vocabulary growing live, and a summary of the models made.

Training runs in a background thread (:class:`~workbench.jobs.Job`); its progress callback
updates the widgets and raises :class:`~workbench.jobs.Stopped` once Stop was clicked, which
aborts the run and leaves the previous model in place. The Advanced area keeps the corpus
on disk (``work_dir``), bounds the counting tables (``memory_budget``) and runs the counting
passes on Dask (an address, or ``local:N`` for a local cluster started for the run and closed
after it); their progress events update the bars as in a local run.
"""

from __future__ import annotations

import html
import os
import re
import time
from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd

from bytepiece_core import Tokenizer
from bytepiece_core.dask import connect, parse_scheduler
from bytepiece_core.model import N_SPECIAL
from bytepiece_core.sizes import parse_size
from bytepiece_core.trainer import Stage, Trainer, TrainEvent, VocabStep, default_ensure_unicode

from ..figures import vocab_growth_figure
from ..html import frame_html
from ..jobs import Job, Stopped
from ..models import download_links_html, tokenizer_from_upload
from ..state import RELEASED, AppState
from ..tables import metrics_frame, metrics_legend_html
from ..training import (
    STAGES,
    TrainOptions,
    parse_sizes,
    prune_fraction,
    shortfall_note,
    stage_progress,
    trained_models,
    vocab_step_from_event,
)
from ._base import Panel, Throttle, labeled, section, sync_model_menu, uploaded

__all__ = ["TrainPanel", "summary_frame"]

_STAGE_TITLES: dict[Stage, str] = {
    "read": "read corpus",
    "count_ngrams": "count n-grams",
    "count_pieces": "count pieces",
    "prune_pieces": "prune pieces",
}


def summary_frame(trainer: Trainer, texts: list[str]) -> pd.DataFrame:
    """One row per trained size: tokens, bytes/token and bits/byte on the training texts."""
    return metrics_frame(trained_models(trainer), texts)


class TrainPanel(Panel):
    """Train a vocabulary on the current corpus.

    Attributes
    ----------
    sizes, order, max_piece_length, min_count, isolate_digits, ensure_unicode, workers,
    batch_size : widgets holding every option of ``Trainer`` and ``Trainer.train``
    work_dir : Text, where to keep the corpus on disk (empty: in memory)
    memory_budget : Text, a bound on the counting tables (e.g. ``2GB``; empty: none)
    dask_scheduler : Text, the counting passes on Dask: a scheduler address, or ``local:N``
        for a local cluster of N worker processes started for the run (empty: local threads)
    advanced : Accordion holding ``work_dir``, ``memory_budget`` and ``dask_scheduler``
               (closed at first)
    train_button, stop_button : Button
    bars : dict of stage name to FloatProgress
    growth : FigureSlot, the vocabulary growing (live), then the whole run
    summary : HTML, the models made and how they code the corpus
    job : Job or None, the last run (``join`` waits for it)
    seconds : float or None, wall time of the last successful run (click to model)
    """

    title = "Train"
    connect_timeout = 10.0
    """Seconds to wait for a Dask scheduler address to answer."""

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        o = state.options
        wide = W.Layout(width="300px")
        style = {"description_width": "150px"}
        self.sizes = W.Text(
            value=", ".join(str(s) for s in [2000, 1000, 500]),
            description="max_vocab_size",
            tooltip="one or more vocabulary sizes (special tokens included), e.g. 2000, 1000",
            layout=W.Layout(width="380px"),
            style=style,
        )
        self.algorithm = W.Dropdown(
            options=[
                ("refined (reaches the size asked for)", "refined"),
                ("bytepiece (the reference, exactly)", "bytepiece"),
            ],
            value=o.algorithm,
            description="algorithm",
            layout=W.Layout(width="380px"),
            style=style,
        )
        self.order = W.IntText(value=o.order, description="order", layout=wide, style=style)
        self.max_piece_length = W.IntText(
            value=o.max_piece_length, description="max_piece_length", layout=wide, style=style
        )
        self.min_count = W.IntText(
            value=o.min_count, description="min_count", layout=wide, style=style
        )
        self.isolate_digits = W.Checkbox(value=o.isolate_digits, description="isolate_digits")
        self.ensure_unicode = W.Checkbox(
            value=default_ensure_unicode(o.algorithm)
            if o.ensure_unicode is None
            else o.ensure_unicode,
            description="ensure_unicode",
        )
        # each algorithm's own default when the algorithm changes (the box can then be set)
        self.algorithm.observe(
            lambda change: setattr(
                self.ensure_unicode, "value", default_ensure_unicode(change["new"])
            ),
            "value",
        )
        self.workers = W.IntSlider(
            value=1,
            min=1,
            max=max(1, os.cpu_count() or 1),
            description="workers",
            layout=wide,
            style=style,
        )
        self.batch_size = W.IntText(
            value=o.batch_size, description="batch_size", layout=wide, style=style
        )
        self.work_dir = W.Text(
            placeholder="empty: in memory",
            description="work_dir",
            tooltip="a directory to keep the corpus in, on disk (empty: in memory)",
            layout=W.Layout(width="380px"),
            style=style,
        )
        self.memory_budget = W.Text(
            placeholder="empty: no bound; e.g. 2GB",
            description="memory_budget",
            tooltip="bound the counting tables to this size (e.g. 512MB, 2GB): a pass that "
            "would not fit runs once per hash partition of its keys; same result",
            layout=W.Layout(width="380px"),
            style=style,
        )
        self.dask_scheduler = W.Text(
            placeholder="empty: local threads; tcp://host:8786 or local:4",
            description="Dask scheduler",
            tooltip="run the counting passes on Dask: a scheduler address, or local:N for a "
            "local cluster of N worker processes for this run (needs dask[distributed])",
            layout=W.Layout(width="480px"),
            style=style,
        )
        self.advanced = W.Accordion(
            children=[
                W.VBox(
                    [
                        self.work_dir,
                        self.memory_budget,
                        self.dask_scheduler,
                        W.HTML(
                            "<small>With workers on other machines, give a work_dir on a "
                            "filesystem they share.</small>"
                        ),
                    ]
                )
            ],
            selected_index=None,
        )
        self.advanced.set_title(0, "Advanced")
        self.train_button = W.Button(description="Train", button_style="primary")
        self.stop_button = W.Button(description="Stop", button_style="danger", disabled=True)
        self.bars: dict[str, W.FloatProgress] = {}
        self.notes: dict[str, W.Label] = {}
        rows = []
        for stage in STAGES:
            self.bars[stage] = W.FloatProgress(
                value=0.0, min=0.0, max=1.0, layout=W.Layout(width="260px")
            )
            self.notes[stage] = W.Label()
            rows.append(
                W.HBox(
                    [
                        W.Label(_STAGE_TITLES[stage], layout=W.Layout(width="110px")),
                        self.bars[stage],
                        self.notes[stage],
                    ]
                )
            )
        self.growth = self.slot(width=1150)
        self.summary = W.HTML()
        self.save_path = W.Text(
            placeholder="model.json",
            description="Save to",
            tooltip=f"a file name; relative names go under {state.save_dir}",
            layout=W.Layout(width="380px"),
        )
        self.save_dir_note = W.HTML(f"<small>in {html.escape(str(state.save_dir))}</small>")
        # model files in the browser: download any model, load one into every tab
        self.export_model = W.Dropdown(description="Model", layout=W.Layout(width="380px"))
        self.export_button = W.Button(description="Prepare downloads")
        self.downloads = W.HTML()
        self.model_upload = W.FileUpload(
            accept=".json,.zip", multiple=False, description="Upload model"
        )
        self.model_path = W.Text(
            placeholder="/path/to/model.json or .zip",
            description="Model path",
            layout=W.Layout(width="380px"),
        )
        self.model_load = W.Button(description="Load model")
        self.export_button.on_click(self._on_export)
        self.export_model.observe(lambda change: setattr(self.downloads, "value", ""), "value")
        self.model_upload.observe(self._on_model_upload, "value")
        self.model_load.on_click(self._on_model_load)
        state.observe(lambda change: self._sync_export_menu(), "models")
        self._sync_export_menu()
        self.save_button = W.Button(description="Save")
        self.seconds: float | None = None
        self._live: list[VocabStep] = []
        self._sizes: list[int] = []
        self._throttle = Throttle(0.1)
        self.train_button.on_click(self._on_train)
        self.stop_button.on_click(self._on_stop)
        self.save_button.on_click(self._on_save)
        self.widget = W.VBox(
            [
                section(
                    "Train a vocabulary",
                    "Minimum-entropy word discovery with a byte n-gram model, pruned to "
                    "one vocabulary per size. Runs in the background: the notebook stays "
                    "usable, and Stop cancels.",
                ),
                W.HBox(
                    [
                        W.VBox(
                            [
                                labeled(
                                    self.sizes,
                                    "Vocabulary sizes",
                                    "max_vocab_size",
                                    "one or more, e.g. 8000, 4000: token ids, the 3 special ones "
                                    "included. Larger: longer pieces, fewer tokens per text, a "
                                    "bigger embedding table. Typical: 8000-64000.",
                                ),
                                labeled(
                                    self.algorithm,
                                    "Algorithm",
                                    "algorithm",
                                    "refined re-estimates the pieces' probabilities and prunes "
                                    "to exactly the size; bytepiece is the reference's, exactly, "
                                    "and may stop short of the size.",
                                ),
                                labeled(
                                    self.order,
                                    "Context (bytes)",
                                    "order",
                                    "bytes of context of the n-gram model that proposes words "
                                    "(reference algorithm only). Typical 6; higher finds "
                                    "longer words and needs more memory.",
                                ),
                                labeled(
                                    self.max_piece_length,
                                    "Longest piece (bytes)",
                                    "max_piece_length",
                                    "no piece is longer; 36 bytes hold 12 Chinese characters.",
                                ),
                                labeled(
                                    self.min_count,
                                    "Minimum count",
                                    "min_count",
                                    "a piece must occur at least this often. Typical 2; higher "
                                    "keeps fewer, surer pieces (the reference may then fall "
                                    "short of the size).",
                                ),
                            ]
                        ),
                        W.VBox(
                            [
                                labeled(
                                    self.isolate_digits,
                                    "Digits alone",
                                    "isolate_digits",
                                    "every digit is a token of its own (no piece holds one).",
                                ),
                                labeled(
                                    self.ensure_unicode,
                                    "Whole characters",
                                    "ensure_unicode",
                                    "on: pieces are whole UTF-8 characters (refined) or start "
                                    "on one (bytepiece). Off (refined's default): a piece may "
                                    "also be a character's first bytes, which spell rare "
                                    "characters in fewer tokens.",
                                ),
                                labeled(
                                    self.workers,
                                    "Threads",
                                    "workers",
                                    "CPU threads for the counting passes; any number gives "
                                    "the same model.",
                                ),
                                labeled(
                                    self.batch_size,
                                    "Batch (lines)",
                                    "batch_size",
                                    "lines read at a time: memory and how often progress "
                                    "moves, not the model.",
                                ),
                            ]
                        ),
                    ]
                ),
                self.advanced,
                W.HBox([self.train_button, self.stop_button]),
                W.VBox(rows),
                self.status,
                self.growth.box,
                self.summary,
                W.HBox([self.save_path, self.save_button, self.save_dir_note]),
                section(
                    "Model files",
                    "Download a model as a BytePiece model, an HF tokenizer.json or a "
                    "SentencePiece model (same ids in each), or load a BytePiece model: it "
                    "joins the model menus of every tab.",
                ),
                W.HBox([self.export_model, self.export_button]),
                self.downloads,
                W.HBox([self.model_path, self.model_load, self.model_upload]),
            ]
        )

    # -- options -------------------------------------------------------------------------

    def options(self) -> TrainOptions:
        """The options in the controls (``ValueError`` if the sizes cannot be read)."""
        return TrainOptions(
            order=self.order.value,
            max_vocab_size=parse_sizes(self.sizes.value),
            max_piece_length=self.max_piece_length.value,
            min_count=self.min_count.value,
            isolate_digits=self.isolate_digits.value,
            algorithm=self.algorithm.value,
            ensure_unicode=self.ensure_unicode.value,
            workers=self.workers.value,
            batch_size=self.batch_size.value,
            work_dir=self.work_dir.value.strip() or None,
            memory_budget=_budget(self.memory_budget.value),
            dask_scheduler=self.dask_scheduler.value.strip(),
        )

    # -- running -------------------------------------------------------------------------

    def _on_train(self, _: Any = None) -> None:
        if self.busy:
            return
        try:
            options = self.options()
            trainer = options.trainer()
            if options.workers < 1 or options.batch_size < 1:
                raise ValueError("workers and batch_size must be at least 1")
            scheduler, work_dir, budget = (
                options.dask_scheduler,
                options.work_dir,
                options.memory_budget,
            )
            parse_scheduler(scheduler)  # a bad local:N is reported before the run
        except (TypeError, ValueError) as exc:
            self.show_error(exc, "training")
            return
        corpus = self.state.corpus
        self._reset()
        self._sizes = list(trainer.max_vocab_size)
        on_dask = f" on Dask ({scheduler})" if scheduler else ""
        self.show_status(f"Training on {corpus.name} ({corpus.n_bytes:,} bytes){on_dask}…")
        started = time.perf_counter()

        def work(job: Job) -> Trainer:
            def callback(event: TrainEvent) -> None:
                job.check_stop()
                self._on_event(event, corpus.n_lines)

            client, close = connect(
                scheduler, self.connect_timeout
            )  # (None, no-op) without a scheduler
            try:
                job.check_stop()
                trainer.train(
                    corpus.texts,
                    workers=options.workers,
                    batch_size=options.batch_size,
                    callback=callback,
                    work_dir=work_dir,
                    backend="local" if client is None else "dask",
                    client=client,
                    memory_budget=budget,
                )
            finally:
                close()  # the client, and the local cluster of local:N
            return trainer

        def success(trained: Trainer) -> None:
            self.seconds = time.perf_counter() - started
            self._show_growth(trained)
            self.show_status(f"Trained in {self.seconds:.1f} s; measuring each size on the corpus…")
            self.state.set_trained(trained, options)
            self.summary.value = (
                frame_html(summary_frame(trained, corpus.texts)) + metrics_legend_html()
            )
            sizes = ", ".join(
                f"{s} (vocab {len(p) + N_SPECIAL})"
                for s, p in zip(trained.max_vocab_size, trained.pieces, strict=True)
            )
            split = [m for m in trained.history.memory.values() if m["partitions"] > 1]
            if budget is not None and split:
                largest = max(m["table_bytes"] for m in trained.history.memory.values())
                sizes += (
                    f"; within memory_budget, {len(split)} counting passes were split into up "
                    f"to {max(m['partitions'] for m in split)} partitions (largest table "
                    f"{largest / 1e6:.1f} MB)"
                )
            how = f"the {trained.algorithm} algorithm"
            note = shortfall_note(trained)
            self.show_status(
                f"Trained in {self.seconds:.1f} s with {how}: {sizes}"
                + (f". {note}" if note else ""),
                "warn" if note else "ok",
            )

        def error(exc: BaseException) -> None:
            if isinstance(exc, Stopped):
                kept = "the previous model is kept" if self.state.trainer else "no model yet"
                self.show_status(f"Stopped: training was cancelled; {kept}.", "warn")
            else:
                self.show_error(exc, "training")

        self.start_job(
            work,
            success,
            error,
            run_button=self.train_button,
            stop_button=self.stop_button,
            name="workbench-train",
        )

    def _on_stop(self, _: Any = None) -> None:
        if self.stop_job():
            self.show_status("Stopping…", "warn")

    def _reset(self) -> None:
        self._live = []
        for stage in STAGES:
            self.bars[stage].value = 0.0
            self.bars[stage].bar_style = ""
            self.notes[stage].value = ""
        self.growth.show(vocab_growth_figure([], title="training…"))

    def _on_event(self, event: TrainEvent, n_docs: int) -> None:
        progress = stage_progress(event, n_docs)
        index = STAGES.index(progress.stage) if progress.stage in STAGES else len(STAGES)
        for earlier in STAGES[:index]:
            if self.bars[earlier].bar_style != "success":
                self.bars[earlier].value = 1.0
                self.bars[earlier].bar_style = "success"
                if earlier == "read":  # its last report may predate the end of the corpus
                    self.notes[earlier].value = f"{n_docs:,} documents"
        if progress.stage not in STAGES:
            return
        step = vocab_step_from_event(event)
        fraction = progress.fraction
        if step is not None:
            self._live.append(step)
            target = min(self._sizes) - N_SPECIAL if self._sizes else step.n_pieces
            fraction = prune_fraction(self._live[0].n_pieces, step.n_pieces, target)
        if not self._throttle(force=step is not None):
            return
        bar = self.bars[progress.stage]
        bar.bar_style = "info"
        if fraction is not None:
            bar.value = fraction
        self.notes[progress.stage].value = progress.note
        if step is not None:
            self.growth.show(vocab_growth_figure(list(self._live), title="pruning…"))

    def _show_growth(self, trainer: Trainer) -> None:
        h = trainer.history
        seconds = ", ".join(f"{k} {v:.2f} s" for k, v in h.seconds.items())
        self.growth.show(
            vocab_growth_figure(
                h.vocab,
                h.heaps,
                h.ngrams,
                title=f"training run: {h.n_docs:,} documents, {h.n_bytes:,} bytes, "
                f"{h.candidates:,} candidate pieces ({seconds})",
            ),
        )

    def _on_save(self, _: Any = None) -> None:
        trainer = self.state.trainer
        name = self.save_path.value.strip()
        try:
            if trainer is None:
                raise ValueError("train a model first")
            if not name:
                raise ValueError("type a file name to save the model to, e.g. model.json")
            path = save_target(self.state.path(name))
            trainer.save(path)
        except Exception as exc:
            self.show_error(exc, "saving")
            return
        sizes = trainer.max_vocab_size
        if len(sizes) == 1:
            self.show_status(f"Saved to {path}", "ok")
        else:
            files = ", ".join(f"{path.name}.{size}" for size in sizes)
            self.show_status(f"Saved {len(sizes)} models to {path.parent}: {files}", "ok")

    # -- model files -----------------------------------------------------------------------

    def _sync_export_menu(self) -> None:
        keep = self.export_model.value != RELEASED  # a new trained model replaces the released
        sync_model_menu(
            self.export_model, list(self.state.models), self.state.default_model(), keep=keep
        )

    def _on_export(self, _: Any = None) -> None:
        label = self.export_model.value
        if label is None:
            return
        stem = re.sub(r"[^\w.-]+", "_", label.split(" (")[0]).strip("_")
        links = self.guarded(
            "preparing the downloads", download_links_html, self.state.models[label], stem
        )
        if links is not None:
            self.downloads.value = links
            self.show_status(f"Downloads of {label} are ready: click a format below.", "ok")

    def _add_loaded(self, name: str, tok: Tokenizer) -> None:
        label = f"loaded {Path(name).name} (vocab {tok.vocab_size})"
        self.state.add_model(label, tok)
        self.show_status(f"Loaded {name} as {label!r}: it is in every tab's model menus.", "ok")

    def _on_model_upload(self, change: dict[str, Any]) -> None:
        file = uploaded(change)
        if file is None:
            return
        tok = self.guarded(f"reading {file[0]}", tokenizer_from_upload, *file)
        if tok is not None:
            self._add_loaded(file[0], tok)

    def _on_model_load(self, _: Any = None) -> None:
        name = self.model_path.value.strip()
        try:
            if not name:
                raise ValueError("type the path of a BytePiece model (.json or .zip) first")
            path = self.state.readable(name)
            tok = tokenizer_from_upload(path.name, path.read_bytes())
        except Exception as exc:
            self.show_error(exc, f"loading {name or 'a model'}")
            return
        self._add_loaded(str(path), tok)


def save_target(path: Path) -> Path:
    """``path`` if a model can be saved there: a missing folder or a folder given as the file
    is refused with an error naming it.

    >>> save_target(Path("/no/such/folder/m.json"))
    Traceback (most recent call last):
    ...
    ValueError: cannot save to /no/such/folder/m.json: the folder /no/such/folder does not exist
    """
    if path.is_dir():
        raise ValueError(f"{path} is a folder: type a file name, e.g. {path / 'model.json'}")
    if not path.parent.is_dir():
        what = "is not a folder" if path.parent.exists() else "does not exist"
        raise ValueError(f"cannot save to {path}: the folder {path.parent} {what}")
    return path


def _budget(text: str) -> int | None:
    """The memory budget typed (e.g. ``2GB``), or None if empty (``ValueError`` if not a size)."""
    return parse_size(text.strip()) if text.strip() else None
