"""The audit log: every admin and settings change, with actor, target and origin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from helpline.adapters.db.models import AuditLog


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
