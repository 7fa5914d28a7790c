"""Literal prefilters for keyword rules: which plain strings a pattern cannot match
without.

Python's `re` tries every branch of a long alternation at every position of the
text, so a rule of forty patterns costs about 2 µs per character even when nothing
in the text comes close. Nearly every rule pattern contains a literal it needs
(`\\bfraud` needs "fraud"; a `near(payment|paiement, fail|declin)` pattern needs one of
"payment", "paiement"): checking those with `in` first skips the regex for most
texts. The literals are read from the pattern's parse tree (the standard library's
own parser), so they can never disagree with the pattern: a pattern whose needed
literal cannot be told is simply always searched.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

try:  # the parser `re` itself uses (Python 3.11+, untyped); without it, no prefilter
    sre_constants: Any = importlib.import_module("re._constants")
    sre_parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover (a Python without it: every rule is searched)
    sre_constants = None
    sre_parser = None

Needed = frozenset[str]
"""A set of literals at least one of which every match contains."""


def needed_literals(pattern: str) -> Needed | None:
    """Literals one of which any match of `pattern` contains, or None when that
    cannot be told (the pattern is then always searched)."""
    if sre_parser is None:
        return None
    try:
        parsed = sre_parser.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    return _needed(parsed.data)


def prefilter_for(patterns: Iterable[str]) -> tuple[str, ...] | None:
    """The literals of a rule made of `patterns` (an alternation): when none of them
    is in the text, no pattern can match. None when some pattern has none."""
    literals: set[str] = set()
    for pattern in patterns:
        needed = needed_literals(pattern)
        if needed is None:
            return None
        literals |= needed
    # Drop literals that contain a shorter one: the shorter one is found whenever
    # the longer one is.
    kept = sorted(literals, key=len)
    minimal: list[str] = []
    for literal in kept:
        if not any(shorter in literal for shorter in minimal):
            minimal.append(literal)
    return tuple(minimal)


def _needed(items: Sequence[tuple[Any, Any]]) -> Needed | None:
    """The most selective requirement among the items of a sequence (all of them
    must match, so any one item's requirement holds for the whole)."""
    constants = sre_constants
    candidates: list[Needed] = []
    run: list[str] = []

    def end_run() -> None:
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, value in items:
        if op is constants.LITERAL:
            run.append(chr(value))
            continue
        end_run()
        if op is constants.SUBPATTERN:
            _group, add_flags, _del_flags, sub = value
            if add_flags & re.IGNORECASE:
                return None
            found = _needed(sub.data)
        elif op is getattr(constants, "ATOMIC_GROUP", None):
            found = _needed(value.data)
        elif op is constants.BRANCH:
            found = _any_of(value[1])
        elif op in (
            constants.MAX_REPEAT,
            constants.MIN_REPEAT,
            getattr(constants, "POSSESSIVE_REPEAT", None),
        ):
            low, _high, sub = value
            found = _needed(sub.data) if low >= 1 else None
        else:  # AT, IN, ANY, NOT_LITERAL, lookarounds, group references: no literal
            found = None
        if found is not None:
            candidates.append(found)
    end_run()
    if not candidates:
        return None
    # The most selective: the longest shortest literal, then the fewest literals.
    return max(candidates, key=lambda needed: (min(map(len, needed)), -len(needed)))


def _any_of(alternatives: Sequence[Any]) -> Needed | None:
    """A branch needs one of its alternatives' literals (unknown if any has none)."""
    literals: set[str] = set()
    for alternative in alternatives:
        needed = _needed(alternative.data)
        if needed is None:
            return None
        literals |= needed
    return frozenset(literals)
