"""Reading, checking and writing BytePiece model files (ALGORITHM.md section 4).

A model is a JSON object ``{base64(piece): [id, display_text, count], ...}``; ids 0, 1, 2 are
reserved for ``<pad>``, ``<bos>``, ``<eos>`` and pieces take ids 3..N+2. Released models are zip
files holding one such JSON file.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

__all__ = ["ModelError", "ModelSource", "dump_model", "load_model", "parse_model", "write_model"]

ModelSource = Union[str, "os.PathLike[str]", Mapping[str, Any]]

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")
# Ids 0..N_SPECIAL-1 are the special tokens; pieces start at id N_SPECIAL.
N_SPECIAL = len(SPECIAL_TOKENS)


class ModelError(ValueError):
    """A model file or dictionary that is not a valid BytePiece model."""


def _read_json_bytes(path: Path) -> bytes:
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {str(path)!r}")
    if path.is_dir():
        raise ModelError(f"model path {str(path)!r} is a directory, not a model file")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                if len(members) != 1:
                    names = [m.filename for m in members]
                    raise ModelError(
                        f"model zip {str(path)!r} must hold exactly one model file, "
                        f"it holds {len(members)}: {names[:5]}"
                    )
                return archive.read(members[0])
        except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as exc:
            raise ModelError(f"model zip {str(path)!r} is damaged or truncated: {exc}") from None
    data = path.read_bytes()
    if data[:2] == b"PK":
        raise ModelError(f"model zip {str(path)!r} is damaged or truncated (not a readable zip)")
    return data


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, val in pairs:
        if key in result:
            raise ModelError(f"model has the key {key!r} twice (duplicate piece)")
        result[key] = val
    return result


def load_model(source: ModelSource) -> dict[str, Any]:
    """Return the raw model dictionary from a path (JSON or zip) or a mapping.

    >>> load_model({"YQ==": [3, "a", 1]})
    {'YQ==': [3, 'a', 1]}
    """
    if isinstance(source, Mapping):
        return dict(source)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "a model is a path to a BytePiece model file (JSON or .zip) or a dict "
            f"{{base64 piece: [id, text, count]}}, not {type(source).__name__}"
        )
    path = Path(source)
    raw = _read_json_bytes(path)
    if not raw.strip():
        raise ModelError(f"model file {str(path)!r} is empty")
    try:
        model = json.loads(raw, object_pairs_hook=_reject_duplicate_keys)
    except UnicodeDecodeError as exc:
        raise ModelError(f"model file {str(path)!r} is not UTF-8 JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"model file {str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(model, dict):
        raise ModelError(
            f"model file {str(path)!r} must hold a JSON object, not a {type(model).__name__}"
        )
    return model


def parse_model(model: Mapping[str, Any]) -> tuple[list[bytes], list[int | float]]:
    """Check a raw model and return its pieces and counts ordered by id (id 3 first).

    Raises :class:`ModelError` naming the first problem found.

    >>> model = {base64.b64encode(bytes([i])).decode(): [i + 3, "", 1] for i in range(256)}
    >>> pieces, counts = parse_model(model)
    >>> pieces[:2], counts[:2], len(pieces)
    ([b'\\x00', b'\\x01'], [1, 1], 256)
    """
    n = len(model)
    by_id: list[bytes | None] = [None] * n
    counts: list[int | float] = [0] * n
    seen: dict[bytes, str] = {}
    for key, entry in model.items():
        if not isinstance(key, str):
            raise ModelError(f"model keys are base64 strings, got {key!r}")
        try:
            piece = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raise ModelError(f"model key {key!r} is not valid base64") from None
        if not piece:
            raise ModelError(f"model key {key!r} decodes to an empty piece")
        if piece in seen:
            raise ModelError(
                f"model keys {seen[piece]!r} and {key!r} are the same piece {piece!r} (duplicate)"
            )
        seen[piece] = key
        if not isinstance(entry, (list, tuple)) or len(entry) != 3:
            raise ModelError(
                f"model entry for {key!r} must be [id, display_text, count], got {entry!r}"
            )
        pid, _, count = entry
        if isinstance(pid, bool) or not isinstance(pid, int):
            raise ModelError(f"model entry for {key!r} has a non-integer id {pid!r}")
        if not N_SPECIAL <= pid < n + N_SPECIAL:
            raise ModelError(
                f"model entry for {key!r} has id {pid}; a model with {n} pieces uses ids "
                f"3..{n + 2} (0, 1, 2 are {', '.join(SPECIAL_TOKENS)})"
            )
        if by_id[pid - N_SPECIAL] is not None:
            raise ModelError(
                f"model id {pid} is used twice ({by_id[pid - N_SPECIAL]!r} and {piece!r})"
            )
        if (
            isinstance(count, bool)
            or not isinstance(count, (int, float))
            or not math.isfinite(count)
            or count <= 0
        ):
            raise ModelError(
                f"model entry for {key!r} has count {count!r}; counts must be positive numbers"
            )
        by_id[pid - N_SPECIAL] = piece
        counts[pid - N_SPECIAL] = count
    missing = [b for b in range(256) if bytes([b]) not in seen]
    if missing:
        shown = ", ".join(f"0x{b:02X}" for b in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise ModelError(
            f"model lacks {len(missing)} of the 256 single-byte pieces ({shown}{more}); "
            "every byte must be a piece so that any text can be segmented"
        )
    return [p for p in by_id if p is not None], counts


def dump_model(pieces: Mapping[bytes, int | float]) -> dict[str, list[Any]]:
    """The model dictionary of ``{piece: count}``, ids given in the order ``(len, bytes)``.

    >>> dump_model({b"ab": 2, b"a": 5})
    {'YQ==': [3, 'a', 5], 'YWI=': [4, 'ab', 2]}
    """
    ordered = sorted(pieces.items(), key=lambda item: (len(item[0]), item[0]))
    return {
        base64.b64encode(piece).decode(): [i + N_SPECIAL, piece.decode(errors="ignore"), count]
        for i, (piece, count) in enumerate(ordered)
    }


def write_model(model: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a model dictionary as JSON, atomically: a temporary file renamed into place.

    The layout (4-space indent, non-ASCII kept) is the reference's, so files compare equal.
    """
    target = Path(path)
    folder = target.parent
    if not folder.exists():
        raise FileNotFoundError(
            f"cannot write the model to {str(target)!r}: the folder {str(folder)!r} does not "
            "exist; create it first"
        )
    if not folder.is_dir():
        raise NotADirectoryError(
            f"cannot write the model to {str(target)!r}: {str(folder)!r} is not a folder"
        )
    if target.is_dir():
        raise IsADirectoryError(f"cannot write the model to {str(target)!r}: it is a folder")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise type(exc)(
            exc.errno, f"cannot write the model to {str(target)!r}: {exc.strerror}"
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(model, out, indent=4, ensure_ascii=False)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.errno is not None:
            raise type(exc)(
                exc.errno,
                f"cannot write the model to {str(target)!r}: {exc.strerror}; the file there, "
                "if any, is unchanged",
            ) from exc
        raise
