"""AI assist in the live server: what the classifier, language detector and
frustration scorer say about a conversation, stored on it and fed to routing.

`after_customer_message` runs after the customer's message is committed (the
message never waits for AI or is lost because of it): it analyses the customer's
recent words, sets the category when nobody chose one, marks payment, account
security and fraud topics urgent, stores language, frustration (with reasons) and
register, re-runs rules, SLA and score when any of them changed, and lets the FAQ
bot answer when it handles the conversation. Any failure is logged and dropped.

The category model is one per process, trained (or loaded from its cache) at first
use; an agent changing a category records a correction, and `do_retrain` (the CLI
and a scheduled worker job) retrains on them. Other processes pick the retrained
model up from the shared cache within a minute.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helpline.adapters.ai.interfaces import ChatMessage, LlmClient
from helpline.adapters.ai.llm import OpenAICompatibleClient, complete_or_fallback
from helpline.adapters.db.models import Activity, AiCorrection, Conversation, Message
from helpline.ai.categories import CategoryClassifier, CategoryPrediction, LabelledMessage
from helpline.ai.frustration import FrustrationScore, level_of, score_conversation
from helpline.ai.language import LanguageGuess, detect_language
from helpline.ai.register import RegisterEstimate, estimate_register
from helpline.ai.summary import TranscriptLine, summarise
from helpline.domain.access import Viewer
from helpline.domain.enums import ActivityKind, AuthorType, MessageKind, Priority
from helpline.services.errors import PermissionDenied
from helpline.services.events import LiveEvent, queue_event
from helpline.services.history import lock_conversation, record_activity
from helpline.services.recipients import recipients_for
from helpline.settings import Settings, get_settings

if TYPE_CHECKING:
    from helpline.services.routing_hooks import RouteAfter

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 3
"""Shorter messages ("ok", "?") say nothing new: they are not analysed."""
RECENT_MESSAGES = 5
"""How many of the customer's latest messages the analysis reads."""
MAX_ANALYSED_CHARS = 4000
MIN_MODEL_CONFIDENCE = 0.5
"""Below this the model's category is stored as a hint but not set on the conversation."""
MIN_LANGUAGE_WORDS = 3
RELOAD_CHECK_SECONDS = 60.0
"""How often a process looks for a model retrained by another process."""

URGENT_REASON_WORDS = {
    "failed_payment": "failed payment",
    "account_security": "account security",
    "fraud": "fraud",
}
"""Urgent topics in the words the priority breakdown shows."""


# ---------------------------------------------------------------- the process's model


class _Models:
    """The process-wide category classifier and which corrections it has learnt."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.classifier: CategoryClassifier | None = None
        self.generation = 0
        """The highest correction id the loaded model was trained with."""
        self.checked_at = 0.0
        self.warming: threading.Thread | None = None
        """The background loading started by the server or worker, if any."""
        self.ready = threading.Event()


_models = _Models()


def model_dir(settings: Settings) -> Path:
    return settings.ai_model_dir or settings.data_dir / "ai"


def get_classifier(settings: Settings | None = None) -> CategoryClassifier:
    """The process's classifier, created on first use (it trains or loads lazily)."""
    with _models.lock:
        if _models.classifier is None:
            settings = settings or get_settings()
            _models.classifier = CategoryClassifier(cache_dir=model_dir(settings))
        return _models.classifier


def use_classifier(classifier: CategoryClassifier | None) -> None:
    """Install a classifier for this process (tests, benchmarks); None: the default."""
    with _models.lock:
        _models.classifier = classifier
        _models.generation = 0
        _models.checked_at = 0.0


def _maybe_reload(db: Session, classifier: CategoryClassifier) -> None:
    """Pick up a model another process retrained (checked once a minute)."""
    if time.monotonic() - _models.checked_at < RELOAD_CHECK_SECONDS:
        return
    _models.checked_at = time.monotonic()
    newest = db.scalar(
        select(func.max(AiCorrection.id)).where(AiCorrection.trained_at.is_not(None))
    )
    if newest is None or newest <= _models.generation:
        return
    classifier.learn_from_corrections(_trained_labels(db))
    _models.generation = newest


def _trained_labels(db: Session) -> list[LabelledMessage]:
    rows = db.execute(
        select(AiCorrection.text, AiCorrection.corrected_category)
        .where(AiCorrection.trained_at.is_not(None))
        .order_by(AiCorrection.id)
    )
    return [LabelledMessage(text, category) for text, category in rows]


