"""The refined trainer (``Trainer(algorithm="refined")``): the same objective as BytePiece, the
unigram code length of the corpus over byte-level pieces, optimized directly.

1. **Candidates.** Every substring of the training chunks of 2 to ``max_piece_length`` bytes
   seen at least ``min_count`` times that is whole UTF-8 or, without ``ensure_unicode``, the
   first bytes of one character (``e4 b8``, shared by many characters), counted exactly a length
   at a time (apriori: a ``k``-gram is counted only where both its ``(k-1)``-grams were
   frequent), over the distinct chunks with their counts, so a repeated line costs nothing (once
   those positions are fewer than ``LIVE_SHARE`` of the bytes, only they are read, not the whole
   corpus); and every character, however rare (spelt in bytes it costs several tokens). When
   they are too few for the largest size, substrings seen fewer times fill the places left, the
   shortest first (:func:`fill_candidates`); they count for the largest size only. The seed is
   every character and then the most frequent by ``count * length``, at most ``SEED_FACTOR``
   times the largest size or, if more, one for every ``SEED_BYTES`` bytes of training text up to
   ``SEED_LEAST`` (SentencePiece seeds from a million), with the 256 single bytes, which are
   always kept: no text is ever out of vocabulary. Each thread counts the keys of its own
   hash partitions; under a memory budget a length's keys are sketched first and counted in
   as many partitions as keep the threads' tables within it.
2. **EM.** The unigram model's expected piece counts over the segmentation lattice of every
   chunk (forward-backward, ``kernels_unigram._expected_counts``) re-estimate its
   log-probabilities with a Bayesian update (``digamma``) that favours a sparse model, as in
   Kudo (2018) and SentencePiece's unigram trainer; pieces expected less than
   ``MIN_KEPT`` times are dropped, the rarest first, never below the size asked for. A piece
   of several characters counts there as at most twice its expected count in the half of the
   training text where it is rarer (``HALF_FACTOR``; the halves are the even and the odd of
   ``HALF_BLOCKS`` blocks of the text): a phrase of one passage (a name in a run of reviews of
   one hotel) seldom comes back in new text, a phrase of both halves does.
3. **Pruning by loss.** Each piece's loss is how much the corpus log-likelihood drops when it
   is replaced by its best segmentation into the other pieces, its count less
   ``LOSS_DISCOUNT`` for a piece of several characters (a phrase seen a few times in
   training seldom comes back in new text; ties go to the more frequent). The pieces of
   least loss go, ``1 - SHRINK`` of the vocabulary a round with ``EM_STEPS`` EM iterations
   between rounds, down to exactly each requested size (largest first); the last EM gives
   the counts written to the model. The first bytes of a character are weighed only in the
   round that reaches a size: before, most characters are pieces and they are seldom used;
   after, they spell a rare character in two tokens instead of three. Those that round
   removes are weighed again at once, with the characters it removed gone (:func:`reweigh`:
   back in, EM, the round again, until a round changes nothing), and again for the next,
   smaller size.
4. **Unused pieces.** EM keeps pieces for the paths it weighs, but the tokenizer takes only
   the best path, and on a corpus with fewer good pieces than the size many are never used
   (at 8,000 on 1 MB of the King James Bible, 968 before the rounds below, 52 after). They
   are replaced by pieces the tokenizer would use: two pieces that follow each other in its
   segmentation of the training text, joined, the most frequent first (as byte-level BPE
   merges), with EM after each round (:func:`replace_unused`). Only pieces of several
   characters are replaced: a character or the first bytes of one, unused in training, still
   spells a rare character of new text in fewer tokens than its bytes (replacing them cost
   0.27 bits/byte held out on the 100 KB mix at 8,000).

The counts in the model file are the last expected counts rounded (at least 1): the
``Tokenizer`` scores them ``log count - log total``, the same model file as the reference's.
``order`` is not used (the candidates are not found by an n-gram model).

Everything is deterministic: expected counts are summed in fixed point (``kernels_unigram``),
ties are broken by piece bytes, and the result does not depend on the number of workers.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..model import N_SPECIAL
from ..utf8 import is_whole_utf8
from ..vocab import Vocab
from .corpus import TrainingCorpus
from .events import VocabStep
from .hashtable import (
    HLL_BITS,
    _entries,
    _piece_entries,
    _piece_merge,
    capacity_for,
    hll_estimate,
    new_table,
)
from .jobs import chunk_ranges, run_ranges
from .kernels_pieces import _gather
from .kernels_unigram import (
    FIXED,
    PACKED,
    _alternatives,
    _char_prefix,
    _chunk_hashes,
    _count_at,
    _count_chars,
    _count_extensions,
    _count_packed,
    _expected_counts,
    _raise_at,
    _raise_frequent,
    _raise_packed,
    _sketch_at,
    _sketch_length,
    _whole_utf8,
)
from .memory import SLOT_BYTES, MemoryPlan
from .prune import _flat, _unflat

__all__ = [
    "EM_STEPS",
    "SEED_BYTES",
    "SEED_FACTOR",
    "SEED_LEAST",
    "SHRINK",
    "Candidates",
    "UnigramModel",
    "digamma",
    "expected_counts",
    "fill_candidates",
    "find_candidates",
    "model_of_seed",
    "refine",
    "seed_model",
    "seed_pieces",
]

# Seed pieces kept: a multiple of the largest requested size, or if more, one for every
# SEED_BYTES bytes of training text up to SEED_LEAST (a small size needs as wide a choice as
# a large one, its pieces being the best few of many, as far as the text gives evidence).
SEED_FACTOR = 8
SEED_BYTES = 4
SEED_LEAST = 250_000
# Share of the vocabulary a pruning round keeps.
SHRINK = 0.75
# EM iterations between two pruning rounds, and at each requested size.
EM_STEPS = 2
# Occurrences taken off the count of a piece of several characters when its loss is weighed
# (absolute discounting): a phrase seen a few times in training is seldom seen again in new
# text, while a character seen once is (characters are not discounted).
LOSS_DISCOUNT = 3.0
# Expected count below which a piece is dropped by the M-step (SentencePiece drops below
# 0.5): a piece the lattice expects less than once is seldom seen again in new text, and
# keeping it down to the size asked for crowds out pieces that are.
MIN_KEPT = 1.0
# Rounds at most of weighing again the first bytes of characters a size's final round removed
# (:func:`reweigh`), a cap: on zh_poems (86 KB) at 2,000 they settle in four.
REWEIGH_ROUNDS = 8
# A piece of several characters is kept by the M-step as if its count were at most this
# many times its expected count in the half of the training text where it is rarer: a phrase
# seen in one passage only seldom comes back in new text. The halves (:attr:`Chunks.halves`)
# are the even and the odd of HALF_BLOCKS blocks of the text: two blocks, the first half and
# the second, would part the corpora that a mixed text joins end to end.
HALF_FACTOR = 2.0
HALF_BLOCKS = 64
# Least expected count the M-step scores a piece by (bytes never seen keep this floor).
MIN_EXPECTED = 0.5
# Rounds of replacing unused pieces at each size, and the share of the size below which
# unused pieces are left alone.
UNUSED_ROUNDS = 4
UNUSED_SHARE = 0.005
# Share of the bytes below which candidates are counted only at the positions still possible
# (listed), not by reading the whole corpus for every length.
LIVE_SHARE = 1 / 8
# Load a counting table is sized for under a memory budget, from its estimated keys.
COUNT_LOAD = 0.7
# Ranges of chunks the E-step is cut into (unit of work of the threads).
_RANGES = 64

Record = Callable[[VocabStep], None]


@dataclass(frozen=True)
class Candidates:
    """Candidate pieces: piece ``p`` is ``data[pos[p]:pos[p] + lens[p]]``, seen ``counts[p]``
    times (int64[n] each, in no particular order); ``order_key`` (uint64[n]) breaks ties
    between pieces of one length whatever the number of workers (the bytes packed for
    pieces of up to 8 bytes, the first occurrence in the corpus for longer ones); ``counted``
    and ``kept`` per length (index = length) as ``TrainHistory.ngrams`` shows them; the last
    ``fillers`` are the rarer ones :func:`fill_candidates` added."""

    data: np.ndarray
    pos: np.ndarray
    lens: np.ndarray
    counts: np.ndarray
    order_key: np.ndarray
    counted: list[int]
    kept: list[int]
    fillers: int = 0

    def __len__(self) -> int:
        return int(self.pos.shape[0])

    def piece(self, p: int) -> bytes:
        """The bytes of candidate ``p``."""
        return self.data[self.pos[p] : self.pos[p] + self.lens[p]].tobytes()


def digamma(x: np.ndarray) -> np.ndarray:
    """The digamma function of positive ``x`` (float64), to about 1e-12.

    >>> digamma(np.array([1.0]))[0].round(6)  # minus the Euler-Mascheroni constant
    np.float64(-0.577216)
    """
    x = np.asarray(x, np.float64).copy()
    out = np.zeros_like(x)
    while True:  # recurrence up to x >= 6: psi(x) = psi(x + 1) - 1 / x
        small = x < 6
        if not small.any():
            break
        out[small] -= 1 / x[small]
        x[small] += 1
    inv = 1 / x
    inv2 = inv * inv
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return out + np.log(x) - 0.5 * inv - series  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Chunks:
    """The distinct training chunks, in order of first occurrence, and how often each occurs:
    the refined stages work on these (a repeated line is counted, and segmented, once).

    data    : uint8[n_bytes]       the distinct chunks' bytes, concatenated
    offsets : int64[n_chunks + 1]  chunk ``c`` is ``data[offsets[c]:offsets[c + 1]]``
    weights : int64[n_chunks]      occurrences of each in the corpus
    """

    data: np.ndarray
    offsets: np.ndarray
    weights: np.ndarray

    @property
    def n_bytes(self) -> int:
        return int(self.data.shape[0])

    @functools.cached_property
    def halves(self) -> Halves | None:
        """The two halves of the training text, for :meth:`UnigramModel.em` to see in which
        a piece is rarer: the text cut into ``HALF_BLOCKS`` blocks of as many bytes (of the
        distinct chunks, a chunk in the block where it starts), the even blocks in one half
        and the odd in the other, so that a phrase of one passage is in one half and a
        phrase of the whole text in both, even where the text joins corpora of several
        kinds. Each chunk counts ``w - w // 2`` of its ``w`` times in its own half and the
        other ``w // 2`` in the other (the distinct chunks do not say where a repeated one
        occurs again). None for a text of one block.
        """
        n = len(self.weights)
        o = self.offsets
        # block k holds the chunks that start in the k-th HALF_BLOCKS-th of the bytes
        block = np.minimum(o[:-1] * HALF_BLOCKS // max(int(o[-1]), 1), HALF_BLOCKS - 1)
        bounds = [0, *(np.flatnonzero(np.diff(block)) + 1).tolist(), n]
        if len(bounds) < 3:
            return None
        again = self.weights // 2
        ranges: tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]] = ([], [])
        extra: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
        for lo, hi in itertools.pairwise(bounds):
            side = int(block[lo]) % 2
            ranges[side].append((lo, hi, int(o[hi] - o[lo])))
            extra[1 - side].append(lo + np.flatnonzero(again[lo:hi]))
        others: list[Chunks | None] = []
        lens = np.diff(o)
        for side in (0, 1):
            idx = np.concatenate(extra[side]).astype(np.int64)
            if len(idx) == 0:
                others.append(None)
                continue
            flat, out = _gather(self.data, o[:-1], lens, idx)
            others.append(Chunks(flat, out, again[idx]))
        return Halves(self.weights - again, ranges, (others[0], others[1]))


@dataclass(frozen=True)
class Halves:
    """:attr:`Chunks.halves`: the weights each chunk has in its own half, the chunk ranges
    of each half, and each half's share of the other half's repeated chunks (or None)."""

    weights: np.ndarray
    ranges: tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]
    others: tuple[Chunks | None, Chunks | None]

    def counts(self, corpus: Chunks, vocab: Vocab, workers: int) -> tuple[np.ndarray, ...]:
        """Each half's expected counts (float64, by id) under the unigram model of ``vocab``."""
        out = []
        for ranges, other in zip(self.ranges, self.others, strict=True):
            counts = expected_counts(corpus, vocab, workers, self.weights, ranges)[0]
            if other is not None:
                counts += expected_counts(other, vocab, workers)[0]
            out.append(counts)
        return tuple(out)


