"""Finding indexed words by prefix (search-as-you-type) and by edit distance (typos).

Typo lookup uses a deletion neighbourhood, the idea behind SymSpell: every term
is stored under the strings made by deleting up to two letters from its first
`PREFIX_LENGTH` letters, and a query looks up its own deletions. Two words within
distance *d* share such a string, so candidates come from a few dictionary
lookups instead of a scan of the vocabulary; each candidate is then checked with
the real (optimal string alignment) distance, where a swap of two neighbouring
letters counts as one typo.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

PREFIX_LENGTH = 7
"""Only deletions of the first letters are stored, which bounds memory per term."""

MIN_FUZZY_TERM = 3
"""Shorter terms are never typo-matched (a query needs 4 letters for one typo)."""


def max_typos(word: str) -> int:
    """Typos tolerated in a query word: 1 from 4 letters, 2 from 8."""
    if len(word) >= 8:
        return 2
    if len(word) >= 4:
        return 1
    return 0


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance, or ``limit + 1`` as soon as it exceeds `limit`."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    a, b = a[start:], b[start:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    if not a or not b:
        return min(max(len(a), len(b)), limit + 1)
    before_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        row_best = i
        char_a = a[i - 1]
        for j in range(1, len(b) + 1):
            cost = 0 if char_a == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before_previous[j - 2] + 1)
            current[j] = value
            row_best = min(row_best, value)
        if row_best > limit:
            return limit + 1
        before_previous, previous = previous, current
    return min(previous[-1], limit + 1)


def deletions(word: str, depth: int) -> set[str]:
    """`word` and every string made by deleting up to `depth` letters from it."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {
            variant[:index] + variant[index + 1 :]
            for variant in frontier
            if len(variant) > 1
            for index in range(len(variant))
        }
        found |= frontier
    return found


_TUPLE_LIMIT = 16


def _stored_depth(prefix: str) -> int:
    # A query word with two typos has 8+ letters, so its matches have 6+ letters and
    # a full-length prefix; shorter terms only ever need to be one typo away.
    return 2 if len(prefix) >= 5 else 1


Prefixes = str | tuple[str, ...] | set[str]
"""The prefixes under one deletion: one (the usual case), a few, or many."""


def _slot(variant: str) -> int:
    # A 30-bit hash keeps each key a small int instead of a string. Two deletions
    # sharing a slot only add candidates, and every candidate is checked anyway.
    return hash(variant) & 0x3FFFFFFF


class TypoIndex:
    """Terms that can be found from a misspelling.

    Memory matters here: a large help center has over half a million deletions. So a
    deletion is stored as a hash, and its prefixes as a bare string when there is one,
    a tuple when there are a few (neither is tracked by the garbage collector) and a
    set only when there are many.
    """

    def __init__(self) -> None:
        self._by_deletion: dict[int, Prefixes] = {}
        self._by_prefix: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return sum(len(terms) for terms in self._by_prefix.values())

    def add(self, term: str) -> None:
        if len(term) < MIN_FUZZY_TERM:
            return
        prefix = term[:PREFIX_LENGTH]
        terms = self._by_prefix.get(prefix)
        if terms is not None:
            if term not in terms:
                self._by_prefix[prefix] = (*terms, term)
            return
        self._by_prefix[prefix] = (term,)
        by_deletion = self._by_deletion
        for slot in {_slot(variant) for variant in deletions(prefix, _stored_depth(prefix))}:
            current = by_deletion.get(slot)
            if current is None:
                by_deletion[slot] = prefix
            elif isinstance(current, str):
                by_deletion[slot] = (current, prefix)
            elif isinstance(current, set):
                current.add(prefix)
            elif len(current) < _TUPLE_LIMIT:
                by_deletion[slot] = (*current, prefix)
            else:
                by_deletion[slot] = {*current, prefix}

    def discard(self, term: str) -> None:
        prefix = term[:PREFIX_LENGTH]
        terms = self._by_prefix.get(prefix)
        if terms is None or term not in terms:
            return
        remaining_terms = tuple(other for other in terms if other != term)
        if remaining_terms:
            self._by_prefix[prefix] = remaining_terms
            return
        del self._by_prefix[prefix]
        by_deletion = self._by_deletion
        for slot in {_slot(variant) for variant in deletions(prefix, _stored_depth(prefix))}:
            current = by_deletion.get(slot)
            if current is None or current == prefix:
                by_deletion.pop(slot, None)
            elif isinstance(current, set):
                current.discard(prefix)
                if not current:
                    del by_deletion[slot]
            elif isinstance(current, tuple):
                remaining = tuple(other for other in current if other != prefix)
                by_deletion[slot] = remaining[0] if len(remaining) == 1 else remaining

    def near(self, word: str, limit: int) -> list[tuple[str, int]]:
        """Terms within `limit` typos of `word` (not `word` itself), closest first."""
        if limit <= 0 or len(word) < MIN_FUZZY_TERM:
            return []
        prefixes: set[str] = set()
        for variant in deletions(word[:PREFIX_LENGTH], limit):
            current = self._by_deletion.get(_slot(variant))
            if current is None:
                continue
            if isinstance(current, str):
                prefixes.add(current)
            else:
                prefixes.update(current)
        found: list[tuple[str, int]] = []
        for prefix in prefixes:
            for term in self._by_prefix.get(prefix, ()):
                if term == word or abs(len(term) - len(word)) > limit:
                    continue
                distance = edit_distance(word, term, limit)
                if distance <= limit:
                    found.append((term, distance))
        found.sort(key=lambda pair: (pair[1], pair[0]))
        return found


class PrefixIndex:
    """Words in sorted order for prefix lookups; kept sorted lazily so bulk loads stay fast."""

    _RESORT_AFTER = 256

    def __init__(self) -> None:
        self._words: set[str] = set()
        self._sorted: list[str] = []
        self._pending: list[str] = []
        self._stale = 0

    def __len__(self) -> int:
        return len(self._words)

    def add(self, word: str) -> None:
        if word not in self._words:
            self._words.add(word)
            self._pending.append(word)

    def discard(self, word: str) -> None:
        if word in self._words:
            self._words.discard(word)
            self._stale += 1

    def starting_with(self, prefix: str) -> Iterator[str]:
        self._settle()
        index = bisect_left(self._sorted, prefix)
        while index < len(self._sorted) and self._sorted[index].startswith(prefix):
            word = self._sorted[index]
            if word in self._words:
                yield word
            index += 1

    def _settle(self) -> None:
        pending_words = [word for word in self._pending if word in self._words]
        if len(pending_words) > self._RESORT_AFTER or self._stale > len(self._words) // 10:
            self._sorted = sorted(self._words)
            self._stale = 0
        else:
            for word in pending_words:
                index = bisect_left(self._sorted, word)
                if index == len(self._sorted) or self._sorted[index] != word:
                    insort(self._sorted, word)
        self._pending.clear()
