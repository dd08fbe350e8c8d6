"""Running the notebooks in pipeline order with papermill, configured by ``pipeline.yaml``.

``pipeline.yaml`` is the one place that says which notebooks run, in which order and with which
parameters. A notebook only ever receives the parameters it declares in its cell tagged
``parameters``, so a shared parameter such as ``tables_dir`` can be listed once for all notebooks.
Executed copies go to ``outputs/notebooks/``; nothing else is written here.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from helpers import paths
from helpers.errors import InputError, path_display
from helpers.tables import path_resolve

# paths already does this on import; repeated here so the kernels started below never write their
# caches to the user's home even if paths changes.
os.environ.setdefault("MPLCONFIGDIR", str(paths.CACHE / "matplotlib"))
os.environ.setdefault("IPYTHONDIR", str(paths.CACHE / "ipython"))

CONFIG_KEYS: frozenset[str] = frozenset({"kernel", "parameters", "notebooks", "cell_timeout"})
STEP_KEYS: frozenset[str] = frozenset({"path", "parameters", "reads", "writes"})
SUMMARY_COLUMNS: list[str] = [
    "notebook",
    "status",
    "why",
    "seconds",
    "output",
    "parameters",
    "written",
]
#: Status of a notebook in the run summary.
RAN, UP_TO_DATE, FAILED, NOT_RUN = "ran", "up to date", "failed", "not run"
#: Status in the manifest of a notebook being run, and of one stopped by Ctrl-C.
RUNNING, INTERRUPTED = "running", "interrupted"
#: Manifest statuses of a notebook whose products may be incomplete.
UNFINISHED = (RUNNING, FAILED, INTERRUPTED)
#: Version of the manifest layout; a manifest of another version is not used to skip notebooks.
MANIFEST_VERSION = 2


class PipelineError(Exception):
    """A configuration or notebook problem that stops a run; the message says what and where.

    ``summary`` holds the run summary up to the failure (same columns as the table returned by
    :func:`pipeline_run`) when the error happened while running, so callers can still show it.
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
    runner uses them to decide whether the notebook must run again (see :func:`pipeline_run`).
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


def parameters_parse(pairs: list[tuple[str, str]] | None) -> dict:
    """Return command-line ``-p NAME VALUE`` pairs as a dict of typed values (later pairs win).

    Values are read as YAML so numbers, booleans and lists arrive typed: ``50`` -> 50,
    ``false`` -> False, ``"[闽宁协作, 乡村振兴]"`` -> a list. Text stays exactly as typed (YAML
    would drop a `` #...`` tail as a comment or turn ``a: b`` into a mapping); quote it in YAML
    style (``"'50'"``) to force a string. An empty value gives ``""``.
    """
    out: dict = {}
    for name, text in pairs or []:
        if not name.isidentifier():
            raise PipelineError(f"-p {name}: not a valid parameter name")
        if text.strip() == "":
            out[name] = ""
            continue
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise PipelineError(f"-p {name}: cannot read {text!r} as a value: {err}") from err
        quoted = text.lstrip()[:1] in {"'", '"'}
        if (
            isinstance(value, str)
            and not quoted
            or isinstance(value, dict)
            and not text.lstrip().startswith("{")
        ):
            value = text
        out[name] = value
    return out


def _notebook_json(path: Path) -> dict:
    """Return a notebook file as JSON, or raise PipelineError naming it.

    Plain JSON rather than nbformat: importing nbformat costs seconds (its schema validator), which
    would be most of the time of a run where every notebook is up to date.
    """
    import json

    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PipelineError(f"not a readable notebook: {err}", path=path) from err
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise PipelineError("not a notebook (no list of cells)", path=path)
    return nb


