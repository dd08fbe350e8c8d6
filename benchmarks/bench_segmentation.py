"""Segmentation throughput: the project's segmenter (rjieba, token-identical) against pure jieba.

Builds a scaled corpus by recombining the real corpus sentences (fixed seed), cuts every sentence
with both backends in the same process, checks the tokens are identical, and prints characters per
second.

    .venv/bin/python benchmarks/bench_segmentation.py [--chars 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import time

import pandas as pd

from helpers import tokens
from helpers.cleanup import corpus_clean


def scaled_sentences(n_chars: int, seed: int) -> list[str]:
    """Return real corpus sentences drawn with replacement (seeded) until ``n_chars`` characters."""
    units = corpus_clean().sentences
    pool = units.loc[units["kind"] == "text", "text"].tolist()
    rng = random.Random(seed)
    out, total = [], 0
    while total < n_chars:
        s = rng.choice(pool)
        out.append(s)
        total += len(s)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--chars", type=int, default=1_000_000, help="size of the scaled corpus in characters"
    )
    ap.add_argument("--seed", type=int, default=1, help="seed for drawing sentences")
    args = ap.parse_args()
    sents = scaled_sentences(args.chars, args.seed)
    n = sum(map(len, sents))
    fast = tokens.segmenter_make(backend="auto")
    ref = tokens.segmenter_make(backend="jieba")
    ref.cut("预热")
    fast.cut("预热")
    rows = []
    results = {}
    for name, seg in (("jieba (reference)", ref), (f"project segmenter ({fast.backend})", fast)):
        t0 = time.perf_counter()
        results[name] = [seg.cut(s) for s in sents]
        dt = time.perf_counter() - t0
        rows.append(
            {
                "backend": name,
                "sentences": len(sents),
                "chars": n,
                "seconds": round(dt, 3),
                "M chars/s": round(n / dt / 1e6, 3),
            }
        )
    a, b = results.values()
    same = sum(x == y for x, y in zip(a, b))
    table = pd.DataFrame(rows)
    table["speed-up"] = (table["seconds"].iloc[0] / table["seconds"]).round(1)
    print(table.to_string(index=False))
    print(f"identical tokens: {same}/{len(sents)} sentences")
    if same != len(sents):
        raise SystemExit("tokens differ from jieba")


if __name__ == "__main__":
    main()