def distinct_chunks(corpus: TrainingCorpus) -> Chunks:
    """The :class:`Chunks` of a corpus: chunks grouped by a hash of their bytes (equal bytes
    checked within a group), each group once, in order of first occurrence.

    >>> from bytepiece_core._training.corpus import read_corpus
    >>> c = distinct_chunks(read_corpus(["ab\\n", "cd\\n", "ab\\n"], False, 9, lambda d, b: 0))
    >>> bytes(c.data), c.offsets.tolist(), c.weights.tolist()
    (b'ab\\ncd\\n', [0, 3, 6], [2, 1])
    """
    data, offsets = corpus.data, corpus.chunk_offsets
    n = corpus.n_chunks
    starts, lens = offsets[:-1], np.diff(offsets)
    hashes = _chunk_hashes(data, offsets)
    order = np.lexsort((np.arange(n), hashes))  # by hash, then first occurrence
    first = np.arange(n)  # the first chunk equal to each chunk
    ordered = hashes[order]
    group_starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    bounds = [*group_starts.tolist(), n] if n else [0]
    for a, b in itertools.pairwise(bounds):
        if b - a == 1:
            continue
        members = order[a:b].tolist()
        seen: list[int] = []
        for c in members:  # equal hashes: equal bytes, but for a collision
            chunk = data[starts[c] : starts[c] + lens[c]]
            for f in seen:
                if lens[f] == lens[c] and np.array_equal(
                    data[starts[f] : starts[f] + lens[f]], chunk
                ):
                    first[c] = f
                    break
            else:
                seen.append(c)
    keep = np.flatnonzero(first == np.arange(n))
    weights = np.bincount(first, minlength=n)[keep].astype(np.int64)
    flat, out = _gather(data, starts, lens, keep)
    return Chunks(flat, out, weights)


