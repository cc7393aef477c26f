"""The engine's one Numba policy.

Every kernel of ``bytepiece_core`` is compiled with :func:`kernel`: machine code is cached on
disk (``cache=True``) so a notebook pays the compilation once per installation, and the GIL is
released (``nogil=True``) so kernels can run on several Python threads at once. No ``fastmath``:
the engine must reproduce the reference's floating-point results bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["kernel"]


def kernel(fn: F) -> F:
    """Compile ``fn`` with the engine's Numba options (cached, GIL released)."""
    return numba.njit(cache=True, nogil=True)(fn)  # type: ignore[return-value]
