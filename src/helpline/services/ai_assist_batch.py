"""AI assist for a burst of chat messages: read and analyse them together, write
only where the analysis changes something.

The live chat path hands over every conversation a customer wrote in since the last
pass (`chat_messages.FollowUp`). Analysing them one by one cost a locked
transaction, a model call and a commit each, which under load was most of the
server's time. Here one read (no lock) fetches the conversations and their latest
customer words, one model call classifies them all, and the analysis is compared
with what is stored: a conversation whose stored AI fields, routing and bot would
not change is left alone (nothing written); the others go through
`ai_assist.after_customer_message` with the analysis already made, which locks,
re-checks and stores as before.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.base import table_of
from helpline.adapters.db.engine import is_postgres
from helpline.adapters.db.models import Conversation, Inbox, Message
from helpline.ai.categories import CATEGORY_SOURCES, CategoryPrediction
from helpline.domain.enums import AuthorType, Channel, ConversationStatus, MessageKind
from helpline.services import ai_assist, config_cache
from helpline.settings import Settings, get_settings

log = logging.getLogger(__name__)

BATCH = 200
"""Conversations read and classified together at most."""
STORE_CHUNK = 25
"""Analyses stored per transaction at most (on SQLite the writer lock is held that
long: chat messages wait for it)."""

CONFIDENCE_TOLERANCE = 0.1
"""The category hint staying the same while its confidence moves less than this is
not worth a write (and an update event to every agent): each new line nudges it."""
FRUSTRATION_TOLERANCE = 0.01
"""The same for frustration (routing ignores smaller moves too)."""

STORED_FIELDS = (
    "ai_category",
    "ai_category_source",
    "ai_urgent_reasons",
    "category",
    "urgent_reason",
    "priority",
    "ai_language",
    "language",
    "frustration_reasons",
    "tone_register",
)
"""What `ai_assist._apply` may set, besides the two scores compared with tolerance."""

READ_COLUMNS = (
    "id",
    "subject",
    "inbox_id",
    "channel",
    "status",
    "assignee_id",
    "bot_active",
    "ai_text_hash",
    "ai_category_confidence",
    "frustration",
    "last_seq",
    *STORED_FIELDS,
)


class _WouldWrite(Exception):
    """`_apply` tried to record an activity: the analysis changes something."""


class _NoSession:
    """Stands in for the session while `_apply` runs on a copy of the row."""

    def __getattr__(self, name: str) -> Any:
        raise _WouldWrite(name)


@dataclass(frozen=True, slots=True)
class Pending:
    """A conversation the screen could not settle on its own."""

    conversation_id: int
    analysed: tuple[str, ai_assist.Analysis] | None
    """The digest of the texts read and their analysis (None: analyse again)."""
    words: int = 0
    seen_seq: int | None = None
    """The sequence number of the customer's latest reply, and the conversation's AI
    text hash, when screened: if either moved before the store (the customer wrote
    again, or another process stored an analysis), the conversation is analysed
    again on its own. Agents' messages and other changes do not matter: the
    analysis reads only the customer's words, and it is applied to the row as
    locked then."""
    seen_hash: str | None = None
    bot: bool = False
    """The FAQ bot may answer: the one-by-one path, which lets it."""


def _recent_texts_statement(postgres: bool) -> Any:
    """Each conversation's latest customer replies (oldest first per conversation):
    a LATERAL subquery on PostgreSQL; on SQLite the same walk of the (conversation,
    seq) index from a correlated floor."""
    conversations = table_of(Conversation)
    messages = table_of(Message)
    is_customer_reply = and_(
        messages.c.author_type == AuthorType.CONTACT.value,
        messages.c.kind == MessageKind.REPLY.value,
    )
    ids = conversations.c.id.in_(bindparam("ids", expanding=True))
    if postgres:
        latest = (
            select(messages.c.seq, messages.c.body)
            .where(messages.c.conversation_id == conversations.c.id, is_customer_reply)
            .order_by(messages.c.seq.desc())
            .limit(ai_assist.RECENT_MESSAGES)
            .lateral()
        )
        return (
            select(conversations.c.id, latest.c.body, latest.c.seq)
            .select_from(conversations.join(latest, latest.c.seq.is_not(None)))
            .where(ids)
            .order_by(conversations.c.id, latest.c.seq)
        )
    floor = func.coalesce(
        _nth_latest_customer_seq(messages.alias("earlier"), ai_assist.RECENT_MESSAGES), 0
    )
    return (
        select(conversations.c.id, messages.c.body, messages.c.seq)
        .select_from(
            conversations.join(
                messages,
                and_(messages.c.conversation_id == conversations.c.id, messages.c.seq >= floor),
            )
        )
        .where(ids, is_customer_reply)
        .order_by(conversations.c.id, messages.c.seq)
    )


@functools.cache
def _statements(postgres: bool) -> tuple[Any, Any]:
    """Built once per dialect: the conversations' rows and their recent texts."""
    conversations = table_of(Conversation)
    rows = select(*(conversations.c[name] for name in READ_COLUMNS)).where(
        conversations.c.id.in_(bindparam("ids", expanding=True))
    )
    return rows, _recent_texts_statement(postgres)


