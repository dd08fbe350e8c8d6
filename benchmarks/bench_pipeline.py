"""Benchmark of the per-document stages on a scaled corpus, against a naive baseline.

Builds a corpus of N documents (default 1,000, about 4 million characters) by recombining the real
paragraphs and headings of the two corpus documents around their real header and trailer blocks
(fixed seed; every fifth document saved as GB18030), then runs the per-document stages in two
passes, as the notebooks do (cleanup writes its units; the later stages read them):

    pass 1: reading + cleanup            (raw file → cleaned sentence units, written per document)
    pass 2: segmentation → coding → statistics   (per document; only per-document counts are kept)

Each pass streams one document at a time, so memory stays flat. Engines: ``serial`` (one process)
or ``dask`` (a 2-worker LocalCluster, started and warmed before the clock starts: its start-up is
printed on its own line). It prints, per stage, seconds, characters per second and peak memory, next
to a naive baseline run in the same process on the same sentences: plain ``jieba.lcut`` over every
sentence, and a Python loop testing each codebook keyword with ``in``.

    .venv/bin/python benchmarks/bench_pipeline.py [--docs 1000] [--engine serial|dask|both] \
        [--seed 7] [--units]

After each pass it prints the peak memory of each Dask worker (``VmHWM``, via
``helpers.parallel.peak_rss_mb``) or of the serial process. ``--units`` also segments and codes one
units table of every document as notebooks 02 and 03 do, with ``helpers.parallel``'s
``documents_segment`` and ``documents_code``, serially and on the same workers, checks that the
engines give the same tables and prints seconds and memory per worker.
"""

from __future__ import annotations

import argparse
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from itertools import chain
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.cleanup import document_clean, documents_clean
from helpers.codebook import codebook_read
from helpers.coding import matcher_make, texts_code
from helpers.corpus import corpus_read_table, document_read
from helpers.parallel import (
    documents_code,
    documents_map,
    documents_segment,
    peak_rss_mb,
    process_segmenter,
    process_state,
)
from helpers.tokens import segmenter_make, stopwords_read, texts_cut

TITLES = {
    "opinion2021": "关于深化新发展阶段闽宁协作工作的意见",
    "report2024": "深化和拓展闽宁协作模式的路径研究",
}


def corpus_build(n_docs: int, out_dir: Path, seed: int) -> list[tuple[str, Path, str]]:
    """Write ``n_docs`` recombined documents into ``out_dir``; return (doc_id, path, title)."""
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
        pieces[doc_id] = (
            "\n".join(lines[:head_end]),
            "\n".join(lines[tail_start - 1 :]),
            [
                u["text"]
                for u in doc.unit_rows
                if u["level"] == "paragraph" and u["kind"] != "title"
            ],
        )
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


def _tools() -> tuple:
    return segmenter_make(), matcher_make(codebook_read()), frozenset(stopwords_read()["word"])


def _state() -> tuple:
    """Per-process tools (built once per worker): segmenter, compiled codebook, stopwords."""
    return process_state("bench_pipeline", _tools)


def _warm() -> None:
    _state()


def _warm_units() -> None:
    """Build the segmenter of ``helpers.parallel`` in this worker (returns nothing to ship back)."""
    process_segmenter(None, "auto")


def document_clean_units(item: tuple[str, Path, str, Path]) -> dict:
    """Pass 1: read and clean one raw document, write its sentence units; return timing and size."""
    doc_id, path, title, out_dir = item
    t0 = time.perf_counter()
    raw = document_read(path, doc_id=doc_id)
    doc = document_clean(raw.text, doc_id, title=title)
    sentences = [u for u in doc.unit_rows if u["level"] == "sentence"]
    units = ([u["text"] for u in sentences], [u["heading_path"] for u in sentences])
    (out_dir / f"{doc_id}.pkl").write_bytes(pickle.dumps(units, protocol=pickle.HIGHEST_PROTOCOL))
    return {
        "chars": len(raw.text),
        "sentences": len(sentences),
        "cleanup": time.perf_counter() - t0,
    }


def document_analyse(path: Path) -> dict:
    """Pass 2: segment, code and count one document's units; return timings and counts only."""
    seg, matcher, stop = _state()
    t0 = time.perf_counter()
    texts, headings = pickle.loads(path.read_bytes())
    token_lists = texts_cut(texts, seg)
    t1 = time.perf_counter()
    evidence = texts_code(texts, matcher, token_lists=token_lists, headings=headings)
    t2 = time.perf_counter()
    counts = Counter(chain.from_iterable(token_lists))
    words = Counter(
        {t: n for t, n in counts.items() if len(t) > 1 and t not in stop and not t.isspace()}
    )
    coded = Counter(code for code, _ in {(r[1], r[0]) for r in evidence})
    t3 = time.perf_counter()
    return {
        "tokens": sum(counts.values()),
        "segmentation": t1 - t0,
        "coding": t2 - t1,
        "statistics": t3 - t2,
        "coded": coded,
        "top_words": words.most_common(10),
    }


