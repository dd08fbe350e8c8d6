"""Issue 16 part 4: code shares by document variables (year, issuer, any column), by document.

The synthetic corpus is built here: 30 documents (5 years × 3 issuers × 2), each of 15–25 sentence
units written from short clauses we wrote in the style of 闽宁协作 documents (one or two clauses per
code, as a policy text or a news item would phrase them, plus neutral clauses). Which codes a unit
carries is drawn, not found by the coder, so the truth is known: the share of 经济逻辑 rises by 12.5
points a year from 10 %, 结对帮扶 is three times as frequent in the Fujian issuer's documents, every
other code is flat, and the column ``collector`` (who collected the document) is unrelated to
anything. Documents differ around those means (a beta draw per document and code), as real
documents do, which is why intervals and tests must work by document.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers import codebook as cb
from helpers import groups, paths, plots, plots_summaries

YEARS = (2019, 2020, 2021, 2022, 2023)
ISSUERS = ("福建省人民政府办公厅", "宁夏回族自治区人民政府办公厅", "闽宁协作联席会议办公室")
DOC_TYPES = ("policy", "news", "report")
CLAUSES = {
    "economic": ("两地企业共建产业园区，带动投资增长", "推动消费帮扶，扩大农产品销售"),
    "political": ("坚决贯彻落实党中央决策部署", "把东西部协作作为重大政治任务"),
    "social": ("帮助移民群众稳定就业、增加收入", "改善教育医疗条件，保障困难群众基本生活"),
    "ecological": ("推进生态保护和修复，治理水土流失", "发展菌草产业，防风固沙"),
    "cultural": ("闽宁两地人民情深谊长", "弘扬闽宁协作精神，讲好山海情故事"),
    "joint_meetings": ("两省区召开联席会议，研究部署协作重点", "党政代表团互访考察，签署协作协议"),
    "pairing": ("福建各县区与宁夏贫困县结对帮扶", "选派援宁干部挂职，对口帮扶资金拨付到位"),
    "industry": ("引进龙头企业，建设扶贫车间", "发展葡萄酒和枸杞等特色产业"),
    "mutual_learning": ("组织干部到福建学习考察", "两地教师医生互派交流，学习先进经验"),
    "social_participation": ("动员社会力量参与协作", "民营企业和社会组织捐款捐物"),
}
NEUTRAL = ("会议指出，要抓好各项工作落实", "现将有关情况报告如下", "各有关单位要认真执行")
KAPPA = 12.0  # concentration of the documents' shares around their mean: documents differ


def mean_share(code: str, year: int, issuer: str) -> float:
    """The share a document of this year and issuer has on average (the truth of the tests)."""
    if code == "economic":
        return 0.10 + 0.125 * (year - YEARS[0])
    if code == "pairing":
        return 0.45 if issuer == ISSUERS[0] else 0.15
    return 0.20 if code in ("ecological", "industry") else 0.12


def synthetic_corpus(seed: int = 7):
    """Return (documents, units): the corpus table rows and the unit × code table of notebook 03."""
    rng = np.random.default_rng(seed)
    codes = list(CLAUSES)
    docs, units = [], []
    i = 0
    for year in YEARS:
        for issuer in ISSUERS:
            for k in range(2):
                i += 1
                doc_id = f"doc{i:02d}"
                docs.append(
                    {
                        "doc_id": doc_id,
                        "file": f"{doc_id}.txt",
                        "title": f"关于{year}年闽宁协作工作的{('通知', '报道', '报告')[i % 3]}",
                        "issuer": issuer,
                        "doc_type": DOC_TYPES[i % 3],
                        "date": f"{year}-{3 + 4 * k:02d}-15",
                        "collector": ("甲", "乙")[(k + i // 6) % 2],  # balanced: unrelated
                    }
                )
                n = int(rng.integers(15, 26))
                mu = np.array([mean_share(c, year, issuer) for c in codes])
                p = rng.beta(mu * KAPPA, (1 - mu) * KAPPA)
                coded = rng.random((n, len(codes))) < p
                for j in range(n):
                    on = [c for c, x in zip(codes, coded[j]) if x]
                    clauses = [CLAUSES[c][(i + j) % 2] for c in on] or [NEUTRAL[(i + j) % 3]]
                    units.append(
                        {
                            "doc_id": doc_id,
                            "unit_id": f"{doc_id}-s{j + 1}",
                            "level": "sentence",
                            "kind": "text",
                            "heading_path": "",
                            "section": "",
                            "text": "，".join(clauses) + "。",
                            **{c: int(x) for c, x in zip(codes, coded[j])},
                        }
                    )
    return pd.DataFrame(docs), pd.DataFrame(units)


@pytest.fixture(scope="module")
def codebook():
    return cb.codebook_read(paths.ROOT / "data" / "codebook.yaml")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, codebook):
    docs, wide = synthetic_corpus()
    assert set(CLAUSES) == set(codebook.ids), "the synthetic corpus follows the codebook's codes"
    path = tmp_path_factory.mktemp("groups") / "corpus.csv"
    docs.to_csv(path, index=False)
    return groups.docvars_read(path), wide, docs


def _truth(docs: pd.DataFrame, wide: pd.DataFrame, variable: str, group: str, code: str) -> float:
    """The expected share of a group: its documents' mean shares weighted by their units."""
    d = docs.assign(year=docs["date"].str[:4])
    d = d[d[variable].astype(str) == group]
    n = wide.groupby("doc_id").size().reindex(d["doc_id"]).to_numpy()
    mu = np.array([mean_share(code, int(y), s) for y, s in zip(d["year"], d["issuer"])])
    return float((n * mu).sum() / n.sum())


