"""Corpus size: the notebooks on the corpus plus N recombined documents, in a copy of the project.

Copies the project (without ``.git``, ``.venv``, caches and derived data) into a
temporary folder, adds N documents to the copy's ``data/raw`` and rows to its ``data/corpus.csv``,
then runs every notebook there, one ``python -m helpers run --force --only NN`` per notebook (as
``make run`` does, in pipeline order), and prints per notebook the wall-clock seconds, CPU seconds
and the peak resident memory of the largest process (the runner or its kernel; ``os.wait4`` gives
the child's ``ru_maxrss``, which on Linux includes the descendants it waited for), then the size of
``outputs/tables`` + ``outputs/figures`` (files and MB). The real ``data/raw`` is only read.

The documents are built from the real corpus as in ``bench_pipeline.py``: each keeps one source
document's header and trailer blocks around its paragraphs drawn with replacement (fixed seed), so
every sentence is real text; each gets a date in 2010-2024, one of three issuers and a type. The
copy's ``src`` comes first on ``PYTHONPATH``, so the copy's code is timed with this interpreter.

    .venv/bin/python benchmarks/bench_scale.py --docs 50 200 [--seed 7] [--keep] [--root DIR]

``--root`` times another checkout (e.g. an older commit in a worktree) under the same conditions.
Timings on a shared machine are noisy; CPU seconds less so.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import corpus_build

NOTEBOOKS = ["01", "02", "03", "04", "05", "06"]
ISSUERS = (
    "宁夏回族自治区人民政府办公厅",
    "福建省人民政府办公厅",
    "中共宁夏区委宣传部",
)
DOC_TYPES = ("policy", "news", "think_tank_report")
SKIP = {".git", ".venv", ".cache", "processed", "__pycache__", ".pytest_cache", "report"}


def project_copy(root: Path, dest: Path) -> Path:
    """Copy the project at ``root`` to ``dest`` without git, venv, caches and derived data."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in SKIP or n.endswith(".egg-info")}
        if Path(folder).name == "notebooks" and Path(folder).parent.name == "outputs":
            skip |= {n for n in names if n.endswith(".ipynb")}
        return skip

    shutil.copytree(root, dest, ignore=ignore, symlinks=True)
    return dest


def corpus_add(copy: Path, n_docs: int, seed: int) -> int:
    """Write ``n_docs`` recombined documents into the copy's data/raw and corpus.csv; return chars.

    The documents come from ``bench_pipeline.corpus_build`` (real header and trailer blocks around
    real paragraphs drawn with replacement; every fifth saved as GB18030), written straight into
    the copy's ``data/raw``; this adds their rows (date, issuer, document type) to the copy's table.
    """
    docs = corpus_build(n_docs, copy / "data" / "raw", seed)
    rng = random.Random(seed)
    table = copy / "data" / "corpus.csv"
    with table.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    for i, (doc_id, path, title) in enumerate(docs):
        date = f"{rng.randint(2010, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        row = dict.fromkeys(fields, "")
        row.update(
            doc_id=doc_id,
            file=path.name,
            title=title,
            issuer=ISSUERS[i % len(ISSUERS)],
            doc_type=DOC_TYPES[rng.randrange(len(DOC_TYPES))],
            date=date,
            notes="benchmark document (recombined paragraphs)",
        )
        rows.append(row)
    with table.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return sum(len(_text(p)) for _, p, _ in docs)


def _text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def run_notebook(copy: Path, nb: str) -> tuple[float, float, float]:
    """Run one notebook in the copy; return (wall s, CPU s, peak RSS in GiB of the process tree)."""
    env = dict(
        os.environ,
        PYTHONPATH=str(copy / "src"),
        MPLCONFIGDIR=str(copy / ".cache" / "matplotlib"),
        IPYTHONDIR=str(copy / ".cache" / "ipython"),
    )
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "helpers", "run", "--force", "--only", nb, "--no-progress"],
            cwd=copy,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"{copy}: notebook {nb} failed:\n{tail}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 2**20  # KiB → GiB


def outputs_size(copy: Path) -> tuple[int, float]:
    """Files and MB in the copy's outputs/tables and outputs/figures."""
    files = [
        p for d in ("tables", "figures") for p in (copy / "outputs" / d).rglob("*") if p.is_file()
    ]
    return len(files), sum(p.stat().st_size for p in files) / 1e6


def bench(root: Path, n_docs: int, seed: int, keep: bool) -> dict:
    """Copy ``root``, add ``n_docs`` documents, run the notebooks; return the measurements."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench_scale_{n_docs}_"))
    try:
        copy = project_copy(root, tmp / "project")
        chars = corpus_add(copy, n_docs, seed)
        res = {nb: run_notebook(copy, nb) for nb in NOTEBOOKS}
        files, mb = outputs_size(copy)
        return {"docs": n_docs, "chars": chars, "notebooks": res, "files": files, "mb": mb}
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, nargs="+", default=[50, 200], help="documents to add")
    ap.add_argument("--seed", type=int, default=7, help="seed of the recombination")
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy (prints where)")
    args = ap.parse_args()
    for n in args.docs:
        r = bench(args.root.resolve(), n, args.seed, args.keep)
        nbs = r["notebooks"]
        print(f"\n{n} documents added ({r['chars'] / 1e6:.2f} M characters), root {args.root}")
        print(f"{'notebook':<10}{'wall s':>9}{'CPU s':>9}{'peak GiB':>10}")
        for nb, (wall, cpu, peak) in nbs.items():
            print(f"{nb:<10}{wall:>9.1f}{cpu:>9.1f}{peak:>10.2f}")
        print(
            f"{'total':<10}{sum(w for w, _, _ in nbs.values()):>9.1f}"
            f"{sum(c for _, c, _ in nbs.values()):>9.1f}"
            f"{max(p for _, _, p in nbs.values()):>10.2f}"
        )
        print(f"outputs/tables + outputs/figures: {r['files']} files, {r['mb']:.1f} MB", flush=True)


if __name__ == "__main__":
    main()
