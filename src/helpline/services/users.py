"""Staff accounts as admins manage them: create, change, deactivate.

Every staff member may list active colleagues (agents transfer chats to them);
only admins see deactivated accounts and change anything. Each change is written
to the audit log with the fields it touched, never a password.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from helpline.adapters.db.models import ApiToken, Inbox, InboxMember, Team, TeamMember, User
from helpline.adapters.passwords import hash_password
from helpline.domain.access import Viewer
from helpline.domain.enums import AgentStatus, Role
from helpline.services.accounts import check_password_policy, normalise_email
from helpline.services.audit import record_audit
from helpline.services.auth import revoke_sessions
from helpline.services.contacts import EMAIL_PATTERN
from helpline.services.errors import Conflict, NotFound, ValidationFailed
from helpline.services.events import LiveEvent, queue_event
from helpline.services.unique import flush_unique

EDITABLE_FIELDS = frozenset(
    {
        "email",
        "name",
        "role",
        "password",
        "tier",
        "max_concurrent_chats",
        "refund_limit_cents",
        "skills",
        "languages",
        "team_ids",
        "inbox_ids",
        "is_active",
    }
)
"""What `do_update_user` accepts; anything else is a programming error."""

_PLAIN_FIELDS = (
    "email",
    "name",
    "role",
    "tier",
    "max_concurrent_chats",
    "refund_limit_cents",
    "skills",
    "languages",
    "is_active",
)


@dataclass(frozen=True, slots=True)
class UserFilters:
    role: Role | None = None
    team_id: int | None = None
    q: str | None = None
    """Matches name or email, case-insensitively."""
    include_inactive: bool = False
    """Honoured for admins only."""


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user with their memberships, as the admin API shows them."""

    user: User
    team_ids: list[int]
    inbox_ids: list[int]


# --- checks ------------------------------------------------------------------------------


def check_user_email(email: str) -> str:
    normalised = normalise_email(email)
    if len(normalised) > 254 or not EMAIL_PATTERN.match(normalised):
        raise ValidationFailed("not a valid email address", {"field": "email"})
    return normalised


def check_new_password(password: str, *, email: str) -> None:
    """The same policy agents meet when they change their own password."""
    try:
        check_password_policy(password, email=email)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, {**exc.details, "field": "password"}) from exc


