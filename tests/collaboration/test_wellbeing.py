"""Agent status and breaks: load against cap, break reminders sent once by the
worker, snooze and accept, Pomodoro, and while on a break nothing new is routed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.engine import make_session_factory
from helpline.services.agent_wellbeing import break_reminder_job
from helpline.services.events import LiveEvent, install_publisher
from helpline.settings import Settings
from tests.routing.support import (
    API,
    assignee_id,
    build_org,
    customer,
    go_online,
    open_chat,
)
from tests.support import FrozenClock, login


def _reminders(db: Session, clock: FrozenClock, settings: Settings) -> list[LiveEvent]:
    """One round of the worker's reminder job, in its own session."""
    heard: list[LiveEvent] = []
    with make_session_factory(db.get_bind())() as session:  # type: ignore[arg-type]
        install_publisher(session, heard.append)
        break_reminder_job(session, now=clock(), settings=settings)
    return heard


def _wellbeing(client: TestClient) -> dict[str, Any]:
    response = client.get(f"{API}/me/wellbeing")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_on_a_break_nothing_new_is_routed_a_new_chat_goes_to_a_colleague(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    go_online(client, org.anna, org.ben)
    login(client, org.anna.email)
    assert _wellbeing(client)["status"] == "online"

    on_break = client.post(f"{API}/me/wellbeing/break")
    assert on_break.status_code == 200, on_break.text
    assert on_break.json()["status"] == "on_break"
    assert on_break.json()["break_ends_at"] is not None

    chats = [open_chat(client, org.chat, customer(db, f"Visitor {n}"))["id"] for n in range(2)]
    assert [assignee_id(client, chat) for chat in chats] == [org.ben.id, org.ben.id]

    back = client.post(f"{API}/me/wellbeing/back")
    assert back.json()["status"] == "online" and back.json()["break_ends_at"] is None
    third = open_chat(client, org.chat, customer(db, "Visitor 3"))["id"]
    assert assignee_id(client, third) == org.anna.id  # Ben has two, Anna none
    now = _wellbeing(client)
    assert (now["open_chats"], now["max_concurrent_chats"]) == (1, 3)


def test_away_also_stops_routing(client: TestClient, db: Session) -> None:
    org = build_org(db)
    go_online(client, org.anna, org.ben)
    login(client, org.ben.email)
    assert client.put(f"{API}/routing/status", json={"status": "away"}).status_code == 200
    chat = open_chat(client, org.chat, customer(db, "Visitor"))["id"]
    assert assignee_id(client, chat) == org.anna.id


def test_the_worker_reminds_once_after_the_stretch_and_again_after_a_snooze(
    client: TestClient, db: Session, clock: FrozenClock, settings: Settings
) -> None:
    org = build_org(db)
    go_online(client, org.anna)
    start = clock()
    view = _wellbeing(client)
    assert view["break_after_minutes"] == 90 and view["break_due"] is False
    assert view["break_due_at"].startswith((start + timedelta(minutes=90)).isoformat()[:16])

    clock.advance(minutes=89)
    assert _reminders(db, clock, settings) == []
    clock.advance(minutes=1)
    [reminder] = _reminders(db, clock, settings)
    assert reminder.type == "wellbeing.break_due"
    assert reminder.user_ids == frozenset({org.anna.id})
    assert reminder.payload["online_minutes"] == 90
    assert _reminders(db, clock, settings) == []  # sent once
    assert _wellbeing(client)["break_due"] is True

    refused = client.post(f"{API}/me/wellbeing/snooze", json={"minutes": 7})
    assert refused.status_code == 422
    snoozed = client.post(f"{API}/me/wellbeing/snooze", json={"minutes": 10}).json()
    assert snoozed["break_due"] is False
    clock.advance(minutes=9)
    assert _reminders(db, clock, settings) == []
    clock.advance(minutes=1)
    assert [e.type for e in _reminders(db, clock, settings)] == ["wellbeing.break_due"]

    # Accepting: a break of the plan's length, then "your break is over" once.
    taken = client.post(f"{API}/me/wellbeing/break").json()
    assert taken["status"] == "on_break"
    clock.advance(minutes=14)
    assert _reminders(db, clock, settings) == []
    clock.advance(minutes=1)
    assert [e.type for e in _reminders(db, clock, settings)] == ["wellbeing.break_over"]
    assert _reminders(db, clock, settings) == []


def test_pomodoro_and_own_lengths_are_per_agent(
    client: TestClient, db: Session, clock: FrozenClock, settings: Settings
) -> None:
    org = build_org(db)
    go_online(client, org.anna, org.ben)
    login(client, org.anna.email)
    saved = client.put(f"{API}/me/wellbeing", json={"pomodoro": True}).json()
    assert (saved["pomodoro"], saved["break_after_minutes"], saved["break_minutes"]) == (
        True,
        25,
        5,
    )
    bad = client.put(f"{API}/me/wellbeing", json={"break_after_minutes": 5})
    assert bad.status_code == 422
    clock.advance(minutes=25)
    [reminder] = _reminders(db, clock, settings)
    assert reminder.user_ids == frozenset({org.anna.id})  # Ben keeps the 90 minutes
    assert reminder.payload["break_minutes"] == 5


def test_supervisors_hear_every_status_change(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    org = build_org(db)
    heard: list[LiveEvent] = []
    client.app.state.bus.subscribe(heard.append)  # type: ignore[attr-defined]
    go_online(client, org.ben)
    [changed] = [event for event in heard if event.type == "user.updated"]
    assert changed.payload["status"] == "online"
    assert {org.ben.id, org.sue.id, org.admin.id} <= changed.user_ids
    assert org.anna.id not in changed.user_ids
