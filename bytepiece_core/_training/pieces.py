"""Stage 2 of training: segment the corpus with the n-gram model and count candidate pieces.

The result is a byte-string table (see ``hashtable``) whose keys point into the corpus, and
the Heaps' curve of the corpus: distinct pieces against bytes read, computed exactly from
each piece's first occurrence whatever the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._mmap import release_pages
from .hashtable import hll_estimate
from .memory import MemoryPlan
from .ngram_tables import NgramTables
from .passes import Passes

# Load a piece table is sized for, from its estimated number of pieces.
PIECE_LOAD = 0.7

__all__ = ["BLOCK", "PIECE_LOAD", "PieceCounts", "count_pieces", "count_segmented", "segment"]


# Candidate pieces handled at a time by the block-wise readers (Heaps' curve, pruning).
BLOCK = 1 << 16


@dataclass(frozen=True)
class PieceCounts:
    """Distinct candidate pieces, as corpus spans: in memory sorted by first occurrence, or,
    under a memory budget, in files (memory-mapped) in the order the partitions found them.

    pos    : int64[n]   first occurrence of the piece in ``TrainingCorpus.data``
    lens   : int64[n]   its length in bytes
    counts : int64[n]   how often the n-gram Viterbi produced it

    Readers go through :meth:`blocks`, so a mapped store is read a block at a time.
    """

    pos: np.ndarray
    lens: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return int(self.pos.shape[0])

    def release(self) -> None:
        """Hand back the pages of mapped arrays (kept in their files; no-op in memory)."""
        for array in (self.pos, self.lens, self.counts):
            release_pages(array)

    def blocks(self, size: int = BLOCK) -> list[tuple[int, int]]:
        """``(lo, hi)`` index ranges of at most ``size`` pieces covering them all."""
        n = len(self)
        return [(lo, min(n, lo + size)) for lo in range(0, n, size)]

    def heaps_curve(self, n_bytes: int, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """``(bytes_read, distinct_pieces)`` at ``points`` evenly spaced corpus positions.

        A piece is counted once the corpus has been read up to the end of its first occurrence.
        """
        if n_bytes == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        xs = np.unique(np.linspace(0, n_bytes, points + 1).round().astype(np.int64)[1:])
        found = np.zeros(len(xs), np.int64)
        for lo, hi in self.blocks(BLOCK * 16):
            ends = np.sort(self.pos[lo:hi] + self.lens[lo:hi])
            found += np.searchsorted(ends, xs, side="right")
        return xs, found


class _Store:
    """Where the pieces of the partitions go: gathered in memory (then sorted by first
    occurrence), or, under a budget with the corpus on disk, appended to three files next to
    it (removed with the plan's other working files) and mapped."""

    NAMES = ("pos", "lens", "counts")

    def __init__(self, plan: MemoryPlan) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.files = []
        if plan.spills:
            self.paths = [plan.scratch_path(f"pieces.{name}.work") for name in self.NAMES]
            self.files = [open(path, "wb") for path in self.paths]

    def add(self, found: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        if not self.files:
            self.parts.append(found)
            return
        for handle, array in zip(self.files, found, strict=True):
            handle.write(np.ascontiguousarray(array, np.int64).tobytes())

    def finish(self) -> PieceCounts:
        if not self.files:
            if len(self.parts) == 1:
                return _sorted(*self.parts[0])
            return _sorted(*(np.concatenate([f[i] for f in self.parts]) for i in range(3)))
        arrays = []
        for handle, path in zip(self.files, self.paths, strict=True):
            handle.close()
            if os.path.getsize(path) == 0:
                arrays.append(np.zeros(0, np.int64))
            else:  # copy-on-write: the kernels see the usual writable arrays
                arrays.append(np.asarray(np.memmap(path, np.int64, mode="c")))
        return PieceCounts(*arrays)

    def close(self) -> None:
        for handle in self.files:
            handle.close()


def count_pieces(
    passes: Passes,
    model: NgramTables,
    maxlen: np.ndarray,
    ensure_unicode: bool,
    progress: Callable[[int], None],
) -> PieceCounts:
    """Segment every chunk with the n-gram model and count the pieces (all of them).

    The segmentation leaves its piece-start bits with ``passes``; the piece table is then
    sized from a HyperLogLog sketch of the pieces, and counted in as many hash partitions as
    ``passes.plan`` needs. ``progress(n_bytes)`` follows the segmentation. The caller may drop
    ``model`` and ``maxlen`` after :func:`segment` to free them before the counting:
    this function is the two steps in one.
    """
    registers = segment(passes, model, maxlen, ensure_unicode, progress)
    return count_segmented(passes, registers)


def segment(
    passes: Passes,
    model: NgramTables,
    maxlen: np.ndarray,
    ensure_unicode: bool,
    progress: Callable[[int], None],
) -> np.ndarray:
    """Segment the corpus with the n-gram Viterbi (the bits stay with ``passes``); returns the
    HyperLogLog registers of its pieces, for :func:`count_segmented`."""
    return passes.segment(model, maxlen, ensure_unicode, progress)


def count_segmented(passes: Passes, registers: np.ndarray) -> PieceCounts:
    """Count the pieces :func:`segment` marked, sized from its sketch ``registers``."""
    estimate = hll_estimate(registers) * 1.05 + 16
    plan = passes.plan
    parts, cap = plan.split("pieces", estimate, PIECE_LOAD, passes.tables)
    store = _Store(plan)
    try:
        for part in range(parts):
            store.add(passes.count_marked(cap=cap, part=part, parts=parts))
        return store.finish()
    finally:
        store.close()
        passes.drop_segments()


def _sorted(pos: np.ndarray, lens: np.ndarray, counts: np.ndarray) -> PieceCounts:
    """The pieces ``_piece_entries`` gives, sorted by first occurrence."""
    order_ = np.argsort(pos, kind="stable")
    return PieceCounts(pos[order_], lens[order_], counts[order_])
