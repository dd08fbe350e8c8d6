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

Rules are matched on a simplified-script copy of each line (OpenCC ``t2s``), so the boilerplate rules
written in simplified Chinese also catch traditional-script documents; the text itself keeps its
original script.

The rules are documented in :data:`HEADER_RULES`, :data:`TRAILER_RULES`, :data:`BODY_RULES`,
:data:`FRONT_MATTER_LABELS` and in the docstrings of the functions below (``line_lost_spaces``,
``line_split_paragraphs``, ``line_strip_pinyin``, ``line_front_matter``, ``line_lead`` for pages as
researchers collect them: mirrors, news sites, journal databases); stage 1 of the README summarises
them. Besides whole lines, the audit table records what was cut from a line (a dateline, a
front-matter label, a caption, citation markers, pinyin annotations) with the text cut.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.tables import path_resolve, table_write, text_write

# --------------------------------------------------------------------------------------------------
# Character classes
# --------------------------------------------------------------------------------------------------

#: CJK ideographs (unified, extension A, compatibility) – the characters that must never be lost.
CJK_IDEOGRAPH = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: Full-width CJK punctuation and brackets, which count as "CJK" for spacing decisions.
CJK_PUNCT = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2018\u2019\u201c\u201d\u2014\u2026\u00b7"
_CJK_CLASS = f"[{CJK_IDEOGRAPH}\U00020000-\U0002fa1f]"
_CJK_CHAR = re.compile(_CJK_CLASS)
_CJK_RUN = re.compile(_CJK_CLASS + "+")
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
_NEEDS_WORK = re.compile(
    '[\x00-\x1f\x7f ,.:;?!()"\\[\\]\u00a0\u00ad\u1680\u2000-\u200d\u202f\u205f\u2060\u3000\ufeff'
    "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a％＋＝／＜＞＠＃＆＊＿［］｛｝「」『』﹝﹞︰【号\u2f00-\u2fd5]"
)


def _neighbour(s: str, i: int, step: int) -> str:
    """Return the nearest non-space character of ``s`` from ``i`` in direction ``step`` ('' at the end)."""
    i += step
    while 0 <= i < len(s):
        if s[i] != " ":
            return s[i]
        i += step
    return ""


def _is_cjk(ch: str) -> bool:
    return bool(ch) and _IS_CJK.match(ch) is not None


def _enclose_chinese(pattern: re.Pattern, s: str, left: str, right: str) -> str:
    """Replace ASCII delimiters matched by ``pattern`` with ``left``/``right`` where they enclose or touch Chinese."""

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
    """Give ASCII punctuation that stands in Chinese text its full-width form (see text_normalize)."""
    # Quotes and parentheses that enclose or touch Chinese become Chinese quotes/brackets.
    s = _enclose_chinese(_ASCII_QUOTES, s, "“", "”")
    s = _enclose_chinese(_ASCII_PARENS, s, "（", "）")
    if not _ASCII_PUNCT.search(s) and "." not in s:
        return s
    out = list(s)
    for i, ch in enumerate(s):
        if ch in _TO_FULL:
            before, after = _neighbour(s, i, -1), _neighbour(s, i, 1)
            if ch in "()":
                touching = _is_cjk(after) if ch == "(" else _is_cjk(before)
            else:
                touching = _is_cjk(before) and not (after.isascii() and after.isalnum())
                touching = touching or (
                    _is_cjk(after) and not (before.isascii() and before.isdigit())
                )
            if touching:
                out[i] = _TO_FULL[ch]
    s = "".join(out)
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
    line = line.translate(_WIDTH_TABLE)
    line = _SPACES.sub(" ", line)
    line = _fold_punctuation(line)
    line = _DOC_NUMBER_BRACKETS.sub(lambda m: f"{m.group(1)}〔{m.group(2)}〕{m.group(3)}", line)
    return _strip_spaces(line)


def text_normalize(text: str) -> str:
    """Return ``text`` in the project's canonical form, line by line (line breaks are kept).

    Why: the corpus mixes ``（一）`` and ``(一) ``, full-width and half-width digits, and spaces
    left by the print layout inside words (``丁 颖``, ``共印 210 份``); matching and counting need one
    form. The canonical form is:

    - invisible characters (zero-width spaces, BOMs, soft hyphens, control characters) removed;
    - full-width ASCII letters and digits (``２０２１``, ``ＡＢ``) and ``％＋＝／＜＞＠＃＆＊＿［］｛｝``
      made half-width; Kangxi radicals from PDFs (``⼀``) made the ideographs they stand for;
    - Chinese punctuation in Chinese text: ASCII ``, : ; ? ! ( )`` that touch Chinese become
      ``，：；？！（）``; an ASCII ``.`` right after a Chinese character becomes ``。``; ASCII
      ``"…"`` around or next to Chinese becomes ``“…”``; ``「」『』`` become ``“”‘’``; a bracketed year
      in a document number (``[2021]``, ``(2021)``) becomes ``〔2021〕``. ASCII punctuation between
      Latin letters or digits (``1,000``, ``10:30``, ``e.g.``) is left alone;
    - every kind of space (tab, ideographic space, no-break space) becomes an ASCII space; a space
      next to a CJK character or CJK punctuation is removed, other runs become one space, lines are
      stripped. So ``闽宁协作工作 的意见`` → ``闽宁协作工作的意见`` while ``East West`` stays.

    The function is idempotent (applying it twice changes nothing) and keeps every CJK ideograph.
    """
    out = []
    for line in text.split("\n"):
        if not _NEEDS_WORK.search(line):  # already canonical: most lines of a clean Chinese text
            out.append(line)
            continue
        new = _normalize_pass(line)
        for _ in range(3):  # a fixed point, so that normalising twice never changes the text again
            again = _normalize_pass(new)
            if again == new:
                break
            new = again
        out.append(new)
    return "\n".join(out)


