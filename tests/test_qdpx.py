"""REFI-QDA export (helpers.qdpx): the archive read back, every segment checked against its text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile

import pandas as pd
import pytest

from helpers import annotations as ann
from helpers import paths, qdpx, tables
from helpers.codebook import codebook_read

NS = {"q": qdpx.NAMESPACE}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def book():
    return codebook_read()


@pytest.fixture(scope="module")
def corpus(cleaned, tmp_path_factory):
    """(units, texts_dir): the two documents' sentence units and their cleaned texts on disk."""
    texts = tmp_path_factory.mktemp("clean")
    for doc_id, doc in cleaned.items():
        (texts / f"{doc_id}.txt").write_text(doc.text, encoding="utf-8")
    units = pd.concat(
        [doc.units[doc.units["level"] == "sentence"] for doc in cleaned.values()], ignore_index=True
    )
    return units, texts


@pytest.fixture(scope="module")
def coded(book):
    """Coder A's annotation and a second coding (A without economic) in the long layout."""
    a = ann.annotations_read(paths.DATA / "annotations" / "coder_A.csv", book)[ann.CODING_COLUMNS]
    b = a.assign(coder="second", value=a["value"].where(a["code"] != "economic", 0))
    return pd.concat([a, b], ignore_index=True)


def test_qdpx_round_trip_offsets_match_the_units(corpus, coded, book, tmp_path, monkeypatch):
    units, texts = corpus
    monkeypatch.chdir(tmp_path)  # reading back must not extract anything into the working folder
    path = qdpx.qdpx_write(tmp_path / "project.qdpx", units, book, coded, texts)
    segments = qdpx.qdpx_read(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.qdpx"]

    positives = coded[coded["value"] == 1]
    assert len(segments) == len(positives) > 100
    info = units.set_index("unit_id")
    merged = segments.merge(
        info[["doc_id", "start", "end", "text"]],
        left_on="selection",
        right_index=True,
        suffixes=("", "_unit"),
        validate="many_to_one",
    )
    # every coded segment: at the unit's offsets, in the unit's document, with the unit's text
    assert (merged["source"] == merged["doc_id"]).all()
    assert (merged["start"] == merged["start_unit"]).all() and (
        merged["end"] == merged["end_unit"]
    ).all()
    assert (merged["text"] == merged["text_unit"]).all()
    # the codings are the ones written, code by code and coder by coder
    names = {qdpx.code_name(book, c): c for c in book.ids}
    got = set(zip(segments["coder"], segments["selection"], segments["code"].map(names)))
    assert got == set(zip(positives["coder"], positives["unit_id"], positives["code"]))
    assert "中华民族共同体" in "".join(
        segments.loc[segments["code"] == "文化逻辑 (cultural)", "text"]
    )


def test_qdpx_diff_lists_segments_that_are_not_their_unit(corpus, coded, book, tmp_path):
    units, texts = corpus
    segments = qdpx.qdpx_read(qdpx.qdpx_write(tmp_path / "project.qdpx", units, book, coded, texts))
    assert qdpx.qdpx_diff(segments, units).empty
    # a unit whose text no longer matches the source, and a selection naming no unit
    first = segments["selection"].iloc[0]
    changed = units.assign(text=units["text"].where(units["unit_id"] != first, "闽宁协作。"))
    stray = segments.iloc[[-1]].assign(selection="nowhere-1-p1-s1")
    diff = qdpx.qdpx_diff(pd.concat([segments, stray], ignore_index=True), changed)
    assert set(diff["selection"]) == {first, "nowhere-1-p1-s1"}
    assert (diff.loc[diff["selection"] == first, "text_unit"] == "闽宁协作。").all()
    assert diff.loc[diff["selection"] == "nowhere-1-p1-s1", "text_unit"].isna().all()


def test_qdpx_structure_follows_refi_qda(corpus, coded, book, tmp_path):
    units, texts = corpus
    path = qdpx.qdpx_write(tmp_path / "project.qdpx", units, book, coded, texts)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        root = ET.fromstring(z.read("project.qde"))
        sources = {n: z.read(n).decode("utf-8") for n in names if n.startswith("sources/")}
    assert names[0] == "project.qde" and len(sources) == 2
    assert root.tag == f"{{{qdpx.NAMESPACE}}}Project"
    # every GUID is 8-4-4-4-12 hex and unique
    guids = [el.get("guid") for el in root.iter() if el.get("guid")]
    assert all(GUID.match(g) for g in guids) and len(guids) == len(set(guids))
    # the codebook: dimensions as parent codes (not codable) holding the codes; isCodable on each
    top = root.findall("q:CodeBook/q:Codes/q:Code", NS)
    assert [c.get("name") for c in top] == ["五重逻辑 (logic)", "五项机制 (mechanism)"]
    assert all(c.get("isCodable") == "false" for c in top)
    children = [c for parent in top for c in parent.findall("q:Code", NS)]
    assert [c.get("name") for c in children] == [qdpx.code_name(book, c) for c in book.ids]
    assert all(c.get("isCodable") == "true" for c in children)
    assert all(
        c.get("isCodable") in ("true", "false") for c in root.iter(f"{{{qdpx.NAMESPACE}}}Code")
    )
    code_guids = {c.get("guid") for c in children}
    # one text source per document, its file in sources/, selections pointing at codes and users
    users = {u.get("guid") for u in root.findall("q:Users/q:User", NS)}
    assert len(users) == 2
    for src in root.findall("q:Sources/q:TextSource", NS):
        text = sources["sources/" + src.get("plainTextPath").removeprefix("internal://")]
        assert text == (texts / f"{src.get('name')}.txt").read_text(encoding="utf-8")
        for sel in src.findall("q:PlainTextSelection", NS):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            unit = units.set_index("unit_id").loc[sel.get("name")]
            assert text[start:end] == unit["text"]
            (coding,) = sel.findall("q:Coding", NS)
            assert coding.find("q:CodeRef", NS).get("targetGUID") in code_guids
            assert coding.get("creatingUser") in users


def test_qdpx_is_byte_reproducible(corpus, coded, book, tmp_path):
    units, texts = corpus
    a = qdpx.qdpx_write(tmp_path / "a.qdpx", units, book, coded, texts).read_bytes()
    b = qdpx.qdpx_write(tmp_path / "b.qdpx", units, book, coded, texts).read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a.qdpx") as z:
        assert {i.date_time for i in z.infolist()} == {tables.FIXED_TIME}
    assert qdpx.qdpx_guid("code", "economic") == qdpx.qdpx_guid("code", "economic")


def test_qdpx_refuses_offsets_that_do_not_match(corpus, coded, book, tmp_path):
    units, texts = corpus
    stale = units.copy()
    stale.loc[5, "start"] += 1
    with pytest.raises(ValueError, match=f"unit {stale.loc[5, 'unit_id']!r}: the text at"):
        qdpx.qdpx_write(tmp_path / "x.qdpx", stale, book, coded, texts)
    bad = pd.concat(
        [coded, pd.DataFrame([["A", "nowhere-1", "economic", 1]], columns=ann.CODING_COLUMNS)]
    )
    with pytest.raises(ValueError, match="not in the units table"):
        qdpx.qdpx_write(tmp_path / "x.qdpx", units, book, bad, texts)


def test_qdpx_read_agrees_with_the_schema_models(corpus, coded, book, tmp_path):
    """The ElementTree reading gives what the REFI-QDA schema's models (pyrefiqda) read."""
    from pyrefiqda.models import Project
    from xsdata_pydantic.bindings import XmlParser

    units, texts = corpus
    path = qdpx.qdpx_write(tmp_path / "project.qdpx", units, book, coded, texts)
    with zipfile.ZipFile(path) as z:
        project = XmlParser().from_bytes(z.read("project.qde"), Project)
    users = {u.guid: u.name for u in project.users.user}
    expected = [
        (src.name, sel.name, sel.start_position, sel.end_position, c.code_ref.target_guid,
         users[c.creating_user])
        for src in project.sources.text_source
        for sel in src.plain_text_selection
        for c in sel.coding
    ]  # fmt: skip
    got = qdpx.qdpx_read(path)
    columns = ["source", "selection", "start", "end", "code_guid", "coder"]
    assert list(got[columns].itertuples(index=False, name=None)) == expected
    assert len(expected) == int((coded["value"] == 1).sum())
