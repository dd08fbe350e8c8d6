"""The project's own files describe one environment: pyproject, environment.yml and the lock."""

from __future__ import annotations

import json
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers import paths


def _reqs(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        r = Requirement(line)
        out[canonicalize_name(r.name)] = str(r.specifier)
    return out


def _pyproject() -> dict[str, str]:
    meta = tomllib.loads((paths.ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return _reqs(meta["dependencies"] + meta["optional-dependencies"]["dev"])


def test_environment_yml_and_pyproject_list_the_same_packages():
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    from_env = _reqs(p for p in pip if not p.startswith("-e"))
    assert from_env == _pyproject()
    assert "-e ." in pip, "environment.yml must install the project itself"


def test_every_dependency_is_pinned_in_the_lock_file():
    lock = {}
    for line in (paths.ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[canonicalize_name(name)] = version
    missing = sorted(set(_pyproject()) - set(lock))
    assert not missing, f"add to requirements.lock (make lock): {missing}"


def test_notebooks_are_committed_clean_with_one_commented_parameters_cell():
    for nb_path in sorted(paths.NOTEBOOKS.glob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
            nb_path.name
        )
        params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(params) == 1, f"{nb_path.name}: exactly one cell tagged 'parameters'"
        for line in "".join(params[0]["source"]).splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                assert "#" in line, f"{nb_path.name}: parameter without a comment: {line}"
