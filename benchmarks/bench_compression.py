"""Compression on text the tokenizers never saw: ours (both algorithms) beside SentencePiece
unigram and BPE and HF byte-level BPE, each peer in its best configuration.

For each corpus of ``../shared/corpora`` (and the 21 MB mix of four of them), the last 20% of
its lines are held out; every tokenizer trains on the first ``N`` bytes of the rest (100 KB,
1 MB, 3 MB, or all of it) at each vocabulary size, and is scored on the held-out lines:

- bytes/token (higher is better) and the vocabulary reached (ids, special tokens included);
- bits/byte, like for like (``bits_per_byte``): every tokenizer's held-out tokens coded with
  the unigram frequencies of its own tokens on its training text (add-one over its
  vocabulary), per held-out byte. The same rule for every tokenizer, BPE included, and a real
  code: a byte-fallback token costs what its frequency says;
- bits/byte by the model's own scores (``model_bits_per_byte``) where a tokenizer has them:
  ours (its unigram probabilities) and SentencePiece unigram (its piece scores, which give
  byte-fallback tokens 0 bits, so that figure is a lower bound);
- where SentencePiece unigram stops short of the size (under 99% of it), the refined trainer
  again at the ids SentencePiece reached (``refined_at_sp_ids``): the add-one code charges
  every id, so bits/byte compares like for like only at the same number of ids;
- training time (seconds, this process).

Peers in their best configuration: SentencePiece (byte fallback, identity normalization, no
dummy prefix) with ``split_by_whitespace`` and ``allow_whitespace_only_pieces`` each true and
false, the best of the four kept (chosen on the held-out text itself, in the peers' favour;
above 1 MB of training text, the configuration that won at 1 MB for the same corpus and size,
when the 1 MB cell ran first, as the grid's order makes it);
``character_coverage`` 0.9995, lowered when the corpus has more characters than the size
allows. HF byte-level BPE with its GPT-2 pre-tokenizer.

    python benchmarks/bench_compression.py                       # the whole grid (long)
    python benchmarks/bench_compression.py --corpora zh_pd199801 en_kjv --train 1MB --sizes 8000
    python benchmarks/bench_compression.py --speed    # 21 MB mix at 16000: time and peak RSS
    python benchmarks/bench_compression.py --peers-from benchmarks/compression_results.json

This is a measurement, not a test: it prints a table and writes
``results/bench_compression.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "corpora"
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT))

CORPORA = ["zh_pd199801", "zh_reviews", "en_kjv", "code_py_stdlib", "zh_poems"]
MIX = ["zh_pd199801", "zh_reviews", "en_kjv", "code_py_stdlib"]
TRAIN_SIZES = {"100KB": 100_000, "1MB": 1_000_000, "3MB": 3_000_000, "all": None}
SIZES = [2000, 8000, 16000, 32000]
OURS = {"order": 6, "min_count": 2}


def split(name: str, n_bytes: int | None) -> tuple[list[str], list[str]]:
    """``(training lines, held-out lines)``: the last 20% of the lines are held out, and the
    training lines are the first ``n_bytes`` of the rest (all of it for None). The mix takes
    as much of each of its corpora."""
    names = MIX if name == "mix" else [name]
    share = None if n_bytes is None else n_bytes // len(names)
    train: list[str] = []
    held: list[str] = []
    for part in names:  # each corpus of the mix holds out its own last 20%
        text = (SHARED / f"{part}.txt").read_text(encoding="utf-8").splitlines(True)
        cut = int(len(text) * 0.8)
        train += prefix(text[:cut], share)
        held += text[cut:]
    return train, held


def prefix(lines: list[str], n_bytes: int | None) -> list[str]:
    if n_bytes is None:
        return lines
    out, total = [], 0
    for line in lines:
        if total >= n_bytes:
            break
        out.append(line)
        total += len(line.encode())
    return out


def unigram_bits(train_ids: list[list[int]], held_ids: list[list[int]], n_ids: int) -> float:
    """Bits to code the held-out tokens with the add-one unigram frequencies of the training
    tokens, over ``n_ids`` ids."""
    import numpy as np

    train = np.concatenate([np.asarray(i, np.int64) for i in train_ids])
    counts = np.bincount(train, minlength=n_ids)
    logp = np.log2(counts + 1.0) - np.log2(counts.sum() + len(counts))
    held = np.concatenate([np.asarray(i, np.int64) for i in held_ids])
    return float(-logp[held].sum())


def ours(train: list[str], held: list[str], size: int, algorithm: str) -> dict[str, Any]:
    from bytepiece_core import Trainer
    from bytepiece_core.metrics import evaluate

    start = time.perf_counter()
    trainer = Trainer(order=6, max_vocab_size=size, min_count=2, algorithm=algorithm)
    trainer.train(train, workers=2)
    seconds = time.perf_counter() - start
    tok = trainer.tokenizer()
    m = evaluate(tok, held)
    bits = unigram_bits(tok.encode_batch(train), tok.encode_batch(held), tok.vocab_size)
    return {
        "bytes_per_token": m.bytes_per_token,
        "bits_per_byte": bits / m.n_bytes,
        "model_bits_per_byte": m.bits_per_byte,
        "vocab": tok.vocab_size,
        "seconds": seconds,
    }


def _coverage(train: list[str], size: int) -> float:
    """SentencePiece's ``character_coverage``: 0.9995, or less if the characters that covers
    would leave too little of the vocabulary (at most half of it for characters)."""
    counts = Counter("".join(train))
    total = sum(counts.values())
    running, needed = 0, 0
    for _, c in counts.most_common():
        running += c
        needed += 1
        if running / total >= 0.9995:
            break
    if needed <= size // 2:
        return 0.9995
    top = sum(c for _, c in counts.most_common(size // 2))
    return max(0.98, math.floor(top / total * 1e4) / 1e4)  # SentencePiece's least


CONFIGS = [(True, True), (True, False), (False, True), (False, False)]
# The configuration each SentencePiece kind won with at 1 MB, by (corpus, size, kind): the
# larger cells train that one only (four trainings of tens of MB would take most of the run).
WINNERS: dict[tuple[str, int, str], tuple[bool, bool]] = {}


def sentencepiece(
    train: list[str],
    held: list[str],
    size: int,
    kind: str,
    configs: list[tuple[bool, bool]] = CONFIGS,
) -> dict[str, Any] | None:
    """The best of SentencePiece's ``configs`` (``split_by_whitespace``,
    ``allow_whitespace_only_pieces``), or None if it cannot train at this size (more
    characters than the size even at its least ``character_coverage``)."""
    import sentencepiece as spm

    held_bytes = sum(len(t.encode()) for t in held)
    coverage = _coverage(train, size)
    best: dict[str, Any] | None = None
    for split_ws, ws_pieces in configs:
        model = io.BytesIO()
        start = time.perf_counter()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter([t for t in train if t.strip()]),
                model_writer=model,
                model_type=kind,
                vocab_size=size,
                byte_fallback=True,
                character_coverage=coverage,
                normalization_rule_name="identity",
                add_dummy_prefix=False,
                remove_extra_whitespaces=False,
                hard_vocab_limit=False,
                max_sentence_length=1 << 20,
                split_by_whitespace=split_ws,
                allow_whitespace_only_pieces=ws_pieces,
                num_threads=2,
                minloglevel=2,
            )
        except RuntimeError as exc:
            if "required_chars" in str(exc):
                return None
            raise
        seconds = time.perf_counter() - start
        sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
        held_ids = sp.encode(held)
        n_tokens = sum(map(len, held_ids))
        score = sum(sp.get_score(i) for ids in held_ids for i in ids)
        row = {
            "bytes_per_token": held_bytes / max(n_tokens, 1),
            "model_bits_per_byte": -score / math.log(2) / held_bytes if kind == "unigram" else None,
            "vocab": sp.get_piece_size(),
            "processor": sp,
            "seconds": seconds,
            "config": {
                "split_by_whitespace": split_ws,
                "allow_whitespace_only_pieces": ws_pieces,
                "character_coverage": coverage,
            },
        }
        if best is None or row["bytes_per_token"] > best["bytes_per_token"]:
            best = row
    if best is not None:
        sp = best.pop("processor")
        bits = unigram_bits(sp.encode(train), sp.encode(held), sp.get_piece_size())
        best["bits_per_byte"] = bits / held_bytes
    return best


def hf_bpe(train: list[str], held: list[str], size: int) -> dict[str, Any]:
    from bytepiece_core.peers import train_peers

    start = time.perf_counter()
    peer = train_peers(train, size, kinds=["hf_bpe"])["hf_bpe"]
    seconds = time.perf_counter() - start
    held_bytes = sum(len(t.encode()) for t in held)
    held_ids = [e.ids for e in peer.model.encode_batch(held)]
    train_ids = [e.ids for e in peer.model.encode_batch(train)]
    n_tokens = sum(map(len, held_ids))
    n_ids = peer.model.get_vocab_size()
    return {
        "bytes_per_token": held_bytes / max(n_tokens, 1),
        "bits_per_byte": unigram_bits(train_ids, held_ids, n_ids) / held_bytes,
        "model_bits_per_byte": None,
        "vocab": peer.vocab_size,
        "seconds": seconds,
    }


PEERS = ("bytepiece", "refined", "sp_unigram", "sp_bpe", "hf_bpe")


def cell(
    name: str, n_bytes: int | None, size: int, peers: dict[tuple[str, int, int], Any] | None = None
) -> dict[str, Any]:
    """One cell of the grid. With ``peers`` (result rows of an earlier run, by corpus,
    training bytes and size) only the refined trainer is trained: the others' results for
    the same cell are taken from there."""
    train, held = split(name, n_bytes)
    row: dict[str, Any] = {
        "corpus": name,
        "train_bytes": sum(len(t.encode()) for t in train),
        "size": size,
    }
    if peers is not None:
        known = peers.get((name, row["train_bytes"], size))
        if known is None:
            raise SystemExit(f"--peers-from has no cell {name}, {row['train_bytes']} bytes, {size}")
        row.update({peer: known[peer] for peer in PEERS if peer != "refined"})
        row["refined"] = ours(train, held, size, "refined")
        row["refined_at_sp_ids"] = at_sp_ids(train, held, size, row["sp_unigram"])
        return row
    row["bytepiece"] = ours(train, held, size, "bytepiece")
    row["refined"] = ours(train, held, size, "refined")
    for kind in ("unigram", "bpe"):
        won = WINNERS.get((name, size, kind))
        large = n_bytes is None or n_bytes > 1_000_000
        configs = [won] if large and won is not None else CONFIGS
        result = sentencepiece(train, held, size, kind, configs)
        if result is not None and n_bytes == 1_000_000:
            config = result["config"]
            WINNERS[name, size, kind] = (
                config["split_by_whitespace"],
                config["allow_whitespace_only_pieces"],
            )
        row[f"sp_{kind}"] = result
    row["hf_bpe"] = hf_bpe(train, held, size)
    row["refined_at_sp_ids"] = at_sp_ids(train, held, size, row["sp_unigram"])
    return row


def at_sp_ids(
    train: list[str], held: list[str], size: int, spu: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Where SentencePiece unigram stops short of the size (under 99% of it), the refined
    trainer asked for the ids SentencePiece reached: the like-for-like comparison of bits/byte,
    whose add-one code charges every id of a vocabulary (None elsewhere)."""
    if spu is None or spu["vocab"] >= 0.99 * size:
        return None
    return ours(train, held, spu["vocab"], "refined")


