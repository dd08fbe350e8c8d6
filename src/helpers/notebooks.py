"""What a notebook file holds for the runner: its cells, its parameters cell, its imports.

The parameters its cell tagged ``parameters`` declares (:func:`notebook_parameters`, with types from
``# type:`` comments), the hash of its cells (:func:`notebook_source_hash`) and the ``helpers``
modules it imports (:func:`helpers_modules`), which decide whether it must run again.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from helpers.pipeline import PipelineError
from helpers.tables import path_resolve


def notebook_read(path: Path) -> dict:
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


def cell_source(cell: dict) -> str:
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
    nb = notebook_read(nb_path)
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise PipelineError(
            "no cell tagged 'parameters' "
            "(in JupyterLab: select the cell, open the property inspector, add the tag)",
            path=nb_path,
        )
    source = cell_source(cells[0])
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
    (papermill reads the same comment for ``--help-notebook``);
    :func:`~helpers.parameters.parameters_typecheck` then accepts any of the named types instead of
    the default's alone. Names joined by ``|``: int, float, str, bool, list, dict, None.
    """
    nb = notebook_read(path_resolve(path))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    found: dict[str, tuple[type, ...]] = {}
    for line in cell_source(cells[0]).splitlines() if cells else []:
        match = _TYPE_COMMENT.match(line)
        if match:
            listed = match.group("types").split("|")
            if all(n in _ANNOTATION_TYPES for n in listed):
                found[match.group("name")] = tuple(_ANNOTATION_TYPES[n] for n in listed)
    return found


def notebook_source_hash(path: str | Path) -> str:
    """Return the SHA-256 of a notebook's cells (type and source), ignoring outputs and metadata.

    A notebook saved from JupyterLab with its outputs, or with other execution counts, has not
    changed for the pipeline; an edited cell, markdown included (the report shows it), has.
    """
    import hashlib
    import json

    nb = notebook_read(path_resolve(path))
    cells = [[c.get("cell_type"), cell_source(c)] for c in nb["cells"]]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1024)
def _helpers_imports(source: str, package: str = "helpers") -> frozenset[str]:
    """Return the ``helpers`` module names (``helpers.coding``) that Python source imports.

    Kept by source text: every notebook's check walks the same modules (six notebooks parsed each
    module again, most of a run where nothing changed).
    """
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:  # a notebook cell with IPython magics: read line by line instead
        found: set[str] = set()
        for line in source.splitlines():
            if line.lstrip().startswith(("import ", "from ")):
                found |= _helpers_imports(line.strip(), package)
        return frozenset(found)
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
    return frozenset(found)


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

    nb = notebook_read(path_resolve(notebook))
    todo = set()
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            todo |= _helpers_imports(cell_source(cell))
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
