"""Kernels of the refined trainer (``refine``): count candidate substrings a length at a
time, the E-step of the unigram model's EM over the corpus lattice, and each piece's best
alternative segmentation.

Arrays are those of ``kernels_ngram`` (corpus), ``hashtable`` (piece tables) and
``_kernels_segment`` (the vocabulary's trie ``cells``/``value``, scores ``logp`` by id), and:

    weights : int64[n_chunks]      how often each (distinct) chunk occurs in the corpus
    maxlen  : uint8[n_bytes + 1]   the longest frequent substring starting at each byte so far
    fnv     : uint64[n_bytes]      the FNV-1a state of the substring counted at each byte

Expected counts are summed in fixed point, ``round(marginal * FIXED)`` as int64, so partial
sums from any number of threads add up to the same integers: the model does not depend on the
number of workers.
"""

from __future__ import annotations

import numpy as np

from .._kernels_lattice import _forward_backward, _lattice_edges
from .._mix import _mix64
from .._numba import kernel
from .hashtable import (
    _FNV_OFFSET,
    _FNV_PRIME,
    _LOW8,
    EMPTY,
    MAX_LOAD,
    _hash_bytes,
    _home,
    _piece_add,
    _piece_grown,
    _piece_span,
)

__all__ = ["FIXED", "FNV_OFFSET", "FNV_PRIME"]

# Fixed-point scale of expected counts: 2**24 steps per occurrence.
FIXED = float(1 << 24)
# FNV-1a's initial state (``hashtable._hash_bytes``).
FNV_OFFSET = _FNV_OFFSET
FNV_PRIME = _FNV_PRIME


@kernel
def _count_extensions(
    data, chunk_offsets, weights, c_lo, c_hi, maxlen, fnv, k, table, n
):  # pragma: no cover - compiled
    """Count the ``k``-grams (``k >= 2``) of chunks ``c_lo..c_hi-1`` whose two
    ``(k-1)``-grams are frequent (``maxlen`` at ``i`` and ``i + 1`` at least ``k - 1``) into a
    piece table holding ``n`` pieces, each chunk ``weights[c]`` times; returns ``(table, n)``,
    grown if it had to.

    Apriori: a frequent ``k``-gram has both its ``(k-1)``-grams frequent, so its count is
    exact, while most rare ones are never stored. ``fnv[i]`` is advanced from the
    ``(k-1)``-gram's state to the ``k``-gram's, so hashing costs one step a byte and length
    (the hash is ``hashtable._hash_bytes``'s).
    """
    need = k - 1
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        w = np.uint64(weights[c])
        for i in range(lo, hi - k + 1):
            if maxlen[i] >= need and maxlen[i + 1] >= need:
                state = (fnv[i] ^ np.uint64(data[i + k - 1])) * _FNV_PRIME
                fnv[i] = state
                if n + 1 > table.shape[0] * MAX_LOAD:
                    table = _piece_grown(table, data, table.shape[0] * 2)
                n += _piece_add(table, data, i, k, _mix64(state ^ np.uint64(k)), w)
    return table, n


@kernel
def _count_chars(data, chunk_offsets, weights, c_lo, c_hi, table, n):  # pragma: no cover
    """Count every multi-byte UTF-8 character of chunks ``c_lo..c_hi-1`` (a lead byte and
    its continuation bytes) into a piece table holding ``n`` pieces, each chunk
    ``weights[c]`` times; returns ``(table, n)``, grown if it had to."""
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        w = np.uint64(weights[c])
        for i in range(lo, hi):
            if data[i] < 0xC0:  # ASCII (a single byte is always a piece) or a continuation
                continue
            j = i + 1
            while j < hi and data[j] >= 0x80 and data[j] < 0xC0:
                j += 1
            if n + 1 > table.shape[0] * MAX_LOAD:
                table = _piece_grown(table, data, table.shape[0] * 2)
            n += _piece_add(table, data, i, j - i, _hash_bytes(data, i, j - i), w)
    return table, n


@kernel
def _piece_count(table, data, start, length, h):  # pragma: no cover - compiled
    """The count of the piece ``data[start:start + length]`` (hash ``h``) in a piece table,
    0 if absent."""
    cap = table.shape[0]
    j = _home(h, cap)
    tag = h & _LOW8
    while True:
        word = table[j, 0]
        if word == EMPTY:
            return np.uint64(0)
        if (word & _LOW8) == tag:
            pos, n = _piece_span(word)
            if n == length:
                same = True
                for t in range(length):
                    if data[pos + t] != data[start + t]:
                        same = False
                        break
                if same:
                    return table[j, 1]
        j += 1
        if j == cap:
            j = 0


@kernel
def _raise_frequent(
    data, chunk_offsets, c_lo, c_hi, maxlen, fnv, k, table, min_count
):  # pragma: no cover - compiled
    """Set ``maxlen[i] = k`` where the ``k``-gram at ``i`` (counted by
    :func:`_count_extensions`, which advanced ``fnv``) is seen at least ``min_count`` times;
    returns how many bytes were raised."""
    need = k - 1
    raised = 0
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        for i in range(lo, hi - k + 1):
            if maxlen[i] >= need and maxlen[i + 1] >= need:
                h = _mix64(fnv[i] ^ np.uint64(k))
                if _piece_count(table, data, i, k, h) >= min_count:
                    maxlen[i] = k
                    raised += 1
    return raised


@kernel
def _expected_counts(
    data, chunk_offsets, weights, c_lo, c_hi, cells, value, logp, out
):  # pragma: no cover - compiled
    """E-step over chunks ``c_lo..c_hi-1``: add each piece's expected count (the summed edge
    marginals of every chunk's lattice under ``p(seg) ∝ exp(sum logp)``, times the chunk's
    weight) to ``out`` (int64[n_ids], fixed point, see ``FIXED``); returns the chunks'
    weighted log-likelihood (nats)."""
    total = 0.0
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        if hi == lo:
            continue
        starts, ends, ids = _lattice_edges(data[lo:hi], cells, value)
        scores = np.empty(ids.shape[0])
        for e in range(ids.shape[0]):
            scores[e] = logp[ids[e]]
        fwd, bwd = _forward_backward(hi - lo, starts, ends, scores)
        z = fwd[hi - lo]
        total += z * weights[c]
        for e in range(ids.shape[0]):
            m = fwd[starts[e]] + scores[e] + bwd[ends[e]] - z
            if m > -40.0:
                out[ids[e]] += np.int64(np.exp(m) * FIXED + 0.5) * weights[c]
    return total


@kernel
def _alternatives(flat, offsets, own, cells, value, logp):  # pragma: no cover - compiled
    """For each piece ``flat[offsets[p]:offsets[p + 1]]`` (id ``own[p]``), the best total
    ``logp`` of a segmentation of its bytes that does not use the piece itself
    (float64[n_pieces]; ``-inf`` if there is none)."""
    m = offsets.shape[0] - 1
    out = np.full(m, -np.inf)
    for p in range(m):
        lo = offsets[p]
        hi = offsets[p + 1]
        n = hi - lo
        starts, ends, ids = _lattice_edges(flat[lo:hi], cells, value)
        best = np.full(n + 1, -np.inf)
        best[0] = 0.0
        for e in range(ids.shape[0]):  # sorted by start: best[start] is final here
            if starts[e] == 0 and ends[e] == n and ids[e] == own[p]:
                continue
            score = best[starts[e]] + logp[ids[e]]
            if score > best[ends[e]]:
                best[ends[e]] = score
        out[p] = best[n]
    return out
