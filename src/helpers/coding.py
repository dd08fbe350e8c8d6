"""Thematic coding: apply a codebook to units and keep the evidence for every assignment.

One pass over the units finds every keyword and term of every code, and every literal a pattern
needs, at once (a trie of these strings walked over the text with numpy, one step per character
depth for all positions together); regular expressions are searched only in the units that hold
the literals they need, and rules are checked in the units where their terms occur. Keywords match
whole jieba words (a hit must start and end on token boundaries, so ``企业`` does not fire inside
``龙头企业``) unless the codebook says ``matching: {keywords: substring}``. Matching runs on a
simplified-script copy of the text of the same length, so the spans point into the original text.

Every assignment is backed by evidence rows: the unit, the code, the indicator that fired (keyword,
pattern or rule) and the matched span. Every number in a coded table can be traced back to them.

This module is the engine (:func:`units_code`, :func:`texts_code`) and the compiled codebook; the
search machinery it drives (word boundaries, the trie walk, pattern windows, rule spans) is in
:mod:`helpers.coding_search`; the tables built on its result
(counts, quotes, evidence strings, the review workbook, lint, the command's CSV) are in
:mod:`helpers.coding_tables`, and stay importable from here under their old names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate

import numpy as np
import pandas as pd

from helpers.codebook import Codebook, Rule
from helpers.coding_patterns import (
    Requirement,
    pattern_newline_free,
    pattern_requirement,
    requirement_literals,
)
from helpers.coding_search import (
    _boundaries_from_tokens,
    _boundary_mask,
    _code_points,
    _csr,
    _csr_expand,
    _joined,
    _patterns_apply,
    _rules_apply,
    _StringTrie,
    _word_boundaries,
)
from helpers.text import text_simplify, text_simplify_aligned
from helpers.tokens import Segmenter

EVIDENCE_COLUMNS = [
    "doc_id",
    "unit_id",
    "code",
    "dimension",
    "indicator_type",
    "indicator",
    "start",
    "end",
    "match",
]


@dataclass(frozen=True)
class CodingResult:
    """The coding of a set of units: long evidence, wide 0/1 matrix, the summaries built on them."""

    codebook: Codebook
    units: pd.DataFrame
    evidence: pd.DataFrame
    wide: pd.DataFrame

    @property
    def counts(self) -> pd.DataFrame:
        """Units coded per code, per document and for the corpus, with shares."""
        from helpers.coding_tables import coding_counts

        return coding_counts(self)

    @property
    def uncoded(self) -> pd.DataFrame:
        """Units that got no code, for review."""
        w = self.wide
        return w[w["n_codes"] == 0][["doc_id", "unit_id", "heading_path", "text"]].reset_index(
            drop=True
        )


@dataclass(frozen=True)
class _PatternPlan:
    """A codebook pattern compiled, with the literals every match of it contains."""

    code: str
    pattern: str
    #: and/or of literals (:func:`~helpers.coding_patterns.pattern_requirement`): only units that
    #: satisfy it are searched; None: every unit is searched
    requirement: Requirement

    @cached_property
    def joined(self) -> re.Pattern | None:
        """The pattern with ``\\n`` added to its negated classes when it can then never match
        across a newline nor depends on where a text ends (``^``, ``$``): it is searched in the
        newline-joined texts of its units at once, with the same matches; None: it is searched
        unit by unit (:attr:`regex`). See :func:`~helpers.coding_patterns.pattern_newline_free`.

        Worked out and compiled when the pattern is first searched: a pattern whose literals
        occur in no unit is never compiled (most of them, in a corpus that is not about all codes).
        """
        return pattern_newline_free(self.pattern)

    @cached_property
    def regex(self) -> re.Pattern:
        """The pattern compiled as written, for searching unit by unit (compiled on first use:
        only a pattern without a :attr:`joined` form is searched so)."""
        return re.compile(self.pattern)


@dataclass(frozen=True)
class _RulePlan:
    """A codebook rule with its terms numbered as in :attr:`_Matcher.terms`."""

    code: str
    rule: Rule
    label: str  # the indicator written in the evidence: ``id: all(...) and near(...)[n]``
    all_terms: tuple[int, ...]
    any_terms: tuple[int, ...]
    near_terms: tuple[int, ...]
    not_terms: tuple[int, ...]

    @property
    def positive_terms(self) -> tuple[int, ...]:
        """The terms that give the rule its evidence spans (all, then any, then near)."""
        return self.all_terms + self.any_terms + self.near_terms


@dataclass(frozen=True)
class _TermHits:
    """Where the terms occur: one entry per (automaton hit on word boundaries, term of its word)."""

    unit: np.ndarray  # unit index
    term: np.ndarray  # term index
    start: np.ndarray  # character offsets in the unit's text
    end: np.ndarray
    first_word: np.ndarray  # word number of the first and last character (for ``near``)
    last_word: np.ndarray


class _Matcher:
    """The codebook compiled for matching: one trie for all words and literals, patterns, rules.

    Words, codes and terms are numbered so that the hits of a whole text can be filtered and
    assigned to units with numpy rather than one Python step per hit.
    """

    def __init__(self, codebook: Codebook) -> None:
        self.codebook = codebook
        keyword_codes: dict[str, list[str]] = defaultdict(list)
        for c in codebook.codes:
            for k in dict.fromkeys(text_simplify(k) for k in c.keywords):
                keyword_codes[k].append(c.id)
        self.term_words = {
            name: tuple(dict.fromkeys(text_simplify(w) for w in words))
            for name, words in codebook.terms.items()
        }
        word_terms: dict[str, list[str]] = defaultdict(list)
        for name, words in self.term_words.items():
            for w in words:
                word_terms[w].append(name)
        self.words = sorted(set(keyword_codes) | set(word_terms))
        self.terms = list(self.term_words)
        term_index = {t: j for j, t in enumerate(self.terms)}
        # word id -> its codes / its terms, as flat lists with a start pointer per word (CSR)
        self.kw_codes, self.kw_ptr = _csr([keyword_codes.get(w, []) for w in self.words])
        term_ids, self.term_ptr = _csr(
            [[term_index[t] for t in word_terms.get(w, [])] for w in self.words]
        )
        self.word_term_ids = np.asarray(term_ids, dtype=np.int64)
        self.patterns = [
            _PatternPlan(c.id, p, pattern_requirement(p))
            for c in codebook.codes
            for p in c.patterns
        ]
        # every literal some pattern needs, looked for with the words in the same pass
        self.literals = sorted(
            set().union(*(requirement_literals(pl.requirement) for pl in self.patterns))
        )
        self.strings = sorted(set(self.words) | set(self.literals))
        string_id = {x: i for i, x in enumerate(self.strings)}
        self.string_word = np.full(len(self.strings), -1, dtype=np.int64)
        self.string_word[[string_id[w] for w in self.words]] = np.arange(len(self.words))
        self.string_literal = np.full(len(self.strings), -1, dtype=np.int64)
        self.string_literal[[string_id[x] for x in self.literals]] = np.arange(len(self.literals))
        self.trie = _StringTrie(self.strings)
        self.word_mode = codebook.keyword_match == "word"
        self.rules = [
            _RulePlan(
                code=c.id,
                rule=r,
                label=f"{r.id}: {r.describe()}",
                all_terms=tuple(term_index[t] for t in r.all),
                any_terms=tuple(term_index[t] for t in r.any),
                near_terms=tuple(term_index[t] for t in r.near),
                not_terms=tuple(term_index[t] for t in r.not_),
            )
            for c in codebook.codes
            for r in c.rules
        ]
        # codes, indicators (words, patterns, rule labels) numbered for the evidence columns
        self.code_ids = list(codebook.ids)
        code_index = {cid: i for i, cid in enumerate(self.code_ids)}
        self.kw_code_index = np.array([code_index[c] for c in self.kw_codes], dtype=np.int64)
        indicator_ids: dict[str, int] = {}
        for x in [*self.words, *(p.pattern for p in self.patterns), *(r.label for r in self.rules)]:
            indicator_ids.setdefault(x, len(indicator_ids))
        self.indicators = list(indicator_ids)
        self.indicator_rank = np.zeros(len(self.indicators), dtype=np.int64)
        self.indicator_rank[[indicator_ids[x] for x in sorted(indicator_ids)]] = np.arange(
            len(indicator_ids)
        )
        self.word_indicator = np.array([indicator_ids[w] for w in self.words], dtype=np.int64)
        self.pattern_code_index = [code_index[p.code] for p in self.patterns]
        self.pattern_indicator = [indicator_ids[p.pattern] for p in self.patterns]
        self.rule_code_index = [code_index[r.code] for r in self.rules]
        self.rule_indicator = [indicator_ids[r.label] for r in self.rules]
        self.simple_headings = {
            h: text_simplify(h) for c in codebook.codes for r in c.rules for h in r.heading
        }
        self._heading_first: dict[tuple[int, str], str | None] = {}

    def heading_first(self, rule, simple_heading: str) -> str | None:
        """Return the first of the rule's headings found in a (simplified) heading path, or None."""
        key = (id(rule), simple_heading)
        if key not in self._heading_first:
            self._heading_first[key] = next(
                (h for h in rule.heading if self.simple_headings[h] in simple_heading), None
            )
        return self._heading_first[key]


