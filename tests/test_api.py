"""The drop-in API and its additions: ids, specials, offsets, batches, iterators, saving."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bytepiece_core import Tokenizer
from bytepiece_core.model import dump_model

BYTES = {bytes([b]): 1 for b in range(256)}
MODEL = dump_model({**BYTES, b"ab": 5, "天气".encode(): 4, b"\n\n": 3, "é".encode(): 2})
TOK = Tokenizer(MODEL)


def test_ids_follow_length_then_bytes() -> None:
    # ids 3..258 are the single bytes; then by (length, bytes): b"\n\n" < b"ab" < "é" < "天气"
    assert [TOK.id_to_piece(i) for i in range(259, 263)] == [
        b"\n\n",
        b"ab",
        "é".encode(),
        "天气".encode(),
    ]


def test_specials_and_iter() -> None:
    assert TOK.encode("ab", add_bos=True, add_eos=True) == [1, 260, 2]
    assert list(TOK.encode("ab", iter=True)) == [260]
    assert list(TOK.tokenize("abc", iter=True)) == [b"ab", b"c"]
    assert TOK.pieces_to_ids(["<pad>", "<bos>", "<eos>", b"ab"]) == [0, 1, 2, 260]
    assert TOK.ids_to_pieces([0, 260]) == ["<pad>", b"ab"]
    assert TOK.decode([1, 260, 0, 2]) == "ab"
    assert TOK.decode(np.array([260, 102])) == "abc"
    assert TOK.decode([]) == ""
    assert TOK.encode("") == []


def test_decode_drops_broken_utf8_like_the_reference() -> None:
    # 0xE5 alone is a broken character: the reference decodes with errors="ignore"
    assert TOK.decode([TOK.piece_to_id(b"a"), TOK.piece_to_id(b"\xe5")]) == "a"


def test_offsets_hand_worked() -> None:
    # NFD "e" + U+0301 becomes NFC "é" (2 bytes); 天 is 3 bytes, 地 is split into bytes
    enc = TOK.encode_with_offsets("abe\u0301天气地")
    assert enc.text == "abé天气地"
    assert enc.pieces == [b"ab", "é".encode(), "天气".encode(), b"\xe5", b"\x9c", b"\xb0"]
    assert enc.byte_offsets == [(0, 2), (2, 4), (4, 10), (10, 11), (11, 12), (12, 13)]
    assert enc.char_offsets == [(0, 2), (2, 3), (3, 5), (5, 6), (5, 6), (5, 6)]
    assert enc.ids == TOK.encode("abe\u0301天气地")


def test_batch_equals_single_calls() -> None:
    texts = ["ab\n\nab", "", "天气天气", "x" * 1000, "é\n"] * 20
    want = [TOK.encode(t, add_bos=True) for t in texts]
    assert TOK.encode_batch(texts, add_bos=True, num_threads=1) == want
    assert TOK.encode_batch(texts, add_bos=True, num_threads=2) == want
    assert TOK.encode_batch([]) == []


@pytest.mark.parametrize("bos", [False, True])
@pytest.mark.parametrize("eos", [False, True])
def test_batch_as_arrays_equals_lists(bos: bool, eos: bool) -> None:
    texts = ["", "ab\n\nab", "", "天气天气", "x" * 300, ""] * 7
    want = TOK.encode_batch(texts, bos, eos, num_threads=1)
    for threads in (1, 2, 3):
        batch = TOK.encode_batch(texts, bos, eos, num_threads=threads, as_arrays=True)
        assert len(batch) == len(texts)
        assert batch.tolist() == want
        assert batch[-3].tolist() == want[-3]
    assert TOK.encode_batch([], as_arrays=True).tolist() == []


def test_newline_runs_are_chunk_ends() -> None:
    # no token crosses from a newline run into the next line ("\nab" would score better than
    # "\n", "ab" if it were a piece)
    counts = {**BYTES, b"ab": 5, b"\n\n": 3, b"\nab": 50}
    tok = Tokenizer(dump_model(counts))
    assert tok.tokenize("a\n\n\nab") == naive.tokenize("a\n\n\nab", naive.logp_table(counts))
    assert tok.tokenize("a\n\n\nab")[-1] == b"ab"
    assert tok.tokenize("a\nab") == [b"a", b"\n", b"ab"]
    assert tok.tokenize("\nab") == [b"\n", b"ab"]


def test_save_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "m.model"
    TOK.save(path)
    assert json.loads(path.read_text(encoding="utf-8")) == MODEL
    assert Tokenizer(path).encode("天气ab") == TOK.encode("天气ab")
    assert [p.name for p in tmp_path.iterdir()] == ["m.model"]  # no temporary file left


@settings(max_examples=300, deadline=None)
@given(st.text(), st.one_of(st.just(-1.0), st.floats(0, 5)), st.integers(0, 2**32))
def test_decode_inverts_encode(text: str, alpha: float, seed: int) -> None:
    ids = TOK.encode(text, alpha=alpha, seed=seed)
    assert TOK.decode(ids) == unicodedata.normalize("NFC", text)