def _cell_source(cell: dict) -> str:
    """Return a cell's source as one string (files store it as a list of lines or a string)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def notebook_parameters(path: str | Path) -> dict[str, str]:
    """Return the parameters a notebook declares, as name -> default (the source text).

    The declarations are the assignments of the cell tagged ``parameters`` (what papermill
    overrides). The runner passes a notebook only the parameters it declares, so a notebook
    without a cell tagged ``parameters`` cannot be run by it and is reported here.
    """
    import ast

    nb_path = path_resolve(path)
    nb = _notebook_json(nb_path)
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise PipelineError(
            "no cell tagged 'parameters' "
            "(in JupyterLab: select the cell, open the property inspector, add the tag)",
            path=nb_path,
        )
    source = _cell_source(cells[0])
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise PipelineError(
            f"the parameters cell is not valid Python: line {err.lineno}: {err.msg}", path=nb_path
        ) from err
    found: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            found[node.targets[0].id] = ast.get_source_segment(source, node.value) or ""
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
        ):
            found[node.target.id] = ast.get_source_segment(source, node.value) or ""
    return found


def _cache_dirs_ensure() -> None:
    """Create the matplotlib and IPython cache folders named in the environment.

    IPython falls back to a temporary folder (with a warning) when the parent of IPYTHONDIR is
    missing, which would put the kernels' caches outside the project again.
    """
    for variable in ("MPLCONFIGDIR", "IPYTHONDIR"):
        Path(os.environ[variable]).mkdir(parents=True, exist_ok=True)
    # The kernels' own log (ipykernel's "running over TCP without encryption" notice on every start,
    # nbconvert's alt-text remarks) is noise in a run's output; errors in cells are still reported.
    config = Path(os.environ["IPYTHONDIR"]) / "profile_default" / "ipython_kernel_config.py"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("c.IPKernelApp.log_level = 'ERROR'\n", encoding="utf-8")


def _spec_is_this_python(argv: list[str]) -> bool:
    """Return whether a kernelspec command starts this interpreter.

    jupyter_client replaces a bare ``python``/``python3``/``python3.X`` with ``sys.executable``.
    """
    if not argv:
        return False
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    if argv[0] in bare:
        return True
    return os.path.abspath(argv[0]) == os.path.abspath(sys.executable)


def kernel_ensure(name: str) -> str:
    """Make sure kernelspec ``name`` runs this interpreter, installing it if needed; return name.

    Notebooks must run with the project's environment (the one running this code), not whatever
    ``python3`` kernel Jupyter finds first; installing into ``sys.prefix`` keeps it inside the env.
    """
    _cache_dirs_ensure()
    from ipykernel.kernelspec import install
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    def runs_here() -> bool:
        try:
            spec = KernelSpecManager().get_kernel_spec(name)
        except NoSuchKernel:
            return False
        return _spec_is_this_python(list(spec.argv))

    if runs_here():
        return name
    install(kernel_name=name, prefix=sys.prefix, display_name=f"Python ({name})")
    if not runs_here():
        found = KernelSpecManager().find_kernel_specs().get(name)
        raise PipelineError(
            f"kernel '{name}': the kernelspec at {found} runs another Python than "
            f"{sys.executable}; remove it (jupyter kernelspec remove {name}) and run again"
        )
    return name


def _steps_select(config: PipelineConfig, only: list[str] | None) -> list[NotebookStep]:
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


def _error_message(step: NotebookStep, err: Exception, output: Path) -> str:
    """Return a readable message for a cell error raised by papermill while running ``step``.

    The exception and its message come first: they name the cause (a helper's error says which file,
    line or field and what to do); where it happened and the executed copy follow.
    """
    evalue = str(err.evalue).strip() or "(no message)"
    return (
        f"notebook {step.name} failed: {err.ename}: {evalue}\n"
        f"  in cell {err.cell_index} (In [{err.exec_count}]) of the executed copy, with the "
        f"traceback: {output}\n"
        "  (cell numbers count from 0 in the executed copy, which has the injected parameters cell)"
    )


# --------------------------------------------------------------------------------------------------
# What a notebook depends on: its inputs, parameters, cells and helpers modules
# --------------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entry_files(entry: str, params: dict) -> list[Path]:
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


def _entries_hash(
    entries: tuple[str, ...], params: dict, exclude: set[Path] = frozenset()
) -> dict[str, str]:
    """Return ``{path: sha256}`` of every file the entries name (``exclude`` left out).

    Manifest keys are resolved paths (relative to the project when inside it), so a file reached
    through a symbolic link keeps one key from run to run.
    """
    files = {p for entry in entries for p in _entry_files(entry, params)} - set(exclude)
    return {path_display(p.resolve()): _sha256(p) for p in sorted(files)}


def _matches(path: Path, entries: tuple[str, ...], params: dict) -> bool:
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


def notebook_source_hash(path: str | Path) -> str:
    """Return the SHA-256 of a notebook's cells (type and source), ignoring outputs and metadata.

    A notebook saved from JupyterLab with its outputs, or with other execution counts, has not
    changed for the pipeline; an edited cell, markdown included (the report shows it), has.
    """
    import hashlib
    import json

    nb = _notebook_json(path_resolve(path))
    cells = [[c.get("cell_type"), _cell_source(c)] for c in nb["cells"]]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


def _helpers_imports(source: str, package: str = "helpers") -> set[str]:
    """Return the ``helpers`` module names (``helpers.coding``) that Python source imports."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:  # a notebook cell with IPython magics: read line by line instead
        found: set[str] = set()
        for line in source.splitlines():
            if line.lstrip().startswith(("import ", "from ")):
                found |= _helpers_imports(line.strip(), package)
        return found
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == package}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative import inside the package
                module = f"{package}.{module}" if module else package
            if module.split(".")[0] != package:
                continue
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names}
    return found


