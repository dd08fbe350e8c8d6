"""Notebooks: thin (no logic of their own), and run end to end through papermill on a small fixture
corpus (marker ``notebooks``: ``make test-all``)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import papermill as pm
import pytest

from helpers import paths
from helpers.cleanup import corpus_clean
from helpers.kernels import kernel_ensure
from helpers.pipeline import pipeline_read

from .conftest import CORPUS, FIXTURES, SMALL_RESAMPLES


def _fixture_corpus(tmp_path):
    """A corpus in odd encodings: GB18030 + CRLF, UTF-16, a web page, and an empty file."""
    raw = tmp_path / "raw"
    raw.mkdir()
    opinion = (paths.RAW / CORPUS["opinion2021"][0]).read_text(encoding="utf-8")
    report = (paths.RAW / CORPUS["report2024"][0]).read_text(encoding="utf-8")
    (raw / "opinion_gb18030.txt").write_bytes(opinion.replace("\n", "\r\n").encode("gb18030"))
    (raw / "report_utf16.txt").write_bytes(report.encode("utf-16"))
    shutil.copy(FIXTURES / "web_news.txt", raw / "web_news.txt")
    (raw / "empty.txt").write_bytes(b"")
    table = pd.DataFrame(
        [
            (
                "opinion2021",
                "opinion_gb18030.txt",
                CORPUS["opinion2021"][1],
                "2021-06-13",
                "宁党办〔2021〕54号",
            ),
            ("report2024", "report_utf16.txt", CORPUS["report2024"][1], "2024-10-08", ""),
            ("web", "web_news.txt", "深化和拓展闽宁协作模式的路径研究", "", ""),
            ("empty", "empty.txt", "空文件", "", ""),
        ],
        columns=["doc_id", "file", "title", "date", "doc_number"],
    )
    table.to_csv(tmp_path / "corpus.csv", index=False)
    return tmp_path / "corpus.csv", raw


@pytest.mark.parametrize("notebook", sorted(p.name for p in paths.NOTEBOOKS.glob("*.ipynb")))
def test_notebook_is_thin_no_function_or_class(notebook):
    """Logic lives in ``helpers``, where it is tested: a notebook's code cells define nothing."""
    nb = json.loads((paths.NOTEBOOKS / notebook).read_text(encoding="utf-8"))
    defined = [
        line.strip()
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        for line in "".join(cell["source"]).splitlines()
        if line.lstrip().startswith(("def ", "class ", "async def "))
    ]
    assert not defined, f"{notebook}: move into helpers (and test there): {defined}"


@pytest.mark.notebooks
def test_cleanup_notebook_on_a_fixture_corpus(tmp_path):
    corpus_csv, raw = _fixture_corpus(tmp_path)
    processed, tables = tmp_path / "processed", tmp_path / "tables"
    out_nb = tmp_path / "01_text_cleanup.ipynb"
    pm.execute_notebook(
        str(paths.NOTEBOOKS / "01_text_cleanup.ipynb"),
        str(out_nb),
        parameters={
            "corpus_table": str(corpus_csv),
            "raw_dir": str(raw),
            "processed_dir": str(processed),
            "tables_dir": str(tables),
        },
        kernel_name=kernel_ensure(pipeline_read().kernel),
        progress_bar=False,
        cwd=str(paths.ROOT),
    )
    sentences = pd.read_csv(processed / "units_sentence.csv", keep_default_na=False)
    assert {"doc_id", "unit_id", "level", "heading_path", "text", "start", "end"} <= set(
        sentences.columns
    )
    assert set(sentences["doc_id"]) == {"opinion2021", "report2024", "web"}
    assert (processed / "clean" / "report2024.txt").exists()

    # the empty file is reported by name, and the others still ran
    problems = pd.read_csv(tables / "cleanup_problems.csv")
    assert len(problems) == 1 and "empty.txt" in problems.loc[0, "problem"]

    # GB18030 + CRLF and UTF-16 copies give exactly the units of the UTF-8 originals
    reference = corpus_clean().units
    reference = reference[reference["level"] == "sentence"]
    for doc_id in CORPUS:
        got = sentences[sentences["doc_id"] == doc_id][["unit_id", "text", "start", "end"]]
        want = reference[reference["doc_id"] == doc_id][["unit_id", "text", "start", "end"]]
        assert got.reset_index(drop=True).equals(want.reset_index(drop=True))

    audit = pd.read_csv(tables / "cleanup_audit.csv")
    assert {"doc_id", "line", "part", "rule", "text"} <= set(audit.columns)
    assert set(audit.loc[audit["doc_id"] == "web", "rule"]) >= {
        "web_navigation",
        "web_byline",
        "web_copyright",
    }
    summary = pd.read_csv(tables / "cleanup_summary.csv")
    assert (summary["unaccounted_cjk"] == 0).all()
    assert dict(zip(summary["doc_id"], summary["encoding"]))["opinion2021"] == "gb18030"


@pytest.mark.notebooks
def test_whole_pipeline_runs_on_the_fixture_corpus(tmp_path):
    """Every notebook of pipeline.yaml in order on the fixture corpus, writing only in tmp_path."""
    import hashlib

    from helpers.runner import pipeline_run

    def snapshot() -> dict[str, str]:
        return {
            str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for d in (paths.TABLES, paths.FIGURES)
            for p in sorted(d.glob("*"))
            if p.is_file()
        }

    before = snapshot()
    corpus_csv, raw = _fixture_corpus(tmp_path)
    out = {
        name: tmp_path / name for name in ("processed", "tables", "figures", "notebooks", "report")
    }
    summary = pipeline_run(
        pipeline_read(),
        {
            "corpus_table": str(corpus_csv),
            "raw_dir": str(raw),
            "processed_dir": str(out["processed"]),
            "tables_dir": str(out["tables"]),
            "figures_dir": str(out["figures"]),
            "report_dir": str(out["report"]),
            **SMALL_RESAMPLES,
        },
        output_dir=out["notebooks"],
        progress=False,
        allow_outside=True,  # the outputs go to tmp_path, outside the project
    )
    assert (summary["status"] == "ran").all()
    tokens = pd.read_csv(out["processed"] / "tokens.csv", keep_default_na=False)
    assert {"闽宁协作", "联席推进", "结对帮扶"} <= set(tokens["token"])
    assert (out["figures"] / "wordcloud_corpus.png").stat().st_size > 0
    units = pd.read_csv(out["processed"] / "units_sentence.csv", keep_default_na=False)
    coded = pd.read_csv(out["tables"] / "coding_units.csv", keep_default_na=False)
    assert list(coded["unit_id"]) == list(units["unit_id"])
    assert (out["tables"] / "coding_review.xlsx").exists()
    assert (out["tables"] / "minning.qdpx").exists() and (out["report"] / "index.html").exists()
    assert snapshot() == before, (
        "a notebook wrote into the repository's outputs instead of the given folders"
    )
