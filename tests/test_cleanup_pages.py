"""Cleanup rules for pages as researchers collect them (issue #14 part 1), in both scripts.

Every test string is written for this project, modelled on the structure of public news pages,
CNKI-style journal pages and pinyin-annotated mirror sites (labels, bracket styles, where bylines
and datelines sit); no sentence is copied from a page. Names, codes, DOIs and postcodes are
invented.
"""

from __future__ import annotations

import re

import opencc
import pytest

from helpers import cleanup_rules, cleanup_steps
from helpers.cleanup import document_clean
from helpers.lines import (
    line_front_matter,
    line_lead,
    line_lost_spaces,
    line_split_paragraphs,
    line_strip_pinyin,
)
from helpers.text import text_normalize, text_simplify, text_split_sentences

S2T = opencc.OpenCC("s2t").convert


def _sentences(doc) -> list[str]:
    return [u["text"] for u in doc.unit_rows if u["level"] == "sentence" and u["kind"] == "text"]


def _paragraphs(doc) -> list[str]:
    return [u["text"] for u in doc.unit_rows if u["level"] == "paragraph" and u["kind"] == "text"]


def _title(doc) -> str | None:
    titles = [u["text"] for u in doc.unit_rows if u["level"] == "sentence" and u["kind"] == "title"]
    return titles[0] if titles else None


def _rules(doc) -> list[str]:
    return list(doc.audit["rule"])


def _all_text(doc) -> str:
    return "\n".join(u["text"] for u in doc.unit_rows)


# ---------------------------------------------------------------------------------------------
# Journal front matter: bracketed and colon-style labels, author and affiliation lines
# ---------------------------------------------------------------------------------------------

JOURNAL = "\n".join(
    [
        "闽宁协作中的产业园区与就业带动",
        "张明远1，马丽华2",
        "（1.宁夏大学经济管理学院，宁夏银川750021；2.福建农林大学公共管理学院，福建福州350002）",
        "【摘要】闽宁协作园区吸纳了大量本地劳动力。本文根据两地园区的用工资料，讨论园区对就业的带动作用。",
        "【关键词】闽宁协作；产业园区；就业带动",
        "【中图分类号】F127　【文献标识码】A　【文章编号】1000-0000（2023）05-0012-07",
        "【DOI】10.12345/j.cnki.nxsk.2023.05.012",
        "一、引言",
        "东西部协作园区是产业转移的主要载体。园区企业多为劳动密集型加工企业。",
        "二、结论",
        "园区的就业带动作用取决于企业能否长期经营。",
        "基金项目：国家社会科学基金项目（22XSH000）",
        "作者简介：张明远（1982—），男，宁夏中卫人，副教授。",
        "收稿日期：2023-04-02",
    ]
)
JOURNAL_BODY = [
    "闽宁协作园区吸纳了大量本地劳动力。",
    "本文根据两地园区的用工资料，讨论园区对就业的带动作用。",
    "东西部协作园区是产业转移的主要载体。",
    "园区企业多为劳动密集型加工企业。",
    "园区的就业带动作用取决于企业能否长期经营。",
]
FURNITURE = [
    "张明远1",
    "750021",
    "摘要",
    "关键词",
    "中图分类号",
    "F127",
    "文献标识码",
    "文章编号",
    "1000-0000",
    "DOI",
    "10.12345",
    "cnki",
    "基金项目",
    "22XSH000",
    "作者简介",
    "收稿日期",
    "2023-04-02",
]


@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_bracketed_front_matter_is_dropped_and_the_abstract_kept_labelled(script):
    text = JOURNAL if script == "simplified" else S2T(JOURNAL)
    body = JOURNAL_BODY if script == "simplified" else [S2T(s) for s in JOURNAL_BODY]
    doc = document_clean(text, "j")
    assert _title(doc) == (JOURNAL if script == "simplified" else S2T(JOURNAL)).split("\n")[0]
    assert _sentences(doc) == body
    everything = _all_text(doc)
    for f in FURNITURE:
        assert (f if script == "simplified" else S2T(f)) not in everything, f
    abstract = [u for u in doc.unit_rows if u["text"] == body[0]]
    assert abstract and all(u["heading_path"] == u["section"] == "摘要" for u in abstract)
    audit = doc.audit
    assert list(audit.loc[audit["rule"] == "journal_abstract", "action"]) == ["label removed"]
    # the classification line holds three labels: each is its own audit row
    assert (audit["rule"] == "journal_classification").sum() == 4
    assert audit["rule"].iloc[1] in ("byline", "journal_authors")  # 张明远1，马丽华2
    assert {"affiliation", "journal_keywords", "author_bio", "journal_dates"} <= set(audit["rule"])
    meta = {(r.field, r.value) for r in doc.metadata.itertuples()}
    assert ("journal_ids", "10.12345/j.cnki.nxsk.2023.05.012") in meta
    assert doc.summary["unaccounted_cjk"] == 0


