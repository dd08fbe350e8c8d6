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

import nbformat
import pandas as pd
import yaml

from helpers import paths
from helpers.tables import path_resolve

# paths already does this on import; repeated here so the kernels started below never write their
# caches to the user's home even if paths changes.
os.environ.setdefault("MPLCONFIGDIR", str(paths.CACHE / "matplotlib"))
os.environ.setdefault("IPYTHONDIR", str(paths.CACHE / "ipython"))

CONFIG_KEYS: frozenset[str] = frozenset({"kernel", "parameters", "notebooks"})
STEP_KEYS: frozenset[str] = frozenset({"path", "parameters"})
SUMMARY_COLUMNS: list[str] = ["notebook", "status", "seconds", "output", "parameters"]


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
    """One notebook of the pipeline and the parameters given to it alone."""

    path: Path
    parameters: dict

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
        steps.append(NotebookStep(path=nb_path, parameters=params))

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
        if isinstance(value, str) and not quoted:
            value = text
        elif isinstance(value, dict) and not text.lstrip().startswith("{"):
            value = text
        out[name] = value
    return out


def notebook_parameters(path: str | Path) -> dict[str, str]:
    """Return the parameters a notebook declares, as name -> default (the source text).

    The runner passes a notebook only the parameters it declares, so a notebook without a cell
    tagged ``parameters`` cannot be run by it and is reported here.
    """
    import papermill

    nb_path = path_resolve(path)
    nb = nbformat.read(nb_path, as_version=4)
    tagged = any("parameters" in cell.get("metadata", {}).get("tags", []) for cell in nb.cells)
    if not tagged:
        raise PipelineError(
            f"{nb_path}: no cell tagged 'parameters' "
            "(in JupyterLab: select the cell, open the property inspector, add the tag)"
        )
    try:
        found = papermill.inspect_notebook(nb_path)
    except ValueError as err:  # papermill needs the notebook's kernelspec metadata
        raise PipelineError(f"{nb_path}: cannot read its parameters: {err}") from err
    return {name: info["default"] for name, info in found.items()}


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
    """Return a readable message for a cell error raised by papermill while running ``step``."""
    source_lines = [line for line in str(err.source).splitlines() if line.strip()]
    first = f": {source_lines[0].strip()[:80]}" if source_lines else ""
    return (
        f"notebook {step.name} failed in cell {err.cell_index} (In [{err.exec_count}]){first}\n"
        f"  {err.ename}: {err.evalue}\n"
        f"  executed copy with the traceback: {output}\n"
        "  (cell numbers count from 0 in the executed copy, which has the injected parameters cell)"
    )