def text_count_cjk(text: str) -> int:
    """Return the number of CJK ideographs in ``text`` (the quantity cleanup must never lose)."""
    return sum(map(len, _CJK_RUN.findall(text)))  # runs, not characters: fewer objects


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


# --------------------------------------------------------------------------------------------------
# Boilerplate rules
# --------------------------------------------------------------------------------------------------

_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_ORG_SUFFIX = (
    r"(?:委员会|办公厅|办公室|人民政府|政府|宣传部|研究中心|研究院|研究所|研究会|大学|学院|学会|协会"
    r"|联合会|部|厅|局|委|院|署|中心|处|社)"
)
_CN_NUM = "一二三四五六七八九十百零〇两"
#: Words that end like an organisation's name but are not one (新局, 西部, 好处): a headline
#: 共启协作新局 is not an issuer.
_NOT_ORG_END = (
    r"(?<![新大布格开全结破胜变时棋困]局)(?<![全内外东西中南北局干腹]部)(?<![好益深之到难远近]处)"
)
#: Name tags of journal author lines: digits, letters or stars after each name (陈文盛a,d，范水生b).
_AUTHOR_NAME = rf"[{CJK_IDEOGRAPH}]{{2,4}}(?:\d(?:[,，]\d)*|[a-f](?:[,，][a-f])*|[*∗†])?"


@dataclass(frozen=True)
class Rule:
    """A named boilerplate rule: a regular expression over one normalised, simplified line.

    ``field`` names the metadata the line carries (``date``, ``doc_number`` …); ``group`` is the
    regex group holding the value (0 for the whole line).
    """

    name: str
    pattern: str
    description: str
    field: str | None = None
    group: int = 0

    @cached_property
    def regex(self) -> re.Pattern:
        return _compiled(self.pattern)


@cache
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


_WEB_RULES = (
    Rule(
        "web_navigation",
        r"^(首页|当前位置|您的位置|您现在的位置|位置)\s*[:：>›»]|^[^。，]{0,40}([>›»]\s*[^>›»。，]{1,12}){2,}$"
        r"|^[^。，！？>]{2,24}>>[^。，！？>]{2,12}(?:>>[^。，！？>]{2,12})*$",
        "breadcrumb or navigation line of a web page (首页 > 新闻 > …)",
    ),
    Rule(
        "web_byline",
        r"^(?=.*(来源|发布时间|发布日期|时间|作者|编辑|责任编辑|浏览次数|阅读|点击|字号)\s*[:：])"
        r"[^。！？]{0,120}$",
        "source/date/author/font-size line of a web page (来源：… 发布时间：… 字号：大 中 小)",
        "web_byline",
    ),
    Rule(
        "web_widget",
        r"^[•·●▪]?\s*(?:[【\[]?(?:打印|关闭|关闭窗口|打印本页|返回顶部|收藏|分享|分享到|扫一扫|微信|微博|QQ空间"
        r"|上一篇|下一篇|相关链接|相关新闻|相关阅读|纠错|列印|APP下载|下载APP|客户端下载|查看余下全文|展开全文"
        r"|阅读全文|查看全文|展开剩余\d+%|返回目录|返回首页|返回列表|字号|下载到本地|更方便阅读|论文部分内容阅读"
        r"|点击查看|您好|访客|登录|注册|退出)[】\]]?[\s，,|｜/]*)+(?:[:：].{0,60})?$",
        "print/close/share widgets and related-link labels of a web page",
    ),
    Rule(
        "web_repost",
        r"^[（(]?(?:原标题|原题|转载自|转自|本文转自|本文来源|稿件来源|文章来源|信息来源)\s*[:：][^。！？]{0,80}$",
        "repost lines of a mirror or aggregator (原标题：…, 转载自：…)",
        "repost",
    ),
    Rule(
        "web_disclaimer",
        r"(不代表本(?:站|网|平台)(?:的)?观点|如有?侵权|请联系(?:我们|本站)?删除|转载请注明|未经.{0,8}授权.{0,12}转载"
        r"|^(?:版权声明|免责声明|声明)(?:\s*[:：]|$))",
        "repost disclaimer (本站转载此文…不代表本站观点，如有侵权请联系删除)",
    ),
    Rule("html_tag", r"^(?:<[^<>]{1,200}>\s*)+$", "a line of leftover HTML tags (<td id=…></td>)"),
    Rule(
        "paper_edition",
        rf"^《?[{CJK_IDEOGRAPH}]{{2,12}}报》?\s*[（(]?\s*\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日\s*"
        rf"(?:第?\s*\d{{1,3}}\s*版)?\s*[）)]?(?:\s*(?:星期.|周.|[A-Z][a-z]{{2}}))?$"
        rf"|^第?\s*\d{{1,3}}\s*版\s*[:：]?\s*[{CJK_IDEOGRAPH}·]{{0,12}}$",
        "newspaper name, date and page of an e-paper (《光明日报》（2026年03月07日10版）, 10版：要闻)",
        "edition",
    ),
    Rule(
        "web_url",
        r"^(?:https?://|www\.)\S+(?:\s[^。！？]{0,80})?$",
        "a web address on a line of its own, with the date or widgets that follow it",
    ),
    Rule(
        "web_menu",
        r"^[^。，！？|｜]{1,12}(?:\s*[|｜]\s*[^。，！？|｜]{1,12}){2,}$",
        "site menu: three or more short items separated by | (网站首页 | 政务公开 | …)",
    ),
    Rule(
        "web_share",
        r"^(?:[【\[]?(?:分享到|分享至|转发到|扫一扫|扫码|用手机扫|复制链接|无障碍浏览|长者模式|适老化|繁体|简体"
        r"|大字版|关怀版))[^。！？]{0,60}$",
        "share, QR-code and accessibility links (分享至 Facebook LINE, 扫一扫在手机打开, 无障碍浏览 长者模式)",
    ),
    Rule(
        "web_date",
        r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
        r"(?:\s*[^。！？，\d][^。！？，]{0,60})?$",
        "publication date and time of a web page, with what follows on its line (2025-03-10 14:22 更新：…)",
        "web_date",
    ),
    Rule(
        "web_stats",
        r"^(?=.*(?:下载次数|被引次数|被引量|下载量|浏览次数|浏览量|阅读量|阅读数|访问量|点击量|人气)\s*[:：]?\s*\d)"
        r"[^。！？]{0,120}$",
        "download, citation and view counts of a page (下载次数：238 被引次数：5, 访问量:249)",
    ),
    Rule(
        "web_comments",
        r"^(?:网友评论|发表评论|我要评论|评论区|全部评论|留言板|请登录后|已有\d+条评论)[^。！？]{0,60}$",
        "comment box of a web page (网友评论, 请登录后发表评论, 已有0条评论)",
    ),
    Rule(
        "web_attachment",
        r"^附件\s*\d*\s*[:：]?.{0,80}\.(?:xlsx?|docx?|pdf|zip|rar|wps|et|ofd)$",
        "attachment link of a web page (附件：….xlsx)",
    ),
    Rule(
        "web_related",
        r"^[【\[]?(?:相关新闻|相关阅读|相关链接|延伸阅读|推荐阅读|相关文章|热点推荐|更多新闻|本类推荐|本类排行"
        r"|猜你喜欢|热门推荐|热门文章|最新文章|热点新闻)[】\]]?\s*[:：]?$",
        "heading of a related-links list (相关新闻：, 延伸阅读)",
    ),
    Rule(
        "web_copyright",
        r"(版权所有|Copyright|©|ICP备|网站标识码|主办单位|承办单位|技术支持|网站地图)",
        "copyright, site registration (ICP) and sponsor lines of a web page footer",
    ),
)