def test_colon_front_matter_with_spaced_labels_and_english_abstract():
    text = "\n".join(
        [
            "粤桂劳务协作的组织方式",
            "李建华",
            "摘 要：劳务协作是东西部协作的重点任务。本文考察劳务输出的组织方式。",
            "关 键 词：劳务协作；组织化",
            "Abstract: Labour cooperation is a key task of East-West cooperation.",
            "Key words: labour cooperation; organisation",
            "中图分类号：F241.4　　文献标识码：A",
            "DOI:10.54321/j.cnki.gxjj.2023.11.007",
            "一、问题的提出",
            "长期以来，农村劳动力外出务工主要依靠亲缘关系。",
        ]
    )
    doc = document_clean(text, "c")
    assert _sentences(doc) == [
        "劳务协作是东西部协作的重点任务。",
        "本文考察劳务输出的组织方式。",
        "长期以来，农村劳动力外出务工主要依靠亲缘关系。",
    ]
    assert "Abstract" not in doc.text and "cnki" not in doc.text and "F241" not in doc.text
    assert "journal_abstract_en" in _rules(doc)


def test_front_matter_glued_into_one_line_with_the_abstract_is_split():
    text = (
        "区域协作研究\n〔摘要〕闽宁协作持续近三十年。〔关键词〕闽宁协作 对口支援 "
        "〔中图分类号〕D630 "
        "〔文献标识码〕A\n两省区的合作从扶贫起步。"
    )
    doc = document_clean(text, "g")
    assert _sentences(doc) == ["闽宁协作持续近三十年。", "两省区的合作从扶贫起步。"]
    assert "D630" not in doc.text and "对口支援" not in doc.text


def test_front_matter_never_glues_onto_the_first_body_sentence():
    """A DOI line without a sentence end used to take the next line as its continuation."""
    text = "闽宁协作研究\n【DOI】10.12345/j.cnki.abc.2023.01.001\n福建地区资金充足，宁夏资源丰富。"
    doc = document_clean(text, "d")
    assert _paragraphs(doc) == ["福建地区资金充足，宁夏资源丰富。"]
    assert doc.joins.empty


@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_date_author_school_and_postcode_on_one_line_and_a_second_author_line(script):
    text = "\n".join(
        [
            "宁夏社会科学 2023年第5期",
            "闽宁协作中的产业转移与就业",
            "2023-09-15 张明远 宁夏大学民族与历史学院 宁夏 银川 750021",
            "马丽华 福建农林大学公共管理学院 福建 福州 350002",
            "产业转移带来了大量就业岗位。",
        ]
    )
    text = text if script == "simplified" else S2T(text)
    doc = document_clean(text, "a")
    conv = (lambda s: s) if script == "simplified" else S2T
    assert _title(doc) == conv("闽宁协作中的产业转移与就业")
    assert _sentences(doc) == [conv("产业转移带来了大量就业岗位。")]
    assert _rules(doc).count("journal_author_line") == 2 and "journal_issue" in _rules(doc)


@pytest.mark.parametrize(
    "authors",
    ["陳文盛a，範水生b，邱生榮a,c", "王園　張儀華", "段樹國1,周佳琦1,奚秀梅2", "王园 张仪华 李明"],
)
def test_an_author_line_above_the_title_is_never_the_title(authors):
    text = (
        f"{authors}\n閩寧協作與鄉村產業振興\n（寧夏大學經濟管理學院，寧夏 銀川 750021）\n"
        f"兩地合作不斷深化。"
    )
    doc = document_clean(text, "t")
    assert _title(doc) == "閩寧協作與鄉村產業振興"
    assert doc.audit.loc[doc.audit["line"] == 1, "rule"].iloc[0] in ("byline", "journal_authors")
    assert _sentences(doc) == ["兩地合作不斷深化。"]


