"""Messy web and journal pages written by us (``tests/fixtures/pages/``) against their references.

Each page ``NAME.txt``/``NAME.html`` has ``NAME.yaml`` with its ``title``, its ``body`` sentences
in order (as sentence units should read after cleanup), the ``furniture`` that must not survive in
any unit and, for a page with no main text, the ``problem`` it must be reported as. See
``tests/fixtures/pages/README.md``. Each page is a separate test case so each fails on its own.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml

from helpers import cleanup, corpus
from helpers.text import text_normalize

PAGES = Path(__file__).parent / "fixtures" / "pages"
SUFFIXES = (".txt", ".html")
FILES = sorted(p for p in PAGES.iterdir() if p.suffix in SUFFIXES)


def _ws(s: str) -> str:
    """Whitespace-free form used to compare texts (cleanup may keep spaces between Latin words)."""
    return re.sub(r"\s+", "", s)


def _reference(path: Path) -> dict:
    ref = yaml.safe_load(path.with_suffix(".yaml").read_text(encoding="utf-8"))
    assert isinstance(ref, dict) and "title" in ref, f"{path.with_suffix('.yaml')}: no title"
    return ref


def _read(path: Path) -> corpus.RawDocument:
    """Read a page; skip while the project cannot read its format (.html before it is supported)."""
    try:
        return corpus.document_read(path)
    except corpus.DocumentError as exc:
        if "unsupported format" in str(exc):
            pytest.skip(f"document_read cannot read {path.suffix} yet: {exc}")
        raise


def _units(path: Path):
    doc = _read(path)
    units = cleanup.document_clean(doc.text, doc.doc_id).units
    return units


def _ids(files):
    return [p.name for p in files]


def test_every_page_has_a_reference():
    """Each page has its YAML reference and there are at least 12 pages."""
    assert len(FILES) >= 12
    for p in FILES:
        assert p.with_suffix(".yaml").exists(), f"{p.name}: no reference {p.stem}.yaml"


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_references_are_normalised(path):
    """References are in cleanup's normalised form (else no cleanup could match them)."""
    ref = _reference(path)
    for s in [ref["title"], *ref.get("body", [])]:
        assert text_normalize(s) == s, f"{path.name}: not normalised: {s!r}"


_PINYIN = re.compile(r"（[a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜ]+）")


def _page_text(path: Path) -> str:
    """The page's text as a reader sees it, whitespace-free: tags, scripts, pinyin and ?? dropped.

    Only for checking the references against their page; it is not a cleanup.
    """
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", raw)
        raw = html.unescape(re.sub(r"<[^>]+>", "\n", raw))
    text = _PINYIN.sub("", text_normalize(raw))
    return _ws(re.sub(r"？{2,}", "", text))


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_references_match_page(path):
    """Every body sentence is in the page, every furniture string is in it, none is in the body."""
    ref, page = _reference(path), _page_text(path)
    raw = path.read_text(encoding="utf-8")
    forms = (page, _ws(raw), _ws(text_normalize(raw)))
    assert _ws(ref["title"]) in page, f"{path.name}: title not in the page"
    missing = [s for s in ref.get("body", []) if _ws(s) not in page]
    assert not missing, f"{path.name}: body sentences not in the page: {missing}"
    absent = [f for f in ref["furniture"] if not any(_ws(str(f)) in x for x in forms)]
    assert not absent, f"{path.name}: furniture not in the page: {absent}"
    clash = [(f, s) for f in ref["furniture"] for s in ref.get("body", []) if _ws(str(f)) in _ws(s)]
    assert not clash, f"{path.name}: furniture inside a body sentence: {clash}"


BODY_FILES = [p for p in FILES if "problem" not in _reference(p)]
PROBLEM_FILES = [p for p in FILES if "problem" in _reference(p)]


@pytest.mark.parametrize("path", BODY_FILES, ids=_ids(BODY_FILES))
def test_page_title(path):
    """The title unit reads as the page's title."""
    ref, units = _reference(path), _units(path)
    titles = units.loc[(units["level"] == "sentence") & (units["kind"] == "title"), "text"]
    assert [_ws(t) for t in titles] == [_ws(ref["title"])]


@pytest.mark.parametrize("path", BODY_FILES, ids=_ids(BODY_FILES))
def test_page_body_sentences(path):
    """Every body sentence is in exactly one sentence unit, and that unit is the sentence."""
    ref, units = _reference(path), _units(path)
    sentences = units.loc[(units["level"] == "sentence") & (units["kind"] != "title"), "text"]
    texts = [_ws(t) for t in sentences]
    errors = []
    for s in ref["body"]:
        holding = [t for t in texts if _ws(s) in t]
        if len(holding) != 1 or holding[0] != _ws(s):
            errors.append(f"{s!r} is in {holding!r}")
    assert not errors, f"{path.name}:\n" + "\n".join(errors)


@pytest.mark.parametrize("path", BODY_FILES, ids=_ids(BODY_FILES))
def test_page_no_other_units(path):
    """No sentence unit other than the reference body (anything else is furniture let through)."""
    ref, units = _reference(path), _units(path)
    sentences = units.loc[(units["level"] == "sentence") & (units["kind"] != "title"), "text"]
    expected = [_ws(s) for s in ref["body"]]
    assert [_ws(t) for t in sentences] == expected


@pytest.mark.parametrize("path", BODY_FILES, ids=_ids(BODY_FILES))
def test_page_no_furniture(path):
    """No furniture line or fragment is in any unit (paragraph, sentence, title)."""
    ref, units = _reference(path), _units(path)
    found = [(f, t) for f in ref["furniture"] for t in units["text"] if _ws(str(f)) in _ws(t)]
    assert not found, f"{path.name}: furniture left in units: {found!r}"


@pytest.mark.parametrize("path", PROBLEM_FILES, ids=_ids(PROBLEM_FILES))
def test_page_without_text_is_a_problem(path):
    """A page without main text is a named problem, not cleaned into an empty document."""
    try:
        corpus.document_read(path)
    except corpus.DocumentError as exc:
        if "unsupported format" in str(exc):
            pytest.skip(f"document_read cannot read {path.suffix} yet: {exc}")
    result = cleanup.files_clean([path])
    assert path.stem not in set(result.units["doc_id"])
    problems = result.problems[result.problems["doc_id"] == path.stem]
    assert len(problems) == 1
    assert path.name in problems["file"].iloc[0] or path.name in problems["problem"].iloc[0]
