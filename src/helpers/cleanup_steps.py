"""The steps of cleaning one document, over a :class:`_DocumentPass` recording what they remove.

:func:`helpers.cleanup.document_clean` runs them in order: raw-line repair
(:func:`_pieces_repair`), normalisation (:func:`_pieces_normalise`), header (:func:`_header_take`),
trailer (:func:`_trailer_take`), dateline or byline (:func:`_lead_cut`), body lines
(:func:`_body_lines`) and the summary row (:func:`_summary`). Each step records every line or
part of a line it removes, with its rule, through :meth:`_DocumentPass.drop`; the rules themselves
are in :mod:`helpers.cleanup_rules`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from helpers.cleanup_rules import (
    _DATE,
    _SPACED_NAMES,
    _SPACED_NAMES_RULE,
    _WEB_RULES,
    BODY_RULES,
    HEADER_RULES,
    TRAILER_RULES,
    CleanupRule,
)
from helpers.lines import (
    _PINYIN_ANNOTATION,
    _PINYIN_HINT,
    _front_matter_rule,
    _has_abstract,
    line_front_matter,
    line_label_colons,
    line_lead,
    line_lost_spaces,
    line_split_paragraphs,
    line_strip_pinyin,
    text_lines_to_repair,
    text_pinyin_mirror,
)
from helpers.text import (
    _SPACES,
    CJK_IDEOGRAPH,
    text_count_cjk,
    text_normalize,
    text_simplify,
)
from helpers.units import (
    _FIRST_CHILD,
    _INLINE_HEADING,
    _INLINE_HEADING_HINT,
    MAX_TITLE_CHARS,
    heading_marker,
    text_ends_clause,
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

#: A character that no line of names separated by spaces has, in either script (a quick test).
_NOT_IN_NAMES = re.compile(
    rf"[^{CJK_IDEOGRAPH}\U00020000-\U0002fa1f\u2e80-\u2fdf\u3000-\u303f\d* ,，、;；]"
)
_NOTICE = re.compile(r"^.{0,80}?(?:印发|转发|颁布|发布)\s*《(.+?)》\s*的\s*(?:通知|函)$")


# --------------------------------------------------------------------------------------------------
# The document pass
# --------------------------------------------------------------------------------------------------


def _match(rules: Iterable[CleanupRule], key: str) -> tuple[CleanupRule, re.Match] | None:
    for rule in rules:
        m = rule.regex.search(key)
        if m:
            return rule, m
    return None


def _rule_value(rule: CleanupRule, m: re.Match, line: str) -> str:
    if rule.name == "byline":
        return (m.group(1) or m.group(2) or line).strip()
    if rule.field in ("date", "print_date"):
        d = re.search(_DATE, m.group(0))
        if d:
            y, mo, da = d.groups()
            return f"{int(y):04d}-{int(mo):02d}-{int(da):02d}"
    value = m.group(rule.group) if rule.group else line
    return (value or line).strip()


_NOT_COMPARED = re.compile(r"[\s《》〈〉“”\"]")


def _compact(s: str) -> str:
    return _NOT_COMPARED.sub("", s)


def _compacts_to(s: str, compact: str) -> bool:
    """``_compact(s) == compact``, without the regex where it cannot be: ``compact`` keeps
    characters of ``s`` in order, so ``s`` is at least as long and holds its last character."""
    if compact and (len(s) < len(compact) or compact[-1] not in s):
        return False
    return _compact(s) == compact


def _title_like(line: str, *, comma: bool = False) -> bool:
    """A line that could be a title: short, no sentence end, no heading marker, no comma unless
    ``comma`` (a web headline with a comma or a final ？！, known as the title because page
    furniture follows it)."""
    if comma:  # a web headline may also end with ？ or ！ (闽宁镇属于哪里？)
        line = line.rstrip("？！")
    return (
        0 < len(line) <= MAX_TITLE_CHARS
        and not text_ends_clause(line)
        and heading_marker(line) is None
        and (comma or "，" not in line)
    )


@dataclass
class _DocumentPass:
    """One document on its way through cleanup: its lines and the record of what was taken out.

    ``pieces`` are the physical lines every step works on (raw lines after the raw-line repairs),
    ``line_of`` the raw line number of each, ``norm`` their normalised form and ``keys`` the
    simplified-script copies the rules match. Every step records what it removes through
    :meth:`drop` and :meth:`meta`, so nothing leaves the body unrecorded.
    """

    doc_id: str
    pieces: list[str]
    line_of: list[int]
    audit: list[dict]
    norm: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    metadata: list[dict] = field(default_factory=list)
    removed_cjk: int = 0
    #: a front-matter value that goes on on the next line: (rule, one keyword per line)
    pending: tuple[str, bool] | None = None

    def record(self, k: int, part: str, rule: str, action: str, text: str) -> None:
        """Add an audit row for piece ``k``."""
        self.audit.append(
            {
                "doc_id": self.doc_id,
                "line": self.line_of[k],
                "part": part,
                "rule": rule,
                "action": action,
                "text": text,
            }
        )

    def drop(
        self, k: int, part: str, rule: str, action: str = "dropped", cut: str | None = None
    ) -> None:
        """Record piece ``k`` (or the part ``cut`` of it) as taken out of the body."""
        if action == "dropped" or cut is not None:
            self.removed_cjk += text_count_cjk(self.norm[k] if cut is None else cut)
        self.record(k, part, rule, action, self.pieces[k] if cut is None else cut)

    def meta(self, field_: str, value: str, k: int, rule: str) -> None:
        """Record a metadata value read off piece ``k``."""
        if value:
            self.metadata.append(
                {
                    "doc_id": self.doc_id,
                    "field": field_,
                    "value": value,
                    "line": self.line_of[k],
                    "rule": rule,
                }
            )

    def front_matter(
        self, k: int, part: str, segments: list[tuple[str, int, int, int]]
    ) -> list[str]:
        """Drop the front-matter segments of piece ``k``; return the abstract texts kept."""
        kept_texts = []
        line = self.norm[k]
        whole = len(segments) == 1
        self.pending = None
        for label, s, v, e in segments:
            rule, field_ = _front_matter_rule(label)
            value = line[v:e].strip(" ；;")
            if rule == "journal_abstract":
                self.drop(k, part, rule, "label removed", cut=line[s:v])
                if value:
                    kept_texts.append(value)
                else:
                    self.pending = (ABSTRACT_LABEL, False)  # 摘要 alone: the abstract follows
                continue
            self.drop(k, part, rule, cut=None if whole else line[s:e])
            if field_:
                self.meta(field_, value, k, rule)
            # a value that is missing (a label alone on its line) or breaks off (作者简介：某某，)
            # goes on on the next line; keywords alone may come one per line
            if not value:
                self.pending = (rule, rule == "journal_keywords")
            elif value[-1] in "，、：,:":
                self.pending = (rule, False)
        return kept_texts

    def continuation(self, k: int, part: str) -> bool:
        """Drop piece ``k`` when it continues the front-matter line before it."""
        if self.pending is None:
            return False
        rule, many = self.pending
        if rule == ABSTRACT_LABEL:
            return False  # handled by the body step: the line is kept, labelled
        if many and not _SHORT_TERM.match(self.norm[k]):
            self.pending = None
            return False
        self.drop(k, part, rule)
        if not many:
            self.pending = None
        return True

    def segments(self, k: int) -> list[tuple[str, int, int, int]] | None:
        """The front-matter segments of piece ``k`` (see :func:`line_front_matter`)."""
        key = self.keys[k]
        return line_front_matter(key) if len(key) == len(self.norm[k]) else None

    def spaced_names(self, k: int) -> bool:
        """Piece ``k`` is author names separated only by spaces (王园 张仪华), on the raw line."""
        line = _SPACES.sub(" ", self.pieces[k]).strip()
        if _NOT_IN_NAMES.search(line):  # a letter or punctuation: no need to convert the script
            return False
        return bool(_SPACED_NAMES.match(text_simplify(line)))


def _pieces_repair(text: str, doc_id: str) -> _DocumentPass:
    """Step 0: repair raw lines (lost spaces, label colons, paragraphs separated by spaces)."""
    raw_lines = text.split("\n")
    work = text_lines_to_repair(text)  # most lines need no repair
    if not work:
        return _DocumentPass(doc_id, raw_lines, list(range(1, len(raw_lines) + 1)), [])
    p = _DocumentPass(doc_id, [], [], [])
    done = 0
    for k in work:
        p.pieces.extend(raw_lines[done:k])
        p.line_of.extend(range(done + 1, k + 1))
        done = k + 1
        raw = raw_lines[k]
        fixed, runs = line_lost_spaces(raw)
        fixed = line_label_colons(fixed)
        parts = line_split_paragraphs(fixed)
        p.pieces.extend(parts)
        p.line_of.extend([k + 1] * len(parts))
        last = len(p.pieces) - 1
        if runs:
            p.record(
                last, "text", "lost_space_marks", f"replaced {len(runs)} by spaces", " ".join(runs)
            )
        if len(parts) > 1:
            p.record(last, "text", "space_paragraphs", f"split into {len(parts)} paragraphs", raw)
    p.pieces.extend(raw_lines[done:])
    p.line_of.extend(range(done + 1, len(raw_lines) + 1))
    return p


def _pieces_normalise(p: _DocumentPass) -> tuple[bool, int]:
    """Step 1: normalise every piece and strip pinyin annotations; return (mirror, n removed)."""
    p.norm = text_normalize("\n".join(p.pieces)).split("\n")
    joined = "\n".join(p.norm)
    annotated = bool(_PINYIN_HINT.search(joined)) and bool(_PINYIN_ANNOTATION.search(joined))
    mirror = annotated and text_pinyin_mirror(joined)
    n_pinyin = 0
    for k, line in enumerate(p.norm if annotated else ()):
        stripped, gone = line_strip_pinyin(line, mirror=mirror)
        if gone:
            p.norm[k] = stripped
            n_pinyin += len(gone)
            p.record(k, "text", "pinyin_annotation", f"removed {len(gone)}", "".join(gone))
    # the simplified-script copy every rule matches, converted in one call
    p.keys = text_simplify("\n".join(p.norm)).split("\n")
    if len(p.keys) != len(p.norm):
        p.keys = [text_simplify(line) for line in p.norm]
    return mirror, n_pinyin


def _furniture_follows(p: _DocumentPass, nonblank: list[int], pos: int) -> bool:
    """The line after ``nonblank[pos]`` is header furniture (a date, byline or share line)."""
    if pos + 1 >= len(nonblank):
        return False
    nxt = nonblank[pos + 1]
    return _match(HEADER_RULES, p.keys[nxt]) is not None or p.spaced_names(nxt)


def _covering_notice(p: _DocumentPass, nonblank: list[int], pos: int) -> int | None:
    """Drop a covering notice (…印发《X》的通知 down to the line X); return X's piece or None."""
    i = nonblank[pos]
    key = p.keys[i]
    # _NOTICE ends in 通知 or 函 (a key has no line end): most lines are rejected without the regex
    notice = _NOTICE.match(key) if key.endswith(("通知", "函")) else None
    if notice is None:
        return None
    attached = _compact(notice.group(1))
    end = next((j for j in nonblank[pos + 1 : pos + 60] if _compacts_to(p.keys[j], attached)), None)
    if end is None:
        return None
    p.meta("notice_title", p.norm[i], i, "covering_notice")
    for j in nonblank[pos:]:
        if j >= end:
            break
        p.drop(j, "header", "covering_notice")
        hit = _match(HEADER_RULES, p.keys[j]) if j != i else None
        if hit and hit[0].field:
            f = {"date": "signing_date", "issuer": "notice_issuer"}.get(hit[0].field, hit[0].field)
            p.meta(f, _rule_value(hit[0], hit[1], p.norm[j]), j, "covering_notice")
    return end


