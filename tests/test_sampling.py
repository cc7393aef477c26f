"""Viterbi sampling: exact distribution, reproducibility, and alpha = 0 being uniform."""

from __future__ import annotations

import naive
import numpy as np
import pytest

from bytepiece_core import Tokenizer
from bytepiece_core._seeding import first_draw
from bytepiece_core.model import dump_model

SINGLE_BYTES = {bytes([b]): 1 for b in range(256)}
EXTRA = {b"ab": 6, b"bc": 3, b"abc": 2, b"cd": 4, b"bcd": 1, b"a": 5, b"d": 2}
N_SAMPLES = 20000


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer(dump_model({**SINGLE_BYTES, **EXTRA}))


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0, 2.5])
@pytest.mark.parametrize("text", ["abcd", "abcab", "dabcd"])
def test_sample_frequencies_match_exact_distribution(
    tok: Tokenizer, text: str, alpha: float
) -> None:
    logp = naive.logp_table({**SINGLE_BYTES, **EXTRA})
    exact = naive.segmentation_distribution(text.encode(), logp, alpha)
    samples = tok.vocab.segment(
        [text.encode()] * N_SAMPLES,
        alpha=alpha,
        seeds=np.random.default_rng(123).integers(0, 2**64, N_SAMPLES, dtype=np.uint64),
    )
    observed: dict[tuple[bytes, ...], int] = {}
    for d in range(N_SAMPLES):
        seg = tuple(tok.vocab.pieces[i] for i in samples.doc_ids(d))
        observed[seg] = observed.get(seg, 0) + 1
    assert set(observed) <= set(exact)
    # each frequency within 5 standard errors of its probability (fixed seed: deterministic)
    for seg, p in exact.items():
        freq = observed.get(seg, 0) / N_SAMPLES
        tolerance = 5 * np.sqrt(p * (1 - p) / N_SAMPLES) + 1e-4
        assert abs(freq - p) <= tolerance, (seg, freq, p)


def test_alpha_zero_is_uniform(tok: Tokenizer) -> None:
    logp = naive.logp_table({**SINGLE_BYTES, **EXTRA})
    exact = naive.segmentation_distribution(b"abcd", logp, 0.0)
    assert np.allclose(list(exact.values()), 1 / len(exact))
    counts: dict[tuple[bytes, ...], int] = {}
    for seed in range(4000):
        seg = tuple(tok.tokenize("abcd", alpha=0, seed=seed))
        counts[seg] = counts.get(seg, 0) + 1
    assert set(counts) == set(exact)
    expected = 4000 / len(exact)
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 30  # len(exact) - 1 = 7 degrees of freedom; 30 is far in the tail


def test_seed_makes_samples_reproducible(tok: Tokenizer) -> None:
    text = "abcdabcdabcd\nabcab"
    a = [tok.encode(text, alpha=0.5, seed=s) for s in range(20)]
    b = [tok.encode(text, alpha=0.5, seed=s) for s in range(20)]
    assert a == b
    assert len({tuple(x) for x in a}) > 1
    tok.set_seed(9)
    c = [tok.encode(text, alpha=0.5) for _ in range(5)]
    tok.set_seed(9)
    assert c == [tok.encode(text, alpha=0.5) for _ in range(5)]
    assert Tokenizer(dump_model({**SINGLE_BYTES, **EXTRA}), seed=9).encode(text, alpha=0.5) == c[0]


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 + 7, 2**100 + 3])
def test_a_seed_gives_the_stream_numpy_documents(tok: Tokenizer, seed: int) -> None:
    # A seed draws the sampling seeds of default_rng(seed), whichever way they are made, so a
    # text's sample does not depend on the batch it is in.
    drawn = np.random.default_rng(seed).integers(0, 2**64, size=5, dtype=np.uint64)
    assert tok._seeds(5, seed).tolist() == drawn.tolist()
    assert tok._seeds(1, np.random.default_rng(seed)).tolist() == drawn[:1].tolist()
    text = "abcdabcd\nabcab"
    batch = tok.encode_batch([text], alpha=0.5, seed=seed)
    assert tok.encode(text, alpha=0.5, seed=seed) == batch[0]


def test_first_draw_is_numpys() -> None:
    """A call's seed is made without NumPy's generator (``_seeding``), and must be its first
    draw: seeds of one and two 32-bit words, at the edges, and past 2**64 (NumPy's way)."""
    rng = np.random.default_rng(12)
    edges = [0, 1, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**63, 2**64 - 1, 2**64, 2**90 + 1]
    seeds = edges + rng.integers(0, 2**32, 300).tolist() + rng.integers(0, 2**63, 300).tolist()
    for seed in seeds:
        want = int(np.random.default_rng(seed).integers(0, 2**64, dtype=np.uint64))
        assert first_draw(seed) == want, seed


def test_batch_sampling_does_not_depend_on_threads(tok: Tokenizer) -> None:
    texts = ["abcd" * (i % 7 + 1) for i in range(200)]
    one = tok.encode_batch(texts, alpha=1.0, seed=5, num_threads=1)
    two = tok.encode_batch(texts, alpha=1.0, seed=5, num_threads=2)
    assert one == two
    assert all(tok.decode(ids) == t for ids, t in zip(one, texts))


def test_large_alpha_approaches_viterbi(tok: Tokenizer) -> None:
    text = "abcdabcab\nbcd"
    assert tok.encode(text, alpha=200.0, seed=1) == tok.encode(text)
