"""The command line: encode/decode round trips and clear errors."""

from __future__ import annotations

import subprocess
import sys
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
        input="abc\n".encode(), capture_output=True, check=True,
    )
    assert done.stdout.decode().split() == ["ab", "c", "\\n"]


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff\xfe\n")
    with pytest.raises(SystemExit, match=r"bad.txt is not UTF-8 text: invalid start byte at byte 0 of line 2"):
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
