"""Issue 7: the offline HTML report, the run manifest and the reproducibility check."""

from __future__ import annotations

import hashlib
import json
import subprocess

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402

from helpers import paths, plots, report  # noqa: E402
from helpers.pipeline import manifest_write, outputs_check  # noqa: E402


def test_report_is_offline_and_links_tables_figures_and_notebooks(tmp_path):
    nb_dir, tab_dir, fig_dir = tmp_path / "notebooks", tmp_path / "tables", tmp_path / "figures"
    for d in (nb_dir, tab_dir, fig_dir):
        d.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 闽宁协作 $x^2$"), nbformat.v4.new_code_cell("print('结对帮扶')")]
    nbformat.write(nb, nb_dir / "01_text_cleanup.ipynb")
    pd.DataFrame({"doc_id": ["report2024"], "sentences": [54]}).to_csv(tab_dir / "cleanup_summary.csv", index=False)
    plots.plots_setup()
    fig, ax = plt.subplots()
    ax.set_title("词云")
    plots.figure_save(fig, "wordcloud_corpus", fig_dir, formats=("png",))
    plt.close(fig)
    index = report.report_write(tmp_path / "report", notebooks_dir=nb_dir, tables_dir=tab_dir, figures_dir=fig_dir)
    page = index.read_text(encoding="utf-8")
    assert "<meta charset='utf-8'>" in page
    assert "深化和拓展闽宁协作模式的路径研究" in page  # the corpus table
    assert "cleanup_summary.csv" in page and "report2024" in page
    assert "../figures/wordcloud_corpus.png" in page and "notebooks/01_text_cleanup.html" in page
    assert "has not been run" in page  # notebooks 02–05 are missing and say so
    rendered = (tmp_path / "report" / "notebooks" / "01_text_cleanup.html").read_text(encoding="utf-8")
    assert "结对帮扶" in rendered
    for text in (page, rendered):
        assert not report.REMOTE_REFERENCE.search(text), report.REMOTE_REFERENCE.search(text)
    # Chinese renders without system fonts: the pages use a subset of the project's CJK font
    font = tmp_path / "report" / report.FONT_FILE
    assert "@font-face" in page and report.FONT_FILE in page and f"../{report.FONT_FILE}" in rendered
    from fontTools.ttLib import TTFont

    cmap = TTFont(font).getBestCmap()
    assert all(ord(ch) in cmap for ch in "闽宁协作结对帮扶深化和拓展模式的路径研究")
    assert font.stat().st_size < 2_000_000


def test_remote_references_are_removed():
    page = ('<script src="https://cdn.example/mathjax.js"></script><link rel="stylesheet" href="http://x/y.css">'
            '<script type="module">const m = await import("https://cdnjs.example/mermaid.mjs");</script><p>留下</p>')
    clean = report.html_offline(page)
    assert not report.REMOTE_REFERENCE.search(clean) and "<p>留下</p>" in clean


def test_manifest_records_input_hashes_parameters_versions_and_times(tmp_path):
    summary = pd.DataFrame([{"notebook": "01_text_cleanup", "status": "ok", "seconds": 1.5, "output": "x",
                             "parameters": {"raw_dir": "data/raw", "sample_seed": 20211013}}])
    m = json.loads(manifest_write(summary, tmp_path / "manifest.json").read_text(encoding="utf-8"))
    raw = sorted(paths.RAW.glob("*.txt"))[0]
    key = raw.relative_to(paths.ROOT).as_posix()
    assert m["inputs"][key] == hashlib.sha256(raw.read_bytes()).hexdigest()
    assert {"data/corpus.csv", "data/codebook.yaml", "data/dictionaries/user_dict.csv"} <= set(m["inputs"])
    assert m["notebooks"][0]["parameters"]["sample_seed"] == 20211013 and m["notebooks"][0]["seconds"] == 1.5
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
    same, msg = outputs_check(tmp_path)
    assert same, msg
    table.write_text("code,units_coded\npairing,17\n", encoding="utf-8")  # a deliberately changed table
    same, msg = outputs_check(tmp_path)
    assert not same
    assert "coding_counts.csv" in msg and "-pairing,16" in msg and "+pairing,17" in msg
    table.write_text("code,units_coded\npairing,16\n", encoding="utf-8")
    (tmp_path / "outputs" / "figures" / "new.png").write_bytes(b"png")  # a new, uncommitted figure
    same, msg = outputs_check(tmp_path)
    assert not same and "new.png" in msg
