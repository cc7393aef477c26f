"""bytepiece_core: a Numba engine for BytePiece, the minimum-entropy byte-level tokenizer.

>>> from bytepiece_core import Tokenizer
"""

from .model import ModelError
from .tokenizer import Encoding, Tokenizer, UnknownPieceError

__version__ = "0.1.0"

__all__ = ["Tokenizer", "Encoding", "ModelError", "UnknownPieceError", "__version__"]
