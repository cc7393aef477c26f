"""SplitMix64, the one integer mixer of the package: its constants, its finalizer (hashing) and
its generator step (seeded sampling).

>>> import numpy as np
>>> int(_mix64(np.uint64(0))) == int(_splitmix64(np.uint64(0))[1])  # one step from 0
True
"""

from __future__ import annotations

import numpy as np

from ._numba import kernel

__all__ = ["GOLDEN", "MIX1", "MIX2", "_mix64", "_splitmix64"]

# SplitMix64's increment (2**64 / the golden ratio) and its two multipliers.
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


@kernel
def _mix64(key):  # pragma: no cover - compiled
    """SplitMix64's finalizer of ``key + GOLDEN``: a well-mixed uint64 of a uint64."""
    z = key + GOLDEN
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    return z ^ (z >> np.uint64(31))


@kernel
def _splitmix64(state):  # pragma: no cover - compiled
    """One step of SplitMix64: returns ``(new_state, output)``, both uint64."""
    state = state + GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    return state, z ^ (z >> np.uint64(31))
