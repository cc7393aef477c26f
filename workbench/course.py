"""Implement-and-check exercises for the course notebooks.

Each exercise is a function the learner writes from a docstring, a ``check_...`` that runs
the learner's function against the engine on seeded inputs and on hand-worked cases and says
what differs, and a plain solution the learner can reveal with :func:`show_solution`. The
solutions are the obvious, slow versions the engine's own tests compare its kernels with.

>>> check_count_segmentations(count_segmentations).passed
True
>>> check_count_segmentations(lambda text, pieces: 1).passed
False
"""

from __future__ import annotations

import html
import inspect
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from bytepiece_core import Tokenizer, analysis
from bytepiece_core.utf8 import char_starts

__all__ = [
    "EXERCISES",
    "CheckResult",
    "boundary_probabilities",
    "byte_classes",
    "check_boundary_probabilities",
    "check_byte_classes",
    "check_conditional_entropy",
    "check_count_segmentations",
    "check_description_length",
    "check_sample_segmentation",
    "check_unigram_viterbi",
    "conditional_entropy",
    "count_segmentations",
    "description_length",
    "sample_segmentation",
    "show_solution",
    "unigram_viterbi",
]


# -- the solutions ------------------------------------------------------------------------


def byte_classes(text: str) -> list[str]:
    """The class of each UTF-8 byte of ``text``: ``"ascii"`` (a 1-byte character),
    ``"lead2"``, ``"lead3"``, ``"lead4"`` (the first byte of a 2-, 3- or 4-byte character) or
    ``"cont"`` (a continuation byte, 10xxxxxx).

    >>> byte_classes("aé")
    ['ascii', 'lead2', 'cont']
    """
    classes = []
    for b in text.encode("utf-8"):
        if b < 0x80:
            classes.append("ascii")
        elif b < 0xC0:
            classes.append("cont")
        elif b < 0xE0:
            classes.append("lead2")
        elif b < 0xF0:
            classes.append("lead3")
        else:
            classes.append("lead4")
    return classes


def conditional_entropy(chunks: list[bytes], k: int) -> float:
    """``H_k`` in bits: the entropy of a byte given the ``k`` bytes before it, counted over
    every position of every chunk that has ``k`` bytes before it in its chunk:
    ``H_k = -sum over (context, byte) of p(context, byte) * log2 p(byte | context)``.

    >>> conditional_entropy([b"abab"], 1)
    0.0
    """
    joint: Counter[tuple[bytes, int]] = Counter()
    for chunk in chunks:
        for i in range(k, len(chunk)):
            joint[(chunk[i - k : i], chunk[i])] += 1
    context: Counter[bytes] = Counter()
    for (ctx, _), c in joint.items():
        context[ctx] += c
    total = sum(joint.values())
    return 0.0 - sum(c / total * math.log2(c / context[ctx]) for (ctx, _), c in joint.items())


def unigram_viterbi(text: bytes, logp: dict[bytes, float]) -> list[bytes]:
    """The best segmentation of ``text`` into pieces of ``logp`` (piece -> log-probability):
    the one with the largest sum of log-probabilities. ``best[e]`` is the best score of
    ``text[:e]``; relax every piece ``text[s:e]`` by ending position ``e``, the longest
    (smallest ``s``) first, keeping a new best only if strictly better (ties go to the longest
    last piece, as BytePiece does). Every single byte is a piece.

    >>> unigram_viterbi(b"abc", {b"a": -1.0, b"b": -1.0, b"c": -1.0, b"ab": -1.5})
    [b'ab', b'c']
    """
    best = [0.0] + [-math.inf] * len(text)
    back = list(range(len(text) + 1))
    for e in range(1, len(text) + 1):
        for s in range(e):
            piece = text[s:e]
            if piece in logp and best[s] + logp[piece] > best[e]:
                best[e], back[e] = best[s] + logp[piece], s
    tokens, e = [], len(text)
    while e > 0:
        tokens.append(text[back[e] : e])
        e = back[e]
    return tokens[::-1]


def count_segmentations(text: bytes, pieces: Iterable[bytes]) -> int:
    """The number of ways to write ``text`` as a sequence of ``pieces``: the forward pass
    ``n[0] = 1``, ``n[e] = sum of n[s] over the pieces text[s:e]``.

    >>> count_segmentations(b"abc", [b"a", b"b", b"c", b"ab", b"bc"])
    3
    """
    vocab = set(pieces)
    n = [1] + [0] * len(text)
    for e in range(1, len(text) + 1):
        n[e] = sum(n[s] for s in range(e) if text[s:e] in vocab)
    return n[len(text)]