_JOURNAL_RULES = (
    Rule(
        "journal_keywords",
        r"^[【\[]?(关键词|关键字|Key\s*words?)[】\]]?\s*[:：]\s*(.+)$",
        "keywords line of a journal article (关键词：…)",
        "keywords",
        2,
    ),
    Rule(
        "journal_classification",
        r"^(中图分类号|文献标识码|文献标志码|文章编号|DOI|doi)\s*[:：]",
        "classification, identifier and DOI lines of a journal article",
        "journal_ids",
    ),
    Rule(
        "journal_dates",
        r"^[［\[【（(]?(收稿日期|修回日期|录用日期|网络出版时间|发表日期)[:：]",
        "received/revised/published dates of a journal article",
        "journal_dates",
    ),
    Rule(
        "author_bio",
        r"^[［\[【（(]?(作者简介|通讯作者|通信作者|基金项目)[】\]）)]?\s*[:：]",
        "author biography, corresponding author or funding line of a journal article",
        "author_bio",
    ),
)

#: A line without any Chinese character above or below the body of a Chinese text: an English title,
#: author or affiliation line (PENG Qian, ZHU Hongxing (University of …)), a stray letter.
_LATIN_LINE = Rule(
    "latin_line",
    rf"^[^{CJK_IDEOGRAPH}\U00020000-\U0002fa1f]*[A-Za-z][^{CJK_IDEOGRAPH}\U00020000-\U0002fa1f]*$",
    "a line without Chinese characters above or below a Chinese body (English title, authors, affiliation)",
)

