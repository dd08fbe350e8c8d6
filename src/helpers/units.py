"""Document structure: heading markers, paragraphs rejoined across page breaks, and units.

:func:`lines_join` groups the body lines that cleanup kept into paragraphs;
:func:`blocks_structure` numbers the headings as the document does and returns the title, headings,
paragraphs and sentences as units with hierarchical ids, heading paths and offsets into the
cleaned text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from helpers.cleanup_rules import _CN_NUMERALS
from helpers.text import _CLOSERS, _SENT_END, text_split_sentences

# --------------------------------------------------------------------------------------------------
# Headings and sentences
# --------------------------------------------------------------------------------------------------

#: Heading markers, from the highest to the lowest rank. A marker of a rank closes every open
#: heading of the same or a lower rank.
HEADING_MARKERS: tuple[tuple[str, str], ...] = (
    ("chapter", rf"第[{_CN_NUMERALS}\d]+[章编]"),
    ("section", rf"第[{_CN_NUMERALS}\d]+节"),
    ("cn", rf"[{_CN_NUMERALS}]+、"),
    ("cn_paren", rf"（[{_CN_NUMERALS}]+）"),
    ("arabic", r"\d{1,2}(?:[.．、](?!\d))"),
    ("arabic_paren", r"（\d{1,2}）"),
    ("circled", "[①-⑳]"),
    ("article", rf"第[{_CN_NUMERALS}\d]+条"),
)
_HEADING = re.compile("^(?:" + "|".join(f"(?P<{n}>{p})" for n, p in HEADING_MARKERS) + r")\s*")
_RANK = {name: i for i, (name, _) in enumerate(HEADING_MARKERS)}
_PARA_END = re.compile(f"[{_SENT_END}；;：:][{_CLOSERS}]*$")
_PARA_END_CHARS = _SENT_END + "；;：:"


def text_ends_clause(text: str) -> bool:
    """Whether ``text`` ends a sentence or clause (``。！？；：…``, closing quotes or brackets after
    it allowed): ``_PARA_END.search(text)`` without trying the pattern at every position."""
    if text.endswith("\n"):  # $ also matches before a final newline
        return _PARA_END.search(text) is not None
    rest = text.rstrip(_CLOSERS)  # the end characters and the closers have none in common
    return bool(rest) and rest[-1] in _PARA_END_CHARS


_ANY_SENT_END = re.compile(f"[{_SENT_END}]")
_FIRST_SENTENCE = re.compile(f"^.*?[{_SENT_END}]+[{_CLOSERS}]*")
_ENUM_START = re.compile(
    r"^(其次|再次|然后|最后|此外|另外|第[二三四五六七八九十]|二是|三是|四是|五是)[，、,]?"
)
_ENUM_BEFORE = re.compile(r"(首先|其次|再次|第一|一是|二是|三是|四是)")
_INLINE_HEADING = re.compile(
    rf"(?:(?<=[{_SENT_END}])|(?<=[{_SENT_END}][{_CLOSERS}]))(?=(?:[{_CN_NUMERALS}]+、|（[{_CN_NUMERALS}]+）|（\d{{1,2}}）)[^\n]{{2,}})"
)

#: What every inline heading split point has around it (a quick first test).
_INLINE_HEADING_HINT = re.compile(
    rf"[{_SENT_END}][{_CLOSERS}]?(?:[{_CN_NUMERALS}]+、|（[{_CN_NUMERALS}]+）|（\d{{1,2}}）)"
)
_FIRST_CHILD = re.compile(rf"^([{_CN_NUMERALS}]+、[^{_SENT_END}（]{{2,40}})(?=（一）)")

#: A line this short without any punctuation stands alone (a label such as 前言 or 结语), never
#: joined.
MAX_LABEL_CHARS = 20
_ANY_PUNCT = re.compile(f"[{_SENT_END}，、；：,;:]")
MAX_HEADING_CHARS = (
    40  # an inline heading (（一）经济逻辑。…) is the first sentence up to this length
)
MAX_TITLE_CHARS = 60


def heading_marker(line: str) -> tuple[str, str] | None:
    """Return ``(kind, marker)`` when ``line`` starts with a heading marker (一、 （一） 1. …)."""
    m = _HEADING.match(line)
    if not m:
        return None
    return m.lastgroup, m.group(0)


def heading_split(line: str) -> tuple[str, str, str] | None:
    """Split a line that starts with a heading marker into ``(kind, heading, rest)``.

    The heading is the whole line when it has no sentence end and is short
    (``一、准确把握…总体要求``), otherwise its first sentence when that is at most
    :data:`MAX_HEADING_CHARS` characters (``（一）经济逻辑。`` then ``首先，…``); a long first
    sentence leaves the marker alone as the heading (a numbered paragraph). ``第X条`` articles
    always keep only the marker.
    """
    hit = heading_marker(line)
    if hit is None:
        return None
    kind, marker = hit
    body = line[len(marker) :]
    if kind == "article":
        return kind, marker.rstrip(), body
    if not _ANY_SENT_END.search(body) and len(body) <= MAX_TITLE_CHARS:
        return kind, line, ""
    m = _FIRST_SENTENCE.match(body)
    if m and len(m.group(0)) <= MAX_HEADING_CHARS:
        return kind, marker + m.group(0), body[m.end() :]
    return kind, marker.rstrip(), body


UNIT_COLUMNS = [
    "doc_id",
    "unit_id",
    "level",
    "kind",
    "heading_level",
    "heading_path",
    "section",
    "parent_id",
    "start",
    "end",
    "n_chars",
    "lines",
    "text",
]


@dataclass
class _Block:
    """A paragraph being assembled from raw lines (mutable while joining)."""

    text: str
    lines: list[tuple[int, int]]  # (offset in text, raw line number)
    label: str = ""  # a front-matter label the paragraph carries (摘要), shown as its heading path
    #: heading_split of the first line, once lines_join has asked (False: not asked yet)
    first_split: tuple[str, str, str] | None | bool = False

    @property
    def split(self) -> tuple[str, str, str] | None:
        """:func:`heading_split` of the paragraph's text."""
        if len(self.lines) == 1 and self.first_split is not False:
            return self.first_split  # type: ignore[return-value]
        return heading_split(self.text)

    def append(self, text: str, line: int) -> None:
        sep = (
            " "
            if self.text[-1:].isascii()
            and self.text[-1:].isalnum()
            and text[:1].isascii()
            and text[:1].isalnum()
            else ""
        )
        self.lines.append((len(self.text) + len(sep), line))
        self.text += sep + text

    def raw_lines(self, start: int, end: int) -> list[int]:
        """Raw line numbers of the characters ``text[start:end]``."""
        if len(self.lines) == 1:  # most paragraphs: one raw line
            return [self.lines[0][1]]
        out = []
        for i, (off, line) in enumerate(self.lines):
            nxt = self.lines[i + 1][0] if i + 1 < len(self.lines) else len(self.text) + 1
            if off < end and nxt > start:
                out.append(line)
        return out


