"""The segmenter against the reference's own outputs on the released models."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from bytepiece_core import Tokenizer

MODELS = [
    "bytepiece_80k",
    "bytepiece.plus.40k",
    "bytepiece.id.eu.plus.80k",
    "bytepiece.zh.id.eu.40k",
]


@pytest.fixture(scope="module", params=MODELS)
def released(request: pytest.FixtureRequest, shared: Path) -> tuple[Tokenizer, list[dict]]:
    name = request.param
    tok = Tokenizer(shared / "models" / f"{name}.zip")
    with open(shared / "compat" / f"tokenize_{name}.jsonl", encoding="utf-8") as f:
        cases = [json.loads(line) for line in f]
    assert len(cases) > 1000
    return tok, cases


def test_encode_equals_reference_ids(released: tuple[Tokenizer, list[dict]]) -> None:
    tok, cases = released
    wrong = [c["text"][:60] for c in cases if tok.encode(c["text"]) != c["ids"]]
    assert wrong == [], f"{len(wrong)} texts differ, first: {wrong[:3]}"


def test_encode_batch_equals_reference_ids(released: tuple[Tokenizer, list[dict]]) -> None:
    tok, cases = released
    got = tok.encode_batch([c["text"] for c in cases], num_threads=2)
    assert got == [c["ids"] for c in cases]


def test_tokenize_and_decode_agree_with_ids(released: tuple[Tokenizer, list[dict]]) -> None:
    tok, cases = released
    for c in cases[:300]:
        pieces = tok.tokenize(c["text"])
        assert tok.pieces_to_ids(pieces) == c["ids"]
        assert b"".join(pieces) == unicodedata.normalize("NFC", c["text"]).encode()
        assert tok.decode(c["ids"]) == unicodedata.normalize("NFC", c["text"])


def test_vocab_size_matches_model(shared: Path) -> None:
    tok = Tokenizer(shared / "models" / "bytepiece_80k.zip")
    assert tok.vocab_size == 79896
    assert tok.id_to_piece(3) == b"\x00" and tok.id_to_piece(258) == b"\xff"
    assert [tok.id_to_piece(i) for i in range(3)] == ["<pad>", "<bos>", "<eos>"]


def test_long_texts_segment_as_the_walks_do(
    released: tuple[Tokenizer, list[dict]], shared: Path
) -> None:
    # Tokenization goes through the Aho-Corasick automaton; the reference's ids above cover
    # 1,617 texts, and here whole corpora are compared with the walk from every start position,
    # which Vocab.segment takes for chunks given one by one (as the trainer's re-splits do).
    import re

    import numpy as np

    vocab = released[0]._vocab
    for name in ("zh_pd199801.txt", "zh_reviews.txt", "en_kjv.txt", "code_py_stdlib.txt"):
        data = unicodedata.normalize("NFC", (shared / "corpora" / name).read_text()[:150_000])
        raw = data.encode()
        chunks = re.findall(rb"[^\n]*\n+|[^\n]+", raw)
        walks = vocab.segment(chunks, with_ends=False).ids
        assert np.array_equal(vocab.encode_bytes(raw), walks), name
