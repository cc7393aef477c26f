"""Corpus analysis for teaching and tuning: the byte n-gram entropy curve, per-byte surprisal and
the n-gram-model segmentation of a sentence, and vocabulary-size sweeps (ALGORITHM.md section 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._kernels_entropy import _number_pairs
from ._train_corpus import TrainingTexts, documents, read_corpus
from .metrics import evaluate
from .tokenizer import Tokenizer
from .trainer import TrainEvent, Trainer

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["ngram_entropy", "conditional_entropies", "vocab_sweep", "Sweep"]


def conditional_entropies(data: np.ndarray, chunk_offsets: np.ndarray, order: int) -> list[dict]:
    """``H_k``, the entropy in bits of a byte given the ``k`` bytes before it, for k = 0..order.

    Counts are taken over every byte that has ``k`` bytes of context inside its chunk;
    ``p(b | ctx) = count(ctx b) / count(ctx followed by any byte)``. Contexts are numbered
    order by order (the id of a ``k+1``-byte context is the id of the ``(k, byte)`` pair), so
    any order is exact without hashing.

    data : uint8[n_bytes], chunk_offsets : int64[n_chunks + 1] (as the trainer's corpus).
    Returns one dict per order: ``order``, ``entropy`` (bits), ``positions`` (bytes counted),
    ``contexts`` (distinct contexts seen), ``ngrams`` (distinct ``k+1``-grams).
    """
    n = len(data)
    chunk_start = np.repeat(chunk_offsets[:-1], np.diff(chunk_offsets))
    depth = np.arange(n, dtype=np.int64) - chunk_start  # bytes of context available
    ctx = np.zeros(n, np.int64)  # id of the k bytes before each position (-1: too few)
    rows = []
    for k in range(order + 1):
        ids, pair_ctx, counts = _number_pairs(ctx, data)
        ctx_total = np.bincount(pair_ctx, weights=counts)[pair_ctx]
        total = int(counts.sum())
        h = -float(np.sum(counts / total * np.log2(counts / ctx_total))) if total else 0.0
        rows.append({"order": k, "entropy": h + 0.0 if h > 0 else 0.0, "positions": total,
                     "contexts": int(np.count_nonzero(np.bincount(pair_ctx))) if total else 0,
                     "ngrams": len(counts)})
        # the (k+1)-byte context of position i + 1 is the (k+1)-gram ending at i
        ctx = np.full(n, -1, np.int64)
        ctx[1:] = ids[:-1]
        ctx[depth == 0] = -1
    return rows


def ngram_entropy(
    texts: TrainingTexts, order: int = 6, *, isolate_digits: bool = False
) -> pd.DataFrame:
    """The n-gram entropy curve of a corpus: ``H_k`` in bits per byte for k = 0..order.

    Texts are normalized and chunked as the trainer does (so context never crosses a line's
    newline run), which is the model whose drops from one order to the next word discovery
    exploits. Columns: order, entropy, positions, contexts, ngrams.

    >>> ngram_entropy(["abababab"], order=2)["entropy"].round(3).tolist()
    [1.0, 0.0, 0.0]
    """
    import pandas as pd

    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise ValueError(f"order must be a non-negative integer, got {order!r}")
    corpus = read_corpus(texts, isolate_digits, 1000, lambda docs, nbytes: None)
    if corpus.n_bytes == 0:
        raise ValueError("texts hold no text: the entropy curve needs at least one byte")
    return pd.DataFrame(conditional_entropies(corpus.data, corpus.chunk_offsets, order))


@dataclass(frozen=True, eq=False)
class Sweep:
    """One training run with several vocabulary sizes, and how each size codes the text.

    table : DataFrame, one row per requested size (ascending): ``size``, ``vocab_size``
        (reached; ids including the 3 special tokens), ``train_*`` and ``heldout_*``
        metrics (``bytes_per_token``, ``bits_per_byte``, ``bits_per_token``;
        the held-out ones are NaN without held-out text), ``mean_piece_bytes``,
        ``corpus_bits`` (unigram code length of the training text), ``vocab_bits`` (cost of
        writing the vocabulary down: 8 bits per piece byte plus an Elias-gamma code of each
        count) and ``description_bits`` (their sum: a minimum-description-length criterion).
    piece_lengths : DataFrame ``(size, n_bytes, pieces)``: the piece-length distribution.
    tokenizers : the trained tokenizer of each size.
    trainer : the trainer (its ``history`` holds the vocabulary growth).
    """

    table: pd.DataFrame
    piece_lengths: pd.DataFrame
    tokenizers: dict[int, Tokenizer]
    trainer: Trainer

    def best_size(self, column: str = "description_bits") -> int:
        """The requested size that minimizes ``column`` (default: the description length)."""
        return int(self.table.loc[self.table[column].idxmin(), "size"])


def _vocab_bits(tokenizer: Tokenizer) -> float:
    pieces = tokenizer.vocab.pieces[3:]
    counts = tokenizer.vocab.counts[3:]
    gamma = 2 * np.floor(np.log2(np.maximum(counts, 1))) + 1
    return float(8 * sum(map(len, pieces)) + gamma.sum())


def _materialize(texts: TrainingTexts) -> list[str]:
    """The documents of ``texts`` as a list (paths are read as the trainer reads them)."""
    return [doc for _, doc in documents(texts)]


def vocab_sweep(
    texts: TrainingTexts,
    sizes: Sequence[int],
    heldout: TrainingTexts | None = None,
    *,
    workers: int = 1,
    callback: Callable[[TrainEvent], None] | None = None,
    **trainer_options: Any,
) -> Sweep:
    """Train once for every size in ``sizes`` and measure each vocabulary on the training text
    and on held-out text: the data behind choosing a vocabulary size.

    Counting n-grams and pieces is done once; only the final cuts differ per size. Trainer
    options (``order``, ``min_count``, ``max_piece_length``, ...) pass through.

    >>> docs = [f"{a} {b} {c}\\n" for a in ("the", "a", "one") for b in ("cat", "dog")
    ...         for c in ("sat", "ran")] * 5
    >>> sweep = vocab_sweep(docs, [262, 300], order=3)
    >>> sweep.table["size"].tolist(), bool((sweep.table.vocab_size <= sweep.table["size"]).all())
    ([262, 300], True)
    """
    import pandas as pd

    if "max_vocab_size" in trainer_options:
        raise TypeError("vocab_sweep takes the sizes as `sizes`, not max_vocab_size")
    docs = _materialize(texts)
    held = _materialize(heldout) if heldout is not None else None
    trainer = Trainer(max_vocab_size=list(sizes), **trainer_options)
    trainer.train(docs, workers=workers, callback=callback)
    rows, lengths, tokenizers = [], [], {}
    for size in sorted(trainer.max_vocab_size):
        tok = trainer.tokenizer(size)
        tokenizers[size] = tok
        train = evaluate(tok, docs)
        row: dict[str, float] = {"size": size, "vocab_size": tok.vocab_size}
        for prefix, m in (("train", train), ("heldout", evaluate(tok, held) if held else None)):
            for key in ("bytes_per_token", "bits_per_byte", "bits_per_token"):
                row[f"{prefix}_{key}"] = getattr(m, key) if m is not None else float("nan")
        piece_len = np.fromiter(map(len, tok.vocab.pieces[3:]), np.int64)
        row["mean_piece_bytes"] = float(piece_len.mean())
        row["corpus_bits"] = train.bits_per_byte * train.n_bytes
        row["vocab_bits"] = _vocab_bits(tok)
        row["description_bits"] = row["corpus_bits"] + row["vocab_bits"]
        rows.append(row)
        hist = np.bincount(piece_len)
        lengths += [{"size": size, "n_bytes": k, "pieces": int(c)}
                    for k, c in enumerate(hist) if c]
    return Sweep(pd.DataFrame(rows), pd.DataFrame(lengths), tokenizers, trainer)
