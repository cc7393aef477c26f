"""Plain helpers behind the Train panel: reading the options typed in controls, turning
``TrainEvent`` progress reports into per-stage fractions and live vocabulary steps, and naming
the trained models. No widgets here."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from bytepiece_core import Tokenizer
from bytepiece_core.model import N_SPECIAL
from bytepiece_core.trainer import WORK_STAGES, Stage, Trainer, TrainEvent, VocabStep

__all__ = [
    "STAGES",
    "StageProgress",
    "TrainOptions",
    "model_label",
    "parse_sizes",
    "prune_fraction",
    "shortfall_note",
    "stage_progress",
    "trained_models",
    "vocab_step_from_event",
]

STAGES: tuple[Stage, ...] = WORK_STAGES
"""Training stages that report progress, in order (``done`` closes a run)."""


def parse_sizes(text: str) -> list[int]:
    """Vocabulary sizes typed as a comma- or space-separated list, largest first.

    Raises ``ValueError`` naming the entry that is not a whole number. Range checks are left
    to ``Trainer`` (its message says which sizes are allowed).

    >>> parse_sizes("2k")
    Traceback (most recent call last):
    ...
    ValueError: vocabulary size '2k' is not a whole number: type sizes like 2000, 1000
    >>> parse_sizes("1000, 2000 500")
    [2000, 1000, 500]
    """
    entries = [e for e in re.split(r"[,\s;]+", text.strip()) if e]
    if not entries:
        raise ValueError("type at least one vocabulary size, e.g. 2000 (or 2000, 1000, 500)")
    sizes = []
    for e in entries:
        if not re.fullmatch(r"[+-]?\d+", e):
            raise ValueError(
                f"vocabulary size {e!r} is not a whole number: type sizes like 2000, 1000"
            )
        sizes.append(int(e))
    return sorted(sizes, reverse=True)


@dataclass(frozen=True)
class TrainOptions:
    """Every option of ``Trainer`` and ``Trainer.train`` as the panel collects them."""

    order: int = 6
    max_vocab_size: list[int] = field(default_factory=lambda: [2000])
    max_piece_length: int = 36
    min_count: int = 2
    isolate_digits: bool = False
    ensure_unicode: bool | None = None  # None: the algorithm's default (see Trainer)
    workers: int = 1
    batch_size: int = 1000
    work_dir: str | None = None
    memory_budget: int | None = None
    dask_scheduler: str = ""
    algorithm: str = "refined"

    def trainer_options(self) -> dict[str, Any]:
        """The options of ``Trainer`` itself but the sizes (what ``vocab_sweep`` passes on).

        >>> sorted(TrainOptions().trainer_options())[:2]
        ['algorithm', 'ensure_unicode']
        """
        return {
            "order": self.order,
            "max_piece_length": self.max_piece_length,
            "min_count": self.min_count,
            "isolate_digits": self.isolate_digits,
            "ensure_unicode": self.ensure_unicode,
            "algorithm": self.algorithm,
        }

    def trainer(self) -> Trainer:
        """A new ``Trainer`` with these options (its errors name the option at fault).

        >>> TrainOptions(max_vocab_size=[100]).trainer()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: max_vocab_size must be at least 259, got 100: ...
        """
        sizes: Any = (
            self.max_vocab_size[0] if len(self.max_vocab_size) == 1 else list(self.max_vocab_size)
        )
        return Trainer(max_vocab_size=sizes, **self.trainer_options())


@dataclass(frozen=True)
class StageProgress:
    """Where a training run is: the stage, the fraction done (None if unknown) and a note."""

    stage: Stage
    fraction: float | None
    note: str


def stage_progress(event: TrainEvent, n_docs: int) -> StageProgress:
    """Progress of the event's stage: ``read`` in documents of ``n_docs``, the counting passes
    in bytes of their total, ``prune_pieces`` as an unknown fraction with the step as note.

    >>> stage_progress(TrainEvent("count_ngrams", 50, 200, 100, "length 3"), 10)
    StageProgress(stage='count_ngrams', fraction=0.25, note='length 3')
    >>> stage_progress(TrainEvent("read", 5, None, 300), 10).fraction
    0.5
    """
    if event.stage == "read":
        fraction = min(1.0, event.done / n_docs) if n_docs else None
        note = f"{event.done:,} documents, {event.bytes_read:,} bytes"
        return StageProgress("read", fraction, note)
    if event.stage == "done":
        return StageProgress("done", 1.0, "")
    fraction = min(1.0, event.done / event.total) if event.total else None
    return StageProgress(event.stage, fraction, event.message)


def prune_fraction(start: int, n_pieces: int, target: int) -> float:
    """How far pruning has gone from ``start`` candidate pieces towards ``target`` (the smallest
    size's pieces), on a log scale: each step removes a share of the pieces, so halving them
    is the same progress wherever it happens.

    >>> prune_fraction(16000, 16000, 1000), prune_fraction(16000, 4000, 1000)
    (0.0, 0.5)
    >>> prune_fraction(16000, 900, 1000), prune_fraction(800, 700, 1000)
    (1.0, 1.0)
    """
    if n_pieces <= target or start <= target:
        return 1.0
    return min(1.0, max(0.0, math.log(start / n_pieces) / math.log(start / target)))


def vocab_step_from_event(event: TrainEvent) -> VocabStep | None:
    """The pruning step a ``prune_pieces`` event reports (None for other events).

    >>> step = VocabStep(500, "cut", 0, 497)
    >>> vocab_step_from_event(TrainEvent("prune_pieces", 4, None, 9, "", step))
    VocabStep(size=500, step='cut', round=0, n_pieces=497)
    """
    return event.step if event.stage == "prune_pieces" else None


def model_label(size: int, n_pieces: int) -> str:
    """Menu label of a trained model: the size asked for and the vocabulary reached, flagged
    when it falls short of the size.

    >>> model_label(2000, 1997)
    'trained 2000 (vocab 2000)'
    >>> model_label(2000, 1499)
    'trained 2000 (vocab 1502, size not reached)'
    """
    vocab = n_pieces + N_SPECIAL
    short = ", size not reached" if vocab < size else ""
    return f"trained {size} (vocab {vocab}{short})"


def shortfall_note(trainer: Trainer) -> str:
    """A sentence naming the sizes a trained run did not reach, and why ("" if it reached
    them all). Sizes that came out as one and the same vocabulary are said so."""
    reached = [len(p) + N_SPECIAL for p in trainer.pieces]
    missed = [(s, v) for s, v in zip(trainer.max_vocab_size, reached, strict=True) if v < s]
    if not missed:
        return ""
    listed = ", ".join(f"{s:,} (got {v:,})" for s, v in missed)
    h = trainer.history
    if trainer.algorithm == "bytepiece":
        why = (
            f"the reference algorithm keeps only pieces its n-gram segmentation of the corpus "
            f"produces at least min_count = {trainer.min_count} times, and this corpus of "
            f"{h.n_bytes:,} bytes gave {h.candidates:,}; the refined algorithm, more text or a "
            "smaller min_count gives more"
        )
    else:
        why = (
            f"this corpus of {h.n_bytes:,} bytes has only {h.candidates:,} substrings seen "
            f"at least min_count = {trainer.min_count} times that can be pieces; more text "
            "gives more"
        )
    same = len(set(reached)) < len(reached)
    tail = " Sizes with the same vocabulary are one and the same model." if same else ""
    return f"Not reached: {listed}: {why}.{tail}"


def trained_models(trainer: Trainer) -> dict[str, Tokenizer]:
    """One tokenizer per trained size, largest first, keyed by :func:`model_label`."""
    return {
        model_label(size, len(pieces)): trainer.tokenizer(size)
        for size, pieces in zip(trainer.max_vocab_size, trainer.pieces, strict=True)
    }
