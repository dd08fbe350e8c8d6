"""What needs a look after cleanup: a short list for the terminal, built from the cleanup tables.

Notebook 01 shows every problem, but a researcher running ``make run`` or ``helpers clean`` sees
only the terminal. :func:`problems_find` reads the tables cleanup writes (``cleanup_problems``,
``cleanup_summary``, ``cleanup_joins``, ``cleanup_metadata``, the sentence units) and returns one
row per thing to check, each naming the document and the table to open; :func:`problems_format`
turns them into a few lines. The thresholds are the named constants below (documented in the
README); on the two corpus documents none of them fires.

Checks, in this order: files without a corpus row, rows without a file and unreadable documents
(``cleanup_problems.csv``); title mismatches and documents without a title
(``cleanup_metadata.csv``); documents with an unusual share of dropped lines, joined lines or
web-page text left out by the extractor (``cleanup_audit.csv``, ``cleanup_joins.csv``); documents
without a body sentence or with Chinese characters unaccounted for (``cleanup_summary.csv``);
sentence units that are only punctuation or digits (``units_sentence.csv``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.errors import path_display
from helpers.products import product_path
from helpers.tables import csv_unescape

__all__ = [
    "DROPPED_LINES_SHARE_MAX",
    "JOINED_LINES_SHARE_MAX",
    "PAGE_DROPPED_SHARE_MAX",
    "PROBLEM_LIST_COLUMNS",
    "ProblemTables",
    "problems_find",
    "problems_format",
    "problems_read",
]

#: A document loses more than this share of its non-blank lines to the header, trailer and body
#: rules: mostly furniture, or a rule taking body text. Corpus: 39 % (opinion2021), 33 %
#: (report2024).
DROPPED_LINES_SHARE_MAX = 0.5
#: More than this share of a document's non-blank lines was joined to the line before (page breaks,
#: hard-wrapped text): check that the joins are right. Corpus: 10 % and 12 %.
JOINED_LINES_SHARE_MAX = 0.3
#: A web page of which the extractor kept less than ``1 - this`` of the visible text: check that
#: the article is complete. Page fixtures: 30-48 % left out (navigation, comments, footers).
PAGE_DROPPED_SHARE_MAX = 0.75
#: Lines printed at most; the rest is counted ("… and N more").
PRINT_MAX = 25

PROBLEM_LIST_COLUMNS = ["doc_id", "file", "check", "problem", "table"]
_NO_WORDS = re.compile(r"[\W\d_]+")  # punctuation, symbols, digits and spaces only


@dataclass(frozen=True)
class ProblemTables:
    """Where the tables of a cleanup are, so each problem can point at its file."""

    problems: Path
    summary: Path
    joins: Path
    metadata: Path
    audit: Path
    units: Path

    @classmethod
    def of(cls, tables_dir: str | Path, processed_dir: str | Path) -> ProblemTables:
        """Return the standard names under ``tables_dir`` and ``processed_dir`` (as notebook 01)."""
        return cls(
            problems=product_path("cleanup_problems", tables_dir),
            summary=product_path("cleanup_summary", tables_dir),
            joins=product_path("cleanup_joins", tables_dir),
            metadata=product_path("cleanup_metadata", tables_dir),
            audit=product_path("cleanup_audit", tables_dir),
            units=product_path("units_sentence", processed_dir),
        )


def _compact(s: str) -> str:
    return re.sub(r"\s+", "", str(s))


def problems_find(
    problems: pd.DataFrame,
    summary: pd.DataFrame,
    metadata: pd.DataFrame,
    units: pd.DataFrame,
    where: ProblemTables,
    *,
    corpus: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return what needs a look, one row per item: ``doc_id, file, check, problem, table``.

    ``problems``, ``summary``, ``metadata`` and ``units`` are the cleanup's tables (as written by
    :func:`helpers.cleanup.clean_write`, or a :class:`~helpers.cleanup.CleanResult`'s frames);
    ``where`` names their files for the ``table`` column; ``corpus`` (the corpus table, optional)
    adds the comparison of a web page's title with the title in corpus.csv.
    """
    rows: list[dict] = []
    files = dict(zip(corpus["doc_id"], corpus["file"])) if corpus is not None else {}

    def add(doc_id: str, check: str, problem: str, table: Path, file: str = "") -> None:
        rows.append(
            {
                "doc_id": doc_id,
                "file": file or files.get(doc_id, ""),
                "check": check,
                "problem": problem,
                "table": path_display(table),
            }
        )

    for _, row in problems.iterrows():
        text = str(row["problem"])
        check = (
            "file_without_row"
            if "has no row" in text
            else "row_without_file"
            if "not found in" in text
            else "outside_raw_folder"
            if "outside the raw folder" in text
            else "unreadable"
        )
        add(str(row["doc_id"]), check, text, where.problems, str(row["file"]))

    meta = metadata.astype({"value": str})
    mismatched = set()
    for _, row in meta[meta["field"] == "title_mismatch"].iterrows():
        mismatched.add(row["doc_id"])
        add(
            row["doc_id"],
            "title_mismatch",
            f"the title in corpus.csv is not in the text; line {row['line']} was taken as the "
            f"title: {row['value']}",
            where.metadata,
        )
    titles = dict(zip(corpus["doc_id"], corpus["title"])) if corpus is not None else {}
    if corpus is not None:
        for _, row in meta[meta["field"] == "page_title"].iterrows():
            known = titles.get(row["doc_id"], "")
            if row["doc_id"] in mismatched or not known:
                continue
            a, b = _compact(known), _compact(row["value"])
            if a not in b and b not in a:
                add(
                    row["doc_id"],
                    "title_mismatch",
                    f"the page's title ({row['value']}) differs from corpus.csv ({known})",
                    where.metadata,
                )

    titled = set(meta.loc[meta["field"] == "title", "doc_id"])
    for row in summary.to_dict("records"):  # one dict per document (iterrows: a Series each)
        doc_id = str(row["doc_id"])
        if doc_id not in titled and doc_id not in mismatched:
            known = titles.get(doc_id, "") if corpus is not None else ""
            add(
                doc_id,
                "title_mismatch",
                "no title found in the text" + (f" (corpus.csv: {known})" if known else ""),
                where.metadata,
            )
        lines = max(int(row["raw_nonblank_lines"]), 1)
        dropped = (
            int(row["header_lines"]) + int(row["trailer_lines"]) + int(row["body_lines_dropped"])
        )
        if dropped / lines > DROPPED_LINES_SHARE_MAX:
            add(
                doc_id,
                "many_dropped_lines",
                f"{dropped} of {lines} non-blank lines dropped ({dropped / lines:.0%}, more than "
                f"{DROPPED_LINES_SHARE_MAX:.0%}): mostly furniture, or a rule taking body text?",
                where.audit,
            )
        joined = int(row["lines_joined"])
        if joined / lines > JOINED_LINES_SHARE_MAX:
            add(
                doc_id,
                "many_joined_lines",
                f"{joined} of {lines} non-blank lines joined to the line before "
                f"({joined / lines:.0%}, "
                f"more than {JOINED_LINES_SHARE_MAX:.0%}): check the joins",
                where.joins,
            )
        if int(row["sentences"]) == 0:
            add(doc_id, "no_sentences", "no body sentence left after cleanup", where.summary)
        if int(row["unaccounted_cjk"]) != 0:
            add(
                doc_id,
                "unaccounted_cjk",
                f"{row['unaccounted_cjk']} Chinese characters neither in the text nor in the audit",
                where.summary,
            )

    page = meta[meta["rule"] == "html_page"]
    counts: dict[str, dict[str, str]] = {}
    for doc_id, field, value in zip(page["doc_id"], page["field"], page["value"]):
        counts.setdefault(doc_id, {})[field] = value
    for doc_id, found in counts.items():
        visible, dropped = (
            int(found.get("html_visible_chars", 0)),
            int(found.get("html_dropped_chars", 0)),
        )
        if visible and dropped / visible > PAGE_DROPPED_SHARE_MAX:
            add(
                doc_id,
                "page_mostly_left_out",
                f"the extractor left out {dropped} of {visible} characters of the page's visible "
                f"text ({dropped / visible:.0%}, more than {PAGE_DROPPED_SHARE_MAX:.0%}): is the "
                "article complete? (audit rows with part 'page')",
                where.audit,
            )

    body = units[(units["level"] == "sentence") & (units["kind"] == "text")]
    bare = body.loc[[_NO_WORDS.fullmatch(t) is not None for t in body["text"].astype(str)]]
    for doc_id, group in bare.groupby("doc_id", sort=False):
        ids = group["unit_id"].tolist()
        shown = ", ".join(f"{u} ({t!r})" for u, t in zip(ids[:3], group["text"].tolist()[:3]))
        more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
        add(
            str(doc_id),
            "punctuation_or_digit_units",
            f"{len(ids)} sentence unit(s) with only punctuation or digits: {shown}{more}",
            where.units,
        )
    return pd.DataFrame(rows, columns=PROBLEM_LIST_COLUMNS)


