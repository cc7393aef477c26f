"""Corpus analysis: the n-gram entropy curve against plain counting."""

from __future__ import annotations

import naive
import numpy as np
import pytest

from bytepiece_core.analysis import heldout_entropy, ngram_entropy


@pytest.mark.parametrize("seed", range(4))
def test_entropy_curve_matches_naive(seed: int) -> None:
    rng = np.random.default_rng(seed)
    docs = [
        "".join(rng.choice(list("ab天气\n"), size=int(rng.integers(0, 40))).tolist())
        for _ in range(30)
    ]
    curve = ngram_entropy(docs, order=5)
    chunks = [c for d in docs for c in naive.chunks(d)]
    for k in range(6):
        assert curve.entropy[k] == pytest.approx(naive.conditional_entropy(chunks, k), abs=1e-12)
        assert curve.positions[k] == sum(max(0, len(c) - k) for c in chunks)


def test_entropy_curve_hand_worked() -> None:
    # "aab" repeated: H_0 = H(2/3, 1/3); after "a" the next byte is a or b (1/2 each)
    curve = ngram_entropy(["aab" * 50], order=2)
    h0 = -(2 / 3 * np.log2(2 / 3) + 1 / 3 * np.log2(1 / 3))
    assert curve.entropy[0] == pytest.approx(h0, abs=1e-3)
    assert curve.entropy[2] == pytest.approx(0.0)
    assert list(curve.columns) == ["order", "entropy", "positions", "contexts", "ngrams"]


def test_entropy_bad_input() -> None:
    with pytest.raises(ValueError, match="order must be a non-negative integer"):
        ngram_entropy(["abc"], order=-1)
    with pytest.raises(ValueError, match="hold no text"):
        ngram_entropy(["", ""])
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        ngram_entropy(["a", 3])


DOCS = [
    f"{a} {b} {c}\n"
    for a in ("the", "a", "one", "some")
    for b in ("cat", "dog", "bird")
    for c in ("sat", "ran", "slept")
] * 4
HELD = ["the bird ran\n", "one dog slept\n", "a new cat\n"]


def test_sweep_equals_one_training_and_evaluate() -> None:
    from bytepiece_core import Trainer
    from bytepiece_core.analysis import vocab_sweep
    from bytepiece_core.metrics import evaluate

    sizes = [300, 262, 280]
    sweep = vocab_sweep(DOCS, sizes, heldout=HELD, order=4, min_count=2)
    trainer = Trainer(order=4, max_vocab_size=sizes, min_count=2)
    trainer.train(DOCS)
    assert sweep.table["size"].tolist() == sorted(sizes)
    for _, row in sweep.table.iterrows():
        size = int(row["size"])
        tok = trainer.tokenizer(size)
        assert sweep.tokenizers[size].to_dict() == tok.to_dict()
        assert row["vocab_size"] == tok.vocab_size
        train, held = evaluate(tok, DOCS), evaluate(tok, HELD)
        assert row["train_bits_per_byte"] == pytest.approx(train.bits_per_byte)
        assert row["heldout_bytes_per_token"] == pytest.approx(held.bytes_per_token)
        pieces = tok.vocab.pieces[3:]
        counts = tok.vocab.counts[3:]
        vocab_bits = sum(8 * len(p) + 2 * np.floor(np.log2(c)) + 1 for p, c in zip(pieces, counts))
        assert row["vocab_bits"] == pytest.approx(vocab_bits)
        assert row["description_bits"] == pytest.approx(row["corpus_bits"] + vocab_bits)
        assert row["corpus_bits"] == pytest.approx(train.bits_per_byte * train.n_bytes)
        lengths = sweep.piece_lengths[sweep.piece_lengths["size"] == size]
        assert lengths["pieces"].sum() == len(pieces)
    assert sweep.best_size() in sizes


