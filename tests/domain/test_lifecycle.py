"""The conversation state machine: every status pair, snoozing, reopening, auto-close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpline.domain import lifecycle
from helpline.domain.enums import ConversationStatus as S
from helpline.domain.errors import ConversationClosed, InvalidTransition

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Written out by hand (not derived from the code under test): what a support team
# expects. Closed is final; solved only reopens or closes.
ALLOWED = {
    (S.OPEN, S.PENDING),
    (S.OPEN, S.ON_HOLD),
    (S.OPEN, S.SOLVED),
    (S.PENDING, S.OPEN),
    (S.PENDING, S.ON_HOLD),
    (S.PENDING, S.SOLVED),
    (S.ON_HOLD, S.OPEN),
    (S.ON_HOLD, S.PENDING),
    (S.ON_HOLD, S.SOLVED),
    (S.SOLVED, S.OPEN),
    (S.SOLVED, S.CLOSED),
}
ALL_PAIRS = [(current, target) for current in S for target in S]


def test_the_table_covers_all_25_pairs() -> None:
    assert len(ALL_PAIRS) == 25
    assert len(ALLOWED) == 11


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: s.value)
def test_each_status_pair_is_allowed_or_refused(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        change = lifecycle.change_status(current, target, NOW)
        assert change.status == target
        assert lifecycle.can_transition(current, target)
    else:
        with pytest.raises(InvalidTransition) as refused:
            lifecycle.change_status(current, target, NOW)
        assert refused.value.details == {"from": current.value, "to": target.value}
        assert not lifecycle.can_transition(current, target)


def test_solving_stamps_the_time_and_closing_keeps_it() -> None:
    solved = lifecycle.change_status(S.OPEN, S.SOLVED, NOW)
    assert solved.solved_at == NOW

    later = NOW + timedelta(days=8)
    closed = lifecycle.change_status(S.SOLVED, S.CLOSED, later, current_solved_at=NOW)
    assert closed.solved_at == NOW


def test_reopening_a_solved_conversation_clears_the_solved_time() -> None:
    reopened = lifecycle.change_status(S.SOLVED, S.OPEN, NOW, current_solved_at=NOW)
    assert reopened.solved_at is None


@pytest.mark.parametrize("current", [S.OPEN, S.ON_HOLD])
def test_snoozing_moves_to_pending_until_a_future_time(current: S) -> None:
    until = NOW + timedelta(hours=4)
    change = lifecycle.change_status(current, S.PENDING, NOW, snooze_until=until)
    assert change.status == S.PENDING
    assert change.snoozed_until == until


def test_a_pending_conversation_can_be_snoozed_again() -> None:
    until = NOW + timedelta(days=1)
    change = lifecycle.change_status(S.PENDING, S.PENDING, NOW, snooze_until=until)
    assert change.snoozed_until == until


def test_pending_to_pending_without_a_snooze_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="already pending"):
        lifecycle.change_status(S.PENDING, S.PENDING, NOW)


@pytest.mark.parametrize("target", [S.OPEN, S.ON_HOLD, S.SOLVED])
def test_only_pending_can_be_snoozed(target: S) -> None:
    with pytest.raises(InvalidTransition, match="only pending"):
        lifecycle.change_status(S.OPEN, target, NOW, snooze_until=NOW + timedelta(hours=1))


@pytest.mark.parametrize("until", [NOW, NOW - timedelta(minutes=1)])
def test_snooze_time_must_be_in_the_future(until: datetime) -> None:
    with pytest.raises(InvalidTransition, match="future"):
        lifecycle.change_status(S.OPEN, S.PENDING, NOW, snooze_until=until)


def test_leaving_pending_clears_the_snooze() -> None:
    change = lifecycle.change_status(S.PENDING, S.OPEN, NOW)
    assert change.snoozed_until is None


@pytest.mark.parametrize("current", [S.OPEN, S.PENDING, S.ON_HOLD, S.SOLVED])
def test_a_customer_message_reopens_everything_but_closed(current: S) -> None:
    assert lifecycle.status_after_customer_message(current) == S.OPEN


def test_a_customer_message_on_a_closed_conversation_is_refused() -> None:
    with pytest.raises(ConversationClosed):
        lifecycle.status_after_customer_message(S.CLOSED)


def test_snooze_is_over_exactly_at_the_snooze_time() -> None:
    until = NOW + timedelta(hours=1)
    assert not lifecycle.snooze_is_over(S.PENDING, until, NOW)
    assert lifecycle.snooze_is_over(S.PENDING, until, until)
    assert not lifecycle.snooze_is_over(S.PENDING, None, until)
    assert not lifecycle.snooze_is_over(S.OPEN, until, until + timedelta(hours=1))


def test_auto_close_is_due_after_the_configured_days_of_being_solved() -> None:
    due = NOW + timedelta(days=7)
    assert not lifecycle.auto_close_due(S.SOLVED, NOW, due - timedelta(seconds=1), 7)
    assert lifecycle.auto_close_due(S.SOLVED, NOW, due, 7)
    assert lifecycle.auto_close_due(S.SOLVED, NOW, NOW + timedelta(hours=12), 0.5)


@pytest.mark.parametrize("status", [S.OPEN, S.PENDING, S.ON_HOLD, S.CLOSED])
def test_only_solved_conversations_auto_close(status: S) -> None:
    assert not lifecycle.auto_close_due(status, NOW, NOW + timedelta(days=30), 7)


def test_a_solved_conversation_without_a_solved_time_never_auto_closes() -> None:
    assert not lifecycle.auto_close_due(S.SOLVED, None, NOW + timedelta(days=30), 7)
