"""Figures with Chinese text: the project's CJK font, word clouds and co-occurrence networks.

The font is Noto Sans CJK SC from the ``mplfonts`` package (a PyPI dependency), so Chinese renders on
a fresh machine without system fonts. :func:`plots_setup` registers it with matplotlib and seaborn;
word clouds get the same file. (mplfonts also ships SimHei.ttf, a proprietary font; the project never
uses it.) Figures are saved with fixed metadata so re-runs give the same bytes where the format
allows.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import pandas as pd

from helpers import paths  # noqa: F401  (sets MPLCONFIGDIR before matplotlib is imported)
from helpers.tables import path_resolve

FONT_FILE = "NotoSansCJKsc-Regular.otf"
FONT_FAMILY = "Noto Sans CJK SC"


@lru_cache(maxsize=1)
def font_path() -> Path:
    """Return the path of the bundled CJK font (Noto Sans CJK SC), failing clearly if it is missing."""
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
    """Return the characters of ``texts`` that the CJK font cannot draw (they would show as boxes)."""
    cmap = _cmap()
    chars = {ch for t in texts for ch in str(t) if not ch.isspace()}
    return sorted(ch for ch in chars if ord(ch) not in cmap)


def plots_setup(style: str = "whitegrid", context: str = "notebook") -> str:
    """Register the CJK font with matplotlib and seaborn, set one style, and return the family name.

    Call once at the top of a notebook. Also fixes what makes figure files differ between runs (SVG
    ids, PDF and SVG dates).
    """
    import matplotlib as mpl
    import seaborn as sns
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))
    sns.set_theme(style=style, context=context, font=FONT_FAMILY)
    mpl.rcParams["font.sans-serif"] = [FONT_FAMILY, "DejaVu Sans"]
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["axes.unicode_minus"] = False
    mpl.rcParams["svg.hashsalt"] = "minning-text"
    mpl.rcParams["pdf.fonttype"] = 42
    mpl.rcParams["figure.dpi"] = 100
    mpl.rcParams["savefig.dpi"] = 150
    return FONT_FAMILY


def figure_save(fig, name: str, figures_dir: str | Path = paths.FIGURES, formats=("png", "svg")) -> list[Path]:
    """Save ``fig`` as ``<figures_dir>/<name>.<fmt>`` for each format and return the paths.

    PNG for viewing, SVG (text as paths, so no font is needed to view it) or PDF for papers. A
    missing glyph is an error here, not a silent box in the figure.
    """
    out_dir = path_resolve(figures_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fmt in formats:
            meta = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                    "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}.get(fmt, {})
            p = out_dir / f"{name}.{fmt}"
            fig.savefig(p, format=fmt, bbox_inches="tight", metadata=meta)
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
    return wc.generate_from_frequencies(freqs)


def wordcloud_save(wc, name: str, figures_dir: str | Path = paths.FIGURES) -> list[Path]:
    """Save a word cloud as PNG and as SVG with the font subset embedded; return the paths."""
    out_dir = path_resolve(figures_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
    wc.to_image().save(png, format="PNG")
    svg.write_text(wc.to_svg(embed_font=True), encoding="utf-8")
    return [png, svg]


def network_draw(
    nodes: pd.DataFrame, edges: pd.DataFrame, *, max_edges: int = 60, seed: int = 42, title: str = "", ax=None
):
    """Draw a co-occurrence network and return the figure.

    As KH Coder does, only the ``max_edges`` strongest edges (by Jaccard) are drawn, so the picture
    stays readable; the edge table keeps them all. Node size follows frequency, edge width the
    Jaccard index, colours the communities found by greedy modularity; the spring layout is seeded.
    """
    edges = edges.sort_values(["jaccard", "weight", "source", "target"], ascending=[False, False, True, True],
                              kind="stable").head(max_edges)
    import matplotlib.pyplot as plt
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from((r.feature, {"count": r.count}) for r in nodes.itertuples())
    g.add_edges_from((r.source, r.target, {"weight": r.jaccard}) for r in edges.itertuples())
    g.remove_nodes_from([n for n in list(g.nodes) if g.degree(n) == 0])
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 8))
    else:
        fig = ax.figure
    if not g.number_of_nodes():
        ax.text(0.5, 0.5, "没有共现关系（no co-occurring terms）", ha="center", va="center")
        ax.set_axis_off()
        return fig
    communities = nx.algorithms.community.greedy_modularity_communities(g, weight="weight")
    colour = {n: i for i, c in enumerate(sorted(communities, key=lambda c: sorted(c))) for n in c}
    pos = nx.spring_layout(g, seed=seed, weight="weight", k=1.5 / max(1, g.number_of_nodes()) ** 0.5)
    top = max(g.nodes[n]["count"] for n in g.nodes)
    sizes = [300 + 1700 * g.nodes[n]["count"] / top for n in g.nodes]
    widths = [0.5 + 6 * g.edges[e]["weight"] for e in g.edges]
    cmap = plt.get_cmap("tab10")
    nx.draw_networkx_edges(g, pos, ax=ax, width=widths, edge_color="#999999", alpha=0.6)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=sizes, node_color=[cmap(colour[n] % 10) for n in g.nodes],
                           alpha=0.85)
    nx.draw_networkx_labels(g, pos, ax=ax, font_family="sans-serif", font_size=11)
    ax.set_title(title)
    ax.set_axis_off()
    return fig
