"""The pipeline configuration: ``pipeline.yaml``, its notebook steps and what they read and write.

``pipeline.yaml`` is the one place that says which notebooks run, in which order and with which
parameters. :func:`pipeline_read` checks it and returns a :class:`PipelineConfig`; the ``reads``
and ``writes`` entries of its steps name files by parameter (:func:`entry_files`) and give the
order in which the notebooks wait for each other (:func:`steps_graph`).

Running it is :func:`helpers.runner.pipeline_run`; the values given to each notebook are checked in
:mod:`helpers.parameters`, the record of past runs is :mod:`helpers.manifest`, kernels and the
execution of one notebook are in :mod:`helpers.kernels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from helpers import paths
from helpers.errors import InputError, path_display
from helpers.tables import path_resolve

CONFIG_KEYS: frozenset[str] = frozenset({"kernel", "parameters", "notebooks", "cell_timeout"})
STEP_KEYS: frozenset[str] = frozenset({"path", "parameters", "reads", "writes"})

#: Status of a notebook in the run summary.
RAN, UP_TO_DATE, FAILED, NOT_RUN = "ran", "up to date", "failed", "not run"
#: Status in the manifest of a notebook being run, and of one stopped by Ctrl-C.
RUNNING, INTERRUPTED = "running", "interrupted"
#: Manifest statuses of a notebook whose products may be incomplete.
UNFINISHED = (RUNNING, FAILED, INTERRUPTED)


class PipelineError(Exception):
    """A configuration or notebook problem that stops a run; the message says what and where.

    ``summary`` holds the run summary up to the failure (same columns as the table returned by
    :func:`~helpers.runner.pipeline_run`) when the error happened while running, so callers can
    still show it.
    A problem in a file (``pipeline.yaml``, a notebook) gives its ``path`` (and ``line``,
    ``field`` when known); the message then has the format of every
    :class:`~helpers.errors.InputError`: ``pipeline.yaml, field 'notebooks[2].path': notebook not
    found: notebooks/07_x.ipynb``.
    """

    def __init__(
        self,
        reason: str,
        summary: pd.DataFrame | None = None,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason, self.summary = reason, summary
        self.path, self.line, self.field = path, line, field
        if path is not None:
            reason = InputError(path, reason, line=line, field=field).message()
        super().__init__(reason)


class PipelineInterrupted(PipelineError):
    """The run was stopped with Ctrl-C; the running notebooks' kernels were shut down."""


@dataclass(frozen=True)
class NotebookStep:
    """One notebook of the pipeline, the parameters given to it alone, and what it reads and writes.

    ``reads`` and ``writes`` are entries ``NAME`` (the file, folder or list of files the parameter
    holds) or ``NAME/PATTERN`` (files matching a glob pattern in the folder ``NAME`` holds); the
    runner uses them to decide whether the notebook must run again (see
    :func:`~helpers.runner.pipeline_run`).
    """

    path: Path
    parameters: dict
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The notebook's file name without ``.ipynb``, e.g. ``01_text_cleanup``."""
        return self.path.stem


@dataclass(frozen=True)
class PipelineConfig:
    """The content of ``pipeline.yaml``: kernel, shared parameters and steps in run order."""

    kernel: str
    parameters: dict
    steps: tuple[NotebookStep, ...]
    source: Path
    cell_timeout: int | None = None


def _mapping_validate(value: Any, where: str, source: Path) -> dict:
    """Return ``value`` as a dict of parameters (``None`` counts as empty), or raise PipelineError.

    ``None`` is accepted because ``parameters:`` with every entry commented out loads as null.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PipelineError(
            f"must be a mapping of NAME: VALUE, got {type(value).__name__}",
            path=source,
            field=where,
        )
    for name in value:
        if not isinstance(name, str) or not name.isidentifier():
            raise PipelineError(f"{name!r} is not a valid parameter name", path=source, field=where)
    return dict(value)


def _entries_validate(value: Any, where: str, source: Path) -> tuple[str, ...]:
    """Return a ``reads``/``writes`` list as a tuple of ``NAME`` or ``NAME/PATTERN`` strings."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PipelineError(
            "must be a list of NAME or NAME/PATTERN entries", path=source, field=where
        )
    for v in value:
        if not v.split("/", 1)[0].isidentifier():
            raise PipelineError(f"{v!r} must start with a parameter name", path=source, field=where)
    return tuple(value)


