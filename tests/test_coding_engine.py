"""The parts of the coding engine that replace a library or a per-unit loop, each against the plain
way on real sentences of the corpus (simplified and traditional script) and on random texts.

- the string trie walked with numpy finds what pyahocorasick's automaton finds;
- a pattern's requirement (the literals every match contains) holds in every unit it matches;
- a codebook pattern is parsed once and compiled only when some unit may hold a match of it;
- cutting the newline-joined texts once gives each text's own tokens;
- the evidence table comes in its documented order.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers import codebook as cb
from helpers import coding, coding_patterns, coding_search, tokens
from helpers.coding_patterns import pattern_requirement, requirement_literals
from helpers.text import text_simplify_aligned


@pytest.fixture(scope="module")
def segmenter():
    return tokens.segmenter_make()


@pytest.fixture(scope="module")
def texts(cleaned) -> list[str]:
    """The corpus sentences, then the same sentences in traditional script."""
    import opencc

    u = pd.concat([d.units for d in cleaned.values()], ignore_index=True)
    simple = u.loc[u["level"] == "sentence", "text"].tolist()
    trad = [opencc.OpenCC("s2t").convert(t) for t in simple]
    assert trad != simple
    return simple + trad


def _automaton_find(strings: list[str], text: str) -> set[tuple[int, int, int]]:
    import ahocorasick

    a = ahocorasick.Automaton()
    for i, x in enumerate(strings):
        a.add_word(x, i)
    a.make_automaton()
    return {(i, end + 1 - len(strings[i]), end + 1) for end, i in a.iter(text)}


def _trie_find(strings: list[str], text: str) -> set[tuple[int, int, int]]:
    sid, start, end = coding_search._StringTrie(strings).find(coding_search._code_points(text))
    return set(zip(sid.tolist(), start.tolist(), end.tolist()))


def test_trie_finds_every_occurrence_the_automaton_finds(texts):
    m = coding.matcher_make(cb.codebook_read())
    strings = m.strings  # the codebook's keywords, term words and pattern literals
    assert any(len(x) == 1 for x in strings) and max(map(len, strings)) >= 5
    joined = "\n".join(texts)
    for text in (joined, text_simplify_aligned(joined)):
        found = _trie_find(strings, text)
        assert found == _automaton_find(strings, text)
        assert len(found) > 1000


def test_trie_without_the_dense_table_finds_the_same(texts, monkeypatch):
    strings = coding.matcher_make(cb.codebook_read()).strings
    text = text_simplify_aligned("\n".join(texts[:400]))
    dense = _trie_find(strings, text)
    monkeypatch.setattr(coding_search._StringTrie, "DENSE_CELLS", 0)
    assert coding_search._StringTrie(strings).dense is None
    assert _trie_find(strings, text) == dense


@pytest.mark.slow
def test_trie_equals_the_automaton_on_random_strings():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = "闽宁协作产业帮扶發協ab\n "
    words = st.lists(st.text(alphabet=alphabet, min_size=1, max_size=4), min_size=1, max_size=8)

    @settings(max_examples=300, deadline=None)
    @given(strings=words, text=st.text(alphabet=alphabet + "，。😀", max_size=40))
    def check(strings, text):
        strings = sorted(set(strings))
        assert _trie_find(strings, text) == _automaton_find(strings, text)

    check()


def _met(req, text: str) -> bool:
    if req is None:
        return True
    if isinstance(req, str):
        return req in text
    kind, parts = req
    return (all if kind == "and" else any)(_met(p, text) for p in parts)


def test_every_match_of_a_codebook_pattern_satisfies_its_requirement(texts):
    book = cb.codebook_read()
    simple = [text_simplify_aligned(t) for t in texts]
    n_required = n_matched = 0
    for code in book.codes:
        for p in code.patterns:
            req = pattern_requirement(p)
            n_required += req is not None
            rx = re.compile(p)
            for t in simple:
                if any(m.end() > m.start() for m in rx.finditer(t)):
                    n_matched += 1
                    assert _met(req, t), (p, req, t)
    assert n_required > 100 and n_matched > 100


@pytest.mark.parametrize(
    "pattern, holds, lacks",
    [
        # (产业 or 企业) and 转移, or 承接地: a unit with 产业 alone is not searched
        ("(产业|企业)[^。，；]{0,8}(梯度)?转移|承接地", "产业向西部转移", "产业兴旺"),
        ("签署[^。]{0,9}(合作|协作)协议", "两地签署了协作协议", "签署备忘录"),
        ("[元钱]{2}", "元钱", "资金"),
        ("(?:闽宁){2}协作", "闽宁闽宁协作", "闽宁闽宁合作"),
    ],
)
def test_requirement_names_every_part_a_match_needs(pattern, holds, lacks):
    req = pattern_requirement(pattern)
    assert re.search(pattern, holds) and _met(req, holds)
    assert not re.search(pattern, lacks) and not _met(req, lacks)


@pytest.mark.parametrize("pattern", [".+", "[一二三]?", "(?i:ab)c", "(?x) a b", "产业|.*"])
def test_a_pattern_that_needs_no_literal_is_searched_everywhere(pattern):
    assert pattern_requirement(pattern) is None
    assert requirement_literals(pattern_requirement(pattern)) == set()


def test_a_pattern_is_analysed_from_one_parse():
    # the requirement, the literals and the newline analysis read the same parse tree; a pattern
    # the rewrite changes ([^。] -> [^\\n。]) is parsed once more, as rewritten, and compared
    coding_patterns.pattern_parse.cache_clear()
    for p in ["签署[^。]{0,9}(合作|协作)协议", "(产业|企业)转移|承接地"]:
        pattern_requirement(p)
        coding_patterns.pattern_newline_free_source(p)
        coding_patterns.pattern_literals(p)
    info = coding_patterns.pattern_parse.cache_info()
    assert info.misses == 3  # for 7 reads (a pattern the rewrite leaves alone is not compared)
    assert info.hits == 4


def test_newline_free_source_is_what_is_compiled():
    book = cb.codebook_read()
    n_joined = 0
    for p in (p for c in book.codes for p in c.patterns):
        source = coding_patterns.pattern_newline_free_source(p)
        rx = coding_patterns.pattern_newline_free(p)
        assert (rx is None) == (source is None)
        if rx is not None:
            n_joined += 1
            assert rx.pattern == source == coding_patterns.pattern_newlines_excluded(p)
    assert n_joined > 100
    assert coding_patterns.pattern_newline_free_source("^闽宁协作") is None
    assert coding_patterns.pattern_newline_free("^闽宁协作") is None


@pytest.mark.parametrize(
    "pattern, joined",
    [
        ("签署[^。]{0,9}(合作|协作)协议", True),
        ("[^\\n-x]+", True),  # \\n was already the start of the range: the same class
        ("(?#[^a)产业", True),  # a comment the rewrite changes
        # the inserted \\n would start a range (to ， or to x): searched unit by unit
        ("协作[^-，。]{0,6}项目", False),
        ("[^]-x]+", False),
    ],
)
def test_a_rewrite_that_changes_a_class_is_not_searched_joined(pattern, joined):
    assert (coding_patterns.pattern_newline_free_source(pattern) is not None) == joined


def test_a_class_starting_with_a_hyphen_matches_as_written(tmp_path, segmenter):
    body = """\
