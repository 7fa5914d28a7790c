"""Conversation use cases: create, messages, status, assignment, tags, history.

Every write locks the conversation row (`history.lock_conversation`), checks that
the caller may see it (`domain.access.can_see_conversation`; invisible looks like
missing), changes it, records an Activity or Message on the one per-conversation
sequence, queues one live event for the users who can see it, and commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.counters import next_value
from helpline.adapters.db.models import (
    Activity,
    Contact,
    Conversation,
    ConversationTag,
    Inbox,
    InboxMember,
    Message,
    Team,
    TeamMember,
    User,
)
from helpline.ai.frustration import level_of
from helpline.domain import lifecycle
from helpline.domain.access import Viewer, can_see_conversation
from helpline.domain.enums import (
    ActivityKind,
    AuthorType,
    Channel,
    ConversationStatus,
    MessageKind,
    Priority,
    Role,
)
from helpline.domain.errors import ConversationClosed
from helpline.services.contacts import ContactIdentity, identify_contact
from helpline.services.errors import NotFound, PermissionDenied, ValidationFailed
from helpline.services.events import LiveEvent, queue_event
from helpline.services.history import lock_conversation, next_seq, record_activity
from helpline.services.outbox import enqueue_email
from helpline.services.recipients import recipients_for

MAX_TAGS = 20
MAX_TAG_CHARS = 50
MAX_SUBJECT_CHARS = 300
MAX_NOTE_CHARS = 1000
CATEGORY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_MAX_MESSAGE_CHARS = 20_000


# ---------------------------------------------------------------- input checks


def _default_max_chars() -> int:
    from helpline.settings import get_settings

    return get_settings().max_message_chars


def check_message_body(body: str, *, max_chars: int | None = None) -> str:
    """Plain text, trimmed, 1..max_chars characters (settings.max_message_chars)."""
    limit = max_chars if max_chars is not None else _default_max_chars()
    text = body.strip()
    if not text:
        raise ValidationFailed("the message is empty", {"field": "body"})
    if len(text) > limit:
        raise ValidationFailed(
            f"the message is longer than {limit} characters",
            {"field": "body", "max_chars": limit, "length": len(text)},
        )
    if "\x00" in text:
        raise ValidationFailed("the message contains a NUL character", {"field": "body"})
    return text


def check_tags(tags: Iterable[str]) -> list[str]:
    """Lower-case, trimmed, 1..50 characters each, no duplicates, at most 20."""
    normalised: list[str] = []
    for raw in tags:
        tag = " ".join(raw.split()).lower()
        if not tag or len(tag) > MAX_TAG_CHARS:
            raise ValidationFailed(
                f"tags are 1 to {MAX_TAG_CHARS} characters", {"field": "tags", "tag": raw[:60]}
            )
        if any(ord(char) < 32 for char in tag):
            raise ValidationFailed("tags cannot contain control characters", {"field": "tags"})
        if tag not in normalised:
            normalised.append(tag)
    if len(normalised) > MAX_TAGS:
        raise ValidationFailed(f"at most {MAX_TAGS} tags", {"field": "tags"})
    return normalised


def check_category(category: str) -> str:
    value = category.strip().lower()
    if not CATEGORY_PATTERN.match(value):
        raise ValidationFailed(
            "a category is 1 to 40 letters, digits, '-' or '_'", {"field": "category"}
        )
    return value


def check_subject(subject: str) -> str:
    value = " ".join(subject.replace("\x00", "").split())
    if len(value) > MAX_SUBJECT_CHARS:
        raise ValidationFailed(
            f"the subject is longer than {MAX_SUBJECT_CHARS} characters", {"field": "subject"}
        )
    return value


# ---------------------------------------------------------------- access


def can_see(viewer: Viewer, conversation: Conversation) -> bool:
    """The access rule (domain.access) applied to a loaded conversation."""
    if can_see_conversation(
        viewer,
        assignee_id=conversation.assignee_id,
        team_id=conversation.team_id,
        inbox_id=conversation.inbox_id,
    ):
        return True
    # Only a conversation otherwise out of sight needs the participant lookup.
    from helpline.services.participants import participant_ids_for_access

    return can_see_conversation(
        viewer,
        assignee_id=conversation.assignee_id,
        team_id=conversation.team_id,
        inbox_id=conversation.inbox_id,
        participant_ids=participant_ids_for_access(conversation, viewer.user_id),
    )


def access_conversation(db: Session, viewer: Viewer, conversation_id: int) -> Conversation:
    """The conversation, or NotFound when it is missing or the viewer may not see it."""
    conversation = db.get(Conversation, conversation_id)
    if conversation is None or not can_see(viewer, conversation):
        raise NotFound("conversation", conversation_id)
    return conversation


def _lock_visible(db: Session, viewer: Viewer, conversation_id: int) -> Conversation:
    """Lock the row for this transaction, then apply the access rule to what is locked."""
    conversation = lock_conversation(db, conversation_id)
    if conversation is None or not can_see(viewer, conversation):
        raise NotFound("conversation", conversation_id)
    return conversation


def _lock_existing(db: Session, conversation_id: int) -> Conversation:
    conversation = lock_conversation(db, conversation_id)
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    return conversation


def _active_user(db: Session, user_id: int, field: str) -> User:
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationFailed("no active user with this id", {"field": field, "id": user_id})
    return user


def _user_name(db: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = db.get(User, user_id)
    return user.name if user is not None else None


# ---------------------------------------------------------------- event payloads


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    """The fields a client needs to update its lists, JSON-ready."""
    return {
        "id": conversation.id,
        "number": conversation.number,
        "subject": conversation.subject,
        "status": conversation.status,
        "priority": conversation.priority,
        "priority_score": conversation.priority_score,
        "category": conversation.category,
        "team_id": conversation.team_id,
        "assignee_id": conversation.assignee_id,
        "inbox_id": conversation.inbox_id,
        "contact_id": conversation.contact_id,
        "channel": conversation.channel,
        "last_activity_at": _iso(conversation.last_activity_at),
        "waiting_since": _iso(conversation.waiting_since),
        "first_response_at": _iso(conversation.first_response_at),
        "snoozed_until": _iso(conversation.snoozed_until),
        "last_seq": conversation.last_seq,
        "priority_breakdown": [
            {"reason": str(reason), "points": float(points)}
            for reason, points in conversation.priority_breakdown or []
        ],
        **ai_fields(conversation),
    }


def ai_fields(conversation: Conversation) -> dict[str, Any]:
    """What AI assist found, on every conversation payload: the workspace's
    frustration badge updates live from `conversation.updated`."""
    return {
        "frustration": conversation.frustration,
        "frustration_level": level_of(conversation.frustration),
        "frustration_reasons": [
            {"kind": str(reason.get("kind", "")), "evidence": str(reason.get("evidence", ""))}
            for reason in conversation.frustration_reasons or []
        ],
        "ai_category": conversation.ai_category,
        "ai_category_confidence": conversation.ai_category_confidence,
        "ai_language": conversation.ai_language,
    }


def message_payload(message: Message, author_name: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "kind": message.kind,
        "author_type": message.author_type,
        "author_user_id": message.author_user_id,
        "author_contact_id": message.author_contact_id,
        "author_name": author_name,
        "body": message.body,
        "attachments": message.attachments,
        "client_message_id": message.client_message_id,
        "created_at": _iso(message.created_at),
    }


def activity_payload(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "seq": activity.seq,
        "kind": activity.kind,
        "actor_type": activity.actor_type,
        "actor_user_id": activity.actor_user_id,
        "data": activity.data,
        "created_at": _iso(activity.created_at),
    }


def _queue_conversation_event(
    db: Session,
    event_type: str,
    conversation: Conversation,
    *,
    activities: Sequence[Activity] = (),
    also_notify: frozenset[int] = frozenset(),
) -> None:
    """One event per write, to everyone who can see the conversation now (plus
    `also_notify`: e.g. a previous assignee who just lost sight of it)."""
    db.flush()
    queue_event(
        db,
        LiveEvent(
            type=event_type,
            payload={
                "conversation": conversation_payload(conversation),
                "activities": [activity_payload(activity) for activity in activities],
            },
            user_ids=recipients_for(db, conversation) | also_notify,
            conversation_id=conversation.id,
            seq=conversation.last_seq,
        ),
    )


# ---------------------------------------------------------------- create


def do_create_conversation(
    db: Session,
    viewer: Viewer,
    *,
    inbox_id: int,
    contact_id: int | None = None,
    contact: ContactIdentity | None = None,
    subject: str,
    first_message: str | None,
    priority: Priority = Priority.NORMAL,
    category: str | None = None,
    team_id: int | None = None,
    tags: Sequence[str] = (),
    now: datetime,
    max_chars: int | None = None,
) -> Conversation:
    """Open a conversation (status open, unassigned) for a contact given by id or
    identified merge-safely from `contact`; `first_message` is the customer's.

    Staff may create conversations in inboxes they belong to (admins anywhere, team
    members for their team). The conversation number comes from a locked counter.
    """
    if (contact_id is None) == (contact is None):
        raise ValidationFailed("give either contact_id or contact", {"field": "contact_id"})
    subject = check_subject(subject)
    body = check_message_body(first_message, max_chars=max_chars) if first_message else None
    normalised_tags = check_tags(tags)
    category = check_category(category) if category is not None else None
    inbox = db.get(Inbox, inbox_id)
    if inbox is None:
        raise ValidationFailed("no inbox with this id", {"field": "inbox_id", "id": inbox_id})
    if not inbox.is_active:
        raise ValidationFailed("this inbox is archived", {"field": "inbox_id", "id": inbox_id})
    if team_id is not None and db.get(Team, team_id) is None:
        raise ValidationFailed("no team with this id", {"field": "team_id", "id": team_id})
    may_create = (
        viewer.is_admin
        or inbox_id in viewer.inbox_ids
        or (team_id is not None and team_id in viewer.team_ids)
    )
    if not may_create:
        raise PermissionDenied(
            "you are not a member of this inbox", {"field": "inbox_id", "id": inbox_id}
        )
    if contact_id is not None:
        customer = db.get(Contact, contact_id)
        if customer is None:
            raise ValidationFailed(
                "no contact with this id", {"field": "contact_id", "id": contact_id}
            )
    else:
        assert contact is not None
        customer = identify_contact(db, contact, now=now).contact

    conversation = Conversation(
        number=next_value(db, "conversation"),
        inbox_id=inbox.id,
        channel=inbox.channel,
        contact_id=customer.id,
        subject=subject,
        status=ConversationStatus.OPEN.value,
        priority=priority.value,
        category=category,
        team_id=team_id if team_id is not None else inbox.default_team_id,
        language=customer.language,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
        last_seq=0,
        custom_attributes={},
    )
    db.add(conversation)
    db.flush()
    for tag in normalised_tags:
        db.add(ConversationTag(conversation_id=conversation.id, tag=tag))
    record_activity(
        db,
        conversation,
        ActivityKind.CREATED,
        now=now,
        actor_user_id=viewer.user_id,
        data={
            "inbox_id": inbox.id,
            "team_id": conversation.team_id,
            "priority": conversation.priority,
            "category": category,
            "tags": normalised_tags,
        },
    )
    if body is not None:
        db.add(
            Message(
                conversation_id=conversation.id,
                seq=next_seq(conversation),
                author_type=AuthorType.CONTACT.value,
                author_contact_id=customer.id,
                kind=MessageKind.REPLY.value,
                body=body,
                attachments=[],
                created_at=now,
            )
        )
        conversation.waiting_since = now
        customer.last_seen_at = now
    from helpline.services import routing_hooks  # routing hook (imports this module)

    routed = routing_hooks.on_conversation_created(db, conversation, text=body or "", now=now)
    _queue_conversation_event(db, "conversation.created", conversation)
    db.commit()
    from helpline.services import ai_assist  # AI assist: after the commit, never raises

    ai_assist.after_customer_message(db, conversation.id, text=body or subject, now=now)
    routing_hooks.route_after(db, routed, now=now)  # routing hook
    return conversation


# ---------------------------------------------------------------- messages


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """A stored message, and whether this call stored it (False: an idempotent retry)."""

    message: Message
    created: bool
    author_name: str


def _existing_message(
    db: Session, conversation_id: int, client_message_id: str | None
) -> Message | None:
    if client_message_id is None:
        return None
    return db.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.client_message_id == client_message_id,
        )
    )


def _author_name(db: Session, message: Message) -> str:
    if message.author_user_id is not None:
        return _user_name(db, message.author_user_id) or "Former agent"
    if message.author_contact_id is not None:
        contact = db.get(Contact, message.author_contact_id)
        if contact is not None:
            return contact.name or contact.email or "Customer"
        return "Customer"
    return "Bot" if message.author_type == AuthorType.BOT.value else "System"


def _check_client_message_id(client_message_id: str | None) -> str | None:
    if client_message_id is None:
        return None
    value = client_message_id.strip()
    if not value or len(value) > 64:
        raise ValidationFailed(
            "client_message_id is 1 to 64 characters", {"field": "client_message_id"}
        )
    return value


def _message_domain(inbox: Inbox) -> str:
    if inbox.email_address and "@" in inbox.email_address:
        return inbox.email_address.rsplit("@", 1)[1].strip(" >").lower() or "helpline.localhost"
    return "helpline.localhost"


def _enqueue_reply_email(
    db: Session, conversation: Conversation, message: Message, *, now: datetime
) -> None:
    """An email-channel reply goes to the customer through the outbox, in this
    transaction: the email exists if and only if the reply does."""
    contact = db.get(Contact, conversation.contact_id)
    inbox = db.get(Inbox, conversation.inbox_id)
    if contact is None or not contact.email or inbox is None:
        return
    domain = _message_domain(inbox)
    thread_id = f"<conversation-{conversation.id}@{domain}>"
    headers = {
        "Message-ID": f"<message-{message.id}@{domain}>",
        "In-Reply-To": thread_id,
        "References": thread_id,
        "X-Helpline-Conversation": str(conversation.number),
    }
    subject = conversation.subject or "Your request"
    enqueue_email(
        db,
        to=contact.email,
        subject=f"Re: [#{conversation.number}] {subject}",
        text=message.body,
        now=now,
        reply_to=inbox.email_address,
        headers=headers,
        dedupe_key=f"message:{message.id}",
    )


def do_post_agent_message(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    body: str,
    kind: MessageKind,
    now: datetime,
    client_message_id: str | None = None,
    max_chars: int | None = None,
    attachments: Sequence[dict[str, Any]] = (),
) -> PostedMessage:
    """Store an agent's reply or internal note; idempotent on `client_message_id`.
    `attachments` describes files already stored (services.attachments).

    Locks the conversation: the lock serialises sequence numbers and makes a
    retried send find the first one. A reply sets `first_response_at` once and
    clears `waiting_since`; a note changes neither and is never sent to the customer.
    """
    text = check_message_body(body, max_chars=max_chars)
    client_message_id = _check_client_message_id(client_message_id)
    conversation = _lock_visible(db, viewer, conversation_id)
    existing = _existing_message(db, conversation.id, client_message_id)
    if existing is not None:
        db.commit()
        return PostedMessage(existing, created=False, author_name=_author_name(db, existing))
    if conversation.status == ConversationStatus.CLOSED.value:
        raise ConversationClosed("conversation is closed; start a follow-up conversation")
    message = Message(
        conversation_id=conversation.id,
        seq=next_seq(conversation),
        author_type=AuthorType.AGENT.value,
        author_user_id=viewer.user_id,
        kind=kind.value,
        body=text,
        attachments=list(attachments),
        client_message_id=client_message_id,
        created_at=now,
    )
    db.add(message)
    conversation.updated_at = now
    conversation.last_activity_at = now
    if kind == MessageKind.REPLY:
        replied_to = conversation.waiting_since  # routing hook: what this reply answers
        if conversation.first_response_at is None:
            conversation.first_response_at = now
        conversation.waiting_since = None
        from helpline.services import routing_hooks  # routing hook (imports this module)

        routing_hooks.on_agent_reply(
            db, conversation, agent_id=viewer.user_id, replied_to=replied_to, now=now
        )
    db.flush()
    if kind == MessageKind.REPLY and conversation.channel == Channel.EMAIL.value:
        _enqueue_reply_email(db, conversation, message, now=now)
    author_name = _user_name(db, viewer.user_id) or "Agent"
    queue_event(
        db,
        LiveEvent(
            type="message.created",
            payload={
                "message": message_payload(message, author_name),
                "conversation": conversation_payload(conversation),
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=message.seq,
            to_contact=kind == MessageKind.REPLY,
        ),
    )
    if kind == MessageKind.NOTE:
        from helpline.services import mentions  # @mentions notify colleagues

        mentions.record_mentions(db, conversation, message, author_id=viewer.user_id, now=now)
    db.commit()
    return PostedMessage(message, created=True, author_name=author_name)


def do_add_reply(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    body: str,
    now: datetime,
    client_message_id: str | None = None,
) -> Message:
    """An agent's reply to the customer (emailed on email-channel conversations)."""
    return do_post_agent_message(
        db,
        viewer,
        conversation_id,
        body=body,
        kind=MessageKind.REPLY,
        now=now,
        client_message_id=client_message_id,
    ).message


