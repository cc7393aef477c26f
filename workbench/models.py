"""Model files for the browser: download links for a model in each format the engine writes
(a BytePiece model, an HF ``tokenizer.json``, a SentencePiece model), and reading a model a
user uploads or names by path. No widgets here."""

from __future__ import annotations

import base64
import html
import io
import json
import tempfile
import zipfile
from pathlib import Path

from bytepiece_core import Tokenizer
from bytepiece_core.export import huggingface_json, sentencepiece_proto
from bytepiece_core.utf8 import is_whole_utf8

__all__ = [
    "FORMATS",
    "download_links_html",
    "model_file",
    "sentencepiece_unheld",
    "tokenizer_from_upload",
]

FORMATS = {
    "bytepiece": ("BytePiece model", "model.json", "application/json"),
    "huggingface": ("HF tokenizer.json", "tokenizer.json", "application/json"),
    "sentencepiece": ("SentencePiece model", "model.spm", "application/octet-stream"),
}
"""Download formats: label, file name and MIME type."""


def model_file(tok: Tokenizer, fmt: str) -> bytes:
    """The bytes of ``tok`` saved in format ``fmt`` (a key of :data:`FORMATS`).

    >>> tok = Tokenizer.from_vocab({"ab": 5})
    >>> Tokenizer(json.loads(model_file(tok, "bytepiece"))).encode("abc") == tok.encode("abc")
    True
    """
    if fmt == "bytepiece":
        return json.dumps(tok.to_dict(), ensure_ascii=False).encode()
    if fmt == "huggingface":
        return json.dumps(huggingface_json(tok), ensure_ascii=False).encode()
    if fmt == "sentencepiece":
        return bytes(sentencepiece_proto(tok).SerializeToString())
    raise ValueError(f"format must be one of {sorted(FORMATS)}, not {fmt!r}")


def download_links_html(tok: Tokenizer, stem: str) -> str:
    """Links that download ``tok`` in every format (the file in the link itself, so they work
    with no server route), named ``stem`` plus the format's file name."""
    links = []
    for fmt, (label, name, mime) in FORMATS.items():
        data = base64.b64encode(model_file(tok, fmt)).decode("ascii")
        filename = html.escape(f"{stem}.{name}")
        links.append(
            f"<a download='{filename}' href='data:{mime};base64,{data}' "
            f"class='wb-download' style='margin-right:14px'>{html.escape(label)}</a>"
        )
    note = ""
    unheld = sentencepiece_unheld(tok)
    if unheld:
        note = (
            f"<div class='wb-note'>SentencePiece cannot hold {unheld:,} of its pieces (the "
            "first bytes of a character: SentencePiece pieces are whole characters), so its "
            "ids differ where they are used; the BytePiece and HF files give the same ids. "
            "Train with ensure_unicode on for a model SentencePiece holds whole.</div>"
        )
    return "<div>Download: " + "".join(links) + "</div>" + note


def sentencepiece_unheld(tok: Tokenizer) -> int:
    """How many pieces of ``tok`` a SentencePiece model cannot hold: pieces of several bytes
    that are not whole UTF-8 (they become unused placeholders there).

    >>> sentencepiece_unheld(Tokenizer.from_vocab({b"\\xe4\\xb8": 2, "天": 1}))
    1
    """
    return sum(len(p) > 1 and not is_whole_utf8(p) for p in tok.vocab.pieces)


def tokenizer_from_upload(name: str, content: bytes) -> Tokenizer:
    """A tokenizer from an uploaded BytePiece model: its JSON, or a zip holding one.

    Refuses with a ``ValueError`` that names the file and says what it holds instead.

    >>> tok = Tokenizer.from_vocab({"ab": 5})
    >>> tokenizer_from_upload("m.json", model_file(tok, "bytepiece")).vocab_size
    260
    >>> tokenizer_from_upload("notes.txt", b"hello")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: notes.txt is not a BytePiece model: it is not JSON (a model is the JSON file ...)
    """
    hint = "a model is the JSON file Trainer.save writes, or a zip holding one"
    if zipfile.is_zipfile(io.BytesIO(content)):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(name).name
            path.write_bytes(content)
            try:
                return Tokenizer(path)
            except (ValueError, KeyError, TypeError, OSError) as exc:
                raise ValueError(f"{name} is not a BytePiece model: {exc} ({hint})") from None
    try:
        model = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{name} is not a BytePiece model: it is not JSON ({hint})") from None
    if not isinstance(model, dict):
        raise ValueError(f"{name} is not a BytePiece model: its JSON is not an object ({hint})")
    try:
        return Tokenizer(model)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{name} is not a BytePiece model: {exc} ({hint})") from None
