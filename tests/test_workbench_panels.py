"""The workbench panels, driven headless as a person would: set ``.value``, call ``.click()``,
then check the shared state, the tables and the figures' data."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bytepiece_core import Tokenizer, Trainer
from bytepiece_core.metrics import score_segmentation, vocab_table
from bytepiece_core.trainer import TrainEvent
from bytepiece_core.utf8 import is_whole_utf8
from workbench import Workbench
from workbench.panels.entropy import gold_for
from workbench.panels.lattice import MAX_BYTES
from workbench.state import RELEASED

TIMEOUT = 60


@pytest.fixture(scope="module")
def released() -> Tokenizer:
    return Tokenizer.from_pretrained()


@pytest.fixture()
def wb(released: Tokenizer) -> Workbench:
    return Workbench(released=released)


@pytest.fixture(scope="module")
def trained(released: Tokenizer) -> Workbench:
    """A workbench after one Train click on the bundled corpus (sizes 2000, 1000, 500)."""
    app = Workbench(released=released)
    app.train.train_button.click()
    assert app.train.join(TIMEOUT), "training did not finish"
    return app


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _tokens_shown(html: str) -> int:
    return html.count('class="wb-token"')


# -- Train ---------------------------------------------------------------------------------


def test_train_on_the_bundled_corpus_makes_the_models(trained: Workbench) -> None:
    panel, state = trained.train, trained.state
    assert "Trained in" in _text(panel.status.value)
    assert state.trainer is not None and state.trainer.max_vocab_size == [2000, 1000, 500]
    labels = list(state.models)
    assert labels[-1] == RELEASED and [lab.split(" (")[0] for lab in labels[:3]] == [
        "trained 2000",
        "trained 1000",
        "trained 500",
    ]
    assert all(bar.value == 1.0 and bar.bar_style == "success" for bar in panel.bars.values())
    assert not panel.train_button.disabled and panel.stop_button.disabled
    # the final plot is the trainer's history
    h = state.trainer.history
    growth = {t.name: t for t in panel.growth.data}
    assert list(growth["vocabulary"].y) == [s.n_pieces for s in h.vocab]
    assert list(growth["heaps"].y) == [p.distinct_pieces for p in h.heaps]
    # the summary has one row per size
    assert _text(panel.summary.value).count("trained ") == 3


def test_train_says_which_sizes_were_not_reached(released: Tokenizer) -> None:
    """The reference algorithm on the bundled 100 KB corpus cannot reach 2000 or 3000 (about
    1,500 pieces): the status warns, names both with what they got, says why, and says they
    are one model; the model menus flag them."""
    app = Workbench(released=released)
    panel = app.train
    panel.algorithm.value = "bytepiece"
    panel.sizes.value = "3000, 2000, 1000"
    panel.train_button.click()
    assert panel.join(TIMEOUT)
    trainer = app.state.trainer
    got = [len(p) + 3 for p in trainer.pieces]
    assert got[0] == got[1] < 2000 and got[2] <= 1000  # hand-checked shape of this corpus
    status = _text(panel.status.value)
    assert f"Not reached: 3,000 (got {got[0]:,}), 2,000 (got {got[1]:,}):" in status
    assert f"gave {trainer.history.candidates:,}" in status
    assert "one and the same model" in status
    assert "warn" in panel.status.value  # not shown as a success
    labels = list(app.state.models)[:3]
    assert [lab.endswith(", size not reached)") for lab in labels] == [True, True, False]
    # the refined algorithm reaches all three on the same corpus: no warning
    panel.algorithm.value = "refined"
    panel.train_button.click()
    assert panel.join(TIMEOUT)
    assert "Not reached" not in _text(panel.status.value)
    assert [len(p) + 3 for p in app.state.trainer.pieces] == [3000, 2000, 1000]


def test_save_the_trained_models(trained: Workbench, tmp_path: Path) -> None:
    panel = trained.train
    panel.save_path.value = str(tmp_path / "pd.model")
    panel.save_button.click()
    status = _text(panel.status.value)
    assert f"Saved 3 models to {tmp_path}: pd.model.2000, pd.model.1000, pd.model.500" in status
    for size, pieces in zip([2000, 1000, 500], trained.state.trainer.pieces, strict=True):
        tok = Tokenizer(tmp_path / f"pd.model.{size}")
        assert tok.vocab_size == len(pieces) + 3
    panel.save_path.value = ""
    panel.save_button.click()
    assert "type a file name" in _text(panel.status.value)


def test_save_relative_names_go_to_the_save_folder(
    trained: Workbench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative name is saved under the state's folder (the folder the server was started
    in), not the process's working directory (the app notebook's folder, in the package)."""
    panel = trained.train
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(trained.state, "save_dir", tmp_path)
    panel.save_path.value = "sub/m.json"
    panel.save_button.click()  # the folder "sub" is missing: refused, naming it
    status = _text(panel.status.value)
    assert f"the folder {tmp_path / 'sub'} does not exist" in status
    (tmp_path / "sub").mkdir()
    panel.save_button.click()
    assert f"Saved 3 models to {tmp_path / 'sub'}" in _text(panel.status.value)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == [
        "m.json.1000",
        "m.json.2000",
        "m.json.500",
    ]
    assert list(elsewhere.iterdir()) == []
    panel.save_path.value = str(tmp_path)  # a folder as the file
    panel.save_button.click()
    assert f"{tmp_path} is a folder" in _text(panel.status.value)


