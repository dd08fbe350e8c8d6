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

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
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
        self.string = np.full(len(nodes), -1, dtype=np.int32)  # node -> the string it ends
        self.string[[nodes[x] for x in strings]] = np.arange(len(strings))
        self.width = width = len(alphabet) + 1
        parents, labels = np.asarray(parent, dtype=np.int64), np.asarray(label, dtype=np.int64)
        depth = np.fromiter(map(len, nodes), dtype=np.int64, count=len(nodes))
        self.depth = int(depth.max())
        self.root = np.full(width, -1, dtype=np.int32)
        level1 = np.flatnonzero(depth == 1)
        self.root[labels[level1]] = level1
        self.dense = None
        if len(level1) * width <= self.DENSE_CELLS:
            self.row = np.full(len(nodes), -1, dtype=np.int32)
            self.row[level1] = np.arange(len(level1))
            self.dense = np.full((len(level1), width), -1, dtype=np.int32)
            level2 = np.flatnonzero(depth == 2)
            self.dense[self.row[parents[level2]], labels[level2]] = level2
        deep = np.flatnonzero(depth >= (3 if self.dense is not None else 2))
        keys = parents[deep] * width + labels[deep]
        order = np.argsort(keys)
        self.keys, self.child = keys[order], deep[order].astype(np.int32)

    def find(self, chars: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (string id, start, end) arrays of every occurrence in the text ``chars``
        (code points), ordered by length, then start."""
        n = len(chars)
        found = []
        if n and self.depth:
            letters = np.zeros(max(int(chars.max()), int(self.alphabet.max())) + 1, np.int32)
            letters[self.alphabet] = np.arange(1, len(self.alphabet) + 1)
            text = np.zeros(n + self.depth, dtype=np.int32)  # past the end: no letter, no edge
            np.take(letters, chars, out=text[:n])
            node = self.root[text[:n]]
            pos = np.flatnonzero(node >= 0)
            node = node[pos]
        for d in range(1, self.depth + 1 if n else 1):
            if d > 1:
                nxt = text[pos + (d - 1)]
                if d == 2 and self.dense is not None:
                    node = self.dense[self.row[node], nxt]
                else:
                    key = node.astype(np.int64) * self.width + nxt
                    at = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
                    node = np.where(self.keys[at] == key, self.child[at], -1)
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
        sid, start, end = (np.concatenate(x).astype(np.int64, copy=False) for x in zip(*found))
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
        if "\x00" not in joined:
            return _boundaries_cut(joined, offsets, lengths, segmenter)
        token_lists = [
            segmenter.cut(joined[o : o + n]) for o, n in zip(offsets.tolist(), lengths.tolist())
        ]
    return _boundaries_from_token_lists(token_lists, texts, offsets)


#: The ASCII joiners after which :meth:`~helpers.tokens.Segmenter.cut` re-splits tokens
_JOINERS = np.array([ord(c) for c in "-._"], dtype=np.uint32)


def _boundaries_cut(
    joined: str, offsets: np.ndarray, lengths: np.ndarray, segmenter: Segmenter
) -> np.ndarray:
    """Word boundaries of every text of ``joined``: the texts without an ASCII joiner (``-._``)
    cut in one call, the others one by one.

    :meth:`~helpers.tokens.Segmenter.cut` looks at each token of a text that holds a joiner in
    Python; cut together, one such text would send every token of the corpus that way.
    """
    # any text with a ``-``, ``.`` or ``_`` (found in numpy): a few more than need it, never fewer
    joiners = np.flatnonzero(np.isin(_code_points(joined), _JOINERS))
    alone = np.zeros(len(offsets), dtype=bool)
    alone[np.searchsorted(offsets, joiners, side="right") - 1] = True
    together = np.flatnonzero(~alone)
    out = []
    if len(together):
        at, n = offsets[together], lengths[together]
        # the texts cut together, joined by newlines: runs of neighbouring texts sliced whole
        run = np.flatnonzero(np.diff(together) != 1) + 1
        first, last = np.r_[0, run], np.r_[run, len(together)] - 1
        ranges = zip(at[first].tolist(), (at[last] + n[last]).tolist())
        sub = "\n".join(joined[a:b] for a, b in ranges)
        sub_offsets = np.r_[0, np.cumsum(n + 1)[:-1]].astype(np.int64)
        pos = _boundaries_from_cut(segmenter.cut(sub), len(sub)) if sub else sub_offsets
        # a boundary in the sub-text, moved by where its text starts in ``joined``
        k = np.repeat(np.arange(len(together)), n + 1)[pos]
        out.append(at[k] + pos - sub_offsets[k])
    for o, k in zip(offsets[alone].tolist(), lengths[alone].tolist()):
        ends = accumulate(map(len, segmenter.cut(joined[o : o + k])), initial=o)
        out.append(np.fromiter(ends, dtype=np.int64))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _boundaries_from_cut(tokens: list[str], n: int) -> np.ndarray:
    """Word boundaries from the tokens of the whole newline-joined text, cut in one call.

    jieba (and rjieba, its twin) cut a text block by block: each run of CJK characters, letters,
    digits and ``+#&._%-`` is cut on its own, and every other character, a newline among them,
    is a token of its own (``\\r\\n`` one token: a boundary the texts' edges give anyway). So
    the joined texts give each text's tokens with a newline between them, as cutting each text
    alone does, in one call instead of one per unit (tested on the corpus and on random texts).
    """
    sep = "\x00"
    flat = sep.join(tokens)
    covered = len(flat) - max(len(tokens) - 1, 0)
    if covered != n:
        raise ValueError(f"the tokens cover {covered} characters, the texts {n}")
    seps = np.flatnonzero(_code_points(flat) == 0)
    return seps - np.arange(len(seps))


def _patterns_apply(
    m: _Matcher, joined: str, offsets, lengths, unit_at, literal_hits, parts
) -> None:
    """Add the pattern evidence: every pattern searched in the units that may hold a match.

    A unit is searched only when it holds the literals every match of the pattern contains (the
    and/or of :func:`~helpers.coding_patterns.pattern_requirement`, found for all patterns in the
    one pass over the text).
    """
    n_units = len(offsets)
    ends = offsets + lengths
    holds = _literal_units(m.literals, *literal_hits, unit_at, n_units)
    present: dict[str, np.ndarray] = {}
    for plan, code, indicator in zip(m.patterns, m.pattern_code_index, m.pattern_indicator):
        if plan.requirement is None:
            units = np.arange(n_units)
        else:
            units = np.flatnonzero(_requirement_met(plan.requirement, holds, present, n_units))
        if not len(units):
            continue
        if plan.joined is not None:
            gs, ge = _pattern_window_search(plan, units, joined, offsets, ends)
        else:  # searched in each unit's text on its own (``^``, ``$``, ``\\s`` …)
            finditer, spans = plan.regex.finditer, []
            for a, b in zip(offsets[units].tolist(), ends[units].tolist()):
                spans.extend(a + s for mt in finditer(joined[a:b]) for s in mt.span())
            gs = np.asarray(spans[0::2], dtype=np.int64)
            ge = np.asarray(spans[1::2], dtype=np.int64)
        keep = ge > gs
        gs, ge = gs[keep], ge[keep]
        parts.add(unit_at[gs], code, 1, indicator, gs, ge)


def _literal_units(
    literals: list[str], literal: np.ndarray, start: np.ndarray, unit_at: np.ndarray, n_units: int
) -> dict[str, np.ndarray]:
    """Return, for every literal found (literal ids and start offsets of its occurrences in the
    joined texts), the sorted units whose text holds it."""
    unit = unit_at[start].astype(np.int64)
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
    plan: _PatternPlan, units: np.ndarray, joined: str, offsets, ends
) -> tuple[np.ndarray, np.ndarray]:
    """Return the (start, end) offsets of the matches of a pattern that cannot match a newline,
    searched in windows of the newline-joined (simplified) texts that cover its candidate units.

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
    return np.asarray(spans[0::2], dtype=np.int64), np.asarray(spans[1::2], dtype=np.int64)


def _rules_apply(
    m: _Matcher,
    headings: list[str],
    hits: _TermHits,
    offsets: np.ndarray,
    parts: _Parts,
    whats: list[str],
    progress: bool,
) -> None:
    """Add the rule evidence: for each rule, the units where it fires and the spans it cites.

    A rule cites (in this order) the heading it needs, the first span of each ``all`` term, the
    first span of the first ``any`` term present, and the closest pair of ``near`` spans; each
    found for all the rule's units at once on the spans sorted by (unit, term, start, end).
    """
    n_units, n_terms = len(offsets), max(len(m.terms), 1)
    present = np.zeros((n_units, n_terms), dtype=bool)
    present[hits.unit, hits.term] = True
    heading_ids: dict[str, int] = {}
    unit_heading = np.asarray(
        [heading_ids.setdefault(h, len(heading_ids)) for h in headings], dtype=np.int64
    )
    simple_headings = [_heading_simplify(h) for h in heading_ids]
    key = hits.unit * n_terms + hits.term
    order = np.lexsort((hits.end, hits.start, key))
    spans = _Spans(
        key[order],
        hits.start[order],
        hits.end[order],
        hits.first_word[order],
        hits.last_word[order],
    )
    what_ids: dict[str, int] = {}
    plans = zip(m.rules, m.rule_code_index, m.rule_indicator)
    if progress:
        from tqdm import tqdm

        plans = tqdm(list(plans), desc="coding rules", unit="rule")
    for plan, code, indicator in plans:
        ok = np.ones(n_units, dtype=bool)
        for t in plan.all_terms + plan.near_terms:
            ok &= present[:, t]
        if plan.any_terms:
            ok &= present[:, list(plan.any_terms)].any(axis=1)
        if plan.not_terms:
            ok &= ~present[:, list(plan.not_terms)].any(axis=1)
        heading_what = None
        if plan.rule.heading:
            found = [m.heading_first(plan.rule, sh) for sh in simple_headings]
            ok &= np.array([f is not None for f in found], dtype=bool)[unit_heading]
            heading_what = np.array(
                [
                    -1 if f is None else what_ids.setdefault(f"heading: {f}", len(what_ids))
                    for f in found
                ],
                dtype=np.int64,
            )
        units = np.flatnonzero(ok)
        cited: list[tuple[np.ndarray, np.ndarray]] = []  # (start, end) per unit, in order
        if plan.positive_terms:
            base = units * n_terms
            cited += [spans.first(base + t) for t in plan.all_terms]
            if plan.any_terms:
                start = np.full(len(units), -1, dtype=np.int64)
                end = start.copy()
                for t in plan.any_terms:
                    s_, e_ = spans.first(base + t, missing=True)
                    take = (start < 0) & (s_ >= 0)
                    start[take], end[take] = s_[take], e_[take]
                cited.append((start, end))
            if plan.near_terms:
                a, b = plan.near_terms
                pair, (sa, ea, sb, eb) = spans.nearest(base + a, base + b, plan.rule.window)
                units = units[pair]
                cited = [(s_[pair], e_[pair]) for s_, e_ in cited] + [(sa, ea), (sb, eb)]
        elif heading_what is None:
            continue
        if not len(units):
            continue
        n_cite = len(cited) + (heading_what is not None)
        pos = 0
        if heading_what is not None:
            none = np.full(len(units), -1, dtype=np.int64)
            what = heading_what[unit_heading[units]]
            parts.add(units, code, 2, indicator, none, none, what, np.arange(len(units)) * n_cite)
            pos = 1
        at = offsets[units]
        for k, (s_, e_) in enumerate(cited, start=pos):
            parts.add(
                units,
                code,
                2,
                indicator,
                at + s_,
                at + e_,
                None,
                np.arange(len(units)) * n_cite + k,
            )
    whats.extend(what_ids)


@dataclass(frozen=True)
class _Spans:
    """Term spans sorted by key (``unit × n_terms + term``), then start, then end."""

    key: np.ndarray
    start: np.ndarray
    end: np.ndarray
    first_word: np.ndarray
    last_word: np.ndarray

    def first(self, keys: np.ndarray, missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) of the first span of each key; with ``missing``, -1 where it has none."""
        at = np.searchsorted(self.key, keys)
        if not missing:
            return self.start[at], self.end[at]
        safe = np.minimum(at, max(len(self.key) - 1, 0))
        found = (at < len(self.key)) & (self.key[safe] == keys) if len(self.key) else at < 0
        return np.where(found, self.start[safe], -1), np.where(found, self.end[safe], -1)

    def nearest(self, keys_a: np.ndarray, keys_b: np.ndarray, window: int):
        """For each pair of keys: the closest pair of spans (a span of a, a span of b) whose gap
        is at most ``window`` words, the first such pair in (a, b) order on ties; a span is not
        paired with itself. Return the indices of the keys that have one and, for them, (start
        of a, end of a, start of b, end of b)."""
        lo_a, hi_a = np.searchsorted(self.key, keys_a), np.searchsorted(self.key, keys_a, "right")
        lo_b, hi_b = np.searchsorted(self.key, keys_b), np.searchsorted(self.key, keys_b, "right")
        n_a, n_b = hi_a - lo_a, hi_b - lo_b
        size = n_a * n_b
        owner = np.repeat(np.arange(len(keys_a)), size)
        k = np.arange(int(size.sum()), dtype=np.int64) - np.repeat(np.cumsum(size) - size, size)
        nb = n_b[owner]
        ia, ib = lo_a[owner] + k // nb, lo_b[owner] + k % nb
        start, end, first, last = self.start, self.end, self.first_word, self.last_word
        a_first = start[ia] <= start[ib]
        gap = np.where(a_first, first[ib] - last[ia], first[ia] - last[ib])
        ok = (gap <= window) & ~((start[ia] == start[ib]) & (end[ia] == end[ib]))
        owner, gap, ia, ib, k = owner[ok], gap[ok], ia[ok], ib[ok], k[ok]
        best = np.lexsort((k, gap, owner))
        first_of = np.ones(len(best), dtype=bool)
        first_of[1:] = owner[best][1:] != owner[best][:-1]
        best = best[first_of]
        ia, ib = ia[best], ib[best]
        return owner[best], (start[ia], end[ia], start[ib], end[ib])


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
