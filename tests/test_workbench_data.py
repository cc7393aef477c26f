"""The workbench's plain parts: bundled corpora, HTML fragments, vocabulary filtering,
training-progress helpers and background jobs."""

from __future__ import annotations

import html
import re
import threading
from pathlib import Path

import pandas as pd
import pytest

from bytepiece_core import Tokenizer
from bytepiece_core.metrics import vocab_table
from bytepiece_core.model import dump_model
from bytepiece_core.trainer import Trainer, TrainEvent
from workbench.corpora import (
    DATA_DIR,
    MIXED,
    SAMPLES,
    corpus_from_bytes,
    corpus_summary,
    load_corpus,
    load_gold,
    load_lines,
    script_breakdown,
)
from workbench.html import compare_html, cut_offsets, error_html, frame_html, token_spans_html
from workbench.jobs import Job, Stopped
from workbench.tables import filter_vocab
from workbench.training import (
    TrainOptions,
    parse_sizes,
    stage_progress,
    trained_models,
    vocab_step_from_event,
)

# -- bundled corpora -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_are_line_cut_slices_of_the_shared_corpora(name: str, shared: Path) -> None:
    data = SAMPLES[name].path.read_bytes()
    assert 90_000 <= len(data) <= 110_000, "a sample is about 100 KB"
    assert data.endswith(b"\n"), "cut at a line boundary"
    full = (shared / "corpora" / f"{name}.txt").read_bytes()
    assert full.startswith(data), "a sample is the start of its corpus"
    assert SAMPLES[name].licence and SAMPLES[name].description


def test_gold_sample_matches_its_text_line_by_line() -> None:
    lines = [t.strip() for t in load_lines("zh_pd199801") if t.strip()]
    gold = load_gold("zh_pd199801")
    assert gold is not None and len(gold) == len(lines) == 436
    assert all("".join(words) == line for words, line in zip(gold, lines, strict=True))
    assert load_gold("en_kjv") is None
    assert load_corpus("zh_pd199801").gold == gold


def test_package_data_holds_the_app_notebook_and_samples() -> None:
    names = {p.name for p in DATA_DIR.iterdir()}
    assert {"app.ipynb", "zh_pd199801.gold.txt"} <= names
    assert {f"{n}.txt" for n in SAMPLES} <= names


def test_load_corpus_sources(tmp_path: Path) -> None:
    assert load_corpus().name == "zh_pd199801"
    mixed = load_corpus(MIXED)
    assert mixed.n_lines == sum(len(load_lines(n)) for n in SAMPLES)
    f = tmp_path / "c.txt"
    f.write_text("one\ntwo\n", encoding="utf-8")
    corpus = load_corpus(f)
    assert corpus.texts == ["one\n", "two\n"] and corpus.origin == str(f)
    assert load_corpus(["x y\n"]).n_bytes == 4


def test_load_corpus_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no file at .*give the path of a UTF-8 text file"):
        load_corpus(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="is a folder"):
        load_corpus(tmp_path)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("ok\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.txt is not UTF-8 text \(bad byte at line 2\)"):
        load_corpus(bad)
    with pytest.raises(ValueError, match="holds no text"):
        corpus_from_bytes("blank.txt", b"\n \n")
    with pytest.raises(TypeError, match=r"texts\[1\] is a bytes"):
        load_corpus(["a", b"b"])  # type: ignore[list-item]


def test_corpus_summary_and_scripts() -> None:
    corpus = load_corpus(["ab 1\n", "中文。\n"])
    s = corpus_summary(corpus)
    assert (s["lines"], s["bytes"], s["chars"]) == (2, 15, 9)
    frame = script_breakdown(corpus.texts).set_index("category")
    assert frame["chars"].to_dict() == {
        "whitespace": 3,
        "CJK": 2,
        "Latin": 2,
        "digit": 1,
        "punctuation": 1,
    }
    assert frame["share"].sum() == pytest.approx(1.0)
    sentences = load_corpus(["  \n", "short\n", "x" * 100 + "\n", "two\n"]).sentences(5, 10)
    assert sentences == ["short", "two"]


# -- HTML ----------------------------------------------------------------------------------


def test_token_spans_one_span_per_token_escaped() -> None:
    pieces = [b"<b>", b" x", "中".encode()[:2], "中".encode()[2:], b"\n", b"y"]
    out = token_spans_html(pieces, ids=[10, 11, 12, 13, 14, 15])
    spans = re.findall(
        r'<span class="wb-token" title="([^"]*)" style="([^"]*)">([^<]*)</span>', out
    )
    assert len(spans) == len(pieces)
    assert [html.unescape(text) for _, _, text in spans] == [
        "<b>",
        "␣x",
        "‹e4 b8›",
        "‹ad›",
        "⏎",
        "y",
    ]
    assert spans[0][0] == "id 10, 3 bytes"
    assert "dashed" in spans[2][1] and "dashed" not in spans[0][1]  # fragments outlined
    assert spans[0][1] != spans[1][1]  # neighbours get different colours
    assert "<br>" in out.split("⏎")[1][:20]  # a line break after a newline token


def test_compare_html_counts_tokens_and_shared_cuts() -> None:
    out = compare_html(("A", [b"ab", b"c", b"d"]), ("B", [b"a", b"bc", b"d"]))
    assert "<b>A</b>: 3 tokens, 3 distinct, 1.33 bytes/token" in out
    assert "shared cuts: 1 (A has 2, B has 2;" in out
    assert cut_offsets([b"a"]) == set()


