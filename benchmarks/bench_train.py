"""Training benchmark: bytepiece_core.Trainer against the reference bytepiece 0.6.3.

Trains on a mix of the shared corpora (zh_pd199801, zh_reviews, en_kjv, code_py_stdlib, read
line by line: about 21 MB), order 6, min_count 8, max_vocab_size 16000, and reports wall time
and peak RSS of each run, each in a fresh subprocess (peak RSS from ``os.wait4``), plus the
ratios to the reference. The reference is slow (minutes), so its result at 21 MB is cached in
``benchmarks/results/`` (gitignored) together with its model, which ours must equal.

    python benchmarks/bench_train.py        # 21 MB: warm and cold cache, 2 workers, SentencePiece
    python benchmarks/bench_train.py --scaling          # also 5, 10 and ~100 MB
    python benchmarks/bench_train.py --ref-python /tmp/refenv/bin/python --refresh-reference
    python benchmarks/bench_train.py --no-reference --baseline-tree ../old-checkout
                                     # ours against another checkout of ours, A/B/A/B, 21 MB

This is a measurement, not a test: it prints a table and writes ``results/bench_train.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
RESULTS = HERE / "results"
CORPUS_FILES = ["zh_pd199801.txt", "zh_reviews.txt", "en_kjv.txt", "code_py_stdlib.txt"]
PARAMS = {"order": 6, "min_count": 8, "max_vocab_size": 16000}
MB = 1_000_000


# -- the child: one training run -------------------------------------------------------------


class LineReader:
    """A re-iterable over the lines of text files (``splitlines(keepends=True)`` per file)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths

    def __iter__(self):  # type: ignore[no-untyped-def]
        for path in self.paths:
            with open(path, encoding="utf-8", newline="") as handle:
                text = handle.read()
            yield from text.splitlines(True)


def child(args: argparse.Namespace) -> None:
    """Train once and print a JSON line: seconds, stage seconds, model file."""
    params = json.loads(args.params)
    start = time.perf_counter()
    if args.impl == "spm":  # SentencePiece unigram of the same size on the same files
        import sentencepiece as spm

        spm.SentencePieceTrainer.train(
            input=",".join(args.files),
            model_prefix=args.out,
            model_type="unigram",
            vocab_size=params["max_vocab_size"],
            num_threads=args.workers,
            byte_fallback=True,
            character_coverage=0.9995,
            max_sentence_length=1 << 16,
            minloglevel=2,
        )
        print(json.dumps({"seconds": time.perf_counter() - start, "stages": {}}))
        return
    if args.impl == "ours":
        sys.path.insert(0, str(ROOT))
        from bytepiece_core import Trainer

        trainer = Trainer(**params)
        trainer.train([Path(p) for p in args.files], workers=args.workers)
        stages = trainer.history.seconds
    else:
        import bytepiece

        trainer = bytepiece.Trainer(**params)
        trainer.train(LineReader(args.files), workers=args.workers)
        stages = {}
    seconds = time.perf_counter() - start
    trainer.save(args.out)
    print(json.dumps({"seconds": seconds, "stages": stages}))


# -- the parent: corpora, subprocesses, report -----------------------------------------------


def run_child(
    python: str,
    impl: str,
    files: list[Path],
    workers: int,
    out: Path,
    env: dict[str, str] | None = None,
    tree: Path = ROOT,
) -> dict:
    """Run one training in a subprocess; returns its JSON result plus ``max_rss_mb``."""
    cmd = [
        python,
        str(tree / "benchmarks" / "bench_train.py"),
        "--child",
        impl,
        "--workers",
        str(workers),
        "--params",
        json.dumps(PARAMS),
        "--out",
        str(out),
        "--files",
        *map(str, files),
    ]
    # stderr: the reference draws tqdm bars there; a failure is reported by the exit code
    stderr = subprocess.DEVNULL if impl == "ref" else None
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=str(tree))
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{impl} run failed with exit code {proc.returncode}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    result["max_rss_mb"] = usage.ru_maxrss / 1024
    return result


