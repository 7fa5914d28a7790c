"""Build the access-rule `Viewer` for a user from their memberships."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import InboxMember, TeamMember, User
from helpline.domain.access import Viewer
from helpline.domain.enums import Role


def load_viewer(db: Session, user: User) -> Viewer:
    team_ids = db.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user.id))
    inbox_ids = db.scalars(select(InboxMember.inbox_id).where(InboxMember.user_id == user.id))
    return Viewer(
        user_id=user.id,
        role=Role(user.role),
        team_ids=frozenset(team_ids),
        inbox_ids=frozenset(inbox_ids),
    )