codebook: hyphen
codes:
  - id: project
    dimension: logic
    label_zh: 项目
    definition: a joint project
    indicators:
      patterns: ["协作[^-，。]{0,6}项目"]
"""
    p = tmp_path / "book.yaml"
    p.write_text(body, encoding="utf-8")
    texts = ["闽宁协作共建产业项目。", "两地协作-项目。", "协作，项目", "闽宁協作共建產業項目。"]
    units = pd.DataFrame({"unit_id": [f"u{i}" for i in range(len(texts))], "text": texts})
    ev = coding.units_code(units, cb.codebook_read(p), segmenter).evidence
    assert ev["unit_id"].tolist() == ["u0", "u3"]
    assert ev["match"].tolist() == ["协作共建产业项目", "協作共建產業項目"]


def test_a_pattern_is_compiled_only_when_some_unit_may_hold_a_match(texts, segmenter):
    book = cb.codebook_read()
    sample = texts[:40] + texts[len(texts) // 2 : len(texts) // 2 + 40]  # simplified, traditional
    lazy = coding.matcher_make(book)
    assert not any({"joined", "regex"} & set(p.__dict__) for p in lazy.patterns)
    rows = coding.texts_code(sample, lazy, segmenter=segmenter)
    simple = [text_simplify_aligned(t) for t in sample]
    searched = [
        p.requirement is None or any(_met(p.requirement, t) for t in simple) for p in lazy.patterns
    ]
    assert 0 < sum(searched) < len(lazy.patterns)
    for plan, was_searched in zip(lazy.patterns, searched):
        assert ("joined" in plan.__dict__) == was_searched, plan.pattern
        # the pattern as written: only for a pattern searched unit by unit
        assert ("regex" in plan.__dict__) == (was_searched and plan.joined is None)
    eager = coding.matcher_make(book)  # every pattern compiled before the search
    for plan in eager.patterns:
        assert plan.regex.pattern == plan.pattern
        assert plan.joined == coding_patterns.pattern_newline_free(plan.pattern)
    assert coding.texts_code(sample, eager, segmenter=segmenter) == rows
    assert any(r[2] == "pattern" for r in rows)


def _cut_each(segmenter, texts: list[str]) -> list[str]:
    out: list[str] = []
    for i, t in enumerate(texts):
        out += ["\n"] if i else []
        out += segmenter.cut(t)
    return out


def test_cutting_the_joined_texts_gives_each_texts_tokens(texts, segmenter):
    simple = [text_simplify_aligned(t.replace("\n", " ")) for t in texts]
    simple += ["版本v2.1-beta发布", "增长12.5%，", "  ", "", "a-b", "E-mail：x@y.cn"]
    assert segmenter.cut("\n".join(simple)) == _cut_each(segmenter, simple)


@pytest.mark.slow
def test_word_boundaries_of_the_joined_texts_equal_each_texts_cut_on_random_texts(segmenter):
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    chars = "闽宁协作产业发展帮扶资金企业。，a1B.-_%+#&\r\t "

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.text(alphabet=chars, max_size=16), min_size=1, max_size=6))
    def check(parts):
        joined, offsets = coding_search._joined(parts)
        lengths = np.array([len(p) for p in parts], dtype=np.int64)
        offsets = np.asarray(offsets, dtype=np.int64)
        found = coding_search._boundaries_cut(joined, offsets, lengths, segmenter)
        expected = set()
        for o, p in zip(offsets.tolist(), parts):
            for tok in segmenter.cut(p):
                o += len(tok)
                expected.add(o)
        edges = set(offsets.tolist()) | set((offsets + lengths).tolist())  # boundaries anyway
        assert set(found.tolist()) - edges == expected - edges

    check()


def test_evidence_table_comes_in_its_documented_order(cleaned, segmenter):
    book = cb.codebook_read()
    u = pd.concat([d.units for d in cleaned.values()], ignore_index=True)
    u = u[u["level"] == "sentence"].reset_index(drop=True)
    ev = coding.units_code(u, book, segmenter).evidence
    position = {uid: i for i, uid in enumerate(u["unit_id"])}
    order = {cid: i for i, cid in enumerate(book.ids)}
    keys = [
        (
            position[r.unit_id],
            order[r.code],
            r.indicator_type,
            pd.isna(r.start),
            0 if pd.isna(r.start) else int(r.start),
            r.indicator,
        )
        for r in ev.itertuples()
    ]
    assert keys == sorted(keys)
    assert not ev.duplicated().any()
    assert set(ev["indicator_type"]) == {"keyword", "pattern", "rule"}


def test_a_span_cited_twice_by_a_rule_is_one_evidence_row(tmp_path, segmenter):
    # all: [资金] and any: [资金, 帮扶]: the first span of 资金 is cited by both; one row. The
    # rule 产业 near 企业 cites two spans that may start together with the keyword 产业链.
    body = """\
