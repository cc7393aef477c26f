"""workbench: Jupyter panels and plotly figures over ``bytepiece_core``.

``Workbench()`` in a notebook cell shows the whole app; ``python -m workbench`` serves it in
the browser with Voilà. Figure builders live in :mod:`workbench.figures` (pure functions from
data to plotly figures) and the bundled sample corpora in :mod:`workbench.corpora`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

logging.getLogger("workbench").addHandler(logging.NullHandler())

if TYPE_CHECKING:  # pragma: no cover
    from .app import Workbench

__all__ = ["Workbench"]


def __getattr__(name: str) -> Any:
    # Importing the app pulls in ipywidgets and plotly; the figures and corpora do not need it.
    if name == "Workbench":
        from .app import Workbench

        return Workbench
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