#: Rules for the lines above the body, tried in order on each line of the leading block.
HEADER_RULES: tuple[Rule, ...] = (
    Rule(
        "leader_instruction",
        r"^领导批示[:：]?.{0,20}$",
        "box for a leader's written instruction (领导批示)",
    ),
    Rule(
        "circulation",
        r"^[（(]?(内部参阅|内部资料|内部刊物|注意保存|此件公开发布|此件不公开|秘密|机密|绝密|特急|加急|平急)"
        r"([★\s].{0,10})?[）)]?$",
        "circulation, secrecy or urgency mark (内部参阅, 此件公开发布, 特急)",
        "circulation",
    ),
    Rule(
        "series",
        rf"^[{CJK_IDEOGRAPH}]{{0,10}}(要报|简报|专报|快报|参阅|内参|通讯|动态|信息|专刊|增刊)$",
        "name of the bulletin series (智库成果要报, 简报)",
        "series",
    ),
    Rule(
        "issue_number",
        r"^[（(]?((?:\d{4}\s*年\s*)?(?:总\s*)?第\s*\d+\s*期(?:\s*[（(]?总第\s*\d+\s*期[）)]?)?)[）)]?$",
        "issue number of a bulletin (第131期)",
        "issue",
        1,
    ),
    Rule(
        "issuer_mark",
        r"^(.{2,40}?)\s*文件$",
        "issuing authority's masthead (发文机关标识: …文件)",
        "issuer",
        1,
    ),
    Rule(
        "doc_number",
        rf"^[{CJK_IDEOGRAPH}]{{1,14}}〔\d{{4}}〕\s*\d+\s*号$",
        "document number (发文字号: 宁党办〔2021〕54号)",
        "doc_number",
    ),
    Rule("date", rf"^{_DATE}$", "date line (成文日期 or issue date)", "date"),
    Rule(
        "issuer",
        rf"^[{CJK_IDEOGRAPH}（）、]{{2,40}}{_ORG_SUFFIX}{_NOT_ORG_END}$",
        "name of an issuing organisation on a line of its own",
        "issuer",
    ),
    Rule(
        "project_note",
        r"^[〔\[【].{0,80}(项目|课题|基金|成果|资助).{0,40}[〕\]】]$",
        "funding or project note in brackets (〔…项目阶段性成果〕)",
        "funding",
    ),
    Rule(
        "byline",
        rf"^(?:[.．·…。\s]{{2,}}|(?:作者|撰稿|撰文|文|执笔)\s*[:：/|]\s*)(.{{2,30}})$"
        rf"|^(?!(?:前言|引言|序言|导言|总则|附则|概述|摘要|背景|结语|绪论|目录|附件|说明)$)"
        rf"([{CJK_IDEOGRAPH}]{{2,4}}\d?(?:[，,、\s]+[{CJK_IDEOGRAPH}]{{2,4}}\d?){{0,5}})$",
        "author line (.....丁颖, 作者：…, or names alone under the title of an article)",
        "author",
        0,
    ),
    Rule(
        "affiliation",
        r"^[（(](?=.*(大学|学院|研究院|研究所|研究中心|党校|\d{6})).{2,80}[）)]$",
        "author's affiliation under the title ((宁夏大学，宁夏 银川 750021))",
        "affiliation",
    ),
    Rule(
        "journal_issue",
        rf"^《?[{CJK_IDEOGRAPH}（）()]{{0,24}}》?\s*(?:\d{{4}}\s*年\s*)?(?:第\s*)?\d{{1,3}}\s*期"
        rf"(?:\s*[（(]?总第\s*\d+\s*期[）)]?)?(?:\s*第?[\d\-–—,，共页\s]{{0,30}}页)?$",
        "journal name, issue and pages of an article (宁夏社会科学 2023年第5期, 2016年第3期82-87，共6页)",
        "issue",
    ),
    Rule(
        "journal_authors",
        rf"^(?=.*[{CJK_IDEOGRAPH}](?:\d|[a-f]|[*∗†]))(?:{_AUTHOR_NAME}[，,、;；\s]+){{0,7}}{_AUTHOR_NAME}$",
        "journal author line with affiliation tags (陈文盛a,d，范水生b; 段树国1，周佳琦2)",
        "author",
    ),
    Rule(
        "journal_author_line",
        r"^(?=.*(?<!\d)\d{6}(?!\d))(?=.*(?:大学|学院|研究院|研究所|研究中心|党校|科学院|学校))[^。！？]{4,200}$",
        "author, affiliation and postcode run together on one line (张三宁夏大学…银川750021)",
        "affiliation",
    ),
    Rule(
        "news_byline",
        rf"^[□■◇◆◎●○☆★]?(?:本报|本刊|本网|本台|[{CJK_IDEOGRAPH}]{{2,8}}?(?:日报|晚报|报|网|社|台))?"
        rf"(?:特约|首席|见习)?(?:评论员|记者|通讯员|实习生)[{CJK_IDEOGRAPH}、，/／|\s]{{0,24}}$",
        "news byline on its own line (□本报评论员, 本报记者某某)",
        "author",
    ),
    Rule(
        "column_label",
        r"^【[^】。，！？]{2,12}】$",
        "column label of a newspaper page above the text (【开放日聚焦】)",
    ),
    Rule(
        "addressee",
        r"^[^。！？]{2,200}[，、][^。！？]{0,200}[：:]$",
        "addressees (主送机关: 各市、县（区）党委和人民政府，…：)",
        "addressee",
    ),
    *_JOURNAL_RULES,
    *_WEB_RULES,
    _LATIN_LINE,
)

#: Rules for the lines below the body, tried on each line of the trailing block (from the end).
TRAILER_RULES: tuple[Rule, ...] = (
    Rule(
        "author_note",
        r"^[（(]?(执笔人?|作者|撰稿人?|撰文|责任编辑|编辑|审核|校对|审稿)\s*[:：]\s*(.{1,60}?)[）)]?$",
        "author or editor note (（执笔人：宁夏大学 丁颖）)",
        "author",
        2,
    ),
    Rule(
        "contact",
        r"(批示反馈|联系电话|联系人\s*[:：]|电\s*话\s*[:：]|传\s*真\s*[:：]|邮\s*箱\s*[:：]|E-?mail)",
        "feedback request and contact details (请将领导同志的批示反馈…联系电话：…)",
        "contact",
    ),
    Rule(
        "distribution",
        r"^(呈送|报送|抄送|抄报|发送|分送|送|印发)\s*[:：](.+)$",
        "distribution list (呈送：…, 抄送：…, 印发：…)",
        "distributed_to",
        2,
    ),
    Rule(
        "print_date",
        rf"^(.{{0,40}}?)\s*{_DATE}\s*印\s*发$",
        "printing office and date (…2021年6月15日印发)",
        "print_date",
    ),
    Rule("copies", r"^共\s*印\s*(\d+)\s*份$", "number of copies printed (共印210份)", "copies", 1),
    Rule("date", rf"^{_DATE}$", "signature date below the body", "date"),
    Rule(
        "issuer",
        rf"^[{CJK_IDEOGRAPH}（）、]{{2,40}}{_ORG_SUFFIX}{_NOT_ORG_END}$",
        "issuing or printing organisation on a line of its own",
        "issuer",
    ),
    Rule(
        "circulation",
        r"^[（(](此件公开发布|此件不公开|此件发至.{1,20})[）)]$",
        "circulation note (（此件公开发布）)",
        "circulation",
    ),
    Rule(
        "reference",
        r"^\s*(?:[［\[]\s*\d{1,3}\s*[］\]]|\d{1,3}[.．、]\s*(?=.*[［\[][A-Z]{1,2}(?:/OL)?[］\]])).+$",
        "an entry of a reference list ([1] 作者. 题名[J]. 期刊, 2020.)",
    ),
    Rule(
        "news_byline_note",
        rf"^[（(](?:本报|本刊|本网|[{CJK_IDEOGRAPH}]{{2,8}}?(?:日报|报|网|社|台))?(?:特约|首席|见习)?"
        rf"(?:记者|通讯员|实习生)[^（）()。]{{0,40}}[）)]$",
        "reporters' credit below the text ((本报记者 某某 某某))",
        "author",
    ),
    Rule(
        "web_link_item",
        r"^[·•‧●▪■◆◇○\-]\s*[^。！？]{2,40}$",
        "an item of a related-links list below the body (· 宁夏代表团赴厦门考察…), only under such a heading",
    ),
    Rule(
        "references_heading",
        r"^[【\[]?(参考文献|注释|References)[】\]]?[:：]?$",
        "heading of the reference list",
    ),
    *_JOURNAL_RULES,
    *_WEB_RULES,
    _LATIN_LINE,
)