def run(docs: list, engine: str, address: str | None = None, memory=None) -> dict:
    """Run both passes; return summed stage seconds, counts and each pass's wall time.

    ``memory()`` (if given) is called after each pass and its answer kept as ``memory_pass1`` and
    ``memory_pass2``: on Dask, the peak resident MB of each worker.
    """
    # tool start-up is not a per-document cost (dask: the workers were warmed the same way)
    _state()
    opts = {"engine": engine, "address": address, "chunksize": 100}
    with tempfile.TemporaryDirectory(dir=docs[0][1].parent) as clean_dir:
        t0 = time.perf_counter()
        cleaned = documents_map(document_clean_units, [(*d, Path(clean_dir)) for d in docs], **opts)
        t1 = time.perf_counter()
        mem1 = memory() if memory else None
        analysed = documents_map(
            document_analyse, [Path(clean_dir) / f"{d[0]}.pkl" for d in docs], **opts
        )
        t2 = time.perf_counter()
        mem2 = memory() if memory else None
    total = {k: sum(r[k] for r in cleaned) for k in ("chars", "sentences", "cleanup")}
    total |= {
        k: sum(r[k] for r in analysed) for k in ("tokens", "segmentation", "coding", "statistics")
    }
    total["coded"] = sum((r["coded"] for r in analysed), Counter())
    total["wall_pass1"], total["wall_pass2"] = t1 - t0, t2 - t1
    total["memory_pass1"], total["memory_pass2"] = mem1, mem2
    return total


def units_table(docs: list) -> pd.DataFrame:
    """The sentence units of ``docs`` as notebook 01 writes them (one table, every document)."""
    items = [
        (doc_id, document_read(path, doc_id=doc_id).text, title) for doc_id, path, title in docs
    ]
    units = documents_clean(items).units
    return units[units["level"] == "sentence"].reset_index(drop=True)


def run_units(units: pd.DataFrame, engine: str, workers: int, address: str | None) -> dict:
    """Segment and code the units table as notebooks 02 and 03 do, with :mod:`helpers.parallel`
    (``documents_segment``, then ``documents_code``, which segments again for word boundaries);
    no segmentation cache, so both engines do all the work. Returns seconds and the results."""
    opts = {"engine": engine, "n_workers": workers, "address": address, "cache_dir": None}
    book = codebook_read()
    process_segmenter(None, "auto")  # built once per process, not counted (the workers: warmed)
    t0 = time.perf_counter()
    toks = documents_segment(units, **opts)
    t1 = time.perf_counter()
    result = documents_code(units, book, **opts)
    t2 = time.perf_counter()
    return {"segment": t1 - t0, "code": t2 - t1, "tokens": toks, "result": result}


