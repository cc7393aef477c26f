"""The lattice against brute-force enumeration of all segmentations."""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest

from bytepiece_core import Tokenizer
from bytepiece_core.model import dump_model

BYTES = {bytes([b]): 1 for b in range(256)}


def _random_model(seed: int) -> dict[bytes, int]:
    rng = np.random.default_rng(seed)
    extra = naive.random_vocab(rng, "ab天\n".encode(), 40, 6)
    return {**BYTES, **dict(zip(extra, rng.integers(1, 30, len(extra)).tolist()))}


def _random_texts(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed + 100)
    return [
        "".join(rng.choice(list("ab天\n"), size=int(rng.integers(0, 7))).tolist()) for _ in range(n)
    ]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("alpha", [0.0, 0.7, 2.0])
def test_lattice_matches_brute_force(seed: int, alpha: float) -> None:
    counts = _random_model(seed)
    tok = Tokenizer(dump_model(counts))
    logp = naive.logp_table(counts)
    for text in _random_texts(seed, 15):
        lat = tok.lattice(text, alpha=alpha)
        data = text.encode()
        want = naive.lattice_quantities(data, logp, alpha)
        spans = list(zip(lat.starts.tolist(), lat.ends.tolist()))
        # every edge is a match inside a chunk; every span a segmentation uses is an edge
        assert set(want["marginals"]) <= set(spans)
        assert all(data[s:e] in logp for s, e in spans)
        got_marginals = dict(zip(spans, lat.marginals.tolist()))
        for span, p in got_marginals.items():
            assert p == pytest.approx(want["marginals"].get(span, 0.0), abs=1e-9)
        assert lat.boundary_prob.tolist() == pytest.approx(want["boundary"], abs=1e-9)
        assert lat.entropy == pytest.approx(want["entropy"], abs=1e-9)
        assert math.exp(lat.log_count) == pytest.approx(want["count"])
        assert [lat.pieces[e] for e in lat.best] == tok.tokenize(text)
        paths = lat.nbest(4)
        assert [p.score for p in paths] == pytest.approx(want["scores"][:4])
        for p in paths:
            assert b"".join(p.pieces) == data
            assert p.score == pytest.approx(sum(logp[x] for x in p.pieces))


def test_alpha_zero_entropy_is_log_count() -> None:
    tok = Tokenizer(dump_model(_random_model(3)))
    lat = tok.lattice("ab天ab天", alpha=0)
    assert lat.entropy == pytest.approx(lat.log_count / math.log(2))


def test_hand_worked_two_way_lattice() -> None:
    # "ab": a+b (score 2*log(1/261)) or ab (log(5/261)); alpha=1 => p(ab) = 5*261/(5*261+1)
    tok = Tokenizer(dump_model({**BYTES, b"ab": 5}))
    lat = tok.lattice("ab", alpha=1.0)
    p_ab = 5 * 261 / (5 * 261 + 1)
    assert dict(zip(lat.pieces, lat.marginals.tolist())) == pytest.approx(
        {b"a": 1 - p_ab, b"ab": p_ab, b"b": 1 - p_ab}
    )
    assert lat.boundary_prob.tolist() == pytest.approx([1, 1 - p_ab, 1])
    h = -(p_ab * math.log2(p_ab) + (1 - p_ab) * math.log2(1 - p_ab))
    assert lat.entropy == pytest.approx(h)


def test_frame_and_chars() -> None:
    tok = Tokenizer(dump_model({**BYTES, "天气".encode(): 3}))
    frame = tok.lattice("天气").to_frame()
    row = frame[frame.text == "天气"].iloc[0]
    assert (row.start, row.end, row.char_start, row.char_end, bool(row.on_best)) == (
        0,
        6,
        0,
        2,
        True,
    )
    frag = frame[(frame.start == 1) & (frame.end == 2)].iloc[0]
    assert (frag.char_start, frag.char_end) == (0, 1)
    assert list(frame.columns) == [
        "start",
        "end",
        "char_start",
        "char_end",
        "id",
        "piece",
        "text",
        "logp",
        "marginal",
        "on_best",
    ]


def test_lattice_on_released_model_is_consistent(shared) -> None:
    tok = Tokenizer(shared / "models" / "bytepiece.plus.40k.zip")
    text = "今天天气不错，我们去公园散步吧。\nThe quick brown fox jumps over the lazy dog."
    lat = tok.lattice(text, alpha=0.5)
    # marginals of the edges leaving each boundary sum to the boundary's probability
    for k in range(lat.n_bytes):
        leaving = lat.marginals[lat.starts == k].sum()
        assert leaving == pytest.approx(lat.boundary_prob[k], abs=1e-9)
    # the end of a newline run is a chunk end: a boundary with certainty
    assert lat.boundary_prob[text.encode().index(b"\n") + 1] == pytest.approx(1.0)
    assert [lat.pieces[e] for e in lat.best] == tok.tokenize(text)


def test_bad_alpha_and_k() -> None:
    tok = Tokenizer(dump_model(BYTES))
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        tok.lattice("ab", alpha=-1)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        tok.lattice("ab").nbest(0)
    assert tok.lattice("").nbest(3)[0].pieces == []
