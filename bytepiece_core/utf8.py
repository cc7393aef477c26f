"""UTF-8 facts about byte arrays and pieces, in one place: where characters start and whether
a piece is whole UTF-8.

>>> import numpy as np
>>> data = np.frombuffer("a天b".encode(), np.uint8)
>>> char_index(data).tolist(), chars_before(data).tolist()
([0, 1, 1, 1, 2], [0, 1, 2, 2, 2, 3])
>>> is_whole_utf8("天".encode()), is_whole_utf8("天".encode()[:2])
(True, False)
"""

from __future__ import annotations

import numpy as np

__all__ = ["char_index", "char_starts", "chars_before", "is_whole_utf8"]


def char_starts(data: np.ndarray) -> np.ndarray:
    """bool[n]: which bytes of ``data`` (uint8[n]) start a character (are not continuation
    bytes ``10xxxxxx``)."""
    return (data & 0xC0) != 0x80  # type: ignore[no-any-return]


def char_index(data: np.ndarray) -> np.ndarray:
    """int64[n]: the index of the character each byte of ``data`` (uint8[n]) belongs to."""
    return np.cumsum(char_starts(data)) - 1  # type: ignore[no-any-return]


def chars_before(data: np.ndarray) -> np.ndarray:
    """int64[n + 1]: characters that start before each byte offset ``0..n`` of ``data``."""
    out = np.zeros(data.shape[0] + 1, np.int64)
    np.cumsum(char_starts(data), out=out[1:])
    return out


def is_whole_utf8(piece: bytes) -> bool:
    """Whether ``piece`` is valid UTF-8 on its own (whole characters only)."""
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
