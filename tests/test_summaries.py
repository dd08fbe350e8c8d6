"""Statistical summaries: checked against hand computations on small tables, not themselves."""

from __future__ import annotations

import hashlib
import itertools
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers import plots, plots_summaries, summaries, summaries_crosstab
from helpers.codebook import Code, Codebook

LABELS = {
    "l1": "经济逻辑",
    "l2": "政治逻辑",
    "l3": "社会逻辑",
    "m1": "联席推进",
    "m2": "结对帮扶",
    "m3": "产业带动",
}


def _codebook(codes: list[str]) -> Codebook:
    """A codebook with codes l* in dimension logic and m* in dimension mechanism."""
    made = tuple(
        Code(
            id=c,
            dimension="logic" if c.startswith("l") else "mechanism",
            label_zh=LABELS[c],
            label_en=c,
            definition="",
            keywords=(c,),
            patterns=(),
            rules=(),
        )
        for c in codes
    )
    return Codebook(
        path=Path("test.yaml"),
        title="t",
        version="1",
        source="",
        unit="sentence",
        dimensions={"logic": {"label_zh": "五重逻辑"}, "mechanism": {"label_zh": "五项机制"}},
        terms={},
        codes=made,
    )


def _wide(
    units: list[tuple[str, set[str]]], codes: list[str], *, kinds=None, sections=None, texts=None
) -> pd.DataFrame:
    """A unit × code table like notebook 03's coding_units.csv, from (doc_id, {codes}) per unit."""
    rows = []
    for i, (doc, coded) in enumerate(units):
        rows.append(
            {
                "doc_id": doc,
                "unit_id": f"{doc}-{i}",
                "level": "sentence",
                "kind": kinds[i] if kinds else "text",
                "heading_path": "",
                "section": sections[i] if sections else "一、甲",
                "text": texts[i] if texts else "字" * 10,
                **{c: int(c in coded) for c in codes},
            }
        )
    return pd.DataFrame(rows)


def _table_units(table: dict[str, list[int]], codes: list[str]) -> list[tuple[str, set[str]]]:
    """Single-code units reproducing a document × code table: table[doc][j] units coded codes[j]."""
    return [
        (doc, {c}) for doc, counts in table.items() for c, n in zip(codes, counts) for _ in range(n)
    ]


# --------------------------------------------------------------------------------------------------
# chi-square, Cramér's V, residuals
# --------------------------------------------------------------------------------------------------

CODES3 = ["l1", "l2", "m1"]
#      l1  l2  m1
# A    12   5   3   (20)
# B     4   9   7   (20)
#      16  14  10   N = 40
TABLE = {"A": [12, 5, 3], "B": [4, 9, 7]}


def test_chi_square_cramers_v_and_residuals_against_a_hand_computation():
    wide = _wide(_table_units(TABLE, CODES3), CODES3)
    book = _codebook(CODES3)
    assert summaries_crosstab.codes_crosstab(wide, book).to_numpy().tolist() == [
        [12, 5, 3],
        [4, 9, 7],
    ]

    # expected = row total × column total / N: every row total is 20, so E = (8, 7, 5) in both rows
    chi2 = (
        (12 - 8) ** 2 / 8
        + (5 - 7) ** 2 / 7
        + (3 - 5) ** 2 / 5
        + (4 - 8) ** 2 / 8
        + (9 - 7) ** 2 / 7
        + (7 - 5) ** 2 / 5
    )
    assert chi2 == pytest.approx(6.742857, rel=1e-6)
    p = math.exp(-chi2 / 2)  # the chi-square survival function for 2 degrees of freedom
    v = math.sqrt(chi2 / (40 * (2 - 1)))
    res = summaries_crosstab.codes_independence(wide, book, n_permutations=0).iloc[0]
    assert res["chi2"] == pytest.approx(chi2)
    assert res["df"] == 2
    assert res["p_chi2"] == pytest.approx(p)
    assert res["cramers_v"] == pytest.approx(v) and v == pytest.approx(0.410574, rel=1e-5)
    assert res["min_expected"] == pytest.approx(5)
    # every E ≥ 5 and every unit has one code: the asymptotic test is the one reported
    assert res["test"] == "chi-square (asymptotic)" and res["p_value"] == pytest.approx(p)

    # Haberman: (O − E) / sqrt(E (1 − row/N) (1 − col/N)); row/N = 1/2, col/N = 16/40, 14/40, 10/40
    hand = {
        ("A", "l1"): (12 - 8) / math.sqrt(8 * 0.5 * 0.6),
        ("A", "l2"): (5 - 7) / math.sqrt(7 * 0.5 * 0.65),
        ("A", "m1"): (3 - 5) / math.sqrt(5 * 0.5 * 0.75),
    }
    hand.update({("B", c): -r for (_, c), r in list(hand.items())})
    resid = summaries_crosstab.codes_residuals(wide, book)
    got = {(r.doc_id, r.code): r.residual_adjusted for r in resid.itertuples()}
    assert got == pytest.approx(hand)
    assert hand[("A", "l1")] == pytest.approx(2.581989, rel=1e-6)
    assert dict(zip(zip(resid["doc_id"], resid["code"]), resid["flag"]))[("A", "l1")] == "+"
    assert dict(zip(zip(resid["doc_id"], resid["code"]), resid["expected"]))[
        ("B", "l2")
    ] == pytest.approx(7)


