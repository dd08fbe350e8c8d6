"""Numbers in the text: the extractor against a list made by reading both documents, sentence by
sentence.

The lists below were made by reading ``clean/opinion2021.txt`` and ``clean/report2024.txt`` (not by
running the extractor). The test fails if the extractor misses one of these quantities, finds one
that is not here, or leaves out a numeral other than the deliberate exclusions listed under
EXCLUDED.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from helpers.cleanup import corpus_clean
from helpers.numbers import numbers_excluded, numbers_extract
from helpers.tokens import segmenter_make

# (doc_id, value as written, number, unit, value_base, base_unit, quantity_type), in text order
EXPECTED = [
    # opinion2021, 二（一）: 推动两省区产业融合发展 / 在宁闽籍企业达到1万家左右 / 闽宁两省区旅游 /
    # 两省区数字产业
    ("opinion2021", "两省区", 2, "省区", 2, "省区", "count"),
    ("opinion2021", "1万家", 1, "万家", 10_000, "家", "count"),
    ("opinion2021", "两省区", 2, "省区", 2, "省区", "count"),
    ("opinion2021", "两省区", 2, "省区", 2, "省区", "count"),
    # 二（二）: 发挥两省区比较优势 / 共同推动两省区企业“走出去”
    ("opinion2021", "两省区", 2, "省区", 2, "省区", "count"),
    ("opinion2021", "两省区", 2, "省区", 2, "省区", "count"),
    # 二（五）: 两省区商协会 / 两省区工会
    ("opinion2021", "两省区", 2, "省区", 2, "省区", "count"),
    ("opinion2021", "两省区", 2, "省区", 2, "省区", "count"),
    # 三（一）: 由两省区党政主要领导出席的省级联席会议
    ("opinion2021", "两省区", 2, "省区", 2, "省区", "count"),
    # 三（四）: 闽宁两省区的产业转移承接
    ("opinion2021", "两省区", 2, "省区", 2, "省区", "count"),
    # report2024, 导言: 2024年6月，习近平总书记考察宁夏期间
    ("report2024", "2024年6月", 2024, "年月", 2024, "年", "date"),
    # 一（五）: 闽宁两地人民
    ("report2024", "两地", 2, "地", 2, "地", "count"),
    # 二: 自1996年启动以来，习近平总书记先后5次出席联席会议 / 福建、宁夏两地共同努力
    ("report2024", "1996年", 1996, "年", 1996, "年", "year"),
    ("report2024", "5次", 5, "次", 5, "次", "count"),
    ("report2024", "两地", 2, "地", 2, "地", "count"),
    # 二（一）: 两地政府 / 共召开过27次联席会议
    ("report2024", "两地", 2, "地", 2, "地", "count"),
    ("report2024", "27次", 27, "次", 27, "次", "count"),
    # 二（二）: 福建10个…县（市、区）与宁夏的9个县（区） / 1996年以来…54.82亿元的帮扶资金
    ("report2024", "10个", 10, "个", 10, "个", "count"),
    ("report2024", "9个", 9, "个", 9, "个", "count"),
    ("report2024", "1996年", 1996, "年", 1996, "年", "year"),
    ("report2024", "54.82亿元", 54.82, "亿元", 5_482_000_000, "元", "amount"),
    # 2020年…9个贫困县…1100个贫困村…80.3万的建档立卡贫困人口
    ("report2024", "2020年", 2020, "年", 2020, "年", "year"),
    ("report2024", "9个", 9, "个", 9, "个", "count"),
    ("report2024", "1100个", 1100, "个", 1100, "个", "count"),
    ("report2024", "80.3万", 80.3, "万", 803_000, "人", "people"),
    # 2023年…安排了6.25亿元的财政援宁资金
    ("report2024", "2023年", 2023, "年", 2023, "年", "year"),
    ("report2024", "6.25亿元", 6.25, "亿元", 625_000_000, "元", "amount"),
    # 二（三）: 两省形成相容利益的集合体 / 闽宁两省份合作建设 / 截至2023年底…项目有908个，
    # 实际到资392.11亿元
    ("report2024", "两省", 2, "省", 2, "省", "count"),
    ("report2024", "两省份", 2, "省份", 2, "省份", "count"),
    ("report2024", "2023年底", 2023, "年底", 2023, "年", "date"),
    ("report2024", "908个", 908, "个", 908, "个", "count"),
    ("report2024", "392.11亿元", 392.11, "亿元", 39_211_000_000, "元", "amount"),
    # 就业3799人，实现就地就近就业7729人…销售宁夏特色农产品达到17.6987亿元
    ("report2024", "3799人", 3799, "人", 3799, "人", "people"),
    ("report2024", "7729人", 7729, "人", 7729, "人", "people"),
    ("report2024", "17.6987亿元", 17.6987, "亿元", 1_769_870_000, "元", "amount"),
    # 二（四）: 两省在互学互助中实现合作共赢
    ("report2024", "两省", 2, "省", 2, "省", "count"),
]

# numerals that are deliberately not quantities: (doc_id, span, rule)
EXCLUDED = [
    (
        "opinion2021",
        "〔2021〕10号",
        "doc_number",
    ),  # 《关于坚持和完善东西部协作机制的意见》（厅字〔2021〕10号）
    ("opinion2021", "十四五", "plan_name"),  # 力争“十四五”时期
    ("opinion2021", "1+1+1", "model_name"),  # 福建飞毛腿技师学院“1+1+1”模式
    ("opinion2021", "一批", "indefinite"),  # 柔性引进一批福建教学名师
    ("opinion2021", "十四五", "plan_name"),  # 科学编制闽宁协作“十四五”规划
    ("opinion2021", "四个不摘", "slogan"),  # 落实“四个不摘”要求
    ("report2024", "一种", "indefinite"),  # 这是一种经过实践检验的经验呈现
    ("report2024", "一条", "indefinite"),  # 打造了一条…脱贫攻坚道路
    ("report2024", "一种", "indefinite"),  # 成为一种可持续、可复制、可推广的协作模式
    ("report2024", "一种", "indefinite"),  # 形成了一种具有鲜明特色…的扶贫协作模式
    ("report2024", "党的十八大", "party_congress"),  # 党的十八大以来
    ("report2024", "一批", "indefinite"),  # 合作建设了一批产业园（城）
    ("report2024", "一批", "indefinite"),  # 形成了…葡萄酒等一批特色产业项目
    ("report2024", "一批又一批", "idiom"),  # 一批又一批的福建援宁工作队
]

# what the quantity counts (best effort), for the examples of the issue
WHAT = {
    "54.82亿元": "帮扶资金",
    "6.25亿元": "财政援宁资金",
    "908个": "项目",
    "27次": "联席会议",
    "5次": "出席联席会议",
    "80.3万": "建档立卡贫困人口",
    "1100个": "贫困村",
    "1万家": "闽籍企业",
    "两省区": "省区",
    "7729人": "实现就地就近就业",
}


@pytest.fixture(scope="module")
def units():
    return corpus_clean().units


@pytest.fixture(scope="module")
def segmenter():
    return segmenter_make()


@pytest.fixture(scope="module")
def numbers(units, segmenter):
    return numbers_extract(units[units["level"] == "sentence"], segmenter=segmenter)


def _key(r) -> tuple:
    return (r[0], r[1], float(r[2]), r[3], float(r[4]), r[5], r[6])


def test_every_quantity_read_in_the_documents_is_found_and_nothing_else(numbers):
    got = Counter(
        _key(r)
        for r in numbers[
            ["doc_id", "value", "number", "unit", "value_base", "base_unit", "quantity_type"]
        ].itertuples(index=False)
    )
    want = Counter(_key(r) for r in EXPECTED)
    assert got - want == Counter(), "found but not in the list"
    assert want - got == Counter(), "in the list but not found"
    # and in the order of the text
    assert list(numbers["value"]) == [r[1] for r in EXPECTED]


def test_spans_point_into_the_unit_text_and_sentences_hold_the_value(numbers, units):
    text = dict(zip(units["unit_id"], units["text"]))
    for r in numbers.itertuples():
        assert text[r.unit_id][r.start : r.end] == r.value
        assert r.value in r.sentence and r.sentence in text[r.unit_id]


def test_what_each_quantity_counts(numbers):
    what = dict(zip(numbers["value"], numbers["what"]))
    assert {v: what[v] for v in WHAT} == WHAT
    assert dict(zip(numbers["value"], numbers["qualifier"]))["1万家"] == "左右"
    dates = numbers[numbers["quantity_type"].isin(["year", "date"])]
    assert list(dates["date"]) == ["2024-06", "1996", "1996", "2020", "2023", "2023-12-31"]
    assert (dates["what"] == "").all()


def test_the_deliberate_exclusions_are_listed_with_their_rule(units):
    out = numbers_excluded(units[units["level"] == "sentence"])
    assert list(zip(out["doc_id"], out["value"], out["rule"])) == EXCLUDED
    assert out["reason"].str.len().gt(0).all()


def test_paragraph_units_give_the_same_quantities(units, segmenter, numbers):
    para = numbers_extract(units[units["level"] == "paragraph"], segmenter=segmenter)
    assert list(para["value"]) == list(numbers["value"])
    assert list(para["sentence"]) == list(
        numbers["sentence"]
    )  # the sentence, not the whole paragraph


@pytest.mark.parametrize(
    ("text", "value", "number", "value_base", "base_unit", "quantity_type", "qualifier"),
    [
        ("习近平总书记先后五次出席联席会议。", "五次", 5, 5, "次", "count", ""),
        ("福建十个县与宁夏结对。", "十个", 10, 10, "个", "count", ""),
        ("累计培训三千二百人次。", "三千二百人次", 3200, 3200, "人次", "people", ""),
        ("投入资金五千万元。", "五千万元", 5000, 50_000_000, "元", "amount", ""),
        ("投资总额1.2万亿元。", "1.2万亿元", 1.2, 1_200_000_000_000, "元", "amount", ""),
        ("贫困发生率下降到百分之十五。", "百分之十五", 15, 15, "%", "share", ""),
        ("覆盖率达到12.5%。", "12.5%", 12.5, 12.5, "%", "share", ""),
        ("约3000人参加培训。", "3000人", 3000, 3000, "人", "people", "约"),
        ("建成10余个产业园。", "10余个", 10, 10, "个", "count", "余"),
        ("二〇二一年，两省区继续合作。", "二〇二一年", 2021, 2021, "年", "year", ""),
        ("种植面积2.5万亩以上。", "2.5万亩", 2.5, 25_000, "亩", "area", "以上"),
    ],
)
def test_numeral_forms_and_units(
    segmenter, text, value, number, value_base, base_unit, quantity_type, qualifier
):
    out = numbers_extract(
        pd.DataFrame({"doc_id": ["t"], "unit_id": ["t-1"], "text": [text]}), segmenter=segmenter
    )
    row = out.iloc[0]
    assert (
        row["value"],
        row["number"],
        row["value_base"],
        row["base_unit"],
        row["quantity_type"],
        row["qualifier"],
    ) == (
        value,
        pytest.approx(number),
        pytest.approx(value_base),
        base_unit,
        quantity_type,
        qualifier,
    )


@pytest.mark.parametrize(
    "text",
    [
        "第三次联席会议召开。",
        "千家万户受益。",
        "推进5G网络建设。",
        "统一思想，进一步推进。",
        "宁政发〔2023〕12号文件。",
        "坚持“两个确立”。",
        "党的二十大精神。",
    ],
)
def test_non_quantities_are_not_extracted(segmenter, text):
    units = pd.DataFrame({"doc_id": ["t"], "unit_id": ["t-1"], "text": [text]})
    assert numbers_extract(units, segmenter=segmenter).empty
