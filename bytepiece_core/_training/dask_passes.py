"""The counting passes of training as Dask tasks (``Trainer.train(backend="dask")``): the
Dask implementation of ``passes.Passes``.

Each pass (byte pairs, the n-grams of one length, raising ``maxlen``, the n-gram Viterbi and
the piece counting) is one task per range of chunks, run on the workers of a
``dask.distributed.Client``, with the same kernels as ``passes.LocalPasses``, so the result is
the same. The small results (byte and pair counts, HyperLogLog registers) are
folded in the driver. The counting tables of the n-gram and piece passes stay on the workers:
each lane (one per worker thread) counts its ranges into one table handed from task to task,
the lanes' tables are merged pairwise on the workers, and only the last table's entries reach
the driver: the kept n-grams, or the candidate pieces. So the driver never holds a counting
table.

Nothing large travels in the task graph. Tasks open the on-disk corpus (``corpus``)
by path with ``np.memmap``, so its directory must be visible to every worker (same machine,
or a shared filesystem). The state shared between passes lives in files of a ``dask-*``
directory made next to the corpus (removed at the end): ``maxlen`` (written in place by the
raising tasks, each for its own chunks: a chunk's last byte, which may share a packed byte
with the next chunk's first, is never raised, so tasks never write the same bits), the n-gram
model tables a pass reads, and the Viterbi's piece-start bits of each range.

``dask`` is an optional dependency, imported only here and in ``bytepiece_core.dask``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._mmap import load_mapped
from ..dask import distributed_module
from .corpus import DATA_FILE, TrainingCorpus, open_corpus
from .hashtable import HLL_BITS, _entries, _merge, _piece_entries, _piece_merge, new_table
from .jobs import chunk_ranges
from .kernels_ngram import PACKED, _count_order, _count_pairs, _raise_maxlen, maxlen_array
from .kernels_pieces import _count_marked, _sketch_pieces, _viterbi_bits
from .memory import MemoryPlan
from .ngram_tables import NgramTables
from .passes import RANGES_PER_PASS, Pieces, Progress, no_progress

__all__ = ["DaskPasses"]

# -- the tasks (run on the workers) ------------------------------------------------------------


def _corpus(directory: str) -> TrainingCorpus:
    if not os.path.exists(os.path.join(directory, DATA_FILE)):
        raise FileNotFoundError(
            f"the training corpus {directory!r} is not visible on this Dask worker: put "
            "work_dir (or checkpoint_dir) on a filesystem shared by the driver and the workers"
        )
    return open_corpus(directory, 0, "")


def _task_pairs(directory: str, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    corpus = _corpus(directory)
    counts1, counts2 = np.zeros(256, np.int64), np.zeros(65536, np.int64)
    _count_pairs(corpus.data, corpus.chunk_offsets, lo, hi, counts1, counts2)
    seen = np.flatnonzero(counts2)
    return counts1, seen, counts2[seen]


def _model(mtab_path: str) -> np.ndarray:
    """The model tables a pass reads, or the empty stand-in of lengths up to 8."""
    return load_mapped(mtab_path) if mtab_path else np.zeros((1, 2), np.uint64)


State = tuple[np.ndarray, int]


def _task_count(
    directory: str,
    lo: int,
    hi: int,
    cap: int,
    maxlen_path: str,
    k: int,
    mtab_path: str,
    meta: np.ndarray,
    part: int,
    parts: int,
    state: State | None,
) -> State:
    """Count a range's candidate ``k``-grams into its lane's table ``state`` (a new one of
    ``cap`` slots for the lane's first range), updated in place and returned."""
    corpus = _corpus(directory)
    maxlen, mtab = load_mapped(maxlen_path), _model(mtab_path)
    table, n = state if state is not None else (new_table(cap), 0)
    return _count_order(  # type: ignore[no-any-return]
        corpus.data,
        corpus.chunk_offsets,
        lo,
        hi,
        maxlen,
        k,
        mtab,
        meta,
        table,
        n,
        part,
        parts,
    )


def _task_raise(
    directory: str,
    lo: int,
    hi: int,
    maxlen_path: str,
    k: int,
    mtab_path: str,
    meta: np.ndarray,
    kept_path: str,
    sketch_next: bool,
) -> np.ndarray:
    corpus = _corpus(directory)
    shared = np.load(maxlen_path, mmap_mode="r+")  # written in place: this range's bytes only
    registers = np.zeros(1 << HLL_BITS if sketch_next else 0, np.uint8)
    _raise_maxlen(
        corpus.data,
        corpus.chunk_offsets,
        lo,
        hi,
        np.asarray(shared),
        k,
        _model(mtab_path),
        meta,
        load_mapped(kept_path),
        registers,
    )
    shared.flush()
    return registers


def _task_segment(
    directory: str,
    lo: int,
    hi: int,
    maxlen_path: str,
    ensure_unicode: bool,
    uni_path: str,
    bi_path: str,
    mtab_path: str,
    meta: np.ndarray,
    order: int,
    bits_path: str,
) -> np.ndarray:
    corpus = _corpus(directory)
    data, offsets = corpus.data, corpus.chunk_offsets
    mtab = load_mapped(mtab_path)
    bits = _viterbi_bits(
        data,
        offsets,
        lo,
        hi,
        load_mapped(maxlen_path),
        ensure_unicode,
        load_mapped(uni_path),
        load_mapped(bi_path),
        mtab,
        mtab.view(np.float64),
        meta,
        order,
    )
    np.save(bits_path, bits)
    registers = np.zeros(1 << HLL_BITS, np.uint8)
    _sketch_pieces(data, offsets, lo, hi, bits, registers)
    return registers


def _task_pieces(
    directory: str,
    lo: int,
    hi: int,
    cap: int,
    bits_path: str,
    part: int,
    parts: int,
    state: State | None,
) -> State:
    """Count a range's pieces into its lane's table (as :func:`_task_count`)."""
    corpus = _corpus(directory)
    bits = np.load(bits_path)
    table, n = state if state is not None else (new_table(cap), 0)
    return _count_marked(  # type: ignore[no-any-return]
        corpus.data, corpus.chunk_offsets, lo, hi, bits, table, n, part, parts
    )


# The reduction. As in the threaded run, each lane (one per worker thread of the cluster)
# counts its ranges one after the other into one table, handed from task to task on the same
# worker (Dask runs a task where its input is) and updated in place; the lanes' tables are then
# merged pairwise on the workers, and only the last table's entries reach the driver.


def _task_merge(a: State, b: State) -> State:
    """``b`` added into ``a`` (in place, grown if needed)."""
    return _merge(a[0], a[1], b[0])  # type: ignore[no-any-return]


def _task_entries(state: State, min_count: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The kept ``(keys, counts)`` of a merged n-gram table, and how many keys it holds."""
    keys, counts = _entries(state[0], np.uint64(min_count))
    return keys, counts, int(state[1])


def _task_piece_merge(directory: str, a: State, b: State) -> State:
    return _piece_merge(a[0], a[1], b[0], _corpus(directory).data)  # type: ignore[no-any-return]


def _task_piece_entries(state: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _piece_entries(state[0])  # type: ignore[no-any-return]


# -- the driver --------------------------------------------------------------------------------


class DaskPasses:
    """The counting passes (``passes.Passes``) as Dask tasks on ``client``'s workers, over the
    on-disk corpus in ``corpus_dir`` (``corpus`` is the driver's map of it).

    Makes its directory of shared state in ``corpus_dir``; :meth:`close` removes it.
    """

    def __init__(
        self,
        client: Any,
        corpus: TrainingCorpus,
        corpus_dir: str | os.PathLike[str],
        order: int,
        plan: MemoryPlan,
        n_ranges: int = RANGES_PER_PASS,
    ) -> None:
        self.client = client
        self.corpus = corpus
        self.order = order
        self.plan = plan
        self.tables = 1  # each lane's table lives on its worker
        self.ranges = chunk_ranges(corpus.chunk_offsets, n_ranges)
        self.corpus_dir = os.path.abspath(os.fspath(corpus_dir))
        self.shared = tempfile.mkdtemp(prefix="dask-", dir=self.corpus_dir)
        self._maxlen: tuple[np.ndarray | None, str] = (None, "")
        self._mtab: tuple[int, str] = (-1, "")

    def close(self) -> None:
        """Remove the shared directory. After an interruption, tasks that were already running
        when they were cancelled may still write in it for a moment: retry until it is gone."""
        for _ in range(100):
            shutil.rmtree(self.shared, ignore_errors=True)
            if not os.path.exists(self.shared):
                return
            time.sleep(0.05)
        warnings.warn(f"could not remove the Dask scratch directory {self.shared}", stacklevel=2)

    def _path(self, name: str) -> str:
        return os.path.join(self.shared, name + ".npy")

    def _share(self, name: str, array: np.ndarray) -> str:
        path = self._path(name)
        tmp = self._path(name + ".tmp")
        np.save(tmp, array)
        os.replace(tmp, path)
        return path

    def _share_model(self, k: int, mtab: np.ndarray) -> str:
        """The path of the model tables a pass of length ``k`` reads ("" if it reads none)."""
        if k <= PACKED:
            return ""
        if self._mtab[0] != k:
            if self._mtab[1]:
                os.remove(self._mtab[1])
            self._mtab = (k, self._share(f"mtab{k}", mtab))
        return self._mtab[1]

    def _maxlen_path(self, maxlen: np.ndarray) -> str:
        """The shared file of ``maxlen``: the one :meth:`new_maxlen` made, or (a ``maxlen``
        from elsewhere, e.g. a checkpoint) a copy of it shared now."""
        if maxlen is not self._maxlen[0]:
            self._maxlen = (maxlen, self._share("maxlen", maxlen))
        return self._maxlen[1]

    def _run(
        self,
        task: Callable[..., Any],
        args: Callable[[int, int, int], tuple[Any, ...]],
        fold: Callable[[Any], None],
        progress: Progress = no_progress,
    ) -> None:
        """Submit ``task(corpus_dir, lo, hi, *args(lo, hi, nbytes))`` for every range; fold each
        result in the driver and report its bytes as it completes (in completion order)."""
        distributed = distributed_module()
        futures = {
            self.client.submit(task, self.corpus_dir, lo, hi, *args(lo, hi, nbytes), pure=False): (
                nbytes
            )
            for lo, hi, nbytes in self.ranges
        }
        try:
            for future in distributed.as_completed(list(futures)):
                result = future.result()
                nbytes = futures.pop(future)
                future.release()
                fold(result)
                del result
                progress(nbytes)
        except BaseException:
            self.client.cancel(list(futures))
            raise

    def _lanes(
        self,
        task: Callable[..., Any],
        args: Callable[[int, int, int], tuple[Any, ...]],
        merge: Callable[..., Any],
        merge_args: tuple[Any, ...],
        progress: Progress = no_progress,
    ) -> Any:
        """Count the ranges in lanes, one per worker thread of the cluster: range ``i`` is
        ``task(corpus_dir, lo, hi, *args(lo, hi, nbytes), state)`` with ``state`` the result
        of its lane's previous range (None for the first); then merge the lanes' results
        pairwise, ``merge(*merge_args, a, b)``, as they complete. Returns the future of the
        last merge. Progress is reported as each range's task completes."""
        distributed = distributed_module()
        ranges = self.ranges
        n_lanes = max(1, min(len(ranges), sum(self.client.nthreads().values())))
        lanes: list[Any] = [None] * n_lanes
        counting: dict[Any, int] = {}
        live: set[Any] = set()
        try:
            for i, (lo, hi, nbytes) in enumerate(ranges):
                lane = i % n_lanes
                future = self.client.submit(
                    task, self.corpus_dir, lo, hi, *args(lo, hi, nbytes), lanes[lane], pure=False
                )
                counting[future] = nbytes
                live.add(future)
                lanes[lane] = future
            ends = set(lanes)
            waiting = None
            pending = distributed.as_completed(list(counting))
            for future in pending:
                if future.status == "error":
                    future.result()  # raises the task's exception here
                if future in counting:
                    progress(counting.pop(future))
                    if future not in ends:  # its lane goes on from it
                        live.discard(future)
                        continue
                if waiting is None:
                    waiting = future
                    continue
                merged = self.client.submit(merge, *merge_args, waiting, future, pure=False)
                live -= {waiting, future}
                live.add(merged)
                pending.add(merged)
                waiting = None
            return waiting
        except BaseException:
            self.client.cancel(list(live | set(counting)))
            raise

    # -- n-grams ---------------------------------------------------------------------------

    def new_maxlen(self) -> np.ndarray:
        """A fresh ``maxlen`` in the shared directory, which the raising tasks write in place;
        the driver reads it through a shared read-only map, so it sees their writes."""
        path = self._share("maxlen", maxlen_array(self.corpus.n_bytes, self.order))
        maxlen = np.load(path, mmap_mode="r")
        self._maxlen = (maxlen, path)
        return maxlen  # type: ignore[no-any-return]

    def count_pairs(self, progress: Progress) -> tuple[np.ndarray, np.ndarray]:
        counts1, counts2 = np.zeros(256, np.int64), np.zeros(65536, np.int64)

        def fold(result: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
            counts1[:] += result[0]
            counts2[result[1]] += result[2]

        self._run(_task_pairs, lambda lo, hi, nb: (), fold, progress)
        return counts1, counts2

    def count_length(
        self,
        k: int,
        maxlen: np.ndarray,
        model: tuple[np.ndarray, np.ndarray],
        *,
        cap: int,
        part: int,
        parts: int,
        min_count: int,
        progress: Progress,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        mtab, meta = model
        maxlen_path, mtab_path = self._maxlen_path(maxlen), self._share_model(k, mtab)

        def args(lo: int, hi: int, nbytes: int) -> tuple[Any, ...]:
            return cap, maxlen_path, k, mtab_path, meta, part, parts

        last = self._lanes(_task_count, args, _task_merge, (), progress)
        entries = self.client.submit(_task_entries, last, min_count, pure=False)
        del last
        keys, counts, n = entries.result()
        return keys, counts, int(n)

    def raise_maxlen(
        self,
        k: int,
        maxlen: np.ndarray,
        kept: np.ndarray,
        model: tuple[np.ndarray, np.ndarray],
        *,
        sketch_next: bool,
    ) -> np.ndarray:
        mtab, meta = model
        maxlen_path, mtab_path = self._maxlen_path(maxlen), self._share_model(k, mtab)
        kept_path = self._share("kept", kept)
        registers = np.zeros(1 << HLL_BITS, np.uint8)

        def fold(result: np.ndarray) -> None:
            if result.size:
                np.maximum(registers, result, out=registers)

        args = (maxlen_path, k, mtab_path, meta, kept_path, sketch_next)
        self._run(_task_raise, lambda lo, hi, nb: args, fold)
        os.remove(kept_path)
        return registers

    # -- pieces ----------------------------------------------------------------------------

    def segment(
        self, model: NgramTables, maxlen: np.ndarray, ensure_unicode: bool, progress: Progress
    ) -> np.ndarray:
        maxlen_path = self._maxlen_path(maxlen)
        model_paths = (
            self._share("uni", model.uni),
            self._share("bi", model.bi),
            self._share("mtab", model.mtab),
        )
        self.plan.release_table()  # the model, if in a file: shared now, its pages not needed
        registers = np.zeros(1 << HLL_BITS, np.uint8)

        def sketch(result: np.ndarray) -> None:
            np.maximum(registers, result, out=registers)

        def args(lo: int, hi: int, nbytes: int) -> tuple[Any, ...]:
            bits = self._path(f"bits{lo}")
            return (maxlen_path, ensure_unicode, *model_paths, model.meta, model.order, bits)

        self._run(_task_segment, args, sketch, progress)
        return registers

    def count_marked(self, *, cap: int, part: int, parts: int) -> Pieces:
        def args(lo: int, hi: int, nbytes: int) -> tuple[Any, ...]:
            return cap, self._path(f"bits{lo}"), part, parts

        last = self._lanes(_task_pieces, args, _task_piece_merge, (self.corpus_dir,))
        entries = self.client.submit(_task_piece_entries, last, pure=False)
        del last
        return entries.result()  # type: ignore[no-any-return]

    def drop_segments(self) -> None:
        for lo, _, _ in self.ranges:
            path = self._path(f"bits{lo}")
            if os.path.exists(path):
                os.remove(path)
