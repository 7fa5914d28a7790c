# ruff: noqa: RUF001, RUF002 (multilingual text: Greek letters and typographic quotes are meant)
"""Small text helpers shared by the AI modules: normalisation, diacritic stripping,
tokenising, sentence splitting."""

from __future__ import annotations

import re
import unicodedata

# Letters that Unicode does not decompose into base + combining mark, but that people
# still type as the bare letter on a keyboard without the national layout.
_UNDECOMPOSABLE = str.maketrans(
    {"ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "æ": "ae"}
)

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?;…])\s+|\n+")


def strip_diacritics(text: str) -> str:
    """Remove accents the way people type without a national keyboard layout
    ("nie mogę się zalogować" → "nie moge sie zalogowac")."""
    if text.isascii():
        return text  # nothing to strip: the common case, and 20 times faster
    decomposed = unicodedata.normalize("NFD", text.translate(_UNDECOMPOSABLE))
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def fold(text: str) -> str:
    """Lower-case and strip diacritics, so lexicon look-ups match either spelling.

    `lower()`, not `casefold()`: casefold turns the Greek final sigma into σ.
    """
    return strip_diacritics(text.lower().replace("’", "'"))


def words(text: str) -> list[str]:
    """The words of a message in their original case (digits count as words)."""
    return _WORD.findall(text)


def sentences(text: str) -> list[str]:
    """Split a message into sentences on end punctuation and line breaks."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]
