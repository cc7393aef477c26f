"""Kernel for the n-gram entropy curve: number the (context, byte) pairs of one order.

Arrays:
    ctx   : int64[n]  id of the context (the k bytes before each position), -1 where a position
                      has fewer than k bytes of context in its chunk
    data  : uint8[n]  the bytes
"""

from __future__ import annotations

import numpy as np

from ._mix import GOLDEN
from ._numba import kernel


@kernel
def _number_pairs(ctx, data):  # pragma: no cover - compiled
    """Give each distinct ``(ctx[i], data[i])`` an id, in order of first occurrence.

    Returns ``(ids, pair_ctx, counts)``: ids int64[n] (-1 where ``ctx[i] < 0``), and per pair
    its context id (int64[m]) and its count (int64[m]). An open-addressing hash table keyed on
    ``ctx * 256 + byte``.
    """
    n = ctx.shape[0]
    cap = 16
    while cap < 2 * n:
        cap *= 2
    mask = cap - 1
    slots = np.full(cap, -1, np.int64)
    keys = np.empty(n, np.int64)
    counts = np.zeros(n, np.int64)
    ids = np.full(n, -1, np.int64)
    m = 0
    for i in range(n):
        c = ctx[i]
        if c < 0:
            continue
        key = c * 256 + np.int64(data[i])
        h = np.int64((np.uint64(key) * GOLDEN) >> np.uint64(20)) & mask
        while True:
            e = slots[h]
            if e < 0:
                slots[h] = m
                keys[m] = key
                e = m
                m += 1
                break
            if keys[e] == key:
                break
            h = (h + 1) & mask
        counts[e] += 1
        ids[i] = e
    return ids, keys[:m] // 256, counts[:m].copy()
