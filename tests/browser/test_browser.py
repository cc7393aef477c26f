"""The served app in a real browser: ``python -m workbench`` (Voilà) on a free local port,
driven by Debian's chromium through Playwright. Click Train on the bundled corpus, then check
in the page that progress completes and that the plots and the lattice are drawn.

Screenshots go to ``$WORKBENCH_SCREENSHOTS`` (default: a new temporary folder); their paths
are printed. The browser is never downloaded: without ``/usr/bin/chromium`` (or
``$WORKBENCH_CHROMIUM``) the test fails and says how to install it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 60  # seconds for the server to listen
PAGE_TIMEOUT = 120_000  # ms for the notebook to run and the app to show (cold Numba cache)
TRAIN_TIMEOUT = 90_000  # ms for the first training (Numba compilation included)
WORKBENCH = [sys.executable, "-m", "workbench"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def chromium() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Debian's chromium is needed at {CHROMIUM} for the browser test: install it with "
            "`apt-get update && apt-get install -y chromium` (or set WORKBENCH_CHROMIUM to a "
            "chromium binary). No browser is downloaded. Deselect with -m 'not browser'."
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("the browser test needs the PyPI package playwright: pip install playwright")
    return CHROMIUM


@pytest.fixture(scope="module")
def screenshots() -> Path:
    folder = os.environ.get("WORKBENCH_SCREENSHOTS")
    path = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="workbench-screens-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m workbench`` on a free port; stopped (with its kernels) afterwards."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("voila") / "voila.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench", "--no-browser", f"--port={port}"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the kernels stop with it
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the workbench server did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            if proc.poll() is not None:
                break
            os.killpg(proc.pid, sig)
            try:
                proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
        try:  # kernels left in the group
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _local_only(route: Any) -> None:
    host = urlparse(route.request.url).hostname
    if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def test_train_and_see_the_app_in_chromium(
    chromium: str, app_url: str, screenshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots: list[Path] = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="workbench-chromium-"),  # a fresh profile
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1300, "height": 1000},
        )
        try:
            context.route("**/*", _local_only)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            def shot(name: str) -> None:
                path = screenshots / f"{len(shots) + 1:02d}-{name}.png"
                page.screenshot(path=str(path), full_page=True)
                shots.append(path)

            def visible(selector: str) -> Any:
                return page.locator(f"{selector} >> visible=true")

            page.goto(app_url, timeout=PAGE_TIMEOUT)
            page.wait_for_selector(".bytepiece-workbench", timeout=PAGE_TIMEOUT)
            assert page.locator(".jp-OutputArea-output pre").count() == 0 or (
                "Error" not in page.locator(".jp-OutputArea-output pre").first.inner_text()
            ), "the app notebook raised"
            # Corpus tab: the bundled sample and its scripts plot
            expect(page.get_by_text("People's Daily 1998").first).to_be_attached()
            expect(visible(".main-svg").first).to_be_visible(timeout=30_000)
            expect(visible(".js-plotly-plot .barlayer .point").first).to_be_visible()
            shot("corpus")

            # Train tab: click Train and wait for the run to finish
            page.get_by_role("tab", name="Train").click()
            page.get_by_role("button", name="Train").click()
            status = page.get_by_text(re.compile("Trained in .* with the refined algorithm"))
            expect(status).to_be_visible(timeout=TRAIN_TIMEOUT)
            # the Train panel trains with the refined algorithm: the sizes asked for
            assert "2000 (vocab 2000), 1000 (vocab 1000)" in status.inner_text()
            widths = page.eval_on_selector_all(  # the four stage bars of the Train tab
                ".widget-hprogress .progress-bar",
                "bars => bars.filter(b => b.offsetParent !== null).map(b => b.style.width)",
            )
            assert widths == ["100%"] * 4, widths
            expect(visible(".js-plotly-plot").first).to_be_visible()
            expect(visible(".xtick text").get_by_text("candidates").first).to_be_visible()
            shot("train")

            # Vocabulary tab: the trained model's pieces in the table and the histogram
            page.get_by_role("tab", name="Vocabulary").click()
            expect(visible(".wb-table td").first).to_be_visible(timeout=30_000)
            expect(visible(".barlayer .point").first).to_be_visible()
            shot("vocabulary")

            # Lattice tab: the lattice of the default sentence under the trained model
            page.get_by_role("tab", name="Lattice").click()
            expect(visible(".barlayer .point").first).to_be_visible(timeout=30_000)
            assert visible(".barlayer .point").count() > 50  # edges and boundary bars
            expect(page.get_by_text("segmentations; entropy at").first).to_be_visible()
            expect(visible("select").filter(has_text="trained 2000").first).to_be_attached()
            shot("lattice")

            page.get_by_role("tab", name="Compare").click()
            expect(visible(".wb-token").first).to_be_visible(timeout=30_000)
            shot("compare")
            assert not errors, f"JavaScript errors in the page: {errors}"
        finally:
            context.close()
    with capsys.disabled():
        print("\nworkbench screenshots:", *(f"  {s}" for s in shots), sep="\n")
    assert all(s.stat().st_size > 10_000 for s in shots)


NARROW = 800  # px: a laptop window split in two, a projector


def _no_sideways_scroll(page: Any) -> None:
    """Nothing in the page is wider than the window (no horizontal scrolling)."""
    wide = page.evaluate(
        """() => {
            const w = document.documentElement.clientWidth;
            const roots = [document.documentElement, document.body,
                           ...document.querySelectorAll('.bytepiece-workbench, .jp-OutputArea')];
            return roots.filter(e => e.scrollWidth > w + 2)
                        .map(e => e.className + ' ' + e.scrollWidth);
        }"""
    )
    assert not wide, f"wider than {NARROW} px: {wide}"


def test_a_lab_session_at_800_px(
    chromium: str, app_url: str, screenshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At 800 px: every tab fits the window; a size that is not reached is said so; the
    vocabulary plot gets points while training still runs; a downloaded tokenizer.json loads
    in HF tokenizers and gives the downloaded BytePiece model's ids; Compare's Train all
    succeeds in the background."""
    import tokenizers
    from playwright.sync_api import expect, sync_playwright

    from bytepiece_core import Tokenizer

    shots: list[Path] = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="workbench-chromium-"),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": NARROW, "height": 1000},
            accept_downloads=True,
        )
        try:
            context.route("**/*", _local_only)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            outside: list[str] = []  # the app must load offline: nothing from elsewhere
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url)
                    if urlparse(r.url).hostname not in (None, "127.0.0.1", "localhost")
                    and not r.url.startswith(("data:", "blob:"))
                    else None
                ),
            )

            def visible(selector: str) -> Any:
                return page.locator(f"{selector} >> visible=true")

            def shot(name: str) -> None:
                path = screenshots / f"narrow-{len(shots) + 1:02d}-{name}.png"
                page.screenshot(path=str(path), full_page=True)
                shots.append(path)

            page.goto(app_url, timeout=PAGE_TIMEOUT)
            page.wait_for_selector(".bytepiece-workbench", timeout=PAGE_TIMEOUT)
            expect(visible(".main-svg").first).to_be_visible(timeout=30_000)
            _no_sideways_scroll(page)
            shot("corpus")
            nulls = page.evaluate(
                "[...document.querySelectorAll('.bytepiece-workbench [title]')]"
                ".filter(e => e.title === 'null' || e.title === 'undefined').length"
            )
            assert nulls == 0, f"{nulls} controls show 'null' when hovered"
            assert not outside, f"the page asked for files from elsewhere: {outside}"

            # the reference algorithm cannot reach 3000 on the bundled corpus: said so
            page.get_by_role("tab", name="Train").click()
            visible("select").filter(has_text="refined (reaches").first.select_option(
                label="bytepiece (the reference, exactly)"
            )
            sizes = visible("input[type=text]").first
            sizes.fill("3000, 2000")
            sizes.press("Enter")
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.get_by_text("Not reached: 3,000 (got").first).to_be_visible(
                timeout=TRAIN_TIMEOUT
            )
            expect(visible("select").filter(has_text="size not reached").first).to_be_attached()
            _no_sideways_scroll(page)
            shot("train-not-reached")

            # the refined algorithm on all the samples: points appear while it still runs
            page.get_by_role("tab", name="Corpus").click()
            visible("select").filter(has_text="mixed").first.select_option(
                label="All bundled samples (mixed)"
            )
            expect(page.get_by_text("Using mixed").first).to_be_visible(timeout=60_000)
            page.get_by_role("tab", name="Train").click()
            visible("select").filter(has_text="refined (reaches").first.select_option(
                label="refined (reaches the size asked for)"
            )
            sizes.fill("8000, 4000, 2000, 1000")
            sizes.press("Enter")
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.get_by_text("Training on mixed").first).to_be_visible(timeout=10_000)
            points_while_running = 0
            polls = []
            deadline = time.monotonic() + TRAIN_TIMEOUT / 1000
            while time.monotonic() < deadline:
                state = page.evaluate(
                    """() => ({
                        status: [...document.querySelectorAll('.wb-status')]
                            .filter(e => e.offsetParent !== null).map(e => e.innerText).join(' | '),
                        points: [...document.querySelectorAll('.scatterlayer .point')]
                            .filter(e => e.getBoundingClientRect().width > 0).length,
                    })"""
                )
                polls.append(state)
                if "Training on" in state["status"]:
                    points_while_running = max(points_while_running, state["points"])
                if re.search("Trained in .* with the refined algorithm:", state["status"]):
                    break
                time.sleep(0.05)
            assert points_while_running >= 2, (
                f"the vocabulary plot was empty during the run: {polls}"
            )
            shot("train-refined")

            # download the largest model as BytePiece and as HF tokenizer.json
            page.get_by_role("button", name="Prepare downloads").click()
            files = {}
            for label in ("BytePiece model", "HF tokenizer.json"):
                with page.expect_download() as info:
                    page.get_by_role("link", name=label).click()
                files[label] = info.value.path()
            ours = Tokenizer(json.loads(Path(files["BytePiece model"]).read_text()))
            hf = tokenizers.Tokenizer.from_file(str(files["HF tokenizer.json"]))
            text = "中国人民银行今天宣布，将进一步扩大开放。\nIn the beginning God created"
            assert ours.vocab_size == 8000
            assert hf.encode(text, add_special_tokens=False).ids == ours.encode(text)

            # Compare: Train all runs in the background and fills the like-for-like table
            page.get_by_role("tab", name="Compare").click()
            expect(visible(".wb-token").first).to_be_visible(timeout=30_000)
            page.get_by_role("button", name="Train all").click()
            expect(page.get_by_role("button", name="Train all")).to_be_disabled()
            page.get_by_role("tab", name="Lattice").click()  # the app answers meanwhile
            expect(visible(".barlayer .point").first).to_be_visible(timeout=30_000)
            _no_sideways_scroll(page)
            shot("lattice")
            page.get_by_role("tab", name="Compare").click()
            expect(page.get_by_text("All trained at").first).to_be_visible(timeout=180_000)
            expect(visible(".wb-table td").get_by_text("SentencePiece unigram")).to_be_visible()
            _no_sideways_scroll(page)
            shot("compare")
            for tab in ("Vocabulary", "Entropy"):
                page.get_by_role("tab", name=tab).click()
                page.wait_for_timeout(1500)
                _no_sideways_scroll(page)
                shot(tab.lower())
            # Tune: a sweep, then the size's table sits above the sample box, not over it
            page.get_by_role("tab", name="Tune").click()
            page.get_by_role("button", name="Run sweep").click()
            expect(page.get_by_text("Sweep done").first).to_be_visible(timeout=TRAIN_TIMEOUT)
            expect(visible(".wb-table").first).to_be_visible(timeout=30_000)
            shot("tune")
            table_bottom = page.evaluate(  # the table's box as shown (it scrolls inside it)
                """() => Math.max(...[...document.querySelectorAll('.wb-table')]
                    .filter(e => e.offsetParent !== null)
                    .map(e => e.parentElement.getBoundingClientRect().bottom))"""
            )
            sample_top = visible("textarea").last.bounding_box()["y"]
            assert table_bottom <= sample_top + 1, (table_bottom, sample_top)
            _no_sideways_scroll(page)
            # a dark page: the figures follow it (no white plot on a dark page)
            page.goto(app_url + "?theme=dark", timeout=PAGE_TIMEOUT)
            page.wait_for_selector(".bytepiece-workbench", timeout=PAGE_TIMEOUT)
            expect(visible(".main-svg").first).to_be_visible(timeout=30_000)
            background = page.evaluate(
                "getComputedStyle(document.querySelector('.main-svg')).backgroundColor"
            )
            assert background in ("rgba(0, 0, 0, 0)", "transparent"), background
            shot("dark")
            assert not errors, f"JavaScript errors in the page: {errors}"
        finally:
            context.close()
    with capsys.disabled():
        print("\nworkbench screenshots at 800 px:", *(f"  {s}" for s in shots), sep="\n")


