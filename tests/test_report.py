"""Issue 7: the offline HTML report, the run manifest and the reproducibility check."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat
import pandas as pd

from helpers import paths, plots, report
from helpers.manifest import manifest_write
from helpers.outputs import outputs_diff


def test_report_is_offline_and_links_tables_figures_and_notebooks(tmp_path):
    nb_dir, tab_dir, fig_dir = tmp_path / "notebooks", tmp_path / "tables", tmp_path / "figures"
    for d in (nb_dir, tab_dir, fig_dir):
        d.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 闽宁协作 $x^2$"),
        nbformat.v4.new_code_cell("print('结对帮扶')"),
    ]
    nbformat.write(nb, nb_dir / "01_text_cleanup.ipynb")
    pd.DataFrame({"doc_id": ["report2024"], "sentences": [54]}).to_csv(
        tab_dir / "cleanup_summary.csv", index=False
    )
    plots.plots_setup()
    fig, ax = plt.subplots()
    ax.set_title("词云")
    plots.figure_save(fig, "wordcloud_corpus", fig_dir, formats=("png",))
    plt.close(fig)
    index = report.report_write(
        tmp_path / "report", notebooks_dir=nb_dir, tables_dir=tab_dir, figures_dir=fig_dir
    )
    page = index.read_text(encoding="utf-8")
    assert "<meta charset='utf-8'>" in page
    assert "深化和拓展闽宁协作模式的路径研究" in page  # the corpus table
    assert "cleanup_summary.csv" in page and "report2024" in page
    assert "'figures/wordcloud_corpus.png'" in page and "notebooks/01_text_cleanup.html" in page
    assert (
        tmp_path / "report" / "figures" / "wordcloud_corpus.png"
    ).exists()  # copied in: the folder stands alone
    assert (tmp_path / "report" / "tables" / "cleanup_summary.csv").exists()
    assert page.index("Findings") < page.index("<img") < page.index("cleanup_summary.csv</h4>")
    assert "has not been run" in page  # notebooks 02–05 are missing and say so
    rendered = (tmp_path / "report" / "notebooks" / "01_text_cleanup.html").read_text(
        encoding="utf-8"
    )
    assert "结对帮扶" in rendered
    for text in (page, rendered):
        assert not report.REMOTE_REFERENCE.search(text), report.REMOTE_REFERENCE.search(text)
    # Chinese renders without system fonts: the pages use a subset of the project's CJK font
    font = tmp_path / "report" / report.FONT_FILE
    assert (
        "@font-face" in page and report.FONT_FILE in page and f"../{report.FONT_FILE}" in rendered
    )
    from fontTools.ttLib import TTFont

    cmap = TTFont(font).getBestCmap()
    assert all(ord(ch) in cmap for ch in "闽宁协作结对帮扶深化和拓展模式的路径研究")
    assert font.stat().st_size < 2_000_000


def test_remote_references_are_removed():
    page = (
        '<script src="https://cdn.example/mathjax.js"></script><link rel="stylesheet" href="http://x/y.css">'
        '<script type="module">const m = await import("https://cdnjs.example/mermaid.mjs");</script><p>留下</p>'
    )
    clean = report.html_offline(page)
    assert not report.REMOTE_REFERENCE.search(clean) and "<p>留下</p>" in clean


def test_manifest_records_input_hashes_parameters_versions_and_times(tmp_path):
    summary = pd.DataFrame(
        [
            {
                "notebook": "01_text_cleanup",
                "status": "ok",
                "seconds": 1.5,
                "output": "x",
                "parameters": {"raw_dir": "data/raw", "sample_seed": 20211013},
            }
        ]
    )
    m = json.loads(manifest_write(summary, tmp_path / "manifest.json").read_text(encoding="utf-8"))
    raw = sorted(paths.RAW.glob("*.txt"))[0]
    key = raw.relative_to(paths.ROOT).as_posix()
    assert m["inputs"][key] == hashlib.sha256(raw.read_bytes()).hexdigest()
    assert {"data/corpus.csv", "data/codebook.yaml", "data/dictionaries/user_dict.csv"} <= set(
        m["inputs"]
    )
    assert (
        m["notebooks"][0]["parameters"]["sample_seed"] == 20211013
        and m["notebooks"][0]["seconds"] == 1.5
    )
    assert m["packages"]["jieba"] == "0.42.1"


def test_outputs_check_fails_on_a_changed_committed_table(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "ci@example.org")
    git("config", "user.name", "ci")
    table = tmp_path / "outputs" / "tables" / "coding_counts.csv"
    table.parent.mkdir(parents=True)
    table.write_text("code,units_coded\npairing,16\n", encoding="utf-8")
    (tmp_path / "outputs" / "figures").mkdir()
    git("add", "-A")
    git("commit", "-q", "-m", "tables")
    same, msg = outputs_diff(tmp_path)
    assert same, msg
    table.write_text(
        "code,units_coded\npairing,17\n", encoding="utf-8"
    )  # a deliberately changed table
    same, msg = outputs_diff(tmp_path)
    assert not same
    assert "coding_counts.csv" in msg and "-pairing,16" in msg and "+pairing,17" in msg
    table.write_text("code,units_coded\npairing,16\n", encoding="utf-8")
    (tmp_path / "outputs" / "figures" / "new.png").write_bytes(b"png")  # a new, uncommitted figure
    same, msg = outputs_diff(tmp_path)
    assert not same and "new.png" in msg


def _links(page: str) -> list[str]:
    import re

    return re.findall(r"""(?:src|href)=['"]([^'"#]+)['"]""", page)


def test_report_folder_is_self_contained_with_real_outputs(tmp_path):
    """Every link of the report on the committed outputs points to a file inside the report."""
    report_dir = tmp_path / "report"
    index = report.report_write(
        report_dir,
        notebooks_dir=tmp_path / "none",
        tables_dir=paths.TABLES,
        figures_dir=paths.FIGURES,
    )
    page = index.read_text(encoding="utf-8")
    links = _links(page)
    assert links, "the report links its tables and figures"
    for link in links:
        target = (report_dir / link).resolve()
        assert target.is_relative_to(report_dir.resolve()), link
        assert target.exists(), link
    # the findings come first, generated from the committed tables
    findings = page[page.index("id='findings'") : page.index("id='figures'")]
    assert "经济逻辑" in findings and "Cramér" in findings and "κ" in findings


def _tables(tmp_path, *, extra_code: bool = False):
    codes = [
        ("economic", "经济逻辑", "logic", 0.30, 0.22, 0.38),
        ("political", "政治逻辑", "logic", 0.10, 0.05, 0.16),
        ("industry", "产业带动", "mechanism", 0.20, 0.13, 0.27),
        ("pairing", "结对帮扶", "mechanism", 0.18, 0.11, 0.25),
    ]
    if extra_code:
        codes.append(("digital", "数字协作", "mechanism", 0.40, 0.31, 0.49))
    freq = pd.DataFrame(
        [
            {
                "grouping": "corpus",
                "doc_id": "(corpus)",
                "section": "",
                "code": c,
                "label_zh": zh,
                "dimension": d,
                "units_coded": round(s * 100),
                "units": 100,
                "share": s,
                "ci_low": lo,
                "ci_high": hi,
                "unit_ids": "a b c d e f g",
            }
            for c, zh, d, s, lo, hi in codes
        ]
    )
    freq.to_csv(tmp_path / "summary_frequency.csv", index=False)
    pd.DataFrame(
        [
            {
                "table": "doc_id × code",
                "n_units": 80,
                "n_codings": 120,
                "cramers_v": 0.31,
                "test": "Fisher",
                "p_value": 0.2,
                "note": "",
            }
        ]
    ).to_csv(tmp_path / "summary_crosstab_test.csv", index=False)
    pd.DataFrame(
        [
            {
                "row_code": "economic",
                "row_label": "经济逻辑",
                "col_code": "industry",
                "col_label": "产业带动",
                "n_both": 12,
                "jaccard": 0.4,
            },
            {
                "row_code": "political",
                "row_label": "政治逻辑",
                "col_code": "pairing",
                "col_label": "结对帮扶",
                "n_both": 0,
                "jaccard": 0.0,
            },
        ]
    ).to_csv(tmp_path / "summary_cooccurrence.csv", index=False)
    return tmp_path


def test_findings_say_what_the_numbers_say(tmp_path):
    findings = {f.topic: f for f in report.report_findings(_tables(tmp_path))}
    codes = findings["Which codes dominate"].text
    assert "经济逻辑 (economic), in 30.0 % of units [95 % interval 22.0 %–38.0 %]" in codes
    assert (
        "产业带动 (industry)" in codes and "overlap" in codes
    )  # 20 % [13, 27] and 18 % [11, 25] overlap
    assert "the intervals do not overlap" in codes  # 30 % [22, 38] and 10 % [5, 16] do not
    docs = findings["What differs between documents"].text
    assert (
        docs.startswith("There is no evidence")
        and "p = 0.2" in docs
        and "Cramér's V = 0.31" in docs
    )
    pairs = findings["Logic × mechanism"].text
    assert (
        "经济逻辑 × 产业带动 (12 units, Jaccard 0.40)" in pairs
        and "政治逻辑 × 结对帮扶" not in pairs
    )
    assert not any(
        t.startswith("How reliable") for t in findings
    )  # no reliability table: no finding


def test_findings_follow_an_added_code(tmp_path):
    codes = next(
        f
        for f in report.report_findings(_tables(tmp_path, extra_code=True))
        if f.topic == "Which codes dominate"
    ).text
    assert "the most frequent mechanism code is 数字协作 (digital), in 40.0 %" in codes


def test_tables_are_formatted_for_reading():
    df = pd.DataFrame(
        {
            "code": ["economic"],
            "share": [0.293103],
            "ci_low": [0.215517],
            "ci_high": [0.37931],
            "chi2": [20.5835],
            "units": [116],
            "value_base": [5482000000.0],
            "unit_ids": [" ".join(f"u{i}" for i in range(12))],
        }
    )
    out = report.table_format(df).iloc[0]
    assert out["share"] == "29.3 %" and out["ci_low"] == "21.6 %" and out["ci_high"] == "37.9 %"
    assert out["chi2"] == "20.6" and out["units"] == "116" and out["value_base"] == "5,482,000,000"
    assert out["unit_ids"] == "u0 u1 u2 u3 u4 … (+7)"
    kappa = report.table_format(pd.DataFrame({"value": [0.888407], "ci_low": [0.742933]})).iloc[0]
    assert kappa["ci_low"] == "0.743"  # an interval of a kappa is not a percentage


def test_groups_section_shows_tables_trend_figure_and_a_finding(tmp_path):
    """The section on groups of documents: the finding, the wide table, the trend figure."""
    from helpers import codebook as cb
    from helpers import groups
    from tests.test_groups import synthetic_corpus

    codebook = cb.codebook_read(paths.ROOT / "data" / "codebook.yaml")
    docs, wide = synthetic_corpus()
    docs.to_csv(tmp_path / "corpus.csv", index=False)
    docvars = groups.docvars_read(tmp_path / "corpus.csv")
    tab_dir, fig_dir = tmp_path / "tables", tmp_path / "figures"
    kw = {"random_seed": 42}
    shares = {
        v: groups.shares_by_group(wide, docvars, codebook, v, n_bootstrap=199, **kw)
        for v in ("year", "issuer")
    }
    tests = pd.concat(
        [groups.groups_test(wide, docvars, codebook, v, n_permutations=199, **kw) for v in shares]
    )
    groups.groups_write(shares, tests, tab_dir)
    plots.plots_setup()
    fig = plots.trend_plot(shares["year"], codebook)
    plots.figure_save(fig, "summary_trend_year", fig_dir, formats=("png",))
    plt.close(fig)
    finding = next(
        f for f in report.report_findings(tab_dir) if f.topic == "Comparing groups of documents"
    )
    assert "By year (5 groups, 30 documents" in finding.text
    assert "经济逻辑 (economic) from" in finding.text and "By issuer" in finding.text
    index = report.report_write(
        tmp_path / "report",
        notebooks_dir=tmp_path / "none",
        tables_dir=tab_dir,
        figures_dir=fig_dir,
        corpus_table=tmp_path / "corpus.csv",
    )
    page = index.read_text(encoding="utf-8")
    assert page.count("src='figures/summary_trend_year.png'") == 1  # once, in its section
    assert "4b Comparing groups of documents" in page
    assert "summary_by_year.csv</h4>" in page and "summary_groups_test.csv</h4>" in page
    assert "<th>经济逻辑 (economic)</th>" in page and "<td>2019</td>" in page
    assert page.count("04_statistical_summaries: notebook") <= 1  # listed once among notebooks


def test_groups_finding_says_why_a_test_was_not_assessed(tmp_path):
    pd.DataFrame(
        [
            {
                "variable": "year",
                "code": "(all codes)",
                "groups": 0,
                "documents": 0,
                "n_permutations": 9999,
                "p_value": float("nan"),
                "p_bh": float("nan"),
                "cramers_v": float("nan"),
                "assessed": False,
                "note": "not assessed: a test across groups needs ≥ 2 documents per group, in "
                "at least 2 groups (0 here); left out: 2021 (1 document), 2024 (1 document)",
            }
        ]
    ).to_csv(tmp_path / "summary_groups_test.csv", index=False)
    finding = next(
        f for f in report.report_findings(tmp_path) if f.topic == "Comparing groups of documents"
    )
    assert finding.text.startswith("By year: not assessed")
    assert "needs ≥ 2 documents per group" in finding.text


def test_notebook_page_from_the_cache_is_the_page_rendered(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('结对帮扶')")
    # a progress bar's carriage returns must survive the cache (read back without newline mapping)
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="编码: 50%\r编码: 100%\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# 闽宁协作"), cell]
    executed = tmp_path / "03_thematic_coding.ipynb"
    nbformat.write(nb, executed)
    cache = tmp_path / "cache"
    fresh = report.notebook_html(executed, tmp_path / "a.html", font_url="f.woff", cache_dir=cache)
    again = report.notebook_html(executed, tmp_path / "b.html", font_url="f.woff", cache_dir=cache)
    assert len(list(cache.iterdir())) == 1
    assert again.read_bytes() == fresh.read_bytes()
    assert "\r" in fresh.read_bytes().decode("utf-8") and "结对帮扶" in fresh.read_text("utf-8")
    nb.cells[1].outputs[0].text = "编码: 100%\n"  # the notebook ran again: rendered again
    nbformat.write(nb, executed)
    report.notebook_html(executed, tmp_path / "c.html", font_url="f.woff", cache_dir=cache)
    assert len(list(cache.iterdir())) == 2
    assert "编码: 50%" not in (tmp_path / "c.html").read_text(encoding="utf-8")


def test_notebook_page_is_the_page_of_nbconvert_html_exporter(tmp_path):
    """The page renderer skips two passes of nbconvert's exporter (bleach over highlighted code,
    BeautifulSoup over the page) and adds their attributes itself: the document a browser builds
    must be the one of nbconvert's own exporter (compared after parsing both)."""
    import io

    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    png = io.BytesIO()
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.bar(["economic", "social"], [3, 1])
    fig.savefig(png, format="png")
    plt.close(fig)
    table = pd.DataFrame({"code": ["industry", "pairing"], "share": [0.3, 0.1]}, index=[0, 1])
    code = nbformat.v4.new_code_cell(
        'units = table_read(product_path("coding_units", "outputs/tables"))  # 编码单元\n'
        "print(f\"{len(units)} units, 'quoted' & <escaped>\")"
    )
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="232 units 单元\n"),
        nbformat.v4.new_output("stream", name="stderr", text="coding: 50%\rcoding: 100%\n"),
        nbformat.v4.new_output(
            "display_data", data={"text/html": table.to_html(), "text/plain": str(table)}
        ),
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": base64.b64encode(png.getvalue()).decode(), "text/plain": "<Figure>"},
        ),
        nbformat.v4.new_output("execute_result", data={"text/plain": "0.293"}, execution_count=1),
    ]
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# 闽宁协作\n\nA *list*:\n\n- 结对帮扶 `code`\n- [link](https://example.org)\n\n"
            "| logic | units |\n|---|---|\n| 经济 | 3 |\n"
        ),
        code,
    ]
    executed = tmp_path / "04_statistical_summaries.ipynb"
    nbformat.write(nb, executed)

    page = report.notebook_html(executed, tmp_path / "page.html", cache_dir=None)
    stock, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(executed, 4))

    def document(text: str) -> str:
        return str(BeautifulSoup(text, "html.parser"))

    ours = page.read_bytes().decode("utf-8")  # "\r" of the progress bar kept
    assert document(ours) == document(report.html_offline(stock))
    assert ours.count('tabindex="0"') == stock.count('tabindex="0"') > 0
    assert "No description has been provided for this image" in ours
    assert "<table" in ours and "结对帮扶" in ours and "coding: 100%" in ours


def test_report_font_covers_the_characters_pages_write_as_references(tmp_path, monkeypatch):
    """Pages write some characters as references (``In&nbsp;[1]``, ``&#38397;``): the font
    subset must have the characters a browser shows."""
    from fontTools.ttLib import TTFont

    from helpers import report_pages

    monkeypatch.setattr(plots, "FONT_CACHE", tmp_path / "fonts")
    out = report_pages.font_subset(["<p>In&nbsp;[1]: &#38397;宁协作</p>"], tmp_path / "f.woff")
    cmap = TTFont(out).getBestCmap()
    assert {0xA0, ord("闽"), ord("宁"), ord("协")} <= set(cmap)
    assert ord("经") not in cmap  # cut down to the characters of the pages
