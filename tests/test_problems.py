"""The list of what needs a look (``helpers.problems``), from the tables and in the terminal.

A small messy corpus is written to ``tmp_path``: a row without a file, a file without a row, a
title that does not match, a page of mostly web furniture, a hard-wrapped report, a line that is
only a year. Each must be named, with the table to open; the real corpus must give nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import cleanup, corpus, problems
from helpers.cli import main

from .test_pipeline import KERNEL, config_write, notebook_write

HTML = Path(__file__).parent / "fixtures" / "html"

DOCUMENTS = {
    "brief.txt": "闽宁协作简报\n\n一、劳务协作\n\n"
    "今年以来，两地持续推进劳务协作，宁夏赴闽务工人员保持稳定。\n\n"
    "2023\n\n二、产业协作\n\n福建企业在宁夏新建项目12个，带动当地群众就近就业。\n",
    "mismatch.txt": "闽宁两地召开联席会议\n\n两地召开联席会议，研究部署下一阶段协作重点。\n\n"
    "会议要求各地压实责任，确保协作资金按时拨付到位。\n",
    "furniture.txt": "首页 > 新闻中心 > 工作动态\n闽宁协作产业对接会在固原举行\n"
    "发布时间：2023-09-18 来源：固原日报\n字号：大 中 小\n分享到：微信 微博\n"
    "固原市举办闽宁协作产业对接会，现场签约项目8个。\n【打印】【关闭】\n相关新闻\n"
    "上一篇：吴忠市召开东西部协作工作调度会\n下一篇：泉州宁夏员工服务站揭牌\n网站地图 | 联系我们\n"
    "主办单位：固原市人民政府\n宁ICP备05001234号\n",
    "wrapped.txt": "闽宁协作调研报告\n\n"
    "调研组先后走访了永宁县、隆德县和泾源县的十二个村，与基层干部、帮扶车间\n"
    "负责人和务工群众座谈，了解协作项目的运营情况和群众增收情况，形成以下调研\n"
    "结论和建议。各地普遍反映，帮扶车间带动就业效果明显，但订单来源较为单一，\n"
    "部分车间受季节影响较大，需要进一步拓展销售渠道，稳定用工规模，提高群众收\n入水平。\n",
    "extra.txt": "闽宁协作资料\n\n这份文件没有登记在语料表中。\n",
}
CORPUS_CSV = (
    "doc_id,file,title\n"
    "brief,brief.txt,闽宁协作简报\n"
    "mismatch,mismatch.txt,闽宁协作简报第3期\n"
    "furniture,furniture.txt,闽宁协作产业对接会在固原举行\n"
    "wrapped,wrapped.txt,闽宁协作调研报告\n"
    "gone,gone.txt,已删除的文件\n"
)
#: (doc_id or file, check, table file name) expected for the messy corpus
EXPECTED = {
    ("gone", "row_without_file", "cleanup_problems.csv"),
    ("extra.txt", "file_without_row", "cleanup_problems.csv"),
    ("mismatch", "title_mismatch", "cleanup_metadata.csv"),
    ("furniture", "many_dropped_lines", "cleanup_audit.csv"),
    ("wrapped", "many_joined_lines", "cleanup_joins.csv"),
    ("brief", "punctuation_or_digit_units", "units_sentence.csv"),
}


def _messy(tmp_path: Path) -> tuple[Path, Path]:
    """Write the messy corpus; return (corpus.csv, raw dir)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in DOCUMENTS.items():
        (raw / name).write_text(text, encoding="utf-8")
    table = tmp_path / "corpus.csv"
    table.write_text(CORPUS_CSV, encoding="utf-8")
    return table, raw


