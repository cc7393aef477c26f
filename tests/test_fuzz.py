"""Hostile input, seeded so that a failure reproduces: random text from every plane through
every tokenizing path of every released model, mutated model files, absurd trainer options
and corpora. Each gets a correct result or a clear ``ValueError``/``TypeError``/``KeyError``/
``OSError``: never a crash, a hang or a wrong answer.

CI runs this file a second time with ``NUMBA_BOUNDSCHECK=1`` (and a fresh Numba cache), so an
out-of-bounds read or write in a kernel fails it.
"""

from __future__ import annotations

import base64
import io
import json
import math
import random
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bytepiece_core import Tokenizer, Trainer
from bytepiece_core.model import dump_model

SHARED = Path(__file__).resolve().parents[2] / "shared"
MODELS = sorted((SHARED / "models").glob("*.zip"))
CLEAN_ERRORS = (ValueError, TypeError, KeyError, OSError)

# Characters the planes alone rarely give: NUL, controls, BOM, zero-width, bidi marks,
# combining marks, emoji (with ZWJ and skin tone), private use, CJK, line and paragraph
# separators, and runs of newlines and \r\n.
SPECIAL = [
    "\x00", "\x01", "\x1f", "\x7f", "\ufeff", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",
    "\u202e", "\u2066", "\u0301", "\u0338", "e\u0301", "\U0001f600", "\U0001f469\u200d\U0001f4bb",
    "\U0001f44d\U0001f3fd", "\ue000", "\U000f0000", "中", "語", "\u2028", "\u2029", "\n", "\n\n\n",
    "\r\n", "\r", "\t", " ", "ﬁ", "Å", "Å", "한", "ﷺ", "\U00020000",
]  # fmt: skip

texts = st.lists(
    st.one_of(
        st.text(st.characters(exclude_categories=("Cs",)), max_size=12),  # any plane
        st.sampled_from(SPECIAL),
        st.text(alphabet="ab \n", max_size=8),
    ),
    max_size=12,
).map("".join)

