"""Text helpers (``helpers.text``): the canonical form, CJK counts and sentence spans."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.text import CJK_IDEOGRAPH, text_count_cjk, text_normalize, text_split_sentences

# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # spurious spaces inside Chinese, from the corpus
        ("（执笔人：宁夏大学 丁 颖）", "（执笔人：宁夏大学丁颖）"),
        ("共印 210 份", "共印210份"),
        (
            "自治区党委办公厅 人民政府办公厅 印发《关于深化新发展阶段闽宁协作工作 的意见》的通知",
            "自治区党委办公厅人民政府办公厅印发《关于深化新发展阶段闽宁协作工作的意见》的通知",
        ),
        (
            "请将领导同志的批示反馈自治区党委宣传部理论处 联系电话：6669518",
            "请将领导同志的批示反馈自治区党委宣传部理论处联系电话：6669518",
        ),
        # half-width brackets of the corpus get the canonical full-width form
        ("(一) 加强产业合作。以龙头企业为依托", "（一）加强产业合作。以龙头企业为依托"),
        ("(第131期)", "（第131期）"),
        # full-width letters and digits become half-width
        ("福建已累计投入５４.８２亿元，ＧＤＰ", "福建已累计投入54.82亿元，GDP"),
        # ASCII punctuation in Chinese text (web pages)
        (
            "闽宁协作是东西部协作的生动典范.推动产业合作,实现共赢!",
            "闽宁协作是东西部协作的生动典范。推动产业合作，实现共赢！",
        ),
        ('提出了"联席推进、结对帮扶"的合作机制', "提出了“联席推进、结对帮扶”的合作机制"),
        ("「绿水青山就是金山银山」", "“绿水青山就是金山银山”"),
        ("宁党办[2021]54号", "宁党办〔2021〕54号"),
        ("宁党办（2021）54号", "宁党办〔2021〕54号"),
        # ideographic and no-break spaces
        ("闽宁\u3000协作\u00a0模式", "闽宁协作模式"),
        # Kangxi radicals from PDF extraction
        ("⼀批⼈才", "一批人才"),
        # Latin text and numbers keep their ASCII punctuation and single spaces
        (
            "East  West cooperation, 1,000 people at 10:30 (e.g. COVID-19)",
            "East West cooperation, 1,000 people at 10:30 (e.g. COVID-19)",
        ),
        ("共有17.6987亿元", "共有17.6987亿元"),
        (".....丁颖", ".....丁颖"),
    ],
)
def test_text_normalize_examples(raw, expected):
    assert text_normalize(raw) == expected


def test_text_normalize_keeps_line_breaks():
    assert text_normalize("福建地区资\n\n金充足") == "福建地区资\n\n金充足"


_ALPHABET = st.sampled_from(
    list("闽宁协作东西部对口帮扶乡村振兴丁颖閩寧協作")
    + list("abcXYZ019０９ＡＺ")
    + list(" \t\u3000\u00a0\u200b")
    + list(",.:;?!()\"'[]%+-/")
    + list("，。：；？！（）“”‘’《》〔〕【】、…—「」％＋")
)


@settings(max_examples=400, deadline=None)
@given(st.text(_ALPHABET, max_size=40))
def test_text_normalize_is_idempotent(s):
    once = text_normalize(s)
    assert text_normalize(once) == once


@settings(max_examples=400, deadline=None)
@given(st.text(_ALPHABET, max_size=40))
def test_text_normalize_never_drops_a_cjk_character(s):
    cjk = re.compile(f"[{CJK_IDEOGRAPH}]")
    assert Counter(cjk.findall(text_normalize(s))) == Counter(cjk.findall(s))


def test_text_normalize_on_whole_documents_is_idempotent_and_keeps_cjk(raw_texts):
    for text in raw_texts.values():
        once = text_normalize(text)
        assert text_normalize(once) == once
        assert text_count_cjk(once) == text_count_cjk(text)


# ---------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------


def test_sentence_split_keeps_quotes_together():
    text = (
        "2024年6月，习近平总书记考察宁夏期间，提出要“巩固拓展脱贫攻坚成果。坚决防止发生规模性返贫”。"
        "闽宁协作是重要战略。"
    )
    spans = text_split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "2024年6月，习近平总书记考察宁夏期间，提出要“巩固拓展脱贫攻坚成果。坚决防止发生规模性返贫”。",
        "闽宁协作是重要战略。",
    ]


def test_sentence_split_with_an_unclosed_quote_still_splits():
    text = "提出要“巩固拓展脱贫攻坚成果。坚决防止发生规模性返贫。闽宁协作是重要战略。"
    assert len(text_split_sentences(text)) == 3