def helpers_modules(notebook: str | Path) -> list[Path]:
    """Return the source files of the ``helpers`` modules a notebook imports, directly or not.

    Found by parsing the import statements of the notebook's code cells and then of each module
    (``from helpers import coding``, ``from helpers.tables import …``, relative imports), so a
    change to ``helpers/summaries.py`` re-runs notebook 04 and not notebook 02.
    ``helpers/__init__.py`` is always included (it runs on any import).
    """
    package_dir = Path(__file__).resolve().parent

    def module_file(name: str) -> Path | None:
        parts = name.split(".")[1:]
        if not parts:
            return package_dir / "__init__.py"
        f = package_dir.joinpath(*parts).with_suffix(".py")
        if f.is_file():
            return f
        f = package_dir.joinpath(*parts, "__init__.py")
        return f if f.is_file() else None

    nb = _notebook_json(path_resolve(notebook))
    todo = set()
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            todo |= _helpers_imports(_cell_source(cell))
    todo.add("helpers")
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        f = module_file(name)
        if f is None or name in seen:
            continue
        seen[name] = f
        todo |= _helpers_imports(f.read_text(encoding="utf-8")) - set(seen)
    return sorted(set(seen.values()))


def step_key(step: NotebookStep, params: dict, output: Path) -> dict:
    """Return what a notebook's results depend on, as recorded in the manifest.

    ``source`` (its cells), ``parameters``, ``inputs`` (hashes of what it ``reads``, upstream
    products included, its own executed copy excluded), ``code`` (hashes of the ``helpers``
    modules it imports) and ``environment`` (the lock file and Python version).
    """
    import platform

    lock = paths.ROOT / "requirements.lock"
    return {
        "source": notebook_source_hash(step.path),
        "parameters": json_safe(params),
        "inputs": _entries_hash(step.reads, params, exclude={output.resolve()}),
        "code": {path_display(f.resolve()): _sha256(f) for f in helpers_modules(step.path)},
        "environment": {
            "python": platform.python_version(),
            "requirements.lock": _sha256(lock) if lock.is_file() else None,
        },
    }


def _changed(old: dict, new: dict) -> list[str]:
    """Return the keys whose values differ between two ``{name: hash}`` maps (added/removed too)."""
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _short(names: list[str], limit: int = 3) -> str:
    """Return ``a, b, c and 2 more`` with file names shortened to their last part."""
    shown = [Path(n).name or n for n in names[:limit]]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(shown) + more


