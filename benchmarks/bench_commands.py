"""What users run, timed side by side: the two commands, the in-process stages, the floor.

Builds the recombined corpus of ``bench_pipeline.py`` (N documents, default 1,000, seed 7), then
times, in this order and on the same machine in the same run:

- the **floor**: rjieba segmentation alone (``rjieba.Jieba().cut`` per sentence) and one
  pyahocorasick automaton pass alone (every keyword and term word, over the joined sentences);
  beside it, the pass that replaced it in the engine (one numpy trie walk that finds the words and
  every literal the patterns need);
- the **in-process stages** of ``helpers code``: segmentation (``tokens.texts_cut``), coding
  (``coding.units_code`` with those tokens) and the coded table with its evidence column;
  segmentation + coding as the command runs them (``units_code`` with the segmenter, which cuts
  the joined texts in one call; its evidence must equal the other's); and the same on the forked
  workers ``--jobs auto`` starts for this many units (blocks of whole documents; its evidence
  must equal the serial one);
- the **naive baseline**: ``jieba.lcut`` per sentence, then each codebook keyword tested with
  ``in`` per sentence, in one process;
- **cntext 2.2.1**'s dictionary count (``cntext.sentiment(text, diction)``, the codebook's
  keywords as its dictionary, one call per document). cntext pins numpy < 2 and pandas < 3, so it
  cannot share the project's environment: it runs in its own virtual environment
  (``--cntext-python``, default ``.cache/bench-cntext/bin/python``), which the benchmark creates
  with pip when it is missing (``cntext==2.2.1`` and ``ipython``, which cntext imports without
  declaring it). If that fails, the benchmark says so and skips cntext;
- the **two commands end to end**, each as a subprocess, process start to file written, on one
  process (``--jobs 1``) and as they run by default (``--jobs auto``): ``python -m helpers clean
  DOCS --out units.csv`` and ``python -m helpers code units.csv --out coded.csv`` (the two coded
  files must be byte-identical).

Every stage runs ``--repeat`` times (default 3) and its fastest run counts, as ``timeit`` advises:
on a shared machine the slower runs measure the other jobs too.

It checks that the ``evidence`` column written by ``helpers code`` equals the one built row by
row by the old implementation, and prints seconds (wall clock), CPU seconds, M chars/s, the
distance from the floor and the ratios of the targets (issue #17).

    .venv/bin/python benchmarks/bench_commands.py [--docs 1000] [--seed 7] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_pipeline import corpus_build

from helpers import parallel, paths
from helpers.cli import CODE_JOBS_MIN
from helpers.codebook import codebook_read
from helpers.coding import matcher_make, units_code
from helpers.coding_search import _code_points
from helpers.coding_tables import coding_table, units_csv_read
from helpers.tokens import segmenter_make, texts_cut

CNTEXT_VENV = paths.CACHE / "bench-cntext"
CNTEXT = "cntext 2.2.1: sentiment(text, diction)"
SERIAL = "in-process: segmentation + coding as `helpers code` runs them"
POOLED = "in-process: the same on {jobs} forked workers (--jobs auto)"

CNTEXT_SCRIPT = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import cntext as ct
docs = json.load(open(sys.argv[1], encoding="utf-8"))
diction = json.load(open(sys.argv[2], encoding="utf-8"))
ct.sentiment(docs[0], diction)  # warm-up: jieba's dictionary
best = None
for _ in range(int(sys.argv[3])):
    t0, c0 = time.perf_counter(), time.process_time()
    for d in docs:
        ct.sentiment(d, diction)
    run = (time.perf_counter() - t0, time.process_time() - c0)
    best = run if best is None or run[0] < best[0] else best
print(json.dumps({"wall": best[0], "cpu": best[1],
                  "version": getattr(ct, "__version__", "2.2.1")}))
"""


def _automaton(words: list[str]):
    """A pyahocorasick automaton of ``words`` (the floor: what one automaton pass costs)."""
    import ahocorasick

    a = ahocorasick.Automaton()
    for i, w in enumerate(words):
        a.add_word(w, i)
    a.make_automaton()
    return a


