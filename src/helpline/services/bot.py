"""The FAQ bot of the chat widget (inbox setting `faq_bot: true`).

It answers the visitor from the inbox's published help-center articles and shared
canned answers, with the source linked, and hands over to a person — with a summary
and the bot transcript as an internal note — when it is not confident (an n-gram
model over the answers, gated by the out-of-scope detector calibrated on held-out
passages, and a BM25 match on the same answer), after two unhelpful answers, when
the customer sounds very frustrated, for sensitive topics (payments, security,
legal), and whenever the customer asks for a person ("Talk to a human" is one click).
Outside business hours with nobody online it asks for the details through the
offline form, which creates a ticket.

While the bot answers, `Conversation.bot_active` keeps the conversation out of the
agents' queue; handing over puts it in, with the waiting clock starting then.
Bot messages are ordinary messages by author type `bot`, so agents see them.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.ai.ngram import NgramClassifier, NgramConfig
from helpline.adapters.ai.ood import OutOfScopeDetector
from helpline.adapters.db.models import Contact, Conversation, Inbox, Message
from helpline.ai.frustration import HIGH
from helpline.ai.summary import TranscriptLine, summarise
from helpline.ai.text import fold, sentences
from helpline.domain.enums import AuthorType, Channel, ConversationStatus, MessageKind
from helpline.domain.rules import SECURITY_KEYWORDS
from helpline.domain.templates import render_template
from helpline.services import widget
from helpline.services.canned import template_context
from helpline.services.errors import NotFound
from helpline.services.events import LiveEvent, queue_event
from helpline.services.history import lock_conversation, next_seq
from helpline.services.recipients import recipients_for
from helpline.services.search_index import knowledge_index, read_stamp
from helpline.services.visitors import Visitor, check_visitor_conversation

MAX_UNHELPFUL = 2
MAX_TRAINING_SENTENCES = 12
MIN_BM25_SCORE = 0.5
BOT_NAME = "Helpline bot"

ASKS_FOR_PERSON = re.compile(
    "|".join(
        (
            r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|some\s*one|somebody|"
            r"(?:a\s+)?(?:real\s+|live\s+)?(?:human|person|agent|operator))",
            r"\b(?:real|live)\s+(?:human|person|agent)\b",
            r"\bhuman\b|\boperator\b|\brepresentative\b|\bagent please\b",
            r"\bczlowiek\w*|\bkonsultant\w*|\bpracownik\w*",
            r"\boperatore\b|\bpersona reale\b|\bun umano\b",
            r"\bmensch\w*|\bmitarbeiter\w*|\bberater\w*",
            r"\bhumain\b|\bconseiller\b|\bune personne\b",
            r"\bpersona real\b|\bun humano\b|\bagente\b",
            r"\bclovek\w*|\boperator\w*",
            r"ανθρωπο|εκπροσωπο|υπαλληλο",
        )
    )
)
"""The customer asks for a person, in the eight languages (folded text)."""

NEGATIVE_REPLY = re.compile(
    r"\b(?:(?:that|this|it)\s+(?:did\s*n[o']?t|does\s*n[o']?t|did not|does not)\s+help"
    r"|not\s+(?:helpful|what i (?:asked|meant|need))|useless answer|wrong answer"
    r"|nie pomoglo|non (?:mi )?(?:ha )?aiutato|hat nicht geholfen|ca (?:ne )?m'a pas aide"
    r"|no (?:me )?(?:ha )?ayudado|nepomohlo|δεν βοηθησε)\b"
)
"""The customer says the last answer did not help."""

SENSITIVE_WORDS = re.compile(
    r"\b(?:refund|chargeback|charged twice|payment|invoice dispute|gdpr|legal|court"
    r"|password|hacked|security|breach|fraud)\b"
)
"""Topics that belong to a person even when an article exists (with the AI's urgent
topics and the escalation rules' legal/fraud keywords)."""

BOT_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "handover": "I'm passing you to a colleague now. They can see our conversation, "
        "so there is no need to repeat anything.",
        "offline": "Nobody from the team is available right now. Please leave your email "
        "address and your question in the form, and we will answer by email.",
        "unhelpful": "Sorry that didn't help. Let me try another answer:",
        "source": "Source",
    },
    "pl": {
        "handover": "Przekazuję Cię teraz koledze z zespołu. Widzi naszą rozmowę, "
        "więc nie musisz niczego powtarzać.",
        "offline": "Nikt z zespołu nie jest teraz dostępny. Zostaw w formularzu swój "
        "adres e-mail i pytanie, a odpowiemy e-mailem.",
        "unhelpful": "Przykro mi, że to nie pomogło. Spróbuję odpowiedzieć inaczej:",
        "source": "Źródło",
    },
    "it": {
        "handover": "Ti passo ora a un collega. Può vedere la nostra conversazione, "
        "quindi non serve ripetere nulla.",
        "offline": "Al momento nessuno del team è disponibile. Lascia nel modulo il tuo "
        "indirizzo email e la tua domanda: ti risponderemo via email.",
        "unhelpful": "Mi dispiace che non sia servito. Provo con un'altra risposta:",
        "source": "Fonte",
    },
    "el": {
        "handover": "Σας μεταφέρω τώρα σε έναν συνάδελφο. Βλέπει τη συζήτησή μας, "
        "οπότε δεν χρειάζεται να επαναλάβετε τίποτα.",  # noqa: RUF001 (a Greek word)
        "offline": "Αυτή τη στιγμή δεν είναι διαθέσιμος κανείς από την ομάδα. Αφήστε στη "
        "φόρμα το email σας και την ερώτησή σας και θα σας απαντήσουμε με email.",
        "unhelpful": "Λυπάμαι που δεν βοήθησε. Ας δοκιμάσω μια άλλη απάντηση:",
        "source": "Πηγή",
    },
}
"""What the bot says to the customer, in the widget's languages; other languages
get English."""
TEXTS = BOT_TEXTS["en"]
SOURCE_PREFIXES = tuple(f"{texts['source']}: " for texts in BOT_TEXTS.values())


