"""Running a kernel over the corpus in chunk ranges, on one or more threads (map-reduce).

Each worker folds the ranges it takes into its own state (its own partial hash table); the
caller merges the states. Kernels release the GIL, so threads run in parallel. Which worker
takes which range does not matter: partial tables merge into the same counts.
Progress is reported from the calling thread, so a callback that raises (for example
``KeyboardInterrupt``) stops the workers after their current range and propagates.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

S = TypeVar("S")

__all__ = ["chunk_ranges", "run_ranges"]


def chunk_ranges(chunk_offsets: np.ndarray, n_ranges: int) -> list[tuple[int, int, int]]:
    """Cut chunks into about ``n_ranges`` runs of similar byte size: ``(c_lo, c_hi, n_bytes)``.

    >>> chunk_ranges(np.array([0, 5, 10, 12, 20]), 2)
    [(0, 2, 10), (2, 4, 10)]
    """
    n_chunks = len(chunk_offsets) - 1
    total = int(chunk_offsets[-1]) if n_chunks > 0 else 0
    if n_chunks == 0:
        return []
    targets = np.linspace(0, total, max(1, n_ranges) + 1)[1:-1]
    cuts = np.searchsorted(chunk_offsets, targets, side="left")
    bounds = [0, *sorted({int(c) for c in cuts if 0 < c < n_chunks}), n_chunks]
    return [
        (lo, hi, int(chunk_offsets[hi] - chunk_offsets[lo]))
        for lo, hi in itertools.pairwise(bounds)
    ]


def run_ranges(
    ranges: list[tuple[int, int, int]],
    init: Callable[[], S],
    work: Callable[[S, int, int], S],
    workers: int,
    progress: Callable[[int], None],
    release: Callable[[int, int], None] | None = None,
) -> list[S]:
    """Fold every range into per-worker states; returns the states (one per worker used).

    ``work(state, c_lo, c_hi)`` returns the new state; ``progress(n_bytes)`` is called in the
    calling thread after each range with the bytes it covered; ``release(c_lo, c_hi)``, if
    given, in the worker after each range (an on-disk corpus drops the range's pages).
    """
    if release is not None:
        inner = work

        def work(state: S, lo: int, hi: int) -> S:
            state = inner(state, lo, hi)
            release(lo, hi)
            return state

    if workers <= 1 or len(ranges) <= 1:
        state = init()
        for lo, hi, nbytes in ranges:
            state = work(state, lo, hi)
            progress(nbytes)
        return [state]
    n_workers = min(workers, len(ranges))
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()
    taken = itertools.count()
    lock = threading.Lock()

    def run() -> S:
        state = init()
        try:
            while not stop.is_set():
                with lock:
                    i = next(taken)
                if i >= len(ranges):
                    break
                lo, hi, nbytes = ranges[i]
                state = work(state, lo, hi)
                events.put(("done", nbytes))
        except BaseException as exc:  # handed to the calling thread, which re-raises it
            events.put(("error", exc))
        finally:
            events.put(("exit", None))
        return state

    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        futures = [pool.submit(run) for _ in range(n_workers)]
        running = n_workers
        try:
            while running:
                kind, value = events.get()
                if kind == "done":
                    progress(value)
                elif kind == "error":
                    raise value
                else:
                    running -= 1
        except BaseException:
            stop.set()
            raise
        return [f.result() for f in futures]