def boundary_probabilities(text: bytes, logp: dict[bytes, float], alpha: float) -> list[float]:
    """The probability of a cut at each byte offset ``0..len(text)`` under
    ``p(seg) ∝ prod p(piece) ** alpha``: forward weights ``f[e] = sum f[s] * w(s, e)``,
    backward ``b[s] = sum w(s, e) * b[e]``, and ``P(cut at i) = f[i] * b[i] / f[n]``, with
    ``w(s, e) = exp(alpha * logp[text[s:e]])``.

    >>> [round(p, 3) for p in boundary_probabilities(b"ab", {b"a": 0.0, b"b": 0.0, b"ab": 0.0}, 0)]
    [1.0, 0.5, 1.0]
    """
    n = len(text)

    def w(s: int, e: int) -> float:
        piece = text[s:e]
        return math.exp(alpha * logp[piece]) if piece in logp else 0.0

    f = [1.0] + [0.0] * n
    for e in range(1, n + 1):
        f[e] = sum(f[s] * w(s, e) for s in range(e))
    b = [0.0] * n + [1.0]
    for s in range(n - 1, -1, -1):
        b[s] = sum(w(s, e) * b[e] for e in range(s + 1, n + 1))
    return [f[i] * b[i] / f[n] for i in range(n + 1)]


def sample_segmentation(
    text: bytes, logp: dict[bytes, float], alpha: float, rng: random.Random
) -> list[bytes]:
    """One segmentation of ``text`` drawn with probability ``∝ prod p(piece) ** alpha``:
    compute the forward weights ``f`` as in :func:`boundary_probabilities`, then walk back
    from the end, choosing the last piece ``text[s:e]`` with probability
    ``f[s] * w(s, e) / f[e]`` (use ``rng.random()``).

    >>> sample_segmentation(b"ab", {b"a": 0.0, b"b": 0.0}, 1.0, random.Random(0))
    [b'a', b'b']
    """
    n = len(text)

    def w(s: int, e: int) -> float:
        piece = text[s:e]
        return math.exp(alpha * logp[piece]) if piece in logp else 0.0

    f = [1.0] + [0.0] * n
    for e in range(1, n + 1):
        f[e] = sum(f[s] * w(s, e) for s in range(e))
    tokens, e = [], n
    while e > 0:
        r, acc = rng.random() * f[e], 0.0
        for s in range(e):
            acc += f[s] * w(s, e)
            if acc > r:
                break
        tokens.append(text[s:e])
        e = s
    return tokens[::-1]


def description_length(tokens: list[bytes], counts: dict[bytes, int]) -> float:
    """The description length in bits of a corpus cut into ``tokens`` with the vocabulary
    ``counts`` (piece -> count): the corpus coded with the unigram model
    ``p(w) = counts[w] / sum(counts.values())``, plus the vocabulary written down, 8 bits per
    byte of every piece and an Elias gamma code of its count:
    ``-sum log2 p(t) over tokens + sum over pieces v of (8 len(v) + 2 floor(log2 n_v) + 1)``,
    with ``n_v`` at least 1.

    >>> description_length([b"a", b"a", b"a", b"b"], {b"a": 3, b"b": 1})  # doctest: +ELLIPSIS
    23.245...
    """
    total = sum(counts.values())
    corpus_bits = -sum(math.log2(counts[t] / total) for t in tokens)
    vocab_bits = sum(
        8 * len(v) + 2 * math.floor(math.log2(max(n, 1))) + 1 for v, n in counts.items()
    )
    return corpus_bits + vocab_bits


# -- checking a learner's version ---------------------------------------------------------


