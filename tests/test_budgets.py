"""Committed tables stay reviewable: row budgets (helpers.products.BUDGETS) cut long tables.

A table over its budget is written whole to ``outputs/extra`` and the committed file keeps a
bounded part with a last line saying so; every reader inside the pipeline gets the whole table.
The large run here is the two corpus documents' real sentences copied into 36 documents, coded
and summarised with the budgets shrunk, so that it costs seconds, not a 500-document run.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from fnmatch import fnmatch
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import Workbook, load_workbook

from helpers import codebook as cb
from helpers import coding, numbers, paths, products, summaries, tokens
from helpers.products import Budget, product_path
from helpers.tables import (
    CUT_MARK,
    path_resolve,
    table_cut,
    table_full_path,
    table_is_cut,
    table_read,
    table_source,
    table_write,
    workbook_save,
)

#: The committed outputs' budget of issue #16 (files, bytes) at 500 added documents.
FILES_MAX, BYTES_MAX = 100, 30_000_000


def _evidence_like(n_docs: int, per_doc: int) -> pd.DataFrame:
    rows = [
        {
            "doc_id": f"doc{d:02d}",
            "unit_id": f"doc{d:02d}-1-p1-s{i}",
            "code": "pairing",
            "start": 1_234_567 + i,  # large integers must stay integers in the kept part
            "share": 0.25,
            "match": "=闽宁协作" if i == 0 else "结对帮扶",  # a formula-like cell round-trips
        }
        for d in range(n_docs)
        for i in range(per_doc)
    ]
    return pd.DataFrame(rows)


def test_a_table_within_its_budget_is_written_whole_and_an_old_whole_copy_removed(tmp_path):
    df = _evidence_like(2, 3)
    out = tmp_path / "tables" / "coding_evidence.csv"
    stale = table_full_path(out)
    stale.parent.mkdir(parents=True)
    stale.write_text("left by an earlier, longer run\n", encoding="utf-8")
    table_write(df, out, budget=Budget(6, per="doc_id"))
    assert not table_is_cut(out)
    assert not stale.exists()
    pd.testing.assert_frame_equal(table_read(out), df, check_dtype=False)
    assert CUT_MARK not in out.read_text(encoding="utf-8")


def test_a_table_over_its_budget_keeps_the_first_rows_of_each_document_and_says_where_the_rest_is(
    tmp_path,
):
    df = _evidence_like(4, 10)
    out = table_write(df, tmp_path / "tables" / "coding_evidence.csv", budget=Budget(8, "doc_id"))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 8 + 1  # header, the first 2 rows of each of 4 documents, the note
    assert lines[-1].lstrip('"').startswith(CUT_MARK)
    assert "8 of 40 rows" in lines[-1] and "outputs/extra" not in lines[-1]
    assert str(table_full_path(out).name) in lines[-1]
    kept = pd.read_csv(out, keep_default_na=False).iloc[:-1]
    assert kept["unit_id"].tolist() == df.groupby("doc_id").head(2)["unit_id"].tolist()
    assert table_is_cut(out)
    # every reader gets every row, with its types and text as written
    whole = table_read(out)
    pd.testing.assert_frame_equal(whole, df, check_dtype=False)
    assert whole["start"].dtype.kind == "i"
    assert table_source(out) == table_full_path(out)


def test_a_cut_is_deterministic_and_long_cells_end_in_an_ellipsis():
    df = pd.DataFrame({"code": ["a", "b", "c"], "unit_ids": ["u1 u2 u3 u4", "u1", "u2 u3"]})
    kept, note = table_cut(df, Budget(2, chars=5))
    again, _ = table_cut(df, Budget(2, chars=5))
    assert kept.equals(again)
    assert kept["unit_ids"].tolist() == ["u1 u2…", "u1"]
    assert "the first 2 of 3 rows" in note and "5 characters" in note
    assert table_cut(df, Budget(3, chars=20)) == (df, None)


def test_a_cut_table_without_its_whole_copy_says_which_file_is_missing(tmp_path):
    out = table_write(_evidence_like(3, 5), tmp_path / "t" / "coding_units.csv", budget=Budget(3))
    table_full_path(out).unlink()
    with pytest.raises(FileNotFoundError, match=r"extra/coding_units\.csv.*run the notebook"):
        table_read(out)


def test_a_long_workbook_keeps_the_first_rows_of_each_sheet(tmp_path):
    wb = Workbook()
    wb.active.title = "summary"
    wb.active.append(["code", "units"])
    sheet = wb.create_sheet("pairing")
    for i in range(50):
        sheet.append([f"u{i}", f"结对帮扶 {i}"])
    out = workbook_save(wb, tmp_path / "tables" / "coding_review.xlsx", budget=Budget(10))
    committed = load_workbook(out)
    assert committed["summary"].max_row == 1
    assert committed["pairing"].max_row == 11
    assert committed["pairing"]["A11"].value.startswith(f"{CUT_MARK} the first 10 of 50 rows")
    assert load_workbook(table_full_path(out))["pairing"].max_row == 50


# --------------------------------------------------------------------------------------------------
# A large run, cheaply: 36 documents, budgets shrunk 50 times
# --------------------------------------------------------------------------------------------------

SHRINK = 50


@pytest.fixture(scope="module")
def segmenter():
    return tokens.segmenter_make()


@pytest.fixture(scope="module")
def many_units(cleaned) -> pd.DataFrame:
    """The real sentence units of the two documents, copied into 36 documents."""
    frames = []
    for copy in range(18):
        for doc_id, doc in cleaned.items():
            u = pd.DataFrame(doc.unit_rows)
            u = u[u["level"] == "sentence"].copy()
            new = f"{doc_id}_{copy:02d}"
            u["doc_id"] = new
            u["unit_id"] = new + u["unit_id"].str.removeprefix(doc_id)
            frames.append(u)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def shrunk(monkeypatch):
    small = {
        name: replace(b, rows=max(1, b.rows // SHRINK), chars=b.chars and b.chars // 10)
        for name, b in products.BUDGETS.items()
    }
    monkeypatch.setattr(products, "BUDGETS", small)
    return small


def test_a_large_run_keeps_the_committed_tables_within_budget_and_readers_see_every_row(
    tmp_path, many_units, segmenter, shrunk
):
    tables_dir = tmp_path / "outputs" / "tables"
    book = cb.codebook_read()
    result = coding.units_code(many_units, book, segmenter)
    coding.coding_write(result, tables_dir)
    wide = summaries.coded_units_read(product_path("coding_units", tables_dir), book)
    assert len(wide) == len(many_units) == len(result.wide)
    assert table_read(product_path("coding_evidence", tables_dir)).shape == result.evidence.shape
    frequency = pd.concat(
        [
            summaries.codes_frequency(wide, book, by=by, n_bootstrap=19, random_seed=1)
            for by in ("corpus", "document", "section")
        ],
        ignore_index=True,
    )
    summaries.summaries_write(
        {
            "frequency": frequency,
            "section_profile": summaries.sections_profile(wide, book),
            "numbers": numbers.numbers_extract(many_units, segmenter=segmenter),
        },
        tables_dir,
    )
    cut = sorted(p.name for p in tables_dir.iterdir() if table_is_cut(p))
    assert {"coding_units.csv", "coding_evidence.csv", "summary_frequency.csv"} <= set(cut)
    for name in cut:
        budget = shrunk[name]
        committed = pd.read_csv(tables_dir / name, keep_default_na=False).iloc[:-1]
        whole = table_read(tables_dir / name)
        groups = whole[budget.per].nunique() if budget.per else 1
        assert len(committed) <= max(budget.rows, groups) < len(whole)
    files = [p for p in tables_dir.iterdir() if p.is_file()]
    whole_dir = tables_dir.parent / "extra"
    committed_bytes = sum(p.stat().st_size for p in files)
    whole_bytes = sum(p.stat().st_size for p in whole_dir.iterdir())
    assert len(files) <= FILES_MAX
    assert committed_bytes <= BYTES_MAX / SHRINK < whole_bytes


# --------------------------------------------------------------------------------------------------
# The two corpus documents: no budget is reached, so the committed tables are whole
# --------------------------------------------------------------------------------------------------


def _committed(folder: str) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--", f"outputs/{folder}"],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [paths.ROOT / p for p in listed if not p.endswith(".gitkeep")]


def test_no_budget_is_reached_by_the_two_corpus_documents():
    budgeted = [p for p in _committed("tables") if products.budget_of(p) is not None]
    assert len(budgeted) >= len(products.BUDGETS)  # every budget names a committed table
    for path in budgeted:
        budget = products.budget_of(path)
        if path.suffix == ".xlsx":
            assert all(ws.max_row <= budget.rows for ws in load_workbook(path).worksheets)
            continue
        assert not table_is_cut(path), path.name
        assert table_cut(table_read(path), budget)[1] is None, path.name


def test_the_committed_outputs_are_within_the_budget_of_issue_16():
    files = _committed("tables") + _committed("figures")
    assert len(files) <= FILES_MAX
    assert sum(p.stat().st_size for p in files) <= BYTES_MAX


def test_every_budget_names_a_table_and_the_whole_copies_go_to_extra_dir():
    committed = {p.name for p in _committed("tables")}
    for key, budget in products.BUDGETS.items():
        assert any(fnmatch(name, key) for name in committed), f"{key} names no committed table"
        assert budget.rows > 0
    assert products.budget_of("outputs/tables/summary_by_year.csv") is not None
    assert products.budget_of("outputs/tables/cleanup_audit.csv") is None
    config = yaml.safe_load(paths.PIPELINE_CONFIG.read_text(encoding="utf-8"))["parameters"]
    table = path_resolve(config["tables_dir"]) / "coding_units.csv"
    assert table_full_path(table).parent == path_resolve(config["extra_dir"])
