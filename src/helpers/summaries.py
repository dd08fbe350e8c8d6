"""Statistical summaries of the coding, and the numbers the documents cite.

Everything here starts from the unit × code 0/1 table of notebook 03 (``coding_units.csv``: ``doc_id,
unit_id, level, kind, heading_path, section, text`` and one column per code) and the codebook, so codes
and dimensions added to the YAML flow through without code changes. Every count carries the ids of the
units behind it (``unit_ids``), so each number in a paper table can be traced to sentences.

- Frequencies: :func:`codes_frequency` (by corpus, document or top-level section: units coded, share,
  bootstrap CI, density per 1,000 characters).
- Document × code: :func:`codes_crosstab`, :func:`codes_independence` (chi-square, Cramér's V, a
  whole-unit permutation test when expected counts are small or units carry several codes, Fisher's
  exact test for 2 × 2), :func:`codes_residuals` (Haberman's adjusted residuals) and
  :func:`codes_document_tests` (one document × coded/not table per code).
- Logic × mechanism: :func:`codes_cooccurrence` (NVivo's matrix coding query: counts, Jaccard, unit ids),
  :func:`sections_profile` and :func:`sections_dominant`.
- Numbers: :func:`numbers_extract` and :func:`numbers_excluded` (amounts, people, counts, shares, years
  and dates, Arabic and Chinese numerals, converted with ``cn2an``).
- Figures (``*_plot``) and the paper tables (:func:`summaries_write`: CSV, one xlsx workbook, Markdown).

Randomness (permutations, bootstrap) is seeded by a parameter; the same inputs give byte-identical tables.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.codebook import Codebook
from helpers.tables import path_resolve, table_write, text_write, workbook_save

CORPUS_LABEL = "(corpus)"
SECTION_INTRO = "（导言）"  # text before the first heading
SECTION_TITLE = "（标题）"  # the document title
KINDS = ("title", "heading", "text")
MIN_EXPECTED = 5.0


# --------------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------------


def coded_units_read(
    path: str | Path, codebook: Codebook, *, unit_level: str | None = None
) -> pd.DataFrame:
    """Return the unit × code table written by notebook 03, checked against the codebook.

    Exists so that a stale table fails loudly: a code of the codebook missing from the table (the
    codebook changed after notebook 03 ran) or a table of another unit level than asked is an error
    naming what to re-run, not a silent zero.
    """
    from helpers.tables import table_read

    wide = table_read(path)
    missing = [c for c in codebook.ids if c not in wide.columns]
    if missing:
        raise ValueError(
            f"{path}: no column for code(s) {missing}; re-run notebook 03 with this codebook"
        )
    if (
        unit_level is not None
        and "level" in wide
        and len(wide)
        and set(wide["level"]) != {unit_level}
    ):
        raise ValueError(
            f"{path}: holds {sorted(set(wide['level']))} units, not {unit_level!r}; run notebook 03 "
            f"with unit_level={unit_level!r} or change unit_level here"
        )
    for c in codebook.ids:
        wide[c] = wide[c].astype(int)
    return wide


def sections_label(units: pd.DataFrame) -> pd.Series:
    """Return each unit's top-level section, with labels for the units that have none.

    The column ``section`` is empty for the title and for the text before the first heading; they get
    ``（标题）`` and ``（导言）`` so that they form groups of their own instead of vanishing.
    """
    section = (
        units["section"].astype(str) if "section" in units else pd.Series("", index=units.index)
    )
    kind = units["kind"].astype(str) if "kind" in units else pd.Series("text", index=units.index)
    out = section.where(section != "", np.where(kind == "title", SECTION_TITLE, SECTION_INTRO))
    return out.rename("section")


def units_select(units: pd.DataFrame, kinds: Sequence[str] | None = None) -> pd.DataFrame:
    """Return the units of the given kinds (``title``, ``heading``, ``text``; None = all) with section labels.

    Titles and headings are units of their own in notebook 01. They are counted by default: a heading
    such as ``（一）联席推进彰显发展共识`` is how the author frames a section, and the coding counts it.
    Pass ``kinds=["text"]`` to count body sentences only (shares then describe running text).
    """
    u = units
    if kinds is not None and "kind" in u:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown unit kind(s) {sorted(unknown)}; kinds are {list(KINDS)}")
        u = u[u["kind"].isin(list(kinds))]
    u = u.copy()
    u["section"] = sections_label(u)
    return u.reset_index(drop=True)


def _ids(units: pd.DataFrame, mask) -> str:
    return " ".join(units.loc[np.asarray(mask, dtype=bool), "unit_id"].astype(str))


def _seed(random_seed: int, *keys: str) -> np.random.Generator:
    """A generator for one (group, code) cell: same seed and keys → same draws, whatever the order."""
    return np.random.default_rng([int(random_seed), *(zlib.crc32(k.encode("utf-8")) for k in keys)])


def _code_info(codebook: Codebook, code_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    return {c: (codebook.code(c).label_zh, codebook.code(c).dimension) for c in code_ids}


# --------------------------------------------------------------------------------------------------
# 1 Frequencies
# --------------------------------------------------------------------------------------------------


def codes_frequency(
    wide: pd.DataFrame,
    codebook: Codebook,
    *,
    by: str = "document",
    kinds: Sequence[str] | None = None,
    n_bootstrap: int = 0,
    confidence_level: float = 0.95,
    random_seed: int = 0,
) -> pd.DataFrame:
    """Return, per group and code, units coded, units, share, density and the coded unit ids.

    ``by``: ``"corpus"``, ``"document"`` or ``"section"`` (top-level section within its document).
    Columns: grouping, doc_id, section, code, label_zh, dimension, units_coded, units, share, ci_low,
    ci_high, n_chars, density, unit_ids. ``density`` is coded units per 1,000 characters of the group's
    unit texts (every character, punctuation included), so groups of different length compare.
    ``ci_low``/``ci_high`` are percentile bootstrap intervals of the share (``n_bootstrap`` resamples of
    units within the group, within each document for the corpus; empty when ``n_bootstrap`` is 0),
    every code of a group from the same resamples (:func:`shares_bootstrap`), seeded by the group.
    """
    if by not in ("corpus", "document", "section"):
        raise ValueError(f"by must be 'corpus', 'document' or 'section', not {by!r}")
    u = units_select(wide, kinds)
    info = _code_info(codebook, codebook.ids)
    if by == "corpus":
        groups = [(CORPUS_LABEL, "", u)]
    elif by == "document":
        groups = [(d, "", g) for d, g in u.groupby("doc_id", sort=False)]
    else:
        groups = [(d, s, g) for (d, s), g in u.groupby(["doc_id", "section"], sort=False)]
    rows = []
    codes = list(codebook.ids)
    for doc_id, section, g in groups:
        n_chars = int(g["text"].astype(str).str.len().sum())
        strata = [s for _, s in g.groupby("doc_id", sort=False)] if by == "corpus" else [g]
        lows = highs = np.full(len(codes), np.nan)
        if n_bootstrap and len(g):
            lows, highs = shares_bootstrap(
                [s[codes].to_numpy() for s in strata],
                n_bootstrap=n_bootstrap,
                confidence_level=confidence_level,
                rng=_seed(random_seed, by, doc_id, section),
            )
        ids = g["unit_id"].astype(str).to_numpy()
        for c, low, high in zip(codes, lows, highs):
            coded = g[c].to_numpy() == 1
            n = int(coded.sum())
            rows.append(
                {
                    "grouping": by,
                    "doc_id": doc_id,
                    "section": section,
                    "code": c,
                    "label_zh": info[c][0],
                    "dimension": info[c][1],
                    "units_coded": n,
                    "units": len(g),
                    "share": n / len(g) if len(g) else np.nan,
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "n_chars": n_chars,
                    "density": 1000 * n / n_chars if n_chars else np.nan,
                    "unit_ids": " ".join(ids[coded]),
                }
            )
    return pd.DataFrame(rows)


def shares_bootstrap(
    strata: Sequence[np.ndarray],
    *,
    n_bootstrap: int = 9999,
    confidence_level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
    max_cells: int = 2_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Return percentile bootstrap intervals (lows, highs) of the share of 1s of every column.

    Each stratum is a unit × code 0/1 matrix (one document's units); it is resampled on its own, with
    replacement and at its own size, so a document's weight in a corpus share stays fixed. All codes
    are computed on the same resamples, all resamples at once with numpy: each resample's draws become
    a row of counts (how often each unit was drawn), and counts @ codes gives every code's coded units,
    in chunks of at most ``max_cells`` counts. The draws depend only on the strata sizes and ``rng``,
    so adding a code leaves the intervals of the others unchanged. Percentile intervals (numpy's
    linear quantiles, as ``scipy.stats.bootstrap(method="percentile")``), not BCa: shares of 0 or 1
    are common here and BCa is undefined on them; a share of 0 gets the interval (0, 0). A stratum of
    one unit resamples to itself.
    """
    rng = np.random.default_rng(rng)
    arrays = [np.asarray(a, dtype=float).reshape(len(a), -1) for a in strata if len(a)]
    if not arrays:
        raise ValueError("no units to resample")
    total = sum(len(a) for a in arrays)
    coded = np.zeros((n_bootstrap, arrays[0].shape[1]))
    for a in arrays:
        n = len(a)
        if n == 1:
            coded += a[0]
            continue
        chunk = max(1, min(n_bootstrap, max_cells // n))
        for start in range(0, n_bootstrap, chunk):
            m = min(chunk, n_bootstrap - start)
            draws = rng.integers(0, n, (m, n)) + n * np.arange(m)[:, None]
            counts = np.bincount(draws.ravel(), minlength=m * n).reshape(m, n)
            coded[start : start + m] += counts @ a
    alpha = (1 - confidence_level) / 2
    lows, highs = np.quantile(coded / total, [alpha, 1 - alpha], axis=0)
    return lows, highs


def share_bootstrap(
    strata: Sequence[np.ndarray],
    *,
    n_bootstrap: int = 9999,
    confidence_level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> tuple[float, float]:
    """Return the percentile bootstrap interval (low, high) of the share of 1s of one code.

    ``strata`` holds one 0/1 vector per document; see :func:`shares_bootstrap`.
    """
    lows, highs = shares_bootstrap(
        [np.asarray(a).reshape(-1, 1) for a in strata],
        n_bootstrap=n_bootstrap,
        confidence_level=confidence_level,
        rng=rng,
    )
    return float(lows[0]), float(highs[0])


# --------------------------------------------------------------------------------------------------
# 2 Document × code
# --------------------------------------------------------------------------------------------------


def codes_crosstab(
    wide: pd.DataFrame,
    codebook: Codebook,
    *,
    by: str = "doc_id",
    kinds: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the document × code table: cells are units coded with the code (index: the ``by`` values).

    A unit coded with several codes counts once in each of their columns (units are multi-label), so
    the cells sum to codings, not units; :func:`codes_independence` takes that into account.
    """
    u = units_select(wide, kinds)
    codes = list(codes or codebook.ids)
    table = u.groupby(by, sort=False)[codes].sum().astype(int)
    table.columns.name = "code"
    return table


def residuals_adjusted(observed: np.ndarray) -> np.ndarray:
    """Return Haberman's adjusted standardized residuals of a two-way table.

    (O − E) / √(E · (1 − row/N) · (1 − col/N)); each is approximately standard normal under
    independence, so |r| > 1.96 marks a cell that departs from independence (5 %, uncorrected).
    Cells with E = 0 get 0.
    """
    o = np.asarray(observed, dtype=float)
    n = o.sum()
    rows, cols = o.sum(axis=1, keepdims=True), o.sum(axis=0, keepdims=True)
    e = rows @ cols / n
    var = e * (1 - rows / n) * (1 - cols / n)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (o - e) / np.sqrt(var)
    return np.where(var > 0, r, 0.0)


def _chi2_batch(tables: np.ndarray) -> np.ndarray:
    """Pearson's X² of a stack of tables (..., r, c); rows or columns with a zero total contribute 0."""
    n = tables.sum(axis=(-2, -1), keepdims=True)
    e = tables.sum(axis=-1, keepdims=True) * tables.sum(axis=-2, keepdims=True) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(e > 0, (tables - e) ** 2 / e, 0.0)
    return terms.sum(axis=(-2, -1))


def _at_least(null: np.ndarray, observed: float) -> np.ndarray:
    """``null >= observed`` up to floating-point noise (scipy's tolerance in ``permutation_test``)."""
    return null >= observed - abs(np.finfo(float).eps * 100 * observed)


def permutation_chi2(
    labels: np.ndarray,
    codes: np.ndarray,
    *,
    n_permutations: int = 9999,
    random_seed: int = 0,
    max_cells: int = 2_000_000,
) -> tuple[float, float]:
    """Return (X², p) of a whole-unit permutation test of label × code independence.

    ``labels`` holds one group index per unit, ``codes`` the unit × code 0/1 matrix. The group labels
    are shuffled over the units, each unit keeping all its codes, and X² of the group × code table is
    recomputed. Because whole units move, the dependence between the codes of a multi-label unit is
    kept under the null hypothesis, which the asymptotic chi-square test ignores.

    Units with the same codes are interchangeable, so a random relabelling is drawn as a random table
    of code patterns × groups with the observed margins (Patefield's algorithm,
    ``scipy.stats.random_table``), which has exactly the distribution the shuffled labels give; all
    resamples at once, in chunks of at most ``max_cells`` cells. Its size grows with patterns ×
    groups, not with units. p = (b + 1) / (n + 1), b = resamples with X² at least the observed; when
    n! ≤ ``n_permutations`` every ordering of the units is enumerated and p is exact.
    """
    import itertools

    from scipy import stats

    groups, lab = np.unique(np.asarray(labels), return_inverse=True)
    x = np.asarray(codes, dtype=float).reshape(len(lab), -1)
    r = len(groups)
    table = np.zeros((r, x.shape[1]))
    np.add.at(table, lab, x)
    observed = float(_chi2_batch(table))
    n = len(lab)
    if n <= 12 and math.factorial(n) <= n_permutations:
        perms = np.array(
            list(itertools.permutations(lab))
        )  # every ordering, repeated labels included
        onehot = (perms[..., None] == np.arange(r)).astype(float)  # (n!, n, r)
        null = _chi2_batch(np.swapaxes(onehot, -1, -2) @ x)
        return observed, float(_at_least(null, observed).mean())
    patterns, kind = np.unique(x, axis=0, return_inverse=True)
    counts = np.zeros((len(patterns), r), dtype=np.int64)
    np.add.at(counts, (kind.ravel(), lab), 1)
    tables = stats.random_table(counts.sum(axis=1), counts.sum(axis=0))
    rng = np.random.default_rng(random_seed)
    chunk = max(1, min(n_permutations, max_cells // counts.size))
    hits = 0
    for start in range(0, n_permutations, chunk):
        m = min(chunk, n_permutations - start)
        drawn = tables.rvs(size=m, method="patefield", random_state=rng)  # (m, patterns, groups)
        null = _chi2_batch(np.einsum("mpr,pk->mrk", drawn, patterns))
        hits += int(_at_least(null, observed).sum())
    return observed, (hits + 1) / (n_permutations + 1)


def fisher_freeman_halton_mc(
    table: np.ndarray,
    *,
    n_permutations: int = 9999,
    rng: np.random.Generator | int | None = 0,
    max_cells: int = 2_000_000,
) -> float:
    """Return the Monte-Carlo p of the Fisher–Freeman–Halton test of a groups × (coded, not coded) table.

    Under independence, with the margins fixed, the coded units fall on the groups as a multivariate
    hypergeometric draw; ``n_permutations`` such tables are drawn at once with numpy
    (``Generator.multivariate_hypergeometric``, in chunks of at most ``max_cells`` cells). A table is
    at least as extreme as the observed one when its probability is not larger, i.e. when
    Σ log n_ij! is not smaller. p = (b + 1) / (n + 1).
    """
    from scipy.special import gammaln

    t = np.asarray(table, dtype=np.int64)
    sizes, k = t.sum(axis=1), int(t[:, 0].sum())
    rng = np.random.default_rng(rng)

    def log_denominator(coded):  # Σ log n_ij! over both columns
        return (gammaln(coded + 1) + gammaln(sizes - coded + 1)).sum(axis=-1)

    observed = float(log_denominator(t[:, 0]))
    chunk = max(1, min(n_permutations, max_cells // len(sizes)))
    hits = 0
    for start in range(0, n_permutations, chunk):
        m = min(chunk, n_permutations - start)
        drawn = rng.multivariate_hypergeometric(sizes, k, size=m)
        hits += int(_at_least(log_denominator(drawn), observed).sum())
    return (hits + 1) / (n_permutations + 1)


def codes_independence(
    wide: pd.DataFrame,
    codebook: Codebook,
    *,
    by: str = "doc_id",
    codes: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    n_permutations: int = 9999,
    random_seed: int = 0,
    min_expected: float = MIN_EXPECTED,
) -> pd.DataFrame:
    """Return one row: the chi-square test of document × code independence and the test to report.

    Columns: table, n_units (units with at least one of the codes: they are what is permuted),
    n_codings, rows, cols, chi2, df, p_chi2 (asymptotic), cramers_v, min_expected, cells_expected_lt5,
    multi_label_units, p_permutation, n_permutations, random_seed, p_fisher (2 × 2 only), test,
    p_value (the p of ``test``), note (why that test). Codes never coded are dropped (they would give
    zero expected counts), and named in ``note``.

    Which test: the asymptotic chi-square needs expected counts ≥ ``min_expected`` and independent
    observations. Cells are codings, and a unit with several codes contributes to several cells, so
    whenever some unit carries two codes of the table the whole-unit permutation test
    (:func:`permutation_chi2`) is reported; also when an expected count is small. For a 2 × 2 table of
    single-code units the table is an ordinary contingency table, and Fisher's exact test is reported.
    """
    from scipy import stats

    u = units_select(wide, kinds)
    codes = list(codes or codebook.ids)
    dropped = [c for c in codes if u[c].sum() == 0]
    codes = [c for c in codes if c not in dropped]
    coded = u[u[codes].sum(axis=1) > 0] if codes else u.iloc[:0]
    table = coded.groupby(by, sort=False)[codes].sum() if codes else pd.DataFrame()
    row = {
        "table": f"{by} × code",
        "n_units": len(coded),
        "n_codings": int(table.to_numpy().sum()),
        "rows": table.shape[0],
        "cols": table.shape[1],
    }
    nan_cols = [
        "chi2",
        "df",
        "p_chi2",
        "cramers_v",
        "min_expected",
        "cells_expected_lt5",
        "multi_label_units",
        "p_permutation",
        "n_permutations",
        "random_seed",
        "p_fisher",
        "test",
        "p_value",
        "note",
    ]
    if table.shape[0] < 2 or table.shape[1] < 2:
        row.update({k: np.nan for k in nan_cols})
        row.update(
            test="none", note="fewer than two documents or codes with codings: nothing to test"
        )
        return pd.DataFrame([row])
    o = table.to_numpy(dtype=float)
    chi = stats.chi2_contingency(o, correction=False)
    small = int((chi.expected_freq < min_expected).sum())
    multi = int((coded[codes].sum(axis=1) > 1).sum())
    labels = pd.factorize(coded[by])[0]
    _, p_perm = (
        permutation_chi2(
            labels, coded[codes].to_numpy(), n_permutations=n_permutations, random_seed=random_seed
        )
        if n_permutations
        else (np.nan, np.nan)
    )
    p_fisher = float(stats.fisher_exact(o.astype(int)).pvalue) if o.shape == (2, 2) else np.nan
    reasons = []
    if small:
        reasons.append(
            f"{small} of {o.size} expected counts < {min_expected:g} "
            f"(smallest {chi.expected_freq.min():.2f})"
        )
    if multi:
        reasons.append(
            f"{multi} of {len(coded)} units carry several of these codes, so codings are not "
            f"independent observations"
        )
    if not reasons:
        test, p = "chi-square (asymptotic)", chi.pvalue
        why = f"every expected count ≥ {min_expected:g} and every unit has one code"
    elif o.shape == (2, 2) and not multi:
        test, p, why = (
            "Fisher's exact",
            p_fisher,
            "; ".join(reasons) + "; 2 × 2 table of single-code units",
        )
    elif n_permutations:
        test, p = "Monte-Carlo permutation of whole units", p_perm
        exact = len(coded) <= 12 and math.factorial(len(coded)) <= n_permutations
        how = (
            f"all {math.factorial(len(coded))} relabellings of the units' {by} (exact)"
            if exact
            else f"{n_permutations} random permutations of the units' {by}, seed {random_seed}"
        )
        why = "; ".join(reasons) + f"; {how}"
        if o.shape == (2, 2):
            why += "; Fisher's exact p shown for reference only (it counts codings as independent)"
    else:
        test, p = "chi-square (asymptotic)", chi.pvalue
        why = "; ".join(reasons) + "; no permutations asked for: p unreliable"
    if dropped:
        why += f"; codes never coded, left out: {', '.join(dropped)}"
    row.update(
        {
            "chi2": float(chi.statistic),
            "df": int(chi.dof),
            "p_chi2": float(chi.pvalue),
            "cramers_v": float(stats.contingency.association(o.astype(int), method="cramer")),
            "min_expected": float(chi.expected_freq.min()),
            "cells_expected_lt5": small,
            "multi_label_units": multi,
            "p_permutation": p_perm,
            "n_permutations": n_permutations,
            "random_seed": random_seed,
            "p_fisher": p_fisher,
            "test": test,
            "p_value": float(p),
            "note": why,
        }
    )
    return pd.DataFrame([row])


def codes_residuals(
    wide: pd.DataFrame,
    codebook: Codebook,
    *,
    by: str = "doc_id",
    kinds: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the document × code table in long form with expected counts and adjusted residuals.

    Columns: doc_id (the ``by`` value), code, label_zh, dimension, observed, expected,
    residual_adjusted, flag (``+``/``−`` when |r| > 1.96: more/fewer codings than independence
    predicts). Descriptive: with multi-label units the residuals are approximate (see
    :func:`codes_independence`). Codes never coded are left out.
    """
    table = codes_crosstab(wide, codebook, by=by, kinds=kinds, codes=codes)
    table = table.loc[:, table.sum(axis=0) > 0]
    o = table.to_numpy(dtype=float)
    e = o.sum(axis=1, keepdims=True) @ o.sum(axis=0, keepdims=True) / o.sum() if o.size else o
    r = residuals_adjusted(o) if o.size else o
    info = _code_info(codebook, table.columns)
    rows = []
    for i, g in enumerate(table.index):
        for j, c in enumerate(table.columns):
            rows.append(
                {
                    by: g,
                    "code": c,
                    "label_zh": info[c][0],
                    "dimension": info[c][1],
                    "observed": int(o[i, j]),
                    "expected": e[i, j],
                    "residual_adjusted": r[i, j],
                    "flag": "+" if r[i, j] > 1.96 else "−" if r[i, j] < -1.96 else "",
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            by,
            "code",
            "label_zh",
            "dimension",
            "observed",
            "expected",
            "residual_adjusted",
            "flag",
        ],
    )


def codes_document_tests(
    wide: pd.DataFrame,
    codebook: Codebook,
    *,
    by: str = "doc_id",
    kinds: Sequence[str] | None = None,
    n_permutations: int = 9999,
    random_seed: int = 0,
    min_expected: float = MIN_EXPECTED,
) -> pd.DataFrame:
    """Return one test per code: does the share of units coded differ between documents?

    For each code, the document × (coded, not coded) table of units: a proper contingency table (each
    unit once). Columns: code, label_zh, dimension, then per document ``coded_<doc>`` and
    ``units_<doc>``, chi2, p_chi2 (Pearson, no continuity correction), phi (Cramér's V), min_expected,
    p_fisher (2 × 2: Fisher's exact), p_permutation (more than two documents and small expected counts:
    Fisher–Freeman–Halton by Monte-Carlo, :func:`fisher_freeman_halton_mc`),
    test, p_value, p_bh (Benjamini–Hochberg over the codes, ``scipy.stats.false_discovery_control``).
    The test is chi-square when every expected count ≥ ``min_expected``, else the exact/permutation one.
    """
    from scipy import stats

    u = units_select(wide, kinds)
    docs = list(pd.unique(u[by]))
    info = _code_info(codebook, codebook.ids)
    rows = []
    for c in codebook.ids:
        coded = u.groupby(by, sort=False)[c].sum().reindex(docs).to_numpy()
        size = u.groupby(by, sort=False)[c].size().reindex(docs).to_numpy()
        t = np.column_stack([coded, size - coded]).astype(int)
        row = {"code": c, "label_zh": info[c][0], "dimension": info[c][1]}
        for d, k, n in zip(docs, coded, size):
            row[f"coded_{d}"], row[f"units_{d}"] = int(k), int(n)
        if len(docs) < 2 or (t.sum(axis=0) == 0).any():
            row.update(
                chi2=np.nan,
                p_chi2=np.nan,
                phi=np.nan,
                min_expected=np.nan,
                p_fisher=np.nan,
                p_permutation=np.nan,
                test="none",
                p_value=np.nan,
            )
            rows.append(row)
            continue
        chi = stats.chi2_contingency(t, correction=False)
        small = bool((chi.expected_freq < min_expected).any())
        p_fisher = p_perm = np.nan
        if t.shape == (2, 2):
            p_fisher = float(stats.fisher_exact(t).pvalue)
        elif small and n_permutations:
            p_perm = fisher_freeman_halton_mc(
                t, n_permutations=n_permutations, rng=_seed(random_seed, "code", c)
            )
        if not small:
            test, p = "chi-square (asymptotic)", chi.pvalue
        elif t.shape == (2, 2):
            test, p = "Fisher's exact", p_fisher
        elif n_permutations:
            test, p = "Fisher–Freeman–Halton (Monte-Carlo)", p_perm
        else:
            test, p = "chi-square (asymptotic, small expected counts)", chi.pvalue
        row.update(
            chi2=float(chi.statistic),
            p_chi2=float(chi.pvalue),
            phi=float(stats.contingency.association(t, method="cramer")),
            min_expected=float(chi.expected_freq.min()),
            p_fisher=p_fisher,
            p_permutation=p_perm,
            test=test,
            p_value=float(p),
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    ok = out["p_value"].notna()
    out["p_bh"] = np.nan
    if ok.any():
        out.loc[ok, "p_bh"] = stats.false_discovery_control(
            out.loc[ok, "p_value"].to_numpy(), method="bh"
        )
    return out


# --------------------------------------------------------------------------------------------------
# 3 Logic × mechanism, sections
# --------------------------------------------------------------------------------------------------


def _dimension_codes(codebook: Codebook, dimension: str) -> list[str]:
    codes = [c.id for c in codebook.codes if c.dimension == dimension]
    if not codes:
        raise ValueError(
            f"no code in dimension {dimension!r}; dimensions are {list(codebook.dimensions)}"
        )
    return codes


def codes_cooccurrence(
    wide: pd.DataFrame,
    codebook: Codebook,
    *,
    rows: str | None = None,
    cols: str | None = None,
    kinds: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the matrix coding query of two dimensions: units coded with both codes of each pair.

    ``rows``/``cols`` are dimensions of the codebook (default: its first and second dimension, e.g.
    logic × mechanism); the same dimension twice gives the code × code co-occurrence. Columns:
    row_code, row_label, col_code, col_label, n_row, n_col, n_both, jaccard (n_both / units with
    either), unit_ids (the units coded with both).
    """
    dims = list(codebook.dimensions)
    rows = rows or dims[0]
    cols = cols or (dims[1] if len(dims) > 1 else dims[0])
    u = units_select(wide, kinds)
    out = []
    for a in _dimension_codes(codebook, rows):
        for b in _dimension_codes(codebook, cols):
            ma, mb = u[a] == 1, u[b] == 1
            both, either = int((ma & mb).sum()), int((ma | mb).sum())
            out.append(
                {
                    "row_dimension": rows,
                    "row_code": a,
                    "row_label": codebook.code(a).label_zh,
                    "col_dimension": cols,
                    "col_code": b,
                    "col_label": codebook.code(b).label_zh,
                    "n_row": int(ma.sum()),
                    "n_col": int(mb.sum()),
                    "n_both": both,
                    "jaccard": both / either if either else 0.0,
                    "unit_ids": _ids(u, ma & mb),
                }
            )
    return pd.DataFrame(out)


def sections_profile(
    wide: pd.DataFrame, codebook: Codebook, *, kinds: Sequence[str] | None = None
) -> pd.DataFrame:
    """Return, per top-level section and code, the share of the section's units coded with the code.

    Columns: doc_id, section, code, label_zh, dimension, units_coded, units, share, unit_ids. The same
    numbers as ``codes_frequency(by="section")``, without the bootstrap, in the shape of a heatmap.
    """
    freq = codes_frequency(wide, codebook, by="section", kinds=kinds)
    return freq[
        [
            "doc_id",
            "section",
            "code",
            "label_zh",
            "dimension",
            "units_coded",
            "units",
            "share",
            "unit_ids",
        ]
    ]


def sections_dominant(profile: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Return, per section and dimension, the code(s) coding the most units of the section.

    Columns: doc_id, section, dimension, dimension_label, dominant (code ids, ties joined by a space),
    dominant_label (labels joined by ``、``), units_coded, units, share, runner_up_share (the next
    smaller share, so a narrow lead shows). A section where no code of the dimension occurs gets ``—``.
    """
    rows = []
    for (doc, sec), g in profile.groupby(["doc_id", "section"], sort=False):
        for dim, meta in codebook.dimensions.items():
            d = g[g["dimension"] == dim]
            if d.empty:
                continue
            top = d["units_coded"].max()
            winners = d[d["units_coded"] == top] if top > 0 else d.iloc[:0]
            rest = sorted(
                set(d["share"]) - ({d["share"].max()} if top > 0 else set()), reverse=True
            )
            rows.append(
                {
                    "doc_id": doc,
                    "section": sec,
                    "dimension": dim,
                    "dimension_label": (meta or {}).get("label_zh", dim),
                    "dominant": " ".join(winners["code"]) or "—",
                    "dominant_label": "、".join(winners["label_zh"]) or "—",
                    "units_coded": int(top),
                    "units": int(d["units"].iloc[0]),
                    "share": float(d["share"].max()),
                    "runner_up_share": rest[0] if rest else 0.0,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# 4 Numbers
# --------------------------------------------------------------------------------------------------

_CN = "零〇一二两三四五六七八九十百千"
_CN_NUM = f"[{_CN}][{_CN}万亿]*"
_AR_NUM = r"\d+(?:\.\d+)?"

#: unit as written after the number → (quantity_type, base_unit, factor to the base unit)
UNITS: dict[str, tuple[str, str, float]] = {
    "元": ("amount", "元", 1),
    "美元": ("amount", "美元", 1),
    "人次": ("people", "人次", 1),
    "人": ("people", "人", 1),
    "名": ("people", "人", 1),
    "位": ("people", "人", 1),
    "户": ("households", "户", 1),
    "%": ("share", "%", 1),
    "个百分点": ("share_points", "百分点", 1),
    "个月": ("duration", "月", 1),
    "年": ("duration", "年", 1),
    "天": ("duration", "天", 1),
    "亩": ("area", "亩", 1),
    "公顷": ("area", "公顷", 1),
    "平方米": ("area", "平方米", 1),
    "平方公里": ("area", "平方公里", 1),
    "吨": ("weight", "吨", 1),
    "公斤": ("weight", "公斤", 1),
    "公里": ("length", "公里", 1),
    "千瓦": ("power", "千瓦", 1),
    "倍": ("ratio", "倍", 1),
    **{
        u: ("count", u, 1)
        for u in (
            "个",
            "家",
            "次",
            "份",
            "项",
            "所",
            "座",
            "批",
            "条",
            "种",
            "期",
            "届",
            "场",
            "处",
            "台",
            "套",
            "篇",
            "部",
            "类",
            "支",
            "间",
        )
    },
    # places counted directly (两省区, 9县); the unit is itself the counted noun
    **{
        u: ("count", u, 1)
        for u in ("省区", "省份", "省", "市", "县", "区", "乡", "镇", "村", "地", "州")
    },
}
PLACE_UNITS = frozenset({"省区", "省份", "省", "市", "县", "区", "乡", "镇", "村", "地", "州"})
PEOPLE_NOUNS = ("人口", "人员", "群众", "劳动力", "农民", "干部", "人才", "人")
_MAGNITUDES = {"万亿": 10**12, "亿": 10**8, "万": 10**4, "千": 10**3}

#: spans that contain a numeral but are not quantities, tried in this order (name, pattern, reason)
EXCLUSIONS: tuple[tuple[str, str, str], ...] = (
    ("doc_number", r"[〔\[［]\d{4}[〕\]］]\s*第?\d+\s*号", "document number (发文字号)"),
    (
        "model_name",
        r"\d+(?:\s*[+＋]\s*(?:\d+|N|n|X|x))+",
        "name of a model or scheme such as “1+1+1”",
    ),
    ("plan_name", r"十[一二三四五六七八九]五", "five-year plan name (“十四五”)"),
    (
        "party_congress",
        f"(?:党的)?[{_CN}]+(?:大(?=以来|精神|报告|代表|召开|提出|强调|$|[，。、；）”])|届[{_CN}]*中全会)",
        "ordinal: party congress or plenum (党的十八大)",
    ),
    ("ordinal", f"第(?:{_AR_NUM}|[{_CN}]+)", "ordinal (第N)"),
    (
        "slogan",
        "两个确立|两个维护|四个意识|四个自信|四个全面|三个代表|五位一体|四个不摘|两不愁三保障",
        "political slogan naming a set (四个不摘)",
    ),
    (
        "idiom",
        "千家万户|千方百计|千千万万|一家一户|一村一品|一县一业|一乡一业|一批又一批|一次性",
        "idiom or fixed phrase",
    ),
    ("quoted_name", "“[^”]{0,10}”", "short quoted name (“…”) containing a numeral"),
    (
        "indefinite",
        f"(?<![{_CN}\\d])一(?:批|种|条|个|项|位|些|次|名|家|场)",
        "indefinite 一 (一批, 一种: “a”, not a count)",
    ),
)
_EXCLUSIONS = [(name, re.compile(p), reason) for name, p, reason in EXCLUSIONS]
_HAS_NUMERAL = re.compile(f"[\\d{_CN}]")

_UNIT_ALT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_QUANTITY = re.compile(
    r"(?<![\dA-Za-z.])"
    r"(?:(?P<year>\d{4}|[〇零一二三四五六七八九]{4})年"
    r"(?:(?P<month>\d{1,2})月(?:(?P<day>\d{1,2})日)?|(?P<part>上半年|下半年|年底|年末|年初|底|末|初))?"
    r"|(?P<percent_cn>百分之(?:" + _AR_NUM + f"|[{_CN}]+))"
    r"|(?:(?P<ar>" + _AR_NUM + r")(?P<mag>万亿|亿|万|千)?|(?P<cn>" + _CN_NUM + r"))"
    r"(?P<approx>余|多)?(?P<unit>" + _UNIT_ALT + r")?)"
    r"(?![A-Za-z])"
)
_APPROX_BEFORE = re.compile(r"(约|近|超过|逾|不到|不足)$")
_APPROX_AFTER = re.compile(r"^(左右|以上|以下|以内|上下)")

NUMBER_COLUMNS = [
    "doc_id",
    "unit_id",
    "start",
    "end",
    "value",
    "number",
    "unit",
    "value_base",
    "base_unit",
    "quantity_type",
    "qualifier",
    "date",
    "what",
    "sentence",
]
EXCLUDED_COLUMNS = ["doc_id", "unit_id", "start", "end", "value", "rule", "reason", "sentence"]


def _cn2an(s: str) -> float:
    """Convert an Arabic or Chinese numeral (with 万/亿) to a number with cn2an (万亿 handled in two steps)."""
    import cn2an

    if s.endswith("万亿"):
        return float(cn2an.cn2an(s[:-1], "smart")) * 10**8
    if re.fullmatch("[〇零一二三四五六七八九]+", s) and len(s) > 1:  # digit by digit: 二〇二一
        return float(cn2an.cn2an(s, "normal"))
    return float(cn2an.cn2an(s, "smart"))


def _has_candidate(text: str) -> bool:
    """True when ``text`` holds something :func:`numbers_extract` would otherwise take as a quantity."""
    return any(
        m.group("ar")
        or m.group("year")
        or m.group("percent_cn")
        or (m.group("cn") and m.group("unit"))
        for m in _QUANTITY.finditer(text)
    )


def _exclusions(text: str) -> list[tuple[int, int, str, str]]:
    """Return (start, end, rule, reason) of every excluded span of ``text`` holding a numeral."""
    out: list[tuple[int, int, str, str]] = []
    taken: list[tuple[int, int]] = []
    for name, rx, reason in _EXCLUSIONS:
        for m in rx.finditer(text):
            s, e = m.span()
            if not _HAS_NUMERAL.search(m.group(0)) or any(s < b and a < e for a, b in taken):
                continue
            if name == "quoted_name" and not _has_candidate(m.group(0)):
                continue  # a quotation without a would-be quantity (“统一”) is nothing to exclude
            taken.append((s, e))
            out.append((s, e, name, reason))
    return sorted(out)


def _sentence(text: str, start: int) -> str:
    from helpers.text import text_split_sentences

    for s, e in text_split_sentences(text):
        if s <= start < e:
            return text[s:e]
    return text


_PUNCT = set("，。；：、！？（）()“”‘’《》〈〉【】—…,.;:!?\"' \n")
_STOP_AFTER = {
    "全部",
    "均",
    "都",
    "已",
    "已经",
    "与",
    "和",
    "及",
    "以及",
    "等",
    "以来",
    "左右",
    "以上",
    "以下",
    "以内",
    "上下",
    "之间",
    "其中",
    "分别",
    "共",
    "累计",
}
_LINK_BEFORE = {
    "有",
    "达到",
    "达",
    "为",
    "是",
    "共",
    "累计",
    "约",
    "近",
    "超过",
    "逾",
    "已",
    "了",
    "过",
    "共计",
    "合计",
    "总计",
    "先后",
    "计",
}
_LEADING_DROP = {"同时", "并", "还", "而", "且", "此外", "其中"}
_BREAK_TAGS = ("v", "vd", "vi", "vq", "p", "c", "ul", "ug", "uz", "uv", "r", "y", "e")


def _nominal(tag: str) -> bool:
    return tag.startswith("n") or tag in {"l", "j", "vn", "zg", "nz", "i", "ng", "vg", "an"}


def _what(
    tokens: list[tuple[int, int, str, str]], start: int, end: int, unit: str, qtype: str
) -> str:
    """Best-effort noun phrase a quantity counts; see :func:`numbers_extract` for the heuristic."""
    if qtype in ("year", "date"):
        return ""
    if unit in PLACE_UNITS:
        return unit
    # tokens after / before the span; a token straddling the span edge keeps only its outside part
    after = [(max(s, end), e, w[max(s, end) - s :], tag) for s, e, w, tag in tokens if e > end]
    before = [
        (s, min(e, start), w[: min(e, start) - s], tag) for s, e, w, tag in tokens if s < start
    ]
    # forward: 54.82亿元的[帮扶资金], 27次[联席会议], 9个[贫困县]的脱贫摘帽, 5次[出席联席会议]
    phrase: list[str] = []
    tags: list[str] = []
    for i, (_, _, w, tag) in enumerate(after):
        if i == 0 and w in ("的", "之"):
            continue
        if not w or w in _STOP_AFTER or w[0] in _PUNCT:
            break
        nxt = after[i + 1][3] if i + 1 < len(after) else "x"
        if any(_nominal(t) for t in tags) and (
            tag in _BREAK_TAGS or (w == "的" and nxt in _BREAK_TAGS)
        ):
            break
        phrase.append(w)
        tags.append(tag)
    while tags and not _nominal(tags[-1]):
        phrase.pop()
        tags.pop()
    if phrase:
        return "".join(phrase)
    # backward: 落地宁夏的[项目]有908个, [实际到资]392.11亿元, [帮助宁夏劳动力在福建就业]3799人
    clause: list[tuple[str, str]] = []
    for _, _, w, tag in reversed(before):
        if not w or w[-1] in _PUNCT:
            break
        clause.insert(0, (w, tag))
    while clause and clause[-1][0] in _LINK_BEFORE:
        clause.pop()
    while clause and clause[0][0] in _LEADING_DROP:
        clause.pop(0)
    if clause and (clause[-1][1].startswith("n") or clause[-1][1] in ("l", "nz")):
        head: list[str] = []
        for w, tag in reversed(clause):
            if not (tag.startswith("n") or tag in ("l", "nz")):
                break
            head.insert(0, w)
        return "".join(head)
    return "".join(w for w, _ in clause)


def _quantities(text: str) -> list[dict]:
    """Return the quantities of one text (no ``what`` yet); excluded spans are skipped."""
    excluded = [(s, e) for s, e, _, _ in _exclusions(text)]
    out = []
    for m in _QUANTITY.finditer(text):
        s, e = m.span()
        if any(s < b and a < e for a, b in excluded):
            continue
        g = m.groupdict()
        rec = {"start": s, "end": e, "value": m.group(0), "qualifier": "", "date": ""}
        if g["year"]:
            y = int(_cn2an(g["year"]))
            if not 1900 <= y <= 2100:
                rec.update(
                    number=float(y),
                    unit="年",
                    value_base=float(y),
                    base_unit="年",
                    quantity_type="duration",
                )
            else:
                part = g["part"] or ""
                if g["month"]:
                    date = f"{y:04d}-{int(g['month']):02d}" + (
                        f"-{int(g['day']):02d}" if g["day"] else ""
                    )
                    unit = "年月日" if g["day"] else "年月"
                elif part in ("底", "末", "年底", "年末"):
                    date, unit = f"{y:04d}-12-31", "年" + part.lstrip("年")
                else:
                    date, unit = f"{y:04d}", "年" + part.lstrip("年") if part else "年"
                rec.update(
                    number=float(y),
                    unit=unit,
                    value_base=float(y),
                    base_unit="年",
                    quantity_type="date" if (g["month"] or part) else "year",
                    date=date,
                )
        elif g["percent_cn"]:
            n = _cn2an(g["percent_cn"][3:])
            rec.update(number=n, unit="%", value_base=n, base_unit="%", quantity_type="share")
        else:
            unit = g["unit"] or ""
            if g["cn"]:
                cn = g["cn"]
                if not unit:
                    continue  # a Chinese numeral without a unit (统一, 一体) is not a quantity
                mag = cn[-1] if len(cn) > 1 and cn[-1] in "万亿" else ""
                number, full = _cn2an(cn[: len(cn) - len(mag)]), _cn2an(cn)
            else:
                mag = g["mag"] or ""
                number, full = _cn2an(g["ar"]), _cn2an(g["ar"] + mag)
            qtype, base_unit, factor = UNITS.get(unit, ("number", "", 1))
            rec.update(
                number=number,
                unit=mag + (g["approx"] or "") + unit,
                value_base=full * factor,
                base_unit=base_unit,
                quantity_type=qtype,
            )
            if g["approx"]:
                rec["qualifier"] = g["approx"]
        before = _APPROX_BEFORE.search(text[max(0, s - 2) : s])
        after = _APPROX_AFTER.match(text[e : e + 2])
        parts = (before and before.group(1), rec["qualifier"], after and after.group(1))
        rec["qualifier"] = "".join(x for x in parts if x)
        out.append(rec)
    return out


def numbers_extract(
    units: pd.DataFrame, *, segmenter=None, text_col: str = "text", id_col: str = "unit_id"
) -> pd.DataFrame:
    """Return every quantity in the units: one row per number, with what it counts and where it is.

    Columns: doc_id, unit_id, start, end (span of ``value`` in the unit text), value (as written:
    ``54.82亿元``, ``80.3万``, ``两省区``, ``2023年底``), number (the numeral: 54.82, 80.3, 2), unit (as
    written after it: ``亿元``, ``万``, ``省区``), value_base (in the base unit: 5482000000, 803000, 2),
    base_unit (元, 人, 省区 …), quantity_type (amount, people, households, count, share, share_points,
    year, date, duration, area, weight, length, power, ratio, number), qualifier (约/近/超过 before,
    余/多 inside, 左右/以上 after), date (ISO: ``1996``, ``2024-06``; ``年底`` → ``-12-31``), what (the
    noun phrase counted, best effort), sentence (the sentence holding the number).

    What is a quantity: an Arabic number (with 万/亿/万亿/千 and an optional unit from :data:`UNITS`),
    a Chinese numeral followed by a unit (五次, 两省区; a bare Chinese numeral is not a quantity: 统一,
    一体), 百分之N, and years and dates (1996年, 2024年6月, 2023年底; a 4-digit “year” outside 1900–2100
    is a duration). Numerals are converted with ``cn2an``. Not quantities, and listed by
    :func:`numbers_excluded` with the rule: document numbers (〔2021〕10号), model names (“1+1+1”), plan
    names (十四五), ordinals (第N, 党的十八大), slogans naming a set (四个不摘), idioms (千家万户),
    numerals inside a short quotation (“…”, ≤ 10 characters: a name) and the indefinite 一 (一批, 一种).
    Numbers glued to Latin letters (5G) are skipped.

    ``what`` (needs jieba: ``segmenter`` from :func:`helpers.tokens.segmenter_make`, made with the
    default user dictionary when None): for places (两省区, 9县) the place noun itself; else the noun
    phrase right after the quantity (skipping 的), cut at punctuation, at 全部/等/左右 …, and at a verb
    after its first noun, ending on a noun (54.82亿元的帮扶资金 → 帮扶资金; 9个贫困县的脱贫摘帽 →
    贫困县; 5次出席联席会议 → 出席联席会议); when nothing follows, or for people counted with 人, the
    clause before it, without 有/达到/为/累计 …: its final nouns when it ends on a noun (落地宁夏的项目
    有908个 → 项目), else the whole clause (帮助宁夏劳动力在福建就业3799人). A bare magnitude whose
    phrase ends in a people noun (80.3万的建档立卡贫困人口) becomes quantity_type people, base unit 人.
    Years and dates get no ``what``.
    """
    from helpers.text import text_simplify_aligned

    if segmenter is None:
        from helpers.tokens import segmenter_make

        segmenter = segmenter_make()
    rows = []
    doc_ids = units["doc_id"] if "doc_id" in units else pd.Series("", index=units.index)
    for doc_id, uid, text in zip(doc_ids, units[id_col], units[text_col].astype(str)):
        found = _quantities(text)
        if not found:
            continue
        toks, pos = [], 0
        for w in segmenter.cut(text_simplify_aligned(text)):
            toks.append((pos, pos + len(w), text[pos : pos + len(w)], segmenter.pos(w)))
            pos += len(w)
        for rec in found:
            what = _what(
                toks,
                rec["start"],
                rec["end"],
                rec["unit"].lstrip("万亿千余多") or rec["unit"],
                rec["quantity_type"],
            )
            if rec["quantity_type"] == "number" and what.endswith(PEOPLE_NOUNS):
                rec.update(quantity_type="people", base_unit="人")
            rows.append(
                {
                    "doc_id": doc_id,
                    "unit_id": uid,
                    **rec,
                    "what": what,
                    "sentence": _sentence(text, rec["start"]),
                }
            )
    out = pd.DataFrame(rows, columns=NUMBER_COLUMNS)
    out["start"] = out["start"].astype(int)
    out["end"] = out["end"].astype(int)
    return out


def numbers_excluded(
    units: pd.DataFrame, *, text_col: str = "text", id_col: str = "unit_id"
) -> pd.DataFrame:
    """Return the numerals :func:`numbers_extract` deliberately leaves out, with the rule and the reason.

    So exclusions can be reviewed: every document number, plan name, ordinal, slogan, idiom, short
    quoted name and indefinite 一 that holds a numeral. Columns: doc_id, unit_id, start, end, value,
    rule, reason, sentence.
    """
    rows = []
    doc_ids = units["doc_id"] if "doc_id" in units else pd.Series("", index=units.index)
    for doc_id, uid, text in zip(doc_ids, units[id_col], units[text_col].astype(str)):
        for s, e, rule, reason in _exclusions(text):
            rows.append(
                {
                    "doc_id": doc_id,
                    "unit_id": uid,
                    "start": s,
                    "end": e,
                    "value": text[s:e],
                    "rule": rule,
                    "reason": reason,
                    "sentence": _sentence(text, s),
                }
            )
    return pd.DataFrame(rows, columns=EXCLUDED_COLUMNS)


# --------------------------------------------------------------------------------------------------
# 5 Figures
# --------------------------------------------------------------------------------------------------


def _dimension_label(codebook: Codebook, dim: str) -> str:
    return (codebook.dimensions.get(dim) or {}).get("label_zh", dim)


def shares_plot(
    freq: pd.DataFrame,
    codebook: Codebook,
    *,
    confidence_level: float = 0.95,
    title: str | None = None,
):
    """Return a figure: share of units coded per code and document, one panel per dimension, with CIs.

    ``freq`` is :func:`codes_frequency` by document (rows of other groupings are ignored); error bars
    are its bootstrap interval when it has one (``confidence_level`` only labels them). Bars side by
    side, not stacked: units carry several codes, so shares do not add up to a whole.
    """
    import matplotlib.pyplot as plt

    from helpers import plots

    f = freq[freq["grouping"] == "document"]
    docs = list(pd.unique(f["doc_id"]))
    dims = [d for d in codebook.dimensions if (f["dimension"] == d).any()]
    if title is None:
        has_ci = f["ci_low"].notna().all()
        title = "各文档编码单元占比" + (
            f"（{confidence_level:.0%}自助法置信区间）" if has_ci else ""
        )
    palette = list(plots.palette_assign(docs).values())  # colour-blind-safe, in corpus order
    widths = [len(_dimension_codes(codebook, d)) for d in dims]
    fig, axes = plt.subplots(
        1,
        len(dims),
        figsize=(1.4 * sum(widths) + 2, 4.8),
        sharey=True,
        gridspec_kw={"width_ratios": widths},
        squeeze=False,
    )
    bar = 0.8 / max(1, len(docs))
    for ax, dim in zip(axes[0], dims):
        codes = _dimension_codes(codebook, dim)
        for k, doc in enumerate(docs):
            d = f[f["doc_id"] == doc].set_index("code").reindex(codes)
            x = np.arange(len(codes)) + (k - (len(docs) - 1) / 2) * bar
            err = None
            if d["ci_low"].notna().all():
                err = np.vstack([d["share"] - d["ci_low"], d["ci_high"] - d["share"]]).clip(min=0)
            ax.bar(
                x,
                d["share"],
                width=bar,
                color=palette[k],
                label=doc,
                yerr=err,
                capsize=3,
                error_kw={"elinewidth": 1, "ecolor": "#444444"},
            )
        ax.set_xticks(np.arange(len(codes)), [codebook.code(c).label_zh for c in codes])
        ax.grid(axis="x", visible=False)
        ax.set_title(_dimension_label(codebook, dim))
        ax.set_xlabel("")
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    axes[0][0].set_ylabel("编码单元占比")
    axes[0][-1].legend(title="文档", frameon=False, loc="upper right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def composition_plot(
    freq: pd.DataFrame, codebook: Codebook, *, title: str = "各文档各维度编码的构成"
):
    """Return a figure: per document and dimension, stacked bars of each code's part of the codings.

    Each bar is one document's codings in one dimension (100 %), split by code and labelled with the
    counts: which logics (mechanisms) a document leans on, relative to each other.
    """
    import matplotlib.pyplot as plt

    from helpers import plots

    f = freq[freq["grouping"] == "document"]
    docs = list(pd.unique(f["doc_id"]))
    dims = [d for d in codebook.dimensions if (f["dimension"] == d).any()]
    fig, axes = plt.subplots(
        1, len(dims), figsize=(3.2 * len(dims) + 1.6 * len(docs), 5.4), sharey=True, squeeze=False
    )
    for ax, dim in zip(axes[0], dims):
        codes = _dimension_codes(codebook, dim)
        colors = list(
            plots.palette_assign(codes).values()
        )  # codebook order: stable when one is added
        bottom = np.zeros(len(docs))
        counts = (
            f[f["dimension"] == dim]
            .pivot_table(
                index="doc_id", columns="code", values="units_coded", aggfunc="sum", sort=False
            )
            .reindex(index=docs, columns=codes)
        )
        totals = counts.sum(axis=1).to_numpy(dtype=float)
        for c, col in zip(codes, colors):
            n = counts[c].to_numpy(dtype=float)
            part = np.divide(n, totals, out=np.zeros_like(n), where=totals > 0)
            ax.bar(
                docs,
                part,
                bottom=bottom,
                color=col,
                label=codebook.code(c).label_zh,
                width=0.6,
                edgecolor="white",
            )
            for i, (p, k) in enumerate(zip(part, n)):
                if k > 0 and p >= 0.04:  # narrower segments: the count is in the table only
                    ax.text(
                        i,
                        bottom[i] + p / 2,
                        f"{int(k)}",
                        ha="center",
                        va="center",
                        fontsize=11 if p >= 0.06 else 9,
                        color=plots.text_colour_on(col),
                    )
            bottom += part
        ax.set_title(_dimension_label(codebook, dim))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.grid(axis="x", visible=False)
        ax.legend(
            frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=10
        )
    axes[0][0].set_ylabel("占该维度编码次数的比例（柱内数字：编码单元数）")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def cooccurrence_plot(cooc: pd.DataFrame, codebook: Codebook, *, title: str | None = None):
    """Return a heatmap of :func:`codes_cooccurrence`: colour = Jaccard, text = units coded with both.

    The title names the two dimensions by their Chinese labels (五重逻辑 × 五项机制 by default).
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    rows = list(pd.unique(cooc["row_label"]))
    cols = list(pd.unique(cooc["col_label"]))
    jac = cooc.pivot(index="row_label", columns="col_label", values="jaccard").reindex(
        index=rows, columns=cols
    )
    n = cooc.pivot(index="row_label", columns="col_label", values="n_both").reindex(
        index=rows, columns=cols
    )
    annot = n.astype(int).astype(str) + "\n" + jac.map(lambda v: f"J={v:.2f}")
    row_dim = _dimension_label(codebook, cooc["row_dimension"].iloc[0])
    col_dim = _dimension_label(codebook, cooc["col_dimension"].iloc[0])
    title = title or f"{row_dim} × {col_dim} 共现（格内：同时编码的单元数与 Jaccard 指数）"
    fig, ax = plt.subplots(figsize=(1.5 * len(cols) + 2.5, 1.0 * len(rows) + 1.8))
    sns.heatmap(
        jac,
        annot=annot,
        fmt="",
        cmap="YlGnBu",
        vmin=0,
        vmax=max(0.01, float(jac.max().max())),
        linewidths=0.5,
        cbar_kws={"label": "Jaccard 指数"},
        ax=ax,
        annot_kws={"fontsize": 10},
    )
    ax.set_xlabel(col_dim)
    ax.set_ylabel(row_dim)
    ax.tick_params(axis="x", rotation=0)
    ax.tick_params(axis="y", rotation=0)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def profile_plot(profile: pd.DataFrame, codebook: Codebook, *, title: str = "各部分编码单元占比"):
    """Return a heatmap of :func:`sections_profile`: sections (rows) × codes (columns), share of units.

    Rows are ``doc_id｜section`` with the number of units; a vertical line separates the dimensions.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    p = profile.copy()
    p["row"] = p["doc_id"] + " " + p["section"] + "（n=" + p["units"].astype(str) + "）"
    rows = list(pd.unique(p["row"]))
    codes = [c for c in codebook.ids if c in set(p["code"])]
    m = p.pivot(index="row", columns="code", values="share").reindex(index=rows, columns=codes)
    m.columns = [codebook.code(c).label_zh for c in codes]
    fig, ax = plt.subplots(figsize=(1.0 * len(codes) + 6, 0.55 * len(rows) + 2.2))
    sns.heatmap(
        m,
        annot=m.map(lambda v: f"{v:.0%}"),
        fmt="",
        cmap="Reds",
        vmin=0,
        vmax=1,
        linewidths=0.5,
        cbar_kws={"label": "编码单元占比"},
        ax=ax,
        annot_kws={"fontsize": 11},
    )
    dims = [codebook.code(c).dimension for c in codes]
    for j in range(1, len(codes)):
        if dims[j] != dims[j - 1]:
            ax.axvline(j, color="black", linewidth=1.5)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=45)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def residuals_plot(
    residuals: pd.DataFrame,
    codebook: Codebook,
    *,
    by: str = "doc_id",
    title: str = "文档 × 编码 调整标准化残差（括号内：编码单元数；*：|r| > 1.96）",
):
    """Return a heatmap of :func:`codes_residuals`: blue below, red above independence; * where |r| > 1.96."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    docs = list(pd.unique(residuals[by]))
    codes = [c for c in codebook.ids if c in set(residuals["code"])]
    m = residuals.pivot(index=by, columns="code", values="residual_adjusted").reindex(
        index=docs, columns=codes
    )
    o = residuals.pivot(index=by, columns="code", values="observed").reindex(
        index=docs, columns=codes
    )
    annot = (
        m.map(lambda v: f"{v:+.2f}" + ("*" if abs(v) > 1.96 else ""))
        + "\n("
        + o.astype(int).astype(str)
        + ")"
    )
    m.columns = [codebook.code(c).label_zh for c in codes]
    lim = max(2.5, float(np.nanmax(np.abs(m.to_numpy()))) if m.size else 2.5)
    fig, ax = plt.subplots(figsize=(1.1 * len(codes) + 3, 0.8 * len(docs) + 2.4))
    sns.heatmap(
        m,
        annot=annot,
        fmt="",
        cmap="RdBu_r",
        center=0,
        vmin=-lim,
        vmax=lim,
        linewidths=0.5,
        cbar_kws={"label": "调整标准化残差"},
        ax=ax,
        annot_kws={"fontsize": 10},
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=45)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# 6 Paper tables
# --------------------------------------------------------------------------------------------------

EXACT_COLUMNS = ("number", "value_base")  # written in full, not with 6 significant digits
MARKDOWN_DROP = ("unit_ids", "sentence", "text", "note")


def _exact(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in EXACT_COLUMNS:
        if c in out and pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.15g}")
    return out


def _markdown(df: pd.DataFrame) -> str:
    d = _exact(df.drop(columns=[c for c in MARKDOWN_DROP if c in df.columns]))
    for c in d.columns:
        if pd.api.types.is_float_dtype(d[c]):
            d[c] = d[c].map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
    d = d.astype(str).replace({"nan": ""})
    return d.to_markdown(index=False, disable_numparse=True)


def excel_write(tables: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Write one workbook, one sheet per table (sheet names ≤ 31 characters); return the path.

    Saved with :func:`helpers.tables.workbook_save` (fixed document and zip timestamps), so the same
    tables give the same bytes.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    p = path_resolve(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    for name, df in tables.items():
        ws = wb.create_sheet(name[:31])
        ws.append([str(c) for c in df.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in df.itertuples(index=False):
            ws.append(
                [
                    None
                    if (isinstance(v, float) and math.isnan(v))
                    else v.item()
                    if hasattr(v, "item")
                    else v
                    for v in row
                ]
            )
        for j, c in enumerate(df.columns, start=1):
            width = min(60, max([len(str(c))] + [len(str(v)) for v in df[c].head(50)]) + 2)
            ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = width
    wb.properties.creator = "helpers.summaries"
    return workbook_save(wb, p)


def summaries_write(
    tables: dict[str, pd.DataFrame],
    tables_dir: str | Path,
    *,
    prefix: str = "summary",
    titles: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Write each table as ``<prefix>_<name>.csv``, all of them to ``<prefix>_tables.xlsx`` and ``.md``.

    CSV via :func:`helpers.tables.table_write` (byte-reproducible; ``number``/``value_base`` written in
    full). The workbook has one sheet per table; the Markdown file one section per table (``titles`` give
    the headings), without the long columns (unit ids, sentences, notes: they are in the CSVs), for
    pasting into a paper. Returns the paths by table name, plus ``xlsx`` and ``markdown``.
    """
    out_dir = path_resolve(tables_dir)
    written = {
        name: table_write(_exact(df), out_dir / f"{prefix}_{name}.csv")
        for name, df in tables.items()
    }
    written["xlsx"] = excel_write(tables, out_dir / f"{prefix}_tables.xlsx")
    titles = titles or {}
    parts = [
        f"# {prefix} tables\n",
        "Generated by notebook 04; the CSV files hold every column (unit ids, sentences, notes).\n",
    ]
    for name, df in tables.items():
        parts.append(f"## {titles.get(name, name)}\n\n`{prefix}_{name}.csv`\n\n{_markdown(df)}\n")
        if "note" in df.columns:
            parts.extend(f"- {n}\n" for n in df["note"].astype(str) if n and n != "nan")
    md = out_dir / f"{prefix}_tables.md"
    text_write("\n".join(parts), md)  # atomic, as the CSV files
    written["markdown"] = md
    return written
