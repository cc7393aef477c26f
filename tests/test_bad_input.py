"""Bad input gets an exception whose message names the problem; nothing crashes."""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bytepiece_core import ModelError, Tokenizer, UnknownPieceError
from bytepiece_core.model import dump_model

BYTES = {bytes([b]): 1 for b in range(256)}


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer(dump_model({**BYTES, b"ab": 3}))


def _model_file(tmp_path: Path, content: str | bytes, name: str = "m.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize("text", [b"abc", None, 12, ["a"]])
def test_text_must_be_str(tok: Tokenizer, text: object) -> None:
    with pytest.raises(TypeError, match="text must be a str"):
        tok.encode(text)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="text must be a str"):
        tok.tokenize(text)  # type: ignore[arg-type]


def test_lone_surrogate_is_a_clear_error(tok: Tokenizer) -> None:
    with pytest.raises(ValueError, match="lone surrogate '\\\\ud800' at index 1"):
        tok.encode("a\ud800b")
    with pytest.raises(ValueError, match=r"texts\[1\] cannot be encoded"):
        tok.encode_batch(["ok", "x\udfff"])


def test_batch_rejects_non_sequences_and_non_str(tok: Tokenizer) -> None:
    with pytest.raises(TypeError, match="sequence"):
        tok.encode_batch("abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"texts\[2\] must be a str"):
        tok.encode_batch(["a", "b", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="num_threads"):
        tok.encode_batch(["a"], num_threads=0)


@pytest.mark.parametrize("alpha", [float("nan"), float("inf"), -float("inf")])
def test_alpha_must_be_finite(tok: Tokenizer, alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha must be finite"):
        tok.encode("ab", alpha=alpha)


@pytest.mark.parametrize("alpha", ["1", None, True])
def test_alpha_must_be_a_number(tok: Tokenizer, alpha: object) -> None:
    with pytest.raises(TypeError, match="alpha must be a number"):
        tok.encode("ab", alpha=alpha)  # type: ignore[arg-type]


def test_negative_alpha_is_the_best_segmentation(tok: Tokenizer) -> None:
    # as in the reference: any alpha < 0 means Viterbi
    assert tok.encode("abab", alpha=-0.5) == tok.encode("abab") == [259, 259]


def test_decode_rejects_bad_ids(tok: Tokenizer) -> None:
    with pytest.raises(UnknownPieceError, match=r"token id 260 is out of range.*0\.\.259"):
        tok.decode([3, 260])
    with pytest.raises(UnknownPieceError, match="token id -1 is out of range"):
        tok.decode([-1])
    with pytest.raises(TypeError, match="integers"):
        tok.decode([3, 4.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="integers"):
        tok.decode(["a"])  # type: ignore[list-item]
    with pytest.raises(KeyError):  # a drop-in: the reference raises KeyError
        tok.id_to_piece(10**6)
    with pytest.raises(TypeError, match="integers"):
        tok.id_to_piece(True)
    with pytest.raises(KeyError, match="not a piece of this vocabulary"):
        tok.piece_to_id("ab")


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model file not found"):
        Tokenizer(tmp_path / "nope.model")


def test_model_not_json(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not valid JSON"):
        Tokenizer(_model_file(tmp_path, "{not json"))
    with pytest.raises(ModelError, match="is empty"):
        Tokenizer(_model_file(tmp_path, ""))
    with pytest.raises(ModelError, match="must hold a JSON object"):
        Tokenizer(_model_file(tmp_path, "[1, 2]"))


def test_model_type(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="path to a BytePiece model file"):
        Tokenizer(42)  # type: ignore[arg-type]


def test_truncated_and_empty_zip(tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("m.model", json.dumps(dump_model(BYTES)))
    assert Tokenizer(good).vocab_size == 259
    truncated = _model_file(tmp_path, good.read_bytes()[: good.stat().st_size // 2], "t.zip")
    with pytest.raises(ModelError, match="damaged or truncated"):
        Tokenizer(truncated)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w"):
        pass
    with pytest.raises(ModelError, match="exactly one model file, it holds 0"):
        Tokenizer(empty)


def test_duplicate_pieces_and_ids(tmp_path: Path) -> None:
    model = dump_model(BYTES)
    text = json.dumps(model)
    dup_key = text[:-1] + ', "AA==": [259, "", 1]}'
    with pytest.raises(ModelError, match="key 'AA==' twice"):
        Tokenizer(_model_file(tmp_path, dup_key))
    same_piece = dict(model)
    same_piece["AA"] = [259, "", 1]  # not canonical base64 of b"\x00" -> rejected as base64
    with pytest.raises(ModelError, match="not valid base64"):
        Tokenizer(same_piece)
    dup_id = dict(model)
    dup_id[base64.b64encode(b"ab").decode()] = [3, "ab", 1]
    with pytest.raises(ModelError, match=r"has id 3|id 3 is used twice"):
        Tokenizer(dup_id)
    dup_id2 = dict(model)
    dup_id2[base64.b64encode(b"ab").decode()] = [259, "ab", 1]
    dup_id2[base64.b64encode(b"\x00").decode()] = [259, "", 1]
    with pytest.raises(ModelError, match=r"id 259 is used twice|uses ids 3\.\.259"):
        Tokenizer(dup_id2)


@pytest.mark.parametrize("count", [0, -3, float("nan"), "7", True, None])
def test_non_positive_counts(count: object) -> None:
    model = dump_model(BYTES)
    model[base64.b64encode(b"a").decode()][2] = count
    with pytest.raises(ModelError, match="counts must be positive numbers"):
        Tokenizer(model)


def test_missing_single_bytes() -> None:
    model = dump_model({b: 1 for b in list(BYTES)[:250]})
    with pytest.raises(ModelError, match="lacks 6 of the 256 single-byte pieces \\(0xFA"):
        Tokenizer(model)


def test_bad_entry_shapes() -> None:
    model = dump_model(BYTES)
    model["YQ=="] = [100, "a"]
    with pytest.raises(ModelError, match="must be \\[id, display_text, count\\]"):
        Tokenizer(model)
    model["YQ=="] = ["100", "a", 1]
    with pytest.raises(ModelError, match="non-integer id"):
        Tokenizer(model)


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (-1, ValueError, "seed must be a non-negative integer, got -1"),
        (
            "7",
            TypeError,
            "seed must be a non-negative integer, a numpy.random.Generator or None, not str",
        ),
        (1.5, TypeError, "not float"),
        (True, TypeError, "not bool"),
    ],
)
def test_seed_errors_name_the_argument(
    tok: Tokenizer, seed: object, error: type[Exception], message: str
) -> None:
    for call in (
        lambda: tok.encode("ab", alpha=0.1, seed=seed),  # type: ignore[arg-type]
        lambda: tok.tokenize("ab" * 600, alpha=0.1, seed=seed),  # type: ignore[arg-type]
        lambda: tok.encode_batch(["ab"], alpha=0.1, seed=seed),  # type: ignore[arg-type]
        lambda: tok.set_seed(seed),  # type: ignore[arg-type]
        lambda: Tokenizer(tok.to_dict(), seed=seed),  # type: ignore[arg-type]
    ):
        with pytest.raises(error, match=message):
            call()
    assert tok.encode("ab", alpha=0.1, seed=np.random.default_rng(3)) == tok.encode(
        "ab", alpha=0.1, seed=np.random.default_rng(3)
    )
