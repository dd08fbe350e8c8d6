"""`python -m helpers clean`: any files in, sentence units out."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from helpers import paths
from helpers.cli import main

from .conftest import CORPUS


def test_clean_command_writes_sentence_units(tmp_path):
    out = tmp_path / "units.csv"
    files = [str(paths.RAW / f) for f, _ in CORPUS.values()]
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "clean", *files, "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    units = pd.read_csv(out, keep_default_na=False)
    assert {"doc_id", "unit_id", "level", "heading_path", "text"} <= set(units.columns)
    assert set(units["level"]) == {"sentence"}
    assert units["unit_id"].is_unique
    # titles are inferred from the text when no corpus table is given
    titles = units[units["kind"] == "title"]["text"].tolist()
    assert sorted(titles) == sorted(t for _, t in CORPUS.values())
    assert units["text"].str.contains("福建地区资金充足").any()


def test_clean_command_reports_a_bad_file_and_keeps_the_others(tmp_path, capsys):
    from docx import Document

    docx = tmp_path / "意见节选.docx"
    d = Document()
    d.add_paragraph("关于深化新发展阶段闽宁协作工作的意见")
    d.add_paragraph("一、准确把握新发展阶段闽宁协作总体要求")
    d.add_paragraph("闽宁协作是东西部协作的生动典范。")
    d.save(docx)
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    out = tmp_path / "units.csv"
    code = main(["clean", str(docx), str(bad), "--out", str(out)])
    assert code == 1
    err = capsys.readouterr().err
    assert "broken.txt" in err and "binary" in err
    units = pd.read_csv(out, keep_default_na=False)
    assert list(units["text"]) == [
        "关于深化新发展阶段闽宁协作工作的意见",
        "一、准确把握新发展阶段闽宁协作总体要求",
        "闽宁协作是东西部协作的生动典范。",
    ]
    assert list(units["heading_path"])[-1] == "一、准确把握新发展阶段闽宁协作总体要求"


@pytest.mark.slow
def test_code_command_codes_empty_texts_as_zero_and_says_how_many(tmp_path, capsys):
    src = tmp_path / "units.csv"
    src.write_text(
        "unit_id,text\n"
        "u1,闽宁两省区建立联席会议制度，每年召开一次联席会议。\n"
        "u2,\n"
        "u3,   \n"
        "u4,福建企业到宁夏投资兴业，带动当地特色产业发展。\n",
        encoding="utf-8",
    )
    out = tmp_path / "coded.csv"
    assert main(["code", str(src), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "2 unit(s) with an empty 'text' (line 3, 4)" in captured.err
    assert "(2 empty)" in captured.out
    coded = pd.read_csv(out, keep_default_na=False).set_index("unit_id")
    codes = [c for c in coded.columns if c != "evidence"]
    assert coded.loc[["u2", "u3"], codes].to_numpy().sum() == 0
    assert list(coded.loc[["u2", "u3"], "evidence"]) == ["", ""]
    assert coded.loc["u1", "joint_meetings"] == 1 and "联席" in coded.loc["u1", "evidence"]


@pytest.mark.slow
def test_code_command_with_a_text_column_that_is_the_id_column_is_a_clear_error(tmp_path, capsys):
    src = tmp_path / "units.csv"
    src.write_text("unit_id,text\nu1,闽宁协作\n", encoding="utf-8")
    out = tmp_path / "coded.csv"
    assert main(["code", str(src), "--out", str(out), "--text-col", "unit_id"]) == 2
    err = capsys.readouterr().err
    assert "units.csv" in err and "both name 'unit_id'" in err and "['unit_id', 'text']" in err
    assert "Traceback" not in err and not out.exists()
    assert main(["code", str(src), "--out", str(out), "--text-col", "content"]) == 2
    err = capsys.readouterr().err
    assert "no column 'content'" in err and "['unit_id', 'text']" in err
    # a column that exists but holds no text (ids, numbers) is coded, with a warning naming it
    src.write_text("unit_id,doc_id,text\nu1,d1,闽宁协作\n", encoding="utf-8")
    assert main(["code", str(src), "--out", str(out), "--text-col", "doc_id"]) == 0
    err = capsys.readouterr().err
    assert "column 'doc_id' holds no Chinese character" in err and "'text'" in err
    assert main(["code", str(src), "--out", str(out)]) == 0
    assert "holds no Chinese" not in capsys.readouterr().err


@pytest.mark.slow
def test_clean_and_code_import_only_what_they_need(tmp_path):
    # plotting and statistics libraries cost seconds of start-up and are not used by these commands
    src = tmp_path / "units.csv"
    src.write_text("unit_id,text\nu1,闽宁协作是东西部协作的生动典范。\n", encoding="utf-8")
    doc = tmp_path / "doc.txt"
    doc.write_text("关于闽宁协作的意见\n\n闽宁协作是东西部协作的生动典范。\n", encoding="utf-8")
    heavy = ["matplotlib", "seaborn", "scipy", "sklearn", "networkx", "wordcloud", "dask"]
    for args in (
        ["code", str(src), "--out", str(tmp_path / "coded.csv")],
        ["clean", str(doc), "--out", str(tmp_path / "units_out.csv")],
    ):
        probe = (
            "import sys\nfrom helpers.cli import main\n"
            f"code = main({args!r})\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules), code)"
        )
        proc = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().splitlines()[-1] == "[] 0", (args[0], proc.stdout)