def _bot_inboxes(db: Session) -> frozenset[int]:
    """The inboxes whose FAQ bot is on (configuration: cached per version)."""
    from helpline.services import bot

    return config_cache.cached(
        db,
        "ai_assist_batch.bot_inboxes",
        lambda: frozenset(
            inbox.id for inbox in db.scalars(select(Inbox)) if bot.bot_enabled(inbox)
        ),
    )


def _settled(row: Mapping[str, Any]) -> ai_assist.Settled | None:
    """What an earlier analysis settled: the language it found, and the category
    hint once the conversation has a category and the hint was confident."""
    hint = None
    source = row["ai_category_source"]
    confidence = row["ai_category_confidence"] or 0.0
    if (
        row["category"] is not None
        and row["ai_category"] is not None
        and source in CATEGORY_SOURCES
        and (source != "model" or confidence >= ai_assist.MIN_MODEL_CONFIDENCE)
    ):
        reasons = tuple(row["ai_urgent_reasons"] or ())
        hint = CategoryPrediction(row["ai_category"], confidence, bool(reasons), reasons, source)
    if hint is None and row["ai_language"] is None:
        return None
    return ai_assist.Settled(language=row["ai_language"], category=hint)


def _bot_may_act(row: Mapping[str, Any], bot_inboxes: frozenset[int]) -> bool:
    """The FAQ bot handles the conversation or may start on it (`bot._engage`'s
    cheap conditions; the full path checks the rest)."""
    return bool(row["bot_active"]) or (
        row["inbox_id"] in bot_inboxes
        and row["channel"] == Channel.CHAT.value
        and row["assignee_id"] is None
        and row["status"] == ConversationStatus.OPEN.value
    )


def _same(before: Any, after: Any, tolerance: float) -> bool:
    if before is None or after is None:
        return before is after
    return bool(abs(float(before) - float(after)) < tolerance)


def _changes_something(
    row: Mapping[str, Any],
    analysis: ai_assist.Analysis,
    *,
    words: int,
    urgent_categories: frozenset[str],
    now: datetime,
) -> bool:
    """Whether storing this analysis would change a stored field, the routing or
    what agents see: `ai_assist._apply` runs on a copy of the row."""
    work = SimpleNamespace(**row)
    try:
        applied = ai_assist._apply(
            cast(Session, _NoSession()),
            cast(Conversation, work),
            analysis,
            words=words,
            urgent_categories=urgent_categories,
            now=now,
        )
    except Exception:  # an activity to record (`_WouldWrite`), or anything else
        return True
    if applied.routing_changed or applied.visible or applied.activities:
        return True
    if any(row[name] != getattr(work, name) for name in STORED_FIELDS):
        return True
    return not (
        _same(row["ai_category_confidence"], work.ai_category_confidence, CONFIDENCE_TOLERANCE)
        and _same(row["frustration"], work.frustration, FRUSTRATION_TOLERANCE)
    )


def screen(db: Session, texts: Mapping[int, str], *, now: datetime) -> list[Pending]:
    """Analyse these conversations (id → the customer's latest words) together and
    return those that need `ai_assist.after_customer_message`, oldest id first.
    Only reads; ends the session's transaction before analysing."""
    wanted = sorted(
        cid for cid, text in texts.items() if len(text.strip()) >= ai_assist.MIN_TEXT_CHARS
    )
    pending: list[Pending] = []
    for first in range(0, len(wanted), BATCH):
        pending += _screen_batch(db, wanted[first : first + BATCH], now=now)
    return pending


def _screen_batch(db: Session, wanted: Sequence[int], *, now: datetime) -> list[Pending]:
    from helpline.services import routing

    settings = get_settings()
    classifier = ai_assist.get_classifier(settings)
    ai_assist._maybe_reload(db, classifier)
    urgent_categories = routing.load_setup(db, settings).base.weights.urgent_categories
    rows_statement, texts_statement = _statements(is_postgres(db))
    connection = db.connection()
    rows = {
        row.id: dict(row._mapping) for row in connection.execute(rows_statement, {"ids": wanted})
    }
    recent: dict[int, list[str]] = {}
    latest_seq: dict[int, int] = {}
    for conversation_id, body, seq in connection.execute(texts_statement, {"ids": wanted}):
        recent.setdefault(conversation_id, []).append(body)
        latest_seq[conversation_id] = seq  # ordered by seq: the last one wins
    bot_inboxes = _bot_inboxes(db)
    db.rollback()

    pending: list[Pending] = []
    to_analyse: list[tuple[int, str, list[str]]] = []
    for conversation_id in wanted:
        row = rows.get(conversation_id)
        if row is None:
            continue
        words_of = recent.get(conversation_id, [])
        digest = ai_assist._digest(words_of, row["subject"] or "")
        if row["ai_text_hash"] != digest:
            to_analyse.append((conversation_id, digest, words_of))
        elif _bot_may_act(row, bot_inboxes):  # analysed, but the bot has a new message
            pending.append(Pending(conversation_id, None))
    analyses = ai_assist.analyse_many(
        [(words_of, rows[cid]["subject"] or "") for cid, _, words_of in to_analyse],
        classifier=classifier,
        settled=[_settled(rows[cid]) for cid, _, _ in to_analyse],
    )
    for (conversation_id, digest, words_of), analysis in zip(to_analyse, analyses, strict=True):
        row = rows[conversation_id]
        words = len(" ".join(words_of).split())
        bot = _bot_may_act(row, bot_inboxes)
        if bot or _changes_something(
            row,
            analysis,
            words=words,
            urgent_categories=urgent_categories if analysis.category.urgent else frozenset(),
            now=now,
        ):
            pending.append(
                Pending(
                    conversation_id,
                    (digest, analysis),
                    words=words,
                    seen_seq=latest_seq.get(conversation_id),
                    seen_hash=row["ai_text_hash"],
                    bot=bot,
                )
            )
    return sorted(pending, key=lambda item: item.conversation_id)