def verdict(row: dict[str, Any]) -> dict[str, Any]:
    """How the refined trainer fares in a cell, against the targets."""
    r = row["refined"]["bytes_per_token"]
    present = [k for k in ("sp_unigram", "sp_bpe", "hf_bpe") if row[k] is not None]
    best_bpe = max(row[k]["bytes_per_token"] for k in ("sp_bpe", "hf_bpe") if k in present)
    peers = [row[k]["bytes_per_token"] for k in present]
    reachable = max(row[k]["vocab"] for k in present)
    target = min(row["size"], reachable)
    spu = row["sp_unigram"]
    sp_bits = spu["bits_per_byte"] if spu is not None else None
    same = row.get("refined_at_sp_ids")
    return {
        "vs_sp_unigram": r / spu["bytes_per_token"] if spu is not None else None,
        "vs_best_bpe": r / best_bpe,
        "vs_reference": r / row["bytepiece"]["bytes_per_token"],
        "ahead_of_all": r > max(peers),
        "reached": row["refined"]["vocab"] >= 0.99 * target,
        "bits_vs_sp_unigram": row["refined"]["bits_per_byte"] / sp_bits if sp_bits else None,
        "bits_vs_sp_unigram_at_its_ids": (
            same["bits_per_byte"] / sp_bits if same is not None and sp_bits else None
        ),
    }


