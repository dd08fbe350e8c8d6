"""`helpers clean --jobs N` and `helpers code --jobs N`: the same files and lines as `--jobs 1`.

The two corpus documents are below the sizes where ``--jobs auto`` starts a pool, so these tests
force it (``--jobs 2``/``3``, or a lower threshold) and compare every written file byte for byte
and every printed line with the serial run.
"""

from __future__ import annotations

import csv
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import cleanup, cli, parallel, paths
from helpers.cli import main

from .conftest import CORPUS


def _run(argv: list[str], folder: Path, capsys) -> tuple[int, dict[str, bytes], str, str]:
    """Run the command writing into ``folder``; return its exit code, the files it wrote (by
    path inside ``folder``) and its stdout and stderr with ``folder`` written as ``DIR``."""
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    written = {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
    return code, written, out.replace(str(folder), "DIR"), err.replace(str(folder), "DIR")


@pytest.fixture
def documents(tmp_path) -> list[str]:
    """The corpus documents, one of them twice under another folder (same stem: a second doc
    id), and a file that cannot be read: problems must come in the same order too."""
    files = [str(paths.RAW / f) for f, _ in CORPUS.values()]
    again = tmp_path / "in" / Path(files[0]).name
    again.parent.mkdir()
    shutil.copy(files[0], again)
    bad = tmp_path / "in" / "broken.docx"
    bad.write_bytes(b"PK\x03\x04 not really a docx")
    return [files[0], str(bad), files[1], str(again)]


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_clean_with_jobs_writes_and_prints_what_one_job_does(tmp_path, capsys, documents, jobs):
    runs = {}
    for j in ("1", jobs):
        folder = tmp_path / f"jobs{j}"
        argv = ["clean", *documents, "--out", str(folder / "units.csv"), "--jobs", j]
        runs[j] = _run(argv, folder, capsys)
    code, written, out, err = runs["1"]
    assert code == 1  # the broken file
    assert "broken" in err
    assert set(written) >= {"units.csv", "units_cleanup/cleanup_audit.csv"}
    assert len(pd.read_csv(tmp_path / "jobs1" / "units.csv")["doc_id"].unique()) == 3
    assert runs[jobs] == runs["1"]


def test_clean_auto_uses_a_pool_from_the_threshold_on(tmp_path, capsys, documents, monkeypatch):
    used = []
    fork_map = parallel.fork_map

    def spy(func, items, jobs):
        used.append(jobs)
        return fork_map(func, items, jobs)

    monkeypatch.setattr(parallel, "fork_map", spy)
    serial = _run(
        ["clean", *documents, "--out", str(tmp_path / "a" / "u.csv")], tmp_path / "a", capsys
    )
    assert used == []  # 4 documents: below the threshold, no pool
    monkeypatch.setattr(cli, "CLEAN_JOBS_MIN", 2)
    monkeypatch.setattr(parallel, "JOBS_MAX", 2)
    pooled = _run(
        ["clean", *documents, "--out", str(tmp_path / "b" / "u.csv")], tmp_path / "b", capsys
    )
    assert used == [2]
    assert pooled[1:] == serial[1:]


@pytest.fixture
def units_csv(tmp_path_factory) -> Path:
    """The corpus documents cleaned into units (the table ``helpers code`` reads)."""
    out = tmp_path_factory.mktemp("units") / "units.csv"
    files = [str(paths.RAW / f) for f, _ in CORPUS.values()]
    assert main(["clean", *files, "--out", str(out), "--jobs", "1"]) == 0
    return out


@pytest.mark.parametrize("jobs", ["2", "3", "7"])
def test_code_with_jobs_writes_and_prints_what_one_job_does(tmp_path, capsys, units_csv, jobs):
    runs = {}
    for j in ("1", jobs):
        folder = tmp_path / f"jobs{j}"
        folder.mkdir()
        argv = ["code", str(units_csv), "--out", str(folder / "coded.csv"), "--jobs", j]
        runs[j] = _run(argv, folder, capsys)
    code, written, out, _ = runs["1"]
    assert code == 0
    coded = pd.read_csv(tmp_path / "jobs1" / "coded.csv", keep_default_na=False)
    assert coded["evidence"].str.len().gt(0).sum() > 10  # something was coded
    assert " coded with at least one of " in out
    assert runs[jobs] == runs["1"]


def test_code_in_blocks_equals_serial_with_scattered_documents_and_no_fork(
    tmp_path, capsys, units_csv, monkeypatch
):
    """Units of one document that are not together in the table, and a platform without fork."""
    units = pd.read_csv(units_csv, keep_default_na=False, dtype=str)
    shuffled = units.sample(frac=1, random_state=17)  # documents scattered over the table
    src = tmp_path / "shuffled.csv"
    shuffled.to_csv(src, index=False)
    serial = _run(
        ["code", str(src), "--out", str(tmp_path / "o" / "c.csv"), "--jobs", "1"],
        tmp_path / "o",
        capsys,
    )
    assert serial[0] == 0
    pooled = _run(
        ["code", str(src), "--out", str(tmp_path / "p" / "c.csv"), "--jobs", "2"],
        tmp_path / "p",
        capsys,
    )
    assert pooled[1:] == serial[1:]
    monkeypatch.setattr(parallel, "fork_available", lambda: False)
    no_fork = _run(
        ["code", str(src), "--out", str(tmp_path / "q" / "c.csv"), "--jobs", "2"],
        tmp_path / "q",
        capsys,
    )
    assert no_fork[1:] == serial[1:]


@pytest.mark.parametrize("tail", ["", "\r"])
def test_code_in_blocks_writes_awkward_cells_as_serial(tmp_path, capsys, units_csv, tail):
    """Each worker renders its own rows as CSV text: unit ids with quotes and commas, formula-like
    ones, one that looks like a number and (``tail``) a carriage return, which has the whole table
    quoted, must come out as in the serial file."""
    units = pd.read_csv(units_csv, keep_default_na=False, dtype=str)
    last = units.index[units["doc_id"] == units["doc_id"].iloc[-1]]  # in the second block
    ids = ['=HYPERLINK("x")', '闽宁,"结对"', "-1", "007" + tail]
    units.loc[last[: len(ids)], "unit_id"] = ids
    src = tmp_path / "awkward.csv"
    units.to_csv(src, index=False, quoting=csv.QUOTE_ALL)  # the carriage return kept in quotes
    runs = []
    for j in ("1", "2"):
        argv = ["code", str(src), "--out", str(tmp_path / j / "c.csv"), "--jobs", j]
        runs.append(_run(argv, tmp_path / j, capsys))
    assert runs[0][0] == 0
    assert runs[1][1:] == runs[0][1:]
    text = runs[0][1]["c.csv"].decode("utf-8")
    assert "'=HYPERLINK" in text and '""结对""' in text
    assert text.startswith('"unit_id"') == bool(tail)  # a carriage return: every field quoted


def test_code_in_blocks_to_a_budgeted_name_writes_what_one_job_does(tmp_path, capsys, units_csv):
    """A file name with a committed budget is written whole by table_write (cut when over)."""
    from helpers import products

    runs = []
    for j in ("1", "2"):
        out = tmp_path / j / "tables" / "coding_units.csv"
        runs.append(
            _run(["code", str(units_csv), "--out", str(out), "--jobs", j], tmp_path / j, capsys)
        )
    assert products.budget_of("coding_units.csv") is not None
    assert runs[1][1:] == runs[0][1:]


def test_units_blocks_cut_only_between_documents():
    units = pd.DataFrame({"doc_id": list("aaabbbbbbcdd"), "unit_id": [f"u{i}" for i in range(12)]})
    blocks = parallel.units_blocks(units, 3)
    assert pd.concat(blocks).equals(units)  # contiguous, in order, nothing lost
    assert [b["doc_id"].iloc[0] for b in blocks] == ["a", "b", "c"]
    for before, after in zip(blocks, blocks[1:]):
        assert before["doc_id"].iloc[-1] != after["doc_id"].iloc[0]
    one_doc = units.assign(doc_id="a")
    assert len(parallel.units_blocks(one_doc, 4)) == 1  # a document is never cut
    assert len(parallel.units_blocks(units.drop(columns="doc_id"), 4)) == 4


def test_jobs_resolve_and_the_option():
    assert parallel.jobs_resolve("auto", 199, 200) == 1
    assert parallel.jobs_resolve(1, 10_000, 200) == 1
    assert parallel.jobs_resolve(8, 3, 200) == 3  # never more workers than items
    assert parallel.jobs_resolve(4, 10, 200) == 4  # a number is taken as it is, below the minimum
    assert parallel.jobs_resolve("auto", 10_000, 200) >= 1
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit):
            main(["code", "units.csv", "--out", "c.csv", "--jobs", bad])


