"""Tokenizer throughput benchmark: ``bytepiece_core`` against its peers, on one mixed text.

Usage::

    python benchmarks/bench_tokenize.py [--model PATH] [--corpus-bytes N] [--out results.json]
    python benchmarks/bench_tokenize.py --lines short    # the same text hard-wrapped
    python benchmarks/bench_tokenize.py --lines short --train-vocab 16000   # held-out text
    python benchmarks/bench_tokenize.py --quick          # small text, one repeat: a smoke run

Peers are installed by ``benchmarks/setup.sh``; ``bytepiece_core`` is imported from the
environment, or from the repository root when it is not installed.

What is measured
----------------
The text is the first ``--corpus-bytes`` bytes (cut at a line end) of each of four corpora in
``shared/corpora`` -- People's Daily news, Chinese product reviews, the King James Bible and
CPython stdlib source -- concatenated. A *line* keeps its trailing ``"\\n"``, so the lines join
back to exactly the text and every mode below tokenizes the same bytes. With ``--lines short``
the prose is first hard-wrapped the way plain-text files are (see :func:`hard_wrap`): lines of
40-70 bytes and blank lines, so that most calls get a short line. Throughput is MB/s of UTF-8
input (1 MB = 10**6 bytes); each figure is the best of ``--repeats`` timed runs, taken
after warm-up calls (so JIT compilation is excluded) and with the garbage collector paused, as
``timeit`` does. The runs are interleaved across tokenizers (round 1 of all, then round 2, ...),
so a burst of load from other processes does not bias one tokenizer's figures.

- (a) per line: ``tok.encode(line)`` once for every line (per-call overhead included);
- (b) whole text: ``tok.encode(text)``, one call on the whole text;
- (c) batch: ``tok.encode_batch(lines, num_threads=T)`` for ``bytepiece_core`` (and the
  peers' own batch calls, as context). Ours is also timed on one thread and, where it has the
  option, with ``as_arrays=True``, to tell thread scaling from the cost of building lists.

The table also gives the per-call overhead, ((a) time - (b) time) / lines, and bytes per token,
and a second table times single calls on a few tiny texts (the fixed cost of a call: ``""`` and
``"a"`` are almost nothing but the call), best of ``--repeats`` loops of many calls.

Tokenizers: ``bytepiece_core.Tokenizer`` (ours) and, on the same BytePiece model (default
``shared/models/bytepiece_80k.zip``), the reference ``bytepiece.Tokenizer`` 0.6.3 and
``rs_bytepiece.Tokenizer`` (a Rust port); plus a SentencePiece unigram model that this script
trains on the benchmark text itself (cached in the temp dir, keyed on text and parameters), and
the same unigram vocabulary loaded into HF ``tokenizers`` as context.

With ``--train-vocab N`` the BytePiece model is not a released one: ``bytepiece_core`` trains it
(the refined algorithm) at size N on the ``--train-bytes`` of each corpus that follow the
benchmark text, so the text is held out; SentencePiece is trained at the same size on the same
lines. The reference and rs_bytepiece load that model.

Also measured: "fresh import to first encode" of ours in a subprocess, with a cold Numba cache
(``NUMBA_CACHE_DIR`` = a new empty dir) and then warm (same dir again), with the reference's and
rs_bytepiece's import + load for context; and correctness: the fraction of lines on which ours
(and rs_bytepiece) give exactly the reference's ids, so that speed cannot come from being wrong.
Targets are printed as PASS/MISS: this is a benchmark report, not a test, and it exits 0.
The CPU time other processes use just before and after the run is sampled from ``/proc/stat``;
the report warns when the machine was busy, since that lowers every figure and (c) the most.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib
import importlib.metadata
import inspect
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BYTEPIECE_SHARED", REPO_ROOT.parent / "shared"))
CORPORA = ("zh_pd199801.txt", "zh_reviews.txt", "en_kjv.txt", "code_py_stdlib.txt")
OURS, REF, RS, SPM, HF = "ours", "reference", "rs_bytepiece", "sentencepiece", "tokenizers"
MODES = ("per_line", "whole", "batch")
TINY_TEXTS = ("", "a", "ab", "hello world\n", "今天天气不错\n")
WRAP_WIDTH = (40, 70)  # bytes per line of --lines short, drawn uniformly per paragraph line
BUSY_CPUS = 0.3  # CPUs used by other processes above which the report warns of contention

Ids = list[int]
T = TypeVar("T")

STARTUP_OURS = (
    "import sys, time; t = time.perf_counter(); from bytepiece_core import Tokenizer; "
    "tok = Tokenizer(sys.argv[1]); tok.encode('hello'); print(time.perf_counter() - t)"
)
STARTUP_REF = (
    "import sys, time; t = time.perf_counter(); from bytepiece import Tokenizer; "
    "tok = Tokenizer(sys.argv[1]); tok.encode('hello'); print(time.perf_counter() - t)"
)
STARTUP_RS = STARTUP_REF.replace("from bytepiece import", "from rs_bytepiece import")


@dataclass
class Peer:
    """One tokenizer under test: a display name and its encode callables."""

    key: str
    label: str
    encode: Callable[[str], Ids]
    encode_batch: Callable[[list[str]], list[Ids]] | None = None
    # more batch calls, timed like (c) and shown as context: variant label -> call
    batch_variants: dict[str, Callable[[list[str]], Any]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A performance goal: ``value >= goal`` (or ``<=`` when ``lower_is_better``)."""

    name: str
    value: float | None
    goal: float
    lower_is_better: bool = False

    @property
    def passed(self) -> bool | None:
        if self.value is None or math.isnan(self.value):
            return None
        return self.value <= self.goal if self.lower_is_better else self.value >= self.goal