def _check_ids_exist(
    db: Session, model: type[Team] | type[Inbox], ids: Iterable[int], field: str
) -> list[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    found = set(db.scalars(select(model.id).where(model.id.in_(wanted))))
    unknown = [i for i in wanted if i not in found]
    if unknown:
        raise ValidationFailed(f"unknown ids in {field}", {"field": field, "ids": unknown})
    return wanted


def _email_taken(db: Session, email: str, *, except_user_id: int | None = None) -> bool:
    query = select(User.id).where(func.lower(User.email) == email)
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return db.scalar(query.limit(1)) is not None


# --- reads -------------------------------------------------------------------------------


def _memberships(
    db: Session, user_ids: Sequence[int]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    teams: dict[int, list[int]] = {user_id: [] for user_id in user_ids}
    inboxes: dict[int, list[int]] = {user_id: [] for user_id in user_ids}
    if user_ids:
        for user_id, team_id in db.execute(
            select(TeamMember.user_id, TeamMember.team_id)
            .where(TeamMember.user_id.in_(user_ids))
            .order_by(TeamMember.team_id)
        ):
            teams[user_id].append(team_id)
        for user_id, inbox_id in db.execute(
            select(InboxMember.user_id, InboxMember.inbox_id)
            .where(InboxMember.user_id.in_(user_ids))
            .order_by(InboxMember.inbox_id)
        ):
            inboxes[user_id].append(inbox_id)
    return teams, inboxes


def _rows(db: Session, users: Sequence[User]) -> list[UserRow]:
    teams, inboxes = _memberships(db, [user.id for user in users])
    return [UserRow(user, teams[user.id], inboxes[user.id]) for user in users]


def list_users(db: Session, viewer: Viewer, filters: UserFilters) -> list[UserRow]:
    """Colleagues by name; deactivated accounts only for admins who ask for them."""
    query = select(User).order_by(func.lower(User.name), User.id)
    if not (viewer.is_admin and filters.include_inactive):
        query = query.where(User.is_active.is_(True))
    if filters.role is not None:
        query = query.where(User.role == filters.role.value)
    if filters.team_id is not None:
        query = query.where(
            User.id.in_(select(TeamMember.user_id).where(TeamMember.team_id == filters.team_id))
        )
    if filters.q:
        pattern = "%" + filters.q.strip().lower().replace("%", "").replace("_", "") + "%"
        query = query.where(
            or_(func.lower(User.name).like(pattern), func.lower(User.email).like(pattern))
        )
    return _rows(db, list(db.scalars(query)))


def access_user(db: Session, viewer: Viewer, user_id: int) -> UserRow:
    """A colleague; a deactivated account exists only for admins."""
    user = db.get(User, user_id)
    if user is None or (not user.is_active and not viewer.is_admin):
        raise NotFound("user", user_id)
    return _rows(db, [user])[0]


# --- writes ------------------------------------------------------------------------------


def _replace_teams(db: Session, user_id: int, team_ids: Sequence[int]) -> None:
    db.execute(delete(TeamMember).where(TeamMember.user_id == user_id))
    db.add_all(TeamMember(team_id=team_id, user_id=user_id) for team_id in team_ids)


def _replace_inboxes(db: Session, user_id: int, inbox_ids: Sequence[int]) -> None:
    db.execute(delete(InboxMember).where(InboxMember.user_id == user_id))
    db.add_all(InboxMember(inbox_id=inbox_id, user_id=user_id) for inbox_id in inbox_ids)


def _tell_user(db: Session, user: User, changed: Sequence[str]) -> None:
    """The user's open tabs refresh what they may see (or sign out when deactivated)."""
    queue_event(
        db,
        LiveEvent(
            type="user.deactivated" if not user.is_active else "user.updated",
            payload={"user_id": user.id, "changed": list(changed), "role": user.role},
            user_ids=frozenset({user.id}),
        ),
    )


def do_create_user(
    db: Session,
    admin: User,
    *,
    email: str,
    name: str,
    password: str,
    role: Role = Role.AGENT,
    tier: int = 1,
    max_concurrent_chats: int = 3,
    refund_limit_cents: int = 0,
    skills: Sequence[str] = (),
    languages: Sequence[str] = ("en",),
    team_ids: Sequence[int] = (),
    inbox_ids: Sequence[int] = (),
    ip: str = "",
    now: datetime,
) -> UserRow:
    """Create a staff account. The password is hashed before the write transaction
    starts (argon2 is slow; on SQLite the transaction holds the write lock)."""
    email = check_user_email(email)
    check_new_password(password, email=email)
    db.commit()  # end the caller's read transaction before the slow hash
    password_hash = hash_password(password)

    if _email_taken(db, email):
        db.rollback()
        raise Conflict("a user with this email already exists", {"field": "email"})
    teams = _check_ids_exist(db, Team, team_ids, "team_ids")
    inboxes = _check_ids_exist(db, Inbox, inbox_ids, "inbox_ids")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=password_hash,
        role=role.value,
        tier=tier,
        max_concurrent_chats=max_concurrent_chats,
        refund_limit_cents=refund_limit_cents,
        skills=list(dict.fromkeys(skills)),
        languages=list(dict.fromkeys(languages)),
        status=AgentStatus.OFFLINE.value,
        status_since=now,
        password_changed_at=now,
        created_at=now,
    )
    db.add(user)
    flush_unique(db, "a user with this email already exists", "email")
    _replace_teams(db, user.id, teams)
    _replace_inboxes(db, user.id, inboxes)
    record_audit(
        db,
        actor_user_id=admin.id,
        action="user.created",
        target_type="user",
        target_id=user.id,
        details={
            "fields": sorted(
                {"email", "name", "role", "password", "tier", "max_concurrent_chats"}
                | {"refund_limit_cents", "skills", "languages", "team_ids", "inbox_ids"}
            ),
            "values": {
                "email": user.email,
                "name": user.name,
                "role": user.role,
                "tier": user.tier,
                "max_concurrent_chats": user.max_concurrent_chats,
                "refund_limit_cents": user.refund_limit_cents,
                "skills": user.skills,
                "languages": user.languages,
                "team_ids": teams,
                "inbox_ids": inboxes,
            },
        },
        ip=ip,
        now=now,
    )
    db.commit()
    return UserRow(user, teams, inboxes)


def _lock_active_admins(db: Session) -> list[int]:
    """Row locks on every active admin, in id order (PostgreSQL; SQLite already
    holds the write lock), so two admins demoting each other at once cannot both
    succeed and leave the installation without one."""
    return list(
        db.scalars(
            select(User.id)
            .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
            .order_by(User.id)
            .with_for_update()
        )
    )


def do_update_user(
    db: Session,
    admin: User,
    user_id: int,
    changes: Mapping[str, Any],
    *,
    ip: str = "",
    now: datetime,
) -> UserRow:
    """Change a staff account; only the keys present in `changes` are touched.

    Deactivating ends every browser session and revokes every API token. The last
    active admin can be neither deactivated nor demoted (Conflict). Locks the
    active admins (when role or is_active change) and then the user's row.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed("these fields cannot be changed", {"fields": sorted(unknown)})
    for field in ("email", "name", "role", "tier", "max_concurrent_chats", "is_active"):
        if field in changes and changes[field] is None:
            raise ValidationFailed(f"{field} cannot be empty", {"field": field})

    password_hash: str | None = None
    if changes.get("password") is not None:
        current = db.get(User, user_id)
        if current is None:
            raise NotFound("user", user_id)
        new_email = changes.get("email") or current.email
        check_new_password(str(changes["password"]), email=str(new_email))
        db.commit()  # end the read before the slow hash
        password_hash = hash_password(str(changes["password"]))

    active_admins: list[int] = []
    if "role" in changes or "is_active" in changes:
        active_admins = _lock_active_admins(db)
    user = db.scalar(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if user is None:
        raise NotFound("user", user_id)

    new_values: dict[str, Any] = {}
    for field in _PLAIN_FIELDS:
        if field not in changes or changes[field] is None:
            continue
        value = changes[field]
        if field == "email":
            value = check_user_email(str(value))
            if value != user.email and _email_taken(db, value, except_user_id=user.id):
                db.rollback()
                raise Conflict("a user with this email already exists", {"field": "email"})
        elif field == "role":
            value = Role(value).value
        elif field == "name":
            value = str(value).strip()
        elif field in ("skills", "languages"):
            value = list(dict.fromkeys(value))
        if getattr(user, field) != value:
            new_values[field] = value

    stays_admin = new_values.get("role", user.role) == Role.ADMIN.value and new_values.get(
        "is_active", user.is_active
    )
    if user.id in active_admins and not stays_admin and len(active_admins) <= 1:
        db.rollback()
        raise Conflict(
            "this is the last active admin; make someone else admin first",
            {"field": "role" if "role" in new_values else "is_active"},
        )

    memberships = _rows(db, [user])[0]
    teams_before, inboxes_before = memberships.team_ids, memberships.inbox_ids
    audit_changes: dict[str, dict[str, Any]] = {}
    for field, value in new_values.items():
        audit_changes[field] = {"from": getattr(user, field), "to": value}
        setattr(user, field, value)
    new_teams, new_inboxes = teams_before, inboxes_before
    if changes.get("team_ids") is not None:
        new_teams = _check_ids_exist(db, Team, changes["team_ids"], "team_ids")
        if new_teams != teams_before:
            _replace_teams(db, user.id, new_teams)
            audit_changes["team_ids"] = {"from": teams_before, "to": new_teams}
    if changes.get("inbox_ids") is not None:
        new_inboxes = _check_ids_exist(db, Inbox, changes["inbox_ids"], "inbox_ids")
        if new_inboxes != inboxes_before:
            _replace_inboxes(db, user.id, new_inboxes)
            audit_changes["inbox_ids"] = {"from": inboxes_before, "to": new_inboxes}

    changed_fields = sorted(audit_changes)
    if password_hash is not None:
        user.password_hash = password_hash
        user.password_changed_at = now
        revoke_sessions(db, user.id)
        changed_fields = sorted([*changed_fields, "password"])
    if new_values.get("is_active") is False:
        revoke_sessions(db, user.id)
        db.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        user.status = AgentStatus.OFFLINE.value
        user.status_since = now

    if changed_fields:
        record_audit(
            db,
            actor_user_id=admin.id,
            action=_audit_action(new_values),
            target_type="user",
            target_id=user.id,
            details={"fields": changed_fields, "changes": audit_changes},
            ip=ip,
            now=now,
        )
        _tell_user(db, user, changed_fields)
    db.commit()
    return UserRow(user, new_teams, new_inboxes)


def _audit_action(new_values: Mapping[str, Any]) -> str:
    if new_values.get("is_active") is False:
        return "user.deactivated"
    if new_values.get("is_active") is True:
        return "user.reactivated"
    return "user.updated"
