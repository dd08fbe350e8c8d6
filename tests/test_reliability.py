"""Coding reliability (helpers.annotations, reliability, agreement, sheets): annotation files,
agreement statistics checked against values computed by hand and published examples,
disagreements, and the second-coder sheet."""

from __future__ import annotations

import datetime
import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from helpers import agreement as agr
from helpers import annotations as ann
from helpers import paths, sheets, tables
from helpers import reliability as rel
from helpers.codebook import codebook_read
from helpers.coding import EVIDENCE_COLUMNS

ANNOTATIONS = paths.DATA / "annotations"


def codings(table: dict[str, list], code: str = "x") -> pd.DataFrame:
    """Long codings of one code from ``{coder: [value per unit, None: not coded]}``: u0, u1…"""
    rows = [
        (coder, f"u{i}", code, v)
        for coder, values in table.items()
        for i, v in enumerate(values)
        if v is not None
    ]
    return pd.DataFrame(rows, columns=ann.CODING_COLUMNS)


def one(agreement: pd.DataFrame, code: str = "x") -> pd.Series:
    return agreement.set_index("code").loc[code]


@pytest.fixture(scope="module")
def book():
    return codebook_read()


# --------------------------------------------------------------------------------------------------
# Statistics against hand computations
# --------------------------------------------------------------------------------------------------


def test_two_coders_equal_marginals_by_hand():
    a = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    b = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]
    r = one(agr.codings_agreement(codings({"A": a, "B": b}), reference="A", n_bootstrap=0))
    # 2 × 2 table: both 1 = 3, A only = 1, B only = 1, both 0 = 5
    assert (r.n_both, r.n_first_only, r.n_second_only, r.n_neither) == (3, 1, 1, 5)
    # p_o = 8/10; p_e = .4 × .4 + .6 × .6 = .52; kappa = (.8 − .52) / (1 − .52) = .28/.48
    assert r.percent_agreement == pytest.approx(0.8)
    assert r.cohen_kappa == pytest.approx(0.28 / 0.48)
    # Holsti: 2M/(N1 + N2) = 2·8/(10 + 10)
    assert r.holsti_cr == pytest.approx(0.8)
    # alpha (nominal): coincidences o01 + o10 = 2 + 2 = 4 over n = 20 values, n0 = 12, n1 = 8:
    # alpha = 1 − (n − 1)(o01 + o10) / (2 n0 n1) = 1 − 19·4/192
    assert r.krippendorff_alpha == pytest.approx(1 - 19 * 4 / 192)
    # precision = TP/(TP + FP) = 3/4, recall = TP/(TP + FN) = 3/4, F1 = 2·3/(6 + 1 + 1)
    assert (r.precision, r.recall, r.f1) == pytest.approx((0.75, 0.75, 0.75))
    assert r.note == ""


def test_two_coders_unequal_marginals_by_hand():
    a = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    b = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    r = one(agr.codings_agreement(codings({"A": a, "B": b}), reference="A", n_bootstrap=0))
    # p_o = .7; p_e = .5 × .2 + .5 × .8 = .5; kappa = .2/.5
    assert r.cohen_kappa == pytest.approx(0.4)
    # Fleiss (= Scott's pi for two coders): pooled p1 = 7/20, P_e = .35² + .65² = .545;
    # kappa = (.7 − .545)/.455
    assert r.fleiss_kappa == pytest.approx((0.7 - 0.545) / 0.455)
    # alpha: o01 + o10 = 6, n = 20, n1 = 7, n0 = 13: 1 − 19·6/(2·7·13)
    assert r.krippendorff_alpha == pytest.approx(1 - 19 * 6 / 182)
    # TP = 2, FP = 0, FN = 3
    assert r.precision == pytest.approx(1.0)
    assert r.recall == pytest.approx(0.4)
    assert r.f1 == pytest.approx(4 / 7)


def test_cohen_kappa_function_by_hand():
    assert rel.cohen_kappa(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0])) == pytest.approx(
        # p_o = .75; p_e = .5 × .25 + .5 × .75 = .5
        (0.75 - 0.5) / 0.5
    )
    # a unit one coder left out (NaN) is ignored
    assert rel.cohen_kappa(
        np.array([1, 1, 0, 0, np.nan]), np.array([1, 0, 0, 0, 1])
    ) == pytest.approx(0.5)


