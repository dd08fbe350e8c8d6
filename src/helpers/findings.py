"""Findings in words: the sentences the report opens with, generated from the tables.

:func:`report_findings` reads the tables of notebooks 01–05 and returns one :class:`Finding` per
topic (what cleanup removed, which codes dominate, whether documents and groups differ, the
strongest logic × mechanism pairs, how reliable the coding is), each naming the tables its numbers
come from. A table that is missing or from an older run (without the columns a finding needs) gives
no finding, never an error: the report of a partial run still opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.agreement import MACRO
from helpers.products import product_path
from helpers.tables import path_resolve, table_source


def product_file(name: str) -> str:
    """Return the file name of product ``name`` (declared in :mod:`helpers.products`), as the
    findings and the report cite it."""
    return product_path(name, ".").name


@dataclass(frozen=True)
class Finding:
    """One finding of the report: a few sentences generated from one or more tables."""

    topic: str
    text: str
    sources: tuple[str, ...]


def _pct(x: float) -> str:
    return f"{100 * float(x):.1f} %"


def _label(row: pd.Series) -> str:
    zh = row.get("label_zh", "")
    return f"{zh} ({row['code']})" if isinstance(zh, str) and zh else str(row["code"])


def _read_optional(tables: Path, name: str, columns: tuple[str, ...]):
    """The table ``name`` if it exists and has ``columns`` (an older or partial one: no finding)."""
    path = tables / name
    if not path.exists():
        return None
    # numbers as numbers, empty cells as NaN; every row of a table cut for review
    df = pd.read_csv(table_source(path), encoding="utf-8")
    return df if set(columns) <= set(df.columns) else None


def findings_codes(frequency) -> Finding | None:
    """Which codes dominate the corpus, per dimension, with their bootstrap intervals."""
    if frequency is None or frequency.empty:
        return None
    corpus = frequency[frequency["grouping"] == "corpus"]
    if corpus.empty:
        return None
    n_units = int(corpus["units"].iloc[0])
    parts = []
    for dim, rows in corpus.groupby("dimension", sort=False):
        rows = rows.sort_values(["share", "code"], ascending=[False, True], kind="stable")
        top = rows.iloc[0]
        s = (
            f"the most frequent {dim} code is {_label(top)}, in {_pct(top['share'])} of units "
            f"[95 % interval {_pct(top['ci_low'])}–{_pct(top['ci_high'])}]"
        )
        if len(rows) > 1:
            second = rows.iloc[1]
            s += f", then {_label(second)} ({_pct(second['share'])})"
            s += (
                "; their intervals overlap, so the order of the two is not established"
                if float(second["ci_high"]) >= float(top["ci_low"])
                else "; the intervals do not overlap"
            )
            last = rows.iloc[-1]
            s += f"; the least frequent is {_label(last)} ({_pct(last['share'])})"
        parts.append(s)
    text = f"Of {n_units} coded units, " + ". In the same units, ".join(parts) + "."
    return Finding("Which codes dominate", text, ("summary_frequency.csv",))


def findings_documents(test, residuals, code_tests) -> Finding | None:
    """Whether the documents differ in the codes they use, with the test and the largest cells."""
    if test is None or test.empty:
        return None
    t = test.iloc[0]
    p = float(t["p_value"])
    if pd.isna(p):
        return Finding(
            "What differs between documents",
            f"Not tested: {t.get('note', '') or 'no p-value'}.",
            ("summary_crosstab_test.csv",),
        )
    verdict = (
        "The documents differ in how their coded units are spread over the codes"
        if p < 0.05
        else "There is no evidence at the 5 % level that the documents differ in their mix of codes"
    )
    text = (
        f"{verdict}: {t['test']}, p = {p:.4g}, Cramér's V = {float(t['cramers_v']):.2f} "
        f"({int(t['n_units'])} coded units, {int(t['n_codings'])} codings)."
    )
    if isinstance(t.get("note"), str) and t["note"]:
        text += f" Why this test: {t['note']}."
    sources = ["summary_crosstab_test.csv"]
    if residuals is not None and not residuals.empty:
        r = residuals.assign(_abs=residuals["residual_adjusted"].astype(float).abs())
        r = (
            r[r["_abs"] >= 1.96]
            .sort_values(["_abs", "doc_id", "code"], ascending=[False, True, True])
            .head(3)
        )
        if len(r):
            cells = [
                f"{x['doc_id']} uses {_label(x)} "
                f"{'more' if x['residual_adjusted'] > 0 else 'less'} than expected "
                f"({int(x['observed'])} units against {float(x['expected']):.1f}; "
                "adjusted residual "
                f"{float(x['residual_adjusted']):+.2f})"
                for _, x in r.iterrows()
            ]
            text += " The largest cells beyond ±1.96: " + "; ".join(cells) + "."
            sources.append("summary_residuals.csv")
    if code_tests is not None and not code_tests.empty and "p_bh" in code_tests:
        sig = code_tests[code_tests["p_bh"].astype(float) < 0.05]
        text += (
            " Code by code, after the Benjamini–Hochberg correction, "
            + (
                ", ".join(f"{_label(x)} (p_BH = {float(x['p_bh']):.3g})" for _, x in sig.iterrows())
                + (" differs" if len(sig) == 1 else " differ")
                if len(sig)
                else "no single code differs between the documents at the 5 % level "
                f"({len(code_tests)} tests)"
            )
            + "."
        )
        sources.append("summary_code_tests.csv")
    return Finding("What differs between documents", text, tuple(sources))


def findings_pairs(cooccurrence, top_n: int = 3) -> Finding | None:
    """The strongest logic × mechanism pairs: units coded with both, and their Jaccard index."""
    if cooccurrence is None or cooccurrence.empty:
        return None
    c = cooccurrence[cooccurrence["n_both"].astype(int) > 0]
    if c.empty:
        return Finding(
            "Logic × mechanism",
            "No unit carries a logic and a mechanism together.",
            ("summary_cooccurrence.csv",),
        )
    c = c.sort_values(
        ["jaccard", "n_both", "row_code", "col_code"], ascending=[False, False, True, True]
    ).head(top_n)
    pairs = [
        f"{x['row_label']} × {x['col_label']} ({int(x['n_both'])} units, "
        f"Jaccard {float(x['jaccard']):.2f})"
        for _, x in c.iterrows()
    ]
    return Finding(
        "Logic × mechanism",
        "The strongest pairs of a logic and a mechanism in the same unit: "
        + "; ".join(pairs)
        + ".",
        ("summary_cooccurrence.csv",),
    )


def findings_reliability(targets, human) -> Finding | None:
    """How far the dictionary coding can be trusted: agreement with the reference and coders."""
    if targets is None or targets.empty:
        return None
    kappa = targets[targets["statistic"] == "cohen_kappa"]
    parts = []
    for split, rows in kappa.groupby("split", sort=False):
        per_code = rows[rows["code"] != MACRO]
        mean = rows[rows["code"] == MACRO]
        m = float(mean["value"].iloc[0]) if len(mean) else float(per_code["value"].mean())
        if pd.isna(m):
            parts.append(
                f"on the corpus's {split} units (unit split) agreement is not assessed "
                "(no reference coding: see the note column)"
            )
            continue
        below = per_code[per_code["meets"].astype(str).str.lower().isin(["false", "0"])]
        unassessed = per_code[per_code["value"].isna()]
        s = (
            f"on the corpus's {split} units (unit split) the dictionary's mean Cohen's κ with the "
            f"reference coder is {m:.2f}"
        )
        if len(mean) and pd.notna(mean["ci_low"].iloc[0]):
            s += f" [{float(mean['ci_low'].iloc[0]):.2f}, {float(mean['ci_high'].iloc[0]):.2f}]"
        s += (
            f"; below the target of {float(per_code['target'].iloc[0]):.1f}: "
            + ", ".join(f"{x['code']} ({float(x['value']):.2f})" for _, x in below.iterrows())
            if len(below)
            else "; every assessed code meets the target"
        )
        if len(unassessed):
            s += "; not assessed (no variation or no reference coding): " + ", ".join(
                unassessed["code"]
            )
        parts.append(s)
    text = "Reliability: " + "; ".join(parts) + "." if parts else ""
    sources = [product_file("reliability_targets")]
    if human is not None and not human.empty and "cohen_kappa" in human:
        per_code = human[human["code"] != MACRO]
        k = per_code["cohen_kappa"].astype(float)
        if k.notna().any():
            text += (
                f" The annotation files agree with each other at mean κ {k.mean():.2f} "
                f"(lowest {per_code.loc[k.idxmin(), 'code']}, {k.min():.2f})."
            )
        sources.append(product_file("reliability_human"))
    return Finding("Agreement on the corpus's own units", text, tuple(sources)) if text else None


def findings_validity(validity, *, low: float = 0.6) -> Finding | None:
    """How far the coding holds on documents the dictionary was not refined on.

    From ``reliability_validity.csv``.

    Document-level figures come first; a unit split is named as such, with what it overstates.
    """
    if validity is None or validity.empty:
        return None
    macro = validity[validity["code"] == MACRO]
    if macro.empty:
        return None

    def kappa(r) -> str:
        k = f"{float(r['cohen_kappa']):.2f}"
        if pd.notna(r.get("cohen_kappa_ci_low")) and pd.notna(r.get("cohen_kappa_ci_high")):
            k += f" [{float(r['cohen_kappa_ci_low']):.2f}, {float(r['cohen_kappa_ci_high']):.2f}]"
        return k

    # documents used to refine the dictionary ("dev") say little about new ones: not in the finding
    by_doc = macro[
        ~macro["evaluation"].str.contains("unit split") & ~macro["evaluation"].str.contains("dev ")
    ]
    units = macro[macro["evaluation"].str.contains("unit split")]
    parts = [
        f"{r['evaluation']}, {r['coder']}: mean κ {kappa(r)} ({int(r['n_units'])} units)"
        for _, r in by_doc.iterrows()
    ]
    text = "Mean Cohen's κ with the reference coding, by document first: " + "; ".join(parts) + "."
    headline = by_doc[
        (by_doc["coder"] == "dictionary") & by_doc["evaluation"].str.contains("holdout")
    ]
    if len(headline):
        ev = headline["evaluation"].iloc[0]
        rows = validity[
            (validity["evaluation"] == ev)
            & (validity["coder"] == "dictionary")
            & (validity["code"] != MACRO)
        ]
        weak = rows[rows["cohen_kappa"].astype(float) < low]
        text += (
            f" On those held-out documents, codes below {low}: "
            + ", ".join(f"{x['code']} ({float(x['cohen_kappa']):.2f})" for _, x in weak.iterrows())
            if len(weak)
            else f" On those held-out documents every code reaches {low}"
        ) + "."
        nan = rows[rows["cohen_kappa"].isna()]
        if len(nan):
            text += (
                " Not assessed (no reference coding or no variation): "
                + ", ".join(nan["code"])
                + "."
            )
    for _, r in units[units["coder"] == "dictionary"].iterrows():
        text += (
            f" The unit split ({r['evaluation']}) gives {kappa(r)}: it overstates, because its "
            "held-out units "
            "share their documents' vocabulary with the units the dictionary was refined on."
        )
    return Finding(
        "How reliable the coding is, by document", text, (product_file("reliability_validity"),)
    )


def findings_cleanup(summary, problems) -> Finding | None:
    """What cleanup read and removed, and whether any document needs a look."""
    if summary is None or summary.empty:
        return None
    n_docs = len(summary)
    text = (
        f"{n_docs} documents were read; cleanup removed "
        f"{int(summary['header_lines'].sum())} header and "
        f"{int(summary['trailer_lines'].sum())} trailer lines and repaired "
        f"{int(summary['lines_joined'].sum())} broken lines, leaving "
        f"{int(summary['sentences'].sum())} sentences and {int(summary['headings'].sum())} "
        f"headings; every removed line is in {product_file('cleanup_audit')}."
    )
    if problems is not None and len(problems):
        text += f" {len(problems)} problem(s) need a look: see {product_file('cleanup_problems')}."
    return Finding(
        "Documents", text, (product_file("cleanup_summary"), product_file("cleanup_problems"))
    )


def findings_groups(tests) -> Finding | None:
    """Whether the codes differ between groups of documents (years, issuers …), one sentence each.

    From ``summary_groups_test.csv`` (:func:`helpers.groups.groups_test`); a grouping that could not
    be tested says why (e.g. one document per group).
    """
    from helpers.groups import groups_describe

    if tests is None or tests.empty:
        return None
    text = " ".join(groups_describe(tests))
    return Finding("Comparing groups of documents", text, ("summary_groups_test.csv",))


def report_findings(tables_dir: str | Path = paths.TABLES) -> list[Finding]:
    """Return the report's findings, generated from the tables in ``tables_dir``.

    Missing tables are skipped.
    """
    tables = path_resolve(tables_dir)

    def read(name: str, *columns: str):
        return _read_optional(tables, name, columns)

    builders = [
        lambda: findings_cleanup(
            read(
                product_file("cleanup_summary"),
                "header_lines",
                "trailer_lines",
                "lines_joined",
                "sentences",
                "headings",
            ),
            read(product_file("cleanup_problems")),
        ),
        lambda: findings_codes(
            read(
                "summary_frequency.csv",
                "grouping",
                "code",
                "dimension",
                "units",
                "share",
                "ci_low",
                "ci_high",
            )
        ),
        lambda: findings_documents(
            read(
                "summary_crosstab_test.csv", "n_units", "n_codings", "cramers_v", "test", "p_value"
            ),
            read(
                "summary_residuals.csv",
                "doc_id",
                "code",
                "observed",
                "expected",
                "residual_adjusted",
            ),
            read("summary_code_tests.csv", "code", "p_bh"),
        ),
        lambda: findings_groups(
            read(
                "summary_groups_test.csv",
                "variable",
                "code",
                "groups",
                "documents",
                "n_permutations",
                "p_value",
                "p_bh",
                "cramers_v",
                "assessed",
                "note",
            )
        ),
        lambda: findings_pairs(
            read(
                "summary_cooccurrence.csv",
                "row_code",
                "col_code",
                "row_label",
                "col_label",
                "n_both",
                "jaccard",
            )
        ),
        lambda: findings_validity(
            read(
                product_file("reliability_validity"),
                "evaluation",
                "coder",
                "code",
                "n_units",
                "cohen_kappa",
            )
        ),
        lambda: findings_reliability(
            read(
                product_file("reliability_targets"),
                "code",
                "statistic",
                "value",
                "ci_low",
                "ci_high",
                "target",
                "meets",
                "split",
            ),
            read(product_file("reliability_human"), "code", "cohen_kappa"),
        ),
    ]
    found = []
    for build in builders:
        try:
            found.append(build())
        except (
            ValueError,
            TypeError,
            KeyError,
            IndexError,
        ) as err:  # say so; never stop the report
            found.append(
                Finding(
                    "A finding that could not be stated",
                    f"{type(err).__name__}: {err}. The tables are still below.",
                    (),
                )
            )
    return [f for f in found if f is not None]
