"""The n-gram model of training: the kept byte n-grams and their log-probabilities, as flat
arrays (the layout of ``kernels_ngram``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hashtable import _build, capacity_for, new_table
from .kernels_ngram import NIBBLE_ORDER

__all__ = ["MODEL_LOAD", "NgramTables", "longest", "pair_table"]

# Load of the model tables (looked up many times by the Viterbi: keep probes short).
MODEL_LOAD = 0.6


@dataclass(frozen=True)
class NgramTables:
    """The kept n-grams of lengths ``1..order``, with ``log count(s) - log count(s[:-1])``.

    uni     : float64[256]         log-probability of each byte
    bi      : float64[65536]       of each byte pair ``a * 256 + b`` (``-inf`` where pruned)
    mtab    : uint64[n_slots, 2]   the model tables of lengths 3..order, one after another
    meta    : int64[order + 1, 2]  for length ``k >= 3``: first slot and slots of its table
    counted : distinct n-grams counted for each length (index = length; index 0: 1)
    kept    : n-grams kept for each length (index 0: the empty n-gram)
    """

    order: int
    uni: np.ndarray
    bi: np.ndarray
    mtab: np.ndarray
    meta: np.ndarray
    counted: list[int]
    kept: list[int]

    @property
    def mval(self) -> np.ndarray:
        """``mtab`` seen as float64 (``mval[j, 1]`` is the log-probability in slot ``j``)."""
        return self.mtab.view(np.float64)

    @property
    def n_tables(self) -> int:
        """Model tables held: one per length ``3..order`` (fewer for order < 3)."""
        return max(0, self.order - 2)

    def table(self, k: int) -> np.ndarray:
        """The model table of length ``k >= 3`` (a view of ``mtab``)."""
        start, cap = (int(v) for v in self.meta[k])
        return self.mtab[start : start + cap]


def pair_table(bi: np.ndarray) -> np.ndarray:
    """The kept byte pairs as a model table (keys = values = ``a * 256 + b``), which the raise
    pass of length 2 looks pairs up in."""
    kept = np.flatnonzero(bi > -np.inf).astype(np.uint64)
    table = new_table(capacity_for(len(kept), MODEL_LOAD))
    _build(table, kept, kept)
    return table


def longest(maxlen: np.ndarray, n_bytes: int, order: int) -> np.ndarray:
    """The longest kept n-gram at each of ``n_bytes`` corpus bytes (uint8[n_bytes]): ``maxlen``
    unpacked."""
    if order > NIBBLE_ORDER:
        return maxlen[:n_bytes].copy()
    return np.stack([maxlen & 15, maxlen >> 4], axis=1).reshape(-1)[:n_bytes]