def test_a_two_word_title_with_a_space_is_not_taken_for_author_names():
    doc = document_clean("山海携手 共绘新篇\n两地合作不断深化。", "t")
    assert _title(doc) == "山海携手共绘新篇"


# ---------------------------------------------------------------------------------------------
# News pages: datelines and bylines at the start of the first paragraph
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "rule", "kept"),
    [
        (
            "福建日报讯 (记者 林某某) 17日，两地在福州召开联席会议。",
            "dateline",
            "17日，两地在福州召开联席会议。",
        ),
        (
            "新华社银川3月5日电（记者 马某）闽宁镇的葡萄酒产业持续发展。",
            "dateline",
            "闽宁镇的葡萄酒产业持续发展。",
        ),
        (
            "本报讯 记者 张某某 李某 近日，宁夏代表团赴福建考察。",
            "dateline",
            "近日，宁夏代表团赴福建考察。",
        ),
        (
            "人民网银川10月8日电 两省区签署新一轮协作协议。",
            "dateline",
            "两省区签署新一轮协作协议。",
        ),
        (
            "□本报评论员闽宁协作走过了不平凡的历程。",
            "inline_byline",
            "闽宁协作走过了不平凡的历程。",
        ),
        ("□本报评论员　山海虽远，协作不辍。", "inline_byline", "山海虽远，协作不辍。"),
        ("本報訊（記者 黃某某）閩寧兩地簽署協作協議。", "dateline", "閩寧兩地簽署協作協議。"),
    ],
)
def test_dateline_or_byline_is_cut_and_the_sentence_after_it_stays(first, rule, kept):
    text = f"闽宁协作联席会议在福州召开\n{first}\n会议回顾了一年来的成果。"
    doc = document_clean(text, "n")
    assert _sentences(doc)[0] == kept
    assert _sentences(doc)[1] == "会议回顾了一年来的成果。"
    row = doc.audit[doc.audit["rule"] == rule]
    assert list(row["action"]) == ["cut"] and list(row["line"]) == [2]
    assert doc.summary["unaccounted_cjk"] == 0


@pytest.mark.parametrize(
    "first",
    [
        "据新华社消息，两地签署协作协议。",
        "本报评论员认为，协作要久久为功。",
        "福建日报报道了闽宁协作的新进展。",
    ],
)
def test_a_sentence_that_only_mentions_a_news_source_is_not_cut(first):
    doc = document_clean(f"标题一则\n{first}", "n")
    assert _sentences(doc) == [first]
    assert not (doc.audit["action"] == "cut").any()


def test_dateline_is_cut_only_from_the_first_paragraph():
    text = "标题一则\n两地合作不断深化。\n本报讯（记者 张某）会议召开。"
    doc = document_clean(text, "n")
    assert _sentences(doc)[-1] == "本报讯（记者张某）会议召开。"


def test_a_byline_on_its_own_line_is_header():
    text = "以更实举措深化闽宁协作\n□本报评论员\n协作不是一方的单向付出。"
    doc = document_clean(text, "n")
    assert _title(doc) == "以更实举措深化闽宁协作"
    assert "news_byline" in _rules(doc) and _sentences(doc) == ["协作不是一方的单向付出。"]


# ---------------------------------------------------------------------------------------------
# Mirror sites: pinyin after Han characters
# ---------------------------------------------------------------------------------------------


def test_pinyin_annotations_are_removed_and_counted():
    text = (
        "閩寧協(xié)作新階段\n"
        "兩地產(chǎn)業(yè)協(xié)作不斷深化，現(xiàn)在已進入新階段。經濟總量(GDP)穩步增長。"
    )
    doc = document_clean(text, "m")
    assert _title(doc) == "閩寧協作新階段"
    assert _sentences(doc) == [
        "兩地產業協作不斷深化，現在已進入新階段。",
        "經濟總量（GDP）穩步增長。",
    ]
    assert doc.summary["pinyin_removed"] == 5
    rows = doc.audit[doc.audit["rule"] == "pinyin_annotation"]
    assert list(rows["action"]) == ["removed 1", "removed 4"]
    assert doc.summary["unaccounted_cjk"] == 0