def test_the_save_folder_comes_from_the_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from workbench.state import SAVE_DIR_ENV, AppState

    monkeypatch.setenv(SAVE_DIR_ENV, str(tmp_path))
    assert AppState(released=Tokenizer.from_pretrained()).save_dir == tmp_path.resolve()
    monkeypatch.delenv(SAVE_DIR_ENV)
    monkeypatch.chdir(tmp_path)
    assert AppState(released=Tokenizer.from_pretrained()).save_dir == tmp_path.resolve()


def test_vocabulary_panel_shows_the_trained_pieces(trained: Workbench) -> None:
    panel, trainer = trained.vocab, trained.state.trainer
    assert panel.table.value == ""  # filled when first shown
    trained.select("Vocabulary")
    assert panel.model.value.startswith("trained 2000")  # the new model replaced the released
    table = panel.frame()
    assert set(table["piece"]) == set(trainer.pieces[0])
    assert dict(zip(table["piece"], table["count"], strict=True)) == trainer.pieces[0]
    lengths = {}
    for bar in panel.lengths.data:
        for x, y in zip(bar.x, bar.y, strict=True):
            lengths[x] = lengths.get(x, 0) + y
    assert lengths == table["n_bytes"].value_counts().to_dict()


def test_vocabulary_search_and_sort(trained: Workbench) -> None:
    panel = trained.vocab
    panel.query.value = "中国"
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>\s*<td>([^<]*)</td>", panel.table.value)
    assert rows and all("中国" in text for _, text in rows)
    table = panel.frame()
    n_match = table["text"].str.contains("中国").sum()
    assert f"<b>{n_match:,}</b> of {len(table):,} pieces match" in panel.count.value
    panel.query.value = ""
    panel.sort.value = "n_bytes"
    panel.descending.value = True
    panel.limit.value = 50
    first = re.search(r"<tr>\s*<td>(\d+)</td>", panel.table.value)
    assert first is not None
    longest = table.sort_values(["n_bytes", "id"], ascending=[False, True]).iloc[0]
    assert int(first.group(1)) == longest["id"]
    assert _text(panel.table.value).count("\n") > 0 and "showing 50" in panel.count.value
    panel.sort.value = "count"


def test_invalid_options_show_the_error_and_keep_train_enabled(wb: Workbench) -> None:
    panel = wb.train
    panel.sizes.value = "100"
    panel.train_button.click()
    assert "max_vocab_size must be at least 259, got 100" in _text(panel.status.value)
    assert "training failed" in _text(panel.status.value)
    assert not panel.train_button.disabled and panel.job is None
    panel.sizes.value = "2000, lots"
    panel.train_button.click()
    assert "'lots' is not a whole number" in _text(panel.status.value)
    panel.sizes.value = "500"
    panel.order.value = 0
    panel.train_button.click()
    assert "order must be at least 1" in _text(panel.status.value)
    assert wb.state.trainer is None and list(wb.state.models) == [RELEASED]


def test_stop_mid_training_keeps_the_previous_model(wb: Workbench, monkeypatch: Any) -> None:
    panel, state = wb.train, wb.state
    panel.sizes.value = "600"
    panel.train_button.click()
    assert panel.join(TIMEOUT)
    before_trainer, before_models = state.trainer, dict(state.models)
    assert before_trainer is not None

    reached, release = threading.Event(), threading.Event()
    seen: list[str] = []
    original = panel._on_event

    def held(event: TrainEvent, n_docs: int) -> None:  # pause the run at its first event
        seen.append(event.stage)
        reached.set()
        release.wait(TIMEOUT)
        original(event, n_docs)

    monkeypatch.setattr(panel, "_on_event", held)
    panel.sizes.value = "900"
    panel.train_button.click()
    assert reached.wait(TIMEOUT)
    assert panel.train_button.disabled and not panel.stop_button.disabled  # running
    panel.stop_button.click()
    release.set()
    assert panel.join(TIMEOUT)
    assert seen == ["read"], "training went on after Stop"
    assert "Stopped" in _text(panel.status.value) and "previous model is kept" in _text(
        panel.status.value
    )
    assert state.trainer is before_trainer
    assert state.models == before_models
    assert not panel.train_button.disabled and panel.stop_button.disabled


def test_a_failing_run_shows_its_error(wb: Workbench, monkeypatch: Any) -> None:
    def broken(event: TrainEvent, n_docs: int) -> None:
        raise RuntimeError("display broke")

    monkeypatch.setattr(wb.train, "_on_event", broken)
    wb.train.sizes.value = "400"
    wb.train.train_button.click()
    assert wb.train.join(TIMEOUT)
    assert "training failed" in _text(wb.train.status.value)
    assert "RuntimeError: display broke" in _text(wb.train.status.value)
    assert not wb.train.train_button.disabled and wb.state.trainer is None


