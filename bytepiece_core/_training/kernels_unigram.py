"""Kernels of the refined trainer (``refine``): count candidate substrings a length at a
time, the E-step of the unigram model's EM over the corpus lattice, and each piece's best
alternative segmentation.

Arrays are those of ``kernels_ngram`` (corpus), ``hashtable`` (piece tables) and
``_kernels_segment`` (the vocabulary's trie ``cells``/``value``, scores ``logp`` by id), and:

    weights : int64[n_chunks]      how often each (distinct) chunk occurs in the corpus
    maxlen  : uint8[n_bytes + 1]   the longest frequent substring starting at each byte so far

Expected counts are summed in fixed point, ``round(marginal * FIXED)`` as int64, so partial
sums from any number of threads add up to the same integers: the model does not depend on the
number of workers.
"""

from __future__ import annotations

import numpy as np

from .._kernels_lattice import _lattice_edges
from .._mix import _mix64
from .._numba import kernel, kernel_inline
from .hashtable import (
    EMPTY,
    MAX_LOAD,
    _add,
    _find,
    _grown,
    _hash_bytes,
    _hll_add,
    _part,
    _piece_add,
    _piece_get,
    _piece_grown,
)

__all__ = ["FIXED", "PACKED"]

# Fixed-point scale of expected counts: 2**24 steps per occurrence.
FIXED = float(1 << 24)
# Longest k-gram counted with packed keys (its bytes in a uint64).
PACKED = 8


@kernel_inline
def _packed_key(data, i, k):  # pragma: no cover - compiled
    """The ``k`` bytes (``k <= 8``) at ``data[i]`` packed big-endian into a uint64."""
    key = np.uint64(0)
    for t in range(i, i + k):
        key = (key << np.uint64(8)) | np.uint64(data[t])
    return key


@kernel_inline
def _count_key(table, n, key, w, part, parts):  # pragma: no cover - compiled
    """Count the packed ``key`` ``w`` times into the n-gram ``table`` holding ``n`` keys if
    it is of hash partition ``part`` of ``parts``; returns ``(table, n)``, grown if it had
    to."""
    if parts > 1 and _part(_mix64(key), parts) != part:
        return table, n
    if n + 1 > table.shape[0] * MAX_LOAD:
        table = _grown(table, table.shape[0] * 2)
    return table, n + _add(table, key, w)


@kernel_inline
def _raise_key(table, maxlen, i, k, key, part, parts, min_count):  # pragma: no cover
    """``maxlen[i] = k`` if the packed ``key`` (the ``k``-gram at ``i``), of hash partition
    ``part``, is seen at least ``min_count`` times in ``table``."""
    if parts > 1 and _part(_mix64(key), parts) != part:
        return
    j = _find(table, key)
    if j >= 0 and table[j, 1] >= min_count:
        maxlen[i] = k


@kernel_inline
def _count_span(table, n, data, i, k, w, part, parts):  # pragma: no cover - compiled
    """As :func:`_count_key` for the ``k`` bytes at ``data[i]``, into a piece table."""
    h = _hash_bytes(data, i, k)
    if parts > 1 and _part(h, parts) != part:
        return table, n
    if n + 1 > table.shape[0] * MAX_LOAD:
        table = _piece_grown(table, data, table.shape[0] * 2)
    return table, n + _piece_add(table, data, i, k, h, w)


@kernel_inline
def _raise_span(table, maxlen, data, i, k, part, parts, min_count):  # pragma: no cover
    """As :func:`_raise_key` for the ``k`` bytes at ``data[i]``, in a piece table."""
    h = _hash_bytes(data, i, k)
    if parts > 1 and _part(h, parts) != part:
        return
    if _piece_get(table, data, i, k, h) >= min_count:
        maxlen[i] = k


