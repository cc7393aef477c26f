"""Figures of the byte n-gram model (TEACHING.md steps 2-4): the entropy curve ``H_k`` and
per-byte surprisal along a sentence with word boundaries marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ._style import PATH_COLOR, TEMPLATE, char_label

__all__ = ["char_surprisal", "ngram_entropy_figure", "order_columns", "surprisal_figure"]


def ngram_entropy_figure(
    curves: pd.DataFrame | Mapping[str, pd.DataFrame], title: str | None = None
) -> go.Figure:
    """The n-gram entropy curve: ``H_k`` in bits per byte against the context length ``k``.

    Parameters
    ----------
    curves
        ``ngram_entropy(texts, order)`` (columns ``order``, ``entropy``), or a mapping of
        names to such frames (one curve per corpus).
    title
        Figure title.

    Returns
    -------
    go.Figure
        One line trace per curve, named after it (``"corpus"`` for a single frame); ``x`` =
        order, ``y`` = entropy; the hover text gives the drop from the order before.

    Examples
    --------
    >>> f = pd.DataFrame({"order": [0, 1, 2], "entropy": [4.0, 2.5, 2.0]})
    >>> fig = ngram_entropy_figure(f)
    >>> fig.data[0].name, list(fig.data[0].y), list(fig.data[0].customdata)
    ('corpus', [4.0, 2.5, 2.0], [0.0, 1.5, 0.5])
    """
    if isinstance(curves, pd.DataFrame):
        curves = {"corpus": curves}
    fig = go.Figure()
    for name, frame in curves.items():
        y = frame["entropy"].astype(float)
        drops = (-y.diff()).fillna(0.0).tolist()
        fig.add_trace(
            go.Scatter(
                name=name,
                x=frame["order"].tolist(),
                y=y.tolist(),
                customdata=drops,
                mode="lines+markers",
                hovertemplate=(
                    f"{name}: H_%{{x}} = %{{y:.3f}} bits/byte "
                    "(drop %{customdata:.3f})<extra></extra>"
                ),
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        title=dict(
            text=title or "how predictable is the next byte? H_k given k bytes of context",
            font=dict(size=13),
        ),
        xaxis=dict(title="context length k (bytes)", dtick=1),
        yaxis=dict(title="conditional entropy (bits / byte)", rangemode="tozero"),
        height=360,
        showlegend=len(curves) > 1,
        margin=dict(l=60, r=20, t=50, b=50),
    )
    return fig


def order_columns(frame: pd.DataFrame) -> list[str]:
    """The ``order_k`` columns of a surprisal frame, by increasing ``k``.

    >>> order_columns(pd.DataFrame(columns=["char", "order_10", "order_2"]))
    ['order_2', 'order_10']
    """
    cols = [c for c in frame.columns if str(c).startswith("order_")]
    return sorted(cols, key=lambda c: int(str(c).split("_", 1)[1]))


def _vertical_lines(
    xs: Sequence[float], top: float
) -> tuple[list[float | None], list[float | None]]:
    x: list[float | None] = []
    y: list[float | None] = []
    for v in xs:
        x += [v, v, None]
        y += [0.0, top, None]
    return x, y


def char_surprisal(
    frame: pd.DataFrame, *cuts: Sequence[int]
) -> tuple[pd.DataFrame, list[list[int]]]:
    """Surprisal per character: each character's bytes summed (bits; NaN where one of its
    bytes has none), and byte offsets of cuts turned into character offsets.

    In Chinese every character is three bytes, and per byte the curve is dominated by that
    rhythm (the second and third bytes of a character are nearly certain); summed per
    character, what is left is how surprising each character is, which peaks at words.

    Returns the per-character frame in the per-byte frame's layout (``byte_index`` holds the
    character's index, so :func:`surprisal_figure` draws it) and each list of cuts.

    >>> f = pd.DataFrame({"byte_index": [0, 1, 2, 3], "char_index": [0, 0, 0, 1],
    ...                   "char": ["天", "天", "天", "a"], "order_1": [5.0, 0.5, 0.25, 2.0]})
    >>> per_char, (gold,) = char_surprisal(f, [3])
    >>> per_char["order_1"].tolist(), per_char["char"].tolist(), gold
    ([5.75, 2.0], ['天', 'a'], [1])
    """
    cols = order_columns(frame)
    groups = frame.groupby("char_index", sort=True)
    summed = groups[cols].agg(lambda v: v.sum(skipna=False))
    first = groups["char"].first()
    n = len(first)
    out = pd.DataFrame(
        {"byte_index": np.arange(n), "char_index": np.arange(n), "char": first.to_numpy()}
    )
    for col in cols:
        out[col] = summed[col].to_numpy(dtype=float)
    char_of = frame["char_index"].to_numpy()
    mapped = [[int(char_of[b]) if b < len(char_of) else n for b in c] for c in cuts]
    return out, mapped


def surprisal_figure(
    frame: pd.DataFrame,
    gold_cuts: Sequence[int] = (),
    model_cuts: Sequence[int] = (),
    orders: Sequence[int] | None = None,
    title: str | None = None,
    unit: str = "byte",
) -> go.Figure:
    """Surprisal of each byte of a sentence under n-gram models of several orders, with word
    boundaries marked.

    Parameters
    ----------
    frame
        ``NgramModel.surprisal(text)``: one row per byte with ``byte_index``, ``char_index``,
        ``char`` and ``order_0`` .. ``order_k`` (bits; NaN where the n-gram was pruned,
        drawn as a gap).
    gold_cuts
        Byte offsets of gold word boundaries inside the sentence (a cut at offset ``b`` lies
        between bytes ``b - 1`` and ``b``, drawn at ``b - 0.5``).
    model_cuts
        Byte offsets where the n-gram Viterbi segmentation cuts.
    orders
        Orders to draw (default: all but order 0).
    title
        Figure title.
    unit
        ``"byte"``, or ``"char"`` for a frame and cuts from :func:`char_surprisal` (x is then
        the character index).

    Returns
    -------
    go.Figure
        One line trace per order, named ``"order k"`` (x = byte index, y = bits, None for
        NaN); then
        ``"gold boundary"`` (dashed vertical lines at ``b - 0.5``) and ``"n-gram cut"``
        (triangles at ``b - 0.5`` on the axis).

    Examples
    --------
    >>> f = pd.DataFrame({"byte_index": [0, 1], "char_index": [0, 1], "char": ["a", "b"],
    ...                   "order_0": [2.0, 2.0], "order_1": [1.0, 3.0]})
    >>> fig = surprisal_figure(f, gold_cuts=[1], model_cuts=[1])
    >>> [t.name for t in fig.data], list(fig.data[0].y), list(fig.data[1].x)[:2]
    (['order 1', 'gold boundary', 'n-gram cut'], [1.0, 3.0], [0.5, 0.5])
    """
    if unit not in ("byte", "char"):
        raise ValueError(f"unit must be 'byte' or 'char', not {unit!r}")
    name = "byte" if unit == "byte" else "character"
    cols = order_columns(frame)
    if orders is not None:
        wanted = {f"order_{k}" for k in orders}
        cols = [c for c in cols if c in wanted]
    elif len(cols) > 1:
        cols = cols[1:]
    x = frame["byte_index"].tolist()
    fig = go.Figure()
    top = 1.0
    for i, col in enumerate(cols):
        values = frame[col].to_numpy(dtype=float)  # NaN: the n-gram was pruned (a gap)
        if np.isfinite(values).any():
            top = max(top, float(np.nanmax(values)))
        y = [None if np.isnan(v) else float(v) for v in values]
        fig.add_trace(
            go.Scatter(
                name=f"order {col.split('_', 1)[1]}",
                x=x,
                y=y,
                mode="lines+markers",
                marker=dict(size=4),
                line=dict(width=1 + 2 * (i == len(cols) - 1)),
                hovertemplate=f"{name} %{{x}}: %{{y:.2f}} bits<extra>%{{fullData.name}}</extra>",
            )
        )
    gx, gy = _vertical_lines([c - 0.5 for c in gold_cuts], top * 1.05)
    fig.add_trace(
        go.Scatter(
            name="gold boundary",
            x=gx,
            y=gy,
            mode="lines",
            line=dict(color="#444444", dash="dot", width=1),
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            name="n-gram cut",
            x=[c - 0.5 for c in model_cuts],
            y=[0.0] * len(model_cuts),
            mode="markers",
            marker=dict(symbol="triangle-up", size=11, color=PATH_COLOR),
            hovertemplate=f"n-gram Viterbi cut before {name} %{{x}}<extra></extra>",
        )
    )
    firsts = frame.drop_duplicates("char_index")
    widths = frame.groupby("char_index").size().reindex(firsts["char_index"]).to_numpy()
    tickvals = (firsts["byte_index"].to_numpy() + (widths - 1) / 2).tolist()
    fig.update_layout(
        template=TEMPLATE,
        title=dict(
            text=title
            or (
                "surprisal of each byte (bits): peaks at word boundaries"
                if unit == "byte"
                else "surprisal of each character (bits, its bytes summed): peaks at words"
            ),
            font=dict(size=13),
        ),
        xaxis=dict(
            tickvals=tickvals,
            ticktext=[char_label(str(c)) for c in firsts["char"]],
            title="characters (x = byte index)" if unit == "byte" else "characters",
        ),
        yaxis=dict(title="surprisal (bits)", rangemode="tozero"),
        height=380,
        margin=dict(l=60, r=20, t=50, b=50),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"),
    )
    return fig