def _timed(fn, repeat: int = 1):
    """Run ``fn`` ``repeat`` times; return (result, wall seconds, CPU seconds of this process) of
    the fastest run (wall clock), as ``timeit`` advises: the others measure other jobs too."""
    best = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        run = (out, time.perf_counter() - t0, time.process_time() - c0)
        best = run if best is None or run[1] < best[1] else best
    return best


def _block_evidence(block: pd.DataFrame) -> pd.DataFrame | int:
    """The evidence of one block of units, coded as ``helpers code`` codes it (in a forked worker
    of :func:`helpers.parallel.fork_map`, with the parent's codebook and segmenter); timed, only
    its number of rows (the command's workers send CSV text back, not the evidence table)."""
    book, seg, whole = parallel.FORK_STATE["bench"]
    evidence = units_code(block, book, seg).evidence
    return evidence if whole else len(evidence)


def _command(args: list[str], cwd: Path, repeat: int = 1) -> tuple[float, float]:
    """Run ``python -m helpers ARGS`` as a subprocess ``repeat`` times; return (wall, CPU) seconds,
    process start to exit, of the fastest run (CPU: the process and its workers)."""
    best = None
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "helpers", *args], cwd=cwd, capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"helpers {args[0]} failed:\n{proc.stderr}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = (wall, cpu) if best is None or wall < best[0] else best
    return best


def cntext_python(path: Path | None) -> tuple[Path | None, str]:
    """Return a Python with cntext 2.2.1 (creating the venv if needed), or None and why not."""
    py = path or CNTEXT_VENV / "bin" / "python"
    ok = (
        py.exists()
        and subprocess.run([str(py), "-c", "import cntext"], capture_output=True).returncode == 0
    )
    if ok:
        return py, ""
    if path is not None:
        return None, f"{py} cannot import cntext"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(CNTEXT_VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "cntext==2.2.1", "ipython"],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        return None, f"pip install cntext==2.2.1 failed: {(exc.stderr or '').strip()[-300:]}"
    return py, ""