def test_train_on_a_local_dask_cluster_gives_the_same_pieces(
    wb: Workbench, tmp_path: Path, monkeypatch: Any
) -> None:
    pytest.importorskip("distributed")
    panel, state = wb.train, wb.state
    panel.algorithm.value = "bytepiece"  # the algorithm the Dask passes run
    panel.sizes.value = "400"
    panel.train_button.click()
    assert panel.join(TIMEOUT)
    assert state.trainer is not None
    local = state.trainer.pieces
    stages: list[str] = []
    original = panel._on_event

    def seen(event: TrainEvent, n_docs: int) -> None:
        stages.append(event.stage)
        original(event, n_docs)

    monkeypatch.setattr(panel, "_on_event", seen)
    panel.dask_scheduler.value = " local:2 "
    panel.work_dir.value = str(tmp_path)
    panel.train_button.click()
    assert panel.join(TIMEOUT), "training on Dask did not finish"
    assert "Trained in" in _text(panel.status.value), _text(panel.status.value)
    assert state.trainer is not None and state.trainer.pieces == local
    assert {"count_ngrams", "count_pieces"} <= set(stages)  # the Dask passes report progress
    assert all(bar.value == 1.0 and bar.bar_style == "success" for bar in panel.bars.values())
    assert not panel.train_button.disabled and panel.stop_button.disabled
    assert list(tmp_path.iterdir()) == []  # the on-disk corpus is removed after the run


