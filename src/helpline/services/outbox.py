"""The outbox: side effects stored in the transaction that causes them.

`enqueue_email` is called by any service inside its transaction; the background
worker delivers the item later, with retries, so a crash loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from helpline.adapters.db.models import OutboxItem


def enqueue_email(
    db: Session,
    *,
    to: str,
    subject: str,
    text: str,
    now: datetime,
    html: str | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    dedupe_key: str | None = None,
) -> OutboxItem:
    payload: dict[str, Any] = {"to": to, "subject": subject, "text": text}
    if html is not None:
        payload["html"] = html
    if reply_to is not None:
        payload["reply_to"] = reply_to
    if headers:
        payload["headers"] = headers
    item = OutboxItem(
        kind="email", payload=payload, created_at=now, next_attempt_at=now, dedupe_key=dedupe_key
    )
    db.add(item)
    return item
