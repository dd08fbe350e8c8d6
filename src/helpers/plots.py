"""Figures with Chinese text: the project's CJK font, word clouds and co-occurrence networks.

The font is Noto Sans CJK SC from the ``mplfonts`` package (a PyPI dependency), so Chinese renders
on a fresh machine without system fonts. :func:`plots_setup` registers the file with matplotlib and
seaborn under a name of its own (:data:`MPL_FAMILY`), so that a system font of the same family
cannot replace it; word clouds get the same file by path. (mplfonts also ships SimHei.ttf, a
proprietary font; the project never uses it.) Figures are saved atomically, with fixed metadata so
re-runs give the same bytes where the format allows.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import paths
from helpers.tables import file_atomic, path_resolve, text_write

FONT_FILE = "NotoSansCJKsc-Regular.otf"
#: The family name inside the font file.
FONT_FAMILY = "Noto Sans CJK SC"
#: The name the font file is registered under for matplotlib, and which figures ask for: no other
#: font has it, so a system font named "Noto Sans CJK SC" (Debian's fonts-noto-cjk) cannot win.
MPL_FAMILY = "Noto Sans CJK SC (minning-text)"


#: Colour-blind-safe categorical palette: seaborn's "colorblind" (Okabe–Ito's hues plus three more),
#: written out so that a seaborn release cannot change the colours of committed figures.
PALETTE: tuple[str, ...] = (
    "#0173B2",
    "#DE8F05",
    "#029E73",
    "#D55E00",
    "#CC78BC",
    "#CA9161",
    "#FBAFE4",
    "#949494",
    "#ECE133",
    "#56B4E9",
)


def palette_assign(names, *, palette=PALETTE) -> dict[str, str]:
    """Return a colour for each name (code, document, community) by its position in ``names``.

    Colours follow the order of ``names`` (for codes: their order in the codebook), so appending a
    code (a document) leaves the colours of the existing ones as they were, and figures of two runs
    stay comparable. After ``len(palette)`` names the palette repeats.
    """
    return {n: palette[i % len(palette)] for i, n in enumerate(dict.fromkeys(names))}


def text_colour_on(colour: str) -> str:
    """Return black or white, whichever reads better on ``colour`` (WCAG relative luminance)."""
    from matplotlib.colors import to_rgb

    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "black" if luminance > 0.179 else "white"


@lru_cache(maxsize=1)
def font_path() -> Path:
    """Return the path of the bundled CJK font (Noto Sans CJK SC); fail clearly if it is missing."""
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / FONT_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: CJK font missing; reinstall the project (make setup)")
    return path


@lru_cache(maxsize=1)
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(font_path(), lazy=True).getBestCmap())


def font_missing_glyphs(texts) -> list[str]:
    """Return the characters of ``texts`` the CJK font cannot draw (they would show as boxes)."""
    cmap = _cmap()
    chars = {ch for t in texts for ch in str(t) if not ch.isspace()}
    return sorted(ch for ch in chars if ord(ch) not in cmap)


def font_register() -> str:
    """Register the project's font file with matplotlib under :data:`MPL_FAMILY`; return that name.

    matplotlib finds fonts by family name. Registered under its own name, "Noto Sans CJK SC", the
    file would compete with any system font of that name (fonts-noto-cjk installs one), and
    matplotlib takes the system font it found first: figures would change with the machine's fonts.
    Under a name no other font has, figures always use this file. Idempotent.
    """
    import dataclasses

    from matplotlib import font_manager

    manager = font_manager.fontManager
    path = str(font_path())
    if not any(e.name == MPL_FAMILY and e.fname == path for e in manager.ttflist):
        entry = font_manager.ttfFontProperty(font_manager.ft2font.FT2Font(path))
        manager.ttflist.append(dataclasses.replace(entry, name=MPL_FAMILY))
        manager._findfont_cached.cache_clear()  # as FontManager.addfont does
    return MPL_FAMILY


def plots_setup(style: str = "whitegrid", context: str = "notebook") -> str:
    """Register the CJK font with matplotlib and seaborn, set one style, and return the family name.

    Call once at the top of a notebook. Figures use the project's font file whatever fonts the
    machine has (:func:`font_register`). Also fixes what makes figure files differ between runs
    (SVG ids, PDF and SVG dates).
    """
    import matplotlib as mpl
    import seaborn as sns

    family = font_register()
    sns.set_theme(style=style, context=context, font=family)
    mpl.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["axes.unicode_minus"] = False
    mpl.rcParams["svg.hashsalt"] = "minning-text"
    mpl.rcParams["pdf.fonttype"] = 42
    mpl.rcParams["figure.dpi"] = 100
    mpl.rcParams["savefig.dpi"] = 150
    return family


def figure_save(
    fig, name: str, figures_dir: str | Path = paths.FIGURES, formats=("png", "svg")
) -> list[Path]:
    """Save ``fig`` as ``<figures_dir>/<name>.<fmt>`` for each format and return the paths.

    PNG for viewing, SVG (text as paths, so no font is needed to view it) or PDF for papers. A
    missing glyph is an error here, not a silent box in the figure. Each file is replaced
    atomically (:func:`helpers.tables.file_atomic`): a failed save leaves the previous figure.
    """
    out_dir = path_resolve(figures_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fmt in formats:
            meta = {
                "png": {"Software": None},
                "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
            }.get(fmt, {})
            p = out_dir / f"{name}.{fmt}"
            with file_atomic(p) as tmp:
                fig.savefig(tmp, format=fmt, bbox_inches="tight", metadata=meta)
            written.append(p)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    if missing:
        raise RuntimeError(f"{name}: glyphs missing from the font: {missing[:3]}")
    return written


def wordcloud_draw(
    frequencies: dict[str, float] | pd.Series,
    *,
    random_state: int = 42,
    width: int = 1000,
    height: int = 600,
    max_words: int = 120,
    colormap: str = "viridis",
):
    """Return a ``wordcloud.WordCloud`` drawn from ``frequencies`` (term → count) with the CJK font.

    Always from frequencies (``generate_from_frequencies``): wordcloud's own tokenizer splits on
    Latin word boundaries and would mangle Chinese. ``random_state`` fixes the layout.
    """
    from unittest import mock

    import wordcloud.wordcloud
    from wordcloud import WordCloud

    freqs = dict(frequencies)
    missing = font_missing_glyphs(freqs)
    if missing:
        raise ValueError(f"the CJK font cannot draw {missing!r}; these words would show as boxes")
    wc = WordCloud(
        font_path=str(font_path()),
        width=width,
        height=height,
        background_color="white",
        max_words=max_words,
        random_state=random_state,
        colormap=colormap,
        prefer_horizontal=0.95,
        collocations=False,
    )
    # wordcloud opens the 16 MB font file again for every size it tries (600 times a cloud); the same
    # fonts from a cache give the same layout, a third faster
    with mock.patch.object(wordcloud.wordcloud, "ImageFont", _CachedFonts):
        return wc.generate_from_frequencies(freqs)


class _CachedFonts:
    """Stands in for ``PIL.ImageFont`` inside wordcloud while it draws: fonts by (path, size) cached."""

    truetype = staticmethod(lru_cache(maxsize=512)(lambda path, size: _pil_font(path, size)))

    @staticmethod
    def TransposedFont(font, orientation=None):
        from PIL import ImageFont

        return ImageFont.TransposedFont(font, orientation=orientation)


def _pil_font(path, size):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


def _woff_data_url(chars: str) -> str:
    """Return the CJK font cut down to ``chars`` as a WOFF ``data:`` URL, for embedding in an SVG.

    As ``WordCloud.to_svg(embed_font=True)`` does (hinting dropped, desubroutinized), but the subset is
    written as WOFF directly: wordcloud converts it through an XML dump of the font, which takes
    about six seconds per cloud for a CJK font of 65,000 glyphs.
    """
    import base64
    import io

    import fontTools.subset

    options = fontTools.subset.Options(
        hinting=False, desubroutinize=True, ignore_missing_glyphs=True
    )
    font = fontTools.subset.load_font(str(font_path()), options)
    subsetter = fontTools.subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    font.flavor = "woff"
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return "data:application/font-woff;charset=utf-8;base64," + data


def wordcloud_svg(wc) -> str:
    """Return the word cloud as SVG with the subset of the CJK font it uses embedded (WOFF)."""
    from PIL import ImageFont

    svg = wc.to_svg(embed_font=False)
    family = repr(ImageFont.truetype(str(font_path()), 12).getname()[0])
    chars = "".join(sorted({c for (word, _), *_ in wc.layout_ for c in word}))
    face = (
        f"<style>@font-face{{font-family:{family};font-weight:normal;font-style:normal;"
        f'src:url("{_woff_data_url(chars)}")format("woff");}}</style>'
    )
    head_end = svg.index(">") + 1  # after the opening <svg ...> tag, as wordcloud places it
    return svg[:head_end] + "\n" + face + svg[head_end:]


def wordcloud_save(wc, name: str, figures_dir: str | Path = paths.FIGURES) -> list[Path]:
    """Save a word cloud as PNG (its pixels, as drawn) and as SVG with the font subset embedded.

    Returns the paths. Show the PNG (``IPython.display.Image``) rather than redrawing the cloud with
    matplotlib: it is drawn at the size it is shown.
    """
    out_dir = path_resolve(figures_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
    with file_atomic(png) as tmp:
        wc.to_image().save(tmp, format="PNG")
    text_write(wordcloud_svg(wc), svg)
    return [png, svg]


def top_terms_plot(freq: pd.DataFrame, *, top_n: int = 20, groups=None, exclude=("(corpus)",)):
    """Return a figure: the ``top_n`` most frequent content words of each group, one panel per group.

    ``freq`` is :func:`helpers.textstat.textstat_frequency`'s table (already sorted by count within each
    group). All panels share one x-scale (rate per 10,000 tokens), so bars compare across documents;
    each bar is labelled with its count.
    """
    import matplotlib.pyplot as plt

    groups = [g for g in (groups or pd.unique(freq["group"])) if g not in exclude]
    if not groups:
        raise ValueError("no group to plot: the frequency table has only the corpus rows")
    subs = [freq[freq["group"] == g].head(top_n) for g in groups]
    rows = max(len(s) for s in subs)
    fig, axes = plt.subplots(
        1,
        len(groups),
        figsize=(5.5 * len(groups) + 0.5, 0.32 * rows + 1.6),
        sharex=True,
        squeeze=False,
    )
    xmax = max(float(s["rate_per_10k"].max()) for s in subs if len(s))
    for ax, g, sub in zip(axes[0], groups, subs):
        y = np.arange(len(sub))
        ax.barh(y, sub["rate_per_10k"], color=PALETTE[0], height=0.7)
        ax.set_yticks(y, sub["feature"], fontsize=11)
        ax.set_ylim(rows - 0.5, -0.5)
        for yi, (rate, n) in enumerate(zip(sub["rate_per_10k"], sub["count"])):
            ax.text(rate + xmax * 0.01, yi, str(int(n)), va="center", fontsize=10, color="#444444")
        ax.set_title(f"{g}：高频内容词")
        ax.set_xlabel("每万词频次（柱旁数字：次数）")
        ax.grid(axis="y", visible=False)
    axes[0][0].set_xlim(0, xmax * 1.1)
    fig.tight_layout()
    return fig


def _layout(g, seed: int) -> dict:
    """Node positions: a seeded spring layout refined by Kamada–Kawai on path lengths in edges.

    The spring layout alone piles the hubs of a dense community on top of each other; Kamada–Kawai
    places every pair of nodes at a distance that grows with the number of edges between them, so
    nodes spread evenly. Nodes of different components are taken to be one step further apart than
    the farthest connected pair.
    """
    import networkx as nx

    start = nx.spring_layout(g, seed=seed, weight="weight")
    dist = {a: dict(d) for a, d in nx.shortest_path_length(g)}
    far = 1 + max(max(d.values()) for d in dist.values())
    dist = {a: {b: dist[a].get(b, far) for b in g.nodes} for a in g.nodes}
    return nx.kamada_kawai_layout(g, dist=dist, pos=start)


def network_draw(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    max_edges: int = 60,
    seed: int = 42,
    title: str = "",
    ax=None,
):
    """Draw a co-occurrence network and return the figure.

    As KH Coder does, only the ``max_edges`` strongest edges (by Jaccard) are drawn, so the picture
    stays readable; the edge table keeps them all. Node size follows frequency, edge width the
    Jaccard index, colours the communities found by greedy modularity (colour-blind-safe
    :data:`PALETTE`); the spring layout is seeded. Labels are moved apart with adjustText (seeded, so
    the same input gives the same picture), joined to their node by a thin line when moved; legends
    give the communities, the sizes and the widths.
    """
    edges = edges.sort_values(
        ["jaccard", "weight", "source", "target"],
        ascending=[False, False, True, True],
        kind="stable",
    ).head(max_edges)
    import matplotlib.pyplot as plt
    import networkx as nx
    from adjustText import adjust_text
    from matplotlib.lines import Line2D

    g = nx.Graph()
    g.add_nodes_from((r.feature, {"count": r.count}) for r in nodes.itertuples())
    g.add_edges_from((r.source, r.target, {"weight": r.jaccard}) for r in edges.itertuples())
    g.remove_nodes_from([n for n in list(g.nodes) if g.degree(n) == 0])
    if ax is None:
        fig, ax = plt.subplots(figsize=(12, 9))
    else:
        fig = ax.figure
    if not g.number_of_nodes():
        ax.text(0.5, 0.5, "没有共现关系（no co-occurring terms）", ha="center", va="center")
        ax.set_axis_off()
        return fig
    communities = sorted(
        nx.algorithms.community.greedy_modularity_communities(g, weight="weight"),
        key=lambda c: (-sum(g.nodes[n]["count"] for n in c), sorted(c)),
    )
    community = {n: i for i, c in enumerate(communities) for n in c}
    colours = palette_assign(range(len(communities)))
    pos = _layout(g, seed)
    top = max(g.nodes[n]["count"] for n in g.nodes)

    def area(count):  # marker area in points², for the nodes and the size legend alike
        return 150 + 1250 * count / top

    def width(jaccard):  # line width in points, for the edges and the width legend alike
        return 0.5 + 8 * jaccard

    nx.draw_networkx_edges(
        g,
        pos,
        ax=ax,
        width=[width(g.edges[e]["weight"]) for e in g.edges],
        edge_color="#8c8c8c",
        alpha=0.55,
    )
    nx.draw_networkx_nodes(
        g,
        pos,
        ax=ax,
        node_size=[area(g.nodes[n]["count"]) for n in g.nodes],
        node_color=[colours[community[n]] for n in g.nodes],
        edgecolors="white",
        linewidths=0.8,
        alpha=0.9,
    )
    texts = [
        ax.text(
            x,
            y,
            n,
            ha="center",
            va="center",
            fontsize=12,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.75},
        )
        for n, (x, y) in pos.items()
    ]
    ax.set_axis_off()
    ax.margins(0.06)
    adjust_text(
        texts,
        ax=ax,
        expand=(1.1, 1.25),
        avoid_self=False,
        iter_lim=500,
        arrowprops={"arrowstyle": "-", "color": "#444444", "lw": 0.6},
    )
    counts = sorted({g.nodes[n]["count"] for n in g.nodes})
    size_steps = sorted({counts[0], counts[len(counts) // 2], counts[-1]})
    jac = sorted(g.edges[e]["weight"] for e in g.edges)
    width_steps = sorted({round(jac[0], 2), round(jac[len(jac) // 2], 2), round(jac[-1], 2)})
    marker = {"marker": "o", "linestyle": "", "markeredgecolor": "white"}
    legends = [
        (
            "社群（颜色）",
            [
                Line2D([], [], color=colours[i], markersize=10, **marker)
                for i in range(len(communities))
            ],
            [
                "、".join(sorted(c, key=lambda n: (-g.nodes[n]["count"], n))[:3])
                + ("…" if len(c) > 3 else "")
                for c in communities
            ],
        ),
        (
            "词频（大小）",
            [
                Line2D([], [], color="#8c8c8c", markersize=area(k) ** 0.5, **marker)
                for k in size_steps
            ],
            [str(k) for k in size_steps],
        ),
        (
            "Jaccard（线宽）",
            [Line2D([], [], color="#8c8c8c", lw=width(j)) for j in width_steps],
            [f"{j:.2f}" for j in width_steps],
        ),
    ]
    fig.subplots_adjust(left=0.02, right=0.78, top=0.94, bottom=0.02)
    box = ax.get_position()
    y = box.y1
    for heading, handles, labels in legends:
        sized = heading.startswith("词频")  # big markers need taller rows
        leg = fig.legend(
            handles,
            labels,
            title=heading,
            loc="upper left",
            bbox_to_anchor=(box.x1 + 0.01, y),
            frameon=False,
            fontsize=10,
            title_fontsize=11,
            alignment="left",
            borderaxespad=0,
            handlelength=3.5 if sized else 2,
            handleheight=4.2 if sized else 0.7,
            labelspacing=0.8 if sized else 0.5,
        )
        extent = leg.get_window_extent(fig.canvas.get_renderer())
        y = extent.transformed(fig.transFigure.inverted()).y0 - 0.03
    ax.set_title(title)
    return fig


def texts_overlapping(ax) -> list[tuple[str, str]]:
    """Return the pairs of visible text labels of ``ax`` whose boxes overlap (drawn, in display space).

    For checking figures: a label hidden under another cannot be read.
    """
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
    boxes = [t.get_window_extent(renderer) for t in texts]
    return [
        (texts[i].get_text(), texts[j].get_text())
        for i in range(len(texts))
        for j in range(i + 1, len(texts))
        if boxes[i].overlaps(boxes[j])
    ]


def trend_plot(
    shares: pd.DataFrame,
    codebook,
    *,
    confidence_level: float = 0.95,
    max_columns: int = 5,
    title: str | None = None,
):
    """Return small multiples of a code's share over a document variable: one panel per code.

    ``shares`` is :func:`helpers.groups.shares_by_group` for one variable (``year`` for a trend).
    Panels in a grid, one row per dimension of the codebook (wrapped after ``max_columns`` codes),
    all on one y-scale so panels compare; each shows the share of units coded per group with its
    interval (bootstrap over documents) as a vertical bar. A group without an interval (fewer
    documents than the bootstrap needs) is a hollow point, and lines through such points are
    dashed. The x tick labels give the number of documents per group (``n=``). Numeric groups
    (years) are placed on a numeric axis and joined by lines, so a gap year shows as a gap; other
    groups stand in table order, unjoined. One colour per dimension (each panel is one code).
    Blank cells (:data:`helpers.groups.MISSING`) are left out.
    """
    import matplotlib.pyplot as plt

    from helpers.groups import MISSING

    s = shares[shares["group"] != MISSING]
    variable = str(shares["variable"].iloc[0]) if len(shares) else ""
    groups = list(pd.unique(s["group"]))
    if not groups:  # every cell blank: say so instead of an empty grid
        fig, ax = plt.subplots(figsize=(8, 2))
        ax.text(
            0.5, 0.5, f"没有填写 {variable} 的文档（no document has a {variable}）", ha="center"
        )
        ax.set_axis_off()
        return fig
    try:
        x_of = {g: float(g) for g in groups}
        numeric = True
    except ValueError:
        x_of = {g: float(i) for i, g in enumerate(groups)}
        numeric = False
    docs = s.drop_duplicates("group").set_index("group")["documents"]
    rows_codes: list[list[str]] = []
    row_dims: list[str] = []
    for dim in codebook.dimensions:
        codes = [c.id for c in codebook.codes if c.dimension == dim and c.id in set(s["code"])]
        rows_codes += [codes[i : i + max_columns] for i in range(0, len(codes), max_columns)]
        row_dims += [dim] * len(range(0, len(codes), max_columns))
    n_cols = max((len(r) for r in rows_codes), default=1)
    long_labels = max((len(str(g)) for g in groups), default=0) > 6 or len(groups) > 10
    fig, axes = plt.subplots(
        len(rows_codes) or 1,
        n_cols,
        figsize=(2.7 * n_cols + 0.8, 2.9 * max(1, len(rows_codes)) + (1.6 if long_labels else 0.9)),
        sharey=True,
        sharex=True,
        squeeze=False,
    )
    top = float(np.nanmax(s[["share", "ci_high"]].to_numpy())) if len(s) else 1.0
    colours = palette_assign(list(codebook.dimensions), palette=PALETTE[::3])
    for r, codes in enumerate(rows_codes):
        for j in range(n_cols):
            ax = axes[r][j]
            if j >= len(codes):
                ax.set_visible(False)
                continue
            c = codes[j]
            d = s[s["code"] == c].set_index("group").reindex(groups)
            x = np.array([x_of[g] for g in groups])
            y = d["share"].to_numpy(dtype=float)
            has = d["ci_low"].notna().to_numpy()
            colour = colours[row_dims[r]]
            if numeric:
                ax.plot(
                    x,
                    y,
                    color=colour,
                    linewidth=1.2,
                    alpha=0.6,
                    zorder=2,
                    linestyle="-" if has.all() else "--",
                )
            if has.any():
                err = np.vstack([y[has] - d["ci_low"][has], d["ci_high"][has] - y[has]])
                ax.errorbar(
                    x[has],
                    y[has],
                    yerr=err.clip(min=0),
                    fmt="o",
                    color=colour,
                    markersize=5,
                    capsize=2.5,
                    elinewidth=1,
                    zorder=3,
                )
            if (~has).any():
                ax.plot(
                    x[~has],
                    y[~has],
                    "o",
                    markerfacecolor="white",
                    markeredgecolor=colour,
                    markersize=6,
                    zorder=3,
                )
            ax.set_title(codebook.code(c).label_zh, fontsize=12)
            ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
            ax.set_ylim(0, max(0.05, top * 1.08))
            ax.grid(axis="x", visible=False)
            ax.set_xticks(
                [x_of[g] for g in groups],
                [f"{g}\nn={int(docs[g])}" for g in groups],
                fontsize=9,
                rotation=90 if long_labels else 0,
            )
            if len(groups) == 1:
                ax.set_xlim(x_of[groups[0]] - 1, x_of[groups[0]] + 1)
            else:
                span = max(x_of.values()) - min(x_of.values())
                ax.set_xlim(min(x_of.values()) - 0.08 * span, max(x_of.values()) + 0.08 * span)
        dim_label = (codebook.dimensions.get(row_dims[r]) or {}).get("label_zh", row_dims[r])
        axes[r][0].set_ylabel(f"{dim_label}\n编码单元占比")
    for j in range(n_cols):  # tick labels on the lowest visible panel of each column
        visible = [axes[r][j] for r in range(len(rows_codes)) if axes[r][j].get_visible()]
        if visible:
            visible[-1].xaxis.set_tick_params(labelbottom=True)
    has_ci = s["ci_low"].notna().any()
    name = "年份" if variable == "year" else variable
    fig.supxlabel(f"{name}（n：文档数）", fontsize=11)
    hollow = (s.drop_duplicates("group")["ci_low"].isna()).any()
    fig.suptitle(
        title
        or (
            f"各编码单元占比随{name}的变化"
            + (f"（竖线：{confidence_level:.0%}置信区间，按文档自助抽样）" if has_ci else "")
            + ("\n空心点：该组文档太少，无置信区间，也不作组间检验" if hollow else "")
        ),
        fontsize=13,
    )
    fig.tight_layout()
    return fig
