"""How ``Tokenizer.encode_batch`` goes through a batch: cut into shards of texts, each shard's
texts joined and encoded at once, and the shards run on several threads.

A thread joins a shard's texts (holding the GIL), segments them with one kernel call (without
it) and, unless arrays were asked for, builds the shard's lists (with it): one thread's Python
work overlaps the other threads' kernels.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from itertools import count
from threading import Thread
from typing import Any, TypeVar

from ._normalize import check_text

__all__ = ["join_texts", "map_shards", "prepare_texts", "shard_bounds", "threads_for"]

T = TypeVar("T")

# encode_batch's shards (see shard_bounds): at most _SHARD_TEXTS texts (a shard's arrays stay
# in cache) and 1 / _SHARDS_PER_THREAD of a thread's share; towards the end, 1 / _TAIL of
# what is left a thread, down to _MIN_SHARD_TEXTS.
_SHARD_TEXTS = 8192
_SHARDS_PER_THREAD = 8
_TAIL = 4
_MIN_SHARD_TEXTS = 512
# A batch of fewer characters than this is segmented on the calling thread alone: starting a
# thread costs ~0.1 ms, more than a second thread saves on less text.
_THREADED_CHARS = 32_768


def threads_for(texts: Sequence[Any], num_threads: int) -> int:
    """How many of ``num_threads`` threads to use on ``texts``: one for a batch of fewer than
    ``_THREADED_CHARS`` characters (counted only for a batch of fewer texts than that)."""
    if num_threads == 1 or len(texts) >= _THREADED_CHARS:
        return num_threads
    try:
        chars = sum(map(len, texts))
    except TypeError:  # a text that is not a str: the error is raised where it is prepared
        return num_threads
    return num_threads if chars >= _THREADED_CHARS else 1


def shard_bounds(n: int, num_threads: int) -> list[int]:
    """Where ``encode_batch`` cuts ``n`` texts into shards for ``num_threads`` threads.

    Shards of at most ``_SHARD_TEXTS`` texts and of ``1 / (_SHARDS_PER_THREAD * num_threads)``
    of the batch at most; on several threads they shrink towards the end (a quarter of what is
    left a thread, down to ``_MIN_SHARD_TEXTS``), so the threads, which take shards in order,
    run out of work at about the same time.

    >>> shard_bounds(20_000, 1)
    [0, 6666, 13333, 20000]
    >>> b = shard_bounds(20_000, 2)
    >>> [end - start for start, end in zip(b, b[1:])]  # doctest: +NORMALIZE_WHITESPACE
    [1250, 1250, 1250, 1250, 1250, 1250, 1250, 1250, 1250, 1094, 957, 838, 733, 641, 561,
     512, 512, 512, 512, 512, 512, 512, 342]
    """
    if num_threads == 1:
        n_shards = -(-n // _SHARD_TEXTS)
        return [n * k // n_shards for k in range(n_shards + 1)] if n else [0]
    largest = max(min(_SHARD_TEXTS, -(-n // (_SHARDS_PER_THREAD * num_threads))), 1)
    least = min(_MIN_SHARD_TEXTS, largest)
    bounds = [0]
    while bounds[-1] < n:
        left = n - bounds[-1]
        size = min(largest, max(-(-left // (_TAIL * num_threads)), least))
        bounds.append(n if left - size < least // 2 else bounds[-1] + size)
    return bounds


def map_shards(fn: Callable[[int], T], n_shards: int, num_threads: int) -> list[T]:
    """``[fn(s) for s in range(n_shards)]``; on several threads, the calling thread and
    ``num_threads - 1`` others, each taking the next shard when it is done with one.

    The calling thread works too, rather than wait for a pool: on a machine with as many cores
    as threads, a waiting thread that wakes for every finished shard takes a core from a worker.
    The first error (``KeyboardInterrupt`` included) stops every thread before its next shard,
    and is raised once they have all stopped.
    """
    if num_threads == 1 or n_shards <= 1:
        return [fn(s) for s in range(n_shards)]
    results: list[Any] = [None] * n_shards
    errors: list[BaseException] = []
    shards = count()  # next() on it is atomic: the GIL is held

    def work() -> None:
        try:
            while not errors:
                s = next(shards)
                if s >= n_shards:
                    return
                results[s] = fn(s)
        except BaseException as exc:
            errors.append(exc)

    helpers = [Thread(target=work, daemon=True) for _ in range(min(num_threads, n_shards) - 1)]
    for t in helpers:
        t.start()
    try:
        work()
    finally:
        for t in helpers:
            t.join()
    if errors:
        raise errors[0]
    return results


def join_texts(texts: Sequence[Any], lo: int, hi: int) -> bytes | None:
    """The NFC UTF-8 bytes of ``texts[lo:hi]`` joined with a NUL byte between each two, as
    :meth:`Vocab.segment_joined` takes them; ``None`` where a text is not a ``str`` or holds a
    lone surrogate (:func:`prepare_texts` then raises the error that names it).

    One join, normalization and encoding of many short texts costs a fraction of one of each.
    It is exact: a NUL composes with no character and starts no reordering, so the NFC form of
    the joined texts is the texts' NFC forms joined.
    """
    chunk = texts[lo:hi] if isinstance(texts, (list, tuple)) else [texts[i] for i in range(lo, hi)]
    try:
        joined = "\0".join(chunk)
        return (joined if joined.isascii() else unicodedata.normalize("NFC", joined)).encode()
    except (TypeError, UnicodeEncodeError):
        return None


def prepare_texts(texts: Sequence[Any], lo: int, hi: int) -> list[bytes]:
    """NFC UTF-8 bytes of ``texts[lo:hi]`` (ASCII texts are their own NFC); a non-str text or
    a lone surrogate raises the error of :func:`check_text`, naming the text's index."""
    chunk = texts[lo:hi] if isinstance(texts, (list, tuple)) else [texts[i] for i in range(lo, hi)]
    # str's own methods, unbound: they refuse what is not a str (TypeError), and a subclass
    # of str cannot change what they do
    encode, isascii, normalize = str.encode, str.isascii, unicodedata.normalize
    try:
        return [encode(t) if isascii(t) else encode(normalize("NFC", t)) for t in chunk]
    except (TypeError, UnicodeEncodeError):
        return [check_text(texts[i], f"texts[{i}]") for i in range(lo, hi)]
