"""The tables of thematic coding, built on a :class:`~helpers.coding.CodingResult`.

What researchers read and what ``python -m helpers code`` writes: counts per code and document
(:func:`coding_counts`), representative quotes (:func:`coding_quotes`), one readable evidence
string per unit (:func:`evidence_summarize`, :func:`coding_table`), the files of notebook 03
(:func:`coding_write`, the review workbook :func:`coding_write_excel`), warnings about indicators
measured on the corpus (:func:`codebook_lint`) and the command's reading of any CSV of units
(:func:`units_csv_read`). The engine that finds the evidence is :mod:`helpers.coding`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.codebook import Codebook
from helpers.coding import CodingResult, units_code
from helpers.errors import InputError
from helpers.products import product_path
from helpers.tables import csv_unescape, path_resolve, table_write, workbook_save
from helpers.text import text_simplify, text_simplify_aligned
from helpers.tokens import Segmenter

# --------------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------------


def coding_counts(result: CodingResult) -> pd.DataFrame:
    """Return units coded per code, per document and for the corpus.

    Columns: group, code, label_zh, dimension, units_coded, units, share, indicator_hits.
    """
    w, ev = result.wide, result.evidence
    codes = result.codebook.codes
    ids = [c.id for c in codes]
    # per document with one groupby each (a loop over documents compared every row per document)
    coded = w.groupby("doc_id", sort=False, dropna=False)[ids].sum()
    units = w.groupby("doc_id", sort=False, dropna=False).size()
    hits = ev.groupby(["doc_id", "code"], sort=False, dropna=False).size()
    corpus_hits = ev["code"].value_counts()
    groups = [("(corpus)", w[ids].sum(), len(w), corpus_hits.get)]
    for d in pd.unique(w["doc_id"]):
        groups.append((d, coded.loc[d], int(units.loc[d]), lambda c, d=d: hits.get((d, c))))
    rows = []
    for name, n_coded, n_units, hit in groups:
        for c in codes:
            n = int(n_coded[c.id])
            rows.append(
                {
                    "group": name,
                    "code": c.id,
                    "label_zh": c.label_zh,
                    "dimension": c.dimension,
                    "units_coded": n,
                    "units": n_units,
                    "share": round(n / n_units, 6) if n_units else 0.0,
                    "indicator_hits": int(hit(c.id) or 0),
                }
            )
    return pd.DataFrame(rows)


def coding_quotes(result: CodingResult, *, top_n: int = 3) -> pd.DataFrame:
    """Return the most representative units per code: most distinct indicators, then most hits.

    Columns: code, label_zh, rank, unit_id, text, indicators (the distinct indicators that fired).
    """
    ev = result.evidence
    text = dict(zip(result.wide["unit_id"], result.wide["text"]))
    order = {uid: i for i, uid in enumerate(result.wide["unit_id"])}
    rows = []
    for c in result.codebook.codes:
        e = ev[ev["code"] == c.id]
        if e.empty:
            continue
        g = e.groupby("unit_id").agg(
            distinct=("indicator", "nunique"),
            hits=("indicator", "size"),
            indicators=("indicator", lambda s: "；".join(dict.fromkeys(s))),
        )
        g = g.assign(_o=g.index.map(order)).sort_values(
            ["distinct", "hits", "_o"], ascending=[False, False, True]
        )
        for rank, (uid, r) in enumerate(g.head(top_n).iterrows(), start=1):
            rows.append(
                {
                    "code": c.id,
                    "label_zh": c.label_zh,
                    "rank": rank,
                    "unit_id": uid,
                    "text": text[uid],
                    "indicators": r["indicators"],
                }
            )
    return pd.DataFrame(rows, columns=["code", "label_zh", "rank", "unit_id", "text", "indicators"])


def evidence_summarize(evidence: pd.DataFrame) -> pd.Series:
    """Return, per unit, one readable evidence string: ``code: indicator「match」@start-end; …``.

    Indexed by unit id in order of first appearance; within a unit the evidence rows keep their
    order. Built from plain lists (one f-string per row, one join per unit's run of rows), not row
    by row in pandas nor with pandas string arithmetic (Python-backed string columns): the coded
    table of 60,000 units has a third of a million evidence rows.
    """
    if evidence.empty:
        return pd.Series(dtype=str)
    group, units = pd.factorize(evidence["unit_id"], sort=False)
    code = evidence["code"].astype(str).tolist()
    indicator = evidence["indicator"].astype(str).tolist()
    match = evidence["match"].astype(str).tolist()
    spanless = evidence["start"].isna().to_numpy()
    start = evidence["start"].to_numpy(dtype=np.int64, na_value=-1).tolist()
    end = evidence["end"].to_numpy(dtype=np.int64, na_value=-1).tolist()
    lines = [
        f"{c}: {i}「{m}」@{s}-{e}" for c, i, m, s, e in zip(code, indicator, match, start, end)
    ]
    for k in np.flatnonzero(spanless).tolist():
        lines[k] = f"{code[k]}: {indicator[k]}「{match[k]}」"
    if (np.diff(group) < 0).any():  # a unit's rows apart: brought together, in their order
        order = np.argsort(group, kind="stable")
        lines = [lines[i] for i in order.tolist()]
        group = group[order]
    bounds = [0, *(np.flatnonzero(np.diff(group)) + 1).tolist(), len(group)]
    join = "; ".join
    return pd.Series(
        [join(lines[a:b]) for a, b in zip(bounds[:-1], bounds[1:])],
        index=pd.Index(units, name="unit_id"),
    )


def coding_write(
    result: CodingResult, tables_dir: str | Path, *, top_n: int = 3
) -> dict[str, Path]:
    """Write the coding tables and the Excel workbook; return the paths by name.

    ``coding_evidence.csv`` (unit × code × indicator × span), ``coding_units.csv`` (unit × code 0/1
    with the text), ``coding_counts.csv``, ``coding_uncoded.csv``, ``coding_quotes.csv`` and
    ``coding_review.xlsx`` (one sheet per code with unit id, heading path, text and evidence); the
    names are declared in :data:`helpers.products.PRODUCTS`.
    """
    out_dir = path_resolve(tables_dir)
    tables = {
        "evidence": result.evidence,
        "units": result.wide,
        "counts": result.counts,
        "uncoded": result.uncoded,
        "quotes": coding_quotes(result, top_n=top_n),
    }
    out = {k: table_write(df, product_path(f"coding_{k}", out_dir)) for k, df in tables.items()}
    out["workbook"] = coding_write_excel(result, product_path("coding_review", out_dir))
    return out


def coding_write_excel(result: CodingResult, path: str | Path) -> Path:
    """Write an Excel workbook for reviewing coded segments: a summary sheet, one sheet per code.

    Each code sheet lists the coded units (unit id, heading path, text, evidence) so a researcher
    can read every assignment; the workbook's timestamps are fixed so re-runs give the same file.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    p = path_resolve(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    counts = result.counts
    corpus = counts[counts["group"] == "(corpus)"]
    ws.append(["code", "label_zh", "dimension", "units_coded", "units", "share", "definition"])
    for r in corpus.itertuples():
        ws.append(
            [
                r.code,
                r.label_zh,
                r.dimension,
                r.units_coded,
                r.units,
                r.share,
                result.codebook.code(r.code).definition,
            ]
        )
    heading = dict(zip(result.wide["unit_id"], result.wide["heading_path"]))
    text = dict(zip(result.wide["unit_id"], result.wide["text"]))
    for c in result.codebook.codes:
        sheet = wb.create_sheet(c.id[:31])
        sheet.append([f"{c.label_zh} ({c.label_en})", c.definition])
        sheet.append(["unit_id", "heading_path", "text", "evidence"])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        ev = result.evidence[result.evidence["code"] == c.id]
        # each unit's evidence joined in one groupby (itertuples per unit: 100 s at 50,000 units)
        found = ev["indicator"].astype(str) + "「" + ev["match"].astype(str) + "」"
        joined = found.groupby(ev["unit_id"], sort=False).agg("; ".join)
        for uid, evidence in joined.items():
            sheet.append([uid, heading[uid], text[uid], evidence])
        sheet.column_dimensions["A"].width = 24
        sheet.column_dimensions["B"].width = 40
        sheet.column_dimensions["C"].width = 90
        sheet.column_dimensions["D"].width = 60
        for row in sheet.iter_rows(min_row=3):
            row[2].alignment = Alignment(wrap_text=True, vertical="top")
    wb.properties.creator = "helpers.coding"
    return workbook_save(wb, p)


# --------------------------------------------------------------------------------------------------
# Lint
# --------------------------------------------------------------------------------------------------


def codebook_lint(codebook: Codebook, units: pd.DataFrame, segmenter: Segmenter) -> pd.DataFrame:
    """Return warnings about indicators, measured on the corpus (warnings, not errors).

    - ``never_a_word``: a keyword or term word occurs in the text but never on word boundaries,
      because jieba cuts it differently (inside a longer word, or split across words): it can
      never match; fix the user dictionary or the codebook.
    - ``split_by_jieba``: a keyword is not one jieba word; it still matches as a word sequence.
    - ``no_match``: a keyword, pattern or rule that matches nothing in the corpus.
    Columns: code, indicator_type, indicator, warning, severity (``warning`` for never_a_word and
    no_match, ``info`` for split_by_jieba), detail.
    """
    result = units_code(units, codebook, segmenter)
    fired = set(
        zip(
            result.evidence["code"], result.evidence["indicator_type"], result.evidence["indicator"]
        )
    )
    simple_text = "\n".join(text_simplify_aligned(t) for t in result.units["text"])
    rows = []
    word_fired = {ind for (_, t, ind) in fired if t == "keyword"}
    for c in codebook.codes:
        for k in dict.fromkeys(text_simplify(k) for k in c.keywords):
            cut = segmenter.cut(k)
            if k not in word_fired:
                if k in simple_text and codebook.keyword_match == "word":
                    rows.append(
                        (
                            c.id,
                            "keyword",
                            k,
                            "never_a_word",
                            f"occurs {simple_text.count(k)}× in the text but never as whole words",
                        )
                    )
                else:
                    rows.append((c.id, "keyword", k, "no_match", "not found in the corpus"))
            if len(cut) > 1:
                rows.append(
                    (
                        c.id,
                        "keyword",
                        k,
                        "split_by_jieba",
                        "/".join(cut) + " (matched as a word sequence)",
                    )
                )
        for pat in c.patterns:
            if (c.id, "pattern", pat) not in fired:
                rows.append((c.id, "pattern", pat, "no_match", "matches nothing in the corpus"))
        for r in c.rules:
            label = f"{r.id}: {r.describe()}"
            if (c.id, "rule", label) not in fired:
                rows.append((c.id, "rule", label, "no_match", "fires in no unit of the corpus"))
    out = pd.DataFrame(rows, columns=["code", "indicator_type", "indicator", "warning", "detail"])
    out.insert(
        4, "severity", out["warning"].map(lambda w: "info" if w == "split_by_jieba" else "warning")
    )
    return out


# --------------------------------------------------------------------------------------------------
# Command-line tables
# --------------------------------------------------------------------------------------------------


def units_csv_read(
    path: str | Path,
    *,
    id_col: str = "unit_id",
    text_col: str = "text",
    keep: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV of units in UTF-8 (with or without BOM) or GB18030 and check its columns.

    ``keep``: the other columns to read, when the file has them (None: every column); ``python
    -m helpers code`` reads only ``doc_id`` and ``heading_path`` besides the ids and texts, which
    halves the time of reading a units table. The file's columns are in ``df.attrs["columns"]``.
    Raises :class:`~helpers.errors.InputError` (a ``ValueError``) naming the file, line and field
    and what is wrong: missing file, empty file, an encoding that is neither, a missing column
    (listing the columns found), duplicate or empty unit ids.
    """
    import io

    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    data = p.read_bytes()
    if not data.strip():
        raise InputError(p, "file is empty")
    # pandas' C parser decodes the bytes itself (half the time of decoding them first); a file
    # that is not UTF-8 fails there and is read again as GB18030
    for enc in ("utf-8-sig", "gb18030"):
        try:
            found = pd.read_csv(io.BytesIO(data), nrows=0, encoding=enc).columns.tolist()
            usecols = None
            if keep is not None and id_col in found and text_col in found:
                usecols = [c for c in found if c in (id_col, text_col, *keep)]
            df = pd.read_csv(
                io.BytesIO(data), dtype=str, keep_default_na=False, encoding=enc, usecols=usecols
            )
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(p, "file has no header row") from None
        except pd.errors.ParserError as exc:
            raise InputError(p, f"not a valid CSV: {exc}") from None
    else:
        raise InputError(p, "cannot decode as UTF-8 or GB18030; save it as CSV UTF-8")
    df = csv_unescape(df)
    df.attrs["columns"] = found
    if id_col == text_col:
        raise InputError(
            p,
            f"--id-col and --text-col both name {id_col!r}; the text column holds the texts to "
            f"code, the id column their ids (columns are {found})",
        )
    for col in (id_col, text_col):
        if col not in df.columns:
            raise InputError(
                p,
                f"no column {col!r}; columns are {found} (choose with --id-col/--text-col)",
                line=1,
            )
    if df.empty:
        raise InputError(p, "no rows to code")
    blank = df[df[id_col].str.strip() == ""]
    if len(blank):
        raise InputError(p, "empty", line=blank.index[0] + 2, field=id_col)
    dup = df[df[id_col].duplicated()]
    if len(dup):
        raise InputError(
            p, f"{dup.iloc[0][id_col]!r} appears twice", line=dup.index[0] + 2, field=id_col
        )
    return df


def coding_table(result: CodingResult) -> pd.DataFrame:
    """Return ``unit_id``, one 0/1 column per code in codebook order, and an ``evidence`` column."""
    w = result.wide
    evidence = evidence_summarize(result.evidence)
    out = w[["unit_id", *result.codebook.ids]].copy()
    out["evidence"] = out["unit_id"].map(evidence).fillna("") if len(evidence) else ""
    return out