def test_residuals_adjusted_on_an_unbalanced_table():
    # O = [[10, 0], [5, 5]]: N = 20, rows 10/10, columns 15/5, E = [[7.5, 2.5], [7.5, 2.5]]
    r = summaries_crosstab.residuals_adjusted(np.array([[10, 0], [5, 5]]))
    cell = (10 - 7.5) / math.sqrt(7.5 * (1 - 10 / 20) * (1 - 15 / 20))
    assert r[0, 0] == pytest.approx(cell) and r[1, 1] == pytest.approx(cell)
    assert r[0, 1] == pytest.approx(-cell) and r[1, 0] == pytest.approx(-cell)


# --------------------------------------------------------------------------------------------------
# small expected counts: Fisher and the permutation test
# --------------------------------------------------------------------------------------------------

CODES2 = ["l1", "m1"]


def test_small_2x2_of_single_code_units_reports_fishers_exact_test():
    wide = _wide(_table_units({"A": [4, 1], "B": [1, 4]}, CODES2), CODES2)
    # margins 5/5 and 5/5: P(a = k) = C(5,k) C(5,5−k) / C(10,5) = (1, 25, 100, 100, 25, 1) / 252; a
    # = 4 observed; two-sided p sums the tables no more probable than it: k = 0, 1, 4, 5
    fisher_by_hand = (1 + 25 + 25 + 1) / 252
    res = summaries_crosstab.codes_independence(
        wide, _codebook(CODES2), n_permutations=9999, random_seed=7
    ).iloc[0]
    assert res["cells_expected_lt5"] == 4
    assert res["test"] == "Fisher's exact"
    assert res["p_fisher"] == pytest.approx(fisher_by_hand)
    assert res["p_value"] == pytest.approx(fisher_by_hand)
    assert "expected counts < 5" in res["note"]
    # the whole-unit permutation test gives the same answer up to Monte-Carlo error (SE ≈ 0.004)
    assert 0 <= res["p_permutation"] <= 1
    assert abs(res["p_permutation"] - fisher_by_hand) < 0.02
    # p = (b + 1) / (n + 1)
    b = res["p_permutation"] * 10000 - 1
    assert b == pytest.approx(round(b), abs=1e-6) and b >= 0
    again = summaries_crosstab.codes_independence(
        wide, _codebook(CODES2), n_permutations=9999, random_seed=7
    ).iloc[0]
    assert again["p_permutation"] == res["p_permutation"]


def test_multi_code_units_force_the_permutation_test_and_it_matches_full_enumeration():
    units = [
        ("A", {"l1", "m1"}),
        ("A", {"l1"}),
        ("A", {"l1", "m1"}),
        ("B", {"m1"}),
        ("B", {"l1", "m1"}),
        ("B", {"m1"}),
    ]
    wide = _wide(units, CODES2)
    res = summaries_crosstab.codes_independence(
        wide, _codebook(CODES2), n_permutations=999, random_seed=1
    ).iloc[0]
    assert res["test"] == "Monte-Carlo permutation of whole units"
    assert "several" in res["note"] and res["multi_label_units"] == 3
    assert res["p_value"] == res["p_permutation"]

    # 6! = 720 ≤ 999, so the p-value is exact: enumerate every relabelling of the units by hand
    x = wide[CODES2].to_numpy()
    labels = list(wide["doc_id"])

    def chi2(labs):
        t = np.array(
            [
                [x[[i for i, lab in enumerate(labs) if lab == d]].sum(axis=0)[j] for j in range(2)]
                for d in ("A", "B")
            ]
        )
        return stats.chi2_contingency(t, correction=False).statistic

    observed = chi2(labels)
    perms = list(itertools.permutations(labels))
    p_exact = sum(chi2(p) >= observed - 1e-9 for p in perms) / len(perms)
    assert res["p_permutation"] == pytest.approx(p_exact)