# ---------------------------------------------------------------- analysis


@dataclass(frozen=True, slots=True)
class Analysis:
    """What AI assist makes of the customer's recent words."""

    category: CategoryPrediction
    language: LanguageGuess
    frustration: FrustrationScore
    register: RegisterEstimate


def analyse(
    texts: Sequence[str], *, subject: str = "", classifier: CategoryClassifier | None = None
) -> Analysis:
    """Category from the subject and all recent words, frustration with the latest
    message weighing most, language and register of what the customer wrote."""
    return analyse_many([(texts, subject)], classifier=classifier)[0]


@dataclass(frozen=True, slots=True)
class Settled:
    """What an earlier analysis settled for a conversation: its language and a
    category hint to keep unless the rules see something new."""

    language: str | None
    category: CategoryPrediction | None


def analyse_many(
    conversations: Sequence[tuple[Sequence[str], str]],
    *,
    classifier: CategoryClassifier | None = None,
    settled: Sequence[Settled | None] | None = None,
) -> list[Analysis]:
    """`analyse` for several conversations' (texts, subject) at once: the category
    model's fixed cost per call is most of a short text's, so one call serves all.

    With `settled` for a conversation, its known language stands unless the latest
    message is reliably in another one (only that message is read), and its kept
    category hint stands in for the model (the urgent-topic and keyword rules still
    read all the words): that is most of the work for a chat under way."""
    model = classifier or get_classifier()
    known = list(settled) if settled is not None else [None] * len(conversations)
    written = ["\n".join(texts)[-MAX_ANALYSED_CHARS:] for texts, _ in conversations]
    about = [
        "\n".join(part for part in (subject, words) if part)
        for (_, subject), words in zip(conversations, written, strict=True)
    ]
    categories = model.classify_many(
        about, keep=[item.category if item is not None else None for item in known]
    )
    analyses = []
    for (texts, _), words, category, earlier in zip(
        conversations, written, categories, known, strict=True
    ):
        language = _language(texts, words, earlier)
        language_code = language.language if language.reliable else None
        analyses.append(
            Analysis(
                category=category,
                language=language,
                frustration=score_conversation(list(texts), language_code),
                register=estimate_register(words, language_code),
            )
        )
    return analyses


def _language(texts: Sequence[str], words: str, earlier: Settled | None) -> LanguageGuess:
    if earlier is None or earlier.language is None or not texts:
        return detect_language(words)
    latest = detect_language(texts[-1][-MAX_ANALYSED_CHARS:])
    if latest.reliable and latest.language != earlier.language:
        return latest
    return LanguageGuess(earlier.language, 1.0)


def customer_texts(db: Session, conversation_id: int, limit: int = RECENT_MESSAGES) -> list[str]:
    """The customer's latest messages, oldest first."""
    bodies = db.scalars(
        select(Message.body)
        .where(
            Message.conversation_id == conversation_id,
            Message.author_type == AuthorType.CONTACT.value,
            Message.kind == MessageKind.REPLY.value,
        )
        .order_by(Message.seq.desc())
        .limit(limit)
    )
    return list(reversed(list(bodies)))


def ai_payload(conversation: Conversation) -> dict[str, Any]:
    """The AI fields of a conversation, JSON-ready (the badge, the category hint)."""
    frustration = conversation.frustration
    return {
        "category": conversation.ai_category,
        "category_confidence": conversation.ai_category_confidence,
        "category_source": conversation.ai_category_source,
        "urgent_reasons": list(conversation.ai_urgent_reasons or []),
        "language": conversation.ai_language,
        "frustration": frustration,
        "frustration_level": level_of(frustration),
        "frustration_reasons": list(conversation.frustration_reasons or []),
        "tone_register": conversation.tone_register,
        "bot_active": conversation.bot_active,
    }


def _digest(texts: Sequence[str], subject: str) -> str:
    return hashlib.sha256("\x1f".join([subject, *texts]).encode()).hexdigest()[:32]


@dataclass(slots=True)
class _Applied:
    activities: list[Activity]
    routing_changed: bool
    visible: bool
    """Something agents see changed (an event is sent only then)."""


