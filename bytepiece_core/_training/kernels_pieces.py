"""Candidate-piece kernels: the n-gram-model Viterbi (ALGORITHM.md 2.3) and piece counting.

Corpus and model arrays are those of ``kernels_ngram``; piece tables those of ``hashtable``.
The Viterbi marks where pieces start in a bit array per range of chunks:

    bits : uint8[ceil(n / 8)]   bit ``p - base`` set where a piece starts at corpus byte ``p``
                                (``base`` = first byte of the range, ``n`` its length)

A piece runs from a start to the next start or the chunk end; bytes before a chunk's first
start belong to no piece (as in the reference, although its Viterbi always starts at state 0).

The Viterbi reproduces the reference's NumPy arithmetic exactly. With ``E[i, j]`` the emission
of state ``j`` at byte ``i`` (``logp(chunk[i-j:i+1])``, ``-inf`` if pruned) the reference
computes ``scores[a, b] = (nodes[i-1, a] + trans[a, b]) + nodes[i, b]`` with
``trans[a, b] = 0`` for the allowed moves (``b == 0`` or ``b == min(a + 1, order - 1)``) and
``-inf`` otherwise, then ``argmax`` over ``a`` (the first maximum) and ``max``. Scores are never
``+inf`` or NaN, so an allowed move scores ``nodes[i-1, a] + E[i, b]`` and a forbidden one
``-inf``, and only the allowed ``a`` need computing: all of them for ``b = 0``, ``b - 1`` for
``0 < b < order - 1``, ``order - 2`` and ``order - 1`` for ``b = order - 1``. Index 0 is always
``argmax``'s starting point, so a column with no finite score routes to state 0.
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from .hashtable import MAX_LOAD, _hash_bytes, _hll_add, _part, _piece_add, _piece_grown
from .kernels_ngram import PACKED, _mfind, _ml_get, _ml_shift

_U8 = np.uint64(8)


@kernel
def _emissions(data, lo, hi, maxlen, ensure_unicode, uni, bi, mtab, mval, meta, E):
    """Fill ``E[:hi - lo]`` (float64[>= hi - lo, order]) with the chunk's emission scores.

    ``E[i, j] = logp(data[lo + i - j : lo + i + 1])`` for kept n-grams, ``-inf`` elsewhere;
    with ``ensure_unicode`` state 0 is ``-inf`` on UTF-8 continuation bytes 0x80..0xBF.
    """  # pragma: no cover - compiled
    length = hi - lo
    order = E.shape[1]
    shift = _ml_shift(data, maxlen)
    for i in range(length):
        for j in range(order):
            E[i, j] = -np.inf
    for s in range(length):
        p = lo + s
        m = _ml_get(maxlen, shift, p)
        first = np.uint64(data[p])
        E[s, 0] = uni[data[p]]
        if m < 2:
            continue
        key = (first << _U8) | np.uint64(data[p + 1])
        E[s + 1, 1] = bi[np.int64(key)]
        j = np.int64(-1)
        for k in range(3, m + 1):
            byte = np.uint64(data[p + k - 1])
            if k <= PACKED:
                key = (key << _U8) | byte
            else:
                key = (np.uint64(j) << _U8) | byte
            j = _mfind(mtab, meta, k, key)
            E[s + k - 1, k - 1] = mval[meta[k, 0] + j, 1]
    if ensure_unicode:
        for i in range(length):
            byte = data[lo + i]
            if byte >= 0x80 and byte < 0xC0:
                E[i, 0] = -np.inf


@kernel
def _best_states(E, length, routes, best, states):  # pragma: no cover - compiled
    """Viterbi over the emissions ``E[:length]``; writes the best state of each byte.

    E      : float64[>= length, order]   emissions, overwritten with the running scores
    routes : uint8[>= length, order]     scratch: back-pointers
    best   : float64[order]              scratch
    states : uint8[>= length]            output: state of each byte (0 = a piece starts)
    """
    order = E.shape[1]
    last = order - 1
    for i in range(1, length):
        # b = 0: every state may start a new piece.
        top = E[i - 1, 0] + E[i, 0]
        arg = 0
        for a in range(1, order):
            v = E[i - 1, a] + E[i, 0]
            if v > top:
                top = v
                arg = a
        best[0] = top
        routes[i - 1, 0] = arg
        # 0 < b < last: only from b - 1.
        for b in range(1, last):
            v = E[i - 1, b - 1] + E[i, b]
            if v > -np.inf:
                best[b] = v
                routes[i - 1, b] = b - 1
            else:
                best[b] = -np.inf
                routes[i - 1, b] = 0
        # b = last > 0: from last - 1 or from last itself.
        if last > 0:
            top = E[i - 1, 0] + E[i, last] if last == 1 else -np.inf
            arg = 0
            for a in range(max(1, last - 1), order):
                v = E[i - 1, a] + E[i, last]
                if v > top:
                    top = v
                    arg = a
            best[last] = top
            routes[i - 1, last] = arg
        for b in range(order):
            E[i, b] = best[b]
    state = 0
    for b in range(1, order):
        if E[length - 1, b] > E[length - 1, state]:
            state = b
    states[length - 1] = state
    for i in range(length - 1, 0, -1):
        state = routes[i - 1, state]
        states[i - 1] = state


@kernel
def _viterbi_bits(
    data, chunk_offsets, c_lo, c_hi, maxlen, ensure_unicode, uni, bi, mtab, mval, meta, order
):  # pragma: no cover - compiled
    """Segment chunks ``c_lo..c_hi-1`` with the n-gram model; returns their piece-start bits."""
    base = chunk_offsets[c_lo]
    bits = np.zeros((chunk_offsets[c_hi] - base + 7) // 8, np.uint8)
    longest = 1
    for c in range(c_lo, c_hi):
        longest = max(longest, chunk_offsets[c + 1] - chunk_offsets[c])
    E = np.empty((longest, order), np.float64)
    routes = np.empty((longest, order), np.uint8)
    best = np.empty(order, np.float64)
    states = np.empty(longest, np.uint8)
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        if hi == lo:
            continue
        _emissions(data, lo, hi, maxlen, ensure_unicode, uni, bi, mtab, mval, meta, E)
        _best_states(E, hi - lo, routes, best, states)
        for i in range(hi - lo):
            if states[i] == 0:
                q = lo + i - base
                bits[q >> 3] |= np.uint8(1 << (q & 7))
    return bits


@kernel
def _next_start(bits, q, stop):  # pragma: no cover - compiled
    """First ``q' >= q`` below ``stop`` with its bit set, else ``stop``."""
    while q < stop:
        if bits[q >> 3] == 0 and (q & 7) == 0:
            q += 8
            continue
        if (bits[q >> 3] >> (q & 7)) & 1:
            return q
        q += 1
    return stop