def test_permutation_p_value_is_reproducible_and_depends_on_the_seed():
    rng = np.random.default_rng(0)
    units = [
        (d, {c for c in ("l1", "l2", "m1") if rng.random() < (0.6 if d == "A" else 0.3)})
        for d in ("A",) * 12 + ("B",) * 12
    ]
    wide = _wide(units, ["l1", "l2", "m1"])
    book = _codebook(["l1", "l2", "m1"])
    p1 = summaries_crosstab.codes_independence(wide, book, n_permutations=499, random_seed=3)[
        "p_permutation"
    ].iloc[0]
    p2 = summaries_crosstab.codes_independence(wide, book, n_permutations=499, random_seed=3)[
        "p_permutation"
    ].iloc[0]
    p3 = summaries_crosstab.codes_independence(wide, book, n_permutations=499, random_seed=4)[
        "p_permutation"
    ].iloc[0]
    assert p1 == p2 and 1 / 500 <= p1 <= 1
    assert abs(p1 - p3) < 0.1


def test_one_test_per_code_picks_fisher_when_expected_counts_are_small():
    units = (
        [("A", {"l1"})] * 3 + [("A", set())] * 17 + [("B", {"l1", "m1"})] * 9 + [("B", {"m1"})] * 11
    )
    wide = _wide(units, CODES2)
    out = summaries_crosstab.codes_document_tests(wide, _codebook(CODES2)).set_index("code")
    # l1: A 3/20, B 9/20 → expected coded 6 and 6, not coded 14 and 14: chi-square
    assert out.loc["l1", "test"] == "chi-square (asymptotic)"
    chi2 = 2 * ((3 - 6) ** 2 / 6 + (17 - 14) ** 2 / 14)
    assert out.loc["l1", "chi2"] == pytest.approx(chi2)
    assert out.loc["l1", "p_value"] == pytest.approx(stats.chi2.sf(chi2, 1))
    # m1: A 0/20, B 20/20 → expected 10 each: chi-square too, with a huge statistic
    assert out.loc["m1", "coded_A"] == 0 and out.loc["m1", "units_B"] == 20
    small = _wide([("A", {"l1"})] * 2 + [("A", set())] * 3 + [("B", set())] * 5, CODES2)
    s = summaries_crosstab.codes_document_tests(small, _codebook(CODES2)).set_index("code")
    # l1: [[2, 3], [0, 5]]: P(a=2) = C(2,2)C(8,3)/C(10,5) = 56/252, the same for a=0; p = 112/252
    assert s.loc["l1", "test"] == "Fisher's exact"
    assert s.loc["l1", "p_value"] == pytest.approx(112 / 252)
    assert s.loc["m1", "test"] == "none"  # never coded: nothing to test
    assert (out["p_bh"] >= out["p_value"] - 1e-12).all()


# --------------------------------------------------------------------------------------------------
# frequencies, bootstrap
# --------------------------------------------------------------------------------------------------


def test_frequencies_by_document_and_section_with_density_and_unit_ids():
    units = [
        ("A", set()),
        ("A", {"l1"}),
        ("A", {"l1", "m1"}),
        ("A", {"m1"}),
        ("B", {"l1"}),
        ("B", set()),
    ]
    kinds = ["title", "text", "heading", "text", "text", "text"]
    sections = ["", "", "一、甲", "一、甲", "", "二、乙"]
    texts = ["标" * 10, "字" * 20, "一、甲" + "字" * 7, "字" * 30, "字" * 50, "字" * 50]
    wide = _wide(units, CODES2, kinds=kinds, sections=sections, texts=texts)
    book = _codebook(CODES2)

    doc = summaries.codes_frequency(wide, book, by="document").set_index(["doc_id", "code"])
    assert doc.loc[("A", "l1"), "units_coded"] == 2 and doc.loc[("A", "l1"), "units"] == 4
    assert doc.loc[("A", "l1"), "share"] == pytest.approx(0.5)
    assert doc.loc[("A", "l1"), "n_chars"] == 70
    assert doc.loc[("A", "l1"), "density"] == pytest.approx(1000 * 2 / 70)
    assert doc.loc[("A", "l1"), "unit_ids"] == "A-1 A-2"
    assert doc.loc[("B", "m1"), "unit_ids"] == "" and doc.loc[("B", "m1"), "share"] == 0

    sec = summaries.codes_frequency(wide, book, by="section").set_index(
        ["doc_id", "section", "code"]
    )
    assert sec.loc[("A", summaries.SECTION_TITLE, "l1"), "units"] == 1
    assert sec.loc[("A", summaries.SECTION_INTRO, "l1"), "unit_ids"] == "A-1"
    assert sec.loc[("A", "一、甲", "m1"), "units_coded"] == 2
    assert sec.loc[("B", summaries.SECTION_INTRO, "l1"), "share"] == 1.0

    corpus = summaries.codes_frequency(wide, book, by="corpus").set_index("code")
    assert corpus.loc["l1", "units_coded"] == 3 and corpus.loc["l1", "units"] == 6
    assert corpus.loc["l1", "doc_id"] == summaries.CORPUS_LABEL

    # body text only: the title and the heading drop out
    body = summaries.codes_frequency(wide, book, by="document", kinds=["text"]).set_index(
        ["doc_id", "code"]
    )
    assert body.loc[("A", "l1"), "units"] == 2 and body.loc[("A", "l1"), "unit_ids"] == "A-1"
    with pytest.raises(ValueError, match="unknown unit kind"):
        summaries.codes_frequency(wide, book, kinds=["body"])


