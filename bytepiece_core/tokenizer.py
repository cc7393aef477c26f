"""``Tokenizer``: a drop-in for ``bytepiece.Tokenizer`` 0.6.3 over the Numba segmenter."""

from __future__ import annotations

import math
import numbers
import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Literal, overload

import numpy as np

from ._batch import join_texts, map_shards, prepare_texts, shard_bounds, threads_for
from ._kernels_segment import IDS, PIECES, _encode_short, _sample_short, short_workspace
from ._kernels_segment import SHORT_BYTES as _SHORT_BYTES
from ._normalize import check_text
from ._numba import entry_point
from ._pylist import addresses_of, list_of, lists_of
from ._seeding import first_draw
from .lattice import Lattice, build_lattice
from .model import SPECIAL_TOKENS, ModelSource, dump_model, load_model, parse_model, write_model
from .pretrained import model_path
from .vocab import N_SPECIAL, Segmentation, Vocab

__all__ = ["Encoding", "TokenBatch", "Tokenizer", "UnknownPieceError"]

SeedLike = int | np.random.Generator | None


class UnknownPieceError(KeyError):
    """A piece or id that the vocabulary does not have (a ``KeyError``, as in the reference)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Encoding:
    """Tokens of one text with their spans.

    Spans refer to ``text``, the NFC-normalized input (what the tokens decode to). A token that
    covers only part of a multi-byte character (a byte fragment) gets the whole character as
    its character span, so adjacent fragments share it.

    ids          : list of int, the token ids
    pieces       : list of bytes, the tokens
    byte_offsets : list of (start, end) into ``text.encode()``
    char_offsets : list of (start, end) into ``text``
    """

    text: str
    ids: list[int]
    pieces: list[bytes]
    byte_offsets: list[tuple[int, int]]
    char_offsets: list[tuple[int, int]]


@dataclass(frozen=True)
class TokenBatch:
    """Token ids of a batch of texts, flat: text ``d`` has ``ids[offsets[d]:offsets[d + 1]]``.

    ids     : int32[n_tokens]
    offsets : int64[n_texts + 1]
    """

    ids: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, d: int) -> np.ndarray:
        if not -len(self) <= d < len(self):
            raise IndexError(f"text {d} out of range for a batch of {len(self)}")
        d %= len(self)
        return self.ids[self.offsets[d] : self.offsets[d + 1]]

    def tolist(self) -> list[list[int]]:
        """The ids as one list per text (what ``encode_batch`` returns by default)."""
        ids, offs = self.ids.tolist(), self.offsets.tolist()
        return [ids[offs[d] : offs[d + 1]] for d in range(len(self))]

    @classmethod
    def concatenate(cls, parts: Sequence[Segmentation], add_bos: bool, add_eos: bool) -> TokenBatch:
        """Join the segmentations of consecutive shards, adding ``<bos>``/``<eos>`` ids."""
        ids = np.concatenate([p.ids for p in parts]) if parts else np.zeros(0, np.int32)
        offsets = np.zeros(1, np.int64)
        if parts:
            ends = [p.doc_token_offsets[1:] for p in parts]
            shift = np.cumsum([0] + [len(p.ids) for p in parts[:-1]])
            offsets = np.concatenate([offsets] + [e + s for e, s in zip(ends, shift)])
        step = np.arange(len(offsets), dtype=np.int64)
        if add_bos:
            ids = np.insert(ids, offsets[:-1], 1)
            offsets = offsets + step
        if add_eos:
            ids = np.insert(ids, offsets[1:], 2)
            offsets = offsets + step
        return cls(ids.astype(np.int32, copy=False), offsets)


# The UTF-8 continuation bytes (10xxxxxx), which start no character.
_CONTINUATION = bytes(range(0x80, 0xC0))
# Seeds of the tokenizer's own sampling stream are drawn this many at a time.
_SEED_BLOCK = 64
# encode_batch's default number of threads (asking the system costs microseconds a call).
_CPUS = os.cpu_count() or 1


def _check_alpha(alpha: Any) -> float:
    if type(alpha) is float or type(alpha) is int:  # the usual case, without the ABC check
        if math.isfinite(alpha):
            return float(alpha)
    elif isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(
            f"alpha must be a number (-1 for the best segmentation, >= 0 to sample), "
            f"not {type(alpha).__name__}"
        )
    value = float(alpha)
    if not math.isfinite(value):
        raise ValueError(
            f"alpha must be finite, got {value}: use alpha=-1 for the best segmentation, "
            "or a large alpha to sample close to it"
        )
    return value


def _generator(seed: Any, argument: str = "seed") -> np.random.Generator:
    """``numpy.random.default_rng(seed)``, with an error that names ``argument`` for what it
    does not take."""
    if isinstance(seed, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"{argument} must be a non-negative integer, a numpy.random.Generator or None, "
            f"not {type(seed).__name__}"
        )
    if seed < 0:
        raise ValueError(f"{argument} must be a non-negative integer, got {seed}")
    return np.random.default_rng(seed)


def _nfc_utf8(text: str) -> bytes:
    """The NFC UTF-8 bytes of a ``str``, as :func:`check_text` gives them, sooner."""
    if text.isascii():
        return text.encode()
    try:
        return unicodedata.normalize("NFC", text).encode()
    except UnicodeEncodeError:  # a lone surrogate: the explanatory error
        return check_text(text)


class Tokenizer:
    """Unigram tokenizer over a BytePiece vocabulary (Viterbi segmentation, or sampling).

    Parameters
    ----------
    pieces
        Path to a model file (the reference's JSON, or a ``.zip`` holding one) or the model
        dictionary ``{base64(piece): [id, text, count]}``.
    seed
        Seed of the sampling stream used when ``alpha >= 0`` and no per-call seed is given.

    Examples
    --------
    >>> from bytepiece_core.model import dump_model
    >>> model = dump_model({**{bytes([b]): 1 for b in range(256)}, b"ab": 5})
    >>> tok = Tokenizer(model)
    >>> tok.tokenize("abc")
    [b'ab', b'c']
    >>> tok.encode("abc", add_bos=True)
    [1, 259, 102]
    >>> tok.decode([259, 102])
    'abc'
    """

    def __init__(self, pieces: ModelSource, seed: int | None = None) -> None:
        raw = load_model(pieces)
        by_id, counts = parse_model(raw)
        self._vocab = Vocab.from_pieces(by_id, counts)
        # Results are lists of the objects an id stands for, as Python ints (IDS) or pieces
        # (PIECES): made once here, and the kernels that build the lists (_pylist) take
        # references to them by address. They live as long as the tokenizer.
        self._objects = (tuple(range(self._vocab.size)), self._vocab.pieces)
        self._addresses = tuple(addresses_of(objects) for objects in self._objects)
        # Short texts are segmented in one workspace holding its own copy of the trie and of
        # its automaton, the scratch space and the objects' addresses (one array to pass
        # rather than many). Its kernels hold the GIL, so threads take turns with it. Longer
        # texts go through Vocab.encode_bytes, whose call cost is small beside them.
        v = self._vocab
        self._work = work = short_workspace(
            v.cells, v.pairs, v.value, v.automaton, *self._addresses
        )
        self._short_kernel = entry_point(_encode_short, b"", work, IDS)
        self._sample_kernel = entry_point(_sample_short, b"", work, IDS, 0.0, np.uint64(0))
        # A text of one byte (one ASCII character) has one segmentation: its ids, made once
        # by the kernel for each of the 128, save a kernel call on such lines (a quarter of
        # plain text's lines are just a newline), where the call is all the cost.
        self._one_byte: tuple[list[int], ...] = tuple(
            self._in_workspace(bytes([b]), -1.0, np.uint64(0), IDS) for b in range(128)
        )
        self._piece2id: dict[bytes | str, int] = {p: i + N_SPECIAL for i, p in enumerate(by_id)}
        for i, name in enumerate(SPECIAL_TOKENS):
            self._piece2id[name] = i
        self._counts = counts
        self.vocab_size: int = len(by_id) + N_SPECIAL
        self._rng = np.random.default_rng() if seed is None else _generator(seed)
        # seeds drawn ahead from the stream and not used yet, the next one last
        self._seed_stack: list[int] = []

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its model and sampling stream: what it holds besides them (the trie, the
        addresses of its objects) belongs to one process and is rebuilt on loading."""
        return _restore, (self.to_dict(), self._rng, self._seed_stack)

    @classmethod
    def from_pretrained(
        cls, name: str = "bytepiece.plus.40k", seed: int | None = None
    ) -> Tokenizer:
        """A model bundled with the package (see :func:`bytepiece_core.pretrained.available`).

        >>> [p.decode() for p in Tokenizer.from_pretrained().tokenize("今天天气不错")]
        ['今天', '天', '气', '不错']
        """
        return cls(model_path(name), seed=seed)

    # -- the vocabulary ---------------------------------------------------------------------

    @property
    def vocab(self) -> Vocab:
        """The frozen flat-array vocabulary (pieces, counts, scores, trie)."""
        return self._vocab

    def to_dict(self) -> dict[str, list[Any]]:
        """The model dictionary (the reference's JSON format)."""
        pieces = self._vocab.pieces[N_SPECIAL:]
        return dump_model(dict(zip(pieces, self._counts)))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model as the reference's JSON file (atomically)."""
        write_model(self.to_dict(), path)

    # -- interoperation (bytepiece_core.export) -----------------------------------------

    def to_sentencepiece(self, path: str | os.PathLike[str]) -> None:
        """Write a SentencePiece unigram model with the same ids (needs ``sentencepiece`` and
        ``protobuf``); see :mod:`bytepiece_core.export` for what cannot match."""
        from .export import to_sentencepiece

        to_sentencepiece(self._vocab, path)

    def to_huggingface(self, path: str | os.PathLike[str]) -> None:
        """Write a ``tokenizer.json`` for HF ``tokenizers`` / ``PreTrainedTokenizerFast`` that
        gives the same ids (see :mod:`bytepiece_core.export`)."""
        from .export import to_huggingface

        to_huggingface(self._vocab, path)

    @classmethod
    def from_vocab(
        cls,
        pieces: dict[str, int] | dict[bytes, int],
        max_vocab_size: int | None = None,
        *,
        seed: int | None = None,
        workers: int = 1,
    ) -> Tokenizer:
        """A tokenizer from a piece-frequency dictionary (the reference's
        ``convert_to_bytepiece``): the 256 bytes completed, wasted pieces pruned.

        >>> tok = Tokenizer.from_vocab({"今天": 10, "天气": 8, "不错": 5})
        >>> [p.decode() for p in tok.tokenize("今天天气不错")]
        ['今天', '天气', '不错']
        """
        from ._training.prune import from_vocab  # training's pruning: imported only here

        return cls(dump_model(from_vocab(pieces, max_vocab_size, workers=workers)), seed=seed)

    def set_seed(self, seed: int | None) -> None:
        """Reseed the sampling stream (``None`` leaves it as it is, like the reference)."""
        if seed is not None:
            self._rng = _generator(seed)
            self._seed_stack = []  # drawn ahead from the stream, unused

    def piece_to_id(self, p: bytes | str) -> int:
        """Id of a piece (bytes) or of a special token (``'<pad>'``, ``'<bos>'``, ``'<eos>'``)."""
        try:
            return self._piece2id[p]
        except (KeyError, TypeError):
            raise UnknownPieceError(
                f"{p!r} is not a piece of this vocabulary (pieces are bytes, e.g. "
                f"{b'x'!r}; special tokens are {', '.join(SPECIAL_TOKENS)})"
            ) from None

    def id_to_piece(self, i: int) -> bytes | str:
        """The piece (bytes) of an id, or the special token's name for ids 0, 1, 2."""
        self._check_id(i)
        return SPECIAL_TOKENS[i] if i < N_SPECIAL else self._vocab.pieces[i]

    def pieces_to_ids(self, pieces: Iterable[bytes | str]) -> list[int]:
        """Ids of several pieces."""
        return [self.piece_to_id(p) for p in pieces]

    def ids_to_pieces(self, ids: Iterable[int]) -> list[bytes | str]:
        """Pieces of several ids."""
        return [self.id_to_piece(i) for i in ids]

    def _check_id(self, i: Any) -> None:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"token ids are integers, got {i!r} ({type(i).__name__})")
        if not 0 <= i < self.vocab_size:
            raise UnknownPieceError(
                f"token id {i} is out of range: this vocabulary has ids 0..{self.vocab_size - 1}"
            )

    # -- segmentation -----------------------------------------------------------------------

    def _seeds(self, n: int, seed: SeedLike) -> np.ndarray:
        """``n`` uint64 sampling seeds: from ``seed``, or the next ``n`` of the tokenizer's
        stream. The stream is drawn ahead in blocks (one draw costs microseconds); a block's
        values are the ones single draws would give, in the same order, so results do not
        depend on how calls split the stream."""
        if type(seed) is int and seed >= 0:
            # default_rng(seed).integers(0, 2**64, n, np.uint64) is PCG64(seed)'s raw output
            # (the full range is drawn without rejection); building the bit generator alone
            # costs half as much as building the Generator
            return np.random.PCG64(seed).random_raw(n)  # type: ignore[no-any-return]
        if seed is not None:
            return _generator(seed).integers(0, 2**64, size=n, dtype=np.uint64)
        taken = self._seed_stack[::-1]  # in the stream's order
        if n > len(taken):
            more = self._rng.integers(0, 2**64, size=n - len(taken) + _SEED_BLOCK, dtype=np.uint64)
            taken += more.tolist()
        self._seed_stack = taken[n:][::-1]
        return np.array(taken[:n], np.uint64)

    def _next_seed(self) -> int:
        """The stream's next seed: ``int(self._seeds(1, None)[0])``, sooner."""
        stack = self._seed_stack
        if not stack:
            more = self._rng.integers(0, 2**64, size=_SEED_BLOCK, dtype=np.uint64)
            stack = self._seed_stack = more[::-1].tolist()
        return stack.pop()

    def _list(self, ids: np.ndarray, kind: int) -> list[Any]:
        """The list of the ids (``kind == IDS``) or pieces (``PIECES``) of an id array."""
        return list_of(ids, self._addresses[kind])  # type: ignore[no-any-return]

    def _in_workspace(
        self, data: bytes, alpha: float, seed: int | np.uint64, kind: int
    ) -> list[Any]:
        """The ids or pieces (``kind``) of ``data`` (at most ``_SHORT_BYTES`` bytes),
        segmented in the workspace: best (``alpha < 0``) or sampled."""
        if alpha < 0:
            return self._short_kernel(data, self._work, kind)  # type: ignore[no-any-return]
        return self._sample_kernel(data, self._work, kind, alpha, seed)  # type: ignore[no-any-return]

    def _other(self, text: Any, alpha: Any, seed: SeedLike, kind: int) -> list[Any]:
        """The ids or pieces (``kind``) of ``text`` for arguments off ``encode``'s hot path:
        checked, sampled or long."""
        data = check_text(text)
        a = _check_alpha(alpha)
        s: int | np.uint64 = 0
        if a >= 0:  # the seed of default_rng(seed)'s first draw, or the stream's next one
            if seed is None:
                s = self._next_seed()
            elif type(seed) is int and seed >= 0:
                s = first_draw(seed)
            else:
                s = self._seeds(1, seed)[0]
        if not data:
            return []
        if len(data) <= _SHORT_BYTES:
            return self._in_workspace(data, a, s, kind)
        return self._list(self._vocab.encode_bytes(data, a, int(s)), kind)

    @overload
    def tokenize(
        self, text: str, alpha: float = ..., iter: Literal[False] = ..., *, seed: SeedLike = ...
    ) -> list[bytes]: ...
    @overload
    def tokenize(
        self, text: str, alpha: float = ..., iter: Literal[True] = ..., *, seed: SeedLike = ...
    ) -> Iterator[bytes]: ...

    def tokenize(
        self, text: str, alpha: float = -1, iter: bool = False, *, seed: SeedLike = None
    ) -> list[bytes] | Iterator[bytes]:
        """Split ``text`` into pieces (bytes).

        ``alpha < 0`` (default) gives the best segmentation; ``alpha >= 0`` samples one with
        probability proportional to ``prod p(piece) ** alpha`` (``0``: uniform). ``seed`` makes
        this call's sample reproducible; without it the tokenizer's own stream is used.

        >>> from bytepiece_core.model import dump_model
        >>> tok = Tokenizer(dump_model({**{bytes([b]): 1 for b in range(256)}, b"ab": 5}))
        >>> tok.tokenize("ab\\nab")
        [b'ab', b'\\n', b'ab']
        """
        tokens: list[bytes]
        if type(text) is str and alpha == -1 and type(alpha) is int:  # as encode's hot path
            data = _nfc_utf8(text)
            if 0 < len(data) <= _SHORT_BYTES:
                tokens = self._short_kernel(data, self._work, PIECES)
            else:
                tokens = self._list(self._vocab.encode_bytes(data), PIECES) if data else []
        else:
            tokens = self._other(text, alpha, seed, PIECES)
        return tokens.__iter__() if iter else tokens

    @overload
    def encode(
        self,
        text: str,
        add_bos: bool = ...,
        add_eos: bool = ...,
        alpha: float = ...,
        iter: Literal[False] = ...,
        *,
        seed: SeedLike = ...,
    ) -> list[int]: ...
    @overload
    def encode(
        self,
        text: str,
        add_bos: bool = ...,
        add_eos: bool = ...,
        alpha: float = ...,
        iter: Literal[True] = ...,
        *,
        seed: SeedLike = ...,
    ) -> Iterator[int]: ...

    def encode(
        self,
        text: str,
        add_bos: bool = False,
        add_eos: bool = False,
        alpha: float = -1,
        iter: bool = False,
        *,
        seed: SeedLike = None,
    ) -> list[int] | Iterator[int]:
        """Token ids of ``text`` (``alpha`` and ``seed`` as in :meth:`tokenize`).

        >>> from bytepiece_core.model import dump_model
        >>> tok = Tokenizer(dump_model({**{bytes([b]): 1 for b in range(256)}, b"ab": 5}))
        >>> tok.encode("abc", add_eos=True)
        [259, 102, 2]
        """
        if type(text) is str and alpha == -1 and type(alpha) is int:
            # The hot path (default arguments), written out (_nfc_utf8 inlined): most calls
            # get one short line, and for those the Python around the kernel is most of the
            # time.
            if text.isascii():
                data = text.encode()
            else:
                try:
                    data = unicodedata.normalize("NFC", text).encode()
                except UnicodeEncodeError:  # a lone surrogate: the explanatory error
                    data = check_text(text)
            n = len(data)
            if 1 < n <= _SHORT_BYTES:
                ids = self._short_kernel(data, self._work, IDS)
            elif n == 1:
                ids = self._one_byte[data[0]].copy()
            else:
                ids = self._list(self._vocab.encode_bytes(data), IDS) if n else []
        else:
            ids = self._other(text, alpha, seed, IDS)
        if add_bos:
            ids.insert(0, 1)
        if add_eos:
            ids.append(2)
        return ids.__iter__() if iter else ids

    def encode_with_offsets(
        self, text: str, alpha: float = -1, *, seed: SeedLike = None
    ) -> Encoding:
        """Token ids with the byte and character span of each token in the normalized text.

        >>> from bytepiece_core.model import dump_model
        >>> tok = Tokenizer(dump_model({**{bytes([b]): 1 for b in range(256)}, b"ab": 5}))
        >>> enc = tok.encode_with_offsets("abé")
        >>> enc.byte_offsets, enc.char_offsets
        ([(0, 2), (2, 3), (3, 4)], [(0, 2), (2, 3), (2, 3)])
        """
        data = check_text(text)
        ids = self.encode(text, alpha=alpha, seed=seed)
        pieces = self._vocab.pieces
        tokens = [pieces[i] for i in ids]
        ends = list(accumulate(map(len, tokens)))
        byte_offsets = list(zip([0, *ends[:-1]], ends))
        if data.isascii():
            char_offsets = byte_offsets
        else:
            # a token ends after the characters that start in it and before it; it starts at
            # the character its first byte starts, or is inside (a continuation byte)
            starts = [len(p.translate(None, _CONTINUATION)) for p in tokens]
            char_ends = list(accumulate(starts))
            char_offsets = [
                (e - c - (p[0] & 0xC0 == 0x80), e) for p, c, e in zip(tokens, starts, char_ends)
            ]
        return Encoding(data.decode(), ids, tokens, byte_offsets, char_offsets)

    def lattice(self, text: str, alpha: float = 1.0) -> Lattice:
        """The segmentation lattice of ``text``: every vocabulary match, the best path, and
        under ``p(seg) ∝ exp(alpha * Σ logp)`` the edge marginals, boundary probabilities,
        entropy (bits) and the log number of segmentations. See :class:`Lattice`.

        >>> from bytepiece_core.model import dump_model
        >>> tok = Tokenizer(dump_model({**{bytes([b]): 1 for b in range(256)}, b"ab": 5}))
        >>> lat = tok.lattice("ab", alpha=0)
        >>> lat.pieces, round(lat.entropy, 6), round(math.exp(lat.log_count))
        ([b'a', b'ab', b'b'], 1.0, 2)
        >>> lat.marginals.round(2).tolist(), lat.boundary_prob.round(2).tolist()
        ([0.5, 0.5, 0.5], [1.0, 0.5, 1.0])
        """
        a = _check_alpha(alpha)
        if a < 0:
            raise ValueError(
                f"alpha must be >= 0 for a lattice (0: uniform over segmentations), got {a}"
            )
        data = check_text(text)
        seg = self._vocab.segment((data, np.array([0, len(data)], np.int64)), newline_chunks=True)
        return build_lattice(self._vocab, data, a, seg.ends)

    @overload
    def encode_batch(
        self,
        texts: Sequence[str],
        add_bos: bool = ...,
        add_eos: bool = ...,
        alpha: float = ...,
        *,
        seed: SeedLike = ...,
        num_threads: int | None = ...,
        as_arrays: Literal[False] = ...,
    ) -> list[list[int]]: ...
    @overload
    def encode_batch(
        self,
        texts: Sequence[str],
        add_bos: bool = ...,
        add_eos: bool = ...,
        alpha: float = ...,
        *,
        seed: SeedLike = ...,
        num_threads: int | None = ...,
        as_arrays: Literal[True],
    ) -> TokenBatch: ...

    def encode_batch(
        self,
        texts: Sequence[str],
        add_bos: bool = False,
        add_eos: bool = False,
        alpha: float = -1,
        *,
        seed: SeedLike = None,
        num_threads: int | None = None,
        as_arrays: bool = False,
    ) -> list[list[int]] | TokenBatch:
        """Token ids of many texts, segmented on ``num_threads`` threads (default: all cores;
        one for a batch of fewer than 32,768 characters, where a thread costs more than it
        saves).

        The kernel releases the GIL, so threads run in parallel. Results do not depend on the
        number of threads, sampled ones included (each text gets its own seed from the stream).
        Turning ids into Python lists holds the GIL; ``as_arrays=True`` returns them flat in a
        :class:`TokenBatch` instead, which scales better with threads.

        >>> from bytepiece_core.model import dump_model
        >>> tok = Tokenizer(dump_model({**{bytes([b]): 1 for b in range(256)}, b"ab": 5}))
        >>> tok.encode_batch(["ab", "ba"], num_threads=2)
        [[259], [101, 100]]
        >>> tok.encode_batch(["ab", "ba"], add_bos=True, as_arrays=True)[1].tolist()
        [1, 101, 100]
        """
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(
                "texts must be a sequence (e.g. a list) of str; for one text use encode()"
            )
        a = _check_alpha(alpha)
        if num_threads is None:
            num_threads = _CPUS
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
        n = len(texts)
        seeds = self._seeds(n, seed) if a >= 0 else None
        num_threads = threads_for(texts, num_threads)
        bounds = shard_bounds(n, num_threads)
        n_shards = len(bounds) - 1
        vocab = self._vocab

        def segment(shard: int) -> Segmentation:
            lo, hi = bounds[shard], bounds[shard + 1]
            shard_seeds = None if seeds is None else seeds[lo:hi]
            joined = join_texts(texts, lo, hi)
            if joined is not None:
                seg = vocab.segment_joined(joined, hi - lo, alpha=a, seeds=shard_seeds)
                if seg is not None:
                    return seg
            return vocab.segment(
                prepare_texts(texts, lo, hi),
                newline_chunks=True,
                alpha=a,
                seeds=shard_seeds,
                with_ends=False,
            )

        ints = self._addresses[IDS]
        bos, eos = ints[1] if add_bos else 0, ints[2] if add_eos else 0

        def lists(shard: int) -> list[list[int]]:
            seg = segment(shard)
            return lists_of(seg.ids, seg.doc_token_offsets, ints, bos, eos)  # type: ignore[no-any-return]

        # A thread joins a shard's texts (holding the GIL), segments them (without it) and
        # builds the shard's lists (with it), so one thread's Python work overlaps the other
        # threads' kernels; the shards shrink towards the end, so the threads finish together.
        if as_arrays:
            parts = map_shards(segment, n_shards, num_threads)
            return TokenBatch.concatenate(parts, add_bos, add_eos)
        result: list[list[int]] = []
        for part in map_shards(lists, n_shards, num_threads):
            result += part
        return result

    def decode(self, ids: Iterable[int]) -> str:
        """The text of a sequence of ids (special tokens are skipped; broken UTF-8 is dropped).

        >>> from bytepiece_core.model import dump_model
        >>> tok = Tokenizer(dump_model({bytes([b]): 1 for b in range(256)}))
        >>> tok.decode([1, 107, 108, 2])
        'hi'
        """
        seq = ids if isinstance(ids, (list, tuple, np.ndarray)) else list(ids)
        if len(seq) == 0:
            return ""
        arr = np.asarray(seq)
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            bad = next(
                (i for i in seq if isinstance(i, bool) or not isinstance(i, (int, np.integer))), seq
            )
            raise TypeError(f"ids must be a flat sequence of integers, got {bad!r}")
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= self.vocab_size:
            bad_id = lo if lo < 0 else hi
            raise UnknownPieceError(
                f"token id {bad_id} is out of range: "
                f"this vocabulary has ids 0..{self.vocab_size - 1}"
            )
        pieces = self._vocab.pieces
        return b"".join([pieces[i] for i in arr.tolist()]).decode("utf-8", errors="ignore")

    def __repr__(self) -> str:
        return f"Tokenizer(vocab_size={self.vocab_size})"


def _restore(
    model: dict[str, list[Any]], rng: np.random.Generator, seed_stack: list[int]
) -> Tokenizer:
    """A pickled :class:`Tokenizer` (see ``Tokenizer.__reduce__``)."""
    tok = Tokenizer(model)
    tok._rng, tok._seed_stack = rng, seed_stack
    return tok
