"""``python -m workbench``: serve the workbench app in the browser with Voilà.

Voilà runs the small notebook ``workbench/data/app.ipynb`` (which builds ``Workbench()``) and
shows its output, the app, without code. Stop it with Ctrl-C.

Examples
--------
::

    python -m workbench                       # People's Daily sample, opens a browser tab
    python -m workbench --corpus en_kjv --port 8870 --no-browser
    python -m workbench --host 0.0.0.0 --file-root ~/class   # a classroom on the network

On a host other than loopback, anyone who can reach the port can use the app, so the path
fields (corpus, model, save) only reach files under ``--file-root`` (default: the folder the
server is started in).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .corpora import DATA_DIR, DEFAULT_SAMPLE, MIXED, SAMPLES

__all__ = ["APP_NOTEBOOK", "CULL_IDLE_SECONDS", "is_loopback", "main", "voila_command"]

APP_NOTEBOOK: Path = DATA_DIR / "app.ipynb"
"""The notebook Voilà serves."""


TEMPLATE = "workbench"
"""The page template (``workbench/data/voila/templates/workbench``: Voilà's lab template
without its CDN stylesheets); Voilà finds it through ``JUPYTER_PATH``."""

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
        f"--template={TEMPLATE}",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_seconds}",
        f"--MappingKernelManager.cull_interval={max(1, min(cull_idle_seconds, 30))}",
        "--MappingKernelManager.cull_connected=False",
        "--MappingKernelManager.cull_busy=False",
    ]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (``localhost``, 127.x.x.x, ``::1``).

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0: every "
        "network interface, e.g. for a classroom)",
    )
    p.add_argument(
        "--file-root",
        default=None,
        help="the only folder whose files the app's path fields may read and write (default: "
        "none on loopback, the folder the server is started in on any other host)",
    )
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
    jupyter_path = os.pathsep.join(
        p for p in (str(DATA_DIR), os.environ.get("JUPYTER_PATH", "")) if p
    )
    env = {
        **os.environ,
        "WORKBENCH_CORPUS": corpus,
        "WORKBENCH_SAVE_DIR": os.getcwd(),
        "PYTHONPATH": pythonpath,
        "JUPYTER_PATH": jupyter_path,  # where Voilà finds the page template
    }
    env.pop("WORKBENCH_FILE_ROOT", None)
    root = args.file_root
    if root is None and not is_loopback(args.host):
        root = os.getcwd()
    if root is not None:
        folder = Path(root).expanduser().resolve()
        if not folder.is_dir():
            print(f"python -m workbench: --file-root {root!r} is not a folder", file=sys.stderr)
            return 2
        env["WORKBENCH_FILE_ROOT"] = str(folder)
    if args.cull_idle_seconds < 1:
        print("python -m workbench: --cull-idle-seconds must be at least 1", file=sys.stderr)
        return 2
    cmd = voila_command(
        args.port,
        open_browser=not args.no_browser,
        ip=args.host,
        cull_idle_seconds=args.cull_idle_seconds,
    )
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"Serving the workbench at http://{shown}:{args.port}/ (Ctrl-C to stop)", flush=True)
    if root is not None:
        print(f"The app's path fields reach only files under {env['WORKBENCH_FILE_ROOT']}")
    if os.name == "posix":  # become the server: signals reach it, no orphan when stopped
        os.execve(cmd[0], cmd, env)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
