"""What the panels of one workbench share: the corpus, the last trained model(s), the models
to choose from, the training options and the last vocabulary-size sweep.

Panels observe these traits (``state.observe(fn, "models")``) and set them; no panel talks to
another directly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from traitlets import Dict, HasTraits, Instance

from bytepiece_core import Tokenizer
from bytepiece_core.analysis import Sweep
from bytepiece_core.trainer import Trainer

from .corpora import Corpus, load_corpus
from .training import TrainOptions, trained_models

__all__ = ["FILE_ROOT_ENV", "RELEASED", "SAVE_DIR_ENV", "AppState"]

SAVE_DIR_ENV = "WORKBENCH_SAVE_DIR"
"""Environment variable naming the folder relative file names are saved to."""
FILE_ROOT_ENV = "WORKBENCH_FILE_ROOT"
"""Environment variable naming the only folder the path fields may use (a shared server)."""

RELEASED = "released bytepiece.plus.40k"
"""Menu label of the model that ships with ``bytepiece_core``."""


class AppState(HasTraits):
    """Shared state of the panels of one workbench.

    Attributes
    ----------
    corpus : Corpus
        The corpus being studied.
    trainer : Trainer or None
        The last training run that finished (a stopped or failed run leaves it as it was).
    models : dict of str to Tokenizer
        Models to choose from in menus: the trained sizes (largest first), models added from
        a sweep, then the released model. Replace the dict to notify observers.
    options : TrainOptions
        The options of the last training run (a sweep uses the same ones).
    sweep : Sweep or None
        The last ``bytepiece_core.analysis.vocab_sweep`` on this corpus (None after the corpus
        changes).
    save_dir : Path
        The folder relative file names are saved to: ``WORKBENCH_SAVE_DIR`` (set by ``python -m
        workbench`` to the folder it was started in) or the working directory.
    file_root : Path or None
        When set (``WORKBENCH_FILE_ROOT``: a server shared on a network), the only folder whose
        files the path fields may read or write; None: any file the user can reach.

    Examples
    --------
    >>> state = AppState(load_corpus(["a b a b\\n"] * 50))
    >>> list(state.models)
    ['released bytepiece.plus.40k']
    """

    corpus = Instance(Corpus)
    trainer = Instance(Trainer, allow_none=True)
    models = Dict()
    options = Instance(TrainOptions)
    sweep = Instance(Sweep, allow_none=True)

    def __init__(
        self,
        corpus: Corpus | None = None,
        released: Tokenizer | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        file_root: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__()
        where = save_dir if save_dir is not None else os.environ.get(SAVE_DIR_ENV) or os.getcwd()
        self.save_dir = Path(where).expanduser().resolve()
        root = file_root if file_root is not None else os.environ.get(FILE_ROOT_ENV) or None
        self.file_root = Path(root).expanduser().resolve() if root else None
        if self.file_root is not None:
            self.save_dir = self.file_root
        self._released = released if released is not None else Tokenizer.from_pretrained()
        self.corpus = corpus if corpus is not None else load_corpus()
        self.options = TrainOptions()
        self.models = {RELEASED: self._released}
        self.observe(self._on_corpus, "corpus")

    def _on_corpus(self, change: dict[str, Any]) -> None:
        self.sweep = None

    def set_trained(self, trainer: Trainer, options: TrainOptions | None = None) -> None:
        """Make a finished training run the current one: its sizes become the first models."""
        if options is not None:
            self.options = options
        self.trainer = trainer
        kept = {k: v for k, v in self.models.items() if not k.startswith("trained ")}
        self.models = {**trained_models(trainer), **kept}

    def add_model(self, label: str, tokenizer: Tokenizer) -> None:
        """Add (or replace) a model in the menus, before the released one."""
        rest = {k: v for k, v in self.models.items() if k not in (label, RELEASED)}
        self.models = {**rest, label: tokenizer, RELEASED: self._released}

    def path(self, name: str | os.PathLike[str]) -> Path:
        """The absolute path a typed name stands for: relative names under ``save_dir``; with a
        ``file_root``, a path outside it is refused (``PermissionError`` naming the root).

        >>> state = AppState(load_corpus(["ab\\n"]), file_root="/srv/class")
        >>> state.path("m.json")
        PosixPath('/srv/class/m.json')
        >>> state.path("/etc/passwd")
        Traceback (most recent call last):
        ...
        PermissionError: this server only reads and writes files under /srv/class, not /etc/passwd
        """
        path = Path(name).expanduser()
        path = (path if path.is_absolute() else self.save_dir / path).resolve()
        root = self.file_root
        if root is not None and path != root and root not in path.parents:
            raise PermissionError(
                f"this server only reads and writes files under {root}, not {path}"
            )
        return path

    def readable(self, name: str | os.PathLike[str]) -> Path:
        """:meth:`path`, for a file that must exist (``FileNotFoundError`` naming it)."""
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(f"no file at {path}")
        return path

    def default_model(self) -> str:
        """Label of the model a panel shows first: the largest trained one, else the released.

        >>> AppState(load_corpus(["ab\\n"])).default_model()
        'released bytepiece.plus.40k'
        """
        return next(iter(self.models))
