"""``encode_batch``: texts joined with NUL bytes and segmented in one kernel call a shard give
what ``encode`` gives each text, shards cover the batch in order and shrink towards its end,
and the threads that take them stop on the first error and raise it."""

from __future__ import annotations

import re
import threading
import time
import unicodedata

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bytepiece_core import Tokenizer, _batch
from bytepiece_core import tokenizer as tokenizer_module
from bytepiece_core._batch import join_texts, map_shards, shard_bounds, threads_for
from bytepiece_core.model import dump_model
from bytepiece_core.vocab import Vocab

SINGLE_BYTES = [bytes([b]) for b in range(256)]
ALPHABET = b"ab\n\x00\xe4\xb8"


def _random_vocab(seed: int) -> tuple[Vocab, dict[bytes, float]]:
    """A vocabulary whose pieces hold NUL bytes too: none may cross from a text to the next."""
    rng = np.random.default_rng(seed)
    extra = naive.random_vocab(rng, ALPHABET, 60, 5)
    counts = [1] * 256 + rng.integers(1, 4, len(extra)).tolist()
    pieces = SINGLE_BYTES + extra
    return Vocab.from_pieces(pieces, counts), naive.logp_table(dict(zip(pieces, counts)))


def _byte_chunks(text: bytes) -> list[bytes]:
    return re.findall(rb"[^\n]*\n+|[^\n]+", text)


@pytest.mark.parametrize("seed", range(6))
def test_joined_documents_match_naive_viterbi(seed: int) -> None:
    vocab, logp = _random_vocab(seed)
    rng = np.random.default_rng(100 + seed)
    no_nul = [c for c in ALPHABET if c != 0]
    docs = [bytes(rng.choice(no_nul, size=int(rng.integers(0, 30))).tolist()) for _ in range(40)]
    seg = vocab.segment_joined(b"\x00".join(docs), len(docs))
    assert seg is not None
    for d, doc in enumerate(docs):
        want = [t for chunk in _byte_chunks(doc) for t in naive.viterbi(chunk, logp)]
        assert [vocab.pieces[i] for i in seg.doc_ids(d)] == want


@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_joined_documents_sample_as_the_general_kernel(alpha: float) -> None:
    vocab, _ = _random_vocab(9)
    rng = np.random.default_rng(9)
    docs = [
        bytes(rng.choice(list(b"ab\n\xe4"), size=int(rng.integers(0, 30))).tolist())
        for _ in range(30)
    ]
    seeds = rng.integers(0, 2**63, len(docs)).astype(np.uint64)
    joined = vocab.segment_joined(b"\x00".join(docs), len(docs), alpha=alpha, seeds=seeds)
    general = vocab.segment(docs, newline_chunks=True, alpha=alpha, seeds=seeds)
    assert joined is not None
    assert joined.ids.tolist() == general.ids.tolist()
    assert joined.doc_token_offsets.tolist() == general.doc_token_offsets.tolist()


@pytest.mark.parametrize(
    ("joined", "n_docs"), [(b"a\x00b", 1), (b"a\x00b\x00", 2), (b"ab", 2), (b"\x00\x00", 2)]
)
def test_another_number_of_nul_bytes_is_refused(joined: bytes, n_docs: int) -> None:
    vocab, _ = _random_vocab(0)
    assert vocab.segment_joined(joined, n_docs) is None


def test_empty_documents_and_batches() -> None:
    vocab, _ = _random_vocab(0)
    seg = vocab.segment_joined(b"\x00a\x00", 3)
    assert seg is not None and seg.doc_token_offsets.tolist() == [0, 0, 1, 1]
    empty = vocab.segment_joined(b"", 0)
    assert (
        empty is not None and empty.ids.tolist() == [] and empty.doc_token_offsets.tolist() == [0]
    )


