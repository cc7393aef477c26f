"""Slow, obvious reference versions of the engine's kernels, for the tests.

Each function says in a few lines what a kernel computes; the kernels are tested against these
on hand-worked and on seeded random inputs.
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np


def chunks(text: str) -> list[bytes]:
    """The reference's tokenization chunks: NFC, then a line with its run of newlines.

    >>> chunks("ab\\n\\ncd")
    [b'ab\\n\\n', b'cd']
    """
    text = unicodedata.normalize("NFC", text)
    return [t.encode() for t in re.findall(r".*\n+|.+", text)]


def logp_table(counts: dict[bytes, int]) -> dict[bytes, float]:
    """Piece scores as the reference computes them: ``log(count) - log(total)``, with NumPy.

    >>> round(logp_table({b"a": 1, b"b": 3})[b"b"], 4)
    -0.2877
    """
    log_total = np.log(sum(counts.values()))
    return {p: float(np.log(c) - log_total) for p, c in counts.items()}


def matches(text: bytes, logp: dict[bytes, float]) -> list[tuple[int, int, bytes]]:
    """Every vocabulary match ``(start, end, piece)``, in the reference's order: by end
    position, longest first (what its Aho-Corasick automaton reports).

    >>> matches(b"ab", {b"a": 0.0, b"b": 0.0, b"ab": 0.0})
    [(0, 1, b'a'), (0, 2, b'ab'), (1, 2, b'b')]
    """
    found = []
    for e in range(1, len(text) + 1):
        for s in range(e):
            if text[s:e] in logp:
                found.append((s, e, text[s:e]))
    return found


def viterbi(text: bytes, logp: dict[bytes, float]) -> list[bytes]:
    """The reference's unigram Viterbi on one chunk: relax matches in Aho-Corasick order and
    keep a new best only if it is strictly better (so ties go to the longest match).

    >>> viterbi(b"abc", {b"a": -1.0, b"b": -1.0, b"c": -1.0, b"ab": -1.5})
    [b'ab', b'c']
    """
    scores = [0.0] + [-math.inf] * len(text)
    routes = list(range(len(text) + 1))
    for s, e, piece in matches(text, logp):
        score = scores[s] + logp[piece]
        if score > scores[e]:
            scores[e], routes[e] = score, s
    tokens, e = [], len(text)
    while e > 0:
        s = routes[e]
        tokens.append(text[s:e])
        e = s
    return tokens[::-1]


def tokenize(text: str, logp: dict[bytes, float]) -> list[bytes]:
    """Viterbi over each chunk of ``text``."""
    return [t for chunk in chunks(text) for t in viterbi(chunk, logp)]


def segmentations(text: bytes, logp: dict[bytes, float]) -> list[tuple[bytes, ...]]:
    """All ways to write ``text`` as a sequence of vocabulary pieces (exponential: short texts).

    >>> segmentations(b"ab", {b"a": 0.0, b"b": 0.0, b"ab": 0.0})
    [(b'a', b'b'), (b'ab',)]
    """
    if not text:
        return [()]
    result = []
    for e in range(1, len(text) + 1):
        if text[:e] in logp:
            result.extend((text[:e], *rest) for rest in segmentations(text[e:], logp))
    return result


def segmentation_distribution(
    text: bytes, logp: dict[bytes, float], alpha: float
) -> dict[tuple[bytes, ...], float]:
    """Exact ``p(seg) = prod p(piece)^alpha / Z`` over all segmentations of one chunk.

    >>> segmentation_distribution(b"ab", {b"a": 0.0, b"b": 0.0, b"ab": 0.0}, 0.0)
    {(b'a', b'b'): 0.5, (b'ab',): 0.5}
    """
    segs = segmentations(text, logp)
    weights = np.array([alpha * sum(logp[p] for p in seg) for seg in segs])
    probs = np.exp(weights - weights.max())
    probs /= probs.sum()
    return dict(zip(segs, probs.tolist()))


def trie_prefixes(keys: list[bytes], text: bytes, start: int) -> list[int]:
    """Indices of the keys that occur in ``text`` at ``start`` (what a trie walk finds).

    >>> trie_prefixes([b"a", b"ab", b"b"], b"abc", 0)
    [0, 1]
    """
    return [k for k, key in enumerate(keys) if text.startswith(key, start)]


def random_vocab(rng: np.random.Generator, alphabet: bytes, n: int, max_len: int) -> list[bytes]:
    """Distinct random pieces over ``alphabet`` (the single bytes are not included)."""
    pieces: set[bytes] = set()
    while len(pieces) < n:
        length = int(rng.integers(2, max_len + 1))
        pieces.add(bytes(rng.choice(list(alphabet), size=length).tolist()))
    return sorted(pieces)


__all__ = [
    "chunks",
    "logp_table",
    "matches",
    "random_vocab",
    "segmentation_distribution",
    "segmentations",
    "tokenize",
    "trie_prefixes",
    "viterbi",
]


def segmentations_of_text(text: bytes, logp: dict[bytes, float]) -> list[tuple[bytes, ...]]:
    """All segmentations of a text made of newline-run chunks (a product over its chunks)."""
    import re

    result: list[tuple[bytes, ...]] = [()]
    for chunk in re.findall(rb"[^\n]*\n+|[^\n]+", text):
        result = [a + b for a in result for b in segmentations(chunk, logp)]
    return result


def lattice_quantities(text: bytes, logp: dict[bytes, float], alpha: float) -> dict[str, object]:
    """Brute force over all segmentations: the distribution and what the lattice reports.

    Returns ``marginals`` ({(start, end): p}), ``boundary``
    (list of p per byte offset), ``entropy`` (bits), ``count`` and ``scores`` (each
    segmentation's sum of logp, sorted descending).
    """
    segs = segmentations_of_text(text, logp)
    weights = np.array([alpha * sum(logp[p] for p in seg) for seg in segs])
    probs = np.exp(weights - weights.max())
    probs /= probs.sum()
    marginals: dict[tuple[int, int], float] = {}
    boundary = [0.0] * (len(text) + 1)
    for seg, p in zip(segs, probs):
        pos = 0
        boundary[0] += p
        for piece in seg:
            span = (pos, pos + len(piece))
            marginals[span] = marginals.get(span, 0.0) + p
            pos += len(piece)
            boundary[pos] += p
    if not text:
        boundary = [1.0]
    nz = probs[probs > 0]
    return {
        "marginals": marginals,
        "boundary": boundary,
        "entropy": float(-(nz * np.log2(nz)).sum()),
        "count": len(segs),
        "scores": sorted((sum(logp[p] for p in seg) for seg in segs), reverse=True),
    }


def conditional_entropy(chunks_: list[bytes], k: int) -> float:
    """``H_k`` in bits: entropy of a byte given the ``k`` bytes before it in its chunk (the
    course's plain version, :func:`workbench.course.conditional_entropy`).

    >>> conditional_entropy([b"abab"], 1)
    0.0
    """
    from workbench.course import conditional_entropy as plain

    return plain(chunks_, k)


def heldout_entropy(
    train: list[bytes], heldout: list[bytes], order: int, prior: float = 1.0
) -> list[tuple[float, float]]:
    """Bits per byte of the training and the held-out chunks under interpolated n-gram
    models of the training chunks, for k = 0..order: ``p_k(b | c) = (n(cb) + prior *
    p_{k-1}(b | c[1:])) / (n(c) + prior)``, ``p_{-1} = 1/256``; a byte with fewer than k
    bytes before it in its chunk uses the context it has."""
    from collections import Counter

    grams: Counter[bytes] = Counter()
    for chunk in train:
        for i in range(len(chunk)):
            for j in range(max(0, i - order), i + 1):
                grams[chunk[j : i + 1]] += 1
    contexts: Counter[bytes] = Counter()
    for g, c in grams.items():
        contexts[g[:-1]] += c

    def p(ctx: bytes, byte: int, k: int) -> float:
        if k < 0:
            return 1.0 / 256
        if len(ctx) < k:  # too few bytes before it: the order it has
            return p(ctx, byte, len(ctx))
        lower = p(ctx[1:], byte, k - 1)
        return (grams[ctx + bytes([byte])] + prior * lower) / (contexts[ctx] + prior)

    out = []
    for k in range(order + 1):
        means = []
        for chunks in (train, heldout):
            bits = [
                -math.log2(p(chunk[max(0, i - k) : i], chunk[i], k))
                for chunk in chunks
                for i in range(len(chunk))
            ]
            means.append(sum(bits) / len(bits))
        out.append((means[0], means[1]))
    return out
