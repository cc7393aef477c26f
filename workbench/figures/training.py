"""Figures of a training run: vocabulary size through the pruning steps, distinct pieces
against corpus bytes read (a Heaps curve), and n-grams counted and kept per length."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ._style import HELDOUT_COLOR, PATH_COLOR, TEMPLATE, TRAIN_COLOR

__all__ = ["step_label", "vocab_growth_figure"]


class _Step(Protocol):
    @property
    def size(self) -> int | None: ...
    @property
    def step(self) -> str: ...
    @property
    def round(self) -> int: ...
    @property
    def n_pieces(self) -> int: ...


class _Heaps(Protocol):
    @property
    def bytes_read(self) -> int: ...
    @property
    def distinct_pieces(self) -> int: ...


class _Ngram(Protocol):
    @property
    def length(self) -> int: ...
    @property
    def counted(self) -> int: ...
    @property
    def kept(self) -> int: ...


def step_label(step: _Step) -> str:
    """Short axis label of a pruning step (``VocabStep``).

    >>> from bytepiece_core.trainer import VocabStep
    >>> step_label(VocabStep(None, "frequency", 0, 10)), step_label(VocabStep(500, "wasted", 2, 9))
    ('frequency', 'wasted 2 @500')
    """
    label = step.step if not step.round else f"{step.step} {step.round}"
    return label if step.size is None else f"{label} @{step.size}"


def vocab_growth_figure(
    steps: Sequence[_Step],
    heaps: Sequence[_Heaps] = (),
    ngrams: Sequence[_Ngram] = (),
    title: str | None = None,
) -> go.Figure:
    """Three panels of a training run (``Trainer.history``).

    Parameters
    ----------
    steps
        ``history.vocab``: vocabulary size after each pruning step (``VocabStep``).
    heaps
        ``history.heaps``: distinct candidate pieces after each amount of bytes read.
    ngrams
        ``history.ngrams``: distinct n-grams counted and kept per length.
    title
        Figure title.

    Returns
    -------
    go.Figure
        Always four traces, in order: ``"vocabulary"`` (x = step index, y = pieces, step labels
        as tick text), ``"heaps"`` (x = bytes read, y = distinct pieces), ``"n-grams counted"``
        and ``"n-grams kept"`` (x = length). Empty inputs give empty traces, so a live figure
        can be updated trace by trace.

    Examples
    --------
    >>> from bytepiece_core.trainer import VocabStep
    >>> steps = [VocabStep(None, "candidates", 0, 90), VocabStep(50, "cut", 0, 47)]
    >>> fig = vocab_growth_figure(steps)
    >>> list(fig.data[0].y), list(fig.layout.xaxis.ticktext)
    ([90, 47], ['candidates', 'cut @50'])
    """
    fig = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.08,
        subplot_titles=(
            "vocabulary through pruning",
            "distinct pieces vs bytes read",
            "n-grams per length",
        ),
    )
    labels = [step_label(s) for s in steps]
    fig.add_trace(
        go.Scatter(
            name="vocabulary",
            x=list(range(len(steps))),
            y=[s.n_pieces for s in steps],
            mode="lines+markers",
            line=dict(color=PATH_COLOR),
            text=labels,
            hovertemplate="%{text}: %{y} pieces<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            name="heaps",
            x=[h.bytes_read for h in heaps],
            y=[h.distinct_pieces for h in heaps],
            mode="lines",
            line=dict(color=TRAIN_COLOR),
            hovertemplate="%{x} bytes: %{y} distinct pieces<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    for name, values, color in (
        ("n-grams counted", [g.counted for g in ngrams], TRAIN_COLOR),
        ("n-grams kept", [g.kept for g in ngrams], HELDOUT_COLOR),
    ):
        fig.add_trace(
            go.Bar(
                name=name,
                x=[g.length for g in ngrams],
                y=values,
                marker=dict(color=color),
                legendgroup="ngrams",
            ),
            row=1,
            col=3,
        )
    fig.update_xaxes(
        title_text="pruning step",
        tickvals=list(range(len(steps))),
        ticktext=labels,
        tickangle=-40,
        row=1,
        col=1,
    )
    # log scale: the candidates can outnumber the vocabulary 100 to 1, and a linear axis
    # flattens the steps near the sizes asked for
    fig.update_yaxes(title_text="pieces (log scale)", type="log", row=1, col=1)
    fig.update_xaxes(title_text="bytes read", row=1, col=2)
    fig.update_yaxes(title_text="distinct candidate pieces", rangemode="tozero", row=1, col=2)
    fig.update_xaxes(title_text="n-gram length (bytes)", dtick=1, row=1, col=3)
    fig.update_yaxes(title_text="n-grams (log scale)", type="log", dtick=1, row=1, col=3)
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title or "training run", font=dict(size=13)),
        height=360,
        barmode="group",
        margin=dict(l=60, r=20, t=70, b=90),
        legend=dict(orientation="h", x=1, xanchor="right", y=-0.25),
    )
    return fig
