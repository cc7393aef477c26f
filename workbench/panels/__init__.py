"""The workbench panels: each composes widgets, calls the engine and the figure builders,
and shows its errors in its own status line. All share one :class:`~workbench.state.AppState`."""

from .compare import ComparePanel
from .corpus import CorpusPanel
from .entropy import EntropyPanel
from .lattice import LatticePanel
from .train import TrainPanel
from .tune import TunePanel
from .vocab import VocabPanel

__all__ = [
    "ComparePanel",
    "CorpusPanel",
    "EntropyPanel",
    "LatticePanel",
    "TrainPanel",
    "TunePanel",
    "VocabPanel",
]
