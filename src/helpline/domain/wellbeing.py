"""Break reminders: when an agent who has been chatting without a pause should be
reminded to take one. Pure: the caller passes the time.

A stretch starts when the agent goes online (any other status is a pause), lasts
the installation's default (90 minutes), the agent's own length, or 25 minutes with
Pomodoro; a snooze moves the reminder, never earlier than the stretch's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpline.domain.enums import AgentStatus

POMODORO_STRETCH_MINUTES = 25
POMODORO_BREAK_MINUTES = 5
SNOOZE_MINUTES = (5, 10, 15, 30)
"""The "remind me later" choices offered to agents."""


@dataclass(frozen=True, slots=True)
class BreakPlan:
    stretch_minutes: int
    break_minutes: int
    pomodoro: bool = False


def break_plan(
    *,
    pomodoro: bool,
    own_stretch_minutes: int | None,
    own_break_minutes: int | None,
    default_stretch_minutes: int,
    default_break_minutes: int,
) -> BreakPlan:
    if pomodoro:
        return BreakPlan(POMODORO_STRETCH_MINUTES, POMODORO_BREAK_MINUTES, pomodoro=True)
    return BreakPlan(
        own_stretch_minutes or default_stretch_minutes,
        own_break_minutes or default_break_minutes,
    )


def break_due_at(
    *,
    status: AgentStatus,
    status_since: datetime,
    plan: BreakPlan,
    snoozed_until: datetime | None,
) -> datetime | None:
    """When the next reminder is due; None unless the agent is online."""
    if status != AgentStatus.ONLINE:
        return None
    due = status_since + timedelta(minutes=plan.stretch_minutes)
    if snoozed_until is not None and snoozed_until > due:
        return snoozed_until
    return due


def reminder_needed(due_at: datetime | None, reminded_at: datetime | None, now: datetime) -> bool:
    """True once per due time: it has come, and no reminder went out since."""
    if due_at is None or now < due_at:
        return False
    return reminded_at is None or reminded_at < due_at
