"""Turning a unique-constraint race into the same answer the pre-check gives."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpline.services.errors import Conflict


def flush_unique(db: Session, message: str, field: str) -> None:
    """Flush pending rows; if a concurrent request took the unique value since the
    service checked it, roll back and answer 409 on `field`."""
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise Conflict(message, {"field": field}) from exc