def log(msg: str) -> None:
    """Progress goes to stderr so that stdout holds only the markdown report."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def other_cpu_load(seconds: float = 1.0) -> float | None:
    """CPUs kept busy by other processes while this one sleeps ``seconds`` (Linux only).

    Taken from ``/proc/stat`` totals; ``None`` where that file does not exist.
    """

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    busy = 1 - (idle1 - idle0) / max(total1 - total0, 1)
    return busy * (os.cpu_count() or 1)


def git_state(repo: Path) -> str:
    """Short commit of ``repo`` and whether it has local changes: results stay traceable."""
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes" if dirty else "")


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


# --------------------------------------------------------------------------- text and model


def read_head(path: Path, max_bytes: int) -> str:
    """The longest run of whole lines of ``path`` within ``max_bytes`` (at least one line)."""
    data = path.read_bytes()
    if len(data) > max_bytes:
        cut = data.rfind(b"\n", 0, max_bytes)
        data = data[: cut + 1] if cut >= 0 else data[: data.find(b"\n") + 1 or len(data)]
    text = data.decode("utf-8")
    return text if text.endswith("\n") else text + "\n"


def split_lines(text: str) -> list[str]:
    """Split on ``"\\n"`` only, keeping it: ``"a\\nb\\n" -> ["a\\n", "b\\n"]``."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def hard_wrap(text: str, seed: int = 0) -> str:
    """``text`` as a hard-wrapped plain-text file holds it: each line cut into lines of at most
    40-70 bytes (the width drawn per line), at the last space where there is one and between
    characters where there is not (Chinese), and a blank line after every 1-4 of them (drawn)
    and at the end of each original line. Seeded; only newlines are added."""
    import random

    rng = random.Random(seed)
    out: list[str] = []
    for para in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        rest, left = para, rng.randint(1, 4)
        while rest:
            width = rng.randint(*WRAP_WIDTH)
            cut, size = 0, 0
            while cut < len(rest) and size + len(rest[cut].encode()) <= width:
                size += len(rest[cut].encode())
                cut += 1
            if cut < len(rest):
                space = rest.rfind(" ", 0, cut)
                cut = space + 1 if space > 0 else max(cut, 1)
            out.append(rest[:cut] + "\n")
            rest = rest[cut:]
            left -= 1
            if left == 0 and rest:
                out.append("\n")
                left = rng.randint(1, 4)
        out.append("\n")
    return "".join(out)