def test_bootstrap_interval_is_reproducible_and_contains_the_share():
    units = [("A", {"l1"})] * 6 + [("A", set())] * 14 + [("B", {"l1"})] * 9 + [("B", set())] * 11
    wide = _wide(units, CODES2)
    book = _codebook(CODES2)
    args = dict(n_bootstrap=2000, random_seed=11)
    a = summaries.codes_frequency(wide, book, by="document", **args)
    b = summaries.codes_frequency(wide, book, by="document", **args)
    pd.testing.assert_frame_equal(a, b)
    for r in a.itertuples():
        assert 0 <= r.ci_low <= r.share <= r.ci_high <= 1
    l1 = a.set_index(["doc_id", "code"]).loc[("A", "l1")]
    # share 0.3 of 20 units: the interval is wide but not absurd (normal approximation ±0.2)
    assert 0.05 <= l1["ci_low"] < 0.3 < l1["ci_high"] <= 0.55
    assert (l1["ci_low"], l1["ci_high"]) != (0.3, 0.3)
    m1 = a.set_index(["doc_id", "code"]).loc[("A", "m1")]
    assert (m1["ci_low"], m1["ci_high"]) == (0.0, 0.0)  # never coded: nothing varies
    corpus = summaries.codes_frequency(wide, book, by="corpus", **args).set_index("code").loc["l1"]
    assert corpus["ci_low"] < 15 / 40 < corpus["ci_high"]
    # with 20 units the bounds sit on a 0.05 grid, so the seed shows only on a larger sample
    x = (np.arange(997) % 3 == 0).astype(int)
    ci = [summaries.share_bootstrap([x], n_bootstrap=2000, rng=seed) for seed in (1, 1, 2)]
    assert ci[0] == ci[1] and ci[0] != ci[2]


def test_bootstrap_of_a_single_unit_is_its_own_share():
    assert summaries.share_bootstrap([np.array([1])], n_bootstrap=100) == (1.0, 1.0)
    low, high = summaries.share_bootstrap(
        [np.array([1]), np.array([0, 0, 1, 1])], n_bootstrap=500, rng=1
    )
    assert 1 / 5 <= low <= 3 / 5 <= high <= 1


def test_bootstrap_of_all_codes_at_once_is_stable_when_a_code_is_added_and_chunked():
    x = (np.random.default_rng(3).random((57, 4)) < 0.3).astype(int)
    strata = [x[:30], x[30:]]
    lows, highs = summaries.shares_bootstrap(strata, n_bootstrap=999, rng=5)
    # the draws depend on the units only: the first two codes get the same interval without the
    # others
    two = summaries.shares_bootstrap([s[:, :2] for s in strata], n_bootstrap=999, rng=5)
    assert np.array_equal(two[0], lows[:2]) and np.array_equal(two[1], highs[:2])
    # bounding memory (tiny chunks) does not change the draws
    small = summaries.shares_bootstrap(strata, n_bootstrap=999, rng=5, max_cells=100)
    assert np.array_equal(small[0], lows) and np.array_equal(small[1], highs)


def _shares_bootstrap_reference(strata, n_bootstrap, confidence_level, rng):
    """The obvious computation: each resample's draws counted per unit, counts @ codes."""
    rng = np.random.default_rng(rng)
    arrays = [np.asarray(a, dtype=float).reshape(len(a), -1) for a in strata if len(a)]
    coded = np.zeros((n_bootstrap, arrays[0].shape[1]))
    for a in arrays:
        if len(a) == 1:
            coded += a[0]
            continue
        for r in range(n_bootstrap):
            coded[r] += np.bincount(rng.integers(0, len(a), len(a)), minlength=len(a)) @ a
    alpha = (1 - confidence_level) / 2
    total = sum(len(a) for a in arrays)
    return np.quantile(coded / total, [alpha, 1 - alpha], axis=0)


