"""Live events: queued inside a transaction, published only after it commits.

Services call `queue_event(db, event)`; a session hook hands the queued events to
the event bus after a successful commit and drops them on rollback, so no client
ever hears about a change that did not happen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING_KEY = "helpline_pending_events"
_PUBLISHER_KEY = "helpline_publisher"


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One change, with exactly who should hear about it."""

    type: str
    payload: dict[str, Any]
    user_ids: frozenset[int] = frozenset()
    """Agents to notify."""
    conversation_id: int | None = None
    seq: int | None = None
    """The conversation's sequence number after this change (for resume)."""
    to_contact: bool = False
    """Also tell the customer (widget) following this conversation."""
    extra: dict[str, Any] = field(default_factory=dict)
    rendered: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """What the WebSocket hub derived from this event (frames as JSON text, its
    history entries), kept so that each form is built once however many
    connections receive it. Never sent over the bus."""

    def render(self, key: Any, build: Callable[[], Any]) -> Any:
        """`build()` once per key for this event (the hub's event loop only)."""
        try:
            return self.rendered[key]
        except KeyError:
            value = self.rendered[key] = build()
            return value


Publisher = Callable[[LiveEvent], None]


def queue_event(db: Session, live_event: LiveEvent) -> None:
    db.info.setdefault(_PENDING_KEY, []).append(live_event)


def install_publisher(db: Session, publisher: Publisher) -> None:
    db.info[_PUBLISHER_KEY] = publisher


@event.listens_for(Session, "after_commit")
def _publish_after_commit(db: Session) -> None:
    pending: list[LiveEvent] = db.info.pop(_PENDING_KEY, [])
    publisher: Publisher | None = db.info.get(_PUBLISHER_KEY)
    if publisher is None:
        return
    for live_event in pending:
        publisher(live_event)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(db: Session) -> None:
    db.info.pop(_PENDING_KEY, None)
