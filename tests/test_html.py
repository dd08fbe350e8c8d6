"""Reading saved web pages (``.html``/``.htm``): main text, page metadata, nothing lost silently.

The pages in ``tests/fixtures/html/`` are written by us (see the README there); each ``NAME.yaml``
lists the body sentences, headings, furniture and metadata a reader of the page would name.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from helpers import cleanup, corpus
from helpers.html import html_extract

HTML = Path(__file__).parent / "fixtures" / "html"
PAGES = sorted(HTML.glob("*.html"))
ARTICLES = [
    p for p in PAGES if not yaml.safe_load(p.with_suffix(".yaml").read_text("utf-8")).get("problem")
]


def _ws(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _ref(path: Path) -> dict:
    return yaml.safe_load(path.with_suffix(".yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cleaned() -> cleanup.CleanResult:
    return cleanup.files_clean(PAGES)


@pytest.mark.parametrize("page", ARTICLES, ids=[p.name for p in ARTICLES])
def test_every_body_sentence_becomes_a_unit_in_order(page, cleaned):
    units = cleaned.sentences[cleaned.sentences["doc_id"] == page.stem]
    texts = [_ws(t) for t in units.loc[units["kind"] == "text", "text"]]
    body = [_ws(s) for s in _ref(page)["body"]]
    missing = [s for s in body if s not in texts]
    assert not missing, f"{page.name}: body sentences not among the units: {missing}"
    positions = [texts.index(s) for s in body]
    assert positions == sorted(positions), f"{page.name}: body sentences out of order"


@pytest.mark.parametrize("page", ARTICLES, ids=[p.name for p in ARTICLES])
def test_no_furniture_reaches_the_units(page, cleaned):
    units = cleaned.units[cleaned.units["doc_id"] == page.stem]
    joined = "\n".join(_ws(t) for t in units["text"])
    leaked = [f for f in _ref(page)["furniture"] if _ws(str(f)) in joined]
    assert not leaked, f"{page.name}: furniture in the units: {leaked}"


@pytest.mark.parametrize("page", ARTICLES, ids=[p.name for p in ARTICLES])
def test_title_and_headings(page, cleaned):
    units = cleaned.paragraphs[cleaned.paragraphs["doc_id"] == page.stem]
    ref = _ref(page)
    assert [_ws(t) for t in units.loc[units["kind"] == "title", "text"]] == [_ws(ref["title"])]
    headings = [_ws(t) for t in units.loc[units["kind"] == "heading", "text"]]
    # the sub-headings of the news page carry no heading marker: they stay paragraphs of their own
    texts = [_ws(t) for t in units["text"]]
    for heading in ref.get("headings", []):
        assert _ws(heading) in headings or _ws(heading) in texts


@pytest.mark.parametrize("page", ARTICLES, ids=[p.name for p in ARTICLES])
def test_page_metadata_reaches_the_metadata_table(page, cleaned):
    meta = cleaned.metadata[cleaned.metadata["doc_id"] == page.stem]
    found = dict(
        zip(
            meta.loc[meta["rule"] == "html_page", "field"],
            meta.loc[meta["rule"] == "html_page", "value"],
        )
    )
    for field, value in _ref(page)["metadata"].items():
        assert found.get(field) == str(value), f"{page.name}: {field}"
    # the page title is the document's title when no title is given
    assert meta.loc[meta["field"] == "title", "value"].map(_ws).tolist() == [
        _ws(_ref(page)["title"])
    ]


@pytest.mark.parametrize("page", ARTICLES, ids=[p.name for p in ARTICLES])
def test_what_the_extractor_dropped_is_counted_and_in_the_audit(page, cleaned):
    doc = corpus.document_read(page)
    meta = dict(doc.metadata)
    visible, kept, dropped = (int(meta[f"html_{k}_chars"]) for k in ("visible", "kept", "dropped"))
    assert visible == kept + dropped and dropped > 0
    # every dropped block is in the audit, and the count is the sum of their characters
    audit = cleaned.audit[
        (cleaned.audit["doc_id"] == page.stem) & (cleaned.audit["part"] == "page")
    ]
    assert audit["rule"].eq("html_extractor").all() and audit["action"].eq("dropped").all()
    assert sum(len(re.sub(r"[\s|]", "", t)) for t in audit["text"]) == dropped
    # each dropped block points at its line of the .html file
    lines = page.read_bytes().split(b"\n")
    for line, _text in zip(audit["line"], audit["text"]):
        assert 1 <= line <= len(lines)
    # the furniture the reference names is in the audit or in the cleanup's own audit rows
    everything = _ws("\n".join(cleaned.audit.loc[cleaned.audit["doc_id"] == page.stem, "text"]))
    for f in _ref(page)["furniture"]:
        assert _ws(str(f)) in everything, f"{page.name}: {f!r} is neither kept nor audited"


def test_the_comments_of_readers_are_dropped_by_the_extractor_not_kept():
    doc = corpus.document_read(HTML / "news_comments.html")
    dropped = "\n".join(text for _, text in doc.dropped)
    assert "我老家就在原隆村" in dropped and "我老家就在原隆村" not in doc.text


def test_reading_is_deterministic():
    for page in ARTICLES:
        first, second = corpus.document_read(page), corpus.document_read(page)
        assert (first.text, first.metadata, first.dropped) == (
            second.text,
            second.metadata,
            second.dropped,
        )


def test_declared_gb2312_is_read_as_gb18030_with_its_gbk_characters():
    doc = corpus.document_read(HTML / "gbk_page.html")
    assert doc.encoding == "gb18030"
    assert any("王喆" in text for _, text in doc.dropped)  # a GBK character outside GB2312


def test_a_wrong_charset_declaration_falls_back_to_detection(tmp_path):
    html = (HTML / "gov_news.html").read_text(encoding="utf-8")
    assert "charset=UTF-8" in html
    path = tmp_path / "mislabelled.htm"
    path.write_bytes(html.encode("gb18030"))  # declared UTF-8, saved as GB18030
    doc = corpus.document_read(path)
    assert doc.encoding == "gb18030"
    assert _ws(_ref(HTML / "gov_news.html")["body"][0]) in _ws(doc.text)


def test_a_page_without_main_text_is_a_named_problem_and_the_others_still_run(cleaned):
    with pytest.raises(corpus.DocumentError, match="no main text found") as err:
        corpus.document_read(HTML / "no_main_text.html")
    assert "no_main_text.html" in str(err.value) and "save the article page" in str(err.value)
    problems = cleaned.problems
    assert problems["doc_id"].tolist() == ["no_main_text"]
    assert "no main text found" in problems["problem"].iloc[0]
    assert set(cleaned.summary["doc_id"]) == {p.stem for p in ARTICLES}


def test_data_tables_stay_tables_and_layout_tables_are_unwrapped():
    html = """<html><head><meta charset="utf-8"><title>两地协作资金安排</title></head><body>
    <table><tr><td><a href="#">首页</a> | <a href="#">政务公开</a></td></tr><tr><td>
    <h1>两地协作资金安排</h1>
    <p>今年两地共安排协作资金3.2亿元，主要用于产业项目、劳务协作和人才交流三个方面。</p>
    <table><tr><th>用途</th><th>金额（亿元）</th></tr>
    <tr><td>产业项目</td><td>2.1</td></tr><tr><td>劳务协作</td><td>0.6</td></tr>
    <tr><td>人才交流</td><td>0.5</td></tr></table>
    <p>资金使用情况将在年底前向社会公开，接受群众监督。</p>
    </td></tr><tr><td>版权所有 宁ICP备00000001号</td></tr></table></body></html>"""
    page = html_extract(html)
    lines = page.text.split("\n")
    assert "产业项目\t2.1" in lines and "劳务协作\t0.6" in lines and "用途\t金额（亿元）" in lines
    assert not any(set(line) <= set("-\t|") for line in lines)  # no |---| rule line
    assert "版权所有" not in page.text and "首页" not in page.text
    assert lines[0] == "两地协作资金安排"


def test_corpus_table_title_may_be_blank_for_a_page_and_mismatches_are_recorded(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(HTML / "gov_news.html", raw / "gov.html")
    shutil.copy(HTML / "traditional.html", raw / "trad.htm")
    (tmp_path / "corpus.csv").write_text(
        "doc_id,file,title\ngov,gov.html,\ntrad,trad.htm,闽宁协作的另一个标题\n", encoding="utf-8"
    )
    result = cleanup.corpus_clean(tmp_path / "corpus.csv", raw)
    assert result.problems.empty
    meta = result.metadata
    titles = dict(
        zip(
            meta.loc[meta["field"] == "title", "doc_id"],
            meta.loc[meta["field"] == "title", "value"],
        )
    )
    assert _ws(titles["gov"]) == _ws(_ref(HTML / "gov_news.html")["title"])
    mismatch = meta[(meta["doc_id"] == "trad") & (meta["field"] == "title_mismatch")]
    assert len(mismatch) == 1
    assert (result.summary["unaccounted_cjk"] == 0).all()
    # the page's rows come first within each document; documents keep the table's order
    assert meta["doc_id"].tolist() == sorted(meta["doc_id"].tolist(), key=["gov", "trad"].index)


def test_text_documents_get_no_page_rows(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(
        "闽宁协作简报\n\n两地召开联席会议，研究部署下一阶段协作重点。\n", encoding="utf-8"
    )
    (tmp_path / "corpus.csv").write_text(
        "doc_id,file,title\na,a.txt,闽宁协作简报\n", encoding="utf-8"
    )
    result = cleanup.corpus_clean(tmp_path / "corpus.csv", raw)
    assert not result.metadata["rule"].eq("html_page").any()
    assert not result.audit["part"].eq("page").any()


def test_a_blank_title_is_still_an_error_for_a_text_file(tmp_path):
    (tmp_path / "corpus.csv").write_text("doc_id,file,title\na,a.txt,\n", encoding="utf-8")
    with pytest.raises(corpus.DocumentError, match="line 2, field 'title': is empty"):
        corpus.corpus_read_table(tmp_path / "corpus.csv")


ALL_PAGES = sorted(
    p
    for folder in (HTML, HTML.parent / "pages")
    for p in folder.glob("*.htm*")
    if p.with_suffix(".yaml").exists() and not _ref(p).get("problem")
)


@pytest.mark.parametrize("page", ALL_PAGES, ids=[f"{p.parent.name}/{p.name}" for p in ALL_PAGES])
def test_the_extracted_text_keeps_every_body_sentence(page):
    """Extraction alone (before cleanup): nothing the article says is left out."""
    from helpers.text import text_normalize

    text = corpus.document_read(page).text
    flat = _ws("\n".join(text_normalize(line) for line in text.split("\n")))
    missing = [s for s in _ref(page)["body"] if _ws(s) not in flat]
    assert not missing, f"{page.name}: the extractor left out {missing}"


@pytest.mark.parametrize(
    ("head", "title"),
    [
        (
            '<title>闽宁协作推进会召开_工作动态_宁夏乡村振兴网</title><meta name="SiteName" '
            'content="宁夏乡村振兴网"><meta name="ColumnName" content="工作动态">',
            "闽宁协作推进会召开",
        ),
        (
            "<title>闽宁协作推进会召开 - 塞上新闻网</title>"
            '<meta property="og:site_name" content="塞上新闻网">',
            "闽宁协作推进会召开",
        ),
        (
            "<title>闽宁协作推进会召开｜港島時評</title>",
            "闽宁协作推进会召开｜港島時評",
        ),  # no site named
    ],
)
def test_page_title_loses_the_site_and_column_it_names(head, title):
    body = "<p>" + "两地召开联席会议，研究部署下一阶段协作重点。" * 3 + "</p>"
    html = (
        f'<html><head><meta charset="utf-8">{head}</head>'
        f"<body><article>{body}</article></body></html>"
    )
    page = html_extract(html)
    assert page.title == title and page.text.split("\n")[0] == title
