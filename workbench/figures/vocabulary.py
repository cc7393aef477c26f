"""Figures of a vocabulary (``vocab_table``) and of a corpus's scripts: piece lengths by
category, and the share of each script/category."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ._style import TEMPLATE, category_color

__all__ = ["category_figure", "piece_length_figure", "script_figure"]


def _ordered_categories(frame: pd.DataFrame, weight: str | None = None) -> list[str]:
    sizes = (
        frame.groupby("category").size()
        if weight is None
        else frame.groupby("category")[weight].sum()
    )
    return sizes.sort_values(ascending=False, kind="stable").index.tolist()


def piece_length_figure(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Histogram of piece lengths in bytes, stacked by category.

    Parameters
    ----------
    table
        ``vocab_table(tokenizer)`` (columns ``n_bytes`` and ``category`` are used).
    title
        Figure title.

    Returns
    -------
    go.Figure
        One bar trace per category (most pieces first), named after it; ``x`` = length in
        bytes, ``y`` = number of pieces of that length and category.

    Examples
    --------
    >>> t = pd.DataFrame({"n_bytes": [1, 1, 3, 6], "category": ["Latin", "Latin", "CJK", "CJK"]})
    >>> [(b.name, list(b.x), list(b.y)) for b in piece_length_figure(t).data]
    [('CJK', [3, 6], [1, 1]), ('Latin', [1], [2])]
    """
    fig = go.Figure()
    for cat in _ordered_categories(table):
        counts = table.loc[table["category"] == cat, "n_bytes"].value_counts().sort_index()
        fig.add_trace(
            go.Bar(
                name=cat,
                x=counts.index.tolist(),
                y=counts.tolist(),
                marker=dict(color=category_color(cat)),
                hovertemplate=f"{cat}: %{{y}} pieces of %{{x}} bytes<extra></extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        barmode="stack",
        title=dict(text=title or f"piece lengths ({len(table):,} pieces)", font=dict(size=13)),
        xaxis=dict(
            title="piece length (bytes)",
            dtick=1 if len(table) and table["n_bytes"].max() <= 24 else None,
        ),
        yaxis=dict(title="pieces"),
        height=340,
        margin=dict(l=60, r=20, t=50, b=50),
    )
    return fig


def category_figure(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Share of each category among the pieces and among the occurrences they were counted.

    Parameters
    ----------
    table
        ``vocab_table(tokenizer)`` (columns ``category`` and ``count`` are used).
    title
        Figure title.

    Returns
    -------
    go.Figure
        Two horizontal bar traces, ``"pieces"`` and ``"occurrences"``: ``y`` = the categories
        (same order in both), ``x`` = share in percent.

    Examples
    --------
    >>> t = pd.DataFrame({"category": ["CJK", "CJK", "Latin"], "count": [1, 1, 6]})
    >>> fig = category_figure(t)
    >>> list(fig.data[0].y), [round(v, 1) for v in fig.data[0].x], list(fig.data[1].x)
    (['CJK', 'Latin'], [66.7, 33.3], [25.0, 75.0])
    """
    cats = _ordered_categories(table)
    pieces = table.groupby("category").size().reindex(cats)
    counts = table.groupby("category")["count"].sum().reindex(cats)
    fig = go.Figure()
    for name, values, opacity in (("pieces", pieces, 1.0), ("occurrences", counts, 0.55)):
        share = (100.0 * values / values.sum()).tolist()
        fig.add_trace(
            go.Bar(
                name=name,
                orientation="h",
                y=cats,
                x=share,
                marker=dict(color=[category_color(c) for c in cats], opacity=opacity),
                hovertemplate=f"%{{y}}: %{{x:.1f}}% of {name}<extra></extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        title=dict(
            text=title or "categories: share of pieces (solid) and of occurrences (light)",
            font=dict(size=13),
        ),
        xaxis=dict(title="% of pieces / of counted occurrences"),
        yaxis=dict(autorange="reversed"),
        height=340,
        showlegend=False,
        margin=dict(l=110, r=20, t=50, b=50),
    )
    return fig


def script_figure(breakdown: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Share of characters per script/category in a corpus.

    Parameters
    ----------
    breakdown
        ``script_breakdown(texts)`` (columns category, chars, share).
    title
        Figure title.

    Returns
    -------
    go.Figure
        One horizontal bar trace ``"characters"``: ``y`` = categories, ``x`` = percent.

    Examples
    --------
    >>> b = pd.DataFrame({"category": ["CJK", "Latin"], "chars": [3, 1], "share": [0.75, 0.25]})
    >>> list(script_figure(b).data[0].x)
    [75.0, 25.0]
    """
    cats = breakdown["category"].tolist()
    fig = go.Figure(
        go.Bar(
            name="characters",
            orientation="h",
            y=cats,
            x=(100.0 * breakdown["share"]).tolist(),
            customdata=breakdown["chars"].tolist(),
            marker=dict(color=[category_color(c) for c in cats]),
            hovertemplate="%{y}: %{x:.1f}% (%{customdata:,} chars)<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title or "characters by script", font=dict(size=13)),
        xaxis=dict(title="% of characters"),
        yaxis=dict(autorange="reversed"),
        height=max(220, 60 + 32 * len(cats)),
        margin=dict(l=110, r=20, t=50, b=50),
    )
    return fig