@pytest.mark.parametrize(
    ("line", "mirror", "expected"),
    [
        ("城鎮(zhèn)化", False, "城鎮化"),
        ("協作(xié zuò)發展", False, "協作發展"),  # a word's syllables in one bracket
        ("增長(growth rate)", True, "增長(growth rate)"),
        ("協（xie2）作", False, "協作"),
        ("旅游(lǚ)业", False, "旅游业"),
        ("我們(men)的", True, "我們的"),
        ("我們(men)的", False, "我們(men)的"),  # toneless, and not a mirror: left alone
        ("经济总量(GDP)", True, "经济总量(GDP)"),
        ("产业(industry)转型", True, "产业(industry)转型"),
        ("企业(e.g.)", True, "企业(e.g.)"),
        ("模式(a)", True, "模式(a)"),  # a one-letter toneless syllable is more likely a list mark
        ("COVID (xié)", True, "COVID (xié)"),  # not after a Han character
    ],
)
def test_line_strip_pinyin(line, mirror, expected):
    assert line_strip_pinyin(line, mirror=mirror)[0] == expected


# ---------------------------------------------------------------------------------------------
# Lost line breaks and lost spaces
# ---------------------------------------------------------------------------------------------


def test_paragraphs_separated_only_by_spaces_on_one_line_are_split():
    line = (
        "　　闽宁协作始于1996年。两地建立了联席会议制度。　　福建企业陆续到宁夏投资。  "
        "一、主要做法  （一）产业协作。园区建设不断推进。"
    )
    doc = document_clean("闽宁协作的回顾\n" + line, "s")
    assert _paragraphs(doc) == [
        "闽宁协作始于1996年。两地建立了联席会议制度。",
        "福建企业陆续到宁夏投资。",
        "园区建设不断推进。",
    ]
    assert [
        u["text"] for u in doc.unit_rows if u["kind"] == "heading" and u["level"] == "sentence"
    ] == ["一、主要做法", "（一）产业协作。"]
    row = doc.audit[doc.audit["rule"] == "space_paragraphs"]
    assert list(row["action"]) == ["split into 4 paragraphs"]
    assert set(u["lines"] for u in doc.unit_rows if u["kind"] != "title") == {"2"}


def test_spaces_inside_a_byline_or_between_latin_words_do_not_split():
    assert line_split_paragraphs("来源：宁夏日报  发布时间：2024-10-09") == [
        "来源：宁夏日报  发布时间：2024-10-09"
    ]
    assert line_split_paragraphs("East  West。Cooperation") == ["East  West。Cooperation"]


def test_question_mark_runs_for_lost_spaces_are_not_sentences():
    text = (
        "闽宁协作的回顾\n??闽宁协作始于1996年。??福建企业陆续到宁夏投资。\n？？\n"
        "真的能做到吗？？大家都有信心。"
    )
    doc = document_clean(text, "q")
    assert _paragraphs(doc) == [
        "闽宁协作始于1996年。",
        "福建企业陆续到宁夏投资。",
        "真的能做到吗？？大家都有信心。",
    ]
    assert not any(re.fullmatch(r"[?？\s]+", s) for s in _sentences(doc))
    assert list(doc.audit.loc[doc.audit["rule"] == "lost_space_marks", "line"]) == [2, 3]


# ---------------------------------------------------------------------------------------------
# Sentences with quotations
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a quotation's own ！ stays inside the sentence that goes on after it
        (
            "某某指出：“只要两地齐心，一定能做到！”这体现了闽宁协作的精神。下一步要巩固成果。",
            [
                "某某指出：“只要两地齐心，一定能做到！”这体现了闽宁协作的精神。",
                "下一步要巩固成果。",
            ],
        ),
        (
            "“山海情深。”老人笑着说。两地来往更密了。",
            ["“山海情深。”老人笑着说。", "两地来往更密了。"],
        ),
        ("大家都在问“还能更好吗？”的问题。", ["大家都在问“还能更好吗？”的问题。"]),
        # a full statement introduced by a colon and closed with 。 ends the sentence
        (
            "总书记强调：“要巩固拓展脱贫攻坚成果。”近年来，两地合作不断深化。",
            ["总书记强调：“要巩固拓展脱贫攻坚成果。”", "近年来，两地合作不断深化。"],
        ),
        # a quotation that ends the paragraph ends the sentence
        ("他说：“一定能做到！”", ["他说：“一定能做到！”"]),
        (
            "提出要“巩固成果。防止返贫”。闽宁协作是重要战略。",
            ["提出要“巩固成果。防止返贫”。", "闽宁协作是重要战略。"],
        ),
    ],
)
def test_sentence_split_keeps_a_quotation_inside_its_sentence(text, expected):
    assert [text[s:e] for s, e in text_split_sentences(text)] == expected