def test_year_comes_from_the_date_and_every_column_is_a_grouping(corpus):
    docvars, _, _ = corpus
    assert list(docvars["year"].head(3)) == ["2019", "2019", "2019"]
    assert {"issuer", "doc_type", "collector", "year"} <= set(docvars.columns)


def test_shares_are_coded_units_over_units_per_group_with_counts(corpus, codebook):
    docvars, wide, _ = corpus
    out = groups.shares_by_group(wide, docvars, codebook, "issuer", n_bootstrap=0)
    assert list(pd.unique(out["group"])) == sorted(ISSUERS)
    row = out[(out["group"] == ISSUERS[0]) & (out["code"] == "pairing")].iloc[0]
    fujian = docvars.loc[docvars["issuer"] == ISSUERS[0], "doc_id"]
    u = wide[wide["doc_id"].isin(fujian)]
    assert row["documents"] == 10 and row["units"] == len(u)
    assert row["units_coded"] == u["pairing"].sum()
    assert row["share"] == pytest.approx(u["pairing"].mean())
    # every coded unit is traceable, and the documents of the group are listed
    assert set(row["unit_ids"].split()) == set(u.loc[u["pairing"] == 1, "unit_id"])
    assert set(row["doc_ids"].split()) == set(fujian)
    years = groups.shares_by_group(wide, docvars, codebook, "year", n_bootstrap=0)
    assert list(pd.unique(years["group"])) == [str(y) for y in YEARS]  # in order of time
    assert years.groupby("group")["documents"].first().tolist() == [6] * 5


