# ruff: noqa: RUF001 (Greek examples)
from __future__ import annotations

import pytest

from helpline.ai.rules import keyword_category, urgency_reasons
from helpline.ai.text import strip_diacritics

URGENT = [
    ("en", "My card payment failed again", "failed_payment"),
    ("pl", "Moja płatność została odrzucona", "failed_payment"),
    ("de", "Die Zahlung ist fehlgeschlagen", "failed_payment"),
    ("fr", "Mon paiement a été refusé", "failed_payment"),
    ("es", "Me cobraron dos veces el pedido", "failed_payment"),
    ("it", "Il pagamento è stato rifiutato", "failed_payment"),
    ("cs", "Platba byla zamítnuta", "failed_payment"),
    ("el", "Η πληρωμή μου απορρίφθηκε", "failed_payment"),
    ("en", "I'm locked out of my account", "account_security"),
    ("pl", "Nie mogę się zalogować do konta", "account_security"),
    ("de", "Ich kann mich nicht anmelden", "account_security"),
    ("fr", "Mon compte a été piraté", "account_security"),
    ("es", "No puedo iniciar sesión", "account_security"),
    ("it", "Non riesco ad accedere", "account_security"),
    ("cs", "Nemůžu se přihlásit", "account_security"),
    ("el", "Δεν μπορώ να συνδεθώ", "account_security"),
    ("en", "There is a fraudulent transaction on my statement", "fraud"),
    ("pl", "Ktoś inny użył mojej karty", "fraud"),
    ("de", "Das ist Betrug, meine Karte wurde gestohlen", "fraud"),
    ("fr", "C'est une arnaque", "fraud"),
    ("es", "Creo que es una estafa", "fraud"),
    ("it", "Mi hanno rubato la carta", "fraud"),
    ("cs", "Někdo jiný použil moji kartu", "fraud"),
    ("el", "Κάποιος άλλος χρησιμοποίησε την κάρτα μου", "fraud"),
]


@pytest.mark.parametrize(("language", "text", "reason"), URGENT)
def test_urgent_topics_are_found_in_every_language(language: str, text: str, reason: str) -> None:
    assert reason in urgency_reasons(text)
    assert reason in urgency_reasons(strip_diacritics(text)), "typed without diacritics"


@pytest.mark.parametrize(
    "text",
    [
        "Where is my parcel?",
        "Can I change the delivery address?",
        "Thanks, that solved it",
        "Gdzie jest moje zamówienie?",
        "Wann kommt meine Bestellung?",
    ],
)
def test_routine_questions_are_not_urgent(text: str) -> None:
    assert urgency_reasons(text) == ()


def test_keyword_rules_pick_technical_and_sales() -> None:
    assert keyword_category("I get error code 0x80 when syncing") == ("technical", "error code")
    assert keyword_category("Die App stürzt beim Öffnen ab")[0] == "technical"  # type: ignore[index]
    assert keyword_category("Quanto costa il piano? Vorrei un preventivo")[0] == "sales"  # type: ignore[index]
    assert keyword_category("Where is my parcel?") is None
