"""The report's tables, formatted for reading.

:func:`table_format` shows shares as percentages, rounds numbers and cuts long lists of unit ids;
the report shows at most ``MAX_ROWS`` rows of a table with a link to the whole CSV. Grouping tables
(``summary_by_<variable>.csv``) are shown as groups × codes, the test across groups compactly.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from helpers.errors import path_display
from helpers.tables import table_full_path, table_is_cut, table_read, table_source

#: Rows of a table shown in the report (the whole table is in its CSV).
MAX_ROWS = 30
#: Columns shown as percentages when the table has a ``share`` column (shares and their intervals).
PERCENT_COLUMNS = ("share", "ci_low", "ci_high")


def _number(x: float) -> str:
    if pd.isna(x):
        return ""
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}" if abs(x) >= 10_000 else str(int(x))
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) >= 0.001 else f"{x:.2e}"


def table_format(df: pd.DataFrame, *, max_ids: int = 5) -> pd.DataFrame:
    """Return ``df`` as strings for reading: shares as percentages, numbers rounded, id lists cut.

    Shares (``share`` and its interval when the table has a share) become ``29.3 %``; other floats
    three significant digits; a list of unit ids keeps its first ``max_ids`` and says how many more.
    """
    out = pd.DataFrame(index=df.index)
    percent = "share" in df.columns
    for col in df.columns:
        v = df[col]
        if percent and col in PERCENT_COLUMNS and pd.api.types.is_numeric_dtype(v):
            out[col] = v.map(lambda x: "" if pd.isna(x) else f"{100 * x:.1f} %")
        elif pd.api.types.is_bool_dtype(v) or str(v.dtype) == "boolean":
            out[col] = v.map(lambda x: "" if pd.isna(x) else ("yes" if x else "no"))
        elif pd.api.types.is_numeric_dtype(v):
            out[col] = v.map(_number)
        elif col.endswith(("unit_ids", "doc_ids")):

            def cut(x: object) -> str:
                ids = str(x).split() if isinstance(x, str) else []
                return " ".join(ids[:max_ids]) + (
                    f" … (+{len(ids) - max_ids})" if len(ids) > max_ids else ""
                )

            out[col] = v.map(cut)
        else:
            out[col] = v.map(lambda x: "" if pd.isna(x) else str(x))
    return out


def table_html(path: Path, link: str) -> str:
    df = table_read(path)  # the whole table, also when the committed CSV was cut for review
    shown = table_format(df.head(MAX_ROWS))
    whole = (
        f"the whole table is in {html.escape(path_display(table_full_path(path)))} "
        "(the CSV keeps part of it)"
        if table_is_cut(path)
        else "the whole table is in the CSV"
    )
    note = f"{len(df)} rows" + (f", first {MAX_ROWS} shown: {whole}" if len(df) > MAX_ROWS else "")
    body = shown.to_html(index=False, escape=True, border=0, na_rep="")
    return (
        f"<h4>{html.escape(path.name)}</h4><p class='note'>{note} · <a href='{link}'>CSV</a></p>"
        f"<div class='table-wrap'>{body}</div>"
    )


def groups_table_html(path: Path, link: str) -> str:
    """A grouping table (``summary_by_<variable>.csv``) as groups × codes: share [interval].

    The CSV has one row per group and code; a reader compares groups along a row of this table.
    """
    df = pd.read_csv(table_source(path), encoding="utf-8")  # every row, also of a cut table
    if df.empty or not {"group", "code", "share", "ci_low", "ci_high"} <= set(df.columns):
        return table_html(path, link)

    def cell(r) -> str:
        s = f"{100 * r.share:.1f} %" if pd.notna(r.share) else ""
        if pd.notna(r.ci_low) and pd.notna(r.ci_high):
            s += f" [{100 * r.ci_low:.0f}–{100 * r.ci_high:.0f}]"
        return s

    d = df.assign(cell=[cell(r) for r in df.itertuples()])
    d["column"] = [
        f"{zh} ({c})" if isinstance(zh, str) and zh else str(c)
        for zh, c in zip(d.get("label_zh", d["code"]), d["code"])
    ]
    groups = list(pd.unique(d["group"].astype(str)))
    wide = d.pivot_table(
        index=d["group"].astype(str), columns="column", values="cell", aggfunc="first", sort=False
    ).reindex(index=groups, columns=list(pd.unique(d["column"])))
    first = d.drop_duplicates("group").set_index(d.drop_duplicates("group")["group"].astype(str))
    counts = first.reindex(groups)[["documents", "units"]].astype(int)
    shown = pd.concat([counts, wide], axis=1).reset_index(names=str(df["variable"].iloc[0]))
    notes = [n for n in first["note"].dropna().astype(str).unique() if n] if "note" in first else []
    note = (
        f"{len(groups)} groups; share of units coded [95 % interval, bootstrap over documents]"
        + ("; " + "; ".join(notes) if notes else "")
    )
    body = shown.head(MAX_ROWS).to_html(index=False, escape=True, border=0, na_rep="")
    return (
        f"<h4>{html.escape(path.name)}</h4><p class='note'>{html.escape(note)} · "
        f"<a href='{link}'>CSV</a> (with the ids of the documents and coded units)</p>"
        f"<div class='table-wrap'>{body}</div>"
    )


def groups_test_html(path: Path, link: str) -> str:
    """The test across groups, compact: a variable that could not be tested is one row with why."""
    df = pd.read_csv(table_source(path), encoding="utf-8")  # every row, also of a cut table
    needed = {"variable", "code", "assessed", "p_value", "note"}
    if df.empty or not needed <= set(df.columns):
        return table_html(path, link)
    tested = df.groupby("variable", sort=False)["assessed"].transform("any").astype(bool)
    shown = df[tested | (df["code"] == "(all codes)")]
    columns = [
        "variable",
        "code",
        "label_zh",
        "groups",
        "documents",
        "p_value",
        "p_bh",
        "cramers_v",
        "share_min",
        "group_min",
        "share_max",
        "group_max",
        "note",
    ]
    shown = shown[[c for c in columns if c in shown.columns]].copy()
    for c in ("share_min", "share_max"):
        if c in shown:
            shown[c] = shown[c].map(lambda x: "" if pd.isna(x) else f"{100 * x:.1f} %")
    body = table_format(shown)
    note = (
        f"{len(shown)} of {len(df)} rows: a grouping that could not be tested is one row with the "
        "reason; p from permuting the documents' group labels"
    )
    return (
        f"<h4>{html.escape(path.name)}</h4><p class='note'>{html.escape(note)} · "
        f"<a href='{link}'>CSV</a></p><div class='table-wrap'>"
        + body.to_html(index=False, escape=True, border=0, na_rep="")
        + "</div>"
    )
