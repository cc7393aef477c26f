"""Corpus metrics, the vocabulary table and segmentation scores, against hand-worked cases
and plain recomputation."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bytepiece_core import Tokenizer
from bytepiece_core.metrics import evaluate, read_gold, score_segmentation, vocab_table
from bytepiece_core.model import dump_model

BYTES = {bytes([b]): 1 for b in range(256)}


def test_evaluate_hand_worked() -> None:
    # vocabulary: 256 bytes (count 1) + "ab" (count 4): total 260
    tok = Tokenizer(dump_model({**BYTES, b"ab": 4}))
    m = evaluate(tok, ["abab", "", "xé"])
    # tokens: ab ab | x \xc3 \xa9  -> 5 tokens over 4 + 3 bytes, 2 + 0 + 2 chars
    assert (m.n_tokens, m.n_bytes, m.n_chars, m.n_distinct) == (5, 7, 6, 4)
    assert m.bytes_per_token == pytest.approx(7 / 5)
    bits = -(2 * math.log2(4 / 260) + 3 * math.log2(1 / 260))
    assert m.bits_per_byte == pytest.approx(bits / 7)
    assert m.bits_per_token == pytest.approx(bits / 5)
    assert m.token_entropy == pytest.approx(-(0.4 * math.log2(0.4) + 3 * 0.2 * math.log2(0.2)))
    assert m.fragment_share == pytest.approx(2 / 5)


def test_evaluate_matches_recount_on_released_model(shared: Path) -> None:
    tok = Tokenizer(shared / "models" / "bytepiece.plus.40k.zip")
    texts = (
        (shared / "corpora" / "zh_reviews.txt").read_text(encoding="utf-8").splitlines(True)[:300]
    )
    m = evaluate(tok, texts)
    pieces = [p for t in texts for p in tok.tokenize(t)]
    assert m.n_tokens == len(pieces)
    assert m.bytes_per_token == pytest.approx(sum(map(len, pieces)) / len(pieces))
    logp = {p: tok.vocab.logp[tok.piece_to_id(p)] for p in set(pieces)}
    assert m.bits_per_byte == pytest.approx(-sum(logp[p] for p in pieces) / math.log(2) / m.n_bytes)
    freq = np.array(list(Counter(pieces).values())) / len(pieces)
    assert m.token_entropy == pytest.approx(-(freq * np.log2(freq)).sum())
    frag = sum(1 for p in pieces if _is_fragment(p))
    assert m.fragment_share == pytest.approx(frag / len(pieces))


def _is_fragment(piece: bytes) -> bool:
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_evaluate_bad_input() -> None:
    tok = Tokenizer(dump_model(BYTES))
    with pytest.raises(TypeError, match="not a single str"):
        evaluate(tok, "abc")
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str"):
        evaluate(tok, ["a", b"b"])
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate(tok, ["", ""])


def test_vocab_table() -> None:
    tok = Tokenizer(
        dump_model({**BYTES, b"the": 9, "中国".encode(): 7, b"a1": 2, "，".encode(): 3})
    )
    table = vocab_table(tok).set_index("text")
    assert len(table) == tok.vocab_size - 3
    assert table.loc["the", "category"] == "Latin"
    assert table.loc["中国", ["n_bytes", "n_chars", "category"]].tolist() == [6, 2, "CJK"]
    assert table.loc["a1", "category"] == "mixed"
    assert table.loc["，", "category"] == "punctuation"
    assert (table["category"] == "byte fragment").sum() == 128  # bytes 0x80..0xFF
    assert table.loc["the", "logp"] == pytest.approx(math.log(9 / (256 + 9 + 7 + 2 + 3)))


def test_score_segmentation_hand_worked() -> None:
    pred = [["ab", "c", "d"], [b"x", b"yz"]]
    gold = [["a", "bc", "d"], ["x", "yz"]]
    s = score_segmentation(pred, gold)
    # boundaries: pred {2, 3} vs gold {1, 3}: 1 of 2; {1} vs {1}: 1 of 1 -> P = R = 2/3
    assert (s.boundary_precision, s.boundary_recall) == pytest.approx((2 / 3, 2 / 3))
    # words: pred {ab, c, d, x, yz}, gold {a, bc, d, x, yz}: 3 correct of 5 and 5
    assert (s.word_precision, s.word_recall, s.word_f1) == pytest.approx((0.6, 0.6, 0.6))
    with pytest.raises(ValueError, match="do not spell the gold"):
        score_segmentation([["ab"]], [["a", "c"]])
    with pytest.raises(ValueError):
        score_segmentation([["a"]], [])


def test_gold_file_matches_raw_text(shared: Path) -> None:
    gold = read_gold(shared / "corpora" / "zh_pd199801.gold.txt", limit=50)
    raw = (shared / "corpora" / "zh_pd199801.txt").read_text(encoding="utf-8").splitlines()
    raw = [line for line in raw if line.strip()][:50]
    assert ["".join(words) for words in gold] == raw
    perfect = score_segmentation(gold, gold)
    assert (perfect.boundary_f1, perfect.word_f1) == (1.0, 1.0)
