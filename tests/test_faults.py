"""Faults: saving where it cannot be done leaves what was there intact and says why; one
tokenizer shared by many threads gives exactly the serial results."""

from __future__ import annotations

import errno
import json
import threading
from pathlib import Path

import pytest

from bytepiece_core import Tokenizer
from bytepiece_core.model import dump_model


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    pieces = {bytes([b]): 1 for b in range(256)}
    pieces.update({b"ab": 5, "中国".encode(): 9, b"the ": 4})
    return Tokenizer(dump_model(pieces))


def test_save_to_a_missing_folder_or_a_file_says_so(tok: Tokenizer, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"the folder .*missing.* does not exist"):
        tok.save(tmp_path / "missing" / "m.model")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        tok.save(tmp_path / "file" / "m.model")
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        tok.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_full_disk_keeps_the_model_that_was_there(
    tok: Tokenizer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "m.model"
    tok.save(target)
    before = target.read_bytes()

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(json, "dump", full)
    with pytest.raises(
        OSError, match="No space left on device; the file there, if any, is unchanged"
    ):
        tok.save(target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.model"]  # no temporary file left


def test_eight_threads_give_the_serial_results(tok: Tokenizer) -> None:
    texts = [f"the 中国 ab {i} " * (i % 7 + 1) for i in range(200)]
    serial = [tok.encode(t) for t in texts]
    sampled = [tok.encode(t, alpha=0.3, seed=i) for i, t in enumerate(texts)]
    batch = tok.encode_batch(texts)
    results: dict[int, tuple[object, ...]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(k: int) -> None:
        try:
            start.wait()
            for _ in range(3):
                got = (
                    [tok.encode(t) for t in texts],
                    [tok.encode(t, alpha=0.3, seed=i) for i, t in enumerate(texts)],
                    tok.encode_batch(texts, num_threads=2),
                )
            results[k] = got
        except BaseException as exc:  # handed to the test below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(results) == 8
    for got in results.values():
        assert got == (serial, sampled, batch)


def test_a_read_only_folder_says_so_and_keeps_the_model(
    tok: Tokenizer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that cannot be written (simulated: these tests run as root, whom file modes
    do not stop)."""
    import tempfile

    target = tmp_path / "m.model"
    tok.save(target)
    before = target.read_bytes()

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(PermissionError, match=r"cannot write the model to .*m\.model.*denied"):
        tok.save(target)
    assert target.read_bytes() == before
