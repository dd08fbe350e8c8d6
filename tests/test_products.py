"""The products declared in helpers.products: notebooks and modules name files through them, and
pipeline.yaml's ``reads``/``writes`` cover them (so the runner re-runs and orders the notebooks)."""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from pathlib import Path

import pytest
import yaml

from helpers import paths, pipeline
from helpers.products import PRODUCTS, product_path

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("0*.ipynb"))
MODULES = sorted((paths.ROOT / "src" / "helpers").glob("*.py"))
#: Code lines still spelling a product: (notebook, line); none today.
PENDING: set[tuple[str, str]] = set()
MODULES_EXEMPT = {"products.py"}
FOLDER_JOIN = re.compile(r"\{\w+_dir\}/")  # f"{tables_dir}/x.csv": a path spelt in a notebook
PRODUCT_CALL = re.compile(r'product_path\(\s*f?"([\w{}]+)"')


def _code_cells(nb: Path) -> list[str]:
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _string_literals(source: str) -> list[str]:
    """Return the string literals of ``source`` (f-strings whole), leaving comments out."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [t.string for t in tokens if t.type == tokenize.STRING]


def _pending_removed(nb: Path, source: str) -> str:
    for stem, line in PENDING:
        if nb.stem == stem:
            source = source.replace(line, "")
    return source


def test_product_path_joins_the_folder_and_the_declared_file():
    assert product_path("units_sentence", "data/processed") == Path(
        "data/processed/units_sentence.csv"
    )
    assert product_path("coding_review", Path("out")) == Path("out/coding_review.xlsx")
    assert product_path("clean_texts", "data/processed") == Path("data/processed/clean")


def test_product_path_of_an_unknown_name_names_it_and_the_closest_declared_ones():
    with pytest.raises(KeyError, match=r"'units_sentences'.*did you mean units_sentence"):
        product_path("units_sentences", "data/processed")  # unit_level = "sentences"
    with pytest.raises(KeyError, match=r"'stance_table'.*declare it there"):
        product_path("stance_table", "outputs/tables")


def test_every_product_file_is_declared_once():
    spots = [(p.folder, p.file) for p in PRODUCTS.values()]
    assert len(spots) == len(set(spots))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_code_names_products_through_the_declaration(nb):
    files = {p.file for p in PRODUCTS.values() if "." in p.file}
    for source in _code_cells(nb):
        for literal in _string_literals(_pending_removed(nb, source)):
            assert not FOLDER_JOIN.search(literal), (
                f"{nb.name}: {literal} builds a product path; declare the file in "
                "helpers.products and use product_path(name, folder)"
            )
            spelt = [f for f in files if f in literal]
            assert not spelt, f"{nb.name}: {literal} spells {spelt}; use product_path"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_code_names_products_through_the_declaration(module):
    if module.name in MODULES_EXEMPT:
        pytest.skip(f"{module.name} is exempt")
    files = {p.file for p in PRODUCTS.values() if "." in p.file}
    tree = ast.parse(module.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            spelt = [f for f in files if f in node.value]
            assert not spelt, f"{module.name}:{node.lineno} spells {spelt}; use product_path"


def _config_steps() -> dict[str, dict]:
    config = yaml.safe_load(paths.PIPELINE_CONFIG.read_text(encoding="utf-8"))
    return {Path(s["path"]).stem[:2]: s for s in config["notebooks"]}


def _product_made(name: str, root: Path) -> tuple[Path, dict[str, str]]:
    """Create product ``name`` under ``root`` (a file inside it for a folder product); return the
    file and the folder parameters pointing under ``root``."""
    params = {p.folder: str(root / p.folder) for p in PRODUCTS.values()}
    path = product_path(name, params[PRODUCTS[name].folder])
    if "." not in PRODUCTS[name].file:
        path = path / "doc.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x", encoding="utf-8")
    return path.resolve(), params


def _covered(entries: list[str], path: Path, params: dict[str, str]) -> bool:
    return any(path in pipeline.entry_files(e, params) for e in entries)


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_every_product_is_in_the_writes_of_its_notebook(name, tmp_path):
    step = _config_steps()[PRODUCTS[name].notebook]
    path, params = _product_made(name, tmp_path)
    assert _covered(step["writes"], path, params), (
        f"{name} ({PRODUCTS[name].file}) is not in the writes of {step['path']} in pipeline.yaml"
    )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_products_a_notebook_reads_from_another_are_in_its_reads(nb, tmp_path):
    """A notebook waits for the notebooks whose products its reads name; a product read but not
    declared would let it run beside (or before) the notebook writing it."""
    step = _config_steps()[nb.stem[:2]]
    names = set()
    for source in _code_cells(nb):
        for spelt in PRODUCT_CALL.findall(source):  # f"units_{unit_level}": every units_ product
            pattern = re.compile(re.sub(r"\\\{\w+\\\}", r"\\w+", re.escape(spelt)))
            found = {n for n in PRODUCTS if pattern.fullmatch(n)}
            assert found, f"{nb.name}: product_path({spelt!r}) names no declared product"
            names |= found
    for name in sorted(n for n in names if PRODUCTS[n].notebook != nb.stem[:2]):
        path, params = _product_made(name, tmp_path)
        assert _covered(step["reads"], path, params), (
            f"{nb.name} reads {name}, which is not in its reads in pipeline.yaml"
        )
