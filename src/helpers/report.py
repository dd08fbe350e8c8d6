"""The HTML report: one offline page with findings, figures, key tables and every notebook.

:func:`report_write` writes ``outputs/report/index.html``: findings in words generated from the
tables (:mod:`helpers.findings`), the figures with numbered captions, the corpus and the key tables
of each notebook (formatted by :mod:`helpers.report_tables`), and a link to each executed notebook
rendered as a page (:mod:`helpers.report_pages`). Nothing is fetched from the network: images are
local files, the pages have no references to other hosts, and the text uses the project's CJK font
(Noto Sans CJK SC, cut down to the characters on the pages, ``fonts/``), so Chinese renders on a
machine without Chinese fonts.
"""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass
from pathlib import Path

from helpers import paths
from helpers.findings import Finding, product_file, report_findings
from helpers.groups import TABLE_PREFIX, TEST_TABLE
from helpers.products import product_path
from helpers.report_pages import (
    FONT_FILE,
    REMOTE_REFERENCE,
    font_face,
    font_subset,
    html_offline,
    notebook_html,
)
from helpers.report_tables import (
    groups_table_html,
    groups_test_html,
    table_format,
    table_html,
)
from helpers.tables import file_atomic, path_resolve, table_read, text_write

# the names other modules, the notebook and the tests use from here
__all__ = [
    "FIGURE_CAPTIONS",
    "FONT_FILE",
    "REMOTE_REFERENCE",
    "SECTIONS",
    "Finding",
    "Section",
    "figure_caption",
    "html_offline",
    "notebook_html",
    "report_findings",
    "report_write",
    "table_format",
]


@dataclass(frozen=True)
class Section:
    """What the report shows for one notebook: its key tables and the prefixes of its figures."""

    notebook: str
    title: str
    tables: tuple[str, ...]  # file names or glob patterns (summary_by_*.csv)
    figure_prefixes: tuple[str, ...]
    figure_exclude: tuple[str, ...] = ()  # prefixes shown by a later section


SECTIONS: tuple[Section, ...] = (
    Section(
        "01_text_cleanup",
        "1 Text cleanup 文本清洗",
        (product_file("cleanup_summary"), product_file("cleanup_metadata")),
        (),
    ),
    Section(
        "02_segmentation_and_frequency",
        "2 Segmentation and lexical statistics 分词与词频",
        (product_file("lexical_keywords"), product_file("lexical_kwic")),
        ("lexical_", "wordcloud_", "cooccurrence_"),
    ),
    Section(
        "03_thematic_coding",
        "3 Thematic coding 主题编码",
        (product_file("coding_counts"), product_file("coding_quotes")),
        ("coding_",),
    ),
    Section(
        "04_statistical_summaries",
        "4 Statistical summaries 统计汇总",
        (
            "summary_crosstab_test.csv",
            "summary_residuals.csv",
            "summary_cooccurrence.csv",
            "summary_numbers.csv",
        ),
        ("summary_",),
        ("summary_trend_",),
    ),
    Section(
        "04_statistical_summaries",
        "4b Comparing groups of documents 文档分组比较",
        (TEST_TABLE, f"{TABLE_PREFIX}*.csv"),
        ("summary_trend_",),
    ),
    Section(
        "05_coding_reliability",
        "5 Coding reliability 编码信度",
        (
            product_file("reliability_validity"),
            product_file("validation_agreement_by"),
            product_file("reliability_targets"),
            product_file("reliability_human"),
            product_file("reliability_disagreements"),
            product_file("reliability_second_opinion"),
            product_file("codebook_suggestions_terms"),
            product_file("codebook_suggestions_indicators"),
        ),
        ("reliability_",),
    ),
)
#: Captions of the figures, by file-name prefix (the first prefix that matches is used).
FIGURE_CAPTIONS: tuple[tuple[str, str], ...] = (
    (
        "wordcloud_corpus",
        "Word cloud of the whole corpus: content words (stopwords removed, nouns, verbs and "
        "adjectives kept), size proportional to frequency.",
    ),
    (
        "wordcloud_",
        "Word cloud of one document ({name}): content words, size proportional to frequency.",
    ),
    (
        "lexical_top_terms",
        "Most frequent content words per document, on one scale (occurrences per 10,000 tokens).",
    ),
    (
        "cooccurrence_network",
        "Words that occur in the same sentence: node size is frequency, colour the "
        "community, edge width the Jaccard index; the strongest edges are drawn.",
    ),
    (
        "summary_shares",
        "Share of units carrying each code, with 95 % bootstrap intervals (units resampled "
        "within documents).",
    ),
    (
        "summary_composition",
        "Composition of each document: the share of its coded units that carry each code, "
        "per dimension.",
    ),
    (
        "summary_cooccurrence",
        "Logic × mechanism: units coded with both (matrix coding query); the Jaccard index "
        "in colour.",
    ),
    (
        "summary_section_profile",
        "Section profile: the share of units in each top-level section that carry each code.",
    ),
    (
        "summary_residuals",
        "Document × code: adjusted standardized residuals; beyond ±1.96 a document uses a code "
        "more (or less) than independence predicts.",
    ),
    (
        "summary_trend_",
        "Share of units carrying each code per {name}, one panel per code on one scale, with 95 % "
        "bootstrap intervals over documents; n = documents per group (a hollow point: too few "
        "documents for an interval).",
    ),
    ("reliability_", "Coding reliability ({name})."),
)