def _apply(
    db: Session,
    conversation: Conversation,
    analysis: Analysis,
    *,
    words: int,
    urgent_categories: frozenset[str],
    now: datetime,
) -> _Applied:
    """Store the analysis; set what nobody chose (category, language), raise urgency
    (unless the conversation's category already counts as urgent in the score)."""
    activities: list[Activity] = []
    changed = False
    level_before = ai_payload(conversation)["frustration_level"]
    prediction = analysis.category
    confident = prediction.source != "model" or prediction.confidence >= MIN_MODEL_CONFIDENCE
    # An unsure guess never replaces a hint already shown: on vague words it would
    # flip between categories with every line.
    if confident or conversation.ai_category is None:
        conversation.ai_category = prediction.category
        conversation.ai_category_confidence = round(prediction.confidence, 4)
        conversation.ai_category_source = prediction.source
        conversation.ai_urgent_reasons = list(prediction.urgency_reasons)
    if conversation.category is None and confident:
        activities.append(
            record_activity(
                db,
                conversation,
                ActivityKind.CATEGORY_CHANGED,
                now=now,
                actor_type="system",
                data={
                    "from": None,
                    "to": prediction.category,
                    "source": "ai",
                    "confidence": round(prediction.confidence, 2),
                    "evidence": prediction.evidence,
                },
            )
        )
        conversation.category = prediction.category
        changed = True
    if (
        prediction.urgent
        and conversation.urgent_reason is None
        and conversation.category not in urgent_categories
    ):
        reason = URGENT_REASON_WORDS.get(prediction.urgency_reasons[0], "urgent topic")
        conversation.urgent_reason = reason
        changed = True
        # Only the default priority is raised: one chosen by a person or a rule stays.
        if conversation.priority == Priority.NORMAL.value:
            activities.append(
                record_activity(
                    db,
                    conversation,
                    ActivityKind.PRIORITY_CHANGED,
                    now=now,
                    actor_type="system",
                    data={
                        "from": conversation.priority,
                        "to": Priority.URGENT.value,
                        "source": "ai",
                        "reason": reason,
                    },
                )
            )
            conversation.priority = Priority.URGENT.value
    guess = analysis.language
    if guess.reliable and guess.language is not None:
        conversation.ai_language = guess.language
        if words >= MIN_LANGUAGE_WORDS and conversation.language != guess.language:
            conversation.language = guess.language
            changed = True
    frustration = analysis.frustration
    before = conversation.frustration or 0.0
    conversation.frustration = frustration.score
    conversation.frustration_reasons = [
        {"kind": reason.kind, "evidence": reason.evidence} for reason in frustration.reasons
    ]
    if abs(before - frustration.score) >= 0.01:
        changed = True
    conversation.tone_register = analysis.register.register
    visible = changed or ai_payload(conversation)["frustration_level"] != level_before
    return _Applied(activities, changed, visible)


# ---------------------------------------------------------------- the message hook


def after_customer_message(
    db: Session,
    conversation_id: int,
    *,
    text: str,
    now: datetime,
    analysed_before: tuple[str, Analysis] | None = None,
) -> None:
    """Analyse the conversation after the customer's committed message; then the
    FAQ bot answers if it handles the conversation. Never raises: a failure is
    logged and the message stays as it is. `analysed_before` (a digest of the texts
    and their analysis) saves analysing the same words twice."""
    settings = get_settings()
    if not settings.ai_enabled:
        return
    if models_loading():
        # The server started moments ago: a message never waits for models to load.
        log.info("AI models still loading; conversation %s is analysed later", conversation_id)
        return
    try:
        analysed = _analyse_and_store(
            db,
            conversation_id,
            text=text,
            now=now,
            settings=settings,
            analysed_before=analysed_before,
        )
    except Exception:
        db.rollback()
        log.exception("AI assist failed for conversation %s; the message is kept", conversation_id)
        return
    if not analysed:
        return
    from helpline.services import bot  # the bot answers with what was just stored

    try:
        bot.after_customer_message(db, conversation_id, text=text, now=now)
    except Exception:
        db.rollback()
        log.exception("the FAQ bot failed for conversation %s; handing over", conversation_id)
        try:
            bot.do_hand_over(db, conversation_id, reason="bot_error", now=now)
        except Exception:
            db.rollback()
            log.exception("hand-over after a bot failure failed for %s", conversation_id)


