"""Stage 1 of training: count byte n-grams and prune them into the n-gram model (ALGORITHM 2.1-2.2).

Lengths are counted one at a time over the corpus (see ``_kernels_ngram`` for the apriori rule
that keeps this exact), each pruned as soon as it is counted; a counting table is sized from a
HyperLogLog sketch of its candidates, so it is allocated once. Logarithms are taken here with
``np.log`` on arrays, as the reference does, never inside a kernel: NumPy's ``log`` and libm's
differ in the last bit for a few inputs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._hashtable import (
    HLL_BITS,
    _build,
    _entries,
    _find_many,
    _merge,
    big_array,
    capacity_for,
    hll_estimate,
    new_table,
)
from ._kernels_ngram import (
    NIBBLE_ORDER,
    PACKED,
    _count_order,
    _count_pairs,
    _raise_maxlen,
    maxlen_array,
    maxlen_layout,
)
from ._train_corpus import Corpus
from ._train_jobs import run_ranges
from ._train_memory import Held, MemoryPlan, partition_progress

__all__ = ["NgramModel", "build_ngram_model"]

# Load of the model tables (looked up many times by the Viterbi: keep probes short).
MODEL_LOAD = 0.6
# Load a counting table is sized for, from its estimated number of keys.
COUNT_LOAD = 0.7

Ranges = list[tuple[int, int, int]]


@dataclass
class NgramModel:
    """The kept n-grams with their conditional log-probabilities (arrays of ``_kernels_ngram``).

    uni, bi     : float64[256], float64[65536]  lengths 1 and 2
    tables      : the model table of each length 3..order (uint64[cap, 2]); :meth:`flat`
                  puts them in one array for the kernels
    maxlen      : the longest kept n-gram at each corpus byte (packed, see ``_kernels_ngram``;
                  :meth:`longest` unpacks it)
    counted     : distinct n-grams counted for each length (index = length)
    kept        : n-grams kept for each length (index 0: the empty n-gram)
    """

    order: int
    uni: np.ndarray = field(default_factory=lambda: np.zeros(256))
    bi: np.ndarray = field(default_factory=lambda: np.full(65536, -np.inf))
    tables: list[np.ndarray] = field(default_factory=list)
    maxlen: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    counted: list[int] = field(default_factory=lambda: [1])
    kept: list[int] = field(default_factory=lambda: [1])

    def longest(self, n_bytes: int) -> np.ndarray:
        """The longest kept n-gram at each of the ``n_bytes`` corpus bytes (uint8[n_bytes])."""
        if self.order > NIBBLE_ORDER:
            return self.maxlen[:n_bytes].copy()
        return np.stack([self.maxlen & 15, self.maxlen >> 4], axis=1).reshape(-1)[:n_bytes]

    def flat(
        self, release: bool = False, plan: MemoryPlan | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mtab, mval, meta)``: the tables of lengths 3.. in one array.

        With ``release`` each per-length table is dropped once copied, so assembling costs
        one table's memory at a time rather than the whole model's; with a ``plan`` that
        spills, the array is a file whose pages are handed back as they are written, so
        assembling costs no more than the model.
        """
        meta = np.zeros((self.order + 1, 2), np.int64)
        total = 0
        for k, table in enumerate(self.tables, start=3):
            meta[k] = (total, table.shape[0])
            total += table.shape[0]
        mapped = plan.table_array("model", max(total, 1)) if plan is not None else None
        mtab = mapped if mapped is not None else big_array((max(total, 1), 2), np.uint64)
        for k in range(3, 3 + len(self.tables)):
            start, cap = meta[k]
            mtab[start : start + cap] = self.tables[k - 3]
            if plan is not None:
                plan.release_table(start, start + cap)
            if release:  # a fresh array, not a view: a view would keep the table alive
                self.tables[k - 3] = np.zeros((0, 2), np.uint64)
        if release:
            self.tables = []
        return mtab, mtab.view(np.float64), meta


def build_ngram_model(
    corpus: Corpus,
    order: int,
    min_count: int,
    ranges: Ranges,
    workers: int,
    progress: Callable[[int, int], None],
    dask: Any = None,
    plan: MemoryPlan | None = None,
) -> NgramModel:
    """Count and prune n-grams of lengths ``1..order``.

    ``progress(k, n_bytes)`` is called as the pass counting length ``k`` covers ``n_bytes`` more.
    With ``dask`` (a ``_train_dask.DaskPasses``) the passes run as Dask tasks instead of on
    ``workers`` threads, and ``maxlen`` lives in a file of its shared directory. ``plan``
    (default: no budget, all in memory) bounds the counting tables and may put ``maxlen`` in a
    file (``_train_memory``).
    """
    plan = plan if plan is not None else MemoryPlan()
    model = NgramModel(order)
    if dask is None:
        size, fill, _ = maxlen_layout(corpus.n_bytes, order)
        model.maxlen = plan.maxlen(lambda: maxlen_array(corpus.n_bytes, order), size, fill)
        return _build_model(model, corpus, min_count, ranges, workers, progress, None, plan)
    model.maxlen = dask.new_maxlen(corpus.n_bytes, order)
    model = _build_model(model, corpus, min_count, ranges, workers, progress, dask, plan)
    model.maxlen = dask.load_maxlen()
    return model


