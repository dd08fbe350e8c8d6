"""Figures with Chinese text: the project's CJK font, word clouds and co-occurrence networks.

The font is Noto Sans CJK SC from the ``mplfonts`` package (a PyPI dependency), so Chinese renders
on a fresh machine without system fonts. :func:`plots_setup` registers the file with matplotlib and
seaborn under a name of its own (:data:`MPL_FAMILY`), so that a system font of the same family
cannot replace it; word clouds get the same file by path. (mplfonts also ships SimHei.ttf, a
proprietary font; the project never uses it.) Figures are saved atomically, with fixed metadata so
re-runs give the same bytes where the format allows. Notebook 04's figures (``shares_plot`` …
``trend_plot``) are in :mod:`helpers.plots_summaries`; ``plots.shares_plot`` still finds them.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import paths
from helpers.tables import bytes_write, file_atomic, path_resolve, text_write

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


FONT_CACHE: Path = paths.CACHE / "fonts"


def font_subset_cached(kind: str, chars: str, build, cache_dir: str | Path | None) -> bytes:
    """Return the bytes of a cut-down CJK font: ``build()``'s, or the same bytes from ``cache_dir``.

    Cutting the 16 MB font takes a second or more and gives the same bytes for the same characters,
    so it is done once: the cache file is named by a hash of ``kind`` (the subsetting options used
    by ``build``), ``chars``, the font file (path, size, modification time) and fontTools' version.
    ``cache_dir=None`` always builds; the project's cache is ``FONT_CACHE`` (``.cache/fonts``).
    """
    import hashlib

    import fontTools

    if cache_dir is None:
        return build()
    font = font_path()
    stat = font.stat()
    key = "\0".join(
        [kind, chars, str(font), str(stat.st_size), str(stat.st_mtime_ns), fontTools.version]
    )
    cached = Path(cache_dir) / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.bin"
    if cached.exists():
        return cached.read_bytes()
    data = build()
    bytes_write(data, cached)
    return data


@lru_cache(maxsize=1)
def _cmap() -> frozenset[int]:
    """The code points the font has a glyph for (FreeType's Unicode charmap of the file).

    Read through matplotlib's FreeType binding, in milliseconds: fontTools' ``getBestCmap`` gives
    the same set but first names all 65,000 glyphs of the CFF font (0.13 s).
    """
    from matplotlib import ft2font

    return frozenset(ft2font.FT2Font(str(font_path())).get_charmap())


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


#: seaborn's "deep" palette, the colour cycle and colour codes ``set_theme`` gives (as written in
#: seaborn 0.13's ``SEABORN_PALETTES``).
_DEEP = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C",
         "#CCB974", "#64B5CD")  # fmt: skip
_DEEP6 = ("#4C72B0", "#55A868", "#C44E52", "#8172B3", "#CCB974", "#64B5CD")

#: The matplotlib settings of ``seaborn.set_theme(style="whitegrid", context="notebook")`` (seaborn
#: 0.13), written out: importing seaborn costs almost a second (it imports ``scipy.stats``), and
#: notebook 02 draws with matplotlib alone. A test checks them against seaborn's. Not taken over:
#: seaborn's default colour map ``image.cmap = "rocket"`` (it exists only once seaborn is
#: imported; every figure here names its colour map).
STYLE: dict[str, object] = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".8",
    "axes.facecolor": "white",
    "axes.grid": True,
    "axes.labelcolor": ".15",
    "axes.labelsize": 12,
    "axes.linewidth": 1.25,
    "axes.spines.bottom": True,
    "axes.spines.left": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "axes.titlesize": 12,
    "figure.facecolor": "white",
    "font.size": 12,
    "grid.color": ".8",
    "grid.linestyle": "-",
    "grid.linewidth": 1,
    "legend.fontsize": 11,
    "legend.title_fontsize": 12,
    "lines.linewidth": 1.5,
    "lines.markersize": 6,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "patch.linewidth": 1,
    "text.color": ".15",
    "xtick.bottom": False,
    "xtick.color": ".15",
    "xtick.direction": "out",
    "xtick.labelsize": 11,
    "xtick.major.size": 6,
    "xtick.major.width": 1.25,
    "xtick.minor.size": 4,
    "xtick.minor.width": 1,
    "xtick.top": False,
    "ytick.color": ".15",
    "ytick.direction": "out",
    "ytick.labelsize": 11,
    "ytick.left": False,
    "ytick.major.size": 6,
    "ytick.major.width": 1.25,
    "ytick.minor.size": 4,
    "ytick.minor.width": 1,
    "ytick.right": False,
}


def plots_setup(style: str = "whitegrid", context: str = "notebook") -> str:
    """Register the CJK font, set one style (seaborn's whitegrid), and return the family name.

    Call once at the top of a notebook. Figures use the project's font file whatever fonts the
    machine has (:func:`font_register`). The default style is :data:`STYLE`, seaborn's
    ``set_theme`` settings written out, without importing seaborn; another ``style`` or
    ``context`` goes through seaborn. Also fixes what makes figure files differ between runs
    (SVG ids, PDF and SVG dates).
    """
    import matplotlib as mpl
    from cycler import cycler
    from matplotlib import colors

    family = font_register()
    if (style, context) == ("whitegrid", "notebook"):
        mpl.rcParams.update(STYLE)
        mpl.rcParams["axes.prop_cycle"] = cycler("color", [colors.to_rgb(c) for c in _DEEP])
        for code, colour in zip("bgrmyck", [*_DEEP6, (0.1, 0.1, 0.1)]):  # seaborn's color_codes
            colors.colorConverter.colors[code] = colors.to_rgb(colour)
    else:
        import seaborn as sns

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


def wordcloud_plot(
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
    # wordcloud opens the 16 MB font file again for every size it tries (600 times a cloud); the
    # same fonts from a cache give the same layout, a third faster
    with _fonts_cached():
        return wc.generate_from_frequencies(freqs)


def _fonts_cached():
    """A context in which wordcloud (layout, ``to_image``, ``to_svg``) takes cached fonts."""
    from unittest import mock

    import wordcloud.wordcloud

    return mock.patch.object(wordcloud.wordcloud, "ImageFont", _CachedFonts)


class _CachedFonts:
    """Stands in for ``PIL.ImageFont`` inside wordcloud while it draws; caches fonts by size.

    Not bounded: a font size is an integer no larger than the cloud's height (600), so there are
    at most that many, and every cloud looks for the size of its largest word from the height
    down: a bounded cache (512 were tried) evicts the sizes the next cloud asks for first, and
    almost every look-up missed. The faces map the font file, so most of their memory is the
    file's pages, shared.
    """

    truetype = staticmethod(lru_cache(maxsize=None)(lambda path, size: _pil_font(path, size)))

    @staticmethod
    def TransposedFont(font, orientation=None):
        from PIL import ImageFont

        return ImageFont.TransposedFont(font, orientation=orientation)


def _pil_font(path, size):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


def _woff_data_url(chars: str) -> str:
    """Return the CJK font cut down to ``chars`` as a WOFF ``data:`` URL, for embedding in an SVG.

    As ``WordCloud.to_svg(embed_font=True)`` does (hinting dropped, desubroutinized), but the subset
    is written as WOFF directly: wordcloud converts it through an XML dump of the font, which takes
    about six seconds per cloud for a CJK font of 65,000 glyphs.
    """
    import base64
    import io

    def build() -> bytes:
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
        return buffer.getvalue()

    data = base64.b64encode(font_subset_cached("svg-woff", chars, build, FONT_CACHE)).decode(
        "ascii"
    )
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
    with _fonts_cached():  # the sizes the layout opened: drawn again with the same fonts
        with file_atomic(png) as tmp:
            wc.to_image().save(tmp, format="PNG")
        text_write(wordcloud_svg(wc), svg)
    return [png, svg]


def documents_select(docs, figure_documents: int | list[str] | None = 6) -> list[str]:
    """Return the documents that get figures of their own: a handful, so outputs stay reviewable.

    ``figure_documents``: a number N (the first N of ``docs``, in corpus order), a list of doc ids
    (kept in ``docs``' order; ids not in ``docs`` are named in a warning and skipped, so removing a
    document never breaks a run) or None (every document). Per-document figures (word clouds,
    top-terms panels, notebook 04's per-document charts) are drawn for these only; every document
    stays in the tables.
    """
    docs = list(docs)
    if figure_documents is None:
        return docs
    if isinstance(figure_documents, bool) or not isinstance(figure_documents, (int, list, tuple)):
        raise ValueError(
            f"figure_documents must be a number, a list of doc_ids or None, not "
            f"{figure_documents!r}"
        )
    if isinstance(figure_documents, int):
        if figure_documents < 0:
            raise ValueError(f"figure_documents must be ≥ 0, not {figure_documents}")
        return docs[:figure_documents]
    wanted = [str(d) for d in figure_documents]
    missing = [d for d in wanted if d not in set(docs)]
    if missing:
        warnings.warn(
            f"figure_documents: not in the corpus, skipped: {', '.join(missing)}", stacklevel=2
        )
    return [d for d in docs if d in set(wanted)]


def top_terms_plot(
    freq: pd.DataFrame,
    *,
    top_n: int = 20,
    groups=None,
    exclude=("(corpus)",),
    ncols: int = 3,
):
    """Return a figure: the ``top_n`` most frequent content words, one panel per group.

    ``freq`` is :func:`helpers.textstat.textstat_frequency`'s table (already sorted by count within
    each group). All panels share one x-scale (rate per 10,000 tokens), so bars compare across
    documents; each bar is labelled with its count. Panels fill a grid of at most ``ncols``
    columns, so the figure grows downwards, a row per ``ncols`` groups: pass a handful of groups
    (:func:`documents_select`), the rest are in the frequency table.
    """
    import matplotlib.pyplot as plt

    groups = [g for g in (groups or pd.unique(freq["group"])) if g not in exclude]
    if not groups:
        raise ValueError("no group to plot: the frequency table has only the corpus rows")
    subs = [freq[freq["group"] == g].head(top_n) for g in groups]
    rows = max(len(s) for s in subs)
    ncols = max(1, min(ncols, len(groups)))
    nrows = -(-len(groups) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(5.5 * ncols + 0.5, (0.32 * rows + 1.6) * nrows),
        sharex=True,
        squeeze=False,
    )
    xmax = max(float(s["rate_per_10k"].max()) for s in subs if len(s))
    for ax, g, sub in zip(axes.flat, groups, subs):
        y = np.arange(len(sub))
        ax.barh(y, sub["rate_per_10k"], color=PALETTE[0], height=0.7)
        ax.set_yticks(y, sub["feature"], fontsize=11)
        ax.set_ylim(rows - 0.5, -0.5)
        for yi, (rate, n) in enumerate(zip(sub["rate_per_10k"], sub["count"])):
            ax.text(rate + xmax * 0.01, yi, str(int(n)), va="center", fontsize=10, color="#444444")
        ax.set_title(f"{g}：高频内容词")
        ax.set_xlabel("每万词频次（柱旁数字：次数）")
        ax.grid(axis="y", visible=False)
    for ax in axes.flat[len(groups) :]:
        ax.set_visible(False)
    if nrows > 1:
        for ax in axes.flat[: len(groups)]:
            ax.xaxis.set_tick_params(labelbottom=True)  # sharex hides them above the last row
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


def network_plot(
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
    :data:`PALETTE`); the spring layout is seeded. Labels are moved apart with adjustText (seeded,
    so the same input gives the same picture), joined to their node by a thin line when moved;
    legends give the communities, the sizes and the widths.
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
    """Return the pairs of visible text labels of ``ax`` whose drawn boxes overlap.

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


#: Notebook 04's figures, now in :mod:`helpers.plots_summaries`; ``plots.<name>`` still gives them.
MOVED_TO_SUMMARIES = (
    "shares_plot",
    "composition_plot",
    "cooccurrence_plot",
    "profile_plot",
    "residuals_plot",
    "trend_plot",
)


def __getattr__(name: str):
    if name in MOVED_TO_SUMMARIES:
        from helpers import plots_summaries

        return getattr(plots_summaries, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
