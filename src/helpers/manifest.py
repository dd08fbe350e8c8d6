"""The run manifest (``outputs/manifest.json``): what each notebook's last run depended on, made.

Per notebook its status (``running``, ``ran``, ``failed``, ``interrupted``), its key (cells,
parameters, input hashes, ``helpers`` module hashes, environment; :func:`step_key`) and the hashes
of its products; :func:`step_reasons` compares them with the present to decide whether it is up to
date. Also the hashes of every input and the package versions. Written atomically
(:func:`manifest_write`), read back by :func:`manifest_read`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import paths
from helpers.errors import path_display
from helpers.notebooks import helpers_modules, notebook_source_hash
from helpers.pipeline import FAILED, INTERRUPTED, RAN, RUNNING, NotebookStep, entry_files

#: Version of the manifest layout; a manifest of another version is not used to skip notebooks.
MANIFEST_VERSION = 2

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


def file_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def entries_hash(
    entries: tuple[str, ...], params: dict, exclude: set[Path] = frozenset()
) -> dict[str, str]:
    """Return ``{path: sha256}`` of every file the entries name (``exclude`` left out).

    Manifest keys are resolved paths (relative to the project when inside it), so a file reached
    through a symbolic link keeps one key from run to run.
    """
    files = {p for entry in entries for p in entry_files(entry, params)} - set(exclude)
    return {path_display(p.resolve()): file_sha256(p) for p in sorted(files)}


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
        "inputs": entries_hash(step.reads, params, exclude={output.resolve()}),
        "code": {path_display(f.resolve()): file_sha256(f) for f in helpers_modules(step.path)},
        "environment": {
            "python": platform.python_version(),
            "requirements.lock": file_sha256(lock) if lock.is_file() else None,
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
    now = entries_hash(step.writes, params)
    if output.is_file():
        now[path_display(output.resolve())] = file_sha256(output)
    missing = [p for p in products if p not in now]
    altered = [p for p in products if p in now and now[p] != products[p]]
    if missing:
        reasons.append(f"{_short(missing)} missing")
    if altered:
        reasons.append(f"{_short(altered)} altered since it ran")
    return reasons


def manifest_read(path: str | Path) -> dict:
    """Return the run manifest at ``path`` (``{}`` if missing, unreadable or of another layout)."""
    import json

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION else {}


def manifest_write(
    notebooks: list[dict] | pd.DataFrame, path: str | Path = paths.OUTPUTS / "manifest.json"
) -> Path:
    """Write the run manifest and return its path.

    It records what a result depends on: the SHA-256 of every input (raw documents, corpus table,
    codebook, dictionaries, annotations, the run configuration and the lock file), the Python and
    package versions, and per notebook its last run: status, seconds, why it ran, its key (cells,
    parameters, input hashes, ``helpers`` module hashes, environment; see :func:`step_key`) and the
    hashes of its products. :func:`~helpers.runner.pipeline_run` reads it back to skip notebooks
    that are up to date.
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
                inputs[f.relative_to(paths.ROOT).as_posix()] = file_sha256(f)
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


def json_safe(value: Any) -> Any:
    """Return ``value`` as it reads back from JSON (tuples become lists, paths strings)."""
    import json

    return json.loads(json.dumps(value, ensure_ascii=False, default=str))
