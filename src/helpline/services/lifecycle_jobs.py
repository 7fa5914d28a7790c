"""Time-driven conversation changes the background worker makes: snoozed
conversations wake up, long-solved ones close.

Each job handles a limited batch per run (the worker comes back soon), holds
every conversation's row lock while changing it, re-checks the rule under the
lock (an agent may have acted meanwhile), writes history and queues live events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Activity, Conversation
from helpline.domain.enums import ActivityKind
from helpline.domain.enums import ConversationStatus as S
from helpline.domain.lifecycle import auto_close_due, change_status, snooze_is_over
from helpline.services.conversations import activity_payload, conversation_payload
from helpline.services.events import LiveEvent, queue_event
from helpline.services.history import lock_conversation, record_activity
from helpline.services.recipients import recipients_for

JOB_BATCH = 100
"""Conversations one job changes per run."""


def _queue_status_event(db: Session, conversation: Conversation, activity: Activity) -> None:
    """The same `conversation.updated` event an agent's status change sends."""
    db.flush()
    queue_event(
        db,
        LiveEvent(
            type="conversation.updated",
            payload={
                "conversation": conversation_payload(conversation),
                "activities": [activity_payload(activity)],
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=conversation.last_seq,
        ),
    )


def wake_snoozed(db: Session, now: datetime, *, limit: int = JOB_BATCH) -> int:
    """Pending conversations whose snooze is over go back to `open`.

    Locking: each conversation's row (PostgreSQL) / the write lock (SQLite) while
    it changes. Commits once at the end; returns how many woke up.
    """
    candidate_ids = db.scalars(
        select(Conversation.id)
        .where(
            Conversation.status == S.PENDING.value,
            Conversation.snoozed_until.is_not(None),
            Conversation.snoozed_until <= now,
        )
        .order_by(Conversation.snoozed_until, Conversation.id)
        .limit(limit)
    ).all()
    woken = 0
    for conversation_id in candidate_ids:
        conversation = lock_conversation(db, conversation_id)
        if conversation is None or not snooze_is_over(
            S(conversation.status), conversation.snoozed_until, now
        ):
            continue
        snoozed_until = conversation.snoozed_until
        change = change_status(S.PENDING, S.OPEN, now)
        conversation.status = change.status.value
        conversation.snoozed_until = change.snoozed_until
        activity = record_activity(
            db,
            conversation,
            ActivityKind.REOPENED,
            now=now,
            actor_type="system",
            data={
                "reason": "snooze_over",
                "from": S.PENDING.value,
                "to": S.OPEN.value,
                "snoozed_until": snoozed_until.isoformat() if snoozed_until else None,
            },
        )
        _queue_status_event(db, conversation, activity)
        woken += 1
    db.commit()
    return woken


def auto_close_solved(
    db: Session, now: datetime, after_days: float, *, limit: int = JOB_BATCH
) -> int:
    """Conversations solved for `after_days` or longer become `closed` (read-only).

    Locking: as `wake_snoozed`. Commits once at the end; returns how many closed.
    """
    solved_before = now - timedelta(days=after_days)
    candidate_ids = db.scalars(
        select(Conversation.id)
        .where(
            Conversation.status == S.SOLVED.value,
            Conversation.solved_at.is_not(None),
            Conversation.solved_at <= solved_before,
        )
        .order_by(Conversation.solved_at, Conversation.id)
        .limit(limit)
    ).all()
    closed = 0
    for conversation_id in candidate_ids:
        conversation = lock_conversation(db, conversation_id)
        if conversation is None or not auto_close_due(
            S(conversation.status), conversation.solved_at, now, after_days
        ):
            continue
        change = change_status(S.SOLVED, S.CLOSED, now, current_solved_at=conversation.solved_at)
        conversation.status = change.status.value
        conversation.solved_at = change.solved_at
        conversation.snoozed_until = None
        conversation.closed_at = now
        activity = record_activity(
            db,
            conversation,
            ActivityKind.AUTO_CLOSED,
            now=now,
            actor_type="system",
            data={"from": S.SOLVED.value, "to": S.CLOSED.value, "after_days": after_days},
        )
        _queue_status_event(db, conversation, activity)
        closed += 1
    db.commit()
    return closed
