"""REST routes for working together: join and leave a conversation, add or remove
a colleague, and the @mention notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from helpline.services import mentions, participants
from helpline.web.deps import CurrentViewer, DbSession, Now
from helpline.web.schemas.collaboration import (
    NotificationList,
    NotificationPublic,
    NotificationsRead,
    NotificationsReadResult,
    ParticipantAdd,
    ParticipantList,
    ParticipantPublic,
)

router = APIRouter(tags=["collaboration"])

ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _participants(rows: list[participants.ParticipantRow]) -> ParticipantList:
    return ParticipantList(
        data=[
            ParticipantPublic(
                user_id=row.user_id, name=row.name, role=row.role, joined_at=row.joined_at
            )
            for row in rows
        ],
        count=len(rows),
    )


@router.get("/conversations/{conversation_id}/participants", response_model=ParticipantList)
def list_participants(
    conversation_id: ObjectId, db: DbSession, viewer: CurrentViewer
) -> ParticipantList:
    """Colleagues who joined the conversation and have not left."""
    return _participants(participants.list_participants(db, viewer, conversation_id))


@router.post("/conversations/{conversation_id}/join", response_model=ParticipantList)
def join(
    conversation_id: ObjectId, db: DbSession, viewer: CurrentViewer, now: Now
) -> ParticipantList:
    """Join a conversation you can see, to help or take over (twice changes nothing)."""
    return _participants(participants.do_join(db, viewer, conversation_id, now=now))


@router.post("/conversations/{conversation_id}/leave", response_model=ParticipantList)
def leave(
    conversation_id: ObjectId, db: DbSession, viewer: CurrentViewer, now: Now
) -> ParticipantList:
    """Leave a conversation you joined (404 when you are not a participant)."""
    return _participants(participants.do_leave(db, viewer, conversation_id, now=now))


@router.post("/conversations/{conversation_id}/participants", response_model=ParticipantList)
def add_participant(
    conversation_id: ObjectId, body: ParticipantAdd, db: DbSession, viewer: CurrentViewer, now: Now
) -> ParticipantList:
    """The assignee, a supervisor or an admin adds a colleague, who can then see
    the conversation and reply in it."""
    rows = participants.do_join(db, viewer, conversation_id, now=now, user_id=body.user_id)
    return _participants(rows)


@router.delete(
    "/conversations/{conversation_id}/participants/{user_id}", response_model=ParticipantList
)
def remove_participant(
    conversation_id: ObjectId, user_id: ObjectId, db: DbSession, viewer: CurrentViewer, now: Now
) -> ParticipantList:
    """Remove a colleague (assignee, supervisor, admin) or yourself."""
    rows = participants.do_leave(db, viewer, conversation_id, now=now, user_id=user_id)
    return _participants(rows)


@router.get("/notifications", response_model=NotificationList)
def list_notifications(
    db: DbSession,
    viewer: CurrentViewer,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> NotificationList:
    """Your newest notifications (@mentions), about conversations you can still see."""
    page = mentions.list_notifications(db, viewer, unread_only=unread, limit=limit)
    return NotificationList(
        data=[
            NotificationPublic(
                id=row.id,
                kind=row.kind,
                conversation_id=row.conversation_id,
                message_id=row.message_id,
                actor_user_id=row.actor_user_id,
                data=row.data,
                created_at=row.created_at,
                read_at=row.read_at,
            )
            for row in page.data
        ],
        count=len(page.data),
        unread=page.unread,
    )


@router.post("/notifications/read", response_model=NotificationsReadResult)
def mark_read(
    body: NotificationsRead, db: DbSession, viewer: CurrentViewer, now: Now
) -> NotificationsReadResult:
    """Mark some (`ids`) or all of your notifications read."""
    return NotificationsReadResult(changed=mentions.do_mark_read(db, viewer, now=now, ids=body.ids))