def pipeline_run(
    config: PipelineConfig,
    overrides: dict | None = None,
    *,
    only: list[str] | None = None,
    output_dir: str | Path = paths.EXECUTED_NOTEBOOKS,
    progress: bool = True,
) -> pd.DataFrame:
    """Execute the configured notebooks in order; return the summary table of the run.

    The summary has one row per selected notebook: notebook, status (ok), seconds, output (the
    executed copy).

    Each notebook gets the shared parameters it declares, then its step parameters, then the
    ``overrides`` it declares. Everything that can be checked without running (declared names,
    override and step parameter names) is checked first, so a typo fails in a second rather than
    after the first notebooks ran. The run stops at the first failing notebook with a
    :class:`PipelineError`; papermill has then saved the executed copy with the traceback.
    Progress lines go to stderr.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

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
    all_declared = sorted({name for names in declared.values() for name in names})
    unknown = sorted(set(overrides) - set(all_declared))
    if unknown:
        raise PipelineError(
            f"-p {', '.join(unknown)}: declared by none of the notebooks run "
            f"({', '.join(declared)}); declared parameters: {', '.join(all_declared) or '(none)'}"
        )

    kernel = kernel_ensure(config.kernel)
    out_dir = Path(output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    rows: list[dict] = [
        {"notebook": s.name, "status": "not run", "seconds": 0.0, "output": "", "parameters": {}} for s in steps
    ]
    # Python's string hashing is randomised per process; fixing it keeps set-ordered steps (graph
    # communities, layouts) identical between runs, so re-runs give byte-identical outputs.
    os.environ.setdefault("PYTHONHASHSEED", "0")

    def summary() -> pd.DataFrame:
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

    for i, step in enumerate(steps):
        names = declared[step.name]
        params = (
            {k: v for k, v in config.parameters.items() if k in names}
            | ({"notebooks_dir": str(out_dir)} if "notebooks_dir" in names else {})  # this run's executed copies
            | step.parameters
            | {k: v for k, v in overrides.items() if k in names}
        )
        output = out_dir / step.path.name
        label = f"[{i + 1}/{len(steps)}] {step.name} …"
        if progress:  # name the notebook above its progress bar; the result line follows the bar
            print(label, file=sys.stderr, flush=True)
        output.unlink(missing_ok=True)  # a copy from an earlier run must not pass for this one
        start = time.perf_counter()
        status, error, cause = "ok", None, None
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
            status, error, cause = "failed", _error_message(step, err, output), err
        except Exception as err:  # kernel died, timed out, could not start, ...
            status, cause = "failed", err
            error = f"notebook {step.name} could not run: {type(err).__name__}: {err}"
            if output.exists():
                error += f"\n  executed copy: {output}"
        seconds = time.perf_counter() - start
        rows[i].update(status=status, seconds=round(seconds, 1), output=str(output), parameters=params)
        result = f"{status} ({seconds:.1f} s)"
        print(f"{label} {result}", file=sys.stderr, flush=True)
        if error is not None:
            raise PipelineError(error, summary()) from cause
    return summary()


#: Inputs whose hashes go into the run manifest (relative to the repository root).
MANIFEST_INPUTS = ("data/raw/*", "data/corpus.csv", "data/codebook.yaml", "data/dictionaries/*",
                   "data/annotations/*.csv", "pipeline.yaml", "requirements.lock")
MANIFEST_PACKAGES = ("jieba", "rjieba", "pandas", "numpy", "scipy", "matplotlib", "seaborn", "wordcloud", "networkx",
                     "papermill", "nbconvert", "opencc", "pyahocorasick", "stopwordsiso", "mplfonts", "openpyxl",
                     "charset-normalizer", "cn2an", "krippendorff", "dask")


def manifest_write(summary: pd.DataFrame, path: str | Path = paths.OUTPUTS / "manifest.json") -> Path:
    """Write the run manifest and return its path.

    It records what a result depends on: the SHA-256 of every input (raw documents, corpus table,
    codebook, dictionaries, annotations, the run configuration and the lock file), the parameters
    each notebook ran with, the Python and package versions, and the time each notebook took.
    """
    import hashlib
    import importlib.metadata as md
    import json
    import platform

    inputs = {}
    for pattern in MANIFEST_INPUTS:
        for f in sorted(paths.ROOT.glob(pattern)):
            if f.is_file() and not f.name.startswith("."):
                inputs[f.relative_to(paths.ROOT).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    versions = {}
    for name in MANIFEST_PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    manifest = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "packages": versions,
        "inputs": inputs,
        "notebooks": [
            {"notebook": r["notebook"], "status": r["status"], "seconds": r["seconds"],
             "parameters": r.get("parameters") or {}}
            for r in summary.to_dict("records")
        ],
        "total_seconds": round(float(summary["seconds"].sum()), 1),
    }
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return out


#: Committed results that a re-run must reproduce byte for byte.
CHECKED_OUTPUTS = ("outputs/tables", "outputs/figures")
#: Committed results that are regenerated but not compared, with the reason (see README).
UNCHECKED_OUTPUTS: dict[str, str] = {}


def outputs_check(root: str | Path = paths.ROOT, dirs: tuple[str, ...] = CHECKED_OUTPUTS,
                  exclude: tuple[str, ...] = tuple(UNCHECKED_OUTPUTS)) -> tuple[bool, str]:
    """Compare the regenerated results with the committed ones; return ``(same, report)``.

    Uses git: any file under ``dirs`` that is modified, deleted or new (untracked) after a run is a
    difference; the report lists them and shows the diff of text files (CSV, Markdown, SVG), so CI
    prints what changed. ``exclude`` lists pathspecs left out of the comparison.
    """
    import subprocess

    root = Path(root)
    specs = [*dirs, *(f":(exclude){e}" for e in exclude)]

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout

    status = git("status", "--porcelain", "--untracked-files=all", "--", *specs)
    if not status.strip():
        return True, "outputs reproduced: no committed table or figure changed"
    diff = git("diff", "--no-color", "--", *specs)
    lines = ["outputs differ from the committed ones (commit them if the change is intended):", status.rstrip()]
    if diff.strip():
        lines += ["", diff.rstrip()]
    return False, "\n".join(lines)