# ---------------------------------------------------------------------------------------------
# Speed guard: the new steps only run on lines that need them
# ---------------------------------------------------------------------------------------------


def test_plain_lines_pass_the_new_steps_unchanged():
    line = "闽宁协作是东西部协作的生动典范，形成了特有的治理模式。"
    assert line_lost_spaces(line) == (line, [])
    assert line_split_paragraphs(line) == [line]
    assert line_strip_pinyin(line) == (line, [])
    assert line_front_matter(line) is None
    assert line_lead(line) is None


# ---------------------------------------------------------------------------------------------
# Web and e-paper furniture (shapes seen on public pages; the strings are ours)
# ---------------------------------------------------------------------------------------------


def test_epaper_page_kicker_edition_lines_column_label_and_reporters_note():
    text = "\n".join(
        [
            "2025年05月12日 Mon",
            "闽宁协作三十年",
            "山海相连情谊长",
            "《宁夏日报》（2025年05月12日 03版）",
            "03版：要闻",
            "版权声明：凡本报刊载作品，未经本报授权不得转载。",
            "【记者手记】",
            "　　一个移民村的变化，是两省区协作的缩影。村里的年轻人大多在园区上班。",
            "（本报记者 马某某 李某）",
            "上一篇　下一篇　返回目录",
            "宁夏日报社概况 | 联系我们 | 网站地图",
        ]
    )
    doc = document_clean(text, "e")
    assert _title(doc) == "闽宁协作三十年"
    assert _sentences(doc) == [
        "一个移民村的变化，是两省区协作的缩影。",
        "村里的年轻人大多在园区上班。",
    ]
    rules = _rules(doc)
    for rule in (
        "web_date",
        "subtitle",
        "paper_edition",
        "web_disclaimer",
        "column_label",
        "news_byline_note",
        "web_widget",
        "web_menu",
    ):
        assert rule in rules, rule
    assert ("subtitle", "山海相连情谊长") in {(r.field, r.value) for r in doc.metadata.itertuples()}


def test_english_title_and_author_lines_of_a_chinese_article_are_header():
    text = "\n".join(
        [
            "刘 某, 王某某 (宁夏大学 经济管理学院, 宁夏 银川 750021)",
            "LIU Mou, WANG Moumou (School of Economics and Management, Ningxia University, "
            "Yinchuan 750021, China)",
            "闽宁协作的产业基础。两地产业互补性较强。",
        ]
    )
    doc = document_clean(text, "l")
    assert _sentences(doc) == ["闽宁协作的产业基础。", "两地产业互补性较强。"]
    assert _rules(doc) == ["journal_author_line", "latin_line"]


@pytest.mark.parametrize(
    "line",
    [
        "APP下载",
        "查看余下全文",
        "下载到本地 , 更方便阅读",
        "[字号 ]",
        "上一篇 下一篇 返回目录",
        "展开剩余85%",
        "原标题：闽宁两地签署协作协议",
        "转载自：某某日报客户端",
        "声明：本站转载此文目的在于传递更多信息。",
        "本文仅代表作者观点，不代表本站观点，如有侵权请联系删除。",
        '<div class="share"></div>',
    ],
)
def test_web_widgets_and_repost_lines_above_the_body_are_dropped(line):
    doc = document_clean(f"闽宁协作迈入新阶段\n{line}\n两地合作不断深化。", "w")
    assert _title(doc) == "闽宁协作迈入新阶段"
    assert _sentences(doc) == ["两地合作不断深化。"]
    assert len(doc.audit[doc.audit["action"] == "dropped"]) == 1