def _header_rule(p: _DocumentPass, i: int) -> bool:
    """Drop piece ``i`` when a header rule matches it (with the metadata it carries)."""
    hit = _match(HEADER_RULES, p.keys[i])
    if hit is None and p.spaced_names(i):
        hit = (_SPACED_NAMES_RULE, None)
    if hit is None:
        return False
    rule, m = hit
    p.drop(i, "header", rule.name)
    if rule.field:
        value = (
            _SPACES.sub(" ", p.pieces[i]).strip() if m is None else _rule_value(rule, m, p.norm[i])
        )
        p.meta(rule.field, value, i, rule.name)
    return True


def _header_take(
    p: _DocumentPass, nonblank: list[int], title: str | None
) -> tuple[int | None, int]:
    """Step 2: take the header off the top; return the title's piece and where the body starts.

    The body start is a position in ``nonblank``.
    """
    norm = p.norm
    want = _compact(text_normalize(title)) if title else ""
    title_idx: int | None = None
    skip_until = -1
    for pos, i in enumerate(nonblank):
        if i <= skip_until:
            continue
        line = norm[i]
        if title_idx is None and want and _compacts_to(line, want):
            title_idx = i
            continue
        if title_idx is not None and _compacts_to(line, _compact(norm[title_idx])):
            p.drop(i, "header", "title_repeat")
            continue
        if title_idx is None and (end := _covering_notice(p, nonblank, pos)) is not None:
            title_idx = skip_until = end
            continue
        segments = p.segments(i)
        if segments is None and p.continuation(i, "header"):
            continue
        if segments is not None:
            if _has_abstract(segments):
                return title_idx, pos  # the abstract is the first body text
            p.front_matter(i, "header", segments)
            continue
        if _header_rule(p, i):
            continue
        comma = ("，" in line or line[-1:] in "？！") and _furniture_follows(p, nonblank, pos)
        if title_idx is None and not want and _title_like(line, comma=comma):
            title_idx = i
            continue
        if (
            title_idx is not None
            and _title_like(line, comma=True)
            and _furniture_follows(p, nonblank, pos)
        ):
            if not want and norm[title_idx].endswith("—"):  # 引题 ending in ——, then the headline
                p.drop(title_idx, "header", "kicker")
                p.meta("kicker", norm[title_idx], title_idx, "kicker")
                title_idx = i
                continue
            p.drop(i, "header", "subtitle")  # a kicker or subtitle by the title, furniture below
            p.meta("subtitle", line, i, "subtitle")
            continue
        if (
            title_idx is None
            and want
            and _title_like(line)
            and not any(_compacts_to(norm[j], want) for j in nonblank[pos + 1 :])
        ):
            title_idx = i  # the known title is not in the text: take the first title-like line
            p.meta("title_mismatch", line, i, "title")
            continue
        return title_idx, pos
    return title_idx, len(nonblank)


