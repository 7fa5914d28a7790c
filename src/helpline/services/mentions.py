"""Notifications: an @mention in an internal note tells the colleague, live and in a
list they can work through (`domain.mentions` says who a note names).

Only colleagues who can see the conversation are notified: a mention never opens a
conversation to someone the access rule keeps out (add them as a participant).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Conversation, Message, Notification, User
from helpline.domain.access import Viewer
from helpline.domain.mentions import Colleague, mention_handles, resolve_mentions
from helpline.services.events import LiveEvent, queue_event

EXCERPT_CHARS = 200
MAX_PAGE = 100


def _excerpt(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def notification_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "conversation_id": notification.conversation_id,
        "message_id": notification.message_id,
        "actor_user_id": notification.actor_user_id,
        "data": notification.data,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


def record_mentions(
    db: Session,
    conversation: Conversation,
    message: Message,
    *,
    author_id: int,
    now: datetime,
) -> list[int]:
    """Inside the note's transaction: a notification row and a live event for each
    colleague the note mentions who can see the conversation (never the author).
    Returns the notified user ids."""
    handles = mention_handles(message.body)
    if not handles:
        return []
    from helpline.services.conversations import can_see
    from helpline.services.viewer import load_viewer

    staff = list(db.scalars(select(User).where(User.is_active.is_(True))))
    colleagues = [Colleague(user.id, user.name, user.email) for user in staff]
    by_id = {user.id: user for user in staff}
    author = by_id.get(author_id)
    notified: list[int] = []
    for user_id in resolve_mentions(handles, colleagues):
        user = by_id[user_id]
        if user_id == author_id or not can_see(load_viewer(db, user), conversation):
            continue
        notification = Notification(
            user_id=user_id,
            kind="mention",
            conversation_id=conversation.id,
            message_id=message.id,
            actor_user_id=author_id,
            data={
                "actor_name": author.name if author else None,
                "conversation_number": conversation.number,
                "subject": conversation.subject,
                "excerpt": _excerpt(message.body),
            },
            created_at=now,
        )
        db.add(notification)
        db.flush()
        # No conversation id on the event: it reaches the colleague whether or not
        # they have this conversation open.
        queue_event(
            db,
            LiveEvent(
                type="notification.created",
                payload={"notification": notification_payload(notification)},
                user_ids=frozenset({user_id}),
            ),
        )
        notified.append(user_id)
    return notified


@dataclass(frozen=True, slots=True)
class NotificationPage:
    data: list[Notification]
    unread: int


def list_notifications(
    db: Session, viewer: Viewer, *, unread_only: bool = False, limit: int = 50
) -> NotificationPage:
    """The viewer's newest notifications about conversations they can still see."""
    from helpline.services.conversation_queries import visibility_clause

    visible = Conversation.id.in_(select(Conversation.id).where(visibility_clause(viewer)))
    query = (
        select(Notification)
        .join(Conversation, Conversation.id == Notification.conversation_id)
        .where(Notification.user_id == viewer.user_id, visible)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = list(
        db.scalars(query.order_by(Notification.id.desc()).limit(max(1, min(limit, MAX_PAGE))))
    )
    unread = db.scalar(
        select(func.count())
        .select_from(Notification)
        .join(Conversation, Conversation.id == Notification.conversation_id)
        .where(Notification.user_id == viewer.user_id, Notification.read_at.is_(None), visible)
    )
    db.commit()
    return NotificationPage(rows, int(unread or 0))


def do_mark_read(
    db: Session, viewer: Viewer, *, now: datetime, ids: Sequence[int] | None = None
) -> int:
    """Mark the viewer's notifications read (these ids, or all); returns how many
    changed. Other people's ids are ignored."""
    statement = update(Notification).where(
        Notification.user_id == viewer.user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(sorted(set(ids))))
    changed = db.execute(statement.values(read_at=now)).rowcount  # type: ignore[attr-defined]
    if changed:
        queue_event(
            db,
            LiveEvent(
                type="notification.read",
                payload={"ids": sorted(set(ids)) if ids is not None else None},
                user_ids=frozenset({viewer.user_id}),
            ),
        )
    db.commit()
    return int(changed or 0)