def line_stats(lines: Sequence[str]) -> dict[str, float]:
    """Mean and median UTF-8 bytes per line, and the fraction of lines of at most one byte."""
    sizes = sorted(len(line.encode()) for line in lines)
    return {
        "mean_bytes": sum(sizes) / len(sizes),
        "median_bytes": float(sizes[len(sizes) // 2]),
        "at_most_one_byte": sum(s <= 1 for s in sizes) / len(sizes),
    }


def read_after(path: Path, skip_bytes: int, max_bytes: int) -> str:
    """The whole lines of ``path`` after its :func:`read_head` of ``skip_bytes``, up to about
    ``max_bytes`` (cut at a line end)."""
    head = len(read_head(path, skip_bytes).encode())
    data = path.read_bytes()[head : head + max_bytes]
    cut = data.rfind(b"\n")
    return data[: cut + 1].decode("utf-8") if cut >= 0 else data.decode("utf-8")


def train_models(
    corpus_dir: Path, skip_bytes: int, train_bytes: int, vocab: int, into: Path
) -> tuple[Path, str]:
    """Train ours (refined) at ``vocab`` on the lines after the benchmark text of each corpus;
    returns the model file and the training text (for SentencePiece)."""
    core = import_ours()
    text = "".join(read_after(corpus_dir / name, skip_bytes, train_bytes) for name in CORPORA)
    lines = text.splitlines(keepends=True)
    log(f"training ours at {vocab} on {len(text.encode()) / 1e6:.1f} MB (held out from the text)")
    t0 = time.perf_counter()
    trainer = core.Trainer(max_vocab_size=vocab, algorithm="refined")
    trainer.train(lines, workers=2)
    log(f"trained in {time.perf_counter() - t0:.1f} s")
    model = into / f"ours_{vocab}.json"
    trainer.save(model)
    return model, text


def build_text(
    corpus_dir: Path, bytes_per_file: int, short_lines: bool = False
) -> tuple[str, dict[str, int]]:
    """The benchmark text and how many bytes each corpus contributed; with ``short_lines`` the
    prose is hard-wrapped (:func:`hard_wrap`) and the source code keeps its own short lines."""
    heads = {name: read_head(corpus_dir / name, bytes_per_file) for name in CORPORA}
    if short_lines:
        heads = {k: v if k.startswith("code") else hard_wrap(v) for k, v in heads.items()}
    return "".join(heads.values()), {k: len(v.encode()) for k, v in heads.items()}


def extract_json_model(model: Path, into: Path) -> Path:
    """Path of the BytePiece JSON model: ``model`` itself, or its only member if a zip."""
    if not zipfile.is_zipfile(model):
        return model
    with zipfile.ZipFile(model) as zf:
        members = [m for m in zf.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise SystemExit(f"--model {model}: expected one file in the zip, found {members}")
        return Path(zf.extract(members[0], into))


# --------------------------------------------------------------------------- peers


def import_ours() -> ModuleType:
    """Import ``bytepiece_core``; fall back to the repository root when it is not installed.

    Errors raised inside the package (a broken install or checkout) propagate unchanged.
    """
    try:
        return importlib.import_module("bytepiece_core")
    except ModuleNotFoundError as exc:
        if exc.name != "bytepiece_core":
            raise
    sys.path.insert(0, str(REPO_ROOT))
    try:
        return importlib.import_module("bytepiece_core")
    except ModuleNotFoundError as exc:
        if exc.name != "bytepiece_core":
            raise
        raise SystemExit(
            f"cannot import bytepiece_core: run with PYTHONPATH={REPO_ROOT} "
            f"or after `pip install -e {REPO_ROOT}`"
        ) from exc


def make_ours(model: Path, threads: int) -> Peer:
    """Ours; besides (c), times ``encode_batch`` on one thread and, where the installed version
    has it, with ``as_arrays=True`` (flat ids, no per-token Python objects)."""
    core = import_ours()
    tok = core.Tokenizer(str(model))
    label = f"bytepiece_core {getattr(core, '__version__', '?')} (ours)"
    variants: dict[str, Callable[[list[str]], Any]] = {
        "encode_batch(lines, num_threads=1)": lambda lines: tok.encode_batch(lines, num_threads=1),
    }
    if "as_arrays" in inspect.signature(tok.encode_batch).parameters:
        variants[f"encode_batch(lines, num_threads={threads}, as_arrays=True)"] = lambda lines: (
            tok.encode_batch(lines, num_threads=threads, as_arrays=True)
        )
    return Peer(
        OURS,
        label,
        tok.encode,
        lambda lines: tok.encode_batch(lines, num_threads=threads),
        variants,
    )


def make_reference(json_model: Path) -> Peer:
    import bytepiece

    tok = bytepiece.Tokenizer(str(json_model))
    return Peer(REF, f"bytepiece {version('bytepiece')} (reference)", tok.encode)


def make_rs(json_model: Path) -> Peer:
    import rs_bytepiece

    tok = rs_bytepiece.Tokenizer(str(json_model))
    return Peer(RS, f"rs_bytepiece {version('rs-bytepiece')}", tok.encode)


@dataclass(frozen=True)
class SpmParams:
    vocab_size: int
    threads: int

    def trainer_kwargs(self) -> dict[str, Any]:
        return {
            "model_type": "unigram",
            "vocab_size": self.vocab_size,
            "num_threads": self.threads,
            "byte_fallback": True,
            "hard_vocab_limit": False,  # a smaller vocabulary is fine on a --quick text
            "max_sentence_length": 1 << 15,  # keep the long review/news lines
            "character_coverage": 0.9995,
        }


def train_spm(text: str, params: SpmParams) -> Path:
    """Train (or reuse from the temp-dir cache) a SentencePiece unigram model on ``text``."""
    import sentencepiece as spm

    kwargs = params.trainer_kwargs()
    key = hashlib.sha256(
        text.encode() + json.dumps([kwargs, version("sentencepiece")]).encode()
    ).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / "bytepiece_bench_spm"
    model = cache / f"unigram_{key}.model"
    if model.exists():
        log(f"SentencePiece model from cache: {model}")
        return model
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        corpus = Path(tmp) / "train.txt"
        corpus.write_text(text, encoding="utf-8")
        t0 = time.perf_counter()
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(Path(tmp) / "m"), minloglevel=2, **kwargs
        )
        log(f"trained SentencePiece unigram in {time.perf_counter() - t0:.1f} s")
        os.replace(Path(tmp) / "m.model", model)
    return model


def make_spm(model: Path, threads: int, trained_on: str = "this text") -> tuple[Peer, Any]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model))
    size = sp.get_piece_size()
    label = f"sentencepiece {version('sentencepiece')} (unigram {size}, trained on {trained_on})"
    peer = Peer(SPM, label, sp.encode, lambda lines: sp.encode(lines, num_threads=threads))
    return peer, sp


