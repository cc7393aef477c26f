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

With ``--dask`` it compares instead the local run (corpus in memory, then on disk) with
``train(..., backend="dask")`` on a ``LocalCluster`` of 1 and of 2 worker processes (one thread
each; started in the child before the clock starts, so the time is the training's): wall time,
throughput and peak RSS as ratios to the local in-memory run. The peak RSS of a Dask run is
the driver's plus each worker's (their peaks summed, an upper bound of what was resident at
once); a worker's is read in the worker (``getrusage``), the driver's in the child itself.

With ``--budget 64MB,32MB`` it measures instead ``train(..., memory_budget=...)`` on a corpus
whose tables *do* grow with its size: copy ``i`` of the mix has its ASCII letters rotated by
``i`` and its CJK ideographs (U+4E00..U+9FFF) by ``1000 * i`` code points, so every copy brings
its own n-grams and pieces with the statistics of real text. Variants: in memory, on disk
(``work_dir``), and on disk under each budget; it reports peak RSS, the RSS of the interpreter
and the loaded kernels before training (``baseline``), the largest counting table and the
n-gram model (from ``history.memory``), and the partitions of each pass.

All variants must give the same model (checked). Without ``--budget`` the repeated text makes
the n-gram and piece tables those of 21 MB: this measures what the corpus itself costs, not
the tables.

    python benchmarks/bench_scale.py [--repeat 5] [--workers 1] [--dask | --budget 64MB,32MB]

This is a measurement, not a test: it prints a table and writes ``results/bench_scale.json``
(``results/bench_scale_dask.json`` with ``--dask``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# the same corpus mix and options as the training benchmark
from bench_train import CORPUS_FILES, MB, PARAMS, RESULTS, ROOT, SHARED


def _max_rss_mb() -> float:
    """Peak RSS of this process in MB (Linux: ``ru_maxrss`` is in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _StagePeaks:
    """Peak RSS of this process in each training stage, sampled every 10 ms by a thread (the
    stage is the one of the last progress event; ``count_ngrams`` is split by n-gram length)."""

    def __init__(self) -> None:
        self.stage = "start"
        self.peaks: dict[str, float] = {}
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def __call__(self, event: Any) -> None:
        detail = event.message if event.message.startswith("length") else ""
        self.stage = f"{event.stage} {detail}".strip()

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while self.running:
            with open("/proc/self/statm") as statm:
                rss = int(statm.read().split()[1]) * page / 2**20  # MiB, as ru_maxrss
            self.peaks[self.stage] = max(self.peaks.get(self.stage, 0.0), rss)
            time.sleep(0.01)

    def stop(self) -> dict[str, float]:
        self.running = False
        self.thread.join()
        return self.peaks


def child(args: argparse.Namespace) -> None:
    """Train once and print a JSON line: seconds, stage seconds, hash of the model, peak RSS.

    The option ``dask_workers`` (N) trains on a LocalCluster of N worker processes.
    """
    sys.path.insert(0, str(ROOT))
    from bytepiece_core import Trainer

    options = json.loads(args.options)
    n_dask = options.pop("dask_workers", 0)
    report: dict = {}
    Trainer(**PARAMS).train(["load the compiled kernels\n"] * 20)
    report["baseline_rss_mb"] = _max_rss_mb()
    with contextlib.ExitStack() as stack:
        if n_dask:
            import distributed

            start = time.perf_counter()
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=n_dask, processes=True, threads_per_worker=1, dashboard_address=None
                )
            )
            client = stack.enter_context(distributed.Client(cluster))
            options.update(backend="dask", client=client)
            report["cluster_seconds"] = time.perf_counter() - start
        trainer = Trainer(**PARAMS)
        peaks = _StagePeaks()
        start = time.perf_counter()
        trainer.train(Path(args.corpus), workers=args.workers, callback=peaks, **options)
        report["seconds"] = time.perf_counter() - start
        report["stage_peak_mb"] = peaks.stop()
        if n_dask:
            report["workers_rss_mb"] = sorted(client.run(_max_rss_mb).values())
    report["driver_rss_mb"] = _max_rss_mb()
    report["stages"] = trainer.history.seconds
    report["memory"] = trainer.history.memory
    # the n-gram model's tables (lengths >= 3, at the trainer's load of 0.6)
    report["model_mb"] = sum(16 * -(-s.kept * 10 // 6) for s in trainer.history.ngrams[2:]) / MB
    report["model"] = hashlib.sha256(
        json.dumps(trainer.model(), sort_keys=True).encode()
    ).hexdigest()
    print(json.dumps(report))


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
    parser.add_argument(
        "--dask", action="store_true", help="local against LocalCluster(1 and 2 workers)"
    )
    parser.add_argument(
        "--budget",
        default="",
        help="comma-separated memory budgets (e.g. 64MB,32MB): measure memory_budget on a "
        "corpus of rotated copies",
    )
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
            for i in range(args.repeat):
                table = _rotation(i) if args.budget else {}
                for name in CORPUS_FILES:
                    text = (SHARED / "corpora" / name).read_text(encoding="utf-8")
                    text = text if text.endswith("\n") else text + "\n"
                    out.write(text.translate(table).encode("utf-8"))
        size = corpus.stat().st_size
        label = f"{size / MB:.0f}MB"
        if args.budget:
            budget_main(corpus, size, label, args.workers, args.budget.split(","))
            return
        if args.dask:
            dask_main(corpus, size, label, args.workers)
            return
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


def _rotation(i: int) -> dict[int, int]:
    """The ``str.translate`` table of copy ``i``: ASCII letters rotated by ``i``, CJK
    ideographs (U+4E00..U+9FFF) by ``1000 * i`` code points (the identity for ``i = 0``)."""
    table = {}
    for first in (ord("a"), ord("A")):
        for c in range(26):
            table[first + c] = first + (c + i) % 26
    for c in range(0x9FFF - 0x4E00 + 1):
        table[0x4E00 + c] = 0x4E00 + (c + 1000 * i) % (0x9FFF - 0x4E00 + 1)
    return table


def _warm_up(corpus: Path, workers: int, variants: list[dict]) -> None:
    """Compile / load the kernel cache once per kind of run, on the first 2 MB of ``corpus``."""
    small = corpus.with_name("warmup.txt")
    with open(corpus, "rb") as src:
        small.write_bytes(src.read(2 * MB).rsplit(b"\n", 1)[0] + b"\n")
    for options in variants:
        run(small, workers, options)


def budget_main(corpus: Path, size: int, label: str, workers: int, budgets: list[str]) -> None:
    """``--budget``: peak RSS in memory, on disk, and on disk under each budget."""
    _warm_up(corpus, workers, [{}])
    work = corpus.parent / "work"
    work.mkdir()
    variants: dict[str, dict] = {
        f"memory {label}": {},
        f"disk {label}": {"work_dir": str(work)},
    }
    for budget in budgets:
        variants[f"budget {budget} {label}"] = {"work_dir": str(work), "memory_budget": budget}
    results = {name: run(corpus, workers, opts) for name, opts in variants.items()}
    models = {r.pop("model") for r in results.values()}
    print(
        f"{'variant':<22}{'seconds':>8}{'peak RSS':>9}{'baseline':>9}{'above':>7}"
        f"{'table':>7}{'model':>7}  partitions (MB, RSS from ru_maxrss)"
    )
    for name, r in results.items():
        memory = r["memory"]
        r["largest_table_mb"] = max(m["table_bytes"] for m in memory.values()) / MB
        r["above_baseline_mb"] = r["max_rss_mb"] - r["baseline_rss_mb"]
        parts = ", ".join(
            f"{k.replace('length ', '')}:{m['partitions']}" for k, m in memory.items()
        )
        print(
            f"{name:<22}{r['seconds']:>8.1f}{r['max_rss_mb']:>9.0f}{r['baseline_rss_mb']:>9.0f}"
            f"{r['above_baseline_mb']:>7.0f}{r['largest_table_mb']:>7.0f}{r['model_mb']:>7.0f}"
            f"  {parts}"
        )
    print("\npeak RSS (MB) by stage:")
    stages = list(next(iter(results.values()))["stage_peak_mb"])
    print(f"{'variant':<22}" + "".join(f"{s.replace('count_ngrams ', ''):>11}" for s in stages))
    for name, r in results.items():
        row = "".join(f"{r['stage_peak_mb'].get(s, float('nan')):>11.0f}" for s in stages)
        print(f"{name:<22}{row}")
    print("same model in every variant:", len(models) == 1)
    results["same_model"] = len(models) == 1  # type: ignore[assignment]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_scale_budget.json").write_text(json.dumps(results, indent=2))


def dask_main(corpus: Path, size: int, label: str, workers: int) -> None:
    """``--dask``: local against LocalCluster runs, as ratios to the local in-memory run."""
    _warm_up(corpus, workers, [{}, {"dask_workers": 1}])  # here and on the workers
    work = corpus.parent / "work"
    work.mkdir()
    variants = {
        f"local memory {label}": {},
        f"local disk {label}": {"work_dir": str(work)},
        f"dask 1 worker {label}": {"dask_workers": 1},
        f"dask 2 workers {label}": {"dask_workers": 2},
    }
    results = {name: run(corpus, workers, opts) for name, opts in variants.items()}
    models = {r.pop("model") for r in results.values()}
    for r in results.values():
        r["throughput_mb_s"] = size / MB / r["seconds"]
        r["peak_rss_mb"] = r["driver_rss_mb"] + sum(r.get("workers_rss_mb", []))
    base = next(iter(results.values()))
    print(
        f"{'variant':<24}{'seconds':>8}{'MB/s':>7}{'x time':>8}{'x MB/s':>8}"
        f"{'RSS MB':>8}{'x RSS':>7}  driver + workers RSS MB; stages s"
    )
    for name, r in results.items():
        rss = f"{r['driver_rss_mb']:.0f}" + "".join(
            f" + {w:.0f}" for w in r.get("workers_rss_mb", [])
        )
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
        print(
            f"{name:<24}{r['seconds']:>8.1f}{r['throughput_mb_s']:>7.2f}"
            f"{r['seconds'] / base['seconds']:>8.2f}"
            f"{r['throughput_mb_s'] / base['throughput_mb_s']:>8.2f}"
            f"{r['peak_rss_mb']:>8.0f}{r['peak_rss_mb'] / base['peak_rss_mb']:>7.2f}"
            f"  {rss}; {stages}"
        )
    print("same model in every variant:", len(models) == 1)
    results["same_model"] = len(models) == 1  # type: ignore[assignment]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_scale_dask.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