_CSS = """
body { font-family: "Report CJK", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
       "Microsoft YaHei", sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.5; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #666; font-size: 0.9em; }
nav a { margin-right: 1em; }
.table-wrap { overflow-x: auto; max-width: 100%; }
td { max-width: 32em; overflow-wrap: anywhere; }
ol.findings li { margin-bottom: 0.8em; }
figure { margin: 1em 0 2em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 0 1.5em; }
figcaption { font-size: 0.95em; color: #333; }
"""


def figure_caption(name: str) -> str:
    """Return the caption of the figure file ``name`` (without extension)."""
    for prefix, caption in FIGURE_CAPTIONS:
        if name.startswith(prefix):
            return caption.format(name=name[len(prefix) :] if prefix.endswith("_") else name)
    return name


def _findings_html(findings: list[Finding], tables: str) -> str:
    items = []
    for f in findings:
        links = ", ".join(
            f"<a href='{tables}/{html.escape(s)}'>{html.escape(s)}</a>" for s in f.sources
        )
        items.append(
            f"<li><b>{html.escape(f.topic)}.</b> {html.escape(f.text)} "
            f"<span class='note'>(from {links})</span></li>"
        )
    return (
        "<ol class='findings'>" + "".join(items) + "</ol>"
        if items
        else "<p class='note'>No tables yet.</p>"
    )


