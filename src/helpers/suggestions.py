"""Codebook suggestions: where the dictionary's indicators miss, and which indicators misfire.

Given a reference coding of some units (a human coder, or the validation set's tune documents), a
researcher refining the codebook on their own corpus wants to know, per code:

- which words are typical of the units the reference coder gave the code, but no indicator of the
  code covers (:func:`terms_suggest`: keyness, G² with Williams' correction, of jieba tokens in
  reference-positive against reference-negative units, with example unit ids, those the dictionary
  missed first);
- which indicators fire mostly on units the reference coder did *not* give the code
  (:func:`indicators_precision`: hits, hits on reference-positive units, precision, example false
  positives).

Both are suggestions for a human to read in context (KWIC, the units listed), not edits: a word can
be typical of a code's units without meaning the code. Use only units that may be used for refining
(dev units, tune documents): suggestions computed on held-out units would leak them into the
codebook and void the held-out figures.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.codebook import Codebook
from helpers.textstat import textstat_keyness

TERM_COLUMNS = [
    "code",
    "term",
    "g2",
    "p",
    "count_positive",
    "count_negative",
    "units_positive",
    "units_negative",
    "units_missed",
    "indicator_of",
    "example_unit_ids",
]
INDICATOR_COLUMNS = [
    "code",
    "indicator_type",
    "indicator",
    "units_hit",
    "units_positive",
    "units_negative",
    "precision",
    "units_only_this",
    "flag",
    "false_positive_unit_ids",
]


def _code_words(codebook: Codebook, code_id: str) -> set[str]:
    """The keywords of a code and the words of the terms its rules need or accept."""
    code = codebook.code(code_id)
    words = set(code.keywords)
    for rule in code.rules:
        for name in (*rule.all, *rule.any, *rule.near):
            words.update(codebook.terms.get(name, ()))
    return words


def _covers(codebook: Codebook, code_id: str) -> tuple[set[str], list[re.Pattern]]:
    return _code_words(codebook, code_id), [re.compile(p) for p in codebook.code(code_id).patterns]


def _is_covered(term: str, words: set[str], patterns: list[re.Pattern], substring: bool) -> bool:
    if term in words:
        return True
    if substring and any(w in term for w in words):
        return True
    return any(p.search(term) for p in patterns)


def terms_suggest(
    tokens: pd.DataFrame,
    reference: pd.DataFrame,
    codebook: Codebook,
    *,
    dictionary: pd.DataFrame | None = None,
    codes: Sequence[str] | None = None,
    min_units: int = 2,
    p_max: float = 0.05,
    top_n: int = 15,
    examples: int = 3,
) -> pd.DataFrame:
    """Return, per code, words typical of its reference-positive units that no indicator covers.

    ``tokens``: the token table of :func:`helpers.tokens.tokens_segment` (``unit_id``, ``token``;
    with ``is_content`` from :func:`helpers.tokens.tokens_select`, only content words count).
    ``reference``: the reference coding, wide (``unit_id`` and a 0/1 column per code); only its
    units are used. For each code the tokens of reference-positive units are compared with those of
    reference-negative units by :func:`helpers.textstat.textstat_keyness` (G², Williams' correction,
    as quanteda). A word is kept when it is more frequent in the positive units (G² > 0), ``p ≤
    p_max``, it occurs in at least ``min_units`` positive units, and no indicator of the code covers
    it: it is not one of the code's keywords or of the words of the terms its rules use (with
    ``matching: {keywords: substring}``, does not contain one) and none of its patterns matches in
    it.

    With ``dictionary`` (the dictionary's wide coding) ``units_missed`` counts the positive units
    with the word that the dictionary did not code, and those come first among the example unit ids.
    ``indicator_of`` names other codes whose indicators have the word (a word of another code's
    vocabulary is a weaker suggestion). At most ``top_n`` words per code, highest G² first. Columns:
    code, term, g2, p, count_positive, count_negative (tokens), units_positive, units_negative
    (units containing the word), units_missed, indicator_of, example_unit_ids.
    """
    codes = (
        list(codes) if codes is not None else [c for c in codebook.ids if c in reference.columns]
    )
    ref = reference.drop_duplicates("unit_id").set_index("unit_id")
    tok = tokens[tokens["unit_id"].isin(ref.index)]
    if "is_content" in tok:
        tok = tok[tok["is_content"]]
    tok = tok[["unit_id", "token"]]
    substring = codebook.keyword_match == "substring"
    covers = {c: _covers(codebook, c) for c in codebook.ids}
    dict_coded = (
        dictionary.drop_duplicates("unit_id").set_index("unit_id")
        if dictionary is not None
        else None
    )
    units_of = tok.drop_duplicates().groupby("token", sort=True)["unit_id"].agg(list)
    unit_order = {u: i for i, u in enumerate(ref.index)}
    rows = []
    for code in codes:
        positive = ref[code] == 1
        if not positive.any() or positive.all():
            continue
        grouped = tok.assign(group=np.where(tok["unit_id"].map(positive), "positive", "negative"))
        if "positive" not in set(grouped["group"]):
            continue
        key = textstat_keyness(grouped, "positive", by="group", measure="lr")
        key = key[(key["statistic"] > 0) & (key["p"] <= p_max)]
        words, patterns = covers[code]
        missed = (
            set(dict_coded.index[dict_coded[code] == 0])
            if dict_coded is not None and code in dict_coded
            else set()
        )
        kept = 0
        for r in key.itertuples(index=False):
            if kept >= top_n:
                break
            if _is_covered(r.feature, words, patterns, substring):
                continue
            us = units_of[r.feature]
            pos_units = sorted((u for u in us if positive[u]), key=unit_order.get)
            if len(pos_units) < min_units:
                continue
            miss = [u for u in pos_units if u in missed]
            shown = (miss + [u for u in pos_units if u not in set(miss)])[:examples]
            others = [
                c
                for c in codebook.ids
                if c != code and _is_covered(r.feature, *covers[c], substring)
            ]
            rows.append(
                {
                    "code": code,
                    "term": r.feature,
                    "g2": round(float(r.statistic), 3),
                    "p": float(f"{r.p:.4g}"),
                    "count_positive": int(r.n_target),
                    "count_negative": int(r.n_reference),
                    "units_positive": len(pos_units),
                    "units_negative": len(us) - len(pos_units),
                    "units_missed": len(miss) if dict_coded is not None else pd.NA,
                    "indicator_of": ", ".join(others),
                    "example_unit_ids": " ".join(shown),
                }
            )
            kept += 1
    out = pd.DataFrame(rows, columns=TERM_COLUMNS)
    out["units_missed"] = out["units_missed"].astype("Int64")
    return out


def indicators_precision(
    evidence: pd.DataFrame,
    reference: pd.DataFrame,
    codebook: Codebook,
    *,
    codes: Sequence[str] | None = None,
    examples: int = 3,
    flag_below: float = 0.5,
) -> pd.DataFrame:
    """Return, per indicator that fired, how often its units have the code in the reference coding.

    ``evidence``: ``coding_evidence.csv`` (unit_id, code, indicator_type, indicator, …);
    ``reference``: the reference coding, wide; only its units count. ``units_hit``: units where the
    indicator fired for the code; ``units_positive``/``units_negative``: of those, the units the
    reference coder did / did not give the code; ``precision`` = positive / hit;
    ``units_only_this``: units that have the code through this indicator alone (removing it would
    uncode them); ``flag`` is ``mostly negative`` when precision < ``flag_below`` on two or more
    units. ``false_positive_unit_ids``: up to ``examples`` reference-negative units it fired on.
    Sorted by code, then precision (lowest first), then hits (most first).
    """
    codes = (
        list(codes) if codes is not None else [c for c in codebook.ids if c in reference.columns]
    )
    ref = reference.drop_duplicates("unit_id").set_index("unit_id")
    ev = evidence[evidence["unit_id"].isin(ref.index) & evidence["code"].isin(codes)]
    ev = ev.drop_duplicates(["unit_id", "code", "indicator_type", "indicator"])
    if ev.empty:
        return pd.DataFrame(columns=INDICATOR_COLUMNS)
    n_ind = ev.groupby(["unit_id", "code"])["indicator"].transform("size")
    ev = ev.assign(
        positive=[int(ref.at[u, c]) == 1 for u, c in zip(ev["unit_id"], ev["code"])],
        only=n_ind == 1,
    )
    unit_order = {u: i for i, u in enumerate(ref.index)}
    rows = []
    for (code, typ, ind), g in ev.groupby(["code", "indicator_type", "indicator"], sort=False):
        hit, pos = len(g), int(g["positive"].sum())
        fp = sorted(g.loc[~g["positive"], "unit_id"], key=unit_order.get)[:examples]
        precision = pos / hit
        rows.append(
            {
                "code": code,
                "indicator_type": typ,
                "indicator": ind,
                "units_hit": hit,
                "units_positive": pos,
                "units_negative": hit - pos,
                "precision": round(precision, 3),
                "units_only_this": int(g["only"].sum()),
                "flag": "mostly negative" if precision < flag_below and hit >= 2 else "",
                "false_positive_unit_ids": " ".join(fp),
            }
        )
    out = pd.DataFrame(rows, columns=INDICATOR_COLUMNS)
    order = {c: i for i, c in enumerate(codes)}
    out = (
        out.assign(_c=out["code"].map(order))
        .sort_values(
            ["_c", "precision", "units_hit", "indicator_type", "indicator"],
            ascending=[True, True, False, True, True],
            kind="stable",
        )
        .drop(columns="_c")
    )
    return out.reset_index(drop=True)