# Characters that NFC composes, reorders or decomposes: combining marks (ccc 230 and 220),
# Hangul jamo (L, V, T), a precomposed letter, a singleton (the Angstrom sign), CJK.
TRICKY = "e\u0301\u0323\u1100\u1161\u11a8\u00e9\u212b天a\n"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=TRICKY, max_size=6), max_size=8))
def test_the_joined_texts_are_each_texts_nfc(texts: list[str]) -> None:
    # a text that starts with a mark or a vowel jamo must not compose with the end of the text
    # before it: the NUL between them blocks it
    want = b"\x00".join(unicodedata.normalize("NFC", t).encode() for t in texts)
    assert join_texts(texts, 0, len(texts)) == want
    assert join_texts(tuple(texts), 0, len(texts)) == want


def test_what_cannot_be_joined_is_left_to_the_checks() -> None:
    assert join_texts(["a", 3], 0, 2) is None
    assert join_texts(["a", "\udfff"], 0, 2) is None


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    rng = np.random.default_rng(5)
    extra = naive.random_vocab(rng, "天气不错\n ab\u00e9".encode(), 200, 9)
    counts = rng.integers(1, 50, len(extra)).tolist()
    return Tokenizer(dump_model({**dict.fromkeys(SINGLE_BYTES, 1), **dict(zip(extra, counts))}))


@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_batches_of_many_shards_give_what_encode_gives(
    tok: Tokenizer, num_threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small shards, so that a batch of 600 texts makes dozens (one thread too)
    monkeypatch.setattr(_batch, "_SHARD_TEXTS", 40)
    monkeypatch.setattr(_batch, "_MIN_SHARD_TEXTS", 4)
    rng = np.random.default_rng(num_threads)
    pool = ["", "\n", "ab", "e\u0301", "\u0301ab", "天气不错\n\n", "a\x00b", "x" * 300]
    texts = [
        "".join(rng.choice(list("天气不错\n ab\u00e9"), size=int(rng.integers(0, 25))).tolist())
        for _ in range(600)
    ]
    for k in rng.integers(0, 600, 60).tolist():  # the tricky ones here and there
        texts[k] = pool[k % len(pool)]
    assert len(shard_bounds(600, num_threads)) > 15
    want = [tok.encode(t) for t in texts]
    assert tok.encode_batch(texts, num_threads=num_threads) == want
    batch = tok.encode_batch(texts, num_threads=num_threads, as_arrays=True)
    assert batch.tolist() == want
    sampled = tok.encode_batch(texts, alpha=0.4, seed=3, num_threads=num_threads)
    assert sampled == tok.encode_batch(texts, alpha=0.4, seed=3, num_threads=1)


def test_small_batches_stay_on_the_calling_thread(
    tok: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_batch, "_THREADED_CHARS", 100)
    assert threads_for(["a" * 60, "b" * 39], 4) == 1  # 99 characters
    assert threads_for(["a" * 60, "b" * 40], 4) == 4
    assert threads_for(["a"] * 100, 3) == 3  # as many texts: not counted
    assert threads_for(["a", 3], 2) == 2  # the error is raised where the texts are prepared
    used: list[int] = []

    def spy(fn, n_shards, num_threads):  # type: ignore[no-untyped-def]
        used.append(num_threads)
        return map_shards(fn, n_shards, num_threads)

    monkeypatch.setattr(tokenizer_module, "map_shards", spy)
    texts = ["天气不错 ab"] * 10
    assert tok.encode_batch(texts, num_threads=2) == [tok.encode(t) for t in texts]
    assert tok.encode_batch(texts * 10, num_threads=2) == [tok.encode(t) for t in texts * 10]
    assert used == [1, 2]


def test_shard_bounds_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_batch, "_SHARD_TEXTS", 100)
    monkeypatch.setattr(_batch, "_SHARDS_PER_THREAD", 2)
    monkeypatch.setattr(_batch, "_MIN_SHARD_TEXTS", 8)
    # one thread: shards of at most 100 texts, as even as can be
    assert shard_bounds(250, 1) == [0, 83, 166, 250]
    # two threads, 600 texts: at most min(100, 600 / (2 * 2)) = 100 texts, and a quarter of
    # what is left a thread: 600 / 8 -> 75, 525 / 8 -> 66, 459 / 8 -> 58, ... down to 8; at
    # 10 left, cutting 8 would leave 2 (< 8 / 2), so the last shard takes all 10
    sizes = [75, 66, 58, 51, 44, 39, 34, 30, 26, 23, 20, 17, 15, 13, 12, 10, 9, 8, 8, 8, 8, 8, 8]
    assert np.diff(shard_bounds(600, 2)).tolist() == [*sizes, 10]
    # 2,000 texts: 100 (the cap) until 800 are left, then 800 / 8 = 100, 700 / 8 -> 88
    assert np.diff(shard_bounds(2000, 2)).tolist()[:14] == [100] * 13 + [88]