@pytest.mark.parametrize("algorithm", ["refined", "bytepiece"])
def test_training_is_drawn_while_it_runs(wb: Workbench, monkeypatch: Any, algorithm: str) -> None:
    """Each pruning step moves the prune bar (log-scale progress towards the smallest size)
    and adds a point to the vocabulary plot before the run ends; the read note ends at the
    corpus's documents."""
    panel = wb.train
    panel.algorithm.value = algorithm
    panel.sizes.value = "2000, 1000"
    seen: list[tuple[float, int]] = []
    original = panel._on_event

    def watch(event: TrainEvent, n_docs: int) -> None:
        original(event, n_docs)
        if event.stage == "prune_pieces":
            vocab = next(t for t in panel.growth.data if t.name == "vocabulary")
            seen.append((panel.bars["prune_pieces"].value, len(vocab.y)))

    monkeypatch.setattr(panel, "_on_event", watch)
    panel.train_button.click()
    assert panel.join(TIMEOUT)
    steps = wb.state.trainer.history.vocab
    assert len(seen) == len(steps) >= 3
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert 0 < fractions[len(fractions) // 2] < 1 or algorithm == "bytepiece"
    assert [n for _, n in seen] == list(range(1, len(steps) + 1))  # drawn step by step
    assert _text(panel.notes["read"].value) == f"{wb.state.corpus.n_lines:,} documents"


def test_bad_dask_scheduler_shows_the_error(wb: Workbench, monkeypatch: Any) -> None:
    panel = wb.train
    panel.sizes.value = "400"
    panel.dask_scheduler.value = "local:0"
    panel.train_button.click()  # refused before the run
    assert "local:N needs a number of workers N >= 1" in _text(panel.status.value)
    assert "training failed" in _text(panel.status.value)
    assert not panel.train_button.disabled and panel.job is None
    panel.dask_scheduler.value = "tcp://127.0.0.1:1"  # nothing listens there
    panel.connect_timeout = 1.0
    panel.train_button.click()
    assert panel.join(TIMEOUT)
    assert "cannot connect to the Dask scheduler at 'tcp://127.0.0.1:1'" in _text(
        panel.status.value
    )
    assert not panel.train_button.disabled and panel.stop_button.disabled
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    panel.dask_scheduler.value = "local:2"
    panel.train_button.click()
    assert panel.join(TIMEOUT)
    assert "needs dask.distributed, not installed" in _text(panel.status.value)
    assert not panel.train_button.disabled and wb.state.trainer is None


# -- Corpus --------------------------------------------------------------------------------


def test_corpus_choices_reach_every_panel(wb: Workbench, tmp_path: Path) -> None:
    wb.corpus.sample.value = "en_kjv"
    assert wb.state.corpus.name == "en_kjv"
    assert "790" in wb.corpus.summary.value and "In the beginning" in wb.corpus.preview.value
    scripts = dict(zip(wb.corpus.scripts.data[0].y, wb.corpus.scripts.data[0].x, strict=True))
    assert max(scripts, key=scripts.get) == "Latin"
    held = wb.state.corpus.texts[-(len(wb.state.corpus.texts) // 10) :]
    assert wb.compare.text.value.split("\n")[0] in {t.strip() for t in held}  # unseen part
    assert [v for _, v in wb.lattice.sentence.options[1:]] == wb.state.corpus.sentences(30, 50)
    f = tmp_path / "mine.txt"
    f.write_text("alpha beta\ngamma\n", encoding="utf-8")
    wb.corpus.path.value = str(f)
    wb.corpus.load_button.click()
    assert wb.state.corpus.texts == ["alpha beta\n", "gamma\n"]
    assert "Using mine.txt: 2 lines" in _text(wb.corpus.status.value)


def test_a_large_corpus_loads_in_the_background(
    wb: Workbench, tmp_path: Path, monkeypatch: Any
) -> None:
    import workbench.panels.corpus as corpus_panel

    big = tmp_path / "big.txt"
    line = "大文件的一行文本，用来测试后台加载。\n"
    big.write_text(line * (corpus_panel.BACKGROUND_BYTES // len(line.encode()) + 10), "utf-8")
    release = threading.Event()
    load = corpus_panel.load_corpus

    def held(source: Any) -> Any:  # the load waits until the test has looked at the panel
        release.wait(TIMEOUT)
        return load(source)

    monkeypatch.setattr(corpus_panel, "load_corpus", held)
    wb.corpus.path.value = str(big)
    wb.corpus.load_button.click()
    assert f"Loading {big} ({big.stat().st_size / 1e6:.1f} MB)…" in _text(wb.corpus.status.value)
    assert wb.corpus.busy and wb.corpus.load_button.disabled
    release.set()
    assert wb.corpus.join(TIMEOUT)
    assert wb.state.corpus.name == "big.txt"
    assert "Using big.txt:" in _text(wb.corpus.status.value)
    assert not wb.corpus.load_button.disabled


def test_corpus_errors_are_shown_and_keep_the_corpus(wb: Workbench, tmp_path: Path) -> None:
    before = wb.state.corpus
    wb.corpus.path.value = str(tmp_path / "nope.txt")
    wb.corpus.load_button.click()
    assert "loading" in _text(wb.corpus.status.value) and "no file at" in _text(
        wb.corpus.status.value
    )
    wb.corpus.path.value = ""
    wb.corpus.load_button.click()
    assert "type the path of a UTF-8 text file" in _text(wb.corpus.status.value)
    wb.corpus.upload.value = (
        {
            "name": "bad.txt",
            "type": "text/plain",
            "size": 3,
            "content": memoryview(b"\xff\xfe\n"),
            "last_modified": dt.datetime(2024, 1, 1),
        },
    )
    assert "bad.txt is not UTF-8 text" in _text(wb.corpus.status.value)
    assert "UTF-16" in _text(wb.corpus.status.value)  # it starts with FF FE
    wb.corpus.upload.value = _upload("gbk.txt", "人民日报社论：今天天气不错\n".encode("gbk"))
    status = _text(wb.corpus.status.value)
    assert "Chinese text in GBK/GB18030" in status and "iconv -f GBK -t UTF-8" in status
    wb.corpus.upload.value = _upload("ctl.txt", b"\x01\x02\x03\x04ab\n" * 50)
    assert "ctl.txt is not text: 57% of its characters are control" in _text(wb.corpus.status.value)
    assert wb.state.corpus is before


def test_upload_a_corpus(wb: Workbench) -> None:
    content = "上传的文本\nsecond line\n".encode()
    wb.corpus.upload.value = (
        {
            "name": "up.txt",
            "type": "text/plain",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": dt.datetime(2024, 1, 1),
        },
    )
    assert wb.state.corpus.name == "up.txt" and wb.state.corpus.n_lines == 2
    assert wb.corpus.sample.value is None  # no sample is chosen, so choosing one loads it
    wb.corpus.sample.value = "zh_pd199801"
    assert wb.state.corpus.name == "zh_pd199801"


def _upload(name: str, content: bytes) -> tuple[dict[str, Any], ...]:
    return (
        {
            "name": name,
            "type": "application/octet-stream",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": dt.datetime(2024, 1, 1),
        },
    )


def _data_uris(markup: str) -> dict[str, bytes]:
    """The files of the download links in ``markup``, by file name."""
    import base64

    found = re.findall(r"download='([^']+)' href='data:[^;]+;base64,([^']+)'", markup)
    return {html.unescape(name): base64.b64decode(data) for name, data in found}


def test_download_a_model_in_each_format(trained: Workbench, tmp_path: Path) -> None:
    """The three downloads are the trained model: BytePiece JSON, a tokenizer.json that HF
    tokenizers loads, a SentencePiece model, each giving our ids."""
    import sentencepiece as spm
    import tokenizers

    panel = trained.train
    label = next(lab for lab in trained.state.models if lab.startswith("trained 1000"))
    panel.export_model.value = label
    panel.export_button.click()
    files = _data_uris(panel.downloads.value)
    assert sorted(files) == [
        "trained_1000.model.json",
        "trained_1000.model.spm",
        "trained_1000.tokenizer.json",
    ]
    tok = trained.state.models[label]
    text = "中国人民银行今天宣布，将进一步扩大开放。\nAnd God said"
    ids = tok.encode(text)
    assert Tokenizer(json.loads(files["trained_1000.model.json"])).encode(text) == ids
    hf = tokenizers.Tokenizer.from_str(files["trained_1000.tokenizer.json"].decode())
    assert hf.encode(text, add_special_tokens=False).ids == ids
    sp = spm.SentencePieceProcessor(model_proto=files["trained_1000.model.spm"])
    # the refined default keeps a character's first bytes as pieces, which SentencePiece
    # cannot hold: the links say how many, and lines that use none get the same ids there
    unheld = [p for p in tok.vocab.pieces if len(p) > 1 and not is_whole_utf8(p)]
    assert unheld and f"cannot hold {len(unheld):,} of its pieces" in _text(panel.downloads.value)
    clean = [t for t in text.splitlines(True) if not set(tok.tokenize(t)) & set(unheld)]
    assert clean and all(sp.encode(t) == tok.encode(t) for t in clean)
    panel.export_model.value = RELEASED  # another model: the old links go
    assert panel.downloads.value == ""


def test_load_a_model_into_every_tab(wb: Workbench, tmp_path: Path) -> None:
    tok = Tokenizer.from_vocab({"今天": 10, "天气": 8, "不错": 5})
    panel = wb.train
    panel.model_upload.value = _upload("mine.json", json.dumps(tok.to_dict()).encode())
    label = f"loaded mine.json (vocab {tok.vocab_size})"
    assert label in wb.state.models and "Loaded mine.json" in _text(panel.status.value)
    assert wb.state.models[label].encode("今天天气不错") == tok.encode("今天天气不错")
    for menu in (wb.vocab.model, wb.lattice.model, wb.compare.left, wb.compare.right):
        assert label in menu.options
    panel.model_upload.value = _upload("notes.txt", b"not a model")
    assert "notes.txt is not a BytePiece model: it is not JSON" in _text(panel.status.value)
    zipped = tmp_path / "m.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("m.json", json.dumps(tok.to_dict()))
    panel.model_path.value = str(zipped)
    panel.model_load.click()
    assert f"loaded m.zip (vocab {tok.vocab_size})" in wb.state.models
    panel.model_path.value = str(tmp_path / "none.json")
    panel.model_load.click()
    assert f"no file at {tmp_path / 'none.json'}" in _text(panel.status.value)


def test_a_shared_server_reads_and_writes_only_under_its_folder(
    released: Tokenizer, tmp_path: Path
) -> None:
    """With a file root (``--host`` off loopback), the corpus, model and save paths are
    refused outside it, with the root named, and work inside it."""
    root = tmp_path / "class"
    root.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("do not read\n", encoding="utf-8")
    (root / "mine.txt").write_text("alpha beta\n", encoding="utf-8")
    app = Workbench(released=released, file_root=root)
    before = app.state.corpus
    for typed in (str(outside), "../secret.txt"):
        app.corpus.path.value = typed
        app.corpus.load_button.click()
        assert f"only reads and writes files under {root}" in _text(app.corpus.status.value)
        assert app.state.corpus is before
        app.train.model_path.value = typed
        app.train.model_load.click()
        assert f"only reads and writes files under {root}" in _text(app.train.status.value)
    app.corpus.path.value = "mine.txt"  # relative names are under the root
    app.corpus.load_button.click()
    assert app.state.corpus.texts == ["alpha beta\n"]
    trainer = Trainer(max_vocab_size=300)
    trainer.train(["alpha beta gamma\n"] * 20)
    app.state.set_trained(trainer)
    app.train.save_path.value = str(tmp_path / "m.json")
    app.train.save_button.click()
    assert f"only reads and writes files under {root}" in _text(app.train.status.value)
    assert not (tmp_path / "m.json").exists()
    app.train.save_path.value = "m.json"
    app.train.save_button.click()
    assert (root / "m.json").is_file()


# -- Lattice -------------------------------------------------------------------------------


def test_alpha_slider_sets_the_marginals(wb: Workbench, released: Tokenizer) -> None:
    panel = wb.lattice
    assert panel.figure.widget is None  # no figure widget before its tab is shown
    wb.select("Lattice")
    widget = panel.figure.widget
    assert widget is not None and panel.figure.box.children == (widget,)
    text = panel.text.value
    for alpha in (0.0, 0.35, 2.5):
        panel.alpha.value = alpha
        lat = released.lattice(text, alpha=alpha)
        edges = {t.name: t for t in panel.figure.data}
        np.testing.assert_allclose(edges["marginals"].marker.opacity, np.clip(lat.marginals, 0, 1))
        np.testing.assert_allclose(edges["boundary"].y, lat.boundary_prob)
        assert f"entropy at α = {alpha:g}" in _text(panel.info.value)
        assert panel.lattice is not None and panel.lattice.alpha == alpha
        assert panel.figure.widget is widget  # updated in place


def test_lattice_follows_text_sentence_and_model(trained: Workbench) -> None:
    panel, state = trained.lattice, trained.state
    sentence = panel.sentence.options[3][1]
    panel.sentence.value = sentence
    assert panel.text.value == sentence
    assert panel.model.value.startswith("trained 2000")
    tok = state.models[panel.model.value]
    ticks = list(panel.figure.layout.xaxis2.ticktext)
    assert "".join(ticks) == sentence.replace(" ", "␣")
    assert _tokens_shown(panel.info.value) == len(tok.tokenize(sentence))
    panel.model.value = RELEASED
    assert _tokens_shown(panel.info.value) == len(state.models[RELEASED].tokenize(sentence))


def test_sample_button_draws_seeded_segmentations(wb: Workbench, released: Tokenizer) -> None:
    panel = wb.lattice
    panel.alpha.value = 0.2
    panel.n_samples.value = 4
    panel.seed.value = 7
    panel.sample_button.click()
    rows = panel.samples.value.split("<div><span style='color:#777'>")[1:]
    assert len(rows) == 4
    for k, row in enumerate(rows):
        pieces = released.tokenize(panel.text.value, alpha=0.2, seed=7 + k)
        assert row.startswith(f"seed {7 + k}, {len(pieces)} tokens")
        assert _tokens_shown(row) == len(pieces)
    again = panel.samples.value
    panel.sample_button.click()
    assert panel.samples.value == again  # the same seeds give the same samples
    panel.text.value = "另一个句子"  # samples of the old text go
    assert panel.samples.value == ""


def test_lattice_of_no_text(wb: Workbench) -> None:
    panel = wb.lattice
    panel.sentence.value = panel.sentence.options[2][1]
    panel.text.value = "\n"
    assert panel.lattice is None and panel.figure.box.layout.display == "none"
    assert "Type a text above" in _text(panel.info.value)
    assert panel.sentence.value == ""  # the list no longer names the text shown
    panel.text.value = "天气"
    assert panel.lattice is not None and panel.figure.box.layout.display is None


def test_long_text_is_clipped_with_a_warning(wb: Workbench) -> None:
    wb.lattice.text.value = "天气" * 100
    assert wb.lattice.lattice is not None and wb.lattice.lattice.n_bytes <= MAX_BYTES
    assert "longer than" in _text(wb.lattice.status.value)


# -- Compare -------------------------------------------------------------------------------


def test_compare_trained_with_released(trained: Workbench) -> None:
    panel, models = trained.compare, trained.state.models
    assert panel.left.value.startswith("trained 2000") and panel.right.value == RELEASED
    panel.text.value = "中国人民银行发表新年讲话"
    a = models[panel.left.value].tokenize(panel.text.value)
    b = models[RELEASED].tokenize(panel.text.value)
    blocks = panel.spans.value.split("<div style='margin:6px 0 14px 0'>")[1:]
    assert _tokens_shown(blocks[0]) == len(a) and _tokens_shown(blocks[1]) == len(b)
    assert f"{len(a)} tokens" in _text(blocks[0]) and f"{len(b)} tokens" in _text(blocks[1])
    panel.right.value = next(lab for lab in models if lab.startswith("trained 500"))
    c = models[panel.right.value].tokenize(panel.text.value)
    assert f"{len(c)} tokens" in _text(panel.spans.value)
    assert _text(panel.corpus_table.value).count("trained ") == 2


def test_compare_like_for_like(released: Tokenizer) -> None:
    """Train all trains ours (both algorithms) and the peers at model A's size on the first
    90% of the lines, in the background, and scores every one on the last 10%; the sample
    text comes from that unseen part."""
    from bytepiece_core.peers import compare_metrics

    app = Workbench(corpus="en_kjv", released=released)
    texts = app.state.corpus.texts
    model_a = Trainer(max_vocab_size=1000, min_count=2)
    model_a.train(texts)  # on all of the corpus, as the Train tab does
    app.state.set_trained(model_a)
    panel = app.compare
    train, held = texts[: -(len(texts) // 10)], texts[-(len(texts) // 10) :]
    size = app.state.models[panel.left.value].vocab_size  # the ids model A has
    assert all(line in {t.strip() for t in held} for line in panel.text.value.split("\n"))
    panel.peer_button.click()
    assert panel.peer_button.disabled and not panel.peer_stop.disabled  # in the background
    assert panel.join(TIMEOUT * 3)
    assert not panel.peer_button.disabled and panel.peer_stop.disabled
    assert set(panel.ours) == {"bytepiece refined", "bytepiece reference"}
    assert set(panel.peers) == {"SentencePiece unigram", "SentencePiece BPE", "HF byte-level BPE"}
    # ours were trained on the training part only, at model A's size
    for algorithm, name in (("refined", "bytepiece refined"), ("bytepiece", "bytepiece reference")):
        again = Trainer(max_vocab_size=size, algorithm=algorithm)
        again.train(train)
        assert panel.ours[name].to_dict() == again.tokenizer().to_dict()
    assert panel.ours["bytepiece refined"].to_dict() != model_a.tokenizer().to_dict()
    want = compare_metrics(held, panel.ours, panel.peers)
    table = _text(panel.peer_table.value)
    assert f"All trained at {size:,} ids on {len(train):,} lines" in table
    assert f"scored on the {len(held):,} lines after them" in table
    for value in want["bytes_per_token"]:
        assert f"{value:.3f}" in table
    for name, got in want["vocab_size"].items():
        assert (f"size not reached ({got:,} of {size:,})" in table) == (got < size), name
    shown = _text(panel.peer_spans.value)
    refined = panel.ours["bytepiece refined"].tokenize(panel.text.value)
    assert f"bytepiece refined: {len(refined)} tokens" in shown
    panel.text.value = "And God said, Let there be light"  # re-cut, nothing retrained
    recut = len(panel.ours["bytepiece refined"].tokenize(panel.text.value))
    assert f"bytepiece refined: {recut} tokens" in _text(panel.peer_spans.value)


def test_compare_skips_a_peer_that_cannot_train(released: Tokenizer) -> None:
    """At 300 ids SentencePiece cannot keep People's Daily's characters: those two peers are
    skipped with a plain reason, and the others are trained and compared."""
    app = Workbench(corpus="zh_pd199801", released=released)
    trainer = Trainer(max_vocab_size=300, min_count=2)
    trainer.train(app.state.corpus.texts)
    app.state.set_trained(trainer)
    panel = app.compare
    panel.peer_button.click()
    assert panel.join(TIMEOUT * 3)
    assert set(panel.ours) == {"bytepiece refined", "bytepiece reference"}
    assert set(panel.peers) == {"HF byte-level BPE"}
    table = _text(panel.peer_table.value)
    for name in ("SentencePiece unigram", "SentencePiece BPE"):
        assert f"{name} not trained: SentencePiece cannot train 300 ids" in table
    assert panel.status.value == ""  # not an error


def test_compare_stop(released: Tokenizer) -> None:
    app = Workbench(corpus="en_kjv", released=released)
    panel = app.compare
    panel.peer_button.click()
    assert panel.stop_job()
    assert panel.join(TIMEOUT * 3)
    assert "Stopped" in _text(panel.peer_status.value)
    assert panel.ours == {} and panel.peers == {}


# -- Tune and Entropy ----------------------------------------------------------------------


def test_tune_sweep_and_size_slider(wb: Workbench) -> None:
    panel, state = wb.tune, wb.state
    panel.sizes.value = "300, 600, 1200"
    panel.heldout.value = 0.2
    panel.run_button.click()
    assert panel.join(TIMEOUT)
    assert "Sweep done: 3 sizes" in _text(panel.status.value), panel.status.value
    sweep = state.sweep
    assert sweep is not None
    assert list(panel.size.options) == [("300", 300), ("600", 600), ("1200", 1200)]
    assert panel.progress.value == 1.0
    for size in (300, 1200):
        panel.size.value = size
        row = sweep.table[sweep.table["size"] == size].iloc[0]
        chosen = {(t.meta, t.name): t for t in panel.figure.data}[("bits_per_byte", "chosen")]
        assert list(chosen.x) == [row["vocab_size"]] * 2
        assert list(chosen.y) == pytest.approx(
            [row["train_bits_per_byte"], row["heldout_bits_per_byte"]]
        )
        pieces = sweep.tokenizers[size].tokenize(panel.sample.value)
        assert f"{len(pieces)} tokens at size {size}" in _text(panel.segmented.value)
    panel.add_button.click()
    assert "sweep 1200" in state.models and list(state.models)[-1] == RELEASED
    # the Entropy tab draws the same sweep
    names = [(t.meta, t.name) for t in wb.entropy.sweep.data]
    assert ("bits_per_byte", "held-out") in names and ("bytes_per_token", "train") in names
    # a new corpus makes the sweep stale: it is dropped and its curves hidden
    wb.corpus.sample.value = "en_kjv"
    assert state.sweep is None and panel.size.disabled and panel.segmented.value == ""
    assert panel.figure.box.layout.display == "none"
    assert wb.entropy.sweep.box.layout.display == "none"


def test_tune_marks_sizes_not_reached(wb: Workbench) -> None:
    """With the reference algorithm the bundled corpus gives about 1,400 pieces: 2000 and
    3000 are flagged on the slider and under the sample, with what they got."""
    from dataclasses import replace

    panel, state = wb.tune, wb.state
    state.options = replace(state.options, algorithm="bytepiece")
    panel.sizes.value = "1000, 2000, 3000"
    panel.run_button.click()
    assert panel.join(TIMEOUT)
    got = dict(zip(state.sweep.table["size"], state.sweep.table["vocab_size"]))
    assert got[2000] == got[3000] < 2000  # one and the same vocabulary
    labels = dict((v, lab) for lab, v in panel.size.options)
    assert labels[1000] == "1000"
    assert labels[3000] == f"3000 (got {got[3000]}: not reached)"
    panel.size.value = 3000
    assert f"at size 3000 (got {got[3000]}: not reached)" in _text(panel.segmented.value)
    assert f"Not reached: 2000 (got {got[2000]}), 3000 (got {got[3000]})" in _text(
        panel.status.value
    )


def test_tune_rejects_bad_sizes(wb: Workbench) -> None:
    wb.tune.sizes.value = "300, 100"
    wb.tune.run_button.click()
    assert wb.tune.join(TIMEOUT)
    assert "the sweep failed" in _text(wb.tune.status.value) and "259" in _text(
        wb.tune.status.value
    )
    assert not wb.tune.run_button.disabled and wb.state.sweep is None


def test_entropy_curve_and_surprisal(wb: Workbench) -> None:
    from bytepiece_core import analysis

    panel, corpus = wb.entropy, wb.state.corpus
    panel.order.value = 4
    panel.compute_button.click()
    assert panel.join(TIMEOUT)
    want = analysis.ngram_entropy(corpus.texts, order=4)["entropy"].tolist()
    assert list(panel.curve.data[0].y) == pytest.approx(want)
    assert "H_0 =" in _text(panel.status.value), panel.status.value
    # the held-out curve: the last 10% of the lines under the model of the rest
    from workbench.panels.entropy import HELDOUT_CURVE

    n_held = len(corpus.texts) // 10
    scored = analysis.heldout_entropy(corpus.texts[:-n_held], corpus.texts[-n_held:], order=4)
    held = next(t for t in panel.curve.data if t.name == HELDOUT_CURVE)
    assert list(held.y) == pytest.approx(scored["heldout_bits"].tolist())
    best = int(scored["order"][scored["heldout_bits"].idxmin()])
    assert f"fewest bits per byte are at k = {best}" in _text(panel.status.value)
    # surprisal of a People's Daily line under orders 1..3, with its gold and n-gram cuts
    sentence = panel.sentence.value
    gold = gold_for(corpus, sentence)
    assert gold is not None, "lines with a gold segmentation come first"
    frame = analysis.ngram_model(corpus.texts, order=4).surprisal(sentence)
    # per character (the default): each character's bytes summed, cuts between characters
    assert panel.unit.value == "char"
    lines = {t.name: t for t in panel.surprisal.data}
    per_char = [sum(frame["order_3"][frame["char_index"] == c]) for c in range(len(sentence))]
    got = [np.nan if v is None else v for v in lines["order 3"].y]
    np.testing.assert_allclose(got, per_char, equal_nan=True)
    gold_x = [x for x in lines["gold boundary"].x if x is not None]
    assert gold_x == [c - 0.5 for c in np.cumsum([len(w) for w in gold])[:-1] for _ in range(2)]
    # per byte
    panel.unit.value = "byte"
    lines = {t.name: t for t in panel.surprisal.data}
    assert set(lines) == {"order 1", "order 2", "order 3", "gold boundary", "n-gram cut"}
    got = [np.nan if v is None else v for v in lines["order 3"].y]
    np.testing.assert_allclose(got, frame["order_3"].to_numpy(), equal_nan=True)
    gold_cuts = np.cumsum([len(w.encode()) for w in gold])[:-1]
    gold_x = [x for x in lines["gold boundary"].x if x is not None]
    assert gold_x == [c - 0.5 for c in gold_cuts for _ in range(2)]
    pieces = analysis.ngram_model(corpus.texts, order=4).segment(sentence)
    model_cuts = np.cumsum([len(p) for p in pieces])[:-1]
    assert list(lines["n-gram cut"].x) == [c - 0.5 for c in model_cuts]
    scores = score_segmentation([pieces], [gold])
    assert f"F1 <b>{scores.boundary_f1:.2f}</b>" in panel.cuts.value
    assert _tokens_shown(panel.cuts.value) == len(pieces)
    # another sentence redraws
    panel.sentence.value = panel.sentence.options[1]
    assert _tokens_shown(panel.cuts.value) == len(panel.model.segment(panel.sentence.value))


# -- the app -------------------------------------------------------------------------------


def test_workbench_tabs(wb: Workbench) -> None:
    assert wb.tabs.titles == (
        "Corpus",
        "Train",
        "Vocabulary",
        "Entropy",
        "Tune",
        "Lattice",
        "Compare",
    )
    wb.select("Lattice")
    assert wb.tabs.selected_index == 5
    with pytest.raises(ValueError, match="no tab 'Nope'"):
        wb.select("Nope")
    bundle = wb._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == wb.widget.model_id


def test_vocab_table_of_released_model(wb: Workbench, released: Tokenizer) -> None:
    wb.select("Vocabulary")
    assert wb.vocab.model.value == RELEASED
    assert len(wb.vocab.frame()) == len(vocab_table(released))


@pytest.mark.parametrize("algorithm", ["bytepiece", "refined"])
def test_memory_budget_gives_the_same_model(
    wb: Workbench, monkeypatch: Any, algorithm: str
) -> None:
    from bytepiece_core import sizes

    panel, state = wb.train, wb.state
    panel.algorithm.value = algorithm
    panel.sizes.value = "400"
    panel.memory_budget.value = "a lot"
    panel.train_button.click()  # refused before the run
    assert "'a lot' is not a size" in _text(panel.status.value)
    assert panel.job is None and state.trainer is None
    panel.memory_budget.value = ""
    panel.train_button.click()
    assert panel.join(TIMEOUT)
    assert state.trainer is not None
    plain = state.trainer.pieces
    monkeypatch.setattr(sizes, "MIN_BUDGET", 1)  # small enough to split every pass
    panel.memory_budget.value = " 50kB "
    panel.train_button.click()
    assert panel.join(TIMEOUT)
    assert "Trained in" in _text(panel.status.value), _text(panel.status.value)
    assert state.trainer.pieces == plain
    memory = state.trainer.history.memory
    parts = max(m["partitions"] for m in memory.values())
    assert parts > 1
    assert f"split into up to {parts} partitions" in _text(panel.status.value)


def test_tune_says_which_sizes_were_not_reached(wb: Workbench) -> None:
    from workbench.training import TrainOptions

    panel = wb.tune
    panel.sizes.value = "600, 20000"
    wb.state.options = TrainOptions(algorithm="bytepiece")  # falls short of 20000 here
    panel.run_button.click()
    assert panel.join(TIMEOUT)
    table = wb.state.sweep.table if wb.state.sweep is not None else None
    assert table is not None
    got = int(table[table["size"] == 20000]["vocab_size"].iloc[0])
    assert got < 20000
    assert f"Not reached: 20000 (got {got})" in _text(panel.status.value)
    wb.state.options = TrainOptions(algorithm="refined")
    panel.sizes.value = "600, 800"
    panel.run_button.click()
    assert panel.join(TIMEOUT)
    assert "Not reached" not in _text(panel.status.value)
    assert wb.state.sweep is not None and wb.state.sweep.table["vocab_size"].tolist() == [600, 800]


def test_train_panel_trains_the_refined_algorithm_by_default(trained: Workbench) -> None:
    trainer = trained.state.trainer
    assert trained.train.algorithm.value == "refined" and trainer is not None
    assert trainer.algorithm == "refined"
    assert [len(p) + 3 for p in trainer.pieces] == [2000, 1000, 500]  # every size reached
    labels = [label for label in trained.state.models if label.startswith("trained")]
    assert labels == [
        "trained 2000 (vocab 2000)",
        "trained 1000 (vocab 1000)",
        "trained 500 (vocab 500)",
    ]
