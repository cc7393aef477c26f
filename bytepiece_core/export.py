"""Interoperation: export a vocabulary to SentencePiece and HF ``tokenizers``, import a
piece-frequency dictionary (the reference's ``convert_to_sentencepiece`` and
``convert_to_bytepiece``).

Both exports keep the ids: token id ``i`` of the exported tokenizer is token id ``i`` here.

SentencePiece (:func:`to_sentencepiece`) segments *characters*: a piece must be valid UTF-8,
and bytes only appear through byte fallback, for a character no piece starts with. The model
is a unigram model with byte fallback and the identity normalizer: a piece that is a valid
string is a ``NORMAL`` piece with its score (stored as float32), a single byte 0x80..0xFF is the
``BYTE`` piece ``<0xXX>`` at its own id, and any other piece (a multi-byte piece that is not
valid UTF-8, only found in models trained with ``ensure_unicode=False``) is an ``UNUSED``
placeholder that never matches. The ``BYTE`` pieces of the 128 ASCII bytes get ids after the
vocabulary (they are never produced: every ASCII character is a ``NORMAL`` piece). What cannot
match exactly:

- a character that no piece starts with is an unknown character to SentencePiece, scored
  ``min_score - 10`` and spelled in bytes; here its bytes have their own scores, so a path
  through such a character can be ranked differently;
- scores and their sums are float32 in SentencePiece (float64 here): near-ties can flip;
- no NFC: SentencePiece has no NFC rule, so text must be NFC already;
- pieces that are not valid UTF-8 (``ensure_unicode=False`` models) cannot be produced.

HF ``tokenizers`` (:func:`to_huggingface`) has a byte-level pre-tokenizer, which turns every
byte into one character, so the exported Unigram model holds every piece, valid UTF-8 or not,
and segments bytes exactly as this package does: NFC normalizer, a ``Split`` after every
newline run (the chunks of ALGORITHM.md 1), ``ByteLevel`` (no prefix space, no regex) and the
scores as float64. The Viterbi of ``tokenizers`` keeps, among equally scored paths, the longest
last piece, as the reference does. The special tokens ``<pad>``, ``<bos>``, ``<eos>`` are
added tokens: a text holding them literally gets their ids (here: their bytes).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .model import SPECIAL_TOKENS
from .utf8 import is_whole_utf8
from .vocab import N_SPECIAL, Vocab

__all__ = [
    "HasVocab",
    "bytes_to_unicode",
    "huggingface_json",
    "sentencepiece_proto",
    "to_huggingface",
    "to_sentencepiece",
]


class HasVocab(Protocol):
    """Anything that holds a :class:`~bytepiece_core.vocab.Vocab` (a ``Tokenizer``)."""

    @property
    def vocab(self) -> Vocab: ...


def _vocab_of(source: Vocab | HasVocab) -> Vocab:
    return source if isinstance(source, Vocab) else source.vocab


# SentencePiece's ModelProto.SentencePiece.Type values.
_NORMAL, _UNKNOWN, _CONTROL, _UNUSED, _BYTE = 1, 2, 3, 5, 6
# Names of SentencePiece's special pieces (ids 0, 1, 2).
SP_SPECIALS = ("<unk>", "<s>", "</s>")


def _decodes(piece: bytes) -> str | None:
    return piece.decode("utf-8") if is_whole_utf8(piece) else None


def _unique_names(names: tuple[str, ...], taken: set[str]) -> list[str]:
    """``names``, each suffixed with ``_`` until it is not in ``taken``."""
    out = []
    for name in names:
        while name in taken:
            name = name[:-1] + "_" + name[-1]
        out.append(name)
        taken.add(name)
    return out


def sentencepiece_proto(tok: Vocab | HasVocab) -> Any:
    """The SentencePiece ``ModelProto`` of a tokenizer (see the module docstring).

    Parameters
    ----------
    tok
        The tokenizer to export.

    Returns
    -------
    sentencepiece.sentencepiece_model_pb2.ModelProto
        A unigram model with byte fallback and identity normalization whose ids are ``tok``'s.

    Examples
    --------
    >>> from bytepiece_core import Tokenizer
    >>> from bytepiece_core.model import dump_model
    >>> tok = Tokenizer(dump_model({**{bytes([b]): 1 for b in range(256)}, b"ab": 5}))
    >>> proto = sentencepiece_proto(tok)
    >>> [p.piece for p in proto.pieces[:3]], proto.pieces[259].piece
    (['<unk>', '<s>', '</s>'], 'ab')
    """
    import importlib

    # generated protobuf module: its classes are made at import time (no type stubs)
    pb: Any = importlib.import_module("sentencepiece.sentencepiece_model_pb2")

    SentencePiece = pb.ModelProto.SentencePiece
    vocab = _vocab_of(tok)
    texts = [_decodes(p) for p in vocab.pieces]
    taken = {t for t in texts[N_SPECIAL:] if t is not None}
    taken |= {f"<0x{b:02X}>" for b in range(256)}
    specials = _unique_names(SP_SPECIALS, taken)
    pieces = [
        SentencePiece(piece=specials[0], score=0.0, type=_UNKNOWN),
        SentencePiece(piece=specials[1], score=0.0, type=_CONTROL),
        SentencePiece(piece=specials[2], score=0.0, type=_CONTROL),
    ]
    logp = vocab.logp.tolist()
    for i in range(N_SPECIAL, vocab.size):
        piece, text = vocab.pieces[i], texts[i]
        if text is not None and piece != b"\x00":
            pieces.append(SentencePiece(piece=text, score=logp[i], type=_NORMAL))
        elif len(piece) == 1:
            pieces.append(SentencePiece(piece=f"<0x{piece[0]:02X}>", score=0.0, type=_BYTE))
        else:  # not valid UTF-8: a placeholder that never matches, keeping the ids
            (name,) = _unique_names((f"<bytepiece:{i}>",), taken)
            pieces.append(SentencePiece(piece=name, score=logp[i], type=_UNUSED))
    # SentencePiece ignores a NORMAL piece "\0" (and then needs <0x00>), so 0x00 is a BYTE piece
    pieces += [SentencePiece(piece=f"<0x{b:02X}>", score=0.0, type=_BYTE) for b in range(1, 128)]
    trainer_spec = pb.TrainerSpec(
        model_type=pb.TrainerSpec.UNIGRAM,
        vocab_size=len(pieces),
        byte_fallback=True,
        split_by_unicode_script=False,
        split_by_whitespace=False,
        split_by_number=False,
        split_digits=False,
        treat_whitespace_as_suffix=False,
        unk_piece=specials[0],
        bos_piece=specials[1],
        eos_piece=specials[2],
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
    )
    normalizer_spec = pb.NormalizerSpec(
        name="identity",
        precompiled_charsmap=b"",
        add_dummy_prefix=False,
        remove_extra_whitespaces=False,
        escape_whitespaces=False,
    )
    return pb.ModelProto(pieces=pieces, trainer_spec=trainer_spec, normalizer_spec=normalizer_spec)


def to_sentencepiece(tok: Vocab | HasVocab, path: str | os.PathLike[str]) -> None:
    """Write ``tok`` as a SentencePiece model file (see :func:`sentencepiece_proto`)."""
    Path(path).write_bytes(sentencepiece_proto(tok).SerializeToString())


def bytes_to_unicode() -> dict[int, str]:
    """The byte-to-character table of the byte-level pre-tokenizer of HF ``tokenizers`` (GPT-2's).

    >>> table = bytes_to_unicode()
    >>> table[ord("a")], table[ord(" ")], table[0x0A], len(set(table.values()))
    ('a', 'Ġ', 'Ċ', 256)
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def exact_scores(logp: np.ndarray) -> list[int]:
    """The scores ``logp * 2**k`` as integers, with the least ``k`` that makes them all integers.

    ``tokenizers`` parses JSON floats with up to one unit of error in the last place, which
    flips exact ties; integers below 2**63 it reads exactly. Scaling by a power of two changes
    neither the order of sums nor their rounding, so the Viterbi keeps the same path.

    >>> exact_scores(np.array([-0.5, -1.25]))
    [-2, -5]
    """
    finite = logp[np.isfinite(logp) & (logp != 0)]
    if len(finite) != len(logp):
        return [int(x) for x in logp]  # a piece with all the mass: scores are 0
    _, exponent = np.frexp(finite)  # x = m * 2**e, 0.5 <= |m| < 1, 53 bits in m
    k = int(53 - exponent.min())
    # the bits of each score below 2**-k are zero: trim k to the lowest bit actually used
    while k > 0 and all(float(x * 2.0 ** (k - 1)).is_integer() for x in finite.tolist()):
        k -= 1
    scaled = np.ldexp(logp, k)
    if np.abs(scaled).max() >= 2.0**63:
        raise ValueError(
            "the scores of this vocabulary span too many binary orders of magnitude to be "
            "written exactly for HF tokenizers"
        )
    return [int(x) for x in scaled.tolist()]


def huggingface_json(tok: Vocab | HasVocab) -> dict[str, Any]:
    """The ``tokenizer.json`` content of ``tok`` for HF ``tokenizers`` (module docstring).

    >>> from bytepiece_core import Tokenizer
    >>> from bytepiece_core.model import dump_model
    >>> tok = Tokenizer(dump_model({**{bytes([b]): 1 for b in range(256)}, b"a b": 5}))
    >>> spec = huggingface_json(tok)
    >>> spec["model"]["vocab"][259][0], spec["pre_tokenizer"]["pretokenizers"][0]["behavior"]
    ('aĠb', 'MergedWithPrevious')
    """
    table = bytes_to_unicode()
    vocab = _vocab_of(tok)
    logp = exact_scores(vocab.logp[N_SPECIAL:])
    entries: list[list[Any]] = [[name, 0] for name in SPECIAL_TOKENS]
    entries += [
        ["".join(table[b] for b in vocab.pieces[i]), logp[i - N_SPECIAL]]
        for i in range(N_SPECIAL, vocab.size)
    ]
    added = [
        {
            "id": i,
            "content": name,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for i, name in enumerate(SPECIAL_TOKENS)
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": "\n+"},
                    "behavior": "MergedWithPrevious",
                    "invert": False,
                },
                {
                    "type": "ByteLevel",
                    "add_prefix_space": False,
                    "trim_offsets": False,
                    "use_regex": False,
                },
            ],
        },
        "post_processor": None,
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": False,
            "trim_offsets": False,
            "use_regex": False,
        },
        "model": {"type": "Unigram", "unk_id": None, "vocab": entries, "byte_fallback": False},
    }


def to_huggingface(tok: Vocab | HasVocab, path: str | os.PathLike[str]) -> None:
    """Write ``tok`` as a ``tokenizer.json`` for HF ``tokenizers`` (see :func:`huggingface_json`).

    Python's ``json`` writes each float64 score in its shortest exact form.
    """
    with open(path, "w", encoding="utf-8") as out:
        json.dump(huggingface_json(tok), out, ensure_ascii=False)
