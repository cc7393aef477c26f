"""Segmentation kernels against the plain versions in naive.py."""

from __future__ import annotations

import naive
import numpy as np
import pytest

from bytepiece_core._kernels_trie import _build_double_array, _build_plain_trie
from bytepiece_core.model import dump_model
from bytepiece_core.tokenizer import Tokenizer
from bytepiece_core.vocab import Vocab

SINGLE_BYTES = [bytes([b]) for b in range(256)]


def _vocab(extra: list[bytes], counts: list[int]) -> tuple[Vocab, dict[bytes, float]]:
    pieces = SINGLE_BYTES + extra
    all_counts = [1] * 256 + counts
    return Vocab.from_pieces(pieces, all_counts), naive.logp_table(dict(zip(pieces, all_counts)))


def test_hand_worked_viterbi() -> None:
    # total = 256 + 3 + 5: "ab" + "c" scores log(3/264) + log(1/264) = -10.05,
    # "a" + "bc" scores log(1/264) + log(5/264) = -9.54: the second wins.
    vocab, _ = _vocab([b"ab", b"bc"], [3, 5])
    seg = vocab.segment([b"abc"])
    assert [vocab.pieces[i] for i in seg.ids] == [b"a", b"bc"]
    assert seg.ends.tolist() == [1, 3]


def test_equal_scores_go_to_the_longest_match() -> None:
    # "a"+"bc" and "ab"+"c" score exactly the same (IEEE addition commutes). Matches ending at
    # byte 3 are seen longest first, so "bc" (from 1) is relaxed before "c" (from 2), and the
    # strict ">" keeps it: the longest final piece wins, as in the reference.
    vocab, logp = _vocab([b"ab", b"bc"], [4, 4])
    assert [vocab.pieces[i] for i in vocab.segment([b"abc"]).ids] == [b"a", b"bc"]
    assert naive.viterbi(b"abc", logp) == [b"a", b"bc"]


def test_trie_finds_exactly_the_prefixes() -> None:
    rng = np.random.default_rng(1)
    keys = [*naive.random_vocab(rng, b"abcd\x00\xff", 300, 7), b"a", b"b", b"\xff"]
    keys = sorted(set(keys))
    data = np.frombuffer(b"".join(keys), np.uint8)
    offsets = np.zeros(len(keys) + 1, np.int64)
    np.cumsum([len(k) for k in keys], out=offsets[1:])
    order = np.array(sorted(range(len(keys)), key=keys.__getitem__), np.int64)
    base, check, value = _build_double_array(*_build_plain_trie(data, offsets, order))
    text = bytes(rng.choice(list(b"abcd\x00\xff"), size=400).tolist())
    for start in range(len(text)):
        found, node = [], 0
        for p in range(start, len(text)):
            t = base[node] + text[p]
            if t >= len(check) or check[t] != node:
                break
            node = t
            if value[node] >= 0:
                found.append(int(value[node]))
        assert sorted(found) == naive.trie_prefixes(keys, text, start)


@pytest.mark.parametrize("seed", range(8))
def test_viterbi_matches_naive_on_random_vocabularies(seed: int) -> None:
    rng = np.random.default_rng(seed)
    extra = naive.random_vocab(rng, b"ab\n\xe4\xb8", 60, 5)
    # few distinct counts make exact ties frequent, which checks the tie rule
    counts = rng.integers(1, 4, len(extra)).tolist()
    vocab, logp = _vocab(extra, counts)
    texts = [
        bytes(rng.choice(list(b"ab\n\xe4\xb8"), size=int(rng.integers(0, 40))).tolist())
        for _ in range(50)
    ]
    seg = vocab.segment(texts, newline_chunks=True)  # through the automaton
    for d, text in enumerate(texts):
        got = [vocab.pieces[i] for i in seg.doc_ids(d)]
        want = [t for chunk in _byte_chunks(text) for t in naive.viterbi(chunk, logp)]
        assert got == want
        lo, hi = seg.doc_token_offsets[d], seg.doc_token_offsets[d + 1]
        assert seg.ends[lo:hi].tolist() == np.cumsum([len(t) for t in want]).tolist()
    # the walks from every start position (the trainer's re-splits: one chunk a document)
    chunks = [c for text in texts for c in _byte_chunks(text)]
    walked = vocab.segment(chunks)
    for d, chunk in enumerate(chunks):
        assert [vocab.pieces[i] for i in walked.doc_ids(d)] == naive.viterbi(chunk, logp)


def _byte_chunks(text: bytes) -> list[bytes]:
    """Chunk at newline runs on bytes (texts here are not valid UTF-8 on purpose)."""
    import re

    return re.findall(rb"[^\n]*\n+|[^\n]+", text)


def test_tokenizer_matches_naive_on_text() -> None:
    rng = np.random.default_rng(7)
    extra = [p for p in naive.random_vocab(rng, "天气不错\n ab".encode(), 200, 9)]
    counts = rng.integers(1, 50, len(extra)).tolist()
    model = dump_model({**dict.fromkeys(SINGLE_BYTES, 1), **dict(zip(extra, counts))})
    tok = Tokenizer(model)
    logp = naive.logp_table({**dict.fromkeys(SINGLE_BYTES, 1), **dict(zip(extra, counts))})
    for _ in range(100):
        text = "".join(rng.choice(list("天气不错\n ab"), size=int(rng.integers(0, 30))).tolist())
        assert tok.tokenize(text) == naive.tokenize(text, logp)


