"""The seed a sampling call with ``seed=k`` uses: the first output of NumPy's ``PCG64(k)``.

``np.random.PCG64(k).random_raw()`` costs ~9 µs, most of it building the ``SeedSequence``
object, ten times what sampling a short line costs. :func:`first_draw` computes the same
uint64 in a kernel, following NumPy's algorithm: the ``SeedSequence`` hash of ``k``'s 32-bit
words into a pool of four, four 64-bit words of state drawn from the pool, PCG64 (XSL-RR
output, 128-bit LCG) seeded with them, and one step.

>>> import numpy as np
>>> all(first_draw(k) == int(np.random.PCG64(k).random_raw()) for k in (0, 1, 2**40, 2**64 - 1))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._numba import entry_point, kernel

__all__ = ["first_draw"]

_M32 = np.uint64(0xFFFFFFFF)
# SeedSequence's hash constants (numpy/random/bit_generator.pyx).
_INIT_A = np.uint64(0x43B0D7E5)
_MULT_A = np.uint64(0x931E8875)
_INIT_B = np.uint64(0x8B51F9DD)
_MULT_B = np.uint64(0x58F38DED)
_MIX_MULT_L = np.uint64(0xCA01F9DD)
_MIX_MULT_R = np.uint64(0x4973F715)
_XSHIFT = np.uint64(16)
_POOL = 4
# PCG64's 128-bit multiplier, high and low words.
_PCG_HI = np.uint64(2549297995355413924)
_PCG_LO = np.uint64(4865540595714422341)


@kernel
def _mulhi(x, y):  # pragma: no cover - compiled
    """The high 64 bits of the 128-bit product of two uint64."""
    x0, x1 = x & _M32, x >> np.uint64(32)
    y0, y1 = y & _M32, y >> np.uint64(32)
    p01, p10 = x0 * y1, x1 * y0
    mid = ((x0 * y0) >> np.uint64(32)) + (p01 & _M32) + (p10 & _M32)
    return x1 * y1 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (mid >> np.uint64(32))


@kernel
def _step(hi, lo, inc_hi, inc_lo):  # pragma: no cover - compiled
    """One step of PCG64's LCG on the 128-bit state ``(hi, lo)``: ``state * MULT + inc``."""
    new_hi = _mulhi(lo, _PCG_LO) + hi * _PCG_LO + lo * _PCG_HI
    new_lo = lo * _PCG_LO
    out_lo = new_lo + inc_lo
    carry = np.uint64(1) if out_lo < new_lo else np.uint64(0)
    return new_hi + inc_hi + carry, out_lo


@kernel
def _pcg64_first(seed, n_words):  # pragma: no cover - compiled
    """``PCG64(seed).random_raw()`` for a uint64 ``seed`` of ``n_words`` 32-bit words (1 below
    2**32, else 2: SeedSequence's entropy is the seed's words, low first)."""
    # SeedSequence: hash the entropy into the pool (mix_entropy; no more words than the pool)
    pool = np.zeros(_POOL, np.uint64)
    hash_a = _INIT_A
    for i in range(_POOL):
        value = np.uint64(0)
        if i < n_words:
            value = (seed >> np.uint64(32 * i)) & _M32
        value = (value ^ hash_a) & _M32
        hash_a = (hash_a * _MULT_A) & _M32
        value = (value * hash_a) & _M32
        pool[i] = value ^ (value >> _XSHIFT)
    for i_src in range(_POOL):
        for i_dst in range(_POOL):
            if i_src != i_dst:
                value = (pool[i_src] ^ hash_a) & _M32
                hash_a = (hash_a * _MULT_A) & _M32
                value = (value * hash_a) & _M32
                value ^= value >> _XSHIFT
                mixed = (_MIX_MULT_L * pool[i_dst] - _MIX_MULT_R * value) & _M32
                pool[i_dst] = mixed ^ (mixed >> _XSHIFT)
    # generate_state(4, uint64): eight 32-bit words cycling over the pool, paired low first
    state = np.zeros(4, np.uint64)
    hash_b = _INIT_B
    for i in range(8):
        value = (pool[i % _POOL] ^ hash_b) & _M32
        hash_b = (hash_b * _MULT_B) & _M32
        value = (value * hash_b) & _M32
        value ^= value >> _XSHIFT
        state[i // 2] |= value << np.uint64(32 * (i % 2))
    # pcg64_set_seed: initstate = (state[0], state[1]), initseq = (state[2], state[3])
    inc_hi = (state[2] << np.uint64(1)) | (state[3] >> np.uint64(63))
    inc_lo = (state[3] << np.uint64(1)) | np.uint64(1)
    hi, lo = _step(np.uint64(0), np.uint64(0), inc_hi, inc_lo)
    lo_sum = lo + state[1]
    hi = hi + state[0] + (np.uint64(1) if lo_sum < lo else np.uint64(0))
    hi, lo = _step(hi, lo_sum, inc_hi, inc_lo)
    # random_raw: one step, then the XSL-RR output
    hi, lo = _step(hi, lo, inc_hi, inc_lo)
    x = hi ^ lo
    rot = hi >> np.uint64(58)
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


_first: Callable[[int, int], Any] | None = None  # the kernel, resolved once


def first_draw(seed: int) -> int:
    """``int(np.random.PCG64(seed).random_raw())`` for an int ``seed >= 0``, in well under
    a microsecond for seeds below 2**64 (larger ones take NumPy's way)."""
    global _first
    if seed >= 1 << 64:
        return int(np.random.PCG64(seed).random_raw())
    if _first is None:
        _first = entry_point(_pcg64_first, np.uint64(0), 1)
    return int(_first(seed, 1 if seed >> 32 == 0 else 2))
