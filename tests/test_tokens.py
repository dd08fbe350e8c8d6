"""Segmentation: the user dictionary, the fast backend equal to jieba, cache, stopwords, KWIC."""

from __future__ import annotations

import jieba
import pandas as pd
import pytest

from helpers import paths, tokens
from helpers.cleanup import document_clean

from .conftest import CORPUS

#: The field terms the segmentation issue requires to stay whole.
FIELD_TERMS = [
    "闽宁协作",
    "东西部协作",
    "对口帮扶",
    "乡村振兴",
    "脱贫攻坚",
    "共同富裕",
    "联席推进",
    "结对帮扶",
    "产业带动",
    "互学互助",
    "社会参与",
    "闽宁镇",
    "飞地经济",
    "产业园区",
    "重点帮扶县",
    "绿水青山",
    "菌草固沙",
    "村企共建",
]


@pytest.fixture(scope="module")
def units(cleaned) -> pd.DataFrame:
    return pd.concat([d.units for d in cleaned.values()], ignore_index=True)


@pytest.fixture(scope="module")
def segmenter():
    return tokens.segmenter_make()


def test_user_dictionary_lists_every_field_term_with_a_source():
    d = tokens.dictionary_read()
    assert set(FIELD_TERMS) <= set(d["word"])
    assert (d["source"].str.len() > 0).all()


def test_field_terms_come_out_as_single_tokens_wherever_they_occur(units, segmenter):
    check = tokens.dictionary_report(
        tokens.dictionary_read(), segmenter, units[units["level"] == "sentence"]
    )
    field = check[check["word"].isin(FIELD_TERMS)]
    assert field["whole"].all()
    # every occurrence in the text is a token (not swallowed by a longer word)
    assert (field["times_as_token"] >= field["units_with_word"]).all()
    assert (field.loc[field["word"] != "对口帮扶", "times_as_token"] > 0).all()
    # without the dictionary jieba splits them
    plain = tokens.segmenter_make(None)
    assert plain.cut("闽宁协作") != ["闽宁协作"] and plain.cut("联席推进") != ["联席推进"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("word,pos\n闽宁协作,nz\n", "missing column"),
        (
            "word,pos,source\n闽宁协作,nz,a\n闽宁协作,nz,b\n",
            "line 3, field 'word': '闽宁协作' already on line 2",
        ),
        ("word,pos,source\n,nz,a\n", "line 2, field 'word': empty word"),
        ("word,pos,source,freq\n闽宁协作,nz,a,many\n", "line 2, field 'freq'"),
        ("word,pos,source\n闽宁 协作,nz,a\n", "contains a space"),
    ],
)
def test_malformed_dictionary_is_rejected_with_file_and_line(tmp_path, content, message):
    p = tmp_path / "bad_dict.csv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(tokens.DictionaryError) as err:
        tokens.dictionary_read(p)
    assert "bad_dict.csv" in str(err.value) and message in str(err.value)


def _reference_lcut(words: pd.DataFrame):
    tok = jieba.Tokenizer()
    tok.tmp_dir = str(paths.CACHE / "jieba")
    for r in words.itertuples():
        tok.add_word(r.word, None if pd.isna(r.freq) else int(r.freq), r.pos)
    return lambda text: tok.lcut(text, HMM=True)


@pytest.fixture(scope="module")
def reference(segmenter):
    """jieba with the segmenter's dictionary, built once (loading it takes about a second)."""
    return _reference_lcut(segmenter.dictionary)


@pytest.mark.parametrize("level", ["sentence", "paragraph"])
def test_fast_backend_gives_jiebas_tokens_on_the_whole_corpus(units, segmenter, reference, level):
    if segmenter.backend != "rjieba":
        pytest.skip("rjieba not installed: jieba itself is used")
    texts = units.loc[units["level"] == level, "text"].tolist()
    diffs = [t for t in texts if segmenter.cut(t) != reference(t)]
    assert not diffs
    # and on the raw documents, line by line, boilerplate and all
    from helpers import corpus

    for f, _ in CORPUS.values():
        for line in corpus.document_read(paths.RAW / f).text.split("\n"):
            assert segmenter.cut(line) == reference(line)


@pytest.mark.parametrize(
    "text",
    [
        "2021-06-15发布",
        "COVID-19疫情",
        "访问www.gov.cn查看",
        "t20210615.html",
        "3.14%的增长",
        "宁政办发〔2021〕54号",
        "1.2万亿元",
        "e-mail和A_B",
        "7-_83",
        "共印 210 份",
    ],
)
def test_fast_backend_splits_ascii_runs_like_jieba(segmenter, reference, text):
    assert segmenter.cut(text) == reference(text)


