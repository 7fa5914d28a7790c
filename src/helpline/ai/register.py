# ruff: noqa: RUF001 (multilingual text: Greek letters and typographic quotes are meant)
"""Casual or formal: how the customer writes, so a suggested reply answers in kind, and the
empathetic opening the suggestion engine proposes when frustration is high.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from helpline.ai.frustration import HIGH, score_frustration
from helpline.ai.text import fold, words

Register = Literal["formal", "neutral", "casual"]

FORMAL_CUES: dict[str, tuple[str, ...]] = {
    "en": (
        r"\bdear\b",
        r"\b(?:kind|best|warm) regards\b",
        r"\bsincerely\b",
        r"\b(?:would|could) you (?:please|kindly)?",
        r"\bi would like\b",
        r"\bgood (?:morning|afternoon|evening)\b",
        r"\bthank you\b",
        r"\bkindly\b",
    ),
    "pl": (
        r"\bdzien dobry\b",
        r"\bszanown",
        r"\buprzejmie\b",
        r"\bz powazaniem\b",
        r"\bpozdrawiam\b",
        r"\b(?:pan|pani|panstw\w*|pana)\b",
        r"\bprosze\b",
        r"\bmoglibyscie\b",
        r"\bchcialbym\b",
        r"\bchcialabym\b",
    ),
    "de": (
        r"\bsehr geehrte",
        r"\bmit freundlichen grussen\b",
        r"\bguten (?:tag|morgen|abend)\b",
        r"\bkonnten sie\b",
        r"\bwurden sie\b",
        r"\bbitte\b",
    ),
    "fr": (
        r"\bvous\b",
        r"\bvotre\b",
        r"\bvos\b",
        r"\bmadame\b",
        r"\bmonsieur\b",
        r"\bcordialement\b",
        r"\bveuillez\b",
        r"\bje vous prie\b",
        r"\bpourriez\b",
    ),
    "es": (
        r"\busted(?:es)?\b",
        r"\bestimad[oa]s?\b",
        r"\batentamente\b",
        r"\bsaludos cordiales\b",
        r"\bpodria\b",
        r"\ble agradeceria\b",
        r"\bbuenos dias\b",
        r"\bbuenas tardes\b",
    ),
    "it": (
        r"\bgentil[ei]\b",
        r"\begregi",
        r"\bcordiali saluti\b",
        r"\bdistinti saluti\b",
        r"\bpotrebbe\b",
        r"\bla ringrazio\b",
        r"\bbuongiorno\b",
        r"\bbuonasera\b",
        r"\bvorrei\b",
    ),
    "cs": (
        r"\bdobry den\b",
        r"\bvazen",
        r"\bs pozdravem\b",
        r"\bdekuji\b",
        r"\bmohl(?:a|i)? byste\b",
        r"\bprosim\b",
    ),
    "el": (
        r"\bαγαπητ",
        r"\bμε εκτιμηση\b",
        r"\bκαλημερα σας\b",
        r"\bσας\b",
        r"\bθα μπορουσατε\b",
        r"\bπαρακαλω\b",
    ),
}
"""Formal markers, folded (lower case, no diacritics)."""

CASUAL_CUES: dict[str, tuple[str, ...]] = {
    "en": (
        r"\bhey\b",
        r"\bhiya\b",
        r"\byo\b",
        r"\blol\b",
        r"\bthx\b",
        r"\bpls\b",
        r"\bplz\b",
        r"\bu\b",
        r"\bur\b",
        r"\bgonna\b",
        r"\bwanna\b",
        r"\bbtw\b",
        r"\bcheers\b",
        r"\bguys\b",
        r"\bdude\b",
    ),
    "pl": (
        r"\bczesc\b",
        r"\bhej\b",
        r"\bsiema\b",
        r"\belo\b",
        r"\bdzieki\b",
        r"\bspoko\b",
        r"\bmozesz\b",
        r"\bpomozesz\b",
    ),
    "de": (
        r"\bhey\b",
        r"\bhi\b",
        r"\bdu\b",
        r"\bdich\b",
        r"\bdir\b",
        r"\bdein\w*\b",
        r"\beure?r?\b",
        r"\bkannst\b",
        r"\blg\b",
        r"\bthx\b",
    ),
    "fr": (
        r"\bsalut\b",
        r"\bcoucou\b",
        r"\btu\b",
        r"\bt'",
        r"\btoi\b",
        r"\bstp\b",
        r"\bmdr\b",
        r"\bpeux-tu\b",
    ),
    "es": (
        r"\boye\b",
        r"\bporfa\b",
        r"\bjaja",
        r"\bpuedes\b",
        r"\bt[eu]\b",
        r"\bxq\b",
        r"\bholi\b",
    ),
    "it": (r"\bciao\b", r"\behi\b", r"\bpuoi\b", r"\bscusa\b", r"\braga\b", r"\bti\b"),
    "cs": (r"\bahoj\b", r"\bcau\b", r"\bcus\b", r"\bdiky\b", r"\bmuzes\b", r"\bmas\b"),
    "el": (r"\bγεια\b", r"\bρε\b", r"\bφιλε\b", r"\bμπορεις\b", r"\bσου\b"),
}
"""Casual markers, folded."""

# Polite pronouns are capitalised mid-sentence in German, Italian and Czech; that
# capital is the signal ("können Sie", "La ringrazio", "děkuji Vám").
_CAPITALISED_POLITE = re.compile(r"(?<=\w[ ,])(?:Sie|Ihnen|Ihr\w*|Lei|La|Le|Sua|Vy|Vám|Váš\w*)\b")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]|[:;]-?[)(DPp]")


@dataclass(frozen=True, slots=True)
class RegisterEstimate:
    register: Register
    formality: float
    """0 = very casual, 1 = very formal."""
    cues: tuple[str, ...]


def _compile(cues: dict[str, tuple[str, ...]]) -> dict[str, re.Pattern[str]]:
    return {
        lang: re.compile("|".join(f"(?:{p})" for p in patterns)) for lang, patterns in cues.items()
    }


_FORMAL = _compile(FORMAL_CUES)
_CASUAL = _compile(CASUAL_CUES)


def estimate_register(text: str, language: str | None = None) -> RegisterEstimate:
    """How formal a message is. `language` narrows the cue lists (all are used if None)."""
    folded = " ".join(fold(text).split())
    languages = [language] if language in FORMAL_CUES else list(FORMAL_CUES)
    formal = sorted({m.group(0) for lang in languages for m in _FORMAL[lang].finditer(folded)})
    casual = sorted({m.group(0) for lang in languages for m in _CASUAL[lang].finditer(folded)})
    formal += sorted({m.group(0) for m in _CAPITALISED_POLITE.finditer(text)})
    emoji = _EMOJI.findall(text)
    formality = 0.5 + 0.15 * len(formal) - 0.15 * len(casual) - 0.15 * min(len(emoji), 2)
    cues = [f"+{cue}" for cue in formal] + [f"-{cue}" for cue in casual]
    cues += ["-emoji"] if emoji else []
    message_words = words(text)
    if len(message_words) >= 4 and text.strip() and text.strip() == text.strip().lower():
        formality -= 0.1
        cues.append("-all lower case")
    if len(message_words) >= 6 and text[:1].isupper() and text.rstrip()[-1:] in ".?!":
        formality += 0.05
    formality = max(0.0, min(1.0, round(formality, 3)))
    register: Register = (
        "formal" if formality >= 0.6 else "casual" if formality <= 0.4 else "neutral"
    )
    return RegisterEstimate(register=register, formality=formality, cues=tuple(cues))


# (general, repeated contact) openings per language, formal and casual.
OPENINGS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "formal": (
            "I am very sorry for the trouble this has caused you, and I understand your "
            "frustration.",
            "I am very sorry that you have had to contact us again about this; I will make "
            "sure it is resolved.",
        ),
        "casual": (
            "I'm really sorry about this, I totally get why you're frustrated.",
            "So sorry you've had to reach out again about this, let's get it sorted for good.",
        ),
    },
    "pl": {
        "formal": (
            "Bardzo przepraszamy za zaistniałą sytuację i rozumiemy Pani/Pana frustrację.",
            "Bardzo przepraszamy, że musi Pani/Pan ponownie kontaktować się z nami w tej "
            "sprawie — zajmę się tym osobiście.",
        ),
        "casual": (
            "Bardzo mi przykro z tego powodu, rozumiem, że to frustrujące.",
            "Przykro mi, że musisz znowu do nas pisać w tej sprawie — zaraz to załatwimy.",
        ),
    },
    "it": {
        "formal": (
            "Mi scuso sinceramente per il disagio che Le abbiamo causato e comprendo la Sua "
            "frustrazione.",
            "Mi dispiace molto che abbia dovuto contattarci di nuovo per questo; me ne occupo "
            "personalmente.",
        ),
        "casual": (
            "Mi dispiace tantissimo per il problema, capisco che sia frustrante.",
            "Scusa se hai dovuto scriverci di nuovo per questo, me ne occupo subito.",
        ),
    },
    "el": {
        "formal": (
            "Λυπούμαστε ειλικρινά για την ταλαιπωρία και κατανοούμε απόλυτα την ενόχλησή σας.",
            "Λυπούμαστε πολύ που χρειάστηκε να επικοινωνήσετε ξανά μαζί μας για αυτό· θα το "
            "αναλάβω προσωπικά.",
        ),
        "casual": (
            "Λυπάμαι πολύ γι' αυτό, καταλαβαίνω πόσο εκνευριστικό είναι.",
            "Λυπάμαι που χρειάστηκε να μας γράψεις ξανά γι' αυτό, το κοιτάζω αμέσως.",
        ),
    },
    "de": {
        "formal": (
            "Es tut mir sehr leid, dass Ihnen diese Unannehmlichkeiten entstanden sind, und "
            "ich verstehe Ihren Ärger.",
            "Es tut mir sehr leid, dass Sie sich deswegen erneut an uns wenden müssen – ich "
            "kümmere mich persönlich darum.",
        ),
        "casual": (
            "Das tut mir echt leid, ich kann gut verstehen, dass du dich ärgerst.",
            "Sorry, dass du dich deswegen nochmal melden musst – ich kümmere mich jetzt darum.",
        ),
    },
    "fr": {
        "formal": (
            "Je vous présente toutes mes excuses pour ce désagrément et je comprends tout à "
            "fait votre frustration.",
            "Toutes mes excuses pour avoir dû nous recontacter à ce sujet ; je m'en occupe "
            "personnellement.",
        ),
        "casual": (
            "Mille excuses pour ce souci, je comprends que ce soit frustrant pour toi.",
            "Mille excuses d'avoir dû nous réécrire pour ça, je m'en occupe tout de suite.",
        ),
    },
    "es": {
        "formal": (
            "Lamento mucho las molestias que esto le ha causado y entiendo perfectamente su "
            "frustración.",
            "Lamento mucho que haya tenido que contactarnos de nuevo por este motivo; me "
            "encargaré personalmente.",
        ),
        "casual": (
            "Siento mucho lo que te ha pasado, entiendo que sea frustrante.",
            "Siento que hayas tenido que escribirnos otra vez por esto, lo soluciono ahora mismo.",
        ),
    },
    "cs": {
        "formal": (
            "Velice se omlouvám za potíže, které Vám to způsobilo, a chápu Vaši frustraci.",
            "Velice se omlouvám, že nás kvůli tomu musíte kontaktovat znovu – osobně se o to "
            "postarám.",
        ),
        "casual": (
            "Moc mě to mrzí, chápu, že je to otravné.",
            "Mrzí mě, že nám kvůli tomu musíš psát znovu, hned se na to podívám.",
        ),
    },
}


def empathetic_opening(
    language: str | None, register: Register, *, repeated_contact: bool = False
) -> str:
    """An apologetic first sentence in the customer's language and register (neutral
    is answered formally: too polite is safer than too familiar). English if the
    language is not one of the eight."""
    per_register = OPENINGS.get(language or "en", OPENINGS["en"])
    general, repeated = per_register["casual" if register == "casual" else "formal"]
    return repeated if repeated_contact else general


def suggest_opening(
    text: str, language: str | None = None, *, min_frustration: float = HIGH
) -> str | None:
    """The empathetic opening for this message when its frustration is at least
    `min_frustration` (high by default); None when no apology is called for."""
    frustration = score_frustration(text, language)
    if frustration.score < min_frustration:
        return None
    repeated = any(reason.kind == "repeated_contact" for reason in frustration.reasons)
    register = estimate_register(text, language).register
    return empathetic_opening(language, register, repeated_contact=repeated)