def find_candidates(
    corpus: Chunks,
    max_piece_length: int,
    min_count: int,
    ensure_unicode: bool,
    workers: int,
    progress: Callable[[int, int], None],
    plan: MemoryPlan | None = None,
    label: str = "length",
) -> Candidates:
    """The substrings of 2 to ``max_piece_length`` bytes seen at least ``min_count`` times,
    with their occurrence counts (step 1 of the module docstring), a length at a time.

    A ``k``-gram is counted only where both its ``(k-1)``-grams are frequent (``maxlen``,
    the longest frequent substring at each byte, says where), so every count of a frequent
    one is exact and rare ones are seldom stored; the frequent ones raise ``maxlen`` for the
    next length. ``progress(k, n_bytes)`` follows each length's pass. The candidates are the
    whole-UTF-8 ones and, without ``ensure_unicode``, the first bytes of one character too
    (the others still extend to longer ones), and every character, however rare.

    Each thread counts the keys of its own hash partitions. With a ``plan`` that has a
    budget, a length's keys are first sketched (HyperLogLog) and cut into as many partitions
    as keep the tables of all threads within it; the plan's report gets them as
    ``"{label} {k}"``.
    """
    n_bytes = corpus.n_bytes
    maxlen = np.ones(n_bytes + 1, np.uint8)
    maxlen[n_bytes] = 0
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    counted, kept = [1, 256], [1, 256]
    cap = 1 << 17  # room for every byte pair
    at: tuple[np.ndarray, np.ndarray] | None = None  # the positions left, and their weights
    for k in range(2, min(max_piece_length, 255) + 1):
        report = functools.partial(progress, k)
        if at is not None:  # where both (k-1)-grams are frequent
            still = (maxlen[at[0]] >= k - 1) & (maxlen[at[0] + 1] >= k - 1)
            at = at[0][still], at[1][still]
        length = _length_packed if k <= PACKED else _length_spans
        n_parts = max(1, workers)
        if plan is not None and plan.budget is not None:
            estimate = _distinct_estimate(corpus, maxlen, k, at)
            resident = sum(a.nbytes for found in parts for a in found)
            name = f"{label} {k}"
            n_parts, _ = plan.split(name, estimate, COUNT_LOAD, n_parts, resident)
            n_parts = max(n_parts, workers)  # a partition for every thread at least
            cap = capacity_for(estimate / n_parts, COUNT_LOAD)
            plan.report[name].update(
                partitions=n_parts,
                table_bytes=cap * SLOT_BYTES * max(1, workers),
                estimated_keys=round(estimate),
            )
        part, n, n_kept = length(corpus, maxlen, k, cap, min_count, workers, report, at, n_parts)
        counted.append(n)
        kept.append(n_kept)
        if n_kept == 0:
            break
        if at is None and np.count_nonzero(maxlen >= k) <= LIVE_SHARE * n_bytes:
            at = _live_positions(corpus, maxlen, k)
        keep = _whole_utf8(*part[:2])
        if not ensure_unicode:
            keep |= _char_prefix(*part[:2])
        parts.append(_select(part, keep))
        cap = max(1024, 2 * n_kept // max(1, workers))
    del maxlen, at  # before the candidates are put together (the peak of memory)
    # every character, however rare: spelt in bytes it costs several
    parts.append(_rare_chars(corpus, min_count, workers))
    return _arena(parts, counted, kept)


def _distinct_estimate(
    corpus: Chunks, maxlen: np.ndarray, k: int, at: tuple[np.ndarray, np.ndarray] | None
) -> float:
    """About how many distinct ``k``-grams the pass of length ``k`` will count (a HyperLogLog
    sketch of them, with some room for its error; two-byte ones are at most 65,536)."""
    if k <= 2:
        return float(min(1 << 16, corpus.n_bytes))
    registers = np.zeros(1 << HLL_BITS, np.uint8)
    if at is not None:
        _sketch_at(corpus.data, at[0], k, registers)
    else:
        _sketch_length(corpus.data, corpus.offsets, maxlen, k, registers)
    return hll_estimate(registers) * 1.05 + 16


def _live_positions(corpus: Chunks, maxlen: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The positions where a ``(k+1)``-gram can still be frequent (both its ``k``-grams
    are), and the weights of their chunks."""
    pos = np.flatnonzero((maxlen[:-1] >= k) & (maxlen[1:] >= k))
    return pos, corpus.weights[np.searchsorted(corpus.offsets, pos, "right") - 1]


def fill_candidates(
    corpus: Chunks,
    candidates: Candidates,
    needed: int,
    max_piece_length: int,
    min_count: int,
    ensure_unicode: bool,
    workers: int,
    progress: Callable[[int, int], None],
    plan: MemoryPlan | None = None,
) -> Candidates:
    """``candidates`` and, if they are fewer than ``needed``, substrings seen fewer than
    ``min_count`` times to make up the difference: the shortest first (they are the likelier
    to come back), then the most frequent, then by ``order_key``. Lengths are counted up to
    2, 4, 8, ... bytes until there are enough, so a large corpus counts only short ones. They
    are the first to go when pruning (their loss is discounted to nothing), so they only take
    places nothing else would. There are never more candidates than half the bytes of the
    distinct chunks: a vocabulary beyond that would be the text itself."""
    needed = min(needed, corpus.n_bytes // 2)
    if len(candidates) >= needed or min_count <= 1:
        return candidates
    longest = 2
    while True:
        longest = min(longest, max_piece_length)
        found = find_candidates(
            corpus, longest, 1, ensure_unicode, workers, progress, plan, "rarer, length"
        )
        lead = found.data[found.pos]
        rarer = np.flatnonzero((found.counts < min_count) & (found.lens != _char_length(lead)))
        if len(rarer) >= needed - len(candidates) or longest >= max_piece_length:
            break
        longest *= 2
    order = np.lexsort((found.order_key[rarer], -found.counts[rarer], found.lens[rarer]))
    pick = rarer[order][: needed - len(candidates)]
    flat, _ = _gather(found.data, found.pos, found.lens, pick)
    lens = np.concatenate([candidates.lens, found.lens[pick]])
    pos = np.zeros(len(lens), np.int64)
    np.cumsum(lens[:-1], out=pos[1:])
    return Candidates(
        np.concatenate([candidates.data, flat]),
        pos,
        lens,
        np.concatenate([candidates.counts, found.counts[pick]]),
        np.concatenate([candidates.order_key, found.order_key[pick]]),
        candidates.counted,
        candidates.kept,
        len(pick),
    )


Part = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # flat, offsets, counts, keys


def _by_partition(
    corpus: Chunks,
    count: Callable[..., tuple[np.ndarray, int]],
    lift: Callable[..., None],
    keep: Callable[[np.ndarray], tuple[np.ndarray, ...]],
    cap: int,
    workers: int,
    progress: Callable[[int], None],
    parts: int | None,
) -> tuple[list[tuple[np.ndarray, ...]], int]:
    """One length's pass: each of ``parts`` hash partitions is counted by one of ``workers``
    threads over the whole corpus (``count(lo, hi, part, parts, table, n)``) into a table of
    its own, which keeps its frequent ones (``keep(table)``) and raises ``maxlen`` where they
    occur (``lift(lo, hi, part, parts, table)``; partitions never share a byte of
    ``maxlen``), then is dropped. Nothing is merged, so no table holds more than its
    partition, and at most ``workers`` tables are there at once. Returns each partition's
    ``keep`` and the keys counted in all (``parts`` None: one partition a worker)."""
    parts = max(1, workers) if parts is None else parts
    n_chunks = corpus.offsets.shape[0] - 1

    def work(state, part, _):  # type: ignore[no-untyped-def]
        table, n = count(0, n_chunks, part, parts, new_table(cap), 0)
        kept = keep(table)
        if len(kept[0]):
            lift(0, n_chunks, part, parts, table)
        return [*state, (kept, n)]

    share = corpus.n_bytes // parts
    jobs = [(part, part + 1, share) for part in range(parts)]
    done = run_ranges(jobs, list, work, workers, progress)
    found = [r for state in done for r in state]  # their order is of no matter (Candidates)
    return [r[0] for r in found], sum(r[1] for r in found)


def _length_packed(
    corpus: Chunks,
    maxlen: np.ndarray,
    k: int,
    cap: int,
    min_count: int,
    workers: int,
    progress: Callable[[int], None],
    at: tuple[np.ndarray, np.ndarray] | None = None,
    parts: int | None = None,
) -> tuple[Part, int, int]:
    """Length ``k <= PACKED``: its frequent k-grams (packed keys), raising ``maxlen``;
    returns them, the k-grams counted and the frequent ones. Only at the positions of ``at``
    (with their weights) if given (:func:`find_candidates`); the keys counted in ``parts``
    hash partitions (:func:`_by_partition`; default: one a worker)."""
    data, offsets, weights = corpus.data, corpus.offsets, corpus.weights
    least = np.uint64(min_count)

    def count(lo, hi, part, parts, table, n):  # type: ignore[no-untyped-def]
        if at is not None:
            return _count_at(data, *at, k, True, part, parts, table, n)
        return _count_packed(data, offsets, weights, lo, hi, maxlen, k, part, parts, table, n)

    def lift(lo, hi, part, parts, table):  # type: ignore[no-untyped-def]
        if at is not None:
            _raise_at(data, at[0], maxlen, k, True, part, parts, table, least)
        else:
            _raise_packed(data, offsets, lo, hi, maxlen, k, part, parts, table, least)

    found, n = _by_partition(
        corpus, count, lift, lambda table: _entries(table, least), cap, workers, progress, parts
    )
    keys = np.concatenate([f[0] for f in found])
    counts = np.concatenate([f[1] for f in found]).astype(np.int64)
    shifts = np.arange(8 * (k - 1), -1, -8, dtype=np.uint64)
    flat = ((keys[:, None] >> shifts) & np.uint64(0xFF)).astype(np.uint8).reshape(-1)
    offs = np.arange(0, k * len(keys) + 1, k, dtype=np.int64)
    return (flat, offs, counts, keys), n, len(keys)


def _length_spans(
    corpus: Chunks,
    maxlen: np.ndarray,
    k: int,
    cap: int,
    min_count: int,
    workers: int,
    progress: Callable[[int], None],
    at: tuple[np.ndarray, np.ndarray] | None = None,
    parts: int | None = None,
) -> tuple[Part, int, int]:
    """Length ``k > PACKED``, as :func:`_length_packed` (pieces as corpus spans)."""
    data, offsets, weights = corpus.data, corpus.offsets, corpus.weights
    least = np.uint64(min_count)

    def count(lo, hi, part, parts, table, n):  # type: ignore[no-untyped-def]
        if at is not None:
            return _count_at(data, *at, k, False, part, parts, table, n)
        return _count_extensions(data, offsets, weights, lo, hi, maxlen, k, part, parts, table, n)

    def lift(lo, hi, part, parts, table):  # type: ignore[no-untyped-def]
        if at is not None:
            _raise_at(data, at[0], maxlen, k, False, part, parts, table, least)
        else:
            _raise_frequent(data, offsets, lo, hi, maxlen, k, part, parts, table, least)

    def keep(table: np.ndarray) -> tuple[np.ndarray, ...]:
        pos, lens, counts = _piece_entries(table)
        frequent = counts >= min_count
        return pos[frequent], lens[frequent], counts[frequent]

    found, n = _by_partition(corpus, count, lift, keep, cap, workers, progress, parts)
    pos, lens, counts = (np.concatenate([f[i] for f in found]) for i in range(3))
    flat, offs = _gather(data, pos, lens, np.arange(len(pos)))
    return (flat, offs, counts.astype(np.int64), pos.astype(np.uint64)), n, len(pos)


def _select(part: Part, keep: np.ndarray) -> Part:
    """The strings of ``part`` where ``keep``."""
    flat, offs, counts, keys = part
    index = np.flatnonzero(keep)
    lens = np.diff(offs)
    out, out_offs = _gather(flat, offs[:-1], lens, index)
    return out, out_offs, counts[index], keys[index]


def _arena(parts: list[Part], counted: list[int], kept: list[int]) -> Candidates:
    """The :class:`Candidates` of every part, in one array."""
    if not parts:
        empty = np.zeros(0, np.int64)
        return Candidates(
            np.zeros(0, np.uint8), empty, empty, empty, empty.astype(np.uint64), counted, kept
        )
    fields: list[list[np.ndarray]] = [list(field) for field in zip(*parts)]
    parts.clear()  # each field is joined, then its parts dropped: one field's copy at a time
    flat = np.concatenate(fields[0])
    fields[0] = []
    lens = np.concatenate([np.diff(o) for o in fields[1]])
    fields[1] = []
    pos = np.zeros(len(lens), np.int64)
    np.cumsum(lens[:-1], out=pos[1:])
    counts = np.concatenate(fields[2]).astype(np.int64)
    fields[2] = []
    keys = np.concatenate(fields[3]).astype(np.uint64)
    return Candidates(flat, pos, lens, counts, keys, counted, kept)


def _rare_chars(corpus: Chunks, min_count: int, workers: int) -> Part:
    """The multi-byte characters seen fewer than ``min_count`` times (the others are
    candidates already), their keys packed."""
    data, offsets, weights = corpus.data, corpus.offsets, corpus.weights

    def count(state, lo, hi):  # type: ignore[no-untyped-def]
        return _count_chars(data, offsets, weights, lo, hi, *state)

    init = functools.partial(_empty_table, 1024)
    tables = run_ranges(chunk_ranges(offsets, _RANGES), init, count, workers, _skip)
    table, n = tables.pop(0)
    while tables:
        table, n = _piece_merge(table, n, tables.pop(0)[0], data)
    pos, lens, counts = _piece_entries(table)
    rare = np.flatnonzero(counts < min_count)
    flat, offs = _gather(data, pos, lens, rare)
    keys = np.zeros(len(rare), np.uint64)
    for t in range(4):  # the character's bytes packed, as _length_packed's keys
        inside = lens[rare] > t
        byte = flat[np.minimum(offs[:-1] + t, max(len(flat) - 1, 0))].astype(np.uint64)
        keys = np.where(inside, (keys << np.uint64(8)) | byte, keys)
    return flat, offs, counts[rare], keys


def _empty_table(cap: int) -> tuple[np.ndarray, int]:
    return new_table(cap), 0


def _skip(nbytes: int) -> None:
    """No progress to report."""


def expected_counts(
    corpus: Chunks,
    vocab: Vocab,
    workers: int,
    weights: np.ndarray | None = None,
    ranges: list[tuple[int, int, int]] | None = None,
) -> tuple[np.ndarray, float]:
    """``(counts, loglik)``: each vocabulary id's expected count in the corpus (float64, by
    id) under the unigram model of ``vocab``, and the corpus log-likelihood (nats); over
    the chunk ``ranges`` only and with other ``weights`` (by chunk) if given."""
    data, offsets = corpus.data, corpus.offsets
    weights = corpus.weights if weights is None else weights
    cells, pairs, value, prob = vocab.cells, vocab.pairs, vocab.value, np.exp(vocab.logp)
    longest = max(map(len, vocab.pieces))

    def work(state, lo, hi):  # type: ignore[no-untyped-def]
        counts, loglik = state
        found = _expected_counts(
            data, offsets, weights, lo, hi, cells, pairs, value, prob, longest, counts
        )
        return counts, loglik + found

    parts = run_ranges(
        chunk_ranges(offsets, _RANGES) if ranges is None else ranges,
        lambda: (np.zeros(vocab.size, np.int64), 0.0),
        work,
        workers,
        _skip,
    )
    fixed = parts[0][0] if len(parts) == 1 else np.sum([p[0] for p in parts], axis=0)
    return fixed / FIXED, float(sum(p[1] for p in parts))


# The byte length of the UTF-8 character each lead byte starts (1 for any other byte).
_LEAD_LENGTH = np.select(
    [np.arange(256) >= 0xF0, np.arange(256) >= 0xE0, np.arange(256) >= 0xC0], [4, 3, 2], 1
).astype(np.uint8)


def _char_length(lead: np.ndarray) -> np.ndarray:
    """The byte length of the UTF-8 character a lead byte starts (1 for any other byte), as
    uint8 (one byte per candidate: this runs over all of them)."""
    return _LEAD_LENGTH[lead]  # type: ignore[no-any-return]


def _one_char(piece: bytes) -> bool:
    """Whether ``piece`` is one whole UTF-8 character."""
    return is_whole_utf8(piece) and len(piece.decode("utf-8")) == 1


class UnigramModel:
    """The unigram model being trained: pieces (the 256 bytes among them) and their scores."""

    def __init__(
        self, pieces: list[bytes], scores: np.ndarray, filler: np.ndarray | None = None
    ) -> None:
        self.pieces = pieces
        self.scores = scores  # unnormalized log-weights, float64[len(pieces)]
        self.single = np.fromiter((len(p) == 1 for p in pieces), bool, len(pieces))
        self.char = np.fromiter(map(_one_char, pieces), bool, len(pieces))
        self.partial = _char_prefix(*_flat(pieces))  # the first bytes of one character
        self.reserve: list[tuple[bytes, float]] = []  # first-bytes pieces a size pruned
        # the rarer pieces that fill places at the largest size (fill_candidates)
        self.filler = np.zeros(len(pieces), bool) if filler is None else filler

    def state(self) -> dict[str, np.ndarray]:
        """The model as arrays, for a checkpoint (:meth:`from_state` builds it again)."""
        flat, offsets = _flat(self.pieces)
        reserve = [p for p, _ in self.reserve]
        reserve_flat, reserve_offsets = _flat(reserve)
        return {
            "pieces": flat.copy(),
            "offsets": offsets,
            "scores": self.scores,
            "filler": self.filler,
            "reserve": reserve_flat.copy(),
            "reserve_offsets": reserve_offsets,
            "reserve_scores": np.array([s for _, s in self.reserve], np.float64),
        }

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> UnigramModel:
        """The model of :meth:`state`, the same to the bit."""
        model = cls(
            _unflat(state["pieces"], state["offsets"]),
            np.array(state["scores"], np.float64),
            np.array(state["filler"], bool),
        )
        reserve = _unflat(state["reserve"], state["reserve_offsets"])
        scores = np.asarray(state["reserve_scores"]).tolist()
        model.reserve = list(zip(reserve, scores, strict=True))
        return model

    def vocab(self) -> Vocab:
        """The vocabulary scoring each piece by its normalized probability."""
        weights = np.exp(self.scores - self.scores.max())
        return Vocab.from_pieces(self.pieces, np.maximum(weights, 1e-300).tolist())

    def em(self, corpus: Chunks, workers: int, floor: int) -> np.ndarray:
        """One EM iteration; returns the expected counts (by piece) it re-estimated from.
        Pieces whose expected count falls below ``MIN_KEPT`` are dropped (never bytes),
        the rarest first, but never below ``floor`` pieces; first-bytes pieces are held for
        :meth:`prune` to weigh. For a piece of several characters the count that decides is
        at most ``HALF_FACTOR`` times its expected count in the half of the training text
        where it is rarer (:attr:`Chunks.halves`)."""
        vocab = self.vocab()
        if corpus.halves is None:
            counts = expected_counts(corpus, vocab, workers)[0][N_SPECIAL:]
            kept = counts
        else:
            ca, cb = (c[N_SPECIAL:] for c in corpus.halves.counts(corpus, vocab, workers))
            counts = ca + cb
            several = np.minimum(counts, HALF_FACTOR * np.minimum(ca, cb))
            kept = np.where(self.char, counts, several)
        rare = np.flatnonzero(~(self.single | self.partial) & (kept < MIN_KEPT))
        room = max(0, len(self.pieces) - floor)
        if len(rare) > room:  # drop only the rarest, down to the floor
            rank = sorted(rare.tolist(), key=lambda i: (kept[i], counts[i], self.pieces[i]))
            rare = np.array(rank[:room], np.int64)
        keep = np.ones(len(self.pieces), bool)
        keep[rare] = False
        self._keep(keep)
        counts = counts[keep]
        # Bayesian update: a sparse prior, as Kudo (2018); bytes never seen keep a floor
        self.scores = digamma(np.maximum(counts, MIN_EXPECTED)) - digamma(
            np.array([max(counts.sum(), 1.0)])
        )
        return counts  # type: ignore[no-any-return]

    def _keep(self, keep: np.ndarray) -> None:
        self.pieces = [p for p, k in zip(self.pieces, keep.tolist(), strict=True) if k]
        self.scores = self.scores[keep]
        self.single = self.single[keep]
        self.char = self.char[keep]
        self.partial = self.partial[keep]
        self.filler = self.filler[keep]

    def prune(self, counts: np.ndarray, size: int, final: bool) -> None:
        """Keep the ``size`` pieces of most loss (the bytes always); ties go to the more
        frequent, then by piece bytes. The first bytes of a character are kept until the
        ``final`` round of a size: while most characters are pieces they are seldom used,
        yet once the rare characters go they spell each in two tokens instead of three. Those
        the final round removes wait in :attr:`reserve` for the next size."""
        if len(self.pieces) <= size:
            return
        vocab = self.vocab()
        flat, offsets = _flat(self.pieces)
        own = np.arange(N_SPECIAL, N_SPECIAL + len(self.pieces), dtype=np.int32)
        alt = _alternatives(flat, offsets, own, vocab.cells, vocab.value, vocab.logp)
        logp = vocab.logp[N_SPECIAL:]
        seen = np.where(self.char, counts, np.maximum(counts - LOSS_DISCOUNT, 0.0))
        loss = np.full(len(self.pieces), np.inf)  # single bytes (no alternative) are kept
        several = ~self.single
        loss[several] = seen[several] * (logp[several] - alt[several])
        if not final:  # held, but after the bytes, which are always kept
            loss[self.partial] = np.finfo(np.float64).max
        order = sorted(
            range(len(self.pieces)), key=lambda i: (-loss[i], -counts[i], self.pieces[i])
        )
        keep = np.zeros(len(self.pieces), bool)
        keep[order[:size]] = True
        gone = np.flatnonzero(~keep & self.partial).tolist()
        self.reserve += [(self.pieces[i], float(self.scores[i])) for i in gone]
        self._keep(keep)

    def restore(self) -> None:
        """Put the reserved first-bytes pieces back (at their last scores), for a smaller
        size to weigh again; one that has come back meanwhile (two bytes joined by
        :func:`replace_unused`) stays as it is."""
        have = set(self.pieces)
        back = [(p, s) for p, s in self.reserve if p not in have]
        self.reserve = []
        if back:
            pieces, scores = zip(*back, strict=True)
            self.add(list(pieces), np.array(scores))

    def add(self, pieces: list[bytes], scores: np.ndarray) -> None:
        """Add ``pieces`` (none of them a single byte or already here) at ``scores``."""
        self.pieces = self.pieces + pieces
        self.scores = np.concatenate([self.scores, scores])
        self.single = np.concatenate([self.single, np.zeros(len(pieces), bool)])
        self.char = np.concatenate([self.char, np.fromiter(map(_one_char, pieces), bool)])
        self.partial = np.concatenate([self.partial, _char_prefix(*_flat(pieces))])
        self.filler = np.concatenate([self.filler, np.zeros(len(pieces), bool)])

    def drop_fillers(self, size: int) -> None:
        """Drop the filling pieces, keeping only as many as a vocabulary of ``size`` still
        needs (the most probable): at a smaller size they would take expected counts from
        the pieces that are there on their merits."""
        others = int((~self.filler).sum())
        filler = np.flatnonzero(self.filler)
        keep = np.ones(len(self.pieces), bool)
        order = sorted(filler.tolist(), key=lambda i: (-self.scores[i], self.pieces[i]))
        keep[order[max(0, size - others) :]] = False
        self._keep(keep)

    def counts_dict(self, counts: np.ndarray) -> dict[bytes, int]:
        """The model file's ``{piece: count}``: expected counts rounded, at least 1."""
        ints = np.maximum(np.rint(counts), 1).astype(np.int64)
        return dict(zip(self.pieces, ints.tolist(), strict=True))


def seed_model(candidates: Candidates, sizes: Sequence[int], n_bytes: int = 0) -> UnigramModel:
    """The model EM starts from: the 256 bytes, every candidate character and first bytes
    of a character, and the most frequent candidates by ``count * length``, at most
    ``SEED_FACTOR`` times the largest size or one for every ``SEED_BYTES`` of the ``n_bytes``
    of training text, at most ``SEED_LEAST``, whichever is more; their counts, normalized, are
    the first scores. (:func:`seed_pieces`, then :func:`model_of_seed`.)"""
    return model_of_seed(*seed_pieces(candidates, sizes, n_bytes))


def seed_pieces(
    candidates: Candidates, sizes: Sequence[int], n_bytes: int = 0
) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """The seed of :func:`seed_model` as ``(pieces, counts, filler)``: what it keeps of the
    candidates, so that they can go before the model is built (the peak of memory)."""
    limit = max(sizes) - N_SPECIAL
    lead = candidates.data[candidates.pos] if len(candidates) else np.zeros(0, np.uint8)
    ends = (
        np.append(candidates.pos, candidates.pos[-1] + candidates.lens[-1])
        if len(candidates)
        else np.zeros(1, np.int64)
    )
    # characters and the first bytes of characters (there are few of those)
    chars = (candidates.lens == _char_length(lead)) | _char_prefix(candidates.data, ends)
    del lead, ends
    seeds = max(SEED_FACTOR * limit, min(SEED_LEAST, n_bytes // SEED_BYTES))
    n_chars = int(chars.sum())
    room = max(0, seeds - n_chars)
    if room == 0:
        others = np.zeros(0, np.int64)
    elif room < len(candidates) - n_chars:  # the best by score, ties kept whole, then sorted
        # the others' scores over all candidates (characters at -1, below any other),
        # partitioned in place and then made again: one array as long as the candidates
        score = _seed_scores(candidates, chars)
        k = len(score) - room
        score.partition(k)
        cut = score[k]
        del score
        others = np.flatnonzero(_seed_scores(candidates, chars) >= cut)
    else:
        others = np.flatnonzero(~chars)
    score = candidates.counts[others] * candidates.lens[others]
    best = others[np.lexsort((candidates.order_key[others], candidates.lens[others], -score))]
    del others, score
    # every character (by count * length), then the most frequent by count * length
    first = np.flatnonzero(chars)
    first_score = candidates.counts[first] * candidates.lens[first]
    first = first[np.lexsort((candidates.order_key[first], candidates.lens[first], -first_score))]
    order = np.concatenate([first, best[:room]])
    pieces = [bytes([b]) for b in range(256)]
    pieces += [candidates.piece(int(p)) for p in order]
    counts = np.concatenate([np.ones(256), candidates.counts[order].astype(np.float64)])
    filler = np.concatenate([np.zeros(256, bool), order >= len(candidates) - candidates.fillers])
    return pieces, counts, filler


def _seed_scores(candidates: Candidates, chars: np.ndarray) -> np.ndarray:
    """``count * length`` of every candidate, -1 for the characters ``chars`` marks."""
    score = candidates.counts * candidates.lens
    score[chars] = -1
    return score  # type: ignore[no-any-return]


def model_of_seed(pieces: list[bytes], counts: np.ndarray, filler: np.ndarray) -> UnigramModel:
    """The model of a seed of :func:`seed_pieces`: the counts, normalized, are its scores."""
    return UnigramModel(pieces, np.log(counts) - math.log(counts.sum()), filler)


def viterbi_pairs(
    corpus: Chunks, vocab: Vocab, least: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(uses, pairs, counts)`` of the Viterbi segmentation of every chunk: how often each
    id is used (float64, by id), and each pair of ids that follow each other inside a chunk
    at least ``least`` times (int64[n, 2], in order of the pair) with how often (int64[n]);
    chunks count with their weights. The chunks are segmented ``_RANGES`` ranges at a time,
    so the segmentation of only one range is in memory."""
    offsets = corpus.offsets
    uses = np.zeros(vocab.size, np.float64)
    keys_parts, count_parts = [], []
    # a pair's key fits 32 bits for vocabularies of up to 65,536 ids: half the memory
    key_type = np.uint32 if vocab.size <= 1 << 16 else np.int64
    for lo, hi, _ in chunk_ranges(offsets, _RANGES):
        data = corpus.data[offsets[lo] : offsets[hi]]
        seg = vocab.segment((data, offsets[lo : hi + 1] - offsets[lo]), with_ends=False)
        per = np.diff(seg.doc_token_offsets)
        weights = np.repeat(corpus.weights[lo:hi], per)
        ids = seg.ids.astype(np.int64)
        del seg
        uses += np.bincount(ids, weights=weights, minlength=vocab.size)
        inside = np.ones(len(ids), bool)  # the token is followed by one of its chunk
        inside[np.cumsum(per)[per > 0] - 1] = False
        follow = np.flatnonzero(inside[:-1])
        keys, inverse = np.unique(
            (ids[follow] * vocab.size + ids[follow + 1]).astype(key_type), return_inverse=True
        )
        keys_parts.append(keys)
        count_parts.append(np.bincount(inverse, weights=weights[follow]).astype(np.int32))
        del ids, weights, inside, follow, inverse
    if not keys_parts:
        return uses, np.zeros((0, 2), np.int64), np.zeros(0, np.int64)
    pairs, inverse = np.unique(np.concatenate(keys_parts), return_inverse=True)
    del keys_parts
    counts = np.bincount(inverse, weights=np.concatenate(count_parts)).astype(np.int64)
    del inverse, count_parts
    frequent = counts >= least
    pairs, counts = pairs[frequent].astype(np.int64), counts[frequent]
    return uses, np.stack([pairs // vocab.size, pairs % vocab.size], axis=1), counts


def merges(
    vocab: Vocab,
    pairs: np.ndarray,
    counts: np.ndarray,
    n: int,
    have: set[bytes],
    max_piece_length: int,
    min_count: int,
    ensure_unicode: bool,
) -> list[tuple[bytes, int]]:
    """At most ``n`` new pieces, each two pieces that follow each other in the Viterbi
    segmentation at least ``min_count`` times, joined, with how often they do (all the pairs
    that make the same bytes together): the most frequent first, ties by their bytes; none in
    ``have``, at most ``max_piece_length`` bytes, and whole UTF-8 or (without
    ``ensure_unicode``) the first bytes of one character."""
    joined: dict[bytes, int] = {}
    for (a, b), count in zip(pairs.tolist(), counts.tolist(), strict=True):
        if count >= min_count:
            piece = vocab.pieces[a] + vocab.pieces[b]
            joined[piece] = joined.get(piece, 0) + count
    out: list[tuple[bytes, int]] = []
    for piece, count in sorted(joined.items(), key=lambda pc: (-pc[1], pc[0])):
        if len(out) == n:
            break
        if piece in have or len(piece) > max_piece_length:
            continue
        if not is_whole_utf8(piece) and (ensure_unicode or not _char_prefix(*_flat([piece]))[0]):
            continue
        out.append((piece, count))
    return out


def replace_unused(
    corpus: Chunks,
    model: UnigramModel,
    counts: np.ndarray,
    target: int,
    max_piece_length: int,
    min_count: int,
    ensure_unicode: bool,
    workers: int,
    record: Callable[[int, int], None],
) -> np.ndarray:
    """Replace the pieces the tokenizer's Viterbi never uses on the training text (EM keeps
    them for the paths it weighs, the tokenizer takes only the best) by pieces it would use
    (only pieces of several characters: a character or the first bytes of one still spells a
    rare character of new text in fewer tokens):
    two pieces that follow each other in its segmentation, joined, the most frequent first,
    as byte-level BPE's merges (:func:`merges`). Up to ``UNUSED_ROUNDS`` rounds, each
    followed by ``EM_STEPS`` EM iterations, until fewer than ``UNUSED_SHARE`` of the size are
    unused; ``record(round, unused)`` follows each. Returns the last expected counts."""
    for rnd in range(1, UNUSED_ROUNDS + 1):
        vocab = model.vocab()
        uses, pairs, pair_counts = viterbi_pairs(corpus, vocab, min_count)
        unused = np.flatnonzero(
            ~(model.single | model.char | model.partial) & (uses[N_SPECIAL:] == 0)
        )
        if len(unused) < max(1, int(UNUSED_SHARE * target)):
            break
        new = merges(
            vocab,
            pairs,
            pair_counts,
            len(unused),
            set(model.pieces),
            max_piece_length,
            min_count,
            ensure_unicode,
        )
        if not new:
            break
        # as many unused pieces go as there are new ones: the least expected first
        gone = sorted(unused.tolist(), key=lambda i: (counts[i], model.pieces[i]))[: len(new)]
        keep = np.ones(len(model.pieces), bool)
        keep[gone] = False
        model._keep(keep)
        joined = np.array([c for _, c in new], np.float64)
        model.add([p for p, _ in new], np.log(joined) - math.log(max(float(uses.sum()), 1.0)))
        record(rnd, len(unused))
        for _ in range(EM_STEPS):
            counts = model.em(corpus, workers, target)
    return counts


def reweigh(
    corpus: Chunks,
    model: UnigramModel,
    target: int,
    workers: int,
    step: Callable[[int], None],
) -> np.ndarray | None:
    """The first bytes of characters that the final round of a size removed, weighed again:
    back in the model, EM, and a round of pruning to ``target`` among all the pieces, until
    the pieces no longer change (at most ``REWEIGH_ROUNDS`` times). The final round weighed
    them with the counts of a lattice where the characters it removed were still pieces;
    with those gone, the first bytes spell them, and may be worth more than a piece kept.
    ``step(n_pieces)`` follows each round of pruning. Returns the last EM's counts (by
    piece), or None if there was nothing to weigh."""
    counts = None
    for _ in range(REWEIGH_ROUNDS):
        if not model.reserve:
            break
        before = set(model.pieces)
        model.restore()
        for _ in range(EM_STEPS):
            counts = model.em(corpus, workers, target)
        if len(model.pieces) > target:
            model.prune(counts, target, final=True)  # type: ignore[arg-type]
            step(len(model.pieces))
            for _ in range(EM_STEPS):
                counts = model.em(corpus, workers, target)
        if set(model.pieces) == before:
            break
    return counts


def refine(
    corpus: Chunks,
    model: UnigramModel,
    sizes: Sequence[int],
    workers: int,
    record: Record,
    max_piece_length: int = 36,
    min_count: int = 2,
    ensure_unicode: bool = False,
    done: Sequence[dict[bytes, int]] = (),
    rounds: int = 0,
    on_size: Callable[[list[dict[bytes, int]], UnigramModel, int], None] | None = None,
) -> list[dict[bytes, int]]:
    """One vocabulary ``{piece: count}`` per size of ``sizes`` (largest first) by EM,
    pruning by loss and replacing unused pieces from the ``model`` of :func:`seed_model`
    (steps 2-4 of the module docstring); ``record`` gets each step. The new pieces keep to
    ``max_piece_length``, ``min_count`` and ``ensure_unicode``.

    To resume, ``done`` holds the vocabularies of the first sizes, ``model`` is the model
    as they left it and ``rounds`` the pruning rounds they took (``record`` then gets the
    steps of the other sizes only). ``on_size(vocabularies, model, rounds)`` follows each
    size: what resuming after it needs."""
    results: list[dict[bytes, int]] = list(done)
    if not results:
        record(VocabStep(None, "candidates", 0, len(model.pieces)))
    for size in sizes[len(results) :]:
        target = size - N_SPECIAL
        model.restore()
        if results:
            model.drop_fillers(target)
        while True:
            for _ in range(EM_STEPS):
                counts = model.em(corpus, workers, target)
            if len(model.pieces) <= target:
                break
            rounds += 1
            nxt = max(target, int(len(model.pieces) * SHRINK))
            model.prune(counts, nxt, final=nxt == target)
            record(VocabStep(size, "loss", rounds, len(model.pieces)))

        def loss_step(n: int, size: int = size) -> None:
            nonlocal rounds
            rounds += 1
            record(VocabStep(size, "loss", rounds, n))

        again = reweigh(corpus, model, target, workers, loss_step)
        counts = counts if again is None else again

        def unused_step(rnd: int, _: int, size: int = size) -> None:
            record(VocabStep(size, "unused", rnd, len(model.pieces)))

        counts = replace_unused(
            corpus,
            model,
            counts,
            target,
            max_piece_length,
            min_count,
            ensure_unicode,
            workers,
            unused_step,
        )
        record(VocabStep(size, "cut", 0, len(model.pieces)))
        results.append(model.counts_dict(counts))
        if on_size is not None:
            on_size(results, model, rounds)
    return results