def bot_text(key: str, conversation: Conversation) -> str:
    """`key`'s text in the customer's language: the one their browser or profile
    gave, else the one AI assist read in their messages, else English."""
    language = (conversation.language or conversation.ai_language or "en").lower()
    return BOT_TEXTS.get(language.split("-")[0], TEXTS)[key]


REASON_LABELS = {
    "low_confidence": "the bot was not sure of an answer",
    "unhelpful": "two answers did not help",
    "frustration": "the customer sounds very frustrated",
    "sensitive": "a sensitive topic (payments, security or legal)",
    "asked_for_person": "the customer asked for a person",
    "bot_error": "the bot failed",
}


# ---------------------------------------------------------------- the answer model


@dataclass(frozen=True, slots=True)
class FaqAnswer:
    key: str
    """`article:ID` or `canned:ID`."""
    title: str
    text: str
    url: str | None


@dataclass(frozen=True, slots=True)
class FaqModel:
    answers: dict[str, FaqAnswer]
    classifier: NgramClassifier | None
    detector: OutOfScopeDetector | None


@dataclass(frozen=True, slots=True)
class Match:
    answer: FaqAnswer
    confident: bool
    ood_score: float | None


_cache_lock = threading.Lock()
_models: OrderedDict[tuple[int, str, str, int], FaqModel] = OrderedDict()


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"(^|\n)\s*(?:#{1,6}|[-*+]|\d+\.)\s+|[*_`>]{1,3}")


def _plain_markdown(markdown: str) -> str:
    """Article markdown as plain sentences for the chat (links keep their text)."""
    lines = [line for line in markdown.splitlines() if not line.lstrip().startswith("#")]
    text = _LINK.sub(r"\1", "\n".join(lines))
    return " ".join(_MARKUP.sub(r"\1", text).split())


