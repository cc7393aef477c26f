"""``Trainer``: a drop-in for ``bytepiece.Trainer`` 0.6.3 over Numba kernels (ALGORITHM.md 2).

Training runs three stages over a corpus read once into flat arrays: count byte n-grams order
by order and prune them into an n-gram model; segment the corpus with that model (minimum-
entropy Viterbi) and count the candidate pieces; prune the pieces into one vocabulary per
requested size. The result is the reference's, piece for piece and count for count.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from ._training.checkpoint import Checkpoint
from ._training.corpus import TrainingCorpus, TrainingTexts, fingerprint, read_corpus
from ._training.events import (
    FROM_CHECKPOINT,
    STAGES,
    WORK_STAGES,
    HeapsPoint,
    NgramStep,
    Stage,
    TrainEvent,
    TrainHistory,
    VocabStep,
)
from ._training.memory import MemoryPlan, release_free_memory
from ._training.ngram_tables import NgramTables
from ._training.ngrams import build_ngram_model
from ._training.passes import LocalPasses, Passes
from ._training.pieces import PieceCounts, count_segmented, segment
from ._training.prune import from_vocab, prune_pieces
from ._training.refine import (
    Chunks,
    UnigramModel,
    distinct_chunks,
    fill_candidates,
    find_candidates,
    model_of_seed,
    refine,
    seed_pieces,
)
from .model import dump_model, write_model
from .sizes import parse_size
from .tokenizer import Tokenizer
from .vocab import N_SPECIAL

__all__ = [
    "ALGORITHMS",
    "FROM_CHECKPOINT",
    "STAGES",
    "WORK_STAGES",
    "HeapsPoint",
    "NgramStep",
    "Stage",
    "TrainEvent",
    "TrainHistory",
    "Trainer",
    "VocabStep",
    "check_options",
    "default_ensure_unicode",
    "from_vocab",
]

# Smallest vocabulary: the 256 bytes and the 3 special tokens.
MIN_VOCAB_SIZE = 256 + N_SPECIAL
# Longest n-gram order (the Viterbi's states are stored in a byte).
MAX_ORDER = 255

PathArg = str | os.PathLike[str]
T = TypeVar("T")


def _check_int(name: str, value: Any, minimum: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, not {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}: {hint}")
    return int(value)


def _check_sizes(max_vocab_size: Any) -> list[int]:
    hint = f"a vocabulary holds the 256 bytes and 3 special tokens, so use >= {MIN_VOCAB_SIZE}"
    if isinstance(max_vocab_size, (list, tuple)):
        if not max_vocab_size:
            raise ValueError("max_vocab_size is an empty list: give at least one size")
        sizes = [_check_int("max_vocab_size", s, MIN_VOCAB_SIZE, hint) for s in max_vocab_size]
        dups = sorted({s for s in sizes if sizes.count(s) > 1})
        if dups:
            raise ValueError(f"max_vocab_size lists {dups} more than once: give each size once")
        return sorted(sizes, reverse=True)
    return [_check_int("max_vocab_size", max_vocab_size, MIN_VOCAB_SIZE, hint)]


BACKENDS = ("local", "dask")
# Training algorithms: the reference's, and the refined one (``_training.refine``).
ALGORITHMS = ("bytepiece", "refined")


def _check_backend(backend: Any, client: Any) -> None:
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be 'local' or 'dask', not {backend!r}")
    if backend == "local":
        if client is not None:
            raise ValueError("client is only used with backend='dask': pass backend='dask' too")
        return
    if client is None:
        raise ValueError(
            "backend='dask' needs client: a dask.distributed.Client, e.g. "
            "Client(LocalCluster()) or Client('tcp://scheduler:8786')"
        )
    from .dask import check_client

    check_client(client)


def default_ensure_unicode(algorithm: str) -> bool:
    """``ensure_unicode`` when it is not given: True with the reference algorithm (as
    ``bytepiece`` 0.6.3), False with the refined one (see :class:`Trainer`).

    >>> default_ensure_unicode("bytepiece"), default_ensure_unicode("refined")
    (True, False)
    """
    return algorithm == "bytepiece"


def check_options(
    *,
    order: Any = 6,
    max_piece_length: Any = 36,
    min_count: Any = 2,
    isolate_digits: Any = False,
    ensure_unicode: Any = True,
) -> dict[str, Any]:
    """The training options (as :class:`Trainer` takes them), checked: ``TypeError`` or
    ``ValueError`` naming the one that is wrong; returns them as int and bool.

    >>> check_options(order=3)["order"]
    3
    """
    checked: dict[str, Any] = {
        "order": _check_int("order", order, 1, "the n-gram model needs at least bytes"),
        "max_piece_length": _check_int(
            "max_piece_length", max_piece_length, 1, "pieces are at least one byte long"
        ),
        "min_count": _check_int("min_count", min_count, 1, "use 1 to keep every n-gram"),
    }
    if checked["order"] > MAX_ORDER:
        raise ValueError(f"order must be at most {MAX_ORDER}, got {order}")
    for name, flag in (("isolate_digits", isolate_digits), ("ensure_unicode", ensure_unicode)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, not {flag!r}")
        checked[name] = bool(flag)
    return checked


class Trainer:
    """Train BytePiece vocabularies: minimum-entropy word discovery with a byte n-gram model.

    Parameters
    ----------
    order
        n-gram order of the byte language model (1..255).
    max_vocab_size
        Vocabulary size (special tokens included), or a list of sizes: one model per size,
        all from one run. At least 259 (the 256 bytes and 3 special tokens).
    max_piece_length
        Longest piece, in bytes.
    min_count
        Least count of a kept n-gram (length >= 2) and of a kept piece.
    isolate_digits
        Make every decimal digit a chunk of its own (no piece holds a digit and more).
    ensure_unicode
        ``"bytepiece"``: never start a piece on a UTF-8 continuation byte. ``"refined"``:
        every piece of several bytes is whole characters; without it a piece may also be the
        first bytes of one character (``e4 b8``, which spells any rare character that starts
        with them in two tokens instead of three). None (default): True with
        ``"bytepiece"`` (the reference's default), False with ``"refined"``.
    algorithm
        ``"bytepiece"`` (default): the reference's algorithm, exactly (the same pieces and
        counts as ``bytepiece`` 0.6.3). ``"refined"``: the same objective, the unigram code
        length of the corpus, optimized directly: every substring seen ``min_count`` times
        (and every character) as candidates, EM over the segmentation lattice and pruning by
        loss down to exactly each size (``order`` is not used; see
        ``bytepiece_core._training.refine``). It reaches the sizes asked for and compresses
        unseen text better; the Dask backend works with ``"bytepiece"`` only, for now.

    Attributes
    ----------
    max_vocab_size : list of int, the requested sizes, largest first (as the reference)
    pieces : list of dict, one ``{piece bytes: count}`` per size, largest size first
    history : TrainHistory, what the last :meth:`train` found (for plots)

    Examples
    --------
    >>> trainer = Trainer(order=4, max_vocab_size=300, min_count=2)
    >>> trainer.train(["the cat sat on the mat\\n"] * 20)
    >>> tok = trainer.tokenizer()
    >>> tok.decode(tok.encode("the cat"))
    'the cat'
    """

    def __init__(
        self,
        order: int = 6,
        max_vocab_size: int | list[int] = 10000,
        max_piece_length: int = 36,
        min_count: int = 2,
        isolate_digits: bool = False,
        ensure_unicode: bool | None = None,
        *,
        algorithm: str = "bytepiece",
    ) -> None:
        if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
            raise ValueError(
                f"algorithm must be one of {list(ALGORITHMS)}, not {algorithm!r}: 'bytepiece' "
                "is the reference's, 'refined' reaches the sizes asked for (see Trainer)"
            )
        self.algorithm = algorithm
        if ensure_unicode is None:
            ensure_unicode = default_ensure_unicode(algorithm)
        elif not isinstance(ensure_unicode, (bool, np.bool_)):
            raise TypeError(
                f"ensure_unicode must be True, False or None (the algorithm's default), "
                f"not {ensure_unicode!r}"
            )
        options = check_options(
            order=order,
            max_piece_length=max_piece_length,
            min_count=min_count,
            isolate_digits=isolate_digits,
            ensure_unicode=ensure_unicode,
        )
        self.order: int = options["order"]
        self.max_vocab_size = _check_sizes(max_vocab_size)
        self.max_piece_length: int = options["max_piece_length"]
        self.min_count: int = options["min_count"]
        self.isolate_digits: bool = options["isolate_digits"]
        self.ensure_unicode: bool = options["ensure_unicode"]
        self.pieces: list[dict[bytes, int]] = []
        self.history = TrainHistory()

    def __repr__(self) -> str:
        sizes = self.max_vocab_size if len(self.max_vocab_size) > 1 else self.max_vocab_size[0]
        return (
            f"Trainer(order={self.order}, max_vocab_size={sizes}, "
            f"max_piece_length={self.max_piece_length}, min_count={self.min_count}, "
            f"isolate_digits={self.isolate_digits}, ensure_unicode={self.ensure_unicode}"
            + ("" if self.algorithm == "bytepiece" else f", algorithm={self.algorithm!r}")
            + ")"
        )

    # -- training ------------------------------------------------------------------------

    def train(
        self,
        texts: TrainingTexts,
        workers: int = 1,
        batch_size: int = 1000,
        callback: Callable[[TrainEvent], None] | None = None,
        *,
        work_dir: PathArg | None = None,
        checkpoint_dir: PathArg | None = None,
        resume: bool = False,
        backend: str = "local",
        client: Any = None,
        memory_budget: int | str | None = None,
    ) -> None:
        """Train on ``texts`` and keep one vocabulary per requested size in :attr:`pieces`.

        Parameters
        ----------
        texts
            Documents: an iterable of str (read once, so a generator works), or a path (str or
            ``os.PathLike``) to a UTF-8 text file, or a list of ``os.PathLike`` paths; a file
            holds one document per line, split as ``text.splitlines(keepends=True)``. A str
            with ``*``, ``?`` or ``[`` that is not an existing path is a glob pattern (``**``
            spans directories): its files are read in sorted order, one after the other, as
            the list of their paths would be (``FileNotFoundError`` naming the pattern if no
            file matches). A list of str is always a list of documents, never of paths.
        workers
            Threads for the counting passes and re-splitting; the result does not depend on it.
        batch_size
            Documents read between two progress events of the ``read`` stage.
        callback
            Called with a :class:`TrainEvent` as training progresses. An exception it raises
            (e.g. ``KeyboardInterrupt``) stops training and leaves the trainer as it was.
        work_dir
            Keep the corpus on disk, in a temporary directory made in ``work_dir`` (removed at
            the end), instead of in memory: memory then does not grow with the corpus bytes.
            Same result, a little slower.
        checkpoint_dir
            Save the state after each stage in this directory (created if needed): the corpus
            (kept on disk there, as with ``work_dir``), the n-gram model and the candidate
            pieces, with a manifest of the options and a fingerprint of the documents. With
            ``algorithm="refined"``: the corpus, the seed model, and after each size the
            vocabularies so far with the model as that size left it. The directory is kept
            after training.
        resume
            Continue the checkpoint in ``checkpoint_dir`` from its last completed stage (the
            result is the same as an uninterrupted run). Needs the same ``order``,
            ``min_count``, ``isolate_digits`` and ``ensure_unicode`` and the same documents,
            which are read once more to check their fingerprint; ``max_vocab_size`` and
            ``max_piece_length`` may differ (only the pruning is redone), except with
            ``algorithm="refined"``, whose seed depends on them. Without a checkpoint there
            it starts from the beginning.
        backend
            ``"local"`` (default): the counting passes run on ``workers`` threads here.
            ``"dask"``: they run as Dask tasks on the workers of ``client``, over ranges of
            chunks, and their partial tables are merged here; the result is the same. The
            tasks open the on-disk corpus by path, so it is kept on disk: in ``work_dir`` or
            ``checkpoint_dir`` if given, else in a temporary directory made (and removed) in
            the system's temporary directory, which only workers on this machine can see;
            for workers on other machines, give a ``work_dir`` on a filesystem they share.
            ``workers`` still sets the threads of the pruning, which runs here. Needs the
            optional ``dask[distributed]`` (``pip install 'bytepiece-workbench[dask]'``).
        client
            The ``dask.distributed.Client`` to run on, with ``backend="dask"`` (only then).
        memory_budget
            Bytes (an int, or a str such as ``"512MB"`` or ``"2GiB"``) the counting tables of
            the n-gram and piece passes may take, all workers together. A pass whose tables
            would not fit is run once per hash partition of its keys, each partition counted
            exactly in a table that fits (one more read of the corpus per partition): same
            result, bounded memory. The corpus is kept on disk (in ``work_dir`` or
            ``checkpoint_dir`` if given, else in a temporary directory). Not bounded by it:
            the kept n-gram model, which the Viterbi reads at random, and the candidate pieces
            handed to the pruning; :attr:`history` ``.memory`` records the partitions and sizes
            of each pass. With ``backend="dask"`` it bounds the table of each lane (one per
            worker thread of the cluster, each on its worker). With ``algorithm="refined"``
            it bounds the tables that count the candidate substrings, a length at a time (the
            keys of a length are sketched first, then counted in as many hash partitions as
            fit); not bounded by it: the distinct lines of the corpus, which the refined
            stages hold in memory, the seed model and the EM's arrays.

        Raises
        ------
        TypeError
            A document is not a str (the message names its index), or ``memory_budget`` is not
            a size.
        ValueError
            The corpus is empty, or a file is not UTF-8 (the message names file and line); or
            ``resume`` finds a checkpoint made with other options or other documents; or
            ``backend`` is not ``"local"`` or ``"dask"``, or ``client`` does not go with it; or
            ``memory_budget`` is below 1 MiB or not a size.
        ImportError
            ``backend="dask"`` without dask installed.

        Examples
        --------
        >>> trainer = Trainer(order=3, max_vocab_size=[270, 260], min_count=3)
        >>> trainer.train(["abcabcabc abc\\n", "abc abc\\n"])
        >>> [len(p) for p in trainer.pieces]
        [257, 257]
        """
        workers = _check_int("workers", workers, 1, "use workers=1 for a single thread")
        batch_size = _check_int("batch_size", batch_size, 1, "use e.g. batch_size=1000")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        if not isinstance(resume, (bool, np.bool_)):
            raise TypeError(f"resume must be True or False, not {resume!r}")
        if resume and checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir: the directory to resume from")
        if work_dir is not None and checkpoint_dir is not None:
            raise ValueError(
                "give work_dir or checkpoint_dir, not both: a checkpoint directory already "
                "keeps the corpus on disk"
            )
        if work_dir is not None and not os.path.isdir(work_dir):
            raise NotADirectoryError(f"work_dir {os.fspath(work_dir)!r} is not a directory")
        if self.algorithm == "refined" and backend == "dask":
            raise ValueError(
                "backend='dask' is not supported with algorithm='refined' yet: train "
                "without it, or with algorithm='bytepiece'"
            )
        _check_backend(backend, client)
        budget = None if memory_budget is None else parse_size(memory_budget)
        emit = callback if callback is not None else (lambda event: None)
        run = _Run(emit, None)
        with contextlib.ExitStack() as stack:
            if checkpoint_dir is not None:
                run.checkpoint = Checkpoint.open(
                    checkpoint_dir, self._stage_options(), bool(resume)
                )
            scratch = None
            if work_dir is not None:
                scratch = tempfile.mkdtemp(prefix="bytepiece-", dir=work_dir)
            elif run.checkpoint is None and (backend == "dask" or budget is not None):
                # the Dask tasks need the corpus on disk; a budget keeps it out of memory
                scratch = tempfile.mkdtemp(prefix="bytepiece-")
            if scratch is not None:
                stack.callback(shutil.rmtree, scratch, ignore_errors=True)
            corpus_dir = run.checkpoint.directory if run.checkpoint is not None else scratch
            plan = MemoryPlan(budget, None if corpus_dir is None else os.fspath(corpus_dir))
            stack.callback(plan.close)
            corpus = self._read(run, texts, batch_size, corpus_dir)
            if self.algorithm == "refined":
                chunks = distinct_chunks(corpus)
                del corpus  # the distinct lines and their counts are all it needs
                pieces = self._refine(run, chunks, workers, plan)
            else:
                passes: Passes
                if backend == "dask":
                    from ._training.dask_passes import DaskPasses

                    assert corpus_dir is not None
                    passes = DaskPasses(client, corpus, corpus_dir, self.order, plan)
                else:
                    passes = LocalPasses(corpus, self.order, workers, plan)
                stack.callback(passes.close)
                candidates = self._candidates(run, passes)
                run.history.memory = plan.report
                pieces = self._prune(run, corpus, candidates, workers)
                del corpus, candidates, passes
            run.lap("prune_pieces")
        self.pieces = pieces
        self.history = run.history
        emit(TrainEvent("done", 1, 1, run.history.n_bytes))

    def _stage_options(self) -> dict[str, Any]:
        """The options the checkpointed stages depend on (a resumed run must match them)."""
        options: dict[str, Any] = {
            "order": self.order,
            "min_count": self.min_count,
            "isolate_digits": self.isolate_digits,
            "ensure_unicode": self.ensure_unicode,
        }
        if self.algorithm == "refined":  # its seed depends on the sizes, and it saves them
            options.update(
                algorithm=self.algorithm,
                max_piece_length=self.max_piece_length,
                max_vocab_size=list(self.max_vocab_size),
            )
        return options

    def _read(
        self, run: _Run, texts: TrainingTexts, batch_size: int, directory: PathArg | None
    ) -> TrainingCorpus:
        """Stage ``read``: the corpus, in memory, on disk in ``directory`` (the scratch or the
        checkpoint directory), or from the checkpoint."""

        def load(checkpoint: Checkpoint) -> TrainingCorpus:
            checkpoint.check_documents(fingerprint(texts))
            corpus = checkpoint.load_corpus()
            run.loaded("read", corpus.n_docs, corpus.n_bytes)
            return corpus

        def compute() -> TrainingCorpus:
            corpus = read_corpus(
                texts,
                self.isolate_digits,
                batch_size,
                lambda docs, nbytes: run.emit(TrainEvent("read", docs, None, nbytes)),
                directory,
            )
            if corpus.n_bytes == 0:
                raise ValueError(
                    f"nothing to train on: the {corpus.n_docs} documents given hold no text; "
                    "pass at least one non-empty document"
                )
            return corpus

        def record(corpus: TrainingCorpus) -> None:
            history = run.history
            history.n_docs, history.n_bytes = corpus.n_docs, corpus.n_bytes
            history.n_chunks = corpus.n_chunks

        return run.stage("read", compute, load, Checkpoint.save_corpus, record)

    def _candidates(self, run: _Run, passes: Passes) -> PieceCounts:
        """Stages ``count_ngrams`` and ``count_pieces``: the candidate pieces of the corpus."""
        n = passes.corpus.n_bytes
        units = max(1, self.order - 1) * n  # lengths 1 and 2 share a pass
        done = [0]

        def ngram_progress(k: int, nbytes: int) -> None:
            done[0] += nbytes
            run.emit(TrainEvent("count_ngrams", done[0], units, n, f"length {k}"))

        def load_ngrams(checkpoint: Checkpoint) -> tuple[NgramTables | None, np.ndarray | None]:
            run.loaded("count_ngrams", units, n)
            if checkpoint.done("count_pieces"):  # the model is only needed to count pieces
                return None, None
            return checkpoint.load_ngrams()

        def record_ngrams(found: tuple[NgramTables | None, np.ndarray | None]) -> None:
            assert run.checkpoint is not None or found[0] is not None
            if found[0] is not None:
                counted, kept = found[0].counted, found[0].kept
            else:
                assert run.checkpoint is not None
                saved = run.checkpoint.stages["count_ngrams"]
                counted, kept = saved["counted"], saved["kept"]
            run.history.ngrams = [
                NgramStep(k, counted[k], kept[k]) for k in range(1, self.order + 1)
            ]

        model, maxlen = run.stage(
            "count_ngrams",
            lambda: build_ngram_model(passes, self.min_count, ngram_progress),
            load_ngrams,
            _save_ngrams,
            record_ngrams,
        )
        done[0] = 0

        def piece_progress(nbytes: int) -> None:
            done[0] += nbytes
            run.emit(TrainEvent("count_pieces", done[0], n, n))

        def count() -> PieceCounts:
            nonlocal model, maxlen
            assert model is not None and maxlen is not None
            registers = segment(passes, model, maxlen, self.ensure_unicode, piece_progress)
            model = maxlen = None  # free the model and maxlen before the piece table is made
            return count_segmented(passes, registers)

        def load_pieces(checkpoint: Checkpoint) -> PieceCounts:
            run.loaded("count_pieces", n, n)
            return checkpoint.load_pieces()

        def record_pieces(candidates: PieceCounts) -> None:
            run.history.candidates = len(candidates)
            xs, ys = candidates.heaps_curve(n)
            run.history.heaps = [
                HeapsPoint(x, y) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)
            ]

        return run.stage("count_pieces", count, load_pieces, Checkpoint.save_pieces, record_pieces)

    def _refine(
        self, run: _Run, chunks: Chunks, workers: int, plan: MemoryPlan
    ) -> list[dict[bytes, int]]:
        """The stages of ``algorithm="refined"`` (``_training.refine``) over the distinct
        lines of the corpus: candidates by frequent-substring passes (``count_ngrams``), the
        seed model (``count_pieces``), then EM and pruning by loss (``prune_pieces``). With a
        checkpoint the seed is kept, and the vocabularies and the model after each size."""
        n = run.history.n_bytes
        checkpoint = run.checkpoint
        model: UnigramModel | None = None
        if checkpoint is not None and checkpoint.done("count_pieces"):
            info = checkpoint.seed_info()
            run.loaded("count_ngrams", n, n)
            run.lap("count_ngrams")
            run.loaded("count_pieces", n, n)
            self._record_candidates(run, info)
            run.lap("count_pieces")
        else:
            model, info = self._seed(run, chunks, workers, plan)
            run.history.memory = plan.report
            self._record_candidates(run, info)
            seconds = run.lap("count_pieces")
            if checkpoint is not None:
                checkpoint.save_seed(model.state(), info, seconds)
        done: list[dict[bytes, int]] = []
        rounds = 0
        if checkpoint is not None:
            done, state, rounds, steps = checkpoint.load_sizes()
            if done:  # the model as the last size done left it
                model = UnigramModel.from_state(state)
                for step in steps:  # the history, and the progress, of the sizes done
                    run.record_step(VocabStep(*step))
            elif model is None:
                model = UnigramModel.from_state(checkpoint.load_seed())
            del state
        assert model is not None

        def on_size(vocabs: list[dict[bytes, int]], model: UnigramModel, rounds: int) -> None:
            assert checkpoint is not None
            history = [[s.size, s.step, s.round, s.n_pieces] for s in run.history.vocab]
            checkpoint.save_sizes(vocabs, model.state(), rounds, history)

        return refine(
            chunks,
            model,
            self.max_vocab_size,
            workers,
            run.record_step,
            self.max_piece_length,
            self.min_count,
            self.ensure_unicode,
            done=done,
            rounds=rounds,
            on_size=None if checkpoint is None else on_size,
        )

    def _seed(
        self, run: _Run, chunks: Chunks, workers: int, plan: MemoryPlan
    ) -> tuple[UnigramModel, dict[str, Any]]:
        """Stages ``count_ngrams`` and ``count_pieces`` of the refined trainer: the seed
        model, and what the history keeps of the candidates."""
        n = run.history.n_bytes
        longest = max(2, min(self.max_piece_length, 255))
        units = (longest - 1) * n
        done = [0]

        def ngram_progress(k: int, nbytes: int) -> None:
            done[0] += nbytes
            run.emit(TrainEvent("count_ngrams", done[0], units, n, f"length {k}"))

        candidates = find_candidates(
            chunks,
            self.max_piece_length,
            self.min_count,
            self.ensure_unicode,
            workers,
            ngram_progress,
            plan,
        )
        # too few for the largest size: rarer substrings fill the places left (a second
        # pass, its progress from 0 again)
        needed = max(self.max_vocab_size) - N_SPECIAL - 256

        def fill_progress(k: int, nbytes: int) -> None:
            done[0] = 0 if k == 2 else done[0]
            done[0] += nbytes
            run.emit(TrainEvent("count_ngrams", done[0], units, n, f"rarer, length {k}"))

        candidates = fill_candidates(
            chunks,
            candidates,
            needed,
            self.max_piece_length,
            self.min_count,
            self.ensure_unicode,
            workers,
            fill_progress,
            plan,
        )
        info = {
            "candidates": len(candidates),
            "counted": list(candidates.counted),
            "kept": list(candidates.kept),
        }
        run.lap("count_ngrams")
        run.emit(TrainEvent("count_pieces", n, n, n, f"{len(candidates)} candidates"))
        release_free_memory()  # what the candidate passes freed, before the seed adds to it
        seed = seed_pieces(candidates, self.max_vocab_size, n)
        del candidates  # the seed is all the EM needs (and the model is built without them)
        return model_of_seed(*seed), info

    @staticmethod
    def _record_candidates(run: _Run, info: dict[str, Any]) -> None:
        run.history.candidates = info["candidates"]
        counted, kept = info["counted"], info["kept"]
        run.history.ngrams = [NgramStep(k, counted[k], kept[k]) for k in range(1, len(kept))]

    def _prune(
        self, run: _Run, corpus: TrainingCorpus, candidates: PieceCounts, workers: int
    ) -> list[dict[bytes, int]]:
        """Stage ``prune_pieces``: one vocabulary per requested size."""

        def release() -> None:  # the pruning reads pieces all over the corpus
            corpus.release(0, corpus.n_chunks)
            candidates.release()

        return prune_pieces(
            corpus.data,
            candidates,
            self.max_vocab_size,
            self.max_piece_length,
            self.min_count,
            workers,
            run.record_step,
            release,
        )

    # -- results -------------------------------------------------------------------------

    def _check_trained(self) -> None:
        if not self.pieces:
            raise RuntimeError("this Trainer has not been trained yet: call train(texts) first")

    def _index(self, size: int | None) -> int:
        self._check_trained()
        if size is None:
            return 0
        if size not in self.max_vocab_size:
            raise ValueError(
                f"size {size!r} was not trained; the trained sizes are {self.max_vocab_size}"
            )
        return self.max_vocab_size.index(size)

    def dump(self, pieces: dict[bytes, int]) -> dict[str, list[Any]]:
        """The model dictionary of ``{piece: count}`` (the reference's ``Trainer.dump``)."""
        return dump_model(pieces)

    @property
    def models(self) -> list[dict[str, list[Any]]]:
        """One model dictionary ``{base64 piece: [id, text, count]}`` per size, largest first."""
        self._check_trained()
        return [dump_model(p) for p in self.pieces]

    def model(self, size: int | None = None) -> dict[str, list[Any]]:
        """The model dictionary of one trained size (default: the largest)."""
        return dump_model(self.pieces[self._index(size)])

    def tokenizer(self, size: int | None = None) -> Tokenizer:
        """A :class:`~bytepiece_core.Tokenizer` for one trained size (default: the largest)."""
        return Tokenizer(self.model(size))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model(s) as the reference does, each file atomically.

        One size writes ``path``; several write ``path.<size>`` for each (largest first).
        """
        self._check_trained()
        target = os.fspath(path)
        if len(self.pieces) == 1:
            paths = [target]
        else:
            paths = [f"{target}.{size}" for size in self.max_vocab_size]
        for pieces, out in zip(self.pieces, paths, strict=True):
            write_model(dump_model(pieces), out)


def _save_ngrams(
    checkpoint: Checkpoint,
    found: tuple[NgramTables | None, np.ndarray | None],
    seconds: float,
) -> None:
    model, maxlen = found
    assert model is not None and maxlen is not None, "a computed stage has its model"
    checkpoint.save_ngrams(model, maxlen, seconds)


class _Run:
    """One :meth:`Trainer.train` run: its progress callback, checkpoint (if any), history and
    stage clock."""

    def __init__(self, emit: Callable[[TrainEvent], None], checkpoint: Checkpoint | None) -> None:
        self.emit = emit
        self.checkpoint = checkpoint
        self.history = TrainHistory()
        self._clock = time.perf_counter()

    def lap(self, stage: Stage) -> float:
        """Seconds since the last lap, recorded as ``stage``'s time."""
        now = time.perf_counter()
        self.history.seconds[stage] = now - self._clock
        self._clock = now
        return self.history.seconds[stage]

    def record_step(self, step: VocabStep) -> None:
        """A pruning step: kept in the history and reported as a ``prune_pieces`` event."""
        self.history.vocab.append(step)
        detail = "" if step.size is None else f" (size {step.size})"
        message = f"{step.step} {step.round}{detail}: {step.n_pieces} pieces"
        n = len(self.history.vocab)
        self.emit(TrainEvent("prune_pieces", n, None, self.history.n_bytes, message, step))

    def loaded(self, stage: Stage, units: int, n_bytes: int) -> None:
        """The one progress event of a stage loaded from the checkpoint."""
        self.emit(TrainEvent(stage, units, units, n_bytes, FROM_CHECKPOINT))

    def stage(
        self,
        name: Stage,
        compute: Callable[[], T],
        load: Callable[[Checkpoint], T],
        save: Callable[[Checkpoint, T, float], None],
        record: Callable[[T], None],
    ) -> T:
        """Run stage ``name``: ``load`` it from the checkpoint if that holds it, else
        ``compute`` it; ``record`` it in the history; time it; then ``save`` it to the
        checkpoint if that did not hold it yet."""
        checkpoint = self.checkpoint
        held = checkpoint is not None and checkpoint.done(name)
        result = load(checkpoint) if held and checkpoint is not None else compute()
        record(result)
        seconds = self.lap(name)
        if checkpoint is not None and not held:
            save(checkpoint, result, seconds)
        return result