def baseline(docs: list) -> dict:
    """Naive baseline on these sentences: jieba.lcut per sentence, each keyword tested by ``in``."""
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
    code = (
        f"import sys; sys.argv=['x','--docs','{n_docs}','--seed','{seed}','--only-stream']; "
        "import runpy; runpy.run_path(r'" + __file__ + "', run_name='__main__')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def report(total: dict, engine: str, n_workers: int) -> pd.DataFrame:
    """Per-stage seconds and characters per second of one run.

    Serial: each stage's own time. Dask: the stage's seconds summed over the workers, divided by the
    number of workers (the time it kept each core busy); the pass lines are wall clock.
    """
    n, share = total["chars"], 1 if engine == "serial" else n_workers
    rows = []
    for s, name in (
        ("cleanup", "reading + cleanup"),
        ("segmentation", "segmentation"),
        ("coding", "coding"),
        ("statistics", "statistics"),
    ):
        rows.append({"stage": name, "seconds": total[s] / share})
    rows.append({"stage": "pass 1 wall clock (reading + cleanup)", "seconds": total["wall_pass1"]})
    rows.append(
        {
            "stage": "pass 2 wall clock (segmentation + coding + statistics)",
            "seconds": total["wall_pass2"],
        }
    )
    three = total["cleanup"] + total["segmentation"] + total["coding"]
    rows.append(
        {
            "stage": "cleanup + segmentation + coding"
            + ("" if engine == "serial" else " (per core)"),
            "seconds": three / share,
        }
    )
    table = pd.DataFrame(rows)
    table["M chars/s"] = (n / table["seconds"] / 1e6).round(2)
    table["seconds"] = table["seconds"].round(3)
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--docs", type=int, default=1000, help="number of documents (default 1000, ~4 M characters)"
    )
    ap.add_argument(
        "--engine",
        choices=("serial", "dask", "both"),
        default="both",
        help="how to run the per-document stages (default: both, one after the other)",
    )
    ap.add_argument(
        "--workers", type=int, default=2, help="Dask workers (default 2, one per core here)"
    )
    ap.add_argument("--seed", type=int, default=7, help="seed for recombining paragraphs")
    ap.add_argument("--only-stream", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-memory", action="store_true", help="skip the memory-scaling runs")
    ap.add_argument(
        "--units",
        action="store_true",
        help="also segment and code one units table as notebooks 02 and 03 do (helpers.parallel)",
    )
    args = ap.parse_args()
    engines = ["serial", "dask"] if args.engine == "both" else [args.engine]
    with tempfile.TemporaryDirectory(dir=paths.CACHE if paths.CACHE.exists() else None) as tmp:
        docs = corpus_build(args.docs, Path(tmp), args.seed)
        if args.only_stream:
            run(docs, "serial")
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            return
        results, units_runs = {}, {}
        units = units_table(docs) if args.units else None
        for engine in engines:
            if engine == "serial":
                results[engine] = run(
                    docs, "serial", memory=lambda: {"this process": peak_rss_mb()}
                )
                if args.units:
                    units_runs["serial"] = run_units(units, "serial", 1, None)
                    units_runs["serial"]["memory"] = {"this process": peak_rss_mb()}
                continue
            from distributed import Client, LocalCluster

            t0 = time.perf_counter()
            with (
                LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                    local_directory=str(paths.CACHE / "dask"),
                ) as cluster,
                Client(cluster) as client,
            ):
                client.run(_warm)
                startup = time.perf_counter() - t0
                results[engine] = run(
                    docs,
                    "dask",
                    address=cluster.scheduler_address,
                    memory=lambda: client.run(peak_rss_mb),
                )
                results[engine]["startup"] = startup
                if args.units:
                    client.run(_warm_units)
                    units_runs["dask"] = run_units(
                        units, "dask", args.workers, cluster.scheduler_address
                    )
                    units_runs["dask"]["memory"] = client.run(peak_rss_mb)
        base = baseline(docs)
    any_run = next(iter(results.values()))
    print(
        f"{args.docs} documents, {any_run['chars']:,} characters, "
        f"{any_run['sentences']:,} sentences, "
        f"{any_run['tokens']:,} tokens"
    )
    naive = base["segmentation"] + base["coding"]
    print("\nnaive baseline (one process, same sentences):")
    print(
        pd.DataFrame(
            [
                {
                    "stage": "jieba.lcut per sentence",
                    "seconds": round(base["segmentation"], 3),
                    "M chars/s": round(base["chars"] / base["segmentation"] / 1e6, 2),
                },
                {
                    "stage": "keyword `in` loop",
                    "seconds": round(base["coding"], 3),
                    "M chars/s": round(base["chars"] / base["coding"] / 1e6, 2),
                },
                {
                    "stage": "segmentation + coding",
                    "seconds": round(naive, 3),
                    "M chars/s": round(base["chars"] / naive / 1e6, 2),
                },
            ]
        ).to_string(index=False)
    )
    for engine, total in results.items():
        label = (
            engine
            if engine == "serial"
            else f"dask, {args.workers} workers (start-up {total['startup']:.1f} s, not counted)"
        )
        print(f"\n{label}:")
        print(report(total, engine, args.workers).to_string(index=False))
        for n in (1, 2):
            print(f"peak memory after pass {n} (MB): {_memory_line(total[f'memory_pass{n}'])}")
        share = 1 if engine == "serial" else args.workers
        seg_code = (total["segmentation"] + total["coding"]) / share
        print(
            f"segmentation + coding: {seg_code:.3f} s"
            f"{'' if engine == 'serial' else ' per core'} vs naive "
            f"{naive:.3f} s → {naive / seg_code:.1f}x; pass 2 wall clock (with statistics): "
            f"{total['wall_pass2']:.3f} s → {naive / total['wall_pass2']:.1f}x"
        )
    codes = {e: dict(sorted(t["coded"].items())) for e, t in results.items()}
    print("\nunits coded:", next(iter(codes.values())))
    if len(codes) > 1 and len({repr(c) for c in codes.values()}) > 1:
        raise SystemExit("the engines coded different units: " + repr(codes))
    if units_runs:
        units_report(units, units_runs)
    if not args.no_memory:
        mem = {k: peak_memory_mb(k, args.seed) for k in (args.docs // 4, args.docs // 2, args.docs)}
        print(
            "peak memory (MB) by number of documents, streamed serially:",
            ", ".join(f"{k}: {v:.0f}" for k, v in mem.items()),
        )


def _memory_line(memory: dict | None) -> str:
    if not memory:
        return "not measured"
    return ", ".join(f"{k}: {v:.0f}" for k, v in sorted(memory.items()))


def units_report(units: pd.DataFrame, runs: dict) -> None:
    """Print the units-table stages per engine and check that the engines agree."""
    n = int(units["text"].str.len().sum())
    print(f"\nunits table as notebooks 02 and 03 ({len(units):,} sentences, {n:,} characters):")
    for engine, r in runs.items():
        print(
            f"{engine}: documents_segment {r['segment']:.2f} s, documents_code {r['code']:.2f} s "
            f"(wall clock); peak memory (MB) {_memory_line(r['memory'])}"
        )
    if len(runs) > 1:
        a, b = runs["serial"], runs["dask"]
        pd.testing.assert_frame_equal(a["tokens"], b["tokens"])
        pd.testing.assert_frame_equal(a["result"].evidence, b["result"].evidence)
        pd.testing.assert_frame_equal(a["result"].wide, b["result"].wide)
        print("serial and dask: the same tokens, evidence and unit × code table")


if __name__ == "__main__":
    main()