def pipeline_read(path: str | Path = paths.PIPELINE_CONFIG) -> PipelineConfig:
    """Read and check the pipeline configuration; return it as a :class:`PipelineConfig`.

    Every problem found here would otherwise surface halfway through a long run (or never, for a
    misspelt key), so the file is checked up front and errors name the file and the key.
    Notebook paths are read relative to the repository root.
    """
    source = Path(path).resolve()
    if not source.is_file():
        raise PipelineError("pipeline configuration not found", path=source)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise PipelineError(f"not valid YAML: {err}", path=source) from err
    if not isinstance(raw, dict):
        raise PipelineError(f"expected a mapping with keys {sorted(CONFIG_KEYS)}", path=source)

    unknown = sorted(set(map(str, raw)) - CONFIG_KEYS)
    if unknown:
        raise PipelineError(
            f"unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(CONFIG_KEYS))}",
            path=source,
        )
    if "kernel" not in raw:
        raise PipelineError(
            "key is missing (the Jupyter kernel to run with)", path=source, field="kernel"
        )
    kernel = raw["kernel"]
    if not isinstance(kernel, str) or not kernel.strip():
        raise PipelineError(f"must be a kernel name, got {kernel!r}", path=source, field="kernel")
    shared = _mapping_validate(raw.get("parameters"), "parameters", source)

    if "notebooks" not in raw:
        raise PipelineError(
            "key is missing (the list of notebooks to run)", path=source, field="notebooks"
        )
    entries = raw["notebooks"]
    if not isinstance(entries, list) or not entries:
        raise PipelineError(
            "must be a non-empty list of {path: ...}", path=source, field="notebooks"
        )

    steps: list[NotebookStep] = []
    for i, entry in enumerate(entries):
        where = f"notebooks[{i}]"
        if not isinstance(entry, dict):
            raise PipelineError("must be a mapping with a 'path' key", path=source, field=where)
        unknown = sorted(set(map(str, entry)) - STEP_KEYS)
        if unknown:
            raise PipelineError(
                f"unknown key(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(sorted(STEP_KEYS))}",
                path=source,
                field=where,
            )
        if not isinstance(entry.get("path"), str) or not entry["path"].strip():
            raise PipelineError("is missing or not a string", path=source, field=f"{where}.path")
        nb_path = path_resolve(entry["path"])
        if nb_path.suffix != ".ipynb":
            raise PipelineError(
                f"{entry['path']} is not an .ipynb file", path=source, field=f"{where}.path"
            )
        if not nb_path.is_file():
            raise PipelineError(
                f"notebook not found: {path_display(nb_path)}", path=source, field=f"{where}.path"
            )
        if any(step.name == nb_path.stem for step in steps):
            raise PipelineError(
                f"{nb_path.stem} is listed twice (executed copies are named after the notebook)",
                path=source,
                field=f"{where}.path",
            )
        params = _mapping_validate(entry.get("parameters"), f"{where}.parameters", source)
        io = {
            key: _entries_validate(entry.get(key), f"{where}.{key}", source)
            for key in ("reads", "writes")
        }
        steps.append(NotebookStep(path=nb_path, parameters=params, **io))

    timeout = raw.get("cell_timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise PipelineError(
            f"must be a number of seconds (or null for no limit), got {timeout!r}",
            path=source,
            field="cell_timeout",
        )
    return PipelineConfig(
        kernel=kernel,
        parameters=shared,
        steps=tuple(steps),
        source=source,
        cell_timeout=timeout,
    )


def steps_select(config: PipelineConfig, only: list[str] | None) -> list[NotebookStep]:
    """Return the steps named in ``only`` (stem, file name or number like ``01``), in order."""
    if not only:
        return list(config.steps)
    keys = {name.removesuffix(".ipynb") for name in only}
    chosen = [s for s in config.steps if s.name in keys or s.name.split("_", 1)[0] in keys]
    matched = {s.name for s in chosen} | {s.name.split("_", 1)[0] for s in chosen}
    missing = sorted(keys - matched)
    if missing:
        raise PipelineError(
            f"--only {', '.join(missing)} matches no notebook; "
            f"listed: {', '.join(s.name for s in config.steps)}",
            path=config.source,
        )
    return chosen


# --------------------------------------------------------------------------------------------------
# The files and folders that ``reads``/``writes`` entries name
# --------------------------------------------------------------------------------------------------


