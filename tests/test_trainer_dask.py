"""``Trainer.train(backend="dask")``: the counting passes as Dask tasks give the local result.

One local cluster of two worker processes (module-scoped); the tasks open the on-disk corpus
by path, as they would on a real cluster with a shared filesystem.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_trainer_scale import mixed_documents, poems

from bytepiece_core import Trainer
from bytepiece_core.trainer import FROM_CHECKPOINT, TrainEvent

distributed = pytest.importorskip("distributed")

OPTIONS = [
    {"order": 6, "max_vocab_size": [1500, 600], "min_count": 2, "isolate_digits": True},
    {"order": 10, "max_vocab_size": 800, "min_count": 3, "ensure_unicode": False},
]


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def same_result(a: Trainer, b: Trainer) -> None:
    assert a.pieces == b.pieces
    for f in dataclasses.fields(a.history):
        if f.name not in ("seconds", "memory"):  # how the run went, not what it found
            assert getattr(a.history, f.name) == getattr(b.history, f.name), f.name


@pytest.mark.parametrize("params", OPTIONS, ids=["order6", "order10"])
def test_dask_gives_the_local_result(params: dict, client: object, tmp_path: Path) -> None:
    docs = mixed_documents()
    local = Trainer(**params)
    local.train(docs)
    events: list[TrainEvent] = []
    dask = Trainer(**params)
    dask.train(docs, backend="dask", client=client, callback=events.append)
    same_result(local, dask)
    # progress flows to the callback as tasks complete, up to each stage's total
    for stage in ("count_ngrams", "count_pieces"):
        seen = [e for e in events if e.stage == stage]
        assert len(seen) > 10
        assert [e.done for e in seen] == sorted(e.done for e in seen)
        assert seen[-1].done == seen[-1].total
    # in a given work_dir: same result, nothing left behind
    in_dir = Trainer(**params)
    in_dir.train(docs, backend="dask", client=client, work_dir=tmp_path)
    same_result(local, in_dir)
    assert list(tmp_path.iterdir()) == []


class StopAt:
    def __init__(self, stage: str) -> None:
        self.stage = stage

    def __call__(self, event: TrainEvent) -> None:
        if event.stage == self.stage:
            raise KeyboardInterrupt


def test_dask_with_checkpoints(client: object, tmp_path: Path) -> None:
    params = OPTIONS[0]
    docs = poems()
    local = Trainer(**params)
    local.train(docs)
    # interrupted in a Dask pass: the trainer is left as it was, the pending tasks cancelled
    trainer = Trainer(**params)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(
            docs,
            backend="dask",
            client=client,
            checkpoint_dir=tmp_path,
            callback=StopAt("count_pieces"),
        )
    assert trainer.pieces == []
    # resumed on Dask from the checkpointed n-gram model (its maxlen shared from the checkpoint)
    events: list[TrainEvent] = []
    trainer.train(
        docs,
        backend="dask",
        client=client,
        checkpoint_dir=tmp_path,
        resume=True,
        callback=events.append,
    )
    assert any(e.stage == "count_ngrams" and e.message == FROM_CHECKPOINT for e in events)
    same_result(local, trainer)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("dask-")]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"backend": "spark"}, ValueError, "backend must be 'local' or 'dask'"),
        ({"backend": None}, ValueError, "backend must be 'local' or 'dask'"),
        ({"backend": "dask"}, ValueError, "backend='dask' needs client"),
        ({"backend": "dask", "client": "tcp://x:8786"}, TypeError, "dask.distributed.Client"),
        ({"client": object()}, ValueError, "only used with backend='dask'"),
    ],
)
def test_invalid_backend(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Trainer(order=3, max_vocab_size=300).train(["abc"], **kwargs)


def test_dask_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(ImportError, match=r"needs dask.distributed.*pip install"):
        Trainer(order=3, max_vocab_size=300).train(["abc"], backend="dask", client=object())


def test_dask_under_a_memory_budget_gives_the_local_result(
    client: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bytepiece_core import sizes

    monkeypatch.setattr(sizes, "MIN_BUDGET", 1)  # far below the tables: many partitions
    params = OPTIONS[0]
    local = Trainer(**params)
    local.train(mixed_documents())
    dask = Trainer(**params)
    with pytest.warns(ResourceWarning):
        dask.train(
            mixed_documents(),
            backend="dask",
            client=client,
            memory_budget=20_000,
            work_dir=tmp_path,
        )
    same_result(local, dask)
    assert dask.history.memory["length 6"]["partitions"] >= 4
    assert dask.history.memory["pieces"]["partitions"] >= 2
    assert list(tmp_path.iterdir()) == []


def test_counting_tables_are_merged_on_the_workers(
    client: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bytepiece_core._training import dask_passes as _train_dask
    from bytepiece_core._training import hashtable as _hashtable

    def not_here(*args: object) -> None:
        raise AssertionError("a counting table was merged in the driver")

    # the driver's merge functions fail; the workers' (other processes) are untouched
    for module in (_train_dask, _hashtable):
        monkeypatch.setattr(module, "_merge", not_here)
        monkeypatch.setattr(module, "_piece_merge", not_here)
    params = OPTIONS[1]
    local = Trainer(**params)
    local.train(poems())
    dask = Trainer(**params)
    dask.train(poems(), backend="dask", client=client)
    same_result(local, dask)