def _copy_products(src: Path, dst: Path) -> None:
    """Copy the files of ``src`` into ``dst`` (replacing older copies): the report stands alone."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    if src.is_dir():
        for f in sorted(src.iterdir()):
            if f.is_file() and not f.name.startswith("."):  # not a .*.tmp left by a killed run
                with file_atomic(dst / f.name) as tmp:
                    shutil.copy2(f, tmp)


def report_write(
    report_dir: str | Path = paths.OUTPUTS / "report",
    *,
    notebooks_dir: str | Path = paths.EXECUTED_NOTEBOOKS,
    tables_dir: str | Path = paths.TABLES,
    figures_dir: str | Path = paths.FIGURES,
    corpus_table: str | Path = paths.CORPUS_TABLE,
    sections: tuple[Section, ...] = SECTIONS,
) -> Path:
    """Write the report and return the path of ``index.html``.

    The page opens with findings in words generated from the tables (:func:`report_findings`), then
    the figures with captions, then the key tables (formatted, cut at ``report_tables.MAX_ROWS``
    rows with a link to the CSV), then the executed notebooks. Tables and figures are copied into
    ``report_dir``, so the folder is self-contained: it can be zipped and sent. Sections whose
    notebook has not been executed are listed as missing rather than left out, so a partial run
    shows what is absent.
    """
    report = path_resolve(report_dir)
    nb_dir, tab_dir, fig_dir = (
        path_resolve(notebooks_dir),
        path_resolve(tables_dir),
        path_resolve(figures_dir),
    )
    report.mkdir(parents=True, exist_ok=True)
    _copy_products(tab_dir, report / "tables")
    _copy_products(fig_dir, report / "figures")
    corpus = table_read(corpus_table)
    findings = report_findings(tab_dir)
    nav = [
        ("findings", "Findings 主要发现"),
        ("figures", "Figures 图"),
        ("tables", "Tables 表"),
        ("notebooks", "Notebooks 笔记本"),
    ]
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>闽宁协作文本分析报告 · Report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>闽宁协作文本分析报告</h1>",
        f"<p>{len(corpus)} documents coded with the five logics and five mechanisms of 闽宁协作: "
        "cleanup, segmentation, thematic coding, statistics and reliability, regenerated by "
        "<code>make run</code>. Every number below comes from a table in <code>tables/</code>; "
        "every coded unit can be traced to "
        "its sentence and the indicator that fired in "
        f"<code>{product_path('coding_evidence', 'tables').as_posix()}</code>.</p>",
        "<nav>" + "".join(f"<a href='#{k}'>{html.escape(v)}</a>" for k, v in nav) + "</nav>",
        "<h2 id='findings'>Findings 主要发现</h2>",
        _findings_html(findings, "tables"),
        "<h2 id='figures'>Figures 图</h2>",
    ]
    number = 0
    for s in sections:
        groups = [
            [
                png
                for png in sorted(fig_dir.glob(f"{prefix}*.png"))
                if not png.name.startswith(s.figure_exclude)
            ]
            for prefix in s.figure_prefixes
        ]
        if not any(groups):
            continue
        parts.append(f"<h3>{html.escape(s.title)}</h3>")
        for pngs in groups:
            parts.append("<div class='grid'>" if len(pngs) > 1 else "<div>")
            for png in pngs:
                number += 1
                svg = png.with_suffix(".svg")
                files = f"<a href='figures/{png.name}'>PNG</a>" + (
                    f" · <a href='figures/{svg.name}'>SVG</a>" if svg.exists() else ""
                )
                parts.append(
                    f"<figure><img src='figures/{html.escape(png.name)}' "
                    f"alt='{html.escape(png.stem)}'>"
                    f"<figcaption><b>Figure {number}.</b> {html.escape(figure_caption(png.stem))} "
                    f"<span class='note'>({files})</span></figcaption></figure>"
                )
            parts.append("</div>")
    parts += [
        "<h2 id='tables'>Tables 表</h2>",
        "<h3>Corpus 语料</h3>",
        "<div class='table-wrap'>"
        + corpus.to_html(index=False, escape=True, border=0, na_rep="")
        + "</div>",
    ]
    for s in sections:
        present = list(
            dict.fromkeys(p.name for pattern in s.tables for p in sorted(tab_dir.glob(pattern)))
        )
        if present:
            parts.append(f"<h3>{html.escape(s.title)}</h3>")
            parts += [
                groups_table_html(tab_dir / name, f"tables/{name}")
                if name.startswith(TABLE_PREFIX)
                else groups_test_html(tab_dir / name, f"tables/{name}")
                if name == TEST_TABLE
                else table_html(tab_dir / name, f"tables/{name}")
                for name in present
            ]
    parts.append("<h2 id='notebooks'>Notebooks 笔记本</h2><ul>")
    pages: list[Path] = []
    rendered: set[str] = set()
    for s in sections:
        if s.notebook in rendered:  # a notebook with two sections is rendered once
            continue
        rendered.add(s.notebook)
        executed = nb_dir / f"{s.notebook}.ipynb"
        if executed.exists():
            page = notebook_html(
                executed, report / "notebooks" / f"{s.notebook}.html", font_url=f"../{FONT_FILE}"
            )
            pages.append(page)
            parts.append(
                f"<li><a href='notebooks/{s.notebook}.html'>{html.escape(s.title)}</a>: "
                "the executed "
                "notebook, with every table and figure it made</li>"
            )
        else:
            parts.append(
                f"<li class='note'>{html.escape(s.title)}: notebook {s.notebook} "
                "has not been run.</li>"
            )
    parts += ["</ul>", "</body></html>"]
    page_text = "\n".join(parts)
    font_subset([page_text, *(p.read_text(encoding="utf-8") for p in pages)], report / FONT_FILE)
    page_text = page_text.replace("</style></head>", font_face(FONT_FILE) + "</style></head>", 1)
    return text_write(page_text, report / "index.html")