def _line_range(lines: Sequence[int]) -> str:
    if not lines:
        return ""
    return str(lines[0]) if lines[0] == lines[-1] else f"{lines[0]}-{lines[-1]}"


def lines_join(lines: Sequence[tuple[int, str]], doc_id: str) -> tuple[list[_Block], list[dict]]:
    """Group body lines into paragraphs, rejoining paragraphs split by page breaks.

    ``lines`` holds ``(line_index, text)`` or ``(line_index, text, label)``; a labelled line (an
    abstract, label ``摘要``) starts its own paragraph and carries the label.
    Returns the paragraphs (each with the raw line numbers of its parts) and one record per join.
    Two rules join a line to the paragraph before it:

    - ``page_break``: the paragraph does not end a sentence or clause (its last character is not one
      of ``。！？；：…`` before closing quotes) and the line is not a heading, e.g. ``福建地区资`` +
      ``金充足、人才济济…``. A heading line never takes a continuation (``一、…总体要求`` stays
      alone), nor does a short label of at most :data:`MAX_LABEL_CHARS` characters without
      punctuation (``前言``);
    - ``enumeration``: the line opens with the next step of an enumeration (``其次，`` ``再次，``
      ``最后，`` ``二是``) and the paragraph has already begun one (``首先，``), as when a page
      break falls between two sentences of one paragraph.
    """
    blocks: list[_Block] = []
    joins: list[dict] = []
    last_heading_only = True
    for line_no, text, *rest in lines:
        label = rest[0] if rest else ""
        split = heading_split(text)
        is_heading_line = split is not None
        if blocks and not is_heading_line and not last_heading_only and not label:
            prev = blocks[-1]
            rule = None
            short_label = (
                len(prev.lines) == 1
                and len(prev.text) <= MAX_LABEL_CHARS
                and not _ANY_PUNCT.search(prev.text)
            )
            if not text_ends_clause(prev.text) and not short_label:
                rule = "page_break"
            elif _ENUM_START.match(text) and _ENUM_BEFORE.search(prev.text):
                rule = "enumeration"
            if rule:
                joins.append(
                    {
                        "doc_id": doc_id,
                        "line": prev.lines[-1][1],
                        "joined_line": line_no + 1,
                        "rule": rule,
                        "tail": prev.text[-10:],
                        "head": text[:10],
                    }
                )
                prev.append(text, line_no + 1)
                continue
        blocks.append(_Block(text, [(0, line_no + 1)], label, split))
        last_heading_only = bool(split) and not split[2]
    return blocks, joins


