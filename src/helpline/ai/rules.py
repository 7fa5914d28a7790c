# ruff: noqa: RUF001 (multilingual text: Greek letters and typographic quotes are meant)
"""Keyword rules, in the eight supported languages, that decide what must not wait for a
statistical model: urgent topics (failed payments, account security, fraud) and the
`technical` and `sales` categories the starter data does not cover.

Patterns match the folded text (lower case, diacritics removed), so "nie mogę się
zalogować" and "nie moge sie zalogowac" both hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from helpline.ai.prefilter import prefilter_for
from helpline.ai.text import fold


def near(first: str, second: str, gap: int = 4) -> str:
    """`first` and `second` within `gap` words of each other, in either order."""
    between = rf"(?:\W+\w+){{0,{gap}}}\W+"
    return rf"(?:\b(?:{first})\w*{between}(?:{second})|\b(?:{second})\w*{between}(?:{first}))"


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """A named set of patterns; `label` is an urgency reason or a category."""

    label: str
    patterns: tuple[str, ...]
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)
    literals: tuple[str, ...] | None = field(init=False, repr=False, compare=False)
    """One of these is in every text a pattern matches (`prefilter`): most texts
    contain none, and the regex is not run for them."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile("|".join(self.patterns)))
        object.__setattr__(self, "literals", prefilter_for(self.patterns))

    def search(self, folded: str) -> str | None:
        """The matched words, or None."""
        if self.literals is not None and not any(part in folded for part in self.literals):
            return None
        found = self.compiled.search(folded)
        return None if found is None else str(found.group(0)).strip()


_PAYMENT = r"payment|paiement|pago|pagamento|platnosc|platba|platb|zahlung|πληρωμη|transaction"
_FAILED = (
    r"fail|declin|reject|denied|didn.?t go through|not go through|bounced|odrzuc|nie przesz|"
    r"nieudan|abgelehnt|fehlgeschlagen|refuse|echou|rechaz|fallid|fallo|rifiutat|fallit|"
    r"non riuscit|zamitnut|neprosl|selhal|απορριφθ|απετυχ|αποτυχ"
)

URGENCY_RULES: tuple[KeywordRule, ...] = (
    KeywordRule(
        "fraud",
        (
            r"\bfraud",
            r"\bscam",
            r"\bphishing\b",
            r"identity theft",
            r"\bstolen\b",
            r"unauthori[sz]ed (?:transaction|charge|payment|withdrawal)",
            r"(?:someone|somebody) (?:else )?used my card",
            r"i (?:did not|didn.?t) (?:make|authori[sz]e) (?:this|that|these)",
            r"\boszust",
            r"\bkradziez",
            r"\bskradzion",
            r"\bukradl",
            r"nieautoryzowan",
            r"ktos (?:inny )?uzyl mojej karty",
            r"\bbetrug",
            r"\bgestohlen",
            r"jemand (?:anderes|anders)? ?hat meine karte",
            r"\bfraude",
            r"\bfrauduleu",
            r"\barnaque",
            r"quelqu.un d.autre a utilise",
            r"\bfraudulent",
            r"\bestafa",
            r"\brobad",
            r"otra persona uso mi tarjeta",
            r"\bfrode\b",
            r"\bfraudolent",
            r"\btruffa",
            r"\brubat",
            r"qualcun (?:altro|altra) ha usato",
            r"\bpodvod",
            r"\bukraden",
            r"nekdo (?:jiny )?pouzil",
            r"\bαπατη",
            r"\bκλεμμεν",
            r"\bκλαπηκε",
            r"καποιος (?:αλλος )?χρησιμοποιησε",
        ),
    ),
    KeywordRule(
        "account_security",
        (
            r"(?:can.?t|cannot|can not|unable to|could ?n.?t|not able to) "
            r"(?:log ?in|login|sign ?in|access (?:my|the) account|get into my account)",
            r"\blocked out\b",
            r"\bhack(?:ed|er)\b",
            r"(?:account|password) (?:was |has been |is )?(?:compromised|stolen)",
            r"(?:someone|somebody) (?:logged|accessed|got) in",
            r"unauthori[sz]ed (?:access|login|log-in|sign-in)",
            r"suspicious (?:login|log-in|sign-in|activity)",
            r"(?:two.factor|2fa|verification code|security code)\W+(?:\w+\W+){0,2}"
            r"(?:not|isn.?t|doesn.?t|never|won.?t)",
            r"two.factor|\b2fa\b|dwuskladnikow|zwei.faktor|double authentification|"
            r"deux facteurs|dos pasos|dos factores|due fattori|dvoufazov|dvoufaktorov|"
            r"δυο παραγοντων",
            r"nie (?:moge|mozna|da sie) (?:sie )?zalogowac",
            r"\bwlamal",
            r"\bzhakowan",
            r"\bshakowan",
            r"(?:kann|konnen) (?:mich )?nicht (?:mehr )?(?:an|ein)(?:melden|loggen)",
            r"(?:mich )?nicht (?:in mein konto )?(?:einloggen|anmelden)",
            r"\bgehackt",
            r"(?:n.arrive pas|impossible|je ne peux pas) (?:a )?(?:me )?connecter",
            r"\bpirate\b",
            r"no puedo (?:iniciar sesion|entrar|acceder)",
            r"\bhackear",
            r"\bhackead",
            r"non riesco (?:ad? )?(?:accedere|entrare)",
            r"\bhackerat",
            r"nemuzu se prihlasit",
            r"nemohu se prihlasit",
            r"\bhackl",
            r"\bhacknul",
            r"δεν μπορω να συνδεθω",
            r"\bχακαρ",
            r"\bπαραβιασ",
        ),
    ),
    KeywordRule(
        "failed_payment",
        (
            near(_PAYMENT, _FAILED),
            near(r"card|karta|karte|carte|tarjeta|carta|kart|καρτα", _FAILED, gap=3),
            r"(?:charged|billed) (?:me )?twice",
            r"double (?:charged|charge|billed)",
            r"(?:can.?t|cannot|unable to|could ?n.?t) (?:make a )?pay",
            r"obciazon\w* dwa razy",
            r"nie moge zaplacic",
            r"doppelt (?:abgebucht|berechnet|belastet)",
            r"zweimal (?:abgebucht|berechnet|belastet)",
            r"debite deux fois",
            r"impossible de payer",
            r"cobr\w+ dos veces",
            r"no puedo pagar",
            r"addebitat\w* due volte",
            r"non riesco a pagare",
            r"dvakrat",
            r"nemuzu zaplatit",
            r"χρεωσαν δυο φορες",
            r"δεν μπορω να πληρωσω",
        ),
    ),
)
"""Urgent topics by default (DESIGN.md): failed payments, account security, fraud."""

