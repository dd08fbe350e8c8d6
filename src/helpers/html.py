"""Saved web pages (``.html``, ``.htm``): decoding, main text, metadata and what was left out.

:func:`html_decode` finds the page's encoding (BOM, a trusted ``<meta charset>``, else detection as
for text files); :func:`html_extract` keeps the article (trafilatura, with layout tables unwrapped),
reads the page's title, date, site and URL, and lists every block of visible text the extractor
left out, so that cleanup can audit it. :func:`helpers.corpus.document_read` calls both; stage 1 of
the README ("Web pages") describes the steps.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from helpers.corpus import (
    _BOMS,
    DocumentError,
    _encoding_name,
    _error_text,
    _line_ends_unify,
    _looks_like_text,
    text_decode,
)

__all__ = ["MIN_MAIN_TEXT_CHARS", "HtmlPage", "html_decode", "html_extract", "html_read"]

# --------------------------------------------------------------------------------------------------
# Web pages (.html, .htm)
# --------------------------------------------------------------------------------------------------

#: A page whose main text has fewer characters than this in lines with a sentence or clause end
#: (。！？；) has no main text: a list of links, a navigation page, a page that loads its article
#: with JavaScript. It is reported as a problem instead of becoming an empty document.
MIN_MAIN_TEXT_CHARS = 20
#: Encodings a ``<meta charset>`` declaration is trusted for. Others (``iso-8859-1``,
#: ``windows-1252`` …) are often wrong on Chinese pages and decode anything, so the bytes are
#: detected instead (:func:`text_decode`).
_HTML_TRUSTED_CHARSETS = frozenset({"utf-8", "gb18030", "big5", "cp950", "big5hkscs"})
_CHARSET_META = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_PROSE_END = re.compile(r"[。！？；!?;]")
_TABLE_ROW = re.compile(r"^\|(.*)\|$")
_TABLE_CELL_SEP = re.compile(r"(?<!\\)\|")
_TABLE_RULE = re.compile(r"^\|(?:\s*:?-+:?\s*\|)+$")  # |---|---| under a table's header
_TITLE_SEPARATORS = "-_|｜–—·:："
_NOT_COUNTED = re.compile(r"[\s|]+")
_INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})
_BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "header", "footer", "main", "nav"}
    | {"section", "div", "fieldset", "figure", "figcaption", "form", "p", "pre"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd", "li", "ol", "ul"}
    | {"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td"}
)
#: trafilatura falls back to cruder extractors when its main extraction is shorter than this many
#: characters (its default, 250, is set for European languages). A Chinese news item of 100
#: characters is a full article; at 250 the short fixtures fell back to a whole-page dump
#: (navigation kept) or lost a data table (measured, see benchmarks/bench_html.py).
TRAFILATURA_MIN_EXTRACTED_SIZE = 50
# htmldate's default latest accepted date is today's, which would make the date read off a page
# depend on the day of the run; a fixed bound keeps the reading deterministic.
_DATE_PARAMS = {"original_date": True, "extensive_search": False, "max_date": "2099-12-31"}


@dataclass(frozen=True)
class HtmlPage:
    """The main text of a web page and what was read off the page around it.

    ``text`` has one paragraph per line, the page title as its first line unless the text starts
    with the page's ``<h1>`` (so cleanup finds it as the document title, or compares it with the one
    in corpus.csv) and table rows with cells
    joined by ``\\t`` (as for .docx). ``visible_chars`` counts the non-whitespace characters of
    the page's visible text, ``dropped`` lists the ``(html line, text)`` blocks of it that are not
    in ``text`` (navigation, comments, related links, footer …) and ``dropped_chars`` their
    characters, so nothing the extractor left out is lost silently.
    """

    text: str
    title: str
    date: str
    site: str
    url: str
    visible_chars: int
    dropped_chars: int
    dropped: tuple[tuple[int, str], ...]


def html_decode(data: bytes, *, path: str | Path = "<bytes>") -> tuple[str, str]:
    """Return ``(html, encoding)`` for the bytes of a saved web page.

    A byte-order mark wins; then the page's own declaration (``<meta charset="gb2312">`` or
    ``<meta http-equiv="Content-Type" content="text/html; charset=gbk">``) when it names UTF-8
    or a Chinese encoding and the bytes decode strictly with it (GB2312 and GBK are read as
    GB18030, their superset: pages declared ``gb2312`` routinely contain GBK characters);
    otherwise, or when the declaration is wrong, the bytes are detected like a text file
    (:func:`text_decode`).
    """
    if not data:
        raise DocumentError(path, "file is empty")
    if not any(data.startswith(bom) for bom, _, _ in _BOMS):
        declared = _CHARSET_META.search(data[:8192])
        if declared:
            try:
                name = _encoding_name(declared.group(1).decode("ascii"))
            except LookupError:
                name = ""
            if name in _HTML_TRUSTED_CHARSETS:
                try:
                    text = data.decode(name)
                except UnicodeDecodeError:
                    pass
                else:
                    if _looks_like_text(text):
                        return _line_ends_unify(text), name
    return text_decode(data, path=path)


def _html_tables_unwrap(root) -> None:
    """Turn layout tables into plain blocks, in place.

    Old government sites lay out the whole page with ``<table>``; the extractor would then keep
    the navigation and footer as "table rows" around the article. A table is taken for layout
    when it contains another table or when none of its rows has more than one cell; data tables
    (two or more columns) are kept as tables.
    """
    for table in list(root.iter("table")):
        rows = table.xpath("./tr|./*/tr")
        if table.find(".//table") is None and any(len(r.xpath("./td|./th")) > 1 for r in rows):
            continue
        for el in [table, *table.xpath("./thead|./tbody|./tfoot|./caption"), *rows]:
            el.tag = "div"
        for row in rows:
            for cell in row.xpath("./td|./th"):
                cell.tag = "div"


def _html_visible_blocks(root) -> list[tuple[int, str]]:
    """Return ``(html line, text)`` for every block element with visible text of its own.

    The text of inline elements (links, spans) belongs to their nearest block ancestor; scripts,
    styles, ``<noscript>`` and comments are not visible text.
    """
    parts: dict = {}
    stack: list[tuple[str, object, object]] = [("el", root, root)]
    while stack:
        kind, item, block = stack.pop()
        if kind == "text":
            if item and item.strip():
                parts.setdefault(block, []).append(item)
            continue
        if not isinstance(item.tag, str) or item.tag.lower() in _INVISIBLE_TAGS:
            continue  # comment, processing instruction or invisible element; its tail is queued
        own = item if item.tag.lower() in _BLOCK_TAGS else block
        if item.text and item.text.strip():
            parts.setdefault(own, []).append(item.text)
        queued = []
        for child in item:
            queued += [("el", child, own), ("text", child.tail, own)]
        stack.extend(reversed(queued))
    return [(el.sourceline or 0, " ".join(" ".join(texts).split())) for el, texts in parts.items()]


def _html_meta(root, *names: str) -> str:
    """Return the content of the first ``<meta name=…>``/``property=…`` among ``names``, or ''."""
    for name in names:
        for el in root.iter("meta"):
            key = (el.get("name") or el.get("property") or "").strip().lower()
            if key == name and (el.get("content") or "").strip():
                return " ".join(el.get("content").split())
    return ""


def _title_strip_site(title: str, *names: str) -> str:
    """Return ``title`` without trailing ``_栏目_网站名`` / ``- 网站名`` parts naming the site or
    the column (``names``: the site name, the CMS's ``ColumnName``)."""
    for sep in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if found and head.strip() and any(n and n in tail for n in names):
            return _title_strip_site(head.strip(), *names)
    return title


@functools.lru_cache(maxsize=1)
def _trafilatura_config():
    """Return trafilatura's configuration with :data:`TRAFILATURA_MIN_EXTRACTED_SIZE`."""
    from trafilatura.settings import use_config

    config = use_config()
    config["DEFAULT"]["MIN_EXTRACTED_SIZE"] = str(TRAFILATURA_MIN_EXTRACTED_SIZE)
    return config


def _table_row_cells(line: str) -> str:
    """Return a markdown-like table row ``| a | b |`` of the extractor as ``a\\tb``."""
    m = _TABLE_ROW.match(line)
    if not m:
        return line
    cells = [c.strip().replace("\\|", "|") for c in _TABLE_CELL_SEP.split(m.group(1))]
    return "\t".join(cells)


def html_extract(html: str, *, path: str | Path = "<html>") -> HtmlPage:
    """Return the main text of a web page and its title, date, site and URL.

    The extractor is trafilatura (see the README for the comparison with readability-lxml that
    chose it), run without comments, with tables, without deduplication and with a fixed date
    bound, so the same page always gives the same text. Layout tables are unwrapped first
    (:func:`_html_tables_unwrap`). Title: the CMS's ``ArticleTitle`` meta, else trafilatura's
    (``og:title``, ``<h1>``, ``<title>``), without a trailing site or column name. URL:
    trafilatura's (canonical link, ``og:url``), else the browser's ``<!-- saved from url=… -->``
    note. Site: trafilatura's, else the ``SiteName`` meta.

    Raises :class:`DocumentError` for a page with no main text (see :data:`MIN_MAIN_TEXT_CHARS`).
    """
    import copy

    import lxml.html
    import trafilatura
    from lxml.etree import ParserError

    source = _XML_DECLARATION.sub("", html, count=1)
    try:
        root = lxml.html.document_fromstring(source)
    except (ParserError, ValueError) as error:
        raise DocumentError(path, f"cannot parse as HTML ({_error_text(error)})") from None
    _html_tables_unwrap(root)
    body = root.find("body")
    blocks = _html_visible_blocks(body if body is not None else root)
    found = trafilatura.bare_extraction(
        copy.deepcopy(root),
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        date_extraction_params=dict(_DATE_PARAMS),
        config=_trafilatura_config(),
    )
    raw = (found.text if found is not None else "") or ""
    lines = [line.strip() for line in _line_ends_unify(raw).split("\n")]
    lines = [_table_row_cells(line) for line in lines if line and not _TABLE_RULE.match(line)]
    site = (found.sitename if found is not None else "") or _html_meta(root, "sitename")
    title = _html_meta(root, "articletitle") or (found.title if found is not None else "") or ""
    title = _title_strip_site(" ".join(title.split()), site, _html_meta(root, "columnname"))
    saved = _SAVED_FROM.search(html[:4096])
    url = (found.url if found is not None else "") or (saved.group(1) if saved else "")
    date = (found.date if found is not None else "") or ""

    visible = sum(len(_NOT_COUNTED.sub("", text)) for _, text in blocks)
    prose = sum(len(line) for line in lines if _PROSE_END.search(line) and line != title)
    if prose < MIN_MAIN_TEXT_CHARS:
        raise DocumentError(
            path,
            f"no main text found: of {visible} characters of visible text the extractor kept "
            f"{sum(len(_NOT_COUNTED.sub('', line)) for line in lines)}, and no sentences "
            "(a list of links, a navigation page, or a page that loads its text with "
            "JavaScript?); save the article page itself, or copy its text into a .txt file",
        )
    # The title goes on the first line unless the text already starts with it or with the page's
    # <h1> (then the h1 is the document's title line and the page title stays in the metadata).
    first = _NOT_COUNTED.sub("", lines[0]) if lines else ""
    h1s = {_NOT_COUNTED.sub("", h.text_content()) for h in root.iter("h1")}
    if title and first != _NOT_COUNTED.sub("", title) and first not in h1s:
        lines.insert(0, title)
    kept = _NOT_COUNTED.sub("", "".join(lines))
    dropped = tuple((line, text) for line, text in blocks if _NOT_COUNTED.sub("", text) not in kept)
    return HtmlPage(
        text="\n".join(lines),
        title=title,
        date=date,
        site=site,
        url=url,
        visible_chars=visible,
        dropped_chars=sum(len(_NOT_COUNTED.sub("", text)) for _, text in dropped),
        dropped=dropped,
    )


def html_read(data: bytes, path: Path) -> tuple[str, str, tuple, tuple]:
    """Return ``(text, encoding, metadata, dropped)`` of a saved web page (:class:`RawDocument`)."""
    html, encoding = html_decode(data, path=path)
    page = html_extract(html, path=path)
    metadata = (
        ("page_title", page.title),
        ("date", page.date),
        ("site", page.site),
        ("url", page.url),
        ("html_visible_chars", str(page.visible_chars)),
        ("html_kept_chars", str(page.visible_chars - page.dropped_chars)),
        ("html_dropped_chars", str(page.dropped_chars)),
    )
    return page.text, encoding, tuple((k, v) for k, v in metadata if v), page.dropped
