"""The audit log: every admin and settings change, with actor, target and origin."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import AuditLog, User
from helpline.services.errors import ValidationFailed


def record_audit(
    db: Session,
    *,
    actor_user_id: int | None,
    action: str,
    target_type: str,
    target_id: object = None,
    details: dict[str, Any] | None = None,
    ip: str = "",
    now: datetime,
) -> AuditLog:
    """Write in the caller's transaction, so the entry exists iff the change does."""
    entry = AuditLog(
        actor_user_id=actor_user_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details or {},
        ip=ip,
        created_at=now,
    )
    db.add(entry)
    return entry


# --- reading the log (admins) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditPage:
    data: list[tuple[AuditLog, str | None]]
    """Entries newest first, each with its actor's name (None: system or deleted)."""
    count: int
    """Entries matching the filters, on all pages."""
    next_cursor: str | None


def _encode_cursor(entry: AuditLog) -> str:
    raw = json.dumps({"t": entry.created_at.isoformat(), "id": entry.id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        created_at = datetime.fromisoformat(data["t"])
        entry_id = data["id"]
        if created_at.tzinfo is None or not isinstance(entry_id, int):
            raise ValueError("bad cursor")
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationFailed("invalid cursor", {"field": "cursor"}) from exc
    return created_at, entry_id


def list_audit_log(
    db: Session,
    *,
    action: str | None = None,
    actor_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> AuditPage:
    """Newest first, keyset-paginated on (created_at, id). Callers check the caller
    is an admin. `action` matches exactly, or a prefix when it ends in `.`
    (`user.` finds every user change)."""
    conditions = []
    if action:
        if action.endswith("."):
            conditions.append(AuditLog.action.startswith(action, autoescape=True))
        else:
            conditions.append(AuditLog.action == action)
    if actor_id is not None:
        conditions.append(AuditLog.actor_user_id == actor_id)
    count = db.scalar(select(func.count()).select_from(AuditLog).where(*conditions)) or 0
    query = (
        select(AuditLog, User.name)
        .outerjoin(User, User.id == AuditLog.actor_user_id)
        .where(*conditions)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        created_at, entry_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                AuditLog.created_at < created_at,
                and_(AuditLog.created_at == created_at, AuditLog.id < entry_id),
            )
        )
    rows: list[tuple[AuditLog, str | None]] = [(entry, name) for entry, name in db.execute(query)]
    next_cursor = _encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return AuditPage(data=rows[:limit], count=count, next_cursor=next_cursor)
