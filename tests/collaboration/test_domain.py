"""The pure rules of working together: who a note mentions, when a break is due,
and participants in the access rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpline.domain.access import Viewer, can_see_conversation
from helpline.domain.enums import AgentStatus, Role
from helpline.domain.mentions import Colleague, mention_handles, resolve_mentions
from helpline.domain.wellbeing import break_due_at, break_plan, reminder_needed

MARIA = Colleague(1, "Maria Kowalska", "maria.kowalska@example.com")
MARIO = Colleague(2, "Mario Rossi", "mario@example.com")
MARIA_B = Colleague(3, "Maria Nowak", "mnowak@example.com")
BEN = Colleague(4, "Ben Okafor", "ben@example.com")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_handles_are_found_after_spaces_and_punctuation_not_inside_addresses() -> None:
    body = "@ben can you check? cc (@maria.kowalska), not anna@example.com. Thanks @Ben."
    assert mention_handles(body) == ["ben", "maria.kowalska"]
    assert mention_handles("no mentions here, just me@host.example") == []


def test_a_handle_names_one_colleague_by_email_name_or_unique_first_name() -> None:
    people = [MARIA, MARIO, MARIA_B, BEN]
    assert resolve_mentions(["maria.kowalska"], people) == [1]
    assert resolve_mentions(["mariakowalska"], people) == [1]
    assert resolve_mentions(["ben"], people) == [4]  # email local part and first name
    assert resolve_mentions(["mario"], people) == [2]
    # Two Marias: the first name alone names nobody; unknown handles neither.
    assert resolve_mentions(["maria"], people) == []
    assert resolve_mentions(["nobody", "ben", "ben"], people) == [4]


def test_a_break_is_due_after_the_stretch_online_and_a_snooze_moves_it() -> None:
    plan = break_plan(
        pomodoro=False,
        own_stretch_minutes=None,
        own_break_minutes=None,
        default_stretch_minutes=90,
        default_break_minutes=15,
    )
    due = break_due_at(status=AgentStatus.ONLINE, status_since=T0, plan=plan, snoozed_until=None)
    assert due == T0 + timedelta(minutes=90)
    assert not reminder_needed(due, None, T0 + timedelta(minutes=89))
    assert reminder_needed(due, None, T0 + timedelta(minutes=90))
    # Sent once: a reminder after the due time covers it.
    assert not reminder_needed(due, T0 + timedelta(minutes=90), T0 + timedelta(minutes=95))
    snoozed = break_due_at(
        status=AgentStatus.ONLINE,
        status_since=T0,
        plan=plan,
        snoozed_until=T0 + timedelta(minutes=100),
    )
    assert snoozed == T0 + timedelta(minutes=100)
    assert reminder_needed(snoozed, T0 + timedelta(minutes=90), T0 + timedelta(minutes=100))
    # A snooze never brings the reminder forward; away or on a break: no reminder.
    early = break_due_at(status=AgentStatus.ONLINE, status_since=T0, plan=plan, snoozed_until=T0)
    assert early == due
    for status in (AgentStatus.AWAY, AgentStatus.ON_BREAK, AgentStatus.OFFLINE):
        assert break_due_at(status=status, status_since=T0, plan=plan, snoozed_until=None) is None


def test_pomodoro_is_25_minutes_then_5_whatever_the_own_lengths() -> None:
    plan = break_plan(
        pomodoro=True,
        own_stretch_minutes=60,
        own_break_minutes=10,
        default_stretch_minutes=90,
        default_break_minutes=15,
    )
    assert (plan.stretch_minutes, plan.break_minutes, plan.pomodoro) == (25, 5, True)
    own = break_plan(
        pomodoro=False,
        own_stretch_minutes=60,
        own_break_minutes=10,
        default_stretch_minutes=90,
        default_break_minutes=15,
    )
    assert (own.stretch_minutes, own.break_minutes) == (60, 10)


def test_a_participant_sees_a_conversation_no_other_rule_shows_them() -> None:
    agent = Viewer(100, Role.AGENT, frozenset({1}), frozenset({10}))
    assert not can_see_conversation(agent, assignee_id=7, team_id=2, inbox_id=20)
    assert can_see_conversation(agent, assignee_id=7, team_id=2, inbox_id=20, participant_ids={100})
    assert not can_see_conversation(
        agent, assignee_id=7, team_id=2, inbox_id=20, participant_ids={7, 8}
    )
