"""Repairs of single lines of pages as researchers collect them (news sites, journals, mirrors).

Each ``line_*`` function takes one line and returns it repaired together with what it changed, so
that cleanup (:func:`helpers.cleanup.document_clean`) can record every change in its audit table:
runs of ``?`` standing for lost spaces (:func:`line_lost_spaces`), paragraphs separated only by
spaces (:func:`line_split_paragraphs`), pinyin annotations (:func:`line_strip_pinyin`), journal
front-matter labels (:func:`line_label_colons`, :func:`line_front_matter`) and a news article's
dateline or byline (:func:`line_lead`).
"""

from __future__ import annotations

import re
import unicodedata

from helpers.cleanup_rules import (
    _CN_NUMERALS,
    FRONT_MATTER_BRACKET_ONLY,
    FRONT_MATTER_LABELS,
    FRONT_MATTER_SPACED,
)
from helpers.text import (
    _INVISIBLE,
    _WIDTH_TABLE,
    CJK_IDEOGRAPH,
    _lines_matching,
    _lines_starting,
    text_simplify,
)

# --------------------------------------------------------------------------------------------------
# Rules for pages as researchers collect them (news sites, journal databases, mirrors)
# --------------------------------------------------------------------------------------------------

_LINE_SPACE = "[ \t\u00a0\u3000]"
#: Runs of ``?``/``？`` that stand for ideographic spaces lost in a bad re-encoding
#: (``??闽宁协作…``, ``…发展。??福建…``). ASCII runs always; full-width runs only where a real
#: question mark cannot be: at the start of a line, or right after a sentence end or closing quote.
_QMARK_RUN = re.compile(r"[?？]{2,}")
_QMARK_LINE = re.compile(r"^[\s\u3000]*[?？]+[\s\u3000]*$")
_QMARK_AFTER = "。！；;…”’」』）)》"
#: Paragraphs run together on one line, separated only by spaces: a run of two or more spaces
#: after a sentence end (or before a heading marker) and before Chinese text starts a new paragraph.
_SPACE_PARAGRAPH = re.compile(
    rf"(?<=[。！？!?；…”’」』）)》]){_LINE_SPACE}{{2,}}(?=[{CJK_IDEOGRAPH}“《（(【〔])"
    rf"|(?<=\S){_LINE_SPACE}{{2,}}(?=(?:[{_CN_NUMERALS}]+、|[（(][{_CN_NUMERALS}]+[）)]|第[{_CN_NUMERALS}\d]+[章节条])"
    rf"[{CJK_IDEOGRAPH}])"
)


_SPACE_LABEL = re.compile(
    rf"^({_LINE_SPACE}*[{CJK_IDEOGRAPH}]{{2,20}}){_LINE_SPACE}{{2,}}([{CJK_IDEOGRAPH}“《].{{4,}})$"
)


def line_lost_spaces(line: str) -> tuple[str, list[str]]:
    """Replace runs of ``?``/``？`` that stand for lost ideographic spaces with spaces.

    Returns the line and the runs replaced. A run of two or more ASCII ``?`` is always a lost
    space in Chinese text; a full-width run only at the start of the line or right after a
    sentence end or closing quote (``真的吗？？`` keeps its question marks). The spaces left then
    act as paragraph indentation or separators (see :func:`line_split_paragraphs`).
    """
    if "?" not in line and "？" not in line:
        return line, []
    if _QMARK_LINE.match(line):  # a line of nothing but question marks: a lost character or space
        return "", [line.strip()]
    runs: list[str] = []

    def one(m: re.Match) -> str:
        before = line[: m.start()].rstrip(" \t\u3000")
        if set(m.group(0)) == {"?"} or not before or before[-1] in _QMARK_AFTER:
            runs.append(m.group(0))
            return " " * len(m.group(0))
        return m.group(0)

    return _QMARK_RUN.sub(one, line), runs


def line_split_paragraphs(line: str) -> list[str]:
    """Split a raw line whose paragraphs are separated only by runs of spaces.

    A run of two or more spaces (ASCII, ideographic or no-break) splits the line when it follows a
    sentence end or closing quote and precedes Chinese text (``…发展。　　福建…``), or when it
    precedes a heading marker (``…总体要求  （一）…``); in a line split so, a subheading without
    punctuation between two runs is a paragraph too (``。　　产业链条越拉越长　　起初…``). Single
    spaces and spaces inside a web byline (``来源：宁夏日报  发布时间：…``) do not split.
    """
    if "  " not in line and "\u3000" not in line and "\t" not in line and "\u00a0" not in line:
        return [line]
    parts = _SPACE_PARAGRAPH.split(line)
    if len(parts) == 1:
        return parts
    out = []
    for part in (
        parts
    ):  # a subheading without punctuation between two runs: 。　　产业链条越拉越长　　起初…
        m = _SPACE_LABEL.match(part)
        out.extend([m.group(1), m.group(2)] if m else [part])
    return out


