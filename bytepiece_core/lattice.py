"""The segmentation lattice of one text: every vocabulary match, the best path, and the
distribution over all segmentations (ALGORITHM.md section 5).

Under ``p(segmentation) ∝ exp(alpha * Σ logp(piece))`` the forward/backward sums give each
edge's marginal probability, the probability of a token boundary at each byte offset, and the
entropy of the distribution; with all weights 0 the same sums count the segmentations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ._kernels_lattice import _forward_backward, _lattice_edges, _nbest
from .utf8 import chars_before

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .vocab import Vocab

__all__ = ["Lattice", "Path", "build_lattice"]

LN2 = math.log(2.0)


class Path(NamedTuple):
    """One segmentation: indices of its lattice edges, their ids and pieces, and its score
    (the sum of the pieces' ``logp``, natural log)."""

    edges: list[int]
    ids: list[int]
    pieces: list[bytes]
    score: float


@dataclass(frozen=True, eq=False)
class Lattice:
    """All segmentations of one (NFC) text, as parallel arrays over its edges.

    Attributes
    ----------
    text : str
        The normalized text; byte offsets refer to ``text.encode()``.
    alpha : float
        Temperature of the distribution over segmentations (0: uniform).
    starts, ends : int64[n_edges]
        Byte span of each edge (vocabulary match), sorted by start then end.
    ids : int32[n_edges]
        Piece id of each edge.
    logp : float64[n_edges]
        Score ``log p(piece)`` of each edge (natural log).
    char_starts, char_ends : int64[n_edges]
        Character span of each edge (a byte fragment gets its whole character).
    best : int64[n_tokens]
        Edges of the best (Viterbi) segmentation, identical to ``Tokenizer.tokenize``.
    marginals : float64[n_edges]
        Probability that a segmentation drawn from the distribution uses each edge.
    boundary_prob : float64[n_bytes + 1]
        Probability of a token boundary at each byte offset (1 at both ends).
    entropy : float
        Entropy of the distribution over segmentations, in bits.
    log_count : float
        Natural log of the number of segmentations.
    """

    text: str
    alpha: float
    starts: np.ndarray
    ends: np.ndarray
    ids: np.ndarray
    logp: np.ndarray
    char_starts: np.ndarray
    char_ends: np.ndarray
    best: np.ndarray
    marginals: np.ndarray
    boundary_prob: np.ndarray
    entropy: float
    log_count: float
    _pieces: tuple[bytes, ...] = field(repr=False)

    @property
    def n_bytes(self) -> int:
        """Length of the text in UTF-8 bytes."""
        return len(self.boundary_prob) - 1

    @property
    def pieces(self) -> list[bytes]:
        """The piece of each edge."""
        return [self._pieces[i] for i in self.ids.tolist()]

    def nbest(self, k: int = 5) -> list[Path]:
        """The ``k`` highest-scoring segmentations, best first (fewer if there are fewer).

        Scores are sums of ``logp`` (the Viterbi objective, whatever ``alpha``); equal scores
        keep the path found first.
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if self.n_bytes == 0:
            return [Path([], [], [], 0.0)]
        scores, edges, lengths = _nbest(self.n_bytes, self.starts, self.ends, self.logp, k)
        paths = []
        for r in range(len(scores)):
            e = edges[r, : lengths[r]].tolist()
            ids = self.ids[e].tolist()
            paths.append(Path(e, ids, [self._pieces[i] for i in ids], float(scores[r])))
        return paths

    def to_frame(self) -> pd.DataFrame:
        """The edges as a DataFrame: spans, id, piece, text, logp, marginal, on_best."""
        import pandas as pd

        on_best = np.zeros(len(self.ids), bool)
        on_best[self.best] = True
        return pd.DataFrame(
            {
                "start": self.starts,
                "end": self.ends,
                "char_start": self.char_starts,
                "char_end": self.char_ends,
                "id": self.ids,
                "piece": self.pieces,
                "text": [p.decode("utf-8", errors="replace") for p in self.pieces],
                "logp": self.logp,
                "marginal": self.marginals,
                "on_best": on_best,
            }
        )


def _char_spans(data: bytes, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Character span of byte spans; a span inside a character gets that whole character."""
    if len(starts) == 0:
        return starts.copy(), ends.copy()
    before = chars_before(np.frombuffer(data, np.uint8))
    return before[starts + 1] - 1, before[ends]


def build_lattice(vocab: Vocab, data: bytes, alpha: float, best_ends: np.ndarray) -> Lattice:
    """The lattice of normalized UTF-8 ``data`` (see :meth:`Tokenizer.lattice`).

    ``best_ends`` are the end offsets of the Viterbi tokens, to mark the best path.
    """
    n = len(data)
    starts, ends, ids = _lattice_edges(data, vocab.cells, vocab.value)
    logp = vocab.logp[ids]
    fwd, bwd = _forward_backward(n, starts, ends, alpha * logp)
    log_z = fwd[n]
    marginals = np.exp(fwd[starts] + alpha * logp + bwd[ends] - log_z)
    boundary = np.exp(fwd + bwd - log_z)
    expected = float(np.dot(marginals, alpha * logp)) if len(ids) else 0.0
    entropy = max(0.0, (log_z - expected) / LN2) if n else 0.0
    count_fwd, _ = _forward_backward(n, starts, ends, np.zeros(len(ids)))
    best_starts = np.concatenate(([0], best_ends[:-1])) if len(best_ends) else best_ends
    key = starts * (n + 1) + ends
    best = np.searchsorted(key, best_starts * (n + 1) + best_ends)
    char_starts, char_ends = _char_spans(data, starts, ends)
    for arr in (starts, ends, ids, logp, char_starts, char_ends, best, marginals, boundary):
        arr.flags.writeable = False
    return Lattice(
        text=data.decode("utf-8"),
        alpha=alpha,
        starts=starts,
        ends=ends,
        ids=ids,
        logp=logp,
        char_starts=char_starts,
        char_ends=char_ends,
        best=best.astype(np.int64),
        marginals=marginals,
        boundary_prob=boundary,
        entropy=float(entropy),
        log_count=float(count_fwd[n]) if n else 0.0,
        _pieces=vocab.pieces,
    )