def _trailer_take(p: _DocumentPass, body_idx: list[int]) -> None:
    """Step 3: take the trailer off the bottom of ``body_idx`` (changed in place)."""
    keys = p.keys
    while body_idx:
        i = body_idx[-1]
        segments = p.segments(i)
        if segments is not None and not _has_abstract(segments):
            p.front_matter(i, "trailer", segments)
            body_idx.pop()
            continue
        hit = _match(TRAILER_RULES, keys[i])
        if (
            hit
            and hit[0].name == "web_link_item"
            and not any(_RELATED_HEAD.search(keys[j]) for j in body_idx[-16:-1])
        ):
            # a list item is a related link only under a related-links heading
            hit = _match(_TRAILER_NO_LINKS, keys[i])
        if not hit:
            return
        rule, m = hit
        p.drop(i, "trailer", rule.name)
        if rule.field:
            p.meta(rule.field, _rule_value(rule, m, p.norm[i]), i, rule.name)
        body_idx.pop()


def _lead_cut(p: _DocumentPass, body_idx: list[int], mirror: bool) -> None:
    """Step 4a: cut a dateline or byline off the first paragraph (``body_idx`` changed in place)."""
    for i in list(body_idx[:3]):
        lead = line_lead(p.pieces[i]) if heading_marker(p.norm[i]) is None else None
        if lead is None:
            return
        rule, prefix = lead
        rest = text_normalize(p.pieces[i][len(prefix) :])
        rest, _ = line_strip_pinyin(rest, mirror=mirror)
        cut = text_normalize(prefix)
        p.meta("dateline" if rule == "dateline" else "author", cut, i, rule)
        if not rest:
            p.drop(i, "body", rule)
            body_idx.remove(i)
            continue
        p.drop(i, "body", rule, "cut", cut=cut)
        p.norm[i], p.keys[i] = rest, text_simplify(rest)
        return


