"""Open-addressing hash tables over flat arrays: the trainer's n-gram and piece counters.

A table is one array ``uint64[cap, 2]``: slot ``j`` holds a key in ``table[j, 0]`` and its
value in ``table[j, 1]``, so a probe touches one cache line. ``EMPTY`` (all ones) marks a free
slot; it is never a key: n-gram keys never hold the byte 0xFF (UTF-8 text has none) and piece
keys keep their top bits for a corpus offset far below 2**40. The home slot of a hash ``h``
is ``(h >> 32) * cap >> 32`` (any ``cap < 2**32``, no power of two needed), probing linearly.

**n-gram tables**: key = the n-gram's key (``kernels_ngram``), value = its count, or the
bits of its log-probability (the model tables, read through a ``float64`` view).

**Piece tables**: key = ``pos << 24 | length << 8 | tag``: the first occurrence of the piece
in the corpus array ``data`` (its bytes are ``data[pos:pos + length]``, so no arena is needed
while the corpus is in memory), its length (< 65536: training chunks are shorter) and 8 bits
of its hash; value = its count. Equal keys are found by hash, length and then bytes.

Table sizes come from a HyperLogLog estimate of the distinct keys (:func:`_hll_add`), so a
table is allocated once; the growth helpers are the fallback when an estimate falls short.
"""

from __future__ import annotations

import math

import numpy as np

from .._mix import _mix64
from .._mmap import big_array
from .._numba import kernel

EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
# Load of a table past which it grows (linear probing stays short below it).
MAX_LOAD = 0.8
# Registers of the HyperLogLog estimators: 2**12, a standard error of 1.6 %.
HLL_BITS = 12

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_U8 = np.uint64(8)
_U24 = np.uint64(24)
_U32 = np.uint64(32)
_LOW8 = np.uint64(0xFF)
_LOW16 = np.uint64(0xFFFF)
_LOW32 = np.uint64(0xFFFFFFFF)


def new_table(cap: int) -> np.ndarray:
    """An empty table of ``cap`` slots (uint64[cap, 2])."""
    table = big_array((max(int(cap), 8), 2), np.uint64)
    table.fill(EMPTY)
    return table


def capacity_for(n: float, load: float = 0.7) -> int:
    """Slots for ``n`` keys at the given load.

    >>> capacity_for(70)
    100
    """
    return max(8, math.ceil(n / load))


def hll_estimate(registers: np.ndarray) -> float:
    """Distinct keys seen by a HyperLogLog (uint8[2**HLL_BITS] of ranks), with the usual
    small-range correction.

    >>> hll_estimate(np.zeros(4096, np.uint8))
    0.0
    """
    m = registers.shape[0]
    alpha = 0.7213 / (1 + 1.079 / m)
    estimate = alpha * m * m / float(np.sum(np.ldexp(1.0, -registers.astype(np.int64))))
    zeros = int(np.count_nonzero(registers == 0))
    if estimate <= 2.5 * m and zeros:
        estimate = m * math.log(m / zeros)
    return estimate


@kernel
def _hash_bytes(data, start, length):  # pragma: no cover - compiled
    """64-bit hash of ``data[start:start + length]`` (uint8 array): FNV-1a, then mixed."""
    h = _FNV_OFFSET
    for t in range(start, start + length):
        h = (h ^ np.uint64(data[t])) * _FNV_PRIME
    return _mix64(h ^ np.uint64(length))


@kernel
def _home(h, cap):  # pragma: no cover - compiled
    """Home slot of hash ``h`` in a table of ``cap`` slots."""
    return np.int64(((h >> _U32) * np.uint64(cap)) >> _U32)


@kernel
def _part(h, n_parts):  # pragma: no cover - compiled
    """Partition (``0..n_parts-1``) of hash ``h``: from its bits 8..39, which neither the home
    slot (the top 32 bits) nor a piece key's tag (the low 8) use, so a partition's keys still
    spread over its whole table."""
    return np.int64((((h >> _U8) & _LOW32) * np.uint64(n_parts)) >> _U32)


