"""The trainer's kernels against the slow versions in naive_train, on worked and random inputs."""

from __future__ import annotations

import itertools

import naive_train
import numpy as np
import pytest

from bytepiece_core._training import hashtable as ht
from bytepiece_core._training import prune as _train_prune
from bytepiece_core._training.corpus import read_corpus
from bytepiece_core._training.jobs import chunk_ranges, run_ranges
from bytepiece_core._training.kernels_pieces import _best_states, _emissions
from bytepiece_core._training.ngram_tables import longest as unpack_maxlen
from bytepiece_core._training.ngrams import build_ngram_model
from bytepiece_core._training.passes import LocalPasses
from bytepiece_core._training.pieces import count_pieces
from bytepiece_core._training.prune import resplit


def corpus_of(docs: list[str], isolate_digits: bool = False):  # type: ignore[no-untyped-def]
    return read_corpus(docs, isolate_digits, 1000, lambda d, b: None)


def random_docs(seed: int, n_docs: int = 30) -> list[str]:
    rng = np.random.default_rng(seed)
    alphabet = ["a", "b", "ab", "ba", "的", "是", "é", "1", " ", "\n", "😀"]
    return [
        "".join(rng.choice(alphabet, size=int(rng.integers(1, 30))).tolist()) for _ in range(n_docs)
    ]


# -- hash tables ------------------------------------------------------------------------------


def test_key_table_counts_like_a_dict() -> None:
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 50, 2000).astype(np.uint64) * np.uint64(2**40 + 7)
    table, n, expected = ht.new_table(8), 0, {}
    for key in keys.tolist():
        if n + 1 > table.shape[0] * ht.MAX_LOAD:  # grows, as the counting kernels do
            table = ht._grown(table, table.shape[0] * 2)
        n += ht._add(table, np.uint64(key), np.uint64(1))
        expected[key] = expected.get(key, 0) + 1
    got_keys, got_counts = ht._entries(table, np.uint64(0))
    assert dict(zip(got_keys.tolist(), got_counts.tolist(), strict=True)) == expected
    assert n == len(expected)
    assert ht._find(table, np.uint64(12345)) == -1
    kept, counts = ht._entries(table, np.uint64(45))
    assert dict(zip(kept.tolist(), counts.tolist(), strict=True)) == {
        k: c for k, c in expected.items() if c >= 45
    }
    # map-reduce: partial tables merge into the same counts
    half = ht.new_table(64)
    for key in keys[:700].tolist():
        ht._add(half, np.uint64(key), np.uint64(1))
    rest = ht.new_table(64)
    for key in keys[700:].tolist():
        ht._add(rest, np.uint64(key), np.uint64(1))
    merged, m = ht._merge(half, int((half[:, 0] != ht.EMPTY).sum()), rest)
    got_keys, got_counts = ht._entries(merged, np.uint64(0))
    assert dict(zip(got_keys.tolist(), got_counts.tolist(), strict=True)) == expected and m == len(
        expected
    )


def test_build_returns_slots() -> None:
    keys = np.array([3, 99, 2**63 + 5], np.uint64)
    table = ht.new_table(ht.capacity_for(3))
    slots = ht._build(table, keys, np.array([7, 8, 9], np.uint64))
    assert table[slots, 1].tolist() == [7, 8, 9]
    assert ht._find_many(table, keys).tolist() == slots.tolist()


