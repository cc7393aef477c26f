"""The trainer's corpus: documents from strings or files, normalized and chunked into flat arrays.

Training reads its documents once. Each is NFC-normalized and cut into the reference's
training chunks (ALGORITHM.md section 1, lines capped at 10,000 characters), and the UTF-8
bytes of all chunks are kept in one array: every later pass (n-gram counting order by order,
the n-gram Viterbi) runs over it, so ``texts`` may be a one-shot iterator.

The array is in memory, or, given a directory, in a file there (streamed out as documents are
read, then memory-mapped): a pass then holds only the ranges it is working on, because each
range's pages are handed back to the system (:meth:`TrainingCorpus.release`) once it is done.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
import mmap
import os
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._mmap import advise_free
from .._normalize import normalize, split_chunks, to_utf8

__all__ = [
    "CHUNK_CHARS",
    "TrainingCorpus",
    "TrainingTexts",
    "documents",
    "expand_pattern",
    "fingerprint",
    "is_pattern",
    "open_corpus",
    "read_corpus",
]

# Training chunks hold at most this many non-newline characters (the reference's cap).
CHUNK_CHARS = 10000
# Bytes read from a training file at a time.
_FILE_BLOCK = 1 << 20
# Bytes of chunk data buffered before they are written to an on-disk corpus.
_WRITE_BLOCK = 1 << 20
# Files of an on-disk corpus: chunk bytes (uint8) and chunk offsets (int64, from 0).
DATA_FILE = "corpus.data"
OFFSETS_FILE = "corpus.offsets"

PathLike = str | os.PathLike[str]
TrainingTexts = PathLike | Iterable[Any]


@dataclass(frozen=True)
class TrainingCorpus:
    """All training chunks as flat arrays.

    data          : uint8[n_bytes]      UTF-8 bytes of every chunk, concatenated
    chunk_offsets : int64[n_chunks + 1] chunk ``c`` is ``data[offsets[c]:offsets[c + 1]]``
    n_docs        : number of documents read
    fingerprint   : a hash of the documents read (see :func:`fingerprint`)
    maps          : for an on-disk corpus, the memory maps of ``data`` and ``chunk_offsets``
    """

    data: np.ndarray
    chunk_offsets: np.ndarray
    n_docs: int
    fingerprint: str = ""
    maps: tuple[mmap.mmap, ...] = ()

    def release(self, c_lo: int, c_hi: int) -> None:
        """Hand back the memory of chunks ``c_lo..c_hi-1`` of an on-disk corpus (no-op in memory).

        The pages stay in the file; a later read maps them in again. Safe while other threads
        read the same pages (they are faulted in again from the file).
        """
        if not self.maps:
            return
        offsets = self.chunk_offsets
        advise_free(self.maps[0], int(offsets[c_lo]), int(offsets[c_hi]))
        advise_free(self.maps[1], 8 * c_lo, 8 * (c_hi + 1))

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


def is_pattern(name: str) -> bool:
    """Whether ``name`` is read as a glob pattern: it has ``*``, ``?`` or ``[`` and is no file.

    >>> is_pattern("corpus/*.txt"), is_pattern("corpus.txt")
    (True, False)
    """
    return any(c in name for c in "*?[") and not os.path.lexists(name)


def expand_pattern(pattern: str) -> list[Path]:
    """The files matching the glob ``pattern`` (``**`` spans directories), sorted by path.

    Directories that match are left out. Raises ``FileNotFoundError`` naming the pattern when
    no file matches.
    """
    names = sorted(name for name in glob.glob(pattern, recursive=True) if not os.path.isdir(name))
    if not names:
        raise FileNotFoundError(f"no training file matches the pattern {pattern!r}")
    return [Path(name) for name in names]


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
    iterable of str documents. A file holds one document per line (line ends kept). A str
    with ``*``, ``?`` or ``[`` that is not an existing path is a glob pattern: its matching
    files, in sorted order (:func:`expand_pattern`).
    """
    if isinstance(texts, (bytes, bytearray, memoryview)):
        raise TypeError(
            "texts must be an iterable of str documents or a path to a UTF-8 text file, "
            f"not {type(texts).__name__}; decode bytes to str first"
        )
    if isinstance(texts, str) and is_pattern(texts):
        paths = expand_pattern(texts)
    elif _is_path(texts):
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


class _Hasher:
    """The running :func:`fingerprint` of documents."""

    def __init__(self) -> None:
        self._hash = hashlib.blake2b(digest_size=16)

    def add(self, doc: str) -> None:
        raw = doc.encode("utf-8", "surrogatepass")
        self._hash.update(len(raw).to_bytes(8, "little"))
        self._hash.update(raw)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def fingerprint(texts: TrainingTexts) -> str:
    """A hash of the documents of ``texts`` (their text, one by one; not their normalization).

    Reads the documents once, as :func:`read_corpus` does, and equals its ``fingerprint``.

    >>> fingerprint(["ab", "c"]) == fingerprint(iter(["ab", "c"])) != fingerprint(["abc"])
    True
    """
    hasher = _Hasher()
    for _, doc in documents(texts):
        hasher.add(doc)
    return hasher.hexdigest()


class _MemorySink:
    """Chunk bytes and lengths gathered in memory."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.lengths = array("q")
        self.n_bytes = 0

    def add(self, encoded: list[bytes]) -> None:
        self.buf += b"".join(encoded)
        self.lengths.extend(map(len, encoded))
        self.n_bytes = len(self.buf)

    def finish(self, n_docs: int, digest: str) -> TrainingCorpus:
        chunk_offsets = np.zeros(len(self.lengths) + 1, np.int64)
        np.cumsum(np.frombuffer(self.lengths, np.int64), out=chunk_offsets[1:])
        self.lengths = array("q")
        data = np.frombuffer(self.buf, np.uint8) if self.buf else np.zeros(0, np.uint8)
        return TrainingCorpus(data, chunk_offsets, n_docs, digest)


class _FileSink:
    """Chunk bytes and offsets streamed to the files of an on-disk corpus in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Written under other names and renamed when complete: a file of an earlier corpus may
        # still be mapped, and truncating a mapped file would break its map.
        self.data = open(directory / (DATA_FILE + ".part"), "wb")
        self.offsets = open(directory / (OFFSETS_FILE + ".part"), "wb")
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.ends = array("q", [0])
        self.n_bytes = 0

    def add(self, encoded: list[bytes]) -> None:
        for chunk in encoded:
            self.n_bytes += len(chunk)
            self.ends.append(self.n_bytes)
        self.pending.extend(encoded)
        self.pending_bytes += sum(map(len, encoded))
        if self.pending_bytes >= _WRITE_BLOCK:
            self.flush()

    def flush(self) -> None:
        self.data.writelines(self.pending)
        self.offsets.write(self.ends.tobytes())
        self.pending, self.pending_bytes, self.ends = [], 0, array("q")

    def close(self) -> None:
        self.data.close()
        self.offsets.close()

    def finish(self, n_docs: int, digest: str) -> TrainingCorpus:
        self.flush()
        self.close()
        for name in (DATA_FILE, OFFSETS_FILE):
            os.replace(self.directory / (name + ".part"), self.directory / name)
        return open_corpus(self.directory, n_docs, digest)


def open_corpus(directory: str | os.PathLike[str], n_docs: int, digest: str) -> TrainingCorpus:
    """The on-disk corpus in ``directory`` (written by :func:`read_corpus`), memory-mapped.

    The maps are private (copy-on-write): the arrays are writable like in-memory ones, so the
    kernels see the same types, but nothing is ever written back to the files. Nothing may
    write them either: :meth:`TrainingCorpus.release` would silently drop the writes.
    """
    arrays = []
    maps = []
    for name, dtype in ((DATA_FILE, np.uint8), (OFFSETS_FILE, np.int64)):
        path = Path(directory) / name
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                arrays.append(np.zeros(0, dtype))
                maps.append(mmap.mmap(-1, mmap.PAGESIZE))
                continue
            mapping = mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_COPY)
        arrays.append(np.frombuffer(mapping, dtype))
        maps.append(mapping)
    return TrainingCorpus(arrays[0], arrays[1], n_docs, digest, tuple(maps))


