"""Corpus analysis for teaching and tuning: the byte n-gram entropy curve, per-byte surprisal and
the n-gram-model segmentation of a sentence, and vocabulary-size sweeps (ALGORITHM.md section 5).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._kernels_entropy import _number_pairs
from ._training.corpus import TrainingCorpus, TrainingTexts, documents, read_corpus
from ._training.ngram_tables import NgramTables
from ._training.ngrams import build_ngram_model, longest_kept
from ._training.passes import LocalPasses
from ._training.viterbi import chunk_emissions, piece_starts
from .metrics import evaluate
from .model import N_SPECIAL
from .tokenizer import Tokenizer
from .trainer import Trainer, TrainEvent, check_options
from .utf8 import char_index

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "NgramModel",
    "Sweep",
    "best_size",
    "conditional_entropies",
    "heldout_entropy",
    "ngram_entropy",
    "ngram_model",
    "vocab_sweep",
]

LN2 = math.log(2.0)


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
        rows.append(
            {
                "order": k,
                "entropy": h + 0.0 if h > 0 else 0.0,
                "positions": total,
                "contexts": int(np.count_nonzero(np.bincount(pair_ctx))) if total else 0,
                "ngrams": len(counts),
            }
        )
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


def heldout_entropy(
    train: TrainingTexts,
    heldout: TrainingTexts,
    order: int = 6,
    *,
    prior: float = 1.0,
    isolate_digits: bool = False,
) -> pd.DataFrame:
    """Bits per byte of held-out text under the byte n-gram model of the training text, for
    contexts of k = 0..order bytes (and of the training text under the same model).

    The plug-in ``H_k`` of :func:`ngram_entropy` gives an n-gram never seen probability 0, so
    it cannot score new text. Here each order's probabilities are counts interpolated with the
    order below, which gives unseen n-grams a share:
    ``p_k(b | c) = (n(c b) + prior * p_{k-1}(b | c')) / (n(c) + prior)``, where ``c'`` is ``c``
    without its first byte, ``p_{-1} = 1/256``, and ``n`` counts the training text only. A byte
    with fewer than ``k`` bytes before it in its chunk is scored with the context it has.
    On the training text the curve keeps falling as k grows (the model has seen it); on
    held-out text it falls, then rises again once long contexts are mostly ones seen once.

    Columns: ``order``, ``train_bits``, ``heldout_bits`` (bits per byte).

    >>> heldout_entropy(["ab" * 20], ["ab" * 5], order=1)["heldout_bits"].round(3).tolist()
    [1.035, 0.136]
    """
    import pandas as pd

    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise ValueError(f"order must be a non-negative integer, got {order!r}")
    if not (isinstance(prior, (int, float)) and math.isfinite(prior) and prior > 0):
        raise ValueError(f"prior must be a positive number, got {prior!r}")
    parts = []
    for name, texts in (("train", train), ("heldout", heldout)):
        part = read_corpus(texts, isolate_digits, 1000, lambda docs, nbytes: None)
        if part.n_bytes == 0:
            raise ValueError(f"{name} holds no text: held-out entropy needs both parts")
        parts.append(part)
    n_train = parts[0].n_bytes
    data = np.concatenate([p.data for p in parts])
    chunk_offsets = np.concatenate([parts[0].chunk_offsets, parts[1].chunk_offsets[1:] + n_train])
    n = len(data)
    in_train = np.arange(n) < n_train
    chunk_start = np.repeat(chunk_offsets[:-1], np.diff(chunk_offsets))
    depth = np.arange(n, dtype=np.int64) - chunk_start
    ctx = np.zeros(n, np.int64)
    prob = np.full(n, 1.0 / 256)
    rows = []
    for k in range(order + 1):
        ids, pair_ctx, _ = _number_pairs(ctx, data)
        seen = ids >= 0
        pair_n = np.bincount(ids[seen & in_train], minlength=len(pair_ctx)).astype(np.float64)
        ctx_n = np.bincount(pair_ctx, weights=pair_n) if len(pair_ctx) else np.zeros(0)
        at = ids[seen]
        prob = prob.copy()
        prob[seen] = (pair_n[at] + prior * prob[seen]) / (ctx_n[pair_ctx[at]] + prior)
        bits = -np.log2(prob)
        rows.append(
            {
                "order": k,
                "train_bits": float(bits[in_train].mean()),
                "heldout_bits": float(bits[~in_train].mean()),
            }
        )
        ctx = np.full(n, -1, np.int64)
        ctx[1:] = ids[:-1]
        ctx[depth == 0] = -1
    return pd.DataFrame(rows)


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
        best = best_size(self.table, column)
        if best is None:
            raise ValueError(f"the sweep has no values of {column!r} to choose a size by")
        return best


def best_size(table: pd.DataFrame, column: str = "description_bits") -> int | None:
    """The ``size`` of the row of a sweep table whose ``column`` is least (NaN rows skipped),
    or None if the table has no such values.

    >>> import pandas as pd
    >>> best_size(pd.DataFrame({"size": [300, 500, 800], "description_bits": [9.0, 7.0, 8.0]}))
    500
    """
    if column not in table or table[column].isna().all():
        return None
    values = table[column].to_numpy(dtype=float)
    return int(table["size"].to_numpy()[int(np.nanargmin(values))])


def _vocab_bits(tokenizer: Tokenizer) -> float:
    pieces = tokenizer.vocab.pieces[N_SPECIAL:]
    counts = tokenizer.vocab.counts[N_SPECIAL:]
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
        piece_len = np.fromiter(map(len, tok.vocab.pieces[N_SPECIAL:]), np.int64)
        row["mean_piece_bytes"] = float(piece_len.mean())
        row["corpus_bits"] = train.bits_per_byte * train.n_bytes
        row["vocab_bits"] = _vocab_bits(tok)
        row["description_bits"] = row["corpus_bits"] + row["vocab_bits"]
        rows.append(row)
        hist = np.bincount(piece_len)
        lengths += [{"size": size, "n_bytes": k, "pieces": int(c)} for k, c in enumerate(hist) if c]
    return Sweep(pd.DataFrame(rows), pd.DataFrame(lengths), tokenizers, trainer)


class NgramModel:
    """The trainer's byte n-gram model (its stage 1) over a corpus, applied to new text.

    Built by :func:`ngram_model`. ``logp`` of an n-gram is the trainer's
    ``log count(s) - log count(s[:-1])`` for n-grams kept by ``min_count``.
    """

    def __init__(self, model: NgramTables, ensure_unicode: bool, isolate_digits: bool) -> None:
        self._model = model
        self.order = model.order
        self.ensure_unicode = ensure_unicode
        self.isolate_digits = isolate_digits

    def __repr__(self) -> str:
        return f"NgramModel(order={self.order}, kept={self._model.kept[1:]})"

    @property
    def kept(self) -> list[int]:
        """n-grams kept for each length 1..order."""
        return list(self._model.kept[1:])

    def _prepare(self, text: str) -> tuple[TrainingCorpus, np.ndarray]:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        corpus = read_corpus([text], self.isolate_digits, 1, lambda docs, nbytes: None)
        return corpus, longest_kept(self._model, corpus)

    def segment(self, text: str) -> list[bytes]:
        """The words of ``text`` under the n-gram-model Viterbi (the trainer's stage 3): the
        candidate pieces training would count from this text."""
        corpus, maxlen = self._prepare(text)
        if corpus.n_bytes == 0:
            return []
        starts = np.flatnonzero(piece_starts(self._model, maxlen, corpus, self.ensure_unicode))
        cuts = np.union1d(starts, corpus.chunk_offsets)
        data = corpus.data.tobytes()
        return [data[a:b] for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist())]

    def surprisal(self, text: str) -> pd.DataFrame:
        """Surprisal of each byte of ``text`` (bits) given 0, 1, ... order-1 bytes before it.

        Columns: ``byte_index``, ``byte``, ``char_index``, ``char`` (the character the byte
        belongs to), ``order_0`` .. ``order_{order-1}`` (``order_k``: ``-log2 p(byte | the k
        bytes before it)``; NaN where that n-gram was pruned or the chunk has fewer than ``k``
        bytes before it), and ``boundary`` (True where a word of :meth:`segment` starts).
        """
        import pandas as pd

        corpus, maxlen = self._prepare(text)
        n = corpus.n_bytes
        surprisal = np.full((n, self.order), np.nan)
        for c in range(corpus.n_chunks):
            lo, hi = int(corpus.chunk_offsets[c]), int(corpus.chunk_offsets[c + 1])
            block = -chunk_emissions(self._model, maxlen, corpus, c) / LN2 + 0.0  # no -0.0
            block[~np.isfinite(block)] = np.nan
            surprisal[lo:hi] = block
        data = corpus.data
        chars_of = char_index(data)
        chars = data.tobytes().decode("utf-8")
        boundary = np.zeros(n, bool)
        boundary[np.cumsum([0] + [len(w) for w in self.segment(text)])[:-1]] = True
        frame = pd.DataFrame(
            {
                "byte_index": np.arange(n),
                "byte": data,
                "char_index": chars_of,
                "char": [chars[i] for i in chars_of],
            }
        )
        for k in range(self.order):
            frame[f"order_{k}"] = surprisal[:, k]
        frame["boundary"] = boundary
        return frame


def ngram_model(
    texts: TrainingTexts,
    order: int = 6,
    min_count: int = 2,
    *,
    ensure_unicode: bool = True,
    isolate_digits: bool = False,
    workers: int = 1,
) -> NgramModel:
    """Count and prune the byte n-grams of ``texts`` as the trainer's first stage does.

    >>> lm = ngram_model(["the cat sat\\n", "the cat ran\\n", "a cat sat\\n"] * 5, order=4)
    >>> [w.decode() for w in lm.segment("the cat ran")]
    ['the cat ran']
    >>> lm.surprisal("the cat")[["char", "order_0", "order_3"]].round(2).head(3).values.tolist()
    [['t', 3.57, nan], ['h', 5.38, nan], ['e', 5.38, nan]]
    """
    options = check_options(
        order=order,
        min_count=min_count,
        ensure_unicode=ensure_unicode,
        isolate_digits=isolate_digits,
    )
    corpus = read_corpus(texts, options["isolate_digits"], 1000, lambda docs, nbytes: None)
    if corpus.n_bytes == 0:
        raise ValueError("texts hold no text: the n-gram model needs at least one byte")
    passes = LocalPasses(corpus, options["order"], workers)
    model, _ = build_ngram_model(passes, options["min_count"], lambda k, nbytes: None)
    return NgramModel(model, options["ensure_unicode"], options["isolate_digits"])
