"""bytepiece_core: a Numba engine for BytePiece, the minimum-entropy byte-level tokenizer.

``import bytepiece_core`` loads the segmenter only; the trainer is loaded the first time
``bytepiece_core.Trainer`` is used.

>>> from bytepiece_core import Tokenizer
"""

from typing import TYPE_CHECKING, Any

from .model import ModelError
from .tokenizer import Encoding, TokenBatch, Tokenizer, UnknownPieceError

if TYPE_CHECKING:
    from .trainer import Trainer

__version__ = "0.1.0"

__all__ = [
    "Encoding",
    "ModelError",
    "TokenBatch",
    "Tokenizer",
    "Trainer",
    "UnknownPieceError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "Trainer":  # the trainer, on first use
        from .trainer import Trainer

        return Trainer
    raise AttributeError(f"module 'bytepiece_core' has no attribute {name!r}")