def _analyse_and_store(
    db: Session,
    conversation_id: int,
    *,
    text: str,
    now: datetime,
    settings: Settings,
    analysed_before: tuple[str, Analysis] | None = None,
) -> bool:
    """One transaction: lock, analyse, store, rules/SLA/score, event, commit, route.
    Returns whether the FAQ bot should answer (it handles the conversation and
    there was something new to analyse)."""
    if len(text.strip()) < MIN_TEXT_CHARS:
        return False
    classifier = get_classifier(settings)
    _maybe_reload(db, classifier)
    conversation = lock_conversation(db, conversation_id)
    if conversation is None:
        db.rollback()
        return False
    from helpline.services import bot

    if not conversation.bot_active and bot.should_engage(db, conversation):
        conversation.bot_active = True  # before any routing below: the bot answers first
    texts = customer_texts(db, conversation.id)
    digest = _digest(texts, conversation.subject or "")
    if conversation.ai_text_hash == digest:
        db.commit()
        return False
    if analysed_before is not None and analysed_before[0] == digest:
        analysis = analysed_before[1]
    else:
        analysis = analyse(texts, subject=conversation.subject or "", classifier=classifier)
    routed = store_analysis(
        db,
        conversation,
        analysis,
        digest=digest,
        words=len(" ".join(texts).split()),
        settings=settings,
        now=now,
    )
    bot_active = conversation.bot_active
    db.commit()
    from helpline.services import routing_hooks  # it imports conversations

    routing_hooks.route_after(db, routed, now=now)
    return bot_active


def store_analysis(
    db: Session,
    conversation: Conversation,
    analysis: Analysis,
    *,
    digest: str,
    words: int,
    settings: Settings,
    now: datetime,
) -> RouteAfter | None:
    """Store an analysis of the texts `digest` names on the locked conversation:
    fields, activities, routing hooks and the update event (the caller commits and
    then routes what this returns)."""
    from helpline.services import routing, routing_hooks  # they import conversations

    conversation.ai_text_hash = digest
    urgent_categories: frozenset[str] = (
        routing.load_setup(db, settings).base.weights.urgent_categories
        if analysis.category.urgent
        else frozenset()
    )
    applied = _apply(
        db, conversation, analysis, words=words, urgent_categories=urgent_categories, now=now
    )
    routed = None
    activities = list(applied.activities)
    if applied.routing_changed:
        routed = routing_hooks.on_conversation_updated(db, conversation, now=now)
        activities.extend(routed.activities)
    if applied.visible or activities:
        _queue_ai_event(db, conversation, activities)
    return routed