def test_intervals_by_document_contain_the_truth(corpus, codebook):
    docvars, wide, docs = corpus
    cells = inside = 0
    naive_inside = 0
    for variable in ("year", "issuer"):
        out = groups.shares_by_group(
            wide, docvars, codebook, variable, n_bootstrap=1999, random_seed=42
        )
        for r in out.itertuples():
            truth = _truth(docs, wide, variable, r.group, r.code)
            cells += 1
            inside += r.ci_low <= truth <= r.ci_high
            # what an interval treating the units as independent would say (normal approximation)
            half = 1.96 * np.sqrt(r.share * (1 - r.share) / r.units)
            naive_inside += r.share - half <= truth <= r.share + half
    assert cells == 80
    # 95 % intervals: most cells cover their truth; intervals on units would cover far fewer
    # (8 synthetic corpora, seeds 1-8: 81-94 % by document, 68-85 % on units)
    assert inside / cells >= 0.8, (inside, naive_inside, cells)
    assert inside > naive_inside
    econ = groups.shares_by_group(
        wide, docvars, codebook, "year", n_bootstrap=1999, random_seed=42
    ).query("code == 'economic'")
    assert econ["share"].is_monotonic_increasing or econ["share"].iloc[-1] > econ["share"].iloc[0]
    assert (econ["ci_low"] <= econ["share"]).all() and (econ["share"] <= econ["ci_high"]).all()


def test_the_test_detects_real_differences_and_not_a_null_one(corpus, codebook):
    docvars, wide, _ = corpus
    kw = {"n_permutations": 1999, "random_seed": 42}
    year = groups.groups_test(wide, docvars, codebook, "year", **kw).set_index("code")
    issuer = groups.groups_test(wide, docvars, codebook, "issuer", **kw).set_index("code")
    collector = groups.groups_test(wide, docvars, codebook, "collector", **kw).set_index("code")
    assert year.loc["economic", "p_value"] < 0.01 and year.loc["economic", "p_bh"] < 0.05
    assert year.loc["economic", "share_range"] > 0.25
    assert (year.loc["economic", "group_min"], year.loc["economic", "group_max"]) == (
        "2019",
        "2023",
    )
    assert issuer.loc["pairing", "p_value"] < 0.01
    assert issuer.loc["pairing", "group_max"] == ISSUERS[0]
    assert issuer.loc[groups.ALL_CODES, "p_value"] < 0.05
    # codes that do not differ, and a column unrelated to anything
    assert year.loc["ecological", "p_value"] > 0.05
    assert issuer.loc["economic", "p_value"] > 0.05
    assert collector.loc[groups.ALL_CODES, "p_value"] > 0.05
    assert (collector["p_bh"].dropna() > 0.05).all()
    # effect sizes: the real difference is larger than the null ones
    assert year.loc["economic", "cramers_v"] > collector["cramers_v"].drop(groups.ALL_CODES).max()
    assert (
        year["assessed"].all() and (year["groups"] == 5).all() and (year["documents"] == 30).all()
    )


def test_same_seed_same_tables_other_seed_other_draws(corpus, codebook):
    docvars, wide, _ = corpus
    kw = {"n_bootstrap": 499, "random_seed": 42}
    a = groups.shares_by_group(wide, docvars, codebook, "year", **kw)
    b = groups.shares_by_group(wide, docvars, codebook, "year", **kw)
    pd.testing.assert_frame_equal(a, b)
    c = groups.shares_by_group(wide, docvars, codebook, "year", n_bootstrap=499, random_seed=43)
    assert not np.allclose(a["ci_low"], c["ci_low"])
    t1 = groups.groups_test(wide, docvars, codebook, "issuer", n_permutations=499, random_seed=42)
    t2 = groups.groups_test(wide, docvars, codebook, "issuer", n_permutations=499, random_seed=42)
    pd.testing.assert_frame_equal(t1, t2)


def test_a_missing_column_names_it_and_the_columns_there_are(corpus, codebook):
    docvars, wide, _ = corpus
    with pytest.raises(
        groups.GroupingError, match=r"'region'.*available:.*issuer.*collector"
    ) as err:
        groups.shares_by_group(wide, docvars, codebook, "region")
    # the table actually read (a temporary one here), not always data/corpus.csv
    assert str(err.value).startswith(f"{docvars.attrs['path']}, field 'region': ")
    assert err.value.field == "region" and "data/corpus.csv" not in str(err.value)
    with pytest.raises(groups.GroupingError, match="'region'"):
        groups.groups_test(wide, docvars, codebook, "region")