@kernel
def _count_packed(
    data, chunk_offsets, weights, c_lo, c_hi, maxlen, k, part, parts, table, n
):  # pragma: no cover - compiled
    """Count the ``k``-grams (``2 <= k <= 8``) of chunks ``c_lo..c_hi-1`` whose two
    ``(k-1)``-grams are frequent (``maxlen`` at ``i`` and ``i + 1`` at least ``k - 1``) into
    an n-gram table (key: the bytes packed big-endian) holding ``n`` keys, each chunk
    ``weights[c]`` times; returns ``(table, n)``, grown if it had to.

    Apriori: a frequent ``k``-gram has both its ``(k-1)``-grams frequent, so its count is
    exact, while most rare ones are never stored. The key rolls along the chunk. Only the
    keys of hash partition ``part`` of ``parts`` are counted (``hashtable._part``), so each
    thread can count its own keys into its own table, with nothing to merge.
    """
    need = k - 1
    mask = EMPTY >> np.uint64(64 - 8 * k)
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        w = np.uint64(weights[c])
        roll = np.uint64(0)
        for t in range(lo, min(lo + k - 1, hi)):
            roll = (roll << np.uint64(8)) | np.uint64(data[t])
        for i in range(lo, hi - k + 1):
            roll = ((roll << np.uint64(8)) | np.uint64(data[i + k - 1])) & mask
            if maxlen[i] >= need and maxlen[i + 1] >= need:
                table, n = _count_key(table, n, roll, w, part, parts)
    return table, n


@kernel
def _raise_packed(
    data, chunk_offsets, c_lo, c_hi, maxlen, k, part, parts, table, min_count
):  # pragma: no cover - compiled
    """Set ``maxlen[i] = k`` where the ``k``-gram at ``i`` of hash partition ``part`` (counted
    by :func:`_count_packed` into ``table``) is seen at least ``min_count`` times."""
    need = k - 1
    mask = EMPTY >> np.uint64(64 - 8 * k)
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        roll = np.uint64(0)
        for t in range(lo, min(lo + k - 1, hi)):
            roll = (roll << np.uint64(8)) | np.uint64(data[t])
        for i in range(lo, hi - k + 1):
            roll = ((roll << np.uint64(8)) | np.uint64(data[i + k - 1])) & mask
            if maxlen[i] >= need and maxlen[i + 1] >= need:
                _raise_key(table, maxlen, i, k, roll, part, parts, min_count)


@kernel
def _count_extensions(
    data, chunk_offsets, weights, c_lo, c_hi, maxlen, k, part, parts, table, n
):  # pragma: no cover - compiled
    """As :func:`_count_packed` for any ``k``, into a piece table (the piece is its first
    occurrence in ``data``; equal pieces are found by hash, then bytes)."""
    need = k - 1
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        w = np.uint64(weights[c])
        for i in range(lo, hi - k + 1):
            if maxlen[i] >= need and maxlen[i + 1] >= need:
                table, n = _count_span(table, n, data, i, k, w, part, parts)
    return table, n


@kernel
def _sketch_length(data, chunk_offsets, maxlen, k, registers):  # pragma: no cover - compiled
    """Record in the HyperLogLog ``registers`` (uint8[2**HLL_BITS]) every ``k``-gram that
    :func:`_count_packed` or :func:`_count_extensions` would count (both its ``(k-1)``-grams
    frequent), to size the tables of a memory budget."""
    need = k - 1
    for c in range(chunk_offsets.shape[0] - 1):
        for i in range(chunk_offsets[c], chunk_offsets[c + 1] - k + 1):
            if maxlen[i] >= need and maxlen[i + 1] >= need:
                _hll_add(registers, _hash_bytes(data, i, k))


@kernel
def _sketch_at(data, pos, k, registers):  # pragma: no cover - compiled
    """:func:`_sketch_length` at the byte positions ``pos`` only (as :func:`_count_at`)."""
    for idx in range(pos.shape[0]):
        _hll_add(registers, _hash_bytes(data, pos[idx], k))


@kernel
def _count_at(data, pos, weights, k, packed, part, parts, table, n):  # pragma: no cover
    """:func:`_count_packed` (``packed``: an n-gram table) or :func:`_count_extensions` (a
    piece table) at the byte positions ``pos`` only, each ``weights[p]`` times: positions
    where both ``(k-1)``-grams are frequent, listed once few are left (the rest of the corpus
    is not read)."""
    for idx in range(pos.shape[0]):
        i = pos[idx]
        w = np.uint64(weights[idx])
        if packed:
            table, n = _count_key(table, n, _packed_key(data, i, k), w, part, parts)
        else:
            table, n = _count_span(table, n, data, i, k, w, part, parts)
    return table, n


@kernel
def _raise_at(data, pos, maxlen, k, packed, part, parts, table, min_count):  # pragma: no cover
    """:func:`_raise_packed` or :func:`_raise_frequent` at the positions ``pos`` only."""
    for idx in range(pos.shape[0]):
        i = pos[idx]
        if packed:
            _raise_key(table, maxlen, i, k, _packed_key(data, i, k), part, parts, min_count)
        else:
            _raise_span(table, maxlen, data, i, k, part, parts, min_count)


