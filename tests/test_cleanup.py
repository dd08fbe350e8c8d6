"""Cleanup rules, each on real fragments of the corpus, plus the whole-document guarantees."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers import cleanup
from helpers.cleanup import document_clean
from helpers.text import text_normalize

from .conftest import CORPUS, FIXTURES


def _nows(s: str) -> str:
    return re.sub(r"\s", "", s)


# ---------------------------------------------------------------------------------------------
# Page-break repair
# ---------------------------------------------------------------------------------------------


def test_page_break_inside_a_word_is_rejoined(cleaned):
    doc = cleaned["report2024"]
    paras = doc.units[(doc.units["level"] == "paragraph") & (doc.units["kind"] == "text")]
    assert paras["text"].str.contains("福建地区资金充足").sum() == 1
    assert not paras["text"].str.endswith("福建地区资").any()
    join = doc.joins[doc.joins["joined_line"] == 31].iloc[0]
    assert (
        join["rule"] == "page_break" and join["line"] == 29 and join["tail"].endswith("福建地区资")
    )


def test_every_page_break_of_the_corpus_is_repaired(cleaned, raw_texts):
    """A body paragraph never ends without a sentence end (the corpus has no truncated text)."""
    for doc_id, doc in cleaned.items():
        paras = doc.units[(doc.units["level"] == "paragraph") & (doc.units["kind"] == "text")]
        unfinished = paras[~paras["text"].str.contains(r"[。！？；：]”?$")]
        assert unfinished.empty, (doc_id, unfinished["text"].str[-15:].tolist())
    # the breaks named in the issue and found by reading the corpus
    tails = {t for d in cleaned.values() for t in d.joins["tail"]}
    for tail in ("福建地区资", "围绕科技、教", "坚持和", "实现", "社会进步和", "福建就业"):
        assert any(t.endswith(tail) for t in tails), tail


def test_a_heading_is_never_glued_to_its_paragraph(cleaned):
    doc = cleaned["opinion2021"]
    heads = doc.units[(doc.units["level"] == "paragraph") & (doc.units["kind"] == "heading")]
    assert "一、准确把握新发展阶段闽宁协作总体要求" in set(heads["text"])
    para = doc.units[doc.units["unit_id"] == "opinion2021-1-p1"].iloc[0]
    assert para["text"].startswith("闽宁协作是习近平总书记亲自倡导")


def test_enumeration_split_by_a_page_break_is_rejoined(cleaned):
    doc = cleaned["report2024"]
    para = doc.units[doc.units["unit_id"] == "report2024-3.4-p1"].iloc[0]
    assert (
        para["text"].startswith("首先，要完善协作政策体系")
        and "其次，要完善协作资金分配机制" in para["text"]
    )
    assert para["lines"] == "71-73"
    assert (doc.joins["rule"] == "enumeration").sum() == 1


def test_a_paragraph_ending_a_sentence_is_not_joined(cleaned):
    doc = cleaned["report2024"]
    paras = doc.units[
        (doc.units["level"] == "paragraph") & (doc.units["parent_id"] == "report2024-2.1-h")
    ]
    assert len(paras) == 2 and paras.iloc[1]["text"].startswith(
        "截止目前，福建和宁夏共召开过27次联席会议"
    )


# ---------------------------------------------------------------------------------------------
# Boilerplate
# ---------------------------------------------------------------------------------------------


def _rules(doc):
    return dict(zip(doc.audit["line"], doc.audit["rule"]))


def test_report_header_and_trailer_rules(cleaned):
    rules = _rules(cleaned["report2024"])
    assert rules[3] == "leader_instruction"
    assert rules[5] == "circulation"
    assert rules[7] == "series"
    assert rules[9] == "issue_number"
    assert rules[11] == "issuer"
    assert rules[13] == "date"
    assert rules[15] == "project_note"
    assert rules[17] == "title" and rules[21] == "title_repeat"
    assert rules[19] == "byline"
    assert rules[77] == "author_note"
    assert rules[79] == "contact"
    assert rules[81] == rules[83] == "distribution"
    assert rules[85] == "copies"


def test_policy_header_covering_notice_and_trailer_rules(cleaned):
    rules = _rules(cleaned["opinion2021"])
    assert rules[3] == "issuer_mark"
    assert rules[5] == "doc_number"
    assert {rules[i] for i in (9, 11, 13, 15, 16, 17, 19)} == {"covering_notice"}
    assert rules[21] == "title"
    assert rules[59] == "issuer" and rules[61] == "print_date" and rules[63] == "copies"


def test_metadata_is_read_off_the_boilerplate(cleaned):
    def fields(doc):
        return {(r.field, r.value) for r in doc.metadata.itertuples()}

    policy = fields(cleaned["opinion2021"])
    assert ("doc_number", "宁党办〔2021〕54号") in policy
    assert ("signing_date", "2021-06-13") in policy
    assert ("print_date", "2021-06-15") in policy
    assert ("copies", "210") in policy
    assert ("circulation", "（此件公开发布）") in policy
    report = fields(cleaned["report2024"])
    assert ("date", "2024-10-08") in report
    assert ("issue", "第131期") in report
    assert ("issuer", "中共宁夏区委宣传部") in report
    assert ("author", "丁颖") in report and ("author", "宁夏大学丁颖") in report
    assert ("copies", "40") in report


def test_metadata_agrees_with_the_corpus_table(cleaned):
    from helpers import corpus

    table = corpus.corpus_read_table()
    meta = pd.concat([d.metadata for d in cleaned.values()])
    cmp = cleanup.metadata_compare(table, meta)
    got = cmp.set_index(["doc_id", "field"])["agree"]
    assert got[("opinion2021", "date")] and got[("opinion2021", "doc_number")]
    assert got[("report2024", "date")]


@pytest.mark.parametrize("doc_id", list(CORPUS))
def test_body_holds_every_body_line_exactly_once_and_no_boilerplate(cleaned, raw_texts, doc_id):
    """The issue's acceptance check, made independently of the cleanup's own bookkeeping.

    Remove the audited lines from the raw text: what is left, normalised and without whitespace,
    must be exactly the sentence units in order (each body sentence once); every dropped line is
    absent from the cleaned text; every non-blank raw line is in a unit or in the audit table.
    """
    doc = cleaned[doc_id]
    raw_lines = raw_texts[doc_id].split("\n")
    dropped = set(doc.audit.loc[doc.audit["action"] == "dropped", "line"])
    title_line = int(doc.audit.loc[doc.audit["rule"] == "title", "line"].iloc[0])
    kept = [
        text_normalize(line)
        for n, line in enumerate(raw_lines, 1)
        if n not in dropped and line.strip()
    ]
    sentences = doc.units[doc.units["level"] == "sentence"].sort_values("start")
    assert _nows("".join(kept)) == _nows("".join(sentences["text"]))
    assert sentences["text"].is_unique
    assert kept[0] == text_normalize(raw_lines[title_line - 1])
    # no header or trailer line in the body
    body = doc.text
    removed = doc.audit[(doc.audit["action"] == "dropped") & (doc.audit["rule"] != "title_repeat")]
    for text in removed["text"]:
        assert _nows(text_normalize(text)) not in _nows(body), text
    # every non-blank line is accounted for
    covered = set(dropped) | {title_line}
    for r in doc.units["lines"]:
        a, _, b = str(r).partition("-")
        covered.update(range(int(a), int(b or a) + 1))
    nonblank = {n for n, line in enumerate(raw_lines, 1) if line.strip()}
    assert nonblank <= covered
    assert doc.summary["unaccounted_cjk"] == 0


# ---------------------------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("doc_id", list(CORPUS))
def test_units_have_unique_ids_and_exact_offsets(cleaned, doc_id):
    doc = cleaned[doc_id]
    for level in ("paragraph", "sentence"):
        u = doc.units[doc.units["level"] == level]
        assert u["unit_id"].is_unique
        for row in u.itertuples():
            assert doc.text[row.start : row.end] == row.text
            assert row.unit_id.startswith(f"{doc_id}-")
    # sentences tile their paragraph: same characters, in order
    paras = doc.units[(doc.units["level"] == "paragraph") & (doc.units["kind"] == "text")]
    sents = doc.units[(doc.units["level"] == "sentence") & (doc.units["kind"] == "text")]
    for p in paras.itertuples():
        kids = sents[sents["parent_id"] == p.unit_id]
        assert _nows("".join(kids["text"])) == _nows(p.text)
        assert all(k.startswith(p.unit_id + "-s") for k in kids["unit_id"])


def test_heading_levels_paths_and_ids_follow_the_document_numbering(cleaned):
    u = cleaned["opinion2021"].units.set_index("unit_id")
    u = u[u["level"] == "sentence"]
    assert u.loc["opinion2021-2-h", "text"] == "二、扎实推进新发展阶段闽宁协作重点任务"
    assert u.loc["opinion2021-2-h", "heading_level"] == 1
    h = u.loc["opinion2021-2.1-h"]
    assert h["text"] == "（一）加强产业合作。" and h["heading_level"] == 2
    assert h["heading_path"] == "二、扎实推进新发展阶段闽宁协作重点任务 > （一）加强产业合作"
    assert h["section"] == "二、扎实推进新发展阶段闽宁协作重点任务"
    s = u.loc["opinion2021-3.1-p1-s1"]
    assert s["text"].startswith("坚持联席推进、结对帮扶机制")
    assert s["parent_id"] == "opinion2021-3.1-p1"
    assert u.loc["opinion2021-0-p1-s1", "text"].startswith("为深入贯彻落实习近平总书记")
    assert u.loc["opinion2021-t", "text"] == "关于深化新发展阶段闽宁协作工作的意见"


def test_four_heading_levels():
    text = "\n".join(
        [
            "关于深化新发展阶段闽宁协作工作的意见",
            "一、准确把握新发展阶段闽宁协作总体要求",
            "（一）加强产业合作。以龙头企业为依托，以产业园区为支撑。",
            "1.加强闽宁粮食协作。推动粮食产业高质量发展。",
            "（1）强化闽宁两省区旅游目的地和客源地建设。推动文化和旅游产业深度合作。",
            "（2）建立健全两省区数字产业深度合作对接机制。",
            "2.打造“飞地经济”示范区。",
            "（二）加强资源互补。发挥两省区比较优势。",
        ]
    )
    doc = document_clean(text, "t")
    heads = doc.units[(doc.units["level"] == "paragraph") & (doc.units["kind"] == "heading")]
    got = list(zip(heads["unit_id"], heads["heading_level"]))
    assert got == [
        ("t-1-h", 1),
        ("t-1.1-h", 2),
        ("t-1.1.1-h", 3),
        ("t-1.1.1.1-h", 4),
        ("t-1.1.1.2-h", 4),
        ("t-1.1.2-h", 3),
        ("t-1.2-h", 2),
    ]
    para = doc.units[doc.units["unit_id"] == "t-1.1.1.1-p1"].iloc[0]
    assert para["heading_path"] == (
        "一、准确把握新发展阶段闽宁协作总体要求 > （一）加强产业合作 > 1.加强闽宁粮食协作"
        " > （1）强化闽宁两省区旅游目的地和客源地建设"
    )


def test_units_tree_of_a_long_document_counts_the_text_under_each_heading():
    """2,000 sections (6,000 paragraphs): the tree is built from one grouping, not per heading."""
    section = [
        "一、推进产业协作",
        "闽宁两省区共建产业园区。园区吸纳当地劳动力就业。",
        "（一）发展特色种植",
        "枸杞和葡萄种植面积稳步扩大。",
        "菌菇产业带动农户增收。技术人员定期到村指导。村集体经济得到壮大。",
    ]
    copies = 2000
    doc = document_clean("\n".join(["闽宁协作产业发展情况汇编"] + section * copies), "big")
    tree = cleanup.units_tree(doc.units, "big").split("\n")
    expected = ["[big-t] 闽宁协作产业发展情况汇编  (0 ¶, 0 sentences)"]
    for k in range(1, copies + 1):
        expected.append(f"  [big-{k}-h] 一、推进产业协作  (1 ¶, 2 sentences)")
        expected.append(f"    [big-{k}.1-h] （一）发展特色种植  (2 ¶, 4 sentences)")
    assert tree == expected
    # the tree of all documents holds the same lines; another document's units change nothing
    other = document_clean("\n".join(["闽宁协作产业发展概况", *section]), "small").units
    both = cleanup.units_tree(pd.concat([doc.units, other], ignore_index=True))
    assert both.split("\n")[: len(expected)] == expected
    assert both.split("\n")[len(expected) :] == [
        "[small-t] 闽宁协作产业发展概况  (0 ¶, 0 sentences)",
        "  [small-1-h] 一、推进产业协作  (1 ¶, 2 sentences)",
        "    [small-1.1-h] （一）发展特色种植  (2 ¶, 4 sentences)",
    ]


# ---------------------------------------------------------------------------------------------
# Messy input: web pages, traditional script, truncated text
# ---------------------------------------------------------------------------------------------


def test_web_page_navigation_byline_footer_and_lost_breaks():
    from helpers.corpus import document_read

    raw = document_read(FIXTURES / "web_news.txt")
    doc = document_clean(raw.text, "web")
    rules = _rules(doc)
    assert rules[1] == "web_navigation"
    assert rules[2] == "title"
    assert rules[3] == "web_byline"
    assert rules[8] == "page_number"
    assert rules[11] == "author_note"
    assert rules[12] == "web_widget"
    assert rules[13] == "web_copyright"
    units = doc.units[doc.units["level"] == "sentence"]
    heads = units[units["kind"] == "heading"]
    # headings that had lost their line breaks are found again
    assert list(heads["text"]) == [
        "一、闽宁协作的内在逻辑",
        "（一）经济逻辑。",
        "二、闽宁协作模式的现状",
    ]
    assert list(heads["heading_level"]) == [1, 2, 1]
    text = "".join(units["text"])
    assert "福建地区资金充足" in text  # page break across the page number
    assert "典范，在历史的探索" in text and "治理模式。" in text  # ASCII punctuation normalised
    assert "“联席推进、结对帮扶、产业带动、互学互助、社会参与”" in text
    assert "ICP" not in doc.text and "打印" not in doc.text and "首页" not in doc.text


def test_traditional_script_is_cleaned_by_the_same_rules_and_kept_traditional(raw_texts):
    import opencc

    trad = opencc.OpenCC("s2t").convert(raw_texts["opinion2021"])
    assert "寧黨辦〔2021〕54號" in trad
    doc = document_clean(trad, "trad", title=opencc.OpenCC("s2t").convert(CORPUS["opinion2021"][1]))
    simple = document_clean(raw_texts["opinion2021"], "trad", title=CORPUS["opinion2021"][1])
    assert _rules(doc) == _rules(simple)
    assert ("doc_number", "寧黨辦〔2021〕54號") in {
        (r.field, r.value) for r in doc.metadata.itertuples()
    }
    assert list(doc.units["unit_id"]) == list(simple.units["unit_id"])
    assert "閩寧協作" in doc.text and "闽宁协作" not in doc.text


def test_truncated_text_keeps_its_last_sentence_and_drops_nothing(raw_texts):
    text = raw_texts["report2024"]
    cut = text[: text.index("福建已累计投入54.82亿元") + len("福建已累计投入54.8")]
    doc = document_clean(cut, "cut", title=CORPUS["report2024"][1])
    sents = doc.units[doc.units["level"] == "sentence"].sort_values("start")
    assert sents.iloc[-1]["text"].endswith("福建已累计投入54.8")
    assert not (doc.audit["part"] == "trailer").any()
    assert doc.summary["unaccounted_cjk"] == 0


def test_text_without_header_or_title_starts_with_the_body():
    doc = document_clean("闽宁协作是东西部协作的生动典范。推动产业合作。", "x")
    assert doc.audit.empty
    assert list(doc.units[doc.units["level"] == "sentence"]["unit_id"]) == [
        "x-0-p1-s1",
        "x-0-p1-s2",
    ]


def test_print_layout_running_headers_and_repeated_title_are_removed(raw_texts):
    """A PDF-style layout: the title on top of every page, a running footer and page numbers."""
    doc = document_clean(raw_texts["report2024"], "r", title=CORPUS["report2024"][1])
    paras = [u["text"] for u in doc.unit_rows if u["level"] == "paragraph" and u["kind"] == "text"]
    pages = []
    for n, start in enumerate(range(0, len(paras), 4), start=1):
        pages.append(
            "\n".join(
                [
                    CORPUS["report2024"][1],
                    "",
                    *paras[start : start + 4],
                    "",
                    "智库成果要报·内部参阅",
                    f"— {n} —",
                    "",
                ]
            )
        )
    text = "深化和拓展闽宁协作模式的路径研究\n\n" + "\n".join(pages)
    printed = document_clean(text, "p", title=CORPUS["report2024"][1])
    rules = printed.audit.groupby("rule").size().to_dict()
    assert rules["running_header"] == len(pages) and rules["page_number"] == len(pages)
    assert rules["title_repeat"] == len(pages)
    got = [
        u["text"] for u in printed.unit_rows if u["level"] == "paragraph" and u["kind"] == "text"
    ]
    assert got == paras
    assert printed.summary["unaccounted_cjk"] == 0


def test_journal_article_front_matter_and_references_are_separated(raw_texts):
    body = [
        u["text"]
        for u in document_clean(raw_texts["report2024"], "r").unit_rows
        if u["level"] == "paragraph" and u["kind"] == "text"
    ][:3]
    text = "\n".join(
        [
            "深化和拓展闽宁协作模式的路径研究",
            "丁颖",
            "（宁夏大学，宁夏 银川 750021）",
            "摘要：闽宁协作是东西部协作的典范，本文分析其内在逻辑与协作机制。",
            "关键词：闽宁协作; 东西部协作; 乡村振兴",
            "中图分类号：D422.6 文献标识码：A 文章编号：1002-0000(2024)05-0001-05",
            *body,
            "参考文献：",
            "[1] 习近平. 摆脱贫困[M]. 福州: 福建人民出版社, 1992.",
            "[2] 李小云. 东西部扶贫协作的制度逻辑[J]. 中国农业大学学报, 2020(4): 5-12.",
            "收稿日期：2024-05-10",
            "作者简介：丁颖，宁夏大学副教授。",
        ]
    )
    doc = document_clean(text, "j", title="深化和拓展闽宁协作模式的路径研究")
    rules = dict(zip(doc.audit["text"].str[:6], doc.audit["rule"]))
    assert rules["关键词：闽宁"] == "journal_keywords"
    assert rules["中图分类号："] == "journal_classification"
    assert rules["参考文献："] == "references_heading"
    assert rules["[1] 习近"] == rules["[2] 李小"] == "reference"
    assert rules["收稿日期：2"] == "journal_dates" and rules["作者简介：丁"] == "author_bio"
    texts = [u["text"] for u in doc.unit_rows if u["level"] == "paragraph"]
    assert texts[-3:] == body  # the body ends where the references begin
    # the abstract is content: kept without its label, which becomes its heading path and section
    abstract = [
        u
        for u in doc.unit_rows
        if u["level"] == "paragraph" and u["text"].startswith("闽宁协作是东西部")
    ]
    assert len(abstract) == 1 and abstract[0]["heading_path"] == abstract[0]["section"] == "摘要"
    assert not any("摘要" in t for t in texts)
    meta = {(r.field, r.value) for r in doc.metadata.itertuples()}
    assert (
        "keywords",
        "闽宁协作；东西部协作；乡村振兴",
    ) in meta  # ASCII ; in Chinese text normalised
    assert ("author", "丁颖") in meta and ("affiliation", "（宁夏大学，宁夏银川750021）") in meta


def test_a_short_section_word_under_the_title_is_not_taken_for_an_author():
    doc = document_clean("闽宁协作工作办法\n前言\n为深化闽宁协作，制定本办法。", "x")
    assert doc.audit[doc.audit["action"] == "dropped"].empty
    assert [u["text"] for u in doc.unit_rows if u["level"] == "sentence"][1] == "前言"


@pytest.mark.parametrize(
    "column",
    [
        [3, 41, 0],  # line numbers: built as an int64 array
        [3, 2**64],  # beyond int64: pandas decides, as from the rows
        [1, True],
        [2, None],
        [1, 2.5],
        ["1", 2],
    ],
)
def test_frames_built_by_column_equal_pandas_from_the_rows(column):
    rows = [("d1", value, "闽宁协作") for value in column]
    expected = pd.DataFrame(rows, columns=["doc_id", "line", "text"])
    pd.testing.assert_frame_equal(cleanup._values_frame(rows, list(expected)), expected)
    dicts = [dict(zip(expected, row)) for row in rows]
    pd.testing.assert_frame_equal(cleanup._rows_frame(dicts, list(expected)), expected)