def _found(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
    return {(r.doc_id or r.file, r.check, Path(r.table).name) for r in frame.itertuples()}


def test_problems_read_names_each_document_and_its_table(tmp_path):
    table, raw = _messy(tmp_path)
    result = cleanup.corpus_clean(table, raw)
    cleanup.clean_write(result, tmp_path / "processed", tmp_path / "tables")
    found = problems.problems_read(tmp_path / "tables", tmp_path / "processed", table)
    assert _found(found) == EXPECTED
    assert all(Path(t).is_file() for t in found["table"])
    text = problems.problems_format(found)
    assert text.splitlines()[0] == f"needs a look ({len(EXPECTED)}):"
    line = next(x for x in text.splitlines() if x.strip().startswith("brief"))
    assert "brief-1-p2-s1" in line and "'2023'" in line and line.endswith("units_sentence.csv")


def test_a_link_out_of_the_raw_folder_is_named_and_its_text_kept_out(tmp_path):
    table, raw = _messy(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("闽宁协作内部名单\n\n张三的身份证号码是一二三四五六。\n", encoding="utf-8")
    (raw / "linked.txt").symlink_to(secret)
    with table.open("a", encoding="utf-8") as f:
        f.write("linked,linked.txt,闽宁协作内部名单\n")
    result = cleanup.corpus_clean(table, raw)
    written = cleanup.clean_write(result, tmp_path / "processed", tmp_path / "tables")
    for path in written.values():
        assert "身份证" not in path.read_text(encoding="utf-8"), path
    row = result.problems[result.problems["doc_id"] == "linked"].iloc[0]
    assert "outside the raw folder" in row["problem"] and str(secret) in row["problem"]
    assert {"brief", "furniture", "wrapped", "mismatch"} <= set(result.summary["doc_id"])
    found = problems.problems_read(tmp_path / "tables", tmp_path / "processed", table)
    assert ("linked", "outside_raw_folder", "cleanup_problems.csv") in _found(found)


def test_thresholds_decide(tmp_path, monkeypatch):
    table, raw = _messy(tmp_path)
    result = cleanup.corpus_clean(table, raw)
    where = problems.ProblemTables.of(tmp_path, tmp_path)
    monkeypatch.setattr(problems, "DROPPED_LINES_SHARE_MAX", 0.9)
    monkeypatch.setattr(problems, "JOINED_LINES_SHARE_MAX", 0.9)
    found = problems.problems_find(
        result.problems, result.summary, result.metadata, result.sentences, where
    )
    assert not {"many_dropped_lines", "many_joined_lines"} & set(found["check"])


def test_the_corpus_documents_need_no_look():
    result = cleanup.corpus_clean()
    where = problems.ProblemTables.of("outputs/tables", "data/processed")
    found = problems.problems_find(
        result.problems,
        result.summary,
        result.metadata,
        result.sentences,
        where,
        corpus=corpus.corpus_read_table(),
    )
    assert found.empty, problems.problems_format(found)


def test_missing_tables_are_said_not_hidden(tmp_path):
    found = problems.problems_read(tmp_path / "none", tmp_path / "none")
    assert found["check"].tolist() == ["tables_missing"]
    assert "notebook 01" in problems.problems_format(found)


def test_web_pages_mostly_left_out_and_differing_page_titles(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    links = "".join(
        f'<li><a href="#">闽宁协作专题报道第{i}篇：两地产业园区建设进展</a></li>' for i in range(60)
    )
    (raw / "short.html").write_text(
        '<html><head><meta charset="utf-8"><title>隆德县召开协作会议</title></head><body>'
        '<div class="nav"><a href="#">首页</a> <a href="#">新闻</a></div>'
        "<article><h1>隆德县召开协作会议</h1><p>隆德县召开东西部协作工作会议，部署年内重点任务。"
        "会议要求各乡镇抓紧推进帮扶车间建设，确保按期投产。</p></article>"
        f'<ul class="related">{links}</ul>'
        '<div class="footer">宁ICP备05001234号</div></body></html>',
        encoding="utf-8",
    )
    # the CMS's ArticleTitle differs from the page's h1, which is the title in corpus.csv
    html = (HTML / "gov_news.html").read_text(encoding="utf-8")
    html = html.replace(
        'content="闽宁两地召开劳务协作推进会 共商稳岗增收举措"', 'content="劳务协作推进会召开"'
    )
    (raw / "renamed.html").write_text(html, encoding="utf-8")
    (tmp_path / "corpus.csv").write_text(
        "doc_id,file,title\nshort,short.html,\n"
        "renamed,renamed.html,闽宁两地召开劳务协作推进会 共商稳岗增收举措\n",
        encoding="utf-8",
    )
    result = cleanup.corpus_clean(tmp_path / "corpus.csv", raw)
    titles = result.units[result.units["kind"] == "title"]
    assert (
        dict(zip(titles["doc_id"], titles["text"]))["renamed"]
        == "闽宁两地召开劳务协作推进会共商稳岗增收举措"
    )
    assert not result.units["text"].str.contains("劳务协作推进会召开").any()
    where = problems.ProblemTables.of(tmp_path, tmp_path)
    found = problems.problems_find(
        result.problems,
        result.summary,
        result.metadata,
        result.sentences,
        where,
        corpus=corpus.corpus_read_table(tmp_path / "corpus.csv"),
    )
    assert _found(found) == {
        ("short", "page_mostly_left_out", "cleanup_audit.csv"),
        ("renamed", "title_mismatch", "cleanup_metadata.csv"),
    }


def test_clean_command_ends_with_the_list(tmp_path, capsys):
    _, raw = _messy(tmp_path)
    shutil.copy(HTML / "no_main_text.html", raw / "no_main_text.html")
    files = [
        str(raw / n) for n in ("brief.txt", "furniture.txt", "wrapped.txt", "no_main_text.html")
    ]
    out = tmp_path / "units.csv"
    code = main(["clean", *files, "--out", str(out)])
    assert code == 1  # one file failed, the others were written
    stdout = capsys.readouterr().out
    tail = stdout[stdout.index("needs a look") :]
    tables = tmp_path / "units_cleanup"
    expected = {
        "no_main_text": tables / "cleanup_problems.csv",
        "furniture": tables / "cleanup_audit.csv",
        "wrapped": tables / "cleanup_joins.csv",
        "brief": out,
    }
    for doc, table in expected.items():
        lines = [x for x in tail.splitlines() if x.strip().startswith(doc)]
        assert any(x.endswith(str(table)) for x in lines) and table.is_file(), lines
    assert "no main text found" in tail


@pytest.mark.notebooks
def test_run_prints_the_list_after_the_summary(tmp_path, capsys):
    table, raw = _messy(tmp_path)
    body = (
        "from helpers import cleanup\n"
        "result = cleanup.corpus_clean(corpus_table, raw_dir)\n"
        "cleanup.clean_write(result, processed_dir, tables_dir)"
    )
    nb = notebook_write(
        tmp_path / "01_clean.ipynb",
        'corpus_table = ""\nraw_dir = ""\nprocessed_dir = ""\ntables_dir = ""\nout_dir = ""',
        body,
    )
    cfg = config_write(
        tmp_path / "pipeline.yaml",
        {
            "kernel": KERNEL,
            "parameters": {
                "corpus_table": str(table),
                "raw_dir": str(raw),
                "processed_dir": str(tmp_path / "processed"),
                "tables_dir": str(tmp_path / "tables"),
                "out_dir": str(tmp_path),
            },
            "notebooks": [{"path": str(nb)}],
        },
    )
    code = main(
        ["run", "--config", str(cfg), "--output-dir", str(tmp_path / "ex"), "--no-progress"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert (
        out.index("01_clean")
        < out.index("manifest:")
        < out.index(f"needs a look ({len(EXPECTED)}):")
    )
    tail = out[out.index("needs a look") :]
    # the run's summary lists the first five and counts the rest (all are in the tables)
    listed = [
        doc
        for doc, _, table_name in EXPECTED
        if any(x.strip().startswith(doc) and x.endswith(table_name) for x in tail.splitlines())
    ]
    assert len(listed) == 5
    assert f"… and {len(EXPECTED) - 5} more" in tail
