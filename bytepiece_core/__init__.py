"""bytepiece_core: a Numba engine for BytePiece, the minimum-entropy byte-level tokenizer.

>>> from bytepiece_core import Tokenizer
"""

from .model import ModelError
from .tokenizer import Encoding, TokenBatch, Tokenizer, UnknownPieceError
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