def _first_sentences(text: str, limit: int) -> str:
    return " ".join(sentences(text)[:limit])


def _answers(db: Session, inbox: Inbox, base_url: str) -> dict[str, FaqAnswer]:
    index = knowledge_index(db)
    answers: dict[str, FaqAnswer] = {}
    prefix = f"{base_url.rstrip('/')}/help/{inbox.public_key}/articles/"
    from helpline.adapters.db.models import Article

    for entry in index.articles(db).values():
        if not entry.in_help_center(inbox.id):
            continue
        markdown = db.scalar(select(Article.body_markdown).where(Article.id == entry.id)) or ""
        body = _plain_markdown(markdown)
        answers[f"article:{entry.id}"] = FaqAnswer(
            key=f"article:{entry.id}",
            title=entry.title,
            text=body,
            url=prefix + entry.slug,
        )
    for canned in index.canned(db).values():
        if canned.archived or canned.draft or canned.scope != "shared":
            continue
        answers[f"canned:{canned.id}"] = FaqAnswer(
            key=f"canned:{canned.id}", title=canned.title, text=canned.body, url=None
        )
    return answers


def _training(answers: dict[str, FaqAnswer]) -> tuple[list[str], list[str], list[str], list[str]]:
    """(train texts, labels, held-out texts, labels): every third sentence held out."""
    train: list[str] = []
    labels: list[str] = []
    held: list[str] = []
    held_labels: list[str] = []
    for key, answer in answers.items():
        passages = [answer.title, *sentences(answer.text)[:MAX_TRAINING_SENTENCES]]
        for number, passage in enumerate(passages):
            if number % 3 == 2:
                held.append(passage)
                held_labels.append(key)
            else:
                train.append(passage)
                labels.append(key)
    return train, labels, held, held_labels


def build_model(answers: dict[str, FaqAnswer]) -> FaqModel:
    """An n-gram classifier over the answers' passages and an out-of-scope detector
    calibrated on passages it did not see (85 % answered correctly)."""
    if len(answers) < 2:
        return FaqModel(answers, None, None)
    train, labels, held, held_labels = _training(answers)
    classifier = NgramClassifier(NgramConfig(c=10.0, max_iter=200))
    classifier.fit(train, labels)
    detector = OutOfScopeDetector()
    check, check_labels = (held, held_labels) if held else (train, labels)
    probabilities = classifier.predict_proba(check)
    predicted = [classifier.labels[int(i)] for i in probabilities.argmax(axis=1)]
    correct = np.array([p == t for p, t in zip(predicted, check_labels, strict=True)])
    detector.calibrate(probabilities, None, correct)
    return FaqModel(answers, classifier, detector)


def faq_model(db: Session, inbox: Inbox, base_url: str) -> FaqModel:
    """The inbox's model, rebuilt when articles or canned responses changed."""
    key = (inbox.id, inbox.public_key, base_url, read_stamp(db).revision)
    with _cache_lock:
        cached = _models.get(key)
        if cached is not None:
            _models.move_to_end(key)
            return cached
    model = build_model(_answers(db, inbox, base_url))
    with _cache_lock:
        _models[key] = model
        while len(_models) > 32:
            _models.popitem(last=False)
    return model


