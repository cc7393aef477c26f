"""Where the trainer's working arrays live, and how large its counting tables may grow.

``Trainer.train(memory_budget=...)`` bounds the counting tables of the n-gram and piece passes,
the memory that grows with the number of *distinct* n-grams and pieces of the corpus (the one
that exhausted memory on large corpora). When the table a pass would need (sized from its
HyperLogLog estimate, for every worker) does not fit in the budget, the pass is run once per
*hash partition* of the keys (``hashtable._part``): each run counts only its partition's keys
in a table that fits, and since partitions are disjoint every count is exact, as in one run.
The price is one more read of the corpus per extra partition.

With the corpus on disk (``work_dir``, ``checkpoint_dir``, ``memory_budget`` or Dask) the arrays
that grow with the corpus bytes are files in its directory, memory-mapped and handed back to
the system range by range (:class:`FileArray`): ``maxlen`` (half a byte per corpus byte) and the
piece-start bits of the n-gram Viterbi (one bit per byte).

What the budget does not bound: the pruned n-gram model (the kept n-grams, read at random by
the Viterbi, so it stays in memory) and the candidate pieces handed to the pruning; the
interpreter and the compiled kernels (about 150 MB) come on top. :attr:`MemoryPlan.report`
records the partitions and the table and model sizes of each pass (``TrainHistory.memory``).
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._mmap import FileArray
from .hashtable import capacity_for

__all__ = ["Held", "MemoryPlan", "partition_progress"]

# Bytes of a hash-table slot (key and value, uint64 each).
SLOT_BYTES = 16
# Share of the budget the counting tables always get, whatever else is resident.
_FLOOR = 4


@dataclass(frozen=True)
class Held:
    """Arrays put aside by :meth:`MemoryPlan.hold`: in memory, or in the file ``path``."""

    arrays: tuple[np.ndarray, ...]
    path: str

    def take(self) -> tuple[np.ndarray, ...]:
        """The arrays (read back and the file removed, if they were in one)."""
        if not self.path:
            return self.arrays
        with np.load(self.path) as saved:
            arrays = tuple(saved[f"arr_{i}"] for i in range(len(saved.files)))
        os.remove(self.path)
        return arrays


@dataclass
class MemoryPlan:
    """The trainer's memory settings for one run, and what it recorded.

    budget    : bytes the counting tables may take (all workers together), or None
    directory : the on-disk corpus's directory, where ``maxlen`` and the Viterbi's bits go
                (None: they stay in memory)
    report    : per pass (``"length k"``, ``"pieces"``): partitions, table and resident bytes
    """

    budget: int | None = None
    directory: str | None = None
    report: dict[str, dict[str, int]] = field(default_factory=dict)
    _files: list[FileArray] = field(default_factory=list)
    _paths: list[str] = field(default_factory=list)
    _maxlen: FileArray | None = None
    _table: FileArray | None = None
    _warned: bool = False

    def scratch_path(self, name: str) -> str:
        """A path in :attr:`directory` for a working file, removed by :meth:`close`."""
        assert self.directory is not None
        path = os.path.join(self.directory, name)
        self._paths.append(path)
        return path

    def partitions(self, name: str, cap: int, workers: int, resident: int = 0) -> int:
        """Hash partitions for a pass whose tables need ``cap`` slots per worker, with
        ``resident`` bytes (the n-gram model so far) already held; records them."""
        need = cap * SLOT_BYTES * workers
        parts = 1
        if self.budget is not None:
            room = self.budget - resident
            if room < self.budget // _FLOOR:
                room = self.budget // _FLOOR
                if not self._warned:
                    self._warned = True
                    warnings.warn(
                        f"the n-gram model ({resident / 1e6:.0f} MB) takes most of "
                        f"memory_budget ({self.budget / 1e6:.0f} MB): it stays in memory for "
                        "the Viterbi, so peak memory will exceed the budget; the counting "
                        f"tables are kept to {room / 1e6:.0f} MB",
                        ResourceWarning,
                        stacklevel=2,
                    )
            parts = max(1, math.ceil(need / room))
        self.report[name] = {
            "partitions": parts,
            "table_bytes": math.ceil(need / parts),
            "resident_bytes": int(resident),
        }
        return parts

    def split(
        self, name: str, estimate: float, load: float, tables: int, resident: int = 0
    ) -> tuple[int, int]:
        """``(partitions, slots)`` for a pass with about ``estimate`` distinct keys, counted in
        ``tables`` tables at ``load``: :meth:`partitions`, and the slots of a partition's
        table."""
        parts = self.partitions(name, capacity_for(estimate, load), tables, resident)
        return parts, capacity_for(estimate / parts, load)

    @property
    def spills(self) -> bool:
        """Whether working arrays go to files: a budget, and a directory to put them in."""
        return self.budget is not None and self.directory is not None

    def hold(self, name: str, *arrays: np.ndarray) -> Held:
        """Keep ``arrays`` for later: in memory, or (:attr:`spills`) in a file until taken."""
        if not self.spills:
            return Held(arrays, "")
        path = self.scratch_path(name + ".work.npz")
        np.savez(path, *arrays)
        return Held((), path)

    def table_array(self, name: str, rows: int) -> np.ndarray | None:
        """A ``uint64[rows, 2]`` array in a file (:attr:`spills`), whose pages
        :meth:`release_table` hands back; None if arrays stay in memory."""
        if not self.spills:
            return None
        assert self.directory is not None
        self._table = FileArray(self.directory, name + ".work", rows * SLOT_BYTES, 0)
        self._files.append(self._table)
        return self._table.array.view(np.uint64).reshape(rows, 2)

    def release_table(self, start: int = 0, stop: int | None = None) -> None:
        """Hand back the pages of rows ``start..stop-1`` (default: all) of the last
        :meth:`table_array` (a no-op without one)."""
        if self._table is not None:
            end = None if stop is None else SLOT_BYTES * stop
            self._table.release(SLOT_BYTES * start, end)

    def maxlen(self, make: Callable[[], np.ndarray], size: int, fill: int) -> np.ndarray:
        """A fresh ``maxlen``: ``make()`` in memory, or a file of ``size`` bytes filled with
        ``fill`` in the corpus directory."""
        if self.directory is None:
            return make()
        self._maxlen = FileArray(self.directory, "maxlen.work", size, fill)
        self._files.append(self._maxlen)
        return self._maxlen.array

    def release_maxlen(self, start: int = 0, stop: int | None = None) -> None:
        """Hand back the pages of ``maxlen`` bytes ``start..stop-1`` (default: all) if it is a
        file."""
        if self._maxlen is not None:
            self._maxlen.release(start, stop)

    def close(self) -> None:
        """Remove the files made (their maps close when the arrays are dropped)."""
        for handle in self._files:
            handle.remove()
        self._files.clear()
        for path in self._paths:
            if os.path.exists(path):
                os.remove(path)
        self._paths.clear()


def partition_progress(progress: Callable[[int], None], parts: int) -> Callable[[int], None]:
    """``progress`` for one of ``parts`` passes over the same bytes: each reports its share, so
    the ``parts`` passes together report the corpus bytes once.

    >>> seen = []
    >>> report = partition_progress(seen.append, 3)
    >>> for _ in range(3): report(10)
    >>> sum(seen)
    10
    """
    state = [0, 0]  # bytes over all the passes, bytes reported

    def report(nbytes: int) -> None:
        state[0] += nbytes
        now = state[0] // parts
        if now > state[1]:
            progress(now - state[1])
            state[1] = now

    return report


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``; nothing
    elsewhere). After a stage whose large arrays came from the heap and are gone, their
    pages stay counted in the process's memory until the heap is trimmed: on the 21 MB mix,
    86 MB after the candidate passes, more than the refined stages that follow then add."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