def make_hf(sp: Any) -> Peer:
    """The SentencePiece unigram vocabulary served by HF ``tokenizers`` (context only).

    Same pieces and scores; NFKC, whitespace runs collapsed and stripped, then metaspace
    pre-tokenization: close to, not exactly, SentencePiece's ``nmt_nfkc`` normalizer, so ids
    agree on nearly all lines (the agreement is reported).
    """
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

    vocab = [
        (sp.id_to_piece(i), -1e9 if sp.is_control(i) else sp.get_score(i))
        for i in range(sp.get_piece_size())
    ]
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp.unk_id(), byte_fallback=True))
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Strip()]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    label = f"tokenizers {version('tokenizers')} (same unigram vocab)"
    return Peer(
        HF,
        label,
        lambda text: tok.encode(text).ids,
        lambda lines: [e.ids for e in tok.encode_batch(lines)],
    )


# --------------------------------------------------------------------------- timing


@contextmanager
def gc_paused() -> Iterator[None]:
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def time_once(fn: Callable[[], T]) -> tuple[float, T]:
    """Wall time of one call of ``fn`` (garbage collector paused) and its result."""
    with gc_paused():
        t0 = time.perf_counter()
        result = fn()
        return time.perf_counter() - t0, result


def timed_calls(peer: Peer, text: str, lines: list[str]) -> dict[str, Callable[[], Any]]:
    """The calls to time for ``peer``, by mode, after warming each one up (not timed)."""
    encode, batch = peer.encode, peer.encode_batch
    encode(text[:2000])  # JIT compilation / lazy initialisation
    calls: dict[str, Callable[[], Any]] = {
        "per_line": lambda: [encode(line) for line in lines],
        "whole": partial(encode, text),
    }
    if batch is not None:
        calls["batch"] = partial(batch, lines)
    for name, variant in peer.batch_variants.items():
        calls[name] = partial(variant, lines)
    for line in lines[:50]:
        encode(line)
    if batch is not None:
        batch(lines[:50])
    for variant in peer.batch_variants.values():
        variant(lines[:50])
    return calls