# Pinyin annotations after Han characters on mirror sites: 協(xié)作, 產(chǎn)業(yè).
_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PINYIN_SYL = rf"[a-zü{_TONE_VOWELS}]{{1,6}}[1-5]?"
#: What every annotation contains: a bracket before a syllable's first letter (a quick first test).
_PINYIN_HINT = re.compile(f"[（(] ?[a-zü{_TONE_VOWELS}]")
_PINYIN_ANNOTATION = re.compile(
    rf"(?<=[{CJK_IDEOGRAPH}])[（(] ?({_PINYIN_SYL}(?: {_PINYIN_SYL}){{0,3}}) ?[）)]"
)
_PINYIN_FINALS = [
    "a",
    "o",
    "e",
    "ai",
    "ei",
    "ao",
    "ou",
    "an",
    "en",
    "ang",
    "eng",
    "ong",
    "er",
    "i",
    "ia",
    "ie",
    "iao",
    "iu",
    "ian",
    "in",
    "iang",
    "ing",
    "iong",
    "u",
    "ua",
    "uo",
    "uai",
    "ui",
    "uan",
    "un",
    "uang",
    "ueng",
    "v",
    "ve",
    "van",
    "vn",
    "ue",
]
_PINYIN_SYLLABLE = re.compile(
    r"^(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:"
    + "|".join(sorted(_PINYIN_FINALS, key=len, reverse=True))
    + r")[1-5]?$"
)
#: A document with at least this many tone-marked annotations is a pinyin mirror: there, toneless
#: syllables of two letters or more (們(men)) are annotations too.
PINYIN_MIRROR_MIN = 2


def _pinyin_plain(syllable: str) -> str:
    """``xié`` → ``xie``, ``lǚ`` → ``lv`` (tone marks removed, ü as v)."""
    s = unicodedata.normalize(
        "NFD",
        syllable.replace("ü", "v")
        .replace("ǖ", "v")
        .replace("ǘ", "v")
        .replace("ǚ", "v")
        .replace("ǜ", "v"),
    )
    return "".join(c for c in s if not unicodedata.combining(c))


def _pinyin_toned(syllables: str) -> bool:
    return any(c in _TONE_VOWELS for c in syllables) or any(
        s[-1:].isdigit() for s in syllables.split()
    )


def _pinyin_valid(syllables: str) -> bool:
    """Every space-separated part is a pinyin syllable (``xié``, ``xie2``, ``xié zuò``)."""
    return all(_PINYIN_SYLLABLE.match(_pinyin_plain(s)) for s in syllables.split())


def text_pinyin_mirror(text: str) -> bool:
    """Return True when ``text`` carries pinyin annotations after its characters (a mirror site)."""
    n = 0
    for m in _PINYIN_ANNOTATION.finditer(text):
        syl = m.group(1)
        if _pinyin_toned(syl) and _pinyin_valid(syl):
            n += 1
            if n >= PINYIN_MIRROR_MIN:
                return True
    return False


def line_strip_pinyin(line: str, *, mirror: bool = False) -> tuple[str, list[str]]:
    """Remove pinyin annotations after Han characters: ``協（xié）作`` → ``協作``.

    Returns the line and the annotations removed. An annotation is a lowercase pinyin syllable in
    brackets right after a Han character, with a tone mark or tone number (``(chǎn)``, ``(xie2)``);
    in a pinyin mirror (``mirror=True``, see :func:`text_pinyin_mirror`) also a toneless syllable
    of two letters or more (``們(men)``). Parenthesised Latin text that is not a pinyin syllable
    (``(GDP)``, ``(industry)``, ``(e.g.)``) is never touched.
    """
    if "(" not in line and "（" not in line:
        return line, []
    removed: list[str] = []

    def one(m: re.Match) -> str:
        syl = m.group(1)
        ok = _pinyin_valid(syl) and (_pinyin_toned(syl) or (mirror and len(syl) >= 2))
        if ok:
            removed.append(m.group(0))
            return ""
        return m.group(0)

    return _PINYIN_ANNOTATION.sub(one, line), removed


