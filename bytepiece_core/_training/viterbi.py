"""The n-gram model applied to one corpus, a chunk at a time: the emission scores of its
Viterbi and the pieces it cuts (the analysis of a sentence; training runs the same kernels
over ranges, in ``passes``).
"""

from __future__ import annotations

import numpy as np

from .corpus import TrainingCorpus
from .kernels_pieces import _emissions, _viterbi_bits
from .ngram_tables import NgramTables

__all__ = ["chunk_emissions", "piece_starts"]


def piece_starts(
    model: NgramTables, maxlen: np.ndarray, corpus: TrainingCorpus, ensure_unicode: bool
) -> np.ndarray:
    """Where the n-gram Viterbi starts a piece in ``corpus`` (bool[n_bytes]); ``maxlen`` is
    the corpus's under ``model`` (``ngrams.longest_kept``)."""
    bits = _viterbi_bits(
        corpus.data,
        corpus.chunk_offsets,
        0,
        corpus.n_chunks,
        maxlen,
        ensure_unicode,
        model.uni,
        model.bi,
        model.mtab,
        model.mval,
        model.meta,
        model.order,
    )
    return np.unpackbits(bits, bitorder="little")[: corpus.n_bytes].astype(bool)


def chunk_emissions(
    model: NgramTables, maxlen: np.ndarray, corpus: TrainingCorpus, chunk: int
) -> np.ndarray:
    """float64[chunk bytes, order]: ``[i, k]`` is the log-probability of the chunk's byte
    ``i`` given the ``k`` bytes before it (``-inf`` where that n-gram was pruned or the chunk
    has fewer bytes before it), as the trainer's Viterbi scores it (no ``ensure_unicode``)."""
    lo, hi = int(corpus.chunk_offsets[chunk]), int(corpus.chunk_offsets[chunk + 1])
    out = np.empty((max(hi - lo, 1), model.order))
    _emissions(
        corpus.data,
        lo,
        hi,
        maxlen,
        False,
        model.uni,
        model.bi,
        model.mtab,
        model.mval,
        model.meta,
        out,
    )
    return out[: hi - lo]
