"""Benchmark of the per-document stages on a scaled corpus, against a naive baseline.

Builds a corpus of N documents (default 1,000, about 4 million characters) by recombining the real
paragraphs and headings of the two corpus documents around their real header and trailer blocks
(fixed seed; every fifth document saved as GB18030), then streams every document through

    reading + cleanup → segmentation → coding → statistics

one document at a time (memory stays flat: only per-document counts are kept), serially or on a local
Dask cluster (``--engine dask``). It prints, per stage, seconds, characters per second and peak
memory, next to a naive baseline run in the same process on the same sentences: plain ``jieba.lcut``
over every sentence, and a Python loop testing each codebook keyword with ``in``.

    .venv/bin/python benchmarks/bench_pipeline.py [--docs 1000] [--engine serial|dask] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.cleanup import document_clean, text_simplify_aligned
from helpers.codebook import codebook_read
from helpers.coding import matcher_make, texts_code
from helpers.corpus import corpus_read_table, document_read
from helpers.parallel import documents_map
from helpers.tokens import segmenter_make, stopwords_read

TITLES = {"opinion2021": "关于深化新发展阶段闽宁协作工作的意见", "report2024": "深化和拓展闽宁协作模式的路径研究"}


def corpus_build(n_docs: int, out_dir: Path, seed: int) -> list[tuple[str, Path, str]]:
    """Write ``n_docs`` recombined documents into ``out_dir``; return (doc_id, path, title) triples."""
    table = corpus_read_table()
    raws = {r.doc_id: (paths.RAW / r.file).read_text(encoding="utf-8") for r in table.itertuples()}
    rng = random.Random(seed)
    pieces = {}
    for doc_id, raw in raws.items():
        doc = document_clean(raw, doc_id, title=TITLES[doc_id])
        lines = raw.split("\n")
        audit = doc.audit
        head_end = int(audit.loc[audit["part"] == "header", "line"].max())
        tail_start = int(audit.loc[audit["part"] == "trailer", "line"].min())
        pieces[doc_id] = ("\n".join(lines[:head_end]), "\n".join(lines[tail_start - 1 :]),
                          [u["text"] for u in doc.unit_rows if u["level"] == "paragraph" and u["kind"] != "title"])
    docs = []
    for i in range(n_docs):
        src = rng.choice(sorted(pieces))
        header, trailer, paras = pieces[src]
        body = [rng.choice(paras) for _ in range(len(paras))]
        text = header + "\n\n" + "\n\n".join(body) + "\n\n" + trailer + "\n"
        path = out_dir / f"doc{i:05d}.txt"
        path.write_bytes(text.encode("gb18030" if i % 5 == 4 else "utf-8"))
        docs.append((f"doc{i:05d}", path, TITLES[src]))
    return docs


@lru_cache(maxsize=1)
def _state():
    """Per-process tools (built once per worker): segmenter, compiled codebook, stopwords."""
    seg = segmenter_make()
    return seg, matcher_make(codebook_read()), frozenset(stopwords_read()["word"])


def document_run(item: tuple[str, Path, str]) -> dict:
    """Run one document through every stage; return its timings and counts (nothing else is kept)."""
    doc_id, path, title = item
    seg, matcher, stop = _state()
    t0 = time.perf_counter()
    raw = document_read(path, doc_id=doc_id)
    doc = document_clean(raw.text, doc_id, title=title)
    sentences = [u for u in doc.unit_rows if u["level"] == "sentence"]
    texts = [u["text"] for u in sentences]
    t1 = time.perf_counter()
    token_lists = [seg.cut(text_simplify_aligned(t)) for t in texts]
    t2 = time.perf_counter()
    evidence = texts_code(texts, matcher, token_lists=token_lists, headings=[u["heading_path"] for u in sentences])
    t3 = time.perf_counter()
    words = Counter(t for toks in token_lists for t in toks if len(t) > 1 and t not in stop and not t.isspace())
    coded = Counter(code for code, _ in {(r[1], r[0]) for r in evidence})
    t4 = time.perf_counter()
    return {"chars": len(raw.text), "sentences": len(texts), "tokens": sum(map(len, token_lists)),
            "cleanup": t1 - t0, "segmentation": t2 - t1, "coding": t3 - t2, "statistics": t4 - t3,
            "coded": coded, "words": words}


def run(docs: list, engine: str) -> tuple[dict, float]:
    """Stream the documents through the stages; return summed stage times and counts, and wall time."""
    start = time.perf_counter()
    if engine == "serial":
        _state()  # tool start-up is not a per-document cost
        start = time.perf_counter()
    results = documents_map(document_run, docs, engine=engine)
    wall = time.perf_counter() - start
    total = {k: sum(r[k] for r in results) for k in ("chars", "sentences", "tokens", "cleanup", "segmentation",
                                                     "coding", "statistics")}
    total["coded"] = sum((r["coded"] for r in results), Counter())
    return total, wall


def baseline(docs: list) -> dict:
    """Naive baseline on the same sentences: jieba.lcut per sentence; each keyword tested with ``in``."""
    import jieba

    sentences = []
    for doc_id, path, title in docs:
        doc = document_clean(document_read(path).text, doc_id, title=title)
        sentences += [u["text"] for u in doc.unit_rows if u["level"] == "sentence"]
    keywords = sorted({k for c in codebook_read().codes for k in c.keywords})
    jieba.setLogLevel(60)
    jieba.lcut("预热")
    t0 = time.perf_counter()
    for s in sentences:
        jieba.lcut(s)
    t1 = time.perf_counter()
    hits = 0
    for s in sentences:
        for k in keywords:
            if k in s:
                hits += 1
    t2 = time.perf_counter()
    return {"chars": sum(map(len, sentences)), "segmentation": t1 - t0, "coding": t2 - t1}


def peak_memory_mb(n_docs: int, seed: int) -> float:
    """Peak resident memory (MB) of a fresh process streaming ``n_docs`` documents serially."""
    code = (f"import sys; sys.argv=['x','--docs','{n_docs}','--seed','{seed}','--only-stream']; "
            "import runpy; runpy.run_path(r'" + __file__ + "', run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1000, help="number of documents (default 1000, ~4 M characters)")
    ap.add_argument("--engine", choices=("serial", "dask"), default="serial", help="how to run the per-document stages")
    ap.add_argument("--seed", type=int, default=7, help="seed for recombining paragraphs")
    ap.add_argument("--only-stream", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-memory", action="store_true", help="skip the memory-scaling runs")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=paths.CACHE if paths.CACHE.exists() else None) as tmp:
        docs = corpus_build(args.docs, Path(tmp), args.seed)
        if args.only_stream:
            run(docs, "serial")
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            return
        total, wall = run(docs, args.engine)
        base = baseline(docs)
    n = total["chars"]
    stages = ["cleanup", "segmentation", "coding", "statistics"]
    rows = [{"stage": f"{s} ({'reading + cleanup' if s == 'cleanup' else s})" if s == "cleanup" else s,
             "seconds": round(total[s], 3), "M chars/s": round(n / total[s] / 1e6, 2)} for s in stages]
    three = total["cleanup"] + total["segmentation"] + total["coding"]
    rows.append({"stage": "cleanup + segmentation + coding", "seconds": round(three, 3),
                 "M chars/s": round(n / three / 1e6, 2)})
    rows.append({"stage": f"wall clock, all stages ({args.engine})", "seconds": round(wall, 3),
                 "M chars/s": round(n / wall / 1e6, 2)})
    rows.append({"stage": "naive: jieba.lcut per sentence", "seconds": round(base["segmentation"], 3),
                 "M chars/s": round(base["chars"] / base["segmentation"] / 1e6, 2)})
    rows.append({"stage": "naive: keyword `in` loop", "seconds": round(base["coding"], 3),
                 "M chars/s": round(base["chars"] / base["coding"] / 1e6, 2)})
    table = pd.DataFrame(rows)
    print(f"{args.docs} documents, {n:,} characters, {total['sentences']:,} sentences, {total['tokens']:,} tokens")
    print(table.to_string(index=False))
    naive = base["segmentation"] + base["coding"]
    print(f"segmentation + coding: {total['segmentation'] + total['coding']:.2f} s vs naive {naive:.2f} s "
          f"({naive / (total['segmentation'] + total['coding']):.1f}x)")
    print("units coded:", dict(sorted(total["coded"].items())))
    if not args.no_memory:
        mem = {k: peak_memory_mb(k, args.seed) for k in (args.docs // 4, args.docs // 2, args.docs)}
        print("peak memory (MB) by number of documents, streamed serially:",
              ", ".join(f"{k}: {v:.0f}" for k, v in mem.items()))


if __name__ == "__main__":
    main()