@pytest.mark.parametrize(
    ("alphabet", "n"), [(b"", 0), (b"a\xff", 3), (bytes(range(256)), 3000), (b"\xe4\xb8\x80", 40)]
)
def test_the_last_trie_cell_is_free(alphabet: bytes, n: int) -> None:
    # The segmenter's walk stops at the last cell ("no piece starts with these two bytes"):
    # it must be free, with no child and no score, whatever the vocabulary.
    extra = naive.random_vocab(np.random.default_rng(n), alphabet, n, 6) if n else []
    cells = _vocab(extra, [3] * n)[0].cells
    assert cells[-1]["check"] == -1 and cells[-1]["logp"] == -np.inf
    assert not (cells["check"] == len(cells) - 1).any()


def test_pair_table_points_at_two_byte_prefixes() -> None:
    rng = np.random.default_rng(3)
    extra = naive.random_vocab(rng, b"ab\x00\xff\xe4", 80, 5)
    vocab, _ = _vocab(extra, [2] * len(extra))
    cells = vocab.cells
    free = len(cells) - 1  # where no piece starts: a free cell, whose walk stops at once
    assert cells[free]["check"] == -1 and cells[free]["logp"] == -np.inf
    assert not (cells["check"] == free).any()
    prefixes = {p[:2] for p in extra}
    for a in range(256):
        for b in range(256):
            cell = vocab.pairs[a * 256 + b]
            if bytes([a, b]) in prefixes:
                first = cells[0]["base"] + a
                assert cell == cells[first]["base"] + b and cells[cell]["check"] == first
            else:
                assert cell == free


def _node_bytes(vocab: Vocab) -> dict[int, bytes]:
    """The bytes spelled by every trie cell that is a node (root excluded)."""
    cells, spelled, todo = vocab.cells, {}, [(0, b"")]
    while todo:
        node, text = todo.pop()
        base = cells[node]["base"]
        for b in range(256) if base > 0 else ():
            child = base + b
            if child < len(cells) and cells[child]["check"] == node:
                spelled[child] = text + bytes([b])
                todo.append((child, text + bytes([b])))
    return spelled


@pytest.mark.parametrize("seed", range(3))
def test_automaton_links_follow_the_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    extra = naive.random_vocab(rng, b"abc\xe4", 120, 6)
    vocab, _ = _vocab(extra, rng.integers(1, 9, len(extra)).tolist())
    states, outputs = vocab.automaton.states, vocab.automaton.outputs
    spelled = _node_bytes(vocab)
    cell_of = {text: cell for cell, text in spelled.items()}
    id_of = {p: i for i, p in enumerate(vocab.pieces) if p}
    for cell, text in spelled.items():
        suffixes = [text[k:] for k in range(1, len(text) - 1)]  # proper, two bytes or more
        nodes = [cell_of[s] for s in suffixes if s in cell_of]
        assert states[cell]["fail"] == (nodes[0] if nodes else -1)
        # the out chain: every piece of two bytes or more ending the text, longest first
        want = [id_of[s] for s in [text, *suffixes] if s in id_of and len(s) >= 2]
        chain, k = [], states[cell]["out"]
        while k >= 0:
            chain.append(int(k))
            assert outputs[k]["length"] == len(vocab.pieces[k])
            assert outputs[k]["logp"] == vocab.logp[k]
            k = outputs[k]["next"]
        assert chain == want
    singles = vocab.cells[0]["base"] + np.arange(256)
    assert [vocab.pieces[i] for i in vocab.automaton.single_id] == SINGLE_BYTES
    assert vocab.automaton.single_logp.tolist() == vocab.cells["logp"][singles].tolist()


def test_encode_bytes_hand_worked() -> None:
    # The automaton reads "abcd" and then fails on "e": its fail link is "bcd" (not a piece),
    # whose child "bcde" is; the best path is "a" + "bcde" (log(1/270) + log(9/270)) rather
    # than "abcd" + "e" (log(4/270) + log(1/270)). Equal scores keep the longest last piece.
    vocab, logp = _vocab([b"abcd", b"bcde", b"cd"], [4, 9, 1])
    assert [vocab.pieces[i] for i in vocab.encode_bytes(b"abcde")] == [b"a", b"bcde"]
    assert naive.viterbi(b"abcde", logp) == [b"a", b"bcde"]
    vocab, _ = _vocab([b"ab", b"bc"], [4, 4])
    assert [vocab.pieces[i] for i in vocab.encode_bytes(b"abc\n\nabc")] == [
        b"a", b"bc", b"\n", b"\n", b"a", b"bc"
    ]  # fmt: skip


@pytest.mark.parametrize("seed", range(8))
def test_encode_bytes_matches_naive_on_random_vocabularies(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    alphabet = b"ab\n\xe4\xb8 "
    extra = naive.random_vocab(rng, alphabet, 80, 7)
    counts = rng.integers(1, 4, len(extra)).tolist()  # few distinct counts: frequent ties
    vocab, logp = _vocab(extra, counts)
    for _ in range(40):
        text = bytes(rng.choice(list(alphabet), size=int(rng.integers(0, 300))).tolist())
        got = [vocab.pieces[i] for i in vocab.encode_bytes(text)]
        assert got == [t for chunk in _byte_chunks(text) for t in naive.viterbi(chunk, logp)]
