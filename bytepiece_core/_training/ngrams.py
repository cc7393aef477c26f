"""Stage 1 of training: count byte n-grams and prune them into the n-gram model (ALGORITHM 2.1-2.2).

Lengths are counted one at a time over the corpus (see ``kernels_ngram`` for the apriori rule
that keeps this exact), each pruned as soon as it is counted; a counting table is sized from a
HyperLogLog sketch of its candidates, so it is allocated once. Logarithms are taken here with
``np.log`` on arrays, as the reference does, never inside a kernel: NumPy's ``log`` and libm's
differ in the last bit for a few inputs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._mmap import big_array
from .corpus import TrainingCorpus
from .hashtable import HLL_BITS, _build, _find_many, capacity_for, hll_estimate, new_table
from .kernels_ngram import PACKED
from .memory import Held, partition_progress
from .ngram_tables import MODEL_LOAD, NgramTables, pair_table
from .passes import LocalPasses, Passes

__all__ = ["COUNT_LOAD", "build_ngram_model", "longest_kept"]

# Load a counting table is sized for, from its estimated number of keys.
COUNT_LOAD = 0.7


@dataclass
class _Building:
    """The model as it grows a length at a time: ``tables[k - 3]`` is length ``k``'s table."""

    order: int
    uni: np.ndarray
    bi: np.ndarray
    counted: list[int]
    kept: list[int]
    tables: list[np.ndarray]

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mtab, meta)``: the tables so far in one array."""
        meta = np.zeros((self.order + 1, 2), np.int64)
        total = 0
        for k, table in enumerate(self.tables, start=3):
            meta[k] = (total, table.shape[0])
            total += table.shape[0]
        mtab = big_array((max(total, 1), 2), np.uint64)
        for k, table in enumerate(self.tables, start=3):
            mtab[meta[k, 0] : meta[k, 0] + meta[k, 1]] = table
        return mtab, meta


_NO_MODEL = (np.zeros((1, 2), np.uint64), np.zeros((1, 2), np.int64))


def build_ngram_model(
    passes: Passes, min_count: int, progress: Callable[[int, int], None]
) -> tuple[NgramTables, np.ndarray]:
    """Count and prune the n-grams of lengths ``1..passes.order`` of ``passes.corpus``:
    ``(model, maxlen)``, ``maxlen`` the longest kept n-gram at each corpus byte (packed).

    ``progress(k, n_bytes)`` is called as the pass counting length ``k`` covers ``n_bytes``
    more (lengths 1 and 2 share a pass, reported as ``k = 1``).

    Lengths 1 and 2 are counted in one pass into direct arrays. Each longer length ``k`` is
    counted in hash partitions sized to ``passes.plan`` (one pass each, every count exact),
    only where both ``(k-1)``-grams were kept; the kept ``k``-grams become length ``k``'s
    model table, and ``maxlen`` is raised where they occur, while a HyperLogLog sketch of the
    candidate ``(k+1)``-grams sizes the next counting table.
    """
    corpus, order = passes.corpus, passes.order
    maxlen = passes.new_maxlen()
    counts1, counts2 = passes.count_pairs(lambda nbytes: progress(1, nbytes))
    model = _unigrams(counts1, corpus.n_bytes, order)
    if order < 2:
        return _finish(model, passes), maxlen
    kept2 = _bigrams(model, counts1, counts2, min_count)
    table2 = new_table(capacity_for(len(kept2), MODEL_LOAD))
    _build(table2, kept2, kept2)
    sketch = passes.raise_maxlen(2, maxlen, table2, _NO_MODEL, sketch_next=order > 2)
    del table2
    prev: tuple[np.ndarray, np.ndarray] | None = None  # length k-1's table and slot counts
    for k in range(3, order + 1):
        if model.kept[k - 1] == 0:  # nothing left to count: the pass is done
            model.counted.append(0)
            model.kept.append(0)
            model.tables.append(new_table(8))
            sketch = np.zeros(1 << HLL_BITS, np.uint8)
            progress(k, corpus.n_bytes)
            continue
        lower = model.flat() if k > PACKED else _NO_MODEL  # chained keys read lengths < k
        found = _count_length(passes, model, k, maxlen, lower, sketch, prev, min_count, progress)
        table, counts_of = _table_of(found, k, counts2, prev)
        model.tables.append(table)
        prev = (table, counts_of)
        del counts_of
        sketch = passes.raise_maxlen(k, maxlen, table, lower, sketch_next=k < order)
    return _finish(model, passes), maxlen


def _unigrams(counts1: np.ndarray, n_bytes: int, order: int) -> _Building:
    """The model of length 1. The reference completes the 256 bytes (count 1) and counts each
    in the empty n-gram."""
    missing = counts1 == 0
    counts1[missing] = 1
    total = np.float64(n_bytes + int(missing.sum()))
    uni = np.log(counts1.astype(np.float64)) - np.log(total)
    bi = np.full(65536, -np.inf)
    return _Building(order, uni, bi, [1, int((~missing).sum())], [1, 256], [])


def _bigrams(
    model: _Building, counts1: np.ndarray, counts2: np.ndarray, min_count: int
) -> np.ndarray:
    """Set length 2 of ``model``; returns the kept pairs' keys (uint64)."""
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
    return np.flatnonzero(kept2).astype(np.uint64)