@kernel
def _sketch_pieces(data, chunk_offsets, c_lo, c_hi, bits, registers):  # pragma: no cover
    """Record every piece of chunks ``c_lo..c_hi-1`` (their ``bits``) in a HyperLogLog."""
    base = chunk_offsets[c_lo]
    for c in range(c_lo, c_hi):
        stop = chunk_offsets[c + 1] - base
        q = _next_start(bits, chunk_offsets[c] - base, stop)
        while q < stop:
            nxt = _next_start(bits, q + 1, stop)
            _hll_add(registers, _hash_bytes(data, base + q, nxt - q))
            q = nxt


@kernel
def _count_marked(
    data, chunk_offsets, c_lo, c_hi, bits, table, n, part, n_parts
):  # pragma: no cover
    """Count every piece of chunks ``c_lo..c_hi-1`` (their ``bits``) into a piece table
    holding ``n`` pieces; returns ``(table, n)``, grown if it had to.

    Only the pieces of hash partition ``part`` of ``n_parts`` are counted (as ``_count_order``).
    """
    base = chunk_offsets[c_lo]
    one = np.uint64(1)
    for c in range(c_lo, c_hi):
        stop = chunk_offsets[c + 1] - base
        q = _next_start(bits, chunk_offsets[c] - base, stop)
        while q < stop:
            nxt = _next_start(bits, q + 1, stop)
            h = _hash_bytes(data, base + q, nxt - q)
            if n_parts > 1 and _part(h, n_parts) != part:
                q = nxt
                continue
            if n + 1 > table.shape[0] * MAX_LOAD:
                table = _piece_grown(table, data, table.shape[0] * 2)
            n += _piece_add(table, data, base + q, nxt - q, h, one)
            q = nxt
    return table, n


@kernel
def _gather(data, pos, lens, index):  # pragma: no cover - compiled
    """Concatenate the byte strings ``data[pos[e]:pos[e] + lens[e]]`` for ``e`` in ``index``.

    Returns ``(flat, offsets)``: uint8[total] and int64[len(index) + 1].
    """
    offsets = np.zeros(index.shape[0] + 1, np.int64)
    for t in range(index.shape[0]):
        offsets[t + 1] = offsets[t] + lens[index[t]]
    flat = np.empty(offsets[-1], np.uint8)
    for t in range(index.shape[0]):
        e = index[t]
        flat[offsets[t] : offsets[t + 1]] = data[pos[e] : pos[e] + lens[e]]
    return flat, offsets


@kernel
def _add_token_counts(ids, doc_token_offsets, weights, first_id, out):  # pragma: no cover
    """For each document ``d``, add ``weights[d]`` to ``out[id - first_id]`` for each token.

    ids               : int32[n_tokens]   token ids
    doc_token_offsets : int64[n_docs + 1] document ``d`` owns tokens ``[o[d], o[d + 1])``
    weights           : int64[n_docs]     count of each document (a piece being re-split)
    out               : int64[n_pieces]   accumulated counts
    """
    for d in range(doc_token_offsets.shape[0] - 1):
        w = weights[d]
        for t in range(doc_token_offsets[d], doc_token_offsets[d + 1]):
            out[ids[t] - first_id] += w