def matcher_make(codebook: Codebook) -> _Matcher:
    """Return the codebook compiled for matching (automaton, patterns, rule plans); reuse it."""
    return _Matcher(codebook)


def texts_code(
    texts: list[str],
    matcher: _Matcher,
    *,
    token_lists: list[list[str]] | None = None,
    bounds=None,
    segmenter: Segmenter | None = None,
    headings: list[str] | None = None,
    progress: bool = False,
) -> list[tuple]:
    """Code a list of texts; return evidence tuples ``(index, code, type, indicator, start, end,
    match)``.

    The engine behind :func:`units_code`, without DataFrames, for streaming many documents. Word
    boundaries come from exactly one of ``bounds`` (global positions in the newline-joined texts),
    ``token_lists`` (the tokens of each text, covering it) or ``segmenter``; none is needed when
    the codebook matches keywords as substrings. ``start``/``end`` are ``None`` for heading-only
    evidence. Rows come grouped by indicator type, not sorted.
    """
    m = matcher
    found = _texts_find(
        texts,
        m,
        token_lists=token_lists,
        bounds=bounds,
        segmenter=segmenter,
        headings=headings,
        progress=progress,
    )
    unit, start, end, match = found.local()
    return list(
        zip(
            unit.tolist(),
            [m.code_ids[c] for c in found.code.tolist()],
            [_KINDS[k] for k in found.kind.tolist()],
            [m.indicators[i] for i in found.indicator.tolist()],
            [None if s < 0 else s for s in start.tolist()],
            [None if e < 0 else e for e in end.tolist()],
            match,
        )
    )