def _inline_cut(p: _DocumentPass, i: int) -> str:
    """Cut citation markers, e-paper page jumps and inline photo captions out of body line ``i``."""
    line = p.norm[i]
    if "[" in line and not line.startswith("["):  # citation markers: 密切。[3-4]新疆…
        marks = _CITATION_MARK.findall(line)
        if marks:
            p.record(i, "body", "citation_marker", f"removed {len(marks)}", "".join(marks))
            line = _CITATION_MARK.sub("", line)
    if "版" in line and (jumps := _PAGE_JUMP.findall(line)):  # e-paper: （下转02版）
        for jump in jumps:
            p.drop(i, "body", "page_jump", "cut", cut=jump)
        line = _PAGE_JUMP.sub("", line).strip()
    if line and "图为" in line:  # a photo caption inside a paragraph: 图为…。 after a sentence
        for cap in _INLINE_CAPTION.findall(line):
            p.drop(i, "body", "photo_caption", "cut", cut=cap)
        line = _INLINE_CAPTION.sub("", line)
    p.norm[i] = line
    return line


def _body_drop(p: _DocumentPass, i: int, repeats: Counter, title_key: str | None) -> bool:
    """Drop body line ``i`` when a body rule matches, it repeats the title or is a running
    header."""
    key, line = p.keys[i], p.norm[i]
    hit = _match(BODY_RULES, key) if _BODY_ANY.match(key) else None
    if hit:
        p.drop(i, "body", hit[0].name)
        if hit[0].field:
            p.meta(hit[0].field, _rule_value(hit[0], hit[1], line), i, hit[0].name)
        return True
    if title_key and _compacts_to(line, title_key):
        p.drop(i, "body", "title_repeat")  # the title repeated at the top of a page
        return True
    if repeats[line] >= RUNNING_HEADER_MIN and _title_like(line):
        p.drop(i, "body", "running_header")  # the same short line on every page
        return True
    return False


