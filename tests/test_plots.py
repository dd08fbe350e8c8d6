"""Chinese must render: no missing glyph in figures or word clouds."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from helpers import plots

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
    assert family == plots.MPL_FAMILY and plots.FONT_FAMILY == "Noto Sans CJK SC"
    assert not _draw(CHINESE)
    fig, ax = plt.subplots()
    ax.set_title(CHINESE)
    written = plots.figure_save(fig, "check", tmp_path, formats=("png", "svg", "pdf"))
    assert all(p.stat().st_size > 0 for p in written)


def test_every_corpus_character_is_in_the_font(raw_texts):
    assert plots.font_missing_glyphs(raw_texts.values()) == []
    assert plots.font_missing_glyphs(["闽宁协作😀"]) == ["😀"]


def test_word_cloud_uses_the_cjk_font_and_refuses_undrawable_words(tmp_path):
    wc = plots.wordcloud_plot({"闽宁协作": 10, "乡村振兴": 6, "结对帮扶": 3}, random_state=1)
    assert wc.font_path == str(plots.font_path())
    assert {w for (w, _), *_ in wc.layout_} == {"闽宁协作", "乡村振兴", "结对帮扶"}
    png, svg = plots.wordcloud_save(wc, "wc", tmp_path)
    assert png.stat().st_size > 0 and "闽宁协作" in svg.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="boxes"):
        plots.wordcloud_plot({"闽宁协作😀": 3})


def test_word_cloud_layout_is_reproducible():
    freqs = {"闽宁协作": 10, "乡村振兴": 6, "结对帮扶": 3, "产业带动": 2}
    assert (
        plots.wordcloud_plot(freqs, random_state=7).layout_
        == plots.wordcloud_plot(freqs, random_state=7).layout_
    )


def _embedded_font(svg_text: str):
    """The font embedded in a word-cloud SVG, read back with fontTools."""
    import base64
    import io
    import re

    from fontTools.ttLib import TTFont

    data = re.search(r'base64,([A-Za-z0-9+/=]+)"\)format\("woff"\)', svg_text)
    assert data, "no WOFF font embedded"
    return TTFont(io.BytesIO(base64.b64decode(data.group(1))))


def test_word_cloud_svg_embeds_exactly_the_glyphs_it_draws(tmp_path):
    wc = plots.wordcloud_plot({"闽宁协作": 10, "乡村振兴": 6, "结对帮扶": 3}, random_state=1)
    _, svg = plots.wordcloud_save(wc, "wc", tmp_path)
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<svg") and text.count("@font-face") == 1
    font = _embedded_font(text)
    cmap = font.getBestCmap()
    assert {chr(c) for c in cmap} == set("闽宁协作乡村振兴结对帮扶")
    assert font["name"].getDebugName(1).startswith("Noto Sans CJK SC")
    # wordcloud's own SVG, apart from the font bytes
    import re

    no_font = re.compile(r'src:url\("data:[^"]*"\)')
    assert no_font.sub("", text) == no_font.sub("", wc.to_svg(embed_font=True))


def test_palette_keeps_colours_when_a_code_is_added():
    codes = ["economic", "political", "social", "ecological", "cultural"]
    before = plots.palette_assign(codes)
    after = plots.palette_assign([*codes, "digital"])
    assert {c: after[c] for c in codes} == before
    assert len(set(after.values())) == 6  # all distinct while the palette lasts
    assert after["digital"] not in before.values()
    assert set(plots.palette_assign(range(12)).values()) == set(plots.PALETTE)


def test_palette_is_colour_blind_safe_okabe_ito_hues():
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    # seaborn's "colorblind" palette: Okabe–Ito's hues, shifted slightly; the first six are near
    # them
    from matplotlib.colors import to_rgb

    def near(c):
        return min(sum(abs(a - b) for a, b in zip(to_rgb(c), to_rgb(o))) for o in okabe_ito)

    assert all(near(c) < 0.12 for c in plots.PALETTE[:5])
    assert plots.text_colour_on("#0173B2") == "white" and plots.text_colour_on("#ECE133") == "black"


def _network_tables():
    import pandas as pd

    words = [
        "闽宁协作",
        "协作",
        "推动",
        "发展",
        "实现",
        "宁夏",
        "福建",
        "产业",
        "乡村振兴",
        "帮扶",
        "机制",
        "合作",
        "两省区",
        "资源",
        "项目",
        "建设",
    ]
    nodes = pd.DataFrame(
        {
            "feature": words,
            "count": [40 - 2 * i for i in range(len(words))],
            "docfreq": [30 - i for i in range(len(words))],
        }
    )
    # a dense hub (推动/发展/实现/宁夏/福建/产业 all linked), as in the corpus, plus a chain
    hub = words[2:8]
    rows = [(a, b, 0.5) for i, a in enumerate(hub) for b in hub[i + 1 :]]
    rows += [(words[i], words[i + 1], 0.2) for i in range(7, len(words) - 1)] + [
        ("闽宁协作", "协作", 0.6)
    ]
    edges = pd.DataFrame(
        [
            {"source": a, "target": b, "weight": 3, "jaccard": j, "units": "u1 u2 u3"}
            for a, b, j in rows
        ]
    )
    return nodes, edges


def test_network_labels_do_not_overlap_and_legends_explain_colour_size_width(tmp_path):
    plots.plots_setup()
    nodes, edges = _network_tables()
    fig = plots.network_plot(nodes, edges, max_edges=60, seed=42, title="共现网络")
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.texts}
    assert labels == set(nodes["feature"])
    assert plots.texts_overlapping(ax) == []
    titles = [leg.get_title().get_text() for leg in fig.legends]
    assert titles == ["社群（颜色）", "词频（大小）", "Jaccard（线宽）"]
    size_labels = [t.get_text() for t in fig.legends[1].get_texts()]
    assert size_labels[0] == str(nodes["count"].min()) and size_labels[-1] == str(
        nodes["count"].max()
    )
    plots.figure_save(fig, "net", tmp_path, formats=("png",))  # raises on a missing glyph
    plt.close(fig)


def test_network_overlap_check_can_fail():
    plots.plots_setup()
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "推动", fontsize=12)
    ax.text(0.51, 0.5, "发展", fontsize=12)
    assert plots.texts_overlapping(ax) == [("推动", "发展")]
    plt.close(fig)


def test_network_figure_is_reproducible(tmp_path):
    plots.plots_setup()
    nodes, edges = _network_tables()
    out = []
    for name in ("a", "b"):
        fig = plots.network_plot(nodes, edges, seed=42)
        out.append(plots.figure_save(fig, name, tmp_path, formats=("png",))[0].read_bytes())
        plt.close(fig)
    assert out[0] == out[1]


def test_top_terms_panels_share_one_scale():
    import pandas as pd

    plots.plots_setup()
    freq = pd.DataFrame(
        {
            "group": ["(corpus)"] * 2 + ["a"] * 2 + ["b"] * 2,
            "feature": ["闽宁协作", "推动"] * 3,
            "count": [30, 20, 20, 5, 10, 15],
            "rate_per_10k": [150.0, 100.0, 200.0, 50.0, 40.0, 60.0],
        }
    )
    fig = plots.top_terms_plot(freq)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim()
    assert fig.axes[0].get_xlim()[1] >= 200
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["闽宁协作", "推动"]
    plt.close(fig)


def test_word_cloud_font_cache_does_not_change_the_layout():
    from wordcloud import WordCloud

    freqs = {
        "闽宁协作": 10,
        "乡村振兴": 6,
        "结对帮扶": 3,
        "产业带动": 2,
        "东西部协作": 2,
        "两省区": 1,
    }
    ours = plots.wordcloud_plot(freqs, random_state=3, width=400, height=240)
    plain = WordCloud(
        font_path=str(plots.font_path()),
        width=400,
        height=240,
        background_color="white",
        max_words=120,
        random_state=3,
        colormap="viridis",
        prefer_horizontal=0.95,
        collocations=False,
    ).generate_from_frequencies(freqs)
    assert ours.layout_ == plain.layout_
    from PIL import ImageFont

    assert ImageFont.truetype is not plots._CachedFonts.truetype  # PIL itself is left as it was
    with plots._fonts_cached():  # drawn again from the cached fonts: the same pixels and SVG
        cached_png, cached_svg = ours.to_image().tobytes(), ours.to_svg()
    assert cached_png == plain.to_image().tobytes() and cached_svg == plain.to_svg()


def test_style_is_seaborns_whitegrid_without_importing_seaborn():
    import subprocess
    import sys

    import seaborn as sns
    from matplotlib import colors

    with matplotlib.rc_context():
        family = plots.plots_setup()
        ours = dict(matplotlib.rcParams)
        codes = {c: colors.to_rgb(c) for c in "bgrmyck"}
        sns.set_theme(style="whitegrid", context="notebook", font=family)
        plots.plots_setup(style="darkgrid")  # through seaborn, then back
        plots.plots_setup()
        theirs = dict(matplotlib.rcParams)
        sns.set_theme(style="whitegrid", context="notebook", font=family)
        assert {c: colors.to_rgb(c) for c in "bgrmyck"} == codes  # seaborn's colour codes
        seaborn_rc = dict(matplotlib.rcParams)
    # every setting as seaborn's, but for the font (the project's) and seaborn's own colour map
    differ = {k for k in seaborn_rc if seaborn_rc[k] != ours[k]}
    assert differ == {"image.cmap", "font.family", "font.sans-serif"}
    assert ours == {**theirs, "image.cmap": ours["image.cmap"]}
    code = "import sys; "
    code += "from helpers import plots; plots.plots_setup(); print('seaborn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_font_charmap_is_the_font_files_best_cmap():
    from fontTools.ttLib import TTFont

    assert plots._cmap() == frozenset(TTFont(plots.font_path(), lazy=True).getBestCmap())


def test_documents_select_takes_the_first_n_or_the_named_documents():
    docs = ["opinion2021", "report2024", "news2019", "news2020"]
    assert plots.documents_select(docs, 2) == ["opinion2021", "report2024"]
    assert plots.documents_select(docs, 10) == docs
    assert plots.documents_select(docs, None) == docs
    # named documents come in corpus order; one no longer in the corpus is a warning, not an error
    with pytest.warns(UserWarning, match="news2030"):
        got = plots.documents_select(docs, ["news2020", "news2030", "opinion2021"])
    assert got == ["opinion2021", "news2020"]
    with pytest.raises(ValueError, match="figure_documents"):
        plots.documents_select(docs, "report2024")


def test_top_terms_of_many_documents_fill_a_grid_not_one_row():
    import pandas as pd

    plots.plots_setup()
    groups = [f"doc{i}" for i in range(7)]
    freq = pd.DataFrame(
        {
            "group": [g for g in groups for _ in range(2)],
            "feature": ["闽宁协作", "推动"] * len(groups),
            "count": [4, 2] * len(groups),
            "rate_per_10k": [40.0, 20.0] * len(groups),
        }
    )
    fig = plots.top_terms_plot(freq, groups=groups, ncols=3)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 7
    width, height = fig.get_size_inches()
    assert width == pytest.approx(5.5 * 3 + 0.5)  # three columns, whatever the number of groups
    assert height == pytest.approx((0.32 * 2 + 1.6) * 3)  # three rows of panels
    assert all(ax.get_xticklabels()[0].get_visible() for ax in visible)
    plt.close(fig)


def test_committed_tables_and_figures_stay_within_the_review_budget():
    """outputs/tables + outputs/figures (committed, reviewed in pull requests): ≤ 100 files, ≤ 30
    MB.

    Per-document figures are drawn for ``figure_documents`` only and long per-document tables go to
    outputs/extra (not committed), so this holds with hundreds of documents (see README, Corpus
    size); a change that writes a file per document into these folders fails here.
    """
    from helpers import paths

    files = [
        p
        for folder in (paths.TABLES, paths.FIGURES)
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".gitkeep"
    ]
    size = sum(p.stat().st_size for p in files)
    assert len(files) <= 100, f"{len(files)} files in outputs/tables + outputs/figures"
    assert size <= 30e6, f"{size / 1e6:.1f} MB in outputs/tables + outputs/figures"


def test_font_subset_cache_gives_the_bytes_built_once(tmp_path):
    calls = []

    def build() -> bytes:
        calls.append(1)
        return b"wOFF-subset-of-\xe9\x97\xbd\xe5\xae\x81"

    first = plots.font_subset_cached("svg-woff", "闽宁", build, cache_dir=tmp_path)
    again = plots.font_subset_cached("svg-woff", "闽宁", build, cache_dir=tmp_path)
    assert first == again == build() and len(calls) == 2  # the second call came from the cache
    plots.font_subset_cached("svg-woff", "闽宁协作", build, cache_dir=tmp_path)  # other chars
    plots.font_subset_cached("report-woff", "闽宁", build, cache_dir=tmp_path)  # other options
    assert len(calls) == 4 and len(list(tmp_path.iterdir())) == 3


def test_word_cloud_svg_is_the_same_from_the_font_cache(tmp_path, monkeypatch):
    wc = plots.wordcloud_plot({"闽宁协作": 10, "乡村振兴": 6, "结对帮扶": 3}, random_state=1)
    monkeypatch.setattr(plots, "FONT_CACHE", tmp_path)
    fresh = plots.wordcloud_svg(wc)
    assert len(list(tmp_path.iterdir())) == 1
    assert plots.wordcloud_svg(wc) == fresh


def test_summary_figures_moved_to_plots_summaries_keep_their_old_names():
    from helpers import plots_summaries

    for name in plots.MOVED_TO_SUMMARIES:
        assert getattr(plots, name) is getattr(plots_summaries, name)
    with pytest.raises(AttributeError, match="no_such_plot"):
        plots.no_such_plot  # noqa: B018
