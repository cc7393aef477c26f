"""The refined trainer (``Trainer(algorithm="refined")``): the same objective as BytePiece, the
unigram code length of the corpus over byte-level pieces, optimized directly.

1. **Candidates.** Every substring of the training chunks of 2 to ``max_piece_length`` bytes
   seen at least ``min_count`` times (whole UTF-8 with ``ensure_unicode``), found by the
   n-gram passes (``ngrams``, of order ``max_piece_length``: their ``maxlen`` is the longest
   such substring at each byte) and counted by occurrence. The most frequent by
   ``count * length`` seed the model (at most ``SEED_FACTOR`` times the largest size), with
   the 256 single bytes, which are always kept: no text is ever out of vocabulary.
2. **EM.** The unigram model's expected piece counts over the segmentation lattice of every
   chunk (forward-backward, ``kernels_unigram._expected_counts``) re-estimate its
   log-probabilities; a Bayesian update (``digamma``) favours a sparse model, as in Kudo
   (2018) and SentencePiece's unigram trainer.
3. **Pruning by loss.** Each piece's loss is how much the corpus log-likelihood drops when it
   is replaced by its best segmentation into the other pieces; the pieces of least loss go,
   ``SHRINK`` of the vocabulary a round with EM between rounds, down to exactly each
   requested size (largest first), where a last EM gives the counts written to the model.

The counts in the model file are the expected counts rounded (at least 1), so the
``Tokenizer`` scores ``log count - log total`` are the EM's estimates.

Everything is deterministic: expected counts are summed in fixed point (``kernels_unigram``),
ties are broken by piece bytes, and the result does not depend on the number of workers.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..model import N_SPECIAL
from ..utf8 import char_starts, is_whole_utf8
from ..vocab import Vocab
from .corpus import TrainingCorpus
from .events import VocabStep
from .hashtable import _piece_entries, _piece_merge, new_table
from .jobs import chunk_ranges, run_ranges
from .kernels_unigram import (
    FIXED,
    FNV_OFFSET,
    FNV_PRIME,
    _alternatives,
    _count_chars,
    _count_extensions,
    _expected_counts,
    _raise_frequent,
)
from .prune import _flat

__all__ = [
    "EM_STEPS",
    "SEED_FACTOR",
    "SHRINK",
    "Candidates",
    "digamma",
    "expected_counts",
    "find_candidates",
    "refine",
]

# Seed pieces kept, as a multiple of the largest requested size.
SEED_FACTOR = 8
# Share of the vocabulary a pruning round keeps.
SHRINK = 0.75
# EM iterations between two pruning rounds, and at each requested size.
EM_STEPS = 2
# Occurrences taken off each piece's count when its loss is weighed: a piece seen only a few
# times in training is seldom seen again in new text (absolute discounting).
LOSS_DISCOUNT = 3.0
# Expected count below which a piece is dropped by the M-step (as SentencePiece).
MIN_EXPECTED = 0.5
# Ranges of chunks the E-step is cut into (unit of work of the threads).
_RANGES = 64

Record = Callable[[VocabStep], None]


@dataclass(frozen=True)
class Candidates:
    """Candidate pieces as corpus spans: ``pos`` (first occurrence in the corpus data),
    ``lens`` and ``counts`` (occurrences), int64[n] each, in no particular order; ``counted``
    and ``kept`` per length (index = length) as ``TrainHistory.ngrams`` shows them."""

    pos: np.ndarray
    lens: np.ndarray
    counts: np.ndarray
    counted: list[int]
    kept: list[int]

    def __len__(self) -> int:
        return int(self.pos.shape[0])


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


def distinct_chunks(corpus: TrainingCorpus) -> Chunks:
    """The :class:`Chunks` of a corpus.

    >>> from bytepiece_core._training.corpus import read_corpus
    >>> c = distinct_chunks(read_corpus(["ab\\n", "cd\\n", "ab\\n"], False, 9, lambda d, b: 0))
    >>> bytes(c.data), c.offsets.tolist(), c.weights.tolist()
    (b'ab\\ncd\\n', [0, 3, 6], [2, 1])
    """
    data, offsets = corpus.data, corpus.chunk_offsets.tolist()
    index: dict[bytes, int] = {}
    weights: list[int] = []
    parts: list[bytes] = []
    for c in range(corpus.n_chunks):
        chunk = data[offsets[c] : offsets[c + 1]].tobytes()
        at = index.setdefault(chunk, len(parts))
        if at == len(parts):
            parts.append(chunk)
            weights.append(0)
        weights[at] += 1
    lengths = np.fromiter(map(len, parts), np.int64, len(parts))
    out = np.zeros(len(parts) + 1, np.int64)
    np.cumsum(lengths, out=out[1:])
    flat = np.frombuffer(b"".join(parts), np.uint8) if parts else np.zeros(0, np.uint8)
    return Chunks(flat, out, np.array(weights, np.int64))


def find_candidates(
    corpus: Chunks,
    max_piece_length: int,
    min_count: int,
    ensure_unicode: bool,
    workers: int,
    progress: Callable[[int, int], None],
) -> Candidates:
    """The substrings of 2 to ``max_piece_length`` bytes seen at least ``min_count`` times,
    with their occurrence counts (step 1 of the module docstring), a length at a time.

    A ``k``-gram is counted only where both its ``(k-1)``-grams are frequent (``maxlen``,
    the longest frequent substring at each byte, says where), so every count of a frequent
    one is exact and rare ones are seldom stored; the frequent ones raise ``maxlen`` for the
    next length. ``progress(k, n_bytes)`` follows each length's pass. With ``ensure_unicode``
    the candidates are the whole-UTF-8 ones (the others still extend to longer ones).
    """
    data, offsets, weights = corpus.data, corpus.offsets, corpus.weights
    n_bytes = corpus.n_bytes
    ranges = chunk_ranges(offsets, _RANGES)
    maxlen = np.ones(n_bytes + 1, np.uint8)
    maxlen[n_bytes] = 0
    fnv = (np.full(n_bytes, FNV_OFFSET, np.uint64) ^ data) * FNV_PRIME  # 1-byte states
    starts = _char_starts(data, ensure_unicode)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    counted, kept = [1, 256], [1, 256]
    cap = max(1024, n_bytes // 8)
    for k in range(2, min(max_piece_length, 255) + 1):

        def count(state, lo, hi, k=k):  # type: ignore[no-untyped-def]
            return _count_extensions(data, offsets, weights, lo, hi, maxlen, fnv, k, *state)

        report = functools.partial(progress, k)
        init = functools.partial(_empty_table, cap)
        tables = run_ranges(ranges, init, count, workers, report)
        table, n = tables.pop(0)
        while tables:
            table, n = _piece_merge(table, n, tables.pop(0)[0], data)
        pos, lens, counts = _piece_entries(table)
        frequent = counts >= min_count
        counted.append(int(n))
        kept.append(int(frequent.sum()))
        if not frequent.any():
            break

        def lift(state, lo, hi, k=k, table=table):  # type: ignore[no-untyped-def]
            _raise_frequent(data, offsets, lo, hi, maxlen, fnv, k, table, np.uint64(min_count))
            return state

        run_ranges(ranges, lambda: None, lift, workers, _skip)
        del table
        pos, lens, counts = pos[frequent], lens[frequent], counts[frequent]
        whole = starts[pos] & starts[pos + lens]
        found.append((pos[whole], lens[whole], counts[whole]))
        cap = max(1024, 2 * int(frequent.sum()))
    if ensure_unicode:  # every character, however rare: spelt in bytes it costs several
        found.append(_rare_chars(corpus, min_count, workers))
    if not found:
        empty = np.zeros(0, np.int64)
        return Candidates(empty, empty, empty, counted, kept)
    pos, lens, counts = (np.concatenate([f[i] for f in found]) for i in range(3))
    return Candidates(pos, lens, counts, counted, kept)


def _rare_chars(
    corpus: Chunks, min_count: int, workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pos, lens, counts)`` of the multi-byte characters seen fewer than ``min_count``
    times (the others are candidates already)."""
    data, offsets, weights = corpus.data, corpus.offsets, corpus.weights

    def count(state, lo, hi):  # type: ignore[no-untyped-def]
        return _count_chars(data, offsets, weights, lo, hi, *state)

    init = functools.partial(_empty_table, 1024)
    tables = run_ranges(chunk_ranges(offsets, _RANGES), init, count, workers, _skip)
    table, n = tables.pop(0)
    while tables:
        table, n = _piece_merge(table, n, tables.pop(0)[0], data)
    pos, lens, counts = _piece_entries(table)
    rare = counts < min_count
    return pos[rare], lens[rare], counts[rare]


