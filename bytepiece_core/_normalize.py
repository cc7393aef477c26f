"""Text normalization and chunking, as the reference does it (ALGORITHM.md section 1).

The reference splits NFC text with regular expressions; chunk boundaries only ever fall after a
run of newlines, so the segmentation kernels find them on the UTF-8 bytes themselves and the
Python layer only has to normalize and encode.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["check_text", "normalize", "split_chunks", "to_utf8"]


def normalize(text: str) -> str:
    """Return the NFC form of ``text`` (a no-op, and fast, for ASCII and already-NFC text)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", text)


def to_utf8(text: str, *, argument: str = "text") -> bytes:
    """Encode ``text`` as UTF-8, turning lone surrogates into a clear ``ValueError``."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise ValueError(
            f"{argument} cannot be encoded as UTF-8: it contains the lone surrogate "
            f"{bad!r} at index {exc.start}; text must be valid Unicode (decode your input "
            "with errors='replace' or 'ignore' first)"
        ) from None


def check_text(text: object, argument: str = "text") -> bytes:
    """The NFC UTF-8 bytes of ``text``; a non-``str`` or a lone surrogate is an error that names
    ``argument``."""
    if not isinstance(text, str):
        raise TypeError(f"{argument} must be a str, not {type(text).__name__}")
    return to_utf8(normalize(text), argument=argument)


_CHUNKS = {
    (False, 0): re.compile(r".*\n+|.+"),
    (True, 0): re.compile(r"\d|[^\n\d]*\n+|[^\n\d]+"),
}


def split_chunks(text: str, maxlen: int = 0, isolate_digits: bool = False) -> list[str]:
    """Split NFC text into the reference's chunks: a line with its newline run attached.

    With ``maxlen > 0`` (training) a line is cut every ``maxlen`` characters and at most 100
    newlines are attached to a chunk; with ``isolate_digits`` every decimal digit is a chunk.

    >>> split_chunks("ab\\n\\ncd")
    ['ab\\n\\n', 'cd']
    >>> split_chunks("a12b", isolate_digits=True)
    ['a', '1', '2', 'b']
    """
    key = (isolate_digits, maxlen)
    regex = _CHUNKS.get(key)
    if regex is None:
        if isolate_digits:
            pattern = rf"\d|[^\n\d]{{,{maxlen}}}\n{{1,100}}|[^\n\d]{{1,{maxlen}}}"
        else:
            pattern = rf".{{,{maxlen}}}\n{{1,100}}|.{{1,{maxlen}}}"
        regex = _CHUNKS.setdefault(key, re.compile(pattern))
    return regex.findall(text)