def measure_all(peers: Sequence[Peer], text: str, lines: list[str], repeats: int) -> None:
    """Fill ``seconds`` (best of ``repeats``) and ``ids`` (last result) of every peer and mode.

    Repeats are interleaved -- round 1 times every peer and mode, then round 2, ... -- so that a
    burst of load from other processes hits all peers alike instead of biasing one ratio.
    """
    calls = {peer.key: timed_calls(peer, text, lines) for peer in peers}
    for round_ in range(1, repeats + 1):
        log(f"timing round {round_}/{repeats}")
        for peer in peers:
            for mode, call in calls[peer.key].items():
                peer.ids.pop(mode, None)  # free the previous result before timing again
                time.sleep(0.05)  # let thread pools of the previous call fall asleep
                seconds, peer.ids[mode] = time_once(call)
                peer.seconds[mode] = min(seconds, peer.seconds.get(mode, math.inf))


def measure_fixed_cost(peers: Sequence[Peer], repeats: int, calls: int = 20000) -> dict[str, Any]:
    """Microseconds per ``encode`` call on each of ``TINY_TEXTS``: best of ``repeats`` loops of
    ``calls`` calls, the loops interleaved across peers as in :func:`measure_all`. Each loop
    starts after a short pause, so that thread pools a peer's batch call left spinning (Rayon's
    do, for a while) are asleep again and do not take a CPU from the loop."""
    best: dict[str, dict[str, float]] = {p.key: {} for p in peers}
    for _round in range(repeats):
        for peer in peers:
            encode = peer.encode
            for text in TINY_TEXTS:
                loop = range(calls)
                time.sleep(0.05)
                with gc_paused():
                    t0 = time.perf_counter()
                    for _ in loop:
                        encode(text)
                    us = (time.perf_counter() - t0) / calls * 1e6
                old = best[peer.key].get(text, math.inf)
                best[peer.key][text] = min(old, us)
    return best


def fixed_cost_table(peers: dict[str, Peer], fixed: dict[str, Any]) -> str:
    head = " | ".join(f"`{t!r}`" for t in TINY_TEXTS)
    rows = [
        f"| tokenizer, us per encode call | {head} |",
        "|---|" + "---:|" * len(TINY_TEXTS),
    ]
    for key, by_text in fixed.items():
        cells = " | ".join(f"{by_text[t]:.2f}" for t in TINY_TEXTS)
        rows.append(f"| {peers[key].label} | {cells} |")
    return "\n".join(rows)


def run_startup(code: str, arg: Path, env: dict[str, str]) -> float:
    """Seconds that ``python -c code arg`` reports (its own fresh-import-to-first-encode)."""
    proc = subprocess.run(
        [sys.executable, "-c", code, str(arg)], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"startup subprocess failed:\n{proc.stderr.strip()}")
    return float(proc.stdout.strip().splitlines()[-1])


