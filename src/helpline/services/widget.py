"""What a chat visitor can do: read the inbox's widget settings, start and list
their conversations, send messages, read their history, rate the chat, get a
transcript, leave an offline message — and the visitor's view of events.

The visitor's view is built here once and used by HTTP history and the WebSocket
hub alike: one frame per history entry (sequence number), only replies and
customer-visible activities, never internal notes or internal changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from helpline.adapters.db.counters import next_value
from helpline.adapters.db.models import (
    Activity,
    Contact,
    Conversation,
    ConversationRead,
    Inbox,
    InboxMember,
    Message,
    TeamMember,
    User,
)
from helpline.domain.access import Viewer
from helpline.domain.enums import (
    ActivityKind,
    AgentStatus,
    AuthorType,
    Channel,
    ConversationStatus,
    MessageKind,
    Priority,
    Role,
)
from helpline.domain.sla.calendar import calendar_from_data
from helpline.services import chat_messages, conversations, routing, routing_hooks
from helpline.services.contacts import ContactIdentity, check_email, identify_contact
from helpline.services.errors import NotFound, ValidationFailed
from helpline.services.events import LiveEvent, queue_event
from helpline.services.history import lock_conversation, next_seq, record_activity
from helpline.services.outbox import enqueue_email
from helpline.services.recipients import recipients_for
from helpline.services.visitors import (
    Visitor,
    access_visitor_conversation,
    check_visitor_conversation,
)

LOCALES = ("en", "pl", "it", "el")
HISTORY_PAGE = 500
MAX_CSAT_COMMENT_CHARS = 1000
SUBJECT_CHARS = 80

DEFAULT_TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Hi! How can we help you today?",
        "pl": "Dzień dobry! W czym możemy pomóc?",
        "it": "Ciao! Come possiamo aiutarti oggi?",
        "el": "Γεια σας! Πώς μπορούμε να σας βοηθήσουμε;",  # noqa: RUF001 (Greek)
    },
    "offline_message": {
        "en": "We are away right now. Leave a message and we will answer by email.",
        "pl": "Nie ma nas teraz. Zostaw wiadomość, a odpowiemy e-mailem.",
        "it": "Al momento non siamo disponibili. Lasciaci un messaggio e ti risponderemo "
        "via email.",
        "el": "Δεν είμαστε διαθέσιμοι τώρα. Αφήστε ένα μήνυμα και θα απαντήσουμε με email.",
    },
    "expected_reply": {
        "en": "We usually answer within one business day.",
        "pl": "Zwykle odpowiadamy w ciągu jednego dnia roboczego.",
        "it": "Di solito rispondiamo entro un giorno lavorativo.",
        "el": "Συνήθως απαντάμε μέσα σε μία εργάσιμη ημέρα.",
    },
}

VISIBLE_ACTIVITY_KINDS: frozenset[str] = frozenset(
    {
        ActivityKind.CREATED.value,
        ActivityKind.STATUS_CHANGED.value,
        ActivityKind.SNOOZED.value,
        ActivityKind.REOPENED.value,
        ActivityKind.AUTO_CLOSED.value,
        ActivityKind.ASSIGNED.value,
        ActivityKind.UNASSIGNED.value,
        ActivityKind.TRANSFERRED.value,
    }
)
"""Changes a customer may see; everything else (tags, priority, SLA, escalation,
notes on transfers) is internal and skipped in their history."""


# ---------------------------------------------------------------- settings and config


def localised(value: object, fallback: Mapping[str, str]) -> dict[str, str]:
    """A text in every widget locale: per-locale map, one string, or defaults."""
    if isinstance(value, str) and value.strip():
        return dict.fromkeys(LOCALES, value.strip())
    texts = dict(fallback)
    if isinstance(value, Mapping):
        english = value.get("en")
        for locale in LOCALES:
            given = value.get(locale)
            if isinstance(given, str) and given.strip():
                texts[locale] = given.strip()
            elif isinstance(english, str) and english.strip():
                texts[locale] = english.strip()
    return texts


@dataclass(frozen=True, slots=True)
class Topic:
    label: dict[str, str]
    category: str


def inbox_topics(inbox: Inbox) -> list[Topic]:
    topics = []
    for raw in inbox.settings.get("topics") or []:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("category"), str):
            continue
        try:
            category = conversations.check_category(raw["category"])
        except ValidationFailed:
            continue
        label = raw.get("label")
        topics.append(
            Topic(label=localised(label, dict.fromkeys(LOCALES, category)), category=category)
        )
    return topics


def _flag(inbox: Inbox, key: str, default: bool) -> bool:
    value = inbox.settings.get(key)
    return value if isinstance(value, bool) else default


def within_business_hours(inbox: Inbox, *, now: datetime) -> bool:
    try:
        calendar = calendar_from_data(inbox.settings.get("business_hours") or None)
    except (ValueError, TypeError):
        return True  # a broken calendar must not hide the chat; admins see the error
    if calendar is None:
        return True
    for opens, closes in calendar.intervals_from(now):
        return opens <= now < closes
    return False


def agents_online(db: Session, inbox: Inbox) -> int:
    """Active agents with status online who serve this inbox (member of it, or of
    its default team)."""
    serving = [User.id.in_(select(InboxMember.user_id).where(InboxMember.inbox_id == inbox.id))]
    if inbox.default_team_id is not None:
        serving.append(
            User.id.in_(
                select(TeamMember.user_id).where(TeamMember.team_id == inbox.default_team_id)
            )
        )
    count = db.scalar(
        select(func.count(User.id)).where(
            User.is_active.is_(True), User.status == AgentStatus.ONLINE.value, or_(*serving)
        )
    )
    return int(count or 0)


def widget_config(
    db: Session, inbox: Inbox, *, now: datetime, max_bytes: int, allowed_types: Sequence[str]
) -> dict[str, Any]:
    """Everything the widget needs before the visitor types (no personal data)."""
    online = within_business_hours(inbox, now=now) and agents_online(db, inbox) > 0
    mode = "enforce" if inbox.settings.get("identity_verification") == "enforce" else "optional"
    return {
        "inbox": {"name": inbox.name, "public_key": inbox.public_key},
        "online": online,
        "greeting": localised(inbox.settings.get("greeting"), DEFAULT_TEXTS["greeting"]),
        "offline_message": localised(
            inbox.settings.get("offline_message"), DEFAULT_TEXTS["offline_message"]
        ),
        "expected_reply": localised(
            inbox.settings.get("expected_reply"), DEFAULT_TEXTS["expected_reply"]
        ),
        "prechat": {
            "name": {"required": _flag(inbox, "require_name", True)},
            "email": {"required": _flag(inbox, "require_email", False)},
        },
        "topics": [
            {"label": topic.label, "category": topic.category} for topic in inbox_topics(inbox)
        ],
        "attachments": {"max_bytes": max_bytes, "allowed_types": list(allowed_types)},
        "identity_verification": mode,
        "locales": list(LOCALES),
        "faq_bot": _flag(inbox, "faq_bot", False),  # AI assist: the bot answers first
        "nps": _flag(inbox, "ask_nps", False),  # the rating form also asks the NPS question
    }


# ---------------------------------------------------------------- the visitor's view


def widget_attachment_url(public_key: str, attachment_id: object) -> str:
    return f"/api/v1/widget/{public_key}/attachments/{attachment_id}"


def _visitor_attachments(public_key: str, attachments: Iterable[Any]) -> list[dict[str, Any]]:
    result = []
    for item in attachments:
        if not isinstance(item, Mapping) or "id" not in item:
            continue
        result.append(
            {
                "id": item["id"],
                "name": item.get("name"),
                "size": item.get("size"),
                "mime": item.get("mime"),
                "image": bool(item.get("image")),
                "url": widget_attachment_url(public_key, item["id"]),
            }
        )
    return result


def event_frame(conversation_id: int, seq: int, event: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event", "conversation_id": conversation_id, "seq": seq, "event": event}


def visitor_message_frame(message: Mapping[str, Any], public_key: str) -> dict[str, Any] | None:
    """A message (in `conversations.message_payload` form) as the visitor sees it;
    None for internal notes."""
    if message.get("kind") != MessageKind.REPLY.value:
        return None
    author = str(message.get("author_type") or AuthorType.SYSTEM.value)
    own = author == AuthorType.CONTACT.value
    return event_frame(
        int(message["conversation_id"]),
        int(message["seq"]),
        {
            "type": "message.created",
            "message": {
                "id": message.get("id"),
                "seq": message["seq"],
                "author": author,
                "author_name": message.get("author_name"),
                "body": message.get("body"),
                "attachments": _visitor_attachments(public_key, message.get("attachments") or []),
                "client_message_id": message.get("client_message_id") if own else None,
                "created_at": message.get("created_at"),
            },
        },
    )


def visitor_activity_frame(
    conversation_id: int, activity: Mapping[str, Any]
) -> dict[str, Any] | None:
    """An activity (in `conversations.activity_payload` form) as the visitor sees
    it, derived from the activity alone so live and replayed frames are identical;
    None for internal changes."""
    kind = activity.get("kind")
    if kind not in VISIBLE_ACTIVITY_KINDS:
        return None
    data = activity.get("data") or {}
    event: dict[str, Any] = {"type": "conversation.updated", "change": kind}
    if kind == ActivityKind.CREATED.value:
        event["status"] = ConversationStatus.OPEN.value
    elif kind in (
        ActivityKind.STATUS_CHANGED.value,
        ActivityKind.SNOOZED.value,
        ActivityKind.REOPENED.value,
        ActivityKind.AUTO_CLOSED.value,
    ):
        event["status"] = data.get("to")
    elif kind == ActivityKind.ASSIGNED.value:
        event["assignee_name"] = data.get("to_name")
    elif kind == ActivityKind.UNASSIGNED.value:
        event["assignee_name"] = None
    elif kind == ActivityKind.TRANSFERRED.value:
        event["assignee_name"] = data.get("to_user_name")
    event["created_at"] = activity.get("created_at")
    return event_frame(conversation_id, int(activity["seq"]), event)


@dataclass(frozen=True, slots=True)
class EntryPayload:
    """One history entry in event-payload form (what a live event carries)."""

    seq: int
    message: dict[str, Any] | None = None
    activity: dict[str, Any] | None = None


def live_event_entries(live_event: LiveEvent) -> list[EntryPayload]:
    """The history entries a live event describes (its message and activities)."""
    entries: list[EntryPayload] = []
    payload = live_event.payload
    message = payload.get("message")
    if isinstance(message, Mapping) and isinstance(message.get("seq"), int):
        entries.append(EntryPayload(seq=message["seq"], message=dict(message)))
    for activity in payload.get("activities") or ():
        if isinstance(activity, Mapping) and isinstance(activity.get("seq"), int):
            entries.append(EntryPayload(seq=activity["seq"], activity=dict(activity)))
    entries.sort(key=lambda entry: entry.seq)
    return entries


def visitor_frame(
    conversation_id: int, entry: EntryPayload, public_key: str
) -> dict[str, Any] | None:
    if entry.message is not None:
        return visitor_message_frame(entry.message, public_key)
    if entry.activity is not None:
        return visitor_activity_frame(conversation_id, entry.activity)
    return None


def read_entries(
    db: Session,
    conversation_id: int,
    *,
    after_seq: int,
    upto_seq: int | None = None,
    visible_only: bool,
    limit: int | None = None,
) -> list[EntryPayload]:
    """History entries with after_seq < seq <= upto_seq, in order, in payload form;
    `visible_only` filters to what a visitor may see, in SQL."""
    message_query = (
        select(Message, User.name, Contact.name, Contact.email)
        .outerjoin(User, User.id == Message.author_user_id)
        .outerjoin(Contact, Contact.id == Message.author_contact_id)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq)
    )
    activity_query = (
        select(Activity)
        .where(Activity.conversation_id == conversation_id, Activity.seq > after_seq)
        .order_by(Activity.seq)
    )
    if upto_seq is not None:
        message_query = message_query.where(Message.seq <= upto_seq)
        activity_query = activity_query.where(Activity.seq <= upto_seq)
    if visible_only:
        message_query = message_query.where(Message.kind == MessageKind.REPLY.value)
        activity_query = activity_query.where(Activity.kind.in_(VISIBLE_ACTIVITY_KINDS))
    if limit is not None:
        message_query = message_query.limit(limit)
        activity_query = activity_query.limit(limit)
    entries: list[EntryPayload] = []
    for message, user_name, contact_name, contact_email in db.execute(message_query):
        if message.author_user_id is not None or message.author_type == AuthorType.AGENT.value:
            name = user_name or "Former agent"
        elif message.author_type == AuthorType.CONTACT.value:
            name = contact_name or contact_email or "Customer"
        else:
            name = "Bot" if message.author_type == AuthorType.BOT.value else "System"
        entries.append(
            EntryPayload(seq=message.seq, message=conversations.message_payload(message, name))
        )
    for activity in db.scalars(activity_query):
        entries.append(
            EntryPayload(seq=activity.seq, activity=conversations.activity_payload(activity))
        )
    entries.sort(key=lambda entry: entry.seq)
    return entries[:limit] if limit is not None else entries


@dataclass(frozen=True, slots=True)
class VisitorHistory:
    frames: list[dict[str, Any]]
    last_seq: int
    next_after_seq: int | None


def visitor_history(
    db: Session,
    visitor: Visitor,
    conversation_id: int,
    *,
    public_key: str,
    after_seq: int = 0,
    limit: int = HISTORY_PAGE,
) -> VisitorHistory:
    """The visitor's own conversation's visible history after `after_seq`."""
    conversation = access_visitor_conversation(db, visitor, conversation_id)
    last_seq = conversation.last_seq
    entries = read_entries(
        db,
        conversation.id,
        after_seq=after_seq,
        upto_seq=last_seq,
        visible_only=True,
        limit=limit + 1,
    )
    more = len(entries) > limit
    entries = entries[:limit]
    frames = [
        frame
        for entry in entries
        if (frame := visitor_frame(conversation.id, entry, public_key)) is not None
    ]
    return VisitorHistory(
        frames=frames,
        last_seq=last_seq,
        next_after_seq=entries[-1].seq if more and entries else None,
    )


# ---------------------------------------------------------------- conversations


@dataclass(frozen=True, slots=True)
class QueueEstimate:
    position: int
    expected_wait_seconds: int | None


ROUTING_VIEWER = Viewer(user_id=0, role=Role.ADMIN, team_ids=frozenset(), inbox_ids=frozenset())
"""Reads the whole queue for queue positions; never used to write anything."""


def _from_routing(estimate: routing.QueueEstimate) -> QueueEstimate | None:
    if not estimate.waiting or estimate.position is None:
        return None
    wait = estimate.estimated_wait_seconds
    return QueueEstimate(
        position=estimate.position,
        expected_wait_seconds=round(wait) if wait is not None else None,
    )


def _routing_estimate(
    db: Session, conversation: Conversation, now: datetime
) -> QueueEstimate | None:
    """Routing's own estimate: position among the chats competing for the same
    agents, and the expected wait (None when routing cannot tell)."""
    return _from_routing(routing.queue_position(db, conversation.id, now=now))


def is_waiting(conversation: Conversation) -> bool:
    return (
        conversation.status == ConversationStatus.OPEN.value
        and conversation.assignee_id is None
        and conversation.channel == Channel.CHAT.value
        and not conversation.bot_active  # the FAQ bot answers it first (AI assist)
    )


def queue_estimate(
    db: Session, conversation: Conversation, *, now: datetime
) -> QueueEstimate | None:
    """Where a waiting chat stands: routing's estimate, or else the number of
    waiting chats in the same inbox that came first, with a rough wait."""
    if not is_waiting(conversation):
        return None
    from_routing = _routing_estimate(db, conversation, now)
    if from_routing is not None:
        return from_routing
    return _fallback_estimate(db, conversation)


def _fallback_estimate(db: Session, conversation: Conversation) -> QueueEstimate:
    """Without a routing estimate: the waiting chats in the same inbox that came
    first, and no promise about the wait."""
    ahead = db.scalar(
        select(func.count(Conversation.id)).where(
            Conversation.inbox_id == conversation.inbox_id,
            Conversation.status == ConversationStatus.OPEN.value,
            Conversation.assignee_id.is_(None),
            Conversation.channel == Channel.CHAT.value,
            or_(
                Conversation.created_at < conversation.created_at,
                (Conversation.created_at == conversation.created_at)
                & (Conversation.id < conversation.id),
            ),
        )
    )
    return QueueEstimate(position=int(ahead or 0) + 1, expected_wait_seconds=None)


def queue_estimates(
    db: Session, conversation_ids: Sequence[int], *, now: datetime
) -> dict[int, QueueEstimate | None]:
    """`queue_estimate` for many chats at once (one read of the routing queue)."""
    wanted = set(conversation_ids)
    result: dict[int, QueueEstimate | None] = dict.fromkeys(conversation_ids)
    rows, _count = routing.list_queue(db, ROUTING_VIEWER, now=now, limit=1_000_000)
    for row in rows:
        if row.conversation.id in wanted and is_waiting(row.conversation):
            result[row.conversation.id] = _from_routing(row.estimate)
    missing = [cid for cid in wanted if result.get(cid) is None]
    for conversation in db.scalars(select(Conversation).where(Conversation.id.in_(missing))):
        if is_waiting(conversation):
            result[conversation.id] = _fallback_estimate(db, conversation)
    return result


def _agent_read_seq(db: Session, conversation_id: int) -> int:
    value = db.scalar(
        select(func.max(ConversationRead.last_read_seq)).where(
            ConversationRead.conversation_id == conversation_id,
            ConversationRead.reader_type == "agent",
        )
    )
    return int(value or 0)


def visitor_conversation_view(
    db: Session, conversation: Conversation, *, now: datetime
) -> dict[str, Any]:
    """A conversation as its visitor sees it (no internal fields)."""
    assignee = db.get(User, conversation.assignee_id) if conversation.assignee_id else None
    estimate = queue_estimate(db, conversation, now=now)
    csat = None
    if conversation.csat_score is not None:
        csat = {
            "score": conversation.csat_score,
            "comment": conversation.csat_comment,
            "nps": conversation.nps_score,
        }
    return {
        "id": conversation.id,
        "number": conversation.number,
        "status": conversation.status,
        "category": conversation.category,
        "created_at": conversation.created_at.isoformat(),
        "last_seq": conversation.last_seq,
        "assignee_name": assignee.name if assignee is not None else None,
        "queue": (
            {"position": estimate.position, "expected_wait_seconds": estimate.expected_wait_seconds}
            if estimate is not None
            else None
        ),
        "agent_read_seq": _agent_read_seq(db, conversation.id),
        "csat": csat,
    }


def list_visitor_conversations(
    db: Session, visitor: Visitor, *, limit: int = 50
) -> list[Conversation]:
    return list(
        db.scalars(
            select(Conversation)
            .where(
                Conversation.contact_id == visitor.contact_id,
                Conversation.inbox_id == visitor.inbox_id,
            )
            .order_by(Conversation.created_at.desc(), Conversation.id.desc())
            .limit(limit)
        )
    )


def _subject_from(body: str) -> str:
    first_line = body.strip().splitlines()[0] if body.strip() else ""
    if len(first_line) > SUBJECT_CHARS:
        first_line = first_line[: SUBJECT_CHARS - 1].rstrip() + "…"
    return conversations.check_subject(first_line)


def _topic_category(inbox: Inbox, topic_category: str | None) -> str | None:
    if topic_category is None or not topic_category.strip():
        return None
    category = conversations.check_category(topic_category)
    topics = inbox_topics(inbox)
    if topics and category not in {topic.category for topic in topics}:
        raise ValidationFailed("choose one of the inbox's topics", {"field": "topic_category"})
    return category


def _check_prechat(inbox: Inbox, contact: Contact) -> None:
    if _flag(inbox, "require_name", True) and not contact.name:
        raise ValidationFailed("please tell us your name first", {"field": "name"})
    has_email = bool(contact.email or contact.custom_attributes.get("unverified_email"))
    if _flag(inbox, "require_email", False) and not has_email:
        raise ValidationFailed("please tell us your email address first", {"field": "email"})


def _open_conversation(
    db: Session,
    inbox: Inbox,
    contact: Contact,
    *,
    language: str | None = None,
    channel: Channel,
    body: str,
    category: str | None,
    client_message_id: str | None,
    source: str,
    now: datetime,
) -> tuple[Conversation, routing_hooks.RouteAfter]:
    """Insert a conversation opened by the customer, its `created` activity and
    first message, run routing's creation hook (SLA, score, rules) and queue the
    event; the caller commits, then runs the routing the hook asks for. `language`
    (the widget's) counts when the contact has none of their own."""
    conversation = Conversation(
        number=next_value(db, "conversation"),
        inbox_id=inbox.id,
        channel=channel.value,
        contact_id=contact.id,
        subject=_subject_from(body),
        status=ConversationStatus.OPEN.value,
        priority=Priority.NORMAL.value,
        category=category,
        team_id=inbox.default_team_id,
        language=contact.language or language,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
        waiting_since=now,
        last_seq=0,
        custom_attributes={},
    )
    db.add(conversation)
    db.flush()
    activity = record_activity(
        db,
        conversation,
        ActivityKind.CREATED,
        now=now,
        actor_type=AuthorType.CONTACT.value,
        data={
            "inbox_id": inbox.id,
            "team_id": conversation.team_id,
            "priority": conversation.priority,
            "category": category,
            "tags": [],
            "source": source,
        },
    )
    message = Message(
        conversation_id=conversation.id,
        seq=next_seq(conversation),
        author_type=AuthorType.CONTACT.value,
        author_contact_id=contact.id,
        kind=MessageKind.REPLY.value,
        body=body,
        attachments=[],
        client_message_id=client_message_id,
        created_at=now,
    )
    db.add(message)
    contact.last_seen_at = now
    db.flush()
    routed = routing_hooks.on_conversation_created(db, conversation, text=body, now=now)
    db.flush()
    author = contact.name or contact.email or "Customer"
    queue_event(
        db,
        LiveEvent(
            type="conversation.created",
            payload={
                "conversation": conversations.conversation_payload(conversation),
                "activities": [
                    conversations.activity_payload(item) for item in [activity, *routed.activities]
                ],
                "message": conversations.message_payload(message, author),
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=conversation.last_seq,
            to_contact=True,
        ),
    )
    return conversation, routed


check_client_message_id = chat_messages.check_visitor_client_id


def do_start_conversation(
    db: Session,
    inbox: Inbox,
    visitor: Visitor,
    *,
    message: str,
    client_message_id: str,
    topic_category: str | None,
    now: datetime,
    max_chars: int | None = None,
    locale: str | None = None,
) -> tuple[Conversation, bool]:
    """A visitor opens a chat with its first message and commits; returns the
    conversation and whether this call created it (False: a retry with the same
    `client_message_id` found the first one). No row to lock yet; the number comes
    from a locked counter."""
    body = conversations.check_message_body(message, max_chars=max_chars)
    client_id = check_client_message_id(client_message_id)
    existing = db.scalar(
        select(Conversation)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(
            Conversation.contact_id == visitor.contact_id,
            Conversation.inbox_id == visitor.inbox_id,
            Message.client_message_id == client_id,
        )
    )
    if existing is not None:
        return existing, False
    category = _topic_category(inbox, topic_category)
    contact = db.get(Contact, visitor.contact_id)
    if contact is None:
        raise NotFound("contact", visitor.contact_id)
    _check_prechat(inbox, contact)
    conversation, routed = _open_conversation(
        db,
        inbox,
        contact,
        language=locale,
        channel=Channel.CHAT,
        body=body,
        category=category,
        client_message_id=client_id,
        source="widget",
        now=now,
    )
    db.commit()
    from helpline.services import ai_assist  # AI assist: after the commit, never raises

    ai_assist.after_customer_message(db, conversation.id, text=body, now=now)
    routing_hooks.route_after(db, routed, now=now)
    return conversation, True


def do_visitor_message(
    db: Session,
    visitor: Visitor,
    conversation_id: int,
    *,
    body: str,
    client_message_id: str,
    now: datetime,
    max_chars: int | None = None,
) -> conversations.PostedMessage:
    """The visitor writes in their own conversation; idempotent on the client id.
    Locks the conversation (see `chat_messages`, which the WebSocket hub also uses
    for many messages at once)."""
    (outcome,) = chat_messages.do_post_chat_messages(
        db,
        [
            chat_messages.ChatPost(
                conversation_id=conversation_id,
                body=body,
                client_message_id=client_message_id,
                visitor=visitor,
            )
        ],
        now=now,
        max_chars=max_chars,
    )
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


# ---------------------------------------------------------------- read state


def do_mark_read(
    db: Session,
    conversation_id: int,
    *,
    reader_type: str,
    reader_id: int,
    seq: int,
    now: datetime,
) -> int | None:
    """Move a reader's read mark forward (never back, never past the last entry)
    and commit; returns the new mark, or None when nothing changed. Locks the
    reader's row (PostgreSQL) so concurrent marks keep the highest."""
    conversation = db.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    seq = max(0, min(seq, conversation.last_seq))
    row = db.scalar(
        select(ConversationRead)
        .where(
            ConversationRead.conversation_id == conversation_id,
            ConversationRead.reader_type == reader_type,
            ConversationRead.reader_id == reader_id,
        )
        .with_for_update()
    )
    if row is None:
        if seq == 0:
            db.commit()
            return None
        db.add(
            ConversationRead(
                conversation_id=conversation_id,
                reader_type=reader_type,
                reader_id=reader_id,
                last_read_seq=seq,
                read_at=now,
            )
        )
        try:
            db.commit()
        except Exception:
            db.rollback()
            # A concurrent first mark won; try once more as an update.
            return do_mark_read(
                db,
                conversation_id,
                reader_type=reader_type,
                reader_id=reader_id,
                seq=seq,
                now=now,
            )
        return seq
    if seq <= row.last_read_seq:
        db.commit()
        return None
    row.last_read_seq = seq
    row.read_at = now
    db.commit()
    return seq


# ---------------------------------------------------------------- CSAT and transcript


def do_rate_conversation(
    db: Session,
    visitor: Visitor,
    conversation_id: int,
    *,
    score: int,
    comment: str | None,
    now: datetime,
    nps_score: int | None = None,
) -> Conversation:
    """Store the visitor's satisfaction answer (a new answer replaces the old) and,
    when given, how likely they are to recommend the shop (0 to 10, the NPS
    question); tell the agents. Locks the conversation."""
    if not 1 <= score <= 5:
        raise ValidationFailed("the score is 1 to 5", {"field": "score"})
    if nps_score is not None and not 0 <= nps_score <= 10:
        raise ValidationFailed("the recommendation score is 0 to 10", {"field": "nps_score"})
    text = " ".join(comment.replace("\x00", "").split()) if comment else None
    if text and len(text) > MAX_CSAT_COMMENT_CHARS:
        raise ValidationFailed(
            f"the comment is longer than {MAX_CSAT_COMMENT_CHARS} characters",
            {"field": "comment"},
        )
    check_visitor_conversation(db, visitor, conversation_id)
    conversation = lock_conversation(db, conversation_id)
    assert conversation is not None
    conversation.csat_score = score
    conversation.csat_comment = text or None
    if nps_score is not None:
        conversation.nps_score = nps_score
    conversation.updated_at = now
    db.flush()
    queue_event(
        db,
        LiveEvent(
            type="conversation.rated",
            payload={
                "conversation": conversations.conversation_payload(conversation),
                "csat": {"score": score, "comment": text or None},
                "nps": conversation.nps_score,
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=conversation.last_seq,
        ),
    )
    db.commit()
    return conversation


def transcript_text(
    conversation: Conversation, frames: Sequence[Mapping[str, Any]], inbox_name: str
) -> str:
    lines = [f"Conversation #{conversation.number} with {inbox_name}", ""]
    for frame in frames:
        event = frame["event"]
        if event["type"] == "message.created":
            message = event["message"]
            when = str(message.get("created_at") or "")[:16].replace("T", " ")
            lines.append(f"[{when}] {message.get('author_name')}:")
            lines.extend(f"  {line}" for line in str(message.get("body") or "").splitlines())
            for attachment in message.get("attachments") or []:
                lines.append(f"  (file: {attachment.get('name')})")
            lines.append("")
        elif event.get("status"):
            lines.append(f"-- status: {event['status']}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def do_send_transcript(
    db: Session,
    visitor: Visitor,
    conversation_id: int,
    *,
    email: str | None,
    public_key: str,
    now: datetime,
) -> str:
    """Queue an email with the visible history (through the outbox, in this
    transaction) and commit; returns the address. No locking: read-only besides
    the outbox row."""
    conversation = access_visitor_conversation(db, visitor, conversation_id)
    contact = db.get(Contact, visitor.contact_id)
    address = check_email(email)
    if address is None and contact is not None:
        address = contact.email or check_email(contact.custom_attributes.get("unverified_email"))
    if address is None:
        raise ValidationFailed("tell us where to send the transcript", {"field": "email"})
    inbox = db.get(Inbox, conversation.inbox_id)
    inbox_name = inbox.name if inbox is not None else "support"
    frames: list[dict[str, Any]] = []
    after = 0
    while True:
        page = visitor_history(db, visitor, conversation.id, public_key=public_key, after_seq=after)
        frames.extend(page.frames)
        if page.next_after_seq is None:
            break
        after = page.next_after_seq
    enqueue_email(
        db,
        to=address,
        subject=f"Your conversation #{conversation.number} with {inbox_name}",
        text=transcript_text(conversation, frames, inbox_name),
        now=now,
        reply_to=inbox.email_address if inbox is not None else None,
    )
    db.commit()
    return address


# ---------------------------------------------------------------- offline


def _offline_inbox(db: Session, inbox: Inbox) -> tuple[Inbox, Channel]:
    linked_id = inbox.settings.get("offline_inbox_id")
    if isinstance(linked_id, int) and not isinstance(linked_id, bool):
        linked = db.get(Inbox, linked_id)
        if linked is not None and linked.is_active and linked.channel == Channel.EMAIL.value:
            return linked, Channel.EMAIL
    return inbox, Channel.EMAIL


def do_create_offline_ticket(
    db: Session,
    inbox: Inbox,
    *,
    name: str,
    email: str,
    message: str,
    topic_category: str | None,
    now: datetime,
    max_chars: int | None = None,
    locale: str | None = None,
) -> tuple[Conversation, dict[str, str]]:
    """The offline form: an email-channel ticket answered by email, and commit.
    The contact is found or created by email merge-safely; the visitor gains no
    access to anything by it. `locale` (the widget's language) is the ticket's
    language unless the contact has one. Returns the ticket and the expected-reply
    texts."""
    body = conversations.check_message_body(message, max_chars=max_chars)
    address = check_email(email)
    if address is None:
        raise ValidationFailed("an email address is needed for the answer", {"field": "email"})
    category = _topic_category(inbox, topic_category)
    contact = identify_contact(
        db, ContactIdentity(email=address, name=" ".join(name.split())[:200] or None), now=now
    ).contact
    target, channel = _offline_inbox(db, inbox)
    conversation, routed = _open_conversation(
        db,
        target,
        contact,
        language=locale,
        channel=channel,
        body=body,
        category=category,
        client_message_id=None,
        source="widget_offline",
        now=now,
    )
    db.commit()
    from helpline.services import ai_assist  # AI assist: after the commit, never raises

    ai_assist.after_customer_message(db, conversation.id, text=body, now=now)
    routing_hooks.route_after(db, routed, now=now)
    return conversation, localised(
        inbox.settings.get("expected_reply"), DEFAULT_TEXTS["expected_reply"]
    )
