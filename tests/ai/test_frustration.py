from __future__ import annotations

import pytest

from helpline.ai.frustration import score_conversation, score_frustration

ANGRY = [
    ("en", "This is the third time I am writing!!! Absolutely unacceptable."),
    ("pl", "Piszę już trzeci raz, to jest skandal!!!"),
    ("de", "Das ist eine Frechheit, ich schreibe zum dritten Mal! Ich will mein Geld zurück!"),
    ("fr", "C'est la troisième fois que j'écris, c'est inacceptable !!"),
    ("es", "Es la tercera vez que escribo, voy a hablar con un abogado!!"),
    ("it", "Sono stufo, è la terza volta che scrivo!!!"),
    ("cs", "Píšu už potřetí, je to naprostá ostuda!!!"),
    ("el", "Είναι η τρίτη φορά που γράφω, απαράδεκτο!!!"),
]
CALM = [
    ("en", "Hi, could you tell me where my parcel is?"),
    ("pl", "Dzień dobry, gdzie jest moja paczka?"),
    ("de", "Guten Tag, wann kommt meine Bestellung?"),
    ("fr", "Bonjour, où en est ma commande ?"),
    ("es", "Hola, ¿dónde está mi pedido?"),
]


@pytest.mark.parametrize(("language", "text"), ANGRY)
def test_angry_messages_score_high_with_reasons(language: str, text: str) -> None:
    scored = score_frustration(text, language)

    assert scored.level == "high"
    assert scored.score >= 0.6
    assert any(r.kind == "repeated_contact" for r in scored.reasons)


@pytest.mark.parametrize(("language", "text"), CALM)
def test_calm_questions_score_low(language: str, text: str) -> None:
    scored = score_frustration(text, language)

    assert scored.level == "low"
    assert scored.reasons == ()


def test_shouting_and_repeated_punctuation_are_reasons() -> None:
    shouting = score_frustration("WHERE IS MY PARCEL I PAID TWO WEEKS AGO")
    punctuation = score_frustration("Where is my parcel???")

    assert [r.kind for r in shouting.reasons] == ["shouting"]
    assert [(r.kind, r.evidence) for r in punctuation.reasons] == [("repeated_punctuation", "???")]
    assert shouting.score > punctuation.score > 0


def test_acronyms_are_not_shouting() -> None:
    assert score_frustration("Can you send the PDF invoice and my IBAN?").score == 0


def test_trigger_phrases_in_other_languages_are_found_without_diacritics() -> None:
    scored = score_frustration("Chce rozmawiac z prawnikiem, to nie do przyjecia")

    assert {r.evidence for r in scored.reasons} >= {"prawnik", "nie do przyjecia"}


def test_the_badge_summary_names_the_reasons() -> None:
    summary = score_frustration("Cancel my account now, this is ridiculous!!").summary

    assert "cancel my account" in summary
    assert "ridiculous" in summary


def test_a_conversation_calms_down_when_the_latest_messages_are_calm() -> None:
    angry = "This is unacceptable, I want a lawyer!!!"
    heated = score_conversation(["Hello", angry])
    cooled = score_conversation([angry, "ok", "thanks, that works", "great"])

    assert heated.level == "high"
    assert cooled.score < heated.score
    assert score_conversation([]).score == 0
