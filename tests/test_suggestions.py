"""Codebook suggestions: missing terms found by keyness, indicators that fire on the wrong units.

The sentences are written for these tests in the register of the corpus (provincial work reports on
east–west cooperation); none is copied from a source.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import codebook as cb
from helpers import coding, tokens
from helpers.suggestions import indicators_precision, terms_suggest

BOOK = """\
codebook: suggestions test
terms:
  结对词: [结对, 结对关系]
  县区: [县区, 县]
codes:
  - id: pairing
    dimension: mechanism
    label_zh: 结对帮扶
    definition: 东西部之间县区、乡镇、村企结对
    indicators:
      keywords: [结对帮扶, 对口支援]
      rules:
        - id: 县区结对
          all: [结对词, 县区]
  - id: joint_meetings
    dimension: mechanism
    label_zh: 联席推进
    definition: 两省区党政主要领导参加的联席会议
    indicators:
      keywords: [联席会议, 会议]
"""

# unit id, text, pairing, joint_meetings (the reference coding)
UNITS = [
    ("d1-1", "福建省与宁夏回族自治区召开闽宁协作第二十五次联席会议，总结年度工作。", 0, 1),
    ("d1-2", "晋江市与红寺堡区深化结对帮扶，建立县区结对关系。", 1, 0),
    ("d1-3", "两地签订劳务协作协议，全年输出务工人员三千余人。", 1, 0),
    ("d1-4", "泉州市各县区持续开展劳务协作，帮助脱贫群众稳定就业。", 1, 0),
    ("d1-5", "区政府召开常务会议，研究部署防汛工作。", 0, 0),
    ("d2-1", "厦门市对口支援临夏州，落实帮扶资金二点三亿元。", 1, 0),
    ("d2-2", "两省劳务协作工作站新增岗位八百个，组织专列送工返岗。", 1, 0),
    ("d2-3", "县委召开全体会议，传达学习上级精神。", 0, 0),
    ("d2-4", "市场监管局召开安全生产工作会议。", 0, 0),
    ("d2-5", "依托劳务协作机制，闽宁两地共建技能培训基地。", 1, 0),
    ("d2-6", "全市统计年报显示，地区生产总值稳步增长。", 0, 0),
    ("d3-1", "镇党委召开专题会议，安排秋粮收购。", 0, 0),
    ("d3-2", "会议指出，要做好冬春季森林防火工作。", 0, 0),
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    path = tmp_path_factory.mktemp("book") / "book.yaml"
    path.write_text(BOOK, encoding="utf-8")
    book = cb.codebook_read(path)
    units = pd.DataFrame(
        [(u, u.split("-")[0], t) for u, t, *_ in UNITS], columns=["unit_id", "doc_id", "text"]
    )
    reference = pd.DataFrame(
        [(u, p, j) for u, _, p, j in UNITS], columns=["unit_id", "pairing", "joint_meetings"]
    )
    seg = tokens.segmenter_make()
    toks = tokens.tokens_select(
        tokens.tokens_segment(units, seg, cache_dir=None),
        tokens.stopwords_read(),
        keep=seg.dictionary["word"],
    )
    result = coding.units_code(units, book, tokens=toks)
    return book, units, reference, toks, result


def test_a_missing_term_is_found_with_the_units_the_dictionary_missed(setup):
    book, units, reference, toks, result = setup
    terms = terms_suggest(toks, reference, book, dictionary=result.wide, p_max=0.2)
    pairing = terms[terms["code"] == "pairing"].reset_index(drop=True)
    assert pairing.loc[0, "term"] == "劳务协作", pairing  # the strongest suggestion
    top = pairing.iloc[0]
    assert (top.units_positive, top.units_negative) == (4, 0)
    assert top.g2 > 0 and top.count_positive == 4
    # the dictionary coded none of the four (no keyword or rule fired): all are misses, listed first
    coded = dict(zip(result.wide["unit_id"], result.wide["pairing"]))
    missed = [u for u in ("d1-3", "d1-4", "d2-2", "d2-5") if coded[u] == 0]
    assert top.units_missed == len(missed) and len(missed) >= 3
    assert top.example_unit_ids.split()[:3] == missed[:3]
    # words the code's indicators already cover are never suggested: keywords and rule terms
    assert not set(pairing["term"]) & {"结对帮扶", "对口支援", "结对", "县区", "结对关系"}


def test_without_enough_positive_units_nothing_is_suggested(setup):
    book, units, reference, toks, result = setup
    terms = terms_suggest(toks, reference, book, min_units=5)
    assert terms.empty and list(terms.columns)[:3] == ["code", "term", "g2"]


def test_an_indicator_that_fires_on_negative_units_is_flagged(setup):
    book, units, reference, toks, result = setup
    table = indicators_precision(result.evidence, reference, book)
    meetings = table[(table["code"] == "joint_meetings")].set_index("indicator")
    assert meetings.loc["会议", "units_positive"] == 0
    assert (
        meetings.loc["会议", "units_hit"] >= 2 and meetings.loc["会议", "flag"] == "mostly negative"
    )
    assert meetings.loc["会议", "precision"] == 0.0
    fps = meetings.loc["会议", "false_positive_unit_ids"].split()
    assert fps and set(fps) <= {"d1-5", "d2-3", "d2-4", "d3-1", "d3-2"}
    assert meetings.loc["联席会议", "precision"] == 1.0 and meetings.loc["联席会议", "flag"] == ""
    # sorted by code, then precision: the worst indicator of a code comes first
    assert table[table["code"] == "joint_meetings"].iloc[0]["indicator"] == "会议"
    pairing = table[table["code"] == "pairing"].set_index("indicator")
    assert (pairing["precision"] == 1.0).all()
