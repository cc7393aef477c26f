"""``Trainer.train(memory_budget=...)``: counting in hash partitions gives the in-memory result.

A budget far below the tables (the 1 MiB floor is lowered for the test) splits every counting
pass into many partitions; vocabularies and history must be those of the plain run.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_trainer_scale import PARAMS, mixed_documents, same_history

from bytepiece_core import Trainer, _mmap, sizes
from bytepiece_core._training.memory import MemoryPlan, partition_progress, release_free_memory
from bytepiece_core._training.pieces import PieceCounts
from bytepiece_core.sizes import parse_size
from bytepiece_core.trainer import TrainEvent

ORDER10 = {"order": 10, "max_vocab_size": 800, "min_count": 3, "ensure_unicode": False}


@pytest.fixture
def tiny_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sizes, "MIN_BUDGET", 1)


def train(params: dict, **kwargs: object) -> Trainer:
    trainer = Trainer(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # tiny budgets: the model exceeds them
        trainer.train(mixed_documents(), **kwargs)  # type: ignore[arg-type]
    return trainer


@pytest.fixture(scope="module")
def plain() -> dict[int, Trainer]:
    return {6: train(PARAMS), 10: train(ORDER10)}


@pytest.mark.usefixtures("tiny_budgets")
@pytest.mark.parametrize(
    ("order", "budget", "workers"), [(6, 20_000, 1), (6, 60_000, 2), (10, 30_000, 1)]
)
def test_partitioned_counting_gives_the_in_memory_result(
    plain: dict[int, Trainer], order: int, budget: int, workers: int, tmp_path: Path
) -> None:
    params = PARAMS if order == 6 else ORDER10
    events: list[TrainEvent] = []
    trainer = train(
        params, memory_budget=budget, workers=workers, work_dir=tmp_path, callback=events.append
    )
    assert trainer.pieces == plain[order].pieces
    same_history(trainer, plain[order])
    memory = trainer.history.memory
    assert set(memory) == {f"length {k}" for k in range(3, order + 1)} | {"pieces"}
    # the larger tables were split, and every split table fits in the budget
    assert max(m["partitions"] for m in memory.values()) >= 4
    assert memory["pieces"]["partitions"] >= 2
    for m in memory.values():
        if m["partitions"] > 1:
            assert m["table_bytes"] <= budget
    # progress still covers each counting stage exactly once, in order
    done = [e.done for e in events if e.stage == "count_ngrams"]
    assert done == sorted(done) and done[-1] == (order - 1) * trainer.history.n_bytes
    assert list(tmp_path.iterdir()) == []  # the corpus, maxlen, bits and pieces files are gone


def test_no_budget_records_one_partition_per_pass(plain: dict[int, Trainer]) -> None:
    memory = plain[6].history.memory
    assert [m["partitions"] for m in memory.values()] == [1] * 5
    # the recorded table of a pass holds its distinct candidates at a load of at most 0.8
    counted = {f"length {s.length}": s.counted for s in plain[6].history.ngrams}
    for name, n in counted.items():
        if name in memory:
            assert memory[name]["table_bytes"] >= 16 * n / 0.8


@pytest.mark.usefixtures("tiny_budgets")
def test_budget_with_a_checkpoint_and_resume(plain: dict[int, Trainer], tmp_path: Path) -> None:
    checkpoint = tmp_path / "ckpt"

    def stop(event: TrainEvent) -> None:
        if event.stage == "prune_pieces":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(PARAMS, memory_budget=30_000, checkpoint_dir=checkpoint, callback=stop)
    assert not list(checkpoint.glob("*.work*"))  # working files are removed on interruption
    resumed = train(PARAMS, memory_budget=30_000, checkpoint_dir=checkpoint, resume=True)
    assert resumed.pieces == plain[6].pieces
    same_history(resumed, plain[6])
    assert not list(checkpoint.glob("*.work*"))


@pytest.mark.usefixtures("tiny_budgets")
def test_model_above_the_budget_is_reported(tmp_path: Path) -> None:
    with pytest.warns(ResourceWarning, match="n-gram model .* takes most of memory_budget"):
        Trainer(**PARAMS).train(mixed_documents(), memory_budget=2_000, work_dir=tmp_path)


def test_budget_without_work_dir_keeps_the_corpus_in_a_temporary_directory(
    plain: dict[int, Trainer], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    made: list[str] = []
    real = _mmap.FileArray.__init__

    def spy(self, directory, name, size, fill):  # type: ignore[no-untyped-def]
        made.append(str(directory))
        real(self, directory, name, size, fill)

    monkeypatch.setattr(_mmap.FileArray, "__init__", spy)
    trainer = train(PARAMS, memory_budget="64MB")
    assert trainer.pieces == plain[6].pieces
    assert made and all(d.startswith(str(tmp_path)) for d in made)  # maxlen went to disk
    assert list(tmp_path.iterdir()) == []


# -- the helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "size"),
    [(1 << 20, 1 << 20), ("512MB", 512 * 10**6), ("2 GiB", 2 << 30), ("1.5g", 15 * 10**8)],
)
def test_parse_size(value: object, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("lots", ValueError, "is not a size: write a number of bytes"),
        ("12 parsecs", ValueError, "is not a size"),
        (1000, ValueError, "at least 1 MiB"),
        ("0.5MB", ValueError, "at least 1 MiB"),
        (True, TypeError, "must be a number of bytes"),
        (2.5e9, TypeError, "must be a number of bytes"),
    ],
)
def test_bad_budgets(value: object, error: type, message: str, tmp_path: Path) -> None:
    with pytest.raises(error, match=message):
        Trainer(**PARAMS).train(["abc\n"], memory_budget=value, work_dir=tmp_path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_partitions_follow_the_budget() -> None:
    plan = MemoryPlan(budget=1000)
    assert plan.partitions("a", cap=10, workers=1) == 1  # 160 bytes fit
    assert plan.partitions("b", cap=100, workers=2) == 4  # 3200 bytes: 4 tables of 800
    assert plan.partitions("c", cap=100, workers=1, resident=600) == 4  # 1600 in the 400 left
    with pytest.warns(ResourceWarning):  # the model leaves less than a quarter: a quarter it is
        assert plan.partitions("d", cap=100, workers=1, resident=900) == 7
    assert plan.report["b"] == {"partitions": 4, "table_bytes": 800, "resident_bytes": 0}
    assert MemoryPlan().partitions("e", cap=10**9, workers=8) == 1  # no budget, no split


def test_partition_progress_reports_each_byte_once() -> None:
    seen: list[int] = []
    report = partition_progress(seen.append, 7)
    sizes = [13, 1, 0, 29, 5] * 7  # seven passes over the same five ranges
    for size in sizes:
        report(size)
    assert sum(seen) == 48 and all(s > 0 for s in seen)


def test_heaps_curve_does_not_depend_on_the_order_of_the_pieces() -> None:
    rng = np.random.default_rng(3)
    pos = np.sort(rng.choice(10**6, 200_000, replace=False))
    lens = rng.integers(1, 20, len(pos))
    counts = rng.integers(1, 9, len(pos))
    shuffle = rng.permutation(len(pos))
    a = PieceCounts(pos, lens, counts).heaps_curve(10**6 + 20, points=50)
    b = PieceCounts(pos[shuffle], lens[shuffle], counts[shuffle]).heaps_curve(10**6 + 20, 50)
    ends = np.sort(pos + lens)
    np.testing.assert_array_equal(a[1], np.searchsorted(ends, a[0], side="right"))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def _rss_mb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_free_heap_pages_go_back_to_the_system() -> None:
    # 64 MB in 64 KB arrays (below glibc's mmap threshold, so from the heap), all freed but
    # the last, which keeps the heap from shrinking at its top: the pages stay counted
    blocks = [np.ones(8192) for _ in range(1000)]
    last = blocks[-1]
    del blocks
    before = _rss_mb()
    release_free_memory()
    assert _rss_mb() < before - 32
    assert last.sum() == 8192
