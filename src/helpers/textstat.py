"""Lexical statistics over tokens: frequencies, keyness, keywords and co-occurrence.

Named after quanteda's ``textstat_*`` family. Every function takes the long token table of
:func:`helpers.tokens.tokens_segment` (one row per token, with ``doc_id`` and ``unit_id``) and
returns a tidy DataFrame, so a count can always be traced back to the units it came from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import special

from helpers.tokens import Segmenter

CORPUS = "(corpus)"


def textstat_frequency(
    tokens: pd.DataFrame, *, by: str | None = "doc_id", top_n: int | None = None
) -> pd.DataFrame:
    """Return term frequencies per group and for the whole corpus.

    Columns: group (a doc_id, or ``(corpus)``), feature, count, rate_per_10k (per 10,000 tokens of
    the same group, every token counted in the denominator), docfreq (units containing the feature),
    rank. When ``tokens`` has an ``is_content`` column, only content words are counted, while the
    rate's denominator stays all tokens.
    """
    counted = tokens[tokens["is_content"]] if "is_content" in tokens else tokens
    frames = [_frequency(counted.assign(_group=CORPUS), "_group", {CORPUS: len(tokens)})]
    if by:
        # every group at once (one groupby, not a pass over the tokens per document)
        order = {g: i for i, g in enumerate(pd.unique(tokens[by]))}
        frames.append(_frequency(counted, by, tokens.groupby(by, sort=False).size(), order))
    out = pd.concat(frames, ignore_index=True)
    if top_n:
        out = out.groupby("group", sort=False).head(top_n).reset_index(drop=True)
    return out[["group", "feature", "count", "rate_per_10k", "docfreq", "rank"]]


def _frequency(counted: pd.DataFrame, by: str, totals, order=None) -> pd.DataFrame:
    """Per group of ``by``: count, docfreq, rank and rate of each token, most frequent first."""
    stats_ = (
        counted.groupby([by, "token"], sort=False)
        .agg(count=("token", "size"), docfreq=("unit_id", "nunique"))
        .reset_index()
        .rename(columns={by: "group"})
    )
    stats_["_order"] = stats_["group"].map(order) if order else 0
    stats_ = stats_.sort_values(
        ["_order", "count", "token"], ascending=[True, False, True], kind="stable"
    )
    stats_["rank"] = (
        stats_.groupby("group", sort=False)["count"].rank(method="min", ascending=False).astype(int)
    )
    total = stats_["group"].map(totals).astype(float)
    stats_["rate_per_10k"] = (stats_["count"] / total * 10_000).round(3)
    return stats_.rename(columns={"token": "feature"}).drop(columns="_order")


def textstat_keyness(
    tokens: pd.DataFrame,
    target: str | Sequence[str],
    *,
    by: str = "doc_id",
    measure: str = "lr",
    correction: bool = True,
) -> pd.DataFrame:
    """Return the keyness of every feature in the ``target`` group against all other groups.

    As quanteda's ``textstat_keyness``: for each feature a 2×2 table (feature vs other features,
    target vs reference). ``measure="chi2"`` gives Pearson's chi-square, ``"lr"`` the
    likelihood-ratio G², signed negative when the feature is relatively rarer in the target. With
    ``correction``, as quanteda's default: Yates' for chi2, Williams' for lr. Columns: feature,
    statistic, p, n_target, n_reference, sorted by statistic (most key first).

    ``target`` may be a list of groups: then each is tested against the rest, the tables are
    stacked in that order with a column ``target``, and the tokens are counted once (a sparse
    group × feature table) instead of once per target, so many documents stay fast.
    """
    from scipy import sparse

    if measure not in ("chi2", "lr"):
        raise ValueError(f"measure must be 'chi2' or 'lr', not {measure!r}")
    counted = tokens[tokens["is_content"]] if "is_content" in tokens else tokens
    targets = [target] if isinstance(target, str) else list(target)
    present = set(counted[by])
    for t in targets:
        if t not in present:
            raise ValueError(f"target {t!r} not found in column {by!r}")
    feat_idx, feats = pd.factorize(counted["token"], sort=True)
    group_idx, groups = pd.factorize(counted[by])
    table = sparse.csr_matrix(
        (np.ones(len(feat_idx)), (group_idx, feat_idx)), shape=(len(groups), len(feats))
    )
    total = np.asarray(table.sum(axis=0)).ravel()
    row = {g: i for i, g in enumerate(groups)}
    frames = []
    for t in targets:
        a = table[row[t]].toarray().ravel()
        out = _keyness(pd.Index(feats), a, total - a, measure, correction)
        frames.append(out if isinstance(target, str) else out.assign(target=t))
    return frames[0] if isinstance(target, str) else pd.concat(frames, ignore_index=True)


def _keyness(
    feats: pd.Index, a: np.ndarray, b: np.ndarray, measure: str, correction: bool
) -> pd.DataFrame:
    """Keyness of each feature from its counts in the target (``a``) and the reference (``b``)."""
    keep = (a + b) > 0
    feats, a, b = feats[keep], a[keep], b[keep]
    c, d = a.sum() - a, b.sum() - b
    n = a + b + c + d
    obs = np.stack([a, b, c, d])
    exp = np.stack([(a + b) * (a + c), (a + b) * (b + d), (c + d) * (a + c), (c + d) * (b + d)]) / n
    if measure == "chi2":
        dev = np.abs(obs - exp)
        if correction:
            dev = np.maximum(dev - 0.5, 0)
        stat = (dev**2 / exp).sum(axis=0)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(obs > 0, obs * np.log(obs / exp), 0.0)
        stat = 2 * terms.sum(axis=0)
        if correction:  # Williams' correction, as quanteda applies to "lr"
            r1, r2, c1, c2 = a + b, c + d, a + c, b + d
            q = 1 + (n / r1 + n / r2 - 1) * (n / c1 + n / c2 - 1) / (6 * n)
            stat = stat / q
    sign = np.where(a >= exp[0], 1.0, -1.0)
    stat = stat * sign
    # the χ²(1) upper tail: stats.chi2.sf's, without importing scipy.stats (a second of CPU time)
    p = special.chdtrc(1, np.abs(stat))
    out = pd.DataFrame(
        {
            "feature": feats,
            "statistic": stat.round(6),
            "p": p,
            "n_target": a.astype(int),
            "n_reference": b.astype(int),
        }
    )
    return out.sort_values(
        ["statistic", "feature"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


class _LineCutCache:
    """``jieba.posseg`` cutting for ``jieba.analyse`` that cuts each line of text once.

    Keyword extraction cuts the corpus text and each document's text, once for TF-IDF and once for
    TextRank: every sentence four times. A newline always separates jieba's blocks (it comes out as
    ``pair("\\n", "x")``), so cutting line by line gives the same pairs as cutting the whole text.
    """

    def __init__(self, postokenizer):
        self.postokenizer = postokenizer
        self.lines: dict[tuple[str, bool], list] = {}

    def cut(self, sentence: str, HMM: bool = True):
        from jieba.posseg import pair

        for i, line in enumerate(sentence.split("\n")):
            if i:
                yield pair("\n", "x")
            key = (line, HMM)
            if key not in self.lines:
                self.lines[key] = list(self.postokenizer.cut(line, HMM=HMM))
            yield from self.lines[key]


def textstat_keywords(
    units: pd.DataFrame,
    segmenter: Segmenter,
    stopwords: set[str],
    *,
    top_n: int = 20,
    pos_keep: tuple[str, ...] = ("n", "nr", "ns", "nt", "nz", "vn", "v"),
) -> pd.DataFrame:
    """Return TF-IDF and TextRank keywords per document and for the corpus (jieba.analyse).

    jieba's TF-IDF uses its own IDF table (a general Chinese corpus), so it ranks what is specific
    to this text against general Chinese; TextRank ranks by co-occurrence within a 5-token window.
    Both run on the project's tokenizer (user dictionary loaded) with the project's stopwords.
    Columns: group, method, rank, keyword, weight.
    """
    import copy

    import jieba.analyse

    cutter = _LineCutCache(segmenter.postokenizer)
    tfidf = copy.copy(jieba.analyse.default_tfidf)  # shares jieba's IDF table, read once on import
    tfidf.tokenizer = segmenter.jieba
    tfidf.postokenizer = cutter
    tfidf.stop_words = set(tfidf.stop_words) | set(stopwords)
    textrank = copy.copy(jieba.analyse.default_textrank)
    textrank.tokenizer = textrank.postokenizer = cutter
    textrank.stop_words = set(textrank.stop_words) | set(stopwords)
    groups = [(CORPUS, "\n".join(units["text"]))]
    groups += [(d, "\n".join(g["text"])) for d, g in units.groupby("doc_id", sort=False)]
    rows = []
    for name, text in groups:
        for method, extractor in (("tfidf", tfidf), ("textrank", textrank)):
            hits = (
                extractor.extract_tags(text, topK=top_n, withWeight=True, allowPOS=pos_keep)
                if method == "tfidf"
                else extractor.textrank(text, topK=top_n, withWeight=True, allowPOS=pos_keep)
            )
            for rank, (word, weight) in enumerate(hits, start=1):
                rows.append(
                    {
                        "group": name,
                        "method": method,
                        "rank": rank,
                        "keyword": word,
                        "weight": round(weight, 6),
                    }
                )
    return pd.DataFrame(rows, columns=["group", "method", "rank", "keyword", "weight"])


def textstat_cooccurrence(
    tokens: pd.DataFrame, *, top_n: int = 40, min_count: int = 2, unit_col: str = "unit_id"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(nodes, edges)`` of the co-occurrence network of the ``top_n`` most frequent
    features.

    Two features co-occur when they appear in the same unit (sentence); ``weight`` counts such
    units, ``jaccard`` = units with both / units with either (KH Coder's default edge measure).
    Edges with fewer than ``min_count`` shared units are left out. ``units`` lists the unit ids of
    each edge, so every edge can be read in its sentences. Nodes: feature, count, docfreq (units).
    """
    counted = tokens[tokens["is_content"]] if "is_content" in tokens else tokens
    freq = counted["token"].value_counts()
    freq = freq.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    top = list(freq.index[:top_n])
    sub = counted[counted["token"].isin(top)]
    sets = sub.groupby(unit_col, sort=False)["token"].agg(lambda s: sorted(set(s)))
    pair_units: dict[tuple[str, str], list[str]] = {}
    for unit_id, feats in sets.items():
        for pair in combinations(feats, 2):
            pair_units.setdefault(pair, []).append(unit_id)
    docfreq = Counter(t for feats in sets for t in feats)
    edges = []
    for (s, t), units_ in pair_units.items():
        w = len(units_)
        if w >= min_count:
            edges.append(
                {
                    "source": s,
                    "target": t,
                    "weight": w,
                    "jaccard": round(w / (docfreq[s] + docfreq[t] - w), 6),
                    "units": " ".join(units_),
                }
            )
    edges_df = pd.DataFrame(edges, columns=["source", "target", "weight", "jaccard", "units"])
    edges_df = edges_df.sort_values(
        ["jaccard", "weight", "source", "target"],
        ascending=[False, False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    nodes = pd.DataFrame(
        {"feature": top, "count": [int(freq[t]) for t in top], "docfreq": [docfreq[t] for t in top]}
    )
    return nodes, edges_df