def speed() -> None:
    """Refined on the 21 MB mix at 16000 beside SentencePiece unigram, 2 threads each, in
    subprocesses: wall time and peak RSS."""
    files = [str(SHARED / f"{n}.txt") for n in MIX]
    for impl in ("refined", "sp_unigram"):
        code = (
            f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); t = time.perf_counter()\n"
            + (
                "from pathlib import Path; from bytepiece_core import Trainer\n"
                "tr = Trainer(max_vocab_size=16000, min_count=8, algorithm='refined')\n"
                "tr.train([Path(f) for f in sys.argv[1:]], workers=2)\n"
                if impl == "refined"
                else "import sentencepiece as spm, io\n"
                "spm.SentencePieceTrainer.train(input=','.join(sys.argv[1:]), "
                "model_writer=io.BytesIO(), model_type='unigram', vocab_size=16000, "
                "byte_fallback=True, character_coverage=0.9995, num_threads=2, "
                "max_sentence_length=1 << 16, minloglevel=2)\n"
            )
            + "print(time.perf_counter() - t)"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *files], stdout=subprocess.PIPE, cwd=str(ROOT)
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{impl} failed")
        print(f"{impl:12s} {float(out):8.1f} s  peak RSS {usage.ru_maxrss / 1024:7.1f} MB")