def best_answer(
    db: Session, inbox: Inbox, question: str, *, base_url: str, skip: set[str]
) -> Match | None:
    """The best answer whose title is not in `skip`, and whether the bot may give it."""
    model = faq_model(db, inbox, base_url)
    candidates = {key: answer for key, answer in model.answers.items() if answer.title not in skip}
    if not candidates:
        return None
    index = knowledge_index(db)
    lexical: dict[str, float] = {}
    for entry, hit in index.search_articles(
        db, question + " ", language=None, limit=10, where=lambda e: e.in_help_center(inbox.id)
    ):
        lexical[f"article:{entry.id}"] = hit.score
    for canned, hit in index.search_canned(db, question + " ", limit=10):
        lexical.setdefault(f"canned:{canned.id}", hit.score)
    if model.classifier is None or model.detector is None:
        ranked = sorted(
            (key for key in candidates if lexical.get(key, 0) >= MIN_BM25_SCORE),
            key=lambda key: -lexical[key],
        )
        if not ranked:
            return Match(next(iter(candidates.values())), confident=False, ood_score=None)
        return Match(candidates[ranked[0]], confident=True, ood_score=None)
    probabilities = model.classifier.predict_proba([question])
    order = np.argsort(-probabilities[0])
    top_key = next(
        (
            model.classifier.labels[int(i)]
            for i in order
            if model.classifier.labels[int(i)] in candidates
        ),
        None,
    )
    if top_key is None:
        return None
    ood = float(model.detector.score(probabilities, None)[0])
    threshold = model.detector.calibration.threshold if model.detector.calibration else 0.0
    if skip:  # after "didn't help": the next best, if it shares words with the question
        confident = lexical.get(top_key, 0.0) > 0.0
    else:
        confident = ood <= threshold and lexical.get(top_key, 0.0) >= MIN_BM25_SCORE
    return Match(candidates[top_key], confident=confident, ood_score=ood)


# ---------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class BotOutcome:
    bot_active: bool
    handed_over: bool = False
    reason: str | None = None
    offline: bool = False


def bot_enabled(inbox: Inbox) -> bool:
    return inbox.settings.get("faq_bot") is True


