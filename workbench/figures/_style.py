"""Shared look of the workbench figures: template, colours, labels for pieces."""

# ruff: noqa: RUF001, RUF002, RUF100 (CJK text, Greek alpha and angle-quoted hex are intended)

from __future__ import annotations

from bytepiece_core.utf8 import is_whole_utf8

__all__ = [
    "CATEGORY_COLORS",
    "EDGE_COLOR",
    "HELDOUT_COLOR",
    "PATH_COLOR",
    "TEMPLATE",
    "TRAIN_COLOR",
    "category_color",
    "char_label",
    "piece_label",
]

TEMPLATE = "plotly_white"
PATH_COLOR = "#d62728"  # the Viterbi path, chosen sizes, minima
EDGE_COLOR = "#1f77b4"  # lattice edges
TRAIN_COLOR = "#1f77b4"
HELDOUT_COLOR = "#ff7f0e"

CATEGORY_COLORS: dict[str, str] = {
    "CJK": "#d62728",
    "Latin": "#1f77b4",
    "digit": "#2ca02c",
    "punctuation": "#9467bd",
    "whitespace": "#7f7f7f",
    "other letter": "#ff7f0e",
    "other": "#8c564b",
    "mixed": "#e377c2",
    "byte fragment": "#bcbd22",
}

_VISIBLE = {" ": "␣", "\n": "⏎", "\r": "␍", "\t": "⇥"}


def category_color(category: str) -> str:
    """Colour of a script/category (grey for an unknown one)."""
    return CATEGORY_COLORS.get(category, "#c7c7c7")


def char_label(ch: str) -> str:
    """A character as shown on an axis: whitespace made visible.

    >>> char_label(" "), char_label("中")
    ('␣', '中')
    """
    return _VISIBLE.get(ch, ch)


def piece_label(piece: bytes) -> str:
    """A piece as shown in figures: its text with whitespace made visible, or its bytes in
    hex between angle quotes when it is not whole UTF-8 characters.

    >>> piece_label("a b".encode()), piece_label(b"\\xe4\\xbb"), piece_label(b"\\n")
    ('a␣b', '‹e4 bb›', '⏎')
    """
    if not is_whole_utf8(piece):
        return "‹" + " ".join(f"{b:02x}" for b in piece) + "›"
    return "".join(_VISIBLE.get(ch, ch) for ch in piece.decode("utf-8"))
