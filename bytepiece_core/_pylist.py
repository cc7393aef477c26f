"""Python lists made by compiled code: the engine's one use of the Python C API.

Most calls return a list of token ids, and making it costs as much as segmenting a short
text: ``ids.tolist()`` makes a new int object for every id above 256, and taking references
from an array of the ids as objects (``objects.take(ids).tolist()``) copies them twice. The
kernels here fill a new list with references to objects the tokenizer keeps -- its ids as
Python ints, its pieces as bytes -- the way a C extension would: ``PyList_New``, then
``Py_IncRef`` and ``PyList_SetItem`` for each item.

Objects are passed by address: ``addresses[k] == id(objects[k])`` (CPython's ``id`` is the
address), and whoever passes ``addresses`` keeps ``objects`` alive. A kernel that builds
lists holds the GIL (the C API needs it): they are compiled with
:func:`~bytepiece_core._numba.list_kernel`, never with ``nogil``, and the list-building
helpers below are inlined into such kernels only.

``PyList_New`` can run the garbage collector, hence any ``__del__``, hence any Python code:
a kernel must not rely on a buffer that Python code could overwrite across it (see
``_kernels_segment._encode_short``). A ``NULL`` from it (``MemoryError``) is returned as is,
and the wrapper raises the error it set.
"""

from __future__ import annotations

import numpy as np
from numba.core import cgutils, types
from numba.core.extending import box, intrinsic, models, register_model

from ._numba import list_kernel, list_kernel_inline

__all__ = ["addresses_of", "list_of", "lists_of"]


class PyListType(types.Opaque):
    """A new reference to a Python list, made by :func:`new_list`; returned to Python as is."""

    def __init__(self) -> None:
        super().__init__(name="PyList")


pylist = PyListType()
register_model(PyListType)(models.OpaqueModel)


@box(PyListType)
def _box_list(typ, val, c):  # type: ignore[no-untyped-def]
    return val  # the kernel's reference passes to the caller


@intrinsic
def new_list(typingctx, n):  # type: ignore[no-untyped-def]
    """``PyList_New(n)``: a list of ``n`` empty slots for :func:`set_item` to fill."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return context.get_python_api(builder).list_new(args[0])

    return pylist(types.intp), codegen


@intrinsic
def is_null(typingctx, lst):  # type: ignore[no-untyped-def]
    """Whether :func:`new_list` failed (it then set ``MemoryError``)."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return cgutils.is_null(builder, args[0])

    return types.boolean(pylist), codegen


@intrinsic
def drop(typingctx, lst):  # type: ignore[no-untyped-def]
    """Release a list the kernel will not return."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        context.get_python_api(builder).decref(args[0])
        return context.get_dummy_value()

    return types.void(pylist), codegen


@intrinsic
def set_item(typingctx, lst, k, address):  # type: ignore[no-untyped-def]
    """``lst[k] =`` the object at ``address``, with a new reference to it (``k`` must be an
    empty slot of a new list, whose ``PyList_SetItem`` takes the reference)."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        pyapi = context.get_python_api(builder)
        obj = builder.inttoptr(args[2], pyapi.pyobj)
        pyapi.incref(obj)
        pyapi.list_setitem(args[0], args[1], obj)
        return context.get_dummy_value()

    return types.void(pylist, types.intp, types.int64), codegen


@intrinsic
def set_list(typingctx, outer, k, inner):  # type: ignore[no-untyped-def]
    """``outer[k] = inner``, handing the kernel's reference to ``inner`` over to ``outer``."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        context.get_python_api(builder).list_setitem(args[0], args[1], args[2])
        return context.get_dummy_value()

    return types.void(pylist, types.intp, pylist), codegen


@list_kernel_inline
def fill(lst, ids, lo, n, addresses):  # pragma: no cover - compiled
    """Fill the ``n`` slots of a new list with the objects of ``ids[lo:lo + n]``."""
    for k in range(n):
        set_item(lst, k, addresses[np.uint64(ids[np.uint64(lo + k)])])


@list_kernel
def list_of(ids, addresses):  # pragma: no cover - compiled
    """``[objects[i] for i in ids]``, where ``addresses[i] == id(objects[i])``."""
    n = ids.shape[0]
    lst = new_list(n)
    if not is_null(lst):
        fill(lst, ids, 0, n, addresses)
    return lst


@list_kernel
def lists_of(ids, offsets, addresses, bos, eos):  # pragma: no cover - compiled
    """One list per document: ``[objects[i] for i in ids[offsets[d]:offsets[d + 1]]]``,
    with the object at address ``bos`` first and ``eos`` last where they are not 0."""
    n_docs = offsets.shape[0] - 1
    outer = new_list(n_docs)
    if is_null(outer):
        return outer
    extra = (bos != 0) + (eos != 0)
    for d in range(n_docs):
        lo = offsets[d]
        n = offsets[d + 1] - lo
        inner = new_list(n + extra)
        if is_null(inner):
            drop(outer)
            return inner
        k = 0
        if bos != 0:
            set_item(inner, 0, bos)
            k = 1
        for j in range(n):
            set_item(inner, k + j, addresses[np.uint64(ids[np.uint64(lo + j)])])
        if eos != 0:
            set_item(inner, k + n, eos)
        set_list(outer, d, inner)
    return outer


def addresses_of(objects: object) -> np.ndarray:
    """``int64`` addresses of the items of ``objects``, for the kernels above; the caller
    keeps ``objects`` alive while it uses them."""
    return np.fromiter(map(id, objects), np.int64)  # type: ignore[call-overload]