def _tables_equal(a, b) -> None:
    """Two cleanup results: the same frames (values and dtypes) and the same documents."""
    for name in ("units", "audit", "joins", "metadata", "summary", "problems"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.documents == b.documents


def test_files_clean_on_workers_equals_serial_with_pages_problems_and_a_failing_document(
    tmp_path, documents, monkeypatch
):
    """Saved web pages (page metadata and furniture join the tables), a page without main text
    and a broken .docx (reading problems), a document whose cleanup raises (a problem after
    reading), the same stem twice: every table, its dtypes and every document as the serial run,
    whether the runs go to forked workers or, without fork, are done in this process."""
    html = Path(__file__).parent / "fixtures" / "html"
    files = [*documents[:2], *sorted(html.glob("*.html")), *documents[2:]]
    failing = Path(files[-2]).stem
    assert failing not in {Path(f).stem for f in files[:-2]}
    clean = cleanup.document_clean

    def document_clean(text, doc_id, **kwargs):
        if doc_id == failing:
            raise ValueError("a rule broke")
        return clean(text, doc_id, **kwargs)

    monkeypatch.setattr(cleanup, "document_clean", document_clean)
    serial = cleanup.files_clean(files)
    assert {"html_page"} <= set(serial.metadata["rule"])
    assert {"html_extractor"} <= set(serial.audit["rule"])
    problems = serial.problems["problem"].tolist()
    assert any("broken.docx" in p for p in problems)
    assert problems[-1] == f"{failing}: cleanup failed: ValueError('a rule broke')"
    assert len(serial.documents) == len(files) - len(problems)
    for jobs in (2, 3, len(files) + 4):
        _tables_equal(cleanup.files_clean(files, jobs=jobs), serial)
    monkeypatch.setattr(parallel, "fork_available", lambda: False)
    _tables_equal(cleanup.files_clean(files, jobs=2), serial)
    for few in ([], files[:1], [documents[1]]):  # nothing, one document, one unreadable file
        _tables_equal(cleanup.files_clean(few, jobs=2), cleanup.files_clean(few))


@pytest.mark.parametrize(
    "values",
    [
        ["闽宁协作", "", "对口\x00帮扶"],  # the separator inside a value: sent as a list
        [1, 2**70],  # beyond 64 bits
        [1, True],  # a bool is not an int here
        [3, None, 5],
        ["1", 1],
        [1.5, 2.0],
        [],
        [""],
        ["", ""],
        [
            "（一）总体要求",
            "（一）总体要求",
            "",
            "（一）总体要求",
        ],  # sent as distinct values and codes
        ["d1", "d1", "d1\x00", "d1"],
        [0, -7, 2**63 - 1],
    ],
)
def test_column_pack_gives_back_the_same_values_and_types(values):
    packed = pickle.loads(pickle.dumps(cleanup._column_pack(list(values))))
    back = cleanup._column_list(cleanup._column_unpack(packed))
    assert back == values
    assert [type(v) for v in back] == [type(v) for v in values]