def blocks_structure(
    blocks: Sequence[_Block], doc_id: str, *, title: str | None = None, title_line: int = 0
) -> tuple[pd.DataFrame, str]:
    """Build the document structure and return ``(units, cleaned_text)``.

    Units come at two levels, ``paragraph`` and ``sentence``; both carry the title (``kind`` =
    ``title``, id ``<doc>-t``) and every heading (``kind`` = ``heading``, id ``<doc>-<path>-h``),
    then the paragraphs (``<doc>-<path>-p<n>``) or sentences (``<doc>-<path>-p<n>-s<m>``).
    ``<path>`` numbers the headings as the document does: ``2.3`` is the third ``（三）`` under
    ``二、``; text before the first heading has path ``0``. ``start``/``end`` are offsets into the
    cleaned text, which holds the title and one line per paragraph (an inline heading shares its
    paragraph's line), so ``cleaned_text[start:end] == text`` for every unit.
    """
    rows, clean_text = _units_build(blocks, doc_id, title=title, title_line=title_line)
    return pd.DataFrame(rows, columns=UNIT_COLUMNS), clean_text


@dataclass(frozen=True)
class _OpenHeading:
    """A heading whose section is open while the blocks are read (see :func:`blocks_structure`)."""

    rank: int  # the rank of its marker's kind (see HEADING_MARKERS)
    number: int  # its number among the headings under the same parent (2 for 二、)
    label: str  # the heading without its final punctuation, as heading paths show it
    unit_id: str


def _lines_of(block: _Block, start: int, end: int) -> str:
    """The raw line range (``3`` or ``3-5``) of the characters ``block.text[start:end]``."""
    lines = block.lines
    if len(lines) == 1:  # most paragraphs: one raw line
        return str(lines[0][1])
    return _line_range(block.raw_lines(start, end))