def test_frame_html_and_errors_are_escaped() -> None:
    assert "&lt;script&gt;" in frame_html(pd.DataFrame({"t": ["<script>"]}))
    out = error_html(ValueError("size <100>"), "training")
    assert "training failed" in out and "ValueError: size &lt;100&gt;" in out


# -- vocabulary table ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    counts = {bytes([b]): 1 for b in range(256)}
    counts.update({b"the": 50, b"he": 30, b" the": 20, "中国".encode(): 40, "国".encode(): 9})
    return vocab_table(Tokenizer(dump_model(counts)))


def test_filter_vocab_search_category_sort_limit(table: pd.DataFrame) -> None:
    rows, n = filter_vocab(table, query="he", sort_by="count")
    assert rows["text"].tolist() == ["the", "he", "␣the"] and n == 3
    rows, n = filter_vocab(table, category="CJK", sort_by="n_bytes", descending=True)
    assert rows["text"].tolist() == ["中国", "国"] and n == 2
    rows, n = filter_vocab(table, sort_by="count", limit=2)
    assert len(rows) == 2 and n == len(table) and rows["count"].tolist() == [50, 40]
    rows, _ = filter_vocab(table, query="‹e4›")
    assert rows["text"].tolist() == ["‹e4›"]
    with pytest.raises(ValueError, match="cannot sort by 'speed'"):
        filter_vocab(table, sort_by="speed")


# -- training helpers ----------------------------------------------------------------------


def test_parse_sizes() -> None:
    assert parse_sizes(" 500,2000;1000 ") == [2000, 1000, 500]
    with pytest.raises(ValueError, match="type at least one vocabulary size"):
        parse_sizes("  ")
    with pytest.raises(ValueError, match=r"'1\.5k' is not a whole number"):
        parse_sizes("1000, 1.5k")


def test_train_options_reach_the_trainer() -> None:
    t = TrainOptions(
        order=3,
        max_vocab_size=[700, 300],
        max_piece_length=9,
        min_count=4,
        isolate_digits=True,
        ensure_unicode=False,
    ).trainer()
    assert (t.order, t.max_vocab_size, t.max_piece_length, t.min_count) == (3, [700, 300], 9, 4)
    assert t.isolate_digits and not t.ensure_unicode
    with pytest.raises(ValueError, match="max_vocab_size must be at least 259, got 100"):
        TrainOptions(max_vocab_size=[100]).trainer()


def test_progress_and_live_steps_follow_a_real_training_run() -> None:
    events: list[TrainEvent] = []
    texts = load_lines("en_kjv")[:200]
    trainer = Trainer(order=4, max_vocab_size=[500, 300], min_count=2)
    trainer.train(texts, callback=events.append)
    fractions: dict[str, list[float]] = {}
    for e in events:
        p = stage_progress(e, len(texts))
        if p.fraction is not None:
            fractions.setdefault(p.stage, []).append(p.fraction)
    for stage in ("read", "count_ngrams", "count_pieces"):
        assert fractions[stage] == sorted(fractions[stage]), f"{stage} progress goes backwards"
        assert fractions[stage][-1] == pytest.approx(1.0), f"{stage} progress ends short of 1"
    # the steps read from the events are the trainer's own history, step for step
    live = [s for e in events if (s := vocab_step_from_event(e)) is not None]
    assert live == trainer.history.vocab
    reached = [len(p) + 3 for p in trainer.pieces]
    flags = [", size not reached" if v < s else "" for s, v in zip([500, 300], reached)]
    assert list(trained_models(trainer)) == [
        f"trained 500 (vocab {reached[0]}{flags[0]})",
        f"trained 300 (vocab {reached[1]}{flags[1]})",
    ]


# -- jobs ----------------------------------------------------------------------------------


def test_job_reports_result_error_and_runs_finally() -> None:
    seen: list[object] = []
    ok = Job(lambda job: 42, seen.append, seen.append, lambda: seen.append("finally")).start()
    assert ok.join(5) and seen == [42, "finally"] and not ok.running
    seen.clear()

    def fail(job: Job) -> None:
        raise ValueError("boom")

    bad = Job(fail, seen.append, seen.append, lambda: seen.append("finally")).start()
    assert bad.join(5)
    assert isinstance(seen[0], ValueError) and seen[1] == "finally"
    assert isinstance(bad.error, ValueError)


def test_job_stops_at_its_next_check() -> None:
    started, errors = threading.Event(), []

    def work(job: Job) -> None:
        started.set()
        while True:
            job.check_stop()
            threading.Event().wait(0.005)

    job = Job(work, on_error=errors.append).start()
    assert started.wait(5) and job.running
    job.stop()
    assert job.join(5) and job.stop_requested
    assert len(errors) == 1 and isinstance(errors[0], Stopped)


# -- launcher ------------------------------------------------------------------------------


def test_launcher_command_and_bad_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.__main__ import APP_NOTEBOOK, main, voila_command

    cmd = voila_command(8899, open_browser=False)
    assert cmd[1:4] == ["-m", "voila", str(APP_NOTEBOOK)] and APP_NOTEBOOK.is_file()
    assert "--port=8899" in cmd and "--Voila.ip=127.0.0.1" in cmd and cmd[-1] == "--no-browser"
    assert "--no-browser" not in voila_command(8899)
    assert main(["--corpus", "no/such/file.txt", "--no-browser"]) == 2
    assert "no sample or file named 'no/such/file.txt'" in capsys.readouterr().err