def _queue_ai_event(db: Session, conversation: Conversation, activities: list[Activity]) -> None:
    from helpline.services.conversations import activity_payload, conversation_payload

    db.flush()
    queue_event(
        db,
        LiveEvent(
            type="conversation.updated",
            payload={
                "conversation": conversation_payload(conversation),
                "activities": [activity_payload(activity) for activity in activities],
                "ai": ai_payload(conversation),
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=conversation.last_seq,
        ),
    )


# ---------------------------------------------------------------- corrections


MAX_LABEL_CHARS = 2000


def label_text(db: Session, conversation: Conversation) -> str:
    """The words a category label is about: the subject and the customer's first messages."""
    bodies = db.scalars(
        select(Message.body)
        .where(
            Message.conversation_id == conversation.id,
            Message.author_type == AuthorType.CONTACT.value,
            Message.kind == MessageKind.REPLY.value,
        )
        .order_by(Message.seq)
        .limit(3)
    )
    parts = [conversation.subject or "", *bodies]
    return "\n".join(part for part in parts if part.strip())[:MAX_LABEL_CHARS]


def record_correction(
    db: Session,
    conversation: Conversation,
    *,
    category: str,
    user_id: int | None,
    now: datetime,
) -> AiCorrection | None:
    """An agent chose `category`: keep it as a training label (inside the caller's
    transaction). Nothing is kept for a conversation without customer words."""
    text = label_text(db, conversation)
    if not text.strip():
        return None
    correction = AiCorrection(
        conversation_id=conversation.id,
        text=text,
        predicted_category=conversation.ai_category,
        corrected_category=category,
        user_id=user_id,
        created_at=now,
    )
    db.add(correction)
    return correction


@dataclass(frozen=True, slots=True)
class RetrainReport:
    labels: int
    """All corrections the new model learnt from."""
    new_labels: int
    """Corrections no model had learnt before."""
    seconds: float


def do_retrain(
    db: Session, *, now: datetime, classifier: CategoryClassifier | None = None
) -> RetrainReport:
    """Retrain the category model on the starter data plus every correction, mark the
    new ones trained and commit. The process's classifier swaps the new model in."""
    model = classifier or get_classifier()
    started = time.perf_counter()
    rows = db.execute(
        select(AiCorrection.id, AiCorrection.text, AiCorrection.corrected_category).order_by(
            AiCorrection.id
        )
    ).all()
    model.learn_from_corrections([LabelledMessage(text, category) for _, text, category in rows])
    result = db.execute(
        update(AiCorrection).where(AiCorrection.trained_at.is_(None)).values(trained_at=now)
    )
    db.commit()
    if rows and model is _models.classifier:
        _models.generation = max(row_id for row_id, _, _ in rows)
    new_labels = int(getattr(result, "rowcount", 0) or 0)
    return RetrainReport(
        labels=len(rows), new_labels=new_labels, seconds=time.perf_counter() - started
    )


def retrain_job(db: Session, *, now: datetime, settings: Settings) -> int:
    """The scheduled retraining: when enough new labels have come in and the last
    retraining is old enough. Returns how many new labels were learnt."""
    if not settings.ai_enabled:
        return 0
    new = db.scalar(select(func.count(AiCorrection.id)).where(AiCorrection.trained_at.is_(None)))
    last = db.scalar(select(func.max(AiCorrection.trained_at)))
    db.commit()  # end the read: SQLite holds the write lock for any transaction
    if not new or new < settings.ai_retrain_min_new_labels:
        return 0
    if last is not None and now - last < timedelta(hours=settings.ai_retrain_interval_hours):
        return 0
    report = do_retrain(db, now=now)
    log.info("category model retrained on %s labels (%s new)", report.labels, report.new_labels)
    return report.new_labels


# ---------------------------------------------------------------- accuracy for admins


@dataclass(frozen=True, slots=True)
class CategoryAccuracy:
    category: str
    predicted: int
    """Conversations the classifier put in this category."""
    correct: int
    """... of which no agent moved it elsewhere."""
    corrected_to: int
    """Conversations agents moved into this category from another prediction."""

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        actual = self.correct + self.corrected_to
        return self.correct / actual if actual else None


@dataclass(frozen=True, slots=True)
class AccuracyOverview:
    predicted: int
    correct: int
    corrections: int
    untrained_corrections: int
    last_trained_at: datetime | None
    per_category: list[CategoryAccuracy]

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None


def category_accuracy(db: Session, viewer: Viewer) -> AccuracyOverview:
    """How often agents kept the classifier's category, per category: a conversation
    counts as correct unless an agent changed its category away from the prediction."""
    if not viewer.is_admin:
        raise PermissionDenied("only admins see the classifier's accuracy")
    first_correction = (
        select(
            AiCorrection.conversation_id,
            func.min(AiCorrection.id).label("first_id"),
        )
        .group_by(AiCorrection.conversation_id)
        .subquery()
    )
    corrected = dict(
        db.execute(
            select(AiCorrection.conversation_id, AiCorrection.predicted_category).join(
                first_correction, AiCorrection.id == first_correction.c.first_id
            )
        ).all()
    )
    last_correction = (
        select(AiCorrection.conversation_id, func.max(AiCorrection.id).label("last_id"))
        .group_by(AiCorrection.conversation_id)
        .subquery()
    )
    final = dict(
        db.execute(
            select(AiCorrection.conversation_id, AiCorrection.corrected_category).join(
                last_correction, AiCorrection.id == last_correction.c.last_id
            )
        ).all()
    )
    predicted: dict[str, int] = {}
    correct: dict[str, int] = {}
    corrected_to: dict[str, int] = {}
    rows = db.execute(
        select(Conversation.id, Conversation.ai_category).where(
            Conversation.ai_category.is_not(None)
        )
    )
    for conversation_id, ai_category in rows:
        guess: str = corrected.get(conversation_id) or ai_category or ""
        truth: str = final.get(conversation_id) or guess
        predicted[guess] = predicted.get(guess, 0) + 1
        if truth == guess:
            correct[guess] = correct.get(guess, 0) + 1
        else:
            corrected_to[truth] = corrected_to.get(truth, 0) + 1
    categories = sorted(set(predicted) | set(corrected_to))
    per_category = [
        CategoryAccuracy(
            category=name,
            predicted=predicted.get(name, 0),
            correct=correct.get(name, 0),
            corrected_to=corrected_to.get(name, 0),
        )
        for name in categories
    ]
    untrained = db.scalar(
        select(func.count(AiCorrection.id)).where(AiCorrection.trained_at.is_(None))
    )
    return AccuracyOverview(
        predicted=sum(predicted.values()),
        correct=sum(correct.values()),
        corrections=int(db.scalar(select(func.count(AiCorrection.id))) or 0),
        untrained_corrections=int(untrained or 0),
        last_trained_at=db.scalar(select(func.max(AiCorrection.trained_at))),
        per_category=per_category,
    )


def warm_up(settings: Settings) -> None:
    """Load the language detector and train or load the category model (a few
    seconds), so the first customer message is analysed at full speed."""
    if not settings.ai_enabled:
        return
    try:
        get_classifier(settings).classify("warm up")
        detect_language("warm up the language detector")
    except Exception:
        log.exception("loading the AI models failed; they load at first use instead")


# ---------------------------------------------------------------- handover summaries


SUMMARY_PROMPT = (
    "Summarise this support conversation for the colleague who takes it over: the "
    "customer's problem, references (order numbers, amounts), what was tried, and what "
    "is still open. At most four short sentences, in English."
)


def _summary_lines(db: Session, conversation_id: int) -> list[TranscriptLine]:
    rows = db.execute(
        select(Message.author_type, Message.body)
        .where(Message.conversation_id == conversation_id, Message.kind == MessageKind.REPLY.value)
        .order_by(Message.seq)
    )
    lines = []
    for author, body in rows:
        if author == AuthorType.CONTACT.value:
            lines.append(TranscriptLine("contact", body))
        elif author in (AuthorType.AGENT.value, AuthorType.BOT.value):
            lines.append(TranscriptLine(author, body))  # type: ignore[arg-type]
    return lines


def after_handover(
    db: Session, activity_ids: Sequence[int], *, now: datetime, llm: LlmClient | None = None
) -> None:
    """Attach a summary to committed transfer / escalation activities, so the next
    agent reads what happened: extractive by default, the LLM's when one is
    configured (its failures fall back with a warning). Never raises."""
    for activity_id in activity_ids:
        try:
            _summarise_activity(db, activity_id, now=now, llm=llm)
        except Exception:
            db.rollback()
            log.exception("summarising activity %s failed; it stays without one", activity_id)


def _summarise_activity(
    db: Session, activity_id: int, *, now: datetime, llm: LlmClient | None
) -> None:
    activity = db.get(Activity, activity_id)
    if activity is None or (activity.data or {}).get("summary"):
        db.commit()
        return
    conversation_id = activity.conversation_id
    lines = _summary_lines(db, conversation_id)
    db.commit()  # no transaction (on SQLite: no write lock) during a slow LLM call
    if not any(line.author == "contact" for line in lines):
        return
    extractive = summarise(lines).text
    from helpline.services.ai_suggestions import llm_client

    client = llm if llm is not None else llm_client(get_settings())
    transcript = "\n".join(f"{line.author}: {line.text}" for line in lines[-30:])
    text, drafted = complete_or_fallback(
        client,
        [ChatMessage("system", SUMMARY_PROMPT), ChatMessage("user", transcript[-8000:])],
        lambda: extractive,
        purpose="summary",
        max_tokens=300,
    )
    if llm is None and isinstance(client, OpenAICompatibleClient):
        client.close()
    conversation = lock_conversation(db, conversation_id)
    activity = db.get(Activity, activity_id)
    if conversation is None or activity is None:
        db.rollback()
        return
    activity.data = {
        **(activity.data or {}),
        "summary": text,
        "summary_source": "llm" if drafted else "extractive",
    }
    from helpline.services.conversations import activity_payload, conversation_payload

    db.flush()
    queue_event(
        db,
        LiveEvent(
            type="conversation.updated",
            payload={
                "conversation": conversation_payload(conversation),
                "activities": [activity_payload(activity)],
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=conversation.last_seq,
        ),
    )
    db.commit()


def start_background_warm_up(settings: Settings) -> None:
    """Load the models in a daemon thread (once per process) when a server or worker
    starts; until they are ready, customer messages are not analysed rather than
    kept waiting."""
    if not settings.ai_enabled:
        return
    with _models.lock:
        if _models.warming is not None:
            return
        thread = threading.Thread(
            target=_warm_then_ready, args=(settings,), name="helpline-ai-warm-up", daemon=True
        )
        _models.warming = thread
    thread.start()


def _warm_then_ready(settings: Settings) -> None:
    try:
        warm_up(settings)
    finally:
        _models.ready.set()


def models_loading() -> bool:
    """True while a background warm-up is still loading the models."""
    return _models.warming is not None and not _models.ready.is_set()
