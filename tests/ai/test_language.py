from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from helpline.ai.language import SUPPORTED_LANGUAGES, LanguageIdentifier, detect_language
from helpline.ai.text import strip_diacritics

# Written for this test, not taken from the evaluation phrases.
SAMPLES = {
    "en": "my invoice shows the wrong amount",
    "pl": "nie mogę się zalogować do aplikacji",
    "it": "quando arriva il mio pacco per favore",
    "el": "δεν έχω λάβει ακόμα την παραγγελία",
    "de": "wann bekomme ich meine Rechnung zurück",
    "fr": "je voudrais changer mon adresse de livraison",
    "es": "necesito ayuda con mi factura por favor",
    "cs": "potřebuji změnit heslo k účtu",
}


@pytest.mark.parametrize(("language", "text"), sorted(SAMPLES.items()))
def test_short_support_messages_are_recognised(language: str, text: str) -> None:
    guess = detect_language(text)
    stripped = detect_language(strip_diacritics(text))

    assert guess.language == language
    assert guess.reliable
    assert stripped.language == language


def test_the_polish_example_from_the_issue_is_recognised_without_diacritics() -> None:
    assert detect_language("nie moge sie zalogowac").language == "pl"


def test_messages_without_words_have_no_language() -> None:
    assert detect_language("👍 12345 !!!").language is None
    assert not detect_language("").reliable


def test_a_detector_can_be_limited_to_a_team_s_languages() -> None:
    identifier = LanguageIdentifier(("en", "de"))

    assert identifier.detect("Guten Morgen, wo ist mein Paket?").language == "de"
    with pytest.raises(ValueError, match="two"):
        LanguageIdentifier(("en",))


def test_the_evaluation_phrases_are_complete_and_short() -> None:
    folder = Path(str(resources.files("helpline.ai_data").joinpath("lang_eval")))
    for language in SUPPORTED_LANGUAGES:
        phrases = (folder / f"{language}.txt").read_text(encoding="utf-8").splitlines()
        lengths = [len([w for w in p.split() if re.search(r"\w", w)]) for p in phrases]
        assert len(phrases) == len(set(phrases)) == 100, language
        assert min(lengths) >= 3 and max(lengths) <= 10, language
    assert "written by the Helpline developers" in (folder / "README.md").read_text()
