"""Byte n-gram counting kernels (ALGORITHM.md 2.1-2.2), one n-gram length at a time.

The corpus is held as flat arrays shared by every kernel:

    data          : uint8[n_bytes]      UTF-8 bytes of all training chunks, concatenated
    chunk_offsets : int64[n_chunks + 1] chunk ``c`` is ``data[offsets[c]:offsets[c + 1]]``
    maxlen        : uint8[n_bytes // 2 + 1]  longest *kept* n-gram starting at each byte, two
                    4-bit values a byte (byte ``i`` in the low half of ``maxlen[i // 2]`` if ``i``
                    is even); uint8[n_bytes + 1], one a byte, when the order is over 15. Read and
                    write it with :func:`_ml_get` / :func:`_ml_set` (``shift`` = 1 or 0).

**Counting order by order (apriori).** An n-gram of length ``k`` with count ``>= min_count``
has its ``(k-1)``-prefix and ``(k-1)``-suffix at least that frequent, so the pass for length
``k`` only counts the n-grams starting at ``i`` with ``maxlen[i] >= k-1`` and
``maxlen[i+1] >= k-1`` (both sub-n-grams kept). Every occurrence of a frequent n-gram passes
that test, so its count is exact, while the rare ones, most of the distinct n-grams, are never
stored. Once length ``k`` is pruned, :func:`_raise_maxlen` sets ``maxlen[i] = k`` where the
``k``-gram at ``i`` was kept. ``maxlen`` starts at 1 (single bytes are always kept).

**Keys.** An n-gram of length ``k <= 8`` is its bytes packed big-endian in a ``uint64``
(one table per length, so the length need not be stored). A longer one is
``slot(prefix) << 8 | last byte``, with ``slot(prefix)`` the slot of its ``(k-1)``-prefix in the
model table of length ``k - 1``: a hashed context tree, exact for any order.

**The model** of the kept n-grams: lengths 1 and 2 in direct arrays, longer ones in hash
tables (``hashtable``) whose values are log-probability bits, one after another in one array:

    uni  : float64[256]          log-probability of each byte
    bi   : float64[65536]        of each byte pair ``a * 256 + b`` (``-inf`` where pruned)
    mtab : uint64[n_slots, 2]    the tables of lengths 3..order, one after another
    mval : float64[n_slots, 2]   the same memory seen as float64 (``mval[j, 1]`` = log-prob)
    meta : int64[order + 1, 2]   for length ``k >= 3``: first slot and number of slots
"""

from __future__ import annotations

import numpy as np

from .._mix import _mix64
from .._mmap import big_array
from .._numba import kernel
from .hashtable import (
    EMPTY,
    MAX_LOAD,
    _add,
    _find,
    _grown,
    _hll_add,
    _home,
    _part,
)

# Longest n-gram whose bytes are packed into a uint64 key.
PACKED = 8

_U8 = np.uint64(8)
_ONE = np.uint64(1)


@kernel
def _mfind(mtab, meta, k, key):  # pragma: no cover - compiled
    """Slot (within length ``k``'s table) of the kept ``k``-gram ``key`` (``k >= 3``), or -1."""
    base = meta[k, 0]
    cap = meta[k, 1]
    j = _home(_mix64(key), cap)
    while True:
        found = mtab[base + j, 0]
        if found == key:
            return j
        if found == EMPTY:
            return -1
        j += 1
        if j == cap:
            j = 0


# Highest order whose ``maxlen`` values fit in 4 bits, two to a byte.
NIBBLE_ORDER = 15


def maxlen_layout(n_bytes: int, order: int) -> tuple[int, int, int]:
    """``(size, fill, shift)`` of ``maxlen`` for ``n_bytes`` of corpus and n-grams up to
    ``order``: its bytes, the byte value setting every corpus byte to 1, and the shift from a
    corpus byte's index to its ``maxlen`` byte (as ``_ml_shift``)."""
    if order <= NIBBLE_ORDER:
        return n_bytes // 2 + 1, 0x11, 1
    return n_bytes + 1, 1, 0


def maxlen_array(n_bytes: int, order: int) -> np.ndarray:
    """A fresh ``maxlen`` (every byte at 1) for ``n_bytes`` of corpus, n-grams up to ``order``."""
    size, fill, _ = maxlen_layout(n_bytes, order)
    out = big_array(size, np.uint8)
    out.fill(fill)
    return out


@kernel
def _ml_shift(data, maxlen):  # pragma: no cover - compiled
    """1 if ``maxlen`` holds two values a byte, 0 if one (it is longer than ``data`` then)."""
    return 0 if maxlen.shape[0] > data.shape[0] else 1


@kernel
def _ml_get(maxlen, shift, i):  # pragma: no cover - compiled
    """``maxlen`` of byte ``i``."""
    return (np.int64(maxlen[i >> shift]) >> ((i & shift) << 2)) & (15 if shift else 255)


@kernel
def _ml_set(maxlen, shift, i, value):  # pragma: no cover - compiled
    """Set ``maxlen`` of byte ``i`` (the other half of a shared byte is kept)."""
    if shift:
        q = i >> 1
        half = (i & 1) << 2
        maxlen[q] = (maxlen[q] & (0xF0 >> half)) | (value << half)
    else:
        maxlen[i] = value


