"""Stage 2 of training: segment the corpus with the n-gram model and count candidate pieces.

The result is a byte-string table (see ``_hashtable``) whose keys point into the corpus, and
the Heaps' curve of the corpus: distinct pieces against bytes read, computed exactly from
each piece's first occurrence whatever the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._hashtable import (
    HLL_BITS,
    _piece_entries,
    _piece_merge,
    hll_estimate,
    new_table,
)
from ._kernels_pieces import _count_pieces, _sketch_pieces, _viterbi_bits
from ._train_corpus import Corpus
from ._train_jobs import run_ranges
from ._train_memory import MemoryPlan, load_mapped, release_pages
from ._train_ngrams import NgramModel, releaser

# Load a piece table is sized for, from its estimated number of pieces.
PIECE_LOAD = 0.7

__all__ = ["PieceCounts", "count_pieces"]


# Candidate pieces handled at a time by the block-wise readers (Heaps' curve, pruning).
BLOCK = 1 << 16


@dataclass(frozen=True)
class PieceCounts:
    """Distinct candidate pieces, as corpus spans: in memory sorted by first occurrence, or,
    under a memory budget, in files (memory-mapped) in the order the partitions found them.

    pos    : int64[n]   first occurrence of the piece in ``Corpus.data``
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


class _Bits:
    """The piece-start bits of each range (keyed by its first chunk): arrays in memory, or,
    with a ``directory``, one file each there, mapped only while a range is worked on."""

    def __init__(self, directory: str | None) -> None:
        self.directory = directory
        self.ranges: dict[int, np.ndarray | str] = {}

    def put(self, lo: int, bits: np.ndarray) -> None:
        if self.directory is None:
            self.ranges[lo] = bits
            return
        path = os.path.join(self.directory, f"bits{lo}.work.npy")
        np.save(path, bits)
        self.ranges[lo] = path

    def get(self, lo: int) -> np.ndarray:
        found = self.ranges[lo]
        return found if isinstance(found, np.ndarray) else load_mapped(found)

    def clear(self) -> None:
        for found in self.ranges.values():
            if isinstance(found, str) and os.path.exists(found):
                os.remove(found)
        self.ranges.clear()


def _segment(
    corpus: Corpus,
    model: NgramModel,
    ensure_unicode: bool,
    ranges: list[tuple[int, int, int]],
    workers: int,
    progress: Callable[[int], None],
    bits: _Bits,
    plan: MemoryPlan,
) -> None:
    """Put the piece-start bits of each range in ``bits``, by the n-gram Viterbi."""
    data, offsets = corpus.data, corpus.chunk_offsets
    mtab, mval, meta = model.flat(release=True, plan=plan)
    uni, bi, maxlen, order = model.uni, model.bi, model.maxlen, model.order

    def segment(state, lo, hi):  # type: ignore[no-untyped-def]
        found = _viterbi_bits(
            data, offsets, lo, hi, maxlen, ensure_unicode, uni, bi, mtab, mval, meta, order
        )
        bits.put(lo, found)  # distinct keys: safe from several threads
        return state

    run_ranges(ranges, lambda: None, segment, workers, progress, releaser(corpus, plan, order))
    plan.release_table()  # the model and maxlen, if in files: their pages are not needed
    plan.release_maxlen()


def count_pieces(
    corpus: Corpus,
    model: NgramModel,
    ensure_unicode: bool,
    ranges: list[tuple[int, int, int]],
    workers: int,
    progress: Callable[[int], None],
    dask: Any = None,
    plan: MemoryPlan | None = None,
) -> PieceCounts:
    """Segment every chunk with the n-gram model and count the pieces (all of them).

    The model and ``model.maxlen`` are released once the corpus is segmented, before the piece
    table (sized from a HyperLogLog sketch of the pieces) is allocated. With ``dask`` (a
    ``_train_dask.DaskPasses``) the passes run as Dask tasks instead of on ``workers`` threads.
    ``plan`` (default: no budget, all in memory) may split the counting into hash partitions
    and put the Viterbi's bits in files (``_train_memory``).
    """
    plan = plan if plan is not None else MemoryPlan()
    store = _Store(plan)
    try:
        if dask is not None:
            dask.count_pieces(corpus, model, ensure_unicode, ranges, progress, plan, store.add)
            return store.finish()
        bits = _Bits(plan.directory)
        try:
            _segment(corpus, model, ensure_unicode, ranges, workers, progress, bits, plan)
            model.maxlen = np.zeros(0, np.uint8)
            _count(corpus, bits, ranges, workers, plan, store.add)
        finally:
            bits.clear()
        return store.finish()
    finally:
        store.close()


def _count(
    corpus: Corpus,
    bits: _Bits,
    ranges: list[tuple[int, int, int]],
    workers: int,
    plan: MemoryPlan,
    add: Callable[[tuple[np.ndarray, np.ndarray, np.ndarray]], None],
) -> None:
    """Count the pieces the ``bits`` mark, in as many hash partitions as ``plan`` needs, and
    ``add`` the ``(pos, lens, counts)`` of each partition."""
    data, offsets = corpus.data, corpus.chunk_offsets

    def sketch(registers, lo, hi):  # type: ignore[no-untyped-def]
        _sketch_pieces(data, offsets, lo, hi, bits.get(lo), registers)
        return registers

    sketches = run_ranges(
        ranges,
        lambda: np.zeros(1 << HLL_BITS, np.uint8),
        sketch,
        workers,
        lambda n: None,
        corpus.release,
    )
    estimate = hll_estimate(np.maximum.reduce(sketches)) * 1.05 + 16
    parts, cap = plan.split("pieces", estimate, PIECE_LOAD, workers)
    for part in range(parts):

        def count(state, lo, hi, part=part):  # type: ignore[no-untyped-def]
            return _count_pieces(data, offsets, lo, hi, bits.get(lo), *state, part, parts)

        tables = run_ranges(
            ranges, lambda: (new_table(cap), 0), count, workers, lambda n: None, corpus.release
        )
        table, n = tables.pop(0)
        while tables:
            table, n = _piece_merge(table, n, tables.pop(0)[0], data)
        corpus.release(0, corpus.n_chunks)  # the merge read pieces all over the corpus
        add(_piece_entries(table))
        del table


def _sorted(pos: np.ndarray, lens: np.ndarray, counts: np.ndarray) -> PieceCounts:
    """The pieces ``_piece_entries`` gives, sorted by first occurrence."""
    order_ = np.argsort(pos, kind="stable")
    return PieceCounts(pos[order_], lens[order_], counts[order_])