def test_code_nobody_used():
    ag = agr.codings_agreement(codings({"A": [0] * 6, "B": [0] * 6}), reference="A", n_bootstrap=20)
    r = one(ag)
    assert r.percent_agreement == 1.0 and r.holsti_cr == 1.0
    # p_e = 1: kappa = 0/0, alpha's expected disagreement is 0: both undefined
    for stat in ("cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "precision", "recall", "f1"):
        assert math.isnan(r[stat]), stat
        assert math.isnan(r[f"{stat}_ci_low"]) and math.isnan(r[f"{stat}_ci_high"]), stat
    assert "no variation" in r.note and "undefined" in r.note
    assert r.percent_agreement_ci_low == 1.0 and r.percent_agreement_ci_high == 1.0


def test_perfect_agreement_with_variation():
    v = [1, 1, 0, 0, 0]
    r = one(agr.codings_agreement(codings({"A": v, "B": v}), reference="A", n_bootstrap=0))
    assert (r.cohen_kappa, r.fleiss_kappa, r.krippendorff_alpha, r.f1, r.percent_agreement) == (
        1,
        1,
        1,
        1,
        1,
    )


def test_one_coder_never_codes():
    # A never codes 1, B once: p_o = .75, p_e = 1 × .75 = .75: kappa = 0
    r = one(
        agr.codings_agreement(
            codings({"A": [0, 0, 0, 0], "B": [1, 0, 0, 0]}), reference="A", n_bootstrap=0
        )
    )
    assert r.cohen_kappa == pytest.approx(0.0)
    # alpha: n = 8, n1 = 1, n0 = 7, o01 + o10 = 2: 1 − 7·2/(2·7·1) = 0
    assert r.krippendorff_alpha == pytest.approx(0.0)
    # TP = 0, FP = 1, FN = 0: precision 0, recall 0/0 undefined, F1 = 0/(0 + 1 + 0) = 0
    assert r.precision == 0.0 and math.isnan(r.recall) and r.f1 == 0.0
    assert "recall undefined" in r.note


def test_three_coders_by_hand():
    # units:      u0 u1 u2 u3
    c1, c2, c3 = [1, 1, 0, 1], [1, 1, 0, 0], [1, 0, 0, 0]
    r = one(agr.codings_agreement(codings({"c1": c1, "c2": c2, "c3": c3}), n_bootstrap=0))
    # Fleiss: P_i = 1, 1/3, 1, 1/3 (e.g. u1: (2² + 1² − 3)/(3·2)); P̄ = 2/3; p1 = 6/12, P_e = .5
    assert r.fleiss_kappa == pytest.approx((2 / 3 - 0.5) / 0.5)
    # pairwise Cohen: (c1,c2) p_o .75, p_e .5 → .5; (c1,c3) p_o .5, p_e .375 → .2;
    # (c2,c3) .75, .5 → .5
    assert r.cohen_kappa == pytest.approx((0.5 + 0.2 + 0.5) / 3)
    assert r.percent_agreement == pytest.approx((0.75 + 0.5 + 0.75) / 3)
    # alpha: o11 = 3 + 1 = 4, o00 = 3 + 1 = 4, o01 = o10 = 2; n = 12, n0 = n1 = 6: 1 − 11·4/72
    assert r.krippendorff_alpha == pytest.approx(1 - 44 / 72)
    assert pd.isna(r.n_both) and math.isnan(r.f1)


def test_holsti_counts_each_coders_decisions():
    # A did not code u4: N1 = 4, N2 = 5, M = 3 (u0, u1, u3)
    r = one(
        agr.codings_agreement(
            codings({"A": [1, 0, 0, 1, None], "B": [1, 0, 1, 1, 0]}), n_bootstrap=0
        )
    )
    assert r.holsti_cr == pytest.approx(2 * 3 / (4 + 5))
    assert r.percent_agreement == pytest.approx(3 / 4)
    assert r.n_units == 4


def test_alpha_matches_krippendorffs_published_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 coders, 12 units, missing
    # values; nominal alpha = 0.743 (the krippendorff package documents the same value).
    nan = None
    data = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        "C": [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    }
    r = one(agr.codings_agreement(codings(data), n_bootstrap=0))
    assert round(r.krippendorff_alpha, 3) == 0.743


def test_fleiss_matches_the_published_example():
    # Fleiss' kappa example (Wikipedia, after Fleiss 1971): 10 subjects, 14 raters, 5 categories;
    # kappa = 0.210.
    counts = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    values = np.array(
        [[k for k, n in enumerate(row) for _ in range(n)] for row in counts]
    ).T  # raters × units
    assert round(rel.fleiss_kappa(values), 3) == 0.210


def test_macro_row_is_the_mean_of_defined_codes():
    long = pd.concat(
        [
            codings({"A": [1, 1, 0, 0], "B": [1, 0, 0, 0]}, "x"),
            codings({"A": [1, 1, 0, 0], "B": [1, 1, 0, 0]}, "y"),
            codings({"A": [0, 0, 0, 0], "B": [0, 0, 0, 0]}, "z"),
        ]
    )
    ag = agr.codings_agreement(long, n_bootstrap=0)
    macro = one(ag, agr.MACRO)
    assert macro.cohen_kappa == pytest.approx((0.5 + 1.0) / 2)  # z (undefined) left out
    assert macro.percent_agreement == pytest.approx((0.75 + 1 + 1) / 3)
    assert "cohen_kappa (z)" in macro.note
    assert list(ag["code"]) == ["x", "y", "z", agr.MACRO]


def test_bootstrap_is_reproducible_with_the_seed():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2, 40).tolist()
    b = [v if rng.random() < 0.8 else 1 - v for v in a]
    long = codings({"A": a, "B": b})
    first = agr.codings_agreement(long, n_bootstrap=200, seed=7)
    again = agr.codings_agreement(long, n_bootstrap=200, seed=7)
    other = agr.codings_agreement(long, n_bootstrap=200, seed=8)
    pd.testing.assert_frame_equal(first, again)
    r, o = one(first), one(other)
    assert (r.cohen_kappa_ci_low, r.cohen_kappa_ci_high) != (
        o.cohen_kappa_ci_low,
        o.cohen_kappa_ci_high,
    )
    assert r.cohen_kappa_ci_low <= r.cohen_kappa <= r.cohen_kappa_ci_high


