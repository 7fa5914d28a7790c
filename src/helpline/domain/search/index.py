"""An in-memory inverted index with BM25F ranking, one shard per language.

Each language has its own shard (analyzer, statistics, vocabulary), so a Polish
query is stemmed as Polish against Polish articles. A query word becomes a group
of keys: its exact stems, completions of the last word while the user is still
typing, and typo neighbours when the word itself is not in the vocabulary. A
document's score for a group is its best key's score times that key's weight
(exact 1.0, completion 0.8, typo 0.6 or 0.35); groups add up.

BM25F: per field, term frequency is normalised by that field's length relative to
its average and weighted (title over body) before saturation, so a title match
beats a body match and long bodies do not win by sheer size.
"""

from __future__ import annotations

import heapq
import math
import re
import threading
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from typing import Generic, TypeVar

from helpline.domain.search.highlight import highlight, match_words
from helpline.domain.search.text import TOKEN, Analyzer, normalise_language
from helpline.domain.search.vocabulary import PrefixIndex, TypoIndex, max_typos

K = TypeVar("K", bound=Hashable)

DEFAULT_FIELD_WEIGHTS: Mapping[str, float] = {"title": 3.0, "body": 1.0}

EXACT_WEIGHT = 1.0
COMPLETION_WEIGHT = 0.8
TYPO_WEIGHTS = {1: 0.6, 2: 0.35}

MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 16
MIN_COMPLETION_CHARS = 2
MAX_COMPLETIONS = 30
MAX_TYPO_CANDIDATES = 8
MAX_COMPLETION_SCAN = 5_000
_SCORE_CACHE_ENTRIES = 400_000
"""Scores kept between queries, counted in (key, document) pairs: about 40 MB at most."""
_GROUP_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Hit(Generic[K]):
    """One result: the document, its score, and HTML-safe highlighted fields."""

    doc_id: K
    score: float
    language: str
    highlights: Mapping[str, str]
    """Field name → escaped text with matches in ``<mark>``; long fields are cut to a snippet."""


class _Postings:
    """Documents holding one key, as parallel arrays: about 8 bytes a posting, not 100.

    Ordinals only grow, so they stay sorted and a removal finds its place by bisection.
    """

    __slots__ = ("frequencies", "ordinals")

    def __init__(self, width: int) -> None:
        self.ordinals = array("I")
        self.frequencies = tuple(array("H") for _ in range(width))

    def __len__(self) -> int:
        return len(self.ordinals)

    def append(self, ordinal: int, per_field: list[int]) -> None:
        self.ordinals.append(ordinal)
        for column, count in zip(self.frequencies, per_field, strict=True):
            column.append(min(count, _MAX_FREQUENCY))

    def remove(self, ordinal: int) -> None:
        position = bisect_left(self.ordinals, ordinal)
        if position < len(self.ordinals) and self.ordinals[position] == ordinal:
            del self.ordinals[position]
            for column in self.frequencies:
                del column[position]

    def items(self) -> Iterator[tuple[int, tuple[int, ...]]]:
        """(ordinal, frequency per field) for each document."""
        return zip(self.ordinals, zip(*self.frequencies, strict=True), strict=True)


_MAX_FREQUENCY = 65_535


@dataclass(slots=True)
class _Document(Generic[K]):
    doc_id: K
    fields: tuple[str, ...]
    lengths: tuple[int, ...]


QueryGroup = dict[str, float]
"""Keys a query word may match, each with the weight of that kind of match."""