def test_segmentation_is_cached_by_content_and_dictionary(tmp_path, units, segmenter, monkeypatch):
    sents = units[units["level"] == "sentence"]
    first = tokens.tokens_segment(sents, segmenter, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2  # one per document

    def refuse(text):
        raise AssertionError("segmented again although nothing changed")

    monkeypatch.setattr(segmenter, "cut", refuse)
    again = tokens.tokens_segment(sents, segmenter, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first, again)
    # a changed sentence in one document re-segments that document only
    monkeypatch.undo()
    changed = sents.copy()
    changed.loc[changed.index[-1], "text"] += "新增一句。"
    calls = []
    real_cut = segmenter.cut
    monkeypatch.setattr(segmenter, "cut", lambda t: calls.append(t) or real_cut(t))
    tokens.tokens_segment(changed, segmenter, cache_dir=tmp_path)
    assert len(calls) == int((changed["doc_id"] == changed["doc_id"].iloc[-1]).sum())
    # a different dictionary is a different cache entry
    other = tokens.segmenter_make(segmenter.dictionary.head(3))
    assert other.signature != segmenter.signature


@pytest.mark.slow  # builds jieba several times (4-6 s)
def test_jieba_is_loaded_only_when_used_and_the_signature_keeps_its_version():
    seg = tokens.segmenter_make(backend="rjieba")
    assert seg._jieba is None  # rjieba cuts: jieba's dictionary is not loaded for that
    seg.cut("闽宁协作推动产业园区建设")
    units = pd.DataFrame(
        {"doc_id": "d", "unit_id": ["u1", "u2"], "text": ["闽宁协作。", "產業合作"]}
    )
    plain = tokens.tokens_segment(units, seg, cache_dir=None, pos=False)
    assert seg._jieba is None  # boundaries only: still no jieba
    tagged = tokens.tokens_segment(units, seg, cache_dir=None)
    assert plain.equals(tagged.drop(columns="pos"))
    seg = tokens.segmenter_make(backend="rjieba")
    # the cache key names jieba's version as jieba itself reports it
    assert f"|jieba-{jieba.__version__}|" in seg.signature
    # POS tags need jieba: built on first use, with the user dictionary's words and tags
    assert seg.pos("闽宁协作") == "nz"
    assert seg._jieba is not None
    assert seg.jieba.lcut("闽宁协作推动产业园区建设") == seg.cut("闽宁协作推动产业园区建设")
    assert tokens.segmenter_make(backend="jieba")._jieba is not None


def test_jieba_cache_lives_in_the_project(segmenter):
    segmenter.jieba.initialize()
    assert str(segmenter.jieba.tmp_dir).startswith(str(paths.CACHE))
    assert list((paths.CACHE / "jieba").glob("jieba*.cache"))


def test_stopwords_combine_the_published_list_and_the_domain_file():
    sw = tokens.stopwords_read()
    src = dict(zip(sw["word"], sw["source"]))
    assert src["的"] == "stopwords-iso zh"
    assert src["首先"] in ("stopwords-iso zh", "stopwords_domain.txt")
    assert src["方面"] == "stopwords_domain.txt"
    assert "闽宁协作" not in src and "推进" not in src


def test_content_words_drop_stopwords_short_tokens_and_function_pos(units, segmenter):
    sents = units[(units["level"] == "sentence") & (units["unit_id"] == "report2024-1.1-p1-s1")]
    assert sents["text"].iloc[0] == "首先，推动了区域协调发展。"
    toks = tokens.tokens_segment(sents, segmenter, cache_dir=None)
    sel = tokens.tokens_select(toks, tokens.stopwords_read(), keep=segmenter.dictionary["word"])
    marked = dict(zip(sel["token"], sel["is_content"]))
    assert marked == {
        "首先": False,
        "，": False,
        "推动": True,
        "了": False,
        "区域协调发展": True,
        "。": False,
    }
    assert dict(zip(sel["token"], sel["is_stopword"]))["首先"]
    # POS filter: an adverb is not a content word even though it is long and not a stopword
    doc = document_clean("进一步完善闽宁协作好经验好做法。", "x")
    t = tokens.tokens_select(
        tokens.tokens_segment(
            doc.units[doc.units["level"] == "sentence"], segmenter, cache_dir=None
        ),
        [],
        keep=[],
    )
    assert dict(zip(t["token"], t["pos"]))["进一步"] == "d"
    assert not dict(zip(t["token"], t["is_content"]))["进一步"]


def test_kwic_rows_point_at_sentences_containing_the_keyword(units, segmenter):
    sents = units[units["level"] == "sentence"]
    toks = tokens.tokens_segment(sents, segmenter, cache_dir=None)
    kwic = tokens.tokens_kwic(
        toks, ["结对帮扶", "产业园区建设"], window=5, segmenter=segmenter, units=sents
    )
    text = dict(zip(sents["unit_id"], sents["text"]))
    assert (kwic["keyword"] == "结对帮扶").sum() == sum(t.count("结对帮扶") for t in sents["text"])
    assert (kwic["keyword"] == "产业园区建设").sum() == 1
    for r in kwic.itertuples():
        assert r.pre + r.hit + r.post in text[r.unit_id]
    assert kwic["heading_path"].notna().all()


def test_word_cloud_frequencies_hold_no_stopword(units, segmenter):
    """Word clouds are drawn from these frequencies: no stopword or punctuation may be in them."""
    from helpers.textstat import textstat_frequency

    sents = units[units["level"] == "sentence"]
    stop = tokens.stopwords_read()
    toks = tokens.tokens_select(
        tokens.tokens_segment(sents, segmenter, cache_dir=None),
        stop,
        keep=segmenter.dictionary["word"],
    )
    freq = textstat_frequency(toks)
    assert len(freq) > 100
    assert not set(freq["feature"]) & set(stop["word"])
    assert freq["feature"].str.contains(r"[\u4e00-\u9fffA-Za-z]").all()
    assert {"闽宁协作", "结对帮扶"} <= set(freq["feature"])


def test_texts_cut_equals_cutting_each_text_in_simplified_script(cleaned):
    import opencc

    from helpers.text import text_simplify_aligned

    seg = tokens.segmenter_make()
    texts = [
        u for d in cleaned.values() for u in d.units.loc[d.units["level"] == "sentence", "text"]
    ]
    trad = [opencc.OpenCC("s2t").convert(t) for t in texts]
    for batch in (texts, trad):
        assert tokens.texts_cut(batch, seg) == [seg.cut(text_simplify_aligned(t)) for t in batch]
    assert tokens.texts_cut(trad, seg) == tokens.texts_cut(
        texts, seg
    )  # same tokens in either script


def test_pos_tagger_has_jiebas_tags_and_the_user_tags_without_reparsing():
    """The copied word → tag table is what POSTokenizer(tok) parses, plus the user tags."""
    import jieba.posseg

    seg = tokens.segmenter_make()
    parsed = jieba.posseg.POSTokenizer(jieba.Tokenizer())  # parses jieba's dictionary file again
    user = dict(zip(seg.dictionary["word"], seg.dictionary["pos"]))
    assert seg.postokenizer.word_tag_tab == {**parsed.word_tag_tab, **user}
    assert seg.postokenizer is seg.postokenizer  # built once
    assert (
        seg.pos("闽宁协作") == user["闽宁协作"] and seg.pos("发展") == parsed.word_tag_tab["发展"]
    )


@pytest.mark.slow  # builds jieba several times (4-6 s)
def test_pos_tags_come_from_their_cache_without_loading_jieba(tmp_path, units):
    words = tokens.segmenter_make().cut("".join(units["text"].head(30)))
    words += [
        "闽宁协作",
        "山海情",
        "2024",
        "GDP",
        "，",
        "哈哈哈嘿",
    ]  # user word, OOV, digits, ASCII
    fresh = tokens.segmenter_make()
    expected = {w: fresh.pos(w) for w in words}
    first = tokens.segmenter_make()
    assert first.pos_tags(words, cache_dir=tmp_path) == expected
    assert len(list((tmp_path / "pos").glob("*.json"))) == 1
    again = tokens.segmenter_make()
    assert again.pos_tags(reversed(words), cache_dir=tmp_path) == expected
    assert again._jieba is None  # every tag was in the cache: jieba's tokenizer never built
    # a damaged cache file is ignored and written again
    next((tmp_path / "pos").glob("*.json")).write_text("{not json", encoding="utf-8")
    assert tokens.segmenter_make().pos_tags(words, cache_dir=tmp_path) == expected
    # another dictionary is another signature, hence another file
    other = tokens.segmenter_make(pd.DataFrame({"word": ["山海情"], "pos": ["nz"], "freq": [None]}))
    assert other.pos_tags(["山海情"], cache_dir=tmp_path) == {"山海情": "nz"}
    assert len(list((tmp_path / "pos").glob("*.json"))) == 2