@kernel
def _hll_add(registers, h):  # pragma: no cover - compiled
    """Record hash ``h`` in the HyperLogLog ``registers`` (uint8[2**HLL_BITS])."""
    index = np.int64(h >> np.uint64(64 - HLL_BITS))
    rest = h << np.uint64(HLL_BITS)
    rank = 1
    while rank <= 64 - HLL_BITS and (rest >> np.uint64(63)) == 0:
        rest = rest << np.uint64(1)
        rank += 1
    if rank > registers[index]:
        registers[index] = rank


# -- n-gram tables ------------------------------------------------------------------------------


@kernel
def _find(table, key):  # pragma: no cover - compiled
    """Slot of ``key`` in ``table``, or -1."""
    cap = table.shape[0]
    j = _home(_mix64(key), cap)
    while True:
        k = table[j, 0]
        if k == key:
            return j
        if k == EMPTY:
            return -1
        j += 1
        if j == cap:
            j = 0


@kernel
def _add(table, key, add):  # pragma: no cover - compiled
    """Add ``add`` to the value of ``key``, inserting it (value ``add``); returns 1 if new.

    The table must have a free slot.
    """
    cap = table.shape[0]
    j = _home(_mix64(key), cap)
    while True:
        k = table[j, 0]
        if k == key:
            table[j, 1] += add
            return 0
        if k == EMPTY:
            table[j, 0] = key
            table[j, 1] = add
            return 1
        j += 1
        if j == cap:
            j = 0


@kernel
def _grown(table, cap):  # pragma: no cover - compiled
    """A copy of an n-gram table with ``cap`` slots (keys re-placed, values kept)."""
    out = np.full((cap, 2), EMPTY, np.uint64)
    for j in range(table.shape[0]):
        if table[j, 0] != EMPTY:
            _add(out, table[j, 0], table[j, 1])
    return out


@kernel
def _merge(table, n, other):  # pragma: no cover - compiled
    """Add the entries of n-gram table ``other`` into ``table`` (holding ``n`` keys).

    Returns ``(table, n)``, grown as needed.
    """
    for j in range(other.shape[0]):
        if other[j, 0] != EMPTY:
            if n + 1 > table.shape[0] * MAX_LOAD:
                table = _grown(table, table.shape[0] * 2)
            n += _add(table, other[j, 0], other[j, 1])
    return table, n


@kernel
def _find_many(table, keys):  # pragma: no cover - compiled
    """Slot of every key of ``keys`` (uint64[q]) in ``table``; int64[q], -1 where absent."""
    out = np.empty(keys.shape[0], np.int64)
    for t in range(keys.shape[0]):
        out[t] = _find(table, keys[t])
    return out


@kernel
def _entries(table, min_value):  # pragma: no cover - compiled
    """Keys and values (uint64[n] each) of the entries whose value is ``>= min_value``,
    in slot order."""
    n = 0
    for j in range(table.shape[0]):
        if table[j, 0] != EMPTY and table[j, 1] >= min_value:
            n += 1
    keys = np.empty(n, np.uint64)
    values = np.empty(n, np.uint64)
    n = 0
    for j in range(table.shape[0]):
        if table[j, 0] != EMPTY and table[j, 1] >= min_value:
            keys[n] = table[j, 0]
            values[n] = table[j, 1]
            n += 1
    return keys, values


@kernel
def _build(table, keys, values):  # pragma: no cover - compiled
    """Insert ``keys[i] -> values[i]`` (uint64[n] each, keys distinct) into an empty ``table``
    with room for them; returns the slot of each key (int64[n])."""
    slots = np.empty(keys.shape[0], np.int64)
    for i in range(keys.shape[0]):
        _add(table, keys[i], values[i])
        slots[i] = _find(table, keys[i])
    return slots


