"""What every panel has: the shared state, a status line where errors are shown, and helpers
to keep model menus in step with the state."""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from typing import Any, ClassVar

import ipywidgets as W

from ..html import error_html, status_html
from ..jobs import Job
from ..state import AppState
from ._slot import FigureSlot

__all__ = ["Panel", "Throttle", "labeled", "section", "sync_model_menu", "uploaded"]

log = logging.getLogger("workbench")


def section(title: str, note: str = "") -> W.HTML:
    """A small heading with an optional explanation under it."""
    extra = f"<div style='color:#666;font-size:12px'>{note}</div>" if note else ""
    return W.HTML(f"<h4 style='margin:10px 0 2px 0'>{title}</h4>{extra}")


def labeled(control: W.Widget, label: str, api: str, help_text: str) -> W.VBox:
    """``control`` under a plain-language ``label``, with a help line beneath that names the
    API option it sets (for those who move on to code) and says what it does.

    The help is on the page, not in a tooltip: ipywidgets shows no tooltip on a control that
    has a description.

    >>> box = labeled(W.IntText(), "Minimum count", "min_count", "a piece must occur this often")
    >>> box.children[0].description, "min_count" in box.children[1].value
    ('Minimum count', True)
    """
    control.description = label
    help_line = W.HTML(
        f"<div class='wb-help' style='color:#666;font-size:11px;margin:0 0 6px 8px;"
        f"max-width:460px;line-height:1.3'><code>{html.escape(api)}</code> · "
        f"{html.escape(help_text)}</div>"
    )
    return W.VBox([control, help_line])


def uploaded(change: dict[str, Any]) -> tuple[str, bytes] | None:
    """The name and bytes of the file a ``FileUpload`` change brought (None when cleared).

    >>> uploaded({"new": ({"name": "a.txt", "content": memoryview(b"hi")},)})
    ('a.txt', b'hi')
    """
    files = change["new"]
    if not files:
        return None
    return files[0]["name"], bytes(files[0]["content"])


def sync_model_menu(
    menu: W.Dropdown, labels: list[str], prefer: str | None = None, keep: bool = True
) -> None:
    """Set a model menu's options to ``labels``, keeping its value if it is still there (and
    ``keep``), else ``prefer`` (if given and present), else the first label."""
    current = menu.value
    menu.options = labels
    if keep and current in labels:
        menu.value = current
    elif prefer in labels:
        menu.value = prefer
    elif labels:
        menu.value = labels[0]


class Panel:
    """Base of the panels: ``state``, a ``status`` HTML line and the root ``widget``.

    Subclasses build their controls in ``__init__`` and set ``self.widget``.
    """

    title: ClassVar[str] = "panel"

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.status = W.HTML()
        self.widget: W.Widget = W.VBox()
        self.slots: list[FigureSlot] = []
        self.job: Job | None = None

    # -- background work -----------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether the panel's background job is running."""
        return self.job is not None and self.job.running

    def start_job(
        self,
        work: Callable[[Job], Any],
        on_success: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        *,
        run_button: W.Button,
        stop_button: W.Button | None = None,
        name: str,
    ) -> None:
        """Run ``work`` in a background :class:`~workbench.jobs.Job`: ``run_button`` disabled
        (and ``stop_button`` enabled) until it ends, whatever happens."""
        run_button.disabled = True
        if stop_button is not None:
            stop_button.disabled = False

        def finish() -> None:
            run_button.disabled = False
            if stop_button is not None:
                stop_button.disabled = True

        self.job = Job(work, on_success, on_error, finish, name=name).start()

    def stop_job(self) -> bool:
        """Ask the running job to stop (True if one was running)."""
        if not self.busy:
            return False
        assert self.job is not None
        self.job.stop()
        return True

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the background job (True if none is running or it finished)."""
        return self.job.join(timeout) if self.job is not None else True

    def slot(self, width: int | None = None) -> FigureSlot:
        """A new place for a figure, shown once the panel is (see :class:`FigureSlot`)."""
        slot = FigureSlot(width)
        self.slots.append(slot)
        return slot

    def on_show(self) -> None:
        """The panel is being shown (its tab selected): create its figure widgets."""
        for slot in self.slots:
            slot.activate()

    def show_status(self, message: str, kind: str = "info") -> None:
        """Show a one-line message (info, ok, warn or error)."""
        self.status.value = status_html(message, kind)

    def show_error(self, exc: BaseException, action: str) -> None:
        """Show an error in the panel (and log it): what failed, the exception and message."""
        log.warning("%s failed: %s: %s", action, type(exc).__name__, exc)
        self.status.value = error_html(exc, action)

    def guarded(self, action: str, fn: Any, *args: Any) -> Any:
        """Call ``fn(*args)``; an exception is shown in the status line instead of raised.

        Returns the result, or None after an error.
        """
        try:
            return fn(*args)
        except Exception as exc:
            self.show_error(exc, action)
            return None

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self.on_show()
        return self.widget._repr_mimebundle_(**kwargs)


class Throttle:
    """True at most every ``interval`` seconds (progress updates from a busy thread)."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._last = 0.0

    def __call__(self, force: bool = False) -> bool:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            return True
        return False