@kernel
def _ngram_key(data, i, k, mtab, meta):  # pragma: no cover - compiled
    """Key of the ``k``-gram ``data[i:i + k]``; for ``k > 8`` its prefixes of length 8..k-1
    must be in the model ``mtab``/``meta``."""
    key = np.uint64(0)
    for t in range(min(k, PACKED)):
        key = (key << _U8) | np.uint64(data[i + t])
    for m in range(PACKED + 1, k + 1):
        j = _mfind(mtab, meta, m - 1, key)
        key = (np.uint64(j) << _U8) | np.uint64(data[i + m - 1])
    return key


@kernel
def _count_pairs(data, chunk_offsets, c_lo, c_hi, counts1, counts2):  # pragma: no cover
    """Count single bytes and byte pairs of chunks ``c_lo..c_hi-1`` into direct arrays.

    counts1 : int64[256]    ``counts1[b]`` += occurrences of byte ``b``
    counts2 : int64[65536]  ``counts2[a * 256 + b]`` += occurrences of the pair ``ab``
    """
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        for i in range(lo, hi):
            counts1[data[i]] += 1
        for i in range(lo, hi - 1):
            counts2[np.int64(data[i]) * 256 + np.int64(data[i + 1])] += 1


@kernel
def _mask(k):  # pragma: no cover - compiled
    """Low ``8 * min(k, 8)`` bits set: keeps a rolling packed key to its last ``k`` bytes."""
    return EMPTY >> np.uint64(64 - 8 * min(k, PACKED))


@kernel
def _count_order(data, chunk_offsets, c_lo, c_hi, maxlen, k, mtab, meta, table, n, part, n_parts):
    """Count the candidate ``k``-grams (``k >= 3``) of chunks ``c_lo..c_hi-1`` into ``table``
    (an n-gram table holding ``n`` keys); returns ``(table, n)``, grown if it had to.

    Only the keys of hash partition ``part`` of ``n_parts`` are counted (``hashtable._part``;
    ``n_parts = 1`` counts all): the partitions of a length have disjoint keys, so counting
    them in turn gives every count exactly with a table a fraction of the size.
    A packed key (``k <= 8``) rolls along the chunk: one shift per byte.
    """  # pragma: no cover - compiled
    need = k - 1
    mask = _mask(k)
    shift = _ml_shift(data, maxlen)
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        roll = np.uint64(0)
        for t in range(lo, min(lo + k - 1, hi)):
            roll = (roll << _U8) | np.uint64(data[t])
        for i in range(lo, hi - k + 1):
            roll = ((roll << _U8) | np.uint64(data[i + k - 1])) & mask
            if _ml_get(maxlen, shift, i) >= need and _ml_get(maxlen, shift, i + 1) >= need:
                key = roll if k <= PACKED else _ngram_key(data, i, k, mtab, meta)
                if n_parts > 1 and _part(_mix64(key), n_parts) != part:
                    continue
                if n + 1 > table.shape[0] * MAX_LOAD:
                    table = _grown(table, table.shape[0] * 2)
                n += _add(table, key, _ONE)
    return table, n


@kernel
def _raise_maxlen(data, chunk_offsets, c_lo, c_hi, maxlen, k, mtab, meta, kept, registers):
    """Raise ``maxlen`` of byte ``i`` to ``k`` where the ``k``-gram at ``i`` is in ``kept``
    (the model table of length ``k``; ``mtab``/``meta`` hold lengths 3..k-1), and record the
    candidate ``(k+1)``-grams in the HyperLogLog ``registers`` (uint8[2**HLL_BITS], or empty
    to skip), which sizes the next counting table. Returns how many bytes were raised.

    The candidate starting at ``i - 1`` is decided once ``maxlen`` of ``i`` is final, one step
    late. Ranges of chunks never write the same byte of ``maxlen``: the last byte of a chunk is
    never raised (no ``k``-gram, ``k >= 2``, starts there), so of the two values sharing a byte
    across a range boundary only one is ever written.
    """  # pragma: no cover - compiled
    need = k - 1
    mask = _mask(k)
    sketch = registers.shape[0] > 0
    shift = _ml_shift(data, maxlen)
    raised = 0
    for c in range(c_lo, c_hi):
        lo = chunk_offsets[c]
        hi = chunk_offsets[c + 1]
        roll = np.uint64(0)
        for t in range(lo, min(lo + k - 1, hi)):
            roll = (roll << _U8) | np.uint64(data[t])
        for i in range(lo, hi - k + 1):
            before = roll
            roll = ((roll << _U8) | np.uint64(data[i + k - 1])) & mask
            here = _ml_get(maxlen, shift, i)
            if here == need and _ml_get(maxlen, shift, i + 1) >= need:
                key = roll if k <= PACKED else _ngram_key(data, i, k, mtab, meta)
                if _find(kept, key) >= 0:
                    _ml_set(maxlen, shift, i, k)
                    here = k
                    raised += 1
            if sketch and i > lo and here >= k and _ml_get(maxlen, shift, i - 1) >= k:
                # the (k+1)-gram at i - 1: its k-prefix at i - 1, then byte i + k - 1
                last = np.uint64(data[i + k - 1])
                if k + 1 <= PACKED:
                    key = (np.uint64(data[i - 1]) << np.uint64(8 * k)) | roll
                else:
                    prefix = before if k <= PACKED else _ngram_key(data, i - 1, k, mtab, meta)
                    key = (np.uint64(_find(kept, prefix)) << _U8) | last
                _hll_add(registers, _mix64(key))
    return raised
