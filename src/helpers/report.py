"""The HTML report: one offline page with the corpus, key tables and figures, and every notebook.

:func:`report_write` renders each executed notebook to HTML with nbconvert and writes
``outputs/report/index.html``: the corpus table, then one section per notebook with its key tables
(CSV, shown as HTML tables) and figures (the PNGs in ``outputs/figures``), and a link to the
rendered notebook. Nothing is fetched from the network: nbconvert's references to MathJax and
require.js on CDNs are removed (the notebooks contain no formulas), images are local files, and the
text uses the project's CJK font (Noto Sans CJK SC, cut down to the characters on the pages,
``fonts/``), so Chinese renders on a machine without Chinese fonts.
"""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.errors import path_display
from helpers.reliability import MACRO
from helpers.tables import (
    bytes_write,
    file_atomic,
    path_resolve,
    table_full_path,
    table_is_cut,
    table_read,
    table_source,
    text_write,
)


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
        ("cleanup_summary.csv", "cleanup_metadata.csv"),
        (),
    ),
    Section(
        "02_segmentation_and_frequency",
        "2 Segmentation and lexical statistics 分词与词频",
        ("lexical_keywords.csv", "lexical_kwic.csv"),
        ("lexical_", "wordcloud_", "cooccurrence_"),
    ),
    Section(
        "03_thematic_coding",
        "3 Thematic coding 主题编码",
        ("coding_counts.csv", "coding_quotes.csv"),
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
        ("summary_groups_test.csv", "summary_by_*.csv"),
        ("summary_trend_",),
    ),
    Section(
        "05_coding_reliability",
        "5 Coding reliability 编码信度",
        (
            "reliability_validity.csv",
            "validation_agreement_by.csv",
            "reliability_targets.csv",
            "reliability_human.csv",
            "reliability_disagreements.csv",
            "reliability_second_opinion.csv",
            "codebook_suggestions_terms.csv",
            "codebook_suggestions_indicators.csv",
        ),
        ("reliability_",),
    ),
)
MAX_ROWS = 30
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
#: Columns shown as percentages when the table has a ``share`` column (shares and their intervals).
PERCENT_COLUMNS = ("share", "ci_low", "ci_high")

_EXTERNAL = re.compile(
    r"<script[^>]+src=\"https?://[^\"]*\"[^>]*>\s*</script>|<link[^>]+href=\"https?://[^\"]*\"[^>]*>",
    re.IGNORECASE,
)
_MATHJAX_BLOCK = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL
)
_REMOTE_SCRIPT = re.compile(
    r"<script[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*?</script>", re.DOTALL
)
#: What a browser would fetch: script/link/img sources, module imports and CSS urls on other hosts.
REMOTE_REFERENCE = re.compile(
    r"""(?:src|href)=["']https?://|import\(["']https?://|url\(["']?https?://"""
)
FONT_FAMILY = "Report CJK"
FONT_FILE = "fonts/report-cjk.woff"


