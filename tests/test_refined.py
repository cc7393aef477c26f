"""The refined trainer (``Trainer(algorithm="refined")``): its steps against the plain versions
in ``naive_train``, and what the trainer promises (sizes reached, determinism, workers, the
options it refuses, held-out compression above the reference algorithm's)."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import naive
import naive_train
import numpy as np
import pytest

from bytepiece_core import Tokenizer, Trainer
from bytepiece_core._training import refine as refine_module
from bytepiece_core._training.corpus import read_corpus
from bytepiece_core._training.memory import MemoryPlan
from bytepiece_core._training.refine import (
    UnigramModel,
    digamma,
    distinct_chunks,
    expected_counts,
    fill_candidates,
    find_candidates,
    merges,
    reweigh,
    seed_model,
    viterbi_pairs,
)
from bytepiece_core.metrics import evaluate
from bytepiece_core.utf8 import is_whole_utf8
from bytepiece_core.vocab import Vocab
from workbench.corpora import MIXED, load_corpus


def random_docs(seed: int, n_docs: int = 40) -> list[str]:
    rng = np.random.default_rng(seed)
    alphabet = ["a", "b", "ab", "ba", "的", "是", "é", "1", " ", "\n", "😀", "abc"]
    docs = [
        "".join(rng.choice(alphabet, size=int(rng.integers(1, 25))).tolist()) for _ in range(n_docs)
    ]
    return docs + docs[:5]  # some repeated lines: the chunks' weights


def chunks_of(docs: list[str]):  # type: ignore[no-untyped-def]
    return distinct_chunks(read_corpus(docs, False, 1000, lambda d, b: None))


def spans(found) -> dict[bytes, int]:  # type: ignore[no-untyped-def]
    return {found.piece(p): int(c) for p, c in enumerate(found.counts.tolist())}


# -- the steps against their plain versions ---------------------------------------------------


@pytest.mark.parametrize("budget", [None, 4096])  # a budget of 4 KB cuts lengths into parts
@pytest.mark.parametrize("live_share", [0.0, 1 / 8, 1.0])  # never, the default, at once
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("seed", range(4))
def test_candidates_are_the_frequent_substrings(
    seed: int, workers: int, live_share: float, budget: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the positions still possible are listed once they are fewer than LIVE_SHARE of the
    # bytes; the counts must not depend on when, nor on the partitions of a budget
    monkeypatch.setattr(refine_module, "LIVE_SHARE", live_share)
    docs = random_docs(seed)
    longest, min_count = [(4, 2), (9, 2), (12, 3), (36, 1)][seed]
    for ensure_unicode in (True, False):
        chunks = chunks_of(docs)
        plan = MemoryPlan(budget)
        found = find_candidates(
            chunks, longest, min_count, ensure_unicode, workers, lambda k, n: 0, plan
        )
        expected = naive_train.frequent_substrings(
            naive_train.training_chunks(docs), longest, min_count, ensure_unicode
        )
        got = spans(found)
        assert len(got) == len(found)  # each substring once
        assert got == expected
        parts = [r["partitions"] for r in plan.report.values()]
        assert (max(parts, default=0) > workers) == (budget is not None)


def test_a_memory_budget_sizes_the_tables_from_a_sketch() -> None:
    chunks = chunks_of(load_corpus("zh_pd199801").texts)
    plan = MemoryPlan(1 << 20)
    found = find_candidates(chunks, 12, 2, False, 2, lambda k, n: 0, plan)
    for k in range(3, 13):
        report = plan.report[f"length {k}"]
        counted = found.counted[k]  # the distinct k-grams the pass counted
        assert counted <= report["estimated_keys"] <= 1.15 * counted + 20, k
        assert report["table_bytes"] <= 1 << 20
    assert max(r["partitions"] for r in plan.report.values()) > 2


@pytest.mark.parametrize("seed", range(3))
def test_rarer_substrings_fill_the_places_left(seed: int) -> None:
    docs = random_docs(20 + seed)
    longest, min_count = 8, 4  # pieces of at most 8 bytes: their tie key is their bytes
    chunks = chunks_of(docs)
    plain = naive_train.training_chunks(docs)
    base = find_candidates(chunks, longest, min_count, False, 1, lambda k, n: 0)
    rarer = len(naive_train.frequent_substrings(plain, longest, 1, False)) - len(base)
    for needed in (len(base) - 1, len(base) + 5, len(base) + rarer // 2, len(base) + 10 * rarer):
        got = fill_candidates(chunks, base, needed, longest, min_count, False, 2, lambda k, n: 0)
        assert spans(got) == naive_train.fill_substrings(plain, longest, min_count, False, needed)
        assert got.fillers == len(got) - len(base)
    assert got.fillers > 0 and len(got) < 10 * rarer  # all there are, at min_count 1


def test_fillers_go_before_a_smaller_size() -> None:
    pieces = [bytes([b]) for b in range(256)] + [b"ab", b"abc", b"abcd"]
    filler = np.r_[np.zeros(256, bool), False, True, True]
    model = UnigramModel(pieces, np.log(np.r_[np.ones(256), 5.0, 1.0, 2.0]), filler)
    model.drop_fillers(258)  # room for one more: the likelier filler stays
    assert model.pieces[256:] == [b"ab", b"abcd"] and model.filler.tolist()[256:] == [False, True]
    model.drop_fillers(257)
    assert model.pieces[256:] == [b"ab"] and not model.filler.any()


def test_a_small_corpus_reaches_a_large_size() -> None:
    docs = random_docs(7, 80)  # 718 substrings seen twice, in 2,104 distinct bytes
    chunks = chunks_of(docs)
    assert len(find_candidates(chunks, 36, 2, False, 1, lambda k, n: 0)) < 1200 - 3 - 256
    trainer = Trainer(max_vocab_size=[1200, 700], algorithm="refined")
    trainer.train(docs)
    assert [len(p) + 3 for p in trainer.pieces] == [1200, 700]
    assert trainer.history.candidates == 1200 - 3 - 256  # just enough were added
    # never more candidates than half the distinct bytes: 1,052, and 1,311 ids
    capped = Trainer(max_vocab_size=5000, algorithm="refined")
    capped.train(docs)
    assert capped.history.candidates == 2104 // 2 and len(capped.pieces[0]) == 256 + 1052


def test_a_reserved_piece_that_came_back_is_not_added_twice() -> None:
    # a first-bytes piece the last round of a size removed waits in the reserve; two bytes
    # joined by the unused-piece rounds can make it again, and then it stays as it is
    pieces = [bytes([b]) for b in range(256)] + [b"\xe8\xbd", b"ab"]
    model = UnigramModel(pieces, np.linspace(-1.0, -2.0, len(pieces)))
    model.reserve = [(b"\xe8\xbd", -9.0), (b"\xe4\xb8", -6.0)]
    before = model.scores[256]
    model.restore()
    assert model.pieces == [*pieces, b"\xe4\xb8"] and model.reserve == []
    assert model.scores[256] == before and model.scores[-1] == -6.0
    assert model.partial.tolist()[-3:] == [True, False, True]


def test_the_bundled_samples_mixed_train_at_every_size() -> None:
    # the Train panel's example: all bundled samples at four sizes (a reserved piece once
    # came back through the unused-piece rounds and was added twice)
    texts = load_corpus(MIXED).texts
    trainer = Trainer(max_vocab_size=[8000, 4000, 2000, 1000], algorithm="refined")
    trainer.train(texts)
    for pieces, size in zip(trainer.pieces, (8000, 4000, 2000, 1000), strict=True):
        assert len(pieces) + 3 == size
    tok = trainer.tokenizer(2000)
    assert len(set(tok.vocab.pieces[3:])) == tok.vocab_size - 3


def test_the_seed_grows_with_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    found = find_candidates(chunks_of(random_docs(7, 80)), 36, 2, False, 1, lambda k, n: 0)
    chars = 0
    for p in range(len(found)):  # candidates of one character (whole UTF-8 of one code point)
        piece = found.piece(p)
        chars += len(piece.decode("utf-8", "replace")) == 1 or not is_whole_utf8(piece)
    monkeypatch.setattr(refine_module, "SEED_FACTOR", 2)
    monkeypatch.setattr(refine_module, "SEED_LEAST", 300)

    def seeded(n_bytes: int) -> int:  # the seed, less its 256 bytes and the characters
        return len(seed_model(found, [100], n_bytes).pieces) - 256 - chars

    # SEED_FACTOR * (100 - 3) = 194 pieces, or one per SEED_BYTES bytes, at most 300
    assert seeded(0) == seeded(194 * refine_module.SEED_BYTES) == 194 - chars
    assert seeded(250 * refine_module.SEED_BYTES) == 250 - chars
    assert seeded(10**9) == 300 - chars
    # characters alone fill the seed: no room for any other candidate
    monkeypatch.setattr(refine_module, "SEED_FACTOR", 0)
    assert seeded(0) == 0


@pytest.mark.parametrize("ensure_unicode", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_merges_of_the_viterbi_segmentation(seed: int, ensure_unicode: bool) -> None:
    docs = random_docs(30 + seed)
    chunks = chunks_of(docs)
    found = find_candidates(chunks, 6, 2, ensure_unicode, 1, lambda k, n: 0)
    seed = seed_model(found, [400])
    model = UnigramModel(seed.pieces[:270], seed.scores[:270])  # short pieces: many pairs
    vocab = model.vocab()
    uses, pairs, counts = viterbi_pairs(chunks, vocab)
    have = set(model.pieces)
    got = merges(vocab, pairs, counts, 40, have, 5, 2, ensure_unicode)
    logp = {vocab.pieces[i]: float(vocab.logp[i]) for i in range(3, vocab.size)}
    plain = naive_train.training_chunks(docs)
    assert got == naive_train.viterbi_merges(plain, logp, 40, have, 5, 2, ensure_unicode)
    assert len(got) == 40
    used = sum(len(naive.viterbi(c, logp)) for c in plain)
    assert uses.sum() == used


def test_halves_split_the_text_and_share_repeated_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # distinct lines: ab1 (twice), xy2, cd3 (three times), zz4; 16 distinct bytes, 8 a half
    docs = ["ab1\nxy2\ncd3\nab1\ncd3\ncd3\nzz4\n"]
    monkeypatch.setattr(refine_module, "HALF_BLOCKS", 2)

    def sides(chunks):  # type: ignore[no-untyped-def]
        halves = chunks.halves
        data, offsets = chunks.data.tobytes(), chunks.offsets.tolist()
        found = []
        for ranges, other in zip(halves.ranges, halves.others, strict=True):
            out = {}
            for lo, hi, _ in ranges:
                for i in range(lo, hi):
                    out[data[offsets[i] : offsets[i + 1]]] = int(halves.weights[i])
            if other is not None:
                extra, at = other.data.tobytes(), other.offsets.tolist()
                for i, w in enumerate(other.weights.tolist()):
                    line = extra[at[i] : at[i + 1]]
                    out[line] = out.get(line, 0) + w
            found.append(out)
        return found

    first, second = sides(chunks_of(docs))

    # each of a repeated line's w occurrences counts in one half: w - w // 2 in its own
    assert first == {b"ab1\n": 1, b"xy2\n": 1, b"cd3\n": 1}
    assert second == {b"cd3\n": 2, b"zz4\n": 1, b"ab1\n": 1}
    # four blocks of 4 bytes, a line each: the even blocks and the odd ones
    monkeypatch.setattr(refine_module, "HALF_BLOCKS", 4)
    even, odd = sides(chunks_of(docs))
    assert even == {b"ab1\n": 1, b"cd3\n": 2}
    assert odd == {b"xy2\n": 1, b"zz4\n": 1, b"ab1\n": 1, b"cd3\n": 1}
    assert chunks_of(["ab1"]).halves is None


def test_em_drops_a_phrase_of_one_half(monkeypatch: pytest.MonkeyPatch) -> None:
    # "ab" and "ef" are seen three times, each in one half only; "cd" twice, once in each
    monkeypatch.setattr(refine_module, "HALF_BLOCKS", 2)
    docs = ["ab1\nab2\nab3\ncd1\n", "cd2\nef1\nef2\nef3\n"]
    chunks = chunks_of(docs)
    pieces = [bytes([b]) for b in range(256)] + [b"ab", b"cd", b"ef"]
    weights = np.r_[np.ones(256), 50.0, 50.0, 50.0]
    model = UnigramModel(pieces, np.log(weights / weights.sum()))
    counts = model.em(chunks, 1, 0)
    assert b"cd" in model.pieces and b"ab" not in model.pieces and b"ef" not in model.pieces
    assert counts[model.pieces.index(b"cd")] == pytest.approx(2.0, abs=0.01)
    # without the halves (one chunk) the counts alone decide: all three stay
    whole = UnigramModel(pieces, np.log(weights / weights.sum()))
    whole.em(chunks_of(["".join(docs).replace("\n", " ")]), 1, 0)
    assert {b"ab", b"cd", b"ef"} <= set(whole.pieces)


def test_unused_pieces_are_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = load_corpus("en_kjv").texts
    n = len(texts) // 10
    train, held = texts[:-n], texts[-n:]
    found = {}
    for rounds in (refine_module.UNUSED_ROUNDS, 0):
        monkeypatch.setattr(refine_module, "UNUSED_ROUNDS", rounds)
        trainer = Trainer(max_vocab_size=3000, algorithm="refined")
        trainer.train(train)
        tok = trainer.tokenizer()
        ids = np.concatenate([np.asarray(i) for i in tok.encode_batch(train)])
        uses = np.bincount(ids, minlength=tok.vocab_size)[3:]
        several = np.fromiter((len(p) > 1 for p in tok.vocab.pieces[3:]), bool)
        steps = [s for s in trainer.history.vocab if s.step == "unused"]
        assert len(steps) == rounds and all(s.n_pieces == 2997 for s in steps)
        found[rounds] = (int((uses[several] == 0).sum()), evaluate(tok, held).bytes_per_token)
    (unused, replaced), (before, plain) = found.values()
    assert unused < before / 4  # 98 against 733 pieces the tokenizer never used
    assert replaced > 1.1 * plain  # 4.92 against 4.18 held-out bytes/token


def test_distinct_chunks_keep_the_counts() -> None:
    docs = random_docs(9)
    chunks = chunks_of(docs)
    data, offsets = chunks.data.tobytes(), chunks.offsets.tolist()
    rebuilt: dict[bytes, int] = {}
    for c, w in enumerate(chunks.weights.tolist()):
        rebuilt[data[offsets[c] : offsets[c + 1]]] = w
    plain: dict[bytes, int] = {}
    for chunk in naive_train.training_chunks(docs):
        plain[chunk] = plain.get(chunk, 0) + 1
    assert rebuilt == plain
    assert list(rebuilt) == list(plain)  # in order of first occurrence


def random_model(rng: np.random.Generator) -> tuple[list[bytes], list[float]]:
    pieces = [bytes([b]) for b in range(256)] + [b"ab", b"ba", b"abc", b"bab", b"ca", b"abca"]
    counts = rng.integers(1, 50, len(pieces)).astype(float).tolist()
    return pieces, counts


@pytest.mark.parametrize("workers", [1, 2])
def test_expected_counts_match_brute_force(workers: int) -> None:
    rng = np.random.default_rng(3)
    pieces, counts = random_model(rng)
    vocab = Vocab.from_pieces(pieces, counts)
    logp = {p: float(vocab.logp[i + 3]) for i, p in enumerate(pieces)}
    texts = ["".join(rng.choice(list("abc"), size=int(rng.integers(1, 9)))) for _ in range(30)]
    docs = [t + "\n" for t in texts] + texts[:4]  # repeated and newline-ended chunks
    chunks = chunks_of(docs)
    got, loglik = expected_counts(chunks, vocab, workers)
    plain = naive_train.expected_counts(naive_train.training_chunks(docs), logp)
    for i, p in enumerate(pieces):
        assert got[i + 3] == pytest.approx(plain[p], abs=1e-5), p
    z = 0.0
    for chunk in naive_train.training_chunks(docs):
        segs = naive_train.segmentations(chunk, logp)
        z += math.log(sum(math.exp(sum(logp[p] for p in s)) for s in segs))
    assert loglik == pytest.approx(z, rel=1e-9)


@pytest.mark.parametrize("workers", [1, 2])
def test_expected_counts_of_long_chunks(workers: int) -> None:
    # chunks of thousands of bytes: the paths' probabilities are far below the smallest
    # float (e^-6000 and less), so the sums must be rescaled on the way; checked against
    # plain log-space sums, with a multi-byte character among the pieces
    rng = np.random.default_rng(5)
    pieces, counts = random_model(rng)
    pieces += ["é".encode(), "aé".encode()]
    counts += [3.0, 2.0]
    vocab = Vocab.from_pieces(pieces, counts)
    logp = {p: float(vocab.logp[i + 3]) for i, p in enumerate(pieces)}
    texts = ["".join(rng.choice(list("abcé"), size=n)) for n in (3000, 5000, 1, 40)]
    docs = [t + "\n" for t in texts] + texts[:1]
    got, loglik = expected_counts(chunks_of(docs), vocab, workers)
    plain, z = naive_train.forward_backward_counts(naive_train.training_chunks(docs), logp)
    assert z < -6000
    for i, p in enumerate(pieces):
        assert got[i + 3] == pytest.approx(plain[p], rel=1e-6, abs=1e-4), p
    assert loglik == pytest.approx(z, rel=1e-9)


def test_alternatives_match_brute_force() -> None:
    from bytepiece_core._training.kernels_unigram import _alternatives
    from bytepiece_core._training.prune import _flat

    rng = np.random.default_rng(4)
    pieces, counts = random_model(rng)
    vocab = Vocab.from_pieces(pieces, counts)
    logp = {p: float(vocab.logp[i + 3]) for i, p in enumerate(pieces)}
    flat, offsets = _flat(pieces)
    own = np.arange(3, 3 + len(pieces), dtype=np.int32)
    alt = _alternatives(flat, offsets, own, vocab.cells, vocab.value, vocab.logp)
    for i, p in enumerate(pieces):
        assert alt[i] == pytest.approx(naive_train.best_alternative(p, logp)), p
    assert alt[0] == -np.inf  # a single byte has no other segmentation


def test_digamma() -> None:
    x = np.array([0.5, 1.0, 2.0, 7.5, 1e6])
    # psi(1) = -gamma, psi(x + 1) = psi(x) + 1 / x, psi(1/2) = -gamma - 2 log 2
    gamma = 0.5772156649015329
    expected = [-gamma - 2 * math.log(2), -gamma, 1 - gamma]
    np.testing.assert_allclose(digamma(x[:3]), expected, rtol=1e-10)
    np.testing.assert_allclose(digamma(x[3:4] + 1), digamma(x[3:4]) + 1 / x[3], rtol=1e-12)
    assert digamma(x[4:])[0] == pytest.approx(math.log(1e6) - 0.5e-6, rel=1e-12)


# -- the trainer --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> tuple[list[str], list[str]]:
    texts = load_corpus("zh_pd199801").texts
    cut = int(len(texts) * 0.8)
    return texts[:cut], texts[cut:]


@pytest.fixture(scope="module")
def refined(sample: tuple[list[str], list[str]]) -> Trainer:
    trainer = Trainer(max_vocab_size=[3000, 1000], algorithm="refined")
    trainer.train(sample[0])
    return trainer


def test_reaches_every_size(refined: Trainer) -> None:
    assert [len(p) + 3 for p in refined.pieces] == [3000, 1000]
    steps = refined.history.vocab
    assert steps[0].step == "candidates" and steps[-1] == steps[-1].__class__(1000, "cut", 0, 997)
    for pieces in refined.pieces:
        assert all(bytes([b]) in pieces for b in range(256))
        assert all(c >= 1 for c in pieces.values())
        # ensure_unicode is off by default: whole characters, or a character's first bytes
        assert all(
            naive_train._whole(p) or len(p) == 1 or naive_train._first_bytes(p) for p in pieces
        )
    assert any(naive_train._first_bytes(p) for p in refined.pieces[1])
    assert refined.ensure_unicode is False and Trainer().ensure_unicode is True


def test_ensure_unicode_keeps_pieces_whole(
    refined: Trainer, sample: tuple[list[str], list[str]]
) -> None:
    train, held = sample
    whole = Trainer(max_vocab_size=1000, algorithm="refined", ensure_unicode=True)
    whole.train(train)
    assert all(naive_train._whole(p) or len(p) == 1 for p in whole.pieces[0])
    # spelling rare characters with their first bytes takes fewer tokens on unseen text
    default = evaluate(refined.tokenizer(1000), held).bytes_per_token
    assert default > evaluate(whole.tokenizer(), held).bytes_per_token


def test_first_bytes_wait_for_the_final_round() -> None:
    pieces = [bytes([b]) for b in range(256)] + ["天".encode()[:2], "天".encode(), b"ab", b"abc"]
    model = UnigramModel(pieces, np.log(np.r_[np.ones(256), 1.0, 50.0, 40.0, 30.0]))
    assert model.partial.tolist() == [False] * 256 + [True, False, False, False]
    counts = np.r_[np.ones(256), 0.0, 50.0, 40.0, 30.0]  # the first bytes are never used
    model.prune(counts, 258, final=False)  # not the last round: they are kept, b"ab" goes
    assert model.pieces[256:] == ["天".encode()[:2], "天".encode()]
    model.prune(counts[[*range(256), 256, 257]], 257, final=True)  # the last: weighed, and go
    assert model.pieces[256:] == ["天".encode()] and model.reserve == [("天".encode()[:2], 0.0)]
    # bytes come first: a round too small for the held pieces keeps every byte
    held = UnigramModel(pieces[:258], np.zeros(258))
    held.prune(np.r_[np.ones(256), 0.0, 50.0], 256, final=False)
    assert held.pieces == pieces[:256] and held.reserve == [("天".encode()[:2], 0.0)]
    model.restore()  # back for the next size, at their last score
    assert model.pieces[256:] == ["天".encode(), "天".encode()[:2]] and not model.reserve
    assert model.partial.tolist()[256:] == [False, True] and model.scores[-1] == 0.0


def test_first_bytes_are_weighed_again_until_the_pieces_settle() -> None:
    # the final round of a size weighs the first bytes of characters in a lattice where the
    # characters it removes were still pieces; weighed again once those are gone, some come
    # back, and reweigh stops when a round changes nothing
    corpus = chunks_of(load_corpus("zh_pd199801").texts[:150])
    found = find_candidates(corpus, 12, 2, False, 1, lambda k, b: None)
    target = 300 - 3
    model = seed_model(found, [300], corpus.n_bytes)
    while len(model.pieces) > target:  # the rounds of refine, down to the size
        for _ in range(refine_module.EM_STEPS):
            counts = model.em(corpus, 1, target)
        nxt = max(target, int(len(model.pieces) * refine_module.SHRINK))
        model.prune(counts, nxt, final=nxt == target)
    first, reserved = set(model.pieces), [p for p, _ in model.reserve]
    plain = copy.deepcopy(model)
    steps: list[int] = []
    counts = reweigh(corpus, model, target, 1, steps.append)
    back = set(model.pieces) - first
    assert back and back <= set(reserved)  # first bytes came back, and nothing else did
    assert all(not is_whole_utf8(p) for p in back)
    assert steps and all(n == target for n in steps) and len(model.pieces) == target
    assert counts is not None and len(counts) == len(model.pieces)
    # the same by hand: rounds until one changes nothing, under the cap
    rounds = 0
    while plain.reserve:
        before = set(plain.pieces)
        plain.restore()
        for _ in range(refine_module.EM_STEPS):
            em_counts = plain.em(corpus, 1, target)
        if len(plain.pieces) > target:
            plain.prune(em_counts, target, final=True)
            rounds += 1
            for _ in range(refine_module.EM_STEPS):
                em_counts = plain.em(corpus, 1, target)
        if set(plain.pieces) == before:
            break
    assert rounds == len(steps) < refine_module.REWEIGH_ROUNDS
    assert plain.pieces == model.pieces and np.array_equal(em_counts, counts)


def test_deterministic_and_independent_of_workers(
    refined: Trainer, sample: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    again = Trainer(max_vocab_size=[3000, 1000], algorithm="refined")
    again.train(iter(sample[0]), workers=2)
    assert again.pieces == refined.pieces
    refined.save(tmp_path / "a.model")
    again.save(tmp_path / "b.model")
    for size in (3000, 1000):
        assert (tmp_path / f"a.model.{size}").read_bytes() == (
            tmp_path / f"b.model.{size}"
        ).read_bytes()
    tok = Tokenizer(tmp_path / "a.model.3000")
    assert tok.vocab_size == 3000 and tok.decode(tok.encode(sample[1][0])) == sample[1][0]


def test_compresses_unseen_text_better_than_the_reference(
    refined: Trainer, sample: tuple[list[str], list[str]]
) -> None:
    train, held = sample
    reference = Trainer(max_vocab_size=3000)
    reference.train(train)
    ours = evaluate(refined.tokenizer(3000), held)
    theirs = evaluate(reference.tokenizer(), held)
    assert reference.tokenizer().vocab_size < 3000  # the reference falls short of the size
    assert ours.bytes_per_token > 1.3 * theirs.bytes_per_token
    assert ours.bits_per_byte < theirs.bits_per_byte


def test_a_memory_budget_gives_the_same_model() -> None:
    docs = load_corpus("zh_pd199801").texts
    plain = Trainer(max_vocab_size=[3000, 1000], algorithm="refined")
    plain.train(docs)
    bounded = Trainer(max_vocab_size=[3000, 1000], algorithm="refined")
    bounded.train(docs, memory_budget="1MiB", workers=2)
    assert bounded.pieces == plain.pieces
    memory = bounded.history.memory
    assert max(r["partitions"] for r in memory.values()) > 2  # more than a part a thread
    assert all(r["table_bytes"] <= 1 << 20 for r in memory.values())
    assert plain.history.memory == {}


def test_options_it_refuses() -> None:
    trainer = Trainer(max_vocab_size=300, algorithm="refined")
    with pytest.raises(
        ValueError, match="backend='dask' is not supported with algorithm='refined'"
    ):
        trainer.train(["abc\n"] * 10, backend="dask")
    with pytest.raises(ValueError, match="algorithm must be one of"):
        Trainer(algorithm="bpe")
    assert "algorithm='refined'" in repr(trainer)
    assert "algorithm" not in repr(Trainer())


def test_work_dir_gives_the_same_model(tmp_path: Path) -> None:
    docs = random_docs(5, 200)
    plain = Trainer(max_vocab_size=300, algorithm="refined")
    plain.train(docs)
    on_disk = Trainer(max_vocab_size=300, algorithm="refined")
    on_disk.train(docs, work_dir=tmp_path)
    assert on_disk.pieces == plain.pieces
    assert list(tmp_path.iterdir()) == []


def test_command_line_trains_the_refined_model(tmp_path: Path) -> None:
    from bytepiece_core.cli import main

    docs = random_docs(6, 300)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(d + "\n" for d in docs), encoding="utf-8")
    out = tmp_path / "m.model"
    argv = ["train", str(corpus), "-o", str(out), "--vocab-size", "320", "--algorithm", "refined"]
    assert main([*argv, "-q"]) == 0
    trainer = Trainer(max_vocab_size=320, algorithm="refined")
    trainer.train(corpus)
    trainer.save(tmp_path / "api.model")
    assert out.read_bytes() == (tmp_path / "api.model").read_bytes()
    assert Tokenizer(out).vocab_size == 320


class _Stop(Exception):
    pass


def _stop_at(stage: str, nth: int):  # type: ignore[no-untyped-def]
    """A callback that stops training at the ``nth`` event of ``stage`` (``"cut"``: the
    ``nth`` size cut, before its vocabulary is kept)."""
    seen = [0]

    def callback(event) -> None:  # type: ignore[no-untyped-def]
        hit = (
            event.step is not None and event.step.step == "cut"
            if stage == "cut"
            else event.stage == stage
        )
        if hit:
            seen[0] += 1
            if seen[0] == nth:
                raise _Stop

    return callback


def test_checkpoint_resumes_to_the_same_model(tmp_path: Path) -> None:
    docs = load_corpus("zh_pd199801").texts[:1500]
    sizes = [2000, 900, 400]
    plain = Trainer(max_vocab_size=sizes, algorithm="refined")
    plain.train(docs)
    checkpoint = tmp_path / "ckpt"
    # stopped while counting candidates, then at the cut of each size in turn: each run
    # resumes from what the one before kept
    for stage, nth in (("count_ngrams", 3), ("cut", 1), ("cut", 2), ("cut", 3)):
        stopped = Trainer(max_vocab_size=sizes, algorithm="refined")
        with pytest.raises(_Stop):
            stopped.train(
                docs, checkpoint_dir=checkpoint, resume=True, callback=_stop_at(stage, nth)
            )
        assert stopped.pieces == []  # a stopped run leaves the trainer as it was
    names = {p.name for p in checkpoint.iterdir()}
    assert "seed.scores.npy" in names and "sizes.vocab2.pieces.npy" in names
    assert not any(n.startswith("sizes.model1.") for n in names)  # only the last model kept
    events: list = []  # type: ignore[type-arg]
    resumed = Trainer(max_vocab_size=sizes, algorithm="refined")
    resumed.train(docs, checkpoint_dir=checkpoint, resume=True, callback=events.append)
    assert resumed.pieces == plain.pieces
    assert resumed.history.vocab == plain.history.vocab
    assert resumed.history.ngrams == plain.history.ngrams
    assert resumed.history.candidates == plain.history.candidates
    loaded = [e.stage for e in events if e.message == "from checkpoint"]
    assert loaded == ["read", "count_ngrams", "count_pieces"]
    # other sizes change the seed: refused, naming the option
    with pytest.raises(ValueError, match="max_vocab_size"):
        Trainer(max_vocab_size=[1000], algorithm="refined").train(
            docs, checkpoint_dir=checkpoint, resume=True
        )
    with pytest.raises(ValueError, match="algorithm"):  # nor is the other algorithm's
        Trainer(max_vocab_size=sizes).train(docs, checkpoint_dir=checkpoint, resume=True)
