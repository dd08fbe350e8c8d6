"""Statistical summaries of the coding, and the numbers the documents cite.

Everything here starts from the unit × code 0/1 table of notebook 03 (``coding_units.csv``:
``doc_id, unit_id, level, kind, heading_path, section, text`` and one column per code) and the
codebook, so codes and dimensions added to the YAML flow through without code changes. Every count
carries the ids of the units behind it (``unit_ids``), so each number in a paper table can be traced
to sentences.

- Frequencies: :func:`codes_frequency` (by corpus, document or top-level section: units coded,
  share, bootstrap CI, density per 1,000 characters).
- Document × code, in :mod:`helpers.summaries_crosstab` (``summaries.codes_crosstab`` … still
  work): ``codes_crosstab``, ``codes_independence`` (chi-square, Cramér's V, a whole-unit
  permutation test when expected counts are small or units carry several codes, Fisher's exact test
  for 2 × 2), ``codes_residuals`` (Haberman's adjusted residuals) and ``codes_document_tests`` (one
  document × coded/not table per code).
- Logic × mechanism: :func:`codes_cooccurrence` (NVivo's matrix coding query: counts, Jaccard,
  unit ids), :func:`sections_profile` and :func:`sections_dominant`.
- The paper tables (:func:`summaries_write`: CSV, one xlsx workbook, Markdown).

The numbers the documents cite are in :mod:`helpers.numbers`, the figures (``*_plot``) in
:mod:`helpers.plots`.

Randomness (permutations, bootstrap) is seeded by a parameter; the same inputs give byte-identical
tables.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.codebook import Codebook
from helpers.numbers import numbers_excluded, numbers_extract  # noqa: F401 (moved; old name kept)
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
            f"{path}: holds {sorted(set(wide['level']))} units, not {unit_level!r}; "
            f"run notebook 03 with unit_level={unit_level!r} or change unit_level here"
        )
    for c in codebook.ids:
        wide[c] = wide[c].astype(int)
    return wide


def sections_label(units: pd.DataFrame) -> pd.Series:
    """Return each unit's top-level section, with labels for the units that have none.

    The column ``section`` is empty for the title and for the text before the first heading; they
    get ``（标题）`` and ``（导言）`` so that they form groups of their own instead of vanishing.
    """
    section = (
        units["section"].astype(str) if "section" in units else pd.Series("", index=units.index)
    )
    kind = units["kind"].astype(str) if "kind" in units else pd.Series("text", index=units.index)
    out = section.where(section != "", np.where(kind == "title", SECTION_TITLE, SECTION_INTRO))
    return out.rename("section")


def units_select(units: pd.DataFrame, kinds: Sequence[str] | None = None) -> pd.DataFrame:
    """Return the units of the given kinds (title, heading, text; None = all) with section labels.

    Titles and headings are units of their own in notebook 01. They are counted by default: a
    heading such as ``（一）联席推进彰显发展共识`` is how the author frames a section, and the
    coding counts it. Pass ``kinds=["text"]`` to count body sentences only (shares then describe
    running text).
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
    """A generator for one (group, code) cell: same seed and keys, same draws, in any order."""
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
    Columns: grouping, doc_id, section, code, label_zh, dimension, units_coded, units, share,
    ci_low, ci_high, n_chars, density, unit_ids. ``density`` is coded units per 1,000 characters of
    the group's unit texts (every character, punctuation included), so groups of different length
    compare. ``ci_low``/``ci_high`` are percentile bootstrap intervals of the share (``n_bootstrap``
    resamples of units within the group, within each document for the corpus; empty when
    ``n_bootstrap`` is 0), every code of a group from the same resamples (:func:`shares_bootstrap`),
    seeded by the group. Counts, characters and unit ids of every group come from one pass over
    the units; only the resampling goes group by group (each group has its own seed).
    """
    if by not in ("corpus", "document", "section"):
        raise ValueError(f"by must be 'corpus', 'document' or 'section', not {by!r}")
    u = units_select(wide, kinds)
    info = _code_info(codebook, codebook.ids)
    codes = list(codebook.ids)
    if by == "corpus":
        group = np.zeros(len(u), dtype=np.intp)
        keys = [(CORPUS_LABEL, "")]
    else:
        cols = ["doc_id"] if by == "document" else ["doc_id", "section"]
        group, uniques = pd.MultiIndex.from_frame(u[cols].astype(str)).factorize()
        keys = [(k[0], k[1] if by == "section" else "") for k in uniques]
    n_groups = len(keys)
    values = u[codes].to_numpy(dtype=np.int64).reshape(len(u), len(codes))
    units = np.bincount(group, minlength=n_groups)
    n_chars = np.bincount(
        group, weights=u["text"].astype(str).str.len().to_numpy(), minlength=n_groups
    ).astype(np.int64)
    coded = np.zeros((n_groups, len(codes)), dtype=np.int64)
    np.add.at(coded, group, values)
    lows = np.full((n_groups, len(codes)), np.nan)
    highs = lows.copy()
    if n_bootstrap and len(u):
        order = np.argsort(group, kind="stable")  # each group's units in table order
        starts = np.searchsorted(group[order], np.arange(n_groups + 1))
        doc_ids = u["doc_id"].astype(str).to_numpy()
        for i, (doc_id, section) in enumerate(keys):
            rows = order[starts[i] : starts[i + 1]]
            strata = [values[rows]]
            if by == "corpus":
                doc, first = pd.factorize(doc_ids[rows])  # documents in order of appearance
                strata = [values[rows[doc == d]] for d in range(len(first))]
            lows[i], highs[i] = shares_bootstrap(
                strata,
                n_bootstrap=n_bootstrap,
                confidence_level=confidence_level,
                rng=_seed(random_seed, by, doc_id, section),
            )
    ids = u["unit_id"].astype(str).to_numpy()
    unit_ids = np.full((n_groups, len(codes)), "", dtype=object)
    for j in range(len(codes)):
        hit = values[:, j] == 1
        joined = pd.Series(ids[hit]).groupby(group[hit], sort=False).agg(" ".join)
        unit_ids[joined.index.to_numpy(), j] = joined.to_numpy()
    n = coded.ravel()
    size = np.repeat(units, len(codes))
    chars = np.repeat(n_chars, len(codes))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(size > 0, n / np.maximum(size, 1), np.nan)
        density = np.where(chars > 0, 1000 * n / np.maximum(chars, 1), np.nan)
    return pd.DataFrame(
        {
            "grouping": by,
            "doc_id": np.repeat([k[0] for k in keys], len(codes)).astype(object),
            "section": np.repeat([k[1] for k in keys], len(codes)).astype(object),
            "code": codes * n_groups,
            "label_zh": [info[c][0] for c in codes] * n_groups,
            "dimension": [info[c][1] for c in codes] * n_groups,
            "units_coded": n,
            "units": size,
            "share": share,
            "ci_low": lows.ravel(),
            "ci_high": highs.ravel(),
            "n_chars": chars,
            "density": density,
            "unit_ids": unit_ids.ravel(),
        }
    )


def _packing(n_draws: int) -> tuple[int, int]:
    """Bits per code and codes per 64-bit word for counts of at most ``n_draws``."""
    bits = max(1, int(n_draws).bit_length())
    return bits, max(1, 63 // bits)


def _quantiles_of_counts(coded: np.ndarray, total: int, qs) -> np.ndarray:
    """Return ``np.quantile(coded / total, qs, axis=0)`` (linear method), from counts.

    ``coded`` holds integers from 0 to ``total`` (resamples × codes). The order statistics the
    quantiles need are read from each column's histogram of counts (one ``bincount``), not found
    by sorting or partitioning every column, and interpolated with numpy's own formula (its
    ``_lerp``), so the result is the same floats.
    """
    m, n_codes = coded.shape
    virtual = (m - 1) * np.asarray(qs, dtype=float)
    before = np.floor(virtual)
    after = before + 1
    last = virtual >= m - 1
    before[last] = after[last] = m - 1
    gamma = (virtual - before)[:, None]
    hist = np.bincount(
        (coded + np.arange(n_codes) * (total + 1)).ravel(), minlength=n_codes * (total + 1)
    ).reshape(n_codes, total + 1)
    cum = hist.cumsum(axis=1)

    def kth(k: np.ndarray) -> np.ndarray:  # k-th smallest count of each column (0-based)
        return np.stack([(cum <= int(x)).sum(axis=1) for x in k]) / total

    a, b = kth(before), kth(after)
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def shares_bootstrap(
    strata: Sequence[np.ndarray],
    *,
    n_bootstrap: int = 9999,
    confidence_level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
    max_cells: int = 2_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Return percentile bootstrap intervals (lows, highs) of the share of 1s of every column.

    Each stratum is a unit × code 0/1 matrix (one document's units); it is resampled on its own,
    with replacement and at its own size, so a document's weight in a corpus share stays fixed. All
    codes are computed on the same resamples, all resamples at once with numpy, in chunks of at
    most ``max_cells`` draws: each unit's codes are packed into one 64-bit integer (a few bits per
    code, enough for the count of a whole resample), so summing a resample's drawn units counts
    every code at once. The draws depend only on the strata sizes and ``rng``, so adding a code
    leaves the intervals of the others unchanged. Percentile intervals (numpy's linear quantiles,
    as scipy's ``bootstrap(method="percentile")``), not BCa: shares of 0 or 1 are common here and
    BCa is undefined on them; a share of 0 gets the interval (0, 0). A stratum of one unit
    resamples to itself.
    """
    rng = np.random.default_rng(rng)
    arrays = [np.asarray(a).reshape(len(a), -1) for a in strata if len(a)]
    if not arrays:
        raise ValueError("no units to resample")
    if any(((a != 0) & (a != 1)).any() for a in arrays):
        raise ValueError("strata must be 0/1 (unit × code) matrices")
    total = sum(len(a) for a in arrays)
    n_codes = arrays[0].shape[1]
    coded = np.zeros((n_bootstrap, n_codes), dtype=np.int64)
    for a in arrays:
        n = len(a)
        a = a.astype(np.int64)
        if n == 1:
            coded += a[0]
            continue
        bits, per_word = _packing(n)
        words = []
        for first in range(0, n_codes, per_word):
            cols = range(first, min(first + per_word, n_codes))
            shifts = np.array([bits * (c - first) for c in cols], dtype=np.int64)
            words.append((cols, shifts, (a[:, cols.start : cols.stop] << shifts).sum(axis=1)))
        mask = (1 << bits) - 1
        chunk = max(1, min(n_bootstrap, max_cells // n))
        for start in range(0, n_bootstrap, chunk):
            m = min(chunk, n_bootstrap - start)
            draws = rng.integers(0, n, (m, n))
            for cols, shifts, packed in words:
                sums = packed[draws].sum(axis=1)
                coded[start : start + m, cols.start : cols.stop] += (sums[:, None] >> shifts) & mask
    alpha = (1 - confidence_level) / 2
    lows, highs = _quantiles_of_counts(coded, total, [alpha, 1 - alpha])
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


#: The document × code tables and tests, now in :mod:`helpers.summaries_crosstab`;
#: ``summaries.<name>`` still gives them.
MOVED_TO_CROSSTAB = (
    "codes_crosstab",
    "residuals_adjusted",
    "permutation_chi2",
    "fisher_freeman_halton_mc",
    "codes_independence",
    "codes_residuals",
    "codes_document_tests",
)


def __getattr__(name: str):
    if name in MOVED_TO_CROSSTAB:
        from helpers import summaries_crosstab

        return getattr(summaries_crosstab, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

    Columns: doc_id, section, code, label_zh, dimension, units_coded, units, share, unit_ids. The
    same numbers as ``codes_frequency(by="section")``, without the bootstrap, in the shape of a
    heatmap.
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

    Columns: doc_id, section, dimension, dimension_label, dominant (code ids, ties joined by a
    space), dominant_label (labels joined by ``、``), units_coded, units, share, runner_up_share
    (the next smaller share, so a narrow lead shows). A section where no code of the dimension
    occurs gets ``—``.
    """
    rows = []
    cols = ["dimension", "units_coded", "share", "code", "label_zh", "units"]
    # numpy arrays per section, not a DataFrame filter per section and dimension: hundreds of
    # documents have thousands of sections
    for (doc, sec), g in profile.groupby(["doc_id", "section"], sort=False):
        dims, coded, shares, codes, labels, units = (g[c].to_numpy() for c in cols)
        for dim, meta in codebook.dimensions.items():
            sel = dims == dim
            if not sel.any():
                continue
            top = coded[sel].max()
            win = (coded[sel] == top) if top > 0 else np.zeros(int(sel.sum()), dtype=bool)
            share = shares[sel]
            rest = sorted(set(share.tolist()) - ({share.max()} if top > 0 else set()), reverse=True)
            rows.append(
                {
                    "doc_id": doc,
                    "section": sec,
                    "dimension": dim,
                    "dimension_label": (meta or {}).get("label_zh", dim),
                    "dominant": " ".join(codes[sel][win]) or "—",
                    "dominant_label": "、".join(labels[sel][win]) or "—",
                    "units_coded": int(top),
                    "units": int(units[sel][0]),
                    "share": float(share.max()),
                    "runner_up_share": rest[0] if rest else 0.0,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# 4 Paper tables
# --------------------------------------------------------------------------------------------------

EXACT_COLUMNS = ("number", "value_base")  # written in full, not with 6 significant digits
MARKDOWN_DROP = ("unit_ids", "sentence", "text", "note")


def _exact(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in EXACT_COLUMNS:
        if c in out and pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.15g}")
    return out


def _markdown(df: pd.DataFrame, max_rows: int | None = None) -> str:
    if max_rows is not None and len(df) > max_rows:
        return (
            f"{_markdown(df.head(max_rows))}\n\n"
            f"(first {max_rows} of {len(df):,} rows: every row is in the CSV file)"
        )
    d = _exact(df.drop(columns=[c for c in MARKDOWN_DROP if c in df.columns]))
    for c in d.columns:
        if pd.api.types.is_float_dtype(d[c]):
            d[c] = d[c].map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
    d = d.astype(str).replace({"nan": ""})
    return d.to_markdown(index=False, disable_numparse=True)


def excel_write(
    tables: dict[str, pd.DataFrame], path: str | Path, *, max_rows: int | None = None
) -> Path:
    """Write one workbook, one sheet per table (sheet names ≤ 31 characters); return the path.

    Saved with :func:`helpers.tables.workbook_save` (fixed document and zip timestamps), so the same
    tables give the same bytes. A table longer than ``max_rows`` is cut there, with a last row
    saying so (the CSV files keep every row).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    p = path_resolve(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    for name, full in tables.items():
        df = full if max_rows is None else full.head(max_rows)
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
        if len(df) < len(full):
            ws.append([f"(first {len(df)} of {len(full):,} rows: every row is in the CSV file)"])
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
    paper_max_rows: int | None = 200,
) -> dict[str, Path]:
    """Write each table as ``<prefix>_<name>.csv``, all to ``<prefix>_tables.xlsx`` and ``.md``.

    CSV via :func:`helpers.tables.table_write` (byte-reproducible; ``number``/``value_base`` written
    in full). The workbook has one sheet per table; the Markdown file one section per table
    (``titles`` give the headings), without the long columns (unit ids, sentences, notes: they are
    in the CSVs), for pasting into a paper. Both cut a table at ``paper_max_rows`` rows with a line
    saying so (tables per document and section grow with the corpus; a paper table does not).
    Returns the paths by table name, plus ``xlsx`` and ``markdown``.
    """
    out_dir = path_resolve(tables_dir)
    written = {
        name: table_write(_exact(df), out_dir / f"{prefix}_{name}.csv")
        for name, df in tables.items()
    }
    written["xlsx"] = excel_write(
        tables, out_dir / f"{prefix}_tables.xlsx", max_rows=paper_max_rows
    )
    titles = titles or {}
    parts = [
        f"# {prefix} tables\n",
        "Generated by notebook 04; the CSV files hold every column (unit ids, sentences, notes).\n",
    ]
    for name, df in tables.items():
        body = _markdown(df, paper_max_rows)
        parts.append(f"## {titles.get(name, name)}\n\n`{prefix}_{name}.csv`\n\n{body}\n")
        if "note" in df.columns:
            parts.extend(f"- {n}\n" for n in df["note"].astype(str) if n and n != "nan")
    md = out_dir / f"{prefix}_tables.md"
    text_write("\n".join(parts), md)  # atomic, as the CSV files
    written["markdown"] = md
    return written
