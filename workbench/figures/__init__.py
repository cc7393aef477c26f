"""Figure builders: pure functions from data to a plotly ``go.Figure``.

Panels wrap the figures they show in a ``go.FigureWidget`` and refresh it with
:func:`update_figure_widget`, which updates traces in place when the layout of traces is
unchanged (e.g. a new ``alpha``) and replaces them otherwise.
"""

from __future__ import annotations

from copy import deepcopy

import plotly.graph_objects as go

from .entropy import char_surprisal, ngram_entropy_figure, order_columns, surprisal_figure
from .lattice import assign_lanes, char_ticks, lattice_figure
from .sweep import METRICS, mdl_size, sweep_figure
from .training import step_label, vocab_growth_figure
from .vocabulary import category_figure, piece_length_figure, script_figure

__all__ = [
    "METRICS",
    "assign_lanes",
    "category_figure",
    "char_surprisal",
    "char_ticks",
    "lattice_figure",
    "mdl_size",
    "ngram_entropy_figure",
    "order_columns",
    "piece_length_figure",
    "script_figure",
    "step_label",
    "surprisal_figure",
    "sweep_figure",
    "update_figure_widget",
    "vocab_growth_figure",
]


def update_figure_widget(
    widget: go.FigureWidget, figure: go.Figure, width: int | None = None
) -> None:
    """Make ``widget`` show ``figure``: same traces, same layout (``width`` in pixels, if
    given, overrides the figure's; a figure first drawn in a hidden tab cannot size itself).

    Traces are updated in place when both have the same trace types and names (so the
    browser animates instead of redrawing); otherwise they are replaced.

    >>> w = go.FigureWidget(go.Scatter(name="a", y=[1]))
    >>> update_figure_widget(w, go.Figure(go.Scatter(name="a", y=[2, 3])))
    >>> list(w.data[0].y)
    [2, 3]
    """
    if width is not None:
        figure.update_layout(width=width)
    same = [(t.type, t.name) for t in widget.data] == [(t.type, t.name) for t in figure.data]
    with widget.batch_update():
        if same:
            for old, new in zip(widget.data, figure.data, strict=True):
                old.update(new.to_plotly_json(), overwrite=True)
        else:
            widget.data = ()
            widget.add_traces(list(figure.data))
        widget.layout = figure.layout
    _sync_widget_state(widget)


def _sync_widget_state(widget: go.FigureWidget) -> None:
    """Copy the figure into the widget's synced state (plotly >= 6).

    plotly sends in-place edits as one-off messages, which reach only views that exist, and
    refreshes its synced ``_widget_data``/``_widget_layout`` only when the widget itself is
    displayed. A FigureWidget inside a Box (or rendered later, as Voilà does after running
    the notebook, or when a tab is first shown) would then start from the figure it was
    created with. Keeping the synced state current makes every new view show the figure.
    """
    if hasattr(widget, "_widget_data") and hasattr(widget, "_widget_layout"):
        widget._widget_data = deepcopy(widget._data)
        widget._widget_layout = deepcopy(widget._layout_obj._props)