def read_corpus(
    texts: TrainingTexts,
    isolate_digits: bool,
    batch_size: int,
    progress: Callable[[int, int], None],
    directory: str | os.PathLike[str] | None = None,
) -> TrainingCorpus:
    """Read, normalize and chunk every document into a :class:`TrainingCorpus`.

    ``progress(n_docs, n_bytes)`` is called after every ``batch_size`` documents and at the end.
    With ``directory`` (an existing directory) the corpus is written to files there as it is
    read and memory-mapped (:func:`open_corpus`); memory then does not grow with the corpus.

    >>> c = read_corpus(["ab\\n\\ncd", "e"], False, 1000, lambda d, b: None)
    >>> bytes(c.data), c.chunk_offsets.tolist(), c.n_docs
    (b'ab\\n\\ncde', [0, 4, 6, 7], 2)
    """
    sink: _MemorySink | _FileSink = (
        _MemorySink() if directory is None else _FileSink(Path(directory))
    )
    hasher = _Hasher()
    n_docs = 0
    try:
        for where, doc in documents(texts):
            hasher.add(doc)
            chunks = split_chunks(normalize(doc), CHUNK_CHARS, isolate_digits)
            try:
                encoded = [c.encode("utf-8") for c in chunks]
            except UnicodeEncodeError:
                to_utf8(doc, argument=where)  # raises the explanatory ValueError
                raise
            sink.add(encoded)
            n_docs += 1
            if n_docs % batch_size == 0:
                progress(n_docs, sink.n_bytes)
        progress(n_docs, sink.n_bytes)
    except BaseException:
        if isinstance(sink, _FileSink):
            sink.close()
        raise
    return sink.finish(n_docs, hasher.hexdigest())
