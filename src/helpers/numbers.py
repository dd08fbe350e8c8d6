"""Numbers the documents cite: amounts, people, counts, shares, years and dates.

:func:`numbers_extract` finds every quantity in a table of units (Arabic or Chinese numerals,
converted with ``cn2an``), with its value in a base unit (54.82亿元 → 5,482,000,000 元), what it
counts (best effort, from the words around it) and its sentence and span; :func:`numbers_excluded`
lists the numerals that are not quantities (document numbers, plan names, ordinals, slogans, the
indefinite 一) with the rule that left each out. Notebook 04 writes both as
``summary_numbers*.csv``.
"""

from __future__ import annotations

import re

import pandas as pd

_CN = "零〇一二两三四五六七八九十百千"
_CN_NUM = f"[{_CN}][{_CN}万亿]*"
_AR_NUM = r"\d+(?:\.\d+)?"

#: unit as written after the number → (quantity_type, base_unit, factor to the base unit)
UNITS: dict[str, tuple[str, str, float]] = {
    "元": ("amount", "元", 1),
    "美元": ("amount", "美元", 1),
    "人次": ("people", "人次", 1),
    "人": ("people", "人", 1),
    "名": ("people", "人", 1),
    "位": ("people", "人", 1),
    "户": ("households", "户", 1),
    "%": ("share", "%", 1),
    "个百分点": ("share_points", "百分点", 1),
    "个月": ("duration", "月", 1),
    "年": ("duration", "年", 1),
    "天": ("duration", "天", 1),
    "亩": ("area", "亩", 1),
    "公顷": ("area", "公顷", 1),
    "平方米": ("area", "平方米", 1),
    "平方公里": ("area", "平方公里", 1),
    "吨": ("weight", "吨", 1),
    "公斤": ("weight", "公斤", 1),
    "公里": ("length", "公里", 1),
    "千瓦": ("power", "千瓦", 1),
    "倍": ("ratio", "倍", 1),
    **{
        u: ("count", u, 1)
        for u in (
            "个",
            "家",
            "次",
            "份",
            "项",
            "所",
            "座",
            "批",
            "条",
            "种",
            "期",
            "届",
            "场",
            "处",
            "台",
            "套",
            "篇",
            "部",
            "类",
            "支",
            "间",
        )
    },
    # places counted directly (两省区, 9县); the unit is itself the counted noun
    **{
        u: ("count", u, 1)
        for u in ("省区", "省份", "省", "市", "县", "区", "乡", "镇", "村", "地", "州")
    },
}
PLACE_UNITS = frozenset({"省区", "省份", "省", "市", "县", "区", "乡", "镇", "村", "地", "州"})
PEOPLE_NOUNS = ("人口", "人员", "群众", "劳动力", "农民", "干部", "人才", "人")
_MAGNITUDES = {"万亿": 10**12, "亿": 10**8, "万": 10**4, "千": 10**3}

#: spans that contain a numeral but are not quantities, tried in this order (name, pattern, reason)
EXCLUSIONS: tuple[tuple[str, str, str], ...] = (
    ("doc_number", r"[〔\[［]\d{4}[〕\]］]\s*第?\d+\s*号", "document number (发文字号)"),
    (
        "model_name",
        r"\d+(?:\s*[+＋]\s*(?:\d+|N|n|X|x))+",
        "name of a model or scheme such as “1+1+1”",
    ),
    ("plan_name", r"十[一二三四五六七八九]五", "five-year plan name (“十四五”)"),
    (
        "party_congress",
        f"(?:党的)?[{_CN}]+(?:大(?=以来|精神|报告|代表|召开|提出|强调|$|[，。、；）”])|届[{_CN}]*中全会)",
        "ordinal: party congress or plenum (党的十八大)",
    ),
    ("ordinal", f"第(?:{_AR_NUM}|[{_CN}]+)", "ordinal (第N)"),
    (
        "slogan",
        "两个确立|两个维护|四个意识|四个自信|四个全面|三个代表|五位一体|四个不摘|两不愁三保障",
        "political slogan naming a set (四个不摘)",
    ),
    (
        "idiom",
        "千家万户|千方百计|千千万万|一家一户|一村一品|一县一业|一乡一业|一批又一批|一次性",
        "idiom or fixed phrase",
    ),
    ("quoted_name", "“[^”]{0,10}”", "short quoted name (“…”) containing a numeral"),
    (
        "indefinite",
        f"(?<![{_CN}\\d])一(?:批|种|条|个|项|位|些|次|名|家|场)",
        "indefinite 一 (一批, 一种: “a”, not a count)",
    ),
)
_EXCLUSIONS = [(name, re.compile(p), reason) for name, p, reason in EXCLUSIONS]
_HAS_NUMERAL = re.compile(f"[\\d{_CN}]")

