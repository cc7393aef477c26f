"""Long work in a background thread, so the notebook stays responsive.

A :class:`Job` runs one function in a daemon thread and hands its result or its exception to
callbacks; it can be asked to stop (the function polls :attr:`Job.stop_requested` or calls
:meth:`Job.check_stop`), and tests wait for it with :meth:`Job.join`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Job", "Stopped"]


class Stopped(Exception):
    """Raised inside a job's work when a stop was requested (e.g. from a training callback)."""


class Job:
    """Run ``work(job)`` in a background thread.

    Parameters
    ----------
    work
        The function to run; it gets the job (to poll :attr:`stop_requested`).
    on_success
        Called in the worker thread with the result of ``work``.
    on_error
        Called in the worker thread with the exception raised by ``work`` or ``on_success``
        (a :class:`Stopped` when the job was stopped).
    on_finally
        Called last in the worker thread, whatever happened (e.g. to re-enable a button).

    Examples
    --------
    >>> results = []
    >>> job = Job(lambda job: 6 * 7, on_success=results.append).start()
    >>> job.join(5), results
    (True, [42])
    """

    def __init__(
        self,
        work: Callable[[Job], Any],
        on_success: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_finally: Callable[[], None] | None = None,
        name: str = "workbench-job",
    ) -> None:
        self._work = work
        self._on_success = on_success
        self._on_error = on_error
        self._on_finally = on_finally
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.error: BaseException | None = None
        self.result: Any = None

    def start(self) -> Job:
        """Start the thread and return the job."""
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """True from :meth:`start` until every callback has returned."""
        return self._thread.is_alive() and not self._done.is_set()

    @property
    def stop_requested(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask the work to stop at its next check (it is not interrupted by force)."""
        self._stop.set()

    def check_stop(self, *_: Any) -> None:
        """Raise :class:`Stopped` if a stop was requested (usable as a progress callback)."""
        if self._stop.is_set():
            raise Stopped("stopped on request")

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the job and its callbacks are finished; False on timeout."""
        return self._done.wait(timeout)

    def _run(self) -> None:
        try:
            self.result = self._work(self)
            if self._on_success is not None:
                self._on_success(self.result)
        except BaseException as exc:  # shown to the user by on_error, never lost
            self.error = exc
            if self._on_error is not None:
                try:
                    self._on_error(exc)
                except Exception:  # pragma: no cover - the error view itself failed
                    pass
        finally:
            try:
                if self._on_finally is not None:
                    self._on_finally()
            finally:
                self._done.set()