#: Rules applied to every line of the body.
BODY_RULES: tuple[Rule, ...] = (
    Rule(
        "page_number",
        r"^(?:[-—–－]\s*\d{1,4}\s*[-—–－]|\d{1,3}|第\s*\d+\s*页(?:\s*[，,/]?\s*共\s*\d+\s*页)?|\d{1,4}\s*/\s*\d{1,4})$",
        "page number left by the print layout (— 3 —, 第3页, 3/12)",
    ),
    Rule(
        "web_widget",
        r"^[【\[](打印|关闭|关闭窗口|打印本页|返回顶部|收藏|分享|列印)[】\]](\s*[【\[][^】\]]{1,6}[】\]])*$",
        "print/close widgets of a web page inside the text",
    ),
    Rule("url", r"^(?:https?://|www\.)\S+$", "a web address on a line of its own"),
    Rule("html_tag", r"^(?:<[^<>]{1,200}>\s*)+$", "a line of leftover HTML tags (<td id=…></td>)"),
    Rule(
        "photo_caption",
        rf"^图为[^。！？]{{2,80}}。?$|^(?:[{CJK_IDEOGRAPH}]{{0,12}}(?:记者|通讯员))?[{CJK_IDEOGRAPH}]{{2,4}}"
        rf"(?:[、，][{CJK_IDEOGRAPH}]{{2,4}})*\s*摄$"
        rf"|^(?=.{{2,60}}$)(?![{_CN_NUM}]+、|（|第)(?:[^。！？]{{1,30}}。)?[^。！？]{{1,24}}(?:摄|摄影|供图|制图)[）)]?$",
        "photo caption and credit (图为…。, 马某某摄, 古田翠屏湖风光。某某融媒体中心供图)",
    ),
    *_JOURNAL_RULES,
)

# --------------------------------------------------------------------------------------------------
# Rules for pages as researchers collect them (news sites, journal databases, mirrors)
# --------------------------------------------------------------------------------------------------

_LINE_SPACE = "[ \t\u00a0\u3000]"
#: Runs of ``?``/``？`` that stand for ideographic spaces lost in a bad re-encoding (``??闽宁协作…``,
#: ``…发展。??福建…``). ASCII runs always; full-width runs only where a real question mark cannot be:
#: at the start of a line, or right after a sentence end or closing quote.
_QMARK_RUN = re.compile(r"[?？]{2,}")
_QMARK_LINE = re.compile(r"^[\s\u3000]*[?？]+[\s\u3000]*$")
_QMARK_AFTER = "。！；;…”’」』）)》"
#: Paragraphs run together on one line, separated only by spaces: a run of two or more spaces
#: after a sentence end (or before a heading marker) and before Chinese text starts a new paragraph.
_SPACE_PARAGRAPH = re.compile(
    rf"(?<=[。！？!?；…”’」』）)》]){_LINE_SPACE}{{2,}}(?=[{CJK_IDEOGRAPH}“《（(【〔])"
    rf"|(?<=\S){_LINE_SPACE}{{2,}}(?=(?:[{_CN_NUM}]+、|[（(][{_CN_NUM}]+[）)]|第[{_CN_NUM}\d]+[章节条])"
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
_PINYIN_ANNOTATION = re.compile(
    rf"(?<=[{CJK_IDEOGRAPH}])[（(] ?({_PINYIN_SYL}(?: {_PINYIN_SYL}){{0,3}}) ?[）)]"
)
_PINYIN_FINALS = ["a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "ong", "er", "i", "ia", "ie", "iao", "iu", "ian", "in", "iang", "ing", "iong", "u", "ua", "uo", "uai", "ui", "uan", "un", "uang", "ueng", "v", "ve", "van", "vn", "ue"]
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


# Journal front matter: bracketed (【摘要】 〔关键词〕 [中图分类号]) or colon-style (摘要： DOI:) labels.
#: label (simplified script, spaces removed by normalisation) -> rule name, metadata field
FRONT_MATTER_LABELS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("摘要", "内容摘要", "内容提要", "提要"), ("journal_abstract", "")),
    **dict.fromkeys(("Abstract", "ABSTRACT"), ("journal_abstract_en", "abstract_en")),
    **dict.fromkeys(
        ("关键词", "关键字", "主题词", "Keywords", "Key words", "KEY WORDS", "Key Words"),
        ("journal_keywords", "keywords"),
    ),
    **dict.fromkeys(
        (
            "中图分类号",
            "中图法分类号",
            "分类号",
            "文献标识码",
            "文献标志码",
            "文章编号",
            "DOI",
            "doi",
            "CLC number",
            "CLC",
            "Document code",
            "Article ID",
        ),
        ("journal_classification", "journal_ids"),
    ),
    **dict.fromkeys(
        ("基金项目", "项目基金", "作者简介", "作者单位", "通讯作者", "通信作者"),
        ("author_bio", "author_bio"),
    ),
    **dict.fromkeys(
        (
            "收稿日期",
            "修回日期",
            "录用日期",
            "网络出版时间",
            "网络首发时间",
            "发表日期",
            "出版日期",
        ),
        ("journal_dates", "journal_dates"),
    ),
    **dict.fromkeys(
        ("引用格式", "引用本文", "本文引用格式", "网络出版地址", "网络首发地址"),
        ("journal_citation", "citation"),
    ),
    # only in brackets (【作者】) or alone on a line: with a colon they start ordinary lines
    **dict.fromkeys(("作者", "作者信息", "机构", "基金"), ("author_bio", "author_bio")),
    "出处": ("journal_citation", "citation"),
}
#: Labels that count only in brackets or alone on a line (``作者：`` is a byline, ``基金：`` text).
FRONT_MATTER_BRACKET_ONLY = frozenset({"作者", "作者信息", "机构", "基金", "出处"})
#: Labels followed by a space instead of a colon on some sites (``摘要 人口较少…``, ``中图分类号 S-9``).
FRONT_MATTER_SPACED = (
    "摘要",
    "关键词",
    "中图分类号",
    "文献标识码",
    "文章编号",
    "基金项目",
    "作者简介",
    "收稿日期",
    "Abstract",
    "Key words",
    "Keywords",
    "DOI",
)


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
# on the raw line: the label's characters may be spaced out (摘 要, 关 键 词)
_FM_SPACED_ALT = "|".join(
    "[ \u3000]*".join(re.escape(ch) for ch in k.replace(" ", ""))
    if not k.isascii()
    else re.escape(k).replace(r"\ ", r"\s*")
    for k in sorted(FRONT_MATTER_SPACED, key=len, reverse=True)
)
#: A raw line without any of these needs none of the raw-line repairs.
_RAW_WORK = re.compile("[?？\t\u00a0\u3000]|  |^[ \u3000]*(?:[摘关關中文基作收ADK]|Key)")
_FM_SPACED_START = re.compile(r"^[ \u3000]*(?:[摘关關中文基作收ADK]|Key)")
_FM_SPACED = re.compile(rf"(^[ \u3000]*|[ \u3000]+)({_FM_SPACED_ALT})[ \u3000]+(?=[^\s:：])")