_UNIT_ALT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_QUANTITY = re.compile(
    r"(?<![\dA-Za-z.])"
    r"(?:(?P<year>\d{4}|[〇零一二三四五六七八九]{4})年"
    r"(?:(?P<month>\d{1,2})月(?:(?P<day>\d{1,2})日)?|(?P<part>上半年|下半年|年底|年末|年初|底|末|初))?"
    r"|(?P<percent_cn>百分之(?:" + _AR_NUM + f"|[{_CN}]+))"
    r"|(?:(?P<ar>" + _AR_NUM + r")(?P<mag>万亿|亿|万|千)?|(?P<cn>" + _CN_NUM + r"))"
    r"(?P<approx>余|多)?(?P<unit>" + _UNIT_ALT + r")?)"
    r"(?![A-Za-z])"
)
_APPROX_BEFORE = re.compile(r"(约|近|超过|逾|不到|不足)$")
_APPROX_AFTER = re.compile(r"^(左右|以上|以下|以内|上下)")

NUMBER_COLUMNS = [
    "doc_id",
    "unit_id",
    "start",
    "end",
    "value",
    "number",
    "unit",
    "value_base",
    "base_unit",
    "quantity_type",
    "qualifier",
    "date",
    "what",
    "sentence",
]
EXCLUDED_COLUMNS = ["doc_id", "unit_id", "start", "end", "value", "rule", "reason", "sentence"]


def _cn2an(s: str) -> float:
    """Convert an Arabic or Chinese numeral (with 万/亿) to a number with cn2an.

    万亿 is handled in two steps.
    """
    import cn2an

    if s.endswith("万亿"):
        return float(cn2an.cn2an(s[:-1], "smart")) * 10**8
    if re.fullmatch("[〇零一二三四五六七八九]+", s) and len(s) > 1:  # digit by digit: 二〇二一
        return float(cn2an.cn2an(s, "normal"))
    return float(cn2an.cn2an(s, "smart"))


def _has_candidate(text: str) -> bool:
    """True when ``text`` holds what :func:`numbers_extract` would otherwise take as a quantity."""
    return any(
        m.group("ar")
        or m.group("year")
        or m.group("percent_cn")
        or (m.group("cn") and m.group("unit"))
        for m in _QUANTITY.finditer(text)
    )


def _exclusions(text: str) -> list[tuple[int, int, str, str]]:
    """Return (start, end, rule, reason) of every excluded span of ``text`` holding a numeral."""
    out: list[tuple[int, int, str, str]] = []
    taken: list[tuple[int, int]] = []
    for name, rx, reason in _EXCLUSIONS:
        for m in rx.finditer(text):
            s, e = m.span()
            if not _HAS_NUMERAL.search(m.group(0)) or any(s < b and a < e for a, b in taken):
                continue
            if name == "quoted_name" and not _has_candidate(m.group(0)):
                continue  # a quotation without a would-be quantity (“统一”) is nothing to exclude
            taken.append((s, e))
            out.append((s, e, name, reason))
    return sorted(out)


def _sentence(text: str, start: int) -> str:
    from helpers.text import text_split_sentences

    for s, e in text_split_sentences(text):
        if s <= start < e:
            return text[s:e]
    return text


