"""The HTML report: one offline page with the corpus, the key tables and figures, and every notebook.

:func:`report_write` renders each executed notebook to HTML with nbconvert and writes
``outputs/report/index.html``: the corpus table, then one section per notebook with its key tables
(CSV, shown as HTML tables) and figures (the PNGs in ``outputs/figures``), and a link to the rendered
notebook. Nothing is fetched from the network: nbconvert's references to MathJax and require.js on
CDNs are removed (the notebooks contain no formulas), images are local files, and the text uses the
project's CJK font (Noto Sans CJK SC, cut down to the characters on the pages, ``fonts/``), so
Chinese renders on a machine without Chinese fonts.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

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
FONT_FAMILY = "Report CJK"
FONT_FILE = "fonts/report-cjk.woff"


def _font_face(url: str) -> str:
    return "@font-face { font-family: '" + FONT_FAMILY + "'; src: url('" + url + "') format('woff'); }"



_CSS = """
body { font-family: "Report CJK", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #666; font-size: 0.9em; }
nav a { margin-right: 1em; }
"""


def notebook_html(executed: Path, out: Path, *, font_url: str | None = None) -> Path:
    """Render an executed notebook to an offline HTML page and return its path.

    With ``font_url`` (relative to the page) the page uses the report's embedded CJK font first, so
    Chinese renders on a machine without Chinese fonts.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    body = html_offline(body)
    if font_url:
        style = ("<style>" + _font_face(font_url)
                 + f" body, .jp-RenderedHTMLCommon, .jp-OutputArea-output pre, code {{ font-family: '{FONT_FAMILY}', "
                 "var(--jp-content-font-family), sans-serif; }</style>")
        body = body.replace("</head>", style + "</head>", 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def font_subset(texts: list[str], out: Path) -> Path:
    """Write the project's CJK font cut down to the characters of ``texts`` (WOFF) and return its path.

    The report then shows Chinese with the same font as the figures on any machine, offline, at a
    fraction of the 16 MB of the whole font.
    """
    from fontTools import subset

    from helpers.plots import font_path

    chars = "".join(sorted({ch for t in texts for ch in t if ord(ch) > 0x7F} | set(map(chr, range(0x20, 0x7F)))))
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    font = subset.load_font(str(font_path()), options)
    sub = subset.Subsetter(options)
    sub.populate(text=chars)
    sub.subset(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(out), options)
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
    pages: list[Path] = []
    for s in sections:
        parts.append(f"<h2 id='{s.notebook}'>{html.escape(s.title)}</h2>")
        executed = nb_dir / f"{s.notebook}.ipynb"
        if executed.exists():
            page = notebook_html(executed, report / "notebooks" / f"{s.notebook}.html", font_url=f"../{FONT_FILE}")
            pages.append(page)
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
    page_text = "\n".join(parts)
    font_subset([page_text, *(p.read_text(encoding="utf-8") for p in pages)], report / FONT_FILE)
    page_text = page_text.replace("</style></head>", _font_face(FONT_FILE) + "</style></head>", 1)
    index = report / "index.html"
    index.write_text(page_text, encoding="utf-8")
    return index
