"""Word discovery against the gold segmentation of People's Daily 1998-01.

Trains on the raw paragraphs of ``zh_pd199801.txt`` and scores, against the gold words of
``zh_pd199801.gold.txt``: (a) the n-gram-model segmentation (the trainer's stage 3) and
(b) the final tokenizer at several vocabulary sizes, trained by each algorithm (``bytepiece``
and ``refined``). Prints a markdown table.

    python benchmarks/word_discovery.py [--shared ../shared] [--sizes 5000 10000 20000 40000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bytepiece_core.analysis import ngram_model, vocab_sweep
from bytepiece_core.metrics import read_gold, score_segmentation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000, 40000])
    parser.add_argument("--order", type=int, default=6)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument(
        "--score-lines", type=int, default=5000, help="gold paragraphs scored (the first N)"
    )
    args = parser.parse_args()
    corpora = Path(args.shared) / "corpora"
    docs = (corpora / "zh_pd199801.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    gold = read_gold(corpora / "zh_pd199801.gold.txt", limit=args.score_lines)
    texts = ["".join(words) for words in gold]

    rows = []
    t = time.perf_counter()
    lm = ngram_model(docs, order=args.order, min_count=args.min_count)
    pred = [lm.segment(text) for text in texts]
    s = score_segmentation(pred, gold)
    rows.append(("n-gram model (stage 3)", "-", s, time.perf_counter() - t))
    for algorithm in ("bytepiece", "refined"):
        t = time.perf_counter()
        sweep = vocab_sweep(
            docs, args.sizes, order=args.order, min_count=args.min_count, algorithm=algorithm
        )
        seconds = time.perf_counter() - t
        for size in sorted(sweep.tokenizers):
            tok = sweep.tokenizers[size]
            s = score_segmentation([tok.tokenize(text) for text in texts], gold)
            rows.append((f"tokenizer, {algorithm}", str(tok.vocab_size), s, seconds))

    print(
        f"People's Daily 1998-01, trained on all {len(docs)} paragraphs, "
        f"scored on the first {len(gold)}; order {args.order}, min_count {args.min_count}\n"
    )
    print(
        "| segmentation | vocab | boundary P | boundary R | boundary F1 "
        "| word P | word R | word F1 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, vocab, s, _ in rows:
        print(
            f"| {name} | {vocab} | {s.boundary_precision:.3f} | {s.boundary_recall:.3f} | "
            f"{s.boundary_f1:.3f} | {s.word_precision:.3f} | {s.word_recall:.3f} | "
            f"{s.word_f1:.3f} |"
        )


if __name__ == "__main__":
    main()