def make_corpus(folder: Path, n_bytes: int | None) -> list[Path]:
    """The mix of corpus files: whole (``None``), its first ``n_bytes`` (cut after a line),
    or repeated until ``n_bytes`` when that is more than the mix."""
    files = [SHARED / "corpora" / name for name in CORPUS_FILES]
    if n_bytes is None:
        return files
    data = b"".join(f.read_bytes() for f in files)
    if n_bytes <= len(data):
        cut = data.rfind(b"\n", 0, n_bytes) + 1
        out_data = data[:cut]
    else:
        out_data = data * -(-n_bytes // len(data))
    path = folder / f"mix_{n_bytes // MB}MB.txt"
    path.write_bytes(out_data)
    return [path]


def reference(python: str, files: list[Path], refresh: bool) -> dict:
    """The reference's result at 21 MB (cached in results/), with its model."""
    cache = RESULTS / "reference_21MB.json"
    if cache.exists() and not refresh:
        return json.loads(cache.read_text())
    model = RESULTS / "reference_21MB.model"
    print("running the reference (a few minutes) ...", flush=True)
    result = run_child(python, "ref", files, 1, model)
    result["model"] = json.loads(model.read_text())
    cache.write_text(json.dumps(result))
    return result


def compare_trees(baseline: Path, files: list[Path], folder: Path) -> None:
    """Ours against the trainer of another checkout on the 21 MB mix: 3 alternating runs of
    each with 1 and with 2 workers (warm caches), medians and ratios; the models must be the
    same byte for byte."""
    python = sys.executable
    trees = {"this": ROOT, "baseline": baseline}
    for tree in trees.values():  # warm each tree's Numba cache
        run_child(python, "ours", make_corpus(folder, 1 * MB), 1, folder / "warm.model", tree=tree)
    print(f"{'run':22s} {'median s':>9s} {'peak RSS MB':>12s}")
    for workers in (1, 2):
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        for _ in range(3):
            for name, tree in trees.items():
                out = folder / f"{name}{workers}.model"
                runs[name].append(run_child(python, "ours", files, workers, out, tree=tree))
        same = (folder / f"this{workers}.model").read_bytes() == (
            folder / f"baseline{workers}.model"
        ).read_bytes()
        medians = {}
        for name, results in runs.items():
            seconds = sorted(r["seconds"] for r in results)[1]
            rss = sorted(r["max_rss_mb"] for r in results)[1]
            medians[name] = (seconds, rss)
            print(f"{name + f', {workers} worker(s)':22s} {seconds:9.2f} {rss:12.1f}")
        (ts, tr), (bs, br) = medians["this"], medians["baseline"]
        print(
            f"  this / baseline: time {ts / bs:.3f}, peak RSS {tr / br:.3f}; "
            f"same model file: {same}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", choices=["ours", "ref", "spm"], help=argparse.SUPPRESS)
    parser.add_argument("--impl", help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument(
        "--ref-python",
        default="/tmp/refenv/bin/python",
        help="Python with bytepiece 0.6.3 installed",
    )
    parser.add_argument(
        "--refresh-reference",
        action="store_true",
        help="re-run the reference instead of using its cached result",
    )
    parser.add_argument("--scaling", action="store_true", help="also run 5, 10 and ~100 MB")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the reference and its ratios"
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="another checkout of this project: its trainer is run beside ours (alternating, "
        "3 runs each, 1 and 2 workers) and the models compared",
    )
    args = parser.parse_args()
    if args.child:
        args.impl = args.child
        child(args)
        return
    RESULTS.mkdir(exist_ok=True)
    python = sys.executable
    report: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_corpus(folder, None)
        if args.baseline_tree is not None:
            compare_trees(args.baseline_tree.resolve(), files, folder)
            return
        ref = reference(args.ref_python, files, args.refresh_reference)
        report["reference 21MB"] = {k: v for k, v in ref.items() if k != "model"}
        # Warm the cache, then measure.
        run_child(python, "ours", make_corpus(folder, 1 * MB), 1, folder / "warm.model")
        ours = run_child(python, "ours", files, 1, folder / "ours.model")
        same = json.loads((folder / "ours.model").read_text()) == ref["model"]
        ours["same_model_as_reference"] = same
        report["ours 21MB"] = ours
        report["ours 21MB, 2 workers"] = run_child(python, "ours", files, 2, folder / "w2.model")
        cold_env = dict(os.environ, NUMBA_CACHE_DIR=str(folder / "numba-cold"))
        report["ours 21MB, cold cache"] = run_child(
            python, "ours", files, 1, folder / "cold.model", env=cold_env
        )
        report["sentencepiece unigram 21MB, 2 threads"] = run_child(
            python, "spm", files, 2, folder / "spm"
        )
        if args.scaling:
            for size in (5 * MB, 10 * MB, 100 * MB):
                report[f"ours {size // MB}MB"] = run_child(
                    python, "ours", make_corpus(folder, size), 1, folder / "s.model"
                )
    print(
        f"{'run':28s} {'seconds':>9s} {'peak RSS MB':>12s} {'time ratio':>11s} {'RSS ratio':>10s}"
    )
    for name, r in report.items():
        if "21MB" in name:  # ratios only against the reference on the same data
            tr = f"{ref['seconds'] / r['seconds']:10.1f}x"
            mr = f"{r['max_rss_mb'] / ref['max_rss_mb']:10.2f}"
        else:
            tr, mr = f"{'-':>11s}", f"{'-':>10s}"
        print(f"{name:28s} {r['seconds']:9.2f} {r['max_rss_mb']:12.1f} {tr} {mr}")
    print("ours 21MB equals the reference model:", report["ours 21MB"]["same_model_as_reference"])
    (RESULTS / "bench_train.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
