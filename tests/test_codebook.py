"""The codebook file: its content, and every validation error named one by one."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers import codebook as cb
from helpers import coding_tables, tokens

IDS = [
    "economic",
    "political",
    "social",
    "ecological",
    "cultural",
    "joint_meetings",
    "pairing",
    "industry",
    "mutual_learning",
    "social_participation",
]
LABELS = [
    "经济逻辑",
    "政治逻辑",
    "社会逻辑",
    "生态逻辑",
    "文化逻辑",
    "联席推进",
    "结对帮扶",
    "产业带动",
    "互学互助",
    "社会参与",
]


def test_the_codebook_has_the_ten_codes_in_two_dimensions():
    book = cb.codebook_read()
    assert book.ids == IDS
    assert [c.label_zh for c in book.codes] == LABELS
    assert [c.dimension for c in book.codes] == ["logic"] * 5 + ["mechanism"] * 5
    for c in book.codes:
        assert c.definition and c.label_en and c.include and c.exclusions and c.anchors
        assert c.keywords or c.patterns or c.rules


def test_definitions_and_anchors_quote_the_units_they_name(cleaned):
    """Every quote is real text of the unit it cites (after the ellipsis, each part)."""
    units = pd.concat([d.units for d in cleaned.values()])
    text = dict(zip(units["unit_id"], units["text"]))
    book = cb.codebook_read()
    for c in book.codes:
        quotes = [c.definition_quote, *c.anchors]
        assert c.definition_quote["unit_id"].startswith("report2024"), (
            "definitions come from the 2024 report"
        )
        for q in quotes:
            assert q["unit_id"] in text, (c.id, q)
            for part in q["text"].split("……"):
                assert part in text[q["unit_id"]], (c.id, q["unit_id"], part)


def _write(tmp_path, body: str):
    p = tmp_path / "codebook.yaml"
    p.write_text(body, encoding="utf-8")
    return p


BASE = """\
codebook: test
dimensions:
  logic: {label_zh: 逻辑}
terms:
  产业: [产业, 产业链]
  带动: [带动]
codes:
  - id: economic
    dimension: logic
    label_zh: 经济逻辑
    definition: 经济
    indicators:
      keywords: [区域协调发展]
      patterns: ['产业.{0,4}发展']
      rules:
        - id: r1
          near: [产业, 带动]
  - id: industry
    dimension: logic
    label_zh: 产业带动
    definition: 产业
    indicators:
      keywords: [产业带动]
