"""The SLA clock: deadlines on business hours, pauses, met and missed targets, warnings."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from helpline.domain.enums import ConversationStatus
from helpline.domain.sla.calendar import BusinessCalendar
from helpline.domain.sla.clock import (
    Pause,
    SlaClock,
    SlaTarget,
    TargetState,
    pause_reason,
)
from helpline.domain.sla.policy import SlaPolicyRule, SlaTargets

WARSAW = ZoneInfo("Europe/Warsaw")
OFFICE = BusinessCalendar.weekdays(time(9), time(17), time_zone="Europe/Warsaw")
TARGETS = SlaTargets(first_response_minutes=30, next_response_minutes=60, resolution_minutes=480)
OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, around the clock


def at(minutes: float) -> datetime:
    return OPENED + timedelta(minutes=minutes)


def clock(**fields: Any) -> SlaClock:
    return SlaClock(started_at=OPENED, targets=TARGETS, **fields)


def states(sla: SlaClock, now: datetime) -> dict[SlaTarget, TargetState]:
    return {status.target: status.state for status in sla.status(now)}


def test_deadlines_around_the_clock() -> None:
    sla = clock()
    assert sla.due_at(SlaTarget.FIRST_RESPONSE) == at(30)
    assert sla.due_at(SlaTarget.RESOLUTION) == at(480)
    assert sla.due_at(SlaTarget.NEXT_RESPONSE) is None  # nobody is waiting for a reply


def test_a_new_conversation_has_active_targets() -> None:
    assert states(clock(), at(10)) == {
        SlaTarget.FIRST_RESPONSE: TargetState.ACTIVE,
        SlaTarget.RESOLUTION: TargetState.ACTIVE,
    }


def test_first_response_in_time_is_met_and_late_is_missed() -> None:
    assert states(clock(first_response_at=at(29)), at(100))[SlaTarget.FIRST_RESPONSE] == "met"
    assert states(clock(first_response_at=at(31)), at(100))[SlaTarget.FIRST_RESPONSE] == "missed"
    assert states(clock(), at(31))[SlaTarget.FIRST_RESPONSE] == TargetState.MISSED
    assert states(clock(), at(30))[SlaTarget.FIRST_RESPONSE] == TargetState.ACTIVE


def test_next_response_counts_from_the_unanswered_customer_message() -> None:
    waiting = clock(first_response_at=at(5), awaiting_reply_since=at(100))
    assert waiting.due_at(SlaTarget.NEXT_RESPONSE) == at(160)
    assert states(waiting, at(161))[SlaTarget.NEXT_RESPONSE] == TargetState.MISSED
    answered = clock(first_response_at=at(5), awaiting_reply_since=at(100), next_reply_at=at(130))
    assert states(answered, at(200))[SlaTarget.NEXT_RESPONSE] == TargetState.MET
    # A reply from before the customer wrote again does not count.
    stale = clock(first_response_at=at(5), awaiting_reply_since=at(100), next_reply_at=at(90))
    assert states(stale, at(120))[SlaTarget.NEXT_RESPONSE] == TargetState.ACTIVE


def test_resolution_met_or_missed() -> None:
    assert states(clock(resolved_at=at(479)), at(600))[SlaTarget.RESOLUTION] == TargetState.MET
    assert states(clock(), at(481))[SlaTarget.RESOLUTION] == TargetState.MISSED


def test_deadlines_follow_business_hours() -> None:
    friday_afternoon = datetime(2026, 3, 6, 16, 50, tzinfo=WARSAW)
    sla = SlaClock.for_policy(
        SlaPolicyRule(name="Office", targets=TARGETS, calendar=OFFICE), friday_afternoon
    )
    assert sla.due_at(SlaTarget.FIRST_RESPONSE) == datetime(2026, 3, 9, 9, 20, tzinfo=WARSAW)
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=WARSAW)
    assert states(sla, saturday)[SlaTarget.FIRST_RESPONSE] == TargetState.ACTIVE


def test_time_spent_pending_or_on_hold_does_not_count() -> None:
    paused = clock(pauses=(Pause(at(60), "waiting for the customer", ended_at=at(180)),))
    assert paused.due_at(SlaTarget.RESOLUTION) == at(480 + 120)
    # The first response was due before the pause began: the pause does not move it.
    assert paused.due_at(SlaTarget.FIRST_RESPONSE) == at(30)


def test_while_paused_the_deadline_is_unknown_and_nothing_is_breached() -> None:
    sla = clock(first_response_at=at(5)).pause(at(100), "on hold")
    assert sla.is_paused(at(1000))
    [resolution] = [s for s in sla.status(at(1000)) if s.target == SlaTarget.RESOLUTION]
    assert (resolution.state, resolution.due_at, resolution.paused) == (
        TargetState.ACTIVE,
        None,
        True,
    )
    assert sla.breached(at(1000)) == []
    resumed = sla.resume(at(400))
    assert resumed.due_at(SlaTarget.RESOLUTION) == at(480 + 300)
    assert resumed.pauses == (Pause(at(100), "on hold", ended_at=at(400)),)


def test_pausing_twice_keeps_one_open_pause_and_overlaps_count_once() -> None:
    sla = clock().pause(at(60), "on hold").pause(at(70), "waiting for the customer")
    assert len(sla.pauses) == 1
    overlapping = clock(
        pauses=(
            Pause(at(60), "on hold", ended_at=at(120)),
            Pause(at(90), "waiting for the customer", ended_at=at(150)),
        )
    )
    assert overlapping.due_at(SlaTarget.RESOLUTION) == at(480 + 90)


def test_a_pause_while_the_office_is_closed_moves_nothing() -> None:
    friday_16 = datetime(2026, 3, 6, 16, 0, tzinfo=WARSAW)
    weekend_pause = Pause(
        datetime(2026, 3, 6, 18, 0, tzinfo=WARSAW),
        "on hold",
        ended_at=datetime(2026, 3, 8, 20, 0, tzinfo=WARSAW),
    )
    plain = SlaClock(started_at=friday_16, targets=TARGETS, calendar=OFFICE)
    paused = SlaClock(
        started_at=friday_16, targets=TARGETS, calendar=OFFICE, pauses=(weekend_pause,)
    )
    assert paused.due_at(SlaTarget.RESOLUTION) == plain.due_at(SlaTarget.RESOLUTION)
    assert paused.due_at(SlaTarget.RESOLUTION) == datetime(2026, 3, 9, 16, 0, tzinfo=WARSAW)


def test_a_pause_during_office_hours_moves_the_deadline_by_office_time_only() -> None:
    monday_9 = datetime(2026, 3, 9, 9, 0, tzinfo=WARSAW)
    pause = Pause(
        datetime(2026, 3, 9, 16, 0, tzinfo=WARSAW),  # one office hour ...
        "waiting for the customer",
        ended_at=datetime(2026, 3, 10, 10, 0, tzinfo=WARSAW),  # ... plus one the next day
    )
    sla = SlaClock(started_at=monday_9, targets=TARGETS, calendar=OFFICE, pauses=(pause,))
    # 8 office hours: 7 on Monday, the last one after the pause on Tuesday.
    assert sla.due_at(SlaTarget.RESOLUTION) == datetime(2026, 3, 10, 11, 0, tzinfo=WARSAW)


def test_warning_before_the_breach_and_then_the_breach() -> None:
    sla = clock()
    warn = timedelta(minutes=10)
    assert sla.warning_due(at(19), warn) == []
    assert sla.warning_due(at(20), warn) == [SlaTarget.FIRST_RESPONSE]
    assert sla.breached(at(30)) == []
    assert sla.breached(at(31)) == [SlaTarget.FIRST_RESPONSE]
    assert sla.warning_due(at(31), warn) == []  # missed, no longer a warning
    assert sla.warning_due(at(470), warn) == [SlaTarget.RESOLUTION]


def test_pending_and_on_hold_pause_the_clock_other_statuses_do_not() -> None:
    assert pause_reason(ConversationStatus.PENDING) == "waiting for the customer"
    assert pause_reason(ConversationStatus.ON_HOLD) == "on hold"
    assert pause_reason(ConversationStatus.OPEN) is None
    assert pause_reason(ConversationStatus.SOLVED) is None


def test_targets_left_out_of_the_policy_do_not_appear() -> None:
    sla = SlaClock(started_at=OPENED, targets=SlaTargets(first_response_minutes=15))
    assert [s.target for s in sla.status(at(1))] == [SlaTarget.FIRST_RESPONSE]
