"""Scale benchmark: training with the corpus in memory against the corpus on disk.

Concatenates the shared corpora (zh_pd199801, zh_reviews, en_kjv, code_py_stdlib: about 21 MB)
``--repeat`` times into one temporary file (default 5: about 106 MB), trains on it (order 6,
min_count 8, max_vocab_size 16000) in a fresh subprocess per variant, and reports wall time,
the time of each stage and peak RSS (``os.wait4``) of each run:

- ``memory``: the corpus in memory (the default);
- ``disk``: ``train(..., work_dir=...)``, the corpus in a memory-mapped file whose pages are
  dropped range by range;
- ``checkpoint``: ``train(..., checkpoint_dir=...)`` (corpus on disk, every stage saved), then
  the same again with ``resume=True`` (only the pruning is redone).

All variants must give the same model (checked). The repeated text makes the n-gram and piece
tables those of 21 MB: this measures what the corpus itself costs, not the tables.

    python benchmarks/bench_scale.py [--repeat 5] [--workers 1]

This is a measurement, not a test: it prints a table and writes ``results/bench_scale.json``.
"""

from __future__ import annotations

import argparse
import hashlib
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


def child(args: argparse.Namespace) -> None:
    """Train once and print a JSON line: seconds, stage seconds, hash of the model."""
    sys.path.insert(0, str(ROOT))
    from bytepiece_core import Trainer

    options = json.loads(args.options)
    trainer = Trainer(**PARAMS)
    start = time.perf_counter()
    trainer.train(Path(args.corpus), workers=args.workers, **options)
    seconds = time.perf_counter() - start
    digest = hashlib.sha256(json.dumps(trainer.model(), sort_keys=True).encode()).hexdigest()
    print(json.dumps({"seconds": seconds, "stages": trainer.history.seconds, "model": digest}))


def run(corpus: Path, workers: int, options: dict) -> dict:
    """One child run: its report and peak RSS in MB."""
    cmd = [sys.executable, __file__, "--child", "--corpus", str(corpus)]
    cmd += ["--workers", str(workers), "--options", json.dumps(options)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"child failed ({status}): {cmd}")
    report = json.loads(out.strip().splitlines()[-1])
    report["max_rss_mb"] = usage.ru_maxrss / 1024
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        corpus = Path(tmp) / "corpus.txt"
        with open(corpus, "wb") as out:
            for _ in range(args.repeat):
                for name in CORPUS_FILES:
                    raw = (SHARED / "corpora" / name).read_bytes()
                    out.write(raw if raw.endswith(b"\n") else raw + b"\n")
        size = corpus.stat().st_size
        label = f"{size / MB:.0f}MB"
        run(corpus, args.workers, {})  # compile / load the kernel cache once
        work = Path(tmp) / "work"
        work.mkdir()
        ckpt = str(Path(tmp) / "checkpoint")
        variants = {
            f"memory {label}": {},
            f"disk {label}": {"work_dir": str(work)},
            f"checkpoint {label}": {"checkpoint_dir": ckpt},
            f"resume {label}": {"checkpoint_dir": ckpt, "resume": True},
        }
        results = {name: run(corpus, args.workers, opts) for name, opts in variants.items()}
    models = {r.pop("model") for r in results.values()}
    print(f"{'variant':<24}{'seconds':>9}{'peak RSS MB':>13}  stages")
    for name, r in results.items():
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
        print(f"{name:<24}{r['seconds']:>9.1f}{r['max_rss_mb']:>13.0f}  {stages}")
    print("same model in every variant:", len(models) == 1)
    results["same_model"] = len(models) == 1  # type: ignore[assignment]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_scale.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