@dataclass
class CheckResult:
    """What a check found: ``passed``, and a line per case that differed (at most a few)."""

    exercise: str
    passed: bool
    cases: int
    problems: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        if self.passed:
            return f"{self.exercise}: all {self.cases} cases agree with the engine. Well done."
        return f"{self.exercise}: " + "; ".join(self.problems)

    def __str__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        color = "#2b7a2b" if self.passed else "#a94442"
        mark = "✓" if self.passed else "✗"
        lines = "".join(f"<li>{html.escape(p)}</li>" for p in self.problems)
        hint = (
            ""
            if self.passed
            else "<div style='color:#666'>Stuck? "
            f"<code>course.show_solution({self.exercise!r})</code></div>"
        )
        return (
            f"<div style='color:{color}'><b>{mark} {html.escape(self.exercise)}</b>: "
            f"{'all ' + str(self.cases) + ' cases agree with the engine' if self.passed else ''}"
            f"</div><ul>{lines}</ul>{hint}"
        )


_MAX_PROBLEMS = 3


class _Checker:
    """Runs a learner's function on cases and collects what differs (the first few)."""

    def __init__(self, exercise: str) -> None:
        self.result = CheckResult(exercise, True, 0)
        self._stopped = False

    def case(self, what: str, got: Callable[[], Any], want: Any, same: Callable[..., bool]) -> None:
        if self._stopped or len(self.result.problems) >= _MAX_PROBLEMS:
            return
        self.result.cases += 1
        try:
            value = got()
        except NotImplementedError:
            self.result.passed, self._stopped = False, True
            self.result.problems = ["not implemented yet: write the function, then run the check"]
            return
        except Exception as exc:  # the learner's code raised: say so, do not crash the cell
            self._fail(f"on {what} it raised {type(exc).__name__}: {exc}")
            return
        if not same(value, want):
            self._fail(f"on {what} it gave {_short(value)}, the answer is {_short(want)}")

    def _fail(self, problem: str) -> None:
        self.result.passed = False
        self.result.problems.append(problem)

    def done(self) -> CheckResult:
        return self.result


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _equal(a: Any, b: Any) -> bool:
    return bool(a == b)


def _close(tol: float) -> Callable[[Any, Any], bool]:
    def same(a: Any, b: Any) -> bool:
        try:
            return bool(np.allclose(np.asarray(a, float), np.asarray(b, float), atol=tol, rtol=0))
        except (TypeError, ValueError):
            return False

    return same


def _random_texts(seed: int, alphabet: str, n: int, max_len: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, max_len))) for _ in range(n)]


def _random_vocab(seed: int, alphabet: bytes, n: int) -> tuple[Tokenizer, dict[bytes, float]]:
    """A tokenizer of the 256 bytes and ``n`` random longer pieces over ``alphabet``, and its
    pieces' log-probabilities (the very floats it scores with)."""
    from bytepiece_core.model import dump_model

    rng = random.Random(seed)
    counts: dict[bytes, int] = {bytes([b]): rng.randint(1, 30) for b in range(256)}
    while len(counts) < 256 + n:
        piece = bytes(rng.choice(alphabet) for _ in range(rng.randint(2, 4)))
        counts[piece] = rng.randint(1, 30)
    tok = Tokenizer(dump_model(counts))
    vocab = tok.vocab
    return tok, {vocab.pieces[i]: float(vocab.logp[i]) for i in range(3, vocab.size)}


def check_byte_classes(fn: Callable[[str], list[str]]) -> CheckResult:
    """Compare a learner's ``byte_classes`` with the engine's UTF-8 tables."""
    check = _Checker("byte_classes")
    for text, want in (
        ("a", ["ascii"]),
        ("é", ["lead2", "cont"]),
        ("天", ["lead3", "cont", "cont"]),
        ("😀", ["lead4", "cont", "cont", "cont"]),
    ):
        check.case(repr(text), partial(fn, text), want, _equal)
    for text in ["Tokenizer 天气不错 é😀\n", *_random_texts(1, "aé天😀 \n·", 20, 12)]:
        data = np.frombuffer(text.encode(), np.uint8)
        starts = char_starts(data)
        want = []
        for i, b in enumerate(data.tolist()):
            if not starts[i]:
                want.append("cont")
            else:
                want.append(
                    "ascii"
                    if b < 0x80
                    else "lead2"
                    if b < 0xE0
                    else "lead3"
                    if b < 0xF0
                    else "lead4"
                )
        check.case(repr(text), partial(fn, text), want, _equal)
    return check.done()


