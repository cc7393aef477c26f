"""The segmentation lattice of one text as a figure (ALGORITHM.md section 5).

Every vocabulary match is a horizontal bar over its byte span. Bars are stacked in lanes, short
pieces at the bottom, so that no two bars in a lane overlap. A bar's fill opacity is the edge's
marginal probability at the lattice's ``alpha``; the Viterbi path is outlined in red. A strip
below shows the probability of a token boundary at each byte offset.
"""

# ruff: noqa: RUF001, RUF002, RUF100 (CJK text, Greek alpha and angle-quoted hex are intended)

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bytepiece_core.utf8 import is_whole_utf8

from ._style import EDGE_COLOR, PATH_COLOR, TEMPLATE, char_label, piece_label

if TYPE_CHECKING:  # pragma: no cover
    from bytepiece_core.lattice import Lattice

__all__ = ["assign_lanes", "char_ticks", "lattice_figure"]

_LANE_PX = 30


def assign_lanes(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Lane (row) of each span so that spans in one lane do not overlap.

    Spans are placed shortest first (then leftmost) in the lowest lane that is free over
    the whole span, so single bytes fill lane 0 and longer pieces rise above.

    >>> assign_lanes(np.array([0, 1, 0, 2]), np.array([1, 2, 2, 4])).tolist()
    [0, 0, 1, 0]
    """
    starts = np.asarray(starts, np.int64)
    ends = np.asarray(ends, np.int64)
    lanes = np.zeros(len(starts), np.int64)
    occupied: list[np.ndarray] = []  # per lane, which bytes are covered
    n = int(ends.max()) if len(ends) else 0
    for i in np.lexsort((starts, ends - starts)).tolist():
        s, e = int(starts[i]), int(ends[i])
        lane = next((k for k, used in enumerate(occupied) if not used[s:e].any()), len(occupied))
        if lane == len(occupied):
            occupied.append(np.zeros(n, bool))
        occupied[lane][s:e] = True
        lanes[i] = lane
    return lanes


def char_ticks(text: str) -> tuple[list[float], list[str]]:
    """Centre byte position and label of each character of ``text`` (for an x axis in bytes).

    >>> char_ticks("a中")
    ([0.5, 2.5], ['a', '中'])
    """
    vals, labels, pos = [], [], 0
    for ch in text:
        width = len(ch.encode("utf-8"))
        vals.append(pos + width / 2)
        labels.append(char_label(ch))
        pos += width
    return vals, labels


def _hover(lat: Lattice, labels: list[str]) -> list[str]:
    return [
        f"{lab}  bytes {s}–{e}<br>id {i}, logp {lp:.2f}<br>marginal {m:.3f}"
        for lab, s, e, i, lp, m in zip(
            labels,
            lat.starts.tolist(),
            lat.ends.tolist(),
            lat.ids.tolist(),
            lat.logp.tolist(),
            lat.marginals.tolist(),
            strict=True,
        )
    ]


def lattice_figure(lat: Lattice, title: str | None = None, width: int | None = None) -> go.Figure:
    """Figure of a lattice: edges as bars with marginal opacity, Viterbi path, boundary strip.

    Parameters
    ----------
    lat
        A lattice from ``Tokenizer.lattice(text, alpha)``.
    title
        Figure title; by default the alpha, entropy and number of segmentations.
    width
        Width in pixels; by default 16 pixels a byte, between 600 and 1400.

    Returns
    -------
    go.Figure
        Traces, in order: ``"lattice"`` (all edges, outlined), ``"marginals"`` (all edges,
        ``marker.opacity`` = the marginals clipped to [0, 1], labelled with the pieces that
        are whole characters; byte fragments only on hover), ``"viterbi"`` (the best path's
        edges, outlined in red), ``"boundary"`` (``y`` = the boundary probability at byte
        offsets ``0..n_bytes``, in the lower subplot).

    Examples
    --------
    >>> from bytepiece_core import Tokenizer
    >>> from bytepiece_core.model import dump_model
    >>> tok = Tokenizer(dump_model({**{bytes([b]): 1 for b in range(256)}, b"ab": 5}))
    >>> fig = lattice_figure(tok.lattice("ab", alpha=0))
    >>> [t.name for t in fig.data], list(fig.data[1].marker.opacity)
    (['lattice', 'marginals', 'viterbi', 'boundary'], [0.5, 0.5, 0.5])
    """
    starts = np.asarray(lat.starts)
    ends = np.asarray(lat.ends)
    lanes = assign_lanes(starts, ends)
    n_lanes = int(lanes.max()) + 1 if len(lanes) else 1
    pieces = lat.pieces
    labels = [piece_label(p) for p in pieces]
    shown = [
        "" if label.startswith("‹") and not is_whole_utf8(p) else label
        for label, p in zip(labels, pieces, strict=True)
    ]
    widths = (ends - starts).tolist()
    best = np.asarray(lat.best, np.int64)
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.8, 0.2], vertical_spacing=0.06
    )
    common = dict(orientation="h", base=starts.tolist(), x=widths, y=lanes.tolist(), width=0.8)
    fig.add_trace(
        go.Bar(
            name="lattice",
            marker=dict(color="rgba(0,0,0,0)", line=dict(color="#9a9a9a", width=1)),
            hoverinfo="skip",
            showlegend=False,
            **common,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            name="marginals",
            marker=dict(
                color=EDGE_COLOR,
                # marginals are probabilities; rounding can put them a hair outside [0, 1]
                opacity=np.clip(lat.marginals, 0.0, 1.0).tolist(),
                line=dict(width=0),
            ),
            text=shown,
            textposition="inside",
            insidetextanchor="middle",
            textangle=0,
            textfont=dict(color="#111111"),
            hovertext=_hover(lat, labels),
            hoverinfo="text",
            showlegend=False,
            **common,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            name="viterbi",
            orientation="h",
            base=starts[best].tolist(),
            x=[widths[i] for i in best.tolist()],
            y=lanes[best].tolist(),
            width=0.8,
            marker=dict(color="rgba(0,0,0,0)", line=dict(color=PATH_COLOR, width=2.5)),
            hoverinfo="skip",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    offsets = list(range(lat.n_bytes + 1))
    fig.add_trace(
        go.Bar(
            name="boundary",
            x=offsets,
            y=lat.boundary_prob.tolist(),
            width=0.35,
            marker=dict(color=PATH_COLOR),
            hovertemplate="offset %{x}: P(boundary) = %{y:.3f}<extra></extra>",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    tickvals, ticktext = char_ticks(lat.text)
    if title is None:
        title = (
            f"α = {lat.alpha:g}: entropy {lat.entropy:.2f} bits over "
            f"e^{lat.log_count:.1f} segmentations; red = best path, opacity = marginal"
        )
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title, font=dict(size=13)),
        barmode="overlay",
        height=150 + _LANE_PX * n_lanes + 90,
        width=width if width is not None else int(min(1400, max(600, 120 + 16 * lat.n_bytes))),
        margin=dict(l=60, r=20, t=50, b=40),
        bargap=0,
        uniformtext=dict(minsize=9, mode="hide"),
    )
    fig.update_yaxes(title_text="lane", range=[-0.6, n_lanes - 0.4], dtick=1, row=1, col=1)
    fig.update_yaxes(title_text="P(cut)", range=[0, 1.05], row=2, col=1)
    fig.update_xaxes(range=[-0.5, lat.n_bytes + 0.5], row=1, col=1)
    fig.update_xaxes(
        tickvals=tickvals,
        ticktext=ticktext,
        title_text="characters (x = byte offset)",
        row=2,
        col=1,
    )
    return fig