def step_reasons(
    previous: dict | None, key: dict, step: NotebookStep, params: dict, output: Path
) -> list[str]:
    """Return why a notebook must run again (empty: it is up to date).

    Compares the notebook's key (:func:`step_key`) with the one recorded after its last successful
    run, and checks that its products (the executed copy included) still exist with the recorded
    hashes.
    """
    if not previous or previous.get("status") != RAN or "key" not in previous:
        status = (previous or {}).get("status")
        if status in (FAILED, INTERRUPTED):
            return [f"it {status} last time"]
        if status == RUNNING:
            return ["its last run did not finish"]
        return ["no record of an earlier run"]
    old = previous["key"]
    reasons = []
    if old.get("source") != key["source"]:
        reasons.append("the notebook changed")
    changed = _changed(old.get("parameters", {}), key["parameters"])
    if changed:
        reasons.append(f"parameter {', '.join(changed)} changed")
    changed = _changed(old.get("inputs", {}), key["inputs"])
    if changed:
        reasons.append(f"{_short(changed)} changed")
    changed = _changed(old.get("code", {}), key["code"])
    if changed:
        reasons.append(f"helpers code changed ({_short(changed)})")
    if old.get("environment") != key["environment"]:
        reasons.append("the environment changed (requirements.lock or Python)")
    products = dict(previous.get("products", {}))
    now = _entries_hash(step.writes, params)
    if output.is_file():
        now[path_display(output.resolve())] = _sha256(output)
    missing = [p for p in products if p not in now]
    altered = [p for p in products if p in now and now[p] != products[p]]
    if missing:
        reasons.append(f"{_short(missing)} missing")
    if altered:
        reasons.append(f"{_short(altered)} altered since it ran")
    return reasons


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
            name, _, pattern = entry.partition("/")
            value = params_of[step.name].get(name)
            for v in value if isinstance(value, list | tuple) else [value]:
                if v is None or (isinstance(v, str) and not v.strip()):
                    continue
                base = path_resolve(str(v)).resolve()
                dirs.add(base if pattern else base.parent)
    return dirs


# --------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------


def manifest_read(path: str | Path) -> dict:
    """Return the run manifest at ``path`` (``{}`` if missing, unreadable or of another layout)."""
    import json

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION else {}


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
    steps = _steps_select(config, only)
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
                before = (_entries_hash(step.writes, params), _files_snapshot(watched))
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
            products = _entries_hash(step.writes, params)
            written = {
                p: "new"
                if p not in before_products
                else "changed"
                if before_products[p] != h
                else "same"
                for p, h in products.items()
            }
            products[path_display(output.resolve())] = _sha256(output)
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
                and not _matches(p, step.writes, params)
                and not any(_matches(p, o.writes, params_of[o.name]) for o in others)
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
                "unfinished_products": sorted(_entries_hash(step.writes, params)),
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
            _KERNEL_STOP.set()
            tasks_cancel()
            for name in list(_KERNELS):
                _kernel_kill(name)
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
        _KERNEL_STOP.clear()
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


def json_safe(value: Any) -> Any:
    """Return ``value`` as it reads back from JSON (tuples become lists, paths strings)."""
    import json

    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _now() -> str:
    """Return the current time as ``2026-11-29 20:41:03 UTC`` (manifest and messages)."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --------------------------------------------------------------------------------------------------
# Checks before anything runs: parameter types, output folders, unfinished upstream notebooks
# --------------------------------------------------------------------------------------------------


def _default_value(source: str) -> tuple[bool, Any]:
    """Return ``(True, value)`` for a literal default of a parameter, else ``(False, None)``."""
    import ast

    try:
        return True, ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _type_name(value: Any) -> str:
    """Return how a value's type is called in messages: text, whole number, number, …"""
    names = {bool: "true/false", int: "whole number", float: "number", str: "text", list: "list"}
    names |= {tuple: "list", dict: "mapping"}
    return names.get(type(value), type(value).__name__)


def value_fits(value: Any, default: Any) -> bool:
    """Return whether ``value`` may replace a parameter whose default is ``default``.

    Same type as the default, with three allowances: a None default accepts anything, a None
    value is accepted (the notebook's own "not given"), and a whole number stands for a float
    (``confidence_level 1`` is 1.0). ``True`` is not a whole number here, nor ``1`` a boolean.
    """
    if default is None or value is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


_ANNOTATION_TYPES = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
    "None": type(None),
}
_TYPE_COMMENT = re.compile(r"^(?P<name>\w+)\s*=[^#]*#\s*type:\s*(?P<types>[\w|]+)")


def notebook_parameter_types(path: str | Path) -> dict[str, tuple[type, ...]]:
    """Return the types a parameters cell declares in papermill's way: ``n = 6  # type: int|list``.

    A parameter that may be a number or a list (``figure_documents``) says so in a type comment
    (papermill reads the same comment for ``--help-notebook``); :func:`parameters_typecheck` then
    accepts any of the named types instead of the default's alone. Names joined by ``|``: int,
    float, str, bool, list, dict, None.
    """
    nb = _notebook_json(path_resolve(path))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    found: dict[str, tuple[type, ...]] = {}
    for line in _cell_source(cells[0]).splitlines() if cells else []:
        match = _TYPE_COMMENT.match(line)
        if match:
            listed = match.group("types").split("|")
            if all(n in _ANNOTATION_TYPES for n in listed):
                found[match.group("name")] = tuple(_ANNOTATION_TYPES[n] for n in listed)
    return found