def screen_safely(db: Session, texts: Mapping[int, str], *, now: datetime) -> list[Pending]:
    """`screen` that never raises: on a failure every conversation takes the full
    path (which logs its own failures)."""
    if not get_settings().ai_enabled or ai_assist.models_loading():
        return [Pending(cid, None) for cid in sorted(texts)]
    try:
        return screen(db, texts, now=now)
    except Exception:
        db.rollback()
        log.exception("AI assist screening failed; analysing one by one")
        return [Pending(cid, None) for cid in sorted(texts)]


def store(
    db: Session, pending: Sequence[Pending], texts: Mapping[int, str], *, now: datetime
) -> None:
    """Store what the screen could not settle: analyses of conversations nothing
    happened in since, several per transaction; the rest (the bot's, and those that
    moved on) one by one through `ai_assist.after_customer_message`. Never raises."""
    settings = get_settings()
    alone = [item for item in pending if item.analysed is None or item.bot]
    together = [item for item in pending if item.analysed is not None and not item.bot]
    for first in range(0, len(together), STORE_CHUNK):
        chunk = together[first : first + STORE_CHUNK]
        try:
            alone += _store_together(db, chunk, now=now, settings=settings)
        except Exception:
            db.rollback()
            log.exception("storing %d AI analyses failed; storing them one by one", len(chunk))
            alone += chunk
    for item in sorted(alone, key=lambda item: item.conversation_id):
        ai_assist.after_customer_message(
            db,
            item.conversation_id,
            text=texts[item.conversation_id],
            now=now,
            analysed_before=item.analysed,
        )


def _store_together(
    db: Session, chunk: Sequence[Pending], *, now: datetime, settings: Settings
) -> list[Pending]:
    """One transaction for the chunk (rows locked in id order, as the chat path
    locks them); returns the conversations that moved on since the screen."""
    from helpline.services import routing_hooks  # it imports conversations

    by_id = {item.conversation_id: item for item in chunk}
    locked = db.execute(
        select(Conversation, _latest_customer_seq())
        .where(Conversation.id.in_(by_id))
        .order_by(Conversation.id)
        .with_for_update(of=Conversation)
        .execution_options(populate_existing=True)
    ).all()
    moved: list[Pending] = []
    routed = []
    for conversation, customer_seq in locked:
        item = by_id[conversation.id]
        if item.analysed is None or (customer_seq, conversation.ai_text_hash) != (
            item.seen_seq,
            item.seen_hash,
        ):
            moved.append(item)
            continue
        digest, analysis = item.analysed
        after = ai_assist.store_analysis(
            db, conversation, analysis, digest=digest, words=item.words, settings=settings, now=now
        )
        if after is not None:
            routed.append(after)
    db.commit()
    for after in routed:
        routing_hooks.route_after(db, after, now=now)
    return moved


def _nth_latest_customer_seq(messages: Any, n: int) -> Any:
    """The sequence number of a conversation's n-th latest customer reply, as a
    scalar subquery correlated to the conversations table (a short walk back along
    the (conversation, seq) index)."""
    conversations = table_of(Conversation)
    return (
        select(messages.c.seq)
        .where(
            messages.c.conversation_id == conversations.c.id,
            messages.c.author_type == AuthorType.CONTACT.value,
            messages.c.kind == MessageKind.REPLY.value,
        )
        .order_by(messages.c.seq.desc())
        .limit(1)
        .offset(n - 1)
        .correlate(conversations)
        .scalar_subquery()
    )


@functools.cache
def _latest_customer_seq() -> Any:
    """The sequence number of a conversation's latest customer reply."""
    return _nth_latest_customer_seq(table_of(Message), 1)


def after_customer_messages(db: Session, texts: Mapping[int, str], *, now: datetime) -> None:
    """AI assist (and the FAQ bot) after these conversations' committed customer
    messages, in one session; never raises."""
    if not texts:
        return
    store(db, screen_safely(db, texts, now=now), texts, now=now)
