"""Training at scale: the corpus on disk and checkpoint/resume give the in-memory result exactly.

The in-memory trainer is checked against the reference in ``test_trainer.py``; here every other
way of running it must give the same vocabularies and the same history.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from bytepiece_core import Trainer
from bytepiece_core._training import corpus as _train_corpus
from bytepiece_core._training.corpus import read_corpus
from bytepiece_core.trainer import FROM_CHECKPOINT, TrainEvent

SHARED = Path(__file__).resolve().parents[2] / "shared"
POEMS = SHARED / "corpora" / "zh_poems.txt"
PARAMS = {"order": 6, "max_vocab_size": [1500, 600], "min_count": 2, "isolate_digits": True}


def poems() -> list[str]:
    return POEMS.read_text(encoding="utf-8").splitlines(keepends=True)


def mixed_documents() -> list[str]:
    """Poems, some English and Python, long lines (cut into chunks) and empty documents."""
    rng = np.random.default_rng(0)
    words = ["the", "cat", "def", "return", "x1", "数据", "é", "😀", " ", "\n", "\r\n"]
    docs = poems()[:800]
    docs += ["".join(rng.choice(words, size=int(rng.integers(0, 60))).tolist()) for _ in range(300)]
    docs += ["ab" * 7000 + "\n" * 3, "", "\n"]
    return docs


def same_history(a: Trainer, b: Trainer) -> None:
    for f in dataclasses.fields(a.history):
        if f.name not in ("seconds", "memory"):  # how the run went, not what it found
            assert getattr(a.history, f.name) == getattr(b.history, f.name), f.name


@pytest.fixture(scope="module")
def in_memory() -> Trainer:
    trainer = Trainer(**PARAMS)
    trainer.train(mixed_documents())
    return trainer


# -- the corpus on disk ------------------------------------------------------------------------


@pytest.mark.parametrize("docs", [["ab\n\ncd", "e"], ["", "x"], ["数字123\n"] * 3])
def test_on_disk_corpus_holds_the_same_arrays(
    docs: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_train_corpus, "_WRITE_BLOCK", 3)  # many flushes
    memory = read_corpus(docs, True, 1, lambda d, b: None)
    disk = read_corpus(docs, True, 1, lambda d, b: None, tmp_path)
    assert bytes(disk.data) == bytes(memory.data)
    assert disk.chunk_offsets.tolist() == memory.chunk_offsets.tolist()
    assert (disk.n_docs, disk.fingerprint) == (memory.n_docs, memory.fingerprint)
    assert disk.fingerprint == _train_corpus.fingerprint(iter(docs))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.data", "corpus.offsets"]


def test_released_pages_read_back_unchanged(tmp_path: Path) -> None:
    docs = [f"line {i} {'x' * (i % 97)}\n" for i in range(20000)]  # > 1 MB: many pages
    corpus = read_corpus(docs, False, 1000, lambda d, b: None, tmp_path)
    before = bytes(corpus.data)
    corpus.release(0, corpus.n_chunks)
    corpus.release(5, 7)
    assert bytes(corpus.data) == before
    assert corpus.chunk_offsets[-1] == len(before)


@pytest.mark.parametrize("workers", [1, 3])
def test_work_dir_gives_the_in_memory_result(
    in_memory: Trainer, workers: int, tmp_path: Path
) -> None:
    trainer = Trainer(**PARAMS)
    trainer.train(iter(mixed_documents()), workers=workers, work_dir=tmp_path)
    assert trainer.pieces == in_memory.pieces
    same_history(trainer, in_memory)
    assert list(tmp_path.iterdir()) == []  # the temporary corpus is gone


def test_interrupted_work_dir_run_leaves_nothing(tmp_path: Path) -> None:
    def stop(event: TrainEvent) -> None:
        if event.stage == "count_pieces":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Trainer(**PARAMS).train(poems(), work_dir=tmp_path, callback=stop)
    assert list(tmp_path.iterdir()) == []


# -- checkpoints -------------------------------------------------------------------------------


class StopAt:
    """A callback that raises KeyboardInterrupt at the first event of ``stage``."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.events: list[TrainEvent] = []

    def __call__(self, event: TrainEvent) -> None:
        self.events.append(event)
        if event.stage == self.stage:
            raise KeyboardInterrupt


STAGES = ["read", "count_ngrams", "count_pieces", "prune_pieces", "done"]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("stage", STAGES)
def test_resume_after_an_interruption_gives_the_same_result(
    in_memory: Trainer, stage: str, workers: int, tmp_path: Path
) -> None:
    with pytest.raises(KeyboardInterrupt):
        Trainer(**PARAMS).train(
            mixed_documents(), workers, checkpoint_dir=tmp_path, callback=StopAt(stage)
        )
    resumed = Trainer(**PARAMS)
    events: list[TrainEvent] = []
    resumed.train(
        iter(mixed_documents()),
        workers,
        checkpoint_dir=tmp_path,
        resume=True,
        callback=events.append,
    )
    assert resumed.pieces == in_memory.pieces
    same_history(resumed, in_memory)
    # The stages completed before the interruption are loaded (one event each), not redone.
    completed = STAGES[: min(STAGES.index(stage), 3)]
    loaded = [e.stage for e in events if e.message == FROM_CHECKPOINT]
    assert loaded == completed
    for s in completed:
        assert [e.stage for e in events].count(s) == 1


