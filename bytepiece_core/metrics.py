"""Corpus and vocabulary metrics: compression, code length, token statistics, the vocabulary
as a table, and word-segmentation scores against a gold standard (ALGORITHM.md section 5)."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._normalize import normalize, to_utf8
from .model import N_SPECIAL
from .utf8 import char_starts, is_whole_utf8

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .tokenizer import Tokenizer

__all__ = [
    "CorpusMetrics",
    "SegmentationScores",
    "evaluate",
    "piece_category",
    "read_gold",
    "score_segmentation",
    "vocab_table",
]

LN2 = math.log(2.0)


@dataclass(frozen=True)
class CorpusMetrics:
    """How a tokenizer codes a corpus (best segmentation of each text).

    bytes_per_token, chars_per_token : compression (higher: fewer, longer tokens)
    bits_per_byte   : unigram code length ``-(1/bytes) Σ log2 p(token)``, the minimum-entropy
                      objective (lower is better)
    bits_per_token  : the same per token
    token_entropy   : entropy (bits) of the token-frequency distribution over the corpus
    fragment_share  : share of tokens that cover part of a multi-byte character
    n_bytes, n_chars, n_tokens, n_distinct : sizes
    """

    n_bytes: int
    n_chars: int
    n_tokens: int
    n_distinct: int
    bytes_per_token: float
    chars_per_token: float
    bits_per_byte: float
    bits_per_token: float
    token_entropy: float
    fragment_share: float

    def as_dict(self) -> dict[str, float]:
        """The metrics as a plain dictionary (for a DataFrame row)."""
        return asdict(self)


def evaluate(tokenizer: Tokenizer, texts: Iterable[str]) -> CorpusMetrics:
    """Compression, code length and token statistics of ``tokenizer`` on ``texts``.

    >>> from bytepiece_core import Tokenizer
    >>> from bytepiece_core.model import dump_model
    >>> tok = Tokenizer(dump_model({**{bytes([b]): 1 for b in range(256)}, b"ab": 2}))
    >>> m = evaluate(tok, ["abab", "é"])
    >>> m.n_tokens, m.bytes_per_token, m.fragment_share
    (4, 1.5, 0.5)
    """
    if isinstance(texts, str):
        raise TypeError("texts must be an iterable of str (e.g. a list), not a single str")
    docs: list[bytes] = []
    n_chars = 0
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be a str, not {type(text).__name__}")
        norm = normalize(text)
        n_chars += len(norm)
        docs.append(to_utf8(norm, argument=f"texts[{i}]"))
    vocab = tokenizer.vocab
    seg = vocab.segment(docs, newline_chunks=True)
    n_bytes = sum(len(d) for d in docs)
    n_tokens = len(seg.ids)
    if n_tokens == 0:
        raise ValueError("texts are empty: there is nothing to evaluate")
    code_bits = -float(vocab.logp[seg.ids].sum()) / LN2
    freq = np.bincount(seg.ids, minlength=vocab.size)
    p = freq[freq > 0] / n_tokens
    # a token is a fragment if it starts or ends inside a character; documents are
    # contiguous in ``data``, so each token starts where the one before it ended
    data = np.frombuffer(b"".join(docs), np.uint8)
    tokens_per_doc = np.diff(seg.doc_token_offsets)
    doc_starts = np.cumsum([0] + [len(d) for d in docs[:-1]])
    ends = seg.ends + np.repeat(doc_starts, tokens_per_doc)
    starts = np.concatenate(([0], ends[:-1]))
    is_cont = np.append(~char_starts(data), False)
    fragments = int((is_cont[starts] | is_cont[ends]).sum())
    return CorpusMetrics(
        n_bytes=n_bytes,
        n_chars=n_chars,
        n_tokens=n_tokens,
        n_distinct=int((freq > 0).sum()),
        bytes_per_token=n_bytes / n_tokens,
        chars_per_token=n_chars / n_tokens,
        bits_per_byte=code_bits / n_bytes,
        bits_per_token=code_bits / n_tokens,
        token_entropy=float(-(p * np.log2(p)).sum()),
        fragment_share=fragments / n_tokens,
    )


def _char_class(ch: str) -> str:
    if ch.isspace():
        return "whitespace"
    if ch.isdecimal():
        return "digit"
    cat = unicodedata.category(ch)
    if cat[0] in "PS":
        return "punctuation"
    if cat[0] == "L":
        name = unicodedata.name(ch, "")
        if name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL")):
            return "CJK"
        if name.startswith("LATIN"):
            return "Latin"
        return "other letter"
    return "other"


def piece_category(piece: bytes) -> str:
    """Script/category of a piece: CJK, Latin, digit, punctuation, whitespace, other letter,
    other, mixed, or byte fragment (not whole UTF-8 characters).

    >>> [piece_category(p) for p in [b"the", "中国".encode(), b"\\xe4", b"a1", b"  "]]
    ['Latin', 'CJK', 'byte fragment', 'mixed', 'whitespace']
    """
    if not is_whole_utf8(piece):
        return "byte fragment"
    classes = {_char_class(ch) for ch in piece.decode("utf-8")}
    return classes.pop() if len(classes) == 1 else "mixed"


def vocab_table(tokenizer: Tokenizer) -> pd.DataFrame:
    """One row per piece: id, display text, piece bytes, byte and character length, count,
    logp and category (see :func:`piece_category`)."""
    import pandas as pd

    vocab = tokenizer.vocab
    ids = np.arange(3, vocab.size)
    pieces = list(vocab.pieces[N_SPECIAL:])
    return pd.DataFrame(
        {
            "id": ids,
            "text": [p.decode("utf-8", errors="replace") for p in pieces],
            "piece": pieces,
            "n_bytes": [len(p) for p in pieces],
            "n_chars": [len(p.decode("utf-8", errors="ignore")) for p in pieces],
            "count": vocab.counts[N_SPECIAL:],
            "logp": vocab.logp[N_SPECIAL:],
            "category": [piece_category(p) for p in pieces],
        }
    )


@dataclass(frozen=True)
class SegmentationScores:
    """Precision, recall and F1 of word boundaries (inside sentences) and of whole words."""

    boundary_precision: float
    boundary_recall: float
    boundary_f1: float
    word_precision: float
    word_recall: float
    word_f1: float
    n_sentences: int

    def as_dict(self) -> dict[str, float]:
        """The scores as a plain dictionary."""
        return asdict(self)


def _spans(words: Sequence[str | bytes]) -> tuple[bytes, list[tuple[int, int]]]:
    spans, pos, parts = [], 0, []
    for w in words:
        b = w.encode("utf-8") if isinstance(w, str) else bytes(w)
        if b:
            spans.append((pos, pos + len(b)))
            pos += len(b)
            parts.append(b)
    return b"".join(parts), spans


def _prf(correct: int, predicted: int, gold: int) -> tuple[float, float, float]:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score_segmentation(
    predicted: Iterable[Sequence[str | bytes]], gold: Iterable[Sequence[str | bytes]]
) -> SegmentationScores:
    """Score a word segmentation against a gold one, sentence by sentence.

    Each argument is a sequence of sentences, each a sequence of words (str, or bytes pieces
    as ``Tokenizer.tokenize`` returns). Positions are UTF-8 byte offsets, so a piece that
    splits a character puts a (wrong) boundary inside it. Boundaries are those inside a
    sentence (not its two ends); a word counts as correct when both its ends match.

    >>> s = score_segmentation([["今天", "天气", "不错"]], [["今天", "天气", "不", "错"]])
    >>> s.boundary_precision, s.boundary_recall, s.word_recall
    (1.0, 0.6666666666666666, 0.5)
    """
    b_correct = b_pred = b_gold = w_correct = w_pred = w_gold = n = 0
    for i, (pred, ref) in enumerate(zip(predicted, gold, strict=True)):
        text_p, spans_p = _spans(pred)
        text_g, spans_g = _spans(ref)
        if text_p != text_g:
            raise ValueError(
                f"sentence {i}: the predicted words do not spell the gold sentence "
                f"({text_p[:30].decode(errors='replace')!r} vs "
                f"{text_g[:30].decode(errors='replace')!r})"
            )
        cuts_p = {e for _, e in spans_p[:-1]}
        cuts_g = {e for _, e in spans_g[:-1]}
        b_correct += len(cuts_p & cuts_g)
        b_pred += len(cuts_p)
        b_gold += len(cuts_g)
        w_correct += len(set(spans_p) & set(spans_g))
        w_pred += len(spans_p)
        w_gold += len(spans_g)
        n += 1
    bp, br, bf = _prf(b_correct, b_pred, b_gold)
    wp, wr, wf = _prf(w_correct, w_pred, w_gold)
    return SegmentationScores(bp, br, bf, wp, wr, wf, n)


def read_gold(path: str | Path, limit: int | None = None) -> list[list[str]]:
    """Read a gold segmentation: one sentence a line, words separated by spaces."""
    sentences = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if words:
                sentences.append(words)
            if limit is not None and len(sentences) >= limit:
                break
    return sentences
