"""Teams: who works together, at which tier, on which categories.

Every staff member may list teams (to transfer a conversation to one); only
admins change them, and every change is audited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Conversation, Team, TeamMember, User
from helpline.domain.lifecycle import ACTIVE_STATUSES
from helpline.services.audit import record_audit
from helpline.services.errors import Conflict, NotFound, ValidationFailed
from helpline.services.events import LiveEvent, queue_event
from helpline.services.memberships import check_member_ids, membership_change
from helpline.services.unique import flush_unique

CATEGORY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
"""A category is one of domain.enums.DEFAULT_CATEGORIES or any lower-case slug."""

EDITABLE_FIELDS = frozenset({"name", "description", "tier", "categories"})


@dataclass(frozen=True, slots=True)
class TeamRow:
    team: Team
    member_ids: list[int]


def check_categories(categories: Sequence[str]) -> list[str]:
    bad = [category for category in categories if not CATEGORY_PATTERN.match(category)]
    if bad:
        raise ValidationFailed(
            "categories are lower-case slugs such as billing or returns",
            {"field": "categories", "values": bad},
        )
    return list(dict.fromkeys(categories))


def check_team_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationFailed("a team needs a name", {"field": "name"})
    return name


def _name_taken(db: Session, name: str, *, except_team_id: int | None = None) -> bool:
    query = select(Team.id).where(func.lower(Team.name) == name.lower())
    if except_team_id is not None:
        query = query.where(Team.id != except_team_id)
    return db.scalar(query.limit(1)) is not None


def _member_ids(db: Session, team_ids: Sequence[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = {team_id: [] for team_id in team_ids}
    if team_ids:
        for team_id, user_id in db.execute(
            select(TeamMember.team_id, TeamMember.user_id)
            .where(TeamMember.team_id.in_(team_ids))
            .order_by(TeamMember.user_id)
        ):
            members[team_id].append(user_id)
    return members


def list_teams(db: Session) -> list[TeamRow]:
    teams = list(db.scalars(select(Team).order_by(func.lower(Team.name), Team.id)))
    members = _member_ids(db, [team.id for team in teams])
    return [TeamRow(team, members[team.id]) for team in teams]


def access_team(db: Session, team_id: int) -> TeamRow:
    """Teams are visible to all staff, so existence is the only check."""
    team = db.get(Team, team_id)
    if team is None:
        raise NotFound("team", team_id)
    return TeamRow(team, _member_ids(db, [team.id])[team.id])


def _lock_team(db: Session, team_id: int) -> Team:
    team = db.scalar(select(Team).where(Team.id == team_id).with_for_update())
    if team is None:
        raise NotFound("team", team_id)
    return team


def do_create_team(
    db: Session,
    admin: User,
    *,
    name: str,
    description: str = "",
    tier: int = 1,
    categories: Sequence[str] = (),
    ip: str = "",
    now: datetime,
) -> TeamRow:
    name = check_team_name(name)
    clean_categories = check_categories(categories)
    if _name_taken(db, name):
        raise Conflict("a team with this name already exists", {"field": "name"})
    team = Team(
        name=name,
        description=description,
        tier=tier,
        categories=clean_categories,
        created_at=now,
    )
    db.add(team)
    flush_unique(db, "a team with this name already exists", "name")
    record_audit(
        db,
        actor_user_id=admin.id,
        action="team.created",
        target_type="team",
        target_id=team.id,
        details={
            "fields": ["categories", "description", "name", "tier"],
            "values": {"name": name, "tier": tier, "categories": clean_categories},
        },
        ip=ip,
        now=now,
    )
    db.commit()
    return TeamRow(team, [])


def do_update_team(
    db: Session,
    admin: User,
    team_id: int,
    changes: Mapping[str, Any],
    *,
    ip: str = "",
    now: datetime,
) -> TeamRow:
    """Change the keys present in `changes`. Locks the team row."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed("these fields cannot be changed", {"fields": sorted(unknown)})
    team = _lock_team(db, team_id)
    audit_changes: dict[str, dict[str, Any]] = {}
    for field, raw in changes.items():
        if raw is None:
            raise ValidationFailed(f"{field} cannot be empty", {"field": field})
        value: Any = raw
        if field == "name":
            value = check_team_name(str(raw))
            if value != team.name and _name_taken(db, value, except_team_id=team.id):
                raise Conflict("a team with this name already exists", {"field": "name"})
        elif field == "categories":
            value = check_categories(raw)
        if getattr(team, field) != value:
            audit_changes[field] = {"from": getattr(team, field), "to": value}
            setattr(team, field, value)
    if audit_changes:
        record_audit(
            db,
            actor_user_id=admin.id,
            action="team.updated",
            target_type="team",
            target_id=team.id,
            details={"fields": sorted(audit_changes), "changes": audit_changes},
            ip=ip,
            now=now,
        )
    members = _member_ids(db, [team.id])[team.id]
    db.commit()
    return TeamRow(team, members)


def do_delete_team(db: Session, admin: User, team_id: int, *, ip: str = "", now: datetime) -> None:
    """Delete a team that no longer works on anything. Conversations still open,
    pending or on hold for it must be moved first (Conflict); solved and closed
    ones keep their history and simply lose the team. Locks the team row."""
    team = _lock_team(db, team_id)
    still_open = db.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.team_id == team.id,
            Conversation.status.in_([status.value for status in ACTIVE_STATUSES]),
        )
    )
    if still_open:
        raise Conflict(
            "the team still has open conversations; transfer them first",
            {"open_conversations": still_open},
        )
    members = _member_ids(db, [team.id])[team.id]
    record_audit(
        db,
        actor_user_id=admin.id,
        action="team.deleted",
        target_type="team",
        target_id=team.id,
        details={"name": team.name, "member_ids": members},
        ip=ip,
        now=now,
    )
    db.delete(team)
    _tell_members(db, members, team_id)
    db.commit()


def do_set_team_members(
    db: Session,
    admin: User,
    team_id: int,
    user_ids: Sequence[int],
    *,
    ip: str = "",
    now: datetime,
) -> TeamRow:
    """Replace the team's members. Locks the team row."""
    team = _lock_team(db, team_id)
    wanted = check_member_ids(db, user_ids)
    before = _member_ids(db, [team.id])[team.id]
    if before != wanted:
        db.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
        db.add_all(TeamMember(team_id=team.id, user_id=user_id) for user_id in wanted)
        record_audit(
            db,
            actor_user_id=admin.id,
            action="team.members_set",
            target_type="team",
            target_id=team.id,
            details=membership_change(before, wanted),
            ip=ip,
            now=now,
        )
        _tell_members(db, sorted(set(wanted) ^ set(before)), team.id)
    db.commit()
    return TeamRow(team, wanted)


def _tell_members(db: Session, user_ids: Sequence[int], team_id: int) -> None:
    """Users who joined or left a team see different conversations now."""
    for user_id in user_ids:
        queue_event(
            db,
            LiveEvent(
                type="user.updated",
                payload={"user_id": user_id, "changed": ["team_ids"], "team_id": team_id},
                user_ids=frozenset({user_id}),
            ),
        )