def test_bootstrap_packed_counts_give_the_floats_of_the_obvious_computation():
    """Packed counts and quantiles read from histograms: the same draws, the same floats."""
    g = np.random.default_rng(12)
    for trial in range(40):
        n_codes = int(g.integers(1, 14))
        sizes = g.integers(0, 150, int(g.integers(1, 5)))  # 64+ units: codes in two words
        strata = [(g.random((int(n), n_codes)) < g.random()).astype(int) for n in sizes]
        strata.append(np.ones((1, n_codes), dtype=int))  # one unit: resamples to itself
        level = float(g.choice([0.95, 0.9, 0.5]))
        ref = _shares_bootstrap_reference(strata, 97, level, trial)
        for max_cells in (2_000_000, 60):
            ours = summaries.shares_bootstrap(
                strata, n_bootstrap=97, confidence_level=level, rng=trial, max_cells=max_cells
            )
            assert np.array_equal(ours[0], ref[0]) and np.array_equal(ours[1], ref[1])
    with pytest.raises(ValueError, match="0/1"):
        summaries.shares_bootstrap([np.array([[2], [0]])], n_bootstrap=10)


def test_frequency_of_every_group_at_once_is_each_group_on_its_own():
    units = [("A", {"l1"}), ("A", {"l1", "m1"}), ("A", set()), ("B", {"m1"}), ("B", set())]
    wide = _wide(units * 3, CODES2)
    wide["section"] = ["一", "二", "一", "", "三"] * 3
    book = _codebook(CODES2)
    got = summaries.codes_frequency(wide, book, by="section", n_bootstrap=300, random_seed=4)
    u = summaries.units_select(wide)
    i = 0
    for (doc, section), g in u.groupby(["doc_id", "section"], sort=False):
        lows, highs = summaries.shares_bootstrap(
            [g[["l1", "m1"]].to_numpy()],
            n_bootstrap=300,
            rng=summaries._seed(4, "section", doc, section),
        )
        for j, code in enumerate(["l1", "m1"]):
            row = got.iloc[i]
            coded = g[code].to_numpy() == 1
            assert (row["doc_id"], row["section"], row["code"]) == (doc, section, code)
            assert row["units_coded"] == coded.sum() and row["units"] == len(g)
            assert row["unit_ids"] == " ".join(g.loc[coded, "unit_id"])
            assert (row["ci_low"], row["ci_high"]) == (lows[j], highs[j])
            i += 1
    assert i == len(got)


def test_bootstrap_interval_agrees_with_scipy_stratified_bootstrap():
    """Same method as scipy.stats.bootstrap (percentile, strata apart): within Monte-Carlo error."""
    rng = np.random.default_rng(8)
    a, b = (rng.random(40) < 0.25).astype(float), (rng.random(60) < 0.5).astype(float)
    ours = summaries.share_bootstrap([a, b], n_bootstrap=20000, rng=1)
    ref = stats.bootstrap(
        (a, b),
        lambda x, y, axis=-1: (x.sum(axis=axis) + y.sum(axis=axis)) / 100,
        n_resamples=20000,
        method="percentile",
        vectorized=True,
        rng=2,
    ).confidence_interval
    assert ours[0] == pytest.approx(ref.low, abs=0.011) and ours[1] == pytest.approx(
        ref.high, abs=0.011
    )
    share = (a.sum() + b.sum()) / 100
    assert ours[0] < share < ours[1]


@pytest.mark.parametrize("method", ["patefield", "shuffle"])
def test_whole_unit_permutation_agrees_with_scipy_permutation_test(method):
    """Random pattern × document tables (Patefield) and shuffled labels (bincount) are distributed
    as scipy's shuffled unit labels."""
    rng = np.random.default_rng(4)
    labels = np.repeat([0, 1, 2], [14, 10, 12])
    probs = np.array([[0.6, 0.3, 0.2], [0.3, 0.5, 0.2], [0.2, 0.3, 0.6]])
    x = (rng.random((36, 3)) < probs[labels]).astype(float)
    x[x.sum(axis=1) == 0, 0] = 1
    kw = {"n_permutations": 20000, "method": method}
    chi2, p = summaries_crosstab.permutation_chi2(labels, x, random_seed=1, **kw)
    groups = np.arange(3)

    def stat(lab, axis=-1):
        onehot = (lab[..., :, None] == groups).astype(float)
        return summaries_crosstab._chi2_batch(np.swapaxes(onehot, -1, -2) @ x)

    ref = stats.permutation_test(
        (labels,),
        stat,
        permutation_type="pairings",
        vectorized=True,
        n_resamples=20000,
        alternative="greater",
        rng=np.random.default_rng(2),
    )
    assert chi2 == pytest.approx(ref.statistic)
    se = math.sqrt(ref.pvalue * (1 - ref.pvalue) / 20000)
    assert abs(p - ref.pvalue) < 5 * math.sqrt(2) * se + 1e-4
    assert 0.0001 < p < 0.5  # a real difference between the documents, not a degenerate test
    # bounding memory does not change the result; the seed does, a little
    assert summaries_crosstab.permutation_chi2(labels, x, random_seed=1, max_cells=50, **kw)[1] == p
    assert summaries_crosstab.permutation_chi2(labels, x, random_seed=2, **kw)[1] != p


