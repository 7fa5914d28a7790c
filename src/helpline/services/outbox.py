"""The outbox: side effects stored in the transaction that causes them.

`enqueue_email` is called by any service inside its transaction; the background
worker delivers the item later, with retries, so a crash loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from helpline.adapters.db.engine import is_postgres
from helpline.adapters.db.models import OutboxItem
from helpline.adapters.mailer import Mailer, build_message
from helpline.domain.enums import OutboxStatus
from helpline.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


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


# --- Delivery ---------------------------------------------------------------
#
# Exactly-once intent: an item is claimed in a short transaction (a lease in
# `locked_until`), sent outside any transaction, then marked. A sent item is never
# claimed again; an item whose worker died after claiming is claimed again once the
# lease runs out. The one window left (sent, then the worker dies before marking)
# sends a second copy with the same Message-ID, which receivers de-duplicate.

OUTBOX_BATCH = 20
"""Items one worker claims per round."""

RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ClaimedItem:
    """A detached copy of a claimed item: safe to use after its session closed."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    locked_until: datetime


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    """Failed this round and scheduled for a retry."""
    dead: int = 0
    """Failed for the last allowed time: given up."""
    released: int = 0
    """Claimed but handed back unsent because the round ran long."""


def retry_delay(failures: int) -> timedelta:
    """Exponential backoff after the n-th failure: 30 s, 1 min, 2 min, … capped at 1 h."""
    seconds = RETRY_BASE.total_seconds() * 2 ** min(max(failures - 1, 0), 20)
    return min(timedelta(seconds=seconds), RETRY_CAP)


def default_lease(settings: Settings) -> timedelta:
    """Long enough for several slow SMTP exchanges; a round stops sending at half of it."""
    return max(timedelta(minutes=2), timedelta(seconds=settings.smtp_timeout_seconds * 12))


def lock_due_items(
    db: Session, *, kinds: Sequence[str], now: datetime, limit: int
) -> list[OutboxItem]:
    """Due, unclaimed items. PostgreSQL skips rows another worker is claiming right
    now (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time, so the plain
    query inside its IMMEDIATE transaction is already exclusive."""
    query = (
        select(OutboxItem)
        .where(
            OutboxItem.status == OutboxStatus.PENDING.value,
            OutboxItem.kind.in_(kinds),
            OutboxItem.next_attempt_at <= now,
            or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until <= now),
        )
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(limit)
    )
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    return list(db.scalars(query))


def do_claim_due(
    db: Session,
    *,
    now: datetime,
    lease: timedelta,
    kinds: Sequence[str] = ("email",),
    limit: int = OUTBOX_BATCH,
) -> list[ClaimedItem]:
    """Claim up to `limit` due items until `now + lease`, and commit at once so the
    row locks are held only for this short transaction."""
    items = lock_due_items(db, kinds=kinds, now=now, limit=limit)
    locked_until = now + lease
    claimed = []
    for item in items:
        item.locked_until = locked_until
        claimed.append(
            ClaimedItem(
                id=item.id,
                kind=item.kind,
                payload=dict(item.payload),
                attempts=item.attempts,
                locked_until=locked_until,
            )
        )
    db.commit()
    return claimed


def _lock_item(db: Session, item_id: int) -> OutboxItem | None:
    return db.scalar(select(OutboxItem).where(OutboxItem.id == item_id).with_for_update())


def do_mark_sent(db: Session, item_id: int, *, now: datetime) -> bool:
    """Record a successful delivery (row lock); False if it was no longer pending."""
    item = _lock_item(db, item_id)
    if item is None or item.status != OutboxStatus.PENDING.value:
        db.commit()
        return False
    item.status = OutboxStatus.SENT.value
    item.sent_at = now
    item.attempts += 1
    item.locked_until = None
    item.last_error = None
    db.commit()
    return True


def do_mark_failed(
    db: Session, item_id: int, error: str, *, now: datetime, max_attempts: int
) -> OutboxStatus | None:
    """Record a failed attempt (row lock): retry later with backoff, or give up
    (`dead`) after `max_attempts`. Returns the new status, None if not pending."""
    item = _lock_item(db, item_id)
    if item is None or item.status != OutboxStatus.PENDING.value:
        db.commit()
        return None
    item.attempts += 1
    item.last_error = error[:MAX_ERROR_CHARS]
    item.locked_until = None
    if item.attempts >= max_attempts:
        item.status = OutboxStatus.DEAD.value
    else:
        item.next_attempt_at = now + retry_delay(item.attempts)
    db.commit()
    return OutboxStatus(item.status)


def do_release(db: Session, item_ids: Sequence[int], *, locked_until: datetime) -> int:
    """Hand back claims this worker will not use (only while they are still ours)."""
    if not item_ids:
        return 0
    result = db.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id.in_(item_ids),
            OutboxItem.status == OutboxStatus.PENDING.value,
            OutboxItem.locked_until == locked_until,
        )
        .values(locked_until=None)
    )
    db.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def _in_session(
    session_factory: sessionmaker[Session], work: Callable[..., T], /, *args: Any, **kwargs: Any
) -> T:
    """Run `work(db, *args, **kwargs)` in a fresh session (called in a worker thread)."""
    with session_factory() as db:
        return work(db, *args, **kwargs)


async def _run_in_thread(
    session_factory: sessionmaker[Session], work: Callable[..., T], /, *args: Any, **kwargs: Any
) -> T:
    """Database work off the event loop, each call its own session and transaction."""
    return await asyncio.to_thread(_in_session, session_factory, work, *args, **kwargs)


async def deliver_due_emails(
    session_factory: sessionmaker[Session],
    mailer: Mailer,
    settings: Settings,
    *,
    now: datetime,
    lease: timedelta | None = None,
    limit: int = OUTBOX_BATCH,
) -> DeliveryReport:
    """One delivery round: claim, send each outside any transaction, mark.

    Database work runs in a thread so the event loop never blocks. If the round
    runs past half its lease (a slow SMTP server), the rest is handed back before
    another worker could take it over, so no item is sent by two workers at once.
    """
    lease = lease or default_lease(settings)
    report = DeliveryReport()
    claimed = await _run_in_thread(
        session_factory, do_claim_due, now=now, lease=lease, kinds=("email",), limit=limit
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    for index, item in enumerate(claimed):
        if loop.time() - started > lease.total_seconds() / 2:
            rest = [left.id for left in claimed[index:]]
            report.released = await _run_in_thread(
                session_factory, do_release, rest, locked_until=item.locked_until
            )
            log.warning("outbox round ran long; handed back %d items", len(rest))
            break
        try:
            await mailer.send(build_message(item.id, item.payload, settings))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            status = await _run_in_thread(
                session_factory,
                do_mark_failed,
                item.id,
                error,
                now=now,
                max_attempts=settings.outbox_max_attempts,
            )
            if status == OutboxStatus.DEAD:
                report.dead += 1
                log.error("outbox %s: giving up after %s: %s", item.id, item.attempts + 1, error)
            else:
                report.failed += 1
                log.warning("outbox %s: delivery failed, will retry: %s", item.id, error)
            continue
        await _run_in_thread(session_factory, do_mark_sent, item.id, now=now)
        report.sent += 1
    return report
