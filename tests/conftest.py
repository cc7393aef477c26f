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
