"""Turning text into search terms: tokens, case and diacritic folding, stop words, stems.

Every word becomes up to two *keys*: the stem of the word as written (then folded)
and the stem of the word already folded. A customer who types without diacritics
("zalogowac") gets the second kind for their query, and the article's "zalogować"
carries both, so the two meet whichever way either side was typed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

import snowballstemmer  # type: ignore[import-untyped]  # ships no type hints

from helpline.domain.search.stopwords import STOP_WORDS

TOKEN = re.compile(r"[^\W_]+")
"""A word: letters and digits; apostrophes and punctuation split ("l'ordine" → l, ordine)."""

UNDETERMINED = "und"
"""The language code used when a document or query names none (BCP 47)."""

SNOWBALL_ALGORITHMS: dict[str, str] = {
    "en": "english",
    "pl": "polish",
    "it": "italian",
    "el": "greek",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "pt": "portuguese",
    "nl": "dutch",
    "sv": "swedish",
    "da": "danish",
    "nb": "norwegian",
    "no": "norwegian",
    "fi": "finnish",
    "ru": "russian",
    "cs": "czech",
    "ro": "romanian",
    "hu": "hungarian",
    "tr": "turkish",
    "ca": "catalan",
    "lt": "lithuanian",
}
"""Languages that get stemming; English, Polish, Italian and Greek also get stop words."""

_LANGUAGE_ALIASES = {"gr": "el", "ell": "el", "gre": "el", "eng": "en", "pol": "pl", "ita": "it"}

_SPECIAL_FOLDS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "œ": "oe", "æ": "ae", "ð": "d", "þ": "th"}  # noqa: RUF001
)
"""Letters that Unicode does not decompose into a base letter plus a mark."""

_GREEK_VOWELS = frozenset("αεηιουω")
_CACHE_LIMIT = 200_000


class _Stemmer(Protocol):
    def stemWord(self, word: str) -> str: ...


def normalise_language(code: str | None) -> str:
    """``"pl-PL"`` → ``"pl"``, ``"GR"`` → ``"el"``, nothing → ``"und"``."""
    if not code:
        return UNDETERMINED
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    base = _LANGUAGE_ALIASES.get(base, base)
    return base if base.isalpha() else UNDETERMINED


def fold(text: str) -> str:
    """Lower-case and strip diacritics: "Zamówienie" → "zamowienie", "Κωδικός" → "κωδικοσ"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL_FOLDS))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


TermForms = tuple[str, tuple[str, ...]]
"""How one written word is indexed: (folded spelling, keys).

A plain tuple of strings: the garbage collector stops tracking those, which matters
for the hundreds of thousands of them a large index caches.
"""


class Analyzer:
    """Tokeniser, stop words and stemmer for one language, with a cache per word."""

    def __init__(self, language: str) -> None:
        self.language = normalise_language(language)
        self.stop_words = STOP_WORDS.get(self.language, frozenset())
        self._stemmer = _load_stemmer(self.language)
        self._forms: dict[str, TermForms | None] = {}

    def forms(self, word: str) -> TermForms | None:
        """The keys for one token as written; None for a stop word."""
        try:
            return self._forms[word]
        except KeyError:
            pass
        if len(self._forms) >= _CACHE_LIMIT:
            self._forms.clear()
        result = self._analyse(word)
        self._forms[word] = result
        return result

    def surface(self, word: str) -> str:
        """The folded spelling, stop words included (used for prefix matching)."""
        forms = self.forms(word)
        return forms[0] if forms is not None else fold(word)

    def tokens(self, text: str) -> list[str]:
        """Words of `text`, which must already be NFC-normalised (the index does it once)."""
        return TOKEN.findall(text)

    def _analyse(self, word: str) -> TermForms | None:
        folded = fold(word)
        if folded in self.stop_words:
            return None
        if self._stemmer is None or len(folded) < 3 or not folded.isalpha():
            return folded, (folded,)
        as_written = self._tidy(fold(self._stemmer.stemWord(word.casefold())))
        unaccented = self._tidy(fold(self._stemmer.stemWord(folded)))
        keys = (as_written,) if as_written == unaccented else (as_written, unaccented)
        return folded, keys

    def _tidy(self, stem: str) -> str:
        # The Greek stemmer leaves a final vowel on some inflections only
        # ("παραγγελίες" → παραγγελι, "παραγγελία" → παραγγελ): drop it so they meet.
        if self.language == "el" and len(stem) > 4 and stem[-1] in _GREEK_VOWELS:
            return stem[:-1]
        return stem


def _load_stemmer(language: str) -> _Stemmer | None:
    algorithm = SNOWBALL_ALGORITHMS.get(language)
    if algorithm is None:
        return None
    try:
        stemmer: _Stemmer = snowballstemmer.stemmer(algorithm)
    except (KeyError, ValueError):
        # An older snowball build without this language: search still works, unstemmed.
        return None
    return stemmer