def _empty_table(cap: int) -> tuple[np.ndarray, int]:
    return new_table(cap), 0


def _char_starts(data: np.ndarray, ensure_unicode: bool) -> np.ndarray:
    """bool[n + 1]: where a candidate may start or end (every byte without ``ensure_unicode``;
    character starts and the end with it)."""
    out = np.ones(data.shape[0] + 1, bool)
    if ensure_unicode:
        out[:-1] = char_starts(data)
    return out


def _skip(nbytes: int) -> None:
    """No progress to report."""


def expected_counts(corpus: Chunks, vocab: Vocab, workers: int) -> tuple[np.ndarray, float]:
    """``(counts, loglik)``: each vocabulary id's expected count in the corpus (float64, by
    id) under the unigram model of ``vocab``, and the corpus log-likelihood (nats)."""
    data, offsets, weights = corpus.data, corpus.offsets, corpus.weights
    cells, value, logp = vocab.cells, vocab.value, vocab.logp

    def work(state, lo, hi):  # type: ignore[no-untyped-def]
        counts, loglik = state
        found = _expected_counts(data, offsets, weights, lo, hi, cells, value, logp, counts)
        return counts, loglik + found

    parts = run_ranges(
        chunk_ranges(offsets, _RANGES),
        lambda: (np.zeros(vocab.size, np.int64), 0.0),
        work,
        workers,
        _skip,
    )
    fixed = parts[0][0] if len(parts) == 1 else np.sum([p[0] for p in parts], axis=0)
    return fixed / FIXED, float(sum(p[1] for p in parts))