def line_label_colons(raw: str) -> str:
    """Give a colon to front-matter labels followed only by spaces, on a line that starts with one.

    Some sites print ``摘要 人口较少…`` or ``中图分类号 S-9 文献标识码 A``; normalisation would remove
    the spaces and with them the end of the label. Applied to the raw line; matching is done on the
    simplified-script copy, so ``關鍵詞 …`` is found too.
    """
    if not _FM_SPACED_START.match(raw):
        return raw
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
_NEWS_SOURCE = rf"(?:本报|本刊|本网|本台|[{CJK_IDEOGRAPH}]{{1,12}}?(?:日报|晚报|时报|商报|报|网|台|社|客户端|新闻))"
_DATELINE = re.compile(
    rf"^[□■◇◆◎●○☆★▲△]?\s*[【\[]?\s*(?!据)"
    rf"(?:{_NEWS_SOURCE}\s*讯"  # 本报讯, 福建日报讯
    rf"|{_NEWS_SOURCE}\s*[{CJK_IDEOGRAPH}]{{0,8}}?\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日\s*电"  # …3月5日电
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


#: Common Chinese surnames (simplified), for author lines whose names are separated only by spaces
#: (``王园 张仪华``), which normalisation would run together.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
    "崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文"
    "牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛"
    "曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏"
    "席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_SPACED_NAME = rf"[{_SURNAMES}](?:[{CJK_IDEOGRAPH}]{{1,2}}|[ \u3000][{CJK_IDEOGRAPH}](?![{CJK_IDEOGRAPH}]))[\d*]{{0,2}}"
_SPACED_NAMES = re.compile(rf"^(?:{_SPACED_NAME}[ \u3000,，、;；]+){{1,7}}{_SPACED_NAME}$")
_SPACED_NAMES_RULE = Rule(
    "journal_authors",
    _SPACED_NAMES.pattern,
    "author names separated only by spaces under or over the title (王园 张仪华), matched on the raw line",
    "author",
)
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

#: Every body rule is anchored at the line start, so one ``match`` of their union rejects most lines.
_BODY_ANY = re.compile("|".join(f"(?:{r.pattern})" for r in BODY_RULES))

_NOTICE = re.compile(r"^.{0,80}?(?:印发|转发|颁布|发布)\s*《(.+?)》\s*的\s*(?:通知|函)$")

# --------------------------------------------------------------------------------------------------
# Headings and sentences
# --------------------------------------------------------------------------------------------------

#: Heading markers, from the highest to the lowest rank. A marker of a rank closes every open
#: heading of the same or a lower rank.
HEADING_MARKERS: tuple[tuple[str, str], ...] = (
    ("chapter", rf"第[{_CN_NUM}\d]+[章编]"),
    ("section", rf"第[{_CN_NUM}\d]+节"),
    ("cn", rf"[{_CN_NUM}]+、"),
    ("cn_paren", rf"（[{_CN_NUM}]+）"),
    ("arabic", r"\d{1,2}(?:[.．、](?!\d))"),
    ("arabic_paren", r"（\d{1,2}）"),
    ("circled", "[①-⑳]"),
    ("article", rf"第[{_CN_NUM}\d]+条"),
)
_HEADING = re.compile("^(?:" + "|".join(f"(?P<{n}>{p})" for n, p in HEADING_MARKERS) + r")\s*")
_RANK = {name: i for i, (name, _) in enumerate(HEADING_MARKERS)}
_SENT_END = "。！？!?…"
_CLOSERS = "”’）)》」』】〕"
_PARA_END = re.compile(f"[{_SENT_END}；;：:][{_CLOSERS}]*$")
_FIRST_SENTENCE = re.compile(f"^.*?[{_SENT_END}]+[{_CLOSERS}]*")
_SENTENCE_SPLIT = re.compile(f"[{_SENT_END}]+[{_CLOSERS}]*|(?<=[a-z0-9][.?!])\\s+(?=[A-Z])")
_ENUM_START = re.compile(
    r"^(其次|再次|然后|最后|此外|另外|第[二三四五六七八九十]|二是|三是|四是|五是)[，、,]?"
)
_ENUM_BEFORE = re.compile(r"(首先|其次|再次|第一|一是|二是|三是|四是)")
_INLINE_HEADING = re.compile(
    rf"(?:(?<=[{_SENT_END}])|(?<=[{_SENT_END}][{_CLOSERS}]))(?=(?:[{_CN_NUM}]+、|（[{_CN_NUM}]+）|（\d{{1,2}}）)[^\n]{{2,}})"
)

_FIRST_CHILD = re.compile(rf"^([{_CN_NUM}]+、[^{_SENT_END}（]{{2,40}})(?=（一）)")

#: A line this short without any punctuation stands alone (a label such as 前言 or 结语), never joined.
MAX_LABEL_CHARS = 20
_ANY_PUNCT = re.compile(f"[{_SENT_END}，、；：,;:]")
#: A short line without a sentence end that appears this often in the body is a running header/footer.
RUNNING_HEADER_MIN = 3
MAX_HEADING_CHARS = (
    40  # an inline heading (（一）经济逻辑。…) is the first sentence up to this length
)
MAX_TITLE_CHARS = 60


def heading_marker(line: str) -> tuple[str, str] | None:
    """Return ``(kind, marker)`` when ``line`` starts with a heading marker (一、 （一） 1. （1） …)."""
    m = _HEADING.match(line)
    if not m:
        return None
    return m.lastgroup, m.group(0)


def heading_split(line: str) -> tuple[str, str, str] | None:
    """Split a line that starts with a heading marker into ``(kind, heading, rest)``.

    The heading is the whole line when it has no sentence end and is short (``一、准确把握…总体要求``),
    otherwise its first sentence when that is at most :data:`MAX_HEADING_CHARS` characters
    (``（一）经济逻辑。`` then ``首先，…``); a long first sentence leaves the marker alone as the heading
    (a numbered paragraph). ``第X条`` articles always keep only the marker.
    """
    hit = heading_marker(line)
    if hit is None:
        return None
    kind, marker = hit
    body = line[len(marker) :]
    if kind == "article":
        return kind, marker.rstrip(), body
    if not re.search(f"[{_SENT_END}]", body) and len(body) <= MAX_TITLE_CHARS:
        return kind, line, ""
    m = _FIRST_SENTENCE.match(body)
    if m and len(m.group(0)) <= MAX_HEADING_CHARS:
        return kind, marker + m.group(0), body[m.end() :]
    return kind, marker.rstrip(), body


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
    (``…返贫”。``); an end inside an open ``“…”`` or ``（…）`` does not split, unless the quotes never
    close (a truncated text), where the plain ends are used. A quotation's own ``！？。`` before its
    closing quote keep the quotation inside the sentence when text follows (``某某指出：“……，一定能
    做到！”这体现了……``, ``“……。”他说。``); the quotation ends the sentence only when it is a full
    statement introduced by a colon and closed with ``。`` (``强调：“……。”近年来，……``) or ends the
    paragraph. The spans cover the paragraph without gaps except leading and trailing spaces.
    """
    if "”" in text or "’" in text:
        ends = [
            m.end() for m in _SENTENCE_SPLIT.finditer(text) if not _quotation_continues(text, m)
        ]
    else:
        ends = [m.end() for m in _SENTENCE_SPLIT.finditer(text)]
    if not ends or ends[-1] != len(text):
        ends.append(len(text))
    spans: list[tuple[int, int]] = []
    start = 0
    depth_ok = text.count("“") == text.count("”") and text.count("（") == text.count("）")
    for end in ends:
        if end <= start:
            continue
        piece = text[start:end]
        if (
            depth_ok
            and end != len(text)
            and (piece.count("“") > piece.count("”") or piece.count("（") > piece.count("）"))
        ):
            continue  # inside quotes or brackets: keep going
        spans.append((start, end))
        start = end
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


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------

AUDIT_COLUMNS = ["doc_id", "line", "part", "rule", "action", "text"]
JOIN_COLUMNS = ["doc_id", "line", "joined_line", "rule", "tail", "head"]
METADATA_COLUMNS = ["doc_id", "field", "value", "line", "rule"]
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
        """Every raw line taken out of the body, with the rule that took it out (and the title line)."""
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


@dataclass
class _Block:
    """A paragraph being assembled from raw lines (mutable while joining)."""

    text: str
    lines: list[tuple[int, int]]  # (offset in text, raw line number)
    label: str = ""  # a front-matter label the paragraph carries (摘要), shown as its heading path

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


def lines_join(lines: Sequence[tuple[int, str]], doc_id: str) -> tuple[list[_Block], list[dict]]:
    """Group body lines into paragraphs, rejoining paragraphs split by page breaks.

    ``lines`` holds ``(line_index, text)`` or ``(line_index, text, label)``; a labelled line (an
    abstract, label ``摘要``) starts its own paragraph and carries the label.
    Returns the paragraphs (each with the raw line numbers of its parts) and one record per join.
    Two rules join a line to the paragraph before it:

    - ``page_break``: the paragraph does not end a sentence or clause (its last character is not one
      of ``。！？；：…`` before closing quotes) and the line is not a heading, e.g. ``福建地区资`` +
      ``金充足、人才济济…``. A heading line never takes a continuation (``一、…总体要求`` stays alone),
      nor does a short label of at most :data:`MAX_LABEL_CHARS` characters without punctuation
      (``前言``);
    - ``enumeration``: the line opens with the next step of an enumeration (``其次，`` ``再次，``
      ``最后，`` ``二是``) and the paragraph has already begun one (``首先，``), as when a page break
      falls between two sentences of one paragraph.
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
            if not _PARA_END.search(prev.text) and not short_label:
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
        blocks.append(_Block(text, [(0, line_no + 1)], label))
        last_heading_only = bool(split) and not split[2]
    return blocks, joins


def blocks_to_units(
    blocks: Sequence[_Block], doc_id: str, *, title: str | None = None, title_line: int = 0
) -> tuple[pd.DataFrame, str]:
    """Build the document structure and return ``(units, cleaned_text)``.

    Units come at two levels, ``paragraph`` and ``sentence``; both carry the title (``kind`` =
    ``title``, id ``<doc>-t``) and every heading (``kind`` = ``heading``, id ``<doc>-<path>-h``), then
    the paragraphs (``<doc>-<path>-p<n>``) or sentences (``<doc>-<path>-p<n>-s<m>``). ``<path>`` numbers
    the headings as the document does: ``2.3`` is the third ``（三）`` under ``二、``; text before the
    first heading has path ``0``. ``start``/``end`` are offsets into the cleaned text, which holds the
    title and one line per paragraph (an inline heading shares its paragraph's line), so
    ``cleaned_text[start:end] == text`` for every unit.
    """
    rows, clean_text = _units_build(blocks, doc_id, title=title, title_line=title_line)
    return pd.DataFrame(rows, columns=UNIT_COLUMNS), clean_text


def _units_build(
    blocks: Sequence[_Block], doc_id: str, *, title: str | None = None, title_line: int = 0
) -> tuple[list[dict], str]:
    """Return the unit rows and the cleaned text (see :func:`blocks_to_units`)."""
    rows: list[dict] = []
    parts: list[str] = []
    offset = 0
    stack: list[tuple[str, int, str, str]] = []  # (kind, number, label, unit_id)
    counters: dict[tuple, int] = {}
    para_counter: dict[str, int] = {}

    def path_str() -> str:
        return ".".join(str(n) for _, n, _, _ in stack) or "0"

    def add(
        level: str,
        kind: str,
        unit_id: str,
        start: int,
        end: int,
        text: str,
        parent: str,
        lines: list[int],
        heading_level: int,
        label: str = "",
    ) -> None:
        labels = [lab for _, _, lab, _ in stack] + ([label] if label else [])
        rows.append(
            {
                "doc_id": doc_id,
                "unit_id": unit_id,
                "level": level,
                "kind": kind,
                "heading_level": heading_level,
                "heading_path": " > ".join(labels),
                "section": labels[0] if labels else "",
                "parent_id": parent,
                "start": start,
                "end": end,
                "n_chars": end - start,
                "lines": _line_range(lines),
                "text": text,
            }
        )

    if title:
        uid = f"{doc_id}-t"
        for level in ("paragraph", "sentence"):
            add(level, "title", uid, 0, len(title), title, "", [title_line], 0)
        parts.append(title)
        offset = len(title) + 1

    for block in blocks:
        text = block.text
        split = heading_split(text)
        body_start = 0
        if split:
            kind, heading, rest = split
            while stack and _RANK[stack[-1][0]] >= _RANK[kind]:
                stack.pop()
            key = tuple(n for _, n, _, _ in stack)
            counters[key] = counters.get(key, 0) + 1
            parent = stack[-1][3] if stack else (f"{doc_id}-t" if title else "")
            label = heading.rstrip(_SENT_END + "，,；; ")
            stack.append((kind, counters[key], label, ""))
            uid = f"{doc_id}-{path_str()}-h"
            stack[-1] = (kind, counters[key], label, uid)
            h_end = len(heading)
            for level in ("paragraph", "sentence"):
                add(
                    level,
                    "heading",
                    uid,
                    offset,
                    offset + h_end,
                    heading,
                    parent,
                    block.raw_lines(0, h_end),
                    len(stack),
                )
            body_start = len(text) - len(rest)
        body = text[body_start:]
        if body.strip():
            lead = len(body) - len(body.lstrip(" "))
            body_start += lead
            body = body.strip(" ")
            path = path_str()
            para_counter[path] = para_counter.get(path, 0) + 1
            pid = f"{doc_id}-{path}-p{para_counter[path]}"
            parent = stack[-1][3] if stack else (f"{doc_id}-t" if title else "")
            p0 = offset + body_start
            add(
                "paragraph",
                "text",
                pid,
                p0,
                p0 + len(body),
                body,
                parent,
                block.raw_lines(body_start, body_start + len(body)),
                len(stack),
                block.label,
            )
            for n, (s, e) in enumerate(text_split_sentences(body), start=1):
                add(
                    "sentence",
                    "text",
                    f"{pid}-s{n}",
                    p0 + s,
                    p0 + e,
                    body[s:e],
                    pid,
                    block.raw_lines(body_start + s, body_start + e),
                    len(stack),
                    block.label,
                )
        parts.append(text)
        offset += len(text) + 1

    clean_text = "\n".join(parts) + ("\n" if parts else "")
    rows.sort(key=lambda r: (r["level"] != "paragraph", r["start"], r["end"]))
    return rows, clean_text


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

    Unreadable documents, rows without files and files without rows end up in ``problems``; the other
    documents are cleaned. The encoding of each document is added to the summary.
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
        text_write(doc.text, p)  # atomic: a failed write leaves the old file
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
