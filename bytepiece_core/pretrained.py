"""Models that ship inside the package, so a fresh install can tokenize at once.

``bytepiece.plus.40k`` is the released BytePiece model trained by its author on 185 GB of
Chinese, English and code (39,843 pieces; Apache-2.0, see the README).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["available", "model_path"]

_DIR = Path(__file__).resolve().parent / "models"


def available() -> list[str]:
    """Names of the bundled models.

    >>> "bytepiece.plus.40k" in available()
    True
    """
    return sorted(p.name.removesuffix(".zip") for p in _DIR.glob("*.zip"))


def model_path(name: str) -> Path:
    """Path of a bundled model by name (``ValueError`` listing the names if unknown)."""
    path = _DIR / f"{name}.zip"
    if not path.is_file():
        raise ValueError(f"no bundled model named {name!r}; bundled models: {available()}")
    return path
