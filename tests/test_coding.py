"""The coding engine on real sentences of the corpus: rules, spans, multi-labels, outputs, CLI."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import codebook as cb
from helpers import coding, coding_tables, tokens
from helpers.cli import main
from helpers.errors import InputError


@pytest.fixture(scope="module")
def segmenter():
    return tokens.segmenter_make()


@pytest.fixture(scope="module")
def sentences(cleaned) -> pd.DataFrame:
    u = pd.concat([d.units for d in cleaned.values()], ignore_index=True)
    return u[u["level"] == "sentence"].reset_index(drop=True)


@pytest.fixture(scope="module")
def corpus_coding(sentences, segmenter):
    return coding.units_code(sentences, cb.codebook_read(), segmenter)


def _book(tmp_path, rules: str, keywords: str = "[]", match: str = "word"):
    body = f"""\
codebook: rules test
matching: {{keywords: {match}}}
terms:
  结对: [结对帮扶]
  资金: [资金, 帮扶资金]
  产业: [产业链, 产业]
  带动: [带动]
  先行区: [先行区, 黄河流域生态保护和高质量发展先行区]
  企业: [企业]
codes:
  - id: test
    dimension: logic
    label_zh: 测试
    definition: test
    indicators:
      keywords: {keywords}
      rules:
{rules}
"""
    p = tmp_path / "book.yaml"
    p.write_text(body, encoding="utf-8")
    return cb.codebook_read(p)


def _code(book, sentences, segmenter, *unit_ids):
    u = sentences[sentences["unit_id"].isin(unit_ids)]
    res = coding.units_code(u, book, segmenter)
    return dict(zip(res.wide["unit_id"], res.wide["test"])), res


def test_rule_all_needs_every_term_in_the_unit(tmp_path, sentences, segmenter):
    book = _book(tmp_path, "        - id: both\n          all: [结对, 资金]")
    # report2024-2.2-p1-s1 has 结对帮扶 and 资金;
    # report2024-2.2-p1-s4 has 结对帮扶 and 援宁资金 (one word, not 资金)
    got, res = _code(
        book,
        sentences,
        segmenter,
        "report2024-2.2-p1-s1",
        "report2024-2.2-p1-s2",
        "opinion2021-3.1-p1-s3",
    )
    assert got == {"report2024-2.2-p1-s1": 1, "report2024-2.2-p1-s2": 0, "opinion2021-3.1-p1-s3": 0}
    ev = res.evidence
    assert set(ev["match"]) == {"结对帮扶", "资金"} and set(ev["indicator_type"]) == {"rule"}


def test_rule_near_counts_words_between_the_terms(tmp_path, sentences, segmenter):
    # report2024-2.3-p1-s1: …还带动了相关产业链的发展… : 带动/了/相关/产业链 is 3 words apart
    uid = "report2024-2.3-p1-s1"
    near3 = _book(tmp_path, "        - id: n\n          near: [产业, 带动]\n          window: 3")
    assert _code(near3, sentences, segmenter, uid)[0][uid] == 1
    near2 = _book(tmp_path, "        - id: n\n          near: [产业, 带动]\n          window: 2")
    assert _code(near2, sentences, segmenter, uid)[0][uid] == 0
    ev = _code(near3, sentences, segmenter, uid)[1].evidence
    assert set(ev["match"]) == {"带动", "产业链"}


def test_rule_not_vetoes_the_unit(tmp_path, sentences, segmenter):
    # opinion2021-2.2-p1-s1 mentions 企业? no; opinion2021-2.2-p1-s4 has 企业 and the 先行区 name
    book = _book(tmp_path, "        - id: a_not_c\n          any: [企业]\n          not: [先行区]")
    got, _ = _code(book, sentences, segmenter, "opinion2021-2.2-p1-s4", "opinion2021-2.5-p1-s1")
    assert got == {"opinion2021-2.2-p1-s4": 0, "opinion2021-2.5-p1-s1": 1}


def test_rule_heading_uses_the_section_context(tmp_path, sentences, segmenter):
    book = _book(tmp_path, "        - id: h\n          heading: [结对帮扶共谱合作新篇]")
    got, res = _code(book, sentences, segmenter, "report2024-2.2-p1-s3", "report2024-2.3-p1-s1")
    assert got == {"report2024-2.2-p1-s3": 1, "report2024-2.3-p1-s1": 0}
    assert res.evidence["match"].iloc[0] == "heading: 结对帮扶共谱合作新篇"


def test_keywords_match_whole_words_unless_substring_matching_is_chosen(
    tmp_path, sentences, segmenter
):
    rule = "        - id: never\n          heading: [不存在的标题]"
    # report2024-3.3-p1-s1: 重点支持农业产业化龙头企业 (企业 only inside 龙头企业);
    # opinion2021-2.5-p1-s1: 商协会和企业之间
    ids = ("report2024-3.3-p1-s1", "opinion2021-2.5-p1-s1")
    words = _book(tmp_path, rule, keywords="[企业]")
    assert _code(words, sentences, segmenter, *ids)[0] == {ids[0]: 0, ids[1]: 1}
    subs = _book(tmp_path, rule, keywords="[企业]", match="substring")
    assert _code(subs, sentences, segmenter, *ids)[0] == {ids[0]: 1, ids[1]: 1}


def test_every_evidence_span_points_at_its_match(corpus_coding, sentences):
    text = dict(zip(sentences["unit_id"], sentences["text"]))
    ev = corpus_coding.evidence
    assert len(ev) > 100
    spans = ev[ev["start"].notna()]
    for r in spans.itertuples():
        assert text[r.unit_id][r.start : r.end] == r.match
    # every 1 in the wide table has evidence, and every evidence row a 1
    w = corpus_coding.wide.set_index("unit_id")
    for code in corpus_coding.codebook.ids:
        assert set(w.index[w[code] == 1]) == set(ev.loc[ev["code"] == code, "unit_id"])


def test_multi_label_units(corpus_coding):
    w = corpus_coding.wide.set_index("unit_id")
    mechanisms = [
        "joint_meetings",
        "pairing",
        "industry",
        "mutual_learning",
        "social_participation",
    ]
    logics = ["economic", "political", "social", "ecological", "cultural"]
    # the policy names the five mechanisms; the report names the five logics
    assert w.loc["opinion2021-1-p1-s2", mechanisms].tolist() == [1] * 5
    assert w.loc["report2024-1-p1-s1", logics].tolist() == [1] * 5
    # the ecology sentence is ecological, not cultural
    assert (
        w.loc["report2024-1.4-p1-s1", "ecological"] == 1
        and w.loc["report2024-1.4-p1-s1", "cultural"] == 0
    )
    # a title gets no code
    assert w.loc["opinion2021-t", "n_codes"] == 0


def test_zone_name_does_not_make_a_sentence_ecological(corpus_coding):
    """黄河流域生态保护和高质量发展先行区 is one word: 生态保护 inside the name is not ecology."""
    ev = corpus_coding.evidence
    assert ev[(ev["unit_id"] == "opinion2021-2.2-p1-s4") & (ev["code"] == "ecological")].empty


def test_traditional_script_is_coded_like_simplified(sentences, segmenter):
    import opencc

    book = cb.codebook_read()
    u = sentences[sentences["doc_id"] == "report2024"].copy()
    trad = u.assign(text=u["text"].map(opencc.OpenCC("s2t").convert))
    assert (trad["text"] != u["text"]).any()
    a = coding.units_code(u, book, segmenter).wide[book.ids]
    b = coding.units_code(trad, book, segmenter)
    pd.testing.assert_frame_equal(a, b.wide[book.ids])
    t = dict(zip(trad["unit_id"], trad["text"]))
    for r in b.evidence[b.evidence["start"].notna()].itertuples():
        assert t[r.unit_id][r.start : r.end] == r.match  # spans point into the traditional text
    assert "閩寧協作" in "".join(trad["text"])


def test_outputs_and_excel_workbook(tmp_path, corpus_coding):
    from openpyxl import load_workbook

    written = coding_tables.coding_write(corpus_coding, tmp_path)
    assert {p.name for p in written.values()} >= {
        "coding_evidence.csv",
        "coding_units.csv",
        "coding_counts.csv",
        "coding_uncoded.csv",
        "coding_quotes.csv",
        "coding_review.xlsx",
    }
    wb = load_workbook(written["workbook"])
    assert wb.sheetnames == ["summary", *corpus_coding.codebook.ids]
    sheet = wb["pairing"]
    assert [c.value for c in sheet[2]] == ["unit_id", "heading_path", "text", "evidence"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=3)]
    assert len(rows) == int(corpus_coding.wide["pairing"].sum())
    assert any("结对帮扶" in (r[3] or "") for r in rows)
    counts = pd.read_csv(written["counts"])
    corpus = counts[counts["group"] == "(corpus)"].set_index("code")
    assert corpus.loc["pairing", "units_coded"] == len(rows)
    quotes = pd.read_csv(written["quotes"])
    assert set(quotes["code"]) == set(corpus_coding.codebook.ids)


def test_cli_code_round_trip_with_custom_columns_in_gb18030(tmp_path, sentences):
    src = tmp_path / "units.csv"
    sample = (
        sentences[["unit_id", "text"]].rename(columns={"unit_id": "编号", "text": "内容"}).head(20)
    )
    sample.to_csv(src, index=False, encoding="gb18030")
    out = tmp_path / "coded.csv"
    assert (
        main(["code", str(src), "--out", str(out), "--id-col", "编号", "--text-col", "内容"]) == 0
    )
    coded = pd.read_csv(out, keep_default_na=False)
    ids = cb.codebook_read().ids
    assert list(coded.columns) == ["unit_id", *ids, "evidence"]
    assert list(coded["unit_id"]) == list(sample["编号"])
    assert set(coded[ids].stack()) <= {0, 1}
    row = coded.set_index("unit_id").loc["opinion2021-1-p1-s1"]
    assert row["political"] == 1 and "习近平" in row["evidence"]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"", [], "file is empty"),
        ("编号,内容\nu1,闽宁协作\n".encode(), [], "no column 'unit_id'"),
        (b"\xff\xfe\x00\x00garbage\xff", [], "cannot decode"),
        ("unit_id,text\nu1,闽宁协作\nu1,乡村振兴\n".encode(), [], "appears twice"),
    ],
)
def test_cli_code_bad_input_is_a_clear_error(tmp_path, capsys, content, args, message):
    src = tmp_path / "bad.csv"
    src.write_bytes(content)
    out = tmp_path / "coded.csv"
    assert main(["code", str(src), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and message in err
    assert not out.exists()


def test_units_csv_read_names_line_and_field_of_a_repeated_id(tmp_path):
    src = tmp_path / "units.csv"
    src.write_text("unit_id,text\nu1,闽宁协作\nu2,对口帮扶\nu1,乡村振兴\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        coding_tables.units_csv_read(src)
    assert (err.value.line, err.value.field) == (4, "unit_id")
    assert str(err.value) == f"{src}, line 4, field 'unit_id': 'u1' appears twice"


def test_cli_code_refuses_an_invalid_codebook(tmp_path, capsys):
    src = tmp_path / "units.csv"
    src.write_text("unit_id,text\nu1,闽宁协作\n", encoding="utf-8")
    bad = tmp_path / "book.yaml"
    bad.write_text(
        "codes:\n  - id: x\n    dimension: a\n    label_zh: x\n    definition: x\n    indicators:\n"
        "      keywords: [闽宁协作]\n      patterns: ['(']\n",
        encoding="utf-8",
    )
    out = tmp_path / "coded.csv"
    assert main(["code", str(src), "--out", str(out), "--codebook", str(bad)]) == 2
    assert "invalid regular expression" in capsys.readouterr().err and not out.exists()


def test_an_added_dimension_and_code_flow_through_coding_and_summaries(
    tmp_path, sentences, segmenter
):
    """Researchers may add codes or dimensions to the YAML; nothing downstream lists the codes."""
    from helpers import summaries

    text = cb.CODEBOOK.read_text(encoding="utf-8")
    text = text.replace("dimensions:\n", "dimensions:\n  policy_tool:\n    label_zh: 政策工具\n", 1)
    text += """
  - id: finance
    dimension: policy_tool
    label_zh: 财政金融工具
    label_en: fiscal and financial instruments
    definition: 资金投入、财政援助等财政金融手段。
    indicators:
      keywords: [帮扶资金, 援宁资金, 财政援助, 资金支持]