def parameters_typecheck(
    step: NotebookStep,
    defaults: dict[str, str],
    params: dict,
    overrides: dict,
    config: PipelineConfig,
) -> None:
    """Raise PipelineError when a parameter's value does not fit its default's type.

    ``defaults`` are the notebook's declarations (:func:`notebook_parameters`); defaults that are
    not literals (an expression) are not checked. The message names the parameter, the notebook,
    where the value came from, the expected type and the value, so ``-p sample_size abc`` fails
    before any notebook runs instead of inside notebook 01.
    """
    annotated = notebook_parameter_types(step.path)
    for name, value in params.items():
        if name not in defaults:
            continue
        if name in annotated:
            if any(value_fits(value, t()) for t in annotated[name] if t is not type(None)):
                continue
            if value is None:
                continue
        literal, default = _default_value(defaults[name])
        if not literal or (name not in annotated and value_fits(value, default)):
            continue
        origin = (
            f"-p {name}"
            if name in overrides
            else f"{config.source.name}, {step.name}'s parameters"
            if name in step.parameters
            else f"{config.source.name}, parameters"
        )
        expected = (
            " or ".join("None" if t is type(None) else _type_name(t()) for t in annotated[name])
            if name in annotated
            else _type_name(default)
        )
        raise PipelineError(
            f"parameter {name} of {step.name}: expected a {expected} like its default "
            f"{defaults[name]}, got {value!r} (a {_type_name(value)}) from {origin}"
            + (
                "; quote it in YAML style to pass text, e.g. -p NAME \"'50'\""
                if isinstance(default, str)
                else ""
            )
        )


def _entry_values(entry: str, params: dict) -> list[tuple[Path, str]]:
    """Return ``(folder or file, pattern)`` pairs an entry names; pattern ``""`` means all of it."""
    name, _, pattern = entry.partition("/")
    value = params.get(name)
    out = []
    for v in value if isinstance(value, list | tuple) else [value]:
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        out.append((path_resolve(str(v)).resolve(), pattern))
    return out


def outputs_where_check(
    steps: list[NotebookStep],
    params_of: dict[str, dict],
    overrides: dict,
    *,
    project: Path,
    allow_outside: bool = False,
) -> None:
    """Raise PipelineError when a notebook would write inside ``raw_dir`` or outside the project.

    The output parameters are those a step's ``writes`` start with (``tables_dir``,
    ``processed_dir``, …). The documents in ``raw_dir`` are never written, whatever the flags;
    a folder outside ``project`` (the folder of ``pipeline.yaml``) needs ``allow_outside``
    (``--allow-outside``), so a mistyped ``-p tables_dir ../..`` does not scatter files.
    """
    raw = {paths.RAW.resolve()}
    for params in params_of.values():
        raw |= {p for p, _ in _entry_values("raw_dir", params)}
    project = project.resolve()
    for step in steps:
        params = params_of[step.name]
        for entry in step.writes:
            name = entry.split("/", 1)[0]
            if name == "notebooks_dir":
                continue
            given = f"-p {name}" if name in overrides else f"parameter {name}"
            for where, _ in _entry_values(entry, params):
                inside = [r for r in raw if where == r or r in where.parents or where in r.parents]
                if inside:
                    raise PipelineError(
                        f"{given} = {params[name]}: {step.name} would write into {where}, which "
                        f"holds or is inside raw_dir ({inside[0]}); the documents are never "
                        "written: choose another folder"
                    )
                if not allow_outside and where != project and project not in where.parents:
                    raise PipelineError(
                        f"{given} = {params[name]}: {step.name} would write to {where}, outside "
                        f"the project ({project}); use a folder inside it, or pass "
                        "--allow-outside if that is intended"
                    )


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
        reads[step.name] = [s for e in step.reads for s in _entry_values(e, params)]
        writes[step.name] = [s for e in step.writes for s in _entry_values(e, params)]
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


# --------------------------------------------------------------------------------------------------
# Executing one notebook (in a worker thread)
# --------------------------------------------------------------------------------------------------

