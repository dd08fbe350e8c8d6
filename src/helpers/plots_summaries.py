"""Figures of the statistical summaries (notebook 04): shares, composition, heatmaps, trends.

Each takes a table of :mod:`helpers.summaries` or :mod:`helpers.groups` and the codebook and returns
a matplotlib figure in the project's style (:func:`helpers.plots.plots_setup`), coloured from the
colour-blind-safe :data:`helpers.plots.PALETTE` in codebook and corpus order. Saved with
:func:`helpers.plots.figure_save`. Moved out of :mod:`helpers.plots` (which still answers to their
names), which keeps the font, style, saving and the lexical figures of notebook 02.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.codebook import Codebook
from helpers.plots import PALETTE, palette_assign, text_colour_on


def _dimension_label(codebook: Codebook, dim: str) -> str:
    return (codebook.dimensions.get(dim) or {}).get("label_zh", dim)


def _dimension_codes(codebook: Codebook, dim: str) -> list[str]:
    return [c.id for c in codebook.codes if c.dimension == dim]


def shares_plot(
    freq: pd.DataFrame,
    codebook: Codebook,
    *,
    confidence_level: float = 0.95,
    title: str | None = None,
):
    """Return a figure: share of units coded per code and document, a panel per dimension, CIs.

    ``freq`` is :func:`helpers.summaries.codes_frequency` by document (rows of other groupings are
    ignored); error bars are its bootstrap interval when it has one (``confidence_level`` only
    labels them). Bars side by side, not stacked: units carry several codes, so shares do not add up
    to a whole.
    """
    import matplotlib.pyplot as plt

    f = freq[freq["grouping"] == "document"]
    docs = list(pd.unique(f["doc_id"]))
    dims = [d for d in codebook.dimensions if (f["dimension"] == d).any()]
    if title is None:
        has_ci = f["ci_low"].notna().all()
        title = "各文档编码单元占比" + (
            f"（{confidence_level:.0%}自助法置信区间）" if has_ci else ""
        )
    palette = list(palette_assign(docs).values())  # colour-blind-safe, in corpus order
    widths = [len(_dimension_codes(codebook, d)) for d in dims]
    fig, axes = plt.subplots(
        1,
        len(dims),
        figsize=(1.4 * sum(widths) + 2, 4.8),
        sharey=True,
        gridspec_kw={"width_ratios": widths},
        squeeze=False,
    )
    bar = 0.8 / max(1, len(docs))
    for ax, dim in zip(axes[0], dims):
        codes = _dimension_codes(codebook, dim)
        for k, doc in enumerate(docs):
            d = f[f["doc_id"] == doc].set_index("code").reindex(codes)
            x = np.arange(len(codes)) + (k - (len(docs) - 1) / 2) * bar
            err = None
            if d["ci_low"].notna().all():
                err = np.vstack([d["share"] - d["ci_low"], d["ci_high"] - d["share"]]).clip(min=0)
            ax.bar(
                x,
                d["share"],
                width=bar,
                color=palette[k],
                label=doc,
                yerr=err,
                capsize=3,
                error_kw={"elinewidth": 1, "ecolor": "#444444"},
            )
        ax.set_xticks(np.arange(len(codes)), [codebook.code(c).label_zh for c in codes])
        ax.grid(axis="x", visible=False)
        ax.set_title(_dimension_label(codebook, dim))
        ax.set_xlabel("")
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    axes[0][0].set_ylabel("编码单元占比")
    axes[0][-1].legend(title="文档", frameon=False, loc="upper right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def composition_plot(
    freq: pd.DataFrame, codebook: Codebook, *, title: str = "各文档各维度编码的构成"
):
    """Return a figure: per document and dimension, stacked bars of each code's part of the codings.

    Each bar is one document's codings in one dimension (100 %), split by code and labelled with the
    counts: which logics (mechanisms) a document leans on, relative to each other.
    """
    import matplotlib.pyplot as plt

    f = freq[freq["grouping"] == "document"]
    docs = list(pd.unique(f["doc_id"]))
    dims = [d for d in codebook.dimensions if (f["dimension"] == d).any()]
    fig, axes = plt.subplots(
        1, len(dims), figsize=(3.2 * len(dims) + 1.6 * len(docs), 5.4), sharey=True, squeeze=False
    )
    for ax, dim in zip(axes[0], dims):
        codes = _dimension_codes(codebook, dim)
        colors = list(palette_assign(codes).values())  # codebook order: stable when one is added
        bottom = np.zeros(len(docs))
        counts = (
            f[f["dimension"] == dim]
            .pivot_table(
                index="doc_id", columns="code", values="units_coded", aggfunc="sum", sort=False
            )
            .reindex(index=docs, columns=codes)
        )
        totals = counts.sum(axis=1).to_numpy(dtype=float)
        for c, col in zip(codes, colors):
            n = counts[c].to_numpy(dtype=float)
            part = np.divide(n, totals, out=np.zeros_like(n), where=totals > 0)
            ax.bar(
                docs,
                part,
                bottom=bottom,
                color=col,
                label=codebook.code(c).label_zh,
                width=0.6,
                edgecolor="white",
            )
            for i, (p, k) in enumerate(zip(part, n)):
                if k > 0 and p >= 0.04:  # narrower segments: the count is in the table only
                    ax.text(
                        i,
                        bottom[i] + p / 2,
                        f"{int(k)}",
                        ha="center",
                        va="center",
                        fontsize=11 if p >= 0.06 else 9,
                        color=text_colour_on(col),
                    )
            bottom += part
        ax.set_title(_dimension_label(codebook, dim))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.grid(axis="x", visible=False)
        ax.legend(
            frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=10
        )
    axes[0][0].set_ylabel("占该维度编码次数的比例（柱内数字：编码单元数）")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def cooccurrence_plot(cooc: pd.DataFrame, codebook: Codebook, *, title: str | None = None):
    """Return a heatmap of :func:`helpers.summaries.codes_cooccurrence`: colour = Jaccard, text =
    units coded with both.

    The title names the two dimensions by their Chinese labels (五重逻辑 × 五项机制 by default).
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    rows = list(pd.unique(cooc["row_label"]))
    cols = list(pd.unique(cooc["col_label"]))
    jac = cooc.pivot(index="row_label", columns="col_label", values="jaccard").reindex(
        index=rows, columns=cols
    )
    n = cooc.pivot(index="row_label", columns="col_label", values="n_both").reindex(
        index=rows, columns=cols
    )
    annot = n.astype(int).astype(str) + "\n" + jac.map(lambda v: f"J={v:.2f}")
    row_dim = _dimension_label(codebook, cooc["row_dimension"].iloc[0])
    col_dim = _dimension_label(codebook, cooc["col_dimension"].iloc[0])
    title = title or f"{row_dim} × {col_dim} 共现（格内：同时编码的单元数与 Jaccard 指数）"
    fig, ax = plt.subplots(figsize=(1.5 * len(cols) + 2.5, 1.0 * len(rows) + 1.8))
    sns.heatmap(
        jac,
        annot=annot,
        fmt="",
        cmap="YlGnBu",
        vmin=0,
        vmax=max(0.01, float(jac.max().max())),
        linewidths=0.5,
        cbar_kws={"label": "Jaccard 指数"},
        ax=ax,
        annot_kws={"fontsize": 10},
    )
    ax.set_xlabel(col_dim)
    ax.set_ylabel(row_dim)
    ax.tick_params(axis="x", rotation=0)
    ax.tick_params(axis="y", rotation=0)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def profile_plot(profile: pd.DataFrame, codebook: Codebook, *, title: str = "各部分编码单元占比"):
    """Return a heatmap of :func:`helpers.summaries.sections_profile`: sections (rows) × codes
    (columns), share of units.

    Rows are ``doc_id｜section`` with the number of units; a vertical line separates the dimensions.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    p = profile.copy()
    p["row"] = p["doc_id"] + " " + p["section"] + "（n=" + p["units"].astype(str) + "）"
    rows = list(pd.unique(p["row"]))
    codes = [c for c in codebook.ids if c in set(p["code"])]
    m = p.pivot(index="row", columns="code", values="share").reindex(index=rows, columns=codes)
    m.columns = [codebook.code(c).label_zh for c in codes]
    fig, ax = plt.subplots(figsize=(1.0 * len(codes) + 6, 0.55 * len(rows) + 2.2))
    sns.heatmap(
        m,
        annot=m.map(lambda v: f"{v:.0%}"),
        fmt="",
        cmap="Reds",
        vmin=0,
        vmax=1,
        linewidths=0.5,
        cbar_kws={"label": "编码单元占比"},
        ax=ax,
        annot_kws={"fontsize": 11},
    )
    dims = [codebook.code(c).dimension for c in codes]
    for j in range(1, len(codes)):
        if dims[j] != dims[j - 1]:
            ax.axvline(j, color="black", linewidth=1.5)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=45)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def residuals_plot(
    residuals: pd.DataFrame,
    codebook: Codebook,
    *,
    by: str = "doc_id",
    title: str = "文档 × 编码 调整标准化残差（括号内：编码单元数；*：|r| > 1.96）",
):
    """Return a heatmap of :func:`helpers.summaries.codes_residuals`.

    Blue below, red above independence; * where |r| > 1.96.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    docs = list(pd.unique(residuals[by]))
    codes = [c for c in codebook.ids if c in set(residuals["code"])]
    m = residuals.pivot(index=by, columns="code", values="residual_adjusted").reindex(
        index=docs, columns=codes
    )
    o = residuals.pivot(index=by, columns="code", values="observed").reindex(
        index=docs, columns=codes
    )
    annot = (
        m.map(lambda v: f"{v:+.2f}" + ("*" if abs(v) > 1.96 else ""))
        + "\n("
        + o.astype(int).astype(str)
        + ")"
    )
    m.columns = [codebook.code(c).label_zh for c in codes]
    lim = max(2.5, float(np.nanmax(np.abs(m.to_numpy()))) if m.size else 2.5)
    fig, ax = plt.subplots(figsize=(1.1 * len(codes) + 3, 0.8 * len(docs) + 2.4))
    sns.heatmap(
        m,
        annot=annot,
        fmt="",
        cmap="RdBu_r",
        center=0,
        vmin=-lim,
        vmax=lim,
        linewidths=0.5,
        cbar_kws={"label": "调整标准化残差"},
        ax=ax,
        annot_kws={"fontsize": 10},
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=45)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
    ax.set_title(title)
    fig.tight_layout()
    return fig


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