def _label_alt(labels) -> str:
    return "|".join(
        re.escape(k).replace(r"\ ", r"\s*") for k in sorted(labels, key=len, reverse=True)
    )


_FM_ALT = _label_alt(FRONT_MATTER_LABELS)
_FM_COLON_ALT = _label_alt(set(FRONT_MATTER_LABELS) - FRONT_MATTER_BRACKET_ONLY)
_FM_LABEL = re.compile(
    rf"[【〔\[［]\s*(?P<b>{_FM_ALT})\s*[】〕\]］]\s*[:：]?\s*|(?P<c>{_FM_COLON_ALT})\s*[:：]\s*"
)
_FM_BARE = re.compile(rf"^(?P<c>{_FM_ALT})$")
#: The characters a front-matter line starts with: a bracket or a label's first character.
_FM_FIRST = frozenset("【〔[［" + "".join(label[0] for label in FRONT_MATTER_LABELS))
# on the raw line: the label's characters may be spaced out (摘 要, 关 键 词)
_FM_SPACED_ALT = "|".join(
    "[ \u3000]*".join(re.escape(ch) for ch in k.replace(" ", ""))
    if not k.isascii()
    else re.escape(k).replace(r"\ ", r"\s*")
    for k in sorted(FRONT_MATTER_SPACED, key=len, reverse=True)
)
#: A raw line without any of these needs none of the raw-line repairs.
_RAW_WORK = re.compile("[?？\t\u00a0\u3000]|  |^[ \u3000]*(?:[摘关關中文基作收ADK]|Key)", re.M)
#: _RAW_WORK in three patterns that each start with one character class or literal, which the
#: regex engine skips to (three scans of a text take half the time of one scan for the union)
_RAW_WORK_CHARS = re.compile("[?？\t\u00a0\u3000]")
_RAW_WORK_SPACES = re.compile("  ")
_RAW_WORK_LABEL = re.compile("\n[ \u3000]*(?:[摘关關中文基作收ADK]|Key)")


def text_lines_to_repair(text: str) -> list[int]:
    """The indices of the lines of ``text`` in which :data:`_RAW_WORK` is found, in order.

    The lines a raw-line repair may change: :func:`line_lost_spaces`, :func:`line_label_colons`
    and :func:`line_split_paragraphs` leave every other line as it is.
    """
    found = set(_lines_matching(_RAW_WORK_CHARS, text))
    found.update(_lines_matching(_RAW_WORK_SPACES, text))
    found.update(_lines_starting(_RAW_WORK_LABEL, text))
    return sorted(found)


_FM_SPACED_START = re.compile(r"^[ \u3000]*(?:[摘关關中文基作收ADK]|Key)")
_FM_SPACED = re.compile(rf"(^[ \u3000]*|[ \u3000]+)({_FM_SPACED_ALT})[ \u3000]+(?=[^\s:：])")


def line_label_colons(raw: str) -> str:
    """Give a colon to front-matter labels followed only by spaces, on a line that starts with one.

    Some sites print ``摘要 人口较少…`` or ``中图分类号 S-9 文献标识码 A``; normalisation would
    remove the spaces and with them the end of the label. Applied to the raw line; matching is done
    on the simplified-script copy, so ``關鍵詞 …`` is found too.
    """
    if not _FM_SPACED_START.match(raw) or (" " not in raw and "\u3000" not in raw):
        return raw  # no label at the start, or no space after one
    key = text_simplify(raw)
    if len(key) != len(raw):
        return raw
    first = _FM_SPACED.match(key)
    if first is None:
        return raw
    out, last = [], 0
    for m in _FM_SPACED.finditer(key):
        out.append(raw[last : m.end(2)] + "：")
        last = m.end()
    return "".join(out) + raw[last:]