@kernel
def _chunk_hashes(data, chunk_offsets):  # pragma: no cover - compiled
    """uint64[n_chunks]: a hash of each chunk's bytes (``hashtable._hash_bytes``)."""
    n = chunk_offsets.shape[0] - 1
    out = np.empty(n, np.uint64)
    for c in range(n):
        out[c] = _hash_bytes(data, chunk_offsets[c], chunk_offsets[c + 1] - chunk_offsets[c])
    return out


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
def _raise_frequent(
    data, chunk_offsets, c_lo, c_hi, maxlen, k, part, parts, table, min_count
):  # pragma: no cover - compiled
    """Set ``maxlen[i] = k`` where the ``k``-gram at ``i`` (counted by
    :func:`_count_extensions`) is seen at least ``min_count`` times."""
    need = k - 1
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        for i in range(lo, hi - k + 1):
            if maxlen[i] >= need and maxlen[i + 1] >= need:
                _raise_span(table, maxlen, data, i, k, part, parts, min_count)


@kernel
def _whole_utf8(flat, offsets):  # pragma: no cover - compiled
    """bool[n]: whether each string ``flat[offsets[p]:offsets[p + 1]]`` is whole UTF-8
    characters (of a valid UTF-8 text: it starts and ends on a character boundary)."""
    m = offsets.shape[0] - 1
    out = np.zeros(m, np.bool_)
    for p in range(m):
        i = offsets[p]
        hi = offsets[p + 1]
        ok = True
        while i < hi:
            lead = flat[i]
            if lead < 0x80:
                width = 1
            elif lead >= 0xF0:
                width = 4
            elif lead >= 0xE0:
                width = 3
            elif lead >= 0xC0:
                width = 2
            else:  # a continuation byte where a character should start
                ok = False
                break
            i += width
        out[p] = ok and i == hi
    return out


@kernel
def _char_prefix(flat, offsets):  # pragma: no cover - compiled
    """bool[n]: whether each string ``flat[offsets[p]:offsets[p + 1]]`` is the first bytes of
    one character, at least 2 and not all of them (``e4 b8`` of ``e4 b8 a7``)."""
    m = offsets.shape[0] - 1
    out = np.zeros(m, np.bool_)
    for p in range(m):
        i = offsets[p]
        n = offsets[p + 1] - i
        lead = flat[i] if n > 0 else 0
        width = 4 if lead >= 0xF0 else 3 if lead >= 0xE0 else 2 if lead >= 0xC0 else 1
        ok = 2 <= n < width
        for t in range(1, n):
            if flat[i + t] < 0x80 or flat[i + t] >= 0xC0:
                ok = False
        out[p] = ok
    return out


# The E-step sums paths in probabilities, not logs (no exp or log per edge): a sum is kept as
# a float times SCALE to an integer power, its frame, brought back into [1 / SCALE, SCALE]
# when the sum is final (SCALE is a power of two: rescaling is exact).
SCALE = float(2**256)
# Least edge marginal counted (e^-40, as the lattice's log-space sums would cut it).
LEAST_MARGINAL = float(np.exp(-40.0))


@kernel
def _to_frame(x, frame):  # pragma: no cover - compiled
    """``(x', frame')`` with ``x * SCALE**frame == x' * SCALE**frame'`` and ``x'`` in
    ``[1 / SCALE, SCALE]`` (0 stays 0)."""
    if x == 0.0:
        return x, frame
    while x > SCALE:
        x /= SCALE
        frame += 1
    while x < 1.0 / SCALE:
        x *= SCALE
        frame -= 1
    return x, frame


@kernel
def _in_frame(x, d):  # pragma: no cover - compiled
    """``x * SCALE**d``."""
    while d > 0:
        x *= SCALE
        d -= 1
    while d < 0:
        x /= SCALE
        d += 1
    return x