#: The kernel manager of each notebook running now, so Ctrl-C can shut its kernel down.
_KERNELS: dict[str, Any] = {}
#: Set on Ctrl-C: kernels about to start are shut down at once.
_KERNEL_STOP = threading.Event()
#: Name of the papermill engine registered by :func:`_engine_name`.
ENGINE = "minning-prestarted"


def _kernel_kill(name: str) -> None:
    """Stop the kernel process of notebook ``name`` (if it has one); its run then ends at once."""
    km = _KERNELS.get(name)
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        process.kill()


def _engine_name() -> str:
    """Register (once) and return a papermill engine that runs a notebook in a started kernel.

    papermill's own engine only shuts down kernels it started itself; this one is given the kernel
    manager of a kernel started ahead (:class:`NotebookTask`) and shuts it down when done.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE in papermill_engines._engines:
        return ENGINE

    class PrestartedEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            kwargs.pop("input_path", None)
            kwargs.pop("timeout", None)
            kwargs.pop("startup_timeout", None)
            client = PapermillNotebookClient(
                nb_man,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            return client.execute(cleanup_kc=True)  # shut the given kernel down at the end

    papermill_engines.register(ENGINE, PrestartedEngine)
    return ENGINE


async def _kernel_start(km: Any, timeout: float = 60, log: Path | None = None) -> None:
    """Start the kernel of ``km`` in the repository root and wait until it answers.

    Waiting here (not only launching the process) makes ``kernel_start_seconds`` the real start-up
    (interpreter, IPython, the kernel's imports) and lets the notebook begin at once when its turn
    comes. papermill's ``cwd`` would change the folder of the whole process, shared by threads.
    """
    if log is None:
        await km._async_start_kernel(cwd=str(paths.ROOT))
    else:
        # the kernel process's own stderr (not the cells' output, which reaches the notebook) goes
        # to a log file: jupyter_client interrupts a kernel before shutting it down, and an idle
        # kernel then prints "KeyboardInterrupt caught in kernel" into the run's output
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w", encoding="utf-8") as stream:
            await km._async_start_kernel(cwd=str(paths.ROOT), stderr=stream)
    kc = km.client()
    kc.start_channels()
    try:
        await kc._async_wait_for_ready(timeout=timeout)
    finally:
        kc.stop_channels()


class NotebookTask:
    """One notebook's run in a worker thread: start its kernel at once, run the cells on ``go``.

    The kernel (1-2 s: the interpreter, IPython, the kernel's own imports) starts while the
    notebooks before it still run; the main thread then calls :meth:`go` once they are done and
    the notebook must run, or :meth:`cancel` (up to date, or the run stopped). Start-up and run
    happen in the same thread, on its one event loop, as jupyter_client needs.
    """

    def __init__(self, step: NotebookStep, kernel: str) -> None:
        self.step = step
        self.kernel = kernel
        self.kernel_seconds = 0.0
        self._decided = threading.Event()
        self._run: tuple | None = None  # (output, params, progress, cell_timeout) once go

    def go(self, output: Path, params: dict, progress: bool, cell_timeout: int | None) -> None:
        """Run the notebook now (its kernel is started or starting)."""
        self._run = (output, params, progress, cell_timeout)
        self._decided.set()

    def cancel(self) -> None:
        """Do not run it: shut its kernel down."""
        self._decided.set()

    def __call__(self) -> tuple[str, str | None, Exception | None] | None:
        """Start the kernel, wait for the decision; return what :func:`_execute` returns or None."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        name = self.step.name
        km = AsyncKernelManager(kernel_name=self.kernel)
        started = time.perf_counter()
        start_error: Exception | None = None
        try:
            if _KERNEL_STOP.is_set():
                raise KeyboardInterrupt
            _KERNELS[name] = km
            run_sync(_kernel_start)(km, log=paths.CACHE / "kernels" / f"{name}.log")
        except (Exception, KeyboardInterrupt) as err:
            start_error = err
        self.kernel_seconds = time.perf_counter() - started
        self._decided.wait()
        try:
            if self._run is None or start_error is not None or _KERNEL_STOP.is_set():
                if self._run is None or _KERNEL_STOP.is_set():
                    return None
                return (
                    FAILED,
                    f"notebook {name} could not run: its kernel did not start: "
                    f"{type(start_error).__name__}: {start_error}",
                    start_error,
                )
            output, params, progress, cell_timeout = self._run
            return _execute(self.step, output, params, km, progress, cell_timeout)
        finally:
            _KERNELS.pop(name, None)
            if km.has_kernel:
                with contextlib.suppress(Exception):
                    run_sync(km._async_shutdown_kernel)(now=True)


def _cell_where(path: Path, err: Exception) -> str:
    """Return ``cell N ("first line")`` of the notebook cell a timeout names (best effort)."""
    text = str(err)
    preview = text.split("-------------------")[1].strip() if "-----" in text else ""
    first = preview.splitlines()[0].strip() if preview else ""
    try:
        cells = _notebook_json(path)["cells"]
    except PipelineError:
        cells = []
    for i, cell in enumerate(cells):
        lines = [ln.strip() for ln in _cell_source(cell).splitlines() if ln.strip()]
        if first and lines and lines[0] == first:
            return f'cell {i + 1} ("{first}")'
    return f'the cell starting "{first}"' if first else "a cell"


def _execute(
    step: NotebookStep,
    output: Path,
    params: dict,
    km: Any,
    progress: bool,
    cell_timeout: int | None = None,
) -> tuple[str, str | None, Exception | None]:
    """Run one notebook with papermill in the started kernel of ``km``.

    Return (status, error message or None, exception or None). The kernel was started in the
    repository root (papermill's ``cwd`` would change the folder of the whole process, which
    other notebooks' threads share).
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(step.path),
            str(output),
            parameters=params,
            engine_name=_engine_name(),
            kernel_name=km.kernel_name,
            language="python",
            progress_bar=progress,
            request_save_on_cell_execute=False,
            execution_timeout=cell_timeout,
            km=km,
        )
    except PapermillExecutionError as err:
        return FAILED, _error_message(step, err, output), err
    except CellTimeoutError as err:
        error = (
            f"notebook {step.name}: {_cell_where(step.path, err)} ran longer than "
            f"cell_timeout ({cell_timeout} s, in pipeline.yaml); raise cell_timeout for a large "
            "corpus, or look at what the cell waits for (cells count from 1, as in JupyterLab)"
        )
        if output.exists():
            error += f"\n  executed copy: {output}"
        return FAILED, error, err
    except (Exception, KeyboardInterrupt) as err:  # kernel died or could not start, ...
        error = f"notebook {step.name} could not run: {type(err).__name__}: {err}"
        if output.exists():
            error += f"\n  executed copy: {output}"
        return FAILED, error, err
    return RAN, None, None


#: Inputs whose hashes go into the run manifest (relative to the repository root).
MANIFEST_INPUTS = (
    "data/raw/*",
    "data/corpus.csv",
    "data/codebook.yaml",
    "data/dictionaries/*",
    "data/annotations/*.csv",
    "pipeline.yaml",
    "requirements.lock",
)
MANIFEST_PACKAGES = (
    "jieba",
    "rjieba",
    "pandas",
    "numpy",
    "scipy",
    "matplotlib",
    "seaborn",
    "wordcloud",
    "networkx",
    "papermill",
    "nbconvert",
    "opencc",
    "pyahocorasick",
    "stopwordsiso",
    "mplfonts",
    "openpyxl",
    "charset-normalizer",
    "cn2an",
    "krippendorff",
    "dask",
)


def manifest_write(
    notebooks: list[dict] | pd.DataFrame, path: str | Path = paths.OUTPUTS / "manifest.json"
) -> Path:
    """Write the run manifest and return its path.

    It records what a result depends on: the SHA-256 of every input (raw documents, corpus table,
    codebook, dictionaries, annotations, the run configuration and the lock file), the Python and
    package versions, and per notebook its last run: status, seconds, why it ran, its key (cells,
    parameters, input hashes, ``helpers`` module hashes, environment; see :func:`step_key`) and the
    hashes of its products. :func:`pipeline_run` reads it back to skip notebooks that are up to
    date.
    A summary table (old callers) is accepted and recorded without keys.
    """
    import importlib.metadata as md
    import json
    import platform

    if isinstance(notebooks, pd.DataFrame):
        notebooks = [
            {
                "notebook": r["notebook"],
                "status": r["status"],
                "seconds": r["seconds"],
                "parameters": r.get("parameters") or {},
            }
            for r in notebooks.to_dict("records")
        ]
    inputs = {}
    for pattern in MANIFEST_INPUTS:
        for f in sorted(paths.ROOT.glob(pattern)):
            if f.is_file() and not f.name.startswith("."):
                inputs[f.relative_to(paths.ROOT).as_posix()] = _sha256(f)
    versions = {}
    for name in MANIFEST_PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    manifest = {
        "version": MANIFEST_VERSION,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "packages": versions,
        "inputs": inputs,
        "notebooks": list(notebooks),
        "total_seconds": round(sum(float(e.get("seconds") or 0) for e in notebooks), 1),
    }
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    tmp.replace(out)
    return out


#: Committed results that a re-run must reproduce byte for byte.
CHECKED_OUTPUTS = ("outputs/tables", "outputs/figures")
#: Committed results that are regenerated but not compared, with the reason (see README).
UNCHECKED_OUTPUTS: dict[str, str] = {}


#: What can change a result, for the "inputs changed since the last commit" line of outputs_diff.
RESULT_INPUTS = ("data", "notebooks", "src/helpers", "pipeline.yaml", "requirements.lock")
#: Lines of diff shown by outputs_diff after the summary.
DIFF_LINES = 200


def outputs_diff(
    root: str | Path = paths.ROOT,
    dirs: tuple[str, ...] = CHECKED_OUTPUTS,
    exclude: tuple[str, ...] = tuple(UNCHECKED_OUTPUTS),
    *,
    max_lines: int = DIFF_LINES,
) -> tuple[bool, str]:
    """Compare the regenerated results with the committed ones; return ``(same, report)``.

    Uses git: any file under ``dirs`` that is modified, deleted or new (untracked) after a run is a
    difference. The report starts with the verdict and a summary (files changed, added, removed,
    and the inputs — data, notebooks, ``helpers`` code, configuration — changed since the commit
    that holds the committed outputs, committed or not, which usually explain the difference), then
    at most ``max_lines`` lines of the diff of the changed CSV and Markdown files; SVG and other
    figure files are only named (their text is thousands of lines of path data). ``exclude`` lists
    pathspecs left out of the comparison.
    """
    import subprocess

    root = Path(root)
    specs = [*dirs, *(f":(exclude){e}" for e in exclude)]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout

    status = git("status", "--porcelain", "--untracked-files=all", "--", *specs)
    if not status.strip():
        return True, "outputs reproduced: no committed table or figure changed"
    kinds: dict[str, list[str]] = {"changed": [], "added": [], "removed": []}
    for line in status.splitlines():
        code, name = line[:2], line[3:]
        kinds[
            "added" if "?" in code or "A" in code else "removed" if "D" in code else "changed"
        ].append(name)
    # inputs changed since the committed outputs were made: in later commits, or not committed yet
    made = git("log", "-1", "--format=%H", "--", *dirs).strip()
    inputs = sorted(
        set(git("diff", "--name-only", made, "--", *RESULT_INPUTS).split())
        if made
        else set()
        | {
            line[3:]
            for line in git(
                "status", "--porcelain", "--untracked-files=all", "--", *RESULT_INPUTS
            ).splitlines()
        }
    )
    lines = [
        f"outputs differ from the committed ones: {len(kinds['changed'])} changed, "
        f"{len(kinds['added'])} added, {len(kinds['removed'])} removed "
        "(commit them if the change is intended)"
    ]
    for kind, names in kinds.items():
        if names:
            lines.append(f"  {kind}: " + ", ".join(names))
    since = f"commit {made[:7]}, which holds the committed outputs" if made else "the last commit"
    lines.append(
        f"inputs changed since {since}: "
        + (", ".join(inputs) if inputs else "none (so the environment made the difference)")
    )
    text_specs = [
        f for f in kinds["changed"] if Path(f).suffix.lower() in {".csv", ".md", ".txt", ".json"}
    ]
    if text_specs:
        diff = (
            git("diff", "--no-color", "--stat", "--", *text_specs)
            + "\n"
            + git("diff", "--no-color", "--", *text_specs)
        )
        diff_lines = diff.rstrip().splitlines()
        shown = min(max_lines, len(diff_lines))
        lines += [
            "",
            f"diff of the changed tables (first {shown} of {len(diff_lines)} lines; figures are "
            "listed above, not diffed):",
            *diff_lines[:max_lines],
        ]
        if len(diff_lines) > max_lines:
            lines.append(
                f"… {len(diff_lines) - max_lines} more lines: git diff -- {' '.join(dirs)}"
            )
    return False, "\n".join(lines)