def test_whole_unit_permutation_chooses_the_cheaper_draw_and_keeps_memory_bounded():
    """Many documents: labels are shuffled (cost ∝ units), and the result equals the explicit
    method's; few documents: Patefield tables, as before (the two-document tables unchanged)."""
    rng = np.random.default_rng(11)
    labels = np.repeat(np.arange(40), 6)  # 40 documents of 6 units
    x = (rng.random((240, 5)) < 0.3).astype(float)
    x[x.sum(axis=1) == 0, 0] = 1
    auto = summaries_crosstab.permutation_chi2(labels, x, n_permutations=999, random_seed=3)
    assert auto == summaries_crosstab.permutation_chi2(
        labels, x, n_permutations=999, random_seed=3, method="shuffle"
    )
    few = labels[:24] % 2, x[:24]
    assert summaries_crosstab.permutation_chi2(*few, n_permutations=999, random_seed=3) == (
        summaries_crosstab.permutation_chi2(
            *few, n_permutations=999, random_seed=3, method="patefield"
        )
    )
    with pytest.raises(ValueError, match="method"):
        summaries_crosstab.permutation_chi2(labels, x, method="exact")


def test_fisher_freeman_halton_monte_carlo_matches_full_enumeration():
    """3 × 2 table, small enough to enumerate every table with its margins and its probability."""
    table = np.array([[4, 2], [1, 6], [0, 5]])
    sizes, k = table.sum(axis=1), table[:, 0].sum()

    def prob(coded):
        return math.prod(math.comb(int(n), int(c)) for n, c in zip(sizes, coded)) / math.comb(
            int(sizes.sum()), int(k)
        )

    observed = prob(table[:, 0])
    tables = [c for c in itertools.product(*(range(n + 1) for n in sizes)) if sum(c) == k]
    p_exact = sum(prob(c) for c in tables if prob(c) <= observed * (1 + 1e-9))
    p_mc = summaries_crosstab.fisher_freeman_halton_mc(table, n_permutations=20000, rng=3)
    assert abs(p_mc - p_exact) < 5 * math.sqrt(p_exact * (1 - p_exact) / 20000)
    assert (
        summaries_crosstab.fisher_freeman_halton_mc(
            table, n_permutations=20000, rng=3, max_cells=30
        )
        == p_mc
    )


# --------------------------------------------------------------------------------------------------
# co-occurrence and sections
# --------------------------------------------------------------------------------------------------

CODES4 = ["l1", "l2", "m1", "m2"]


def test_cooccurrence_counts_jaccard_and_unit_ids_on_a_tiny_table():
    units = [
        ("A", {"l1", "m1"}),
        ("A", {"l1"}),
        ("A", {"l1", "m1", "m2"}),
        ("B", {"m2"}),
        ("B", {"l2", "m2"}),
    ]
    wide = _wide(units, CODES4)
    out = summaries.codes_cooccurrence(wide, _codebook(CODES4)).set_index(["row_code", "col_code"])
    assert list(out.index) == [("l1", "m1"), ("l1", "m2"), ("l2", "m1"), ("l2", "m2")]
    # l1 in A-0 A-1 A-2; m1 in A-0 A-2; m2 in A-2 B-3 B-4; l2 in B-4
    assert out.loc[("l1", "m1"), "n_both"] == 2 and out.loc[
        ("l1", "m1"), "jaccard"
    ] == pytest.approx(2 / 3)
    assert out.loc[("l1", "m1"), "unit_ids"] == "A-0 A-2"
    assert out.loc[("l1", "m2"), "n_both"] == 1 and out.loc[
        ("l1", "m2"), "jaccard"
    ] == pytest.approx(1 / 5)
    assert out.loc[("l2", "m1"), "n_both"] == 0 and out.loc[("l2", "m1"), "jaccard"] == 0
    assert out.loc[("l2", "m2"), "jaccard"] == pytest.approx(1 / 3)
    assert out.loc[("l1", "m1"), "n_row"] == 3 and out.loc[("l1", "m1"), "n_col"] == 2
    assert out.loc[("l1", "m1"), "row_label"] == "经济逻辑"
    # the same dimension twice: code × code within the logics
    within = summaries.codes_cooccurrence(wide, _codebook(CODES4), rows="logic", cols="logic")
    assert set(within["col_code"]) == {"l1", "l2"}
    with pytest.raises(ValueError, match="no code in dimension"):
        summaries.codes_cooccurrence(wide, _codebook(CODES4), rows="values")


