"""The vocabulary as flat arrays: pieces, scores and a double-array trie, built once per model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from ._kernels_segment import _encode, _pair_cells, _segment, _segment_joined
from ._kernels_trie import (
    OUTPUT_DTYPE,
    STATE_DTYPE,
    _build_automaton,
    _build_double_array,
    _build_plain_trie,
)
from .model import N_SPECIAL

__all__ = ["Segmentation", "Vocab"]

ALL_BYTES = frozenset(bytes([b]) for b in range(256))
CELL_DTYPE = np.dtype([("base", np.int32), ("check", np.int32), ("logp", np.float64)])


class Automaton(NamedTuple):
    """The Aho-Corasick automaton of a vocabulary's trie, for the best path of tokenization
    (the arrays are described in ``_kernels_segment``)."""

    states: np.ndarray
    outputs: np.ndarray
    single_logp: np.ndarray
    single_id: np.ndarray


@dataclass(frozen=True)
class Segmentation:
    """Tokens of a batch of documents, as flat arrays.

    ids               : int32[n_tokens]  piece id of each token
    ends              : int64[n_tokens]  end byte of each token, relative to its document
    doc_token_offsets : int64[n_docs + 1] document ``d`` owns tokens ``[o[d], o[d + 1])``
    """

    ids: np.ndarray
    ends: np.ndarray
    doc_token_offsets: np.ndarray

    def doc_ids(self, d: int) -> np.ndarray:
        """The token ids of document ``d``."""
        return self.ids[self.doc_token_offsets[d] : self.doc_token_offsets[d + 1]]


@dataclass(frozen=True, eq=False)
class Vocab:
    """A frozen vocabulary: pieces by id, their counts and scores, and the trie that finds them.

    pieces : tuple of bytes, indexed by id; ids 0..2 (the special tokens) hold ``b""``
    counts : float64[n_ids]  count of each piece (0 for the special tokens)
    logp   : float64[n_ids]  ``log count - log total`` (``-inf`` for the special tokens)
    cells  : CELL_DTYPE[n_cells]  the double-array trie with each cell's score (see
             ``_kernels_segment``)
    value  : int32[n_cells]  piece id ending at each trie cell, -1 where none ends
    pairs  : int32[65536]    trie cell of each two-byte prefix (the last cell, which is free,
                             where no piece starts so)

    and, made on first use, :attr:`automaton` (tokenization's best path).

    >>> v = Vocab.from_pieces([bytes([b]) for b in range(256)] + [b"ab"], [1] * 256 + [3])
    >>> [v.pieces[i] for i in v.segment([b"abc"]).ids]
    [b'ab', b'c']
    """

    pieces: tuple[bytes, ...]
    counts: np.ndarray
    logp: np.ndarray
    cells: np.ndarray
    value: np.ndarray
    pairs: np.ndarray

    @classmethod
    def from_pieces(cls, pieces: Sequence[bytes], counts: Sequence[int | float]) -> Vocab:
        """Build from pieces in id order (the first gets id 3) and their positive counts.

        Scores are computed as the reference does: ``log(count) - log(sum of counts)``, with
        NumPy's ``log`` (which can differ from libm's in the last bit; the reference uses it).
        """
        n = len(pieces)
        if len(set(pieces)) != n:
            raise ValueError("pieces must be distinct")
        if not ALL_BYTES <= set(pieces):
            raise ValueError("the vocabulary must hold all 256 single bytes")
        lengths = np.fromiter((len(p) for p in pieces), np.int64, n)
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        keys = np.frombuffer(b"".join(pieces), np.uint8)
        order = np.array(sorted(range(n), key=pieces.__getitem__), np.int64)
        first_child, next_sibling, label, value, n_nodes = _build_plain_trie(keys, offsets, order)
        base, check, dvalue = _build_double_array(first_child, next_sibling, label, value, n_nodes)
        dvalue[dvalue >= 0] += N_SPECIAL
        count_arr = np.zeros(n + N_SPECIAL, np.float64)
        count_arr[N_SPECIAL:] = counts
        logp = np.full(n + N_SPECIAL, -np.inf)
        logp[N_SPECIAL:] = np.log(count_arr[N_SPECIAL:]) - np.log(sum(counts))
        cells = np.empty(len(base), CELL_DTYPE)
        cells["base"] = base
        cells["check"] = check
        cells["logp"] = np.where(dvalue >= 0, logp[np.maximum(dvalue, 0)], -np.inf)
        pairs = _pair_cells(cells)
        for arr in (count_arr, logp, cells, dvalue, pairs):
            arr.flags.writeable = False
        return cls((b"",) * N_SPECIAL + tuple(pieces), count_arr, logp, cells, dvalue, pairs)

    @property
    def size(self) -> int:
        """Number of ids, special tokens included."""
        return len(self.pieces)

    def segment(
        self,
        docs: Sequence[bytes] | tuple[np.ndarray | bytes, np.ndarray],
        *,
        newline_chunks: bool = False,
        alpha: float = -1.0,
        seeds: np.ndarray | None = None,
        with_ends: bool = True,
    ) -> Segmentation:
        """Segment byte strings (Viterbi, or sampling when ``alpha >= 0`` with one seed per doc).

        ``docs`` is a sequence of bytes, or ``(data, doc_offsets)`` already flat. With
        ``newline_chunks`` a token never crosses the end of a newline run (tokenization);
        without it each document is one chunk (the trainer's re-splitting of pieces).

        Tokenization (Viterbi with ``newline_chunks``) goes through :attr:`automaton`; the
        trainer's re-splits, which make a vocabulary for each pass, and sampling walk the trie
        from every start position. Both give the same segmentation.
        """
        if isinstance(docs, tuple):
            data, doc_offsets = docs
        else:
            data = b"".join(docs)
            doc_offsets = np.zeros(len(docs) + 1, np.int64)
            np.cumsum(np.fromiter(map(len, docs), np.int64, len(docs)), out=doc_offsets[1:])
        n_docs = len(doc_offsets) - 1
        seeds = _kernel_seeds(alpha, seeds, n_docs)
        ids = np.empty(len(data), np.int32)
        ends = np.empty(len(data), np.int64) if with_ends else _NO_ENDS
        doc_tokens = np.empty(n_docs + 1, np.int64)
        n = _segment(
            data,
            doc_offsets,
            0,
            newline_chunks,
            self.cells,
            self.pairs,
            self.value,
            float(alpha),
            seeds,
            ids,
            ends,
            doc_tokens,
            *(self.automaton if newline_chunks and alpha < 0 else _NO_AUTOMATON),
        )
        return Segmentation(ids[:n], ends[:n] if with_ends else ends, doc_tokens)

    def segment_joined(
        self, joined: bytes, n_docs: int, *, alpha: float = -1.0, seeds: np.ndarray | None = None
    ) -> Segmentation | None:
        """Segment ``n_docs`` documents joined with a NUL byte between each two, with
        tokenization chunks (sampled when ``alpha >= 0``, one seed per document), as
        ``segment`` would the documents themselves without their token ends; ``None`` if
        ``joined`` holds another number of NUL bytes (a document holds one of its own).

        >>> v = Vocab.from_pieces([bytes([b]) for b in range(256)] + [b"ab"], [1] * 256 + [3])
        >>> seg = v.segment_joined(b"ab\\x00\\x00abc", 3)
        >>> [[v.pieces[i] for i in seg.doc_ids(d)] for d in range(3)]
        [[b'ab'], [], [b'ab', b'c']]
        >>> v.segment_joined(b"a\\x00b", 1) is None
        True
        """
        seeds = _kernel_seeds(alpha, seeds, n_docs)
        if n_docs == 0:  # only b"" joins no document
            if joined:
                return None
            return Segmentation(np.zeros(0, np.int32), _NO_ENDS, np.zeros(1, np.int64))
        doc_offsets = np.empty(n_docs + 1, np.int64)
        ids = np.empty(len(joined), np.int32)
        doc_tokens = np.empty(n_docs + 1, np.int64)
        n = _segment_joined(
            joined,
            self.cells,
            self.pairs,
            self.value,
            float(alpha),
            seeds,
            doc_offsets,
            ids,
            doc_tokens,
            *(self.automaton if alpha < 0 else _NO_AUTOMATON),
        )
        if n < 0:
            return None
        return Segmentation(ids[:n], _NO_ENDS, doc_tokens)

    @cached_property
    def automaton(self) -> Automaton:
        """The Aho-Corasick automaton of the trie, made on first use (~10 ms for 16k pieces,
        ~30 ms for 80k; 16 bytes a cell and a piece)."""
        states = np.empty(len(self.cells), STATE_DTYPE)
        outputs = np.zeros(self.size, OUTPUT_DTYPE)
        _build_automaton(self.cells, self.value, states, outputs)
        singles = self.cells[0]["base"] + np.arange(256)
        automaton = Automaton(
            states, outputs, self.cells["logp"][singles], self.value[singles].astype(np.int32)
        )
        for arr in automaton:
            arr.flags.writeable = False
        return automaton

    def encode_bytes(self, data: bytes, alpha: float = -1.0, seed: int = 0) -> np.ndarray:
        """Token ids of one document with tokenization chunks (sampled when ``alpha >= 0``)."""
        if alpha < 0:
            a = self.automaton
            ids = np.empty(len(data), np.int32)
            n = _encode(data, a.states, a.outputs, self.pairs, a.single_logp, a.single_id, ids)
            return ids[:n]
        flat = (data, np.array([0, len(data)], np.int64))
        seeds = np.array([seed], np.uint64)
        seg = self.segment(flat, newline_chunks=True, alpha=alpha, seeds=seeds, with_ends=False)
        return seg.ids


def _kernel_seeds(alpha: float, seeds: np.ndarray | None, n_docs: int) -> np.ndarray:
    """The seeds a segmentation kernel takes: one per document when sampling (``alpha >= 0``),
    none otherwise."""
    if alpha < 0:
        return _NO_SEEDS
    if seeds is None or len(seeds) != n_docs:
        raise ValueError("sampling (alpha >= 0) needs one seed per document")
    return seeds


# Empty arrays standing for "not needed" (kernels check the length and never write to them).
_NO_SEEDS = np.zeros(0, np.uint64)
_NO_ENDS = np.zeros(0, np.int64)
_NO_OFFSETS = np.zeros(0, np.int64)
_NO_AUTOMATON = Automaton(
    np.zeros(0, STATE_DTYPE), np.zeros(0, OUTPUT_DTYPE), np.zeros(0), np.zeros(0, np.int32)
)
for _arr in _NO_AUTOMATON:  # read-only as a vocabulary's, for one compiled signature
    _arr.flags.writeable = False
