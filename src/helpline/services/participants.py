"""Working together on a conversation: colleagues join it to help or take over, and
leave again. A participant (until they leave) sees the conversation, replies in it
and hears its live events, like its assignee (`domain.access`).

Who may do what: anyone who can see a conversation may join it; the assignee, a
supervisor or an admin may add a colleague (who then gains sight of it) or remove
one; everyone may leave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, object_session

from helpline.adapters.db.models import Conversation, Participant, User
from helpline.domain.access import Viewer
from helpline.domain.enums import ActivityKind
from helpline.services.errors import NotFound, PermissionDenied, ValidationFailed
from helpline.services.history import record_activity

_JOINED_KEY = "helpline_joined_conversations"


# ---------------------------------------------------------------- access support


def joined_conversation_ids(db: Session, user_id: int) -> frozenset[int]:
    """Conversations this agent joined and has not left. Cached for the rest of the
    session's transaction, so an access check per row of a list costs one query."""
    cache: dict[int, frozenset[int]] = db.info.setdefault(_JOINED_KEY, {})
    joined = cache.get(user_id)
    if joined is None:
        joined = frozenset(
            db.scalars(
                select(Participant.conversation_id).where(
                    Participant.user_id == user_id, Participant.left_at.is_(None)
                )
            )
        )
        cache[user_id] = joined
    return joined


def _forget_joined(db: Session) -> None:
    db.info.pop(_JOINED_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_transaction(db: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        _forget_joined(db)


def participant_ids_for_access(conversation: Conversation, user_id: int) -> frozenset[int]:
    """The part of the conversation's participants the access rule needs for this
    user: `{user_id}` when they joined it and have not left, else nothing."""
    db = object_session(conversation)
    if db is None:
        return frozenset()
    if conversation.id in joined_conversation_ids(db, user_id):
        return frozenset({user_id})
    return frozenset()


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    user_id: int
    name: str
    role: str
    joined_at: datetime


def _active_rows(db: Session, conversation_id: int) -> list[ParticipantRow]:
    rows = db.execute(
        select(Participant, User)
        .join(User, User.id == Participant.user_id)
        .where(Participant.conversation_id == conversation_id, Participant.left_at.is_(None))
        .order_by(Participant.joined_at, Participant.id)
    ).all()
    return [
        ParticipantRow(user.id, user.name, user.role, participant.joined_at)
        for participant, user in rows
    ]


def list_participants(db: Session, viewer: Viewer, conversation_id: int) -> list[ParticipantRow]:
    """Who is helping in a conversation (not the assignee unless they joined too)."""
    from helpline.services.conversations import access_conversation

    conversation = access_conversation(db, viewer, conversation_id)
    rows = _active_rows(db, conversation.id)
    db.commit()
    return rows


# ---------------------------------------------------------------- writing


def _may_manage(viewer: Viewer, conversation: Conversation) -> bool:
    return viewer.is_supervisor_or_admin or conversation.assignee_id == viewer.user_id


def _target(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationFailed("no active user with this id", {"field": "user_id", "id": user_id})
    return user


def _locked_for(
    db: Session, viewer: Viewer, conversation_id: int, user_id: int | None, action: str
) -> tuple[Conversation, int]:
    """Lock a conversation the viewer can see and say whom the change is for: the
    viewer, or a colleague when the viewer may manage the conversation."""
    from helpline.services import conversations

    conversation = conversations._lock_visible(db, viewer, conversation_id)
    target_id = viewer.user_id if user_id is None else user_id
    if target_id != viewer.user_id and not _may_manage(viewer, conversation):
        raise PermissionDenied(
            f"only the assignee, a supervisor or an admin can {action} a colleague",
            {"user_id": target_id},
        )
    return conversation, target_id


def do_join(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    now: datetime,
    user_id: int | None = None,
) -> list[ParticipantRow]:
    """Join a conversation you can see, or (assignee, supervisor, admin) add a
    colleague. Joining twice changes nothing. Locks the conversation; commits;
    returns the participants."""
    from helpline.services import conversations

    conversation, joiner_id = _locked_for(db, viewer, conversation_id, user_id, "add")
    joiner = _target(db, joiner_id)
    row = db.scalar(
        select(Participant).where(
            Participant.conversation_id == conversation.id, Participant.user_id == joiner.id
        )
    )
    if row is not None and row.left_at is None:
        rows = _active_rows(db, conversation.id)
        db.commit()
        return rows
    if row is None:
        db.add(Participant(conversation_id=conversation.id, user_id=joiner.id, joined_at=now))
    else:
        row.joined_at, row.left_at = now, None
    data: dict[str, Any] = {"user_id": joiner.id, "user_name": joiner.name}
    if joiner.id != viewer.user_id:
        data["added_by"] = viewer.user_id
    activity = record_activity(
        db,
        conversation,
        ActivityKind.PARTICIPANT_JOINED,
        now=now,
        actor_user_id=viewer.user_id,
        data=data,
    )
    _forget_joined(db)
    conversations._queue_conversation_event(
        db, "conversation.updated", conversation, activities=[activity]
    )
    rows = _active_rows(db, conversation.id)
    db.commit()
    return rows


def do_leave(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    now: datetime,
    user_id: int | None = None,
) -> list[ParticipantRow]:
    """Leave a conversation you joined, or (assignee, supervisor, admin) remove a
    colleague from it. The one who leaves hears the change once more, then loses
    sight of it unless another rule still shows it. Locks the conversation; commits."""
    from helpline.services import conversations
    from helpline.services.recipients import recipients_for

    conversation, leaver_id = _locked_for(db, viewer, conversation_id, user_id, "remove")
    row = db.scalar(
        select(Participant).where(
            Participant.conversation_id == conversation.id,
            Participant.user_id == leaver_id,
            Participant.left_at.is_(None),
        )
    )
    if row is None:
        raise NotFound("participant", leaver_id)
    before = recipients_for(db, conversation)
    row.left_at = now
    leaver = db.get(User, leaver_id)
    activity = record_activity(
        db,
        conversation,
        ActivityKind.PARTICIPANT_LEFT,
        now=now,
        actor_user_id=viewer.user_id,
        data={"user_id": leaver_id, "user_name": leaver.name if leaver else None},
    )
    _forget_joined(db)
    conversations._queue_conversation_event(
        db, "conversation.updated", conversation, activities=[activity], also_notify=before
    )
    rows = _active_rows(db, conversation.id)
    db.commit()
    return rows