#: The indicator types, numbered in the order the evidence table sorts them
_KINDS = ("keyword", "pattern", "rule")


@dataclass(frozen=True)
class _Found:
    """Evidence rows as columns (int arrays), in the order found, duplicates included.

    ``start``/``end`` are offsets in the newline-joined texts, -1 for heading-only evidence,
    whose match is ``whats[what]``; ``seq`` orders rows found together (a rule's spans).
    """

    unit: np.ndarray
    code: np.ndarray
    kind: np.ndarray
    indicator: np.ndarray
    start: np.ndarray
    end: np.ndarray
    what: np.ndarray
    seq: np.ndarray
    whats: list[str]
    offsets: np.ndarray
    joined: str  # the newline-joined original texts

    def local(self, rows: np.ndarray | None = None):
        """Return unit, start, end (offsets in the unit's text, -1 without a span) and the
        matched strings of ``rows`` (default: all)."""
        rows = np.arange(len(self.unit)) if rows is None else rows
        unit, gs, ge, what = self.unit[rows], self.start[rows], self.end[rows], self.what[rows]
        base = self.offsets[unit]
        spanned = gs >= 0
        start = np.where(spanned, gs - base, -1)
        end = np.where(spanned, ge - base, -1)
        joined, whats = self.joined, self.whats
        match = [
            joined[a:b] if a >= 0 else whats[w]
            for a, b, w in zip(gs.tolist(), ge.tolist(), what.tolist())
        ]
        return unit, start, end, match


