"""Stage 3 of training: prune candidate pieces into vocabularies (ALGORITHM.md 2.4).

Re-splitting uses the project's unigram segmenter (:class:`~bytepiece_core.vocab.Vocab`), which
reproduces the reference tokenizer bit for bit; pieces to re-split are passed to it as flat
arrays, in shards of bounded size (also the unit of work of the threads).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..vocab import N_SPECIAL, Vocab
from .jobs import run_ranges
from .kernels_pieces import _add_token_counts, _gather
from .pieces import PieceCounts

__all__ = ["VocabStep", "from_vocab", "prune_pieces"]

# Bytes of pieces segmented per call of the segmenter.
_SHARD_BYTES = 1 << 21


@dataclass(frozen=True)
class VocabStep:
    """The vocabulary size after one pruning step.

    size     : the requested vocabulary size being cut to (None before the first cut)
    step     : ``"candidates"`` (all pieces, the 256 bytes completed), ``"frequency"`` (after
               dropping rare or long pieces and re-splitting them), ``"wasted"`` (one round of
               removing wasted pieces) or ``"cut"`` (after cutting to ``size - 3`` pieces);
               the refined trainer adds ``"loss"`` (one round of pruning by loss) and
               ``"unused"`` (one round of replacing the pieces its segmentation never uses)
    round    : the wasted-piece round (1, 2, ...; 0 for the other steps)
    n_pieces : pieces in the vocabulary (special tokens not included)
    """

    size: int | None
    step: str
    round: int
    n_pieces: int


Record = Callable[[VocabStep], None]


def _flat(pieces: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """``(uint8[total], int64[n + 1])``: the pieces concatenated and their offsets."""
    offsets = np.zeros(len(pieces) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, pieces), np.int64, len(pieces)), out=offsets[1:])
    return np.frombuffer(b"".join(pieces), np.uint8), offsets


def _unflat(flat: np.ndarray, offsets: np.ndarray) -> list[bytes]:
    """The pieces of :func:`_flat`'s ``(flat, offsets)``.

    >>> _unflat(*_flat([b"ab", b"", b"c"]))
    [b'ab', b'', b'c']
    """
    raw = np.asarray(flat, np.uint8).tobytes()
    bounds = np.asarray(offsets).tolist()
    return [raw[a:b] for a, b in itertools.pairwise(bounds)]


Strings = Callable[[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _resplit_shards(
    pieces: list[bytes],
    counts: np.ndarray,
    shards: list[tuple[int, int, int]],
    strings: Strings,
    workers: int,
    release: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Counts (int64[len(pieces)]) that strings add to ``pieces`` when each is tokenized with
    the vocabulary ``pieces``/``counts`` and every token gets the string's weight: the
    reference's ``split_pieces``. ``strings(lo, hi)`` gives the ``(flat, offsets, weights)``
    of shard ``(lo, hi, _)`` of ``shards`` (the unit of work of the threads)."""
    if not shards:
        return np.zeros(len(pieces), np.int64)
    vocab = Vocab.from_pieces(pieces, counts.tolist())

    def work(out: np.ndarray, lo: int, hi: int) -> np.ndarray:
        flat, offsets, weights = strings(lo, hi)
        if len(offsets) > 1:
            seg = vocab.segment((flat, offsets))
            _add_token_counts(seg.ids, seg.doc_token_offsets, weights, N_SPECIAL, out)
        return out

    init = lambda: np.zeros(len(pieces), np.int64)  # noqa: E731
    parts = run_ranges(shards, init, work, workers, _skip, release)
    return parts[0] if len(parts) == 1 else np.sum(parts, axis=0)