def test_reference_must_be_one_of_two_coders():
    long = codings({"A": [1, 0], "B": [1, 0], "C": [0, 0]})
    with pytest.raises(ValueError, match="exactly two coders"):
        agr.codings_agreement(long, reference="A", n_bootstrap=0)
    with pytest.warns(ann.AnnotationWarning, match="not assessed: no codings by Z"):
        missing = agr.codings_agreement(long, coders=["A", "Z"], n_bootstrap=0)
    assert (
        missing["cohen_kappa"].isna().all() and missing["note"].str.startswith("not assessed").all()
    )
    with pytest.warns(ann.AnnotationWarning, match="needs two or more coders"):
        agr.codings_agreement(long, coders=["A"], n_bootstrap=0)


def test_a_code_one_coder_never_coded_is_not_assessed():
    long = pd.concat(
        [
            codings({"A": [1, 1, 0, 0], "B": [1, 0, 0, 0]}, "x"),
            codings({"A": [1, 0, 1, 0]}, "digital"),
        ]
    )  # B's file has no column for digital
    table = agr.codings_agreement(long, coders=["A", "B"], n_bootstrap=0).set_index("code")
    assert table.loc["digital", "note"].startswith("not assessed: no coding of 'digital' by B")
    assert pd.isna(table.loc["digital", "cohen_kappa"]) and not pd.isna(
        table.loc["x", "cohen_kappa"]
    )
    assert "digital" in table.loc[agr.MACRO, "note"]


def test_agreement_compare_names_the_codes_meeting_the_targets():
    long = pd.concat(
        [
            codings({"A": [1, 1, 0, 0], "B": [1, 0, 0, 0]}, "x"),
            codings({"A": [1, 1, 0, 0], "B": [1, 1, 0, 0]}, "y"),
            codings({"A": [0, 0, 0, 0], "B": [0, 0, 0, 0]}, "z"),
        ]
    )
    check = agr.agreement_compare(
        agr.codings_agreement(long, n_bootstrap=0), target=0.7, mean_target=0.8
    )
    meets = dict(zip(check["code"], check["meets"]))
    assert meets["x"] == False and meets["y"] == True and pd.isna(meets["z"])  # noqa: E712
    assert meets[agr.MACRO] == False  # noqa: E712 - (0.5 + 1)/2 = 0.75 < 0.8


def test_second_coder_agreement_with_the_reference_then_all_human_coders():
    human = pd.concat(
        [
            codings({"A": [1, 1, 0, 0], "B": [1, 0, 0, 0]}, "x"),
            codings({"A": [0, 1, 0, 1], "B": [0, 1, 0, 1]}, "y"),
        ]
    )
    second = pd.concat([codings({"S": [1, 1, 0, 1]}, "x"), codings({"S": [0, 1, 0, 1]}, "y")])
    table = sheets.second_coder_agreement(
        human, second, reference="A", coders=["A", "B"], n_bootstrap=0
    )
    assert list(pd.unique(table["comparison"])) == ["A vs S", "A vs B vs S"]
    pair = table[table["comparison"] == "A vs S"].set_index("code")
    # x: A 1 1 0 0, S 1 1 0 1: three of four agree; y: identical
    assert pair.loc["x", "percent_agreement"] == pytest.approx(0.75)
    assert pair.loc["y", "percent_agreement"] == 1
    three = table[table["comparison"] == "A vs B vs S"].set_index("code")
    assert (three.loc[["x", "y"], "n_coders"] == 3).all()


def test_agreements_stack_labels_each_table_by_evaluation_and_coder():
    long = codings({"A": [1, 1, 0, 0], "B": [1, 0, 0, 0]})
    first = agr.codings_agreement(long, reference="A", n_bootstrap=0)
    second = agr.codings_agreement(long, reference="A", units=["u0", "u1"], n_bootstrap=0)
    stacked = agr.agreements_stack({("all units", "B"): first, ("two units", "B"): second})
    assert list(stacked.columns[:3]) == ["evaluation", "coder", "comparison"]
    assert stacked["evaluation"].tolist() == ["all units"] * len(first) + ["two units"] * len(
        second
    )
    assert set(stacked["coder"]) == {"B"}
    assert stacked.loc[stacked["evaluation"] == "two units", "n_units"].max() == 2


# --------------------------------------------------------------------------------------------------
# Annotation files and converters
# --------------------------------------------------------------------------------------------------


