"""The SLA clock of one conversation: deadlines, pauses and the state of each target.

Targets count business time from their start: first response and resolution from
the conversation's creation, next response from the customer message still
waiting for an answer. The clock stops while the conversation is pending (waiting
for the customer) or on hold; every pause is kept with its reason, and the
deadlines move by the business time spent paused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from helpline.domain.enums import ConversationStatus
from helpline.domain.sla.calendar import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
)
from helpline.domain.sla.policy import SlaPolicyRule, SlaTargets


class SlaTarget(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class TargetState(StrEnum):
    ACTIVE = "active"
    """Running (or paused) and not yet past its deadline."""
    MET = "met"
    MISSED = "missed"


PAUSING_STATUSES: dict[ConversationStatus, str] = {
    ConversationStatus.PENDING: "waiting for the customer",
    ConversationStatus.ON_HOLD: "on hold",
}


def pause_reason(status: ConversationStatus) -> str | None:
    """Why the clock stops in this status; None when it runs."""
    return PAUSING_STATUSES.get(status)


@dataclass(frozen=True, slots=True)
class Pause:
    started_at: datetime
    reason: str
    ended_at: datetime | None = None
    """None: still paused."""


@dataclass(frozen=True, slots=True)
class TargetStatus:
    target: SlaTarget
    state: TargetState
    due_at: datetime | None
    """None while the clock is paused: the deadline is not known yet."""
    completed_at: datetime | None
    paused: bool


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class SlaClock:
    started_at: datetime
    targets: SlaTargets
    calendar: BusinessCalendar | None = None
    pauses: tuple[Pause, ...] = ()
    first_response_at: datetime | None = None
    awaiting_reply_since: datetime | None = None
    """The customer message not yet answered after the first response."""
    next_reply_at: datetime | None = None
    """The agent's answer to it, once given."""
    resolved_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.started_at, "started_at")
        for name in ("first_response_at", "awaiting_reply_since", "next_reply_at", "resolved_at"):
            _require_aware(getattr(self, name), name)
        open_pauses = [pause for pause in self.pauses if pause.ended_at is None]
        if len(open_pauses) > 1:
            raise ValueError("the clock can only be paused once at a time")
        for pause in self.pauses:
            _require_aware(pause.started_at, "pause start")
            _require_aware(pause.ended_at, "pause end")
            if pause.ended_at is not None and pause.ended_at < pause.started_at:
                raise ValueError("a pause cannot end before it starts")

    @classmethod
    def for_policy(cls, policy: SlaPolicyRule, started_at: datetime) -> SlaClock:
        return cls(started_at=started_at, targets=policy.targets, calendar=policy.calendar)

    # -- pausing --------------------------------------------------------------------

    def is_paused(self, now: datetime) -> bool:
        return any(
            pause.started_at <= now and (pause.ended_at is None or now < pause.ended_at)
            for pause in self.pauses
        )

    def pause(self, at: datetime, reason: str) -> SlaClock:
        """Stop the clock (the conversation went pending or on hold)."""
        if any(pause.ended_at is None for pause in self.pauses):
            return self
        return replace(self, pauses=(*self.pauses, Pause(started_at=at, reason=reason)))

    def resume(self, at: datetime) -> SlaClock:
        """Start the clock again (the conversation is open again or solved)."""
        pauses = tuple(
            replace(pause, ended_at=max(at, pause.started_at)) if pause.ended_at is None else pause
            for pause in self.pauses
        )
        return replace(self, pauses=pauses)

    def _merged_pauses(self, since: datetime) -> list[tuple[datetime, datetime | None]]:
        """Pauses after `since`, sorted and merged; an open one comes last."""
        spans = sorted(
            (
                (max(pause.started_at, since), pause.ended_at)
                for pause in self.pauses
                if pause.ended_at is None or pause.ended_at > since
            ),
            key=lambda span: span[0],
        )
        merged: list[tuple[datetime, datetime | None]] = []
        for start, end in spans:
            if merged:
                last_start, last_end = merged[-1]
                if last_end is None:
                    break
                if start <= last_end:
                    merged[-1] = (last_start, None if end is None else max(last_end, end))
                    continue
            merged.append((start, end))
        return merged

    def _deadline(self, start: datetime, minutes: int) -> datetime | None:
        """`minutes` of unpaused business time after `start`; None while paused."""
        cursor = start
        remaining = timedelta(minutes=minutes)
        for pause_start, pause_end in self._merged_pauses(start):
            if pause_start > cursor:
                candidate = add_business_time(self.calendar, cursor, remaining.total_seconds() / 60)
                if candidate <= pause_start:
                    return candidate
                remaining -= business_time_between(self.calendar, cursor, pause_start)
            if pause_end is None:
                return None
            cursor = max(cursor, pause_end)
        return add_business_time(self.calendar, cursor, remaining.total_seconds() / 60)

    # -- targets --------------------------------------------------------------------

    def _target_window(self, target: SlaTarget) -> tuple[int, datetime, datetime | None] | None:
        """(minutes, start, completed) of a target that applies now."""
        if target == SlaTarget.FIRST_RESPONSE:
            minutes = self.targets.first_response_minutes
            start, done = self.started_at, self.first_response_at
        elif target == SlaTarget.NEXT_RESPONSE:
            minutes = self.targets.next_response_minutes
            if self.awaiting_reply_since is None:
                return None
            start = self.awaiting_reply_since
            reply = self.next_reply_at
            done = reply if reply is not None and reply >= start else None
        else:
            minutes = self.targets.resolution_minutes
            start, done = self.started_at, self.resolved_at
        if minutes is None:
            return None
        return minutes, start, done

    def due_at(self, target: SlaTarget) -> datetime | None:
        window = self._target_window(target)
        if window is None:
            return None
        minutes, start, _ = window
        return self._deadline(start, minutes)

    def target_status(self, target: SlaTarget, now: datetime) -> TargetStatus | None:
        """The state of one target at `now`; None when it does not apply."""
        window = self._target_window(target)
        if window is None:
            return None
        minutes, start, done = window
        due = self._deadline(start, minutes)
        if done is not None:
            state = TargetState.MET if due is None or done <= due else TargetState.MISSED
            return TargetStatus(target, state, due, done, paused=False)
        missed = due is not None and now > due
        return TargetStatus(
            target,
            TargetState.MISSED if missed else TargetState.ACTIVE,
            due,
            None,
            paused=self.is_paused(now),
        )

    def status(self, now: datetime) -> tuple[TargetStatus, ...]:
        """Every target that applies, in the order first response, next, resolution."""
        statuses = (self.target_status(target, now) for target in SlaTarget)
        return tuple(status for status in statuses if status is not None)

    def warning_due(self, now: datetime, warn_before: timedelta) -> list[SlaTarget]:
        """Running targets whose deadline is at most `warn_before` (wall time) away."""
        return [
            status.target
            for status in self.status(now)
            if status.state == TargetState.ACTIVE
            and status.due_at is not None
            and now >= status.due_at - warn_before
        ]

    def breached(self, now: datetime) -> list[SlaTarget]:
        return [status.target for status in self.status(now) if status.state == TargetState.MISSED]