def line_front_matter(key: str) -> list[tuple[str, int, int, int]] | None:
    """Split a journal front-matter line into labelled segments, or return None.

    ``key`` is the normalised line in simplified script. A line is front matter when it starts
    with a label, bracketed (``【摘要】``, ``〔关键词〕``, ``[DOI]``) or followed by a colon
    (``摘要：``, ``DOI:``); every further label on the line starts a new segment, so
    ``〔中图分类号〕F321 〔文献标识码〕A`` gives two. Returns ``(label, start, value_start, end)``
    per segment, offsets into ``key``.
    """
    if key[:1] not in _FM_FIRST:  # most lines: neither pattern can match
        return None
    first = _FM_LABEL.match(key)
    if first is None:
        bare = _FM_BARE.match(key)  # a label alone on its line: its value is on the next lines
        return [(bare.group("c"), 0, len(key), len(key))] if bare else None
    hits = list(_FM_LABEL.finditer(key))
    out = []
    for n, m in enumerate(hits):
        end = hits[n + 1].start() if n + 1 < len(hits) else len(key)
        label = re.sub(r"\s+", " ", m.group("b") or m.group("c"))
        out.append((label, m.start(), m.end(), end))
    return out


def _has_abstract(segments: list[tuple[str, int, int, int]]) -> bool:
    return any(_front_matter_rule(s[0])[0] == "journal_abstract" for s in segments)


def _front_matter_rule(label: str) -> tuple[str, str]:
    return (
        FRONT_MATTER_LABELS.get(label)
        or FRONT_MATTER_LABELS.get(label.replace(" ", ""))
        or ("journal_classification", "journal_ids")
    )


# Datelines and bylines at the start of a news article's first paragraph, matched on the raw line
# (spaces still there, so the end of the reporters' names is known).
_NEWS_SOURCE = (
    rf"(?:本报|本刊|本网|本台"
    rf"|[{CJK_IDEOGRAPH}]{{1,12}}?(?:日报|晚报|时报|商报|报|网|台|社|客户端|新闻))"
)
_DATELINE = re.compile(
    rf"^[□■◇◆◎●○☆★▲△]?\s*[【\[]?\s*(?!据)"
    rf"(?:{_NEWS_SOURCE}\s*讯"  # 本报讯, 福建日报讯
    # …3月5日电
    rf"|{_NEWS_SOURCE}\s*[{CJK_IDEOGRAPH}]{{0,8}}?\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日\s*电"
    rf"|(?:新华社|中新社|中新网|新华网|人民网|央视网|央广网)\s*电"
    rf"|{_NEWS_SOURCE}\s*消息(?=\s*[（(：:]|\s))"  # 央视网消息（…）, 本报消息：
    rf"\s*[】\]]?"
    rf"(?:\s*[（(][^（）()]{{1,60}}[）)])?"
    rf"(?:\s*(?:本报|本网|首席|特约|见习)?(?:记者|通讯员|实习生|评论员)(?:\s+[{CJK_IDEOGRAPH}]{{2,4}}(?=\s))+)?"
    rf"\s*[:：]?\s*(?=[^\s，,。、：:；;])"
)
_INLINE_BYLINE = re.compile(
    rf"^\s*(?:[（(][^（）()]{{0,16}}(?:记者|通讯员|实习生|评论员)[^（）()]{{0,30}}[）)]|[□■◇◆◎●○☆★]\s*(?:本报|本刊|本网|本台)?(?:特约|首席)?(?:评论员|记者|通讯员)(?:\s+[{CJK_IDEOGRAPH}]{{2,4}}(?=\s))*"
    rf"|(?:本报|本刊|本网|本台)(?:特约|首席)?(?:评论员|记者|通讯员)(?:\s+[{CJK_IDEOGRAPH}]{{2,4}}(?=\s))*(?=\s))"
    rf"\s*[:：]?\s*(?=\S)"
)


def line_lead(raw: str) -> tuple[str, str] | None:
    """Return ``(rule, prefix)`` when a raw first-paragraph line starts with a dateline or byline.

    ``dateline``: ``本报讯``, ``福建日报讯（记者 某某）``, ``新华社银川3月5日电（记者 某某）``,
    ``人民网消息``; ``inline_byline``: ``□本报评论员``, ``本报记者 某某 某某`` followed by a space.
    ``prefix`` is the raw text to cut (the sentence after it stays).
    """
    s = _INVISIBLE.sub("", raw).translate(_WIDTH_TABLE)
    if len(s) != len(raw):  # offsets must point into the raw line
        s = raw
    simple = text_simplify(s)  # 本報訊（記者 …） is matched as 本报讯（记者 …）
    s = simple if len(simple) == len(s) else s
    m = _DATELINE.match(s)
    if m:
        return "dateline", raw[: m.end()]
    m = _INLINE_BYLINE.match(s)
    if m:
        return "inline_byline", raw[: m.end()]
    return None
