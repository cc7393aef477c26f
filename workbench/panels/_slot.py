"""A place in a panel for one plotly figure, shown as a ``FigureWidget`` once the panel is.

With plotly >= 6 every ``FigureWidget`` is an anywidget that ships plotly's whole JavaScript
bundle (about 5 MB) in its state, and the browser evaluates it once per widget, giving up
after two seconds. A page that starts many of them at once loses some, and a lost one never
draws its updates. So a slot creates its widget only when its panel is first shown (its tab
selected), with the figure as the widget's initial state; later figures update it in place.
"""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go

from ..figures import update_figure_widget

__all__ = ["FigureSlot"]


class FigureSlot:
    """One figure of a panel.

    Parameters
    ----------
    width
        The widest a figure shown here gets, in pixels; narrower pages get a narrower figure
        (it fills the panel's width: the widget is created once its tab is shown, when it
        can measure the page, and plotly resizes it with the window).

    Attributes
    ----------
    box : Box
        What the panel lays out; holds the widget once there is one.
    widget : FigureWidget or None
        Created by the first :meth:`show` after :meth:`activate`.
    """

    def __init__(self, width: int | None = None) -> None:
        self.width = width
        self.box = W.Box(layout=W.Layout(width="100%", max_width=f"{width}px" if width else None))
        self.widget: go.FigureWidget | None = None
        self.active = False
        self._figure: go.Figure | None = None

    @property
    def figure(self) -> go.Figure | None:
        """What the slot shows: the widget, or the figure waiting for the panel to be shown."""
        return self.widget if self.widget is not None else self._figure

    @property
    def data(self) -> tuple[go.BaseTraceType, ...]:
        """The traces shown (empty before any figure)."""
        return tuple(self.figure.data) if self.figure is not None else ()

    @property
    def layout(self) -> go.Layout:
        """The layout shown."""
        return self.figure.layout if self.figure is not None else go.Layout()

    def show(self, figure: go.Figure) -> None:
        """Show ``figure``: update the widget in place, or keep it until the panel is shown."""
        figure.update_layout(width=None, autosize=True)
        if self.widget is not None:
            update_figure_widget(self.widget, figure)
        elif self.active:
            self._create(figure)
        else:
            self._figure = figure

    def activate(self) -> None:
        """The panel is shown: create the widget for the figure waiting, if any."""
        self.active = True
        if self.widget is None and self._figure is not None:
            self._create(self._figure)

    def _create(self, figure: go.Figure) -> None:
        self.widget = go.FigureWidget(figure)
        self._figure = None
        self.box.children = (self.widget,)
