"""Peer tokenizers trained on a corpus slice: spans, token counts and metrics side by side."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import sentencepiece  # noqa: F401 - the peers (the interop extra)
import tokenizers  # noqa: F401

from bytepiece_core import Trainer
from bytepiece_core.peers import compare_metrics, compare_tokenizations, train_peers

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="module")
def trained():
    text = (SHARED / "corpora" / "en_kjv.txt").read_text(encoding="utf-8")[:120_000]
    lines = text.splitlines(keepends=True)
    train, held = lines[:-50], lines[-50:]
    trainer = Trainer(order=6, max_vocab_size=800, min_count=2)
    trainer.train(train)
    return trainer.tokenizer(), train_peers(train, 800, num_threads=2), held


def test_spans_cover_the_text(trained):
    tok, peers, held = trained
    text = "".join(held[:3])
    df = compare_tokenizations(text, tok, peers)
    assert set(df.tokenizer) == {"bytepiece", "sp_unigram", "sp_bpe", "hf_bpe"}
    data = text.encode()
    for name, g in df.groupby("tokenizer"):
        assert g.byte_start.iloc[0] == 0 and g.byte_end.iloc[-1] == len(data), name
        assert g.byte_start.iloc[1:].tolist() == g.byte_end.iloc[:-1].tolist(), name
        assert "".join(g.token) == text, name
        assert (g.n_tokens == len(g)).all()
    ours = df[df.tokenizer == "bytepiece"]
    assert ours.id.tolist() == tok.encode(text)
    assert len(df[df.tokenizer == "sp_bpe"]) == len(peers["sp_bpe"].model.encode(text))
    assert len(df[df.tokenizer == "hf_bpe"]) == len(peers["hf_bpe"].model.encode(text).ids)


def test_metrics(trained):
    tok, peers, held = trained
    m = compare_metrics(held, tok, peers)
    assert list(m.index) == ["bytepiece", "sp_unigram", "sp_bpe", "hf_bpe"]
    n_bytes = sum(len(t.encode()) for t in held)
    ours = [i for t in held for i in tok.encode(t)]
    assert m.loc["bytepiece", "tokens"] == len(ours)
    assert m.loc["bytepiece", "bytes_per_token"] == pytest.approx(n_bytes / len(ours))
    bits = -sum(tok.vocab.logp[i] for i in ours) / math.log(2) / n_bytes
    assert m.loc["bytepiece", "bits_per_byte"] == pytest.approx(bits)
    assert math.isnan(m.loc["sp_bpe", "bits_per_byte"])
    assert 0 < m.loc["sp_unigram", "bits_per_byte"] < 8
    assert (m.vocab_size <= 800).all() and (m.bytes_per_token > 1.5).all()


def test_bad_kind():
    with pytest.raises(ValueError, match="unknown peer kinds"):
        train_peers(["a b"], 300, kinds=["wordpiece"])
