"""The HTML report: one offline page with the corpus, the key tables and figures, and every notebook.

:func:`report_write` renders each executed notebook to HTML with nbconvert and writes
``outputs/report/index.html``: the corpus table, then one section per notebook with its key tables
(CSV, shown as HTML tables) and figures (the PNGs in ``outputs/figures``), and a link to the rendered
notebook. Nothing is fetched from the network: nbconvert's references to MathJax and require.js on
CDNs are removed (the notebooks contain no formulas), images are local files, and Chinese is drawn
by the reader's system fonts in text and by the project's CJK font in the figures.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.tables import path_resolve, table_read


@dataclass(frozen=True)
class Section:
    """What the report shows for one notebook: its key tables and the prefixes of its figures."""

    notebook: str
    title: str
    tables: tuple[str, ...]
    figure_prefixes: tuple[str, ...]


SECTIONS: tuple[Section, ...] = (
    Section("01_text_cleanup", "1 Text cleanup 文本清洗", ("cleanup_summary.csv", "cleanup_metadata.csv"), ()),
    Section("02_segmentation_and_frequency", "2 Segmentation and lexical statistics 分词与词频",
            ("lexical_keywords.csv", "lexical_kwic.csv"), ("lexical_", "wordcloud_", "cooccurrence_")),
    Section("03_thematic_coding", "3 Thematic coding 主题编码", ("coding_counts.csv", "coding_quotes.csv"), ("coding_",)),
    Section("04_statistical_summaries", "4 Statistical summaries 统计汇总",
            ("summary_crosstab_test.csv", "summary_residuals.csv", "summary_cooccurrence.csv", "summary_numbers.csv"),
            ("summary_",)),
    Section("05_coding_reliability", "5 Coding reliability 编码信度",
            ("reliability_targets.csv", "reliability_dictionary_holdout.csv", "reliability_human.csv",
             "reliability_disagreements.csv"), ("reliability_",)),
)
MAX_ROWS = 30

_EXTERNAL = re.compile(r"<script[^>]+src=\"https?://[^\"]*\"[^>]*>\s*</script>|<link[^>]+href=\"https?://[^\"]*\"[^>]*>",
                       re.IGNORECASE)
_MATHJAX_BLOCK = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
_REMOTE_SCRIPT = re.compile(r"<script[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*?</script>", re.DOTALL)
#: What a browser would fetch: script/link/img sources, module imports and CSS urls on other hosts.
REMOTE_REFERENCE = re.compile(r"""(?:src|href)=["']https?://|import\(["']https?://|url\(["']?https?://""")
_CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei",
       sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #666; font-size: 0.9em; }
nav a { margin-right: 1em; }
"""


def notebook_html(executed: Path, out: Path) -> Path:
    """Render an executed notebook to a self-contained offline HTML page and return its path."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html_offline(body), encoding="utf-8")
    return out


def html_offline(page: str) -> str:
    """Return ``page`` without anything a browser would fetch from other hosts (MathJax, require.js, mermaid)."""
    page = _MATHJAX_BLOCK.sub("", page)
    page = _REMOTE_SCRIPT.sub("", page)  # e.g. nbconvert's mermaid loader (our notebooks have no diagrams)
    return _EXTERNAL.sub("", page)


def _table_html(path: Path, link: str) -> str:
    df = table_read(path)
    shown = df.head(MAX_ROWS)
    note = f"{len(df)} rows" + (f", first {MAX_ROWS} shown" if len(df) > MAX_ROWS else "")
    return (f"<h4>{html.escape(path.name)}</h4><p class='note'>{note} · <a href='{link}'>CSV</a></p>"
            + shown.to_html(index=False, escape=True, border=0, na_rep=""))


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

    Sections whose notebook has not been executed are listed as missing rather than left out, so a
    partial run shows what is absent.
    """
    report = path_resolve(report_dir)
    nb_dir, tab_dir, fig_dir = path_resolve(notebooks_dir), path_resolve(tables_dir), path_resolve(figures_dir)
    report.mkdir(parents=True, exist_ok=True)

    def rel(p: Path) -> str:
        import os

        return os.path.relpath(p, report).replace("\\", "/")

    corpus = table_read(corpus_table)
    parts = ["<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
             "<title>闽宁协作文本分析报告 · Report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>闽宁协作文本分析报告</h1>",
             "<p>Five logics and five mechanisms of 闽宁协作: cleanup, segmentation, thematic coding, statistics and "
             "reliability, regenerated by <code>make run</code>. Every table links to its CSV; every coded number can be "
             "traced to its units in <code>coding_evidence.csv</code>.</p>",
             "<nav>" + "".join(f"<a href='#{s.notebook}'>{html.escape(s.title)}</a>" for s in sections) + "</nav>",
             "<h2>Corpus 语料</h2>", corpus.to_html(index=False, escape=True, border=0)]
    for s in sections:
        parts.append(f"<h2 id='{s.notebook}'>{html.escape(s.title)}</h2>")
        executed = nb_dir / f"{s.notebook}.ipynb"
        if executed.exists():
            page = notebook_html(executed, report / "notebooks" / f"{s.notebook}.html")
            parts.append(f"<p><a href='{rel(page)}'>Executed notebook {s.notebook} (HTML)</a></p>")
        else:
            parts.append(f"<p class='note'>Notebook {s.notebook} has not been run.</p>")
        for name in s.tables:
            path = tab_dir / name
            if path.exists():
                parts.append(_table_html(path, rel(path)))
        for prefix in s.figure_prefixes:
            for png in sorted(fig_dir.glob(f"{prefix}*.png")):
                parts.append(f"<figure><img src='{rel(png)}' alt='{html.escape(png.stem)}'>"
                             f"<figcaption class='note'>{html.escape(png.name)}</figcaption></figure>")
    parts.append("</body></html>")
    index = report / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index