def releaser(corpus: Corpus, plan: MemoryPlan, order: int) -> Callable[[int, int], None]:
    """What a worker hands back after a range: its corpus pages and its ``maxlen`` pages."""
    offsets = corpus.chunk_offsets
    shift = maxlen_layout(corpus.n_bytes, order)[2]

    def release(lo: int, hi: int) -> None:
        corpus.release(lo, hi)
        plan.release_maxlen(int(offsets[lo]) >> shift, (int(offsets[hi]) >> shift) + 1)

    return release


def _build_model(
    model: NgramModel,
    corpus: Corpus,
    min_count: int,
    ranges: Ranges,
    workers: int,
    progress: Callable[[int, int], None],
    dask: Any,
    plan: MemoryPlan,
) -> NgramModel:
    data, offsets = corpus.data, corpus.chunk_offsets
    order = model.order
    release = releaser(corpus, plan, order)

    def pairs(state, lo, hi):  # type: ignore[no-untyped-def]
        _count_pairs(data, offsets, lo, hi, state[0], state[1])
        return state

    if dask is not None:
        parts = dask.pairs(ranges, lambda nbytes: progress(1, nbytes))
    else:
        parts = run_ranges(
            ranges,
            lambda: (np.zeros(256, np.int64), np.zeros(65536, np.int64)),
            pairs,
            workers,
            lambda nbytes: progress(1, nbytes),
            corpus.release,
        )
    counts1 = sum(p[0] for p in parts)
    counts2 = sum(p[1] for p in parts)
    # The reference completes the 256 bytes (count 1) and counts each in the empty n-gram.
    missing = counts1 == 0
    counts1[missing] = 1
    total = np.float64(corpus.n_bytes + int(missing.sum()))
    model.uni = np.log(counts1.astype(np.float64)) - np.log(total)
    model.counted.append(int((~missing).sum()))
    model.kept.append(256)
    if order < 2:
        return model
    model.counted.append(int(np.count_nonzero(counts2)))
    kept2 = counts2 >= min_count
    model.kept.append(int(kept2.sum()))
    pair_prefix = counts1[np.arange(65536) >> 8]
    with np.errstate(divide="ignore"):
        model.bi = np.where(
            kept2,
            np.log(counts2.astype(np.float64)) - np.log(pair_prefix.astype(np.float64)),
            -np.inf,
        )
    bi_kept = np.flatnonzero(kept2).astype(np.uint64)
    table2 = new_table(capacity_for(len(bi_kept), MODEL_LOAD))
    _build(table2, bi_kept, bi_kept)
    sketch = _raise(
        model, corpus, 2, table2, ranges, workers, order > 2, dask=dask, release=release
    )
    del table2
    prev_table, prev_counts = _NO_MODEL[0], np.zeros(0, np.int64)
    for k in range(3, order + 1):
        if model.kept[k - 1] == 0:
            model.counted.append(0)
            model.kept.append(0)
            model.tables.append(new_table(8))
            sketch = np.zeros(1 << HLL_BITS, np.uint8)
            progress(k, corpus.n_bytes)  # nothing left to count: the pass is done
            continue
        mtab, _, meta = model.flat() if k > PACKED else _NO_MODEL
        estimate = hll_estimate(sketch) * 1.05 + 16
        resident = sum(t.nbytes for t in model.tables) + prev_counts.nbytes
        resident += mtab.nbytes if k > PACKED else 0
        tables_of = workers if dask is None else 1  # Dask: each lane's, on its worker
        parts, cap = plan.split(f"length {k}", estimate, COUNT_LOAD, tables_of, resident)
        report = partition_progress(functools.partial(progress, k), parts)
        n = 0
        found: list[tuple[Held, int, int]] = []  # each partition's kept n-grams, size, top
        for part in range(parts):
            keys, counts, n_part = _count_length(
                model,
                corpus,
                k,
                cap,
                mtab,
                meta,
                ranges,
                workers,
                report,
                dask,
                part,
                parts,
                release,
                min_count,
            )
            n += n_part
            top = int(counts.max()) if len(counts) else 0
            found.append((plan.hold(f"kept{k}.{part}", keys, counts), len(keys), top))
            del keys, counts
        model.counted.append(n)
        n_kept = sum(f[1] for f in found)
        top = max(f[2] for f in found)
        table = new_table(capacity_for(n_kept, MODEL_LOAD))
        counts_of = big_array(table.shape[0], np.uint32 if top < 2**32 else np.uint64)
        while found:  # a partition at a time, each dropped once in the table
            keys, counts = found.pop(0)[0].take()
            if k == 3:
                prefix = counts2[(keys >> np.uint64(8)).astype(np.int64)]
            else:
                prefix = _prefix_counts(keys, k, prev_table, prev_counts)
            logp = np.log(counts.astype(np.float64)) - np.log(prefix.astype(np.float64))
            slots = _build(table, keys, logp.view(np.uint64))
            counts_of[slots] = counts
            del keys, counts, prefix, logp, slots
        model.tables.append(table)
        model.kept.append(n_kept)
        prev_table, prev_counts = table, counts_of
        del counts_of
        sketch = _raise(
            model, corpus, k, table, ranges, workers, k < order, mtab, meta, dask, release
        )
    return model