def entry_files(entry: str, params: dict) -> list[Path]:
    """Return the existing files a ``reads``/``writes`` entry names, given a notebook's parameters.

    ``NAME`` is the parameter's value: a file, every file under a folder, or a list of either;
    ``NAME/PATTERN`` is a glob pattern inside the folder parameter ``NAME`` holds. A parameter set
    to None or an empty list names nothing.
    """
    name, _, pattern = entry.partition("/")
    value = params.get(name)
    values = value if isinstance(value, list | tuple) else [value]
    found: list[Path] = []
    for v in values:
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        base = path_resolve(str(v))
        if pattern:
            found += [p for p in base.glob(pattern) if p.is_file()]
        elif base.is_dir():
            found += [p for p in base.rglob("*") if p.is_file()]
        elif base.is_file():
            found.append(base)
    return sorted({p for p in found if not p.name.startswith(".")})


def entry_spots(entry: str, params: dict) -> list[tuple[Path, str]]:
    """Return ``(folder or file, pattern)`` pairs an entry names; pattern ``""`` means all of it."""
    name, _, pattern = entry.partition("/")
    value = params.get(name)
    out = []
    for v in value if isinstance(value, list | tuple) else [value]:
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        out.append((path_resolve(str(v)).resolve(), pattern))
    return out


def entries_match(path: Path, entries: tuple[str, ...], params: dict) -> bool:
    """Return whether ``path`` is named by one of the entries (used to find undeclared writes)."""
    for entry in entries:
        name, _, pattern = entry.partition("/")
        value = params.get(name)
        for v in value if isinstance(value, list | tuple) else [value]:
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            base = path_resolve(str(v)).resolve()
            if not pattern and (path == base or base in path.parents):
                return True
            if pattern and base in path.parents and path.relative_to(base).match(pattern):
                return True
            if pattern.startswith("**/") and base in path.parents:
                return True
    return False


def _spots_overlap(a: tuple[Path, str], b: tuple[Path, str]) -> bool:
    """Return whether two ``(base, pattern)`` spots may name a common file (erring towards yes)."""
    from fnmatch import fnmatchcase

    (base_a, pat_a), (base_b, pat_b) = a, b
    if base_a != base_b:  # nested folders: a pattern of the outer one may reach the inner one
        return base_a in base_b.parents or base_b in base_a.parents
    if not pat_a or not pat_b or pat_a == pat_b:
        return True
    if fnmatchcase(pat_a, pat_b) or fnmatchcase(pat_b, pat_a):
        return True
    if not any(c in pat_a + pat_b for c in "*?["):
        return False
    # two patterns: they can meet when their literal heads and tails are compatible
    head_a, head_b = (p.split("*")[0].split("?")[0].split("[")[0] for p in (pat_a, pat_b))
    tail_a, tail_b = (p.rsplit("*", 1)[-1] for p in (pat_a, pat_b))
    heads = head_a.startswith(head_b) or head_b.startswith(head_a)
    tails = tail_a.endswith(tail_b) or tail_b.endswith(tail_a)
    return heads and tails


def steps_graph(
    steps: tuple[NotebookStep, ...] | list[NotebookStep],
    params_of: dict[str, dict],
    out_dir: Path,
) -> dict[str, set[str]]:
    """Return, for each notebook, the earlier notebooks it must wait for.

    A notebook waits for an earlier one when it reads what that one writes, writes what that one
    reads (the earlier one must read the old version, as in a serial run) or writes what it writes.
    Each notebook also writes its executed copy (``notebooks_dir``, read by the report). Derived
    from the ``reads``/``writes`` of ``pipeline.yaml``; overlap is decided on paths and glob
    patterns, erring towards an edge.
    """
    reads: dict[str, list] = {}
    writes: dict[str, list] = {}
    for step in steps:
        params = params_of[step.name] | {"notebooks_dir": str(out_dir)}
        reads[step.name] = [s for e in step.reads for s in entry_spots(e, params)]
        writes[step.name] = [s for e in step.writes for s in entry_spots(e, params)]
        writes[step.name].append((out_dir.resolve(), step.path.name))

    def meet(xs: list, ys: list) -> bool:
        return any(_spots_overlap(x, y) for x in xs for y in ys)

    graph: dict[str, set[str]] = {}
    for i, later in enumerate(steps):
        graph[later.name] = {
            earlier.name
            for earlier in steps[:i]
            if meet(writes[earlier.name], reads[later.name])
            or meet(reads[earlier.name], writes[later.name])
            or meet(writes[earlier.name], writes[later.name])
        }
    return graph
