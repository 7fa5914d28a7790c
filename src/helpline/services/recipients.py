"""Who hears about a change to a conversation: exactly the staff who may see it.

The SQL here mirrors `helpline.domain.access.can_see_conversation` from the other
side (given a conversation, find the users), so a live event never reaches an
agent who could not open the conversation it describes.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Conversation, InboxMember, Participant, TeamMember, User
from helpline.domain.enums import Role
from helpline.services import config_cache


def conversation_recipients(
    db: Session,
    *,
    assignee_id: int | None,
    team_id: int | None,
    inbox_id: int,
    conversation_id: int | None = None,
) -> frozenset[int]:
    """Active users who can see a conversation with these fields, in one query:
    its assignee, its participants (given `conversation_id`), members of its team,
    inbox members when it has no team, supervisors who are members of its inbox,
    and every admin."""
    in_inbox = User.id.in_(select(InboxMember.user_id).where(InboxMember.inbox_id == inbox_id))
    conditions = [User.role == Role.ADMIN.value]
    if assignee_id is not None:
        conditions.append(User.id == assignee_id)
    if conversation_id is not None:
        conditions.append(
            User.id.in_(
                select(Participant.user_id).where(
                    Participant.conversation_id == conversation_id,
                    Participant.left_at.is_(None),
                )
            )
        )
    if team_id is not None:
        conditions.append(
            User.id.in_(select(TeamMember.user_id).where(TeamMember.team_id == team_id))
        )
        conditions.append(and_(User.role == Role.SUPERVISOR.value, in_inbox))
    else:
        conditions.append(in_inbox)
    user_ids = db.scalars(select(User.id).where(User.is_active.is_(True), or_(*conditions)))
    return frozenset(user_ids)


def staff_recipients(
    db: Session,
    *,
    assignee_id: int | None,
    team_id: int | None,
    inbox_id: int,
    participants: Collection[int] = (),
) -> frozenset[int]:
    """`conversation_recipients` from the configuration cache: the team's and inbox's
    people once per (team, inbox) and configuration, plus the assignee and the
    participants when they are active. One cached set per team and inbox instead of
    one per assignee: with thousands of agents each would be read from the database
    on its first message."""
    base = config_cache.cached(
        db,
        ("recipients.base", team_id, inbox_id),
        lambda: conversation_recipients(db, assignee_id=None, team_id=team_id, inbox_id=inbox_id),
    )
    extra = set(participants)
    if assignee_id is not None:
        extra.add(assignee_id)
    extra -= base
    if not extra:
        return base
    active = config_cache.cached(
        db,
        "recipients.active_users",
        lambda: frozenset(db.scalars(select(User.id).where(User.is_active.is_(True)))),
    )
    return base | (extra & active)


def recipients_for(db: Session, conversation: Conversation) -> frozenset[int]:
    participants = db.scalars(
        select(Participant.user_id).where(
            Participant.conversation_id == conversation.id, Participant.left_at.is_(None)
        )
    ).all()
    return staff_recipients(
        db,
        assignee_id=conversation.assignee_id,
        team_id=conversation.team_id,
        inbox_id=conversation.inbox_id,
        participants=participants,
    )


def supervisor_ids(db: Session) -> frozenset[int]:
    """Active supervisors and admins: they watch every agent's presence and load."""
    return frozenset(
        db.scalars(
            select(User.id).where(
                User.is_active.is_(True),
                User.role.in_([Role.SUPERVISOR.value, Role.ADMIN.value]),
            )
        )
    )
