"""Slow, obvious versions of the trainer's kernels: the reference's algorithm in plain Python.

Each function is one step of ``bytepiece.Trainer`` 0.6.3 (ALGORITHM.md section 2), written
with dicts and the reference's own NumPy Viterbi, so the fast engine can be checked against
it on small corpora. Nothing here is fast; everything here is meant to be read.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata

import numpy as np
from naive import segmentations, viterbi


def training_chunks(docs: list[str], isolate_digits: bool = False) -> list[bytes]:
    """NFC, then the reference's training chunks (lines capped at 10,000 characters), as bytes.

    >>> training_chunks(["ab\\n\\ncd", "x1y"], isolate_digits=True)
    [b'ab\\n\\n', b'cd', b'x', b'1', b'y']
    """
    if isolate_digits:
        regex = r"\d|[^\n\d]{,10000}\n{1,100}|[^\n\d]{1,10000}"
    else:
        regex = r".{,10000}\n{1,100}|.{1,10000}"
    out = []
    for doc in docs:
        out.extend(t.encode() for t in re.findall(regex, unicodedata.normalize("NFC", doc)))
    return out


def count_ngrams(chunks: list[bytes], order: int) -> list[dict[bytes, int]]:
    """``counts[k][s]`` = occurrences of the ``k``-byte string ``s`` inside one chunk.

    >>> count_ngrams([b"aba"], 2)
    [{b'': 3}, {b'a': 2, b'b': 1}, {b'ab': 1, b'ba': 1}]
    """
    counts: list[dict[bytes, int]] = [{} for _ in range(order + 1)]
    for chunk in chunks:
        for i in range(len(chunk)):
            for k in range(order + 1):
                if i + k <= len(chunk):
                    s = chunk[i : i + k]
                    counts[k][s] = counts[k].get(s, 0) + 1
    return counts


def prune_ngrams(counts: list[dict[bytes, int]], min_count: int) -> list[dict[bytes, float]]:
    """Conditional log-probabilities ``log c(s) - log c(s[:-1])`` of the kept n-grams.

    The 256 bytes are completed with count 1 (each also adds 1 to the empty n-gram's count);
    n-grams of length >= 2 with count < ``min_count`` are dropped.

    >>> logp = prune_ngrams(count_ngrams([b"aab"], 2), min_count=1)
    >>> round(float(logp[2][b"aa"]), 4), len(logp[1])
    (-0.6931, 256)
    """
    counts = [dict(c) for c in counts]
    for b in range(256):
        if bytes([b]) not in counts[1]:
            counts[1][bytes([b])] = 1
            counts[0][b""] = counts[0].get(b"", 0) + 1
    logs = [
        {s: np.log(c) for s, c in level.items() if k <= 1 or c >= min_count}
        for k, level in enumerate(counts)
    ]
    return [logs[0]] + [
        {s: v - logs[k - 1][s[:-1]] for s, v in logs[k].items()} for k in range(1, len(logs))
    ]


def ngram_emissions(
    chunk: bytes, logp: list[dict[bytes, float]], order: int, ensure_unicode: bool = True
) -> np.ndarray:
    """``nodes[i, j] = logp(chunk[i-j:i+1])`` (``-inf`` if pruned); with ``ensure_unicode``
    state 0 is impossible on UTF-8 continuation bytes.

    >>> logp = prune_ngrams(count_ngrams([b"ab"] * 3, 2), min_count=2)
    >>> ngram_emissions(b"ab", logp, 2)[1].round(3).tolist()
    [-4.462, 0.0]
    """
    nodes = np.full((len(chunk), order), -np.inf)
    for j in range(order):
        for i in range(j, len(chunk)):
            nodes[i, j] = logp[j + 1].get(chunk[i - j : i + 1], -np.inf)
    if ensure_unicode:
        arr = np.frombuffer(chunk, dtype=np.uint8)
        nodes[(arr >= 128) & (arr < 192), 0] -= np.inf
    return nodes


def best_states(nodes: np.ndarray) -> np.ndarray:
    """The reference's Viterbi over emissions ``nodes`` (float64[n, order]): the state of each
    byte on the best path (state ``j``: ``j`` bytes of the current word before this one).

    >>> best_states(np.array([[-1.0, -np.inf], [-5.0, -1.0], [-1.0, -9.0]])).tolist()
    [0, 1, 0]
    """
    nodes = nodes.copy()
    order = nodes.shape[1]
    trans = np.full((order, order), -np.inf)
    for i in range(order):
        trans[i, 0] = 0
        trans[i, min(i + 1, order - 1)] = 0
    routes = np.zeros((len(nodes) - 1, order), dtype="int32")
    for i in range(1, len(nodes)):
        scores = nodes[i - 1][:, None] + trans + nodes[i]
        routes[i - 1] = scores.argmax(0)
        nodes[i] = scores.max(0)
    path = [nodes[-1].argmax()]
    for i in range(1, len(nodes)):
        path.append(routes[-i][path[-1]])
    return np.array(path[::-1])


def ngram_viterbi(
    chunk: bytes, logp: list[dict[bytes, float]], order: int, ensure_unicode: bool = True
) -> list[bytes]:
    """The reference's ``Trainer._tokenize``: cut ``chunk`` where the n-gram model restarts.

    >>> logp = prune_ngrams(count_ngrams([b"abab"] * 3, 2), min_count=2)
    >>> ngram_viterbi(b"abab", logp, 2)
    [b'abab']
    """
    states = best_states(ngram_emissions(chunk, logp, order, ensure_unicode))
    starts = np.append(np.where(states == 0)[0], len(chunk))
    return [chunk[s:e] for s, e in itertools.pairwise(starts)]


def count_pieces(
    chunks: list[bytes], logp: list[dict[bytes, float]], order: int, ensure_unicode: bool = True
) -> dict[bytes, int]:
    """How often each piece of the n-gram Viterbi appears over the chunks.

    >>> logp = prune_ngrams(count_ngrams([b"abab"] * 3, 2), min_count=2)
    >>> count_pieces([b"abab"] * 3, logp, 2)
    {b'abab': 3}
    """
    pieces: dict[bytes, int] = {}
    for chunk in chunks:
        for p in ngram_viterbi(chunk, logp, order, ensure_unicode):
            pieces[p] = pieces.get(p, 0) + 1
    return pieces


def unigram_tokenize(text: bytes, counts: dict[bytes, int]) -> list[bytes]:
    """The reference tokenizer's Viterbi on one string: best sum of ``log c - log total``;
    matches are relaxed by end, longest first, and only a strictly better score wins.

    >>> unigram_tokenize(b"abc", {b"a": 1, b"b": 1, b"c": 1, b"ab": 1})
    [b'ab', b'c']
    """
    log_total = np.log(sum(counts.values()))
    longest = max(map(len, counts))
    scores = [0.0] + [-np.inf] * len(text)
    routes = list(range(len(text) + 1))
    for e in range(1, len(text) + 1):
        for s in range(max(0, e - longest), e):
            piece = text[s:e]
            if piece in counts:
                score = scores[s] + (np.log(counts[piece]) - log_total)
                if score > scores[e]:
                    scores[e], routes[e] = score, s
    tokens, e = [], len(text)
    while e > 0:
        tokens.append(text[routes[e] : e])
        e = routes[e]
    return tokens[::-1]


def split_pieces(keep: dict[bytes, int], drop: dict[bytes, int]) -> dict[bytes, int]:
    """Tokenize every dropped piece with ``keep`` and add its count to each of its tokens.

    >>> split_pieces({b"a": 1, b"b": 1}, {b"ab": 5})
    {b'a': 5, b'b': 5}
    """
    out: dict[bytes, int] = {}
    for piece, count in drop.items():
        for token in unigram_tokenize(piece, keep):
            out[token] = out.get(token, 0) + count
    return out


def remove_wasted(pieces: dict[bytes, int]) -> dict[bytes, int]:
    """Re-count the vocabulary on its own pieces until its size stops changing.

    >>> remove_wasted({**{bytes([b]): 1 for b in range(256)}, b"ab": 1, b"abc": 50})[b"abc"]
    50
    """
    while True:
        before = len(pieces)
        pieces = split_pieces(pieces, pieces)
        if len(pieces) == before:
            return pieces


def prune_pieces(
    pieces: dict[bytes, int], sizes: list[int], max_piece_length: int, min_count: int
) -> list[dict[bytes, int]]:
    """The reference's ``prune_pieces``: one vocabulary per size in ``sizes`` (largest first).

    >>> vocab = prune_pieces({b"ab": 3, b"x": 1}, [300], 36, 2)[0]
    >>> len(vocab), vocab[b"ab"]
    (257, 3)
    """
    pieces = dict(pieces)
    for b in range(256):
        pieces.setdefault(bytes([b]), 1)
    keep = {
        p: c
        for p, c in pieces.items()
        if len(p) == 1 or (len(p) <= max_piece_length and c >= min_count)
    }
    drop = {p: c for p, c in pieces.items() if p not in keep}
    for p, c in split_pieces(keep, drop).items():
        keep[p] += c
    keep = remove_wasted(keep)
    results = []
    for size in sorted(sizes, reverse=True):
        if len(keep) > size - 3:
            ranked = sorted(keep.items(), key=lambda t: (len(t[0]) > 1, -t[1], -len(t[0]), t[0]))
            keep = dict(ranked[: size - 3])
            for p, c in split_pieces(keep, dict(ranked[size - 3 :])).items():
                keep[p] += c
            keep = remove_wasted(keep)
        results.append(keep)
    return results


def train(
    docs: list[str],
    order: int = 6,
    max_vocab_size: int | list[int] = 10000,
    max_piece_length: int = 36,
    min_count: int = 2,
    isolate_digits: bool = False,
    ensure_unicode: bool = True,
) -> list[dict[bytes, int]]:
    """The whole reference training: ``bytepiece.Trainer(...).train(docs).pieces``.

    >>> vocab = train(["abab\\n"] * 5, order=2, max_vocab_size=300)[0]
    >>> sorted(p for p in vocab if len(p) > 1)
    [b'abab\\n']
    """
    sizes = max_vocab_size if isinstance(max_vocab_size, list) else [max_vocab_size]
    chunks = training_chunks(docs, isolate_digits)
    logp = prune_ngrams(count_ngrams(chunks, order), min_count)
    pieces = count_pieces(chunks, logp, order, ensure_unicode)
    return prune_pieces(pieces, sizes, max_piece_length, min_count)


# -- the refined trainer (``Trainer(algorithm="refined")``) ---------------------------------


def frequent_substrings(
    chunks: list[bytes], longest: int, min_count: int, ensure_unicode: bool
) -> dict[bytes, int]:
    """Substrings of 2..``longest`` bytes inside a chunk seen at least ``min_count`` times
    that are whole UTF-8 or, without ``ensure_unicode``, the first bytes (2 or more, not all)
    of one character; plus every multi-byte character however rare.

    >>> frequent_substrings([b"abab", b"ab"], 3, 2, False)
    {b'ab': 3}
    >>> frequent_substrings(["天天气".encode()], 3, 2, False)  # e5 a4 a9 is 天
    {b'\xe5\xa4': 2, b'\xe5\xa4\xa9': 2, b'\xe6\xb0\x94': 1}
    """
    counts: dict[bytes, int] = {}
    for chunk in chunks:
        for i in range(len(chunk)):
            for k in range(2, longest + 1):
                if i + k <= len(chunk):
                    s = chunk[i : i + k]
                    counts[s] = counts.get(s, 0) + 1
    out = {
        s: c
        for s, c in counts.items()
        if c >= min_count and (_whole(s) or (not ensure_unicode and _first_bytes(s)))
    }
    for chunk in chunks:
        for ch in chunk.decode("utf-8"):
            raw = ch.encode()
            if len(raw) > 1 and raw not in out:
                out[raw] = sum(c.count(raw) for c in chunks)
    return dict(sorted(out.items()))


def fill_substrings(
    chunks: list[bytes], longest: int, min_count: int, ensure_unicode: bool, needed: int
) -> dict[bytes, int]:
    """:func:`frequent_substrings` and, if they are fewer than ``needed``, those seen fewer
    than ``min_count`` times (not single characters): the shortest first, then the most
    frequent, then in byte order; never more than half the bytes of the distinct chunks.

    >>> fill_substrings([b"abab", b"cd"], 2, 2, True, 3)
    {b'ab': 2, b'ba': 1, b'cd': 1}
    """
    needed = min(needed, sum(map(len, set(chunks))) // 2)
    base = frequent_substrings(chunks, longest, min_count, ensure_unicode)
    if len(base) >= needed:
        return base
    found = frequent_substrings(chunks, longest, 1, ensure_unicode)
    one_char = {p for p in found if _whole(p) and len(p.decode("utf-8")) == 1}
    rarer = [p for p, c in found.items() if c < min_count and p not in one_char]
    rarer.sort(key=lambda p: (len(p), -found[p], p))
    base.update({p: found[p] for p in rarer[: needed - len(base)]})
    return dict(sorted(base.items()))


def _first_bytes(piece: bytes) -> bool:
    """Whether ``piece`` is the first bytes (2 or more, not all) of one UTF-8 character."""
    width = 4 if piece[0] >= 0xF0 else 3 if piece[0] >= 0xE0 else 2 if piece[0] >= 0xC0 else 1
    return 2 <= len(piece) < width and all(0x80 <= b < 0xC0 for b in piece[1:])


def _whole(piece: bytes) -> bool:
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def expected_counts(chunks: list[bytes], logp: dict[bytes, float]) -> dict[bytes, float]:
    """E-step: each piece's expected count over all segmentations of each chunk, weighted by
    ``p(seg) = exp(sum logp) / Z`` (brute force over the segmentations).

    >>> e = expected_counts([b"ab"], {b"a": 0.0, b"b": 0.0, b"ab": 0.0})
    >>> {p: round(c, 3) for p, c in e.items()}
    {b'a': 0.5, b'b': 0.5, b'ab': 0.5}
    """
    out = dict.fromkeys(logp, 0.0)
    for chunk in chunks:
        segs = segmentations(chunk, logp)
        weights = np.array([sum(logp[p] for p in seg) for seg in segs])
        probs = np.exp(weights - weights.max())
        probs /= probs.sum()
        for seg, prob in zip(segs, probs):
            for p in seg:
                out[p] += float(prob)
    return out


def forward_backward_counts(
    chunks: list[bytes], logp: dict[bytes, float]
) -> tuple[dict[bytes, float], float]:
    """:func:`expected_counts` by the forward and backward log-sums over each chunk's
    lattice (for chunks too long to list their segmentations), and the log-likelihood.

    >>> e, z = forward_backward_counts([b"ab"], {b"a": 0.0, b"b": 0.0, b"ab": 0.0})
    >>> {p: round(c, 3) for p, c in e.items()}, round(z, 6) == round(math.log(2), 6)
    ({b'a': 0.5, b'b': 0.5, b'ab': 0.5}, True)
    """
    out = dict.fromkeys(logp, 0.0)
    longest = max(map(len, logp))
    total = 0.0
    for chunk in chunks:
        n = len(chunk)
        edges = [
            (i, j, chunk[i:j])
            for i in range(n)
            for j in range(i + 1, min(n, i + longest) + 1)
            if chunk[i:j] in logp
        ]
        fwd = [-math.inf] * (n + 1)
        bwd = [-math.inf] * (n + 1)
        fwd[0] = bwd[n] = 0.0
        for i, j, p in edges:  # by start
            fwd[j] = float(np.logaddexp(fwd[j], fwd[i] + logp[p]))
        for i, j, p in reversed(edges):
            bwd[i] = float(np.logaddexp(bwd[i], logp[p] + bwd[j]))
        total += fwd[n]
        for i, j, p in edges:
            out[p] += math.exp(fwd[i] + logp[p] + bwd[j] - fwd[n])
    return out, total


def best_alternative(piece: bytes, logp: dict[bytes, float]) -> float:
    """The best total ``logp`` of a segmentation of ``piece`` that is not the piece itself
    (``-inf`` if there is none).

    >>> best_alternative(b"ab", {b"a": -1.0, b"b": -2.0, b"ab": -0.5})
    -3.0
    """
    scores = [sum(logp[p] for p in seg) for seg in segmentations(piece, logp) if seg != (piece,)]
    return max(scores, default=float("-inf"))


def viterbi_merges(
    chunks: list[bytes],
    logp: dict[bytes, float],
    n: int,
    have: set[bytes],
    max_len: int,
    min_count: int,
    ensure_unicode: bool,
) -> list[tuple[bytes, int]]:
    """Pieces that follow each other in the Viterbi segmentation of each chunk at least
    ``min_count`` times, joined, with how often they do (every such pair that makes the same
    bytes): at most ``n``, the most frequent first (ties by the joined bytes), none in
    ``have``, at most ``max_len`` bytes, whole UTF-8 or (without ``ensure_unicode``) the
    first bytes of one character.

    >>> lp = {bytes([b]): -5.0 for b in range(256)}
    >>> viterbi_merges([b"abab", b"ab"], lp, 2, set(), 4, 2, True)  # ba is seen once
    [(b'ab', 3)]
    """
    pairs: dict[tuple[bytes, bytes], int] = {}
    for chunk in chunks:
        tokens = viterbi(chunk, logp)
        for a, b in itertools.pairwise(tokens):
            pairs[a, b] = pairs.get((a, b), 0) + 1
    joined: dict[bytes, int] = {}
    for (a, b), count in pairs.items():
        if count >= min_count:
            joined[a + b] = joined.get(a + b, 0) + count
    out = []
    for piece, count in sorted(joined.items(), key=lambda pc: (-pc[1], pc[0])):
        if len(out) == n:
            break
        whole = _whole(piece) or (not ensure_unicode and _first_bytes(piece))
        if piece not in have and len(piece) <= max_len and whole:
            out.append((piece, count))
    return out