_PUNCT = set("，。；：、！？（）()“”‘’《》〈〉【】—…,.;:!?\"' \n")
_STOP_AFTER = {
    "全部",
    "均",
    "都",
    "已",
    "已经",
    "与",
    "和",
    "及",
    "以及",
    "等",
    "以来",
    "左右",
    "以上",
    "以下",
    "以内",
    "上下",
    "之间",
    "其中",
    "分别",
    "共",
    "累计",
}
_LINK_BEFORE = {
    "有",
    "达到",
    "达",
    "为",
    "是",
    "共",
    "累计",
    "约",
    "近",
    "超过",
    "逾",
    "已",
    "了",
    "过",
    "共计",
    "合计",
    "总计",
    "先后",
    "计",
}
_LEADING_DROP = {"同时", "并", "还", "而", "且", "此外", "其中"}
_BREAK_TAGS = ("v", "vd", "vi", "vq", "p", "c", "ul", "ug", "uz", "uv", "r", "y", "e")


def _nominal(tag: str) -> bool:
    return tag.startswith("n") or tag in {"l", "j", "vn", "zg", "nz", "i", "ng", "vg", "an"}


def _what(
    tokens: list[tuple[int, int, str, str]], start: int, end: int, unit: str, qtype: str
) -> str:
    """Best-effort noun phrase a quantity counts; see :func:`numbers_extract` for the heuristic."""
    if qtype in ("year", "date"):
        return ""
    if unit in PLACE_UNITS:
        return unit
    # tokens after / before the span; a token straddling the span edge keeps only its outside part
    after = [(max(s, end), e, w[max(s, end) - s :], tag) for s, e, w, tag in tokens if e > end]
    before = [
        (s, min(e, start), w[: min(e, start) - s], tag) for s, e, w, tag in tokens if s < start
    ]
    # forward: 54.82亿元的[帮扶资金], 27次[联席会议], 9个[贫困县]的脱贫摘帽, 5次[出席联席会议]
    phrase: list[str] = []
    tags: list[str] = []
    for i, (_, _, w, tag) in enumerate(after):
        if i == 0 and w in ("的", "之"):
            continue
        if not w or w in _STOP_AFTER or w[0] in _PUNCT:
            break
        nxt = after[i + 1][3] if i + 1 < len(after) else "x"
        if any(_nominal(t) for t in tags) and (
            tag in _BREAK_TAGS or (w == "的" and nxt in _BREAK_TAGS)
        ):
            break
        phrase.append(w)
        tags.append(tag)
    while tags and not _nominal(tags[-1]):
        phrase.pop()
        tags.pop()
    if phrase:
        return "".join(phrase)
    # backward: 落地宁夏的[项目]有908个, [实际到资]392.11亿元, [帮助宁夏劳动力在福建就业]3799人
    clause: list[tuple[str, str]] = []
    for _, _, w, tag in reversed(before):
        if not w or w[-1] in _PUNCT:
            break
        clause.insert(0, (w, tag))
    while clause and clause[-1][0] in _LINK_BEFORE:
        clause.pop()
    while clause and clause[0][0] in _LEADING_DROP:
        clause.pop(0)
    if clause and (clause[-1][1].startswith("n") or clause[-1][1] in ("l", "nz")):
        head: list[str] = []
        for w, tag in reversed(clause):
            if not (tag.startswith("n") or tag in ("l", "nz")):
                break
            head.insert(0, w)
        return "".join(head)
    return "".join(w for w, _ in clause)


