"""Document × code: the crosstab, its test of independence, residuals and one test per code.

Split from :mod:`helpers.summaries` (which still answers to these names): :func:`codes_crosstab`,
:func:`codes_independence` (chi-square, Cramér's V, a whole-unit permutation test when expected
counts are small or units carry several codes, Fisher's exact test for 2 × 2),
:func:`codes_residuals` (Haberman's adjusted residuals) and :func:`codes_document_tests` (one
document × coded/not table per code), with the Monte-Carlo machinery they share
(:func:`permutation_chi2`, :func:`fisher_freeman_halton_mc`). Seeded by a parameter: the same
inputs give byte-identical tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.codebook import Codebook
from helpers.summaries import MIN_EXPECTED, _code_info, _seed, units_select


def codes_crosstab(
    wide: pd.DataFrame,
    codebook: Codebook,
    *,
    by: str = "doc_id",
    kinds: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the document × code table: cells are units coded with the code (index: ``by``).

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
    """Pearson's X² of a stack of tables (..., r, c); rows or columns summing to 0 contribute 0."""
    n = tables.sum(axis=(-2, -1), keepdims=True)
    e = tables.sum(axis=-1, keepdims=True) * tables.sum(axis=-2, keepdims=True) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(e > 0, (tables - e) ** 2 / e, 0.0)
    return terms.sum(axis=(-2, -1))


def _at_least(null: np.ndarray, observed: float) -> np.ndarray:
    """``null >= observed`` up to floating-point noise (scipy's ``permutation_test`` tolerance)."""
    return null >= observed - abs(np.finfo(float).eps * 100 * observed)


def permutation_chi2(
    labels: np.ndarray,
    codes: np.ndarray,
    *,
    n_permutations: int = 9999,
    random_seed: int = 0,
    max_cells: int = 2_000_000,
    method: str = "auto",
) -> tuple[float, float]:
    """Return (X², p) of a whole-unit permutation test of label × code independence.

    ``labels`` holds one group index per unit, ``codes`` the unit × code 0/1 matrix. The group
    labels are shuffled over the units, each unit keeping all its codes, and X² of the group × code
    table is recomputed. Because whole units move, the dependence between the codes of a multi-label
    unit is kept under the null hypothesis, which the asymptotic chi-square test ignores.

    Two ways to draw a relabelling, with the same distribution (both exact Monte-Carlo draws of
    the permutation null, not approximations), whichever costs less per draw for this table:

    - units with the same codes are interchangeable, so a random relabelling can be drawn as a
      random table of code patterns × groups with the observed margins (Patefield's algorithm,
      ``scipy.stats.random_table``), which has exactly the distribution the shuffled labels give.
      Its cost grows with patterns × groups, so it is used when that is at most units + codings
      (a few documents: the two-document corpus);
    - otherwise the labels themselves are shuffled (``Generator.permuted``) and each resample's
      group × code table is counted with one ``bincount`` over the codings, so its cost grows with
      units + codings, not with documents × patterns (hundreds of documents).

    Resamples are drawn in chunks of at most ``max_cells`` numbers, so memory is bounded whatever
    ``n_permutations`` and the corpus size; the same ``random_seed`` gives the same p. ``method``:
    ``"auto"`` (as above), ``"patefield"`` or ``"shuffle"``.
    p = (b + 1) / (n + 1), b = resamples with X² at least the observed; when n! ≤
    ``n_permutations`` every ordering of the units is enumerated and p is exact.
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
    rng = np.random.default_rng(random_seed)
    unit_nz, code_nz = np.nonzero(x)
    hits = 0
    if method not in ("auto", "patefield", "shuffle"):
        raise ValueError(f"method must be 'auto', 'patefield' or 'shuffle', not {method!r}")
    if method == "patefield" or (method == "auto" and len(patterns) * r <= n + len(unit_nz)):
        counts = np.zeros((len(patterns), r), dtype=np.int64)
        np.add.at(counts, (kind.ravel(), lab), 1)
        tables = stats.random_table(counts.sum(axis=1), counts.sum(axis=0))
        chunk = max(1, min(n_permutations, max_cells // counts.size))
        for start in range(0, n_permutations, chunk):
            m = min(chunk, n_permutations - start)
            drawn = tables.rvs(size=m, method="patefield", random_state=rng)  # (m, patterns, r)
            null = _chi2_batch(np.einsum("mpr,pk->mrk", drawn, patterns))
            hits += int(_at_least(null, observed).sum())
        return observed, (hits + 1) / (n_permutations + 1)
    k = x.shape[1]
    weights = x[unit_nz, code_nz]
    chunk = max(1, min(n_permutations, max_cells // max(n + len(unit_nz), r * k)))
    for start in range(0, n_permutations, chunk):
        m = min(chunk, n_permutations - start)
        shuffled = rng.permuted(np.tile(lab, (m, 1)), axis=1)  # (m, units): a group per unit
        cell = shuffled[:, unit_nz] * k + code_nz + (r * k) * np.arange(m)[:, None]
        drawn = np.bincount(cell.ravel(), weights=np.tile(weights, m), minlength=m * r * k)
        null = _chi2_batch(drawn.reshape(m, r, k))
        hits += int(_at_least(null, observed).sum())
    return observed, (hits + 1) / (n_permutations + 1)


def fisher_freeman_halton_mc(
    table: np.ndarray,
    *,
    n_permutations: int = 9999,
    rng: np.random.Generator | int | None = 0,
    max_cells: int = 2_000_000,
) -> float:
    """Return the Monte-Carlo p of the Fisher–Freeman–Halton test of a groups × (coded, not) table.

    Under independence, with the margins fixed, the coded units fall on the groups as a multivariate
    hypergeometric draw; ``n_permutations`` such tables are drawn at once with numpy
    (``Generator.multivariate_hypergeometric``, in chunks of at most ``max_cells`` cells). A table
    is at least as extreme as the observed one when its probability is not larger, i.e. when
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
    n_codings, rows, cols, chi2, df, p_chi2 (asymptotic), cramers_v, min_expected,
    cells_expected_lt5, multi_label_units, p_permutation, n_permutations, random_seed, p_fisher (2 ×
    2 only), test, p_value (the p of ``test``), note (why that test). Codes never coded are dropped
    (they would give zero expected counts), and named in ``note``.

    Which test: the asymptotic chi-square needs expected counts ≥ ``min_expected`` and independent
    observations. Cells are codings, and a unit with several codes contributes to several cells, so
    whenever some unit carries two codes of the table the whole-unit permutation test
    (:func:`permutation_chi2`) is reported; also when an expected count is small. For a 2 × 2 table
    of single-code units the table is an ordinary contingency table, and Fisher's exact test is
    reported.
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

    For each code, the document × (coded, not coded) table of units: a proper contingency table
    (each unit once). Columns: code, label_zh, dimension, then per document ``coded_<doc>`` and
    ``units_<doc>``, chi2, p_chi2 (Pearson, no continuity correction), phi (Cramér's V),
    min_expected, p_fisher (2 × 2: Fisher's exact), p_permutation (more than two documents and small
    expected counts: Fisher–Freeman–Halton by Monte-Carlo, :func:`fisher_freeman_halton_mc`),
    test, p_value, p_bh (Benjamini–Hochberg over the codes, scipy's ``false_discovery_control``).
    The test is chi-square when every expected count ≥ ``min_expected``, else the
    exact/permutation one.
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
