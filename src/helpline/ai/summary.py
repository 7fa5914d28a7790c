"""Extractive summary of a conversation for transfers, escalations and bot handovers.

It picks the customer's most informative sentences (words that recur across the
conversation but not in every sentence, references such as order numbers, questions, the
opening request), keeps them in the order they were said, and lists the references found
and the last reply the customer got. No model, any language; an LLM summary replaces it
when one is configured (`helpline.adapters.ai.llm.complete_or_fallback`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from helpline.ai.text import fold, sentences, words

Author = Literal["contact", "agent", "bot", "system"]

MAX_SENTENCE_CHARS = 240

# Greetings, thanks and filler that carry no information about the problem (folded).
_SMALL_TALK = re.compile(
    r"^(?:hi|hello|hey|thanks?|thank you|ok|okay|yes|no|good (?:morning|afternoon|evening)|"
    r"dzien dobry|czesc|dziekuje|hallo|guten tag|danke|bonjour|salut|merci|hola|gracias|"
    r"buongiorno|ciao|grazie|dobry den|ahoj|dekuji|γεια|καλημερα|ευχαριστω)"
    r"\b[\s!.,]*\w{0,12}[\s!.,]*$"
)
_REFERENCE = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+"  # email address
    r"|#?\b[A-Z]{0,4}-?\d{4,}\b"  # order, ticket or invoice number
    r"|[$€£]\s?\d+(?:[.,]\d{1,2})?|\b\d+(?:[.,]\d{1,2})?\s?(?:€|eur|usd|gbp|pln|czk|zł|kč)\b",
    re.IGNORECASE,
)
# English function words; in other languages the idf weighting does the same job.
_STOPWORDS = frozenset(
    """the and for you your with this that have has was are not but can could would will
    from about what when where which there their they them my me our its it's i'm dont
    please just still also been into then than very some any all one""".split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One message of the conversation, in order."""

    author: Author
    text: str


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    text: str
    """The summary as shown to the next agent."""
    key_sentences: tuple[str, ...]
    references: tuple[str, ...]
    last_reply: str | None


def _content_words(sentence: str) -> set[str]:
    return {w for w in (fold(x) for x in words(sentence)) if len(w) >= 3 and w not in _STOPWORDS}


def _clip(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return sentence
    return sentence[: MAX_SENTENCE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def summarise(lines: Sequence[TranscriptLine], max_sentences: int = 3) -> ConversationSummary:
    """Summarise a transcript in at most `max_sentences` of the customer's own sentences."""
    candidates: list[tuple[int, str]] = []
    for line in lines:
        if line.author != "contact":
            continue
        for sentence in sentences(line.text):
            if _content_words(sentence) and not _SMALL_TALK.match(fold(sentence)):
                candidates.append((len(candidates), sentence))
    references = tuple(
        dict.fromkeys(
            match.group(0)
            for line in lines
            if line.author == "contact"
            for match in _REFERENCE.finditer(line.text)
        )
    )
    last_reply = next(
        (
            f"{line.author}: {_clip(line.text)}"
            for line in reversed(lines)
            if line.author in ("agent", "bot") and line.text.strip()
        ),
        None,
    )
    bags = [_content_words(sentence) for _, sentence in candidates]
    document_frequency: Counter[str] = Counter(word for bag in bags for word in bag)
    total = len(bags)

    def score(index: int) -> float:
        bag = bags[index]
        sentence = candidates[index][1]
        # A word that comes back in several sentences is the topic; one in every sentence
        # says nothing (idf); short sentences are not penalised more than by sqrt.
        weight = sum(
            (document_frequency[w] - 1 + 1.0) * math.log(1.0 + total / document_frequency[w])
            for w in bag
        )
        value = weight / math.sqrt(len(bag))
        if _REFERENCE.search(sentence):
            value += 1.5
        if sentence.rstrip().endswith("?"):
            value += 0.5
        if index == 0:
            value += 2.0  # the opening request usually states the problem
        return value

    chosen = sorted(sorted(range(total), key=score, reverse=True)[:max_sentences])
    seen: set[str] = set()
    key_sentences = []
    for index in chosen:
        clipped = _clip(candidates[index][1])
        if fold(clipped) not in seen:
            seen.add(fold(clipped))
            key_sentences.append(clipped)
    parts = []
    if key_sentences:
        parts.append("Customer: " + " ".join(key_sentences))
    if references:
        parts.append("References: " + ", ".join(references))
    if last_reply:
        parts.append("Last reply — " + last_reply)
    return ConversationSummary(
        text="\n".join(parts) if parts else "(no customer messages)",
        key_sentences=tuple(key_sentences),
        references=references,
        last_reply=last_reply,
    )