class _Shard(Generic[K]):
    """Everything indexed for one language."""

    def __init__(self, language: str, field_weights: tuple[float, ...], k1: float, b: float):
        self.analyzer = Analyzer(language)
        self.field_weights = field_weights
        self.k1 = k1
        self.b = b
        self.documents: dict[int, _Document[K]] = {}
        self.postings: dict[str, _Postings] = {}
        self.length_sums = [0] * len(field_weights)
        # Tuples, not sets, in these maps: they hold strings only, so the garbage
        # collector does not track them (a full collection stays short).
        self.surface_keys: dict[str, tuple[str, ...]] = {}
        self.surface_counts: dict[str, int] = {}
        # Key → the words as written that produced it, to find matches for highlighting.
        self.spellings: dict[str, tuple[str, ...]] = {}
        self.typos = TypoIndex()
        self.completions = PrefixIndex()
        self._norms: dict[int, tuple[float, ...]] = {}
        self._averages: tuple[float, ...] | None = None
        self._scores: OrderedDict[str, dict[int, float]] = OrderedDict()
        self._cached_entries = 0
        self._groups: dict[tuple[str, bool], QueryGroup] = {}

    # Writing -------------------------------------------------------------------------

    def _analyse(
        self, fields: tuple[str, ...], *, remember: bool
    ) -> tuple[dict[str, list[int]], list[str], list[int]]:
        """Per key its count in each field, the distinct folded words, and field lengths.

        Deterministic, so removal re-derives what a document added instead of keeping
        a copy of its keys (which would cost as much memory as the postings).
        """
        counts: dict[str, list[int]] = {}
        surfaces: dict[str, None] = {}
        lengths: list[int] = []
        width = len(fields)
        for position, text in enumerate(fields):
            length = 0
            # Counting written words first keeps the per-word work to distinct words.
            for word, occurrences in Counter(self.analyzer.tokens(text)).items():
                forms = self.analyzer.forms(word)
                if forms is None:
                    continue
                length += occurrences
                surface, keys = forms
                surfaces.setdefault(surface)
                if remember:
                    _remember(self.surface_keys, surface, keys)
                for key in keys:
                    if remember:
                        _remember(self.spellings, key, (word,))
                    per_field = counts.get(key)
                    if per_field is None:
                        per_field = counts[key] = [0] * width
                    per_field[position] += occurrences
            lengths.append(length)
        return counts, list(surfaces), lengths

    def add(self, ordinal: int, doc_id: K, fields: tuple[str, ...]) -> None:
        counts, surfaces, lengths = self._analyse(fields, remember=True)
        for key, per_field in counts.items():
            posting = self.postings.get(key)
            if posting is None:
                posting = self.postings[key] = _Postings(len(fields))
            posting.append(ordinal, per_field)
        for surface in surfaces:
            count = self.surface_counts.get(surface, 0)
            self.surface_counts[surface] = count + 1
            if not count:
                self.completions.add(surface)
                self.typos.add(surface)
        for position, length in enumerate(lengths):
            self.length_sums[position] += length
        self.documents[ordinal] = _Document(doc_id=doc_id, fields=fields, lengths=tuple(lengths))
        self._changed()

    def remove(self, ordinal: int) -> None:
        document = self.documents.pop(ordinal)
        counts, surfaces, _ = self._analyse(document.fields, remember=False)
        for key in counts:
            posting = self.postings[key]
            posting.remove(ordinal)
            if not posting:
                del self.postings[key]
                self.spellings.pop(key, None)
        for surface in surfaces:
            remaining = self.surface_counts[surface] - 1
            if remaining:
                self.surface_counts[surface] = remaining
            else:
                del self.surface_counts[surface]
                del self.surface_keys[surface]
                self.completions.discard(surface)
                self.typos.discard(surface)
        for position, length in enumerate(document.lengths):
            self.length_sums[position] -= length
        self._changed()

    def _changed(self) -> None:
        self._averages = None
        self._norms.clear()
        self._scores.clear()
        self._cached_entries = 0
        self._groups.clear()

    # Reading -------------------------------------------------------------------------

    def plan(self, words: list[str], last_is_partial: bool) -> list[QueryGroup]:
        """One group of weighted keys per meaningful query word."""
        groups: list[QueryGroup] = []
        for index, word in enumerate(words):
            partial = last_is_partial and index == len(words) - 1
            cache_key = (word, partial)
            group = self._groups.get(cache_key)
            if group is None:
                if len(self._groups) >= _GROUP_CACHE_SIZE:
                    self._groups.clear()
                group = self._group(word, partial)
                self._groups[cache_key] = group
            if group:
                groups.append(group)
        return groups

    def _group(self, word: str, partial: bool) -> QueryGroup:
        forms = self.analyzer.forms(word)
        group: QueryGroup = {}
        if forms is not None:
            for key in forms[1]:
                if key in self.postings:
                    group[key] = EXACT_WEIGHT
        surface = self.analyzer.surface(word)
        if partial and len(surface) >= MIN_COMPLETION_CHARS:
            for key in self._completions(surface, skip_exact=forms is None):
                group.setdefault(key, COMPLETION_WEIGHT)
        # Typos are only guessed for a word the index does not know at all. They are
        # looked up among written words, not stems: a stemmer may cut a suffix from
        # the right spelling and not from the misspelt one ("abbonamneto").
        if forms is not None and not group:
            near = self.typos.near(surface, max_typos(surface))
            near.sort(key=lambda pair: (pair[1], -self.surface_counts.get(pair[0], 0)))
            for candidate, distance in near[:MAX_TYPO_CANDIDATES]:
                weight = TYPO_WEIGHTS[distance]
                for key in self.surface_keys.get(candidate, ()):
                    if key in self.postings and group.get(key, 0.0) < weight:
                        group[key] = weight
        return group

    def _completions(self, surface: str, *, skip_exact: bool) -> list[str]:
        keys: set[str] = set()
        # A one- or two-letter prefix can match thousands of words; the first few
        # thousand are plenty to rank from while the user types on.
        for word in islice(self.completions.starting_with(surface), MAX_COMPLETION_SCAN):
            if skip_exact and word == surface:
                continue
            keys.update(key for key in self.surface_keys.get(word, ()) if key in self.postings)
        if len(keys) <= MAX_COMPLETIONS:
            return list(keys)
        return heapq.nlargest(MAX_COMPLETIONS, keys, key=lambda key: len(self.postings[key]))

    def scores(self, key: str) -> dict[int, float]:
        """BM25F score of every document containing `key` (cached until the shard changes)."""
        cached = self._scores.get(key)
        if cached is not None:
            self._scores.move_to_end(key)
            return cached
        posting = self.postings.get(key) or _Postings(len(self.field_weights))
        count = len(self.documents)
        frequency = len(posting)
        idf = math.log(1.0 + (count - frequency + 0.5) / (frequency + 0.5))
        norms = self._norms
        k1 = self.k1
        result: dict[int, float] = {}
        for ordinal, frequencies in posting.items():
            norm = norms.get(ordinal)
            if norm is None:
                norm = norms[ordinal] = self._field_norm(ordinal)
            weighted = sum(tf * factor for tf, factor in zip(frequencies, norm, strict=True))
            result[ordinal] = idf * weighted * (k1 + 1.0) / (k1 + weighted)
        self._scores[key] = result
        self._cached_entries += len(result)
        while self._cached_entries > _SCORE_CACHE_ENTRIES and len(self._scores) > 1:
            _, evicted = self._scores.popitem(last=False)
            self._cached_entries -= len(evicted)
        return result

    def _field_norm(self, ordinal: int) -> tuple[float, ...]:
        """Per field: weight / (1 - b + b * length / average length).

        Computed per document on first use after a change, so a query right after an
        article is saved pays only for the documents it touches.
        """
        if self._averages is None:
            count = max(len(self.documents), 1)
            self._averages = tuple(max(total / count, 1.0) for total in self.length_sums)
        b = self.b
        return tuple(
            weight / (1.0 - b + b * length / average)
            for weight, length, average in zip(
                self.field_weights, self.documents[ordinal].lengths, self._averages, strict=True
            )
        )

    def spelling_pattern(self, groups: list[QueryGroup]) -> re.Pattern[str]:
        """A regex for every written form of the matched keys, as whole words."""
        words = {word for group in groups for key in group for word in self.spellings.get(key, ())}
        return match_words(words)

    def rank(self, groups: list[QueryGroup]) -> dict[int, float]:
        """Sum over groups of each document's best weighted key score."""
        per_group = [self._group_scores(group) for group in groups]
        # Start from the largest so the most documents are copied, not looped over.
        per_group.sort(key=len, reverse=True)
        totals = dict(per_group[0]) if per_group else {}
        for scores in per_group[1:]:
            get = totals.get
            for ordinal, score in scores.items():
                totals[ordinal] = get(ordinal, 0.0) + score
        return totals

    def _group_scores(self, group: QueryGroup) -> dict[int, float]:
        if len(group) == 1:
            ((key, weight),) = group.items()
            scores = self.scores(key)
            if weight == 1.0:
                return scores
            return {ordinal: weight * score for ordinal, score in scores.items()}
        best: dict[int, float] = {}
        get = best.get
        for key, weight in group.items():
            for ordinal, score in self.scores(key).items():
                weighted = weight * score
                if weighted > get(ordinal, 0.0):
                    best[ordinal] = weighted
        return best


