"""Database reads the WebSocket hubs make, each run in a worker thread with its
own session (see `Hub.run_db`): resume snapshots and queue positions.

A snapshot reads the conversation's `last_seq` first and then the entries up to
it: every entry with a sequence number up to `last_seq` is committed by then
(sequence numbers are taken under the conversation's row lock and committed with
it), and anything later reaches the connection as a live event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from helpline.domain.access import Viewer
from helpline.services import conversations, widget
from helpline.services.visitors import Visitor, access_visitor_conversation
from helpline.services.widget import EntryPayload, QueueEstimate


@dataclass(frozen=True, slots=True)
class Snapshot:
    conversation_id: int
    last_seq: int
    frames: list[dict[str, Any]]
    too_many: bool
    inbox_id: int
    waiting: bool = False
    queue: QueueEstimate | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def visitor_snapshot(
    db: Session,
    visitor: Visitor,
    conversation_id: int,
    *,
    after_seq: int,
    max_events: int,
    public_key: str,
    now: datetime,
    with_queue: bool = True,
) -> Snapshot:
    """The visitor's missed frames after `after_seq` (NotFound if not theirs)."""
    conversation = access_visitor_conversation(db, visitor, conversation_id)
    last_seq = conversation.last_seq
    entries = widget.read_entries(
        db,
        conversation.id,
        after_seq=after_seq,
        upto_seq=last_seq,
        visible_only=True,
        limit=max_events + 1,
    )
    frames = [
        frame
        for entry in entries[:max_events]
        if (frame := widget.visitor_frame(conversation.id, entry, public_key)) is not None
    ]
    waiting = widget.is_waiting(conversation)
    queue = widget.queue_estimate(db, conversation, now=now) if waiting and with_queue else None
    db.commit()
    return Snapshot(
        conversation_id=conversation.id,
        last_seq=last_seq,
        frames=frames,
        too_many=len(entries) > max_events,
        inbox_id=conversation.inbox_id,
        waiting=waiting,
        queue=queue,
    )


def agent_entry_frame(
    conversation_payload: dict[str, Any], conversation_id: int, entry: EntryPayload
) -> dict[str, Any]:
    """One replayed history entry for staff, shaped like the live event for it."""
    event: dict[str, Any]
    if entry.message is not None:
        event = {
            "type": "message.created",
            "message": entry.message,
            "conversation": conversation_payload,
        }
    else:
        event = {
            "type": "conversation.updated",
            "conversation": conversation_payload,
            "activities": [entry.activity],
        }
    return widget.event_frame(conversation_id, entry.seq, event)


def agent_snapshot(
    db: Session, viewer: Viewer, conversation_id: int, *, after_seq: int, max_events: int
) -> Snapshot:
    """Every entry (notes included) after `after_seq` for staff who can see it."""
    conversation = conversations.access_conversation(db, viewer, conversation_id)
    last_seq = conversation.last_seq
    entries = widget.read_entries(
        db,
        conversation.id,
        after_seq=after_seq,
        upto_seq=last_seq,
        visible_only=False,
        limit=max_events + 1,
    )
    payload = conversations.conversation_payload(conversation)
    frames = [agent_entry_frame(payload, conversation.id, entry) for entry in entries[:max_events]]
    db.commit()
    return Snapshot(
        conversation_id=conversation.id,
        last_seq=last_seq,
        frames=frames,
        too_many=len(entries) > max_events,
        inbox_id=conversation.inbox_id,
    )


def queue_estimates(
    db: Session, conversation_ids: Sequence[int], *, now: datetime
) -> dict[int, QueueEstimate | None]:
    result = widget.queue_estimates(db, conversation_ids, now=now)
    db.commit()
    return result
