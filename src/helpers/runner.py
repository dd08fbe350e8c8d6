"""Running the notebooks of ``pipeline.yaml`` with papermill: :func:`pipeline_run`.

It decides which notebooks must run (:mod:`helpers.manifest`), runs up to ``jobs`` of them side by
side in the order of :func:`helpers.pipeline.steps_graph`, with kernels started ahead
(:mod:`helpers.kernels`), records each one in the manifest when it starts and ends, and returns the
run summary. Executed copies go to ``outputs/notebooks/``; nothing else is written here.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import paths
from helpers.errors import path_display
from helpers.kernels import KERNEL_STOP, NotebookTask, kernel_ensure, kernels_kill
from helpers.manifest import (
    entries_hash,
    file_sha256,
    json_safe,
    manifest_read,
    manifest_write,
    step_key,
    step_reasons,
)
from helpers.notebooks import notebook_parameters
from helpers.outputs import outputs_where_check
from helpers.parameters import parameters_typecheck
from helpers.pipeline import (
    FAILED,
    INTERRUPTED,
    NOT_RUN,
    RAN,
    RUNNING,
    UNFINISHED,
    UP_TO_DATE,
    NotebookStep,
    PipelineConfig,
    PipelineError,
    PipelineInterrupted,
    entries_match,
    entry_spots,
    steps_graph,
    steps_select,
)

SUMMARY_COLUMNS: list[str] = [
    "notebook",
    "status",
    "why",
    "seconds",
    "output",
    "parameters",
    "written",
]


def pipeline_run(
    config: PipelineConfig,
    overrides: dict | None = None,
    *,
    only: list[str] | None = None,
    output_dir: str | Path = paths.EXECUTED_NOTEBOOKS,
    progress: bool = True,
    force: bool = False,
    manifest: str | Path | None = None,
    jobs: int = 1,
    allow_outside: bool = False,
) -> pd.DataFrame:
    """Execute the configured notebooks, skipping those that are up to date; return the summary.

    The summary has one row per selected notebook, in configuration order: notebook, status
    (``ran``, ``up to date``, ``failed``, ``interrupted``, ``not run``), why (the reasons it ran),
    seconds, output (the executed copy), parameters, written (``{path: "new" | "changed" |
    "same"}`` for each product of a notebook that ran).

    Each notebook gets the shared parameters it declares, then its step parameters, then the
    ``overrides`` it declares. Everything that can be checked without running is checked first, so
    a typo fails in a second rather than after the first notebooks ran: declared names, override
    and step parameter names, parameter types against the defaults of each notebook's parameters
    cell (:func:`parameters_typecheck`) and output folders (:func:`outputs_where_check`: inside the
    project unless ``allow_outside``, never inside ``raw_dir``).

    Order: a notebook waits for the notebooks before it whose products it reads (or that read or
    write what it writes), as :func:`steps_graph` derives from ``reads``/``writes``; up to ``jobs``
    notebooks whose predecessors are done run at the same time (``jobs=1``: one after the other in
    configuration order). Each notebook's results are the same whichever order ran them.

    Incremental runs, as make or ploomber: a notebook runs again only when its cells, parameters,
    inputs (its ``reads``, which include the products of the notebooks before it), the ``helpers``
    modules it imports or the environment changed since its last successful run recorded in the
    manifest (``manifest``, default ``<output_dir>/../manifest.json``), or when a product of that
    run is missing or altered. ``force`` runs every selected notebook. The decision is taken when a
    notebook's predecessors are done, so an upstream product that came out byte-identical does not
    re-run what follows.

    The manifest records each notebook's status (``running`` when it starts; ``ran``, ``failed`` or
    ``interrupted`` when it ends), rewritten atomically each time. A notebook that reads the
    products of one that did not finish (failed, interrupted, or still ``running`` after a killed
    run) and is not part of this run is refused with a :class:`PipelineError` naming it.

    The run stops at the first failing notebook (notebooks already running finish) with a
    :class:`PipelineError`; papermill has then saved the executed copy with the traceback. Ctrl-C
    (KeyboardInterrupt) shuts the running kernels down, marks their notebooks ``interrupted`` and
    raises :class:`PipelineInterrupted`. Progress lines go to stderr.
    """
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    overrides = dict(overrides or {})
    jobs = max(1, int(jobs))
    steps = steps_select(config, only)
    declared = {step.name: notebook_parameters(step.path) for step in config.steps}

    for step in config.steps:
        extra = sorted(set(step.parameters) - set(declared[step.name]))
        if extra:
            raise PipelineError(
                f"parameters {', '.join(extra)} of {step.name} are not declared by the notebook; "
                f"it declares: {', '.join(declared[step.name]) or '(none)'}",
                path=config.source,
            )
        known = set(declared[step.name]) | {"notebooks_dir"}
        for key in ("reads", "writes"):
            bad = [e for e in getattr(step, key) if e.split("/", 1)[0] not in known]
            if bad:
                raise PipelineError(
                    f"{key} of {step.name}: {', '.join(bad)} must start with a parameter the "
                    f"notebook declares: {', '.join(declared[step.name]) or '(none)'}",
                    path=config.source,
                )
    all_declared = sorted({name for s in steps for name in declared[s.name]})
    unknown = sorted(set(overrides) - set(all_declared))
    if unknown:
        raise PipelineError(
            f"-p {', '.join(unknown)}: declared by none of the notebooks run "
            f"({', '.join(s.name for s in steps)}); declared parameters: "
            f"{', '.join(all_declared) or '(none)'}"
        )

    out_dir = Path(output_dir).resolve()
    params_of: dict[str, dict] = {}
    for step in config.steps:
        names = declared[step.name]
        params_of[step.name] = (
            {k: v for k, v in config.parameters.items() if k in names}
            | {"notebooks_dir": str(out_dir)}  # this run's executed copies (passed if declared)
            | step.parameters
            | {k: v for k, v in overrides.items() if k in names}
        )
    for step in steps:
        parameters_typecheck(step, declared[step.name], params_of[step.name], overrides, config)
    outputs_where_check(
        steps, params_of, overrides, project=config.source.parent, allow_outside=allow_outside
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = Path(manifest) if manifest is not None else out_dir.parent / "manifest.json"
    recorded = {
        e["notebook"]: e
        for e in manifest_read(manifest_path).get("notebooks", [])
        if isinstance(e, dict) and "notebook" in e
    }
    entries = dict(recorded)
    # Python's string hashing is randomised per process; fixing it keeps set-ordered steps (graph
    # communities, layouts) identical between runs, so re-runs give byte-identical outputs.
    os.environ.setdefault("PYTHONHASHSEED", "0")

    graph = steps_graph(config.steps, params_of, out_dir)
    selected = {s.name for s in steps}
    for step in steps:  # before anything runs: nothing built on an unfinished notebook's products
        _upstream_check(step, graph, selected, entries)
    watched = _write_dirs(steps, params_of)
    index = {s.name: i for i, s in enumerate(steps)}
    rows: list[dict] = [
        {
            "notebook": s.name,
            "status": NOT_RUN,
            "why": "",
            "seconds": 0.0,
            "output": "",
            "parameters": {},
            "written": {},
        }
        for s in steps
    ]

    def summary() -> pd.DataFrame:
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

    def record() -> None:
        order = [s.name for s in config.steps]
        ordered = sorted(
            entries.values(),
            key=lambda e: order.index(e["notebook"]) if e["notebook"] in order else len(order),
        )
        manifest_write(ordered, manifest_path)

    def passed_of(step: NotebookStep) -> dict:
        return {
            k: v
            for k, v in params_of[step.name].items()
            if k != "notebooks_dir" or k in declared[step.name]
        }

    def label(step: NotebookStep) -> str:
        return f"[{index[step.name] + 1}/{len(steps)}] {step.name} …"

    kernel: str | None = None
    pending = list(steps)  # configuration order
    done: set[str] = set()
    tasks: dict[str, tuple[NotebookTask, Any]] = {}  # kernel started (or starting), not yet running
    running: dict = {}  # future -> (step, task, why, start, before, key)
    overlapped: dict[str, set[str]] = {s.name: set() for s in steps}
    failure: tuple[str, Exception | None] | None = None
    show_bars = progress and jobs == 1  # two bars redrawing at once are unreadable
    announced = show_bars or jobs > 1
    interrupted = False
    # one thread per running notebook, plus one for a kernel started ahead of its turn
    executor = ThreadPoolExecutor(max_workers=jobs + 1, thread_name_prefix="notebook")

    def prestart() -> None:
        """Start kernels of notebooks whose predecessors are done or running (threads allowing).

        Only while some notebook runs (a run with nothing to do starts no kernel), in configuration
        order. A kernel started for a notebook that turns out up to date is shut down unused.
        """
        nonlocal kernel
        if not running or failure is not None:
            return
        for step in pending:
            if len(running) + len(tasks) >= jobs + 1:
                return
            if step.name in tasks:
                continue
            busy = {s.name for s, *_ in running.values()}
            if (graph[step.name] & selected) - done - busy:
                continue
            if not force and not _may_need_run(recorded.get(step.name), graph[step.name], busy):
                continue
            task = NotebookTask(step, kernel or kernel_ensure(config.kernel))
            tasks[step.name] = (task, executor.submit(task))

    def start_ready() -> None:
        """Start (or mark up to date) the pending notebooks whose predecessors are done."""
        nonlocal kernel
        changed = True
        while changed and failure is None:
            changed = False
            for step in list(pending):
                if len(running) >= jobs:
                    break
                if (graph[step.name] & selected) - done:
                    continue
                pending.remove(step)
                changed = True
                params, passed = params_of[step.name], passed_of(step)
                output = out_dir / step.path.name
                key = step_key(step, params, output) | {"parameters": json_safe(passed)}
                reasons = (
                    ["--force"]
                    if force
                    else step_reasons(recorded.get(step.name), key, step, params, output)
                )
                if not reasons:
                    rows[index[step.name]].update(
                        status=UP_TO_DATE, output=str(output), parameters=passed
                    )
                    print(f"{label(step)} {UP_TO_DATE}", file=sys.stderr, flush=True)
                    done.add(step.name)
                    if step.name in tasks:
                        tasks.pop(step.name)[0].cancel()
                    continue
                why = "; ".join(reasons)
                if kernel is None:
                    kernel = kernel_ensure(config.kernel)
                if announced:  # above its progress bar, or before others' result lines
                    print(f"{label(step)} (why: {why})", file=sys.stderr, flush=True)
                before = (entries_hash(step.writes, params), _files_snapshot(watched))
                output.unlink(missing_ok=True)  # an earlier run's copy must not pass for this one
                entries[step.name] = {
                    "notebook": step.name,
                    "status": RUNNING,
                    "started": _now(),
                    "why": why,
                }
                record()
                for other, *_ in running.values():
                    overlapped[other.name].add(step.name)
                    overlapped[step.name].add(other.name)
                if step.name in tasks:
                    task, future = tasks.pop(step.name)
                else:
                    task = NotebookTask(step, kernel)
                    future = executor.submit(task)
                task.go(output, passed, show_bars, config.cell_timeout)
                running[future] = (step, task, why, time.perf_counter(), before, key)
        prestart()

    def finish(future) -> None:
        """Record a finished notebook in the summary and the manifest."""
        nonlocal failure
        step, task, why, start, (before_products, before_files), key = running.pop(future)
        status, error, cause = future.result() or (INTERRUPTED, None, None)
        if interrupted and status != RAN:
            status, error, cause = INTERRUPTED, None, None
        seconds = time.perf_counter() - start
        params = params_of[step.name]
        output = out_dir / step.path.name
        written = {}
        timing = {
            "seconds": round(seconds, 1),
            "kernel_start_seconds": round(task.kernel_seconds, 1),
        }
        if status == RAN:
            products = entries_hash(step.writes, params)
            written = {
                p: "new"
                if p not in before_products
                else "changed"
                if before_products[p] != h
                else "same"
                for p, h in products.items()
            }
            products[path_display(output.resolve())] = file_sha256(output)
            entries[step.name] = {
                "notebook": step.name,
                "status": RAN,
                **timing,
                "why": why,
                "key": key,
                "products": products,
            }
            others = [s for s in steps if s.name in overlapped[step.name]]
            undeclared = sorted(
                path_display(p.resolve())
                for p, t in _files_snapshot(watched).items()
                if before_files.get(p) != t
                and not entries_match(p, step.writes, params)
                and not any(entries_match(p, o.writes, params_of[o.name]) for o in others)
            )
            if undeclared:
                print(
                    f"warning: {step.name} wrote files that its 'writes' in "
                    f"{config.source.name} do not declare, so a later run cannot check them: "
                    f"{', '.join(undeclared)}",
                    file=sys.stderr,
                    flush=True,
                )
            done.add(step.name)
        else:
            entries[step.name] = {
                "notebook": step.name,
                "status": status,
                "started": entries.get(step.name, {}).get("started"),
                f"{status}_at": _now(),
                **timing,
                "why": why,
                "unfinished_products": sorted(entries_hash(step.writes, params)),
            }
            if failure is None and status == FAILED:
                failure = (error or f"notebook {step.name} failed", cause)
        rows[index[step.name]].update(
            status=status,
            why=why,
            seconds=round(seconds, 1),
            output=str(output),
            parameters=passed_of(step),
            written=written,
        )
        record()
        print(
            f"{label(step)} {status} ({seconds:.1f} s){'' if announced else f'; why: {why}'}",
            file=sys.stderr,
            flush=True,
        )

    def tasks_cancel() -> None:
        for task, _ in tasks.values():
            task.cancel()
        tasks.clear()

    try:
        start_ready()
        while running:
            finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: index[running[f][0].name]):
                finish(future)
            start_ready()
        tasks_cancel()
    except KeyboardInterrupt:
        import signal

        interrupted = True
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C: no traceback
        try:
            names = [step.name for step, *_ in running.values()]
            KERNEL_STOP.set()
            tasks_cancel()
            kernels_kill()
            wait(list(running), timeout=60)
            for future in sorted(running, key=lambda f: index[running[f][0].name]):
                if future.done():
                    finish(future)
        finally:
            signal.signal(signal.SIGINT, previous)
        where = ", ".join(names) or "between notebooks"
        raise PipelineInterrupted(
            f"interrupted (Ctrl-C) while running {where}; kernels shut down; "
            + (
                "unfinished products are marked in the manifest: run `make run` again"
                if names
                else "run `make run` again to finish"
            ),
            summary(),
        ) from None
    except BaseException:
        tasks_cancel()
        raise
    finally:
        executor.shutdown(wait=not interrupted)
        KERNEL_STOP.clear()
    if failure is not None:
        raise PipelineError(failure[0], summary()) from failure[1]
    if not any(r["status"] == RAN for r in rows):
        record()  # first run with this manifest layout, or nothing ran: keep it current
    return summary()


def _may_need_run(previous: dict | None, waits_for: set[str], busy: set[str]) -> bool:
    """Return whether a notebook may have to run: worth starting its kernel ahead.

    Yes when it has no successful record, or when a notebook it waits for is running now (its
    products may change). A notebook whose predecessors are all done is decided at once instead.
    """
    return not previous or previous.get("status") != RAN or bool(waits_for & busy)


def _now() -> str:
    """Return the current time as ``2026-11-29 20:41:03 UTC`` (manifest and messages)."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _upstream_check(
    step: NotebookStep, graph: dict[str, set[str]], selected: set[str], entries: dict
) -> None:
    """Raise PipelineError when ``step`` reads products of a notebook that did not finish.

    Only notebooks outside this run matter: one in the run is re-run before ``step``.
    """
    for name in sorted(graph[step.name] - selected):
        entry = entries.get(name) or {}
        status = entry.get("status")
        if status not in UNFINISHED:
            continue
        when = entry.get(f"{status}_at") or entry.get("started") or "an unknown time"
        how = (
            f"still marked running since {when}: that run was killed"
            if status == RUNNING
            else f"{status} at {when}"
        )
        raise PipelineError(
            f"{step.name} reads the products of {name}, which did not finish ({how}); its "
            f"products may be incomplete. Run `make run` or `python -m helpers run --only "
            f"{name.split('_', 1)[0]}` first"
        )


def _files_snapshot(dirs: set[Path]) -> dict[Path, int]:
    """Return ``{file: mtime_ns}`` of every file under the folders (to see what notebooks wrote).

    Hidden files are left out: atomic writes go through a hidden temporary file beside the target
    (``.name.tmp``), which another notebook running at the same time may still be writing.
    """
    out: dict[Path, int] = {}
    for d in dirs:
        if d.is_dir():
            for p in d.rglob("*"):
                if p.is_file() and not p.name.startswith("."):
                    out[p.resolve()] = p.stat().st_mtime_ns
    return out


def _write_dirs(steps: list[NotebookStep], params_of: dict[str, dict]) -> set[Path]:
    """Return the folders the notebooks write into (those named by their ``writes`` entries)."""
    dirs: set[Path] = set()
    for step in steps:
        for entry in step.writes:
            for base, pattern in entry_spots(entry, params_of[step.name]):
                dirs.add(base if pattern else base.parent)
    return dirs
