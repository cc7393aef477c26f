"""Stage 2 of training: segment the corpus with the n-gram model and count candidate pieces.

The result is a byte-string table (see ``_hashtable``) whose keys point into the corpus, and
the Heaps' curve of the corpus: distinct pieces against bytes read, computed exactly from
each piece's first occurrence whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._hashtable import (
    HLL_BITS,
    _piece_entries,
    _piece_merge,
    capacity_for,
    hll_estimate,
    new_table,
)
from ._kernels_pieces import _count_pieces, _sketch_pieces, _viterbi_bits
from ._train_corpus import Corpus
from ._train_jobs import run_ranges
from ._train_ngrams import NgramModel

# Load a piece table is sized for, from its estimated number of pieces.
PIECE_LOAD = 0.7

__all__ = ["PieceCounts", "count_pieces"]


@dataclass(frozen=True)
class PieceCounts:
    """Distinct candidate pieces, as corpus spans, sorted by first occurrence.

    pos    : int64[n]   first occurrence of the piece in ``Corpus.data``
    lens   : int64[n]   its length in bytes
    counts : int64[n]   how often the n-gram Viterbi produced it
    """

    pos: np.ndarray
    lens: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return int(self.pos.shape[0])

    def heaps_curve(self, n_bytes: int, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """``(bytes_read, distinct_pieces)`` at ``points`` evenly spaced corpus positions.

        A piece is counted once the corpus has been read up to the end of its first occurrence.
        """
        if n_bytes == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        xs = np.unique(np.linspace(0, n_bytes, points + 1).round().astype(np.int64)[1:])
        ends = np.sort(self.pos + self.lens)
        return xs, np.searchsorted(ends, xs, side="right").astype(np.int64)


def _segment(
    corpus: Corpus,
    model: NgramModel,
    ensure_unicode: bool,
    ranges: list[tuple[int, int, int]],
    workers: int,
    progress: Callable[[int], None],
) -> dict[int, np.ndarray]:
    """Piece-start bits of each range (keyed by its first chunk), by the n-gram Viterbi."""
    data, offsets = corpus.data, corpus.chunk_offsets
    mtab, mval, meta = model.flat(release=True)
    uni, bi, maxlen, order = model.uni, model.bi, model.maxlen, model.order

    def segment(found, lo, hi):  # type: ignore[no-untyped-def]
        found[lo] = _viterbi_bits(
            data, offsets, lo, hi, maxlen, ensure_unicode, uni, bi, mtab, mval, meta, order
        )
        return found

    bits: dict[int, np.ndarray] = {}
    for found in run_ranges(ranges, dict, segment, workers, progress, corpus.release):
        bits.update(found)
    return bits


def count_pieces(
    corpus: Corpus,
    model: NgramModel,
    ensure_unicode: bool,
    ranges: list[tuple[int, int, int]],
    workers: int,
    progress: Callable[[int], None],
    dask: Any = None,
) -> PieceCounts:
    """Segment every chunk with the n-gram model and count the pieces (all of them).

    The model and ``model.maxlen`` are released once the corpus is segmented, before the piece
    table (sized from a HyperLogLog sketch of the pieces) is allocated. With ``dask`` (a
    ``_train_dask.DaskPasses``) the passes run as Dask tasks instead of on ``workers`` threads.
    """
    if dask is not None:
        return _sorted(*dask.count_pieces(corpus, model, ensure_unicode, ranges, progress))
    data, offsets = corpus.data, corpus.chunk_offsets
    bits = _segment(corpus, model, ensure_unicode, ranges, workers, progress)
    model.maxlen = np.zeros(0, np.uint8)

    def sketch(registers, lo, hi):  # type: ignore[no-untyped-def]
        _sketch_pieces(data, offsets, lo, hi, bits[lo], registers)
        return registers

    sketches = run_ranges(
        ranges,
        lambda: np.zeros(1 << HLL_BITS, np.uint8),
        sketch,
        workers,
        lambda n: None,
        corpus.release,
    )
    estimate = hll_estimate(np.maximum.reduce(sketches))
    cap = capacity_for(estimate * 1.05 + 16, PIECE_LOAD)

    def count(state, lo, hi):  # type: ignore[no-untyped-def]
        return _count_pieces(data, offsets, lo, hi, bits[lo], *state)

    tables = run_ranges(
        ranges, lambda: (new_table(cap), 0), count, workers, lambda n: None, corpus.release
    )
    bits.clear()
    table, n = tables.pop(0)
    while tables:
        table, n = _piece_merge(table, n, tables.pop(0)[0], data)
    corpus.release(0, corpus.n_chunks)  # the merge read pieces all over the corpus
    pos, lens, counts = _piece_entries(table)
    del table
    return _sorted(pos, lens, counts)


def _sorted(pos: np.ndarray, lens: np.ndarray, counts: np.ndarray) -> PieceCounts:
    """The pieces ``_piece_entries`` gives, sorted by first occurrence."""
    order_ = np.argsort(pos, kind="stable")
    return PieceCounts(pos[order_], lens[order_], counts[order_])