def _units_build(
    blocks: Sequence[_Block], doc_id: str, *, title: str | None = None, title_line: int = 0
) -> tuple[list[tuple], str]:
    """Return the unit rows (tuples of the :data:`UNIT_COLUMNS`) and the cleaned text (see
    :func:`blocks_structure`).

    The paragraph-level rows come first, then the sentence-level rows, each level in the order of
    the offsets. One pass over the blocks keeps the open headings on a stack; the heading path,
    section and numbering path change only when a heading opens, so they are kept beside it.
    """
    title_id = f"{doc_id}-t" if title else ""
    paras: list[tuple] = []  # paragraph-level rows
    sents: list[tuple] = []  # sentence-level rows
    stack: list[_OpenHeading] = []
    heading_path = section = ""  # of the open headings
    path = "0"  # the numbering path of the open headings, 0 before the first heading
    parent_id = title_id  # the innermost open heading (or the title)
    parts: list[str] = []
    offset = 0
    counters: dict[tuple, int] = {}
    para_counter: dict[str, int] = {}

    if title:
        row = (doc_id, title_id, "paragraph", "title", 0, "", "", "", 0, len(title), len(title))
        paras.append((*row, str(title_line), title))
        sents.append((doc_id, title_id, "sentence", *row[3:], str(title_line), title))
        parts.append(title)
        offset = len(title) + 1

    heading_strip = _SENT_END + "，,；; "
    for block in blocks:
        text = block.text
        split = block.split
        body_start = 0
        if split:
            kind, heading, rest = split
            # close the headings of the same or a lower rank, open this one
            rank = _RANK[kind]
            while stack and stack[-1].rank >= rank:
                stack.pop()
            parent = stack[-1].unit_id if stack else title_id
            key = tuple(h.number for h in stack)
            number = counters[key] = counters.get(key, 0) + 1
            path = ".".join([*(str(n) for n in key), str(number)])
            uid = f"{doc_id}-{path}-h"
            stack.append(_OpenHeading(rank, number, heading.rstrip(heading_strip), uid))
            heading_path = " > ".join(h.label for h in stack)
            section = stack[0].label
            parent_id = uid
            rest_of_row = (
                len(stack),
                heading_path,
                section,
                parent,
                offset,
                offset + len(heading),
                len(heading),
                _lines_of(block, 0, len(heading)),
                heading,
            )
            paras.append((doc_id, uid, "paragraph", "heading", *rest_of_row))
            sents.append((doc_id, uid, "sentence", "heading", *rest_of_row))
            body_start = len(text) - len(rest)
        body = text[body_start:]
        if body.strip():
            body_start += len(body) - len(body.lstrip(" "))
            body = body.strip(" ")
            n = para_counter[path] = para_counter.get(path, 0) + 1
            pid = f"{doc_id}-{path}-p{n}"
            p0 = offset + body_start
            level = len(stack)
            u_path, u_section = heading_path, section
            if block.label:  # the heading path ends with the paragraph's label
                u_path = f"{heading_path} > {block.label}" if stack else block.label
                u_section = section if stack else block.label
            paras.append(
                (
                    doc_id,
                    pid,
                    "paragraph",
                    "text",
                    level,
                    u_path,
                    u_section,
                    parent_id,
                    p0,
                    p0 + len(body),
                    len(body),
                    _lines_of(block, body_start, body_start + len(body)),
                    body,
                )
            )
            one_line = str(block.lines[0][1]) if len(block.lines) == 1 else None
            for n, (s, e) in enumerate(text_split_sentences(body), start=1):
                sents.append(
                    (
                        doc_id,
                        f"{pid}-s{n}",
                        "sentence",
                        "text",
                        level,
                        u_path,
                        u_section,
                        pid,
                        p0 + s,
                        p0 + e,
                        e - s,
                        one_line or _line_range(block.raw_lines(body_start + s, body_start + e)),
                        body[s:e],
                    )
                )
        parts.append(text)
        offset += len(text) + 1

    clean_text = "\n".join(parts) + ("\n" if parts else "")
    return paras + sents, clean_text