def test_photo_caption_and_credit_in_the_body_are_dropped():
    text = (
        "闽宁协作迈入新阶段\n两地合作不断深化。\n图为闽宁镇的一处光伏园区。\n本报记者 马某某 摄\n"
        "园区已吸纳千余人就业。"
    )
    doc = document_clean(text, "p")
    assert _sentences(doc) == ["两地合作不断深化。", "园区已吸纳千余人就业。"]
    assert _rules(doc).count("photo_caption") == 2


def test_related_link_items_are_dropped_only_under_a_related_links_heading():
    body = "两地合作不断深化。\n主要措施包括：\n· 共建产业园区\n· 互派干部挂职"
    plain = document_clean(f"闽宁协作迈入新阶段\n{body}", "r")
    assert _sentences(plain)[-2:] == ["·共建产业园区", "·互派干部挂职"]
    related = document_clean(
        "闽宁协作迈入新阶段\n两地合作不断深化。\n相关新闻：\n· 闽宁两地召开联席会议", "r"
    )
    assert _sentences(related) == ["两地合作不断深化。"]


def test_captions_with_credits_and_inline_captions_are_removed_and_audited():
    text = "\n".join(
        [
            "闽宁协作迈入新阶段",
            "两地合作不断深化，园区建设加快推进。图为闽宁镇的一处光伏园区。园区已吸纳千余人就业。",
            "贺兰山下的葡萄园。某某县融媒体中心供图",
            "闽宁镇的新街道。马某 摄",
            "葡萄酒产业带动了当地就业。",
        ]
    )
    doc = document_clean(text, "c")
    assert _sentences(doc) == [
        "两地合作不断深化，园区建设加快推进。",
        "园区已吸纳千余人就业。",
        "葡萄酒产业带动了当地就业。",
    ]
    rows = doc.audit[doc.audit["rule"] == "photo_caption"]
    assert list(rows["action"]) == ["cut", "dropped", "dropped"]
    assert rows["text"].iloc[0] == "图为闽宁镇的一处光伏园区。"
    assert doc.summary["unaccounted_cjk"] == 0


def test_a_share_bullet_and_a_bare_disclaimer_heading_below_the_body_are_trailer():
    text = (
        "闽宁协作迈入新阶段\n两地合作不断深化。\n  • 分享到:\n免责声明\n"
        "1、凡本网注明来源的文字，未经本网授权不得转载。"
    )
    doc = document_clean(text, "t")
    assert _sentences(doc) == ["两地合作不断深化。"]
    assert list(doc.audit.loc[doc.audit["part"] == "trailer", "rule"]) == [
        "web_widget",
        "web_disclaimer",
        "web_disclaimer",
    ]


def test_an_unnumbered_subheading_of_up_to_20_characters_is_not_glued_to_the_next_paragraph():
    text = (
        "闽宁协作迈入新阶段\n两地合作不断深化。\n\n唱响山海协作新时代的最强音\n\n"
        "园区已吸纳千余人就业。"
    )
    doc = document_clean(text, "s")
    assert _paragraphs(doc) == [
        "两地合作不断深化。",
        "唱响山海协作新时代的最强音",
        "园区已吸纳千余人就业。",
    ]


def test_unlabelled_keywords_under_the_abstract_and_citation_markers_in_the_text():
    text = "\n".join(
        [
            "閩寧協作與產業轉移研究",
            "王某,張某某",
            "(某某大學經濟學院 銀川 750021)",
            "?",
            "本文考察閩寧協作中的產業轉移。結果表明:政策引導作用明顯。",
            "閩寧協作;產業轉移;東西部協作",
            "產業轉移助推經濟增長,[1-2]也與勞動力流動關系密切。[3]已有研究多關注財政援助。",
        ]
    )
    doc = document_clean(text, "k")
    assert _title(doc) == "閩寧協作與產業轉移研究"
    assert _sentences(doc) == [
        "本文考察閩寧協作中的產業轉移。",
        "結果表明：政策引導作用明顯。",
        "產業轉移助推經濟增長，也與勞動力流動關系密切。",
        "已有研究多關注財政援助。",
    ]
    rows = doc.audit.set_index("rule")
    assert rows.loc["journal_keywords", "line"] == 6
    assert rows.loc["citation_marker", "text"] == "[1-2][3]"
    assert "lost_space_marks" in rows.index


