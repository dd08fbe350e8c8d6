"""Chinese must render: no missing glyph in figures or word clouds."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import plots  # noqa: E402

CHINESE = "闽宁协作：联席推进、结对帮扶、产业带动、互学互助、社会参与（经济逻辑−生态逻辑）"


def _draw(text: str) -> list[str]:
    fig, ax = plt.subplots()
    ax.set_title(text)
    ax.set_xlabel("每万词频次")
    ax.bar(["乡村振兴", "共同富裕"], [1, -2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(__import__("io").BytesIO(), format="png")
    plt.close(fig)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_without_the_cjk_font_glyphs_go_missing():
    """The check below can fail: with matplotlib's default font every Chinese glyph is missing."""
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.sans-serif": ["DejaVu Sans"]}):
        assert _draw(CHINESE)


def test_with_the_project_font_no_glyph_is_missing(tmp_path):
    family = plots.plots_setup()
    assert family == "Noto Sans CJK SC"
    assert not _draw(CHINESE)
    fig, ax = plt.subplots()
    ax.set_title(CHINESE)
    written = plots.figure_save(fig, "check", tmp_path, formats=("png", "svg", "pdf"))
    assert all(p.stat().st_size > 0 for p in written)


def test_every_corpus_character_is_in_the_font(raw_texts):
    assert plots.font_missing_glyphs(raw_texts.values()) == []
    assert plots.font_missing_glyphs(["闽宁协作😀"]) == ["😀"]


def test_word_cloud_uses_the_cjk_font_and_refuses_undrawable_words(tmp_path):
    wc = plots.wordcloud_draw({"闽宁协作": 10, "乡村振兴": 6, "结对帮扶": 3}, random_state=1)
    assert wc.font_path == str(plots.font_path())
    assert {w for (w, _), *_ in wc.layout_} == {"闽宁协作", "乡村振兴", "结对帮扶"}
    png, svg = plots.wordcloud_save(wc, "wc", tmp_path)
    assert png.stat().st_size > 0 and "闽宁协作" in svg.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="boxes"):
        plots.wordcloud_draw({"闽宁协作😀": 3})


def test_word_cloud_layout_is_reproducible():
    freqs = {"闽宁协作": 10, "乡村振兴": 6, "结对帮扶": 3, "产业带动": 2}
    assert plots.wordcloud_draw(freqs, random_state=7).layout_ == plots.wordcloud_draw(freqs, random_state=7).layout_
