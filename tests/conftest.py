"""Shared fixtures: where ../shared is, and small models built in memory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

SHARED = TESTS.parents[1] / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only ``shared/`` folder that sits beside the checkout."""
    if not SHARED.is_dir():
        pytest.fail(f"the shared/ folder is expected beside the checkout at {SHARED}")
    return SHARED


@pytest.fixture(autouse=True)
def threads_on_small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """``encode_batch`` runs a batch of little text on one thread whatever ``num_threads``
    says; the tests' batches are small, and must still run on the threads they ask for
    (``tests/test_batch.py`` tests the rule itself)."""
    from bytepiece_core import _batch

    monkeypatch.setattr(_batch, "_THREADED_CHARS", 0)
