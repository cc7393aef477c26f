"""``Workbench``: all panels in one tabbed app over one shared state.

In a notebook cell::

    from workbench import Workbench
    Workbench("en_kjv")          # the last expression of a cell displays the app
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import ipywidgets as W

from bytepiece_core import Tokenizer

from .corpora import Corpus, load_corpus
from .panels import (
    ComparePanel,
    CorpusPanel,
    EntropyPanel,
    LatticePanel,
    TrainPanel,
    TunePanel,
    VocabPanel,
)
from .panels._base import Panel
from .state import AppState

__all__ = ["Workbench"]

# Controls in a row wrap onto the next line on a narrow page, and nothing is wider than the
# page, so the app reads at 800 px without scrolling sideways.
_STYLE = """<style>
.bytepiece-workbench { max-width: 100%; }
.bytepiece-workbench .widget-hbox { flex-wrap: wrap; }
.bytepiece-workbench .widget-inline-hbox, .bytepiece-workbench .widget-textarea,
.bytepiece-workbench .widget-html, .bytepiece-workbench .js-plotly-plot { max-width: 100%; }
.bytepiece-workbench .widget-html-content { overflow-x: auto; max-width: 100%; }
/* a dark page (Voila's ?theme=dark, JupyterLab's dark theme): the figures and tables follow */
body[data-jp-theme-light="false"] .bytepiece-workbench .js-plotly-plot .main-svg {
  background: transparent !important; }
body[data-jp-theme-light="false"] .bytepiece-workbench .js-plotly-plot .bg {
  fill: #262626 !important; }
body[data-jp-theme-light="false"] .bytepiece-workbench .js-plotly-plot text {
  fill: #d8d8d8 !important; }
body[data-jp-theme-light="false"] .bytepiece-workbench .js-plotly-plot .gridlayer path,
body[data-jp-theme-light="false"] .bytepiece-workbench .js-plotly-plot .zerolinelayer path {
  stroke: #484848 !important; }
body[data-jp-theme-light="false"] .bytepiece-workbench .wb-table th {
  background: #333 !important; }
body[data-jp-theme-light="false"] .bytepiece-workbench .wb-table td {
  border-top-color: #444 !important; }
body[data-jp-theme-light="false"] .bytepiece-workbench .wb-token { color: #111; }
body[data-jp-theme-light="false"] .bytepiece-workbench .wb-help { color: #aaa !important; }
</style>"""
_HEADER = _STYLE + (
    "<div style='display:flex;align-items:baseline;gap:12px'>"
    "<h2 style='margin:4px 0'>BytePiece Workbench</h2>"
    "<span style='color:#666'>train, see and tune minimum-entropy tokenizers</span></div>"
)


def _no_null_tooltips(widget: W.Widget) -> None:
    """Give every control without a tooltip an empty one: ipywidgets 8 shows an unset tooltip
    as the word "null" when the control is hovered."""
    if "tooltip" in widget.trait_names() and widget.tooltip is None:
        widget.tooltip = ""
    for child in getattr(widget, "children", ()):
        _no_null_tooltips(child)


class Workbench:
    """The workbench app: Corpus, Train, Vocabulary, Entropy, Tune, Lattice and Compare tabs.

    Parameters
    ----------
    corpus
        What to study: a bundled sample name (see ``workbench.corpora.SAMPLES``), ``"mixed"``,
        a path to a UTF-8 text file, a list of str, or None for the default sample
        (People's Daily).
    released
        The model to compare with (default: ``Tokenizer.from_pretrained()``).
    save_dir
        The folder relative file names are saved to and read from (default: the folder
        ``python -m workbench`` was started in, or the working directory).
    file_root
        The only folder whose files the path fields may read and write (``python -m workbench
        --host`` off this machine sets it); None: any the user can reach.

    Attributes
    ----------
    state : AppState
        Shared by the panels: corpus, trained models, sweep.
    corpus, train, vocab, entropy, tune, lattice, compare : Panel
        The panels (each has a ``widget``).
    tabs : Tab
    widget : VBox
        The whole app (what a notebook cell displays).

    Examples
    --------
    In a notebook cell, the last expression displays the app::

        from workbench import Workbench
        Workbench()
    """

    def __init__(
        self,
        corpus: str | os.PathLike[str] | Sequence[str] | Corpus | None = None,
        released: Tokenizer | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        file_root: str | os.PathLike[str] | None = None,
    ) -> None:
        self.state = AppState(
            load_corpus(corpus), released=released, save_dir=save_dir, file_root=file_root
        )
        self.corpus = CorpusPanel(self.state)
        self.train = TrainPanel(self.state)
        self.vocab = VocabPanel(self.state)
        self.entropy = EntropyPanel(self.state)
        self.tune = TunePanel(self.state)
        self.lattice = LatticePanel(self.state)
        self.compare = ComparePanel(self.state)
        self.tabs = W.Tab(children=[p.widget for p in self.panels])
        self.tabs.titles = tuple(p.title for p in self.panels)
        self.tabs.observe(self._on_tab, "selected_index")
        self.panels[0].on_show()
        self.widget = W.VBox([W.HTML(_HEADER), self.tabs])
        self.widget.add_class("bytepiece-workbench")
        _no_null_tooltips(self.widget)

    @property
    def panels(self) -> list[Panel]:
        """The panels in tab order."""
        return [
            self.corpus,
            self.train,
            self.vocab,
            self.entropy,
            self.tune,
            self.lattice,
            self.compare,
        ]

    def select(self, title: str) -> None:
        """Show the tab with this title (e.g. ``"Lattice"``)."""
        titles = [p.title for p in self.panels]
        if title not in titles:
            raise ValueError(f"no tab {title!r}; tabs are {titles}")
        self.tabs.selected_index = titles.index(title)

    def _on_tab(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.panels[change["new"]].on_show()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"Workbench(corpus={self.state.corpus.name!r}, models={list(self.state.models)})"
