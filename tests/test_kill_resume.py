"""Training killed with SIGKILL (no clean-up runs) at points of each stage, then resumed from
its checkpoint: the model is byte-identical to an uninterrupted run's."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bytepiece_core import Trainer

SHARED = Path(__file__).resolve().parents[2] / "shared"
OPTIONS = {"order": 6, "max_vocab_size": [3000, 1200], "min_count": 3}

CHILD = """
import sys
from pathlib import Path
from bytepiece_core import Trainer
corpus, checkpoint, algorithm = sys.argv[1], sys.argv[2], sys.argv[3]
def report(event):
    print(event.stage, event.done, flush=True)
Trainer(order=6, max_vocab_size=[3000, 1200], min_count=3, algorithm=algorithm).train(
    Path(corpus), batch_size=200, checkpoint_dir=checkpoint, resume=True, callback=report
)
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = []
    for name in ("zh_pd199801", "en_kjv", "code_py_stdlib"):
        text = (SHARED / "corpora" / name).with_suffix(".txt").read_text(encoding="utf-8")
        lines += text.splitlines(True)[:3000]
    path = tmp_path_factory.mktemp("kill") / "corpus.txt"
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def uninterrupted(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    trainer = Trainer(**OPTIONS)
    trainer.train(corpus)
    out = tmp_path_factory.mktemp("plain") / "m.model"
    trainer.save(out)
    return b"".join((out.parent / f"m.model.{s}").read_bytes() for s in (3000, 1200))


def _kill_at(
    corpus: Path, checkpoint: Path, stage: str, nth: int, algorithm: str = "bytepiece"
) -> bool:
    """Run the child until its ``nth`` progress event of ``stage``, then SIGKILL it; True if
    it was killed (False if it finished first)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(corpus), str(checkpoint), algorithm],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    seen = 0
    for line in child.stdout:
        if line.split()[0] == stage:
            seen += 1
            if seen == nth:
                child.send_signal(signal.SIGKILL)
                child.wait()
                return True
    child.wait()
    return False


@pytest.mark.parametrize(
    ("stage", "nth"),
    [
        ("read", 3),
        ("count_ngrams", 1),
        ("count_ngrams", 40),
        ("count_pieces", 10),
        ("prune_pieces", 2),
    ],
)
def test_killed_then_resumed_gives_the_same_model(
    corpus: Path, uninterrupted: bytes, tmp_path: Path, stage: str, nth: int
) -> None:
    checkpoint = tmp_path / "ckpt"
    assert _kill_at(corpus, checkpoint, stage, nth), f"the run finished before {stage} #{nth}"
    resumed = Trainer(**OPTIONS)
    resumed.train(corpus, checkpoint_dir=checkpoint, resume=True)
    resumed.save(tmp_path / "m.model")
    got = b"".join((tmp_path / f"m.model.{s}").read_bytes() for s in (3000, 1200))
    assert got == uninterrupted


def test_killed_at_random_moments(corpus: Path, uninterrupted: bytes, tmp_path: Path) -> None:
    rng = random.Random(2026)
    checkpoint = tmp_path / "ckpt"
    for _ in range(3):  # killed three times over, at random events, then resumed to the end
        stage = rng.choice(["read", "count_ngrams", "count_pieces"])
        _kill_at(corpus, checkpoint, stage, rng.randint(1, 6))
    resumed = Trainer(**OPTIONS)
    resumed.train(corpus, checkpoint_dir=checkpoint, resume=True)
    resumed.save(tmp_path / "m.model")
    got = b"".join((tmp_path / f"m.model.{s}").read_bytes() for s in (3000, 1200))
    assert got == uninterrupted


def test_refined_killed_then_resumed_gives_the_same_model(corpus: Path, tmp_path: Path) -> None:
    events: list = []  # type: ignore[type-arg]
    plain = Trainer(**OPTIONS, algorithm="refined")
    plain.train(corpus, callback=events.append)
    steps = [e.step.step for e in events if e.stage == "prune_pieces"]
    second_size = steps.index("cut") + 3  # an event of the second size's pruning
    for stage, nth in (("count_ngrams", 5), ("prune_pieces", second_size)):
        checkpoint = tmp_path / f"ckpt-{stage}"
        assert _kill_at(corpus, checkpoint, stage, nth, "refined"), f"finished before {stage}"
        manifest = json.loads((checkpoint / "manifest.json").read_text())
        assert ("prune_pieces.sizes" in manifest["stages"]) == (stage == "prune_pieces")
        resumed = Trainer(**OPTIONS, algorithm="refined")
        resumed.train(corpus, checkpoint_dir=checkpoint, resume=True)
        assert resumed.pieces == plain.pieces