@kernel
def _expected_counts(
    data, chunk_offsets, weights, c_lo, c_hi, cells, pairs, value, prob, longest_piece, out
):  # pragma: no cover - compiled
    """E-step over chunks ``c_lo..c_hi-1``: add each piece's expected count (the summed edge
    marginals of every chunk's lattice under ``p(seg) ∝ prod prob``, times the chunk's
    weight) to ``out`` (int64[n_ids], fixed point, see ``FIXED``); returns the chunks'
    weighted log-likelihood (nats). ``prob`` is each id's probability (``exp(logp)``),
    ``longest_piece`` the longest piece's bytes; ``cells``, ``pairs``, ``value`` the trie.

    A training chunk is one tokenization chunk (it ends at its newline run), so its lattice
    is the one ``Tokenizer.lattice`` builds. The trie is walked as the tokenizer's Viterbi
    walks it (``_kernels_segment._relax_best``), the forward sums taken on the way and the
    edges kept (end, id, probability; their starts in ``first``) for the backward sums and
    the marginals. The sums are those of ``_kernels_lattice._forward_backward`` in
    probabilities, each a float and a frame (``SCALE``), in buffers reused from chunk to chunk.
    """
    longest = 1
    for c in range(c_lo, c_hi):
        longest = max(longest, chunk_offsets[c + 1] - chunk_offsets[c])
    fwd = np.empty(longest + 1)
    bwd = np.empty(longest + 1)
    f_frame = np.empty(longest + 1, np.int64)
    b_frame = np.empty(longest + 1, np.int64)
    first = np.empty(longest + 1, np.int64)
    cap = 4 * longest + longest_piece + 16
    ends = np.empty(cap, np.int32)
    ids = np.empty(cap, np.int32)
    p = np.empty(cap)
    root_base = cells[0].base
    log_scale = np.log(SCALE)
    total = 0.0
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        n = chunk_offsets[c + 1] - lo
        if n == 0:
            continue
        fwd[: n + 1] = 0.0
        f_frame[: n + 1] = 0
        fwd[0] = 1.0
        m = 0
        # forward, walking the trie from each byte: fwd[i] is final when the walk leaves i
        for i in range(n):
            if m + longest_piece > ends.shape[0]:  # room for every piece from i
                ends = np.concatenate((ends, np.empty_like(ends)))
                ids = np.concatenate((ids, np.empty_like(ids)))
                p = np.concatenate((p, np.empty_like(p)))
            first[i] = m
            here, frame = _to_frame(fwd[i], f_frame[i])
            fwd[i] = here
            f_frame[i] = frame
            b = np.int32(data[lo + i])
            t = np.uint32(root_base + b)  # every byte is a piece
            j = i + 1
            piece = True
            while True:
                if piece:
                    t_id = value[t]
                    q = prob[t_id]
                    ends[m] = j
                    ids[m] = t_id
                    p[m] = q
                    m += 1
                    x = here * q
                    if fwd[j] == 0.0:
                        fwd[j] = x
                        f_frame[j] = frame
                    elif f_frame[j] == frame:
                        fwd[j] += x
                    else:
                        fwd[j] += _in_frame(x, frame - f_frame[j])
                if j >= n:
                    break
                if j == i + 1:  # the second byte: one read of ``pairs``
                    t = np.uint32(pairs[b * 256 + np.int32(data[lo + j])])
                else:
                    node = t
                    t = np.uint32(cells[t].base + np.int32(data[lo + j]))
                    if cells[t].check != np.int32(node):
                        break
                # (the free last cell, where no piece starts so, has no piece and no child)
                piece = cells[t].logp != -np.inf
                j += 1
        first[n] = m
        fwd[n], f_frame[n] = _to_frame(fwd[n], f_frame[n])
        z = fwd[n]
        if z == 0.0:  # no path (not with every byte a piece)
            total += -np.inf
            continue
        total += (np.log(z) + f_frame[n] * log_scale) * weights[c]
        # backward: bwd[j] is final for every j > i
        bwd[: n + 1] = 0.0
        b_frame[: n + 1] = 0
        bwd[n] = 1.0
        for i in range(n - 1, -1, -1):
            acc = 0.0
            frame = 0
            for e in range(first[i], first[i + 1]):
                t = ends[e]
                x = p[e] * bwd[t]
                if acc == 0.0:
                    acc = x
                    frame = b_frame[t]
                elif b_frame[t] == frame:
                    acc += x
                else:
                    acc += _in_frame(x, b_frame[t] - frame)
            bwd[i], b_frame[i] = _to_frame(acc, frame)
        inv = 1.0 / z
        w = weights[c]
        for i in range(n):
            here = fwd[i] * inv
            frame = f_frame[i] - f_frame[n]
            for e in range(first[i], first[i + 1]):
                t = ends[e]
                x = here * p[e] * bwd[t]
                d = frame + b_frame[t]
                if d != 0:
                    x = _in_frame(x, d)
                if x > LEAST_MARGINAL:
                    out[ids[e]] += np.int64(x * FIXED + 0.5) * w
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
