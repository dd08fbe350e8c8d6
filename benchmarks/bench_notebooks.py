"""Cold run of the notebooks: wall-clock and CPU seconds of each, as ``make run`` executes them.

Each notebook runs in its own ``python -m helpers run --only NN`` (papermill, a fresh kernel), in
pipeline order, after ``data/processed/`` and the segmentation cache are removed: a cold run, as on
a fresh checkout (jieba's dictionary cache and matplotlib's font cache are kept, as a machine keeps
them). Wall-clock seconds depend on what else the machine runs; CPU seconds (user + system of the
process and its kernel, from ``os.wait4``) much less, so both are printed. ``--root`` runs another
checkout with this interpreter (its ``src`` first on ``PYTHONPATH``), so two versions can be timed
in turns under the same conditions:

    .venv/bin/python benchmarks/bench_notebooks.py [--repeat 3] [--root DIR ...]

Writes nothing but what ``make run`` writes (in each root's ``outputs/``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

NOTEBOOKS = ["01", "02", "03", "04", "05", "06"]


def run_notebook(root: Path, nb: str) -> tuple[float, float]:
    """Run one notebook of ``root``; return (wall seconds, CPU seconds of the process tree)."""
    env = dict(
        os.environ, PYTHONPATH=str(root / "src"), MPLCONFIGDIR=str(root / ".cache" / "matplotlib")
    )
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers", "run", "--only", nb],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{root}: notebook {nb} failed:\n{proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def cold_run(root: Path) -> dict[str, tuple[float, float]]:
    """Remove the derived data and the segmentation cache, then run every notebook in order."""
    shutil.rmtree(root / "data" / "processed", ignore_errors=True)
    shutil.rmtree(root / ".cache" / "segments", ignore_errors=True)
    return {nb: run_notebook(root, nb) for nb in NOTEBOOKS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="cold runs per root, taken in turns")
    ap.add_argument(
        "--root", type=Path, action="append", help="checkout(s) to time (default: this one)"
    )
    args = ap.parse_args()
    roots = [r.resolve() for r in (args.root or [Path(__file__).resolve().parents[1]])]
    results: dict[Path, list[dict[str, tuple[float, float]]]] = {r: [] for r in roots}
    for i in range(args.repeat):
        for root in roots:
            res = cold_run(root)
            results[root].append(res)
            print(
                f"run {i + 1} {root}: "
                + "  ".join(f"{nb} {w:.1f}s/{c:.1f}cpu" for nb, (w, c) in res.items())
                + f"  total {sum(w for w, _ in res.values()):.1f}s",
                flush=True,
            )
    print("\nmedian over runs: wall-clock seconds / CPU seconds")
    print(f"{'notebook':<10}" + "".join(f"{str(r):>40}" for r in roots))
    for nb in [*NOTEBOOKS, "total"]:
        cells = []
        for root in roots:
            runs = results[root]
            walls = sorted(
                sum(w for w, _ in r.values()) if nb == "total" else r[nb][0] for r in runs
            )
            cpus = sorted(
                sum(c for _, c in r.values()) if nb == "total" else r[nb][1] for r in runs
            )
            cells.append(f"{walls[len(walls) // 2]:.1f} / {cpus[len(cpus) // 2]:.1f}")
        print(f"{nb:<10}" + "".join(f"{c:>40}" for c in cells))


if __name__ == "__main__":
    main()
