"""`python -m helpers clean`: any files in, sentence units out."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

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
