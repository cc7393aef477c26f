"""The counting passes of training, behind one interface: :class:`Passes`.

A pass runs one kernel over every range of chunks of the corpus and folds the results: count
byte pairs, count the candidate n-grams of one length, raise ``maxlen`` to a length, segment
with the n-gram Viterbi, count the pieces it marked. The stages (``ngrams``, ``pieces``) call
the passes and never know where they run: :class:`LocalPasses` runs them on threads here (this
module), ``dask_passes.DaskPasses`` as Dask tasks on a cluster; both give the same counts.

A runner also owns what its passes leave behind between two calls (the Viterbi's piece-start
bits) and hands back the pages of an on-disk corpus, and of ``maxlen`` in a file, after each
range. :meth:`Passes.close` removes what it made.

Arrays are those of ``kernels_ngram`` (corpus, ``maxlen``, model tables) and ``hashtable``
(counting tables); ``progress(n_bytes)`` is called as ranges complete.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

import numpy as np

from .._mmap import load_mapped
from .corpus import TrainingCorpus
from .hashtable import (
    HLL_BITS,
    _entries,
    _merge,
    _piece_entries,
    _piece_merge,
    new_table,
)
from .jobs import chunk_ranges, run_ranges
from .kernels_ngram import (
    _count_order,
    _count_pairs,
    _raise_maxlen,
    maxlen_array,
    maxlen_layout,
)
from .kernels_pieces import _count_marked, _sketch_pieces, _viterbi_bits
from .memory import MemoryPlan
from .ngram_tables import NgramTables

__all__ = ["RANGES_PER_PASS", "LocalPasses", "Passes", "Progress"]

# Ranges of chunks a pass is cut into (progress resolution and unit of work of the threads).
RANGES_PER_PASS = 64

Progress = Callable[[int], None]
Pieces = tuple[np.ndarray, np.ndarray, np.ndarray]


def no_progress(nbytes: int) -> None:
    """Nothing to report."""


class Passes(Protocol):
    """Where the counting passes over one corpus run (see the module docstring).

    corpus : the training corpus
    order  : the n-gram order (sets the layout of ``maxlen``)
    plan   : the run's memory settings (``memory.MemoryPlan``)
    tables : counting tables of one pass held in this process at once (the budget divides
             among them): one per worker thread here, one per lane (on its worker) for Dask
    """

    corpus: TrainingCorpus
    order: int
    plan: MemoryPlan
    tables: int

    def new_maxlen(self) -> np.ndarray:
        """A fresh ``maxlen`` (every byte at 1), where :meth:`raise_maxlen` writes."""
        ...

    def count_pairs(self, progress: Progress) -> tuple[np.ndarray, np.ndarray]:
        """``(counts1, counts2)``: int64[256] byte and int64[65536] byte-pair counts."""
        ...

    def count_length(
        self,
        k: int,
        maxlen: np.ndarray,
        model: tuple[np.ndarray, np.ndarray],
        *,
        cap: int,
        part: int,
        parts: int,
        min_count: int,
        progress: Progress,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """``(keys, counts, n)``: the candidate ``k``-grams (``k >= 3``) of hash partition
        ``part`` of ``parts`` counted at least ``min_count`` times, and how many candidates
        were counted, in tables of ``cap`` slots. ``model`` is ``(mtab, meta)`` of lengths
        ``3..k-1`` (read for chained keys, ``k > 8``)."""
        ...

    def raise_maxlen(
        self,
        k: int,
        maxlen: np.ndarray,
        kept: np.ndarray,
        model: tuple[np.ndarray, np.ndarray],
        *,
        sketch_next: bool,
    ) -> np.ndarray:
        """Raise ``maxlen`` to ``k`` where the ``k``-gram is in ``kept`` (its model table);
        returns the HyperLogLog registers of the candidate ``(k+1)``-grams (all zero unless
        ``sketch_next``)."""
        ...

    def segment(
        self, model: NgramTables, maxlen: np.ndarray, ensure_unicode: bool, progress: Progress
    ) -> np.ndarray:
        """Segment the corpus with the n-gram Viterbi and keep the piece-start bits for
        :meth:`count_marked`; returns the HyperLogLog registers of the pieces."""
        ...

    def count_marked(self, *, cap: int, part: int, parts: int) -> Pieces:
        """``(pos, lens, counts)`` of the pieces :meth:`segment` marked in hash partition
        ``part`` of ``parts``, counted in tables of ``cap`` slots (``hashtable._piece_entries``
        order)."""
        ...

    def drop_segments(self) -> None:
        """Forget the piece-start bits of :meth:`segment` (their memory or files)."""
        ...

    def close(self) -> None:
        """Remove what the passes left (the piece-start bits, shared files)."""
        ...


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


class LocalPasses:
    """The passes on ``workers`` threads of this process, over ``n_ranges`` ranges of chunks.

    After each range the worker hands back that range's pages of an on-disk corpus and of a
    ``maxlen`` file (``plan``), so a pass holds only the ranges it is working on.
    """

    def __init__(
        self,
        corpus: TrainingCorpus,
        order: int,
        workers: int = 1,
        plan: MemoryPlan | None = None,
        n_ranges: int = RANGES_PER_PASS,
    ) -> None:
        self.corpus = corpus
        self.order = order
        self.workers = workers
        self.plan = plan if plan is not None else MemoryPlan()
        self.tables = workers
        self.ranges = chunk_ranges(corpus.chunk_offsets, n_ranges)
        self._shift = maxlen_layout(corpus.n_bytes, order)[2]
        self._bits = _Bits(self.plan.directory)

    def _release(self, lo: int, hi: int) -> None:
        """Hand back chunks ``lo..hi-1``'s pages of the corpus and of ``maxlen`` (if files)."""
        offsets = self.corpus.chunk_offsets
        self.corpus.release(lo, hi)
        self.plan.release_maxlen(
            int(offsets[lo]) >> self._shift, (int(offsets[hi]) >> self._shift) + 1
        )

    def _run(self, init, work, progress: Progress = no_progress):  # type: ignore[no-untyped-def]
        return run_ranges(self.ranges, init, work, self.workers, progress, self._release)

    def new_maxlen(self) -> np.ndarray:
        n, order = self.corpus.n_bytes, self.order
        size, fill, _ = maxlen_layout(n, order)
        return self.plan.maxlen(lambda: maxlen_array(n, order), size, fill)

    def count_pairs(self, progress: Progress) -> tuple[np.ndarray, np.ndarray]:
        data, offsets = self.corpus.data, self.corpus.chunk_offsets

        def pairs(state, lo, hi):  # type: ignore[no-untyped-def]
            _count_pairs(data, offsets, lo, hi, state[0], state[1])
            return state

        parts = self._run(
            lambda: (np.zeros(256, np.int64), np.zeros(65536, np.int64)), pairs, progress
        )
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def count_length(
        self,
        k: int,
        maxlen: np.ndarray,
        model: tuple[np.ndarray, np.ndarray],
        *,
        cap: int,
        part: int,
        parts: int,
        min_count: int,
        progress: Progress,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        data, offsets = self.corpus.data, self.corpus.chunk_offsets
        mtab, meta = model

        def count(state, lo, hi):  # type: ignore[no-untyped-def]
            return _count_order(data, offsets, lo, hi, maxlen, k, mtab, meta, *state, part, parts)

        tables = self._run(lambda: (new_table(cap), 0), count, progress)
        table, n = tables.pop(0)
        while tables:  # map-reduce: each worker's table merged into the first
            table, n = _merge(table, n, tables.pop(0)[0])
        keys, counts = _entries(table, np.uint64(min_count))
        return keys, counts, int(n)

    def raise_maxlen(
        self,
        k: int,
        maxlen: np.ndarray,
        kept: np.ndarray,
        model: tuple[np.ndarray, np.ndarray],
        *,
        sketch_next: bool,
    ) -> np.ndarray:
        data, offsets = self.corpus.data, self.corpus.chunk_offsets
        mtab, meta = model
        size = 1 << HLL_BITS if sketch_next else 0

        def work(registers: np.ndarray, lo: int, hi: int) -> np.ndarray:
            # ranges are chunk-disjoint, so threads never write the same byte of maxlen
            _raise_maxlen(data, offsets, lo, hi, maxlen, k, mtab, meta, kept, registers)
            return registers

        parts = self._run(lambda: np.zeros(size, np.uint8), work)
        return np.maximum.reduce(parts) if size else np.zeros(1 << HLL_BITS, np.uint8)

    def segment(
        self, model: NgramTables, maxlen: np.ndarray, ensure_unicode: bool, progress: Progress
    ) -> np.ndarray:
        data, offsets = self.corpus.data, self.corpus.chunk_offsets
        uni, bi, mtab, mval, meta = model.uni, model.bi, model.mtab, model.mval, model.meta
        order, bits = model.order, self._bits

        def segment(state, lo, hi):  # type: ignore[no-untyped-def]
            found = _viterbi_bits(
                data,
                offsets,
                lo,
                hi,
                maxlen,
                ensure_unicode,
                uni,
                bi,
                mtab,
                mval,
                meta,
                order,
            )
            bits.put(lo, found)  # distinct keys: safe from several threads
            return state

        self._run(lambda: None, segment, progress)
        self.plan.release_table()  # the model and maxlen, if in files: their pages are not needed
        self.plan.release_maxlen()

        def sketch(registers, lo, hi):  # type: ignore[no-untyped-def]
            _sketch_pieces(data, offsets, lo, hi, bits.get(lo), registers)
            return registers

        sketches = self._run(lambda: np.zeros(1 << HLL_BITS, np.uint8), sketch)
        return np.maximum.reduce(sketches)  # type: ignore[no-any-return]

    def count_marked(self, *, cap: int, part: int, parts: int) -> Pieces:
        data, offsets, bits = self.corpus.data, self.corpus.chunk_offsets, self._bits

        def count(state, lo, hi):  # type: ignore[no-untyped-def]
            return _count_marked(data, offsets, lo, hi, bits.get(lo), *state, part, parts)

        tables = self._run(lambda: (new_table(cap), 0), count)
        table, n = tables.pop(0)
        while tables:
            table, n = _piece_merge(table, n, tables.pop(0)[0], data)
        self.corpus.release(0, self.corpus.n_chunks)  # the merge read pieces all over the corpus
        return _piece_entries(table)  # type: ignore[no-any-return]

    def drop_segments(self) -> None:
        self._bits.clear()

    def close(self) -> None:
        self._bits.clear()
