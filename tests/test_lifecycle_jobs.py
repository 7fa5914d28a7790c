"""Snoozed conversations wake up and long-solved ones close, by the clock alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Activity, Conversation
from helpline.services.events import LiveEvent, install_publisher
from helpline.services.lifecycle_jobs import auto_close_solved, wake_snoozed
from tests.factories import make_conversation, make_inbox, make_team, make_user
from tests.support import FrozenClock


def _activities(db: Session, conversation: Conversation) -> list[Activity]:
    return list(
        db.scalars(
            select(Activity)
            .where(Activity.conversation_id == conversation.id)
            .order_by(Activity.seq)
        )
    )


def test_snoozed_conversation_reopens_when_its_snooze_is_over(
    db: Session, clock: FrozenClock
) -> None:
    inbox = make_inbox(db)
    agent = make_user(db, inboxes=[inbox])
    snoozed = make_conversation(
        db,
        inbox,
        status="pending",
        assignee_id=agent.id,
        snoozed_until=clock() + timedelta(hours=2),
    )
    db.commit()

    assert wake_snoozed(db, clock.advance(hours=1)) == 0
    db.expire_all()
    assert db.get(Conversation, snoozed.id).status == "pending"  # type: ignore[union-attr]

    assert wake_snoozed(db, clock.advance(hours=1)) == 1
    db.expire_all()
    woken = db.get(Conversation, snoozed.id)
    assert woken is not None
    assert woken.status == "open"
    assert woken.snoozed_until is None
    [activity] = _activities(db, woken)
    assert activity.kind == "reopened"
    assert activity.actor_type == "system"
    assert activity.actor_user_id is None
    assert activity.data["reason"] == "snooze_over"
    assert activity.seq == woken.last_seq
    assert activity.created_at == clock()


def test_wake_leaves_pending_without_snooze_and_other_statuses_alone(
    db: Session, clock: FrozenClock
) -> None:
    inbox = make_inbox(db)
    waiting_on_customer = make_conversation(db, inbox, status="pending")
    on_hold = make_conversation(
        db, inbox, status="on_hold", snoozed_until=clock() - timedelta(hours=1)
    )
    db.commit()

    assert wake_snoozed(db, clock.advance(days=30)) == 0
    db.expire_all()
    assert db.get(Conversation, waiting_on_customer.id).status == "pending"  # type: ignore[union-attr]
    assert db.get(Conversation, on_hold.id).status == "on_hold"  # type: ignore[union-attr]


def test_wake_tells_exactly_the_agents_who_can_see_the_conversation(
    db: Session, clock: FrozenClock
) -> None:
    team = make_team(db)
    inbox = make_inbox(db)
    teammate = make_user(db, teams=[team])
    admin = make_user(db, role="admin")
    outsider = make_user(db)
    conversation = make_conversation(
        db, inbox, status="pending", team_id=team.id, snoozed_until=clock()
    )
    db.commit()
    heard: list[LiveEvent] = []
    install_publisher(db, heard.append)

    assert wake_snoozed(db, clock()) == 1

    [event] = heard
    assert event.conversation_id == conversation.id
    assert event.type == "conversation.updated"
    assert event.payload["conversation"]["status"] == "open"
    assert event.payload["activities"][0]["data"]["reason"] == "snooze_over"
    assert event.user_ids == {teammate.id, admin.id}
    assert outsider.id not in event.user_ids


def test_wake_works_in_batches(db: Session, clock: FrozenClock) -> None:
    inbox = make_inbox(db)
    for _ in range(5):
        make_conversation(db, inbox, status="pending", snoozed_until=clock())
    db.commit()

    assert wake_snoozed(db, clock(), limit=3) == 3
    assert wake_snoozed(db, clock(), limit=3) == 2
    assert wake_snoozed(db, clock(), limit=3) == 0


def test_solved_conversation_closes_after_the_configured_days(
    db: Session, clock: FrozenClock
) -> None:
    inbox = make_inbox(db)
    solved_at = clock()
    conversation = make_conversation(db, inbox, status="solved", solved_at=solved_at)
    db.commit()

    assert auto_close_solved(db, clock.advance(days=6, hours=23), after_days=7) == 0
    db.expire_all()
    assert db.get(Conversation, conversation.id).status == "solved"  # type: ignore[union-attr]

    assert auto_close_solved(db, clock.advance(hours=1), after_days=7) == 1
    db.expire_all()
    closed = db.get(Conversation, conversation.id)
    assert closed is not None
    assert closed.status == "closed"
    assert closed.closed_at == clock()
    assert closed.solved_at == solved_at
    [activity] = _activities(db, closed)
    assert activity.kind == "auto_closed"
    assert activity.actor_type == "system"


def test_auto_close_ignores_open_and_recently_solved_conversations(
    db: Session, clock: FrozenClock
) -> None:
    inbox = make_inbox(db)
    still_open = make_conversation(db, inbox, status="open")
    recently_solved = make_conversation(
        db, inbox, status="solved", solved_at=clock() + timedelta(days=5)
    )
    db.commit()

    assert auto_close_solved(db, clock.advance(days=8), after_days=7) == 0
    db.expire_all()
    assert db.get(Conversation, still_open.id).status == "open"  # type: ignore[union-attr]
    assert db.get(Conversation, recently_solved.id).status == "solved"  # type: ignore[union-attr]


def test_a_closed_conversation_is_not_closed_twice(db: Session, clock: FrozenClock) -> None:
    inbox = make_inbox(db)
    conversation = make_conversation(db, inbox, status="solved", solved_at=clock())
    db.commit()

    assert auto_close_solved(db, clock.advance(days=7), after_days=7) == 1
    assert auto_close_solved(db, clock.advance(days=1), after_days=7) == 0
    db.expire_all()
    closed = db.get(Conversation, conversation.id)
    assert closed is not None
    assert len(_activities(db, closed)) == 1
