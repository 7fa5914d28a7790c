"""Inboxes: one per channel instance (chat widget, email address, phone line, API).

An inbox has a public key (put in the widget snippet, safe to publish) and a
secret (keys identity-verification HMACs; shown to admins only). Staff see the
inboxes they are members of; admins see and change all of them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox, InboxMember, Team, User
from helpline.domain.access import Viewer
from helpline.domain.enums import Channel
from helpline.domain.routing.config import Strategy
from helpline.services.audit import record_audit
from helpline.services.contacts import EMAIL_PATTERN
from helpline.services.errors import Conflict, NotFound, ValidationFailed
from helpline.services.events import LiveEvent, queue_event
from helpline.services.memberships import check_member_ids, membership_change
from helpline.services.unique import flush_unique

EDITABLE_FIELDS = frozenset(
    {"name", "email_address", "default_team_id", "routing_strategy", "settings", "is_active"}
)
"""The channel is fixed: the inbox's conversations carry it."""

MAX_SETTINGS_BYTES = 16_384


@dataclass(frozen=True, slots=True)
class InboxRow:
    inbox: Inbox
    member_ids: list[int]


def new_public_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def new_inbox_secret() -> str:
    return secrets.token_urlsafe(48)


def check_inbox_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationFailed("an inbox needs a name", {"field": "name"})
    return name


def check_email_address(address: str | None, channel: Channel) -> str | None:
    """Email inboxes need the address customers write to; others may not have one."""
    normalised = address.strip().lower() if address else None
    if channel == Channel.EMAIL and not normalised:
        raise ValidationFailed("an email inbox needs an email address", {"field": "email_address"})
    if normalised is not None and (len(normalised) > 254 or not EMAIL_PATTERN.match(normalised)):
        raise ValidationFailed("not a valid email address", {"field": "email_address"})
    return normalised


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    encoded = json.dumps(settings, separators=(",", ":"))
    if len(encoded.encode()) > MAX_SETTINGS_BYTES:
        raise ValidationFailed(
            f"settings are limited to {MAX_SETTINGS_BYTES} bytes", {"field": "settings"}
        )
    decoded: dict[str, Any] = json.loads(encoded)
    return decoded


def _check_team(db: Session, team_id: int | None) -> int | None:
    if team_id is not None and db.get(Team, team_id) is None:
        raise ValidationFailed("unknown team", {"field": "default_team_id", "id": team_id})
    return team_id


def _name_taken(db: Session, name: str, *, except_inbox_id: int | None = None) -> bool:
    query = select(Inbox.id).where(func.lower(Inbox.name) == name.lower())
    if except_inbox_id is not None:
        query = query.where(Inbox.id != except_inbox_id)
    return db.scalar(query.limit(1)) is not None