class _Parts:
    """Evidence rows collected as column arrays, one part per source (keywords, a pattern, …)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.n = 0

    def add(self, unit, code, kind, indicator, start, end, what=None, seq=None) -> None:
        n = len(unit)
        if not n:
            return
        full = np.full
        self.parts.append(
            (
                np.asarray(unit, dtype=np.int64),
                full(n, code, dtype=np.int64) if np.isscalar(code) else code,
                full(n, kind, dtype=np.int64),
                full(n, indicator, dtype=np.int64) if np.isscalar(indicator) else indicator,
                np.asarray(start, dtype=np.int64),
                np.asarray(end, dtype=np.int64),
                full(n, -1, dtype=np.int64) if what is None else what,
                (np.arange(n, dtype=np.int64) if seq is None else seq) + (self.n << 32),
            )
        )
        self.n += 1

    def columns(self) -> list[np.ndarray]:
        if not self.parts:
            return [np.zeros(0, dtype=np.int64) for _ in range(8)]
        return [np.concatenate(c) for c in zip(*self.parts)]


def _texts_find(
    texts: list[str],
    m: _Matcher,
    *,
    token_lists=None,
    bounds=None,
    segmenter=None,
    headings=None,
    progress: bool = False,
) -> _Found:
    """Find every piece of evidence in the texts, as columns (see :func:`texts_code`)."""
    texts = [t.replace("\n", " ") for t in texts]
    n_units = len(texts)
    headings = headings or [""] * n_units
    joined_orig, offsets_list = _joined(texts)
    joined = text_simplify_aligned(joined_orig)
    offsets = np.asarray(offsets_list, dtype=np.int64)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n_units)
    is_bound = None
    if m.word_mode:
        bounds = _word_boundaries(joined, texts, offsets, lengths, bounds, token_lists, segmenter)
        is_bound = _boundary_mask(len(joined), offsets, lengths, bounds)
    parts = _Parts()
    whats: list[str] = []
    # the unit of every position of the joined texts (its newline: the unit before it)
    unit_at = np.repeat(np.arange(n_units, dtype=np.int32), lengths + 1)

    # 1) every keyword and term word of every code and every literal of a pattern, in one pass
    sid, gs, ge = m.trie.find(_code_points(joined))
    literal = m.string_literal[sid]
    has = literal >= 0
    literal_hits = (literal[has], gs[has])
    wid = m.string_word[sid]
    has = wid >= 0
    wid, gs, ge = wid[has], gs[has], ge[has]
    if is_bound is not None:
        keep = is_bound[gs] & is_bound[ge]
        wid, gs, ge = wid[keep], gs[keep], ge[keep]
    unit = unit_at[gs].astype(np.int64)
    kw_rows, kw_entry = _csr_expand(wid, m.kw_ptr)
    parts.add(
        unit[kw_rows],
        m.kw_code_index[kw_entry],
        0,
        m.word_indicator[wid[kw_rows]],
        gs[kw_rows],
        ge[kw_rows],
    )
    # 2) every pattern, in the units that hold the literals every match of it needs
    _patterns_apply(m, joined, offsets, lengths, unit_at, literal_hits, parts)
    # 3) rules: units that hold every term a rule needs (and none it excludes) are found in numpy,
    #    then the spans of each rule's evidence for all those units at once
    if m.rules:
        th_rows, th_entry = _csr_expand(wid, m.term_ptr)
        hit_unit = unit[th_rows]
        hit_start, hit_end = gs[th_rows] - offsets[hit_unit], ge[th_rows] - offsets[hit_unit]
        # word number of each span's first and last character: boundaries up to it; the count
        # runs over the whole joined text, a constant per unit that cancels in every gap
        if is_bound is not None:
            upto = np.cumsum(is_bound, dtype=np.int32)
            base = offsets[hit_unit]
            first, last = upto[base + hit_start], upto[base + hit_end - 1]
        else:  # substring matching: every character is a word
            first, last = hit_start, hit_end - 1
        hits = _TermHits(hit_unit, m.word_term_ids[th_entry], hit_start, hit_end, first, last)
        _rules_apply(m, headings, hits, offsets, parts, whats, progress)
    unit, code, kind, indicator, start, end, what, seq = parts.columns()
    return _Found(unit, code, kind, indicator, start, end, what, seq, whats, offsets, joined_orig)


def units_code(
    units: pd.DataFrame,
    codebook: Codebook,
    segmenter: Segmenter | None = None,
    *,
    tokens: pd.DataFrame | None = None,
    token_lists: list[list[str]] | None = None,
    text_col: str = "text",
    id_col: str = "unit_id",
    progress: bool = False,
) -> CodingResult:
    """Code every unit with the codebook; return the evidence and the unit × code 0/1 matrix.

    Word boundaries come from ``tokens`` (the token table of :func:`helpers.tokens.tokens_segment`
    for these units, with ``start``/``end``), from ``token_lists`` (``segmenter.cut`` of each unit's
    simplified text, in unit order) or are computed with ``segmenter``; one of them is needed unless
    the codebook matches keywords as substrings. ``units`` needs ``id_col`` and
    ``text_col``; ``doc_id`` and ``heading_path`` are used when present (rules with ``heading``
    never fire without a heading path).

    All units are matched in one pass each for the automaton and for every pattern, over the unit
    texts joined by newlines (no keyword or pattern match may cross a unit boundary); rules are then
    checked only in units where the terms they need occur.
    """
    missing = [c for c in (id_col, text_col) if c not in units.columns]
    if missing:
        raise KeyError(f"units table has no column(s) {missing}; columns are {list(units.columns)}")
    if units[id_col].duplicated().any():
        dup = units.loc[units[id_col].duplicated(), id_col].iloc[0]
        raise ValueError(f"unit ids must be unique; {dup!r} appears more than once")
    # a table coded on another column may also have a ``text`` (or ``unit_id``) column: it is
    # replaced, not doubled
    shadowed = [
        c for c in ("unit_id", "text") if c in units.columns and c not in (id_col, text_col)
    ]
    u = units.drop(columns=shadowed).rename(columns={id_col: "unit_id", text_col: "text"}).copy()
    if "doc_id" not in u:
        u["doc_id"] = ""
    if "heading_path" not in u:
        u["heading_path"] = ""
    u["text"] = u["text"].astype(str).str.replace("\n", " ", regex=False)
    m = matcher_make(codebook)
    texts = u["text"].tolist()
    uids, docs = u["unit_id"].tolist(), u["doc_id"].tolist()
    headings = u["heading_path"].astype(str).tolist()
    bounds = None
    if m.word_mode and tokens is not None:
        offsets = list(
            accumulate((len(t) + 1 for t in texts[:-1]), initial=0)
        )  # as texts_code joins them
        bounds = _boundaries_from_tokens(tokens, {uid: i for i, uid in enumerate(uids)}, offsets)
        if token_lists is not None or segmenter is not None:
            raise ValueError(
                "give word boundaries one way: a tokens table, token lists or a segmenter"
            )
    found = _texts_find(
        texts,
        m,
        token_lists=token_lists,
        bounds=bounds,
        segmenter=segmenter,
        headings=headings,
        progress=progress,
    )
    evidence = _evidence_frame(found, m, uids, docs, codebook)
    wide = _wide(u, found, codebook)
    return CodingResult(codebook=codebook, units=u, evidence=evidence, wide=wide)


def _evidence_frame(
    found: _Found, m: _Matcher, uids: list[str], docs: list[str], codebook: Codebook
) -> pd.DataFrame:
    """Return the evidence found as the evidence table, without duplicates.

    Ordered by unit, code (codebook order), indicator type, start (heading-only evidence last) and
    indicator, ties in the order found; each distinct row once (the first found). Deduplicated
    and sorted on integer columns with numpy, and the table built from whole columns.
    """
    if not len(found.unit):
        evidence = pd.DataFrame([], columns=EVIDENCE_COLUMNS)
        return evidence.astype({"start": "Int64", "end": "Int64"})
    spanless_all = found.start < 0
    start_all = np.where(spanless_all, 0, found.start - found.offsets[found.unit])
    keys = (
        found.unit,
        found.code,
        found.kind,
        spanless_all,
        start_all,
        m.indicator_rank[found.indicator],
    )
    order = np.lexsort((found.seq, *reversed(keys)))
    rows = order[~_repeated(order, keys, (found.end, found.what))]
    unit, gs = found.unit[rows], found.start[rows]
    start, spanless = start_all[rows], spanless_all[rows]
    end = np.where(spanless, 0, found.end[rows] - found.offsets[unit])
    joined, whats = found.joined, found.whats
    match = [
        joined[a:b] if a >= 0 else whats[w]
        for a, b, w in zip(gs.tolist(), found.end[rows].tolist(), found.what[rows].tolist())
    ]
    code = found.code[rows]

    def take(values: list, index: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=object)[index]

    return pd.DataFrame(
        {
            "doc_id": take(docs, unit),
            "unit_id": take(uids, unit),
            "code": take(m.code_ids, code),
            "dimension": take([c.dimension for c in codebook.codes], code),
            "indicator_type": take(list(_KINDS), found.kind[rows]),
            "indicator": take(m.indicators, found.indicator[rows]),
            "start": pd.arrays.IntegerArray(start, spanless.copy()),
            "end": pd.arrays.IntegerArray(end, spanless),
            "match": np.asarray(match, dtype=object),
        }
    )


def _repeated(order: np.ndarray, keys: tuple, rest: tuple) -> np.ndarray:
    """Which rows (in ``order``) repeat an earlier one: equal in ``keys`` and in ``rest``.

    ``order`` sorts by ``keys`` and then by the order found, so a repeated row sits in the run of
    rows with its keys, after the first of them; such runs of more than one row are rare (a rule
    citing two spans that start together) and are checked in Python.
    """
    tie = np.ones(max(len(order) - 1, 0), dtype=bool)
    for k in keys:
        v = k[order]
        tie &= v[1:] == v[:-1]
    repeated = np.zeros(len(order), dtype=bool)
    if not tie.any():
        return repeated
    in_run = np.zeros(len(order), dtype=bool)
    in_run[1:] |= tie
    in_run[:-1] |= tie
    at = np.flatnonzero(in_run)
    rest_at = [r[order[at]].tolist() for r in rest]
    seen: set = set()
    for j, i in enumerate(at.tolist()):
        if i == 0 or not tie[i - 1]:  # a run starts
            seen = set()
        row = tuple(r[j] for r in rest_at)
        repeated[i] = row in seen
        seen.add(row)
    return repeated


def _wide(u: pd.DataFrame, found: _Found, codebook: Codebook) -> pd.DataFrame:
    """Return the units with one 0/1 column per code (codebook order) and ``n_codes``."""
    wide = u[
        ["doc_id", "unit_id"]
        + [c for c in ("level", "kind", "heading_path", "section") if c in u]
        + ["text"]
    ]
    wide = wide.reset_index(drop=True).copy()
    matrix = np.zeros((len(wide), len(codebook.ids)), dtype=np.int64)
    matrix[found.unit, found.code] = 1
    for j, cid in enumerate(codebook.ids):
        wide[cid] = matrix[:, j]
    wide["n_codes"] = matrix.sum(axis=1)
    return wide


#: The functions that moved to :mod:`helpers.coding_tables`, still importable from here.
_MOVED = (
    "codebook_lint",
    "coding_counts",
    "coding_quotes",
    "coding_table",
    "coding_write",
    "coding_write_excel",
    "evidence_summarize",
    "units_csv_read",
)


def __getattr__(name: str):
    """``helpers.coding.coding_write`` and the other table functions: from their new module."""
    if name in _MOVED:
        from helpers import coding_tables

        return getattr(coding_tables, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
