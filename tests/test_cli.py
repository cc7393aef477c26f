"""The command line: encode/decode round trips and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bytepiece_core import Tokenizer
from bytepiece_core.cli import main

TEXT = "今天天气不错\nhello world\n\n\nlast line without newline"


def test_encode_then_decode_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.txt"
    src.write_text(TEXT, encoding="utf-8")
    assert main(["encode", str(src)]) == 0
    ids_text = capsys.readouterr().out
    tok = Tokenizer.from_pretrained()
    lines = TEXT.splitlines(keepends=True)
    assert ids_text.splitlines() == [" ".join(map(str, tok.encode(line))) for line in lines]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(ids_text)
    assert main(["decode", str(ids_file)]) == 0
    assert capsys.readouterr().out == TEXT


def test_module_entry_point_reads_stdin() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bytepiece_core", "encode", "--pieces"],
        input=b"abc\n",
        capture_output=True,
        check=True,
    )
    assert done.stdout.decode().split() == ["ab", "c", "\\n"]


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff\xfe\n")
    with pytest.raises(
        SystemExit, match=r"bad.txt is not UTF-8 text: invalid start byte at byte 0 of line 2"
    ):
        main(["encode", str(bad)])


def test_missing_file_and_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="cannot read"):
        main(["encode", str(tmp_path / "missing.txt")])
    src = tmp_path / "in.txt"
    src.write_text("x")
    assert main(["encode", "-m", str(tmp_path / "none.model"), str(src)]) == 2
    assert "model file not found" in capsys.readouterr().err


def test_decode_rejects_non_ids(tmp_path: Path) -> None:
    f = tmp_path / "ids.txt"
    f.write_text("5 6\n7 x\n")
    with pytest.raises(SystemExit, match="line 2 is not a list of integer ids"):
        main(["decode", str(f)])


def test_train_writes_the_trainers_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bytepiece_core import Trainer

    corpus = tmp_path / "corpus.txt"
    lines = [
        f"{a} {b} {c}\n"
        for a in ("the", "a", "one")
        for b in ("cat", "dog")
        for c in ("sat", "ran")
    ] * 5
    corpus.write_text("".join(lines), encoding="utf-8")
    out = tmp_path / "m.model"
    assert (
        main(
            [
                "train",
                str(corpus),
                "-o",
                str(out),
                "--order",
                "4",
                "--vocab-size",
                "300",
                "270",
                "--min-count",
                "2",
                "-q",
            ]
        )
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    trainer = Trainer(order=4, max_vocab_size=[300, 270], min_count=2)
    trainer.train(lines)
    for size in (300, 270):
        assert Tokenizer(tmp_path / f"m.model.{size}").to_dict() == trainer.model(size)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "corpus.txt",
        "m.model.270",
        "m.model.300",
    ]


def test_train_bad_options_and_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("abc\n")
    assert main(["train", str(corpus), "-o", str(tmp_path / "m"), "--vocab-size", "100"]) == 2
    assert "max_vocab_size must be at least 259" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="training file not found"):
        main(["train", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "m")])
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\n")
    assert main(["train", str(bad), "-o", str(tmp_path / "m"), "-q"]) == 2
    assert "not valid UTF-8: line 2" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_train_checkpoint_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus.txt"
    lines = [f"{a} {b}\n" for a in ("red", "green", "blue") for b in ("fox", "cat")] * 6
    corpus.write_text("".join(lines), encoding="utf-8")
    ckpt = tmp_path / "ckpt"
    args = ["train", str(corpus), "--order", "3", "--vocab-size", "270", "-q"]
    assert main([*args, "-o", str(tmp_path / "a.model"), "--checkpoint-dir", str(ckpt)]) == 0
    assert (ckpt / "manifest.json").is_file()
    # resuming from the finished stages gives the same model
    assert (
        main([*args, "-o", str(tmp_path / "b.model"), "--checkpoint-dir", str(ckpt), "--resume"])
        == 0
    )
    assert (tmp_path / "a.model").read_bytes() == (tmp_path / "b.model").read_bytes()
    # the corpus on disk gives the same model too
    assert main([*args, "-o", str(tmp_path / "c.model"), "--work-dir", str(tmp_path)]) == 0
    assert (tmp_path / "a.model").read_bytes() == (tmp_path / "c.model").read_bytes()
    capsys.readouterr()
    # a resume with other options is refused with the trainer's message
    assert (
        main(
            [
                "train",
                str(corpus),
                "--order",
                "4",
                "-o",
                str(tmp_path / "d.model"),
                "--checkpoint-dir",
                str(ckpt),
                "--resume",
                "-q",
            ]
        )
        == 2
    )
    assert "order" in capsys.readouterr().err


def test_train_glob_pattern(tmp_path: Path) -> None:
    lines = [f"{a} {b}\n" for a in ("red", "green", "blue") for b in ("fox", "cat", "owl")] * 4
    for i in range(3):
        (tmp_path / f"shard-{i}.txt").write_text("".join(lines[i::3]), encoding="utf-8")
    args = ["--order", "3", "--vocab-size", "270", "-q"]
    listed = [str(tmp_path / f"shard-{i}.txt") for i in range(3)]
    assert main(["train", *listed, "-o", str(tmp_path / "a.model"), *args]) == 0
    # quoted, the pattern reaches the command unexpanded
    assert (
        main(["train", str(tmp_path / "shard-*.txt"), "-o", str(tmp_path / "b.model"), *args]) == 0
    )
    assert (tmp_path / "a.model").read_bytes() == (tmp_path / "b.model").read_bytes()
    with pytest.raises(SystemExit, match=r"no training file matches the pattern .*nope-\*"):
        main(["train", str(tmp_path / "nope-*.txt"), "-o", str(tmp_path / "c.model")])


def test_train_on_a_local_dask_cluster(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    corpus = tmp_path / "corpus.txt"
    lines = [f"{a} {b} {c}\n" for a in ("one", "two", "six") for b in ("red", "tan") for c in "xyz"]
    corpus.write_text("".join(lines * 5), encoding="utf-8")
    args = ["train", str(corpus), "--order", "4", "--vocab-size", "280", "--min-count", "2"]
    assert main([*args, "-q", "-o", str(tmp_path / "local.model")]) == 0
    # in a subprocess, as a user runs it (the workers are processes), with its progress bars
    dask_args = ["-o", str(tmp_path / "dask.model"), "--dask-scheduler", "local:2"]
    done = subprocess.run(
        [sys.executable, "-m", "bytepiece_core", *args, *dask_args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "local.model").read_bytes() == (tmp_path / "dask.model").read_bytes()
    for stage in ("count ngrams", "count pieces"):
        assert stage in done.stderr  # the progress bars of the Dask passes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "dask.model", "local.model"]


def test_dask_scheduler_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("abc\n")
    args = ["train", str(corpus), "-o", str(tmp_path / "m"), "-q", "--dask-scheduler"]
    with pytest.raises(SystemExit, match="local:N needs a number of workers"):
        main([*args, "local:0"])
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(SystemExit, match=r"needs dask.distributed, not installed.*pip install"):
        main([*args, "local:2"])
    assert not (tmp_path / "m").exists()


def test_train_memory_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bytepiece_core import sizes

    corpus = tmp_path / "corpus.txt"
    words = [f"{a}{b}{c}" for a in "bcdfg" for b in "aeiou" for c in "lmnrst"]
    lines = [" ".join(words[i : i + 7]) + "\n" for i in range(0, len(words), 3)] * 5
    corpus.write_text("".join(lines), encoding="utf-8")
    args = ["train", str(corpus), "--order", "5", "--vocab-size", "400", "-q"]
    assert main([*args, "-o", str(tmp_path / "a.model")]) == 0
    monkeypatch.setattr(sizes, "MIN_BUDGET", 1)  # small enough to split every pass
    with pytest.warns(ResourceWarning):
        assert main([*args, "-o", str(tmp_path / "b.model"), "--memory-budget", "3kB"]) == 0
    assert (tmp_path / "a.model").read_bytes() == (tmp_path / "b.model").read_bytes()
    monkeypatch.undo()
    capsys.readouterr()
    assert main([*args, "-o", str(tmp_path / "c.model"), "--memory-budget", "lots"]) == 2
    assert "--memory-budget 'lots' is not a size" in capsys.readouterr().err
    assert not (tmp_path / "c.model").exists()


def _wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, f"the Dask process exited ({process.returncode})"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.2)


def test_train_on_a_separately_started_dask_cluster(tmp_path: Path) -> None:
    """The way a real cluster is used: ``dask scheduler`` and ``dask worker`` started on their
    own (here on this machine), the corpus in a ``--work-dir`` they all see."""
    pytest.importorskip("distributed")
    dask_command = [sys.executable, "-m", "dask"]
    # the workers import the package as installed workers would (here: from this checkout)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    corpus = tmp_path / "corpus.txt"
    lines = [f"{a} {b} {c}\n" for a in ("one", "two", "six") for b in ("red", "tan") for c in "xyz"]
    corpus.write_text("".join(lines * 5), encoding="utf-8")
    args = ["train", str(corpus), "--order", "4", "--vocab-size", "280", "--min-count", "2", "-q"]
    assert main([*args, "-o", str(tmp_path / "local.model")]) == 0
    address_file = tmp_path / "scheduler.json"
    shared = tmp_path / "shared"
    shared.mkdir()
    logs = open(tmp_path / "dask.log", "w")
    processes = [
        subprocess.Popen(
            [
                *dask_command,
                "scheduler",
                "--scheduler-file",
                str(address_file),
                "--port",
                "0",
                "--no-dashboard",
            ],
            stdout=logs,
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        _wait_for(address_file, processes[0])
        address = json.loads(address_file.read_text())["address"]
        from bytepiece_core.dask import connect

        with pytest.raises(ConnectionError, match=r"has no workers .* start some with"):
            connect(address, timeout=1)  # no worker yet
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        *dask_command,
                        "worker",
                        "--scheduler-file",
                        str(address_file),
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                    ],
                    stdout=logs,
                    stderr=subprocess.STDOUT,
                    cwd=tmp_path,
                    env=env,
                )
            )
        import distributed

        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        dask_args = ["--dask-scheduler", address, "--work-dir", str(shared)]
        assert main([*args, "-o", str(tmp_path / "dask.model"), *dask_args]) == 0
    finally:
        for process in processes[::-1]:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        logs.close()
    assert (tmp_path / "local.model").read_bytes() == (tmp_path / "dask.model").read_bytes()
    assert list(shared.iterdir()) == []