def _csv(path: Path, columns: list[str]) -> pd.DataFrame:
    """Return the CSV at ``path`` as strings (numbers converted where used), or an empty frame."""
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    return csv_unescape(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8"))


def problems_read(
    tables_dir: str | Path = paths.TABLES,
    processed_dir: str | Path = paths.PROCESSED,
    corpus_table: str | Path | None = None,
) -> pd.DataFrame:
    """Return :func:`problems_find` over the tables notebook 01 wrote (missing tables: no rows).

    ``corpus_table`` (optional) is read for the page-title comparison; if it cannot be read the
    comparison is skipped (its own problems are reported by notebook 01).
    """
    from helpers.tables import path_resolve

    where = ProblemTables.of(path_resolve(tables_dir), path_resolve(processed_dir))
    summary_cols = [
        "doc_id",
        "raw_nonblank_lines",
        "header_lines",
        "trailer_lines",
        "body_lines_dropped",
        "lines_joined",
        "sentences",
        "unaccounted_cjk",
    ]
    corpus = None
    if corpus_table is not None:
        from helpers.corpus import DocumentError, corpus_read_table

        try:
            corpus = corpus_read_table(corpus_table)
        except DocumentError:
            corpus = None
    if not where.summary.is_file():
        missing = {
            "doc_id": "",
            "file": "",
            "check": "tables_missing",
            "problem": "no cleanup tables found: has notebook 01 run?",
            "table": path_display(where.summary),
        }
        return pd.DataFrame([missing], columns=PROBLEM_LIST_COLUMNS)
    return problems_find(
        _csv(where.problems, ["doc_id", "file", "problem"]),
        _csv(where.summary, summary_cols),
        _csv(where.metadata, ["doc_id", "field", "value", "line", "rule"]),
        _csv(where.units, ["doc_id", "unit_id", "level", "kind", "text"]),
        where,
        corpus=corpus,
    )


def problems_format(found: pd.DataFrame, limit: int = PRINT_MAX) -> str:
    """Return the list for the terminal: a heading line, then ``doc: problem  -> table`` lines."""
    if found.empty:
        return "needs a look: nothing (no problems, mismatches or unusual documents)"
    lines = [f"needs a look ({len(found)}):"]
    for _, row in found.head(limit).iterrows():
        who = row["doc_id"] or row["file"]
        if row["doc_id"] and row["file"] and row["file"] not in row["problem"]:
            who = f"{row['doc_id']} ({row['file']})"
        lines.append(f"  {who + ': ' if who else ''}{row['problem']}  -> {row['table']}")
    if len(found) > limit:
        lines.append(f"  … and {len(found) - limit} more (all in the tables named above)")
    return "\n".join(lines)