def _font_face(url: str) -> str:
    return (
        "@font-face { font-family: '" + FONT_FAMILY + "'; src: url('" + url + "') format('woff'); }"
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


NOTEBOOK_HTML_CACHE: Path = paths.CACHE / "notebook_html"
_NOTEBOOK_HTML_KEEP = 20  # rendered pages kept in the cache (a few runs' worth)


def notebook_html(
    executed: Path,
    out: Path,
    *,
    font_url: str | None = None,
    cache_dir: str | Path | None = NOTEBOOK_HTML_CACHE,
) -> Path:
    """Render an executed notebook to an offline HTML page and return its path.

    With ``font_url`` (relative to the page) the page uses the report's embedded CJK font first, so
    Chinese renders on a machine without Chinese fonts. A notebook that did not run again since the
    last report (after a codebook edit: 01 and 02) is not rendered again: the page is kept in
    ``cache_dir`` under a hash of the executed notebook, ``font_url``, nbconvert's version and this
    module's code (``None``: no cache).
    """
    import hashlib
    from importlib.metadata import version

    cached = None
    if cache_dir is not None:
        key = hashlib.sha256()
        for part in (
            Path(executed).read_bytes(),
            str(font_url).encode(),
            version("nbconvert").encode(),
            Path(__file__).read_bytes(),
        ):
            key.update(hashlib.sha256(part).digest())
        cached = Path(cache_dir) / f"{key.hexdigest()[:32]}.html"
        if cached.exists():
            return text_write(cached.read_bytes().decode("utf-8"), out)  # "\r" kept
    body = _notebook_render(executed, font_url)
    if cached is not None:
        text_write(body, cached)
        # a notebook run again never matches its old page: keep the newest pages only
        pages = sorted(cached.parent.glob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in pages[_NOTEBOOK_HTML_KEEP:]:
            old.unlink(missing_ok=True)
    return text_write(body, out)


@lru_cache(maxsize=1)
def _html_exporter():
    """One nbconvert exporter for every page: building one loads its templates (~0.4 s each)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab")


def _notebook_render(executed: Path, font_url: str | None) -> str:
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    body, _ = _html_exporter().from_notebook_node(nb)
    body = html_offline(body)
    if font_url:
        style = (
            "<style>"
            + _font_face(font_url)
            + " body, .jp-RenderedHTMLCommon, .jp-OutputArea-output pre, code "
            + f"{{ font-family: '{FONT_FAMILY}', "
            "var(--jp-content-font-family), sans-serif; }</style>"
        )
        body = body.replace("</head>", style + "</head>", 1)
    return body


def font_subset(texts: list[str], out: Path) -> Path:
    """Write the project's CJK font cut down to the characters of ``texts`` (WOFF); return its path.

    The report then shows Chinese with the same font as the figures on any machine, offline, at a
    fraction of the 16 MB of the whole font.
    """
    import io

    from helpers.plots import FONT_CACHE, font_path, font_subset_cached

    used = set().union(*map(set, texts))  # set(text) runs in C: the pages are megabytes of base64
    chars = "".join(
        sorted({ch for ch in used if ord(ch) > 0x7F} | set(map(chr, range(0x20, 0x7F))))
    )

    def build() -> bytes:
        from fontTools import subset

        options = subset.Options()
        options.flavor = "woff"
        options.layout_features = ["*"]
        font = subset.load_font(str(font_path()), options)
        sub = subset.Subsetter(options)
        sub.populate(text=chars)
        sub.subset(font)
        buffer = io.BytesIO()
        subset.save_font(font, buffer, options)
        return buffer.getvalue()

    # the same characters give the same bytes: cut once, then from .cache/fonts
    return bytes_write(font_subset_cached("report-woff", chars, build, FONT_CACHE), out)


def html_offline(page: str) -> str:
    """Return ``page`` without anything a browser would fetch from other hosts.

    MathJax, require.js and mermaid: nbconvert's templates load them from CDNs.
    """
    page = _MATHJAX_BLOCK.sub("", page)
    page = _REMOTE_SCRIPT.sub(
        "", page
    )  # e.g. nbconvert's mermaid loader (our notebooks have no diagrams)
    return _EXTERNAL.sub("", page)


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


def _table_html(path: Path, link: str) -> str:
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


def _groups_table_html(path: Path, link: str) -> str:
    """A grouping table (``summary_by_<variable>.csv``) as groups × codes: share [interval].

    The CSV has one row per group and code; a reader compares groups along a row of this table.
    """
    df = pd.read_csv(table_source(path), encoding="utf-8")  # every row, also of a cut table
    if df.empty or not {"group", "code", "share", "ci_low", "ci_high"} <= set(df.columns):
        return _table_html(path, link)

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


def _groups_test_html(path: Path, link: str) -> str:
    """The test across groups, compact: a variable that could not be tested is one row with why."""
    df = pd.read_csv(table_source(path), encoding="utf-8")  # every row, also of a cut table
    needed = {"variable", "code", "assessed", "p_value", "note"}
    if df.empty or not needed <= set(df.columns):
        return _table_html(path, link)
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
    the figures with captions, then the key tables (formatted, cut at ``MAX_ROWS`` with a link to
    the CSV), then the executed notebooks. Tables and figures are copied into ``report_dir``, so the
    folder is self-contained: it can be zipped and sent. Sections whose notebook has not been
    executed are listed as missing rather than left out, so a partial run shows what is absent.
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
        "its sentence and the indicator that fired in <code>tables/coding_evidence.csv</code>.</p>",
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
                _groups_table_html(tab_dir / name, f"tables/{name}")
                if name.startswith("summary_by_")
                else _groups_test_html(tab_dir / name, f"tables/{name}")
                if name == "summary_groups_test.csv"
                else _table_html(tab_dir / name, f"tables/{name}")
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
    page_text = page_text.replace("</style></head>", _font_face(FONT_FILE) + "</style></head>", 1)
    return text_write(page_text, report / "index.html")


# --------------------------------------------------------------------------------------------------
# Findings: sentences generated from the tables, so the report opens with what the numbers say.
# --------------------------------------------------------------------------------------------------


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
    sources = ["reliability_targets.csv"]
    if human is not None and not human.empty and "cohen_kappa" in human:
        per_code = human[human["code"] != MACRO]
        k = per_code["cohen_kappa"].astype(float)
        if k.notna().any():
            text += (
                f" The annotation files agree with each other at mean κ {k.mean():.2f} "
                f"(lowest {per_code.loc[k.idxmin(), 'code']}, {k.min():.2f})."
            )
        sources.append("reliability_human.csv")
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
    return Finding("How reliable the coding is, by document", text, ("reliability_validity.csv",))


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
        f"headings; every removed line is in cleanup_audit.csv."
    )
    if problems is not None and len(problems):
        text += f" {len(problems)} problem(s) need a look: see cleanup_problems.csv."
    return Finding("Documents", text, ("cleanup_summary.csv", "cleanup_problems.csv"))


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
                "cleanup_summary.csv",
                "header_lines",
                "trailer_lines",
                "lines_joined",
                "sentences",
                "headings",
            ),
            read("cleanup_problems.csv"),
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
                "reliability_validity.csv", "evaluation", "coder", "code", "n_units", "cohen_kappa"
            )
        ),
        lambda: findings_reliability(
            read(
                "reliability_targets.csv",
                "code",
                "statistic",
                "value",
                "ci_low",
                "ci_high",
                "target",
                "meets",
                "split",
            ),
            read("reliability_human.csv", "code", "cohen_kappa"),
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