def evidence_reference(evidence: pd.DataFrame) -> pd.Series:
    """The evidence strings as the old implementation built them (groupby().apply, itertuples)."""

    def one(r) -> str:
        where = f"@{r.start}-{r.end}" if pd.notna(r.start) else ""
        return f"{r.code}: {r.indicator}「{r.match}」{where}"

    return evidence.groupby("unit_id", sort=False).apply(
        lambda g: "; ".join(one(r) for r in g.itertuples())
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1000, help="documents (default 1000)")
    ap.add_argument("--seed", type=int, default=7, help="seed for recombining paragraphs")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of every stage; the fastest counts (default 3)"
    )
    ap.add_argument("--cntext-python", type=Path, default=None, help="a Python with cntext 2.2.1")
    ap.add_argument("--no-cntext", action="store_true", help="skip cntext")
    args = ap.parse_args()
    rep = max(args.repeat, 1)
    print(
        f"{date.today()}, {platform.node() or 'this machine'}: {platform.processor() or ''} "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Python "
        f"{platform.python_version()}; fastest of {rep} run(s) per stage"
    )
    with tempfile.TemporaryDirectory(dir=paths.CACHE if paths.CACHE.exists() else None) as tmp:
        tmp = Path(tmp)
        (tmp / "docs").mkdir()
        docs = corpus_build(args.docs, tmp / "docs", args.seed)
        files = [str(p.relative_to(tmp)) for _, p, _ in docs]
        rows = []

        # the two commands, end to end (clean first: code reads its units), on one process and
        # as they run by default (--jobs auto)
        for jobs in ("1", "auto"):
            wall, cpu = _command(["clean", *files, "--out", "units.csv", "--jobs", jobs], tmp, rep)
            rows.append((f"command: helpers clean DOCS --out units.csv --jobs {jobs}", wall, cpu))
            argv = ["code", "units.csv", "--out", f"coded_{jobs}.csv", "--jobs", jobs]
            wall, cpu = _command(argv, tmp, rep)
            rows.append(
                (f"command: helpers code units.csv --out coded.csv --jobs {jobs}", wall, cpu)
            )
        if (tmp / "coded_1.csv").read_bytes() != (tmp / "coded_auto.csv").read_bytes():
            raise SystemExit("helpers code wrote different files with --jobs 1 and --jobs auto")

        units = units_csv_read(tmp / "units.csv")
        texts = units["text"].str.replace("\n", " ", regex=False).tolist()
        n_chars = sum(map(len, texts))
        book = codebook_read()
        seg = segmenter_make()
        matcher = matcher_make(book)

        # the floor
        from helpers.coding import text_simplify_aligned

        simple = text_simplify_aligned("\n".join(texts))
        simple_texts = simple.split("\n")
        rj = seg.rjieba
        _, wall, cpu = _timed(lambda: [rj.cut(t, True) for t in simple_texts], rep)
        rows.append(("floor: rjieba segmentation alone", wall, cpu))
        automaton = _automaton(matcher.words)
        _, wall, cpu = _timed(lambda: sum(1 for _ in automaton.iter(simple)), rep)
        rows.append(("floor: one automaton pass alone", wall, cpu))
        # what replaced that pass in helpers code: one numpy trie walk, words and pattern literals
        chars = _code_points(simple)
        _, wall, cpu = _timed(lambda: matcher.trie.find(chars), rep)
        rows.append(("engine: one trie walk (words + literals)", wall, cpu))

        # in-process stages of helpers code
        token_lists, wall, cpu = _timed(lambda: texts_cut(texts, seg), rep)
        rows.append(("in-process: segmentation (texts_cut)", wall, cpu))
        result, wall, cpu = _timed(lambda: units_code(units, book, token_lists=token_lists), rep)
        rows.append(("in-process: coding (units_code)", wall, cpu))
        table, wall, cpu = _timed(lambda: coding_table(result), rep)
        rows.append(("in-process: coded table with evidence", wall, cpu))
        # as the command runs them: the coder cuts the joined texts itself (one call)
        by_command, wall, cpu = _timed(lambda: units_code(units, book, seg), rep)
        rows.append((SERIAL, wall, cpu))
        if not by_command.evidence.equals(result.evidence):
            raise SystemExit("units_code with the segmenter and with token lists differ")
        # and on the workers --jobs auto starts (blocks of whole documents, forked processes;
        # CPU seconds are this process's only)
        jobs = parallel.jobs_resolve("auto", len(units), CODE_JOBS_MIN)
        blocks = parallel.units_blocks(units, jobs)
        parallel.FORK_STATE["bench"] = (book, seg, False)
        _, wall, cpu = _timed(lambda: parallel.fork_map(_block_evidence, blocks, jobs), rep)
        rows.append((POOLED.format(jobs=jobs), wall, float("nan")))
        parallel.FORK_STATE["bench"] = (book, seg, True)  # untimed: the tables, to compare
        pooled = pd.concat(parallel.fork_map(_block_evidence, blocks, jobs), ignore_index=True)
        del parallel.FORK_STATE["bench"]
        if not pooled.equals(by_command.evidence.reset_index(drop=True)):
            raise SystemExit(f"units_code on {jobs} workers and on one differ")

        # naive baseline
        import jieba

        jieba.setLogLevel(60)
        jieba.lcut("预热")
        keywords = sorted({k for c in book.codes for k in c.keywords})
        _, wall, cpu = _timed(lambda: [jieba.lcut(t) for t in texts], rep)
        rows.append(("naive: jieba.lcut per sentence", wall, cpu))
        _, wall, cpu = _timed(lambda: sum(k in t for t in texts for k in keywords), rep)
        rows.append(("naive: each keyword tested with `in`", wall, cpu))

        # cntext
        cntext_note = "skipped (--no-cntext)"
        if not args.no_cntext:
            py, why = cntext_python(args.cntext_python)
            if py is None:
                cntext_note = f"skipped: {why}"
            else:
                per_doc = units.groupby("doc_id", sort=False)["text"].agg("".join).tolist()
                (tmp / "docs.json").write_text(json.dumps(per_doc, ensure_ascii=False))
                diction = {c.id: list(c.keywords) for c in book.codes}
                (tmp / "diction.json").write_text(json.dumps(diction, ensure_ascii=False))
                (tmp / "cntext_run.py").write_text(CNTEXT_SCRIPT)
                out = subprocess.run(
                    [str(py), "cntext_run.py", "docs.json", "diction.json", str(rep)],
                    cwd=tmp,
                    capture_output=True,
                    text=True,
                )
                if out.returncode != 0:
                    cntext_note = f"skipped: cntext failed: {out.stderr.strip()[-300:]}"
                else:
                    got = json.loads(out.stdout.strip().splitlines()[-1])
                    rows.append((CNTEXT, got["wall"], got["cpu"]))
                    cntext_note = f"{py}"

        # evidence identical: the command's column against the old row-by-row implementation
        written = pd.read_csv(tmp / "coded_auto.csv", dtype=str, keep_default_na=False)
        old = written["unit_id"].map(evidence_reference(result.evidence)).fillna("")
        same = written["evidence"].equals(old) and table["evidence"].equals(old)

    t = pd.DataFrame(rows, columns=["stage", "seconds", "CPU s"]).set_index("stage")
    t["M chars/s"] = n_chars / t["seconds"] / 1e6
    print(
        f"{args.docs} documents, {n_chars:,} characters in {len(texts):,} sentence units; "
        f"cntext: {cntext_note}\n"
    )
    # on a shared machine wall-clock seconds mostly measure the other jobs: every ratio is given
    # on wall clock and on CPU seconds
    for col in ("seconds", "CPU s"):
        sec = t[col]
        floor = sec["floor: rjieba segmentation alone"] + sec["floor: one automaton pass alone"]
        t[f"× floor ({col})"] = sec / floor
    print(t.round(3).to_string())
    sec = t["seconds"]
    floor = sec["floor: rjieba segmentation alone"] + sec["floor: one automaton pass alone"]
    ours = sec["in-process: segmentation (texts_cut)"] + sec["in-process: coding (units_code)"]
    naive = sec["naive: jieba.lcut per sentence"] + sec["naive: each keyword tested with `in`"]
    as_command, pooled_s = sec[SERIAL], sec[POOLED.format(jobs=jobs)]
    print(
        f"\n[seconds] floor (rjieba + one automaton pass): {floor:.2f}; naive (jieba.lcut + `in`): "
        f"{naive:.2f}\n"
        f"in-process segmentation + coding (target 8× naive): tokens then coding {ours:.2f} = "
        f"{naive / ours:.1f}×; as the command runs them {as_command:.2f} = "
        f"{naive / as_command:.1f}×; on {jobs} workers {pooled_s:.2f} = {naive / pooled_s:.1f}×"
    )
    for jobs_opt in ("1", "auto"):
        commands = sec.filter(like="command:").filter(like=f"--jobs {jobs_opt}").sum()
        print(
            f"the two commands with --jobs {jobs_opt} (target ≤ 5 s and 2× naive): "
            f"{commands:.2f} s = {naive / commands:.1f}× faster than naive"
        )
    if CNTEXT in sec:
        cn = sec[CNTEXT]
        print(
            f"cntext (target 20×): {cn:.2f} s → tokens then coding {cn / ours:.1f}× faster, as the "
            f"command runs them {cn / as_command:.1f}×, on {jobs} workers {cn / pooled_s:.1f}×"
        )
    print(f"evidence column identical to the old implementation: {same}")
    if not same:
        raise SystemExit("evidence differs from the old implementation")


if __name__ == "__main__":
    main()
