"""Vocabulary panel: the pieces of a model as a searchable, sortable table, with the
histogram of piece lengths and the breakdown by script/category."""

# ruff: noqa: RUF001, RUF002, RUF100 (CJK text, Greek alpha and angle-quoted hex are intended)

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as W
import pandas as pd

from bytepiece_core.metrics import vocab_table

from ..figures import category_figure, piece_length_figure
from ..figures._style import CATEGORY_COLORS
from ..html import frame_html
from ..state import RELEASED, AppState
from ..tables import SORT_KEYS, filter_vocab
from ._base import Panel, section, sync_model_menu

__all__ = ["VocabPanel"]


class VocabPanel(Panel):
    """Browse the vocabulary of one model.

    Attributes
    ----------
    model : Dropdown
        Which model (trained sizes, released model).
    query, category, sort, descending, limit : widgets filtering and ordering the table
    count : HTML, how many pieces match
    table : HTML, the rows shown
    lengths, categories : FigureSlot
    """

    title = "Vocabulary"

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        self._tables: dict[str, tuple[Any, pd.DataFrame]] = {}
        self._shown = False  # the table of a 40k vocabulary takes a second: wait until shown
        self._lock = threading.Lock()
        self.model = W.Dropdown(description="Model", layout=W.Layout(width="420px"))
        self.query = W.Text(
            placeholder="search text, e.g. 中国 or ‹e4›",
            description="Search",
            continuous_update=True,
        )
        self.category = W.Dropdown(
            options=["all", *CATEGORY_COLORS], value="all", description="Category"
        )
        self.sort = W.Dropdown(
            options=list(SORT_KEYS.items()), value="count", description="Sort by"
        )
        self.descending = W.Checkbox(value=True, description="descending")
        self.limit = W.Dropdown(options=[50, 200, 1000, 5000], value=200, description="Rows")
        self.count = W.HTML()
        self.table = W.HTML()
        self.lengths = self.slot(width=600)
        self.categories = self.slot(width=560)
        sync_model_menu(self.model, list(state.models), state.default_model())
        for w in (self.query, self.category, self.sort, self.descending, self.limit):
            w.observe(lambda change: self.refresh_table(), "value")
        self.model.observe(lambda change: self.refresh(), "value")
        state.observe(self._on_models, "models")
        self.widget = W.VBox(
            [
                section(
                    "Vocabulary",
                    "Every piece of the model with its count and log "
                    "probability. Byte fragments (not whole characters) show as hex.",
                ),
                self.model,
                W.HBox([self.query, self.category]),
                W.HBox([self.sort, self.descending, self.limit]),
                self.status,
                self.count,
                self.table,
                W.HBox([self.lengths.box, self.categories.box]),
            ]
        )
        self.refresh()

    def _on_models(self, change: dict[str, Any]) -> None:
        keep = self.model.value != RELEASED  # a new trained model replaces the released one
        sync_model_menu(self.model, list(change["new"]), self.state.default_model(), keep=keep)
        self.refresh()

    def frame(self) -> pd.DataFrame:
        """The vocabulary table of the chosen model (computed once per model)."""
        label = self.model.value
        tok = self.state.models[label]
        with self._lock:
            cached = self._tables.get(label)
            if cached is None or cached[0] is not tok:
                cached = self._tables[label] = (tok, vocab_table(tok))
            return cached[1]

    def on_show(self) -> None:
        """Fill the table and figures on first view."""
        super().on_show()
        if not self._shown:
            self._shown = True
            self.refresh()

    def refresh(self) -> None:
        """Redraw table and figures for the chosen model (once the panel has been shown)."""
        if self.model.value is None or not self._shown:
            return
        try:
            table = self.frame()
            self.refresh_table()
            self.lengths.show(piece_length_figure(table))
            self.categories.show(category_figure(table))
        except Exception as exc:
            self.show_error(exc, "showing the vocabulary")

    def refresh_table(self) -> None:
        """Apply the search, category, sort and row limit to the table."""
        if self.model.value is None or not self._shown:
            return
        try:
            table = self.frame()
            rows, matched = filter_vocab(
                table,
                query=self.query.value,
                category=self.category.value,
                sort_by=self.sort.value,
                descending=self.descending.value,
                limit=self.limit.value,
            )
        except Exception as exc:
            self.show_error(exc, "filtering the vocabulary")
            return
        self.status.value = ""
        self.count.value = (
            f"<b>{matched:,}</b> of {len(table):,} pieces match; showing {len(rows):,}"
        )
        self.table.value = frame_html(rows)
