# ruff: noqa: RUF001, RUF002 (multilingual text: Greek letters and typographic quotes are meant)
"""How frustrated a customer sounds, 0–1, with the reasons an agent sees on the badge.

Signals (combined as independent pieces of evidence: 1 − Π(1 − wᵢ)):
negative words, SHOUTING in capitals, repeated punctuation ("!!!", "???"), and trigger
phrases ("this is the third time", "cancel my account", "lawyer", "unacceptable",
"refund now") in English, Polish, Italian, Greek, German, French, Spanish and Czech.
Lexicons match the folded text, so missing diacritics do not hide anything.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from helpline.ai.text import fold, words

NEGATIVE_WEIGHT = 0.2
TRIGGER_WEIGHT = 0.4
SHOUTING_WEIGHT = 0.35
PARTIAL_SHOUTING_WEIGHT = 0.15
PUNCTUATION_WEIGHT = 0.2
MEDIUM = 0.35
HIGH = 0.6


def _terms(listing: str) -> tuple[str, ...]:
    """A comma-separated word list (kept compact in this file) as a tuple."""
    return tuple(term.strip() for term in listing.split(",") if term.strip())


NEGATIVE_WORDS: dict[str, tuple[str, ...]] = {
    "en": _terms(
        """
        angry, annoyed, annoying, awful, terrible, horrible, worst, useless, ridiculous,
        pathetic, disappointed, disappointing, frustrated, frustrating, furious, disgusted,
        incompetent, joke, fed up, sick of, rubbish, garbage, nonsense, scam, wtf, damn,
        hopeless, shocking
        """
    ),
    "pl": _terms(
        """
        zly, zla, wkurzony, wkurzona, wsciekly, wsciekla, beznadziejny, beznadziejna,
        beznadzieja, okropny, okropna, fatalny, fatalna, najgorszy, najgorsza, zenada,
        skandal, skandaliczne, rozczarowany, rozczarowana, mam dosc, zalosne, kpina,
        niekompetentni, oszusci
        """
    ),
    "it": _terms(
        """
        arrabbiato, arrabbiata, furioso, furiosa, pessimo, pessima, orribile, terribile,
        vergognoso, vergogna, ridicolo, deluso, delusa, stufo, stufa, inutile, incompetenti,
        assurdo, schifo, ladri
        """
    ),
    "el": _terms(
        """
        θυμωμενος, θυμωμενη, απαισιο, χειροτερη, χειροτερο, αισχος, απογοητευμενος,
        απογοητευμενη, γελοιο, αχρηστο, ντροπη, βαρεθηκα, κοροιδια, ανικανοι
        """
    ),
    "de": _terms(
        """
        wutend, sauer, verargert, schrecklich, furchtbar, katastrophe, katastrophal,
        schlechteste, lacherlich, enttauscht, enttauschend, nutzlos, frechheit, zumutung,
        unfahig, skandal, mist, genervt
        """
    ),
    "fr": _terms(
        """
        furieux, furieuse, enerve, enervee, horrible, nul, nulle, pire, ridicule, decu,
        decue, honteux, honte, scandaleux, incompetents, marre, lamentable, arnaque,
        catastrophique
        """
    ),
    "es": _terms(
        """
        enfadado, enfadada, enojado, enojada, furioso, furiosa, horrible, pesimo, pesima,
        peor, ridiculo, decepcionado, decepcionada, vergonzoso, verguenza, harto, harta,
        incompetentes, estafa, inutil
        """
    ),
    "cs": _terms(
        """
        nastvany, nastvana, rozzlobeny, rozzlobena, hrozny, hrozna, strasny, strasna,
        nejhorsi, smesne, zklamany, zklamana, ostuda, neschopni, katastrofa, otresne, mam
        dost, podvodnici
        """
    ),
}
"""Words that carry anger or disappointment, folded (lower case, no diacritics)."""

REPEATED_CONTACT: dict[str, tuple[str, ...]] = {
    "en": (
        r"(?:this is|it.?s) the (?:third|3rd|fourth|4th|fifth|5th|\w+th) time",
        r"(?:third|fourth|fifth|3rd|4th|5th) time",
    ),
    "pl": (
        r"(?:trzeci|czwarty|piaty|kolejny) raz",
        r"po raz (?:trzeci|czwarty|kolejny)",
    ),
    "it": (r"(?:terza|quarta|quinta|ennesima) volta",),
    "el": (r"(?:τριτη|τεταρτη|πεμπτη|πολλοστη) φορα",),
    "de": (r"(?:zum )?(?:dritte|vierte|funfte|x-te)n? mal",),
    "fr": (r"(?:troisieme|quatrieme|cinquieme|enieme|nieme) fois",),
    "es": (r"(?:tercera|cuarta|quinta|enesima) vez",),
    "cs": (
        r"\b(?:potreti|poctvrte|popate)\b",
        r"(?:treti|ctvrty|paty) (?:krat|raz)",
    ),
}
"""Phrases saying the customer has had to come back about the same problem."""

TRIGGER_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        r"(?:cancel|close|delete) my (?:account|subscription|membership)",
        r"\blawyers?\b",
        r"\battorney\b",
        r"\blegal action\b",
        r"\bsue\b",
        r"\bcourt\b",
        r"\bunacceptable\b",
        r"refund (?:me )?now",
        r"want my money back",
        r"(?:still|again) (?:waiting|not working|nothing)",
        r"never (?:again|buying)",
        r"speak to (?:a|your) (?:manager|supervisor)",
        r"\bcomplaint\b",
        r"(?:nobody|no one) (?:answers|replies|responds|helps)",
    ),
    "pl": (
        r"(?:usuncie|zamknijcie|anulujcie|usunac|zamknac|anulowac) (?:moje )?"
        r"(?:konto|subskrypcj)",
        r"\bprawnik",
        r"\badwokat",
        r"\bsad\w*\b",
        r"\bpozew\b",
        r"\bnie do przyjecia\b",
        r"nieakceptowaln",
        r"zwrot (?:pieniedzy )?(?:natychmiast|teraz)",
        r"oddajcie (?:mi )?pieniadze",
        r"\breklamacj",
        r"\bskarg",
        r"nadal (?:czekam|nie dziala)",
        r"\bkierownik",
    ),
    "it": (
        r"(?:chiudete|cancellate|chiudere|cancellare|disdire) (?:il )?(?:mio )?"
        r"(?:account|abbonamento)",
        r"\bavvocat",
        r"\bdenuncia",
        r"\btribunale\b",
        r"\binaccettabile\b",
        r"rimborso (?:subito|adesso|ora)",
        r"rivoglio i (?:miei )?soldi",
        r"\breclamo\b",
        r"ancora (?:aspetto|non funziona)",
        r"\bresponsabile\b",
    ),
    "el": (
        r"(?:κλειστε|ακυρωστε|διαγραψτε) (?:τον |τη |την )?(?:λογαριασμο|συνδρομη)",
        r"\bδικηγορ",
        r"\bμηνυσ",
        r"\bδικαστηρι",
        r"\bαπαραδεκτ",
        r"επιστροφη (?:χρηματων )?(?:τωρα|αμεσως)",
        r"θελω τα λεφτα μου",
        r"\bπαραπονο",
        r"\bυπευθυνο",
    ),
    "de": (
        r"(?:konto|abo|abonnement|vertrag) (?:sofort )?(?:kundigen|loschen|schliessen)",
        r"(?:kundigen|loschen|schliessen) sie (?:sofort )?(?:mein|meinen) "
        r"(?:konto|abo|abonnement|vertrag)",
        r"\banwalt",
        r"\brechtsanwalt",
        r"\bgericht\b",
        r"\bklage\b",
        r"\binakzeptabel\b",
        r"\bunakzeptabel\b",
        r"geld (?:sofort )?zuruck",
        r"\bbeschwerde\b",
        r"immer noch (?:nicht|keine|kein|warte)",
        r"\bvorgesetzten\b",
    ),
    "fr": (
        r"(?:fermez|supprimez|annulez|resilier|fermer|supprimer|annuler) (?:mon )?"
        r"(?:compte|abonnement)",
        r"\bavocat",
        r"\bplainte\b",
        r"\btribunal\b",
        r"\binacceptable\b",
        r"rembourse(?:z|ment)?(?:[- ]moi)? (?:maintenant|immediatement|tout de suite)",
        r"\breclamation\b",
        r"toujours (?:rien|pas|en attente)",
        r"\bresponsable\b",
    ),
    "es": (
        r"(?:cancelen|cierren|borren|cancelar|cerrar|borrar|dar de baja) (?:mi )?"
        r"(?:cuenta|suscripcion)",
        r"\babogad",
        r"\bdenuncia",
        r"\btribunal",
        r"\binaceptable\b",
        r"reembolso (?:ya|ahora|inmediato)",
        r"devuelvan(?:me)? (?:mi )?(?:el )?dinero",
        r"\bqueja\b",
        r"\breclamacion\b",
        r"sigo (?:esperando|sin)",
        r"\bgerente\b",
    ),
    "cs": (
        r"(?:zruste|smazte|zrusit|smazat) (?:muj |moje )?(?:ucet|predplatne)",
        r"\bpravnik",
        r"\badvokat",
        r"\bsoud\b",
        r"\bzaloba\b",
        r"\bneprijateln",
        r"vratte (?:mi )?penize",
        r"\bstiznost",
        r"\breklamac",
        r"porad (?:cekam|nefunguje|nic)",
        r"\bvedoucim?\b",
    ),
}
"""Phrases that signal escalation risk, as regular expressions over folded text."""


@dataclass(frozen=True, slots=True)
class FrustrationReason:
    """One piece of evidence, shown on the badge ("trigger: 'third time'")."""

    kind: Literal[
        "negative_words", "repeated_contact", "trigger_phrase", "shouting", "repeated_punctuation"
    ]
    evidence: str
    weight: float


@dataclass(frozen=True, slots=True)
class FrustrationScore:
    score: float
    level: Literal["low", "medium", "high"]
    reasons: tuple[FrustrationReason, ...]

    @property
    def summary(self) -> str:
        """Short reason text for the badge."""
        return "; ".join(f"{r.kind.replace('_', ' ')}: {r.evidence}" for r in self.reasons)


_NEGATIVE = {
    language: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in lexicon) + r")\b")
    for language, lexicon in NEGATIVE_WORDS.items()
}
_TRIGGERS = {
    language: re.compile("|".join(f"(?:{p})" for p in patterns))
    for language, patterns in TRIGGER_PHRASES.items()
}
_REPEATS = {
    language: re.compile("|".join(f"(?:{p})" for p in patterns))
    for language, patterns in REPEATED_CONTACT.items()
}
_REPEATED_PUNCTUATION = re.compile(r"[!?¡¿;]{2,}")
_ACRONYMS = frozenset({"OK", "PDF", "API", "SMS", "PIN", "IBAN", "VAT", "USA", "EU", "UK", "FAQ"})


def _level(score: float) -> Literal["low", "medium", "high"]:
    if score >= HIGH:
        return "high"
    return "medium" if score >= MEDIUM else "low"


def level_of(score: float | None) -> Literal["low", "medium", "high"] | None:
    """The badge level of a stored score (None: not analysed yet)."""
    return None if score is None else _level(score)


def _shouting(text: str) -> FrustrationReason | None:
    caps_words = [w for w in words(text) if len(w) >= 3 and w.isupper() and w not in _ACRONYMS]
    letters = [ch for ch in text if ch.isalpha()]
    upper = sum(ch.isupper() for ch in letters)
    if len(letters) >= 8 and upper / len(letters) >= 0.7:
        return FrustrationReason("shouting", " ".join(words(text)[:6]), SHOUTING_WEIGHT)
    if len(caps_words) >= 2:
        return FrustrationReason("shouting", " ".join(caps_words[:4]), PARTIAL_SHOUTING_WEIGHT)
    return None


@functools.lru_cache(maxsize=8192)
def score_frustration(text: str, language: str | None = None) -> FrustrationScore:
    """Frustration of one message. `language` limits the lexicons to one language (all
    eight are searched when it is None or unknown).

    Cached: a conversation's score reads its five latest messages after each new one,
    so without the cache a chat line would be scored five times."""
    folded = " ".join(fold(text).split())
    languages = [language] if language in NEGATIVE_WORDS else list(NEGATIVE_WORDS)
    reasons: list[FrustrationReason] = []
    negatives = sorted({m.group(0) for lang in languages for m in _NEGATIVE[lang].finditer(folded)})
    for word in negatives[:3]:
        reasons.append(FrustrationReason("negative_words", word, NEGATIVE_WEIGHT))
    repeats = sorted(
        {m.group(0).strip() for lang in languages for m in _REPEATS[lang].finditer(folded)}
    )
    for phrase in repeats[:1]:
        reasons.append(FrustrationReason("repeated_contact", phrase, TRIGGER_WEIGHT))
    triggers = sorted(
        {m.group(0).strip() for lang in languages for m in _TRIGGERS[lang].finditer(folded)}
    )
    for phrase in triggers[:3]:
        reasons.append(FrustrationReason("trigger_phrase", phrase, TRIGGER_WEIGHT))
    shouting = _shouting(text)
    if shouting is not None:
        reasons.append(shouting)
    punctuation = _REPEATED_PUNCTUATION.findall(text)
    if punctuation:
        longest = max(punctuation, key=len)
        weight = PUNCTUATION_WEIGHT * (1.5 if len(longest) >= 3 else 1.0)
        reasons.append(FrustrationReason("repeated_punctuation", longest, weight))
    remaining = 1.0
    for reason in reasons:
        remaining *= 1.0 - reason.weight
    score = round(1.0 - remaining, 3)
    return FrustrationScore(score=score, level=_level(score), reasons=tuple(reasons))


def score_conversation(messages: Sequence[str], language: str | None = None) -> FrustrationScore:
    """Frustration over a customer's recent messages: the latest counts most, earlier
    ones fade (×0.7 per message back), so calming down lowers the score."""
    best: FrustrationScore | None = None
    best_value = -1.0
    for age, message in enumerate(reversed(messages[-5:])):
        scored = score_frustration(message, language)
        value = scored.score * (0.7**age)
        if value > best_value:
            best, best_value = scored, value
    if best is None:
        return FrustrationScore(0.0, "low", ())
    value = round(best_value, 3)
    return FrustrationScore(score=value, level=_level(value), reasons=best.reasons)