def test_annotations_read_the_shipped_files(book):
    a = ann.annotations_read(ANNOTATIONS / "coder_A.csv", book)
    b = ann.annotations_read(ANNOTATIONS / "coder_B.csv", book)
    assert list(a.columns) == [*ann.CODING_COLUMNS, "split"]
    assert len(a) == 116 * 10 and set(a["coder"]) == {"annotator-A"} and set(a["value"]) == {0, 1}
    split = ann.codings_split(pd.concat([a, b]))
    assert split.value_counts().to_dict() == {"dev": 71, "holdout": 45}
    assert list(a["code"].iloc[:10]) == book.ids


HEADER = "unit_id,doc_id,coder,date,split,economic,political,note\n"


def annotation_file(tmp_path, body: str, header: str = HEADER):
    p = tmp_path / "coder_X.csv"
    p.write_text(header + body, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "body, line, column, reason",
    [
        (
            "u1,d,X,2026-01-01,dev,0,1,\nu2,d,X,2026-01-01,dev,2,0,\n",
            3,
            "economic",
            "value '2' is not 0 or 1",
        ),
        ("u1,d,X,2026-01-01,dev,0,,\n", 2, "political", "empty"),
        ("u1,d,X,2026-01-01,test,0,1,\n", 2, "split", "split 'test' is not one of dev, holdout"),
        ("u1,d,X,2026-01-01,dev,0,1,\nu1,d,X,2026-01-01,dev,1,1,\n", 3, "unit_id", "coded twice"),
        ("u1,d,,2026-01-01,dev,0,1,\n", 2, "coder", "empty"),
        # a note over two lines: the next record starts on line 4
        (
            'u1,d,X,2026-01-01,dev,0,1,"two\nlines"\nu2,d,X,2026-01-01,dev,0,yes,\n',
            4,
            "political",
            "'yes'",
        ),
    ],
)
def test_annotations_read_names_file_line_and_column(tmp_path, body, line, column, reason):
    p = annotation_file(tmp_path, body)
    with pytest.raises(ann.AnnotationError) as err:
        ann.annotations_read(p)
    assert (err.value.line, err.value.field) == (line, column)
    assert reason in str(err.value) and "coder_X.csv" in str(err.value)
    assert f"line {line}, field '{column}'" in str(err.value)


def test_annotations_read_follows_codebook_and_corpus_edits(tmp_path, book):
    """Codebook and corpus are edited after annotating: warnings naming file, code and remedy, no
    error."""
    p = annotation_file(
        tmp_path, "u1,d,X,2026-01-01,dev,0,1,\n"
    )  # codes economic and political only
    with pytest.warns(
        ann.AnnotationWarning,
        match=r"coder_X.csv, line 1: no column for code\(s\) 'social'.*"
        r"not assessed.*add a column.*second-coder sheet",
    ):
        got = ann.annotations_read(p, book)
    assert list(got["code"]) == ["economic", "political"]
    header = "unit_id,coder,split," + ",".join(book.ids).replace("economic", "econmic") + "\n"
    p = annotation_file(tmp_path, "u1,X,dev," + ",".join("0" * 10) + "\n", header)
    with pytest.warns(
        ann.AnnotationWarning
    ) as caught:  # a renamed code: old column ignored, new one missing
        got = ann.annotations_read(p, book)
    messages = " ".join(str(w.message) for w in caught)
    assert (
        "'econmic' are not codes of the codebook: ignored" in messages and "'economic'" in messages
    )
    assert "econmic" not in set(got["code"]) and len(got) == 9
    p = annotation_file(tmp_path, "u9,d,X,2026-01-01,dev,0,1,\nu1,d,X,2026-01-01,dev,1,1,\n")
    outside = r"1 coded unit\(s\) are not units of the corpus.*'u9' \(line 2\)"
    with pytest.warns(ann.AnnotationWarning, match=outside):
        got = ann.annotations_read(p, units=["u1"])  # a removed document
    assert set(got["unit_id"]) == {"u1"}
    with pytest.warns(ann.AnnotationWarning, match="no annotation files"):
        empty = ann.annotations_read([], book)
    assert list(empty.columns) == [*ann.CODING_COLUMNS, "split"] and empty.empty
    p = annotation_file(tmp_path, "u1,X,0,1\n", "unit_id,coder,economic,political\n")
    with pytest.raises(ann.AnnotationError, match=r"line 1, field 'split': missing column"):
        ann.annotations_read(p)
    with pytest.raises(ann.AnnotationError, match="file not found"):
        ann.annotations_read(tmp_path / "nope.csv")


def test_wide_and_long_convert_both_ways():
    wide = pd.DataFrame({"unit_id": ["u1", "u2"], "text": ["甲", "乙"], "a": [1, 0], "b": [0, 1]})
    long = ann.codings_from_wide(wide, "dictionary", ["a", "b"])
    assert long.values.tolist() == [
        ["dictionary", "u1", "a", 1],
        ["dictionary", "u1", "b", 0],
        ["dictionary", "u2", "a", 0],
        ["dictionary", "u2", "b", 1],
    ]
    pd.testing.assert_frame_equal(
        ann.codings_wide(long, "dictionary"), wide[["unit_id", "a", "b"]], check_dtype=False
    )
    with pytest.raises(ValueError, match="twice"):
        agr.codings_agreement(pd.concat([long, long]), n_bootstrap=0)