def test_interrupted_twice_then_resumed(in_memory: Trainer, tmp_path: Path) -> None:
    for stage in ("count_ngrams", "prune_pieces"):
        with pytest.raises(KeyboardInterrupt):
            Trainer(**PARAMS).train(
                mixed_documents(), checkpoint_dir=tmp_path, resume=True, callback=StopAt(stage)
            )
    resumed = Trainer(**PARAMS)
    resumed.train(mixed_documents(), checkpoint_dir=tmp_path, resume=True)
    assert resumed.pieces == in_memory.pieces


def test_completed_checkpoint_prunes_to_other_sizes(in_memory: Trainer, tmp_path: Path) -> None:
    Trainer(**PARAMS).train(mixed_documents(), checkpoint_dir=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert list(manifest["stages"]) == ["read", "count_ngrams", "count_pieces"]
    other = {**PARAMS, "max_vocab_size": 800, "max_piece_length": 4}
    fresh, resumed = Trainer(**other), Trainer(**other)
    fresh.train(mixed_documents())
    resumed.train(mixed_documents(), checkpoint_dir=tmp_path, resume=True)
    assert resumed.pieces == fresh.pieces
    assert resumed.pieces != in_memory.pieces[1:]


def test_resume_without_a_checkpoint_starts_afresh(in_memory: Trainer, tmp_path: Path) -> None:
    trainer = Trainer(**PARAMS)
    trainer.train(mixed_documents(), checkpoint_dir=tmp_path / "new", resume=True)
    assert trainer.pieces == in_memory.pieces


def test_resume_is_refused_with_other_options_or_documents(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        Trainer(**PARAMS).train(poems(), checkpoint_dir=tmp_path, callback=StopAt("count_pieces"))
    with pytest.raises(ValueError, match=r"other options: order=6 \(now 5\).*resume=False"):
        Trainer(**{**PARAMS, "order": 5}).train(poems(), checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ValueError, match=r"documents differ.*resume=False to start over"):
        Trainer(**PARAMS).train(poems()[:-1], checkpoint_dir=tmp_path, resume=True)
    # resume=False starts over in the same directory, whatever it held.
    trainer = Trainer(**{**PARAMS, "order": 5})
    trainer.train(poems()[:100], checkpoint_dir=tmp_path)
    fresh = Trainer(**{**PARAMS, "order": 5})
    fresh.train(poems()[:100])
    assert trainer.pieces == fresh.pieces


def test_damaged_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"not a checkpoint.*resume=False"):
        Trainer(**PARAMS).train(poems(), checkpoint_dir=tmp_path, resume=True)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"resume": True}, ValueError, "resume=True needs checkpoint_dir"),
        ({"resume": 1}, TypeError, "resume must be True or False"),
        ({"work_dir": "W", "checkpoint_dir": "C"}, ValueError, "not both"),
        ({"work_dir": "missing"}, NotADirectoryError, "work_dir .* is not a directory"),
    ],
)
def test_invalid_scale_options(kwargs: dict, error: type, message: str, tmp_path: Path) -> None:
    kwargs = {k: str(tmp_path / v) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(error, match=message):
        Trainer(**PARAMS).train(["abc\n"], **kwargs)
    assert list(tmp_path.iterdir()) == []


# -- sharded input: a glob pattern --------------------------------------------------------------


def test_glob_pattern_reads_its_files_in_sorted_order(tmp_path: Path) -> None:
    lines = poems()
    shards = tmp_path / "shards"
    shards.mkdir()
    third = len(lines) // 3
    for i in (2, 0, 1):  # made out of order: the files are read sorted by name
        (shards / f"part-{i}.txt").write_text("".join(lines[i * third : (i + 1) * third]))
    (shards / "skipped.md").write_text("not matched\n")
    (shards / "dir.txt").mkdir()  # a matching directory is left out
    paths = [shards / f"part-{i}.txt" for i in range(3)]
    assert _train_corpus.expand_pattern(str(shards / "*.txt")) == paths
    listed = Trainer(**PARAMS)
    listed.train(paths)
    globbed = Trainer(**PARAMS)
    globbed.train(str(shards / "part-[0-9].txt"))
    assert globbed.pieces == listed.pieces
    same_history(globbed, listed)
    assert globbed.history.n_docs == 3 * third
    # "**" spans directories; the fingerprint (checked on resume) is that of the listed files
    pattern = str(tmp_path / "**" / "part-?.txt")
    assert _train_corpus.fingerprint(pattern) == _train_corpus.fingerprint(paths)


def test_glob_pattern_edge_cases(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no training file matches the pattern .*\*\.txt"):
        Trainer(**PARAMS).train(str(tmp_path / "*.txt"))
    # an existing file whose name has glob characters is that file, not a pattern
    odd = tmp_path / "odd[1].txt"
    odd.write_text("abc\n")
    assert [doc for _, doc in _train_corpus.documents(str(odd))] == ["abc\n"]
    # a plain str that is not a file is still a missing path; a list of str is documents
    with pytest.raises(FileNotFoundError, match="a str passed as texts is read as a path"):
        Trainer(**PARAMS).train(str(tmp_path / "missing.txt"))
    assert [doc for _, doc in _train_corpus.documents(["*.txt"])] == ["*.txt"]
