"""Figures of a vocabulary-size sweep (TEACHING.md step 6): compression, bits per token, bits
per byte and total description length against vocabulary size, on the training text and on
held-out text, with a marker at a chosen size."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bytepiece_core.analysis import best_size

from ._style import HELDOUT_COLOR, PATH_COLOR, TEMPLATE, TRAIN_COLOR

__all__ = ["METRICS", "mdl_size", "sweep_figure"]

METRICS: dict[str, str] = {
    "bytes_per_token": "bytes / token (compression, higher = fewer tokens)",
    "bits_per_token": "bits / token (surprise of one token)",
    "bits_per_byte": "bits / byte (code length, lower = better)",
    "description_bits": "description length: corpus + vocabulary (bits)",
}
"""Metrics a sweep figure can show, with their axis titles. All but ``description_bits`` come
as a ``train_`` and a ``heldout_`` column."""


def mdl_size(table: pd.DataFrame) -> int | None:
    """The requested size whose total description length is least (None if not known).

    >>> mdl_size(pd.DataFrame({"size": [300, 500, 800], "description_bits": [9.0, 7.0, 8.0]}))
    500
    """
    return best_size(table, "description_bits")


def _columns(key: str) -> list[tuple[str, str, str]]:
    if key == "description_bits":
        return [("description_bits", "description length", TRAIN_COLOR)]
    return [(f"train_{key}", "train", TRAIN_COLOR), (f"heldout_{key}", "held-out", HELDOUT_COLOR)]


def sweep_figure(
    table: pd.DataFrame,
    selected: int | None = None,
    metrics: Sequence[str] = tuple(METRICS),
    title: str | None = None,
) -> go.Figure:
    """Sweep curves against the vocabulary size, one subplot per metric.

    Parameters
    ----------
    table
        ``Sweep.table``: one row per requested ``size`` with the actual ``vocab_size`` and the
        ``train_*``, ``heldout_*`` metrics and ``description_bits``.
    selected
        A requested size to mark on every curve (None: no marker).
    metrics
        Keys of :data:`METRICS` to plot, in order (subplots on a grid of two columns).
    title
        Figure title.

    Returns
    -------
    go.Figure
        Every trace has the metric's key as ``meta``. Per metric: a line trace per available
        column, named ``"train"`` / ``"held-out"`` (``"description length"`` for
        ``description_bits``), with ``x`` = the actual vocabulary size; then a marker trace
        ``"chosen"`` at the selected row (empty when ``selected`` is None).
        ``description_bits`` also gets a ``"minimum"`` star at the least description length.

    Examples
    --------
    >>> t = pd.DataFrame({"size": [300, 600], "vocab_size": [300, 580],
    ...                   "train_bytes_per_token": [1.5, 2.0],
    ...                   "heldout_bytes_per_token": [1.4, 1.7]})
    >>> fig = sweep_figure(t, selected=600, metrics=["bytes_per_token"])
    >>> [(d.meta, d.name, list(d.x), list(d.y)) for d in fig.data][-1]
    ('bytes_per_token', 'chosen', [580, 580], [2.0, 1.7])
    """
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown sweep metrics {unknown}; choose from {list(METRICS)}")
    table = table.sort_values("size", kind="stable")
    cols = 2 if len(metrics) > 1 else 1
    rows = math.ceil(len(metrics) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[METRICS[m] for m in metrics],
        horizontal_spacing=0.1,
        vertical_spacing=0.16,
    )
    chosen = table[table["size"] == selected] if selected is not None else table.iloc[:0]
    x = table["vocab_size"].tolist()
    hover = [
        f"requested {s:,}, actual {v:,}" + (" (not reached)" if v < s else "")
        for s, v in zip(table["size"], x, strict=True)
    ]
    for i, key in enumerate(metrics):
        row, col = i // cols + 1, i % cols + 1
        chosen_x: list[float] = []
        chosen_y: list[float] = []
        for column, label, color in _columns(key):
            if column not in table or table[column].isna().all():
                continue
            fig.add_trace(
                go.Scatter(
                    name=label,
                    meta=key,
                    x=x,
                    y=table[column].astype(float).tolist(),
                    text=hover,
                    mode="lines+markers",
                    line=dict(color=color, dash="solid" if label != "held-out" else "dash"),
                    legendgroup=label,
                    showlegend=i == 0,
                    hovertemplate=f"{label}: %{{y:.4g}}<br>%{{text}}<extra></extra>",
                ),
                row=row,
                col=col,
            )
            chosen_x += chosen["vocab_size"].tolist()
            chosen_y += chosen[column].astype(float).tolist()
        if key == "description_bits" and (best := mdl_size(table)) is not None:
            at = table[table["size"] == best]
            fig.add_trace(
                go.Scatter(
                    name="minimum",
                    meta=key,
                    x=at["vocab_size"].tolist(),
                    y=at["description_bits"].astype(float).tolist(),
                    mode="markers",
                    marker=dict(symbol="star", size=14, color="#2ca02c"),
                    showlegend=False,
                    hovertemplate="least description length<extra></extra>",
                ),
                row=row,
                col=col,
            )
        fig.add_trace(
            go.Scatter(
                name="chosen",
                meta=key,
                x=chosen_x,
                y=chosen_y,
                mode="markers",
                marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(color=PATH_COLOR, width=3)),
                showlegend=False,
                hovertemplate="chosen size<extra></extra>",
            ),
            row=row,
            col=col,
        )
        fig.update_xaxes(title_text="vocabulary size", row=row, col=col)
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title or "vocabulary-size sweep", font=dict(size=13)),
        height=300 * rows + 80,
        margin=dict(l=60, r=20, t=80, b=50),
        legend=dict(orientation="h", y=1.06, yanchor="bottom", x=1, xanchor="right"),
    )
    return fig
