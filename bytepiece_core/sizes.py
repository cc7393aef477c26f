"""Sizes in bytes as people write them: ``"512MB"``, ``"2 GiB"``, ``"1.5g"`` or an int.

``Trainer.train(memory_budget=...)``, the command line's ``--memory-budget`` and the Train
panel all read a budget with :func:`parse_size`.
"""

from __future__ import annotations

import numbers
import re
from typing import Any

__all__ = ["MIN_BUDGET", "parse_size"]

# Smallest budget accepted.
MIN_BUDGET = 1 << 20
_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_size(value: Any, name: str = "memory_budget") -> int:
    """Bytes of a size: an int, or a str such as ``"512MB"``, ``"2 GiB"`` or ``"1.5g"``.

    >>> parse_size("512MB"), parse_size("2GiB"), parse_size(3 << 20)
    (512000000, 2147483648, 3145728)
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number of bytes or a str like '2GB', not {value!r}")
    if isinstance(value, numbers.Integral):
        size = int(value)
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", value)
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _UNITS:
            raise ValueError(
                f"{name} {value!r} is not a size: write a number of bytes with an optional "
                "unit, e.g. '512MB', '2GB' or '1.5GiB'"
            )
        size = int(float(match.group(1)) * _UNITS[unit])
    else:
        raise TypeError(
            f"{name} must be a number of bytes or a str like '2GB', not {type(value).__name__}"
        )
    if size < MIN_BUDGET:
        raise ValueError(f"{name} must be at least 1 MiB ({MIN_BUDGET} bytes), got {size} bytes")
    return size