_NO_MODEL = (np.zeros((1, 2), np.uint64), None, np.zeros((1, 2), np.int64))


def _prefix_counts(
    keys: np.ndarray, k: int, prev_table: np.ndarray, prev_counts: np.ndarray
) -> np.ndarray:
    """Counts of the ``(k-1)``-prefixes of the ``k``-grams ``keys`` (``k >= 4``).

    ``prev_table`` is the model table of length ``k - 1`` and ``prev_counts`` the count of the
    n-gram in each of its slots. A packed key's prefix is the key without its last byte; a
    chained key (``k > 8``) holds the prefix's slot itself.
    """
    parent = keys >> np.uint64(8)
    slots = _find_many(prev_table, parent) if k <= PACKED else parent.astype(np.int64)
    return prev_counts[slots]


def _count_length(
    model: NgramModel,
    corpus: Corpus,
    k: int,
    cap: int,
    mtab: np.ndarray,
    meta: np.ndarray,
    ranges: Ranges,
    workers: int,
    progress: Callable[[int], None],
    dask: Any,
    part: int,
    parts: int,
    release: Callable[[int, int], None],
    min_count: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """``(keys, counts)`` of the candidate ``k``-grams of hash partition ``part`` of ``parts``
    counted at least ``min_count`` times, and the number of candidates counted.

    Each worker counts into its own table (``cap`` slots); the tables are merged (map-reduce).
    """
    if dask is not None:
        return dask.count_length(k, cap, mtab, meta, ranges, progress, part, parts, min_count)  # type: ignore[no-any-return]
    data, offsets, maxlen = corpus.data, corpus.chunk_offsets, model.maxlen

    def count(state, lo, hi):  # type: ignore[no-untyped-def]
        return _count_order(data, offsets, lo, hi, maxlen, k, mtab, meta, *state, part, parts)

    tables = run_ranges(
        ranges,
        lambda: (new_table(cap), 0),
        count,
        workers,
        progress,
        release,
    )
    table, n = tables.pop(0)
    while tables:
        table, n = _merge(table, n, tables.pop(0)[0])
    keys, counts = _entries(table, np.uint64(min_count))
    return keys, counts, int(n)


def _raise(
    model: NgramModel,
    corpus: Corpus,
    k: int,
    kept: np.ndarray,
    ranges: Ranges,
    workers: int,
    sketch_next: bool,
    mtab: np.ndarray = _NO_MODEL[0],
    meta: np.ndarray = _NO_MODEL[2],
    dask: Any = None,
    release: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Raise ``maxlen`` to ``k`` where the ``k``-gram is kept (ranges are chunk-disjoint, so
    threads never write the same byte); returns the HyperLogLog registers of the candidate
    ``(k+1)``-grams (all zero unless ``sketch_next``)."""
    if dask is not None:
        return dask.raise_maxlen(k, kept, sketch_next, mtab, meta, ranges)  # type: ignore[no-any-return]
    size = 1 << HLL_BITS if sketch_next else 0

    def work(registers: np.ndarray, lo: int, hi: int) -> np.ndarray:
        _raise_maxlen(
            corpus.data,
            corpus.chunk_offsets,
            lo,
            hi,
            model.maxlen,
            k,
            mtab,
            meta,
            kept,
            registers,
        )
        return registers

    parts = run_ranges(
        ranges,
        lambda: np.zeros(size, np.uint8),
        work,
        workers,
        lambda n: None,
        release if release is not None else corpus.release,
    )
    return np.maximum.reduce(parts) if size else np.zeros(1 << HLL_BITS, np.uint8)