def _post(
    db: Session, conversation: Conversation, body: str, *, kind: MessageKind, now: datetime
) -> Message:
    """A bot message: a reply the visitor sees, or an internal note for the agents."""
    message = Message(
        conversation_id=conversation.id,
        seq=next_seq(conversation),
        author_type=AuthorType.BOT.value,
        kind=kind.value,
        body=body,
        attachments=[],
        created_at=now,
    )
    db.add(message)
    conversation.updated_at = now
    conversation.last_activity_at = now
    db.flush()
    from helpline.services.conversations import conversation_payload, message_payload

    queue_event(
        db,
        LiveEvent(
            type="message.created",
            payload={
                "message": message_payload(message, BOT_NAME),
                "conversation": conversation_payload(conversation),
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=message.seq,
            to_contact=kind == MessageKind.REPLY,
        ),
    )
    return message


def _transcript(db: Session, conversation_id: int) -> list[TranscriptLine]:
    rows = db.execute(
        select(Message.author_type, Message.body)
        .where(Message.conversation_id == conversation_id, Message.kind == MessageKind.REPLY.value)
        .order_by(Message.seq)
    )
    return [
        TranscriptLine(
            author="contact" if author == "contact" else "bot" if author == "bot" else "agent",
            text=body,
        )
        for author, body in rows
    ]


def handover_note(lines: list[TranscriptLine], reason: str) -> str:
    """Summary and bot transcript for the agent who takes over."""
    summary = summarise(lines).text
    transcript = "\n".join(
        f"{'Customer' if line.author == 'contact' else 'Bot'}: {' '.join(line.text.split())}"
        for line in lines
        if line.author in ("contact", "bot")
    )
    return (
        f"Bot handed over: {REASON_LABELS.get(reason, reason)}.\n\n"
        f"Summary:\n{summary}\n\nBot transcript:\n{transcript}"
    )


def _someone_available(db: Session, inbox: Inbox, *, now: datetime) -> bool:
    return widget.within_business_hours(inbox, now=now) and widget.agents_online(db, inbox) > 0


def do_hand_over(db: Session, conversation_id: int, *, reason: str, now: datetime) -> BotOutcome:
    """Hand the conversation to the agents: an internal note with the summary and
    the bot transcript, a word to the customer, and into the queue (or, with nobody
    available, the offline form). Locks the conversation; commits; routes."""
    conversation = lock_conversation(db, conversation_id)
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    if not conversation.bot_active:
        db.commit()
        return BotOutcome(bot_active=False)
    inbox = db.get(Inbox, conversation.inbox_id)
    assert inbox is not None
    lines = _transcript(db, conversation.id)
    conversation.bot_active = False
    conversation.waiting_since = now
    _post(db, conversation, handover_note(lines, reason), kind=MessageKind.NOTE, now=now)
    offline = not _someone_available(db, inbox, now=now)
    _post(
        db,
        conversation,
        bot_text("offline" if offline else "handover", conversation),
        kind=MessageKind.REPLY,
        now=now,
    )
    from helpline.services import routing_hooks

    routed = routing_hooks.on_conversation_updated(db, conversation, now=now)
    db.commit()
    routing_hooks.route_after(db, routed, now=now)
    return BotOutcome(bot_active=False, handed_over=True, reason=reason, offline=offline)


def _answer_text(answer: FaqAnswer, db: Session, conversation: Conversation) -> str:
    if answer.key.startswith("canned:"):
        contact = db.get(Contact, conversation.contact_id)
        assert contact is not None
        text = render_template(answer.text, template_context(conversation, contact, None)).text
    else:
        text = _first_sentences(answer.text, 4)
    source = f"\n\n{bot_text('source', conversation)}: {answer.title}"
    if answer.url:
        source += f" — {answer.url}"
    return text.strip() + source


def _given_titles(db: Session, conversation_id: int) -> set[str]:
    """Titles of the answers the bot already gave (from their source lines)."""
    bodies = db.scalars(
        select(Message.body).where(
            Message.conversation_id == conversation_id,
            Message.author_type == AuthorType.BOT.value,
            Message.kind == MessageKind.REPLY.value,
        )
    )
    titles = set()
    for body in bodies:
        for line in body.splitlines():
            prefix = next((p for p in SOURCE_PREFIXES if line.startswith(p)), None)
            if prefix is not None:
                titles.add(line[len(prefix) :].split(" — ", 1)[0].strip())
    return titles


def _sensitive(conversation: Conversation, folded: str) -> bool:
    if conversation.ai_urgent_reasons:
        return True
    if SENSITIVE_WORDS.search(folded):
        return True
    return any(re.search(rf"\b{re.escape(fold(word))}\b", folded) for word in SECURITY_KEYWORDS)


def should_engage(db: Session, conversation: Conversation) -> bool:
    """Called by AI assist before it re-routes: a bot chat must not reach the queue."""
    inbox = db.get(Inbox, conversation.inbox_id)
    return inbox is not None and _engage(db, conversation, inbox)


def _engage(db: Session, conversation: Conversation, inbox: Inbox) -> bool:
    """The bot starts on a new widget chat nobody has answered yet."""
    if not bot_enabled(inbox) or conversation.channel != Channel.CHAT.value:
        return False
    if conversation.assignee_id is not None or conversation.status != ConversationStatus.OPEN.value:
        return False
    others = db.scalar(
        select(func.count(Message.id)).where(
            Message.conversation_id == conversation.id,
            Message.author_type != AuthorType.CONTACT.value,
            Message.author_type != AuthorType.SYSTEM.value,
        )
    )
    customer = db.scalar(
        select(func.count(Message.id)).where(
            Message.conversation_id == conversation.id,
            Message.author_type == AuthorType.CONTACT.value,
        )
    )
    return not others and customer == 1


def after_customer_message(
    db: Session, conversation_id: int, *, text: str, now: datetime
) -> BotOutcome:
    """The customer wrote (and AI assist stored its analysis): answer, or hand over."""
    from helpline.settings import get_settings

    conversation = lock_conversation(db, conversation_id)
    if conversation is None:
        db.rollback()
        return BotOutcome(bot_active=False)
    inbox = db.get(Inbox, conversation.inbox_id)
    assert inbox is not None
    if not conversation.bot_active:
        if not _engage(db, conversation, inbox):
            db.commit()
            return BotOutcome(bot_active=False)
        conversation.bot_active = True
    folded = " ".join(fold(text).split())
    reason = None
    if ASKS_FOR_PERSON.search(folded):
        reason = "asked_for_person"
    elif (conversation.frustration or 0.0) >= HIGH:
        reason = "frustration"
    elif _sensitive(conversation, folded):
        reason = "sensitive"
    elif NEGATIVE_REPLY.search(folded):
        conversation.bot_unhelpful += 1
        if conversation.bot_unhelpful >= MAX_UNHELPFUL:
            reason = "unhelpful"
    if reason is None:
        given = _given_titles(db, conversation.id)
        question = text
        if NEGATIVE_REPLY.search(folded):
            earlier = db.scalars(
                select(Message.body)
                .where(
                    Message.conversation_id == conversation.id,
                    Message.author_type == AuthorType.CONTACT.value,
                )
                .order_by(Message.seq)
                .limit(1)
            ).first()
            question = earlier or text
        match = best_answer(db, inbox, question, base_url=get_settings().base_url, skip=given)
        if match is None or not match.confident:
            reason = "low_confidence"
        else:
            body = _answer_text(match.answer, db, conversation)
            if given:
                body = f"{bot_text('unhelpful', conversation)}\n\n{body}"
            _post(db, conversation, body, kind=MessageKind.REPLY, now=now)
            db.commit()
            return BotOutcome(bot_active=True)
    db.commit()
    return do_hand_over(db, conversation_id, reason=reason, now=now)


# ---------------------------------------------------------------- the widget's buttons


def bot_state(db: Session, visitor: Visitor, conversation_id: int, *, now: datetime) -> BotOutcome:
    check_visitor_conversation(db, visitor, conversation_id)
    conversation = db.get(Conversation, conversation_id)
    active = bool(conversation is not None and conversation.bot_active)
    db.commit()
    return BotOutcome(bot_active=active)


def do_visitor_hand_over(
    db: Session, visitor: Visitor, conversation_id: int, *, now: datetime
) -> BotOutcome:
    """ "Talk to a human" in the widget. Locks the conversation."""
    check_visitor_conversation(db, visitor, conversation_id)
    return do_hand_over(db, conversation_id, reason="asked_for_person", now=now)


def do_unhelpful(
    db: Session, visitor: Visitor, conversation_id: int, *, now: datetime
) -> BotOutcome:
    """ "That didn't help": the second time hands over; the first offers the next
    best answer. Locks the conversation."""
    check_visitor_conversation(db, visitor, conversation_id)
    conversation = lock_conversation(db, conversation_id)
    if conversation is None or not conversation.bot_active:
        db.commit()
        return BotOutcome(bot_active=False)
    conversation.bot_unhelpful += 1
    if conversation.bot_unhelpful >= MAX_UNHELPFUL:
        db.commit()
        return do_hand_over(db, conversation_id, reason="unhelpful", now=now)
    inbox = db.get(Inbox, conversation.inbox_id)
    assert inbox is not None
    from helpline.settings import get_settings

    first = db.scalars(
        select(Message.body)
        .where(
            Message.conversation_id == conversation.id,
            Message.author_type == AuthorType.CONTACT.value,
        )
        .order_by(Message.seq.desc())
        .limit(1)
    ).first()
    match = best_answer(
        db,
        inbox,
        first or conversation.subject,
        base_url=get_settings().base_url,
        skip=_given_titles(db, conversation.id),
    )
    if match is None or not match.confident:
        db.commit()
        return do_hand_over(db, conversation_id, reason="low_confidence", now=now)
    unhelpful = bot_text("unhelpful", conversation)
    body = f"{unhelpful}\n\n{_answer_text(match.answer, db, conversation)}"
    _post(db, conversation, body, kind=MessageKind.REPLY, now=now)
    db.commit()
    return BotOutcome(bot_active=True)