def do_add_note(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    body: str,
    now: datetime,
    client_message_id: str | None = None,
) -> Message:
    """An internal note for colleagues: never sent, never counts as a response."""
    return do_post_agent_message(
        db,
        viewer,
        conversation_id,
        body=body,
        kind=MessageKind.NOTE,
        now=now,
        client_message_id=client_message_id,
    ).message


def _store_contact_message(
    db: Session,
    conversation: Conversation,
    *,
    body: str,
    now: datetime,
    client_message_id: str | None,
    max_chars: int | None,
    attachments: Sequence[dict[str, Any]] = (),
) -> PostedMessage:
    """The customer wrote: store it, start the waiting clock, reopen if needed."""
    text = check_message_body(body, max_chars=max_chars)
    client_message_id = _check_client_message_id(client_message_id)
    existing = _existing_message(db, conversation.id, client_message_id)
    if existing is not None:
        db.commit()
        return PostedMessage(existing, created=False, author_name=_author_name(db, existing))
    current = ConversationStatus(conversation.status)
    reopened_to = lifecycle.status_after_customer_message(current)  # refuses closed
    activities: list[Activity] = []
    if reopened_to != current:
        change = lifecycle.change_status(
            current, reopened_to, now, current_solved_at=conversation.solved_at
        )
        conversation.status = change.status.value
        conversation.solved_at = change.solved_at
        conversation.snoozed_until = change.snoozed_until
        activities.append(
            record_activity(
                db,
                conversation,
                ActivityKind.REOPENED,
                now=now,
                actor_type=AuthorType.CONTACT.value,
                data={"from": current.value, "to": reopened_to.value},
            )
        )
    message = Message(
        conversation_id=conversation.id,
        seq=next_seq(conversation),
        author_type=AuthorType.CONTACT.value,
        author_contact_id=conversation.contact_id,
        kind=MessageKind.REPLY.value,
        body=text,
        attachments=list(attachments),
        client_message_id=client_message_id,
        created_at=now,
    )
    db.add(message)
    conversation.updated_at = now
    conversation.last_activity_at = now
    if conversation.waiting_since is None:
        conversation.waiting_since = now
    contact = db.get(Contact, conversation.contact_id)
    author_name = "Customer"
    if contact is not None:
        contact.last_seen_at = now
        author_name = contact.name or contact.email or "Customer"
    from helpline.services import routing_hooks  # routing hook (imports this module)

    routed = routing_hooks.on_customer_message(db, conversation, text=text, now=now)
    activities.extend(routed.activities)
    db.flush()
    queue_event(
        db,
        LiveEvent(
            type="message.created",
            payload={
                "message": message_payload(message, author_name),
                "conversation": conversation_payload(conversation),
                "activities": [activity_payload(activity) for activity in activities],
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=message.seq,
            to_contact=True,
        ),
    )
    db.commit()
    from helpline.services import ai_assist  # AI assist: after the commit, never raises

    ai_assist.after_customer_message(db, conversation.id, text=text, now=now)
    routing_hooks.route_after(db, routed, now=now)  # routing hook
    return PostedMessage(message, created=True, author_name=author_name)


def do_add_contact_message(
    db: Session,
    conversation_id: int,
    *,
    body: str,
    now: datetime,
    client_message_id: str | None = None,
    max_chars: int | None = None,
    attachments: Sequence[dict[str, Any]] = (),
) -> Message:
    """A customer message (widget, email, integration). Reopens pending, on-hold and
    solved conversations; refused with ConversationClosed on a closed one.
    Locks the conversation; idempotent on `client_message_id`."""
    return do_post_contact_message(
        db,
        conversation_id,
        body=body,
        now=now,
        client_message_id=client_message_id,
        max_chars=max_chars,
        attachments=attachments,
    ).message


def do_post_contact_message(
    db: Session,
    conversation_id: int,
    *,
    body: str,
    now: datetime,
    client_message_id: str | None = None,
    max_chars: int | None = None,
    attachments: Sequence[dict[str, Any]] = (),
) -> PostedMessage:
    """`do_add_contact_message`, also telling whether this call stored the message
    (False: an idempotent retry) — the widget answers 201 or 200 by it."""
    conversation = _lock_existing(db, conversation_id)
    return _store_contact_message(
        db,
        conversation,
        body=body,
        now=now,
        client_message_id=client_message_id,
        max_chars=max_chars,
        attachments=attachments,
    )


def do_relay_contact_message(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    body: str,
    now: datetime,
    client_message_id: str | None = None,
    max_chars: int | None = None,
) -> PostedMessage:
    """An integration (acting as a staff user) relays what the customer wrote; the
    caller must be able to see the conversation. Locks the conversation."""
    conversation = _lock_visible(db, viewer, conversation_id)
    return _store_contact_message(
        db,
        conversation,
        body=body,
        now=now,
        client_message_id=client_message_id,
        max_chars=max_chars,
    )


# ---------------------------------------------------------------- status and fields


def do_change_status(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    status: ConversationStatus,
    *,
    now: datetime,
    snooze_until: datetime | None = None,
) -> Conversation:
    """Move the conversation through the state machine (domain.lifecycle); a pending
    conversation with `snooze_until` wakes up by itself. Locks the conversation."""
    conversation = _lock_visible(db, viewer, conversation_id)
    current = ConversationStatus(conversation.status)
    change = lifecycle.change_status(
        current,
        status,
        now,
        current_solved_at=conversation.solved_at,
        snooze_until=snooze_until,
    )
    conversation.status = change.status.value
    conversation.solved_at = change.solved_at
    conversation.snoozed_until = change.snoozed_until
    if change.status == ConversationStatus.CLOSED:
        conversation.closed_at = now
    if change.status in (ConversationStatus.SOLVED, ConversationStatus.CLOSED):
        # Nobody waits on a solved conversation; a customer reply restarts the clock.
        conversation.waiting_since = None
    activity = record_activity(
        db,
        conversation,
        ActivityKind.SNOOZED if snooze_until is not None else ActivityKind.STATUS_CHANGED,
        now=now,
        actor_user_id=viewer.user_id,
        data={
            "from": current.value,
            "to": change.status.value,
            "snoozed_until": _iso(change.snoozed_until),
        },
    )
    from helpline.services import routing_hooks  # routing hook (imports this module)

    routed = routing_hooks.on_status_changed(db, conversation, previous_status=current, now=now)
    _queue_conversation_event(
        db, "conversation.updated", conversation, activities=[activity, *routed.activities]
    )
    db.commit()
    routing_hooks.route_after(db, routed, now=now)  # routing hook
    return conversation


def do_update_conversation(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    priority: Priority | None = None,
    category: str | None = None,
    subject: str | None = None,
    now: datetime,
) -> Conversation:
    """Change priority, category or subject (None: unchanged); each real change of
    priority or category is an Activity with old and new value. Locks the row."""
    new_category = check_category(category) if category is not None else None
    new_subject = check_subject(subject) if subject is not None else None
    conversation = _lock_visible(db, viewer, conversation_id)
    activities: list[Activity] = []
    if priority is not None and priority.value != conversation.priority:
        activities.append(
            record_activity(
                db,
                conversation,
                ActivityKind.PRIORITY_CHANGED,
                now=now,
                actor_user_id=viewer.user_id,
                data={"from": conversation.priority, "to": priority.value},
            )
        )
        conversation.priority = priority.value
    if new_category is not None and new_category != conversation.category:
        activities.append(
            record_activity(
                db,
                conversation,
                ActivityKind.CATEGORY_CHANGED,
                now=now,
                actor_user_id=viewer.user_id,
                data={"from": conversation.category, "to": new_category},
            )
        )
        from helpline.services import ai_assist  # an agent's category is a training label

        ai_assist.record_correction(
            db, conversation, category=new_category, user_id=viewer.user_id, now=now
        )
        conversation.category = new_category
    subject_changed = new_subject is not None and new_subject != conversation.subject
    if subject_changed:
        assert new_subject is not None
        conversation.subject = new_subject
        conversation.updated_at = now
    from helpline.services import routing_hooks  # routing hook (imports this module)

    routed = None
    if activities:  # routing hook: priority or category changed
        routed = routing_hooks.on_conversation_updated(db, conversation, now=now)
        activities.extend(routed.activities)
    if activities or subject_changed:
        _queue_conversation_event(db, "conversation.updated", conversation, activities=activities)
    db.commit()
    routing_hooks.route_after(db, routed, now=now)  # routing hook
    return conversation


def _tags_of(db: Session, conversation_id: int) -> list[str]:
    return list(
        db.scalars(
            select(ConversationTag.tag)
            .where(ConversationTag.conversation_id == conversation_id)
            .order_by(ConversationTag.tag)
        )
    )


def do_set_tags(
    db: Session, viewer: Viewer, conversation_id: int, tags: list[str], *, now: datetime
) -> Conversation:
    """Replace the conversation's tags (normalised by `check_tags`). Locks the row."""
    wanted = check_tags(tags)
    conversation = _lock_visible(db, viewer, conversation_id)
    current = _tags_of(db, conversation.id)
    added = sorted(set(wanted) - set(current))
    removed = sorted(set(current) - set(wanted))
    if added or removed:
        for tag in removed:
            row = db.get(ConversationTag, (conversation.id, tag))
            if row is not None:
                db.delete(row)
        for tag in added:
            db.add(ConversationTag(conversation_id=conversation.id, tag=tag))
        activity = record_activity(
            db,
            conversation,
            ActivityKind.TAGS_CHANGED,
            now=now,
            actor_user_id=viewer.user_id,
            data={"from": current, "to": sorted(wanted), "added": added, "removed": removed},
        )
        _queue_conversation_event(db, "conversation.updated", conversation, activities=[activity])
    db.commit()
    return conversation


# ---------------------------------------------------------------- assignment


def do_assign(
    db: Session, viewer: Viewer, conversation_id: int, assignee_id: int | None, *, now: datetime
) -> Conversation:
    """Assign or unassign. Agents may take an unassigned conversation they can see
    or give up their own; supervisors and admins may assign anyone active.
    Locks the conversation, so two agents never both take it."""
    conversation = _lock_visible(db, viewer, conversation_id)
    previous = conversation.assignee_id
    if assignee_id == previous:
        db.commit()
        return conversation
    if not viewer.is_supervisor_or_admin:
        taking = assignee_id == viewer.user_id and previous is None
        releasing = assignee_id is None and previous == viewer.user_id
        if not (taking or releasing):
            raise PermissionDenied(
                "agents may take unassigned conversations or unassign themselves",
                {"assignee_id": assignee_id},
            )
    assignee = _active_user(db, assignee_id, "assignee_id") if assignee_id is not None else None
    before = recipients_for(db, conversation)
    conversation.assignee_id = assignee_id
    conversation.assigned_at = now if assignee is not None else None
    if assignee is not None:
        assignee.last_assigned_at = now
    activity = record_activity(
        db,
        conversation,
        ActivityKind.ASSIGNED if assignee is not None else ActivityKind.UNASSIGNED,
        now=now,
        actor_user_id=viewer.user_id,
        data={
            "from": previous,
            "to": assignee_id,
            "from_name": _user_name(db, previous),
            "to_name": assignee.name if assignee is not None else None,
        },
    )
    from helpline.services import routing_hooks  # routing hook (imports this module)

    routed = routing_hooks.on_assignment_changed(
        db, conversation, previous_assignee_id=previous, now=now
    )
    _queue_conversation_event(
        db,
        "conversation.updated",
        conversation,
        activities=[activity, *routed.activities],
        also_notify=before,
    )
    db.commit()
    routing_hooks.route_after(db, routed, now=now)  # routing hook
    return conversation


def _is_member(db: Session, user_id: int, *, inbox_id: int, team_id: int | None) -> bool:
    in_inbox = db.scalar(
        select(InboxMember.user_id).where(
            InboxMember.inbox_id == inbox_id, InboxMember.user_id == user_id
        )
    )
    if in_inbox is not None:
        return True
    if team_id is None:
        return False
    in_team = db.scalar(
        select(TeamMember.user_id).where(
            TeamMember.team_id == team_id, TeamMember.user_id == user_id
        )
    )
    return in_team is not None


def do_transfer(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    to_user_id: int | None = None,
    to_team_id: int | None = None,
    note: str | None = None,
    now: datetime,
) -> Conversation:
    """Hand a conversation to a colleague and/or a team. A team transfer sets the
    team and clears the assignee (unless a user is named too). The target user must
    be active and, unless an admin, a member of the inbox or of the target team.
    Agents transfer their own or unassigned conversations. Locks the conversation."""
    if to_user_id is None and to_team_id is None:
        raise ValidationFailed("name a user or a team to transfer to", {"field": "to_user_id"})
    note_text = " ".join(note.split()) if note else None
    if note_text and len(note_text) > MAX_NOTE_CHARS:
        raise ValidationFailed(
            f"the note is longer than {MAX_NOTE_CHARS} characters", {"field": "note"}
        )
    conversation = _lock_visible(db, viewer, conversation_id)
    if not viewer.is_supervisor_or_admin and conversation.assignee_id not in (
        None,
        viewer.user_id,
    ):
        raise PermissionDenied("only the assignee or a supervisor can transfer this conversation")
    team: Team | None = None
    if to_team_id is not None:
        team = db.get(Team, to_team_id)
        if team is None:
            raise ValidationFailed(
                "no team with this id", {"field": "to_team_id", "id": to_team_id}
            )
    new_team_id = to_team_id if to_team_id is not None else conversation.team_id
    target: User | None = None
    if to_user_id is not None:
        target = _active_user(db, to_user_id, "to_user_id")
        if target.role != Role.ADMIN.value and not _is_member(
            db, target.id, inbox_id=conversation.inbox_id, team_id=new_team_id
        ):
            raise ValidationFailed(
                "this agent is not a member of the conversation's inbox or team",
                {"field": "to_user_id", "id": to_user_id},
            )
    # Naming only a team hands the conversation to that team's queue.
    new_assignee_id = to_user_id
    previous_assignee, previous_team = conversation.assignee_id, conversation.team_id
    if new_assignee_id == previous_assignee and new_team_id == previous_team:
        raise ValidationFailed("the conversation is already there", {"field": "to_user_id"})
    before = recipients_for(db, conversation)
    conversation.team_id = new_team_id
    conversation.assignee_id = new_assignee_id
    conversation.assigned_at = now if target is not None else None
    if target is not None:
        target.last_assigned_at = now
    from helpline.services import routing_hooks  # routing hook (imports this module)

    routing_hooks.before_transfer_recorded(db, conversation, now=now)
    activity = record_activity(
        db,
        conversation,
        ActivityKind.TRANSFERRED,
        now=now,
        actor_user_id=viewer.user_id,
        data={
            "from_user_id": previous_assignee,
            "to_user_id": new_assignee_id,
            "from_team_id": previous_team,
            "to_team_id": new_team_id,
            "from_user_name": _user_name(db, previous_assignee),
            "to_user_name": target.name if target is not None else None,
            "to_team_name": team.name if team is not None else None,
            "note": note_text,
        },
    )
    routed = routing_hooks.on_transfer(  # routing hook
        db,
        conversation,
        previous_assignee_id=previous_assignee,
        previous_team_id=previous_team,
        now=now,
    )
    _queue_conversation_event(
        db,
        "conversation.updated",
        conversation,
        activities=[activity, *routed.activities],
        also_notify=before,
    )
    db.commit()
    from helpline.services import ai_assist  # AI assist: a summary for the next agent

    ai_assist.after_handover(db, [activity.id], now=now)
    routing_hooks.route_after(db, routed, now=now)  # routing hook
    return conversation


# ---------------------------------------------------------------- history


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step of a conversation's history: a message or an activity."""

    seq: int
    kind: Literal["message", "activity"]
    created_at: datetime
    author_name: str
    message: Message | None = None
    activity: Activity | None = None


def _actor_label(actor_type: str) -> str:
    return {"contact": "Customer", "bot": "Bot"}.get(actor_type, "System")


@dataclass(frozen=True, slots=True)
class HistoryPage:
    conversation: Conversation
    entries: list[HistoryEntry]


def get_history(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    after_seq: int = 0,
    limit: int = 200,
) -> list[HistoryEntry]:
    """Messages and activities after `after_seq`, in sequence order, at most `limit`."""
    return get_history_page(db, viewer, conversation_id, after_seq=after_seq, limit=limit).entries


def get_history_page(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    after_seq: int = 0,
    limit: int = 200,
) -> HistoryPage:
    """`get_history` plus the conversation it read (for its `last_seq`).

    Two index range scans on (conversation_id, seq), each with its author's name
    joined in, merged here.
    """
    conversation = access_conversation(db, viewer, conversation_id)
    limit = max(1, min(limit, 500))
    message_rows = db.execute(
        select(Message, User.name, Contact.name, Contact.email)
        .outerjoin(User, User.id == Message.author_user_id)
        .outerjoin(Contact, Contact.id == Message.author_contact_id)
        .where(Message.conversation_id == conversation.id, Message.seq > after_seq)
        .order_by(Message.seq)
        .limit(limit)
    ).all()
    activity_rows = db.execute(
        select(Activity, User.name)
        .outerjoin(User, User.id == Activity.actor_user_id)
        .where(Activity.conversation_id == conversation.id, Activity.seq > after_seq)
        .order_by(Activity.seq)
        .limit(limit)
    ).all()
    entries: list[HistoryEntry] = []
    for message, user_name, contact_name, contact_email in message_rows:
        if message.author_user_id is not None or message.author_type == AuthorType.AGENT.value:
            name = user_name or "Former agent"
        elif message.author_type == AuthorType.CONTACT.value:
            name = contact_name or contact_email or "Customer"
        else:
            name = _actor_label(message.author_type)
        entries.append(
            HistoryEntry(
                seq=message.seq,
                kind="message",
                created_at=message.created_at,
                author_name=name,
                message=message,
            )
        )
    for activity, user_name in activity_rows:
        entries.append(
            HistoryEntry(
                seq=activity.seq,
                kind="activity",
                created_at=activity.created_at,
                author_name=user_name or _actor_label(activity.actor_type),
                activity=activity,
            )
        )
    entries.sort(key=lambda entry: entry.seq)
    return HistoryPage(conversation=conversation, entries=entries[:limit])
