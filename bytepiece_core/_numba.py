"""The engine's one Numba policy.

Every kernel of ``bytepiece_core`` is compiled with :func:`kernel`: machine code is cached on
disk (``cache=True``) so a notebook pays the compilation once per installation, and the GIL is
released (``nogil=True``) so kernels can run on several Python threads at once -- except
by the few that build Python lists (:func:`list_kernel`), which need it. No ``fastmath``:
the engine must reproduce the reference's floating-point results bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["entry_point", "kernel", "kernel_inline", "list_kernel", "list_kernel_inline"]


def kernel(fn: F) -> F:
    """Compile ``fn`` with the engine's Numba options (cached, GIL released)."""
    return numba.njit(cache=True, nogil=True)(fn)  # type: ignore[return-value]


def kernel_inline(fn: F) -> F:
    """:func:`kernel`, and inlined into the kernels that call it (at Numba's IR level), for
    small helpers on the tokenizer's hot path: a call between compiled functions passes its
    arrays with reference counting that costs as much as a short text's whole segmentation."""
    return numba.njit(cache=True, nogil=True, inline="always")(fn)  # type: ignore[return-value]


def list_kernel(fn: F) -> F:
    """:func:`kernel` for the kernels that build Python lists (``_pylist``): cached, and
    holding the GIL, which the Python C API needs."""
    return numba.njit(cache=True)(fn)  # type: ignore[return-value]


def list_kernel_inline(fn: F) -> F:
    """:func:`kernel_inline` for list-building helpers, inlined into list kernels only."""
    return numba.njit(cache=True, inline="always")(fn)  # type: ignore[return-value]


def entry_point(dispatcher: Any, *example: Any) -> Callable[..., Any]:
    """The compiled function of ``dispatcher`` for the types of ``example``, called directly.

    A Numba dispatcher works out the types of its arguments at every call; for short texts
    that costs as much as the work. The Python layer, which always passes the same types,
    resolves the compiled overload once here (compiling or loading it from the cache by
    calling it on ``example``) and calls it without that step. Falls back to the dispatcher
    if this Numba does not expose the overload.
    """
    dispatcher(*example)
    try:
        signature = tuple(numba.typeof(arg) for arg in example)
        return dispatcher.overloads[signature].entry_point  # type: ignore[no-any-return]
    except (AttributeError, KeyError):
        return dispatcher  # type: ignore[no-any-return]