FUZZ = settings(
    max_examples=60,
    derandomize=True,  # the same examples every run: a failure reproduces
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module", params=[m.name for m in MODELS])
def tok(request: pytest.FixtureRequest) -> Tokenizer:
    return Tokenizer(SHARED / "models" / request.param)


def _check_text(tok: Tokenizer, text: str) -> None:
    nfc = unicodedata.normalize("NFC", text)
    ids = tok.encode(text)
    assert tok.decode(ids) == nfc
    assert b"".join(tok.tokenize(text)) == nfc.encode()
    enc = tok.encode_with_offsets(text)
    assert enc.ids == ids
    ends = [0] + [b for _, b in enc.byte_offsets]
    assert [a for a, _ in enc.byte_offsets] == ends[:-1]  # contiguous, from 0
    assert ends[-1] == len(nfc.encode())
    # a character span: the characters a token's bytes belong to; before[k] = the number of
    # characters that start in the first k bytes
    before = [0]
    for byte in nfc.encode():
        before.append(before[-1] + (byte & 0xC0 != 0x80))
    assert enc.char_offsets == [(before[a + 1] - 1, before[b]) for a, b in enc.byte_offsets]
    sampled = tok.encode(text, alpha=0.5, seed=7)
    assert sampled == tok.encode(text, alpha=0.5, seed=7)  # same seed, same ids
    assert tok.decode(sampled) == nfc
    if len(nfc.encode()) <= 400:
        lat = tok.lattice(text, alpha=1.0)
        assert [int(lat.ids[e]) for e in lat.best] == ids
        assert np.isfinite(lat.entropy) and lat.entropy >= -1e-9


@FUZZ
@given(text=texts, other=texts)
def test_random_text_on_every_path(tok: Tokenizer, text: str, other: str) -> None:
    _check_text(tok, text)
    assert tok.encode_batch([text, other, ""]) == [tok.encode(text), tok.encode(other), []]
    assert tok.encode_batch([text, other], num_threads=2) == [tok.encode(text), tok.encode(other)]


def test_long_lines_and_newline_runs(tok: Tokenizer) -> None:
    rng = random.Random(11)
    alphabet = ["中", "a", " ", "é", "\U0001f600", "\u200d", "1"]
    long_line = "".join(rng.choice(alphabet) for _ in range(100_000))
    for text in (long_line, "\n" * 5000, "\r\n" * 3000, "a\n" * 4000, "\x00" * 10_000, ""):
        _check_text(tok, text)


def test_lone_surrogates_are_refused(tok: Tokenizer) -> None:
    for text in ("\ud800", "a\udfffb", "中\ud83d"):
        with pytest.raises(ValueError, match="surrogate"):
            tok.encode(text)
        with pytest.raises(ValueError):
            tok.encode_batch(["ok", text])


# -- model files ------------------------------------------------------------------------------


def _small_model() -> dict[str, list[Any]]:
    pieces = {bytes([b]): 1 for b in range(256)}
    pieces.update({b"ab": 5, "中国".encode(): 9, b"the": 4})
    return dump_model(pieces)


def _mutations(rng: random.Random) -> list[Any]:
    """Model dicts, JSON texts and zip bytes, each broken in one way (or not at all)."""
    good = _small_model()
    keys = list(good)
    out: list[Any] = []
    for bad in (float("nan"), -1, 0, 10**30, "5", None, 2.5, True, [], float("inf")):
        model = json.loads(json.dumps(good))
        model[rng.choice(keys)][2] = bad  # the count
        out.append(model)
    for bad_id in (-1, 0, 1, 2, 10**9, "7", None, 3):  # 3 is taken: a duplicate id
        model = json.loads(json.dumps(good))
        model[keys[-1]][0] = bad_id
        out.append(model)
    for bad_key in ("!!!", "", "YWJj", "=", base64.b64encode(b"\xff\xfe").decode()):
        model = json.loads(json.dumps(good))
        model[bad_key] = [len(model) + 3, "", 2]
        out.append(model)
    model = json.loads(json.dumps(good))
    del model[base64.b64encode(b"a").decode()]  # a missing single byte
    out.append(model)
    out += [{}, [], "model", 42, {"YQ==": "x"}, {"YQ==": [3, "a"]}, {"YQ==": [3, "a", 1, 9]}]
    text = json.dumps(good)
    for _ in range(20):  # truncated and bit-flipped JSON
        cut = rng.randrange(len(text))
        out.append(text[:cut])
        raw = bytearray(text.encode())
        raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        out.append(bytes(raw))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("m.model", text)
    zipped = buf.getvalue()
    for _ in range(20):  # truncated and bit-flipped zips
        out.append(zipped[: rng.randrange(len(zipped))])
        raw = bytearray(zipped)
        raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        out.append(bytes(raw))
    out.append(bytes(rng.randrange(256) for _ in range(300)))  # random bytes
    return out


def test_mutated_model_files_load_and_round_trip_or_are_refused(tmp_path: Path) -> None:
    rng = random.Random(5)
    loaded = refused = 0
    for i, case in enumerate(_mutations(rng)):
        source: Any = case
        if isinstance(case, (str, bytes)):
            path = (
                tmp_path
                / f"m{i}.{'zip' if isinstance(case, bytes) and case[:2] == b'PK' else 'model'}"
            )
            path.write_bytes(case if isinstance(case, bytes) else case.encode())
            source = path
        try:
            tok = Tokenizer(source)
        except CLEAN_ERRORS:
            refused += 1
            continue
        loaded += 1
        for text in ("the 中国 ab", "", "\x00\n"):
            assert tok.decode(tok.encode(text)) == text
        assert all(math.isfinite(x) for x in tok.vocab.logp[3:].tolist())
    assert refused > 30 and loaded >= 1  # the unbroken flips load; most cases are refused


# -- the trainer ------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["bytepiece", "refined"])
def test_absurd_trainer_options_are_refused(algorithm: str) -> None:
    cases: list[dict[str, Any]] = [
        {"order": 0},
        {"order": 1000},
        {"order": "6"},
        {"max_piece_length": 0},
        {"min_count": -1},
        {"min_count": 0},
        {"max_vocab_size": []},
        {"max_vocab_size": [2000, 2000]},
        {"max_vocab_size": "2000"},
        {"max_vocab_size": 100},
        {"max_vocab_size": 2.5},
        {"isolate_digits": "yes"},
    ]
    for options in cases:
        with pytest.raises((ValueError, TypeError)):
            Trainer(algorithm=algorithm, **options)


@pytest.mark.parametrize("algorithm", ["bytepiece", "refined"])
def test_absurd_corpora(algorithm: str) -> None:
    for texts, error in (
        ([], ValueError),
        ([""], ValueError),
        ([b"abc"], TypeError),
        ([None], TypeError),
        ("", (ValueError, OSError)),
    ):
        with pytest.raises(error):
            Trainer(max_vocab_size=300, algorithm=algorithm).train(texts)
    rng = random.Random(3)
    huge = "".join(rng.choice("ab中 ") for _ in range(60_000))
    for texts in (["\n"] * 50, ["\x00" * 500] * 3, [huge], ["a"]):
        trainer = Trainer(max_vocab_size=[10**12, 300], algorithm=algorithm)
        trainer.train(texts)
        for size in (10**12, 300):
            tok = trainer.tokenizer(size)
            assert tok.vocab_size <= min(size, 10**6)
            for text in texts[:2]:
                assert tok.decode(tok.encode(text)) == unicodedata.normalize("NFC", text)
