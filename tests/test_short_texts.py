"""The short-text paths of ``encode`` (a reusable workspace, a seed stream drawn in blocks)
give exactly what the general kernel gives, on both sides of the length threshold, from
several threads, and with the same sampled ids as single draws from the stream."""

from __future__ import annotations

import threading

import naive
import numpy as np
import pytest

from bytepiece_core import Tokenizer
from bytepiece_core import tokenizer as tokenizer_module
from bytepiece_core.model import dump_model

SINGLE_BYTES = {bytes([b]): 1 for b in range(256)}
SHORT = tokenizer_module._SHORT_BYTES
ALPHABET = list("天气不错\n ab")


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    rng = np.random.default_rng(11)
    extra = naive.random_vocab(rng, "天气不错\n ab".encode(), 300, 9)
    counts = rng.integers(1, 50, len(extra)).tolist()
    return Tokenizer(dump_model({**SINGLE_BYTES, **dict(zip(extra, counts))}))


def _texts(rng: np.random.Generator, n: int, max_chars: int) -> list[str]:
    return [
        "".join(rng.choice(ALPHABET, size=int(rng.integers(0, max_chars))).tolist())
        for _ in range(n)
    ]


def _general(tok: Tokenizer, text: str, alpha: float = -1.0, seed: int = 0) -> list[int]:
    """Ids from the general batch kernel (``Vocab.segment``), the path long texts take."""
    data = text.encode()
    seeds = np.array([seed], np.uint64) if alpha >= 0 else None
    flat = (data, np.array([0, len(data)], np.int64))
    return tok.vocab.segment(flat, newline_chunks=True, alpha=alpha, seeds=seeds).ids.tolist()


def _around_threshold() -> list[str]:
    """ASCII and three-byte texts of just under, at and just over the threshold."""
    texts = []
    for n in (SHORT - 2, SHORT - 1, SHORT, SHORT + 1, SHORT + 2):
        texts.append(("ab " * n)[:n])
        texts.append(("ab\n" * n)[:n])
    for n_chars in ((SHORT - 1) // 3, SHORT // 3, SHORT // 3 + 1):
        texts.append(("天气不错" * n_chars)[:n_chars])
    return texts


def test_best_segmentation_matches_the_general_kernel(tok: Tokenizer) -> None:
    rng = np.random.default_rng(3)
    texts = _texts(rng, 300, 40) + _around_threshold()
    for text in texts:
        want = _general(tok, text)
        assert tok.encode(text) == want, text[:40]
        assert tok.tokenize(text) == [tok.vocab.pieces[i] for i in want]
    # and against the plain Viterbi, chunk by chunk
    logp = naive.logp_table(
        {p: c for p, c in zip(tok.vocab.pieces[3:], tok.vocab.counts[3:].tolist())}
    )
    for text in texts[:100]:
        assert tok.tokenize(text) == naive.tokenize(text, logp)


def test_one_ascii_character_matches_the_general_kernel(tok: Tokenizer) -> None:
    # one byte: its ids are made ahead for each of the 128 ASCII characters; a model whose
    # byte pieces are not in byte order, with pieces of a byte and more, gets its own
    shuffled = Tokenizer(dump_model({**dict(reversed(SINGLE_BYTES.items())), b"a\n": 9}))
    for t in (tok, shuffled):
        for b in range(128):
            assert t.encode(chr(b)) == _general(t, chr(b)) == [t.piece_to_id(bytes([b]))], b
    first = tok.encode("a")
    first.append(-1)  # the caller owns the list it gets
    assert tok.encode("a") == _general(tok, "a")
    assert tok.encode("a", add_bos=True, add_eos=True) == [1, *_general(tok, "a"), 2]


@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_sampling_matches_the_general_kernel(tok: Tokenizer, alpha: float) -> None:
    rng = np.random.default_rng(4)
    for k, text in enumerate(_texts(rng, 200, 40) + _around_threshold()):
        # the seed a call with seed=k uses is the first draw of default_rng(k)
        seed = int(np.random.default_rng(k).integers(0, 2**64, dtype=np.uint64))
        assert tok.encode(text, alpha=alpha, seed=k) == _general(tok, text, alpha, seed)


def test_the_stream_gives_single_draws_in_order(tok: Tokenizer) -> None:
    """Seeds drawn ahead in blocks are the ones single draws give: encode and encode_batch
    interleaved consume the stream one seed per text, in call order."""
    rng = np.random.default_rng(5)
    texts = _texts(rng, 150, 30)
    tok.set_seed(21)
    got: list[list[int]] = []
    i = 0
    while i < len(texts):  # one text, then a batch of seven, and so on across block edges
        got.append(tok.encode(texts[i], alpha=0.5))
        got += tok.encode_batch(texts[i + 1 : i + 8], alpha=0.5, num_threads=1)
        i += 8
    stream = np.random.default_rng(21)
    want = [_general(tok, t, 0.5, int(stream.integers(0, 2**64, dtype=np.uint64))) for t in texts]
    assert got == want
    tok.set_seed(21)  # reseeding drops what was drawn ahead
    assert tok.encode(texts[0], alpha=0.5) == want[0]


def test_threads_share_a_tokenizer(tok: Tokenizer) -> None:
    rng = np.random.default_rng(6)
    texts = _texts(rng, 400, 60)
    want = [_general(tok, t) for t in texts]
    results: dict[int, list[list[int]]] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            order = texts[k:] + texts[:k]  # each thread starts elsewhere
            out = [tok.encode(t) for t in order for _ in range(3)][::3]
            results[k] = out[len(texts) - k :] + out[: len(texts) - k]
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 97,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert all(out == want for out in results.values())
    assert len(tok._workspaces) <= 1 + len(threads)  # the pool holds one per thread at most


def test_bad_input_on_the_hot_path(tok: Tokenizer) -> None:
    with pytest.raises(ValueError, match="surrogate"):
        tok.encode("ab\ud800")
    with pytest.raises(TypeError):
        tok.encode(b"ab")  # type: ignore[arg-type]
    assert tok.encode("") == [] and tok.encode("", add_bos=True, add_eos=True) == [1, 2]