codebook: twice
terms:
  资金: [资金, 帮扶资金]
  帮扶: [帮扶]
  产业: [产业链, 产业]
  企业: [企业]
codes:
  - id: test
    dimension: logic
    label_zh: 测试
    definition: test
    indicators:
      keywords: [帮扶资金, 产业链]
      patterns: ["帮扶资金", "帮扶资金"]
      rules:
        - {id: r1, all: [资金], any: [资金, 帮扶]}
        - {id: r2, near: [产业, 企业], window: 3}
"""
    p = tmp_path / "book.yaml"
    p.write_text(body, encoding="utf-8")
    book = cb.codebook_read(p)
    units = pd.DataFrame(
        {
            "unit_id": ["a", "b"],
            "text": ["闽宁两地安排帮扶资金支持产业链企业发展。", "帮扶資金用于產業鏈龍頭企業。"],
        }
    )
    ev = coding.units_code(units, book, segmenter).evidence
    assert not ev.duplicated().any()
    r1 = ev[ev["indicator"].str.startswith("r1")]
    assert r1.groupby("unit_id").size().to_dict() == {"a": 1, "b": 1}
    assert set(r1["match"]) == {"帮扶资金", "帮扶資金"}
    assert (ev["indicator_type"] == "pattern").sum() == 2  # the pattern listed twice: once a unit
