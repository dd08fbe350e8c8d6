"""What a codebook's regular expression needs, read from its parsed form, for the coding engine.

:func:`pattern_literals`: strings of which every match contains one, so that a pattern is searched
only in the units that hold one (found for all patterns in one automaton pass).
:func:`pattern_newline_free`: the pattern compiled so that it can never match a newline, when that
leaves its matches in newline-free texts unchanged, so that it can be searched in one pass over the
newline-joined texts of its units (:func:`pattern_newline_free_source`: its source, not compiled).
All read ``re._parser``'s parse tree (CPython's own parser), parsed once per pattern string.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def pattern_parse(pattern: str):
    """Return ``re._parser``'s parse tree of ``pattern``, parsed once per pattern string.

    ``codebook_read`` (its check for nested quantifiers), :func:`pattern_requirement`,
    :func:`pattern_literals` and :func:`pattern_newline_free` read the same tree (a matcher built
    for a codebook asks all of them of every pattern); they only read it, never change it. Raises
    what the parser raises (not cached: raised again on every call).
    """
    from re import _parser

    return _parser.parse(pattern)


def pattern_newlines_excluded(pattern: str) -> str:
    """Return ``pattern`` with ``\\n`` added to every negated class (``[^。；]`` → ``[^\\n。；]``).

    Unit texts hold no newline, so the pattern matches them exactly as before.
    """
    out, i, n = [], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch != "[":
            out.append(ch)
            i += 1
            continue
        j = i + 1
        negated = j < n and pattern[j] == "^"
        if negated:
            j += 1
        if j < n and pattern[j] == "]":  # a "]" first in a class is a literal
            j += 1
        while j < n and pattern[j] != "]":
            j += 2 if pattern[j] == "\\" else 1
        body = pattern[i + 1 + negated : j]
        if not negated:
            out.append(f"[{body}")
        else:  # after a leading "]" (a literal there), before anything that could make a range
            lead = "]" if body.startswith("]") else ""
            out.append(f"[^{lead}\\n{body[len(lead) :]}")
        i = j
    return "".join(out)


def pattern_newline_free(pattern: str) -> re.Pattern | None:
    """Return the pattern compiled so that it never matches a newline, or None when it can.

    The source is :func:`pattern_newline_free_source`; None also when that does not compile.
    """
    return pattern_compiled(pattern_newline_free_source(pattern))


def pattern_compiled(source: str | None) -> re.Pattern | None:
    """Return ``source`` compiled, or None when it is None or does not compile."""
    if source is None:
        return None
    try:
        return re.compile(source)
    except (re.error, ValueError, IndexError):
        return None


def pattern_newline_free_source(pattern: str) -> str | None:
    """Return the pattern rewritten so that it never matches a newline, or None when it can.

    Read from the parse tree only (the rewrite is compiled by :func:`pattern_newline_free`, or by
    the matcher when the pattern is first searched). With ``\\n`` added to its negated classes
    (:func:`pattern_newlines_excluded`), a pattern that has no ``^ $ \\A \\Z``, no DOTALL, no
    ``\\s \\W \\D``, no newline in a class, no conditional group, matches the newline-joined
    texts exactly where it matches each text: no match can cross a newline, and a newline before
    or after a text looks to ``\\b`` and to lookarounds as the start or end of the text does
    (neither can match it). None also when the rewrite changed a class beyond adding the newline
    (``[^-，。]`` → ``[^\\n-，。]``, where ``\\n-，`` reads as a range).
    """
    from re import _constants as sre

    try:
        rewritten = pattern_newlines_excluded(pattern)
        parsed = pattern_parse(rewritten)
    except (re.error, ValueError, IndexError):
        return None
    if parsed.state.flags & (re.DOTALL | re.MULTILINE | re.VERBOSE):
        return None
    newline = ord("\n")
    categories = (sre.CATEGORY_DIGIT, sre.CATEGORY_NOT_SPACE, sre.CATEGORY_WORD)

    def item_matches_newline(op, av) -> bool:  # one item of a class
        if op == sre.LITERAL:
            return av == newline
        if op == sre.RANGE:
            return av[0] <= newline <= av[1]
        if op == sre.CATEGORY:
            return av not in categories
        return True

    def safe(items) -> bool:
        for op, av in items:
            if op == sre.LITERAL:
                if av == newline:
                    return False
            elif op == sre.ANY:
                pass
            elif op == sre.IN:
                negate = bool(av) and av[0][0] == sre.NEGATE
                rest = av[1:] if negate else av
                hits = any(item_matches_newline(o, a) for o, a in rest)
                if hits != negate:  # a negated class must exclude the newline
                    return False
            elif op == sre.AT:
                if av not in (sre.AT_BOUNDARY, sre.AT_NON_BOUNDARY):
                    return False
            elif op == sre.SUBPATTERN:
                if (av[1] | av[2]) & (re.DOTALL | re.MULTILINE) or not safe(av[3]):
                    return False
            elif op == sre.BRANCH:
                if not all(safe(b) for b in av[1]):
                    return False
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
                if not safe(av[2]):
                    return False
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                if not safe(av[1]):
                    return False
            elif op == sre.ATOMIC_GROUP:
                if not safe(av):
                    return False
            elif op != sre.GROUPREF:  # a back reference repeats a group checked on its own
                return False
        return True

    if not safe(parsed):
        return None
    if rewritten == pattern:  # no negated class: nothing to compare
        return rewritten
    try:  # the rewrite must only have added the newline to the negated classes
        same = _newline_dropped(pattern_parse(pattern)) == _newline_dropped(parsed)
    except (re.error, ValueError, IndexError):
        return None
    return rewritten if same else None


def _newline_dropped(x):
    """A parse tree (or part) as nested tuples, each negated class as the set of its items without
    a ``\\n``: equal for a pattern and its rewrite by :func:`pattern_newlines_excluded` unless the
    inserted ``\\n`` changed a class (``[^-a]`` → ``[^\\n-a]``, a range from ``\\n`` to ``a``)."""
    from re import _constants as sre

    if hasattr(x, "data") and hasattr(x, "state"):  # a SubPattern
        return ("sub", x.state.flags, tuple(_newline_dropped(i) for i in x.data))
    if isinstance(x, (list, tuple)):
        if len(x) == 2 and x[0] is sre.NOT_LITERAL:  # [^a]
            return ("not", frozenset({(sre.LITERAL, x[1])}) - {(sre.LITERAL, 10)})
        if len(x) == 2 and x[0] is sre.IN and x[1] and x[1][0][0] is sre.NEGATE:
            return ("not", frozenset(x[1][1:]) - {(sre.LITERAL, 10)})
        return tuple(_newline_dropped(i) for i in x)
    return x


def pattern_literals(pattern: str) -> tuple[str, ...] | None:
    """Return strings of which every match of ``pattern`` contains at least one, or None.

    Read from the parsed pattern: a run of literal characters in the top-level sequence, a group
    whose alternatives each need a literal, a repeat of at least once. The longest such choice is
    kept. None when the pattern ignores case or needs no literal (``.+``, ``[一二三]+``).
    """
    from re import _constants as sre

    parsed = pattern_parse(pattern)
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None

    def needs(items) -> tuple[str, ...] | None:
        best: tuple[str, ...] | None = None
        run = ""

        def consider(cands):
            nonlocal best
            if cands and (best is None or min(map(len, cands)) > min(map(len, best))):
                best = cands

        for op, av in list(items) + [(None, None)]:
            if op == sre.LITERAL:
                run += chr(av)
                continue
            consider((run,) if run else None)
            run = ""
            if op == sre.SUBPATTERN:
                if av[1] & re.IGNORECASE:
                    return None
                consider(needs(av[3]))
            elif op == sre.BRANCH:
                alts = [needs(b) for b in av[1]]
                if all(alts):
                    consider(tuple(dict.fromkeys(x for a in alts for x in a)))
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
                consider(needs(av[2]))
            elif op == sre.ATOMIC_GROUP:
                consider(needs(av))
            elif op == sre.IN and all(o == sre.LITERAL for o, _ in av):
                consider(tuple(chr(c) for _, c in av))  # [元钱] or (元|钱): one of the characters
        return best

    return needs(parsed)


class _CaseIgnored(Exception):
    """A part of the pattern ignores case: its literals are not what a match contains."""


def _items(sub) -> list:
    """The (op, argument) items of a parsed (sub)pattern: its list (``SubPattern.data``), read
    without a ``__getitem__`` call per item."""
    return getattr(sub, "data", sub)


#: What every match of a pattern contains: a literal (``str``), ``("and", parts)`` (each part),
#: ``("or", parts)`` (at least one part), or None (nothing is known: every text is searched).
Requirement = str | tuple[str, tuple["Requirement", ...]] | None


def pattern_requirement(pattern: str) -> Requirement:
    """Return what every match of ``pattern`` contains, as and/or of literals, or None.

    Read from the parsed pattern like :func:`pattern_literals`, but keeping every part a match
    needs: ``(产业|企业)[^。]{0,8}转移|承接地`` needs (``产业`` or ``企业``) and ``转移``, or
    ``承接地``. A text that does not satisfy it cannot hold a match, so it need not be searched.
    Lookarounds add nothing (what they see need not be in the match); a class of literal
    characters is one of them; a repeat adds its body when it must occur at least once. None
    when the pattern ignores case or is verbose, or needs no literal at all.
    """
    from re import _constants as sre

    try:
        parsed = pattern_parse(pattern)
    except (re.error, ValueError, IndexError):
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None

    def combine(kind: str, parts: list) -> Requirement:
        flat: list = []
        for p in parts:
            flat.extend(p[1] if isinstance(p, tuple) and p[0] == kind else (p,))
        flat = list(dict.fromkeys(flat))
        return flat[0] if len(flat) == 1 else (kind, tuple(flat))

    def needs(items) -> Requirement:
        parts: list = []
        run = ""
        for op, av in [*_items(items), (None, None)]:
            if op == sre.LITERAL:
                run += chr(av)
                continue
            if run:
                parts.append(run)
            run = ""
            part = None
            if op == sre.SUBPATTERN:
                if av[1] & re.IGNORECASE:
                    raise _CaseIgnored
                part = needs(av[3])
            elif op == sre.BRANCH:
                alts = [needs(b) for b in av[1]]
                part = None if any(a is None for a in alts) else combine("or", alts)
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
                part = needs(av[2])
            elif op == sre.ATOMIC_GROUP:
                part = needs(av)
            elif op == sre.IN and av and all(o == sre.LITERAL for o, _ in av):
                part = combine("or", [chr(c) for _, c in av])
            if part is not None:
                parts.append(part)
        return combine("and", parts) if parts else None

    try:
        return needs(parsed)
    except _CaseIgnored:
        return None


def requirement_literals(requirement: Requirement) -> set[str]:
    """Return every literal a requirement names."""
    if requirement is None:
        return set()
    if isinstance(requirement, str):
        return {requirement}
    return set().union(*(requirement_literals(p) for p in requirement[1]))