def _quantities(text: str) -> list[dict]:
    """Return the quantities of one text (no ``what`` yet); excluded spans are skipped."""
    excluded = [(s, e) for s, e, _, _ in _exclusions(text)]
    out = []
    for m in _QUANTITY.finditer(text):
        s, e = m.span()
        if any(s < b and a < e for a, b in excluded):
            continue
        g = m.groupdict()
        rec = {"start": s, "end": e, "value": m.group(0), "qualifier": "", "date": ""}
        if g["year"]:
            y = int(_cn2an(g["year"]))
            if not 1900 <= y <= 2100:
                rec.update(
                    number=float(y),
                    unit="年",
                    value_base=float(y),
                    base_unit="年",
                    quantity_type="duration",
                )
            else:
                part = g["part"] or ""
                if g["month"]:
                    date = f"{y:04d}-{int(g['month']):02d}" + (
                        f"-{int(g['day']):02d}" if g["day"] else ""
                    )
                    unit = "年月日" if g["day"] else "年月"
                elif part in ("底", "末", "年底", "年末"):
                    date, unit = f"{y:04d}-12-31", "年" + part.lstrip("年")
                else:
                    date, unit = f"{y:04d}", "年" + part.lstrip("年") if part else "年"
                rec.update(
                    number=float(y),
                    unit=unit,
                    value_base=float(y),
                    base_unit="年",
                    quantity_type="date" if (g["month"] or part) else "year",
                    date=date,
                )
        elif g["percent_cn"]:
            n = _cn2an(g["percent_cn"][3:])
            rec.update(number=n, unit="%", value_base=n, base_unit="%", quantity_type="share")
        else:
            unit = g["unit"] or ""
            if g["cn"]:
                cn = g["cn"]
                if not unit:
                    continue  # a Chinese numeral without a unit (统一, 一体) is not a quantity
                mag = cn[-1] if len(cn) > 1 and cn[-1] in "万亿" else ""
                number, full = _cn2an(cn[: len(cn) - len(mag)]), _cn2an(cn)
            else:
                mag = g["mag"] or ""
                number, full = _cn2an(g["ar"]), _cn2an(g["ar"] + mag)
            qtype, base_unit, factor = UNITS.get(unit, ("number", "", 1))
            rec.update(
                number=number,
                unit=mag + (g["approx"] or "") + unit,
                value_base=full * factor,
                base_unit=base_unit,
                quantity_type=qtype,
            )
            if g["approx"]:
                rec["qualifier"] = g["approx"]
        before = _APPROX_BEFORE.search(text[max(0, s - 2) : s])
        after = _APPROX_AFTER.match(text[e : e + 2])
        parts = (before and before.group(1), rec["qualifier"], after and after.group(1))
        rec["qualifier"] = "".join(x for x in parts if x)
        out.append(rec)
    return out