def measure_startup(
    ours_model: Path, json_model: Path, ours_root: Path, repeats: int
) -> dict[str, Any]:
    """Fresh-process import + load + first encode: ours cold and warm, peers for context."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ours_root), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="bench_numba_cache_") as cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
        log("startup: ours, cold Numba cache")
        cold = run_startup(STARTUP_OURS, ours_model, env)
        log("startup: ours, warm Numba cache")
        warm = [run_startup(STARTUP_OURS, ours_model, env) for _ in range(repeats)]
    log("startup: reference and rs_bytepiece")
    ref = min(run_startup(STARTUP_REF, json_model, env) for _ in range(repeats))
    rs = min(run_startup(STARTUP_RS, json_model, env) for _ in range(repeats))
    return {
        "ours_cold": cold,
        "ours_warm": min(warm),
        "ours_warm_runs": warm,
        "reference": ref,
        "rs_bytepiece": rs,
    }


# --------------------------------------------------------------------------- checks and report


def agreement(a: Sequence[Ids], b: Sequence[Ids]) -> tuple[float, int | None]:
    """Fraction of positions where ``a`` and ``b`` are equal, and the first that is not."""
    same = [list(x) == list(y) for x, y in zip(a, b, strict=True)]
    first = next((i for i, s in enumerate(same) if not s), None)
    return sum(same) / max(len(same), 1), first


def check_agreement(peers: dict[str, Peer], lines: list[str]) -> dict[str, Any]:
    ref, out = peers[REF].ids, {}
    for key, base in ((OURS, REF), (RS, REF), (HF, SPM)):
        if key not in peers or base not in peers:
            continue
        mine, theirs = peers[key].ids, peers[base].ids
        frac, first = agreement(mine["per_line"], theirs["per_line"])
        out[f"{key} vs {base}"] = {
            "lines_identical": frac,
            "whole_text_identical": mine["whole"] == theirs["whole"],
            "first_mismatch_line": None if first is None else lines[first][:80],
        }
    if OURS in peers:
        frac, _ = agreement(peers[OURS].ids["batch"], ref["per_line"])
        out[f"{OURS} (c) encode_batch vs {REF}"] = {"lines_identical": frac}
        for name in peers[OURS].batch_variants:
            ids = peers[OURS].ids[name]
            frac, _ = agreement(ids.tolist() if hasattr(ids, "tolist") else ids, ref["per_line"])
            out[f"{OURS} {name} vs {REF}"] = {"lines_identical": frac}
    return out


def mbps(nbytes: int, seconds: float | None) -> float:
    return nbytes / seconds / 1e6 if seconds else math.nan


def fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None or math.isnan(x) else format(x, spec)


def throughput_table(
    peers: dict[str, Peer], nbytes: int, nlines: int
) -> tuple[str, dict[str, Any]]:
    """Markdown table and JSON data; per-call overhead = ((a) time - (b) time) / lines."""
    ref = peers[REF].seconds
    rows = [
        "| tokenizer | (a) per line MB/s | x ref | (b) whole text MB/s | x ref "
        "| (c) batch MB/s | (c)/(b) | per-call overhead us | bytes/token |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    data: dict[str, Any] = {}
    for peer in peers.values():
        s = peer.seconds
        a, b, c = (mbps(nbytes, s.get(m)) for m in MODES)
        ntok = sum(map(len, peer.ids["per_line"]))
        overhead_us = (s["per_line"] - s["whole"]) / nlines * 1e6
        data[peer.key] = {
            "label": peer.label,
            "seconds": dict(s),
            "mb_per_s": {m: mbps(nbytes, t) for m, t in s.items()},
            "per_call_overhead_us": overhead_us,
            "tokens_per_line_mode": ntok,
            "tokens_whole_text": len(peer.ids["whole"]),
        }
        rows.append(
            f"| {peer.label} | {fmt(a)} | {fmt(ref['per_line'] / s['per_line'], '.2f')} "
            f"| {fmt(b)} | {fmt(ref['whole'] / s['whole'], '.2f')} | {fmt(c)} "
            f"| {fmt(c / b, '.2f')} | {fmt(overhead_us)} | {fmt(nbytes / max(ntok, 1), '.2f')} |"
        )
    return "\n".join(rows + variants_table(peers[OURS], nbytes)), data


def variants_table(ours: Peer, nbytes: int) -> list[str]:
    """Context rows for ours' batch calls: the (c) call and its variants against ours (b)."""
    names = ["batch", *ours.batch_variants]
    rows = ["", "| ours, batch call (context) | MB/s | / ours (b) |", "|---|---:|---:|"]
    for name in names:
        label = "(c) encode_batch(lines, num_threads=T)" if name == "batch" else name
        seconds = ours.seconds[name]
        rows.append(
            f"| {label} | {fmt(mbps(nbytes, seconds))} "
            f"| {fmt(ours.seconds['whole'] / seconds, '.2f')} |"
        )
    return rows


def targets(
    peers: dict[str, Peer], startup: dict[str, Any], fixed: dict[str, Any], short_lines: bool
) -> list[Target]:
    o, r, s = peers[OURS].seconds, peers[REF].seconds, peers[SPM].seconds
    one_thread = o.get("encode_batch(lines, num_threads=1)")
    goals = [
        Target("ours (a) / reference (a)", r["per_line"] / o["per_line"], 10),
        Target("ours (b) / reference (b)", r["whole"] / o["whole"], 15),
        Target(
            "ours (a) / sentencepiece (a)", s["per_line"] / o["per_line"], 1.5 if short_lines else 1
        ),
        Target("ours (b) / sentencepiece (b)", s["whole"] / o["whole"], 2),
        Target("ours (c) / ours (b)", o["whole"] / o["batch"], 1.8),
        Target(
            "ours (c) / ours encode_batch on 1 thread",
            one_thread / o["batch"] if one_thread else None,
            1.8,
        ),
        Target("ours warm import-to-first-encode, s", startup["ours_warm"], 2, True),
    ]
    for text in TINY_TEXTS[:2]:
        goals.append(Target(f"ours encode({text!r}), us per call", fixed[OURS][text], 0.8, True))
    return goals