def check_conditional_entropy(fn: Callable[[list[bytes], int], float]) -> CheckResult:
    """Compare a learner's ``conditional_entropy`` with ``analysis.ngram_entropy``."""
    check = _Checker("conditional_entropy")
    h0 = -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    check.case("[b'aab'] * 3 (k=0, hand-worked)", lambda: fn([b"aab"] * 3, 0), h0, _close(1e-9))
    check.case("[b'abab'] (k=1, hand-worked)", lambda: fn([b"abab"], 1), 0.0, _close(1e-9))
    for seed in range(3):
        texts = [t + "\n" for t in _random_texts(seed, "abcd天", 30, 20)]
        curve = analysis.ngram_entropy(texts, order=3)
        chunks = [c.encode() for t in texts for c in re.findall(r".*\n+|.+", t)]
        for k in range(4):
            check.case(
                f"30 random lines (seed {seed}), k={k}",
                partial(fn, chunks, k),
                float(curve.entropy[k]),
                _close(1e-9),
            )
    return check.done()


def check_unigram_viterbi(fn: Callable[[bytes, dict[bytes, float]], list[bytes]]) -> CheckResult:
    """Compare a learner's ``unigram_viterbi`` with ``Tokenizer.tokenize``."""
    check = _Checker("unigram_viterbi")
    hand = {b"a": -1.0, b"b": -1.0, b"c": -1.0, b"ab": -1.5}
    check.case("b'abc' (hand-worked)", lambda: fn(b"abc", hand), [b"ab", b"c"], _equal)
    tie = {b"a": -1.0, b"b": -1.0, b"c": -1.0, b"ab": -2.0, b"bc": -2.0}
    check.case("b'abc' with a tie", lambda: fn(b"abc", tie), [b"a", b"bc"], _equal)
    for seed in range(4):
        tok, logp = _random_vocab(seed, b"abcd", 25)
        for text in _random_texts(100 + seed, "abcd", 10, 14):
            data = text.encode()
            check.case(repr(data), partial(fn, data, logp), tok.tokenize(text), _equal)
    return check.done()


def check_count_segmentations(fn: Callable[[bytes, Iterable[bytes]], int]) -> CheckResult:
    """Compare a learner's ``count_segmentations`` with the lattice's ``log_count``."""
    check = _Checker("count_segmentations")
    pieces = [b"a", b"b", b"c", b"ab", b"bc"]
    check.case("b'abc' (hand-worked: a|b|c, ab|c, a|bc)", lambda: fn(b"abc", pieces), 3, _equal)
    check.case("b'' (one way: no pieces)", lambda: fn(b"", pieces), 1, _equal)
    for seed in range(3):
        tok, logp = _random_vocab(seed, b"abc", 15)
        for text in _random_texts(200 + seed, "abc", 6, 16):
            want = round(math.exp(tok.lattice(text, alpha=0.0).log_count))
            data = text.encode()
            check.case(repr(data), partial(fn, data, list(logp)), want, _equal)
    return check.done()


def check_boundary_probabilities(
    fn: Callable[[bytes, dict[bytes, float], float], list[float]],
) -> CheckResult:
    """Compare a learner's ``boundary_probabilities`` with the lattice's ``boundary_prob``."""
    check = _Checker("boundary_probabilities")
    flat = {b"a": 0.0, b"b": 0.0, b"ab": 0.0}
    check.case(
        "b'ab', alpha 0 (hand-worked)", lambda: fn(b"ab", flat, 0.0), [1, 0.5, 1], _close(1e-9)
    )
    for seed in range(3):
        tok, logp = _random_vocab(seed, b"abc", 15)
        for alpha in (0.0, 0.5, 1.0):
            for text in _random_texts(300 + seed, "abc", 3, 12):
                want = tok.lattice(text, alpha=alpha).boundary_prob.tolist()
                data = text.encode()
                check.case(
                    f"{data!r}, alpha {alpha}",
                    partial(fn, data, logp, alpha),
                    want,
                    _close(1e-6),
                )
    return check.done()