# --------------------------------------------------------------------------------------------------
# Disagreements
# --------------------------------------------------------------------------------------------------


def test_disagreements_list_false_positives_with_evidence_and_false_negatives():
    units = pd.DataFrame(
        {
            "unit_id": ["u1", "u2", "u3"],
            "heading_path": ["一", "一", "二"],
            "text": ["产业带动发展", "共同富裕", "东西部协作"],
        }
    )
    long = pd.concat(
        [
            ann.codings_from_wide(
                pd.DataFrame(
                    {"unit_id": ["u1", "u2", "u3"], "economic": [0, 1, 0], "political": [1, 0, 0]}
                ),
                "annotator-A",
                ["economic", "political"],
            ),
            ann.codings_from_wide(
                pd.DataFrame(
                    {"unit_id": ["u1", "u2", "u3"], "economic": [1, 1, 0], "political": [0, 0, 0]}
                ),
                "dictionary",
                ["economic", "political"],
            ),
        ]
    )
    evidence = pd.DataFrame(
        [
            ("d", "u1", "economic", "logic", "keyword", "产业", 0, 2, "产业"),
            ("d", "u1", "economic", "logic", "rule", "r1: heading(一)", "", "", "heading: 一"),
            ("d", "u2", "economic", "logic", "keyword", "富裕", 2, 4, "富裕"),
        ],
        columns=EVIDENCE_COLUMNS,
    )
    out = agr.codings_disagreements(
        long, units, human="annotator-A", evidence=evidence, codes=["economic", "political"]
    )
    assert list(out.columns) == [
        "code",
        "unit_id",
        "heading_path",
        "text",
        "human_value",
        "dictionary_value",
        "type",
        "evidence",
    ]
    assert out[["code", "unit_id", "type"]].values.tolist() == [
        ["economic", "u1", "false positive"],
        ["political", "u1", "false negative"],
    ]
    assert out.loc[0, "evidence"] == "keyword 产业「产业」@0-2; rule r1: heading(一)「heading: 一」"
    assert out.loc[1, "evidence"] == "nothing fired"
    assert out.loc[0, "text"] == "产业带动发展" and (
        out.loc[0, "human_value"],
        out.loc[0, "dictionary_value"],
    ) == (0, 1)


# --------------------------------------------------------------------------------------------------
# Second-coder sheet
# --------------------------------------------------------------------------------------------------

UNITS = pd.DataFrame(
    {
        "unit_id": [
            "report2024-t",
            "report2024-1-h",
            "report2024-1.1-p1-s1",
            "report2024-1.1-p1-s2",
        ],
        "heading_path": [
            "",
            "一、闽宁协作的内在逻辑",
            "一、闽宁协作的内在逻辑 > （一）经济逻辑",
            "一、闽宁协作的内在逻辑 > （一）经济逻辑",
        ],
        "text": [
            "深化和拓展闽宁协作模式的路径研究",
            "闽宁协作的内在逻辑",
            "经济逻辑。",
            "推动了区域经济协调发展。",
        ],
    }
)


def fill(path, book, values: dict[str, list[int]] | None = None, coder: str | None = "colleague"):
    """Fill a blank sheet as a colleague would: unit i gets code j = 1 when (i + j) % 3 == 0."""
    wb = load_workbook(path)
    ws = wb[sheets.SHEET_CODING]
    for i in range(len(UNITS)):
        for j, _ in enumerate(book.ids):
            ws.cell(row=i + 2, column=4 + j, value=int((i + j) % 3 == 0))
    if coder:
        wb[sheets.SHEET_INSTRUCTIONS][sheets.SHEET_CODER_CELL] = coder
    wb.save(path)
    return wb


