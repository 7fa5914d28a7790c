"""The conversation state machine and its time-based lifecycle rules.

A chat and a ticket are one entity; these rules decide which status changes are
allowed, what a customer message does to a status, and when the clock moves a
conversation on by itself (snooze wake-up, auto-close).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpline.domain.enums import ConversationStatus as S
from helpline.domain.errors import ConversationClosed, InvalidTransition

ALLOWED_TRANSITIONS: dict[S, frozenset[S]] = {
    S.OPEN: frozenset({S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.PENDING: frozenset({S.OPEN, S.ON_HOLD, S.SOLVED}),
    S.ON_HOLD: frozenset({S.OPEN, S.PENDING, S.SOLVED}),
    S.SOLVED: frozenset({S.OPEN, S.CLOSED}),
    # Closed is final: a customer who writes again starts a follow-up conversation.
    S.CLOSED: frozenset(),
}

ACTIVE_STATUSES: frozenset[S] = frozenset({S.OPEN, S.PENDING, S.ON_HOLD})


def can_transition(current: S, target: S) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class StatusChange:
    """What a status change writes on the conversation."""

    status: S
    solved_at: datetime | None
    snoozed_until: datetime | None


def change_status(
    current: S,
    target: S,
    now: datetime,
    *,
    current_solved_at: datetime | None = None,
    snooze_until: datetime | None = None,
) -> StatusChange:
    """Validate a requested change and compute the fields it sets.

    `snooze_until` is only meaningful with `pending`: the conversation comes back
    to `open` by itself at that time. A pending conversation may be snoozed again.
    """
    details = {"from": current.value, "to": target.value}
    if snooze_until is not None:
        if target != S.PENDING:
            raise InvalidTransition("only pending conversations can be snoozed", details)
        if snooze_until <= now:
            raise InvalidTransition("snooze time must be in the future", details)
    resnooze = current == target == S.PENDING and snooze_until is not None
    if not resnooze and not can_transition(current, target):
        if current == target:
            raise InvalidTransition(f"conversation is already {current.value}", details)
        raise InvalidTransition(
            f"cannot change status from {current.value} to {target.value}", details
        )
    solved_at = now if target == S.SOLVED else (current_solved_at if target == S.CLOSED else None)
    return StatusChange(status=target, solved_at=solved_at, snoozed_until=snooze_until)


def status_after_customer_message(current: S) -> S:
    """A customer who writes needs a human again: everything but closed reopens."""
    if current == S.CLOSED:
        raise ConversationClosed("conversation is closed; start a follow-up conversation")
    return S.OPEN


def snooze_is_over(status: S, snoozed_until: datetime | None, now: datetime) -> bool:
    return status == S.PENDING and snoozed_until is not None and snoozed_until <= now


def auto_close_due(status: S, solved_at: datetime | None, now: datetime, after_days: float) -> bool:
    return (
        status == S.SOLVED
        and solved_at is not None
        and solved_at + timedelta(days=after_days) <= now
    )