def check_sample_segmentation(
    fn: Callable[[bytes, dict[bytes, float], float, random.Random], list[bytes]],
) -> CheckResult:
    """Draw 4,000 samples of a learner's ``sample_segmentation`` and compare their
    frequencies with the exact distribution (each within 5 standard errors)."""
    check = _Checker("sample_segmentation")
    logp = {b"a": -1.0, b"b": -1.2, b"c": -0.8, b"ab": -1.1, b"bc": -1.9, b"abc": -2.5}
    n = 4000
    for text, alpha in ((b"abc", 1.0), (b"abcab", 0.5), (b"cabc", 0.0)):
        exact = _distribution(text, logp, alpha)
        rng = random.Random(7)

        def draw(t: bytes = text, a: float = alpha, r: random.Random = rng) -> dict[tuple, float]:
            seen: Counter[tuple[bytes, ...]] = Counter()
            for _ in range(n):
                seg = tuple(fn(t, logp, a, r))
                if b"".join(seg) != t:
                    raise ValueError(f"a sample {seg!r} does not spell {t!r}")
                seen[seg] += 1
            return {seg: c / n for seg, c in seen.items()}

        def same(got: dict, want: dict) -> bool:
            return all(
                abs(got.get(seg, 0.0) - p) <= 5 * math.sqrt(p * (1 - p) / n) + 1e-3
                for seg, p in {**dict.fromkeys(got, 0.0), **want}.items()
            )

        check.case(f"{text!r}, alpha {alpha} (4,000 samples)", draw, exact, same)
    return check.done()


def check_description_length(fn: Callable[[list[bytes], dict[bytes, int]], float]) -> CheckResult:
    """Compare a learner's ``description_length`` with the ``description_bits`` of
    ``analysis.vocab_sweep``, on tokenizers trained on random text."""
    check = _Checker("description_length")
    check.case(
        "a a a b with {a: 3, b: 1} (hand-worked: 3 log2(4/3) + 2 + 11 + 9 bits)",
        lambda: fn([b"a", b"a", b"a", b"b"], {b"a": 3, b"b": 1}),
        3 * math.log2(4 / 3) + 2 + 11 + 9,
        _close(1e-9),
    )
    for seed in range(2):
        rng = random.Random(400 + seed)
        words = ["天气", "不错", "今天", "the", "cat", "sat", "on", "a", "mat", "。"]
        texts = [" ".join(rng.choices(words, k=rng.randint(2, 9))) + "\n" for _ in range(80)]
        sweep = analysis.vocab_sweep(texts, [262, 270, 300], algorithm="refined", min_count=2)
        for row in sweep.table.itertuples():
            tok = sweep.tokenizers[row.size]
            vocab = tok.vocab
            counts = {vocab.pieces[i]: int(vocab.counts[i]) for i in range(3, vocab.size)}
            tokens = [t for text in texts for t in tok.tokenize(text)]
            check.case(
                f"80 random lines (seed {seed}), vocabulary of {tok.vocab_size}",
                partial(fn, tokens, counts),
                float(row.description_bits),
                _close(1e-6),
            )
    return check.done()


def _distribution(text: bytes, logp: dict[bytes, float], alpha: float) -> dict[tuple, float]:
    """Exact ``p(seg)`` over all segmentations of a short ``text``, by listing them."""

    def all_segs(t: bytes) -> list[tuple[bytes, ...]]:
        if not t:
            return [()]
        return [
            (t[:e], *rest)
            for e in range(1, len(t) + 1)
            if t[:e] in logp
            for rest in all_segs(t[e:])
        ]

    segs = all_segs(text)
    weights = [math.exp(alpha * sum(logp[p] for p in s)) for s in segs]
    total = sum(weights)
    return {s: w / total for s, w in zip(segs, weights)}


EXERCISES: dict[str, tuple[Callable[..., Any], Callable[[Callable[..., Any]], CheckResult]]] = {
    "byte_classes": (byte_classes, check_byte_classes),
    "conditional_entropy": (conditional_entropy, check_conditional_entropy),
    "unigram_viterbi": (unigram_viterbi, check_unigram_viterbi),
    "count_segmentations": (count_segmentations, check_count_segmentations),
    "boundary_probabilities": (boundary_probabilities, check_boundary_probabilities),
    "sample_segmentation": (sample_segmentation, check_sample_segmentation),
    "description_length": (description_length, check_description_length),
}
"""Every exercise: its solution and its check."""


def show_solution(name: str) -> Any:
    """The solution of an exercise, as a code block (in a notebook) or its source (as str).

    >>> "def count_segmentations" in str(show_solution("count_segmentations"))
    True
    """
    if name not in EXERCISES:
        raise ValueError(f"no exercise named {name!r}: choose from {sorted(EXERCISES)}")
    source = inspect.getsource(EXERCISES[name][0])
    return _Code(source)


class _Code(str):
    def _repr_markdown_(self) -> str:
        return f"```python\n{self}```"
