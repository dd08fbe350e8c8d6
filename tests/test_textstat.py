"""Lexical statistics against values computed by hand on small tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from helpers import textstat


def _tokens(spec: dict[str, dict[str, int]]) -> pd.DataFrame:
    """A token table from {doc: {token: count}}; each token in its own unit."""
    rows = []
    for doc, counts in spec.items():
        i = 0
        for tok, n in counts.items():
            for _ in range(n):
                rows.append({"doc_id": doc, "unit_id": f"{doc}-{i}", "position": 0, "token": tok})
                i += 1
    return pd.DataFrame(rows)


# target A: x 10, y 3, z 87 (100 tokens); reference B: x 2, y 12, z 186 (200 tokens)
TOKENS = _tokens({"A": {"x": 10, "y": 3, "z": 87}, "B": {"x": 2, "y": 12, "z": 186}})


def test_keyness_chi2_with_yates_correction_matches_hand_computation():
    k = textstat.textstat_keyness(TOKENS, "A", measure="chi2").set_index("feature")
    # x: a=10 b=2 c=90 d=198, N=300; expected 4, 8, 96, 192
    # (|10-4|-.5)²/4 + (|2-8|-.5)²/8 + (|90-96|-.5)²/96 + (|198-192|-.5)²/192 = 30.25 ×
    # (1/4+1/8+1/96+1/192)
    hand = 30.25 * (1 / 4 + 1 / 8 + 1 / 96 + 1 / 192)
    assert k.loc["x", "statistic"] == pytest.approx(hand, abs=1e-6)
    assert hand == pytest.approx(11.816406, abs=1e-6)
    assert k.loc["x", "statistic"] == pytest.approx(
        chi2_contingency([[10, 2], [90, 198]], correction=True)[0]
    )
    assert k.loc["x", "n_target"] == 10 and k.loc["x", "n_reference"] == 2
    # y is relatively rarer in A: negative
    assert k.loc["y", "statistic"] < 0
    assert k.index[0] == "x"


def test_keyness_likelihood_ratio_with_williams_correction_matches_hand_computation():
    k = textstat.textstat_keyness(TOKENS, "A", measure="lr").set_index("feature")
    g2 = 2 * (
        10 * math.log(10 / 4)
        + 2 * math.log(2 / 8)
        + 90 * math.log(90 / 96)
        + 198 * math.log(198 / 192)
    )
    assert g2 == pytest.approx(13.349280, abs=1e-6)
    q = 1 + (300 / 12 + 300 / 288 - 1) * (300 / 100 + 300 / 200 - 1) / (6 * 300)
    assert k.loc["x", "statistic"] == pytest.approx(g2 / q, abs=1e-6)
    assert k.loc["x", "statistic"] == pytest.approx(12.729456, abs=1e-6)
    uncorrected = textstat.textstat_keyness(TOKENS, "A", measure="lr", correction=False).set_index(
        "feature"
    )
    assert uncorrected.loc["x", "statistic"] == pytest.approx(
        chi2_contingency([[10, 2], [90, 198]], correction=False, lambda_="log-likelihood")[0]
    )
    assert 0 < k.loc["x", "p"] < 0.001


def test_keyness_rejects_an_unknown_target_or_measure():
    with pytest.raises(ValueError, match="not found"):
        textstat.textstat_keyness(TOKENS, "C")
    with pytest.raises(ValueError, match="measure"):
        textstat.textstat_keyness(TOKENS, "A", measure="pmi")


def test_frequency_counts_content_words_per_10k_of_all_tokens():
    toks = TOKENS.assign(is_content=TOKENS["token"] != "z")
    f = textstat.textstat_frequency(toks)
    a = f[(f["group"] == "A")].set_index("feature")
    assert set(a.index) == {"x", "y"}  # z is not a content word
    assert a.loc["x", "count"] == 10 and a.loc["x", "rate_per_10k"] == pytest.approx(
        10 / 100 * 10_000
    )
    corpus = f[f["group"] == textstat.CORPUS].set_index("feature")
    assert corpus.loc["y", "count"] == 15 and corpus.loc["y", "rate_per_10k"] == pytest.approx(
        15 / 300 * 10_000
    )
    assert corpus.loc["y", "rank"] == 1 and corpus.loc["x", "rank"] == 2


def test_cooccurrence_counts_units_and_jaccard():
    toks = pd.DataFrame(
        [
            ("d", u, i, t)
            for u, ts in {"u1": "abc", "u2": "ab", "u3": "ac", "u4": "b"}.items()
            for i, t in enumerate(ts)
        ],
        columns=["doc_id", "unit_id", "position", "token"],
    )
    nodes, edges = textstat.textstat_cooccurrence(toks, top_n=10, min_count=2)
    e = edges.set_index(["source", "target"])
    assert e.loc[("a", "b"), "weight"] == 2 and e.loc[("a", "b"), "jaccard"] == pytest.approx(2 / 4)
    assert (
        e.loc[("a", "c"), "jaccard"] == pytest.approx(2 / 3)
        and e.loc[("a", "c"), "units"] == "u1 u3"
    )
    assert ("b", "c") not in e.index  # only one shared unit
    assert dict(zip(nodes["feature"], nodes["docfreq"])) == {"a": 3, "b": 3, "c": 2}


# Two short documents in the style of the corpus (written for this test, not quoted).
KEYWORD_UNITS = pd.DataFrame(
    {
        "doc_id": ["d1", "d1", "d1", "d2", "d2"],
        "unit_id": ["d1-1", "d1-2", "d1-3", "d2-1", "d2-2"],
        "text": [
            "深化闽宁协作，推动东西部协作向纵深发展。",
            "闽宁协作坚持结对帮扶，组织企业到宁夏投资兴业。",
            "两省区以联席推进机制统筹闽宁协作各项工作。",
            "福建企业在宁夏建设产业园区，带动群众就业增收。",
            "结对帮扶的县区互派干部，互学互助，共同发展。",
        ],
    }
)


def test_keywords_keep_user_dictionary_words_after_segmentation():
    """The user dictionary's tags survive tokens_segment (which loads them first) into keywords."""
    from helpers import tokens

    seg = tokens.segmenter_make()
    tokens.tokens_segment(KEYWORD_UNITS, seg, cache_dir=None)  # builds the segmenter's POS tagger
    kw = textstat.textstat_keywords(KEYWORD_UNITS, seg, set(), top_n=10)
    corpus = kw[kw["group"] == textstat.CORPUS]
    for method in ("tfidf", "textrank"):
        words = list(corpus.loc[corpus["method"] == method, "keyword"])
        assert "闽宁协作" in words and "结对帮扶" in words, (method, words)
    assert set(kw["group"]) == {textstat.CORPUS, "d1", "d2"}


