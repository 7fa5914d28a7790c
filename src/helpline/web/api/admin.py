"""REST routes for staff, teams, inboxes and the audit log.

Reading colleagues, teams and one's own inboxes is open to all signed-in staff
(agents need it to transfer conversations); every change is for admins only
(`AdminUser`, 403 otherwise) and lands in the audit log with the caller's IP.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from helpline.domain.enums import Role
from helpline.services import inboxes as inbox_service
from helpline.services import teams as team_service
from helpline.services import users as user_service
from helpline.services.audit import list_audit_log
from helpline.web.deps import AdminUser, CurrentViewer, DbSession, Now, client_ip
from helpline.web.schemas.admin import (
    AuditEntryPublic,
    AuditLogPage,
    InboxAdmin,
    InboxCreate,
    InboxList,
    InboxPublic,
    InboxUpdate,
    MembersUpdate,
    StaffUserList,
    StaffUserPublic,
    TeamCreate,
    TeamList,
    TeamPublic,
    TeamUpdate,
    UserCreate,
    UserUpdate,
)
from helpline.web.schemas.users import UserPublic

router = APIRouter(tags=["admin"])

ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1)]


# --- shaping -----------------------------------------------------------------------------


def _user(row: user_service.UserRow) -> StaffUserPublic:
    public = UserPublic.model_validate(row.user)
    return StaffUserPublic(**public.model_dump(), team_ids=row.team_ids, inbox_ids=row.inbox_ids)


def _team(row: team_service.TeamRow) -> TeamPublic:
    team = row.team
    return TeamPublic(
        id=team.id,
        name=team.name,
        description=team.description,
        tier=team.tier,
        categories=list(team.categories),
        member_ids=row.member_ids,
        created_at=team.created_at,
    )


def _inbox_fields(row: inbox_service.InboxRow) -> dict[str, object]:
    inbox = row.inbox
    return {
        "id": inbox.id,
        "name": inbox.name,
        "channel": inbox.channel,
        "public_key": inbox.public_key,
        "email_address": inbox.email_address,
        "default_team_id": inbox.default_team_id,
        "routing_strategy": inbox.routing_strategy,
        "settings": dict(inbox.settings),
        "is_active": inbox.is_active,
        "member_ids": row.member_ids,
        "created_at": inbox.created_at,
    }


def _inbox(row: inbox_service.InboxRow) -> InboxPublic:
    return InboxPublic.model_validate(_inbox_fields(row))


def _inbox_admin(row: inbox_service.InboxRow) -> InboxAdmin:
    return InboxAdmin.model_validate({**_inbox_fields(row), "secret": row.inbox.secret})


# --- users -------------------------------------------------------------------------------


@router.get("/users", response_model=StaffUserList)
def list_users(
    db: DbSession,
    viewer: CurrentViewer,
    role: Role | None = None,
    team_id: Annotated[int | None, Query(ge=1)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    include_inactive: bool = False,
) -> StaffUserList:
    """Active colleagues (admins may add `include_inactive=true`)."""
    filters = user_service.UserFilters(
        role=role, team_id=team_id, q=q, include_inactive=include_inactive
    )
    rows = user_service.list_users(db, viewer, filters)
    return StaffUserList(data=[_user(row) for row in rows], count=len(rows))


@router.get("/users/{user_id}", response_model=StaffUserPublic)
def get_user(user_id: ObjectId, db: DbSession, viewer: CurrentViewer) -> StaffUserPublic:
    return _user(user_service.access_user(db, viewer, user_id))


@router.post("/users", response_model=StaffUserPublic, status_code=201)
def create_user(
    body: UserCreate, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> StaffUserPublic:
    row = user_service.do_create_user(
        db,
        admin,
        email=body.email,
        name=body.name,
        password=body.password,
        role=body.role,
        tier=body.tier,
        max_concurrent_chats=body.max_concurrent_chats,
        refund_limit_cents=body.refund_limit_cents,
        skills=body.skills,
        languages=body.languages,
        team_ids=body.team_ids,
        inbox_ids=body.inbox_ids,
        ip=client_ip(request),
        now=now,
    )
    return _user(row)


@router.patch("/users/{user_id}", response_model=StaffUserPublic)
def update_user(
    user_id: ObjectId,
    body: UserUpdate,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
) -> StaffUserPublic:
    """Change a user; `is_active: false` signs them out everywhere and revokes their
    API tokens. The last active admin cannot be deactivated or demoted (409)."""
    row = user_service.do_update_user(
        db, admin, user_id, body.changes(), ip=client_ip(request), now=now
    )
    return _user(row)


# --- teams -------------------------------------------------------------------------------


@router.get("/teams", response_model=TeamList)
def list_teams(db: DbSession, _viewer: CurrentViewer) -> TeamList:
    rows = team_service.list_teams(db)
    return TeamList(data=[_team(row) for row in rows], count=len(rows))


@router.get("/teams/{team_id}", response_model=TeamPublic)
def get_team(team_id: ObjectId, db: DbSession, _viewer: CurrentViewer) -> TeamPublic:
    return _team(team_service.access_team(db, team_id))


@router.post("/teams", response_model=TeamPublic, status_code=201)
def create_team(
    body: TeamCreate, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> TeamPublic:
    row = team_service.do_create_team(
        db,
        admin,
        name=body.name,
        description=body.description,
        tier=body.tier,
        categories=body.categories,
        ip=client_ip(request),
        now=now,
    )
    return _team(row)


@router.patch("/teams/{team_id}", response_model=TeamPublic)
def update_team(
    team_id: ObjectId,
    body: TeamUpdate,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
) -> TeamPublic:
    row = team_service.do_update_team(
        db, admin, team_id, body.changes(), ip=client_ip(request), now=now
    )
    return _team(row)


@router.delete("/teams/{team_id}", status_code=204)
def delete_team(
    team_id: ObjectId, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> Response:
    """Refused (409) while the team still has open, pending or on-hold conversations."""
    team_service.do_delete_team(db, admin, team_id, ip=client_ip(request), now=now)
    return Response(status_code=204)


@router.put("/teams/{team_id}/members", response_model=TeamPublic)
def set_team_members(
    team_id: ObjectId,
    body: MembersUpdate,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
) -> TeamPublic:
    row = team_service.do_set_team_members(
        db, admin, team_id, body.user_ids, ip=client_ip(request), now=now
    )
    return _team(row)


# --- inboxes -----------------------------------------------------------------------------


@router.get("/inboxes", response_model=InboxList)
def list_inboxes(db: DbSession, viewer: CurrentViewer) -> InboxList:
    """Admins: every inbox; others: the inboxes they are members of. Never secrets."""
    rows = inbox_service.list_inboxes(db, viewer)
    return InboxList(data=[_inbox(row) for row in rows], count=len(rows))


@router.get("/inboxes/{inbox_id}", response_model=InboxAdmin | InboxPublic)
def get_inbox(inbox_id: ObjectId, db: DbSession, viewer: CurrentViewer) -> InboxPublic:
    """Admins get the admin shape, with the secret."""
    row = inbox_service.access_inbox(db, viewer, inbox_id)
    return _inbox_admin(row) if viewer.is_admin else _inbox(row)


@router.post("/inboxes", response_model=InboxAdmin, status_code=201)
def create_inbox(
    body: InboxCreate, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> InboxAdmin:
    row = inbox_service.do_create_inbox(
        db,
        admin,
        name=body.name,
        channel=body.channel,
        email_address=body.email_address,
        default_team_id=body.default_team_id,
        routing_strategy=body.routing_strategy,
        settings=body.settings,
        ip=client_ip(request),
        now=now,
    )
    return _inbox_admin(row)


@router.patch("/inboxes/{inbox_id}", response_model=InboxAdmin)
def update_inbox(
    inbox_id: ObjectId,
    body: InboxUpdate,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
) -> InboxAdmin:
    row = inbox_service.do_update_inbox(
        db, admin, inbox_id, body.changes(), ip=client_ip(request), now=now
    )
    return _inbox_admin(row)


@router.post("/inboxes/{inbox_id}/rotate-secret", response_model=InboxAdmin)
def rotate_inbox_secret(
    inbox_id: ObjectId, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> InboxAdmin:
    """A new secret; identity hashes signed with the old one stop verifying at once."""
    row = inbox_service.do_rotate_secret(db, admin, inbox_id, ip=client_ip(request), now=now)
    return _inbox_admin(row)


@router.put("/inboxes/{inbox_id}/members", response_model=InboxAdmin)
def set_inbox_members(
    inbox_id: ObjectId,
    body: MembersUpdate,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
) -> InboxAdmin:
    row = inbox_service.do_set_inbox_members(
        db, admin, inbox_id, body.user_ids, ip=client_ip(request), now=now
    )
    return _inbox_admin(row)


# --- audit log ---------------------------------------------------------------------------


@router.get("/audit-log", response_model=AuditLogPage)
def audit_log(
    db: DbSession,
    _admin: AdminUser,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditLogPage:
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    page = list_audit_log(db, action=action, actor_id=actor_id, cursor=cursor, limit=limit)
    return AuditLogPage(
        data=[
            AuditEntryPublic(
                id=entry.id,
                actor_user_id=entry.actor_user_id,
                actor_name=actor_name,
                action=entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                details=dict(entry.details),
                ip=entry.ip,
                created_at=entry.created_at,
            )
            for entry, actor_name in page.data
        ],
        count=page.count,
        next_cursor=page.next_cursor,
    )
