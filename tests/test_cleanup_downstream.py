"""Nothing cleanup removed reaches word frequencies, keyness, co-occurrence or the numbers table.

Issue #14 part 5: a journal page's front matter (class number, DOI with ``cnki``, article number,
postcode, funding and received dates) once leaked through the units into the word clouds, keyness
and the numbers table. This test runs a page with such front matter
(``tests/fixtures/journal_front_matter.txt``, written for the project) through cleanup,
segmentation, the lexical statistics and number extraction, as notebooks 01, 02 and 04 do, next to a
real corpus document. A control runs the same steps on the page's raw lines, so the assertions are
shown to catch the leak they look for.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers import cleanup, summaries, textstat, tokens
from helpers.corpus import document_read
from helpers.text import text_normalize

from .conftest import CORPUS, FIXTURES

#: What the page carries outside its body (in the front matter, author lines and notes).
FURNITURE_TOKENS = [
    "cnki",
    "CNKI",
    "DOI",
    "doi",
    "kns",
    "kcms",
    "xbjjlc",
    "C912",
    "NXBJY",
    "中图分类号",
    "文献标识码",
    "文章编号",
    "关键词",
    "摘要",
    "基金项目",
    "作者简介",
    "收稿日期",
    "网络出版",
    "期刊导航",
    "马丽华",
    "张明远",
]
#: Numbers that only occur in the furniture: DOI prefix, class number, article number, postcode,
#: dates.
FURNITURE_NUMBERS = [
    "10.19876",
    "912.82",
    "1009",
    "0077",
    "750021",
    "350002",
    "2023-04-02",
    "2023-09-15",
    "1982",
    "64.1000",
    "22",
]


@pytest.fixture(scope="module")
def pipeline(raw_texts, tmp_path_factory):
    page = document_read(FIXTURES / "journal_front_matter.txt", doc_id="journal")
    cleaned = cleanup.documents_clean(
        [
            ("journal", page.text, None),
            ("report2024", raw_texts["report2024"], CORPUS["report2024"][1]),
        ]
    )
    units = cleaned.sentences
    segmenter = tokens.segmenter_make()
    stopwords = tokens.stopwords_read()
    cache = tmp_path_factory.mktemp("segments")

    def stats(unit_table: pd.DataFrame) -> dict[str, pd.DataFrame]:
        toks = tokens.tokens_select(
            tokens.tokens_segment(unit_table, segmenter, cache_dir=cache),
            stopwords,
            keep=segmenter.dictionary["word"],
        )
        nodes, edges = textstat.textstat_cooccurrence(toks, top_n=200, min_count=1)
        return {
            "tokens": toks,
            "frequency": textstat.textstat_frequency(toks),
            "keyness": textstat.textstat_keyness(toks, "journal"),
            "nodes": nodes,
            "edges": edges,
            "numbers": summaries.numbers_extract(unit_table, segmenter=segmenter),
        }

    raw_units = pd.DataFrame(
        [
            {"doc_id": "journal", "unit_id": f"journal-raw-{n}", "text": line}
            for n, line in enumerate(page.text.split("\n"))
            if line.strip()
        ]
        + units[units["doc_id"] == "report2024"][["doc_id", "unit_id", "text"]].to_dict("records")
    )
    return {"units": units, "clean": stats(units), "raw": stats(raw_units), "cleaned": cleaned}


def _features(tables: dict[str, pd.DataFrame]) -> set[str]:
    """Every feature of the word frequencies (word clouds), keyness and co-occurrence network."""
    edges = tables["edges"]
    return (
        set(tables["frequency"]["feature"])
        | set(tables["keyness"]["feature"])
        | set(tables["nodes"]["feature"])
        | set(edges["source"])
        | set(edges["target"])
    )


def _leaks(features: set[str]) -> set[str]:
    return {f for f in features for bad in FURNITURE_TOKENS if bad in f}


def _number_leaks(numbers: pd.DataFrame) -> set[str]:
    values = set(numbers["value"].astype(str)) | set(numbers["number"].astype(str))
    return {
        v
        for v in values
        for bad in FURNITURE_NUMBERS
        if re.sub(r"\.0$", "", v) == bad or bad in v and len(bad) > 3
    }


def test_the_control_shows_that_front_matter_would_leak(pipeline):
    """Without cleanup the furniture does reach the statistics (the assertions below can fail)."""
    raw = pipeline["raw"]
    assert {"cnki", "摘要", "关键词"} <= {
        f for f in _features(raw) if f in FURNITURE_TOKENS
    } | _leaks(_features(raw))
    assert _number_leaks(raw["numbers"])


def test_no_removed_text_reaches_frequencies_keyness_or_cooccurrence(pipeline):
    clean = pipeline["clean"]
    assert (clean["frequency"]["group"] == "journal").any()  # the page's body is counted
    assert not _leaks(_features(clean))
    assert not _leaks(set(clean["tokens"]["token"]))


def test_no_removed_number_reaches_the_numbers_table(pipeline):
    numbers = pipeline["clean"]["numbers"]
    journal = numbers[numbers["doc_id"] == "journal"]
    assert not _number_leaks(journal)
    # the body's own quantities are still there
    assert {"10家", "800人", "300余家"} <= set(journal["value"])


def test_every_unit_text_is_free_of_what_the_audit_removed(pipeline):
    cleaned = pipeline["cleaned"]
    audit = cleaned.audit[
        (cleaned.audit["doc_id"] == "journal") & (cleaned.audit["action"] == "dropped")
    ]
    units = pipeline["units"]
    body = "\n".join(units.loc[units["doc_id"] == "journal", "text"])
    assert len(audit) >= 12
    for text in audit["text"]:
        assert text_normalize(text) not in body
