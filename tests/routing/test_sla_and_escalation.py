"""SLA clocks and escalation rules in the live server, end to end through the API and
the worker's jobs: deadlines on business hours, pauses with reasons, warnings,
breaches, and the four built-in escalation rules."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.models import SLACalendar, SLAPolicy
from helpline.services.events import LiveEvent
from helpline.settings import Settings
from tests.routing.support import (
    API,
    activities,
    assignee_id,
    build_org,
    conversation,
    customer,
    go_online,
    history,
    open_chat,
    tick,
)
from tests.support import FrozenClock, login


def _policy(db: Session, **fields: object) -> SLAPolicy:
    policy = SLAPolicy(name=str(fields.pop("name", "Standard")), calendar={}, **fields)
    db.add(policy)
    db.commit()
    return policy


def _install_builtin_rules(client: TestClient, org: object, minutes: float = 30) -> None:
    response = client.post(
        f"{API}/routing/rules/builtin",
        json={
            "tier2_team_id": org.tier2.id,  # type: ignore[attr-defined]
            "security_team_id": org.security.id,  # type: ignore[attr-defined]
            "tier1_minutes": minutes,
        },
    )
    assert response.status_code == 200, response.text


def test_deadlines_follow_business_hours_and_the_sla_endpoint_explains_them(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    org = build_org(db)
    office = SLACalendar(
        name="Office",
        data={
            "time_zone": "Europe/Warsaw",
            "weekly_hours": {
                day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
            },
            "holidays": [],
        },
    )
    db.add(office)
    db.commit()
    _policy(db, name="Business hours", first_response_minutes=180, calendar_id=office.id)
    # Friday 15:00 in Warsaw (14:00 UTC): two business hours on Friday, the third on
    # Monday from 09:00, so it is due Monday 10:00 in Warsaw, 09:00 UTC.
    clock.current = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
    login(client, org.admin.email)
    chat = open_chat(client, org.chat, customer(db, "Weekend Wanda"))
    assert chat["first_response_due_at"].startswith("2026-03-09T09:00:00")
    assert chat["sla_state"] == "active"

    sla = client.get(f"{API}/conversations/{chat['id']}/sla").json()
    assert sla["policy_name"] == "Business hours"
    assert sla["state"] == "active"
    assert sla["targets"] == [
        {
            "target": "first_response",
            "state": "active",
            "due_at": "2026-03-09T09:00:00Z",
            "completed_at": None,
            "paused": False,
        }
    ]


def test_pending_pauses_the_clock_with_its_reason_and_moves_the_deadline(
    client: TestClient, db: Session, clock: FrozenClock, settings: Settings
) -> None:
    org = build_org(db)
    _policy(db, resolution_minutes=60)
    login(client, org.admin.email)
    chat = open_chat(client, org.chat, customer(db, "Patient Pat"))
    assert chat["resolution_due_at"].startswith("2026-03-02T10:00:00")

    clock.advance(minutes=20)
    client.post(f"{API}/conversations/{chat['id']}/status", json={"status": "pending"})
    paused = client.get(f"{API}/conversations/{chat['id']}/sla").json()
    assert paused["paused"] is True
    assert paused["pauses"][0]["reason"] == "waiting for the customer"
    assert paused["targets"][0]["due_at"] is None  # unknown while paused
    assert activities(client, chat["id"], "sla_paused")[0]["data"]["reason"] == (
        "waiting for the customer"
    )

    # Two hours later nothing is breached: the clock was stopped.
    clock.advance(hours=2)
    tick(db, clock, settings)
    assert activities(client, chat["id"], "sla_breached") == []
    # At 11:20 the customer answers: the clock runs again with the 40 minutes left.
    client.post(f"{API}/conversations/{chat['id']}/incoming", json={"body": "Here you go"})
    resumed = conversation(client, chat["id"])
    assert resumed["resolution_due_at"].startswith("2026-03-02T12:00:00")
    assert resumed["sla_state"] == "active"
    assert len(activities(client, chat["id"], "sla_resumed")) == 1


def test_a_warning_comes_before_the_breach_and_the_breach_alerts_seniors_and_supervisor(
    client: TestClient, db: Session, clock: FrozenClock, settings: Settings
) -> None:
    org = build_org(db)
    _policy(db, first_response_minutes=30)
    login(client, org.admin.email)
    _install_builtin_rules(client, org)
    chat = open_chat(client, org.chat, customer(db, "Waiting Walter"))
    events: list[LiveEvent] = []
    unsubscribe = client.app.state.bus.subscribe(events.append)  # type: ignore[attr-defined]
    try:
        clock.advance(minutes=10)
        tick(db, clock, settings, client)
        assert activities(client, chat["id"], "sla_warning") == []
        clock.advance(minutes=6)  # 14 minutes left: within the 15-minute warning
        tick(db, clock, settings, client)
        warnings = activities(client, chat["id"], "sla_warning")
        assert [w["data"]["target"] for w in warnings] == ["first_response"]
        clock.advance(minutes=15)
        tick(db, clock, settings, client)
        clock.advance(minutes=1)
        tick(db, clock, settings, client)  # nothing announced twice
    finally:
        unsubscribe()

    breaches = activities(client, chat["id"], "sla_breached")
    assert [b["data"]["target"] for b in breaches] == ["first_response"]
    assert conversation(client, chat["id"])["sla_state"] == "missed"
    assert "sla-breached" in conversation(client, chat["id"])["tags"]
    assert [e.type for e in events if e.type.startswith("sla.")] == ["sla.warning", "sla.breached"]
    notified = [e for e in events if e.type == "escalation.notified"]
    assert len(notified) == 1
    # Senior agents (tier 2) and the supervisor hear about it, with a summary.
    assert notified[0].user_ids == {org.tess.id, org.sue.id}
    (escalated,) = activities(client, chat["id"], "escalated")
    assert escalated["data"]["summary"]


def test_a_reply_in_time_meets_the_target(
    client: TestClient, db: Session, clock: FrozenClock, settings: Settings
) -> None:
    org = build_org(db)
    _policy(db, first_response_minutes=30, next_response_minutes=10)
    go_online(client, org.anna)
    chat = open_chat(client, org.chat, customer(db, "Quick Quinn"))
    clock.advance(minutes=5)
    client.post(f"{API}/conversations/{chat['id']}/messages", json={"body": "Hello Quinn!"})
    answered = client.get(f"{API}/conversations/{chat['id']}/sla").json()
    assert answered["targets"][0]["state"] == "met"
    assert answered["state"] == "met"

    # The customer writes again: the next response is due in 10 minutes, and is late.
    client.post(f"{API}/conversations/{chat['id']}/incoming", json={"body": "One more thing"})
    assert conversation(client, chat["id"])["sla_state"] == "active"
    clock.advance(minutes=12)
    client.post(f"{API}/conversations/{chat['id']}/messages", json={"body": "Sorry!"})
    late = activities(client, chat["id"], "sla_breached")
    assert [b["data"]["target"] for b in late] == ["next_response"]
    assert conversation(client, chat["id"])["sla_state"] == "missed"
    tick(db, clock, settings)
    assert len(activities(client, chat["id"], "sla_breached")) == 1


def test_security_keywords_send_the_chat_to_the_security_team_as_urgent(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    org = build_org(db)
    login(client, org.admin.email)
    _install_builtin_rules(client, org)
    go_online(client, org.anna, org.sam)
    login(client, org.sue.email)
    chat = open_chat(
        client, org.chat, customer(db, "Hacked Harry"), "Someone hacked my account, help!"
    )
    login(client, org.admin.email)
    now = conversation(client, chat["id"])
    assert now["team"]["id"] == org.security.id
    assert now["priority"] == "urgent"
    assert "security" in now["tags"]
    assert now["priority_breakdown"][0] == {"reason": "urgent: security", "points": 40}
    assert now["assignee"]["id"] == org.sam.id  # the security team's agent, not Anna
    notice = [e["message"] for e in history(client, chat["id"]) if e["kind"] == "message"][-1]
    assert notice["author_type"] == "system"
    escalated = activities(client, chat["id"], "escalated")[0]["data"]
    assert escalated["rules"] == ["Legal, fraud, data breach or account takeover"]
    assert escalated["to_team_id"] == org.security.id


def test_a_technical_issue_unresolved_by_tier_1_moves_to_tier_2_after_the_set_minutes(
    client: TestClient, db: Session, clock: FrozenClock, settings: Settings
) -> None:
    org = build_org(db)
    login(client, org.admin.email)
    _install_builtin_rules(client, org, minutes=20)
    go_online(client, org.anna, org.tess)
    login(client, org.sue.email)
    support = {"team_id": org.support.id, "category": "technical"}
    chat = open_chat(client, org.chat, customer(db, "Techy Ted"), "The app crashes", **support)
    assert assignee_id(client, chat["id"]) == org.anna.id
    login(client, org.anna.email)
    client.post(f"{API}/conversations/{chat['id']}/messages", json={"body": "Looking into it"})

    clock.advance(minutes=19)
    tick(db, clock, settings)
    assert assignee_id(client, chat["id"]) == org.anna.id
    clock.advance(minutes=2)
    tick(db, clock, settings)

    login(client, org.tess.email)
    moved = conversation(client, chat["id"])
    assert moved["team"]["id"] == org.tier2.id
    assert moved["assignee"]["id"] == org.tess.id
    assert "escalated" in moved["tags"]
    # Anna's reply and the customer's words are all still there for Tess.
    bodies = [e["message"]["body"] for e in history(client, chat["id"]) if e["kind"] == "message"]
    assert bodies[:2] == ["The app crashes", "Looking into it"]
    assert "no need to repeat" in bodies[-1]
    # Like an escalation fired by a message, one fired by time carries a hand-over
    # summary for the tier-2 agent (AI assist).
    (escalated,) = activities(client, chat["id"], "escalated")
    assert escalated["data"]["summary_source"] == "extractive"
    assert "The app crashes" in escalated["data"]["summary"]
    clock.advance(minutes=30)
    tick(db, clock, settings)
    assert len(activities(client, chat["id"], "escalated")) == 1  # once per conversation
