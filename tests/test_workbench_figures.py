"""Figure builders of the workbench, tested on the data of the figures they return."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from bytepiece_core import Tokenizer
from bytepiece_core.metrics import vocab_table
from bytepiece_core.model import dump_model
from bytepiece_core.trainer import Trainer
from workbench.corpora import load_lines, script_breakdown
from workbench.figures import (
    assign_lanes,
    category_figure,
    char_ticks,
    lattice_figure,
    mdl_size,
    ngram_entropy_figure,
    piece_length_figure,
    script_figure,
    surprisal_figure,
    sweep_figure,
    update_figure_widget,
    vocab_growth_figure,
)

BYTES = {bytes([b]): 1 for b in range(256)}


@pytest.fixture(scope="module")
def small_tok() -> Tokenizer:
    counts = {**BYTES, b"ab": 6, b"abc": 4, b"bc": 3, "天气".encode(): 5, "天".encode(): 2}
    return Tokenizer(dump_model(counts))


@pytest.fixture(scope="module")
def trainer() -> Trainer:
    t = Trainer(order=4, max_vocab_size=[600, 400], min_count=2)
    t.train(load_lines("en_kjv")[:300])
    return t


def _trace(fig: go.Figure, name: str) -> go.BaseTraceType:
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


# -- lattice -------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.5, 3.0])
def test_lattice_figure_draws_every_edge_with_its_marginal(
    small_tok: Tokenizer, alpha: float
) -> None:
    lat = small_tok.lattice("abc天气ab", alpha=alpha)
    fig = lattice_figure(lat)
    assert [t.name for t in fig.data] == ["lattice", "marginals", "viterbi", "boundary"]
    edges = _trace(fig, "marginals")
    # one bar per edge over its byte span
    assert list(edges.base) == lat.starts.tolist()
    assert list(edges.x) == (lat.ends - lat.starts).tolist()
    np.testing.assert_allclose(edges.marker.opacity, lat.marginals)
    # whole-character pieces are labelled, byte fragments are not
    spans = zip(lat.starts.tolist(), lat.ends.tolist(), strict=True)
    labels = dict(zip(spans, edges.text, strict=True))
    assert labels[(0, 3)] == "abc" and labels[(3, 9)] == "天气"
    assert labels[(3, 4)] == ""
    # the Viterbi path: the tokens of tokenize(), outlined
    best = _trace(fig, "viterbi")
    spans = list(
        zip(best.base, [b + w for b, w in zip(best.base, best.x, strict=True)], strict=True)
    )
    tokens = small_tok.tokenize("abc天气ab")
    ends = np.cumsum([len(t) for t in tokens]).tolist()
    assert spans == list(zip([0, *ends[:-1]], ends, strict=True))
    # the boundary strip: P(cut) at every byte offset
    strip = _trace(fig, "boundary")
    assert list(strip.x) == list(range(lat.n_bytes + 1))
    np.testing.assert_allclose(strip.y, lat.boundary_prob)


def test_lattice_figure_marginals_change_with_alpha(small_tok: Tokenizer) -> None:
    flat = lattice_figure(small_tok.lattice("abcab", alpha=0.0))
    sharp = lattice_figure(small_tok.lattice("abcab", alpha=8.0))
    flat_op = np.asarray(_trace(flat, "marginals").marker.opacity)
    sharp_op = np.asarray(_trace(sharp, "marginals").marker.opacity)
    assert not np.allclose(flat_op, sharp_op)
    # at a high alpha the best path's edges are nearly certain
    best = small_tok.lattice("abcab", alpha=8.0).best
    assert sharp_op[best].min() > 0.9


def test_lattice_axis_is_labelled_with_characters(small_tok: Tokenizer) -> None:
    fig = lattice_figure(small_tok.lattice("a 天", alpha=1.0))
    axis = fig.layout.xaxis2
    assert list(axis.ticktext) == ["a", "␣", "天"]
    assert list(axis.tickvals) == [0.5, 1.5, 3.5]
    assert char_ticks("天a") == ([1.5, 3.5], ["天", "a"])


def test_lanes_never_overlap_and_put_short_pieces_low() -> None:
    rng = np.random.default_rng(0)
    starts = rng.integers(0, 30, 200)
    ends = starts + rng.integers(1, 8, 200)
    lanes = assign_lanes(starts, ends)
    for lane in np.unique(lanes):
        idx = np.flatnonzero(lanes == lane)
        cover = np.zeros(40, int)
        for i in idx:
            cover[starts[i] : ends[i]] += 1
        assert cover.max() == 1, f"lane {lane} has overlapping spans"
    # single bytes that do not overlap all share lane 0
    assert assign_lanes(np.arange(5), np.arange(1, 6)).tolist() == [0] * 5


def test_lattice_of_empty_text(small_tok: Tokenizer) -> None:
    fig = lattice_figure(small_tok.lattice("", alpha=1.0))
    assert len(_trace(fig, "marginals").x) == 0
    assert list(_trace(fig, "boundary").y) == [1.0]


# -- training, vocabulary, scripts ---------------------------------------------------------


def test_vocab_growth_figure_shows_the_history(trainer: Trainer) -> None:
    h = trainer.history
    fig = vocab_growth_figure(h.vocab, h.heaps, h.ngrams)
    growth = _trace(fig, "vocabulary")
    assert list(growth.y) == [s.n_pieces for s in h.vocab]
    assert fig.layout.xaxis.ticktext[0] == "candidates"
    assert any(label.startswith("cut @400") for label in fig.layout.xaxis.ticktext)
    heaps = _trace(fig, "heaps")
    assert list(heaps.x) == [p.bytes_read for p in h.heaps]
    assert list(heaps.y) == [p.distinct_pieces for p in h.heaps]
    assert list(_trace(fig, "n-grams kept").y) == [g.kept for g in h.ngrams]
    assert list(_trace(fig, "n-grams counted").x) == list(range(1, 5))


def test_vocab_growth_figure_empty_keeps_its_traces() -> None:
    fig = vocab_growth_figure([])
    assert [t.name for t in fig.data] == ["vocabulary", "heaps", "n-grams counted", "n-grams kept"]
    assert all(len(t.x) == 0 for t in fig.data)


def test_piece_length_histogram_counts_every_piece(trainer: Trainer) -> None:
    table = vocab_table(trainer.tokenizer(600))
    fig = piece_length_figure(table)
    assert fig.layout.barmode == "stack"
    total: dict[int, int] = {}
    for bar in fig.data:
        sub = table[table["category"] == bar.name]["n_bytes"].value_counts()
        assert dict(zip(bar.x, bar.y, strict=True)) == sub.to_dict()
        for x, y in zip(bar.x, bar.y, strict=True):
            total[x] = total.get(x, 0) + y
    assert total == table["n_bytes"].value_counts().to_dict()


def test_category_figure_gives_shares(trainer: Trainer) -> None:
    table = vocab_table(trainer.tokenizer(600))
    fig = category_figure(table)
    pieces, occurrences = fig.data
    assert list(pieces.y) == list(occurrences.y)
    assert math.isclose(sum(pieces.x), 100.0) and math.isclose(sum(occurrences.x), 100.0)
    latin = list(pieces.y).index("Latin")
    assert math.isclose(pieces.x[latin], 100 * (table["category"] == "Latin").mean())
    share = table.loc[table["category"] == "Latin", "count"].sum() / table["count"].sum()
    assert math.isclose(occurrences.x[latin], 100 * share)


def test_script_figure_of_a_corpus() -> None:
    breakdown = script_breakdown(["中文 and more\n"])
    fig = script_figure(breakdown)
    got = dict(zip(fig.data[0].y, fig.data[0].x, strict=True))
    assert got == pytest.approx({"Latin": 700 / 12, "whitespace": 300 / 12, "CJK": 200 / 12})


# -- entropy -------------------------------------------------------------------------------


def test_entropy_figure_one_curve_per_corpus() -> None:
    a = pd.DataFrame({"order": [0, 1, 2], "entropy": [5.0, 3.0, 2.5]})
    b = pd.DataFrame({"order": [0, 1, 2], "entropy": [4.0, 2.0, 1.0]})
    fig = ngram_entropy_figure({"zh": a, "en": b})
    assert [t.name for t in fig.data] == ["zh", "en"]
    assert list(fig.data[1].y) == [4.0, 2.0, 1.0]
    assert list(fig.data[0].customdata) == [0.0, 2.0, 0.5]  # drop from the order before
    assert fig.layout.showlegend is True


def test_surprisal_figure_marks_boundaries() -> None:
    text = "ab中"
    rows = []
    for i, b in enumerate(text.encode()):
        char_index = min(i, 2)
        rows.append(
            {
                "byte_index": i,
                "char_index": char_index,
                "char": text[char_index],
                "order_0": 8.0,
                "order_1": float(i),
                "order_2": float(b % 5),
            }
        )
    frame = pd.DataFrame(rows)
    fig = surprisal_figure(frame, gold_cuts=[2], model_cuts=[1, 2])
    assert [t.name for t in fig.data] == ["order 1", "order 2", "gold boundary", "n-gram cut"]
    assert list(fig.data[0].y) == [0.0, 1.0, 2.0, 3.0, 4.0]
    gold = _trace(fig, "gold boundary")
    assert [x for x in gold.x if x is not None] == [1.5, 1.5]
    assert list(_trace(fig, "n-gram cut").x) == [0.5, 1.5]
    assert list(fig.layout.xaxis.ticktext) == ["a", "b", "中"]
    assert list(fig.layout.xaxis.tickvals) == [0.0, 1.0, 3.0]
    only = surprisal_figure(frame, orders=[0])
    assert [t.name for t in only.data][:1] == ["order 0"]


# -- sweeps --------------------------------------------------------------------------------


@pytest.fixture()
def sweep_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "size": [300, 500, 800],
            "vocab_size": [300, 500, 700],
            "train_bytes_per_token": [1.5, 2.0, 2.4],
            "heldout_bytes_per_token": [1.4, 1.8, 2.0],
            "train_bits_per_token": [7.0, 8.0, 9.0],
            "heldout_bits_per_token": [7.5, 8.7, 9.9],
            "train_bits_per_byte": [4.6, 4.0, 3.75],
            "heldout_bits_per_byte": [5.3, 4.8, 4.9],
            "description_bits": [900.0, 850.0, 880.0],
        }
    )


def _sweep_trace(fig: go.Figure, key: str, name: str) -> go.BaseTraceType:
    (trace,) = [t for t in fig.data if (t.meta, t.name) == (key, name)]
    return trace


def test_sweep_figure_curves_and_chosen_size(sweep_table: pd.DataFrame) -> None:
    fig = sweep_figure(sweep_table, selected=800)
    train = _sweep_trace(fig, "bits_per_byte", "train")
    assert list(train.x) == [300, 500, 700] and list(train.y) == [4.6, 4.0, 3.75]
    held = _sweep_trace(fig, "bits_per_byte", "held-out")
    assert list(held.y) == [5.3, 4.8, 4.9] and held.line.dash == "dash"
    chosen = _sweep_trace(fig, "bits_per_byte", "chosen")
    assert list(chosen.x) == [700, 700] and list(chosen.y) == [3.75, 4.9]
    star = _sweep_trace(fig, "description_bits", "minimum")
    assert list(star.x) == [500] and list(star.y) == [850.0]
    assert mdl_size(sweep_table) == 500
    assert len(fig.layout.annotations) == 4  # one title per metric


def test_sweep_figure_without_heldout_or_choice(sweep_table: pd.DataFrame) -> None:
    table = sweep_table.assign(heldout_bytes_per_token=float("nan"))
    fig = sweep_figure(table, metrics=["bytes_per_token"])
    assert [(t.meta, t.name) for t in fig.data] == [
        ("bytes_per_token", "train"),
        ("bytes_per_token", "chosen"),
    ]
    assert len(_sweep_trace(fig, "bytes_per_token", "chosen").x) == 0
    with pytest.raises(ValueError, match="unknown sweep metrics"):
        sweep_figure(sweep_table, metrics=["speed"])


# -- figure widgets ------------------------------------------------------------------------


def test_update_figure_widget_in_place_then_replaced(small_tok: Tokenizer) -> None:
    widget = go.FigureWidget(lattice_figure(small_tok.lattice("abc", alpha=0.0)))
    first = widget.data[1]
    new = lattice_figure(small_tok.lattice("abc", alpha=2.0))
    update_figure_widget(widget, new, width=900)
    assert widget.data[1] is first  # same trace object, updated in place
    np.testing.assert_allclose(widget.data[1].marker.opacity, new.data[1].marker.opacity)
    assert widget.layout.width == 900
    # the synced state that a view created later starts from holds the new figure
    np.testing.assert_allclose(
        widget._widget_data[1]["marker"]["opacity"], new.data[1].marker.opacity
    )
    update_figure_widget(
        widget,
        sweep_figure(
            pd.DataFrame({"size": [300], "vocab_size": [300], "description_bits": [1.0]}),
            metrics=["description_bits"],
        ),
    )
    assert (widget.data[0].meta, widget.data[0].name) == ("description_bits", "description length")


def test_figure_slot_creates_its_widget_when_shown(small_tok: Tokenizer) -> None:
    from workbench.panels._slot import FigureSlot

    slot = FigureSlot(width=700)
    first = lattice_figure(small_tok.lattice("ab", alpha=1.0))
    slot.show(first)
    assert slot.widget is None and slot.box.children == ()
    # the figure fills the panel's width, at most 700 px (no fixed width: narrow pages fit)
    assert slot.figure is first and slot.layout.width is None and slot.layout.autosize
    assert slot.box.layout.width == "100%" and slot.box.layout.max_width == "700px"
    slot.activate()
    widget = slot.widget
    assert isinstance(widget, go.FigureWidget) and slot.box.children == (widget,)
    assert list(widget.data[1].x) == list(first.data[1].x)
    slot.show(lattice_figure(small_tok.lattice("abcab", alpha=1.0)))
    assert slot.widget is widget and len(widget.data[1].x) == len(
        small_tok.lattice("abcab", alpha=1.0).ids
    )