def numbers_extract(
    units: pd.DataFrame, *, segmenter=None, text_col: str = "text", id_col: str = "unit_id"
) -> pd.DataFrame:
    """Return every quantity in the units: one row per number, with what it counts and where it is.

    Columns: doc_id, unit_id, start, end (span of ``value`` in the unit text), value (as written:
    ``54.82亿元``, ``80.3万``, ``两省区``, ``2023年底``), number (the numeral: 54.82, 80.3, 2),
    unit (as written after it: ``亿元``, ``万``, ``省区``), value_base (in the base unit:
    5482000000, 803000, 2), base_unit (元, 人, 省区 …), quantity_type (amount, people, households,
    count, share, share_points, year, date, duration, area, weight, length, power, ratio, number),
    qualifier (约/近/超过 before, 余/多 inside, 左右/以上 after), date (ISO: ``1996``, ``2024-06``;
    ``年底`` → ``-12-31``), what (the noun phrase counted, best effort), sentence (the sentence
    holding the number).

    What is a quantity: an Arabic number (with 万/亿/万亿/千 and an optional unit from
    :data:`UNITS`), a Chinese numeral followed by a unit (五次, 两省区; a bare Chinese numeral is
    not a quantity: 统一, 一体), 百分之N, and years and dates (1996年, 2024年6月, 2023年底; a
    4-digit “year” outside 1900–2100 is a duration). Numerals are converted with ``cn2an``. Not
    quantities, and listed by
    :func:`numbers_excluded` with the rule: document numbers (〔2021〕10号), model names (“1+1+1”),
    plan names (十四五), ordinals (第N, 党的十八大), slogans naming a set (四个不摘), idioms
    (千家万户), numerals inside a short quotation (“…”, ≤ 10 characters: a name) and the indefinite
    一 (一批, 一种). Numbers glued to Latin letters (5G) are skipped.

    ``what`` (needs jieba: ``segmenter`` from :func:`helpers.tokens.segmenter_make`, made with the
    default user dictionary when None): for places (两省区, 9县) the place noun itself; else the
    noun phrase right after the quantity (skipping 的), cut at punctuation, at 全部/等/左右 …, and
    at a verb after its first noun, ending on a noun (54.82亿元的帮扶资金 → 帮扶资金;
    9个贫困县的脱贫摘帽 → 贫困县; 5次出席联席会议 → 出席联席会议); when nothing follows, or for
    people counted with 人, the clause before it, without 有/达到/为/累计 …: its final nouns when
    it ends on a noun (落地宁夏的项目 有908个 → 项目), else the whole clause
    (帮助宁夏劳动力在福建就业3799人). A bare magnitude whose phrase ends in a people noun
    (80.3万的建档立卡贫困人口) becomes quantity_type people, base unit 人. Years and dates get no
    ``what``.
    """
    from helpers.text import text_simplify_aligned

    if segmenter is None:
        from helpers.tokens import segmenter_make

        segmenter = segmenter_make()
    rows = []
    doc_ids = units["doc_id"] if "doc_id" in units else pd.Series("", index=units.index)
    with_numbers = []
    for doc_id, uid, text in zip(doc_ids, units[id_col], units[text_col].astype(str)):
        found = _quantities(text)
        if found:
            words = segmenter.cut(text_simplify_aligned(text))
            with_numbers.append((doc_id, uid, text, found, words))
    # the tags of every word at once: from the segmenter's tag cache when it knows them all
    tags = segmenter.pos_tags(w for *_, words in with_numbers for w in words)
    for doc_id, uid, text, found, words in with_numbers:
        toks, pos = [], 0
        for w in words:
            toks.append((pos, pos + len(w), text[pos : pos + len(w)], tags[w]))
            pos += len(w)
        for rec in found:
            what = _what(
                toks,
                rec["start"],
                rec["end"],
                rec["unit"].lstrip("万亿千余多") or rec["unit"],
                rec["quantity_type"],
            )
            if rec["quantity_type"] == "number" and what.endswith(PEOPLE_NOUNS):
                rec.update(quantity_type="people", base_unit="人")
            rows.append(
                {
                    "doc_id": doc_id,
                    "unit_id": uid,
                    **rec,
                    "what": what,
                    "sentence": _sentence(text, rec["start"]),
                }
            )
    out = pd.DataFrame(rows, columns=NUMBER_COLUMNS)
    out["start"] = out["start"].astype(int)
    out["end"] = out["end"].astype(int)
    return out


def numbers_excluded(
    units: pd.DataFrame, *, text_col: str = "text", id_col: str = "unit_id"
) -> pd.DataFrame:
    """Return the numerals :func:`numbers_extract` deliberately leaves out, with rule and reason.

    So exclusions can be reviewed: every document number, plan name, ordinal, slogan, idiom, short
    quoted name and indefinite 一 that holds a numeral. Columns: doc_id, unit_id, start, end, value,
    rule, reason, sentence.
    """
    rows = []
    doc_ids = units["doc_id"] if "doc_id" in units else pd.Series("", index=units.index)
    for doc_id, uid, text in zip(doc_ids, units[id_col], units[text_col].astype(str)):
        for s, e, rule, reason in _exclusions(text):
            rows.append(
                {
                    "doc_id": doc_id,
                    "unit_id": uid,
                    "start": s,
                    "end": e,
                    "value": text[s:e],
                    "rule": rule,
                    "reason": reason,
                    "sentence": _sentence(text, s),
                }
            )
    return pd.DataFrame(rows, columns=EXCLUDED_COLUMNS)
