"""Language of a customer's message, for routing to an agent who speaks it.

Backed by lingua (rule- and n-gram-based, its models ship inside the wheel: nothing is
downloaded). Restricting it to the languages a team supports is what makes it accurate on
3-10-word chat messages, also typed without diacritics ("nie moge sie zalogowac").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from helpline.ai.text import words

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "pl", "it", "el", "de", "fr", "es", "cs")
"""ISO 639-1 codes Helpline detects by default."""

RELIABLE_CONFIDENCE = 0.5
"""Below this the guess is shown but not used to route."""


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The detected language (ISO 639-1) with lingua's relative confidence (0-1).

    `language` is None when the message has no words to judge ("👍", "12345").
    """

    language: str | None
    confidence: float

    @property
    def reliable(self) -> bool:
        return self.language is not None and self.confidence >= RELIABLE_CONFIDENCE


class LanguageIdentifier:
    """A detector limited to `languages`; build one per process and share it (thread-safe).

    `low_accuracy=True` uses lingua's small trigram models only: about 15 MB per process
    instead of about 235 MB, for roughly one more mistake per hundred short messages
    (see docs/ai.md for the measured numbers).
    """

    def __init__(
        self, languages: tuple[str, ...] = SUPPORTED_LANGUAGES, *, low_accuracy: bool = False
    ) -> None:
        if len(languages) < 2:
            raise ValueError("language detection needs at least two candidate languages")
        codes = [IsoCode639_1.from_str(code) for code in languages]
        self.languages = tuple(languages)
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector: LanguageDetector = builder.build()

    def detect(self, text: str) -> LanguageGuess:
        """Guess the language of one message."""
        if not any(any(ch.isalpha() for ch in word) for word in words(text)):
            return LanguageGuess(language=None, confidence=0.0)
        values = self._detector.compute_language_confidence_values(text)
        if not values:
            return LanguageGuess(language=None, confidence=0.0)
        best = values[0]
        code = best.language.iso_code_639_1.name.lower()
        return LanguageGuess(language=code, confidence=float(best.value))


_default: LanguageIdentifier | None = None
_default_lock = threading.Lock()


def default_identifier() -> LanguageIdentifier:
    """The process-wide detector for `SUPPORTED_LANGUAGES` (models load lazily, once)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = LanguageIdentifier()
        return _default


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of `text` among `SUPPORTED_LANGUAGES`."""
    return default_identifier().detect(text)
