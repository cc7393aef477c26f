"""The trainer's corpus: documents from strings or files, normalized and chunked into flat arrays.

Training reads its documents once. Each is NFC-normalized and cut into the reference's
training chunks (ALGORITHM.md section 1, lines capped at 10,000 characters), and the UTF-8
bytes of all chunks are kept in one array: every later pass (n-gram counting order by order,
the n-gram Viterbi) runs over it, so ``texts`` may be a one-shot iterator.
"""

from __future__ import annotations

import codecs
import os
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._normalize import normalize, split_chunks, to_utf8

__all__ = ["CHUNK_CHARS", "Corpus", "TrainingTexts", "documents", "read_corpus"]

# Training chunks hold at most this many non-newline characters (the reference's cap).
CHUNK_CHARS = 10000
# Bytes read from a training file at a time.
_FILE_BLOCK = 1 << 20

PathLike = str | os.PathLike[str]
TrainingTexts = PathLike | Iterable[Any]


@dataclass(frozen=True)
class Corpus:
    """All training chunks as flat arrays.

    data          : uint8[n_bytes]      UTF-8 bytes of every chunk, concatenated
    chunk_offsets : int64[n_chunks + 1] chunk ``c`` is ``data[offsets[c]:offsets[c + 1]]``
    n_docs        : number of documents read
    """

    data: np.ndarray
    chunk_offsets: np.ndarray
    n_docs: int

    @property
    def n_bytes(self) -> int:
        """Total bytes of all chunks."""
        return int(self.data.shape[0])

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return int(self.chunk_offsets.shape[0] - 1)


def _is_path(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike))


def _check_file(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(
            f"training file {str(path)!r} not found (a str passed as texts is read as a path; "
            "to train on one text, pass a list of documents: [text])"
        )
    if path.is_dir():
        raise IsADirectoryError(f"training path {str(path)!r} is a directory, not a text file")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"training file {str(path)!r} is not readable (permission denied)")


def _file_lines(path: Path) -> Iterator[str]:
    """The lines of a UTF-8 file, exactly as ``text.splitlines(keepends=True)`` of its text.

    The file is read in blocks; the last line of each block is carried over to the next so a
    line (or a ``\\r\\n``) cut by a block boundary is whole.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    carry: list[str] = []
    newlines = 0
    offset = 0
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise OSError(f"cannot read training file {str(path)!r}: {exc.strerror}") from exc
    with handle:
        while True:
            try:
                block = handle.read(_FILE_BLOCK)
            except OSError as exc:
                raise OSError(f"cannot read training file {str(path)!r}: {exc}") from exc
            final = not block
            pending = decoder.getstate()[0]
            try:
                text = decoder.decode(block, final)
            except UnicodeDecodeError as exc:
                raw = pending + block
                line = newlines + raw[: exc.start].count(b"\n") + 1
                where = offset - len(pending) + exc.start
                raise ValueError(
                    f"training file {str(path)!r} is not valid UTF-8: line {line} (byte offset "
                    f"{where}): {exc.reason}; re-encode the file as UTF-8 or clean that line"
                ) from None
            newlines += block.count(b"\n")
            offset += len(block)
            if final:
                yield from "".join(carry).splitlines(True)
                return
            lines = text.splitlines(True)
            if len(lines) <= 1:
                carry.extend(lines)
                continue
            yield from ("".join(carry) + lines[0]).splitlines(True)
            yield from lines[1:-1]
            carry = [lines[-1]]


def documents(texts: TrainingTexts) -> Iterator[tuple[str, str]]:
    """Yield ``(where, document)``: ``where`` names the document in error messages.

    ``texts`` is a path (str or ``os.PathLike``), a list of ``os.PathLike`` paths, or any
    iterable of str documents. A file holds one document per line (line ends kept).
    """
    if isinstance(texts, (bytes, bytearray, memoryview)):
        raise TypeError(
            "texts must be an iterable of str documents or a path to a UTF-8 text file, "
            f"not {type(texts).__name__}; decode bytes to str first"
        )
    if _is_path(texts):
        paths = [Path(texts)]  # type: ignore[arg-type]
    elif (
        isinstance(texts, (list, tuple))
        and texts
        and all(isinstance(t, os.PathLike) for t in texts)
    ):
        paths = [Path(t) for t in texts]
    else:
        if not isinstance(texts, Iterable):
            raise TypeError(
                "texts must be an iterable of str documents, a path or a list of paths, "
                f"not {type(texts).__name__}"
            )
        return _string_documents(texts)
    for path in paths:
        _check_file(path)
    return _path_documents(paths)


def _string_documents(texts: Iterable[Any]) -> Iterator[tuple[str, str]]:
    for i, doc in enumerate(texts):
        if not isinstance(doc, str):
            raise TypeError(
                f"texts[{i}] is {type(doc).__name__}, not str: every document must be a str "
                "(decode bytes first; paths go in a list of pathlib.Path)"
            )
        yield f"texts[{i}]", doc


def _path_documents(paths: list[Path]) -> Iterator[tuple[str, str]]:
    for path in paths:
        for i, line in enumerate(_file_lines(path)):
            yield f"{path}:{i + 1}", line


def read_corpus(
    texts: TrainingTexts,
    isolate_digits: bool,
    batch_size: int,
    progress: Callable[[int, int], None],
) -> Corpus:
    """Read, normalize and chunk every document into a :class:`Corpus`.

    ``progress(n_docs, n_bytes)`` is called after every ``batch_size`` documents and at the end.

    >>> c = read_corpus(["ab\\n\\ncd", "e"], False, 1000, lambda d, b: None)
    >>> bytes(c.data), c.chunk_offsets.tolist(), c.n_docs
    (b'ab\\n\\ncde', [0, 4, 6, 7], 2)
    """
    buf = bytearray()
    lengths = array("q")
    n_docs = 0
    for where, doc in documents(texts):
        chunks = split_chunks(normalize(doc), CHUNK_CHARS, isolate_digits)
        try:
            encoded = [c.encode("utf-8") for c in chunks]
        except UnicodeEncodeError:
            to_utf8(doc, argument=where)  # raises the explanatory ValueError
            raise
        buf += b"".join(encoded)
        lengths.extend(map(len, encoded))
        n_docs += 1
        if n_docs % batch_size == 0:
            progress(n_docs, len(buf))
    progress(n_docs, len(buf))
    chunk_offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(np.frombuffer(lengths, np.int64), out=chunk_offsets[1:])
    del lengths
    data = np.frombuffer(buf, np.uint8) if buf else np.zeros(0, np.uint8)
    return Corpus(data, chunk_offsets, n_docs)
