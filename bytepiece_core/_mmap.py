"""Arrays in memory maps: anonymous ones for large short-lived tables, and file-backed ones
whose pages are handed back to the system range by range (``MADV_DONTNEED``) while their
contents stay in the file.
"""

from __future__ import annotations

import mmap
import os
from typing import Any

import numpy as np

__all__ = ["FileArray", "advise_free", "big_array", "load_mapped", "release_pages"]


def advise_free(mapping: mmap.mmap, start: int, stop: int) -> None:
    """Drop the pages of ``mapping[start:stop]`` (clamped to the mapping) from memory
    (``MADV_DONTNEED``)."""
    start -= start % mmap.PAGESIZE
    stop = min(stop, len(mapping))
    if stop > start and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        mapping.madvise(mmap.MADV_DONTNEED, start, stop - start)


# Arrays at least this large get their own memory mapping (see ``big_array``).
_MMAP_BYTES = 1 << 20


def big_array(shape: int | tuple[int, ...], dtype: type) -> np.ndarray:
    """An uninitialized array; a large one in its own anonymous memory mapping.

    Large tables live for one stage of training. In their own mapping their memory goes back
    to the system as soon as they are dropped, whatever the allocator's heap looks like, so
    the trainer's peak memory is what it holds, not what it once held.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    count = int(np.prod(shape, dtype=np.int64))
    nbytes = count * np.dtype(dtype).itemsize
    if nbytes < _MMAP_BYTES:
        return np.empty(shape, dtype)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype, count).reshape(shape)


def load_mapped(path: str | os.PathLike[str]) -> np.ndarray:
    """The array of a ``.npy`` file, mapped privately (writable, as the kernels expect; nothing
    written back), or read whole if it is empty (an empty array cannot be mapped)."""
    try:
        return np.asarray(np.load(path, mmap_mode="c"))
    except ValueError:
        return np.load(path)


def release_pages(array: np.ndarray) -> None:
    """Drop the resident pages of an array mapped from a file (``np.memmap``, ``np.load`` with
    ``mmap_mode``, or ``np.frombuffer`` of an ``mmap``); a no-op for any other array. Its
    contents stay readable: unmodified pages are read back from the file."""
    obj: Any = array
    while obj is not None:
        mapping = obj if isinstance(obj, mmap.mmap) else getattr(obj, "_mmap", None)
        if isinstance(mapping, mmap.mmap):
            advise_free(mapping, 0, len(mapping))
            return
        obj = getattr(obj, "base", None)


class FileArray:
    """A fresh array in a file of ``directory``, shared-mapped: written pages go to the file's
    page cache, so :meth:`release` can hand pages back without losing their contents."""

    def __init__(self, directory: str | os.PathLike[str], name: str, size: int, fill: int) -> None:
        self.path = os.path.join(os.fspath(directory), name)
        nbytes = max(int(size), 1)
        with open(self.path, "w+b") as handle:
            handle.truncate(nbytes)
            self._map = mmap.mmap(handle.fileno(), nbytes)
        self.array = np.frombuffer(self._map, np.uint8, nbytes)
        if fill:
            for start in range(0, nbytes, 1 << 24):  # a block at a time, released as written
                self.array[start : start + (1 << 24)] = fill
                self.release(start, start + (1 << 24))

    def release(self, start: int = 0, stop: int | None = None) -> None:
        """Drop the pages of bytes ``start..stop-1`` (default: all) from this process; their
        contents stay in the file."""
        advise_free(self._map, start, len(self._map) if stop is None else stop)

    def remove(self) -> None:
        """Delete the file (the array stays readable while referenced)."""
        if os.path.exists(self.path):
            os.remove(self.path)
