"""The codebook: a YAML file a researcher edits, read and validated before anything is coded.

As KH Coder's coding-rule files, the codebook is data. :func:`codebook_read` returns a frozen
:class:`Codebook` or raises :class:`CodebookError` naming the file, the line, the code id and the
field; a malformed codebook never codes anything. :func:`codebook_lint` adds warnings that need
the corpus: keywords that never match as words because jieba cuts them differently, and indicators
that match nothing. :func:`codebook_manual` renders the definitions for human coders (without the
indicators, so coders are not led by the dictionary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from helpers import paths
from helpers.errors import InputError
from helpers.tables import path_resolve

CODEBOOK = paths.DATA / "codebook.yaml"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

TOP_FIELDS = {"codebook", "version", "source", "unit", "dimensions", "terms", "codes", "matching"}
CODE_FIELDS = {
    "id",
    "dimension",
    "label_zh",
    "label_en",
    "definition",
    "definition_quote",
    "include",
    "exclusions",
    "anchors",
    "indicators",
}
CODE_REQUIRED = ("id", "dimension", "label_zh", "definition", "indicators")
INDICATOR_FIELDS = {"keywords", "patterns", "rules"}
RULE_FIELDS = {"id", "all", "any", "near", "window", "not", "heading"}
DIMENSION_FIELDS = {"label_zh", "label_en", "description"}
MATCHING_FIELDS = {"keywords"}
DEFAULT_WINDOW = 10
#: Columns of the coded tables (``coding_units.csv``, the table ``helpers code`` writes): a code id
#: equal to one of them would overwrite that column or be overwritten by it.
RESERVED_IDS = frozenset(
    {"doc_id", "unit_id", "level", "kind", "heading_path", "section", "text", "n_codes", "evidence"}
)


class CodebookError(InputError):
    """The codebook cannot be used. The message names the file, the line, the field and the code
    (the format of every :class:`~helpers.errors.InputError`)."""


@dataclass(frozen=True)
class Rule:
    """A KH Coder-style rule over named terms; it fires when every given condition holds."""

    id: str
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    near: tuple[str, ...] = ()
    window: int = DEFAULT_WINDOW
    not_: tuple[str, ...] = ()
    heading: tuple[str, ...] = ()

    def describe(self) -> str:
        """Return the rule in one line, e.g. ``near(产业, 带动)[10] and not(生态名称)``."""
        parts = []
        if self.all:
            parts.append("all(" + ", ".join(self.all) + ")")
        if self.any:
            parts.append("any(" + ", ".join(self.any) + ")")
        if self.near:
            parts.append(f"near({', '.join(self.near)})[{self.window}]")
        if self.heading:
            parts.append("heading(" + ", ".join(self.heading) + ")")
        if self.not_:
            parts.append("not(" + ", ".join(self.not_) + ")")
        return " and ".join(parts)


@dataclass(frozen=True)
class Code:
    """One code of the codebook with its indicators."""

    id: str
    dimension: str
    label_zh: str
    label_en: str
    definition: str
    keywords: tuple[str, ...]
    patterns: tuple[str, ...]
    rules: tuple[Rule, ...]
    include: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    anchors: tuple[dict, ...] = ()
    definition_quote: dict | None = None
    line: int = 0


@dataclass(frozen=True)
class Codebook:
    """A validated codebook: codes in file order, the named terms their rules use, dimensions."""

    path: Path
    title: str
    version: str
    source: str
    unit: str
    dimensions: dict
    terms: dict[str, tuple[str, ...]]
    codes: tuple[Code, ...]
    keyword_match: str = "word"

    @property
    def ids(self) -> list[str]:
        """The code ids in codebook order (the column order of every coded table)."""
        return [c.id for c in self.codes]

    def code(self, code_id: str) -> Code:
        """Return the code with this id (KeyError if there is none)."""
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(code_id)


# --------------------------------------------------------------------------------------------------
# YAML with line numbers and without silent duplicate keys
# --------------------------------------------------------------------------------------------------


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml: 10× faster, same data
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    out: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {lines[key]})",
                key_node.start_mark,
            )
        out[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    out["__line__"] = node.start_mark.line + 1
    out["__lines__"] = lines
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line(mapping: dict, key: str | None = None) -> int | None:
    if key is not None and key in mapping.get("__lines__", {}):
        return mapping["__lines__"][key]
    return mapping.get("__line__")


def _fields(mapping: dict) -> set:
    return {k for k in mapping if k not in ("__line__", "__lines__")}


def _strings(
    value: Any,
    path: Path,
    line: int | None,
    code: str | None,
    field: str,
    *,
    allow_empty: bool = True,
) -> tuple[str, ...]:
    if value is None:
        value = []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise CodebookError(
            path,
            f"must be a list of strings, not {type(value).__name__}",
            line=line,
            code=code,
            field=field,
        )
    out = []
    for v in value:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str) or not v.strip():
            raise CodebookError(
                path,
                f"every entry must be a non-empty string, found {v!r}",
                line=line,
                code=code,
                field=field,
            )
        out.append(v.strip())
    if not out and not allow_empty:
        raise CodebookError(path, "is empty", line=line, code=code, field=field)
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# Reading and validation
# --------------------------------------------------------------------------------------------------


def codebook_read(path: str | Path = CODEBOOK) -> Codebook:
    """Read, validate and return the codebook at ``path``.

    Errors (:class:`CodebookError`): a missing file; YAML that does not parse or repeats a key;
    unknown fields anywhere (a misspelt ``keyword:`` would otherwise be ignored); a missing required
    field; a malformed or duplicate code id; a dimension that is not declared; empty indicators; an
    invalid regular expression; a rule without a positive condition, with ``near`` not naming two
    terms, or naming a term that ``terms`` does not define.
    """
    p = path_resolve(path)
    if not p.exists():
        raise CodebookError(p, "codebook not found")
    try:
        raw = yaml.load(p.read_text(encoding="utf-8-sig"), Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise CodebookError(
            p, f"not valid YAML: {problem}", line=mark.line + 1 if mark else None
        ) from None
    if not isinstance(raw, dict):
        raise CodebookError(p, "must be a mapping with a `codes:` list")
    unknown = _fields(raw) - TOP_FIELDS
    if unknown:
        key = sorted(unknown)[0]
        raise CodebookError(
            p, f"unknown field (allowed: {sorted(TOP_FIELDS)})", line=_line(raw, key), field=key
        )

    dims_raw = raw.get("dimensions") or {}
    if not isinstance(dims_raw, dict):
        raise CodebookError(
            p,
            "must be a mapping of dimension ids",
            line=_line(raw, "dimensions"),
            field="dimensions",
        )
    dimensions = {}
    for dim, spec in ((k, v) for k, v in dims_raw.items() if k not in ("__line__", "__lines__")):
        spec = spec or {}
        if not isinstance(spec, dict):
            raise CodebookError(
                p, "must be a mapping", line=_line(dims_raw, dim), field=f"dimensions.{dim}"
            )
        bad = _fields(spec) - DIMENSION_FIELDS
        if bad:
            raise CodebookError(
                p,
                f"unknown field {sorted(bad)[0]!r}",
                line=_line(spec, sorted(bad)[0]),
                field=f"dimensions.{dim}",
            )
        dimensions[str(dim)] = {k: spec[k] for k in _fields(spec)}

    terms_raw = raw.get("terms") or {}
    if not isinstance(terms_raw, dict):
        raise CodebookError(
            p,
            "must be a mapping of term names to word lists",
            line=_line(raw, "terms"),
            field="terms",
        )
    terms = {
        str(name): _strings(
            words, p, _line(terms_raw, name), None, f"terms.{name}", allow_empty=False
        )
        for name, words in terms_raw.items()
        if name not in ("__line__", "__lines__")
    }

    matching = raw.get("matching") or {}
    if not isinstance(matching, dict) or _fields(matching) - MATCHING_FIELDS:
        raise CodebookError(
            p, "allowed: keywords: word | substring", line=_line(raw, "matching"), field="matching"
        )
    keyword_match = matching.get("keywords", "word")
    if keyword_match not in ("word", "substring"):
        raise CodebookError(
            p,
            f"must be 'word' or 'substring', not {keyword_match!r}",
            line=_line(matching, "keywords"),
            field="matching.keywords",
        )

    codes_raw = raw.get("codes")
    if not isinstance(codes_raw, list) or not codes_raw:
        raise CodebookError(
            p,
            "missing or empty: the codebook needs a list of codes",
            line=_line(raw, "codes"),
            field="codes",
        )
    codes: list[Code] = []
    seen: dict[str, int] = {}
    for entry in codes_raw:
        code = _code_read(entry, p, terms, dimensions, seen)
        codes.append(code)
    unit = str(raw.get("unit", "sentence"))
    if unit not in ("sentence", "paragraph"):
        raise CodebookError(
            p,
            f"must be 'sentence' or 'paragraph', not {unit!r}",
            line=_line(raw, "unit"),
            field="unit",
        )
    return Codebook(
        path=p,
        title=str(raw.get("codebook", "")),
        version=str(raw.get("version", "")),
        source=str(raw.get("source", "")),
        unit=unit,
        dimensions=dimensions,
        terms=terms,
        codes=tuple(codes),
        keyword_match=keyword_match,
    )


def _code_read(entry: Any, p: Path, terms: dict, dimensions: dict, seen: dict[str, int]) -> Code:
    if not isinstance(entry, dict):
        raise CodebookError(p, f"each code must be a mapping, found {entry!r}", field="codes")
    line = _line(entry)
    cid = entry.get("id")
    if not isinstance(cid, str) or not ID_PATTERN.match(cid):
        raise CodebookError(
            p,
            f"id {cid!r} must be lower-case letters, digits and _ (e.g. social_participation)",
            line=_line(entry, "id") or line,
            field="id",
        )
    if cid in RESERVED_IDS:
        raise CodebookError(
            p,
            f"id {cid!r} is the name of a column of the coded tables "
            f"({', '.join(sorted(RESERVED_IDS))}); choose another id, e.g. {cid}_code",
            line=_line(entry, "id") or line,
            code=cid,
            field="id",
        )
    if cid in seen:
        raise CodebookError(
            p,
            f"duplicate id (first defined on line {seen[cid]})",
            line=_line(entry, "id"),
            code=cid,
            field="id",
        )
    seen[cid] = _line(entry, "id") or line
    unknown = _fields(entry) - CODE_FIELDS
    if unknown:
        key = sorted(unknown)[0]
        raise CodebookError(
            p,
            f"unknown field (allowed: {sorted(CODE_FIELDS)})",
            line=_line(entry, key),
            code=cid,
            field=key,
        )
    for req in CODE_REQUIRED:
        if entry.get(req) in (None, "", [], {}):
            raise CodebookError(p, "is required", line=line, code=cid, field=req)
    dim = str(entry["dimension"])
    if dimensions and dim not in dimensions:
        raise CodebookError(
            p,
            f"dimension {dim!r} is not declared under `dimensions` ({sorted(dimensions)})",
            line=_line(entry, "dimension"),
            code=cid,
            field="dimension",
        )
    ind = entry["indicators"]
    if not isinstance(ind, dict):
        raise CodebookError(
            p,
            "must be a mapping with keywords, patterns and/or rules",
            line=_line(entry, "indicators"),
            code=cid,
            field="indicators",
        )
    bad = _fields(ind) - INDICATOR_FIELDS
    if bad:
        key = sorted(bad)[0]
        raise CodebookError(
            p,
            f"unknown indicator field (allowed: {sorted(INDICATOR_FIELDS)})",
            line=_line(ind, key),
            code=cid,
            field=f"indicators.{key}",
        )
    keywords = _strings(ind.get("keywords"), p, _line(ind, "keywords"), cid, "indicators.keywords")
    patterns = _strings(ind.get("patterns"), p, _line(ind, "patterns"), cid, "indicators.patterns")
    for pat in patterns:
        try:
            re.compile(pat)
        except re.error as exc:
            raise CodebookError(
                p,
                f"invalid regular expression {pat!r}: {exc}",
                line=_line(ind, "patterns"),
                code=cid,
                field="indicators.patterns",
            ) from None
        if _nested_quantifier(pat):
            raise CodebookError(
                p,
                f"regular expression {pat!r} has a nested quantifier (a repeated part that itself "
                "repeats, as in `(a+)+`): on a unit it does not match it can take exponential "
                "time (`(a+)+$` takes minutes on 31 characters). Repeat once: write `a+` for "
                "`(a+)+`, or drop the inner `+`/`*`/`{m,n}`",
                line=_line(ind, "patterns"),
                code=cid,
                field="indicators.patterns",
            )
    rules = _rules_read(ind.get("rules"), p, _line(ind, "rules"), cid, terms)
    if not (keywords or patterns or rules):
        raise CodebookError(
            p,
            "no keywords, patterns or rules: this code could never be assigned",
            line=_line(entry, "indicators"),
            code=cid,
            field="indicators",
        )
    anchors = entry.get("anchors") or []
    if not isinstance(anchors, list) or not all(isinstance(a, dict) for a in anchors):
        raise CodebookError(
            p,
            "must be a list of {unit_id, text}",
            line=_line(entry, "anchors"),
            code=cid,
            field="anchors",
        )
    quote = entry.get("definition_quote")
    return Code(
        id=cid,
        dimension=dim,
        label_zh=str(entry["label_zh"]),
        label_en=str(entry.get("label_en", "")),
        definition=_prose(entry["definition"]),
        keywords=keywords,
        patterns=patterns,
        rules=rules,
        include=tuple(
            _prose(x)
            for x in _strings(entry.get("include"), p, _line(entry, "include"), cid, "include")
        ),
        exclusions=tuple(
            _prose(x)
            for x in _strings(
                entry.get("exclusions"), p, _line(entry, "exclusions"), cid, "exclusions"
            )
        ),
        anchors=tuple(
            {k: str(v) for k, v in a.items() if k not in ("__line__", "__lines__")} for a in anchors
        ),
        definition_quote={k: str(v) for k, v in quote.items() if k not in ("__line__", "__lines__")}
        if isinstance(quote, dict)
        else None,
        line=line or 0,
    )


def _nested_quantifier(pattern: str) -> bool:
    """Return whether ``pattern`` repeats a part that itself repeats (``(a+)+``, ``(x.{0,9})*``).

    A repetition (``+``, ``*``, ``{m,n}`` with n > 1) of something that itself contains a
    repetition lets the backtracking engine split a run of characters in exponentially many ways
    before it gives up. ``?`` (at most once) is not a repetition here.
    """
    from re import _constants as sre

    from helpers.coding_patterns import pattern_parse

    def repeats(op, av) -> bool:
        return op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[1] > 1

    def inner_repeat(items) -> bool:
        for op, av in items:
            if repeats(op, av):
                return True
            for sub in _children(op, av):
                if inner_repeat(sub):
                    return True
        return False

    def walk(items) -> bool:
        for op, av in items:
            if repeats(op, av) and op != sre.POSSESSIVE_REPEAT and inner_repeat(av[2]):
                return True
            for sub in _children(op, av):
                if walk(sub):
                    return True
        return False

    return walk(pattern_parse(pattern))  # the parse the compiled codebook reads again


def _children(op, av) -> list:
    """The sub-sequences of one node of a parsed regular expression."""
    from re import _constants as sre

    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        return [av[2]]
    if op == sre.SUBPATTERN:
        return [av[3]]
    if op == sre.BRANCH:
        return list(av[1])
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [av[1]]
    if op == sre.ATOMIC_GROUP:
        return [av]
    if op == sre.GROUPREF_EXISTS:
        return [x for x in av[1:] if x is not None]
    return []


def _prose(value: Any) -> str:
    """Return codebook prose in canonical form: YAML's folded lines leave a space between Chinese
    characters (``互补， 推动``), which :func:`helpers.text.text_normalize` removes."""
    from helpers.text import text_normalize

    return text_normalize(" ".join(str(value).split()))


def _rules_read(value: Any, p: Path, line: int | None, cid: str, terms: dict) -> tuple[Rule, ...]:
    if value in (None, []):
        return ()
    if not isinstance(value, list):
        raise CodebookError(
            p, "must be a list of rules", line=line, code=cid, field="indicators.rules"
        )
    rules = []
    for i, r in enumerate(value, start=1):
        if not isinstance(r, dict):
            raise CodebookError(
                p, f"rule {i} must be a mapping", line=line, code=cid, field="indicators.rules"
            )
        rline = _line(r)
        rid = str(r.get("id", f"rule{i}"))
        fld = f"indicators.rules[{rid}]"
        bad = _fields(r) - RULE_FIELDS
        if bad:
            raise CodebookError(
                p,
                f"unknown rule field {sorted(bad)[0]!r} (allowed: {sorted(RULE_FIELDS)})",
                line=_line(r, sorted(bad)[0]),
                code=cid,
                field=fld,
            )
        parts = {
            k: _strings(r.get(k), p, _line(r, k) or rline, cid, f"{fld}.{k}")
            for k in ("all", "any", "near", "not", "heading")
        }
        if not (parts["all"] or parts["any"] or parts["near"] or parts["heading"]):
            raise CodebookError(
                p,
                "a rule needs at least one of all, any, near or heading",
                line=rline,
                code=cid,
                field=fld,
            )
        if parts["near"] and len(parts["near"]) != 2:
            raise CodebookError(
                p,
                "near takes exactly two terms",
                line=_line(r, "near"),
                code=cid,
                field=f"{fld}.near",
            )
        for k in ("all", "any", "near", "not"):
            for term in parts[k]:
                if term not in terms:
                    raise CodebookError(
                        p,
                        f"unknown term {term!r}: define it under `terms:` (known: "
                        f"{', '.join(sorted(terms)) or 'none'})",
                        line=_line(r, k) or rline,
                        code=cid,
                        field=f"{fld}.{k}",
                    )
        window = r.get("window", DEFAULT_WINDOW)
        if not isinstance(window, int) or isinstance(window, bool) or window < 1:
            raise CodebookError(
                p,
                f"window must be a positive whole number of words, not {window!r}",
                line=_line(r, "window"),
                code=cid,
                field=f"{fld}.window",
            )
        rules.append(
            Rule(
                id=rid,
                all=parts["all"],
                any=parts["any"],
                near=parts["near"],
                window=window,
                not_=parts["not"],
                heading=parts["heading"],
            )
        )
    return tuple(rules)


# --------------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------------


def codebook_table(codebook: Codebook) -> pd.DataFrame:
    """Return one row per code: id, dimension, labels, definition and its indicators as text."""
    return pd.DataFrame(
        [
            {
                "code": c.id,
                "dimension": c.dimension,
                "label_zh": c.label_zh,
                "label_en": c.label_en,
                "definition": c.definition,
                "keywords": "、".join(c.keywords),
                "patterns": " | ".join(c.patterns),
                "rules": "; ".join(f"{r.id}: {r.describe()}" for r in c.rules),
            }
            for c in codebook.codes
        ]
    )


def codebook_manual(codebook: Codebook) -> str:
    """Return the coding manual for human coders as Markdown: definitions, rules, exclusions and
    anchors.

    The dictionary's keywords and rules are left out on purpose, so that human coding stays an
    independent reading of the definitions.
    """
    lines = [
        f"# 编码手册 Coding manual: {codebook.title}",
        "",
        f"来源 Source: {codebook.source}",
        "",
        "Code every unit with all codes that apply (multi-label, 0/1 each); a unit may get no "
        "code. Read the "
        "unit in its context (its heading path is given) and code what it says, by the "
        "definitions, the "
        "include rules and the exclusions.",
        "",
    ]
    for dim, d in codebook.dimensions.items():
        lines += [
            f"## {d.get('label_zh', dim)} ({d.get('label_en', '')}; `{dim}`)",
            str(d.get("description", "")),
            "",
        ]
        for c in (c for c in codebook.codes if c.dimension == dim):
            lines += [
                f"### `{c.id}` {c.label_zh} ({c.label_en})",
                "",
                f"**定义**: {c.definition}",
                "",
            ]
            if c.definition_quote:
                lines += [
                    f"**报告原文** ({c.definition_quote.get('unit_id', '')}): "
                    f"{c.definition_quote.get('text', '')}",
                    "",
                ]
            if c.include:
                lines += ["**包括 include**:", *[f"- {x}" for x in c.include], ""]
            if c.exclusions:
                lines += ["**不包括 exclusions**:", *[f"- {x}" for x in c.exclusions], ""]
            if c.anchors:
                lines += [
                    "**示例 anchors**:",
                    *[f"- {a.get('unit_id', '')}: {a.get('text', '')}" for a in c.anchors],
                    "",
                ]
    return "\n".join(lines)