def test_sheet_round_trip(tmp_path, book):
    path = sheets.sheet_write(UNITS, book, tmp_path / "sheet.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == [sheets.SHEET_CODING, sheets.SHEET_CODEBOOK, sheets.SHEET_INSTRUCTIONS]
    ws = wb[sheets.SHEET_CODING]
    header = [c.value for c in ws[1]]
    assert header == ["unit_id", "heading_path", "text", *book.ids, "note"]
    assert ws["A3"].value == "report2024-1-h" and ws["D3"].value is None
    dv = ws.data_validations.dataValidation
    assert len(dv) == 1 and dv[0].formula1 == '"0,1"' and str(dv[0].sqref) == "D2:M5"
    cb_sheet = wb[sheets.SHEET_CODEBOOK]
    assert [c.value for c in cb_sheet[1]] == [
        "code",
        "dimension",
        "label_zh",
        "label_en",
        "definition",
        "report wording",
        "include",
        "exclusions",
        "anchors",
    ]
    assert [r[0].value for r in cb_sheet.iter_rows(min_row=2)] == book.ids
    # the dictionary's indicators are not shown to the second coder
    shown = "\n".join(str(c.value) for row in cb_sheet.iter_rows() for c in row if c.value)
    assert not {"keywords", "patterns", "rules", "indicators"} & {c.value for c in cb_sheet[1]}
    assert not any(r.describe() in shown for c in book.codes for r in c.rules)

    # blank sheet read back: every cell is empty, which is an error unless uncoded units are allowed
    with pytest.raises(sheets.SheetError, match=r"sheet 'coding', cell D2: empty cell"):
        sheets.sheet_read(path, book, UNITS)
    assert sheets.sheet_read(path, book, UNITS, uncoded="skip").empty

    fill(path, book)
    long = sheets.sheet_read(path, book, UNITS)
    assert list(long.columns) == ann.CODING_COLUMNS and len(long) == 4 * 10
    assert set(long["coder"]) == {"colleague"}
    assert long.set_index(["unit_id", "code"]).loc[("report2024-1-h", "cultural"), "value"] == 0
    assert long.set_index(["unit_id", "code"]).loc[("report2024-1-h", "social"), "value"] == 1
    # agreement with a coding of the same units
    reference = ann.codings_from_wide(ann.codings_wide(long, "colleague"), "annotator-A", book.ids)
    ag = agr.codings_agreement(pd.concat([reference, long]), n_bootstrap=0)
    assert (ag["percent_agreement"] == 1).all()
    assert sheets.sheet_read(path, book, UNITS, coder="X")["coder"].iloc[0] == "X"


def test_sheet_write_is_byte_reproducible(tmp_path, book):
    a = sheets.sheet_write(UNITS, book, tmp_path / "a.xlsx")
    b = sheets.sheet_write(UNITS, book, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    # nothing in the file depends on the clock (two writes in the same second would hide that)
    assert load_workbook(a).properties.modified == datetime.datetime(*tables.FIXED_TIME)
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {tables.FIXED_TIME}


def edited(tmp_path, book, edit) -> object:
    path = sheets.sheet_write(UNITS, book, tmp_path / "sheet.xlsx")
    wb = fill(path, book)
    edit(wb[sheets.SHEET_CODING])
    wb.save(path)
    return path


@pytest.mark.parametrize(
    "edit, cell, reason",
    [
        (lambda ws: ws.delete_cols(5), None, "no column 'political' in the header row"),
        (
            lambda ws: ws.cell(row=1, column=4, value="econ"),
            "D1",
            "column 'econ' is not a code of the codebook (renamed?); "
            "missing code column(s): economic",
        ),
        (lambda ws: ws.cell(row=5, column=4, value=2), "D5", "value '2' is not 0 or 1"),
        (lambda ws: ws.cell(row=3, column=6, value="yes"), "F3", "value 'yes' is not 0 or 1"),
        (
            lambda ws: setattr(ws["M4"], "value", None),
            "M4",
            "empty cell for code 'social_participation'",
        ),
        (
            lambda ws: ws.cell(row=3, column=1, value="report2024-9-h"),
            "A3",
            "unknown unit id 'report2024-9-h'",
        ),
        (
            lambda ws: ws.cell(row=4, column=1, value="report2024-1-h"),
            "A4",
            "unit id 'report2024-1-h' appears twice (first in A3)",
        ),
        (
            lambda ws: ws.cell(row=1, column=6, value="economic"),
            "F1",
            "column 'economic' appears twice",
        ),
        (lambda ws: ws.delete_rows(5), None, "1 unit(s) missing from the sheet"),
    ],
)
def test_sheet_read_names_the_cell(tmp_path, book, edit, cell, reason):
    path = edited(tmp_path, book, edit)
    with pytest.raises(sheets.SheetError) as err:
        sheets.sheet_read(path, book, UNITS)
    assert err.value.sheet == sheets.SHEET_CODING and err.value.cell == cell
    assert reason in str(err.value)
    if cell:
        assert f"sheet 'coding', cell {cell}: " in str(err.value)


def test_sheet_read_uncoded_units_only_when_allowed(tmp_path, book):
    def blank_row(ws):
        for col in range(4, 14):
            ws.cell(row=3, column=col).value = None

    path = edited(tmp_path, book, blank_row)
    long = sheets.sheet_read(path, book, UNITS, uncoded="skip")
    assert "report2024-1-h" not in set(long["unit_id"]) and long["unit_id"].nunique() == 3
    with pytest.raises(sheets.SheetError, match="cell D3: empty cell"):
        sheets.sheet_read(path, book, UNITS)

    def half_row(ws):
        ws["E3"].value = None

    path = edited(tmp_path, book, half_row)
    with pytest.raises(sheets.SheetError, match="cell E3: empty cell"):
        sheets.sheet_read(path, book, UNITS, uncoded="skip")


def test_sheet_read_accepts_numbers_and_text_digits(tmp_path, book):
    def texts(ws):
        ws.cell(row=2, column=4, value="1")
        ws.cell(row=2, column=5, value=0.0)

    long = sheets.sheet_read(edited(tmp_path, book, texts), book, UNITS).set_index(
        ["unit_id", "code"]
    )["value"]
    assert long[("report2024-t", "economic")] == 1 and long[("report2024-t", "political")] == 0


# --------------------------------------------------------------------------------------------------
# Notebook 05's parameters (that it defines no function: tests/test_notebooks.py, every notebook)
# --------------------------------------------------------------------------------------------------


def test_reliability_notebook_declares_its_parameters():
    nb = json.loads((paths.NOTEBOOKS / "05_coding_reliability.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "minning-text"
    params = next(
        "".join(c["source"]) for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])
    )
    for name in (
        "processed_dir",
        "tables_dir",
        "codebook_path",
        "annotations",
        "reference_coder",
        "split",
        "second_coder_sheet",
        "agreement_bootstrap",
        "random_seed",
        "kappa_target",
        "kappa_mean_target",
    ):
        assert f"\n{name} = " in "\n" + params, name


def test_sentence_codings_lift_to_paragraphs():
    """A paragraph has a code when one of its sentences has it; splits that disagree become
    'mixed'."""
    sentences = pd.DataFrame(
        {
            "unit_id": ["d-1-h", "d-1-p1-s1", "d-1-p1-s2", "d-1-p2-s1"],
            "kind": ["heading", "text", "text", "text"],
            "parent_id": ["", "d-1-p1", "d-1-p1", "d-1-p2"],
        }
    )
    codings = pd.DataFrame(
        {
            "coder": ["A"] * 4,
            "unit_id": ["d-1-h", "d-1-p1-s1", "d-1-p1-s2", "d-1-p2-s1"],
            "code": ["pairing"] * 4,
            "value": [0, 0, 1, 0],
            "split": ["dev", "dev", "holdout", "holdout"],
        }
    )
    lifted = ann.codings_to_paragraphs(codings, sentences).set_index("unit_id")
    assert lifted["value"].to_dict() == {"d-1-h": 0, "d-1-p1": 1, "d-1-p2": 0}
    assert lifted["split"].to_dict() == {"d-1-h": "dev", "d-1-p1": "mixed", "d-1-p2": "holdout"}
    with pytest.raises(ValueError, match="not sentence units"):
        ann.codings_to_paragraphs(codings.assign(unit_id="x"), sentences)


# --------------------------------------------------------------------------------------------------
# Vectorised and cluster bootstrap
# --------------------------------------------------------------------------------------------------


def _random_matrix(rng, n_coders: int, n_units: int, missing: float, flip: float) -> np.ndarray:
    truth = (rng.random(n_units) < 0.3).astype(float)
    m = np.array([np.where(rng.random(n_units) < flip, 1 - truth, truth) for _ in range(n_coders)])
    m[rng.random(m.shape) < missing] = np.nan
    return m


@pytest.mark.parametrize(
    "n_coders, missing, reference",
    [(2, 0.0, True), (2, 0.1, True), (3, 0.15, False), (2, 0.0, False)],
)
def test_vectorised_statistics_equal_the_loop_on_every_resample(n_coders, missing, reference):
    """Each resample's statistics, computed at once from weights, equal the resampled matrix's."""
    rng = np.random.default_rng(11)
    for trial in range(20):
        m = _random_matrix(rng, n_coders, 25, missing, flip=0.2 if trial % 4 else 0.0)
        weights = rel.weights_draw(m.shape[1], 30, np.random.default_rng(trial))
        fast = rel._weighted_statistics(m, weights, reference)
        idx = np.random.default_rng(trial).integers(0, m.shape[1], size=(30, m.shape[1]))
        for b in range(30):
            slow = rel.code_statistics(m[:, idx[b]], reference)
            expected = np.array([slow[name] for name in rel.STATISTICS])
            np.testing.assert_allclose(fast[b], expected, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_cluster_bootstrap_resamples_whole_documents():
    """Document d1 agrees on every unit, d2 on none: whole-document resamples agree 0, ½ or 1."""
    a = [1, 0, 1, 0, 1, 0, 1, 0]
    b = a[:4] + [1 - v for v in a[4:]]
    long = codings({"A": a, "B": b})
    docs = {f"u{i}": ("d1" if i < 4 else "d2") for i in range(8)}
    by_doc = agr.codings_agreement(long, n_bootstrap=500, seed=3, clusters=docs, min_clusters=2)
    by_unit = agr.codings_agreement(long, n_bootstrap=500, seed=3)
    r = one(by_doc)
    assert r.percent_agreement == 0.5 == one(by_unit).percent_agreement  # pooled point estimate
    assert {r.percent_agreement_ci_low, r.percent_agreement_ci_high} <= {0.0, 0.5, 1.0}
    assert (r.percent_agreement_ci_low, r.percent_agreement_ci_high) == (0.0, 1.0)
    u = one(by_unit)
    assert 0.0 < u.percent_agreement_ci_low < 0.5 < u.percent_agreement_ci_high < 1.0
    assert "bootstrap over 2 documents" in r.note
    # by default two documents give no interval, and the note says why
    default = one(agr.codings_agreement(long, n_bootstrap=500, seed=3, clusters=docs))
    assert default.percent_agreement == 0.5
    assert math.isnan(default.percent_agreement_ci_low) and math.isnan(default.cohen_kappa_ci_high)
    assert "no interval" in default.note and "fewer than 5 documents" in default.note
    with pytest.raises(KeyError, match="no cluster"):
        agr.codings_agreement(long, n_bootstrap=10, clusters={"u0": "d1"})


def test_many_resamples_are_reproducible_with_the_seed():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 2, 120).tolist()
    b = [v if rng.random() < 0.85 else 1 - v for v in a]
    long = codings({"A": a, "B": b})
    first = agr.codings_agreement(long, reference="A", n_bootstrap=9999, seed=1)
    again = agr.codings_agreement(long, reference="A", n_bootstrap=9999, seed=1)
    pd.testing.assert_frame_equal(first, again)
    r = one(first)
    assert r.cohen_kappa_ci_low < r.cohen_kappa < r.cohen_kappa_ci_high


@pytest.mark.parametrize("n_coders, clustered", [(2, False), (2, True), (3, True)])
def test_resampled_statistics_are_those_of_the_unit_weights(n_coders, clustered):
    """Chunked draws and per-document sums give each resample the statistics of its unit weights.

    The reference is the resample spread over the units (``weights_draw`` with the clusters), the
    way the bootstrap was computed before it was bounded in memory; chunks of 7 weights or of all.
    """
    rng = np.random.default_rng(5)
    data = np.stack([_random_matrix(rng, n_coders, 40, 0.1, flip=0.2) for _ in range(3)])
    clusters = np.repeat(np.arange(8), 5) if clustered else None
    weights = rel.weights_draw(40, 50, np.random.default_rng(9), clusters)
    expected = np.stack([rel._weighted_statistics(m, weights, False) for m in data], axis=1)
    for max_cells in (7, 10**6):
        got = rel.statistics_resampled(
            data, False, 50, np.random.default_rng(9), clusters, max_cells=max_cells
        )
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0, equal_nan=True)


def test_agreement_by_group_equals_one_agreement_per_group():
    """codings_agreement_by is codings_agreement on each group's units, in order of appearance,
    also for a document the reference coder never coded and a unit only one coder coded."""
    rng = np.random.default_rng(2)
    ids = [f"u{i}" for i in range(30)]
    rows = [
        (coder, u, code, int(rng.random() < 0.4))
        for coder in ("A", "B", "C")
        for u in ids
        for code in ("x", "y")
        if not (coder == "A" and (u == "u2" or int(u[1:]) % 4 == 3))  # A leaves out u2 and d3
    ]
    long = pd.DataFrame(rows, columns=ann.CODING_COLUMNS)
    docs = pd.Series([f"d{int(u[1:]) % 4}" for u in ids], index=ids)
    for options in (
        {"coders": ["A", "B"], "reference": "A"},
        {"clusters": docs, "min_clusters": 2},
    ):
        by = agr.codings_agreement_by(long, docs, n_bootstrap=200, seed=4, **options)
        expected = pd.concat(
            [
                agr.codings_agreement(
                    long, units=list(docs.index[docs == d]), n_bootstrap=200, seed=4, **options
                ).assign(group=d)
                for d in pd.unique(docs)
            ],
            ignore_index=True,
        )
        expected = expected[["group", *[c for c in expected.columns if c != "group"]]]
        pd.testing.assert_frame_equal(by, expected)


def test_intervals_of_many_columns_equal_one_percentile_per_column():
    rng = np.random.default_rng(3)
    x = rng.random((999, 12))
    x[rng.random(x.shape) < 0.05 * (np.arange(12) % 3)] = np.nan  # a third of the columns complete
    x[:, 5] = np.nan
    lo, hi, used = agr._intervals(x, 2.5)
    for j in range(12):
        ok = x[~np.isnan(x[:, j]), j]
        assert used[j] == len(ok)
        if len(ok):
            assert (lo[j], hi[j]) == tuple(np.percentile(ok, [2.5, 97.5]))
        else:
            assert np.isnan(lo[j]) and np.isnan(hi[j])


def test_document_the_reference_never_coded_has_no_interval():
    """Only the dictionary coded d2: no unit to compare, so no statistic and no interval (Holsti's
    CR of the resamples used to be 0 against an undefined point estimate)."""
    rows = [("A", f"u{i}", "x", i % 2) for i in range(6)]
    rows += [("dictionary", f"u{i}", "x", i % 3 == 0) for i in range(12)]
    long = pd.DataFrame(rows, columns=ann.CODING_COLUMNS).astype({"value": "int64"})
    docs = pd.Series(["d1"] * 6 + ["d2"] * 6, index=[f"u{i}" for i in range(12)])
    by = agr.codings_agreement_by(
        long, docs, coders=["A", "dictionary"], reference="A", n_bootstrap=100
    ).set_index(["group", "code"])
    d1, d2 = by.loc[("d1", "x")], by.loc[("d2", "x")]
    assert d1["holsti_cr"] == 0.5 and d1["holsti_cr_ci_low"] <= 0.5 <= d1["holsti_cr_ci_high"]
    assert d2["n_units"] == 0
    assert d2[[c for c in by.columns if c.endswith(("_ci_low", "_ci_high"))]].isna().all()
