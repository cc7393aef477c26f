"""The short-text paths of ``encode`` (a reusable workspace, a seed stream drawn in blocks)
give exactly what the general kernel gives, on both sides of the length threshold, from
several threads, and with the same sampled ids as single draws from the stream."""

from __future__ import annotations

import gc
import pickle
import sys
import threading

import naive
import numpy as np
import pytest

from bytepiece_core import Tokenizer
from bytepiece_core import tokenizer as tokenizer_module
from bytepiece_core._kernels_segment import IDS, PIECES, short_calls
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


class _EncodesWhenCollected:
    """Garbage (a reference cycle) whose ``__del__`` encodes another text with the same
    tokenizer, noting the workspace's call count as it starts."""

    def __init__(self, tok: Tokenizer, text: str, log: list[tuple[int, list[int]]]) -> None:
        self.tok, self.text, self.log, self.cycle = tok, text, log, self

    def __del__(self) -> None:
        self.log.append((short_calls(self.tok._work), self.tok.encode(self.text)))


@pytest.mark.parametrize("alpha", [-1.0, 0.5])
def test_python_code_run_while_a_list_is_made(tok: Tokenizer, alpha: float) -> None:
    """The short kernels' workspace is used again by code the garbage collector runs while
    a kernel makes its list (``PyList_New``); the kernel must not return the other text's
    ids. Before each call one piece of garbage waits and the collector's count is over a
    threshold of 1, so the first allocation of a tracked object -- the kernel's list --
    collects it, on Pythons that collect inside allocations (3.11; later ones collect
    afterwards, and the test then only checks the ids)."""
    rng = np.random.default_rng(8)
    texts = _texts(rng, 60, 40)
    others = _texts(rng, 60, 40)
    seeds = [int(np.random.default_rng(k).integers(0, 2**64, dtype=np.uint64)) for k in range(60)]
    want = [_general(tok, t, alpha, seed) for t, seed in zip(texts, seeds)]
    log: list[tuple[int, list[int]]] = []
    got, inside = [], 0
    threshold = gc.get_threshold()
    try:
        for text, other, seed in zip(texts, others, seeds):
            gc.collect()
            gc.disable()
            gc.set_threshold(1)
            _EncodesWhenCollected(tok, other, log)  # unreachable at once
            pad = [[], []]  # tracked and alive: the count stays over the threshold
            # the sampling kernel's arguments, packed ahead: a new tuple of them would collect
            args = (text.encode(), tok._work, IDS, alpha, np.uint64(seed))
            calls = short_calls(tok._work)
            gc.enable()
            got.append(tok.encode(text) if alpha < 0 else tok._sample_kernel(*args))
            gc.set_threshold(*threshold)
            del pad
            inside += bool(log) and log[-1][0] == calls + 1  # ran in this call's kernel
    finally:
        gc.enable()
        gc.set_threshold(*threshold)
        gc.collect()
    assert got == want
    assert sorted(ids for _, ids in log) == sorted(_general(tok, t) for t in others)
    if sys.version_info < (3, 12):
        # every kernel call (encode's hot path has none for texts of 0 or 1 byte)
        assert inside == sum(alpha >= 0 or len(t.encode()) > 1 for t in texts)


def test_lists_hold_their_own_references(tok: Tokenizer) -> None:
    """The lists made by the kernels (``_pylist``) take one reference to each item they hold,
    on every path: short and long texts, ids and pieces, batches with ``<bos>``/``<eos>``."""
    rng = np.random.default_rng(9)
    texts = _texts(rng, 50, 40) + _around_threshold()
    # an id above 256, whose int is the tokenizer's own (smaller ones are shared by all)
    counts = np.bincount([i for t in texts for i in _general(tok, t)], minlength=257)
    probe = 257 + int(np.argmax(counts[257:]))
    objects = [tok._objects[IDS][probe], tok._objects[PIECES][probe], tok._objects[IDS][1]]
    before = [sys.getrefcount(o) for o in objects]
    results = [tok.encode(t) for t in texts] + [tok.tokenize(t) for t in texts]
    results += tok.encode_batch(texts, add_bos=True, add_eos=True, num_threads=2)
    results += [tok.encode(t, alpha=0.3, seed=1) for t in texts]
    held = [sum(r.count(o) for r in results) for o in objects]
    assert held[0] > 0 and held[2] == len(texts)
    assert [sys.getrefcount(o) for o in objects] == [b + h for b, h in zip(before, held)]
    del results
    assert [sys.getrefcount(o) for o in objects] == before


def test_bad_input_on_the_hot_path(tok: Tokenizer) -> None:
    with pytest.raises(ValueError, match="surrogate"):
        tok.encode("ab\ud800")
    with pytest.raises(TypeError):
        tok.encode(b"ab")  # type: ignore[arg-type]
    assert tok.encode("") == [] and tok.encode("", add_bos=True, add_eos=True) == [1, 2]


def test_a_pickled_tokenizer_is_rebuilt(tok: Tokenizer) -> None:
    """Pickling keeps the model and the sampling stream; what holds addresses of this
    process's objects is rebuilt, not copied."""
    rng = np.random.default_rng(10)
    texts = _texts(rng, 40, 40) + _around_threshold()
    tok.set_seed(3)
    tok.encode("ab", alpha=0.5)  # the stream has moved, and a block is drawn ahead
    copy = pickle.loads(pickle.dumps(tok))
    assert copy._work is not tok._work
    assert [copy.encode(t) for t in texts] == [tok.encode(t) for t in texts]
    assert [copy.tokenize(t) for t in texts] == [tok.tokenize(t) for t in texts]
    assert [copy.encode(t, alpha=0.5) for t in texts] == [tok.encode(t, alpha=0.5) for t in texts]