def resplit(
    pieces: list[bytes],
    counts: np.ndarray,
    flat: np.ndarray,
    offsets: np.ndarray,
    weights: np.ndarray,
    workers: int,
) -> np.ndarray:
    """:func:`_resplit_shards` of the strings ``flat``/``offsets`` (one per weight), cut into
    shards of about ``_SHARD_BYTES``."""
    n = len(offsets) - 1
    shards = []
    lo = 0
    while lo < n:  # shards of about _SHARD_BYTES, at least one string each
        hi = int(np.searchsorted(offsets, offsets[lo] + _SHARD_BYTES, side="right")) - 1
        hi = min(n, max(lo + 1, hi))
        shards.append((lo, hi, int(offsets[hi] - offsets[lo])))
        lo = hi

    def strings(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        base = offsets[lo]
        return flat[base : offsets[hi]], offsets[lo : hi + 1] - base, weights[lo:hi]

    return _resplit_shards(pieces, counts, shards, strings, workers)


def _skip(nbytes: int) -> None:
    """No progress to report."""


def remove_wasted(
    pieces: list[bytes], counts: np.ndarray, size: int | None, workers: int, record: Record
) -> tuple[list[bytes], np.ndarray]:
    """Re-count the vocabulary on its own pieces until its size stops changing."""
    rounds = 0
    while True:
        before = len(pieces)
        flat, offsets = _flat(pieces)
        new = resplit(pieces, counts, flat, offsets, counts, workers)
        keep = new > 0
        pieces = [p for p, k in zip(pieces, keep.tolist(), strict=True) if k]
        counts = new[keep]
        rounds += 1
        record(VocabStep(size, "wasted", rounds, len(pieces)))
        if len(pieces) == before:
            return pieces, counts


def prune_pieces(
    data: np.ndarray,
    candidates: PieceCounts,
    sizes: Sequence[int],
    max_piece_length: int,
    min_count: int,
    workers: int,
    record: Record,
    release: Callable[[], None] | None = None,
) -> list[dict[bytes, int]]:
    """One vocabulary ``{piece: count}`` per size of ``sizes`` (largest first), as the reference.

    ``data`` is the corpus array the candidate spans point into. Candidates are read a block
    at a time (:meth:`PieceCounts.blocks`); ``release()``, if given, is called after each
    block that read ``data`` (an on-disk corpus drops its pages).
    """
    pos, lens, counts = candidates.pos, candidates.lens, candidates.counts

    def kept(lo: int, hi: int) -> np.ndarray:
        return (lens[lo:hi] == 1) | (
            (lens[lo:hi] <= max_piece_length) & (counts[lo:hi] >= min_count)
        )

    blocks = candidates.blocks()
    keep_idx = np.concatenate(
        [np.zeros(0, np.int64)] + [lo + np.flatnonzero(kept(lo, hi)) for lo, hi in blocks]
    )
    keep_idx = keep_idx[np.argsort(pos[keep_idx], kind="stable")]  # by first occurrence
    pieces = [
        data[p : p + n].tobytes()
        for p, n in zip(pos[keep_idx].tolist(), lens[keep_idx].tolist(), strict=True)
    ]
    kept_counts = np.asarray(counts[keep_idx], np.int64)
    del keep_idx
    if release is not None:
        release()
    singles = {p for p in pieces if len(p) == 1}
    missing = [bytes([b]) for b in range(256) if bytes([b]) not in singles]
    pieces.extend(missing)
    kept_counts = np.concatenate([kept_counts, np.ones(len(missing), np.int64)])
    record(VocabStep(None, "candidates", 0, len(candidates) + len(missing)))

    def rare(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        drop = np.flatnonzero(~kept(lo, hi))
        flat, offsets = _gather(data, pos[lo:hi], lens[lo:hi], drop)
        return flat, offsets, np.asarray(counts[lo:hi][drop], np.int64)

    shards = [(lo, hi, hi - lo) for lo, hi in blocks]
    after = None if release is None else (lambda lo, hi: release())
    kept_counts = kept_counts + _resplit_shards(pieces, kept_counts, shards, rare, workers, after)
    record(VocabStep(None, "frequency", 0, len(pieces)))
    pieces, kept_counts = remove_wasted(pieces, kept_counts, None, workers, record)
    results = []
    for size in sizes:
        if len(pieces) > size - N_SPECIAL:
            c = kept_counts.tolist()
            order = sorted(
                range(len(pieces)),
                key=lambda i: (len(pieces[i]) > 1, -c[i], -len(pieces[i]), pieces[i]),
            )
            top, rest = order[: size - N_SPECIAL], order[size - N_SPECIAL :]
            dropped = [pieces[i] for i in rest]
            weights = kept_counts[rest]
            pieces = [pieces[i] for i in top]
            kept_counts = kept_counts[top]
            flat, offsets = _flat(dropped)
            kept_counts = kept_counts + resplit(
                pieces, kept_counts, flat, offsets, weights, workers
            )
            record(VocabStep(size, "cut", 0, len(pieces)))
            pieces, kept_counts = remove_wasted(pieces, kept_counts, size, workers, record)
        else:
            record(VocabStep(size, "cut", 0, len(pieces)))
        results.append(dict(zip(pieces, kept_counts.tolist(), strict=True)))
    return results


def _piece_bytes(key: Any) -> bytes:
    if isinstance(key, bytes):
        piece = key
    elif isinstance(key, str):
        piece = key.encode("utf-8")
    else:
        raise TypeError(f"pieces are str or bytes, got {key!r} ({type(key).__name__})")
    if not piece:
        raise ValueError("the empty string is not a piece: remove it from the dictionary")
    return piece


def from_vocab(
    pieces: Mapping[str, int] | Mapping[bytes, int] | Mapping[str | bytes, int],
    max_vocab_size: int | None = None,
    max_piece_length: int | None = None,
    min_count: int = 1,
    workers: int = 1,
) -> dict[bytes, int]:
    """``{piece: count}`` of a BytePiece vocabulary built from a piece-frequency dictionary.

    What the reference's ``convert_to_bytepiece`` does: complete the 256 single bytes (count 1),
    re-split pieces longer than ``max_piece_length`` or rarer than ``min_count``, remove wasted
    pieces (ALGORITHM.md 2.4 steps 1-4) and, if ``max_vocab_size`` is given, cut to it (step 5).

    >>> vocab = from_vocab({"ab": 3, "abc": 1, "c": 2}, max_piece_length=2)
    >>> vocab[b"ab"], len(from_vocab({"ab": 3}))
    (4, 257)
    """
    table: dict[bytes, int] = {}
    for key, count in pieces.items():
        piece = _piece_bytes(key)
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"counts are positive integers, got {count!r} for {key!r}")
        if piece in table:
            raise ValueError(f"{key!r} is given twice (as str and as bytes)")
        table[piece] = int(count)
    if not table:
        raise ValueError("pieces is empty: give at least one {piece: count}")
    keys = list(table)
    lens = np.fromiter(map(len, keys), np.int64, len(keys))
    pos = np.zeros(len(keys), np.int64)
    np.cumsum(lens[:-1], out=pos[1:])
    data = np.frombuffer(b"".join(keys), np.uint8)
    candidates = PieceCounts(pos, lens, np.fromiter(table.values(), np.int64, len(keys)))
    size = len(table) + 256 + N_SPECIAL if max_vocab_size is None else max_vocab_size
    longest = int(lens.max()) if max_piece_length is None else max_piece_length
    (result,) = prune_pieces(data, candidates, [size], longest, min_count, workers, _ignore)
    return result


def _ignore(step: object) -> None:
    """No progress to report."""
