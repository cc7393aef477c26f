"""Searching and sorting the vocabulary table (``bytepiece_core.metrics.vocab_table``)."""

# ruff: noqa: RUF001, RUF002, RUF100 (CJK text, Greek alpha and angle-quoted hex are intended)

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from bytepiece_core.metrics import evaluate

from .figures._style import piece_label

__all__ = ["SORT_KEYS", "filter_vocab", "metrics_frame"]

SORT_KEYS: dict[str, str] = {
    "count": "count",
    "id": "id",
    "length (bytes)": "n_bytes",
    "length (chars)": "n_chars",
    "log p": "logp",
    "text": "text",
}
"""Sort menu labels and the column each sorts by."""

_SHOWN = ["id", "text", "n_bytes", "n_chars", "count", "logp", "category"]


def filter_vocab(
    table: pd.DataFrame,
    query: str = "",
    category: str | None = None,
    sort_by: str = "count",
    descending: bool = True,
    limit: int = 200,
) -> tuple[pd.DataFrame, int]:
    """The rows of a vocabulary table that match, sorted, at most ``limit`` of them.

    Parameters
    ----------
    table
        ``vocab_table(tokenizer)``.
    query
        Substring to look for in the piece's text (case-sensitive); empty matches all.
        A query of hex bytes between angle quotes, e.g. ``‹e4›``, matches byte fragments.
    category
        Keep only this category (None or ``"all"`` keeps every one).
    sort_by
        A column of the table (``count``, ``id``, ``n_bytes``, ``n_chars``, ``logp``, ``text``).
    descending
        Sort from largest to smallest.
    limit
        Most rows returned.

    Returns
    -------
    (DataFrame, int)
        The rows to show (columns id, text, n_bytes, n_chars, count, logp, category; ``text``
        with whitespace made visible and fragments in hex) and how many rows matched in all.

    Examples
    --------
    >>> t = pd.DataFrame({"id": [3, 4, 5], "text": ["the", "he", "中"],
    ...                   "piece": [b"the", b"he", "中".encode()], "n_bytes": [3, 2, 3],
    ...                   "n_chars": [3, 2, 1], "count": [5, 9, 2], "logp": [-1.0, -0.5, -2.0],
    ...                   "category": ["Latin", "Latin", "CJK"]})
    >>> rows, n = filter_vocab(t, query="he", sort_by="count")
    >>> rows["text"].tolist(), n
    (['he', 'the'], 2)
    """
    if sort_by not in table.columns:
        raise ValueError(f"cannot sort by {sort_by!r}; choose one of {list(SORT_KEYS.values())}")
    labels = table["piece"].map(piece_label)
    keep = pd.Series(True, index=table.index)
    if query:
        keep &= labels.str.contains(query, regex=False) | table["text"].str.contains(
            query, regex=False
        )
    if category not in (None, "all"):
        keep &= table["category"] == category
    matched = table[keep]
    ordered = matched.sort_values(
        [sort_by, "id"], ascending=[not descending, True], kind="stable"
    ).head(max(0, limit))
    shown = ordered[_SHOWN].copy()
    shown["text"] = labels[ordered.index]
    if (shown["count"] % 1 == 0).all():  # counts are whole numbers; show them so
        shown["count"] = shown["count"].astype("int64")
    return shown.reset_index(drop=True), int(keep.sum())


METRIC_HELP = {
    "tokens": "tokens the text becomes",
    "bytes/token": "compression: UTF-8 bytes per token (higher: fewer, longer tokens)",
    "chars/token": "characters per token",
    "bits/byte": "code length: bits the unigram model spends per byte (lower: a better model)",
    "bits/token": "how surprising a token is on average (rises with the vocabulary)",
    "fragments": "share of tokens that are parts of a character (byte pieces)",
}
"""What each column of :func:`metrics_frame` means, in plain words."""


def metrics_legend_html(columns: Any = METRIC_HELP) -> str:
    """A small legend of the metric columns, to show under a table of them.

    >>> "compression" in metrics_legend_html(["bytes/token"])
    True
    """
    items = "; ".join(f"<b>{html.escape(c)}</b>: {html.escape(METRIC_HELP[c])}" for c in columns)
    return f"<div class='wb-help' style='color:#666;font-size:11px;margin:4px 0'>{items}</div>"


def metrics_frame(models: dict[str, Any], texts: list[str]) -> pd.DataFrame:
    """How each model codes ``texts``: one row per model label."""
    rows = []
    for label, tok in models.items():
        m = evaluate(tok, texts)
        rows.append(
            {
                "model": label,
                "tokens": m.n_tokens,
                "bytes/token": m.bytes_per_token,
                "chars/token": m.chars_per_token,
                "bits/byte": m.bits_per_byte,
                "bits/token": m.bits_per_token,
                "fragments": m.fragment_share,
            }
        )
    return pd.DataFrame(rows)
