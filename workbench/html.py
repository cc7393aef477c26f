"""HTML fragments for the panels: tokens as coloured spans, side-by-side comparisons, tables
and status messages. Pure functions of their data, returning strings."""

# ruff: noqa: RUF001, RUF002, RUF100 (CJK text, Greek alpha and angle-quoted hex are intended)

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from bytepiece_core.utf8 import is_whole_utf8

from .figures._style import piece_label

__all__ = [
    "SPAN_COLORS",
    "compare_html",
    "cut_offsets",
    "error_html",
    "frame_html",
    "status_html",
    "token_spans_html",
]

SPAN_COLORS = ("#cfe3f7", "#fde2c4", "#d5f0d0", "#f5d0de", "#e4d9f5", "#f9f3c0")
"""Background colours of consecutive tokens (cycled)."""

_SPAN = (
    '<span class="wb-token" title="{title}" style="background:{bg};border-radius:3px;'
    'padding:1px 2px;margin:0 1px;display:inline-block;{extra}">{text}</span>'
)


def token_spans_html(
    pieces: Sequence[bytes], ids: Sequence[int] | None = None, max_tokens: int = 2000
) -> str:
    """Tokens as coloured spans, one colour per token in turn (cycling :data:`SPAN_COLORS`).

    Whitespace is made visible (``␣``, ``⏎``, and a line break after ``⏎``); a byte fragment
    (not whole characters) shows its bytes in hex with a dashed outline. Each span's title
    gives its id (if ``ids`` is given) and length.

    >>> token_spans_html([b"ab", b"\\xe4"]).count('class="wb-token"')
    2
    >>> "‹e4›" in token_spans_html([b"\\xe4"])
    True
    """
    # spans wrap like words (a long text wraps instead of running off the side)
    parts = [
        '<div class="wb-spans" style="line-height:2.1;font-size:15px;white-space:normal;'
        'overflow-wrap:anywhere;max-width:100%">'
    ]
    for k, piece in enumerate(pieces[:max_tokens]):
        label = piece_label(piece)
        is_fragment = label.startswith("‹") and len(piece) and not is_whole_utf8(piece)
        title = f"{len(piece)} bytes" if ids is None else f"id {ids[k]}, {len(piece)} bytes"
        parts.append(
            _SPAN.format(
                title=html.escape(title),
                bg=SPAN_COLORS[k % len(SPAN_COLORS)],
                extra="outline:1px dashed #888;" if is_fragment else "",
                text=html.escape(label),
            )
        )
        if piece.endswith(b"\n"):
            parts.append("<br>")
    if len(pieces) > max_tokens:
        parts.append(f"<i> … and {len(pieces) - max_tokens:,} more tokens</i>")
    parts.append("</div>")
    return "".join(parts)


def cut_offsets(pieces: Sequence[bytes]) -> set[int]:
    """Byte offsets of the cuts between tokens (not the two ends).

    >>> sorted(cut_offsets([b"ab", b"c", b"de"]))
    [2, 3]
    """
    cuts, pos = set(), 0
    for p in pieces[:-1]:
        pos += len(p)
        cuts.add(pos)
    return cuts


def compare_html(left: tuple[str, Sequence[bytes]], right: tuple[str, Sequence[bytes]]) -> str:
    """Two tokenizations of one text, one above the other, with counts.

    Each side is ``(label, pieces)``. Shown per side: tokens, distinct tokens, bytes per token
    and the spans; below, how many cuts the two share.

    >>> out = compare_html(("A", [b"ab", b"c"]), ("B", [b"a", b"bc"]))
    >>> "2 tokens" in out, "shared cuts: 0 (A has 1, B has 1;" in out
    (True, True)
    """
    blocks = []
    for label, pieces in (left, right):
        n_bytes = sum(len(p) for p in pieces)
        rate = n_bytes / len(pieces) if pieces else 0.0
        blocks.append(
            f"<div style='margin:6px 0 14px 0'><b>{html.escape(label)}</b>: "
            f"{len(pieces):,} tokens, {len(set(pieces)):,} distinct, "
            f"{rate:.2f} bytes/token{token_spans_html(pieces)}</div>"
        )
    cl, cr = cut_offsets(left[1]), cut_offsets(right[1])
    blocks.append(
        f"<div style='color:#555'>shared cuts: {len(cl & cr):,} ({html.escape(left[0])} has "
        f"{len(cl):,}, {html.escape(right[0])} has {len(cr):,}; a cut is a position between "
        "two tokens)</div>"
    )
    return "".join(blocks)


def frame_html(frame: pd.DataFrame, float_format: str = "{:.3f}", max_height: int = 420) -> str:
    """A DataFrame as a compact scrollable HTML table (index hidden, values escaped).

    >>> "<td>中</td>" in frame_html(pd.DataFrame({"text": ["中"]}))
    True
    """
    formatters = {
        c: (lambda v, f=float_format: f.format(v))
        for c in frame.columns
        if pd.api.types.is_float_dtype(frame[c])
    }
    table = frame.to_html(
        index=False, escape=True, formatters=formatters, border=0, classes="wb-table"
    )
    style = (
        "<style>.wb-table{border-collapse:collapse;font-size:13px}"
        ".wb-table th{position:sticky;top:0;background:#f3f3f3;text-align:left;padding:3px 8px}"
        ".wb-table td{padding:2px 8px;border-top:1px solid #eee}</style>"
    )
    return f"{style}<div style='max-height:{max_height}px;overflow:auto'>{table}</div>"


def status_html(message: str, kind: str = "info") -> str:
    """A one-line status message; ``kind`` is info, ok, warn or error.

    >>> status_html("done", "ok").startswith("<div class='wb-status wb-ok'")
    True
    """
    colors = {"info": "#31708f", "ok": "#2b7a2b", "warn": "#8a6d3b", "error": "#a94442"}
    if kind not in colors:
        raise ValueError(f"kind must be one of {sorted(colors)}, got {kind!r}")
    return (
        f"<div class='wb-status wb-{kind}' style='color:{colors[kind]};padding:2px 0'>"
        f"{html.escape(message)}</div>"
    )


def error_html(exc: BaseException, action: str) -> str:
    """An error box naming what failed and the exception's type and message.

    >>> "ValueError" in error_html(ValueError("bad size"), "training")
    True
    """
    return (
        "<div class='wb-status wb-error' style='color:#a94442;background:#f2dede;"
        "border:1px solid #ebccd1;border-radius:4px;padding:6px 10px;margin:4px 0'>"
        f"<b>{html.escape(action)} failed</b>: {html.escape(type(exc).__name__)}: "
        f"{html.escape(str(exc))}</div>"
    )