def _one_char(piece: bytes) -> bool:
    """Whether ``piece`` is one whole UTF-8 character."""
    return is_whole_utf8(piece) and len(piece.decode("utf-8")) == 1


class _Model:
    """The unigram model being trained: pieces (the 256 bytes among them) and their scores."""

    def __init__(self, pieces: list[bytes], scores: np.ndarray) -> None:
        self.pieces = pieces
        self.scores = scores  # unnormalized log-weights, float64[len(pieces)]
        self.single = np.fromiter((len(p) == 1 for p in pieces), bool, len(pieces))
        self.char = np.fromiter(map(_one_char, pieces), bool, len(pieces))

    def vocab(self) -> Vocab:
        """The vocabulary scoring each piece by its normalized probability."""
        weights = np.exp(self.scores - self.scores.max())
        return Vocab.from_pieces(self.pieces, np.maximum(weights, 1e-300).tolist())

    def em(self, corpus: Chunks, workers: int, floor: int) -> np.ndarray:
        """One EM iteration; returns the expected counts (by piece) it re-estimated from.
        Pieces whose expected count falls below ``MIN_EXPECTED`` are dropped (never bytes),
        the rarest first, but never below ``floor`` pieces."""
        counts, _ = expected_counts(corpus, self.vocab(), workers)
        counts = counts[N_SPECIAL:]
        rare = np.flatnonzero(~self.single & (counts < MIN_EXPECTED))
        room = max(0, len(self.pieces) - floor)
        if len(rare) > room:  # drop only the rarest, down to the floor
            rank = sorted(rare.tolist(), key=lambda i: (counts[i], self.pieces[i]))
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

    def prune(self, counts: np.ndarray, size: int, workers: int) -> None:
        """Keep the ``size`` pieces of most loss (the bytes always), ties by piece bytes."""
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
        order = sorted(
            range(len(self.pieces)), key=lambda i: (-loss[i], -counts[i], self.pieces[i])
        )
        keep = np.zeros(len(self.pieces), bool)
        keep[order[:size]] = True
        self._keep(keep)

    def counts_dict(self, counts: np.ndarray) -> dict[bytes, int]:
        """The model file's ``{piece: count}``: expected counts rounded, at least 1."""
        ints = np.maximum(np.rint(counts), 1).astype(np.int64)
        return dict(zip(self.pieces, ints.tolist(), strict=True))


def refine(
    corpus: Chunks,
    candidates: Candidates,
    sizes: Sequence[int],
    workers: int,
    record: Record,
) -> list[dict[bytes, int]]:
    """One vocabulary ``{piece: count}`` per size of ``sizes`` (largest first) by EM and
    pruning by loss (steps 2-3 of the module docstring); ``record`` gets each step."""
    limit = max(sizes) - N_SPECIAL
    score = candidates.counts * candidates.lens
    order = np.lexsort((candidates.pos, candidates.lens, -score))[: SEED_FACTOR * limit]
    data = corpus.data
    seed = [
        data[p : p + n].tobytes()
        for p, n in zip(candidates.pos[order].tolist(), candidates.lens[order].tolist())
    ]
    pieces = [bytes([b]) for b in range(256)] + seed
    counts = np.concatenate([np.ones(256), candidates.counts[order].astype(np.float64)])
    model = _Model(pieces, np.log(counts) - math.log(counts.sum()))
    record(VocabStep(None, "candidates", 0, len(model.pieces)))
    results = []
    rounds = 0
    for size in sizes:
        target = size - N_SPECIAL
        while True:
            for _ in range(EM_STEPS):
                counts = model.em(corpus, workers, target)
            if len(model.pieces) <= target:
                break
            rounds += 1
            model.prune(counts, max(target, int(len(model.pieces) * SHRINK)), workers)
            record(VocabStep(size, "loss", rounds, len(model.pieces)))
        record(VocabStep(size, "cut", 0, len(model.pieces)))
        results.append(model.counts_dict(counts))
    return results