def test_piece_table_counts_byte_strings() -> None:
    rng = np.random.default_rng(1)
    data = rng.integers(0, 3, 3000).astype(np.uint8)
    spans = [
        (int(s), int(n))
        for s, n in zip(rng.integers(0, 2990, 4000), rng.integers(1, 5, 4000), strict=True)
    ]
    table, n = ht.new_table(8), 0
    expected: dict[bytes, list[int]] = {}
    for s, length in spans:
        if n + 1 > table.shape[0] * ht.MAX_LOAD:
            table = ht._piece_grown(table, data, table.shape[0] * 2)
        h = np.uint64(ht._hash_bytes(data, s, length))
        n += ht._piece_add(table, data, s, length, h, np.uint64(1))
        piece = data[s : s + length].tobytes()
        count, first = expected.get(piece, [0, s])
        expected[piece] = [count + 1, min(first, s)]
    pos, lens, counts = ht._piece_entries(table)
    got = {
        data[p : p + k].tobytes(): [c, p]
        for p, k, c in zip(pos.tolist(), lens.tolist(), counts.tolist(), strict=True)
    }
    assert got == expected and n == len(expected)
    # the first occurrence of each piece is its lowest offset, so equal pieces share it
    assert all(
        data[p : p + k].tobytes() == bytes(data[p : p + k]) for p, k in zip(pos, lens, strict=True)
    )


def test_hyperloglog_estimates_distinct_keys() -> None:
    registers = np.zeros(1 << ht.HLL_BITS, np.uint8)
    assert ht.hll_estimate(registers) == 0.0
    for key in range(40_000):
        ht._hll_add(registers, np.uint64(ht._mix64(np.uint64(key % 20_000))))
    assert abs(ht.hll_estimate(registers) - 20_000) < 0.05 * 20_000


# -- the n-gram model and its Viterbi ------------------------------------------------------


def test_best_states_worked_example() -> None:
    # order 2: staying in the word at byte 1 scores -1 + -1, restarting -1 + -5.
    E = np.array([[-1.0, -np.inf], [-5.0, -1.0], [-1.0, -9.0]])
    states = np.zeros(3, np.uint8)
    _best_states(E.copy(), 3, np.zeros((3, 2), np.uint8), np.zeros(2), states)
    assert states.tolist() == naive_train.best_states(E).tolist() == [0, 1, 0]


@pytest.mark.parametrize("order", [1, 2, 3, 4, 6, 9])
def test_best_states_matches_numpy_viterbi(order: int) -> None:
    rng = np.random.default_rng(order)
    values = np.array([-np.inf, -np.inf, -1.0, -2.0, -0.5, 0.0, -1.5])  # ties and -inf
    for trial in range(60):
        length = int(rng.integers(1, 25))
        E = rng.choice(values, size=(length, order))
        if trial % 5 == 0:
            E[:, :] = -np.inf  # nothing finite: every route is state 0
        if trial % 7 == 0:
            E = np.round(rng.normal(-2, 1, size=(length, order)), 1)
            E[rng.random(E.shape) < 0.3] = -np.inf
        states = np.zeros(length, np.uint8)
        work = np.ascontiguousarray(E.copy())
        _best_states(work, length, np.zeros((length, order), np.uint8), np.zeros(order), states)
        assert states.tolist() == naive_train.best_states(E).tolist(), (trial, E)


