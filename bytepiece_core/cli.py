"""Command line: ``python -m bytepiece_core {encode,decode} ...`` (also ``bytepiece-core``).

``encode`` reads text (files or stdin) and writes one line of space-separated ids (or pieces)
per input line; ``decode`` turns such lines back into text. Input lines keep their newline, so
``decode(encode(text))`` gives back the (NFC) text exactly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from .pretrained import available, model_path
from .tokenizer import Tokenizer

__all__ = ["main", "build_parser"]


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
        encoded = tok.encode_batch(batch, args.add_bos, args.add_eos, alpha=args.alpha,
                                   num_threads=args.threads)
        for ids in encoded:
            if args.pieces:
                words = [p.decode("utf-8", errors="backslashreplace").encode("unicode_escape")
                         .decode("ascii") if isinstance(p, bytes) else p
                         for p in tok.ids_to_pieces(ids)]
                out.write(" ".join(words) + "\n")
            else:
                out.write(" ".join(map(str, ids)) + "\n")


def _decode(args: argparse.Namespace, out: TextIO) -> None:
    tok = _load_tokenizer(args.model)
    for number, line in enumerate(_read_lines(args.inputs), 1):
        try:
            ids = [int(word) for word in line.split()]
        except ValueError:
            raise SystemExit(f"error: line {number} is not a list of integer ids: {line[:60]!r}")
        out.write(tok.decode(ids))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the command line (subcommands ``encode`` and ``decode``)."""
    parser = argparse.ArgumentParser(
        prog="bytepiece-core", description="BytePiece minimum-entropy tokenizer (Numba engine)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    model_help = f"model file (JSON or .zip) or bundled model name ({', '.join(available())})"

    enc = sub.add_parser("encode", help="text -> one line of ids per input line")
    enc.add_argument("inputs", nargs="*", help="UTF-8 text files (default: stdin)")
    enc.add_argument("-m", "--model", default="bytepiece.plus.40k", help=model_help)
    enc.add_argument("--pieces", action="store_true", help="write pieces instead of ids")
    enc.add_argument("--alpha", type=float, default=-1.0, help="sampling temperature (>= 0)")
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
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0
