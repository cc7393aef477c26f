"""``python -m workbench``: what it hands the Voilà server (the command and the kernel's
environment), with the server's start replaced by a recorder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import workbench.__main__ as serve


class Started(Exception):
    """Raised by the stand-in for ``os.execve``: the server would start here."""


@pytest.fixture()
def launch(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def execve(path: str, cmd: list[str], env: dict[str, str]) -> None:
        seen.update(cmd=cmd, env=env)
        raise Started

    monkeypatch.setattr(serve.os, "execve", execve)
    monkeypatch.delenv("WORKBENCH_FILE_ROOT", raising=False)
    return seen


def test_loopback_by_default_with_no_file_root(
    launch: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Started):
        serve.main(["--no-browser"])
    assert "--Voila.ip=127.0.0.1" in launch["cmd"]
    assert "WORKBENCH_FILE_ROOT" not in launch["env"]
    assert launch["env"]["WORKBENCH_SAVE_DIR"] == str(tmp_path)


def test_a_network_host_gets_a_file_root(
    launch: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Started):
        serve.main(["--host", "0.0.0.0", "--no-browser"])
    assert "--Voila.ip=0.0.0.0" in launch["cmd"]
    assert launch["env"]["WORKBENCH_FILE_ROOT"] == str(tmp_path.resolve())
    assert f"only files under {tmp_path.resolve()}" in capsys.readouterr().out
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    with pytest.raises(Started):
        serve.main(["--host", "192.168.1.5", "--file-root", str(class_dir), "--no-browser"])
    assert launch["env"]["WORKBENCH_FILE_ROOT"] == str(class_dir.resolve())


def test_a_file_root_that_is_not_a_folder_is_refused(
    launch: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    assert serve.main(["--file-root", str(tmp_path / "none"), "--no-browser"]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert launch == {}


def test_the_app_reads_the_file_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bytepiece_core import Tokenizer
    from workbench.state import FILE_ROOT_ENV, AppState

    monkeypatch.setenv(FILE_ROOT_ENV, str(tmp_path))
    state = AppState(released=Tokenizer.from_pretrained())
    assert state.file_root == tmp_path.resolve() and state.save_dir == tmp_path.resolve()
    with pytest.raises(PermissionError):
        state.path(os.sep + "etc")