def test_line_cut_cache_gives_jieba_posseg_pairs_of_the_whole_text():
    from helpers import tokens

    seg = tokens.segmenter_make()
    text = "\n".join(KEYWORD_UNITS["text"]) + "\n\nGDP增长3.5%，ABC公司 与 闽宁镇\n"
    cache = textstat._LineCutCache(seg.postokenizer)
    whole = [(p.word, p.flag) for p in seg.postokenizer.cut(text)]
    assert [(p.word, p.flag) for p in cache.cut(text)] == whole
    assert [(p.word, p.flag) for p in cache.cut(text)] == whole  # from the cache the second time
    assert ("闽宁协作", "nz") in whole or any(w == "闽宁协作" for w, _ in whole)


def test_keyness_of_several_targets_equals_one_call_per_target():
    # three documents; C shares no feature with A, so A's table must still list C's features
    toks = _tokens(
        {
            "A": {"闽宁": 9, "协作": 4, "产业": 2},
            "B": {"闽宁": 3, "协作": 8, "移民": 5},
            "C": {"菌草": 6, "移民": 2},
        }
    )
    both = textstat.textstat_keyness(toks, ["C", "A"], measure="lr")
    assert list(pd.unique(both["target"])) == ["C", "A"]
    for t in ("C", "A"):
        one = textstat.textstat_keyness(toks, t, measure="lr")
        got = both[both["target"] == t].drop(columns="target").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, one)
    a = both[both["target"] == "A"].set_index("feature")
    assert set(a.index) == {"闽宁", "协作", "产业", "移民", "菌草"}
    assert a.loc["菌草", "n_target"] == 0 and a.loc["菌草", "n_reference"] == 6
    assert a.loc["菌草", "statistic"] < 0  # absent from A: rarer there than in the rest
    with pytest.raises(ValueError, match="'D'"):
        textstat.textstat_keyness(toks, ["A", "D"])


def test_frequency_of_many_documents_ranks_within_each_document():
    toks = _tokens({"B": {"协作": 2, "闽宁": 2, "产业": 1}, "A": {"产业": 3, "闽宁": 1}})
    toks["is_content"] = True
    f = textstat.textstat_frequency(toks)
    assert list(pd.unique(f["group"])) == [textstat.CORPUS, "B", "A"]  # corpus, then text order
    b = f[f["group"] == "B"]
    assert list(b["feature"]) == ["协作", "闽宁", "产业"]  # ties by feature, in code-point order
    assert list(b["rank"]) == [1, 1, 3]
    assert list(b["rate_per_10k"]) == [4000.0, 4000.0, 2000.0]
    corpus = f[f["group"] == textstat.CORPUS].set_index("feature")
    assert corpus.loc["产业", "count"] == 4 and corpus.loc["产业", "rank"] == 1
    assert list(textstat.textstat_frequency(toks, top_n=1)["feature"]) == ["产业", "协作", "产业"]