URGENCY_CATEGORY = {"fraud": "billing", "account_security": "account", "failed_payment": "billing"}
"""The category an urgent topic belongs to."""

CATEGORY_RULES: tuple[KeywordRule, ...] = (
    KeywordRule(
        "technical",
        (
            r"\bbugs?\b",
            r"\bcrash",
            r"\bglitch",
            r"\bfreez",
            r"error (?:message|code)",
            r"\b(?:404|500|502|503)\b",
            r"(?:won.?t|doesn.?t|does not|not|isn.?t) (?:load|loading|open|start)",
            r"(?:app|website|site|page|application|server) (?:is )?(?:down|broken|not working)",
            r"stopped working",
            r"black screen",
            r"\bapi\b",
            r"\bintegration",
            r"\binstall",
            r"\bset ?up\b",
            r"\bconfigur",
            r"\bblad\b",
            r"\bawari",
            r"zawiesza",
            r"nie (?:laduje|otwiera) sie",
            r"\binstalac",
            r"\bkonfigurac",
            r"\bfehler",
            r"\babsturz",
            r"sturzt(?:\W+\w+){0,3}\W+ab\b",
            r"\beinrichten\b",
            r"\bplante\b",
            r"\berreur\b",
            r"ne (?:se )?charge pas",
            r"\bfallo\b",
            r"se cierra",
            r"no carga",
            r"\berrore\b",
            r"si blocca",
            r"non (?:si )?carica",
            r"\bchyb(?:u|ou|ova|ovou|ove)\b",
            r"\bspadne\b",
            r"\bpada\b",
            r"nenacita",
            r"\binstalace\b",
            r"\bσφαλμα",
            r"\bκολλαει",
            r"δεν (?:φορτωνει|ανοιγει)",
            r"\bεγκαταστασ",
        ),
    ),
    KeywordRule(
        "sales",
        (
            r"\bpricing\b",
            r"\bprice list\b",
            r"how much (?:is|does|do|are) (?:the |your |a )?"
            r"(?:plan|subscription|licen[cs]e|pro|premium|enterprise|seat)",
            r"\bquote\b",
            r"\b(?:free )?trial\b",
            r"\bdemo\b",
            r"\benterprise\b",
            r"\bupgrade\b",
            r"volume discount",
            r"(?:more|additional|extra) (?:seats|licen[cs]es|users)",
            r"\bcennik",
            r"okres probny",
            r"\bwersj\w* probn",
            r"wyzszy plan|plan na wyzszy",
            r"\bpreisliste",
            r"\bangebot\b",
            r"\btestversion",
            r"\btarif (?:upgraden|wechseln)",
            r"\bdevis\b",
            r"essai gratuit",
            r"offre superieure",
            r"\bpresupuesto\b",
            r"prueba gratuita",
            r"mejorar mi plan",
            r"\bpreventivo\b",
            r"prova gratuita",
            r"piano superiore",
            r"\bcenik",
            r"cenov\w* nabidk",
            r"zkusebni verz",
            r"vyssi tarif",
            r"\bτιμοκαταλογ",
            r"δοκιμαστικη περιοδο",
            r"\bαναβαθμ",
        ),
    ),
)
"""Categories decided by keywords: the Bitext starter data has no technical or sales
examples, and a team's corrections teach the model its own wording over time."""


def urgency_reasons(text: str) -> tuple[str, ...]:
    """Urgent topics the message raises (`fraud`, `account_security`, `failed_payment`)."""
    folded = " ".join(fold(text).split())
    return tuple(rule.label for rule in URGENCY_RULES if rule.search(folded))


def keyword_category(text: str) -> tuple[str, str] | None:
    """(category, matched words) from the keyword rules, or None."""
    folded = " ".join(fold(text).split())
    for rule in CATEGORY_RULES:
        found = rule.search(folded)
        if found is not None:
            return rule.label, found
    return None
