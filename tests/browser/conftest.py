"""Browser tests: the ``browser`` marker (deselect with ``-m "not browser"``)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: drives the served app in Debian's chromium (deselect with -m 'not browser')",
    )
