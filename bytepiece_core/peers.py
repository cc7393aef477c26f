"""Peer tokenizers trained on the same corpus, side by side with a BytePiece model.

:func:`train_peers` trains SentencePiece unigram and BPE models and an HF ``tokenizers``
byte-level BPE model of a given vocabulary size, in memory (no files left behind).
:func:`compare_tokenizations` lays out the tokens of one text as byte and character spans, and
:func:`compare_metrics` puts compression and bits per byte side by side on held-out text.
Bits per byte are ``-(1/bytes) * sum log2 p(token)`` where a model has token log-probabilities
(BytePiece, SentencePiece unigram); BPE merges have none (NaN).
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .utf8 import char_index

if TYPE_CHECKING:
    from .tokenizer import Tokenizer

__all__ = [
    "PEER_KINDS",
    "Peer",
    "compare_metrics",
    "compare_tokenizations",
    "sentencepiece_coverage",
    "train_peers",
]

PEER_KINDS = ("sp_unigram", "sp_bpe", "hf_bpe")
# SentencePiece's usual character coverage, used whenever the vocabulary has room for it, and
# the least it accepts.
SP_COVERAGE = 0.9995
SP_MIN_COVERAGE = 0.98
# Ids a SentencePiece model with byte fallback holds besides characters and merges: <unk>,
# <s>, </s> and the 256 bytes; plus a margin, as its character count differs a little from ours.
_SP_RESERVED = 3 + 256 + 16


@dataclass(frozen=True)
class Peer:
    """A trained peer tokenizer.

    name  : one of :data:`PEER_KINDS`
    model : the ``sentencepiece.SentencePieceProcessor`` or ``tokenizers.Tokenizer``
    """

    name: str
    model: Any

    @property
    def vocab_size(self) -> int:
        """Number of ids."""
        if self.name.startswith("sp_"):
            return int(self.model.get_piece_size())
        return int(self.model.get_vocab_size())

    def spans(self, text: str) -> tuple[list[int], list[tuple[int, int]], float]:
        """Token ids, byte spans into ``text.encode()`` and the sum of log-probabilities (nats;
        NaN for BPE models)."""
        if self.name.startswith("sp_"):
            proto = self.model.encode(text, return_type="proto")
            ids = [p.id for p in proto.pieces]
            spans = [(p.begin, p.end) for p in proto.pieces]
            if self.name == "sp_unigram":
                logp = float(sum(self.model.get_score(i) for i in ids))
            else:
                logp = math.nan
            return ids, spans, logp
        # byte-level tokens: each token's characters are its bytes (offsets are characters)
        from .export import bytes_to_unicode

        byte_of = {c: b for b, c in bytes_to_unicode().items()}
        enc = self.model.encode(text, add_special_tokens=False)
        ends = np.cumsum([sum(1 for c in t if c in byte_of) for t in enc.tokens], dtype=np.int64)
        starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        return list(enc.ids), list(zip(starts.tolist(), ends.tolist())), math.nan


def _char_offsets(text: str) -> np.ndarray:
    """``out[b]`` = index of the character holding byte ``b`` of ``text.encode()`` (+ end)."""
    return np.concatenate([char_index(np.frombuffer(text.encode(), np.uint8)), [len(text)]])


def sentencepiece_coverage(texts: Sequence[str], vocab_size: int) -> float | None:
    """The ``character_coverage`` SentencePiece can train ``vocab_size`` ids with on ``texts``.

    SentencePiece keeps every character of the most frequent ones that cover this share of the
    text, and refuses to train ("Vocabulary size is smaller than required_chars") when they
    leave no room in the vocabulary. This is its usual 0.9995 where the vocabulary has room,
    else the share the most frequent characters that fit cover (the others are spelled in
    bytes); None where that share is under the 0.98 SentencePiece accepts, or the vocabulary
    has no room for characters besides its 259 fixed ids.

    >>> sentencepiece_coverage(["ab" * 50 + "c"], 8000)
    0.9995
    >>> round(sentencepiece_coverage(["a" * 990 + "b" * 10], 3 + 256 + 16 + 1), 3)
    0.99
    >>> sentencepiece_coverage(["a" * 60 + "b" * 40], 3 + 256 + 16 + 1) is None
    True
    """
    room = vocab_size - _SP_RESERVED
    if room < 1:
        return None
    counts = Counter("".join(texts).replace("\n", ""))
    ranked = sorted(counts.values(), reverse=True)
    total = sum(ranked)
    if len(ranked) <= room or total == 0:
        return SP_COVERAGE
    covered = sum(ranked[:room]) / total
    if covered < SP_MIN_COVERAGE:
        return None
    return min(SP_COVERAGE, covered * (1 - 1e-9))


def train_peers(
    texts: Sequence[str],
    vocab_size: int,
    kinds: Iterable[str] = PEER_KINDS,
    *,
    num_threads: int = 1,
    character_coverage: float | None = None,
) -> dict[str, Peer]:
    """Train peer tokenizers of ``vocab_size`` ids on ``texts`` (one document each).

    SentencePiece models use byte fallback, identity normalization and no dummy prefix, so
    their spans index the text as given; ``hard_vocab_limit`` is off (a small corpus may give
    a smaller vocabulary); ``character_coverage`` is theirs (characters outside it are spelled
    in bytes); by default :func:`sentencepiece_coverage` chooses it for the corpus and size
    (``ValueError`` when the size is too small for SentencePiece at all). The HF model is a
    byte-level BPE (its trainer's threads are set by ``RAYON_NUM_THREADS``).

    >>> peers = train_peers(["the cat sat on the mat"] * 50, 300, kinds=["sp_bpe"])
    >>> peers["sp_bpe"].vocab_size <= 300
    True
    """
    kinds = list(kinds)
    unknown = sorted(set(kinds) - set(PEER_KINDS))
    if unknown:
        raise ValueError(f"unknown peer kinds {unknown}: choose from {list(PEER_KINDS)}")
    if isinstance(texts, str) or not texts:
        raise ValueError("texts must be a non-empty list of str (one document each)")
    peers = {}
    for kind in kinds:
        if kind.startswith("sp_"):
            coverage = character_coverage
            if coverage is None:
                coverage = sentencepiece_coverage(texts, vocab_size)
            if coverage is None:
                raise ValueError(
                    f"SentencePiece cannot train {vocab_size:,} ids on this corpus: besides "
                    f"its {3 + 256} fixed ids (<unk>, <s>, </s>, the 256 bytes) it must keep the "
                    f"characters that cover {SP_MIN_COVERAGE:.0%} of the text, and they do not "
                    "fit; a larger size would"
                )
            peers[kind] = Peer(
                kind, _train_sentencepiece(texts, vocab_size, kind, num_threads, coverage)
            )
        else:
            peers[kind] = Peer(kind, _train_hf_bpe(texts, vocab_size))
    return peers


def _train_sentencepiece(
    texts: Sequence[str], vocab_size: int, kind: str, threads: int, coverage: float
) -> Any:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([t for t in texts if t.strip()]),
        model_writer=model,
        model_type="unigram" if kind == "sp_unigram" else "bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        character_coverage=coverage,
        normalization_rule_name="identity",
        add_dummy_prefix=False,
        remove_extra_whitespaces=False,
        hard_vocab_limit=False,
        max_sentence_length=1 << 20,
        num_threads=threads,
        minloglevel=2,
    )
    return spm.SentencePieceProcessor(model_proto=model.getvalue())


def _train_hf_bpe(texts: Sequence[str], vocab_size: int) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<pad>", "<bos>", "<eos>"],
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def _ours(tok: Tokenizer, text: str) -> tuple[list[int], list[tuple[int, int]], float]:
    enc = tok.encode_with_offsets(text)
    logp = float(tok.vocab.logp[enc.ids].sum()) if enc.ids else 0.0
    return enc.ids, enc.byte_offsets, logp


def _named(tok: Tokenizer | Mapping[str, Tokenizer]) -> dict[str, Tokenizer]:
    """Our model(s) by name: one ``Tokenizer`` is called ``bytepiece``."""
    return dict(tok) if isinstance(tok, Mapping) else {"bytepiece": tok}


def _all(tok: Tokenizer | Mapping[str, Tokenizer], peers: dict[str, Peer]) -> dict[str, Any]:
    runs: dict[str, Any] = {
        name: (lambda text, t=t: _ours(t, text)) for name, t in _named(tok).items()
    }
    runs.update({name: peer.spans for name, peer in peers.items()})
    return runs


def compare_tokenizations(
    text: str, tok: Tokenizer | Mapping[str, Tokenizer], peers: dict[str, Peer]
) -> pd.DataFrame:
    """One row per token of ``text`` for each tokenizer: its id, text and spans. ``tok`` is
    our model (named ``bytepiece``) or several of ours by name.

    Columns: ``tokenizer``, ``index``, ``id``, ``token`` (the token's bytes decoded with
    replacement), ``byte_start``, ``byte_end``, ``char_start``, ``char_end``, ``n_tokens``
    (tokens of this tokenizer on the text). Spans index ``text`` (NFC; SentencePiece's
    byte-fallback tokens of one character each get that character's span).

    >>> from bytepiece_core import Tokenizer
    >>> tok = Tokenizer.from_vocab({"ab": 5})
    >>> compare_tokenizations("abc", tok, {})[["token", "byte_start", "byte_end"]].values.tolist()
    [['ab', 0, 2], ['c', 2, 3]]
    """
    from ._normalize import normalize

    text = normalize(text)
    data = text.encode()
    char_at = _char_offsets(text)
    frames = []
    for name, run in _all(tok, peers).items():
        ids, spans, _ = run(text)
        starts = np.array([s for s, _ in spans], np.int64)
        ends = np.array([e for _, e in spans], np.int64)
        char_end = np.where(ends > 0, char_at[np.maximum(ends - 1, 0)] + 1, 0)
        char_end = np.where(ends == starts, char_at[starts], char_end)
        frames.append(
            pd.DataFrame(
                {
                    "tokenizer": name,
                    "index": np.arange(len(ids)),
                    "id": ids,
                    "token": [data[s:e].decode(errors="replace") for s, e in spans],
                    "byte_start": starts,
                    "byte_end": ends,
                    "char_start": char_at[starts] if len(starts) else starts,
                    "char_end": char_end,
                    "n_tokens": len(ids),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def compare_metrics(
    texts: Sequence[str], tok: Tokenizer | Mapping[str, Tokenizer], peers: dict[str, Peer]
) -> pd.DataFrame:
    """Compression and bits per byte of each tokenizer on held-out ``texts`` (``tok``: our
    model, named ``bytepiece``, or several of ours by name).

    One row per tokenizer (index ``tokenizer``); columns ``vocab_size``, ``tokens``,
    ``bytes``, ``bytes_per_token``, ``chars_per_token``, ``bits_per_byte`` (NaN for BPE).

    >>> from bytepiece_core import Tokenizer
    >>> tok = Tokenizer.from_vocab({"ab": 5})
    >>> compare_metrics(["abab"], tok, {})["bytes_per_token"].tolist()
    [2.0]
    """
    from ._normalize import normalize

    texts = [normalize(t) for t in texts]
    n_bytes = sum(len(t.encode()) for t in texts)
    n_chars = sum(len(t) for t in texts)
    ours = {n: t.vocab_size for n, t in _named(tok).items()}
    sizes = {**ours, **{n: p.vocab_size for n, p in peers.items()}}
    rows = []
    for name, run in _all(tok, peers).items():
        n_tokens, logp = 0, 0.0
        for text in texts:
            ids, _, lp = run(text)
            n_tokens += len(ids)
            logp += lp
        rows.append(
            {
                "tokenizer": name,
                "vocab_size": sizes[name],
                "tokens": n_tokens,
                "bytes": n_bytes,
                "bytes_per_token": n_bytes / max(n_tokens, 1),
                "chars_per_token": n_chars / max(n_tokens, 1),
                "bits_per_byte": -logp / math.log(2) / max(n_bytes, 1),
            }
        )
    return pd.DataFrame(rows).set_index("tokenizer")
