"""Text helpers shared by every stage: the canonical form, script conversion, CJK counts, sentences.

- :func:`text_normalize`: the project's canonical form (half-width digits and letters, Chinese
  punctuation in Chinese text, no spaces next to CJK characters), line by line;
- :func:`text_simplify` / :func:`text_simplify_aligned`: traditional → simplified script (OpenCC
  ``t2s``), the second keeping every offset, so that rules and codes written in simplified Chinese
  match traditional-script documents;
- :func:`text_count_cjk`: the number of CJK ideographs, the quantity cleanup must never lose;
- :func:`text_split_sentences`: the sentence spans of one paragraph.

Cleanup (:mod:`helpers.cleanup`), segmentation (:mod:`helpers.tokens`), coding
(:mod:`helpers.coding`), the codebook reader and the summaries all use these, so they live apart
from the cleanup's rules.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np

# --------------------------------------------------------------------------------------------------
# Character classes
# --------------------------------------------------------------------------------------------------

#: CJK ideographs (unified, extension A, compatibility) – the characters that must never be lost.
CJK_IDEOGRAPH = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: Full-width CJK punctuation and brackets, which count as "CJK" for spacing decisions.
CJK_PUNCT = (
    "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
    "\u2018\u2019\u201c\u201d\u2014\u2026\u00b7"
)
_CJK_CLASS = f"[{CJK_IDEOGRAPH}\U00020000-\U0002fa1f]"
_CJK_CHAR = re.compile(_CJK_CLASS)
_CJK_RUN = re.compile(_CJK_CLASS + "+")
#: The code point ranges of _CJK_CLASS.
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))
#: Whether each code point up to the last of _CJK_RANGES is one (one more entry, False, for all
#: code points above).
_CJK_TABLE = np.zeros(_CJK_RANGES[-1][1] + 2, dtype=bool)
for _lo, _hi in _CJK_RANGES:
    _CJK_TABLE[_lo : _hi + 1] = True
_IS_CJK = re.compile(f"[{CJK_IDEOGRAPH}\U00020000-\U0002fa1f{CJK_PUNCT}]")

_WHITESPACE = re.compile(r"\s")
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile("[\t \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")

# Full-width letters and digits become half-width; a few symbols get one canonical form.
_WIDTH_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)}  # ０-９
_WIDTH_TABLE.update({cp: cp - 0xFEE0 for cp in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_WIDTH_TABLE.update({cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_WIDTH_TABLE.update(
    {
        ord("％"): "%",
        ord("＋"): "+",
        ord("＝"): "=",
        ord("／"): "/",
        ord("＜"): "<",
        ord("＞"): ">",
        ord("＠"): "@",
        ord("＃"): "#",
        ord("＆"): "&",
        ord("＊"): "*",
        ord("＿"): "_",
        ord("［"): "[",
        ord("］"): "]",
        ord("｛"): "{",
        ord("｝"): "}",
        ord("「"): "“",
        ord("」"): "”",
        ord("『"): "‘",
        ord("』"): "’",
        ord("﹝"): "〔",
        ord("﹞"): "〕",
        ord("︰"): "：",
    }
)
# Kangxi radicals (common in text extracted from PDFs) map to the ideographs they look like.
_WIDTH_TABLE.update(
    {
        cp: unicodedata.normalize("NFKC", chr(cp))
        for cp in range(0x2F00, 0x2FD6)
        if unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    }
)

_WIDTH_CHARS = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_WIDTH_TABLE)) + "]")

# ASCII punctuation that becomes its full-width form when it stands in Chinese text.
_TO_FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
_DOC_NUMBER_BRACKETS = re.compile(
    rf"([{CJK_IDEOGRAPH}])[\[［(（〔【]\s*((?:19|20)\d\d)\s*[\]］)）〕】]\s*(\d+\s*号)"
)
_ASCII_QUOTES = re.compile(r'"([^"\n]*)"')
_ASCII_PARENS = re.compile(r"\(([^()\n]*)\)")
_ASCII_PUNCT = re.compile(r"[,:;?!()]")
_ASCII_PERIOD = re.compile(r"(?<![.\d])\.(?![.A-Za-z0-9_])")


# A line without any of these characters is already in canonical form (text_normalize's fast path).
_NEEDS_WORK_CHARS = (
    ' ,.:;?!()"\\[\\]\u00a0\u00ad\u1680\u2000-\u200d\u202f\u205f\u2060\u3000\ufeff'
    "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a％＋＝／＜＞＠＃＆＊＿［］｛｝「」『』﹝﹞︰【号\u2f00-\u2fd5"
)
_NEEDS_WORK = re.compile(f"[\x00-\x1f\x7f{_NEEDS_WORK_CHARS}]")
#: The same over a whole text: every control character but the line end.
_NEEDS_WORK_IN_TEXT = re.compile(f"[\x00-\x09\x0b-\x1f\x7f{_NEEDS_WORK_CHARS}]")


def _neighbour(s: str, i: int, step: int) -> str:
    """Return the nearest non-space character of ``s`` from ``i`` in direction ``step`` ('' at the
    end)."""
    i += step
    while 0 <= i < len(s):
        if s[i] != " ":
            return s[i]
        i += step
    return ""


def _is_cjk(ch: str) -> bool:
    return bool(ch) and _IS_CJK.match(ch) is not None


def _enclose_chinese(pattern: re.Pattern, s: str, left: str, right: str) -> str:
    """Replace ASCII delimiters matched by ``pattern`` with ``left``/``right`` where they enclose or
    touch Chinese."""

    def one(m: re.Match) -> str:
        inner = m.group(1)
        if (
            _IS_CJK.search(inner)
            or _is_cjk(_neighbour(s, m.start(), -1))
            or _is_cjk(_neighbour(s, m.end() - 1, 1))
        ):
            return f"{left}{inner}{right}"
        return m.group(0)

    return pattern.sub(one, s)


def _fold_punctuation(s: str) -> str:
    """Give ASCII punctuation that stands in Chinese text its full-width form (see
    text_normalize)."""
    # Quotes and parentheses that enclose or touch Chinese become Chinese quotes/brackets.
    if '"' in s:
        s = _enclose_chinese(_ASCII_QUOTES, s, "“", "”")
    if "(" in s:
        s = _enclose_chinese(_ASCII_PARENS, s, "（", "）")
    if not _ASCII_PUNCT.search(s) and "." not in s:
        return s
    out = list(s)
    for m in _ASCII_PUNCT.finditer(s):  # the characters of _TO_FULL
        i, ch = m.start(), m.group()
        before, after = _neighbour(s, i, -1), _neighbour(s, i, 1)
        if ch in "()":
            touching = _is_cjk(after) if ch == "(" else _is_cjk(before)
        else:
            touching = _is_cjk(before) and not (after.isascii() and after.isalnum())
            touching = touching or (_is_cjk(after) and not (before.isascii() and before.isdigit()))
        if touching:
            out[i] = _TO_FULL[ch]
    s = "".join(out)
    if "." not in s:
        return s
    # A single ASCII full stop right after Chinese text ends a Chinese sentence.
    return _ASCII_PERIOD.sub(
        lambda m: "。" if _CJK_CHAR.match(_neighbour(s, m.start(), -1) or " ") else ".", s
    )


def _strip_spaces(s: str) -> str:
    """Remove spaces next to CJK characters or punctuation; collapse the others to one space."""
    s = _SPACES.sub(" ", s).strip(" ")
    if " " not in s:
        return s
    parts = s.split(" ")
    out = [parts[0]]
    for part in parts[1:]:
        prev = out[-1][-1:] if out[-1] else ""
        nxt = part[:1]
        if not part:
            continue
        if _is_cjk(prev) or _is_cjk(nxt):
            out[-1] = out[-1] + part
        else:
            out.append(part)
    return " ".join(out)


def _normalize_pass(line: str) -> str:
    line = _INVISIBLE.sub("", line)
    if _WIDTH_CHARS.search(line):  # translate looks up every character: only where needed
        line = line.translate(_WIDTH_TABLE)
    line = _SPACES.sub(" ", line)
    line = _fold_punctuation(line)
    if "号" in line:  # a document number: its year gets 〔〕
        line = _DOC_NUMBER_BRACKETS.sub(lambda m: f"{m.group(1)}〔{m.group(2)}〕{m.group(3)}", line)
    return _strip_spaces(line)


def text_normalize(text: str) -> str:
    """Return ``text`` in the project's canonical form, line by line (line breaks are kept).

    Why: the corpus mixes ``（一）`` and ``(一) ``, full-width and half-width digits, and spaces
    left by the print layout inside words (``丁 颖``, ``共印 210 份``); matching and counting need
    one form. The canonical form is:

    - invisible characters (zero-width spaces, BOMs, soft hyphens, control characters) removed;
    - full-width ASCII letters and digits (``２０２１``, ``ＡＢ``) and
      ``％＋＝／＜＞＠＃＆＊＿［］｛｝`` made half-width; Kangxi radicals from PDFs (``⼀``) made
      the ideographs they stand for;
    - Chinese punctuation in Chinese text: ASCII ``, : ; ? ! ( )`` that touch Chinese become
      ``，：；？！（）``; an ASCII ``.`` right after a Chinese character becomes ``。``; ASCII
      ``"…"`` around or next to Chinese becomes ``“…”``; ``「」『』`` become ``“”‘’``; a bracketed
      year in a document number (``[2021]``, ``(2021)``) becomes ``〔2021〕``. ASCII punctuation
      between Latin letters or digits (``1,000``, ``10:30``, ``e.g.``) is left alone;
    - every kind of space (tab, ideographic space, no-break space) becomes an ASCII space; a space
      next to a CJK character or CJK punctuation is removed, other runs become one space, lines are
      stripped. So ``闽宁协作工作 的意见`` → ``闽宁协作工作的意见`` while ``East West`` stays.

    The function is idempotent (applying it twice changes nothing) and keeps every CJK ideograph.
    """
    # Most lines of a clean Chinese text are already canonical: one scan of the whole text finds
    # the lines that are not, and only those are worked on.
    work = _lines_matching(_NEEDS_WORK_IN_TEXT, text)
    if not work:
        return text
    lines = text.split("\n")
    for k in work:
        lines[k] = _line_normalize(lines[k])
    return "\n".join(lines)


def _lines_matching(pattern: re.Pattern, text: str) -> list[int]:
    """The indices of the lines of ``text`` (split at ``\\n``) in which ``pattern`` is found.

    One scan over the whole text instead of one search per line; ``pattern`` must not match a
    line end (use ``re.M`` for ``^``).
    """
    found = []
    k = pos = 0  # k: the line of position pos
    m = pattern.search(text)
    while m is not None:
        k += text.count("\n", pos, m.start())
        found.append(k)
        pos = text.find("\n", m.start())
        if pos < 0:
            break
        m = pattern.search(text, pos)
    return found


def _lines_starting(pattern: re.Pattern, text: str) -> list[int]:
    """The indices of the lines of ``text`` that start with ``pattern``, which begins with ``\\n``.

    ``pattern`` is searched in ``"\\n" + text``, so that its line start is a literal character the
    regex engine skips to (``^`` with ``re.M`` is tried at every position).
    """
    t = "\n" + text
    found = []
    k = pos = 0  # k: the line that starts after the newline at pos
    m = pattern.search(t)
    while m is not None:
        k += t.count("\n", pos, m.start())
        found.append(k)
        pos = m.start()
        m = pattern.search(t, pos + 1)
    return found


def _line_normalize(line: str) -> str:
    """One line in canonical form: passes until a fixed point, so normalising twice changes
    nothing."""
    new = _normalize_pass(line)
    if new == line:  # a pass that changes nothing is a fixed point already
        return new
    for _ in range(3):
        if not _NEEDS_WORK.search(new):
            break  # nothing left that a pass changes
        again = _normalize_pass(new)
        if again == new:
            break
        new = again
    return new


def text_count_cjk(text: str) -> int:
    """Return the number of CJK ideographs in ``text`` (the quantity cleanup must never lose)."""
    if len(text) < 2000:
        return sum(map(len, _CJK_RUN.findall(text)))  # runs, not characters: fewer objects
    # a whole document: look its code points up as an array (several times faster)
    cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return int(np.count_nonzero(_CJK_TABLE[np.minimum(cp, len(_CJK_TABLE) - 1)]))


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def text_simplify_aligned(text: str) -> str:
    """Return ``text`` in simplified script with exactly the same length, character for character.

    Offsets found in the simplified copy (tokens, keyword spans) then point into the original text.
    OpenCC's phrase conversion rarely changes the length; when it does, characters are converted
    one at a time.
    """
    simple = text_simplify(text)
    if len(simple) == len(text):
        return simple
    conv = _t2s().convert
    return "".join(c if len(c) == 1 else ch for ch in text for c in (conv(ch),))


def text_simplify(text: str) -> str:
    """Return ``text`` converted from traditional to simplified script (OpenCC ``t2s``).

    Used to match rules and codes written in simplified Chinese; the stored text keeps its script.
    """
    if not text or text.isascii():
        return text
    return _t2s().convert(text)


_SENT_END = "。！？!?…"
_CLOSERS = "”’）)》」』】〕"
#: A sentence end with its closing quotes and brackets.
_SENTENCE_END = re.compile(f"[{_SENT_END}]+[{_CLOSERS}]*")
#: The space between two Latin sentences (``… in 2021. The …``).
_LATIN_SENTENCE_GAP = re.compile(r"(?<=[a-z0-9][.?!])\s+(?=[A-Z])")


def _quotation_continues(text: str, m: re.Match) -> bool:
    """True when the end ``m`` closes a quotation (``！”``) and its sentence goes on after it."""
    end = m.group(0)
    if end[-1:] not in "”’" or m.end() >= len(text) or text[m.end()] in " " + _SENT_END:
        return False
    opening = text.rfind("“" if end[-1] == "”" else "‘", 0, m.start())
    if opening < 0:
        return False
    colon = opening > 0 and text[opening - 1] in "：:"
    return not (colon and "。" in end)


def text_split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences of one paragraph.

    A sentence ends at ``。！？!?…`` together with the closing quotes or brackets that follow
    (``…返贫”。``); an end inside an open ``“…”`` or ``（…）`` does not split, unless the quotes
    never close (a truncated text), where the plain ends are used. A quotation's own ``！？。``
    before its closing quote keep the quotation inside the sentence when text follows
    (``某某指出：“……，一定能做到！”这体现了……``, ``“……。”他说。``); the quotation ends the sentence
    only when it is a full statement introduced by a colon and closed with ``。``
    (``强调：“……。”近年来，……``) or ends the paragraph. The spans cover the paragraph without gaps
    except leading and trailing spaces.
    """
    if "”" in text or "’" in text:
        ends = [m.end() for m in _SENTENCE_END.finditer(text) if not _quotation_continues(text, m)]
    else:
        ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if "." in text or "?" in text or "!" in text:  # Latin sentences (the two never overlap)
        gaps = [m.end() for m in _LATIN_SENTENCE_GAP.finditer(text)]
        if gaps:
            ends = sorted(ends + gaps)
    if not ends or ends[-1] != len(text):
        ends.append(len(text))
    spans: list[tuple[int, int]] = []
    start = 0
    # only a text with balanced quotes or brackets can have an end inside them
    nested = ("“" in text or "（" in text) and (
        text.count("“") == text.count("”") and text.count("（") == text.count("）")
    )
    for end in ends:
        if end <= start:
            continue
        if (
            nested
            and end != len(text)
            and (
                text.count("“", start, end) > text.count("”", start, end)
                or text.count("（", start, end) > text.count("）", start, end)
            )
        ):
            continue  # inside quotes or brackets: keep going
        spans.append((start, end))
        start = end
    if " " not in text:
        return spans
    # strip spaces at the edges of each span
    out = []
    for s, e in spans:
        while s < e and text[s] == " ":
            s += 1
        while e > s and text[e - 1] == " ":
            e -= 1
        if e > s:
            out.append((s, e))
    return out