def _count_length(
    passes: Passes,
    model: _Building,
    k: int,
    maxlen: np.ndarray,
    lower: tuple[np.ndarray, np.ndarray],
    sketch: np.ndarray,
    prev: tuple[np.ndarray, np.ndarray] | None,
    min_count: int,
    progress: Callable[[int, int], None],
) -> list[tuple[Held, int, int]]:
    """Count length ``k`` in as many hash partitions as the plan needs and record the counts
    in ``model``; returns each partition's kept ``(keys, counts)`` (put aside), size and top
    count."""
    estimate = hll_estimate(sketch) * 1.05 + 16
    resident = sum(t.nbytes for t in model.tables) + (prev[1].nbytes if prev else 0)
    resident += lower[0].nbytes if k > PACKED else 0
    plan = passes.plan
    parts, cap = plan.split(f"length {k}", estimate, COUNT_LOAD, passes.tables, resident)
    report = partition_progress(functools.partial(progress, k), parts)
    n = 0
    found: list[tuple[Held, int, int]] = []
    for part in range(parts):
        keys, counts, n_part = passes.count_length(
            k, maxlen, lower, cap=cap, part=part, parts=parts, min_count=min_count, progress=report
        )
        n += n_part
        top = int(counts.max()) if len(counts) else 0
        found.append((plan.hold(f"kept{k}.{part}", keys, counts), len(keys), top))
        del keys, counts
    model.counted.append(n)
    model.kept.append(sum(f[1] for f in found))
    return found


def _table_of(
    found: list[tuple[Held, int, int]],
    k: int,
    counts2: np.ndarray,
    prev: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Length ``k``'s model table from its kept n-grams, a partition at a time (each dropped
    once in the table), and the count of the n-gram in each of its slots."""
    n_kept = sum(f[1] for f in found)
    top = max(f[2] for f in found)
    table = new_table(capacity_for(n_kept, MODEL_LOAD))
    counts_of = big_array(table.shape[0], np.uint32 if top < 2**32 else np.uint64)
    while found:
        keys, counts = found.pop(0)[0].take()
        if k == 3:
            prefix = counts2[(keys >> np.uint64(8)).astype(np.int64)]
        else:
            assert prev is not None
            prefix = _prefix_counts(keys, k, *prev)
        logp = np.log(counts.astype(np.float64)) - np.log(prefix.astype(np.float64))
        slots = _build(table, keys, logp.view(np.uint64))
        counts_of[slots] = counts
        del keys, counts, prefix, logp, slots
    return table, counts_of


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


def _finish(model: _Building, passes: Passes) -> NgramTables:
    """The frozen model: its tables moved into one array a table at a time (each dropped once
    copied, so this costs one table's memory, not the model's), in a file whose pages are
    handed back as they are written when the plan spills."""
    total = sum(t.shape[0] for t in model.tables)
    mapped = passes.plan.table_array("model", max(total, 1))
    meta = np.zeros((model.order + 1, 2), np.int64)
    start = 0
    for k in range(3, 3 + len(model.tables)):
        meta[k] = (start, model.tables[k - 3].shape[0])
        start += model.tables[k - 3].shape[0]
    mtab = mapped if mapped is not None else big_array((max(total, 1), 2), np.uint64)
    for k in range(3, 3 + len(model.tables)):
        lo, cap = meta[k]
        mtab[lo : lo + cap] = model.tables[k - 3]
        passes.plan.release_table(lo, lo + cap)
        model.tables[k - 3] = np.zeros((0, 2), np.uint64)  # not a view: that would keep it
    model.tables = []
    return NgramTables(model.order, model.uni, model.bi, mtab, meta, model.counted, model.kept)


def longest_kept(model: NgramTables, corpus: TrainingCorpus) -> np.ndarray:
    """``maxlen`` of another corpus under ``model``: the longest n-gram of the model at each of
    its bytes (packed as ``kernels_ngram``), as training computes it for its own corpus."""
    passes = LocalPasses(corpus, model.order, n_ranges=1)
    maxlen = passes.new_maxlen()
    if model.order >= 2 and corpus.n_bytes:
        passes.raise_maxlen(2, maxlen, pair_table(model.bi), _NO_MODEL, sketch_next=False)
        lower = (model.mtab, model.meta)
        for k in range(3, model.order + 1):
            passes.raise_maxlen(k, maxlen, model.table(k), lower, sketch_next=False)
    return maxlen
