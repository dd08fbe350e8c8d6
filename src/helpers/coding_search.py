"""Where the indicators of a codebook are found: the search machinery behind :mod:`helpers.coding`.

Works on the units' texts joined by newlines (one string, one offset per unit):

- word boundaries from a segmenter (the texts cut in one call where that gives the same words),
  from token lists or from a tokens table;
- :class:`_StringTrie`, every occurrence of every keyword, term word and pattern literal in one
  walk over the code points with numpy;
- the regular expressions, searched only in the units that hold the literals they need, in windows
  of the joined text;
- the rules (``all``, ``any``, ``near``, ``not``, ``heading``), decided for all their units at once
  from the sorted spans of their terms.

The compiled codebook (``_Matcher``) and the evidence tables stay in :mod:`helpers.coding`; the
functions here take them as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING

import numpy as np

from helpers.text import text_simplify
from helpers.tokens import Segmenter

if TYPE_CHECKING:
    import pandas as pd

    from helpers.coding import _Matcher, _Parts, _PatternPlan, _TermHits


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


@lru_cache(maxsize=4096)
def _heading_simplify(heading: str) -> str:
    return text_simplify(heading)


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
