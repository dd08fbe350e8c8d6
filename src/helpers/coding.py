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

This module is the engine (:func:`units_code`, :func:`texts_code`); the tables built on its result
(counts, quotes, evidence strings, the review workbook, lint, the command's CSV) are in
:mod:`helpers.coding_tables`, and stay importable from here under their old names.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, repeat
from operator import itemgetter
from typing import NamedTuple

import numpy as np
import pandas as pd

from helpers.codebook import Codebook, Rule
from helpers.coding_patterns import (
    Requirement,
    pattern_newline_free,
    pattern_requirement,
    requirement_literals,
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
    regex: re.Pattern
    #: and/or of literals (:func:`~helpers.coding_patterns.pattern_requirement`): only units that
    #: satisfy it are searched; None: every unit is searched
    requirement: Requirement
    #: the pattern with ``\n`` added to its negated classes when it can then never match across a
    #: newline nor depends on where a text ends (``^``, ``$``): it is searched in the newline-joined
    #: texts of its units at once, with the same matches; None: it is searched unit by unit
    joined: re.Pattern | None = None


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


class _Span(NamedTuple):
    """One occurrence of a term in a unit: characters ``start:end``, words ``first..last``."""

    start: int
    end: int
    first_word: int
    last_word: int


class _Matcher:
    """The codebook compiled for matching: one automaton for all words, patterns, rule plans.

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
        self.word_len = np.array([len(w) for w in self.words], dtype=np.int64)
        self.terms = list(self.term_words)
        term_index = {t: j for j, t in enumerate(self.terms)}
        # word id -> its codes / its terms, as flat lists with a start pointer per word (CSR)
        self.kw_codes, self.kw_ptr = _csr([keyword_codes.get(w, []) for w in self.words])
        term_ids, self.term_ptr = _csr(
            [[term_index[t] for t in word_terms.get(w, [])] for w in self.words]
        )
        self.word_term_ids = np.asarray(term_ids, dtype=np.int64)
        self.patterns = [
            _PatternPlan(c.id, p, re.compile(p), pattern_requirement(p), pattern_newline_free(p))
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


class _StringTrie:
    """A trie of strings, walked over a whole text with numpy: every occurrence of every string.

    Does what an Aho–Corasick automaton does (all occurrences, overlapping ones included) without
    one Python object per hit: step ``d`` follows, for every position still in the trie, the
    edge labelled by the character ``d`` places after it, for all positions at once. The first
    two steps look up dense tables, deeper ones binary-search the sorted edges (few positions
    reach them). Characters are numbered by the strings' alphabet; any other character is 0.
    """

    #: the dense table of the first level is kept only up to this many cells
    DENSE_CELLS = 16_000_000

    def __init__(self, strings: list[str]) -> None:
        alphabet = sorted({ch for x in strings for ch in x})
        self.alphabet = np.array([ord(a) for a in alphabet], dtype=np.int64)
        letter = {ch: i + 1 for i, ch in enumerate(alphabet)}
        nodes = {"": 0}
        parent, label = [-1], [0]
        for x in strings:
            for d in range(1, len(x) + 1):
                if x[:d] not in nodes:
                    nodes[x[:d]] = len(nodes)
                    parent.append(nodes[x[: d - 1]])
                    label.append(letter[x[d - 1]])
        self.string = np.full(len(nodes), -1, dtype=np.int64)  # node -> the string it ends
        self.string[[nodes[x] for x in strings]] = np.arange(len(strings))
        self.width = width = len(alphabet) + 1
        parents, labels = np.asarray(parent, dtype=np.int64), np.asarray(label, dtype=np.int64)
        depth = np.fromiter(map(len, nodes), dtype=np.int64, count=len(nodes))
        self.depth = int(depth.max())
        self.root = np.full(width, -1, dtype=np.int64)
        level1 = np.flatnonzero(depth == 1)
        self.root[labels[level1]] = level1
        self.dense = None
        if len(level1) * width <= self.DENSE_CELLS:
            self.row = np.full(len(nodes), -1, dtype=np.int64)
            self.row[level1] = np.arange(len(level1))
            self.dense = np.full((len(level1), width), -1, dtype=np.int64)
            level2 = np.flatnonzero(depth == 2)
            self.dense[self.row[parents[level2]], labels[level2]] = level2
        deep = np.flatnonzero(depth >= (3 if self.dense is not None else 2))
        keys = parents[deep] * width + labels[deep]
        order = np.argsort(keys)
        self.keys, self.child = keys[order], deep[order]

    def find(self, chars: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (string id, start, end) arrays of every occurrence in the text ``chars``
        (code points), ordered by length, then start."""
        n = len(chars)
        if not n or not self.depth:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        letters = np.zeros(max(int(chars.max()), int(self.alphabet.max())) + 1, dtype=np.int64)
        letters[self.alphabet] = np.arange(1, len(self.alphabet) + 1)
        text = np.zeros(n + self.depth, dtype=np.int64)  # past the end: no letter, no edge
        text[:n] = letters[chars]
        node = self.root[text[:n]]
        pos = np.flatnonzero(node >= 0)
        node = node[pos]
        found = []
        for d in range(1, self.depth + 1):
            if d > 1:
                nxt = text[pos + d - 1]
                if d == 2 and self.dense is not None:
                    node = self.dense[self.row[node], nxt]
                else:
                    key = node * self.width + nxt
                    at = np.minimum(np.searchsorted(self.keys, key), max(len(self.keys) - 1, 0))
                    node = np.where(self.keys[at] == key, self.child[at], -1) if len(at) else at
                keep = node >= 0
                pos, node = pos[keep], node[keep]
                if not len(pos):
                    break
            ends = self.string[node]
            hit = ends >= 0
            found.append((ends[hit], pos[hit], pos[hit] + d))
        if not found:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        sid, start, end = (np.concatenate(x) for x in zip(*found))
        return sid, start, end


def _code_points(text: str) -> np.ndarray:
    """Return the code points of ``text`` as an array (one element per character)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _csr(lists: list[list]) -> tuple[list, np.ndarray]:
    """Return ``lists`` flattened and the start of each list in it (one more entry: the end)."""
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    return [x for xs in lists for x in xs], ptr


def _csr_expand(keys: np.ndarray, ptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row with key k, one row per entry of k's list: return (row index, entry index)."""
    counts = ptr[keys + 1] - ptr[keys]
    rep = np.repeat(np.arange(len(keys)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return rep, np.repeat(ptr[keys], counts) + np.arange(len(rep)) - first


def _joined(texts: list[str]) -> tuple[str, list[int]]:
    """Return the texts joined by newlines and the offset of each text in the joined string."""
    offsets, pos = [], 0
    for t in texts:
        offsets.append(pos)
        pos += len(t) + 1
    return "\n".join(texts), offsets


def _boundaries_from_tokens(
    tokens: pd.DataFrame, unit_index: dict[str, int], offsets: list[int]
) -> np.ndarray:
    """Global word-boundary positions from a token table (start/end offsets per unit)."""
    idx = tokens["unit_id"].map(unit_index)
    if idx.isna().any():
        missing = tokens.loc[idx.isna(), "unit_id"].iloc[0]
        raise ValueError(f"tokens table has unit {missing!r} that is not among the units")
    base = np.asarray(offsets, dtype=np.int64)[idx.to_numpy(dtype=np.int64)]
    starts = base + tokens["start"].to_numpy(dtype=np.int64)
    ends = base + tokens["end"].to_numpy(dtype=np.int64)
    return np.concatenate([starts, ends])


def _boundary_mask(n: int, offsets: np.ndarray, lengths: np.ndarray, positions=None) -> np.ndarray:
    """Return a boolean array over positions 0..n of the joined text: True where a word starts or
    ends.

    The start and end of every text are always boundaries.
    """
    mask = np.zeros(n + 1, dtype=bool)
    if positions is not None:
        pos = (
            positions
            if isinstance(positions, np.ndarray)
            else np.fromiter(positions, dtype=np.int64)
        )
        pos = pos[(pos >= 0) & (pos <= n)]
        mask[pos] = True
    mask[offsets] = True
    mask[offsets + lengths] = True
    return mask


def _boundaries_from_token_lists(
    token_lists: list[list[str]], texts: list[str], offsets: np.ndarray
) -> np.ndarray:
    """Global word-boundary positions from the tokens of every text (each list must cover its text).

    The tokens are joined with a separator character and the separators located with numpy, which
    avoids one Python step per token; texts that contain the separator take the slow path.
    """
    if len(token_lists) != len(texts):
        raise ValueError(f"{len(token_lists)} token lists for {len(texts)} units")
    sep = "\x00"
    # the tokens joined by the separator, the texts by newlines: the position of the k-th separator
    # minus k is a word boundary in the newline-joined texts
    flat = "\n".join(sep.join(toks) for toks in token_lists)
    if len(flat) - flat.count(sep) == sum(map(len, texts)) + len(texts) - 1 and not any(
        sep in t for t in texts
    ):
        chars = np.frombuffer(flat.encode("utf-32-le"), dtype=np.uint32)
        seps = np.flatnonzero(chars == 0)
        return seps - np.arange(len(seps))
    out: list[int] = []
    for i, (toks, off) in enumerate(zip(token_lists, offsets.tolist())):
        if sum(map(len, toks)) != len(texts[i]):
            raise ValueError(
                f"the tokens of unit {i} cover {sum(map(len, toks))} characters, its text has "
                f"{len(texts[i])}"
            )
        out.extend(accumulate(map(len, toks), initial=off))
    return np.asarray(out, dtype=np.int64)


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
    rows: list[tuple] = []

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
    unit = np.searchsorted(offsets, gs, side="right") - 1
    ls, le = gs - offsets[unit], ge - offsets[unit]
    kw_rows, kw_entry = _csr_expand(wid, m.kw_ptr)
    words = m.words
    rows.extend(
        zip(
            unit[kw_rows].tolist(),
            [m.kw_codes[k] for k in kw_entry.tolist()],
            repeat("keyword"),
            [words[w] for w in wid[kw_rows].tolist()],
            ls[kw_rows].tolist(),
            le[kw_rows].tolist(),
            [joined_orig[a:b] for a, b in zip(gs[kw_rows].tolist(), ge[kw_rows].tolist())],
        )
    )
    # 2) every pattern, in each unit that holds a literal every match of it needs
    rows.extend(_patterns_apply(m, joined, joined_orig, offsets_list, texts, literal_hits))
    # 3) rules: units that hold every term a rule needs (and none it excludes) are found in numpy,
    #    then only those are checked in Python for order, distance and evidence
    if m.rules:
        th_rows, th_entry = _csr_expand(wid, m.term_ptr)
        hit_unit, hit_start, hit_end = unit[th_rows], ls[th_rows], le[th_rows]
        # word number of each span's first and last character: boundaries up to it; the count
        # runs over the whole joined text, a constant per unit that cancels in every gap
        if is_bound is not None:
            upto = np.cumsum(is_bound)
            base = offsets[hit_unit]
            first, last = upto[base + hit_start], upto[base + hit_end - 1]
        else:  # substring matching: every character is a word
            first, last = hit_start, hit_end - 1
        hits = _TermHits(hit_unit, m.word_term_ids[th_entry], hit_start, hit_end, first, last)
        rows.extend(_rules_apply(m, texts, headings, hits, progress))
    return rows


def _word_boundaries(joined, texts, offsets, lengths, bounds, token_lists, segmenter):
    """Return the global word-boundary positions from the one source of them that was given."""
    given = [x is not None for x in (bounds, token_lists, segmenter)]
    if sum(given) > 1:
        raise ValueError("give word boundaries one way: bounds, token lists or a segmenter")
    if bounds is not None:
        return bounds
    if token_lists is None and segmenter is None:
        raise ValueError("word matching needs a segmenter, token lists or word boundaries")
    if token_lists is None:
        token_lists = [
            segmenter.cut(joined[o : o + n]) for o, n in zip(offsets.tolist(), lengths.tolist())
        ]
    return _boundaries_from_token_lists(token_lists, texts, offsets)


def _patterns_apply(
    m: _Matcher, joined: str, joined_orig: str, offsets: list[int], texts, literal_hits
):
    """Return the pattern evidence rows: every pattern searched in the units that may hold a match.

    A unit is searched only when it holds the literals every match of the pattern contains (the
    and/or of :func:`~helpers.coding_patterns.pattern_requirement`, found for all patterns at once:
    one automaton pass, single characters in numpy).
    """
    n_units = len(texts)
    offsets_np = np.asarray(offsets, dtype=np.int64)
    ends_np = offsets_np + np.fromiter(map(len, texts), dtype=np.int64, count=n_units)
    holds = _literal_units(m.literals, *literal_hits, offsets_np, n_units)
    present: dict[str, np.ndarray] = {}
    rows = []
    for plan in m.patterns:
        if plan.requirement is None:
            units = np.arange(n_units)
        else:
            units = np.flatnonzero(_requirement_met(plan.requirement, holds, present, n_units))
        if not len(units):
            continue
        if plan.joined is not None:
            rows.extend(
                _pattern_window_search(plan, units, joined, joined_orig, offsets_np, ends_np)
            )
            continue
        finditer = plan.regex.finditer
        for i in units.tolist():
            off = offsets[i]
            for mt in finditer(joined[off : off + len(texts[i])]):
                s_, e_ = mt.span()
                if e_ > s_:
                    rows.append((i, plan.code, "pattern", plan.pattern, s_, e_, texts[i][s_:e_]))
    return rows


def _literal_units(
    literals: list[str], literal: np.ndarray, start: np.ndarray, offsets: np.ndarray, n_units: int
) -> dict[str, np.ndarray]:
    """Return, for every literal found (literal ids and start offsets of its occurrences in the
    joined texts), the sorted units whose text holds it."""
    unit = np.searchsorted(offsets, start, side="right") - 1
    width = max(n_units, 1)
    key = _sorted_unique(literal * width + unit)  # by literal, then unit
    literal, unit = key // width, key % width
    cuts = np.flatnonzero(np.diff(literal)) + 1
    return {
        literals[int(ls[0])]: us
        for ls, us in zip(np.split(literal, cuts), np.split(unit, cuts))
        if len(ls)
    }


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """Return the distinct values of ``a``, sorted (``np.unique`` of numpy 2.4 hashes first and
    took 1.3 s for 1.7 million integers; a sort takes 0.03 s)."""
    a = np.sort(a)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def _requirement_met(req, holds: dict, present: dict, n_units: int) -> np.ndarray:
    """Return a boolean per unit: does its text satisfy the requirement (literals it holds)?"""
    if isinstance(req, str):
        if req not in present:
            mask = np.zeros(n_units, dtype=bool)
            mask[holds.get(req, [])] = True
            present[req] = mask
        return present[req]
    kind, parts = req
    masks = [_requirement_met(p, holds, present, n_units) for p in parts]
    return np.logical_and.reduce(masks) if kind == "and" else np.logical_or.reduce(masks)


#: Candidate units closer than this many characters are searched in one call
_WINDOW_GAP = 256


def _pattern_window_search(
    plan: _PatternPlan, units: np.ndarray, joined: str, joined_orig: str, offsets, ends
) -> list[tuple]:
    """Return the evidence rows of a pattern that cannot match a newline, searched in windows of
    the newline-joined (simplified) texts that cover its candidate units.

    Units that lie close together are searched in one call (``finditer(joined, pos, endpos)``);
    a unit between them that is not a candidate holds no match, and no match crosses a newline.
    """
    starts, stops = offsets[units], ends[units]
    new = np.ones(len(units), dtype=bool)
    new[1:] = starts[1:] - stops[:-1] > _WINDOW_GAP
    first = np.flatnonzero(new)
    last = np.append(first[1:], len(units)) - 1
    finditer = plan.joined.finditer
    spans: list[int] = []
    for a, b in zip(starts[first].tolist(), stops[last].tolist()):
        for mt in finditer(joined, a, b):
            spans.extend(mt.span())
    if not spans:
        return []
    gs, ge = spans[0::2], spans[1::2]
    sa = np.asarray(gs, dtype=np.int64)
    ea = np.asarray(ge, dtype=np.int64)
    keep = ea > sa
    sa, ea = sa[keep], ea[keep]
    unit = np.searchsorted(offsets, sa, side="right") - 1
    base = offsets[unit]
    return list(
        zip(
            unit.tolist(),
            repeat(plan.code),
            repeat("pattern"),
            repeat(plan.pattern),
            (sa - base).tolist(),
            (ea - base).tolist(),
            [joined_orig[x:y] for x, y in zip(sa.tolist(), ea.tolist())],
        )
    )


def _rules_apply(
    m: _Matcher, texts: list[str], headings: list[str], hits: _TermHits, progress: bool
) -> list[tuple]:
    """Return the rule evidence rows ``(index, code, "rule", label, start, end, match)``."""
    n_units, n_terms = len(texts), len(m.terms)
    present = np.zeros((n_units, max(n_terms, 1)), dtype=bool)
    present[hits.unit, hits.term] = True
    heading_ids: dict[str, int] = {}
    unit_heading = np.asarray(
        [heading_ids.setdefault(h, len(heading_ids)) for h in headings], dtype=np.int64
    )
    simple_headings = [_heading_simplify(h) for h in heading_ids]
    candidates = []  # (plan, units where it may fire, first heading of the rule per heading id)
    for plan in m.rules:
        ok = np.ones(n_units, dtype=bool)
        for t in plan.all_terms + plan.near_terms:
            ok &= present[:, t]
        if plan.any_terms:
            ok &= present[:, list(plan.any_terms)].any(axis=1)
        if plan.not_terms:
            ok &= ~present[:, list(plan.not_terms)].any(axis=1)
        heading_found = None
        if plan.rule.heading:
            heading_found = [m.heading_first(plan.rule, sh) for sh in simple_headings]
            ok &= np.array([f is not None for f in heading_found], dtype=bool)[unit_heading]
        candidates.append((plan, np.flatnonzero(ok).tolist(), heading_found))
    spans = _SpanIndex(hits, candidates, n_units, n_terms)
    term_ids = {name: j for j, name in enumerate(m.terms)}
    out: list[tuple] = []
    if progress:
        from tqdm import tqdm

        candidates = tqdm(candidates, desc="coding rules", unit="rule")
    for plan, units, heading_found in candidates:
        rule = plan.rule
        if not plan.positive_terms:  # heading only
            out.extend(
                (i, plan.code, "rule", plan.label, None, None, f"heading: {heading_found[h]}")
                for i, h in zip(units, unit_heading[units].tolist())
            )
            continue
        for i in units:
            text = texts[i]
            ev: list[tuple] = []  # (start, end, what): what is the heading or the matched term
            if heading_found is not None:
                ev.append((None, None, f"heading: {heading_found[unit_heading[i]]}"))
            ev.extend((*spans.first(i, term_ids[t]), t) for t in rule.all)
            if rule.any:
                t = next(t for t in rule.any if spans.first(i, term_ids[t]))
                ev.append((*spans.first(i, term_ids[t]), t))
            if rule.near:
                a, b = rule.near
                pair = _near(spans.all(i, term_ids[a]), spans.all(i, term_ids[b]), rule.window)
                if pair is None:
                    continue
                ev.extend([(pair[0].start, pair[0].end, a), (pair[1].start, pair[1].end, b)])
            out.extend(
                (i, plan.code, "rule", plan.label, s_, e_, what if s_ is None else text[s_:e_])
                for s_, e_, what in ev
            )
    return out


class _SpanIndex:
    """The spans of each (unit, term), in text order, found by binary search on sorted keys.

    Only units where a rule with terms may fire are indexed; no Python object is made per span
    until a rule asks for it.
    """

    def __init__(self, hits: _TermHits, candidates, n_units: int, n_terms: int) -> None:
        needed = np.zeros(n_units, dtype=bool)
        for plan, units, _ in candidates:
            if plan.positive_terms:
                needed[units] = True
        sel = needed[hits.unit]
        key = hits.unit[sel] * max(n_terms, 1) + hits.term[sel]
        start, end = hits.start[sel], hits.end[sel]
        order = np.lexsort((end, start, key))
        self.n_terms = max(n_terms, 1)
        self.key = key[order].tolist()
        self.start = start[order].tolist()
        self.end = end[order].tolist()
        self.first_word = hits.first_word[sel][order].tolist()
        self.last_word = hits.last_word[sel][order].tolist()

    def _range(self, unit: int, term: int) -> tuple[int, int]:
        k = unit * self.n_terms + term
        return bisect.bisect_left(self.key, k), bisect.bisect_right(self.key, k)

    def first(self, unit: int, term: int) -> tuple[int, int] | tuple[()]:
        """``(start, end)`` of the term's first span in the unit, or ``()`` if it has none."""
        lo, hi = self._range(unit, term)
        return (self.start[lo], self.end[lo]) if lo < hi else ()

    def all(self, unit: int, term: int) -> list[_Span]:
        """Every span of the term in the unit."""
        lo, hi = self._range(unit, term)
        return [
            _Span(self.start[j], self.end[j], self.first_word[j], self.last_word[j])
            for j in range(lo, hi)
        ]


@lru_cache(maxsize=4096)
def _heading_simplify(heading: str) -> str:
    return text_simplify(heading)


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
    rows = texts_code(
        texts,
        m,
        token_lists=token_lists,
        bounds=bounds,
        segmenter=segmenter,
        headings=headings,
        progress=progress,
    )
    evidence = _evidence_frame(rows, uids, docs, codebook)
    wide = _wide(u, evidence, codebook)
    return CodingResult(codebook=codebook, units=u, evidence=evidence, wide=wide)


def _evidence_frame(
    rows: list[tuple], uids: list[str], docs: list[str], codebook: Codebook
) -> pd.DataFrame:
    """Return the evidence rows of :func:`texts_code` as the evidence table, without duplicates.

    Ordered by unit, code (codebook order), indicator type, start (heading-only evidence last) and
    indicator, ties in the order found. Sorted and deduplicated as plain tuples, and the table
    built from whole columns: a DataFrame sort on string columns took a second on 300,000 rows.
    """
    dims = {c.id: c.dimension for c in codebook.codes}
    if not rows:
        evidence = pd.DataFrame([], columns=EVIDENCE_COLUMNS)
        return evidence.astype({"start": "Int64", "end": "Int64"})
    order = {cid: i for i, cid in enumerate(codebook.ids)}

    def key(r: tuple) -> tuple:
        return (r[0], order[r[1]], r[2], r[4] is None, r[4] or 0, r[3])

    ordered = sorted(dict.fromkeys(rows), key=key)
    # one list per field (``zip(*ordered)`` makes the garbage collector walk every row)
    unit, code, kind, indicator, start, end, match = (
        list(map(itemgetter(k), ordered)) for k in range(7)
    )
    return pd.DataFrame(
        {
            "doc_id": [docs[i] for i in unit],
            "unit_id": [uids[i] for i in unit],
            "code": code,
            "dimension": [dims[c] for c in code],
            "indicator_type": kind,
            "indicator": indicator,
            "start": pd.array(start, dtype="Int64"),
            "end": pd.array(end, dtype="Int64"),
            "match": match,
        }
    )


def _near(spans_a: list[_Span], spans_b: list[_Span], window: int):
    """Return the closest pair of spans of two terms within ``window`` words, or None.

    The gap is the number of word boundaries between the end of the first span and the start of
    the second, whichever comes first in the text; a span is not paired with itself.
    """
    best = None
    for sa in spans_a:
        for sb in spans_b:
            if sa == sb:
                continue
            if sa.start <= sb.start:
                gap = sb.first_word - sa.last_word
            else:
                gap = sa.first_word - sb.last_word
            if gap <= window and (best is None or gap < best[0]):
                best = (gap, sa, sb)
    return None if best is None else (best[1], best[2])


def _wide(u: pd.DataFrame, evidence: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    wide = u[
        ["doc_id", "unit_id"]
        + [c for c in ("level", "kind", "heading_path", "section") if c in u]
        + ["text"]
    ]
    wide = wide.reset_index(drop=True).copy()
    pos = {uid: i for i, uid in enumerate(wide["unit_id"].tolist())}
    col = {cid: j for j, cid in enumerate(codebook.ids)}
    matrix = np.zeros((len(wide), len(col)), dtype=np.int64)
    if len(evidence):
        rows = np.fromiter(
            (pos[x] for x in evidence["unit_id"].tolist()), dtype=np.int64, count=len(evidence)
        )
        cols = np.fromiter(
            (col[x] for x in evidence["code"].tolist()), dtype=np.int64, count=len(evidence)
        )
        matrix[rows, cols] = 1
    for cid, j in col.items():
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
