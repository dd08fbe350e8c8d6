"""Text cleanup: normalisation, boilerplate separation, page-break repair and document structure.

The stage turns a raw document (print-layout text, a web page saved as text, a .docx or a .pdf) into

- one **cleaned text** per document (title, headings and paragraphs, one per line);
- **units**: the title, headings, paragraphs and sentences, each with a stable hierarchical id, its
  heading path, its level and character offsets into the cleaned text;
- an **audit table** of every line that was taken out of the body, with the rule that took it out,
  and a **joins table** of every line break that was repaired;
- **metadata** read off the removed lines (date, document number, issuer, author …).

Nothing is dropped silently: a non-blank raw line is either in the body (possibly joined to its
neighbour, see the joins table) or in the audit table. Normalisation only removes whitespace and
invisible characters, never a CJK character (a property test checks this).

Rules are matched on a simplified-script copy of each line (OpenCC ``t2s``), so the boilerplate
rules written in simplified Chinese also catch traditional-script documents; the text itself keeps
its original script.

The rules are documented in :data:`HEADER_RULES`, :data:`TRAILER_RULES`, :data:`BODY_RULES`,
:data:`FRONT_MATTER_LABELS` and in the docstrings of the functions below (``line_lost_spaces``,
``line_split_paragraphs``, ``line_strip_pinyin``, ``line_front_matter``, ``line_lead`` for pages as
researchers collect them: mirrors, news sites, journal databases); stage 1 of the README summarises
them. Besides whole lines, the audit table records what was cut from a line (a dateline, a
front-matter label, a caption, citation markers, pinyin annotations) with the text cut.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.cleanup_rules import (
    _DATE,
    _SPACED_NAMES,
    _SPACED_NAMES_RULE,
    _WEB_RULES,
    BODY_RULES,
    HEADER_RULES,
    TRAILER_RULES,
    Rule,
)
from helpers.lines import (
    _PINYIN_ANNOTATION,
    _RAW_WORK,
    _front_matter_rule,
    _has_abstract,
    line_front_matter,
    line_label_colons,
    line_lead,
    line_lost_spaces,
    line_split_paragraphs,
    line_strip_pinyin,
    text_pinyin_mirror,
)
from helpers.tables import path_resolve, table_write
from helpers.text import (
    _SPACES,
    _WHITESPACE,
    CJK_IDEOGRAPH,
    text_count_cjk,
    text_normalize,
    text_simplify,
)
from helpers.units import (
    _FIRST_CHILD,
    _INLINE_HEADING,
    _PARA_END,
    MAX_TITLE_CHARS,
    UNIT_COLUMNS,
    _units_build,
    heading_marker,
    lines_join,
)

#: A short line without a sentence end that appears this often in the body is a running
#: header or footer.
RUNNING_HEADER_MIN = 3
#: The label that abstract paragraphs carry as their heading path and section.
ABSTRACT_LABEL = "摘要"

#: An unlabelled keyword line under a journal abstract: three to ten short terms separated by ；.
_KEYWORD_LIST = re.compile(
    rf"^[{CJK_IDEOGRAPH}A-Za-z]{{2,14}}(?:[；;][{CJK_IDEOGRAPH}A-Za-z]{{2,14}}){{2,9}}[；;]?$"
)
#: How many body lines from the top an unlabelled keyword line may sit.
KEYWORD_LIST_MAX_LINE = 4
#: Citation markers of a journal article inside the text: [1], [3-4], [2,5].
_CITATION_MARK = re.compile(r"\[\d{1,3}(?:\s*[-–—,，、]\s*\d{1,3})*\]")
#: An e-paper's jump to or from another page: （下转02版）, （上接第1版）.
_PAGE_JUMP = re.compile(
    r"[（(]\s*(?:下转|上接|转|接)\s*第?\s*[\d一二三四五六七八九十]{1,3}\s*版\s*[）)]"
)
_INLINE_CAPTION = re.compile(r"(?<=[。！？])图为[^。！？“”]{2,80}。")
#: Lines that are furniture when they follow journal front matter inside the body.
_FRONT_BLOCK_RULES = tuple(
    r
    for r in HEADER_RULES
    if r.name
    in ("affiliation", "journal_authors", "journal_author_line", "journal_issue", "latin_line")
)
#: A keyword on a line of its own, under a bare 关键词 label.
_SHORT_TERM = re.compile(r"^[^。！？，；：,;:]{1,24}$")
_TRAILER_NO_LINKS = tuple(r for r in TRAILER_RULES if r.name != "web_link_item")
_RELATED_HEAD = next(r for r in _WEB_RULES if r.name == "web_related").regex

#: Every body rule is anchored at the line start, so one ``match`` of their union rejects most
#: lines.
_BODY_ANY = re.compile("|".join(f"(?:{r.pattern})" for r in BODY_RULES))

_NOTICE = re.compile(r"^.{0,80}?(?:印发|转发|颁布|发布)\s*《(.+?)》\s*的\s*(?:通知|函)$")

# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------

AUDIT_COLUMNS = ["doc_id", "line", "part", "rule", "action", "text"]
JOIN_COLUMNS = ["doc_id", "line", "joined_line", "rule", "tail", "head"]
METADATA_COLUMNS = ["doc_id", "field", "value", "line", "rule"]
PROBLEM_COLUMNS = ["doc_id", "file", "problem"]


@dataclass(frozen=True)
class CleanDocument:
    """One cleaned document: its cleaned text, units and everything cleanup took out or changed.

    The tables are kept as rows and turned into DataFrames on access, so that cleaning many
    documents builds one DataFrame per table instead of four per document.
    """

    doc_id: str
    text: str
    unit_rows: tuple[dict, ...]
    audit_rows: tuple[dict, ...]
    join_rows: tuple[dict, ...]
    metadata_rows: tuple[dict, ...]
    summary: dict

    @property
    def units(self) -> pd.DataFrame:
        """Paragraph- and sentence-level units (see :func:`blocks_to_units`)."""
        return pd.DataFrame(list(self.unit_rows), columns=UNIT_COLUMNS)

    @property
    def audit(self) -> pd.DataFrame:
        """Every raw line taken out of the body, with the rule that took it out (and the title
        line)."""
        return pd.DataFrame(list(self.audit_rows), columns=AUDIT_COLUMNS)

    @property
    def joins(self) -> pd.DataFrame:
        """Every repaired line break."""
        return pd.DataFrame(list(self.join_rows), columns=JOIN_COLUMNS)

    @property
    def metadata(self) -> pd.DataFrame:
        """Metadata read off the removed lines."""
        return pd.DataFrame(list(self.metadata_rows), columns=METADATA_COLUMNS)


@dataclass(frozen=True)
class CleanResult:
    """The cleanup of a set of documents, as tables over all of them."""

    documents: tuple[CleanDocument, ...]
    units: pd.DataFrame
    audit: pd.DataFrame
    joins: pd.DataFrame
    metadata: pd.DataFrame
    summary: pd.DataFrame
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))

    @property
    def sentences(self) -> pd.DataFrame:
        """Sentence-level units: the title, the headings and every sentence of the body."""
        return self.units[self.units["level"] == "sentence"].reset_index(drop=True)

    @property
    def paragraphs(self) -> pd.DataFrame:
        """Paragraph-level units: the title, the headings and every paragraph of the body."""
        return self.units[self.units["level"] == "paragraph"].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# The document pass
# --------------------------------------------------------------------------------------------------


def _match(rules: Iterable[Rule], key: str) -> tuple[Rule, re.Match] | None:
    for rule in rules:
        m = rule.regex.search(key)
        if m:
            return rule, m
    return None


def _rule_value(rule: Rule, m: re.Match, line: str) -> str:
    if rule.name == "byline":
        return (m.group(1) or m.group(2) or line).strip()
    if rule.field in ("date", "print_date"):
        d = re.search(_DATE, m.group(0))
        if d:
            y, mo, da = d.groups()
            return f"{int(y):04d}-{int(mo):02d}-{int(da):02d}"
    value = m.group(rule.group) if rule.group else line
    return (value or line).strip()


def _compact(s: str) -> str:
    return re.sub(r"[\s《》〈〉“”\"]", "", s)


def _title_like(line: str, *, comma: bool = False) -> bool:
    """A line that could be a title: short, no sentence end, no heading marker, no comma unless
    ``comma`` (a web headline with a comma or a final ？！, known as the title because page
    furniture follows it)."""
    if comma:  # a web headline may also end with ？ or ！ (闽宁镇属于哪里？)
        line = line.rstrip("？！")
    return (
        0 < len(line) <= MAX_TITLE_CHARS
        and not _PARA_END.search(line)
        and heading_marker(line) is None
        and (comma or "，" not in line)
    )


def document_clean(text: str, doc_id: str, *, title: str | None = None) -> CleanDocument:
    """Clean one document's raw text and return its cleaned text, units, audit, joins and metadata.

    Args:
        text: the decoded raw text (line ends already ``\\n``).
        doc_id: the document's id, the first part of every unit id.
        title: the known title (from ``data/corpus.csv``); when it is missing or not found, the
            first title-like line of the header is taken.

    The steps, each recorded: (0) repair raw lines: runs of ``?`` standing for lost spaces
    (``lost_space_marks``, :func:`line_lost_spaces`), front-matter labels followed by spaces
    (:func:`line_label_colons`) and paragraphs separated only by spaces on one line
    (``space_paragraphs``, :func:`line_split_paragraphs`); (1) normalise every line
    (:func:`text_normalize`) and remove pinyin annotations (``pinyin_annotation``,
    :func:`line_strip_pinyin`); (2) take the header off the top: the longest run of leading lines
    that are title or match a :data:`HEADER_RULES` rule or are journal front matter
    (:func:`line_front_matter`), with a covering notice (``…印发《X》的通知`` up to the line ``X``)
    as one block; (3) take the trailer off the bottom (:data:`TRAILER_RULES`); (4) cut a dateline
    or byline off the first paragraph (:func:`line_lead`); drop body lines matching
    :data:`BODY_RULES` or front matter (the abstract's text stays, labelled ``摘要``), the title
    repeated on a page (``title_repeat``) and running headers or footers (a short line without a
    sentence end repeated at least :data:`RUNNING_HEADER_MIN` times, ``running_header``); (5) split
    lines where a heading follows a sentence end on the same line, or a ``一、`` heading runs into
    its first ``（一）`` (lost paragraph breaks); (6) rejoin lines split by page breaks
    (:func:`lines_join`); (7) build the structure (:func:`blocks_to_units`).
    """
    raw_lines = text.split("\n")
    audit: list[dict] = []
    metadata: list[dict] = []
    removed_cjk = 0
    pending: tuple[str, bool] | None = None  # a front-matter value that goes on on the next line

    # ---- raw lines: lost spaces, paragraphs separated by spaces ---------------------------------
    # ``pieces`` are the physical lines the rest works on; ``line_of`` maps each to its raw line.
    pieces: list[str] = []
    line_of: list[int] = []
    for n, raw in enumerate(raw_lines, start=1):
        if not _RAW_WORK.search(raw):  # most lines: nothing to repair
            pieces.append(raw)
            line_of.append(n)
            continue
        fixed, runs = line_lost_spaces(raw)
        fixed = line_label_colons(fixed)
        if runs:
            audit.append(
                {
                    "doc_id": doc_id,
                    "line": n,
                    "part": "text",
                    "rule": "lost_space_marks",
                    "action": f"replaced {len(runs)} by spaces",
                    "text": " ".join(runs),
                }
            )
        parts = line_split_paragraphs(fixed)
        if len(parts) > 1:
            audit.append(
                {
                    "doc_id": doc_id,
                    "line": n,
                    "part": "text",
                    "rule": "space_paragraphs",
                    "action": f"split into {len(parts)} paragraphs",
                    "text": raw,
                }
            )
        pieces.extend(parts)
        line_of.extend([n] * len(parts))

    norm = [text_normalize(p) for p in pieces]
    joined = "\n".join(norm)
    annotated = _PINYIN_ANNOTATION.search(joined) is not None
    mirror = annotated and text_pinyin_mirror(joined)
    n_pinyin = 0
    for k, line in enumerate(norm if annotated else ()):
        stripped, gone = line_strip_pinyin(line, mirror=mirror)
        if gone:
            norm[k] = stripped
            n_pinyin += len(gone)
            audit.append(
                {
                    "doc_id": doc_id,
                    "line": line_of[k],
                    "part": "text",
                    "rule": "pinyin_annotation",
                    "action": f"removed {len(gone)}",
                    "text": "".join(gone),
                }
            )
    nonblank = [k for k, line in enumerate(norm) if line]
    # the simplified-script copy every rule matches, converted in one call
    keys = text_simplify("\n".join(norm)).split("\n")
    if len(keys) != len(norm):
        keys = [text_simplify(line) for line in norm]
    raw_cjk = text_count_cjk(
        "\n".join(norm)
    )  # normalisation and pinyin removal keep every ideograph

    def drop(k: int, part: str, rule: str, action: str = "dropped", cut: str | None = None) -> None:
        """Record piece ``k`` (or the part ``cut`` of it) as taken out of the body."""
        nonlocal removed_cjk
        removed = norm[k] if cut is None else cut
        if action == "dropped" or cut is not None:
            removed_cjk += text_count_cjk(removed)
        audit.append(
            {
                "doc_id": doc_id,
                "line": line_of[k],
                "part": part,
                "rule": rule,
                "action": action,
                "text": pieces[k] if cut is None else cut,
            }
        )

    def meta(field_: str, value: str, k: int, rule: str) -> None:
        if value:
            metadata.append(
                {
                    "doc_id": doc_id,
                    "field": field_,
                    "value": value,
                    "line": line_of[k],
                    "rule": rule,
                }
            )

    def front_matter(k: int, part: str, segments: list[tuple[str, int, int, int]]) -> list[str]:
        """Drop the front-matter segments of piece ``k``; return the abstract texts kept."""
        nonlocal pending
        kept_texts = []
        line = norm[k]
        whole = len(segments) == 1
        pending = None
        for label, s, v, e in segments:
            rule, field_ = _front_matter_rule(label)
            value = line[v:e].strip(" ；;")
            if rule == "journal_abstract":
                drop(k, part, rule, "label removed", cut=line[s:v])
                if value:
                    kept_texts.append(value)
                else:
                    pending = (ABSTRACT_LABEL, False)  # 摘要 alone: the abstract is the next line
                continue
            drop(k, part, rule, cut=None if whole else line[s:e])
            if field_:
                meta(field_, value, k, rule)
            # a value that is missing (a label alone on its line) or breaks off (作者简介：某某，)
            # goes on on the next line; keywords alone may come one per line
            if not value:
                pending = (rule, rule == "journal_keywords")
            elif value[-1] in "，、：,:":
                pending = (rule, False)
        return kept_texts

    def continuation(k: int, part: str) -> bool:
        """Drop piece ``k`` when it continues the front-matter line before it (see front_matter)."""
        nonlocal pending
        if pending is None:
            return False
        rule, many = pending
        if rule == ABSTRACT_LABEL:
            return False  # handled by the body loop: the line is kept, labelled
        if many and not _SHORT_TERM.match(norm[k]):
            pending = None
            return False
        drop(k, part, rule)
        if not many:
            pending = None
        return True

    def _furniture_follows(pos: int) -> bool:
        """The line after ``nonblank[pos]`` is header furniture (a date, byline or share line)."""
        if pos + 1 >= len(nonblank):
            return False
        nxt = nonblank[pos + 1]
        return _match(HEADER_RULES, keys[nxt]) is not None or bool(
            _SPACED_NAMES.match(text_simplify(_SPACES.sub(" ", pieces[nxt]).strip()))
        )

    # ---- header ------------------------------------------------------------------------------
    want = _compact(text_normalize(title)) if title else ""
    title_idx: int | None = None
    skip_until = -1
    body_start = len(nonblank)
    for pos, i in enumerate(nonblank):
        if i <= skip_until:
            continue
        line = norm[i]
        key = keys[i]
        if title_idx is None and want and _compact(line) == want:
            title_idx = i
            continue
        if title_idx is not None and _compact(line) == _compact(norm[title_idx]):
            drop(i, "header", "title_repeat")
            continue
        notice = _NOTICE.match(key)
        if notice and title_idx is None:
            attached = _compact(notice.group(1))
            later = [j for j in nonblank[pos + 1 : pos + 60] if _compact(keys[j]) == attached]
            if later:
                end = later[0]
                meta("notice_title", line, i, "covering_notice")
                for j in nonblank[pos:]:
                    if j >= end:
                        break
                    drop(j, "header", "covering_notice")
                    hit = _match(HEADER_RULES, keys[j])
                    if hit and hit[0].field and j != i:
                        f = {"date": "signing_date", "issuer": "notice_issuer"}.get(
                            hit[0].field, hit[0].field
                        )
                        meta(f, _rule_value(hit[0], hit[1], norm[j]), j, "covering_notice")
                title_idx = end
                skip_until = end
                continue
        segments = line_front_matter(key) if len(key) == len(line) else None
        if segments is None and continuation(i, "header"):
            continue
        if segments is not None:
            if _has_abstract(segments):
                body_start = pos  # the abstract is the first body text
                break
            front_matter(i, "header", segments)
            continue
        hit = _match(HEADER_RULES, key)
        if hit is None and _SPACED_NAMES.match(text_simplify(_SPACES.sub(" ", pieces[i]).strip())):
            hit = (_SPACED_NAMES_RULE, None)
        if hit:
            rule, m = hit
            drop(i, "header", rule.name)
            if rule.field:
                value = (
                    _SPACES.sub(" ", pieces[i]).strip() if m is None else _rule_value(rule, m, line)
                )
                meta(rule.field, value, i, rule.name)
            continue
        comma = ("，" in line or line[-1:] in "？！") and _furniture_follows(pos)
        if title_idx is None and not want and _title_like(line, comma=comma):
            title_idx = i
            continue
        if title_idx is not None and _title_like(line, comma=True) and _furniture_follows(pos):
            if not want and norm[title_idx].endswith("—"):  # 引题 ending in ——, then the headline
                drop(title_idx, "header", "kicker")
                meta("kicker", norm[title_idx], title_idx, "kicker")
                title_idx = i
                continue
            drop(i, "header", "subtitle")  # a kicker or subtitle by the title, furniture below
            meta("subtitle", line, i, "subtitle")
            continue
        if (
            title_idx is None
            and want
            and _title_like(line)
            and not any(_compact(norm[j]) == want for j in nonblank[pos + 1 :])
        ):
            title_idx = i  # the known title is not in the text: take the first title-like line
            meta("title_mismatch", line, i, "title")
            continue
        body_start = pos
        break

    # ---- trailer -----------------------------------------------------------------------------
    body_idx = nonblank[body_start:]
    while body_idx:
        i = body_idx[-1]
        key = keys[i]
        segments = line_front_matter(key) if len(key) == len(norm[i]) else None
        if segments is not None and not _has_abstract(segments):
            front_matter(i, "trailer", segments)
            body_idx.pop()
            continue
        hit = _match(TRAILER_RULES, key)
        if (
            hit
            and hit[0].name == "web_link_item"
            and not any(_RELATED_HEAD.search(keys[j]) for j in body_idx[-16:-1])
        ):
            # a list item is a related link only under a related-links heading
            hit = _match(_TRAILER_NO_LINKS, key)
        if not hit:
            break
        rule, m = hit
        drop(i, "trailer", rule.name)
        if rule.field:
            meta(rule.field, _rule_value(rule, m, norm[i]), i, rule.name)
        body_idx.pop()

    # ---- dateline or byline at the start of the first paragraph --------------------------------
    for i in list(body_idx[:3]):
        lead = line_lead(pieces[i]) if heading_marker(norm[i]) is None else None
        if lead is None:
            break
        rule, prefix = lead
        rest = text_normalize(pieces[i][len(prefix) :])
        rest, gone = line_strip_pinyin(rest, mirror=mirror)
        cut = text_normalize(prefix)
        meta("dateline" if rule == "dateline" else "author", cut, i, rule)
        if not rest:
            drop(i, "body", rule)
            body_idx.remove(i)
            continue
        drop(i, "body", rule, "cut", cut=cut)
        norm[i], keys[i] = rest, text_simplify(rest)
        break

    # ---- body lines ----------------------------------------------------------------------------
    kept: list[tuple[int, str] | tuple[int, str, str]] = []
    repeats = Counter(norm[i] for i in body_idx)
    title_key = _compact(norm[title_idx]) if title_idx is not None else None
    after_front = False
    pending = None
    for n_line, i in enumerate(body_idx):
        key = keys[i]
        if n_line < KEYWORD_LIST_MAX_LINE and _KEYWORD_LIST.match(key):
            drop(i, "body", "journal_keywords")  # keywords without their label, under the abstract
            meta("keywords", norm[i], i, "journal_keywords")
            continue
        segments = line_front_matter(key) if len(key) == len(norm[i]) else None
        if segments is None and pending and pending[0] == ABSTRACT_LABEL:
            kept.append((line_of[i] - 1, norm[i], ABSTRACT_LABEL))
            pending, after_front = None, True
            continue
        if segments is None and continuation(i, "body"):
            after_front = True
            continue
        if segments is not None:
            for abstract in front_matter(i, "body", segments):
                kept.append((line_of[i] - 1, abstract, ABSTRACT_LABEL))
            after_front = True
            continue
        if after_front and (block := _match(_FRONT_BLOCK_RULES, key)):
            drop(i, "body", block[0].name)  # author and affiliation lines among the front matter
            continue
        after_front = False
        hit = _match(BODY_RULES, key) if _BODY_ANY.match(key) else None
        if hit:
            drop(i, "body", hit[0].name)
            if hit[0].field:
                meta(hit[0].field, _rule_value(hit[0], hit[1], norm[i]), i, hit[0].name)
            continue
        if title_key and _compact(norm[i]) == title_key:
            drop(i, "body", "title_repeat")  # the title repeated at the top of a page
            continue
        if repeats[norm[i]] >= RUNNING_HEADER_MIN and _title_like(norm[i]):
            drop(i, "body", "running_header")  # the same short line on every page
            continue
        if "[" in norm[i] and not norm[i].startswith("["):  # citation markers: 密切。[3-4]新疆…
            marks = _CITATION_MARK.findall(norm[i])
            if marks:
                audit.append(
                    {
                        "doc_id": doc_id,
                        "line": line_of[i],
                        "part": "body",
                        "rule": "citation_marker",
                        "action": f"removed {len(marks)}",
                        "text": "".join(marks),
                    }
                )
                norm[i] = _CITATION_MARK.sub("", norm[i])
        if "版" in norm[i] and (jumps := _PAGE_JUMP.findall(norm[i])):  # e-paper: （下转02版）
            for jump in jumps:
                drop(i, "body", "page_jump", "cut", cut=jump)
            norm[i] = _PAGE_JUMP.sub("", norm[i]).strip()
            if not norm[i]:
                continue
        if "图为" in norm[i]:  # a photo caption inside a paragraph: 图为…。 after a sentence
            captions = _INLINE_CAPTION.findall(norm[i])
            for cap in captions:
                drop(i, "body", "photo_caption", "cut", cut=cap)
            norm[i] = _INLINE_CAPTION.sub("", norm[i])
            if not norm[i]:
                continue
        for piece in _INLINE_HEADING.split(norm[i]):
            first_child = _FIRST_CHILD.match(piece)
            if first_child:  # 一、标题（一）… : a heading glued to its first sub-heading
                kept.append((line_of[i] - 1, first_child.group(1)))
                piece = piece[first_child.end(1) :]
            if piece:
                kept.append((line_of[i] - 1, piece))
    if title_idx is not None:
        audit.append(
            {
                "doc_id": doc_id,
                "line": line_of[title_idx],
                "part": "header",
                "rule": "title",
                "action": "kept as title",
                "text": pieces[title_idx],
            }
        )
        meta("title", norm[title_idx], title_idx, "title")

    blocks, joins = lines_join(kept, doc_id)
    title_text = norm[title_idx] if title_idx is not None else None
    title_line = line_of[title_idx] if title_idx is not None else 1
    unit_rows, clean_text = _units_build(blocks, doc_id, title=title_text, title_line=title_line)

    audit.sort(key=lambda r: r["line"])
    metadata.sort(key=lambda r: (r["line"], r["field"]))
    clean_cjk = text_count_cjk(clean_text)
    kinds = Counter((r["level"], r["kind"]) for r in unit_rows)
    dropped_lines = {(r["part"], r["line"]) for r in audit if r["action"] == "dropped"}
    parts = Counter(part for part, _ in dropped_lines)
    summary = {
        "doc_id": doc_id,
        "raw_lines": len(raw_lines),
        "raw_nonblank_lines": len({line_of[k] for k in nonblank}),
        "raw_chars": len(_WHITESPACE.sub("", text)),
        "header_lines": parts["header"],
        "trailer_lines": parts["trailer"],
        "body_lines_dropped": parts["body"],
        "lines_joined": len(joins),
        "headings": kinds[("paragraph", "heading")],
        "paragraphs": kinds[("paragraph", "text")],
        "sentences": kinds[("sentence", "text")],
        "clean_chars": len(_WHITESPACE.sub("", clean_text)),
        "raw_cjk": raw_cjk,
        "clean_cjk": clean_cjk,
        "audit_cjk": removed_cjk,
        "unaccounted_cjk": raw_cjk - clean_cjk - removed_cjk,
        "pinyin_removed": n_pinyin,
    }
    return CleanDocument(
        doc_id=doc_id,
        text=clean_text,
        unit_rows=tuple(unit_rows),
        audit_rows=tuple(audit),
        join_rows=tuple(joins),
        metadata_rows=tuple(metadata),
        summary=summary,
    )


# --------------------------------------------------------------------------------------------------
# Corpus level
# --------------------------------------------------------------------------------------------------


def _document_clean_safe(item: tuple[str, str, str | None]) -> CleanDocument | dict:
    """Clean one ``(doc_id, text, title)`` triple; return the document or a problem record."""
    doc_id, text, title = item
    try:
        return document_clean(text, doc_id, title=title)
    except Exception as exc:
        return {"doc_id": doc_id, "file": "", "problem": f"{doc_id}: cleanup failed: {exc!r}"}


def documents_clean(
    documents: Iterable[tuple[str, str, str | None]],
    *,
    problems: pd.DataFrame | None = None,
    progress: bool = False,
    engine: str = "serial",
) -> CleanResult:
    """Clean ``(doc_id, text, title)`` triples and return the combined tables.

    A document whose cleanup fails is reported in ``problems`` and the others still run.
    ``engine="dask"`` cleans the documents on a local Dask cluster (:mod:`helpers.parallel`); the
    result is identical to the serial one.
    """
    from helpers.parallel import documents_map

    results = documents_map(
        _document_clean_safe, documents, engine=engine, progress=progress, desc="cleanup"
    )
    docs: list[CleanDocument] = [r for r in results if isinstance(r, CleanDocument)]
    extra: list[dict] = [r for r in results if isinstance(r, dict)]
    probs = pd.concat(
        [
            p
            for p in (problems, pd.DataFrame(extra, columns=PROBLEM_COLUMNS))
            if p is not None and len(p)
        ]
        or [pd.DataFrame(columns=PROBLEM_COLUMNS)],
        ignore_index=True,
    )

    def cat(name: str, columns: list[str]) -> pd.DataFrame:
        return pd.DataFrame([r for d in docs for r in getattr(d, name)], columns=columns)

    return CleanResult(
        documents=tuple(docs),
        units=cat("unit_rows", UNIT_COLUMNS),
        audit=cat("audit_rows", AUDIT_COLUMNS),
        joins=cat("join_rows", JOIN_COLUMNS),
        metadata=cat("metadata_rows", METADATA_COLUMNS),
        summary=pd.DataFrame([d.summary for d in docs]),
        problems=probs,
    )


def corpus_clean(
    corpus_table: str | Path = paths.CORPUS_TABLE,
    raw_dir: str | Path = paths.RAW,
    *,
    progress: bool = False,
    engine: str = "serial",
) -> CleanResult:
    """Read the corpus table and its documents and clean them all (titles from the table).

    Unreadable documents, rows without files and files without rows end up in ``problems``; the
    other documents are cleaned. The encoding of each document is added to the summary.
    """
    from helpers import corpus

    table = corpus.corpus_read_table(corpus_table)
    docs, problems = corpus.corpus_read(table, raw_dir)
    titles = dict(zip(table["doc_id"], table["title"]))
    result = documents_clean(
        ((d.doc_id, d.text, titles.get(d.doc_id) or None) for d in docs),
        problems=problems,
        progress=progress,
        engine=engine,
    )
    result = corpus.documents_reading_merge(result, docs)  # web pages: page metadata, furniture
    enc = {d.doc_id: d.encoding for d in docs}
    if len(result.summary):
        result.summary.insert(1, "encoding", result.summary["doc_id"].map(enc))
    return result


def files_clean(files: Sequence[str | Path]) -> CleanResult:
    """Clean arbitrary files (any supported format); doc ids are the file stems.

    Used by ``python -m helpers clean``; titles are inferred from the text.
    """
    from helpers import corpus

    triples, problems, docs = [], [], []
    seen: dict[str, int] = {}
    for f in files:
        stem = re.sub(r"[^A-Za-z0-9_\-\u4e00-\u9fff]+", "_", Path(f).stem) or "doc"
        seen[stem] = seen.get(stem, 0) + 1
        doc_id = stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"
        try:
            doc = corpus.document_read(f, doc_id=doc_id)
        except corpus.DocumentError as exc:
            problems.append({"doc_id": doc_id, "file": str(f), "problem": str(exc)})
            continue
        triples.append((doc_id, doc.text, None))
        docs.append(doc)
    result = documents_clean(triples, problems=pd.DataFrame(problems, columns=PROBLEM_COLUMNS))
    return corpus.documents_reading_merge(result, docs)  # web pages: page metadata, furniture


def clean_write(
    result: CleanResult,
    processed_dir: str | Path = paths.PROCESSED,
    tables_dir: str | Path = paths.TABLES,
) -> dict[str, Path]:
    """Write the cleanup's products and return their paths by name.

    ``processed_dir``: ``units_sentence.csv``, ``units_paragraph.csv`` and ``clean/<doc_id>.txt``.
    ``tables_dir``: ``cleanup_summary.csv``, ``cleanup_audit.csv``, ``cleanup_joins.csv``,
    ``cleanup_metadata.csv`` and ``cleanup_problems.csv``.
    """
    processed, tables = path_resolve(processed_dir), path_resolve(tables_dir)
    out = {
        "units_sentence": table_write(result.sentences, processed / "units_sentence.csv"),
        "units_paragraph": table_write(result.paragraphs, processed / "units_paragraph.csv"),
        "summary": table_write(result.summary, tables / "cleanup_summary.csv"),
        "audit": table_write(result.audit, tables / "cleanup_audit.csv"),
        "joins": table_write(result.joins, tables / "cleanup_joins.csv"),
        "metadata": table_write(result.metadata, tables / "cleanup_metadata.csv"),
        "problems": table_write(result.problems, tables / "cleanup_problems.csv"),
    }
    clean_dir = processed / "clean"
    clean_dir.mkdir(parents=True, exist_ok=True)
    for doc in result.documents:
        p = clean_dir / f"{doc.doc_id}.txt"
        p.write_text(doc.text, encoding="utf-8", newline="\n")
        out[f"clean_{doc.doc_id}"] = p
    return out


def units_tree(units: pd.DataFrame, doc_id: str | None = None) -> str:
    """Return the heading structure as an indented text tree with paragraph and sentence counts.

    For reading in the notebook: one line per title or heading, ``[unit id] text (P paragraphs,
    S sentences)``, the counts covering the text directly under that heading.
    """
    u = units if doc_id is None else units[units["doc_id"] == doc_id]
    paras = u[u["level"] == "paragraph"]
    sents = u[(u["level"] == "sentence") & (u["kind"] == "text")]
    sent_count = sents.groupby(sents["parent_id"]).size()
    lines = []
    for _, row in paras.iterrows():
        if row["kind"] == "text":
            continue
        kids = paras[(paras["parent_id"] == row["unit_id"]) & (paras["kind"] == "text")]
        n_s = int(sum(sent_count.get(pid, 0) for pid in kids["unit_id"]))
        indent = "  " * int(row["heading_level"])
        lines.append(f"{indent}[{row['unit_id']}] {row['text']}  ({len(kids)} ¶, {n_s} sentences)")
    return "\n".join(lines)


def metadata_compare(table: pd.DataFrame, metadata: pd.DataFrame) -> pd.DataFrame:
    """Compare the corpus table's ``date`` and ``doc_number`` with what cleanup read off the text.

    Returns doc_id, field, table_value, text_value and agree, so a wrong row in ``corpus.csv`` (or a
    wrong rule) shows up. For ``date`` the text's signing date counts when there is one.
    """
    rows = []
    for _, row in table.iterrows():
        m = metadata[metadata["doc_id"] == row["doc_id"]]
        for fld, candidates in (
            ("date", ("signing_date", "date")),
            ("doc_number", ("doc_number",)),
        ):
            found = [v for c in candidates for v in m.loc[m["field"] == c, "value"]]
            text_value = found[0] if found else ""
            table_value = str(row.get(fld, "") or "")
            rows.append(
                {
                    "doc_id": row["doc_id"],
                    "field": fld,
                    "table_value": table_value,
                    "text_value": text_value,
                    "agree": bool(text_value) and _compact(text_value) == _compact(table_value),
                }
            )
    return pd.DataFrame(rows, columns=["doc_id", "field", "table_value", "text_value", "agree"])
