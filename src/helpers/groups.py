"""Comparisons by document variables: code shares per year, issuer, document type or any column.

quanteda groups by ``docvars``; KH Coder and NVivo tabulate codes by attribute. Here any column of
``data/corpus.csv`` is a grouping: ``year`` (derived from ``date`` unless the table has a ``year``
column of its own), ``issuer``, ``doc_type`` and whatever column a researcher adds. A document
belongs to the group its cell names, as written (a cell listing two issuers is one group); a blank
cell is the group :data:`MISSING`, shown in the tables and left out of the test and the trend.

- :func:`docvars_read`: the corpus table with the derived ``year``.
- :func:`shares_by_group`: per group and code, documents, units, units coded, the share and an
  interval from a **bootstrap over documents**.
- :func:`groups_test`: does the share differ between groups? A **permutation test that shuffles the
  documents' group labels**, with Cramér's V and the range of the shares as effect sizes.

**Why by document.** The units (sentences) of one document share an author, a genre and a purpose:
they are not independent draws. A unit-level interval or a chi-square test on units treats 300
sentences of one report as 300 observations, which makes every difference between two issuers look
certain. Both the interval and the test therefore resample or relabel whole documents: a group's
share is the ratio of its coded units to its units, and its variability is the variability between
documents. The bootstrap over documents (the cluster bootstrap) needs no model; a logistic GLM with
cluster-robust errors was not used because a code absent from a group (a share of 0, common here)
makes its estimate infinite, and sandwich errors are too small with a handful of documents per
group. The permutation test is exact under its null hypothesis (documents are exchangeable between
groups) whatever the number of documents, keeps each document's units and their several codes
together, and needs no expected count of 5. Its memory grows with permutations per chunk ×
documents (chunks of at most ``max_cells`` cells), not with units: 500 documents cost a few MB.

A group with fewer than ``min_documents`` documents (2) has no interval and is left out of the test:
one document cannot tell a difference between groups from a difference between documents. With
fewer than two such groups the test is "not assessed", with the reason, never an error. Randomness
is seeded by ``random_seed`` and keys (variable, group), so the same inputs give byte-identical
tables and adding a code or a document to another group leaves a group's interval as it was.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.codebook import Codebook
from helpers.errors import InputError
from helpers.summaries import units_select

YEAR = "year"
MISSING = "（未填）"  # the group of documents whose cell is blank
ALL_CODES = "(all codes)"
MIN_DOCUMENTS = 2
FEW_DOCUMENTS = 5  # below this the percentile bootstrap over documents is too narrow: said in note

SHARE_COLUMNS = [
    "variable",
    "group",
    "code",
    "label_zh",
    "dimension",
    "documents",
    "units",
    "units_coded",
    "share",
    "ci_low",
    "ci_high",
    "note",
    "doc_ids",
    "unit_ids",
]
TEST_COLUMNS = [
    "variable",
    "code",
    "label_zh",
    "dimension",
    "groups",
    "documents",
    "units",
    "units_coded",
    "statistic",
    "p_value",
    "p_bh",
    "cramers_v",
    "share_min",
    "group_min",
    "share_max",
    "group_max",
    "share_range",
    "test",
    "n_permutations",
    "arrangements",
    "assessed",
    "left_out",
    "note",
]
TEST_NAME = "permutation of documents' group labels (X² of group × coded/not)"


class GroupingError(InputError):
    """A grouping that cannot be made: the column does not exist in the corpus table.

    The path is the corpus table the document variables were read from (``docvars.attrs["path"]``,
    set by :func:`docvars_read`), the field the missing column.
    """


def _rng(random_seed: int, *keys: str) -> np.random.Generator:
    """A generator for one (variable, group): same seed and keys → same draws, in any order."""
    return np.random.default_rng([int(random_seed), *(zlib.crc32(k.encode("utf-8")) for k in keys)])


# --------------------------------------------------------------------------------------------------
# Document variables
# --------------------------------------------------------------------------------------------------


def docvars_read(corpus_table: str | Path) -> pd.DataFrame:
    """Return the document variables: the validated corpus table with ``year`` from ``date``.

    Read with :func:`helpers.corpus.corpus_read_table` (errors name the line and field). Every value
    is a string; ``year`` is the first four characters of ``date`` (``YYYY-MM-DD``, ``YYYY-MM`` or
    ``YYYY``), blank when the date is. A ``year`` column of the table's own is kept as it is.
    ``attrs["path"]`` keeps the table's path, so a grouping error names the table actually used.
    """
    from helpers.corpus import corpus_read_table
    from helpers.tables import path_resolve

    docvars = corpus_read_table(corpus_table)
    docvars.attrs["path"] = path_resolve(corpus_table)
    if YEAR not in docvars.columns:
        docvars[YEAR] = docvars["date"].astype(str).str.slice(0, 4)
    return docvars


def docvars_check(docvars: pd.DataFrame, variable: str) -> None:
    """Raise :class:`GroupingError` naming ``variable`` and the columns one can group by."""
    if variable not in docvars.columns or variable == "doc_id":
        available = [c for c in docvars.columns if c != "doc_id"]
        raise GroupingError(
            docvars.attrs.get("path", "the corpus table"),
            f"cannot group by {variable!r}: the corpus table has no such column; available: "
            f"{', '.join(available)} (or add a column to the corpus table)",
            field=variable,
        )


def groups_order(values: Sequence[str]) -> list[str]:
    """Return the distinct group values in order: by number if all are numbers, else by text.

    :data:`MISSING` comes last.
    """
    distinct = [v for v in dict.fromkeys(values) if v != MISSING]

    def number(v: str) -> float | None:
        try:
            return float(v)
        except ValueError:
            return None

    if distinct and all(number(v) is not None for v in distinct):
        ordered = sorted(distinct, key=lambda v: (number(v), v))
    else:
        ordered = sorted(distinct)
    return ordered + ([MISSING] if MISSING in values else [])


def _units_grouped(
    wide: pd.DataFrame, docvars: pd.DataFrame, variable: str, kinds: Sequence[str] | None
) -> pd.DataFrame:
    """The selected units with the column ``group`` (their document's value of ``variable``)."""
    docvars_check(docvars, variable)
    u = units_select(wide, kinds)
    values = docvars.drop_duplicates("doc_id").set_index("doc_id")[variable].astype(str)
    group = u["doc_id"].map(values).fillna("").str.strip()
    u["group"] = group.where(group != "", MISSING)
    return u


def _documents(u: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """One row per document: its group, units and coded units per code (documents in unit order)."""
    docs = u.groupby("doc_id", sort=False)
    out = docs[codes].sum().astype(int)
    out.insert(0, "units", docs.size())
    out.insert(0, "group", docs["group"].first())
    return out


# --------------------------------------------------------------------------------------------------
# Shares with intervals by document
# --------------------------------------------------------------------------------------------------


def documents_bootstrap(
    units: np.ndarray,
    coded: np.ndarray,
    *,
    n_bootstrap: int = 9999,
    confidence_level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
    max_cells: int = 2_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Return percentile intervals (lows, highs) of each code's share, resampling whole documents.

    ``units`` holds each document's number of units, ``coded`` its document × code counts of coded
    units. A resample draws as many documents as there are, with replacement; its share is the coded
    units of the drawn documents over their units (a ratio, so long documents weigh more, as in the
    pooled share). All codes from the same resamples, all resamples at once with numpy (each a row
    of how often each document was drawn), in chunks of at most ``max_cells`` counts.
    """
    rng = np.random.default_rng(rng)
    n_units = np.asarray(units, dtype=float)
    x = np.asarray(coded, dtype=float).reshape(len(n_units), -1)
    d = len(n_units)
    if d == 0:
        raise ValueError("no documents to resample")
    shares = np.empty((n_bootstrap, x.shape[1]))
    chunk = max(1, min(n_bootstrap, max_cells // d))
    for start in range(0, n_bootstrap, chunk):
        m = min(chunk, n_bootstrap - start)
        draws = rng.integers(0, d, (m, d)) + d * np.arange(m)[:, None]
        counts = np.bincount(draws.ravel(), minlength=m * d).reshape(m, d)
        shares[start : start + m] = (counts @ x) / (counts @ n_units)[:, None]
    alpha = (1 - confidence_level) / 2
    lows, highs = np.quantile(shares, [alpha, 1 - alpha], axis=0)
    return lows, highs


def shares_by_group(
    wide: pd.DataFrame,
    docvars: pd.DataFrame,
    codebook: Codebook,
    variable: str,
    *,
    kinds: Sequence[str] | None = None,
    n_bootstrap: int = 9999,
    confidence_level: float = 0.95,
    random_seed: int = 0,
    min_documents: int = MIN_DOCUMENTS,
) -> pd.DataFrame:
    """Return, per group of ``variable`` and code, the share of units coded with its interval.

    ``wide`` is notebook 03's unit × code table, ``docvars`` :func:`docvars_read`. Columns
    (:data:`SHARE_COLUMNS`): variable, group, code, label_zh, dimension, documents, units,
    units_coded, share (coded units / units of the group), ci_low, ci_high (percentile bootstrap
    over the group's documents, :func:`documents_bootstrap`, ``n_bootstrap`` resamples seeded by
    ``random_seed``, the variable and the group; empty for a group of fewer than ``min_documents``
    documents or when ``n_bootstrap`` is 0), note (why there is no interval, or that it is too
    narrow with fewer than :data:`FEW_DOCUMENTS` documents), doc_ids, unit_ids (the coded units).
    Raises :class:`GroupingError` when ``variable`` is not a column of ``docvars``.
    """
    u = _units_grouped(wide, docvars, variable, kinds)
    codes = list(codebook.ids)
    docs = _documents(u, codes)
    rows = []
    for group in groups_order(list(docs["group"])):
        g = docs[docs["group"] == group]
        gu = u[u["group"] == group]
        n_docs, n_units = len(g), int(g["units"].sum())
        lows = highs = np.full(len(codes), np.nan)
        if n_docs < min_documents:
            note = (
                f"{n_docs} document: no interval (a bootstrap over documents needs ≥ "
                f"{min_documents} documents per group)"
            )
        elif not n_bootstrap:
            note = "no interval (n_bootstrap = 0)"
        else:
            lows, highs = documents_bootstrap(
                g["units"].to_numpy(),
                g[codes].to_numpy(),
                n_bootstrap=n_bootstrap,
                confidence_level=confidence_level,
                rng=_rng(random_seed, "groups", variable, group),
            )
            note = (
                f"only {n_docs} documents: the interval understates the uncertainty"
                if n_docs < FEW_DOCUMENTS
                else ""
            )
        if group == MISSING:
            note = (
                note + "; " if note else ""
            ) + f"{variable} is blank: left out of test and trend"
        ids = gu["unit_id"].astype(str).to_numpy()
        doc_ids = " ".join(g.index.astype(str))
        for c, low, high in zip(codes, lows, highs):
            coded = gu[c].to_numpy() == 1
            rows.append(
                {
                    "variable": variable,
                    "group": group,
                    "code": c,
                    "label_zh": codebook.code(c).label_zh,
                    "dimension": codebook.code(c).dimension,
                    "documents": n_docs,
                    "units": n_units,
                    "units_coded": int(coded.sum()),
                    "share": coded.sum() / n_units if n_units else np.nan,
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "note": note,
                    "doc_ids": doc_ids,
                    "unit_ids": " ".join(ids[coded]),
                }
            )
    return pd.DataFrame(rows, columns=SHARE_COLUMNS)


# --------------------------------------------------------------------------------------------------
# Test across groups: permuting documents' group labels
# --------------------------------------------------------------------------------------------------


def _chi2_coded(group_units: np.ndarray, group_coded: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Pearson's X² of each group × (coded, not coded) table, for stacks of group totals.

    ``group_units`` (..., k), ``group_coded`` (..., k, C), ``p`` (C,) the overall share (fixed under
    permutation): X² = Σ_g (x_g − n_g p)² / (n_g p (1 − p)).
    """
    n = group_units[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = (group_coded - n * p) ** 2 / (n * p * (1 - p))
    return np.where(n > 0, terms, 0.0).sum(axis=-2)


def labels_permutation_test(
    labels: np.ndarray,
    units: np.ndarray,
    coded: np.ndarray,
    *,
    n_permutations: int = 9999,
    rng: np.random.Generator | int | None = 0,
    max_cells: int = 2_000_000,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Return (X² per code, p per code, X² summed over codes, its p), permuting documents' labels.

    ``labels`` holds each document's group index, ``units`` its units, ``coded`` its document ×
    code coded units. Under the null hypothesis the documents are exchangeable between the groups,
    so the labels are shuffled over the documents (each keeps its units and their codes) and X² of
    each code's group × coded/not table is recomputed on the pooled units. p = (b + 1) / (n + 1),
    b the permutations with X² at least the observed; the omnibus statistic is the sum over codes,
    tested on the same permutations. Codes coded in no unit or in every unit get NaN. Memory:
    chunks of at most ``max_cells`` permutation × document cells.
    """
    rng = np.random.default_rng(rng)
    labels = np.asarray(labels, dtype=int)
    n_units = np.asarray(units, dtype=float)
    x = np.asarray(coded, dtype=float).reshape(len(labels), -1)
    d, n_codes = x.shape
    k = int(labels.max()) + 1
    p = x.sum(axis=0) / n_units.sum()
    ok = (p > 0) & (p < 1)

    def totals(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = lab.shape[0]
        idx = (lab + k * np.arange(m)[:, None]).ravel()
        gu = np.bincount(idx, weights=np.tile(n_units, m), minlength=m * k).reshape(m, k)
        gc = np.stack(
            [
                np.bincount(idx, weights=np.tile(x[:, c], m), minlength=m * k)
                for c in range(n_codes)
            ],
            axis=-1,
        ).reshape(m, k, n_codes)
        return gu, gc

    gu, gc = totals(labels[None, :])
    observed = np.where(ok, _chi2_coded(gu, gc, p)[0], np.nan)
    total_obs = float(np.nansum(observed))
    tol = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(observed)))
    at_least = np.zeros(n_codes)
    at_least_total = 0
    chunk = max(1, min(n_permutations, max_cells // d))
    for start in range(0, n_permutations, chunk):
        m = min(chunk, n_permutations - start)
        perm = rng.permuted(np.tile(labels, (m, 1)), axis=1)
        null = _chi2_coded(*totals(perm), p)
        at_least += (null >= np.nan_to_num(observed) - tol).sum(axis=0)
        at_least_total += int(
            (null[:, ok].sum(axis=1) >= total_obs - 1e-9 * max(1, total_obs)).sum()
        )
    p_values = np.where(ok, (at_least + 1) / (n_permutations + 1), np.nan)
    p_total = (at_least_total + 1) / (n_permutations + 1) if ok.any() else math.nan
    return observed, p_values, total_obs if ok.any() else math.nan, p_total


def groups_test(
    wide: pd.DataFrame,
    docvars: pd.DataFrame,
    codebook: Codebook,
    variable: str,
    *,
    kinds: Sequence[str] | None = None,
    n_permutations: int = 9999,
    random_seed: int = 0,
    min_documents: int = MIN_DOCUMENTS,
) -> pd.DataFrame:
    """Return the test across the groups of ``variable``: one omnibus row, then one row per code.

    Test (:func:`labels_permutation_test`): the documents' group labels are permuted
    ``n_permutations`` times (seeded by ``random_seed`` and the variable, so every code is tested on
    the same permutations); the statistic is Pearson's X² of the group × (coded, not coded) table of
    units, per code, and summed over the codes for the omnibus row (``code`` = ``(all codes)``). The
    X² is only the yardstick; its p-value comes from the permutations, not from the chi-square
    distribution, which would treat the units of a document as independent. ``p_bh``: Benjamini–
    Hochberg over the codes (``scipy.stats.false_discovery_control``).

    Effect sizes: ``cramers_v`` = √(X² / units), Cramér's V of the code's group × coded/not table
    (for the omnibus row the root mean square over the codes), a descriptive size on units;
    ``share_range`` = the largest minus the smallest group share (``share_max`` of ``group_max``,
    ``share_min`` of ``group_min``), in the units of the figure.

    Groups with fewer than ``min_documents`` documents and the group :data:`MISSING` are left out
    (``note`` names them). With fewer than two groups left, every row is ``assessed`` False with the
    reason in ``note``. ``arrangements`` is the number of distinct ways to label the documents (inf
    above 10¹⁵): with few, p cannot fall below 1 / arrangements (said in ``note``).
    """
    from scipy import stats

    u = _units_grouped(wide, docvars, variable, kinds)
    codes = list(codebook.ids)
    docs = _documents(u, codes)
    sizes = docs.groupby("group", sort=False).size()
    small = [g for g in groups_order(list(sizes.index)) if sizes[g] < min_documents]
    left_out = [g for g in small if g != MISSING] + ([MISSING] if MISSING in sizes else [])
    kept = [g for g in groups_order(list(sizes.index)) if g not in left_out]
    t = docs[docs["group"].isin(kept)]
    notes = []
    left_text = ""
    if left_out:
        left_text = (
            "left out: "
            + ", ".join(f"{g} ({sizes[g]} document{'s' if sizes[g] > 1 else ''})" for g in left_out)
            + f", since a test across groups needs ≥ {min_documents} documents per group"
            + (f" and {MISSING} means {variable} is blank" if MISSING in left_out else "")
        )
        notes.append(left_text)
    n_units = int(t["units"].sum())
    base = {
        "variable": variable,
        "groups": len(kept),
        "documents": len(t),
        "units": n_units,
        "test": TEST_NAME,
        "n_permutations": n_permutations,
        "left_out": left_text,
    }
    info = [(ALL_CODES, "", "")] + [
        (c, codebook.code(c).label_zh, codebook.code(c).dimension) for c in codes
    ]
    if len(kept) < 2 or not n_permutations:
        reason = (
            f"not assessed: a test across groups needs ≥ {min_documents} documents per group, "
            f"in at least 2 groups ({len(kept)} here)"
            if len(kept) < 2
            else "not assessed: n_permutations = 0"
        )
        rows = [
            {
                **base,
                "code": c,
                "label_zh": zh,
                "dimension": dim,
                "units_coded": int(t[c].sum()) if c in t else int(t[codes].to_numpy().sum()),
                "test": "none",
                "assessed": False,
                "note": "; ".join([reason, *(n.split(", since")[0] for n in notes)]),
            }
            for c, zh, dim in info
        ]
        return pd.DataFrame(rows).reindex(columns=TEST_COLUMNS)

    index = {g: i for i, g in enumerate(kept)}
    labels = t["group"].map(index).to_numpy()
    x = t[codes].to_numpy()
    stat, p_values, total, p_total = labels_permutation_test(
        labels,
        t["units"].to_numpy(),
        x,
        n_permutations=n_permutations,
        rng=_rng(random_seed, "groups_test", variable),
    )
    arrangements = math.factorial(len(t)) // math.prod(
        math.factorial(int(n)) for n in t.groupby("group").size()
    )
    if arrangements > 10**15:  # 500 documents: a number of 200 digits says no more than "many"
        arrangements = math.inf
    if arrangements <= n_permutations:
        notes.append(
            f"only {arrangements} distinct arrangements of the labels: p cannot fall below "
            f"{1 / arrangements:.3g}"
        )
    per_group = t.groupby("group", sort=False)[["units", *codes]].sum().reindex(kept)
    shares = per_group[codes].div(per_group["units"], axis=0)
    ok = ~np.isnan(p_values)
    p_bh = np.full(len(codes), np.nan)
    if ok.any():
        p_bh[ok] = stats.false_discovery_control(p_values[ok], method="bh")
    rows = []
    v = np.sqrt(stat / n_units)
    omnibus_v = float(np.sqrt(np.nanmean(v**2))) if ok.any() else np.nan
    rows.append(
        {
            **base,
            "code": ALL_CODES,
            "label_zh": "",
            "dimension": "",
            "units_coded": int(x.sum()),
            "statistic": total,
            "p_value": p_total,
            "p_bh": np.nan,
            "cramers_v": omnibus_v,
            "share_range": float(np.nanmax(shares.max() - shares.min())),
            "arrangements": arrangements,
            "assessed": bool(ok.any()),
            "note": "; ".join(
                ["X² summed over the codes; cramers_v: root mean square over the codes", *notes]
            ),
        }
    )
    for j, (c, zh, dim) in enumerate(info[1:]):
        s = shares[c]
        rows.append(
            {
                **base,
                "code": c,
                "label_zh": zh,
                "dimension": dim,
                "units_coded": int(x[:, j].sum()),
                "statistic": stat[j],
                "p_value": p_values[j],
                "p_bh": p_bh[j],
                "cramers_v": v[j],
                "share_min": float(s.min()),
                "group_min": str(s.idxmin()),
                "share_max": float(s.max()),
                "group_max": str(s.idxmax()),
                "share_range": float(s.max() - s.min()),
                "arrangements": arrangements,
                "assessed": bool(ok[j]),
                "note": "; ".join(
                    ([] if ok[j] else ["not assessed: the code is in no unit or in every unit"])
                    + notes
                ),
            }
        )
    return pd.DataFrame(rows).reindex(columns=TEST_COLUMNS)


# --------------------------------------------------------------------------------------------------
# Tables and words
# --------------------------------------------------------------------------------------------------

TABLE_PREFIX = "summary_by_"
TEST_TABLE = "summary_groups_test.csv"
TREND_PREFIX = "summary_trend_"


def variable_filename(variable: str) -> str:
    """Return ``variable`` as a piece of a file name (letters, digits, CJK, ``_``, ``-`` kept)."""
    import re

    return re.sub(r"[^\w-]+", "_", variable).strip("_") or "variable"


def products_clear(tables_dir: str | Path, figures_dir: str | Path) -> list[Path]:
    """Remove the grouping tables and trend figures of an earlier run; return what was removed.

    Called before writing, so a variable dropped from ``group_by`` leaves no stale table behind
    for the report to show.
    """
    from helpers.tables import path_resolve

    tables, figures = path_resolve(tables_dir), path_resolve(figures_dir)
    old = [*tables.glob(f"{TABLE_PREFIX}*.csv"), tables / TEST_TABLE]
    old += [*figures.glob(f"{TREND_PREFIX}*.png"), *figures.glob(f"{TREND_PREFIX}*.svg")]
    removed = [p for p in old if p.is_file()]
    for p in removed:
        p.unlink()
    return removed


def groups_write(
    shares: dict[str, pd.DataFrame], tests: pd.DataFrame, tables_dir: str | Path
) -> dict[str, Path]:
    """Write ``summary_by_<variable>.csv`` per variable and ``summary_groups_test.csv``.

    CSV via :func:`helpers.tables.table_write` (byte-reproducible). Returns the paths by name.
    """
    from helpers.tables import path_resolve, table_write

    out = path_resolve(tables_dir)
    written = {
        v: table_write(df, out / f"{TABLE_PREFIX}{variable_filename(v)}.csv")
        for v, df in shares.items()
    }
    written["test"] = table_write(tests.reindex(columns=TEST_COLUMNS), out / TEST_TABLE)
    return written


def _pct(x: float) -> str:
    return f"{100 * float(x):.1f} %"


def groups_describe(tests: pd.DataFrame, *, alpha: float = 0.05) -> list[str]:
    """Return one sentence per variable of :func:`groups_test`'s table, saying what it found.

    Not assessed: the reason. Assessed: whether the codes differ overall (omnibus p, root mean
    square Cramér's V), then the codes that differ after Benjamini–Hochberg, the largest first,
    with the groups of the lowest and highest share; or that none does.
    """
    sentences = []
    for variable, t in tests.groupby("variable", sort=False):
        omni = t[t["code"] == ALL_CODES]
        o = omni.iloc[0] if len(omni) else t.iloc[0]
        if not bool(o["assessed"]) or pd.isna(o["p_value"]):
            sentences.append(f"By {variable}: {o['note']}.")
            continue
        codes = t[(t["code"] != ALL_CODES) & t["assessed"].astype(bool)]
        head = (
            f"By {variable} ({int(o['groups'])} groups, {int(o['documents'])} documents; "
            f"permutation of the documents' group labels, {int(o['n_permutations'])} times): "
        )
        p = float(o["p_value"])
        head += (
            f"the codes differ between the groups (p = {p:.3g}, "
            if p < alpha
            else f"no evidence at the {alpha:.0%} level that the codes differ (p = {p:.3g}, "
        ) + f"Cramér's V {float(o['cramers_v']):.2f}, root mean square over the codes)"
        sig = codes[codes["p_bh"].astype(float) < alpha].sort_values(
            ["share_range", "code"], ascending=[False, True]
        )
        if len(sig):
            parts = [
                f"{x['label_zh']} ({x['code']}) from {_pct(x['share_min'])} in {x['group_min']} "
                f"to {_pct(x['share_max'])} in {x['group_max']} (p_BH = {float(x['p_bh']):.3g}, "
                f"V = {float(x['cramers_v']):.2f})"
                for _, x in sig.head(3).iterrows()
            ]
            head += (
                f"; after Benjamini–Hochberg {len(sig)} of {len(codes)} codes differ: "
                + "; ".join(parts)
                + ("; …" if len(sig) > 3 else "")
            )
        else:
            head += f"; after Benjamini–Hochberg no single code differs ({len(codes)} tested)"
        left = o.get("left_out")
        sentences.append(head + (f" ({left})" if isinstance(left, str) and left else "") + ".")
    return sentences