def test_groups_of_one_document_are_not_assessed_and_blank_cells_are_a_group(corpus, codebook):
    docvars, wide, _ = corpus
    two = docvars[docvars["doc_id"].isin(["doc01", "doc30"])].copy()
    w = wide[wide["doc_id"].isin(two["doc_id"])]
    shares = groups.shares_by_group(w, two, codebook, "year", n_bootstrap=99)
    assert shares["ci_low"].isna().all() and shares["note"].str.contains("1 document").all()
    test = groups.groups_test(w, two, codebook, "year", n_permutations=99)
    assert not test["assessed"].any() and test["p_value"].isna().all()
    assert test["note"].str.contains("needs ≥ 2 documents per group").all()
    # a blank cell: its own group in the table, left out of the test
    docvars = docvars.copy()
    docvars.loc[docvars["doc_id"].isin(["doc01", "doc02"]), "doc_type"] = ""
    shares = groups.shares_by_group(wide, docvars, codebook, "doc_type", n_bootstrap=0)
    assert shares["group"].iloc[-1] == groups.MISSING
    test = groups.groups_test(wide, docvars, codebook, "doc_type", n_permutations=99)
    assert test["documents"].iloc[0] == 28 and groups.MISSING in test["note"].iloc[0]


def test_permutation_test_memory_is_bounded_by_chunks():
    rng = np.random.default_rng(0)
    d = 500
    labels = rng.integers(0, 4, d)
    units = rng.integers(5, 60, d)
    coded = rng.binomial(units[:, None], 0.2, (d, 10))
    small = groups.labels_permutation_test(
        labels, units, coded, n_permutations=999, rng=1, max_cells=20_000
    )
    big = groups.labels_permutation_test(labels, units, coded, n_permutations=999, rng=1)
    np.testing.assert_allclose(small[0], big[0])  # the observed statistics do not depend on chunks
    assert (small[1] > 0.01).all() and (big[1] > 0.01).all()  # labels unrelated to the codes


def test_trend_figure_has_one_panel_per_code_on_one_scale_with_n_per_year(
    corpus, codebook, tmp_path
):
    docvars, wide, _ = corpus
    plots.plots_setup()
    shares = groups.shares_by_group(wide, docvars, codebook, "year", n_bootstrap=199)
    fig = plots_summaries.trend_plot(shares, codebook)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in axes] == [codebook.code(c).label_zh for c in codebook.ids]
    assert len({ax.get_ylim() for ax in axes}) == 1  # one y-scale
    labels = [t.get_text() for t in axes[-1].get_xticklabels()]
    assert labels[0].startswith("2019") and "n=6" in labels[0]
    png, _ = plots.figure_save(fig, "summary_trend_year", tmp_path)
    assert png.stat().st_size > 10_000
    plt.close(fig)
    blank = docvars.assign(year="")  # no dates at all: a figure that says so, not an error
    shares = groups.shares_by_group(wide, blank, codebook, "year", n_bootstrap=0)
    assert set(shares["group"]) == {groups.MISSING}
    fig = plots_summaries.trend_plot(shares, codebook)
    assert "no document has a year" in fig.axes[0].texts[0].get_text()
    plt.close(fig)


def test_few_documents_few_arrangements_and_p_cannot_be_small(corpus, codebook):
    docvars, wide, _ = corpus
    four = docvars[docvars["doc_id"].isin(["doc01", "doc02", "doc29", "doc30"])]  # 2019 and 2023
    w = wide[wide["doc_id"].isin(four["doc_id"])]
    test = groups.groups_test(w, four, codebook, "year", n_permutations=999, random_seed=42)
    assert test["assessed"].iloc[0] and test["arrangements"].iloc[0] == 6
    assert "only 6 distinct arrangements" in test["note"].iloc[0]
    assert (test["p_value"].dropna() >= 1 / 6).all()  # two documents a year cannot prove a trend
    shares = groups.shares_by_group(w, four, codebook, "year", n_bootstrap=99)
    assert shares["note"].str.contains("only 2 documents").all()