def test_section_profile_and_dominant_codes_with_ties():
    units = [
        ("A", {"l1", "m1"}),
        ("A", {"l1", "m2"}),
        ("A", {"l2"}),
        ("A", {"m1", "m2"}),
        ("A", set()),
    ]
    sections = ["一、甲", "一、甲", "一、甲", "二、乙", "二、乙"]
    book = _codebook(CODES4)
    profile = summaries.sections_profile(_wide(units, CODES4, sections=sections), book)
    p = profile.set_index(["section", "code"])
    assert p.loc[("一、甲", "l1"), "share"] == pytest.approx(2 / 3)
    assert p.loc[("二、乙", "m2"), "unit_ids"] == "A-3"
    dom = summaries.sections_dominant(profile, book).set_index(["section", "dimension"])
    assert dom.loc[("一、甲", "logic"), "dominant"] == "l1"
    assert dom.loc[("一、甲", "logic"), "runner_up_share"] == pytest.approx(1 / 3)
    assert dom.loc[("一、甲", "mechanism"), "dominant"] == "m1 m2"  # a tie is shown as a tie
    assert dom.loc[("一、甲", "mechanism"), "dominant_label"] == "联席推进、结对帮扶"
    assert dom.loc[("二、乙", "logic"), "dominant"] == "—"
    assert dom.loc[("二、乙", "mechanism"), "share"] == pytest.approx(0.5)


# --------------------------------------------------------------------------------------------------
# inputs, paper tables, figures
# --------------------------------------------------------------------------------------------------


def test_stale_coding_tables_are_refused(tmp_path):
    wide = _wide([("A", {"l1"})], ["l1"])
    wide.to_csv(tmp_path / "coded.csv", index=False)
    with pytest.raises(ValueError, match="re-run notebook 03"):
        summaries.coded_units_read(tmp_path / "coded.csv", _codebook(["l1", "m1"]))
    with pytest.raises(ValueError, match="paragraph"):
        summaries.coded_units_read(
            tmp_path / "coded.csv", _codebook(["l1"]), unit_level="paragraph"
        )
    ok = summaries.coded_units_read(
        tmp_path / "coded.csv", _codebook(["l1"]), unit_level="sentence"
    )
    assert ok["l1"].tolist() == [1]


def test_paper_tables_are_byte_reproducible_and_keep_exact_numbers(tmp_path):
    tables = {
        "numbers": pd.DataFrame(
            {
                "value": ["54.82亿元", "17.6987亿元"],
                "number": [54.82, 17.6987],
                "value_base": [5482000000.0, 1769870000.0],
                "unit_ids": ["a b", "c"],
            }
        ),
        "shares": pd.DataFrame({"code": ["l1"], "share": [1 / 3], "p": [np.nan]}),
    }
    digests = []
    for run in ("one", "two"):
        written = summaries.summaries_write(tables, tmp_path / run)
        digests.append(
            {k: hashlib.sha256(Path(p).read_bytes()).hexdigest() for k, p in written.items()}
        )
    assert digests[0] == digests[1] and set(digests[0]) == {"numbers", "shares", "xlsx", "markdown"}
    csv = (tmp_path / "one" / "summary_numbers.csv").read_text(encoding="utf-8")
    assert "5482000000" in csv and "1769870000" in csv and "e+09" not in csv
    md = (tmp_path / "one" / "summary_tables.md").read_text(encoding="utf-8")
    assert "17.6987亿元" in md and "unit_ids" not in md
    sheets = pd.read_excel(tmp_path / "one" / "summary_tables.xlsx", sheet_name=None)
    assert (
        list(sheets) == ["numbers", "shares"]
        and sheets["numbers"]["value_base"].iloc[0] == 5482000000
    )


def test_paper_markdown_cuts_long_tables_and_the_csv_keeps_every_row(tmp_path):
    """Per-section tables of hundreds of documents are CSV material, not paper tables (md, xlsx)."""
    long = pd.DataFrame({"doc_id": [f"news{i:03d}" for i in range(250)], "share": 0.5})
    written = summaries.summaries_write({"frequency": long}, tmp_path, paper_max_rows=100)
    md = written["markdown"].read_text(encoding="utf-8")
    assert "news099" in md and "news100" not in md
    assert "(first 100 of 250 rows: every row is in the CSV file)" in md
    assert len(pd.read_csv(written["frequency"])) == 250
    sheet = pd.read_excel(written["xlsx"], sheet_name="frequency")
    assert len(sheet) == 101 and sheet["doc_id"].iloc[-1].startswith("(first 100 of 250 rows")
    short = summaries.summaries_write({"frequency": long.head(100)}, tmp_path, paper_max_rows=100)
    assert "first 100" not in short["markdown"].read_text(encoding="utf-8")
    assert len(pd.read_excel(short["xlsx"], sheet_name="frequency")) == 100


