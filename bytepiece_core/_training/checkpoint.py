"""Checkpoints of training: the state after each stage, in a directory, to resume from.

A checkpoint directory holds the corpus read (the on-disk corpus of ``corpus``), the
n-gram model after ``count_ngrams`` and the candidate pieces after ``count_pieces``, as ``.npy``
files, and ``manifest.json``: the trainer's options, the fingerprint of the documents and, for
each completed stage, what it found. With ``algorithm="refined"`` it holds the corpus, the
seed model after ``count_pieces`` (the candidates found by ``count_ngrams`` are not kept: a run
stopped before the seed counts them again), and after each size that ``prune_pieces`` finishes,
the vocabularies so far and the model as that size left it. A stage counts as completed only
once the manifest says so, and the manifest is replaced atomically after the stage's files are
written, so a run stopped at any moment leaves a checkpoint that is either the old one or the
new one, never half of it.

Resuming requires the same options and the same documents (same fingerprint); otherwise it is
refused with an error that says so, since the stages already done would not be the ones the
new run asks for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._mmap import big_array, load_mapped
from .corpus import DATA_FILE, OFFSETS_FILE, TrainingCorpus, open_corpus
from .events import Stage
from .ngram_tables import NgramTables
from .pieces import PieceCounts
from .prune import _flat, _unflat

__all__ = ["Checkpoint"]

MANIFEST = "manifest.json"
FORMAT = "bytepiece_core training checkpoint"
VERSION = 1
# What an option the manifest does not list stands for (the reference algorithm's
# checkpoints list only the options its stages depend on).
UNSET: dict[str, Any] = {"algorithm": "bytepiece"}


class Checkpoint:
    """The checkpoint in ``directory`` of a training run with ``options`` (JSON-able dict).

    Use :meth:`open`; ``stages`` maps each completed stage to what the manifest recorded.
    """

    def __init__(self, directory: Path, options: dict[str, Any]) -> None:
        self.directory = directory
        self.options = options
        self.fingerprint: str | None = None
        self.stages: dict[str, dict[str, Any]] = {}

    @classmethod
    def open(
        cls, directory: str | os.PathLike[str], options: dict[str, Any], resume: bool
    ) -> Checkpoint:
        """The checkpoint to continue (``resume`` and one exists) or a fresh one.

        A fresh checkpoint is written at once (no stage done), so the files of an older one in
        the directory are no longer trusted. Raises ``ValueError`` if resuming a checkpoint
        made with other options.
        """
        path = Path(directory)
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"checkpoint_dir {str(path)!r} is a file, not a directory")
        path.mkdir(parents=True, exist_ok=True)
        checkpoint = cls(path, options)
        manifest = path / MANIFEST
        if resume and manifest.exists():
            checkpoint._load_manifest(manifest)
        else:
            checkpoint._write_manifest()
        return checkpoint

    def _load_manifest(self, manifest: Path) -> None:
        try:
            saved = json.loads(manifest.read_text())
            ok = saved.get("format") == FORMAT
        except (OSError, ValueError, AttributeError):
            ok = False
        if not ok or saved.get("version") != VERSION:
            raise ValueError(
                f"{str(manifest)!r} is not a checkpoint this version can resume; "
                "train with resume=False to start over in that directory"
            )
        if saved["options"] != self.options:
            then, now = saved["options"], self.options
            keys = [*now, *(k for k in then if k not in now)]
            diffs = ", ".join(
                f"{k}={then.get(k, UNSET.get(k))!r} (now {now.get(k, UNSET.get(k))!r})"
                for k in keys
                if then.get(k, UNSET.get(k)) != now.get(k, UNSET.get(k))
            )
            raise ValueError(
                f"the checkpoint in {str(self.directory)!r} was made with other options: {diffs}; "
                "resume with the same Trainer options, or train with resume=False to start over"
            )
        self.fingerprint = saved["fingerprint"]
        self.stages = saved["stages"]

    def _write_manifest(self) -> None:
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "options": self.options,
            "fingerprint": self.fingerprint,
            "stages": self.stages,
        }
        tmp = self.directory / (MANIFEST + ".tmp")
        with open(tmp, "w") as handle:
            json.dump(manifest, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.directory / MANIFEST)

    def done(self, stage: Stage) -> bool:
        """Whether ``stage`` was completed (and its state can be loaded)."""
        return stage in self.stages

    def check_documents(self, digest: str) -> None:
        """Refuse to resume on documents other than those the checkpoint was made from."""
        if digest != self.fingerprint:
            raise ValueError(
                f"the documents differ from those the checkpoint in {str(self.directory)!r} "
                f"was made from (fingerprint {digest} != {self.fingerprint}); pass the same "
                "documents to resume, or train with resume=False to start over"
            )

    def _complete(self, stage: Stage, info: dict[str, Any]) -> None:
        self.stages[stage] = info
        self._write_manifest()

    def _remove(self, name: str) -> None:
        (self.directory / (name + ".npy")).unlink(missing_ok=True)

    def _save(self, name: str, array: np.ndarray) -> None:
        tmp = self.directory / (name + ".tmp.npy")
        np.save(tmp, array)
        os.replace(tmp, self.directory / (name + ".npy"))

    def _load(self, name: str, mapped: bool = False) -> np.ndarray:
        path = self.directory / (name + ".npy")
        return load_mapped(path) if mapped else np.load(path)

    # -- the stages ----------------------------------------------------------------------

    def save_corpus(self, corpus: TrainingCorpus, seconds: float) -> None:
        """Stage ``read``: the corpus is already in the directory (read there); record it."""
        assert corpus.maps, "a checkpointed corpus is read into the checkpoint directory"
        self.fingerprint = corpus.fingerprint
        info = {"n_docs": corpus.n_docs, "n_bytes": corpus.n_bytes, "seconds": seconds}
        self._complete("read", info)

    def load_corpus(self) -> TrainingCorpus:
        """The corpus of stage ``read``."""
        for name in (DATA_FILE, OFFSETS_FILE):
            if not (self.directory / name).exists():
                raise ValueError(
                    f"the checkpoint in {str(self.directory)!r} lacks {name}; "
                    "train with resume=False to start over"
                )
        info = self.stages["read"]
        corpus = open_corpus(self.directory, info["n_docs"], self.fingerprint or "")
        assert corpus.n_bytes == info["n_bytes"], "corpus file does not match its manifest"
        return corpus

    def save_ngrams(self, model: NgramTables, maxlen: np.ndarray, seconds: float) -> None:
        """Stage ``count_ngrams``: the n-gram model and ``maxlen``, one file per table."""
        self._save("ngrams.uni", model.uni)
        self._save("ngrams.bi", model.bi)
        self._save("ngrams.maxlen", maxlen)
        for k in range(3, 3 + model.n_tables):
            self._save(f"ngrams.table{k}", model.table(k))
        info = {
            "order": model.order,
            "counted": model.counted,
            "kept": model.kept,
            "n_tables": model.n_tables,
            "seconds": seconds,
        }
        self._complete("count_ngrams", info)

    def load_ngrams(self) -> tuple[NgramTables, np.ndarray]:
        """The n-gram model and ``maxlen`` (mapped) of stage ``count_ngrams``."""
        info = self.stages["count_ngrams"]
        order, n_tables = info["order"], info["n_tables"]
        tables = [self._load(f"ngrams.table{k}", mapped=True) for k in range(3, 3 + n_tables)]
        meta = np.zeros((order + 1, 2), np.int64)
        start = 0
        for k, table in enumerate(tables, start=3):
            meta[k] = (start, table.shape[0])
            start += table.shape[0]
        mtab = big_array((max(start, 1), 2), np.uint64)
        for k, table in enumerate(tables, start=3):
            mtab[meta[k, 0] : meta[k, 0] + meta[k, 1]] = table
        del tables
        model = NgramTables(
            order,
            uni=self._load("ngrams.uni"),
            bi=self._load("ngrams.bi"),
            mtab=mtab,
            meta=meta,
            counted=list(info["counted"]),
            kept=list(info["kept"]),
        )
        return model, self._load("ngrams.maxlen", mapped=True)

    def save_pieces(self, pieces: PieceCounts, seconds: float) -> None:
        """Stage ``count_pieces``: the candidate pieces."""
        self._save("pieces.pos", pieces.pos)
        self._save("pieces.lens", pieces.lens)
        self._save("pieces.counts", pieces.counts)
        self._complete("count_pieces", {"n_pieces": len(pieces), "seconds": seconds})

    def load_pieces(self) -> PieceCounts:
        """The candidate pieces of stage ``count_pieces``."""
        return PieceCounts(
            *(self._load(f"pieces.{name}", mapped=True) for name in ("pos", "lens", "counts"))
        )

    # -- the refined trainer's stages ----------------------------------------------------

    def save_seed(self, state: dict[str, np.ndarray], info: dict[str, Any], seconds: float) -> None:
        """Stage ``count_pieces`` of the refined trainer: the seed model's arrays
        (:meth:`UnigramModel.state <bytepiece_core._training.refine.UnigramModel.state>`), and
        ``info`` (JSON-able: what the history needs of the candidates)."""
        for key, array in state.items():
            self._save(f"seed.{key}", array)
        self._complete("count_pieces", {**info, "keys": list(state), "seconds": seconds})

    def seed_info(self) -> dict[str, Any]:
        """The ``info`` of :meth:`save_seed`."""
        return self.stages["count_pieces"]

    def load_seed(self) -> dict[str, np.ndarray]:
        """The seed model's arrays of :meth:`save_seed`."""
        return {key: self._load(f"seed.{key}") for key in self.seed_info()["keys"]}

    def save_sizes(
        self,
        vocabs: list[dict[bytes, int]],
        state: dict[str, np.ndarray],
        rounds: int,
        steps: list[list[Any]],
    ) -> None:
        """The refined trainer's ``prune_pieces`` after each size: the vocabularies so far,
        the model as the last left it, its pruning rounds and the history's steps. The
        model's files are named by the number of sizes done, and the previous ones removed
        only once the manifest points to the new, so a stop at any moment leaves one whole."""
        k = len(vocabs)
        flat, offsets = _flat(list(vocabs[-1]))
        self._save(f"sizes.vocab{k}.pieces", flat)
        self._save(f"sizes.vocab{k}.offsets", offsets)
        self._save(f"sizes.vocab{k}.counts", np.array(list(vocabs[-1].values()), np.int64))
        for key, array in state.items():
            self._save(f"sizes.model{k}.{key}", array)
        self.stages["prune_pieces.sizes"] = {
            "done": k,
            "rounds": rounds,
            "keys": list(state),
            "steps": steps,
        }
        self._write_manifest()
        for key in state:
            self._remove(f"sizes.model{k - 1}.{key}")

    def load_sizes(self) -> tuple[list[dict[bytes, int]], dict[str, np.ndarray], int, list[Any]]:
        """What :meth:`save_sizes` saved last: ``(vocabularies, model arrays, rounds, steps)``,
        or no vocabularies if no size was finished."""
        info = self.stages.get("prune_pieces.sizes")
        if info is None:
            return [], {}, 0, []
        vocabs = []
        for k in range(1, info["done"] + 1):
            pieces = _unflat(
                self._load(f"sizes.vocab{k}.pieces"), self._load(f"sizes.vocab{k}.offsets")
            )
            counts = self._load(f"sizes.vocab{k}.counts").tolist()
            vocabs.append(dict(zip(pieces, counts, strict=True)))
        k = info["done"]
        state = {key: self._load(f"sizes.model{k}.{key}") for key in info["keys"]}
        return vocabs, state, info["rounds"], info["steps"]