def _member_ids(db: Session, inbox_ids: Sequence[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = {inbox_id: [] for inbox_id in inbox_ids}
    if inbox_ids:
        for inbox_id, user_id in db.execute(
            select(InboxMember.inbox_id, InboxMember.user_id)
            .where(InboxMember.inbox_id.in_(inbox_ids))
            .order_by(InboxMember.user_id)
        ):
            members[inbox_id].append(user_id)
    return members


# --- reads -------------------------------------------------------------------------------


def list_inboxes(db: Session, viewer: Viewer) -> list[InboxRow]:
    """Admins: every inbox; everyone else: the inboxes they are members of."""
    query = select(Inbox).order_by(func.lower(Inbox.name), Inbox.id)
    if not viewer.is_admin:
        query = query.where(
            Inbox.id.in_(select(InboxMember.inbox_id).where(InboxMember.user_id == viewer.user_id))
        )
    inboxes = list(db.scalars(query))
    members = _member_ids(db, [inbox.id for inbox in inboxes])
    return [InboxRow(inbox, members[inbox.id]) for inbox in inboxes]


def access_inbox(db: Session, viewer: Viewer, inbox_id: int) -> InboxRow:
    """NotFound when missing or when the caller is neither admin nor member."""
    inbox = db.get(Inbox, inbox_id)
    if inbox is None:
        raise NotFound("inbox", inbox_id)
    members = _member_ids(db, [inbox.id])[inbox.id]
    if not viewer.is_admin and viewer.user_id not in members:
        raise NotFound("inbox", inbox_id)
    return InboxRow(inbox, members)


# --- writes ------------------------------------------------------------------------------


def _lock_inbox(db: Session, inbox_id: int) -> Inbox:
    inbox = db.scalar(select(Inbox).where(Inbox.id == inbox_id).with_for_update())
    if inbox is None:
        raise NotFound("inbox", inbox_id)
    return inbox


def do_create_inbox(
    db: Session,
    admin: User,
    *,
    name: str,
    channel: Channel,
    email_address: str | None = None,
    default_team_id: int | None = None,
    routing_strategy: Strategy = Strategy.PRIORITY,
    settings: Mapping[str, Any] | None = None,
    ip: str = "",
    now: datetime,
) -> InboxRow:
    """Create an inbox with a fresh public key and secret."""
    name = check_inbox_name(name)
    address = check_email_address(email_address, channel)
    clean_settings = check_settings(settings or {})
    if _name_taken(db, name):
        raise Conflict("an inbox with this name already exists", {"field": "name"})
    inbox = Inbox(
        name=name,
        channel=channel.value,
        public_key=new_public_key(),
        secret=new_inbox_secret(),
        email_address=address,
        default_team_id=_check_team(db, default_team_id),
        routing_strategy=routing_strategy.value,
        settings=clean_settings,
        created_at=now,
    )
    db.add(inbox)
    flush_unique(db, "an inbox with this name already exists", "name")
    record_audit(
        db,
        actor_user_id=admin.id,
        action="inbox.created",
        target_type="inbox",
        target_id=inbox.id,
        details={
            "values": {
                "name": name,
                "channel": channel.value,
                "email_address": address,
                "default_team_id": default_team_id,
                "routing_strategy": routing_strategy.value,
            }
        },
        ip=ip,
        now=now,
    )
    db.commit()
    return InboxRow(inbox, [])


def do_update_inbox(
    db: Session,
    admin: User,
    inbox_id: int,
    changes: Mapping[str, Any],
    *,
    ip: str = "",
    now: datetime,
) -> InboxRow:
    """Change the keys present in `changes` (null clears email address and default
    team). Locks the inbox row."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed("these fields cannot be changed", {"fields": sorted(unknown)})
    inbox = _lock_inbox(db, inbox_id)
    channel = Channel(inbox.channel)
    audit_changes: dict[str, dict[str, Any]] = {}
    for field, raw in changes.items():
        value: Any = raw
        if raw is None and field not in ("email_address", "default_team_id"):
            raise ValidationFailed(f"{field} cannot be empty", {"field": field})
        if field == "name":
            value = check_inbox_name(str(raw))
            if value != inbox.name and _name_taken(db, value, except_inbox_id=inbox.id):
                raise Conflict("an inbox with this name already exists", {"field": "name"})
        elif field == "email_address":
            value = check_email_address(raw, channel)
        elif field == "default_team_id":
            value = _check_team(db, raw)
        elif field == "routing_strategy":
            value = Strategy(raw).value
        elif field == "settings":
            value = check_settings(raw)
        if getattr(inbox, field) != value:
            # Settings may hold integration credentials: record that they changed only.
            shown = (
                {"changed": True}
                if field == "settings"
                else {"from": getattr(inbox, field), "to": value}
            )
            audit_changes[field] = shown
            setattr(inbox, field, value)
    if audit_changes:
        record_audit(
            db,
            actor_user_id=admin.id,
            action="inbox.updated",
            target_type="inbox",
            target_id=inbox.id,
            details={"fields": sorted(audit_changes), "changes": audit_changes},
            ip=ip,
            now=now,
        )
    members = _member_ids(db, [inbox.id])[inbox.id]
    db.commit()
    return InboxRow(inbox, members)


def do_rotate_secret(
    db: Session, admin: User, inbox_id: int, *, ip: str = "", now: datetime
) -> InboxRow:
    """Replace the inbox secret; identity hashes made with the old one stop
    verifying at once. Locks the inbox row."""
    inbox = _lock_inbox(db, inbox_id)
    inbox.secret = new_inbox_secret()
    record_audit(
        db,
        actor_user_id=admin.id,
        action="inbox.secret_rotated",
        target_type="inbox",
        target_id=inbox.id,
        details={"fields": ["secret"]},
        ip=ip,
        now=now,
    )
    members = _member_ids(db, [inbox.id])[inbox.id]
    db.commit()
    return InboxRow(inbox, members)


def do_set_inbox_members(
    db: Session,
    admin: User,
    inbox_id: int,
    user_ids: Sequence[int],
    *,
    ip: str = "",
    now: datetime,
) -> InboxRow:
    """Replace who works this inbox. Locks the inbox row."""
    inbox = _lock_inbox(db, inbox_id)
    wanted = check_member_ids(db, user_ids)
    before = _member_ids(db, [inbox.id])[inbox.id]
    if before != wanted:
        db.execute(delete(InboxMember).where(InboxMember.inbox_id == inbox.id))
        db.add_all(InboxMember(inbox_id=inbox.id, user_id=user_id) for user_id in wanted)
        record_audit(
            db,
            actor_user_id=admin.id,
            action="inbox.members_set",
            target_type="inbox",
            target_id=inbox.id,
            details=membership_change(before, wanted),
            ip=ip,
            now=now,
        )
        for user_id in sorted(set(wanted) ^ set(before)):
            queue_event(
                db,
                LiveEvent(
                    type="user.updated",
                    payload={"user_id": user_id, "changed": ["inbox_ids"], "inbox_id": inbox.id},
                    user_ids=frozenset({user_id}),
                ),
            )
    db.commit()
    return InboxRow(inbox, wanted)