def test_sweep_without_heldout_and_bad_options() -> None:
    from bytepiece_core.analysis import vocab_sweep

    sweep = vocab_sweep(DOCS, [262], order=3)
    assert np.isnan(sweep.table["heldout_bits_per_byte"][0])
    with pytest.raises(TypeError, match="sizes"):
        vocab_sweep(DOCS, [262], max_vocab_size=300)
    with pytest.raises(ValueError, match="max_vocab_size"):
        vocab_sweep(DOCS, [100])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ensure_unicode", [True, False])
def test_ngram_model_matches_naive(seed: int, ensure_unicode: bool) -> None:
    import naive_train

    from bytepiece_core.analysis import ngram_model

    rng = np.random.default_rng(seed)
    alphabet = [*"ab天气 \n", "é"]
    docs = [
        "".join(rng.choice(alphabet, size=int(rng.integers(1, 30))).tolist()) for _ in range(60)
    ]
    order, min_count = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    lm = ngram_model(docs, order=order, min_count=min_count, ensure_unicode=ensure_unicode)
    logp = naive_train.prune_ngrams(
        naive_train.count_ngrams(naive_train.training_chunks(docs), order), min_count
    )
    for text in [*docs[:10], "ab天 new text 气\n\nab"]:
        chunks = naive_train.training_chunks([text])
        want = [
            w for c in chunks for w in naive_train.ngram_viterbi(c, logp, order, ensure_unicode)
        ]
        assert lm.segment(text) == want
        frame = lm.surprisal(text)
        nodes = np.concatenate([naive_train.ngram_emissions(c, logp, order, False) for c in chunks])
        expected = -nodes / np.log(2)
        expected[~np.isfinite(expected)] = np.nan
        got = frame[[f"order_{k}" for k in range(order)]].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
        starts = np.cumsum([0] + [len(w) for w in want])[:-1]
        assert np.flatnonzero(frame["boundary"]).tolist() == starts.tolist()
        assert "".join(frame.drop_duplicates("char_index")["char"]) == "".join(
            c.decode() for c in chunks
        )


@pytest.mark.parametrize("seed", range(3))
def test_heldout_entropy_matches_naive(seed: int) -> None:
    rng = np.random.default_rng(seed)

    def docs(n: int) -> list[str]:
        return [
            "".join(rng.choice(list("ab天气\n"), size=int(rng.integers(1, 30))).tolist())
            for _ in range(n)
        ]

    train, held = docs(25), docs(8)
    curve = heldout_entropy(train, held, order=4, prior=0.7)
    want = naive.heldout_entropy(
        [c for d in train for c in naive.chunks(d)],
        [c for d in held for c in naive.chunks(d)],
        4,
        prior=0.7,
    )
    assert curve["train_bits"].tolist() == pytest.approx([w[0] for w in want], abs=1e-9)
    assert curve["heldout_bits"].tolist() == pytest.approx([w[1] for w in want], abs=1e-9)


def test_heldout_entropy_hand_worked() -> None:
    # train "ab" x 20: 20 a, 20 b; p_0(a) = (20 + 1/256) / (40 + 1). After "a" always "b"
    # (20 times): p_1(b | a) = (20 + p_0(b)) / (20 + 1); after "b", "a" 19 times.
    curve = heldout_entropy(["ab" * 20], ["ab" * 5], order=1)
    p0 = (20 + 1 / 256) / 41
    b_after_a, a_after_b = (20 + p0) / 21, (19 + p0) / 20
    h1 = (-np.log2(p0) - 5 * np.log2(b_after_a) - 4 * np.log2(a_after_b)) / 10
    assert curve["heldout_bits"].tolist() == pytest.approx([-np.log2(p0), h1])
    with pytest.raises(ValueError, match="prior must be a positive number"):
        heldout_entropy(["ab"], ["ab"], prior=0)
    with pytest.raises(ValueError, match="heldout holds no text"):
        heldout_entropy(["ab"], [""])