def _kernels(pid: int) -> list[int]:
    """The kernel processes the server started."""
    import psutil

    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                found.append(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


# Seconds of idleness, with no connection, after which the server ends a kernel. A kernel is
# idle and unconnected from the end of the app notebook's run until the page's scripts connect
# to it; on a loaded machine that gap has reached 2 seconds, and a kernel culled then leaves a
# page whose widgets never show. Ten seconds is well above the gap and keeps the test short.
CULL_SECONDS = 10


def test_a_closed_page_does_not_leave_its_kernel(chromium: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    log_path = tmp_path / "voila.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*WORKBENCH, "--no-browser", f"--port={port}", f"--cull-idle-seconds={CULL_SECONDS}"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(port):
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                for _ in range(2):  # two pages opened and closed, one after the other
                    page = browser.new_page()
                    page.route("**/*", _local_only)
                    page.goto(f"http://127.0.0.1:{port}/", timeout=PAGE_TIMEOUT)
                    try:
                        page.wait_for_selector(".bytepiece-workbench", timeout=PAGE_TIMEOUT)
                    except Exception as exc:
                        raise AssertionError(log_path.read_text()[-3000:]) from exc
                    assert len(_kernels(proc.pid)) >= 1  # the open page's kernel
                    page.close()
                    gone = time.monotonic() + CULL_SECONDS + 60
                    while _kernels(proc.pid) and time.monotonic() < gone:
                        time.sleep(0.5)
                    assert _kernels(proc.pid) == [], log_path.read_text()[-3000:]
            finally:
                browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
