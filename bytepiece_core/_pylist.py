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

import ctypes
import sys

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.core.extending import box, intrinsic, models, register_model

from ._numba import list_kernel, list_kernel_inline

__all__ = ["addresses_of", "list_of", "lists_of"]


def _items_offset() -> int | None:
    """Where a list object keeps the pointer to its items (``PyListObject.ob_item``, after the
    object's header of three words), if this interpreter's lists are laid out so."""
    offset = 3 * ctypes.sizeof(ctypes.c_void_p)
    probe = [object()]
    items = ctypes.c_void_p.from_address(id(probe) + offset).value
    if items and ctypes.c_void_p.from_address(items).value == id(probe[0]):
        return offset
    return None


# A new list's empty slots are filled by writing the item pointers into its item array, as
# the C API's PyList_SET_ITEM does, where the layout is the one checked here (else by calling
# PyList_SetItem); a reference is taken by adding one to the object's count, as Py_INCREF does
# before CPython 3.12 (from 3.12 on, where some objects are immortal, by calling Py_IncRef).
# Numba caches the compiled kernels per Python version.
_ITEMS = _items_offset()
_PLAIN_REFCOUNT = sys.version_info < (3, 12)


def _incref(builder, pyapi, obj):  # type: ignore[no-untyped-def]
    """A new reference to ``obj`` (the GIL is held)."""
    if not _PLAIN_REFCOUNT:
        pyapi.incref(obj)
        return
    count = builder.bitcast(obj, ir.IntType(64).as_pointer())
    builder.store(builder.add(builder.load(count), ir.Constant(ir.IntType(64), 1)), count)


def _store(builder, pyapi, lst, k, obj):  # type: ignore[no-untyped-def]
    """``lst[k] = obj`` into an empty slot of a new list, handing over a reference to ``obj``."""
    if _ITEMS is None:
        pyapi.list_setitem(lst, k, obj)
        return
    slot = builder.gep(
        builder.bitcast(lst, ir.IntType(8).as_pointer()), [ir.Constant(ir.IntType(64), _ITEMS)]
    )
    items = builder.load(builder.bitcast(slot, pyapi.pyobj.as_pointer().as_pointer()))
    builder.store(obj, builder.gep(items, [k]))


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
        _incref(builder, pyapi, obj)
        _store(builder, pyapi, args[0], args[1], obj)
        return context.get_dummy_value()

    return types.void(pylist, types.intp, types.int64), codegen


@intrinsic
def set_list(typingctx, outer, k, inner):  # type: ignore[no-untyped-def]
    """``outer[k] = inner``, handing the kernel's reference to ``inner`` over to ``outer``."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        _store(builder, context.get_python_api(builder), args[0], args[1], args[2])
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
