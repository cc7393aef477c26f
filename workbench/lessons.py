"""Small helpers the course notebooks share, so their cells show the idea rather than the
bookkeeping: where a sequence of words is cut, how a piece reads, whether it is part of a
character, and the measurements of notebooks 2-4 (surprisal at gold word starts, the n-gram
Viterbi's fallback, cuts inside characters, random cuts as a baseline)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from bytepiece_core.utf8 import is_whole_utf8

from .figures._style import piece_label
from .html import cut_offsets

__all__ = [
    "collapsed_share",
    "cuts",
    "good_prefix",
    "inside_characters",
    "is_fragment",
    "label",
    "random_cuts",
    "surprisal_at_boundaries",
]


def cuts(words: Sequence[str | bytes]) -> list[int]:
    """Byte offsets between consecutive words (str or bytes), in order.

    >>> cuts(["ab", "c"]), cuts([b"\\xe4\\xb8\\xad", b"a"])
    ([2], [3])
    """
    return sorted(cut_offsets([w.encode() if isinstance(w, str) else w for w in words]))


def label(piece: bytes) -> str:
    """A piece as text, or its bytes in hex when it is not whole characters.

    >>> label("中".encode()), label(b"\\xe4\\xb8")
    ('中', '‹e4 b8›')
    """
    return piece.decode("utf-8") if is_whole_utf8(piece) else piece_label(piece)


def is_fragment(piece: bytes) -> bool:
    """Whether a piece is only part of a character (not valid UTF-8 on its own).

    >>> is_fragment(b"\\xe4"), is_fragment("中".encode())
    (True, False)
    """
    return not is_whole_utf8(piece)


def good_prefix(words: Sequence[bytes]) -> int:
    """Bytes before the first fragment (all of them if there is none).

    >>> good_prefix([b"ab", b"\\xe4", b"c"]), good_prefix([b"ab"])
    (2, 2)
    """
    first = next((k for k, w in enumerate(words) if is_fragment(w)), len(words))
    return sum(len(w) for w in words[:first])


def collapsed_share(lm: Any, docs: Sequence[str]) -> float:
    """Share of the bytes of ``docs`` that lie after the first single-byte fallback of their
    line under the n-gram model ``lm`` (``bytepiece_core.analysis.NgramModel``)."""
    total = sum(len(doc.encode()) for doc in docs)
    return 1 - sum(good_prefix(lm.segment(doc)) for doc in docs) / total


def surprisal_at_boundaries(
    lm: Any, lines: Sequence[str], gold: Sequence[Sequence[str]]
) -> pd.DataFrame:
    """Mean surprisal (bits) of the first bytes of characters at gold word starts against
    inside words, per context length, under the n-gram model ``lm``; the first character of a
    line is left out (it always starts a word).

    Columns: ``context bytes``, ``at word start``, ``inside word``, ``removed n-grams
    (share)`` (positions whose n-gram was pruned, left out of the means), ``difference``.
    """
    from .figures import order_columns

    frames = []
    for line, words in zip(lines, gold, strict=True):
        f = lm.surprisal(line)
        starts = np.zeros(len(f), bool)
        starts[cuts(words)] = True
        f["gold_start"] = starts
        frames.append(f[((f["byte"] & 0xC0) != 0x80) & (f["char_index"] > 0)])
    f = pd.concat(frames)
    rows = []
    for col in order_columns(f):
        at, inside = f.loc[f.gold_start, col], f.loc[~f.gold_start, col]
        rows.append(
            {
                "context bytes": int(col.split("_")[1]),
                "at word start": at.mean(),
                "inside word": inside.mean(),
                "removed n-grams (share)": f[col].isna().mean(),
            }
        )
    table = pd.DataFrame(rows)
    table["difference"] = table["at word start"] - table["inside word"]
    return table


def random_cuts(line: str, n_cuts: int, rng: np.random.Generator) -> list[str]:
    """``line`` cut at ``n_cuts`` random gaps between characters (fewer if it is short).

    >>> random_cuts("abc", 5, np.random.default_rng(0))
    ['a', 'b', 'c']
    """
    n_cuts = min(n_cuts, len(line) - 1)
    gaps = np.sort(rng.choice(np.arange(1, len(line)), size=n_cuts, replace=False))
    edges = [0, *gaps.tolist(), len(line)]
    return [line[a:b] for a, b in pairwise(edges)]


def inside_characters(lines: Sequence[str], segs: Sequence[Sequence[str | bytes]]) -> float:
    """Share of the cuts of segmentations ``segs`` of ``lines`` that fall on a UTF-8
    continuation byte (inside a character).

    >>> inside_characters(["中a"], [[b"\\xe4", b"\\xb8\\xad", b"a"]])
    0.5
    """
    inside = total = 0
    for line, words in zip(lines, segs, strict=True):
        data = line.encode()
        positions = cuts(words)
        inside += sum((data[c] & 0xC0) == 0x80 for c in positions)
        total += len(positions)
    return inside / total if total else 0.0