@pytest.mark.parametrize("seed", range(7))
def test_ngram_model_matches_naive(seed: int) -> None:
    docs = random_docs(seed)
    order = [2, 3, 4, 6, 9, 10, 17][seed]  # 9+: chained keys; 17: one maxlen byte per byte
    min_count = [1, 2, 3, 2, 2, 1, 1][seed]
    ensure_unicode = seed % 2 == 0
    corpus = corpus_of(docs)
    passes = LocalPasses(corpus, order, 1, n_ranges=4)
    model, maxlen = build_ngram_model(passes, min_count, lambda k, n: None)
    chunks = naive_train.training_chunks(docs)
    counts = naive_train.count_ngrams(chunks, order)
    logp = naive_train.prune_ngrams(counts, min_count)
    assert model.kept[1:] == [len(level) for level in logp[1:]]
    assert model.counted[2] == len(counts[2])
    mtab, mval, meta = model.mtab, model.mval, model.meta
    longest_at = unpack_maxlen(maxlen, corpus.n_bytes, order)
    offsets = corpus.chunk_offsets.tolist()
    for c, chunk in enumerate(chunks):
        lo, hi = offsets[c], offsets[c + 1]
        assert corpus.data[lo:hi].tobytes() == chunk
        E = np.empty((hi - lo, order))
        _emissions(
            corpus.data,
            lo,
            hi,
            maxlen,
            ensure_unicode,
            model.uni,
            model.bi,
            mtab,
            mval,
            meta,
            E,
        )
        expected = naive_train.ngram_emissions(chunk, logp, order, ensure_unicode)
        np.testing.assert_array_equal(E, expected)  # bit for bit, -inf included
        for i in range(hi - lo):
            longest = max(k for k in range(1, order + 1) if chunk[i : i + k] in logp[k])
            assert longest_at[lo + i] == longest


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("seed", range(4))
def test_count_pieces_matches_naive(seed: int, workers: int) -> None:
    docs = random_docs(100 + seed, 60)
    order, min_count, ensure_unicode = [(3, 2, True), (4, 1, False), (6, 2, True), (2, 3, False)][
        seed
    ]
    corpus = corpus_of(docs)
    passes = LocalPasses(corpus, order, workers, n_ranges=7)
    model, maxlen = build_ngram_model(passes, min_count, lambda k, n: None)
    found = count_pieces(passes, model, maxlen, ensure_unicode, lambda n: None)
    got = {
        corpus.data[p : p + n].tobytes(): c
        for p, n, c in zip(
            found.pos.tolist(), found.lens.tolist(), found.counts.tolist(), strict=True
        )
    }
    chunks = naive_train.training_chunks(docs)
    logp = naive_train.prune_ngrams(naive_train.count_ngrams(chunks, order), min_count)
    assert got == naive_train.count_pieces(chunks, logp, order, ensure_unicode)
    # Heaps' curve: a piece counts from the end of its first occurrence in reading order
    first_end: dict[bytes, int] = {}
    start = 0
    for chunk in chunks:
        end = start
        for piece in naive_train.ngram_viterbi(chunk, logp, order, ensure_unicode):
            end += len(piece)
            first_end.setdefault(piece, end)
        start += len(chunk)
    xs, ys = found.heaps_curve(corpus.n_bytes, points=10)
    assert xs[-1] == corpus.n_bytes and len(xs) == 10
    assert ys.tolist() == [sum(e <= x for e in first_end.values()) for x in xs.tolist()]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("shard_bytes", [8, 1 << 21])
def test_resplit_matches_naive_split(
    workers: int, shard_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_train_prune, "_SHARD_BYTES", shard_bytes)  # 8: one piece a shard
    rng = np.random.default_rng(5)
    keep = {bytes([b]): int(rng.integers(1, 5)) for b in range(256)}
    keep.update({b"ab": 7, b"abc": 3, b"bc": 9, b"ca": 2})
    drop = {b"abcab": 4, b"cabc": 2, b"zzab": 1, b"abcabcabc": 5}
    pieces, counts = list(keep), np.array(list(keep.values()), np.int64)
    flat = np.frombuffer(b"".join(drop), np.uint8)
    offsets = np.cumsum([0, *map(len, drop)]).astype(np.int64)
    added = resplit(pieces, counts, flat, offsets, np.array(list(drop.values()), np.int64), workers)
    expected = naive_train.split_pieces(keep, drop)
    assert {p: a for p, a in zip(pieces, added.tolist(), strict=True) if a} == expected


def test_chunk_ranges_cover_every_chunk_once() -> None:
    offsets = np.cumsum([0, 5, 1, 1, 30, 2, 2, 2, 9]).astype(np.int64)
    for n in (1, 2, 3, 8, 50):
        ranges = chunk_ranges(offsets, n)
        assert ranges[0][0] == 0 and ranges[-1][1] == len(offsets) - 1
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
        assert sum(r[2] for r in ranges) == offsets[-1]
    assert chunk_ranges(np.zeros(1, np.int64), 4) == []


def test_run_ranges_folds_each_range_once() -> None:
    ranges = [(i, i + 1, 10) for i in range(40)]
    seen: list[int] = []
    for workers in (1, 3):
        states = run_ranges(ranges, list, lambda s, lo, hi: [*s, lo], workers, seen.append)
        assert sorted(x for s in states for x in s) == list(range(40))
    assert sum(seen) == 800
