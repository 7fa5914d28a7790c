"""Appending to a conversation's history: one sequence for messages and activities.

Callers must hold the conversation row for writing (see `lock_conversation`), so
two writers never take the same sequence number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Activity, Conversation
from helpline.domain.enums import ActivityKind


def lock_conversation(db: Session, conversation_id: int) -> Conversation | None:
    """Load a conversation with a row lock on PostgreSQL (SQLite's write lock is
    already held: every transaction there begins IMMEDIATE)."""
    # populate_existing: a copy loaded earlier in this session (say, for an access
    # check) must not keep a stale `last_seq` once we hold the lock.
    return db.scalar(
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def next_seq(conversation: Conversation) -> int:
    conversation.last_seq += 1
    return conversation.last_seq


def record_activity(
    db: Session,
    conversation: Conversation,
    kind: ActivityKind,
    *,
    now: datetime,
    actor_user_id: int | None = None,
    actor_type: str = "agent",
    data: dict[str, Any] | None = None,
) -> Activity:
    """Write one history entry; `actor_type` is agent, contact, system or bot."""
    activity = Activity(
        conversation_id=conversation.id,
        seq=next_seq(conversation),
        kind=kind.value,
        actor_type=actor_type,
        actor_user_id=actor_user_id,
        data=data or {},
        created_at=now,
    )
    conversation.updated_at = now
    conversation.last_activity_at = now
    db.add(activity)
    return activity