def test_figures_render_with_chinese_labels(tmp_path):
    plots.plots_setup()
    rng = np.random.default_rng(5)
    codes = ["l1", "l2", "l3", "m1", "m2", "m3"]
    units = [
        (d, {c for c in codes if rng.random() < 0.4})
        for d in ("opinion2021",) * 15 + ("report2024",) * 15
    ]
    sections = (
        ["一、准确把握总体要求"] * 8
        + ["二、重点任务"] * 7
        + ["", "一、内在逻辑"] * 7
        + ["三、路径"]
    )
    wide = _wide(units, codes, sections=sections)
    book = _codebook(codes)
    freq = summaries.codes_frequency(wide, book, by="document", n_bootstrap=200)
    figures = {
        "shares": plots_summaries.shares_plot(freq, book),
        "composition": plots_summaries.composition_plot(freq, book),
        "cooccurrence": plots_summaries.cooccurrence_plot(
            summaries.codes_cooccurrence(wide, book), book
        ),
        "profile": plots_summaries.profile_plot(summaries.sections_profile(wide, book), book),
        "residuals": plots_summaries.residuals_plot(
            summaries_crosstab.codes_residuals(wide, book), book
        ),
    }
    for name, fig in figures.items():
        texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
        assert any("逻辑" in t for t in texts), name  # Chinese labels are drawn
        assert plots.font_missing_glyphs(texts) == []
        written = plots.figure_save(fig, name, tmp_path)  # raises on a missing glyph
        assert [p.suffix for p in written] == [".png", ".svg"] and all(
            p.stat().st_size > 0 for p in written
        )
        plt.close(fig)


def _legend_colours(fig) -> dict[str, tuple]:
    """Label → face colour of every legend entry of every panel."""
    out = {}
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg:
            for text, handle in zip(leg.get_texts(), leg.legend_handles):
                out[text.get_text()] = tuple(handle.get_facecolor())
    return out


def test_code_colours_stay_when_a_code_is_added_and_labels_are_readable():
    plots.plots_setup()
    rng = np.random.default_rng(2)
    before_codes, after_codes = ["l1", "l2", "m1", "m2"], ["l1", "l2", "l3", "m1", "m2", "m3"]
    units = [(d, {c for c in after_codes if rng.random() < 0.4}) for d in ("A",) * 12 + ("B",) * 12]
    colours = []
    for codes in (before_codes, after_codes):
        wide = _wide(units, codes)
        book = _codebook(codes)
        fig = plots_summaries.composition_plot(
            summaries.codes_frequency(wide, book, by="document"), book
        )
        colours.append(_legend_colours(fig))
        counts = [t for ax in fig.axes for t in ax.texts]
        assert counts and min(t.get_fontsize() for t in counts) >= 9
        plt.close(fig)
    before, after = colours
    assert {k: after[k] for k in before} == before  # 经济逻辑 … keep their colours
    assert len(set(after.values())) == 3  # three codes per dimension, three distinct colours
    assert after[LABELS["l3"]] not in [before[LABELS["l1"]], before[LABELS["l2"]]]


def test_section_profile_cell_labels_are_at_least_10_pt():
    plots.plots_setup()
    codes = ["l1", "l2", "m1"]
    wide = _wide(
        [("A", {"l1"}), ("A", {"m1"}), ("B", {"l2"})],
        codes,
        sections=["一、甲", "二、乙", "一、丙"],
    )
    book = _codebook(codes)
    fig = plots_summaries.profile_plot(summaries.sections_profile(wide, book), book)
    cells = [t for t in fig.axes[0].texts if t.get_text().endswith("%")]
    assert len(cells) == 3 * 3 and min(t.get_fontsize() for t in cells) >= 10
    assert plots.texts_overlapping(fig.axes[0]) == []
    plt.close(fig)


def test_document_by_code_tables_moved_to_summaries_crosstab_keep_their_old_names():
    for name in summaries.MOVED_TO_CROSSTAB:
        assert getattr(summaries, name) is getattr(summaries_crosstab, name)
    with pytest.raises(AttributeError, match="no_such_table"):
        summaries.no_such_table  # noqa: B018