def test_a_list_of_terms_deep_in_the_body_is_kept():
    body = "\n".join(f"第{n}段的内容说明两地合作。" for n in range(5))
    doc = document_clean(f"闽宁协作迈入新阶段\n{body}\n产业协作；劳务协作；人才交流", "k")
    assert _sentences(doc)[-1] == "产业协作；劳务协作；人才交流"


def test_body_rules_prefilter_never_misses_a_rule():
    """The union of the body rules is tried with ``match`` (line start): every rule must be
    anchored."""
    from .conftest import FIXTURES

    lines = [
        text_simplify(text_normalize(line))
        for path in [*FIXTURES.glob("*.txt"), *(FIXTURES / "pages").glob("*.txt")]
        for line in path.read_text(encoding="utf-8").split("\n")
    ]
    lines += [
        "— 3 —",
        "第3页",
        "【打印】【关闭】",
        "https://kns.cnki.net/x",
        "<td></td>",
        "图为光伏园区。",
        "马某 摄",
        "关键词：闽宁协作",
        "中图分类号：F127",
        "收稿日期：2023-04-02",
        "作者简介：某某",
    ]
    for line in lines:
        for rule in cleanup_rules.BODY_RULES:
            if rule.regex.search(line):
                assert cleanup_steps._BODY_ANY.match(line), (rule.name, line)


@pytest.mark.parametrize(
    "first",
    [
        "互联网消息传播很快，闽宁协作的故事家喻户晓。",
        "国家电网电力援宁项目顺利完工。",
        "2024年6月13日，闽宁协作联席会议在福州召开",
        "新华社报道了闽宁镇的变化。",
    ],
)
def test_sentences_that_look_like_datelines_or_dates_stay(first):
    doc = document_clean(f"闽宁协作迈入新阶段\n{first}\n两地合作不断深化。", "f")
    assert _sentences(doc)[0].startswith(
        first
    )  # (a line without a sentence end takes the next one)
    assert doc.audit[doc.audit["action"] != "kept as title"].empty


def test_a_heading_about_photography_is_not_a_caption():
    doc = document_clean("闽宁协作文化交流\n一、新闻摄影\n两地联合举办了影展。", "h")
    heads = [
        u["text"] for u in doc.unit_rows if u["kind"] == "heading" and u["level"] == "sentence"
    ]
    assert heads == ["一、新闻摄影"]


def test_kicker_headline_spaced_two_character_name_and_double_arrow_breadcrumb():
    text = "\n".join(
        [
            "某某新闻网>>综合报道",
            "两岸记者联合采访活动走进宁夏——",
            "看发展成就 访协作路径",
            "张 文 徐某某",
            "2024年09月05日08:48    来源：某某网",
            "  刚下过雨的银川，凉爽怡人。",
        ]
    )
    doc = document_clean(text, "k")
    assert _title(doc) == "看发展成就访协作路径"
    assert _sentences(doc) == ["刚下过雨的银川，凉爽怡人。"]
    assert _rules(doc)[:4] == ["web_navigation", "kicker", "title", "journal_authors"]


def test_a_question_headline_followed_by_page_furniture_is_the_title():
    doc = document_clean(
        "闽宁镇属于哪里？\n时间:01-18 人气:20 作者:某某\n闽宁镇位于银川市永宁县。", "q"
    )
    assert _title(doc) == "闽宁镇属于哪里？"
    assert _sentences(doc) == ["闽宁镇位于银川市永宁县。"]


def test_labels_with_spaces_instead_of_colons_and_english_abstract():
    text = "\n".join(
        [
            "您好, 访客   登录/注册",
            "人口较少民族脱贫路径研究",
            "来源:用户上传      作者:某某 某某",
            "  摘要 人口较少民族的脱贫问题是重要议题。本文提出了新路径。",
            "  關鍵詞 脫貧攻堅;人口較少民族",
            "  中图分类号 S-9 文献标识码 A",
            "  Abstract The problem of poverty alleviation is an important issue.",
            "  某某乡位于贵州省。当地的脱贫攻坚取得了进展。",
        ]
    )
    doc = document_clean(text, "s")
    assert _title(doc) == "人口较少民族脱贫路径研究"
    assert _sentences(doc) == [
        "人口较少民族的脱贫问题是重要议题。",
        "本文提出了新路径。",
        "某某乡位于贵州省。",
        "当地的脱贫攻坚取得了进展。",
    ]
    assert "S-9" not in doc.text and "Abstract" not in doc.text