def busy_warning(*loads: float | None) -> list[str]:
    """A note for the report when other processes were using the CPUs around the run."""
    busy = max((x for x in loads if x is not None), default=0.0)
    if busy < BUSY_CPUS:
        return []
    return [
        f"> **Machine busy**: other processes used up to {busy:.2f} of {os.cpu_count()} CPUs "
        "around this run. Every figure is lowered, the threaded (c) column and its ratio most; "
        "rerun on an idle machine before reading the targets.",
        "",
    ]


def report(
    table: str,
    agree: dict[str, Any],
    startup: dict[str, Any],
    goals: list[Target],
    meta: dict[str, Any],
    fixed: str,
) -> str:
    per_file = ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in meta["corpus_bytes"].items())
    st = meta["line_stats"]
    shape = (
        f"{'hard-wrapped' if meta['short_lines'] else 'natural'} lines: "
        f"mean {st['mean_bytes']:.1f} bytes, median {st['median_bytes']:.0f}, "
        f"{st['at_most_one_byte']:.1%} empty or one byte"
    )
    out = [
        f"## Tokenizer throughput ({meta['text_bytes'] / 1e6:.2f} MB, {meta['lines']} lines; "
        f"best of {meta['repeats']}; batch threads = {meta['threads']})",
        "",
        f"Model: `{meta['model']}`. Text: {per_file}; {shape}. Machine: {meta['machine']}; "
        f"other processes used {fmt(meta['other_cpu_load_before'], '.2f')} / "
        f"{fmt(meta['other_cpu_load_after'], '.2f')} CPUs before / after the run. "
        f"bytepiece_core at {meta['bytepiece_core_git']}.",
        "",
        *busy_warning(meta["other_cpu_load_before"], meta["other_cpu_load_after"]),
        table,
        "",
        "### The fixed cost of a call",
        "",
        fixed,
        "",
        "### Agreement of ids",
        "",
        "| pair | lines identical | whole text identical | first differing line |",
        "|---|---:|---|---|",
    ]
    for pair, v in agree.items():
        first = v.get("first_mismatch_line")
        out.append(
            f"| {pair} | {v['lines_identical']:.4%} | {v.get('whole_text_identical', '-')} "
            f"| {'-' if first is None else repr(first)} |"
        )
    out += [
        "",
        "### Fresh process: import + load model + first encode",
        "",
        "| what | seconds |",
        "|---|---:|",
        f"| ours, cold Numba cache | {startup['ours_cold']:.2f} |",
        f"| ours, warm Numba cache (best of {len(startup['ours_warm_runs'])}) "
        f"| {startup['ours_warm']:.2f} |",
        f"| reference bytepiece (JSON model) | {startup['reference']:.2f} |",
        f"| rs_bytepiece (JSON model) | {startup['rs_bytepiece']:.2f} |",
        "",
        "### Targets",
        "",
    ]
    for g in goals:
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[g.passed]
        op = "<" if g.lower_is_better else ">="
        out.append(f"- {verdict}: {g.name} = {fmt(g.value, '.2f')} (target {op} {g.goal:g})")
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--model",
        type=Path,
        default=SHARED / "models" / "bytepiece_80k.zip",
        help="BytePiece model, zip or JSON (default: %(default)s)",
    )
    p.add_argument(
        "--corpus-dir",
        type=Path,
        default=SHARED / "corpora",
        help="directory holding the four corpora (default: %(default)s)",
    )
    p.add_argument(
        "--corpus-bytes",
        type=int,
        default=None,
        help="bytes taken from each corpus (default 1000000, or 100000 with --quick)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed runs per measurement, best is kept (default 5, or 1 with --quick)",
    )
    p.add_argument("--threads", type=int, default=2, help="threads for batch encoding")
    p.add_argument(
        "--spm-vocab",
        type=int,
        default=None,
        help="SentencePiece vocabulary size (default 32000, or 8000 with --quick)",
    )
    p.add_argument(
        "--lines",
        choices=("natural", "short"),
        default="natural",
        help="the corpora's own lines, or the prose hard-wrapped at 40-70 bytes with blank "
        "lines (most calls then get a short line)",
    )
    p.add_argument(
        "--train-vocab",
        type=int,
        default=None,
        help="train ours and SentencePiece at this size on text after the benchmark text "
        "(held out) instead of using --model",
    )
    p.add_argument(
        "--train-bytes",
        type=int,
        default=2_000_000,
        help="bytes of each corpus to train on with --train-vocab (default: %(default)s)",
    )
    p.add_argument("--no-hf", action="store_true", help="skip the HF tokenizers context row")
    p.add_argument("--quick", action="store_true", help="small text and one repeat: smoke run")
    p.add_argument("--out", type=Path, default=None, help="also write all numbers as JSON")
    args = p.parse_args(argv)
    args.corpus_bytes = args.corpus_bytes or (100_000 if args.quick else 1_000_000)
    args.repeats = args.repeats or (1 if args.quick else 5)
    args.spm_vocab = args.spm_vocab or (8000 if args.quick else 32000)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("RAYON_NUM_THREADS", str(args.threads))  # HF tokenizers batch
    load_before = other_cpu_load()
    short_lines = args.lines == "short"
    text, corpus_bytes = build_text(args.corpus_dir, args.corpus_bytes, short_lines)
    lines = split_lines(text)
    assert "".join(lines) == text
    nbytes = len(text.encode())
    log(f"text: {nbytes / 1e6:.2f} MB, {len(lines)} lines")

    tmp = Path(tempfile.mkdtemp(prefix="bench_tokenize_"))
    try:
        spm_text = text
        if args.train_vocab:
            args.model, spm_text = train_models(
                args.corpus_dir, args.corpus_bytes, args.train_bytes, args.train_vocab, tmp
            )
            args.spm_vocab = args.train_vocab
        json_model = extract_json_model(args.model, tmp)
        log("loading tokenizers")
        ours = make_ours(args.model, args.threads)
        spm_peer, sp = make_spm(
            train_spm(spm_text, SpmParams(args.spm_vocab, args.threads)),
            args.threads,
            "the training text" if args.train_vocab else "this text",
        )
        peers = {
            p.key: p for p in (ours, make_reference(json_model), make_rs(json_model), spm_peer)
        }
        if not args.no_hf:
            peers[HF] = make_hf(sp)
        log("warming up")
        measure_all(list(peers.values()), text, lines, args.repeats)
        log("the fixed cost of a call")
        fixed_cost = measure_fixed_cost(list(peers.values()), max(args.repeats, 7))
        ours_root = Path(next(iter(sys.modules["bytepiece_core"].__path__))).resolve().parent
        startup = measure_startup(args.model, json_model, ours_root, min(args.repeats, 3))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    agree = check_agreement(peers, lines)
    table, throughput = throughput_table(peers, nbytes, len(lines))
    goals = targets(peers, startup, fixed_cost, short_lines)
    meta = {
        "model": str(args.model),
        "corpus_bytes": corpus_bytes,
        "text_bytes": nbytes,
        "lines": len(lines),
        "short_lines": short_lines,
        "line_stats": line_stats(lines),
        "repeats": args.repeats,
        "threads": args.threads,
        "spm_params": SpmParams(args.spm_vocab, args.threads).trainer_kwargs(),
        "machine": f"{cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "other_cpu_load_before": load_before,
        "other_cpu_load_after": other_cpu_load(),
        "bytepiece_core_git": git_state(ours_root),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(report(table, agree, startup, goals, meta, fixed_cost_table(peers, fixed_cost)))
    if args.out:
        result = {
            "meta": meta,
            "throughput": throughput,
            "agreement": agree,
            "startup_seconds": startup,
            "fixed_cost_us": fixed_cost,
            "targets": [
                {
                    "name": g.name,
                    "value": g.value,
                    "goal": g.goal,
                    "lower_is_better": g.lower_is_better,
                    "passed": g.passed,
                }
                for g in goals
            ],
        }
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
