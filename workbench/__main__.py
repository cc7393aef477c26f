"""``python -m workbench``: serve the workbench app in the browser with Voilà.

Voilà runs the small notebook ``workbench/data/app.ipynb`` (which builds ``Workbench()``) and
shows its output, the app, without code. Stop it with Ctrl-C.

Examples
--------
::

    python -m workbench                       # People's Daily sample, opens a browser tab
    python -m workbench --corpus en_kjv --port 8870 --no-browser
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .corpora import DATA_DIR, DEFAULT_SAMPLE, MIXED, SAMPLES

__all__ = ["APP_NOTEBOOK", "main", "voila_command"]

APP_NOTEBOOK: Path = DATA_DIR / "app.ipynb"
"""The notebook Voilà serves."""


def voila_command(port: int = 8866, open_browser: bool = True, ip: str = "127.0.0.1") -> list[str]:
    """The command line that serves the app.

    >>> cmd = voila_command(8870, open_browser=False)
    >>> cmd[1:3], cmd[3].endswith("app.ipynb"), cmd[-1]
    (['-m', 'voila'], True, '--no-browser')
    """
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(APP_NOTEBOOK),
        f"--port={port}",
        f"--Voila.ip={ip}",
        "--show_tracebacks=True",
        "--theme=light",
    ]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m workbench",
        description="Serve the BytePiece Workbench in the browser (Voilà).",
    )
    p.add_argument(
        "--corpus",
        default=DEFAULT_SAMPLE,
        help=f"bundled sample ({', '.join(SAMPLES)}), {MIXED!r} for all of them, or the path "
        f"of a UTF-8 text file (default: {DEFAULT_SAMPLE})",
    )
    p.add_argument("--port", type=int, default=8866, help="port to serve on (default: 8866)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run Voilà on the app notebook until it is stopped; return its exit code."""
    args = _parser().parse_args(argv)
    corpus = args.corpus
    if corpus not in SAMPLES and corpus != MIXED:
        file = Path(corpus).expanduser()
        if not file.is_file():
            print(f"python -m workbench: no sample or file named {corpus!r}", file=sys.stderr)
            return 2
        corpus = str(file.resolve())
    # the kernel imports the same workbench as this launcher, installed or not
    root = str(Path(__file__).resolve().parents[1])
    pythonpath = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "WORKBENCH_CORPUS": corpus, "PYTHONPATH": pythonpath}
    cmd = voila_command(args.port, open_browser=not args.no_browser)
    print(f"Serving the workbench at http://127.0.0.1:{args.port}/ (Ctrl-C to stop)", flush=True)
    if os.name == "posix":  # become the server: signals reach it, no orphan when stopped
        os.execve(cmd[0], cmd, env)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