"""
    p = tmp_path / "codebook.yaml"
    p.write_text(text, encoding="utf-8")
    book = cb.codebook_read(p)
    assert book.ids[-1] == "finance" and set(book.dimensions) == {
        "logic",
        "mechanism",
        "policy_tool",
    }
    res = coding.units_code(sentences, book, segmenter)
    assert (
        res.wide.set_index("unit_id").loc["report2024-2.2-p1-s2", "finance"] == 1
    )  # 54.82亿元的帮扶资金
    freq = summaries.codes_frequency(res.wide, book, by="document")
    assert "finance" in set(freq["code"])
    counts = res.counts
    assert (
        counts[(counts["code"] == "finance") & (counts["group"] == "(corpus)")]["units_coded"].iloc[
            0
        ]
        >= 2
    )


def test_word_boundaries_from_segmenter_token_lists_and_token_table_agree(
    sentences, segmenter, corpus_coding
):
    # the three ways to give the coder word boundaries must give the same evidence on the corpus
    book = cb.codebook_read()
    lists = tokens.texts_cut(sentences["text"].tolist(), segmenter)
    table = tokens.tokens_segment(sentences, segmenter, cache_dir=None)
    by_lists = coding.units_code(sentences, book, token_lists=lists)
    by_table = coding.units_code(sentences, book, tokens=table)
    pd.testing.assert_frame_equal(by_lists.evidence, corpus_coding.evidence)
    pd.testing.assert_frame_equal(by_table.evidence, corpus_coding.evidence)
    assert len(corpus_coding.evidence) > 100


def test_token_lists_that_do_not_cover_their_text_are_refused(sentences, segmenter):
    u = sentences.head(3)
    lists = tokens.texts_cut(u["text"].tolist(), segmenter)
    lists[1] = lists[1][:-1]  # one token short
    with pytest.raises(ValueError, match="tokens of unit 1 cover"):
        coding.units_code(u, cb.codebook_read(), token_lists=lists)


def test_rules_and_keywords_on_a_unit_with_a_separator_character(tmp_path, sentences, segmenter):
    # a stray NUL in a text takes the per-token path for boundaries; the coding is unchanged
    u = sentences[sentences["text"].str.contains("结对帮扶")].head(2).copy()
    book = _book(tmp_path, "        - {id: r1, all: [结对]}", keywords="[结对帮扶]")
    plain = coding.units_code(u, book, segmenter)
    u["text"] = u["text"] + "\x00"
    with_nul = coding.units_code(u, book, segmenter)
    cols = ["unit_id", "code", "indicator_type", "indicator", "start", "end", "match"]
    pd.testing.assert_frame_equal(plain.evidence[cols], with_nul.evidence[cols])
    assert set(plain.evidence["indicator_type"]) == {"keyword", "rule"}


def _evidence_summarize_reference(evidence: pd.DataFrame) -> pd.Series:
    """The evidence strings as the package built them before they were vectorised (slow: one
    pandas row at a time), kept here as the reference the fast version must equal."""

    def one(r) -> str:
        where = f"@{r.start}-{r.end}" if pd.notna(r.start) else ""
        return f"{r.code}: {r.indicator}「{r.match}」{where}"

    if evidence.empty:
        return pd.Series(dtype=str)
    return evidence.groupby("unit_id", sort=False).apply(
        lambda g: "; ".join(one(r) for r in g.itertuples())
    )


def test_evidence_strings_equal_the_row_by_row_reference(corpus_coding):
    ev = corpus_coding.evidence
    assert ev["start"].isna().any() and ev["start"].notna().any()  # heading rules and spans
    fast = coding_tables.evidence_summarize(ev)
    slow = _evidence_summarize_reference(ev)
    pd.testing.assert_series_equal(fast, slow, check_names=False)
    # units interleaved (not grouped) keep their rows' order within each unit
    shuffled = ev.sample(frac=1, random_state=3)
    pd.testing.assert_series_equal(
        coding_tables.evidence_summarize(shuffled),
        _evidence_summarize_reference(shuffled),
        check_names=False,
    )
    table = coding_tables.coding_table(corpus_coding)
    assert table["evidence"].str.len().gt(0).sum() == (corpus_coding.wide["n_codes"] > 0).sum()


# --------------------------------------------------------------------------------------------------
# The engine against a slow, obvious reference: the codebook's semantics written out plainly
# --------------------------------------------------------------------------------------------------


def _reference_code(texts, headings, book, segmenter) -> set[tuple]:
    """Evidence rows ``(unit, code, type, indicator, start, end, match)``, one unit at a time.

    Keywords and term words: every occurrence in the unit's simplified text (on jieba word
    boundaries unless the codebook matches substrings); patterns: ``re.finditer`` in the unit's
    simplified text; rules: the conditions of the codebook, spans chosen as documented (the first
    span of each ``all`` term, of the first ``any`` term found, the closest ``near`` pair).
    """
    import re

    simplify = coding.text_simplify
    rows = set()
    for i, (orig, heading) in enumerate(zip(texts, headings)):
        orig = orig.replace("\n", " ")
        text = coding.text_simplify_aligned(orig)
        if book.keyword_match == "word":
            bounds, pos = {0}, 0
            for tok in segmenter.cut(text):
                pos += len(tok)
                bounds.add(pos)
        else:
            bounds = set(range(len(text) + 1))

        def occurrences(word, text=text, bounds=bounds):
            starts = [s for s in range(len(text)) if text.startswith(word, s)]
            return [(s, s + len(word)) for s in starts if s in bounds and s + len(word) in bounds]

        def word_number(pos, bounds=bounds):
            return sum(1 for b in bounds if b <= pos)

        for c in book.codes:
            for k in dict.fromkeys(simplify(k) for k in c.keywords):
                for s, e in occurrences(k):
                    rows.add((i, c.id, "keyword", k, s, e, orig[s:e]))
            for p in c.patterns:
                for mt in re.finditer(p, text):
                    if mt.end() > mt.start():
                        rows.add(
                            (
                                i,
                                c.id,
                                "pattern",
                                p,
                                mt.start(),
                                mt.end(),
                                orig[mt.start() : mt.end()],
                            )
                        )
            for r in c.rules:
                spans = {}
                for name in {*r.all, *r.any, *r.near, *r.not_}:
                    found = {o for w in book.terms[name] for o in occurrences(simplify(w))}
                    spans[name] = sorted(found)
                if not all(spans[t] for t in (*r.all, *r.near)):
                    continue
                if r.any and not any(spans[t] for t in r.any):
                    continue
                if any(spans[t] for t in r.not_):
                    continue
                ev = []
                if r.heading:
                    hs = [h for h in r.heading if simplify(h) in simplify(heading)]
                    if not hs:
                        continue
                    ev.append((None, None, f"heading: {hs[0]}"))
                ev += [(*spans[t][0], t) for t in r.all]
                if r.any:
                    t = next(t for t in r.any if spans[t])
                    ev.append((*spans[t][0], t))
                if r.near:
                    a, b = r.near
                    best = None
                    for sa in spans[a]:
                        for sb in spans[b]:
                            if sa == sb:
                                continue
                            first, second = (sa, sb) if sa[0] <= sb[0] else (sb, sa)
                            gap = word_number(second[0]) - word_number(first[1] - 1)
                            if gap <= r.window and (best is None or gap < best[0]):
                                best = (gap, sa, sb)
                    if best is None:
                        continue
                    ev += [(*best[1], a), (*best[2], b)]
                label = f"{r.id}: {r.describe()}"
                for s, e, what in ev:
                    rows.add((i, c.id, "rule", label, s, e, what if s is None else orig[s:e]))
    return rows


_ALPHABET = "闽宁协作产业带动资金企业龙头发展帮扶發協產資，。 a1"
_PATTERNS = [
    "{a}",
    "{a}.{{0,3}}{b}",
    "({a}|{b}){c}",
    "{a}[^。，]{{0,2}}{b}",
    "(?<!{a}){b}",
    "{a}(?!{b})",
    "{a}$",
    "^{a}",
    "[{a}{b}]+",
    "{a}?{b}",
    # searched over the joined texts of their units: negated classes next to a text's edge,
    # empty matches, word boundaries, lookarounds whose class excludes characters
    "[^{a}]*{b}",
    "{a}[^{b}]?",
    "(?<![^{a}]){b}",
    "{b}(?![^{a}])",
    "\\b{a}",
    "{a}\\b",
    "(?:{a}|)",
    # searched only in the units that hold every literal a match needs (and/or of literals)
    "({a}|{b}{c})[^。]{{0,3}}{c}",
    "{a}{b}|{c}(?:{a}|{b})",
    "[{a}{b}]{c}+",
    "(?:{a}{b}){{2}}",
]


def _engine_rows(texts, headings, book, segmenter) -> set[tuple]:
    units = pd.DataFrame(
        {
            "unit_id": [f"u{i}" for i in range(len(texts))],
            "text": texts,
            "heading_path": headings,
        }
    )
    ev = coding.units_code(units, book, segmenter).evidence
    assert not ev.duplicated().any()  # each row once (a rule citing one span twice, …)
    index = {f"u{i}": i for i in range(len(texts))}
    return {
        (
            index[r.unit_id],
            r.code,
            r.indicator_type,
            r.indicator,
            None if pd.isna(r.start) else int(r.start),
            None if pd.isna(r.end) else int(r.end),
            r.match,
        )
        for r in ev.itertuples()
    }


_SEGMENTER = []


def _segmenter():
    if not _SEGMENTER:
        _SEGMENTER.append(tokens.segmenter_make())
    return _SEGMENTER[0]


def _codebooks():
    from pathlib import Path

    from hypothesis import strategies as st

    word = st.text(alphabet=_ALPHABET.replace(" ", ""), min_size=1, max_size=2)
    char = st.sampled_from("闽宁协作产业带动资金發")
    pattern = st.builds(
        lambda t, a, b, c: t.format(a=a, b=b, c=c), st.sampled_from(_PATTERNS), char, char, char
    )
    term_names = ["t1", "t2", "t3", "t4"]
    terms = st.fixed_dictionaries({t: st.lists(word, min_size=1, max_size=3) for t in term_names})
    names = st.lists(st.sampled_from(term_names), max_size=2, unique=True)

    @st.composite
    def rule(draw, i):
        near = draw(
            st.one_of(st.just([]), st.lists(st.sampled_from(term_names), min_size=2, max_size=2))
        )
        all_, any_ = draw(names), draw(names)
        heading = draw(st.sampled_from([(), ("产业",), ("资金", "帮扶")]))
        if not (all_ or any_ or near or heading):
            all_ = ["t1"]
        return cb.Rule(
            id=f"r{i}",
            all=tuple(all_),
            any=tuple(any_),
            near=tuple(near),
            window=draw(st.integers(1, 3)),
            not_=tuple(draw(st.one_of(st.just([]), st.just([]), st.just([]), names))),
            heading=heading,
        )

    @st.composite
    def code(draw, cid):
        return cb.Code(
            id=cid,
            dimension="logic",
            label_zh=cid,
            label_en=cid,
            definition=cid,
            keywords=tuple(draw(st.lists(word, max_size=4))),
            patterns=tuple(draw(st.lists(pattern, max_size=2))),
            rules=tuple(draw(rule(i)) for i in range(draw(st.integers(0, 2)))),
        )

    @st.composite
    def book(draw):
        return cb.Codebook(
            path=Path("random.yaml"),
            title="random",
            version="0",
            source="",
            unit="sentence",
            dimensions={},
            terms=draw(terms),
            codes=(draw(code("a")), draw(code("b"))),
            keyword_match=draw(st.sampled_from(["word", "substring"])),
        )

    return book()


def _texts():
    from hypothesis import strategies as st

    return st.lists(
        st.tuples(
            st.text(alphabet=_ALPHABET + ".-%\r", max_size=24),  # ASCII joiners: one cut
            st.sampled_from(["", "一、产业协作", "二、資金帮扶"]),
        ),
        min_size=1,
        max_size=6,
    )


@pytest.mark.slow
def test_engine_equals_the_reference_on_random_codebooks_and_texts():
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(book=_codebooks(), units=_texts())
    def check(book, units):
        texts, headings = [t for t, _ in units], [h for _, h in units]
        seg = _segmenter()
        assert _engine_rows(texts, headings, book, seg) == _reference_code(
            texts, headings, book, seg
        )

    check()


def test_engine_equals_the_reference_on_the_corpus(sentences, segmenter, corpus_coding):
    book = corpus_coding.codebook
    texts = sentences["text"].tolist()
    headings = sentences["heading_path"].astype(str).tolist()
    ref = _reference_code(texts, headings, book, segmenter)
    assert len(ref) > 500
    assert _engine_rows(texts, headings, book, segmenter) == ref
