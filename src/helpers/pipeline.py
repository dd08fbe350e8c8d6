"""Running the notebooks in pipeline order with papermill, configured by ``pipeline.yaml``.

``pipeline.yaml`` is the one place that says which notebooks run, in which order and with which
parameters. A notebook only ever receives the parameters it declares in its cell tagged
``parameters``, so a shared parameter such as ``tables_dir`` can be listed once for all notebooks.
Executed copies go to ``outputs/notebooks/``; nothing else is written here.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from helpers import paths
from helpers.tables import path_resolve

# paths already does this on import; repeated here so the kernels started below never write their
# caches to the user's home even if paths changes.
os.environ.setdefault("MPLCONFIGDIR", str(paths.CACHE / "matplotlib"))
os.environ.setdefault("IPYTHONDIR", str(paths.CACHE / "ipython"))

CONFIG_KEYS: frozenset[str] = frozenset({"kernel", "parameters", "notebooks"})
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
#: Version of the manifest layout; a manifest of another version is not used to skip notebooks.
MANIFEST_VERSION = 2


class PipelineError(Exception):
    """A configuration or notebook problem that stops a run; the message says what and where.

    ``summary`` holds the run summary up to the failure (same columns as the table returned by
    :func:`pipeline_run`) when the error happened while running, so callers can still show it.
    """

    def __init__(self, message: str, summary: pd.DataFrame | None = None) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass(frozen=True)
class NotebookStep:
    """One notebook of the pipeline, the parameters given to it alone, and what it reads and writes.

    ``reads`` and ``writes`` are entries ``NAME`` (the file, folder or list of files parameter ``NAME``
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


def _mapping_check(value: Any, where: str, source: Path) -> dict:
    """Return ``value`` as a dict of parameters (``None`` counts as empty), or raise PipelineError.

    ``None`` is accepted because ``parameters:`` with every entry commented out loads as null.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PipelineError(
            f"{source}: '{where}' must be a mapping of NAME: VALUE, got {type(value).__name__}"
        )
    for name in value:
        if not isinstance(name, str) or not name.isidentifier():
            raise PipelineError(f"{source}: '{where}': {name!r} is not a valid parameter name")
    return dict(value)


def _entries_check(value: Any, where: str, source: Path) -> tuple[str, ...]:
    """Return a ``reads``/``writes`` list as a tuple of ``NAME`` or ``NAME/PATTERN`` strings."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PipelineError(f"{source}: '{where}' must be a list of NAME or NAME/PATTERN entries")
    for v in value:
        if not v.split("/", 1)[0].isidentifier():
            raise PipelineError(f"{source}: '{where}': {v!r} must start with a parameter name")
    return tuple(value)


def pipeline_read(path: str | Path = paths.PIPELINE_CONFIG) -> PipelineConfig:
    """Read and check the pipeline configuration; return it as a :class:`PipelineConfig`.

    Every problem found here would otherwise surface halfway through a long run (or never, for a
    misspelt key), so the file is checked up front and errors name the file and the key.
    Notebook paths are read relative to the repository root.
    """
    source = Path(path).resolve()
    if not source.is_file():
        raise PipelineError(f"{source}: pipeline configuration not found")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise PipelineError(f"{source}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise PipelineError(f"{source}: expected a mapping with keys {sorted(CONFIG_KEYS)}")

    unknown = sorted(set(map(str, raw)) - CONFIG_KEYS)
    if unknown:
        raise PipelineError(
            f"{source}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(CONFIG_KEYS))}"
        )
    if "kernel" not in raw:
        raise PipelineError(f"{source}: key 'kernel' is missing (the Jupyter kernel to run with)")
    kernel = raw["kernel"]
    if not isinstance(kernel, str) or not kernel.strip():
        raise PipelineError(f"{source}: 'kernel' must be a kernel name, got {kernel!r}")
    shared = _mapping_check(raw.get("parameters"), "parameters", source)

    if "notebooks" not in raw:
        raise PipelineError(f"{source}: key 'notebooks' is missing (the list of notebooks to run)")
    entries = raw["notebooks"]
    if not isinstance(entries, list) or not entries:
        raise PipelineError(f"{source}: 'notebooks' must be a non-empty list of {{path: ...}}")

    steps: list[NotebookStep] = []
    for i, entry in enumerate(entries):
        where = f"notebooks[{i}]"
        if not isinstance(entry, dict):
            raise PipelineError(f"{source}: '{where}' must be a mapping with a 'path' key")
        unknown = sorted(set(map(str, entry)) - STEP_KEYS)
        if unknown:
            raise PipelineError(
                f"{source}: '{where}': unknown key(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(sorted(STEP_KEYS))}"
            )
        if not isinstance(entry.get("path"), str) or not entry["path"].strip():
            raise PipelineError(f"{source}: '{where}.path' is missing or not a string")
        nb_path = path_resolve(entry["path"])
        if nb_path.suffix != ".ipynb":
            raise PipelineError(f"{source}: '{where}.path': {entry['path']} is not an .ipynb file")
        if not nb_path.is_file():
            raise PipelineError(f"{source}: '{where}.path': notebook not found: {nb_path}")
        if any(step.name == nb_path.stem for step in steps):
            raise PipelineError(
                f"{source}: '{where}.path': {nb_path.stem} is listed twice "
                "(executed copies are named after the notebook)"
            )
        params = _mapping_check(entry.get("parameters"), f"{where}.parameters", source)
        io = {
            key: _entries_check(entry.get(key), f"{where}.{key}", source)
            for key in ("reads", "writes")
        }
        steps.append(NotebookStep(path=nb_path, parameters=params, **io))

    return PipelineConfig(kernel=kernel, parameters=shared, steps=tuple(steps), source=source)


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
        if isinstance(value, str) and not quoted or isinstance(value, dict) and not text.lstrip().startswith("{"):
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
        raise PipelineError(f"{path}: not a readable notebook: {err}") from err
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise PipelineError(f"{path}: not a notebook (no list of cells)")
    return nb


def _cell_source(cell: dict) -> str:
    """Return a cell's source as one string (notebook files store it as a list of lines or a string)."""
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
            f"{nb_path}: no cell tagged 'parameters' "
            "(in JupyterLab: select the cell, open the property inspector, add the tag)"
        )
    source = _cell_source(cells[0])
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise PipelineError(
            f"{nb_path}: the parameters cell is not valid Python: line {err.lineno}: {err.msg}"
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
    bare = {"python", f"python{sys.version_info[0]}", "python%i.%i" % sys.version_info[:2]}
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
            f"{config.source}: --only {', '.join(missing)} matches no notebook; "
            f"listed: {', '.join(s.name for s in config.steps)}"
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
        f"  in cell {err.cell_index} (In [{err.exec_count}]) of the executed copy, with the traceback: "
        f"{output}\n"
        "  (cell numbers count from 0 in the executed copy, which has the injected parameters cell)"
    )


# --------------------------------------------------------------------------------------------------
# What a notebook depends on: its inputs, parameters, cells and helpers modules
# --------------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _display_path(path: Path) -> str:
    """Return ``path`` relative to the repository root when inside it (manifest keys), else absolute."""
    try:
        return path.resolve().relative_to(paths.ROOT).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _entry_files(entry: str, params: dict) -> list[Path]:
    """Return the existing files a ``reads``/``writes`` entry names, given a notebook's parameters.

    ``NAME`` is the parameter's value: a file, every file under a folder, or a list of either;
    ``NAME/PATTERN`` is a glob pattern inside the folder parameter ``NAME`` holds. A parameter set to
    None or an empty list names nothing.
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
    """Return ``{path: sha256}`` of every file the entries name (``exclude`` left out)."""
    files = {p for entry in entries for p in _entry_files(entry, params)} - set(exclude)
    return {_display_path(p): _sha256(p) for p in sorted(files)}


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
    (``from helpers import coding``, ``from helpers.tables import …``, relative imports), so a change
    to ``helpers/summaries.py`` re-runs notebook 04 and not notebook 02. ``helpers/__init__.py`` is
    always included (it runs on any import).
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

    ``source`` (its cells), ``parameters``, ``inputs`` (hashes of what it ``reads``, upstream products
    included, its own executed copy excluded), ``code`` (hashes of the ``helpers`` modules it imports)
    and ``environment`` (the lock file and Python version).
    """
    import platform

    lock = paths.ROOT / "requirements.lock"
    return {
        "source": notebook_source_hash(step.path),
        "parameters": json_safe(params),
        "inputs": _entries_hash(step.reads, params, exclude={output.resolve()}),
        "code": {_display_path(f): _sha256(f) for f in helpers_modules(step.path)},
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
        failed = previous and previous.get("status") == FAILED
        return ["it failed last time" if failed else "no record of an earlier run"]
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
        now[_display_path(output)] = _sha256(output)
    missing = [p for p in products if p not in now]
    altered = [p for p in products if p in now and now[p] != products[p]]
    if missing:
        reasons.append(f"{_short(missing)} missing")
    if altered:
        reasons.append(f"{_short(altered)} altered since it ran")
    return reasons


def _files_snapshot(dirs: set[Path]) -> dict[Path, int]:
    """Return ``{file: mtime_ns}`` of every file under the folders (to see what a notebook wrote)."""
    out: dict[Path, int] = {}
    for d in dirs:
        if d.is_dir():
            for p in d.rglob("*"):
                if p.is_file():
                    out[p.resolve()] = p.stat().st_mtime_ns
    return out


def _write_dirs(steps: list[NotebookStep], params_of: dict[str, dict]) -> set[Path]:
    """Return the folders the notebooks write into (the folders named by their ``writes`` entries)."""
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
    """Return the run manifest at ``path`` (``{}`` when missing, unreadable or of another layout)."""
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
) -> pd.DataFrame:
    """Execute the configured notebooks in order, skipping those that are up to date; return the summary.

    The summary has one row per selected notebook: notebook, status (``ran``, ``up to date``,
    ``failed``, ``not run``), why (the reasons it ran), seconds, output (the executed copy),
    parameters, written (``{path: "new" | "changed" | "same"}`` for each product of a notebook that
    ran).

    Each notebook gets the shared parameters it declares, then its step parameters, then the
    ``overrides`` it declares. Everything that can be checked without running (declared names,
    override and step parameter names) is checked first, so a typo fails in a second rather than
    after the first notebooks ran.

    Incremental runs, as make or ploomber: a notebook runs again only when its cells, parameters,
    inputs (its ``reads``, which include the products of the notebooks before it), the ``helpers``
    modules it imports or the environment changed since its last successful run recorded in the
    manifest (``manifest``, default ``<output_dir>/../manifest.json``), or when a product of that
    run is missing or altered. ``force`` runs every selected notebook. The decision is taken just
    before each notebook, after the ones before it ran, so an upstream product that came out
    byte-identical does not re-run what follows. The manifest is updated after every notebook
    (entries of notebooks not selected are kept), so a failed run resumes where it stopped.

    The run stops at the first failing notebook with a :class:`PipelineError`; papermill has then
    saved the executed copy with the traceback. Progress lines go to stderr.
    """
    overrides = dict(overrides or {})
    steps = _steps_select(config, only)
    declared = {step.name: notebook_parameters(step.path) for step in steps}

    for step in steps:
        extra = sorted(set(step.parameters) - set(declared[step.name]))
        if extra:
            raise PipelineError(
                f"{config.source}: parameters {', '.join(extra)} of {step.name} are not declared "
                f"by the notebook; it declares: {', '.join(declared[step.name]) or '(none)'}"
            )
        known = set(declared[step.name]) | {"notebooks_dir"}
        for key in ("reads", "writes"):
            bad = [e for e in getattr(step, key) if e.split("/", 1)[0] not in known]
            if bad:
                raise PipelineError(
                    f"{config.source}: {key} of {step.name}: {', '.join(bad)} must start with a "
                    f"parameter the notebook declares: {', '.join(declared[step.name]) or '(none)'}"
                )
    all_declared = sorted({name for names in declared.values() for name in names})
    unknown = sorted(set(overrides) - set(all_declared))
    if unknown:
        raise PipelineError(
            f"-p {', '.join(unknown)}: declared by none of the notebooks run "
            f"({', '.join(declared)}); declared parameters: {', '.join(all_declared) or '(none)'}"
        )

    out_dir = Path(output_dir).resolve()
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

    params_of: dict[str, dict] = {}
    for step in steps:
        names = declared[step.name]
        params_of[step.name] = (
            {k: v for k, v in config.parameters.items() if k in names}
            | {"notebooks_dir": str(out_dir)}  # this run's executed copies (passed if declared)
            | step.parameters
            | {k: v for k, v in overrides.items() if k in names}
        )
    watched = _write_dirs(steps, params_of)

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

    kernel = None
    for i, step in enumerate(steps):
        params = params_of[step.name]
        passed = {
            k: v for k, v in params.items() if k != "notebooks_dir" or k in declared[step.name]
        }
        output = out_dir / step.path.name
        label = f"[{i + 1}/{len(steps)}] {step.name} …"
        key = step_key(step, params, output) | {"parameters": json_safe(passed)}
        reasons = (
            ["--force"]
            if force
            else step_reasons(recorded.get(step.name), key, step, params, output)
        )
        if not reasons:
            rows[i].update(status=UP_TO_DATE, output=str(output), parameters=passed)
            print(f"{label} {UP_TO_DATE}", file=sys.stderr, flush=True)
            continue
        why = "; ".join(reasons)
        if kernel is None:
            kernel = kernel_ensure(config.kernel)
        if progress:  # name the notebook above its progress bar; the result line follows the bar
            print(f"{label} (why: {why})", file=sys.stderr, flush=True)
        before_products = _entries_hash(step.writes, params)
        before_files = _files_snapshot(watched)
        output.unlink(missing_ok=True)  # a copy from an earlier run must not pass for this one
        start = time.perf_counter()
        status, error, cause = _execute(step, output, passed, kernel, progress)
        seconds = time.perf_counter() - start
        written = {}
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
            products[_display_path(output)] = _sha256(output)
            entries[step.name] = {
                "notebook": step.name,
                "status": RAN,
                "seconds": round(seconds, 1),
                "why": why,
                "key": key,
                "products": products,
            }
            undeclared = sorted(
                _display_path(p)
                for p, t in _files_snapshot(watched).items()
                if before_files.get(p) != t and not _matches(p, step.writes, params)
            )
            if undeclared:
                print(
                    f"warning: {step.name} wrote files that its 'writes' in {config.source.name} do not "
                    f"declare, so a later run cannot check them: {', '.join(undeclared)}",
                    file=sys.stderr,
                    flush=True,
                )
        else:
            entries[step.name] = {
                "notebook": step.name,
                "status": FAILED,
                "seconds": round(seconds, 1),
                "why": why,
            }
        rows[i].update(
            status=status,
            why=why,
            seconds=round(seconds, 1),
            output=str(output),
            parameters=passed,
            written=written,
        )
        record()
        print(
            f"{label} {status} ({seconds:.1f} s){'' if progress else f'; why: {why}'}",
            file=sys.stderr,
            flush=True,
        )
        if error is not None:
            raise PipelineError(error, summary()) from cause
    if not any(r["status"] == RAN for r in rows):
        record()  # first run with this manifest layout, or only up-to-date notebooks: keep it current
    return summary()


def json_safe(value: Any) -> Any:
    """Return ``value`` as it reads back from JSON (tuples become lists, paths strings)."""
    import json

    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _execute(
    step: NotebookStep, output: Path, params: dict, kernel: str, progress: bool
) -> tuple[str, str | None, Exception | None]:
    """Run one notebook with papermill; return (status, error message or None, exception or None)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(step.path),
            str(output),
            parameters=params,
            kernel_name=kernel,
            language="python",
            progress_bar=progress,
            cwd=str(paths.ROOT),
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as err:
        return FAILED, _error_message(step, err, output), err
    except Exception as err:  # kernel died, timed out, could not start, ...
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
    hashes of its products. :func:`pipeline_run` reads it back to skip notebooks that are up to date.
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


#: What can change a result, for the "inputs changed since the last commit" line of outputs_check.
RESULT_INPUTS = ("data", "notebooks", "src/helpers", "pipeline.yaml", "requirements.lock")
#: Lines of diff shown by outputs_check after the summary.
DIFF_LINES = 200


def outputs_check(
    root: str | Path = paths.ROOT,
    dirs: tuple[str, ...] = CHECKED_OUTPUTS,
    exclude: tuple[str, ...] = tuple(UNCHECKED_OUTPUTS),
    *,
    max_lines: int = DIFF_LINES,
) -> tuple[bool, str]:
    """Compare the regenerated results with the committed ones; return ``(same, report)``.

    Uses git: any file under ``dirs`` that is modified, deleted or new (untracked) after a run is a
    difference. The report starts with the verdict and a summary (files changed, added, removed, and
    the inputs — data, notebooks, ``helpers`` code, configuration — changed since the commit that holds
    the committed outputs, committed or not, which usually explain the difference), then at most
    ``max_lines`` lines of the diff of the changed CSV and Markdown files; SVG and other figure files
    are only named (their text is thousands of lines of path data). ``exclude`` lists pathspecs left
    out of the comparison.
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
        f"outputs differ from the committed ones: {len(kinds['changed'])} changed, {len(kinds['added'])} "
        f"added, {len(kinds['removed'])} removed (commit them if the change is intended)"
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