def test_labels_alone_on_their_line_take_the_lines_below():
    text = "\n".join(
        [
            "扶贫瞄准与对口帮扶的路径",
            "摘要",
            "扶贫瞄准是对口帮扶的基础。",
            "Targeting is the basis of paired assistance.",
            "出处",
            "《某某大学学报（社会科学版）》",
            "2016年第3期82-87,共6页",
            "基金",
            "某某专项研究课题（201405）",
            "关键词",
            "定点扶贫",
            "扶贫瞄准",
            "Targeted Poverty Alleviation",
            "一、引言",
            "对口帮扶由来已久。",
        ]
    )
    doc = document_clean(text, "b")
    assert _sentences(doc) == ["扶贫瞄准是对口帮扶的基础。", "对口帮扶由来已久。"]
    abstract = [u for u in doc.unit_rows if u["text"] == "扶贫瞄准是对口帮扶的基础。"]
    assert all(u["section"] == "摘要" for u in abstract)
    assert doc.summary["unaccounted_cjk"] == 0


def test_an_author_note_broken_over_two_lines_and_author_lines_among_the_front_matter():
    text = "\n".join(
        [
            "东西部协作的减贫效应",
            "[摘要]文章分析了东西部协作的减贫机理。",
            "[关键词]东西部协作;减贫效应",
            "[作者]某某某教授四川某某大学经济学院成都 610065",
            "某某硕士研究生四川某某大学经济学院成都 610065",
            "作者简介:某某某,",
            "四川广元人,法学博士,某某大学法学院副教授。四川 成都610041",
            "加快推进农业农村现代化是应有之义。",
        ]
    )
    doc = document_clean(text, "a")
    assert _sentences(doc) == [
        "文章分析了东西部协作的减贫机理。",
        "加快推进农业农村现代化是应有之义。",
    ]
    rules = _rules(doc)
    assert rules.count("author_bio") == 3 and "journal_author_line" in rules


def test_epaper_page_jumps_are_cut_and_a_subtitle_under_the_title_is_dropped():
    text = "\n".join(
        [
            "共叙山海深情 共启协作新局",
            "宁夏党政代表团来闽考察交流",
            "2021-05-31 01:05:35 来源:某某日报",
            "本报讯(某某日报记者 姜 某 剡某某) "
            "两地代表团共叙山海情缘。总书记对葡萄酒产业寄予厚望。 (下转02版)",
            "（上接第1版）代表团还考察了产业园区。",
        ]
    )
    doc = document_clean(text, "j")
    assert _title(doc) == "共叙山海深情共启协作新局"
    assert _sentences(doc) == [
        "两地代表团共叙山海情缘。",
        "总书记对葡萄酒产业寄予厚望。",
        "代表团还考察了产业园区。",
    ]
    assert list(doc.audit.loc[doc.audit["rule"] == "page_jump", "text"]) == [
        "（下转02版）",
        "（上接第1版）",
    ]
    assert {"subtitle", "dateline"} <= set(_rules(doc)) and doc.summary["unaccounted_cjk"] == 0


@pytest.mark.parametrize("headline", ["共启协作新局", "山海协作开新局", "闽宁协作助力东西部"])
def test_a_headline_ending_like_an_organisation_is_not_an_issuer(headline):
    doc = document_clean(f"{headline}\n2021-05-31 01:05:35 来源:某某日报\n两地合作不断深化。", "o")
    assert _title(doc) == headline


def test_journal_issue_pages_and_download_counts_line_is_header():
    text = "\n".join(
        [
            "闽宁协作中的干部交流机制",
            "某某1，某某某2",
            "《西部发展研究》2022年第4期　第56-63页　下载次数：238　被引次数：5",
            "摘　要：干部交流是闽宁协作的机制之一。",
            "一、问题的提出",
            "福建每批选派干部到宁夏挂职。",
        ]
    )
    doc = document_clean(text, "s")
    assert _sentences(doc) == ["干部交流是闽宁协作的机制之一。", "福建每批选派干部到宁夏挂职。"]
    assert doc.audit.loc[doc.audit["line"] == 3, "rule"].iloc[0] in ("journal_issue", "web_stats")
