from __future__ import annotations

import pytest

from helpline.ai.register import empathetic_opening, estimate_register, suggest_opening


@pytest.mark.parametrize(
    ("language", "text", "register"),
    [
        ("en", "Dear team, could you please check my invoice? Kind regards", "formal"),
        ("en", "hey guys, where's my stuff lol", "casual"),
        ("de", "Sehr geehrte Damen und Herren, könnten Sie mir bitte helfen?", "formal"),
        ("de", "hi, kannst du mir helfen?", "casual"),
        ("pl", "Dzień dobry, uprzejmie proszę o sprawdzenie zamówienia.", "formal"),
        ("pl", "cześć, możesz mi pomóc?", "casual"),
        ("fr", "Bonjour, pourriez-vous vérifier ma commande ?", "formal"),
        ("fr", "salut, tu peux m'aider ?", "casual"),
        ("es", "Estimado equipo, ¿podría usted revisar mi pedido?", "formal"),
        ("it", "ciao, puoi aiutarmi?", "casual"),
    ],
)
def test_register_follows_how_the_customer_writes(language: str, text: str, register: str) -> None:
    assert estimate_register(text, language).register == register


def test_register_cues_explain_the_estimate() -> None:
    estimate = estimate_register("Sehr geehrte Damen und Herren, können Sie mir helfen?", "de")

    assert "+sehr geehrte" in estimate.cues
    assert estimate.formality > 0.6


def test_openings_match_language_and_register() -> None:
    assert "Ihnen" in empathetic_opening("de", "formal")
    assert " du " in empathetic_opening("de", "casual")
    assert "Pani/Pana" in empathetic_opening("pl", "neutral")
    assert "again" in empathetic_opening("en", "formal", repeated_contact=True)
    assert empathetic_opening("xx", "casual") == empathetic_opening("en", "casual")


def test_an_opening_is_suggested_only_when_frustration_is_high() -> None:
    angry_casual = suggest_opening("ugh this is the third time, u guys are useless!!!", "en")
    angry_formal = suggest_opening(
        "Es ist das dritte Mal, dass ich schreibe. Das ist inakzeptabel, Sie haben mir nicht "
        "geholfen!!",
        "de",
    )

    assert angry_casual == empathetic_opening("en", "casual", repeated_contact=True)
    assert angry_formal == empathetic_opening("de", "formal", repeated_contact=True)
    assert suggest_opening("Could you check my order, please?", "en") is None