"""


def test_a_valid_small_codebook_reads(tmp_path):
    book = cb.codebook_read(_write(tmp_path, BASE))
    assert book.ids == ["economic", "industry"]
    assert book.code("economic").rules[0].near == ("产业", "带动")
    assert book.code("economic").rules[0].window == cb.DEFAULT_WINDOW


@pytest.mark.parametrize(
    ("change", "line", "code", "field", "reason"),
    [
        (
            ("id: industry", "id: economic"),
            18,
            "economic",
            "id",
            "duplicate id (first defined on line 8)",
        ),
        (
            ("    label_zh: 产业带动\n", "    label_zh: 产业带动\n    keyword: [x]\n"),
            21,
            "industry",
            "keyword",
            "unknown field",
        ),
        (
            ("      keywords: [产业带动]\n", "      keywords: []\n"),
            22,
            "industry",
            "indicators",
            "could never be assigned",
        ),
        (
            ("'产业.{0,4}发展'", "'产业(发展'"),
            14,
            "economic",
            "indicators.patterns",
            "invalid regular expression",
        ),
        (
            ("near: [产业, 带动]", "near: [产业, 拉动]"),
            17,
            "economic",
            "indicators.rules[r1].near",
            "unknown term '拉动'",
        ),
        (
            ("near: [产业, 带动]", "near: [产业, 带动, 产业]"),
            17,
            "economic",
            "indicators.rules[r1].near",
            "exactly two terms",
        ),
        (
            ("          near: [产业, 带动]\n", "          not: [产业]\n"),
            16,
            "economic",
            "indicators.rules[r1]",
            "at least one of all, any, near or heading",
        ),
        (
            (
                "    dimension: logic\n    label_zh: 产业带动",
                "    dimension: mechanism\n    label_zh: 产业带动",
            ),
            19,
            "industry",
            "dimension",
            "not declared",
        ),
        (
            (
                "      keywords: [产业带动]\n",
                "      keywords: [产业带动]\n      keywords: [带动]\n",
            ),
            24,
            None,
            None,
            "duplicate key 'keywords'",
        ),
        (("codebook: test", "codebook: test\nversoin: 2"), 2, None, "versoin", "unknown field"),
        (
            ("    definition: 产业\n", "    definition: 产业\n    indicators:\n"),
            23,
            None,
            None,
            "duplicate key",
        ),
        (("id: industry", "id: Industry"), 18, None, "id", "must be lower-case"),
        (("id: industry", "id: evidence"), 18, "evidence", "id", "a column of the coded tables"),
        (("id: industry", "id: n_codes"), 18, "n_codes", "id", "a column of the coded tables"),
        (("id: economic", "id: text"), 8, "text", "id", "a column of the coded tables"),
        (
            ("'产业.{0,4}发展'", "'(产业.{0,4})+发展'"),
            14,
            "economic",
            "indicators.patterns",
            "nested quantifier",
        ),
        (
            (
                "          near: [产业, 带动]\n",
                "          near: [产业, 带动]\n          window: 0\n",
            ),
            18,
            "economic",
            "indicators.rules[r1].window",
            "positive whole number",
        ),
    ],
)
def test_each_validation_error_names_file_line_code_and_field(
    tmp_path, change, line, code, field, reason
):
    old, new = change
    assert old in BASE
    p = _write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(cb.CodebookError) as err:
        cb.codebook_read(p)
    msg = str(err.value)
    assert "codebook.yaml" in msg and reason in msg
    assert f"line {line}:" in msg or f"line {line}," in msg
    if code:
        assert f"code {code!r}" in msg
    if field:
        assert f"field {field!r}" in msg


@pytest.mark.parametrize("pattern", ["(a+)+$", "(闽宁|协作)*(帮扶.*)+", "((产业)?带动{1,3}){2,}"])
def test_patterns_that_can_backtrack_for_minutes_are_refused(tmp_path, pattern):
    # `(a+)+$` on 30 a's and a b takes 101 s in Python's re: refused before anything is coded
    body = BASE.replace("'产业.{0,4}发展'", repr(pattern))
    with pytest.raises(cb.CodebookError, match="nested quantifier") as err:
        cb.codebook_read(_write(tmp_path, body))
    assert "line 14" in str(err.value) and "code 'economic'" in str(err.value)
    assert "Repeat once" in str(err.value)


@pytest.mark.parametrize(
    "pattern", ["(ab)+", "[一二三]+中全会", "(发展|培育)[^。]{0,10}产业", "(a+)?b"]
)
def test_patterns_with_one_level_of_repetition_are_accepted(tmp_path, pattern):
    book = cb.codebook_read(_write(tmp_path, BASE.replace("'产业.{0,4}发展'", repr(pattern))))
    assert book.code("economic").patterns == (pattern,)


def test_code_ids_of_the_project_codebook_are_not_column_names():
    assert not set(cb.codebook_read().ids) & cb.RESERVED_IDS
    assert {"unit_id", "text", "evidence", "n_codes", "doc_id", "heading_path"} <= cb.RESERVED_IDS


def test_yaml_syntax_error_and_missing_file(tmp_path):
    with pytest.raises(cb.CodebookError, match=r"line \d+: not valid YAML"):
        cb.codebook_read(
            _write(tmp_path, BASE.replace("keywords: [产业带动]", "keywords: [产业带动"))
        )
    with pytest.raises(cb.CodebookError, match="codebook not found"):
        cb.codebook_read(tmp_path / "nope.yaml")
    with pytest.raises(cb.CodebookError, match="needs a list of codes"):
        cb.codebook_read(_write(tmp_path, "codebook: empty\ncodes: []\n"))


def test_lint_flags_words_jieba_never_cuts_and_indicators_without_matches(tmp_path, cleaned):
    body = BASE.replace(
        "keywords: [区域协调发展]", "keywords: [区域协调发展, 帮扶县, 对口支援, 资源优化配置]"
    )
    book = cb.codebook_read(_write(tmp_path, body))
    units = cleaned["opinion2021"].units
    units = pd.concat([d.units for d in cleaned.values()])
    units = units[units["level"] == "sentence"]
    lint = coding_tables.codebook_lint(book, units, tokens.segmenter_make())
    got = {(r.indicator, r.warning) for r in lint.itertuples()}
    # 帮扶县 is in the text, but only inside the word 重点帮扶县
    assert ("帮扶县", "never_a_word") in got
    assert ("对口支援", "no_match") in got
    assert ("资源优化配置", "split_by_jieba") in got
    assert ("区域协调发展", "no_match") not in got and ("区域协调发展", "never_a_word") not in got
    sev = dict(zip(lint["warning"], lint["severity"]))
    assert sev["never_a_word"] == "warning" and sev["split_by_jieba"] == "info"


def test_manual_for_human_coders_leaves_the_indicators_out():
    book = cb.codebook_read()
    manual = cb.codebook_manual(book)
    for c in book.codes:
        assert c.label_zh in manual and c.definition in manual
    assert "keywords" not in manual and "patterns" not in manual
    assert not re.search(r"near\(|all\(", manual)