def _remember(table: dict[str, tuple[str, ...]], name: str, values: tuple[str, ...]) -> None:
    """Add `values` to the small tuple `table[name]`, keeping it free of repeats."""
    known = table.get(name, ())
    extra = tuple(value for value in values if value not in known)
    if extra:
        table[name] = known + extra


class SearchIndex(Generic[K]):
    """Full-text search over documents with named text fields, in several languages.

    Thread-safe: one lock guards reads and writes, which are short.
    """

    def __init__(
        self,
        *,
        field_weights: Mapping[str, float] | None = None,
        k1: float = 1.2,
        b: float = 0.75,
        snippet_chars: int = 200,
    ) -> None:
        weights = dict(field_weights or DEFAULT_FIELD_WEIGHTS)
        if not weights or any(weight <= 0 for weight in weights.values()):
            raise ValueError("field weights must be positive")
        self.fields: tuple[str, ...] = tuple(weights)
        self._weights = tuple(weights.values())
        self._k1 = k1
        self._b = b
        self._snippet_chars = snippet_chars
        self._shards: dict[str, _Shard[K]] = {}
        self._where: dict[K, tuple[str, int]] = {}
        self._next_ordinal = 0
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._where

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages that currently have documents."""
        return tuple(code for code, shard in self._shards.items() if shard.documents)

    def add(self, doc_id: K, fields: Mapping[str, str], language: str | None) -> None:
        """Index a document, replacing any earlier version with the same id.

        Unknown field names are refused; a missing field counts as empty.
        """
        unknown = set(fields) - set(self.fields)
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        code = normalise_language(language)
        texts = tuple(unicodedata.normalize("NFC", fields.get(name) or "") for name in self.fields)
        with self._lock:
            self._remove(doc_id)
            shard = self._shards.get(code)
            if shard is None:
                shard = self._shards[code] = _Shard(code, self._weights, self._k1, self._b)
            ordinal = self._next_ordinal
            self._next_ordinal += 1
            shard.add(ordinal, doc_id, texts)
            self._where[doc_id] = (code, ordinal)

    def add_many(self, documents: Iterable[tuple[K, Mapping[str, str], str | None]]) -> None:
        for doc_id, fields, language in documents:
            self.add(doc_id, fields, language)

    def remove(self, doc_id: K) -> bool:
        """Forget a document; False when it was not indexed."""
        with self._lock:
            return self._remove(doc_id)

    def _remove(self, doc_id: K) -> bool:
        location = self._where.pop(doc_id, None)
        if location is None:
            return False
        code, ordinal = location
        self._shards[code].remove(ordinal)
        return True

    def search(
        self,
        query: str,
        language: str | None = None,
        limit: int = 10,
        *,
        where: Callable[[K], bool] | None = None,
        highlight_matches: bool = True,
    ) -> list[Hit[K]]:
        """The best `limit` documents for `query`, best first.

        `language` restricts the search to documents in that language (and stems the
        query as that language); without it every language is searched with the
        query analysed for each. The last word counts as a prefix unless the query
        ends with a space, so results follow the user as they type. `where` keeps
        only the documents it accepts (e.g. published, not internal).
        """
        if limit <= 0:
            return []
        query = unicodedata.normalize("NFC", query[:MAX_QUERY_CHARS])
        words = TOKEN.findall(query)[:MAX_QUERY_WORDS]
        if not words:
            return []
        last_is_partial = query[-1:].isalnum()
        with self._lock:
            if language is None:
                shards = list(self._shards.values())
            else:
                code = normalise_language(language)
                shards = [self._shards[code]] if code in self._shards else []
            ranked: list[tuple[float, int, _Shard[K], list[QueryGroup]]] = []
            for shard in shards:
                groups = shard.plan(words, last_is_partial)
                if not groups:
                    continue
                totals = shard.rank(groups)
                candidates: Iterable[tuple[int, float]] = totals.items()
                if where is not None:
                    candidates = [
                        (ordinal, score)
                        for ordinal, score in candidates
                        if where(shard.documents[ordinal].doc_id)
                    ]
                best = heapq.nlargest(limit, candidates, key=itemgetter(1))
                ranked.extend((score, ordinal, shard, groups) for ordinal, score in best)
            ranked.sort(key=lambda item: (-item[0], item[1]))
            marks: dict[str, re.Pattern[str]] = {}
            hits: list[Hit[K]] = []
            for score, ordinal, shard, groups in ranked[:limit]:
                pattern: re.Pattern[str] | None = None
                if highlight_matches:
                    language_code = shard.analyzer.language
                    if language_code not in marks:
                        marks[language_code] = shard.spelling_pattern(groups)
                    pattern = marks[language_code]
                hits.append(self._hit(shard, ordinal, score, pattern))
            return hits

    def _hit(
        self,
        shard: _Shard[K],
        ordinal: int,
        score: float,
        marks: re.Pattern[str] | None,
    ) -> Hit[K]:
        document = shard.documents[ordinal]
        highlights: dict[str, str] = {}
        if marks is not None:
            for name, text in zip(self.fields, document.fields, strict=True):
                highlights[name] = highlight(text, marks, self._snippet_chars)
        return Hit(
            doc_id=document.doc_id,
            score=round(score, 6),
            language=shard.analyzer.language,
            highlights=highlights,
        )
