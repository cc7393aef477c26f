"""Dask for training: connect to a cluster (or start a local one) for ``Trainer.train(backend=
"dask", client=...)``, the command line's ``--dask-scheduler`` and the Train panel.

``dask[distributed]`` is an optional dependency (``pip install 'bytepiece-workbench[dask]'``),
imported only when a cluster is asked for.

>>> parse_scheduler("local:2")
(None, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["INSTALL_HINT", "check_client", "connect", "distributed_module", "parse_scheduler"]

INSTALL_HINT = "pip install 'bytepiece-workbench[dask]' (or pip install 'dask[distributed]')"


def distributed_module() -> Any:
    """``dask.distributed``, or ``ImportError`` with the install hint."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            f"backend='dask' needs dask.distributed, not installed: {INSTALL_HINT}"
        ) from exc
    return distributed


def check_client(client: Any) -> None:
    """Refuse anything but a ``dask.distributed.Client`` (imports dask)."""
    distributed = distributed_module()
    if not isinstance(client, distributed.Client):
        raise TypeError(
            f"client must be a dask.distributed.Client, not {type(client).__name__}; "
            "e.g. client=Client(LocalCluster()) or Client('tcp://scheduler:8786')"
        )


def parse_scheduler(spec: str | None) -> tuple[str | None, int | None]:
    """Read a scheduler spec: ``(None, None)`` if empty (no Dask), ``(None, N)`` for
    ``local:N`` (a local cluster of N worker processes), else ``(address, None)``.

    Raises ``ValueError`` if N of ``local:N`` is not a whole number >= 1 (imports nothing).

    >>> parse_scheduler("local:2"), parse_scheduler("tcp://host:8786"), parse_scheduler("")
    ((None, 2), ('tcp://host:8786', None), (None, None))
    """
    if not spec:
        return None, None
    if spec.startswith("local:"):
        count = spec[len("local:") :]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"Dask scheduler {spec!r}: local:N needs a number of workers N >= 1")
        return None, int(count)
    return spec, None


def connect(spec: str | None, timeout: float = 30) -> tuple[Any, Callable[[], None]]:
    """A ``dask.distributed.Client`` for a scheduler spec, and the function that closes it.

    ``spec`` as :func:`parse_scheduler`: empty gives ``(None, no-op)``; ``local:N`` starts a
    ``LocalCluster`` of N single-threaded worker processes, which the closer shuts down with
    the client; anything else is the address of a running scheduler (only the client is
    closed), which must have a worker within ``timeout`` seconds.

    Raises ``ValueError`` for a bad ``local:N``, ``ImportError`` (with the install hint)
    without dask.distributed, ``ConnectionError`` if the scheduler cannot be reached, or has no
    worker, within ``timeout`` seconds.
    """
    address, n_workers = parse_scheduler(spec)
    if address is None and n_workers is None:
        return None, lambda: None
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            f"a Dask scheduler needs dask.distributed, not installed: {INSTALL_HINT}"
        ) from exc
    if n_workers is not None:
        cluster = distributed.LocalCluster(
            n_workers=n_workers,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
        )
        try:
            client = distributed.Client(cluster)
        except BaseException:
            cluster.close()
            raise

        def close_local() -> None:
            try:
                client.close()
            finally:
                cluster.close()

        return client, close_local
    try:
        client = distributed.Client(address, timeout=timeout)
    except OSError as exc:
        raise ConnectionError(
            f"cannot connect to the Dask scheduler at {address!r}: {exc}"
        ) from exc
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, distributed.TimeoutError) as exc:
        client.close()
        raise ConnectionError(
            f"the Dask scheduler at {address!r} has no workers (none joined within "
            f"{timeout:g} s): start some with 'dask worker {address}'"
        ) from exc
    return client, client.close
