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

__all__ = ["APP_NOTEBOOK", "CULL_IDLE_SECONDS", "main", "voila_command"]

APP_NOTEBOOK: Path = DATA_DIR / "app.ipynb"
"""The notebook Voilà serves."""


# Seconds a kernel whose page was closed (no connection, idle) lives on before it is ended.
CULL_IDLE_SECONDS = 60


def voila_command(
    port: int = 8866,
    open_browser: bool = True,
    ip: str = "127.0.0.1",
    cull_idle_seconds: int = CULL_IDLE_SECONDS,
) -> list[str]:
    """The command line that serves the app.

    A page's kernel is meant to end when the page is closed, but Voilà's shutdown request on
    closing is refused by the server's XSRF check (Voilà issue 1458), so the kernels of closed
    pages are culled instead: a kernel with no connection left, idle for
    ``cull_idle_seconds``, is shut down (a kernel still connected, or busy, never is).

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
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_seconds}",
        f"--MappingKernelManager.cull_interval={max(1, min(cull_idle_seconds, 30))}",
        "--MappingKernelManager.cull_connected=False",
        "--MappingKernelManager.cull_busy=False",
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
    p.add_argument(
        "--cull-idle-seconds",
        type=int,
        default=CULL_IDLE_SECONDS,
        help="end the kernel of a closed page after it has been idle this long "
        f"(default: {CULL_IDLE_SECONDS})",
    )
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
    # the kernel runs in the app notebook's folder; files are saved where the user started
    env = {
        **os.environ,
        "WORKBENCH_CORPUS": corpus,
        "WORKBENCH_SAVE_DIR": os.getcwd(),
        "PYTHONPATH": pythonpath,
    }
    if args.cull_idle_seconds < 1:
        print("python -m workbench: --cull-idle-seconds must be at least 1", file=sys.stderr)
        return 2
    cmd = voila_command(
        args.port, open_browser=not args.no_browser, cull_idle_seconds=args.cull_idle_seconds
    )
    print(f"Serving the workbench at http://127.0.0.1:{args.port}/ (Ctrl-C to stop)", flush=True)
    if os.name == "posix":  # become the server: signals reach it, no orphan when stopped
        os.execve(cmd[0], cmd, env)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
