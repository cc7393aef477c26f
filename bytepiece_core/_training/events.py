"""What training reports and records: its stages, progress events and history.

``Stage`` names the stages once; the trainer, its checkpoints, the command line and the
workbench all use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from .prune import VocabStep

__all__ = [
    "CHECKPOINT_STAGES",
    "FROM_CHECKPOINT",
    "STAGES",
    "WORK_STAGES",
    "HeapsPoint",
    "NgramStep",
    "Stage",
    "TrainEvent",
    "TrainHistory",
    "VocabStep",
]

Stage = Literal["read", "count_ngrams", "count_pieces", "prune_pieces", "done"]
"""A stage of training, in the order they run (``done`` closes a run)."""

STAGES: tuple[Stage, ...] = get_args(Stage)
# The stages that do work (all but ``done``), as progress bars show them.
WORK_STAGES: tuple[Stage, ...] = STAGES[:-1]
# The stages whose result a checkpoint saves, in order.
CHECKPOINT_STAGES: tuple[Stage, ...] = ("read", "count_ngrams", "count_pieces")
# The message of the one progress event of a stage loaded from a checkpoint.
FROM_CHECKPOINT = "from checkpoint"


@dataclass(frozen=True)
class TrainEvent:
    """A progress report of :meth:`Trainer.train`, handed to its ``callback``.

    stage      : one of ``read``, ``count_ngrams``, ``count_pieces``, ``prune_pieces``, ``done``
    done       : units done in this stage (documents for ``read``, bytes for the counting
                 passes, pruning steps for ``prune_pieces``)
    total      : units of the stage when known, else None
    bytes_read : corpus bytes read so far (after normalization)
    message    : a short human-readable detail (e.g. the n-gram length being counted)
    step       : for ``prune_pieces``, the pruning step just done (as in ``history.vocab``)
    """

    stage: Stage
    done: int
    total: int | None
    bytes_read: int
    message: str = ""
    step: VocabStep | None = None


@dataclass(frozen=True)
class NgramStep:
    """n-grams of one length: how many distinct ones were counted and how many were kept.

    For length 1 ``kept`` is always 256: bytes absent from the corpus are added with count 1,
    as the reference does, so ``kept`` can exceed ``counted`` there.
    """

    length: int
    counted: int
    kept: int


@dataclass(frozen=True)
class HeapsPoint:
    """Distinct candidate pieces found in the first ``bytes_read`` bytes of the corpus."""

    bytes_read: int
    distinct_pieces: int


@dataclass
class TrainHistory:
    """What a training run found, for plots (filled by :meth:`Trainer.train`).

    ngrams     : per n-gram length 1..order, distinct n-grams counted and kept
    candidates : distinct candidate pieces produced by the n-gram Viterbi
    vocab      : vocabulary size after each pruning step and wasted-piece round, per size
    heaps      : distinct candidate pieces against corpus bytes read (about 200 points)
    seconds    : wall time of each stage
    memory     : per counting pass run (``"length 3"``.. and ``"pieces"``; a resumed run lacks
                 the passes its checkpoint skipped), the hash partitions it was split into to
                 fit ``memory_budget`` (1 without), the bytes of its counting tables (every
                 worker's) and of the n-gram model held meanwhile. With the refined algorithm,
                 only under a budget: ``"length 2"``.. and ``"rarer, length 2"``.. (the
                 candidates seen fewer than ``min_count`` times), with ``estimated_keys`` and
                 as ``resident_bytes`` the candidates kept so far
    n_docs, n_bytes, n_chunks : the corpus read
    """

    ngrams: list[NgramStep] = field(default_factory=list)
    candidates: int = 0
    vocab: list[VocabStep] = field(default_factory=list)
    heaps: list[HeapsPoint] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    memory: dict[str, dict[str, int]] = field(default_factory=dict)
    n_docs: int = 0
    n_bytes: int = 0
    n_chunks: int = 0