def _body_lines(p: _DocumentPass, body_idx: list[int], title_idx: int | None) -> list[tuple]:
    """Steps 4b and 5: the body lines kept, as ``(line index, text[, label])`` for lines_join."""
    kept: list[tuple] = []
    repeats = Counter(p.norm[i] for i in body_idx)
    title_key = _compact(p.norm[title_idx]) if title_idx is not None else None
    after_front = False
    p.pending = None
    for n_line, i in enumerate(body_idx):
        key = p.keys[i]
        if n_line < KEYWORD_LIST_MAX_LINE and _KEYWORD_LIST.match(key):
            p.drop(
                i, "body", "journal_keywords"
            )  # keywords without their label, under the abstract
            p.meta("keywords", p.norm[i], i, "journal_keywords")
            continue
        segments = p.segments(i)
        if segments is None and p.pending and p.pending[0] == ABSTRACT_LABEL:
            kept.append((p.line_of[i] - 1, p.norm[i], ABSTRACT_LABEL))
            p.pending, after_front = None, True
            continue
        if segments is None and p.continuation(i, "body"):
            after_front = True
            continue
        if segments is not None:
            for abstract in p.front_matter(i, "body", segments):
                kept.append((p.line_of[i] - 1, abstract, ABSTRACT_LABEL))
            after_front = True
            continue
        if after_front and (block := _match(_FRONT_BLOCK_RULES, key)):
            p.drop(i, "body", block[0].name)  # author and affiliation lines among the front matter
            continue
        after_front = False
        if _body_drop(p, i, repeats, title_key) or not _inline_cut(p, i):
            continue
        line = p.norm[i]
        for piece in _INLINE_HEADING.split(line) if _INLINE_HEADING_HINT.search(line) else [line]:
            first_child = _FIRST_CHILD.match(piece)
            if first_child:  # 一、标题（一）… : a heading glued to its first sub-heading
                kept.append((p.line_of[i] - 1, first_child.group(1)))
                piece = piece[first_child.end(1) :]
            if piece:
                kept.append((p.line_of[i] - 1, piece))
    return kept


def _count_non_space(text: str) -> int:
    """The number of characters that are not whitespace (``str.split`` splits on ``\\s``)."""
    return len("".join(text.split()))


def _summary(
    p: _DocumentPass,
    text: str,
    nonblank: list[int],
    *,
    unit_rows: list[tuple],
    n_joins: int,
    clean_text: str,
    raw_cjk: int,
    n_pinyin: int,
) -> dict:
    """The document's row of the cleanup summary (what went where, CJK characters accounted)."""
    kinds = Counter((r[2], r[3]) for r in unit_rows)  # level, kind (see UNIT_COLUMNS)
    dropped_lines = {(r["part"], r["line"]) for r in p.audit if r["action"] == "dropped"}
    parts = Counter(part for part, _ in dropped_lines)
    clean_cjk = text_count_cjk(clean_text)
    return {
        "doc_id": p.doc_id,
        "raw_lines": text.count("\n") + 1,
        "raw_nonblank_lines": len({p.line_of[k] for k in nonblank}),
        "raw_chars": _count_non_space(text),
        "header_lines": parts["header"],
        "trailer_lines": parts["trailer"],
        "body_lines_dropped": parts["body"],
        "lines_joined": n_joins,
        "headings": kinds[("paragraph", "heading")],
        "paragraphs": kinds[("paragraph", "text")],
        "sentences": kinds[("sentence", "text")],
        "clean_chars": _count_non_space(clean_text),
        "raw_cjk": raw_cjk,
        "clean_cjk": clean_cjk,
        "audit_cjk": p.removed_cjk,
        "unaccounted_cjk": raw_cjk - clean_cjk - p.removed_cjk,
        "pinyin_removed": n_pinyin,
    }