@pytest.mark.parametrize("num_threads", [1, 2, 4])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 513, 1000, 70_001, 300_000])
def test_shards_cover_the_batch_in_order(n: int, num_threads: int) -> None:
    bounds = shard_bounds(n, num_threads)
    sizes = np.diff(bounds)
    assert bounds[0] == 0 and bounds[-1] == n
    assert (sizes > 0).all() and sizes.max(initial=0) <= _batch._SHARD_TEXTS
    if num_threads > 1 and n:
        assert (np.diff(sizes[:-1]) <= 0).all()  # they only shrink (the last takes the rest)
        # the last shards are the smallest: a thread left with one is not long alone
        assert sizes[-1] <= max(_batch._MIN_SHARD_TEXTS * 3 // 2, n // num_threads)


def test_map_shards_keeps_the_order() -> None:
    def slow_square(s: int) -> int:
        time.sleep(0.001 * (s % 3))
        return s * s

    assert map_shards(slow_square, 20, 3) == [s * s for s in range(20)]
    assert map_shards(slow_square, 1, 3) == [0]
    assert map_shards(slow_square, 0, 2) == []


def test_the_first_error_stops_every_thread() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def fn(s: int) -> int:
        with lock:
            started.append(s)
        if s == 5:
            raise RuntimeError("shard 5 failed")
        time.sleep(0.002)
        return s

    with pytest.raises(RuntimeError, match="shard 5 failed"):
        map_shards(fn, 200, 2)
    # the other thread finishes the shard it holds and takes no other
    assert max(started) <= 7
    assert not any(t.name.startswith("Thread-") and t.is_alive() for t in threading.enumerate())


def test_an_interrupt_in_the_calling_thread_waits_for_the_others() -> None:
    main = threading.current_thread()
    finished: list[int] = []

    def fn(s: int) -> int:
        if threading.current_thread() is main and s >= 2:
            raise KeyboardInterrupt
        time.sleep(0.01)
        finished.append(s)
        return s

    alive_before = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        map_shards(fn, 100, 2)
    assert threading.active_count() == alive_before  # the helper has stopped
    assert len(finished) < 10


def test_sampling_needs_one_seed_per_document() -> None:
    vocab, _ = _random_vocab(0)
    two_seeds = np.array([1, 2], np.uint64)
    with pytest.raises(ValueError, match="one seed per document"):
        vocab.segment_joined(b"a\x00b\x00c", 3, alpha=0.5, seeds=two_seeds)
    with pytest.raises(ValueError, match="one seed per document"):
        vocab.segment([b"a", b"b", b"c"], alpha=0.5, seeds=two_seeds)
    with pytest.raises(ValueError, match="one seed per document"):
        vocab.segment_joined(b"a", 1, alpha=0.0)
    # without sampling the seeds are not read
    assert vocab.segment_joined(b"a\x00b", 2, seeds=two_seeds[:1]) is not None
