"""Command line: ``python -m bytepiece_core {train,encode,decode} ...`` (also ``bytepiece-core``).

``train`` learns a vocabulary from UTF-8 text files (one document per line) and writes the
model, showing progress; ``encode`` reads text (files or stdin) and writes one line of
space-separated ids (or pieces) per input line; ``decode`` turns such lines back into text.
Input lines keep their newline, so ``decode(encode(text))`` gives back the (NFC) text exactly.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, TextIO

from ._training.corpus import expand_pattern, is_pattern
from .model import N_SPECIAL
from .pretrained import available, model_path
from .sizes import parse_size
from .tokenizer import Tokenizer
from .trainer import ALGORITHMS, Stage, Trainer, TrainEvent

__all__ = ["build_parser", "main"]


def _load_tokenizer(spec: str, seed: int | None = None) -> Tokenizer:
    """A model path, or the name of a bundled model."""
    if not Path(spec).exists() and spec in available():
        return Tokenizer(model_path(spec), seed=seed)
    return Tokenizer(spec, seed=seed)


def _read_lines(paths: Sequence[str]) -> Iterator[str]:
    if not paths:
        yield from sys.stdin
        return
    for name in paths:
        try:
            with open(name, "rb") as f:
                for number, raw in enumerate(f, 1):
                    try:
                        yield raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise SystemExit(
                            f"error: {name} is not UTF-8 text: {exc.reason} at byte "
                            f"{exc.start} of line {number}"
                        ) from None
        except OSError as exc:
            raise SystemExit(f"error: cannot read {name}: {exc.strerror}") from None


def _batches(lines: Iterator[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _encode(args: argparse.Namespace, out: TextIO) -> None:
    tok = _load_tokenizer(args.model, args.seed)
    for batch in _batches(_read_lines(args.inputs), args.batch_size):
        encoded = tok.encode_batch(
            batch, args.add_bos, args.add_eos, alpha=args.alpha, num_threads=args.threads
        )
        for ids in encoded:
            if args.pieces:
                words = [
                    p.decode("utf-8", errors="backslashreplace")
                    .encode("unicode_escape")
                    .decode("ascii")
                    if isinstance(p, bytes)
                    else p
                    for p in tok.ids_to_pieces(ids)
                ]
                out.write(" ".join(words) + "\n")
            else:
                out.write(" ".join(map(str, ids)) + "\n")


def _decode(args: argparse.Namespace, out: TextIO) -> None:
    tok = _load_tokenizer(args.model)
    for number, line in enumerate(_read_lines(args.inputs), 1):
        try:
            ids = [int(word) for word in line.split()]
        except ValueError:
            raise SystemExit(
                f"error: line {number} is not a list of integer ids: {line[:60]!r}"
            ) from None
        out.write(tok.decode(ids))


class _Progress:
    """Renders training events as one tqdm bar per stage (on stderr)."""

    UNITS: ClassVar[dict[Stage, tuple[str, float]]] = {
        "read": ("docs", 1),
        "count_ngrams": ("MB", 1e6),
        "count_pieces": ("MB", 1e6),
        "prune_pieces": ("steps", 1),
    }

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.stage = ""
        self.bar: Any = None

    def __call__(self, event: TrainEvent) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        unit, scale = self.UNITS.get(event.stage, ("", 1))
        if event.stage != self.stage:
            self.close()
            self.stage = event.stage
            if event.stage == "done":
                return
            total = None if event.total is None else event.total / scale
            self.bar = tqdm(
                total=total,
                desc=event.stage.replace("_", " "),
                unit=unit,
                dynamic_ncols=True,
                leave=True,
            )
        if self.bar is not None:
            if event.message:
                self.bar.set_postfix_str(event.message, refresh=False)
            self.bar.update(event.done / scale - self.bar.n)  # redraws at most every 0.1 s

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _training_files(names: Sequence[str]) -> list[Path]:
    """The training files: each name a file, or a glob pattern (quoted, unexpanded by the shell)."""
    paths: list[Path] = []
    for name in names:
        if is_pattern(name):
            try:
                paths.extend(expand_pattern(name))
            except FileNotFoundError:
                raise SystemExit(f"error: no training file matches the pattern {name!r}") from None
        elif Path(name).is_file():
            paths.append(Path(name))
        else:
            raise SystemExit(f"error: training file not found: {name}")
    return paths


@contextlib.contextmanager
def _dask_client(address: str | None) -> Iterator[Any]:
    """The ``dask.distributed.Client`` of ``--dask-scheduler`` (None without it).

    ``local:N`` starts a local cluster of N worker processes for the run (closed after it);
    anything else is the address of a running scheduler (see ``bytepiece_core.dask.connect``).
    """
    if address is None:
        yield None
        return
    from .dask import INSTALL_HINT, connect, parse_scheduler

    try:
        parse_scheduler(address)
    except ValueError:
        raise SystemExit(
            f"error: --dask-scheduler {address!r}: local:N needs a number of workers N >= 1"
        ) from None
    try:
        client, close = connect(address, timeout=30)
    except ImportError:
        raise SystemExit(
            f"error: --dask-scheduler needs dask.distributed, not installed: {INSTALL_HINT}"
        ) from None
    except ConnectionError as exc:
        raise SystemExit(f"error: {exc}") from None
    try:
        yield client
    finally:
        close()


def _train(args: argparse.Namespace, out: TextIO) -> None:
    paths = _training_files(args.inputs)
    budget = None
    if args.memory_budget is not None:  # checked before anything starts
        budget = parse_size(args.memory_budget, "--memory-budget")
    sizes = args.vocab_size if len(args.vocab_size) > 1 else args.vocab_size[0]
    trainer = Trainer(
        order=args.order,
        max_vocab_size=sizes,
        max_piece_length=args.max_piece_length,
        min_count=args.min_count,
        isolate_digits=args.isolate_digits,
        ensure_unicode=args.ensure_unicode,
        algorithm=args.algorithm,
    )
    progress = _Progress(not args.quiet)
    try:
        with _dask_client(args.dask_scheduler) as client:
            trainer.train(
                paths,
                workers=args.workers,
                callback=progress,
                work_dir=args.work_dir,
                checkpoint_dir=args.checkpoint_dir,
                resume=args.resume,
                backend="local" if client is None else "dask",
                client=client,
                memory_budget=budget,
            )
    except KeyboardInterrupt:
        progress.close()
        hint = (
            f"; the stages done are kept in {args.checkpoint_dir}: rerun with --resume"
            if args.checkpoint_dir
            else ""
        )
        raise SystemExit(f"interrupted: no model was written{hint}") from None
    finally:
        progress.close()
    trainer.save(args.output)
    h = trainer.history
    written = (
        [args.output]
        if len(trainer.pieces) == 1
        else [f"{args.output}.{size}" for size in trainer.max_vocab_size]
    )
    for name, pieces in zip(written, trainer.pieces):
        out.write(f"wrote {name}: {len(pieces) + N_SPECIAL} ids\n")
    out.write(
        f"{h.n_docs} documents, {h.n_bytes} bytes, {h.candidates} candidate pieces, "
        f"{sum(h.seconds.values()):.1f} s\n"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the command line (subcommands ``encode`` and ``decode``)."""
    parser = argparse.ArgumentParser(
        prog="bytepiece-core", description="BytePiece minimum-entropy tokenizer (Numba engine)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    model_help = f"model file (JSON or .zip) or bundled model name ({', '.join(available())})"

    tr = sub.add_parser("train", help="learn a vocabulary from text files")
    tr.add_argument(
        "inputs",
        nargs="+",
        help="UTF-8 text files, one document per line, or quoted glob patterns ('data/*.txt')",
    )
    tr.add_argument(
        "-o", "--output", required=True, help="model path (several sizes write OUTPUT.<size> each)"
    )
    tr.add_argument(
        "--algorithm",
        choices=ALGORITHMS,
        default="bytepiece",
        help="'bytepiece' (default): the reference's algorithm, exactly; 'refined': EM over "
        "the segmentation lattice and pruning by loss, which reaches the sizes asked for",
    )
    tr.add_argument("--order", type=int, default=6, help="n-gram order (default 6)")
    tr.add_argument(
        "--vocab-size",
        type=int,
        nargs="+",
        default=[10000],
        help="vocabulary size(s), special tokens included (default 10000)",
    )
    tr.add_argument("--max-piece-length", type=int, default=36, help="bytes (default 36)")
    tr.add_argument("--min-count", type=int, default=2, help="least count kept (default 2)")
    tr.add_argument("--isolate-digits", action="store_true", help="digits are pieces of their own")
    tr.add_argument(
        "--ensure-unicode",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="pieces start on a character (bytepiece) or are whole characters (refined); "
        "default: on with bytepiece, off with refined (a piece may then also be the first "
        "bytes of one character)",
    )
    tr.add_argument("--workers", type=int, default=1, help="threads (default 1)")
    tr.add_argument(
        "--work-dir", default=None, help="keep the corpus in a file there, not in memory"
    )
    tr.add_argument(
        "--checkpoint-dir", default=None, help="save each finished stage there (for --resume)"
    )
    tr.add_argument(
        "--resume", action="store_true", help="continue from the stages in --checkpoint-dir"
    )
    tr.add_argument(
        "--dask-scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the counting passes on Dask: a scheduler address (tcp://host:8786), or "
        "local:N for a local cluster of N worker processes (needs dask[distributed]); with "
        "workers on other machines, give a --work-dir on a filesystem they share",
    )
    tr.add_argument(
        "--memory-budget",
        default=None,
        metavar="SIZE",
        help="bound the counting tables (all workers) to SIZE, e.g. 2GB or 512MiB: a pass "
        "whose tables would not fit runs once per hash partition of its keys (same result, "
        "one more read of the corpus each); keeps the corpus on disk",
    )
    tr.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    tr.set_defaults(run=_train)

    enc = sub.add_parser("encode", help="text -> one line of ids per input line")
    enc.add_argument("inputs", nargs="*", help="UTF-8 text files (default: stdin)")
    enc.add_argument("-m", "--model", default="bytepiece.plus.40k", help=model_help)
    enc.add_argument("--pieces", action="store_true", help="write pieces instead of ids")
    enc.add_argument(
        "--alpha",
        type=float,
        default=-1.0,
        help="sampling: inverse temperature alpha >= 0 (0: uniform; larger: nearer the best)",
    )
    enc.add_argument("--seed", type=int, default=None, help="seed for sampling")
    enc.add_argument("--add-bos", action="store_true", help="start each line with <bos>")
    enc.add_argument("--add-eos", action="store_true", help="end each line with <eos>")
    enc.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    enc.add_argument("--batch-size", type=int, default=10000, help="lines per batch")
    enc.set_defaults(run=_encode)

    dec = sub.add_parser("decode", help="lines of ids -> text")
    dec.add_argument("inputs", nargs="*", help="files of space-separated ids (default: stdin)")
    dec.add_argument("-m", "--model", default="bytepiece.plus.40k", help=model_help)
    dec.set_defaults(run=_decode)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args, sys.stdout)
    except (ValueError, TypeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0