def _show(result: dict[str, Any] | None) -> str:
    if result is None:
        return f"{'cannot train':>17s}"
    return f"{result['bytes_per_token']:6.3f} ({result['vocab']:6d})"


def _ratio(value: float | None) -> str:
    return f"{'-':>10s}" if value is None else f"{value:10.3f}"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table of ``benchmarks/compression_grid.md`` for result rows (``--render``)."""

    def ids(result: dict[str, Any] | None) -> str:
        if result is None:
            return "cannot train"
        return f"{result['bytes_per_token']:.2f} ({result['vocab']:,})"

    def bpt(result: dict[str, Any] | None) -> str:
        return "cannot train" if result is None else f"{result['bytes_per_token']:.2f}"

    lines = [
        "| corpus | training bytes | size | reference (ids) | refined (ids) | SP unigram (ids) "
        "| SP BPE | HF BPE | bits/byte: refined / SP unigram / best BPE |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    seen = set()
    for row in rows:  # a corpus smaller than a training size gives the same cell again: once
        key = (row["corpus"], row["train_bytes"], row["size"])
        if key in seen:
            continue
        seen.add(key)
        spu = row["sp_unigram"]
        bpe = [row[k]["bits_per_byte"] for k in ("sp_bpe", "hf_bpe") if row[k] is not None]
        bits = [
            f"{row['refined']['bits_per_byte']:.3f}",
            "–" if spu is None else f"{spu['bits_per_byte']:.3f}",
            f"{min(bpe):.3f}",
        ]
        lines.append(
            f"| {row['corpus']} | {row['train_bytes']:,} | {row['size']:,} "
            f"| {ids(row['bytepiece'])} | {ids(row['refined'])} | {ids(spu)} "
            f"| {bpt(row['sp_bpe'])} | {bpt(row['hf_bpe'])} | {' / '.join(bits)} |"
        )
    extra = _at_sp_ids_table(rows)
    return "\n".join([*lines, "", *extra] if extra else lines)


def _at_sp_ids_table(rows: list[dict[str, Any]]) -> list[str]:
    """The cells where SentencePiece unigram stops short of the size, with the refined
    trainer asked for the ids SentencePiece reached (``refined_at_sp_ids``); the sizes that
    gave SentencePiece the same vocabulary share a line."""
    sizes: dict[tuple[str, int, int], list[int]] = {}
    found: dict[tuple[str, int, int], tuple[dict[str, Any], dict[str, Any]]] = {}
    for row in rows:
        same, spu = row.get("refined_at_sp_ids"), row["sp_unigram"]
        if same is None:
            continue
        key = (row["corpus"], row["train_bytes"], spu["vocab"])
        if row["size"] not in sizes.setdefault(key, []):
            sizes[key].append(row["size"])
        found[key] = (same, spu)
    lines = [
        "| corpus | training bytes | sizes asked | SP unigram ids | bytes/token: refined at "
        "those ids / SP unigram | bits/byte: refined at those ids / SP unigram |",
        "|---|---:|---:|---:|---|---|",
    ]
    for (corpus, n_bytes, n_ids), (same, spu) in found.items():
        asked = ", ".join(f"{s:,}" for s in sizes[corpus, n_bytes, n_ids])
        lines.append(
            f"| {corpus} | {n_bytes:,} | {asked} | {n_ids:,} "
            f"| {same['bytes_per_token']:.2f} / {spu['bytes_per_token']:.2f} "
            f"| {same['bits_per_byte']:.3f} / {spu['bits_per_byte']:.3f} |"
        )
    return lines if found else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", nargs="+", default=[*CORPORA, "mix"])
    parser.add_argument("--train", nargs="+", default=list(TRAIN_SIZES), choices=TRAIN_SIZES)
    parser.add_argument("--sizes", nargs="+", type=int, default=SIZES)
    parser.add_argument("--speed", action="store_true", help="only the 21 MB speed and memory")
    parser.add_argument(
        "--render", type=Path, help="print a results file as the markdown table, and stop"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "bench_compression.json", help="results file"
    )
    parser.add_argument(
        "--peers-from",
        type=Path,
        help="train only the refined trainer; the reference's and the peers' results come from "
        "this results file of an earlier run (the same corpora, cells and peer versions: they "
        "are deterministic), so a change to the refined trainer is measured in minutes",
    )
    args = parser.parse_args()
    if args.render:
        print(markdown(json.loads(args.render.read_text())))
        return
    if args.speed:
        speed()
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    peers = None
    if args.peers_from:
        earlier = json.loads(args.peers_from.read_text())
        peers = {(r["corpus"], r["train_bytes"], r["size"]): r for r in earlier}
    rows = []
    print(
        f"{'corpus':15s} {'train':>9s} {'size':>6s} | "
        + " | ".join(f"{p:>17s}" for p in PEERS)
        + " | refined/spu refined/bpe bits/spu"
    )
    for train_name in args.train:  # the smaller cells first (and 1 MB before the larger)
        for name in args.corpora:
            for size in args.sizes:
                row = cell(name, TRAIN_SIZES[train_name], size, peers)
                row["verdict"] = verdict(row)
                rows.append(row)
                v = row["verdict"]
                print(
                    f"{name:15s} {row['train_bytes']:9d} {size:6d} | "
                    + " | ".join(_show(row[p]) for p in PEERS)
                    + f" | {_ratio(v['vs_sp_unigram'])} {_ratio(v['vs_best_bpe'])}"
                    + f" {_ratio(v['bits_vs_sp_unigram'])}",
                    flush=True,
                )
                args.out.write_text(json.dumps(rows, indent=1))
    verdicts = [r["verdict"] for r in rows]
    spu = sum(v["vs_sp_unigram"] is None or v["vs_sp_unigram"] >= 1 for v in verdicts)
    bpe = sum(v["vs_best_bpe"] >= 0.97 for v in verdicts)
    ahead = sum(v["ahead_of_all"] for v in verdicts)
    ref = sum(v["vs_reference"] >= 1 for v in verdicts)
    reached = sum(v["reached"] for v in verdicts)
    bits = [v["bits_vs_sp_unigram"] for v in verdicts if v["bits_vs_sp_unigram"] is not None]
    print(
        f"cells: {len(rows)}; refined >= SP unigram in {spu}, >= 0.97 x best BPE in {bpe}, "
        f"ahead of every peer in {ahead}, >= the reference in {ref}, size reached in {reached}; "
        f"bits/byte <= SP unigram's in {sum(b <= 1 for b in bits)} of {len(bits)}"
    )
    same = [v["bits_vs_sp_unigram_at_its_ids"] for v in verdicts]
    same = [b for b in same if b is not None]
    print(
        f"cells where SP unigram stops short of the size: {len(same)}; trained at the ids it "
        f"reached, refined bits/byte <= SP unigram's in {sum(b <= 1 for b in same)}"
    )


if __name__ == "__main__":
    main()