# -- piece tables ------------------------------------------------------------------------------


@kernel
def _piece_key(pos, length, h):  # pragma: no cover - compiled
    """The key word of a piece: ``pos << 24 | length << 8 | tag``."""
    return (np.uint64(pos) << _U24) | (np.uint64(length) << _U8) | (h & _LOW8)


@kernel
def _piece_span(word):  # pragma: no cover - compiled
    """``(pos, length)`` of a piece key word."""
    return np.int64(word >> _U24), np.int64((word >> _U8) & _LOW16)


@kernel
def _piece_slot(table, data, start, length, h):  # pragma: no cover - compiled
    """The slot of the piece ``data[start:start + length]`` (hash ``h``) in a piece table:
    where it is, or the free slot where it would go (the table must have one)."""
    cap = table.shape[0]
    j = _home(h, cap)
    tag = h & _LOW8
    while True:
        word = table[j, 0]
        if word == EMPTY:
            return j
        if (word & _LOW8) == tag:
            pos, n = _piece_span(word)
            if n == length:
                same = True
                for t in range(length):
                    if data[pos + t] != data[start + t]:
                        same = False
                        break
                if same:
                    return j
        j += 1
        if j == cap:
            j = 0


@kernel
def _piece_add(table, data, start, length, h, add):  # pragma: no cover - compiled
    """Add ``add`` to the count of the piece ``data[start:start + length]`` (hash ``h``).

    A new piece records ``start`` as its first occurrence; a known one keeps the smaller
    offset. The table must have a free slot. Returns 1 if the piece was new.
    """
    j = _piece_slot(table, data, start, length, h)
    if table[j, 0] == EMPTY:
        table[j, 0] = _piece_key(start, length, h)
        table[j, 1] = add
        return 1
    table[j, 1] += add
    if start < _piece_span(table[j, 0])[0]:
        table[j, 0] = _piece_key(start, length, h)
    return 0


@kernel
def _piece_get(table, data, start, length, h):  # pragma: no cover - compiled
    """The count of the piece ``data[start:start + length]`` (hash ``h``) in a piece table,
    0 if absent."""
    j = _piece_slot(table, data, start, length, h)
    return np.uint64(0) if table[j, 0] == EMPTY else table[j, 1]


@kernel
def _piece_grown(table, data, cap):  # pragma: no cover - compiled
    """A copy of a piece table with ``cap`` slots."""
    out = np.full((cap, 2), EMPTY, np.uint64)
    for j in range(table.shape[0]):
        word = table[j, 0]
        if word != EMPTY:
            pos, n = _piece_span(word)
            _piece_add(out, data, pos, n, _hash_bytes(data, pos, n), table[j, 1])
    return out


@kernel
def _piece_merge(table, n, other, data):  # pragma: no cover - compiled
    """Add the pieces of table ``other`` into ``table`` (holding ``n``); returns ``(table, n)``."""
    for j in range(other.shape[0]):
        word = other[j, 0]
        if word != EMPTY:
            if n + 1 > table.shape[0] * MAX_LOAD:
                table = _piece_grown(table, data, table.shape[0] * 2)
            pos, length = _piece_span(word)
            h = _hash_bytes(data, pos, length)
            n += _piece_add(table, data, pos, length, h, other[j, 1])
    return table, n


@kernel
def _piece_entries(table):  # pragma: no cover - compiled
    """``(pos, lens, counts)`` (int64[n] each) of the pieces of a table, in slot order."""
    n = 0
    for j in range(table.shape[0]):
        if table[j, 0] != EMPTY:
            n += 1
    pos = np.empty(n, np.int64)
    lens = np.empty(n, np.int64)
    counts = np.empty(n, np.int64)
    n = 0
    for j in range(table.shape[0]):
        word = table[j, 0]
        if word != EMPTY:
            pos[n], lens[n] = _piece_span(word)
            counts[n] = np.int64(table[j, 1])
            n += 1
    return pos, lens, counts
