"""The routing API: admin settings, calendars, policies and rules (validated, admins
only); strategies per inbox, pull and manual pick; caps and email weight; presence."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.models import InboxMember
from tests.factories import make_inbox, make_user
from tests.routing.support import (
    API,
    activities,
    assignee_id,
    build_org,
    customer,
    go_online,
    open_chat,
    set_status,
)
from tests.support import FrozenClock, login

WEEKDAYS = {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}


def test_routing_administration_is_for_admins_only(client: TestClient, db: Session) -> None:
    org = build_org(db)
    login(client, org.sue.email)
    for method, path, body in (
        ("get", "/routing/settings", None),
        ("patch", "/routing/settings", {"email_weight": 1}),
        ("put", f"/routing/settings/inboxes/{org.chat.id}", {"strategy": "pull"}),
        ("get", "/sla/policies", None),
        ("post", "/sla/calendars", {"name": "x", "weekly_hours": WEEKDAYS}),
        ("get", "/routing/rules", None),
        ("post", "/routing/rules/builtin", {}),
    ):
        response = client.request(method, f"{API}{path}", json=body)
        assert response.status_code == 403, (path, response.text)


def test_calendars_are_validated_and_cannot_be_deleted_while_a_policy_uses_them(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    login(client, org.admin.email)
    bad_zone = client.post(
        f"{API}/sla/calendars",
        json={"name": "Office", "time_zone": "Nowhere/Land", "weekly_hours": WEEKDAYS},
    )
    assert bad_zone.status_code == 422
    assert bad_zone.json()["error"]["details"]["field"] == "calendar"
    bad_hours = client.post(
        f"{API}/sla/calendars",
        json={"name": "Office", "weekly_hours": {"mon": [["17:00", "09:00"]]}},
    )
    assert bad_hours.status_code == 422
    assert "must end after it starts" in bad_hours.json()["error"]["message"]
    extra = client.post(
        f"{API}/sla/calendars", json={"name": "Office", "weekly_hours": WEEKDAYS, "owner": 1}
    )
    assert extra.status_code == 422

    created = client.post(
        f"{API}/sla/calendars",
        json={"name": "Office", "time_zone": "Europe/Berlin", "weekly_hours": WEEKDAYS},
    )
    assert created.status_code == 201, created.text
    calendar = created.json()
    assert calendar["weekly_hours"] == WEEKDAYS
    duplicate = client.post(
        f"{API}/sla/calendars", json={"name": "office", "weekly_hours": WEEKDAYS}
    )
    assert duplicate.status_code == 409

    policy = client.post(
        f"{API}/sla/policies",
        json={"name": "Office hours", "first_response_minutes": 60, "calendar_id": calendar["id"]},
    )
    assert policy.status_code == 201, policy.text
    in_use = client.delete(f"{API}/sla/calendars/{calendar['id']}")
    assert in_use.status_code == 409
    assert client.delete(f"{API}/sla/policies/{policy.json()['id']}").status_code == 204
    assert client.delete(f"{API}/sla/calendars/{calendar['id']}").status_code == 204


def test_sla_policies_are_validated_and_listed_in_matching_order(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    login(client, org.admin.email)
    no_target = client.post(f"{API}/sla/policies", json={"name": "Empty"})
    assert no_target.status_code == 422
    negative = client.post(f"{API}/sla/policies", json={"name": "Bad", "first_response_minutes": 0})
    assert negative.status_code == 422
    unknown_calendar = client.post(
        f"{API}/sla/policies", json={"name": "Bad", "first_response_minutes": 5, "calendar_id": 99}
    )
    assert unknown_calendar.status_code == 422
    urgent = client.post(
        f"{API}/sla/policies",
        json={
            "name": "Urgent",
            "position": 0,
            "match_priority": "urgent",
            "first_response_minutes": 15,
        },
    )
    normal = client.post(
        f"{API}/sla/policies",
        json={"name": "Everyone", "position": 10, "first_response_minutes": 240},
    )
    assert urgent.status_code == normal.status_code == 201
    listed = client.get(f"{API}/sla/policies").json()
    assert [p["name"] for p in listed["data"]] == ["Urgent", "Everyone"]

    # An urgent conversation gets the urgent policy; making it normal re-matches.
    chat = open_chat(client, org.chat, customer(db, "Uma"), priority="urgent")
    assert chat["first_response_due_at"].startswith("2026-03-02T09:15:00")
    calmer = client.patch(f"{API}/conversations/{chat['id']}", json={"priority": "normal"})
    assert calmer.json()["first_response_due_at"].startswith("2026-03-02T13:00:00")


def test_rules_are_validated_as_the_engine_reads_them(client: TestClient, db: Session) -> None:
    org = build_org(db)
    login(client, org.admin.email)
    rule = {
        "name": "Enterprise to seniors",
        "conditions": [{"field": "plan", "op": "is", "value": "enterprise"}],
        "actions": [{"action": "escalate_to_tier2", "value": org.tier2.id}],
    }
    for broken, field in (
        ({**rule, "conditions": [{"field": "plan", "op": "gt", "value": 3}]}, "conditions"),
        ({**rule, "actions": [{"action": "set_team", "value": 999}]}, "actions"),
        ({**rule, "actions": [{"action": "launch_rockets"}]}, "actions"),
        ({**rule, "trigger": "sometimes"}, None),
    ):
        response = client.post(f"{API}/routing/rules", json=broken)
        assert response.status_code == 422, broken
        if field:
            assert response.json()["error"]["details"]["field"] == field
    created = client.post(f"{API}/routing/rules", json=rule)
    assert created.status_code == 201, created.text
    assert created.json()["trigger"] == "conversation_updated"
    replaced = client.put(
        f"{API}/routing/rules/{created.json()['id']}", json={**rule, "active": False}
    )
    assert replaced.json()["active"] is False
    assert client.post(f"{API}/routing/rules", json=rule).status_code == 409


def test_settings_change_weights_and_refuse_unknown_ones(client: TestClient, db: Session) -> None:
    org = build_org(db)
    login(client, org.admin.email)
    unknown = client.patch(f"{API}/routing/settings", json={"weights": {"charm_points": 3}})
    assert unknown.status_code == 422
    starving = client.patch(
        f"{API}/routing/settings", json={"weights": {"waiting_points_per_minute": 0}}
    )
    assert starving.status_code == 422
    saved = client.patch(
        f"{API}/routing/settings",
        json={
            "weights": {"urgent_points": 50, "plan_points": {"enterprise": 40}},
            "email_weight": 1,
        },
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["weights"]["urgent_points"] == 50
    assert body["weights"]["plan_points"]["enterprise"] == 40
    assert body["email_weight"] == 1
    assert body["answer_timeout_seconds"] == 45  # untouched default

    chat = open_chat(client, org.chat, customer(db, "Ed", plan="enterprise"), category="account")
    assert chat["priority_score"] == 90.0


def test_pull_pushes_nothing_and_agents_take_the_oldest_chat_they_may_take(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    org = build_org(db)
    login(client, org.admin.email)
    pull = client.put(f"{API}/routing/settings/inboxes/{org.chat.id}", json={"strategy": "pull"})
    assert pull.status_code == 200
    go_online(client, org.anna)
    login(client, org.sue.email)
    older = open_chat(client, org.chat, customer(db, "First Fay"))
    clock.advance(seconds=30)
    newer = open_chat(client, org.chat, customer(db, "Second Sid"), category="account")
    assert assignee_id(client, older["id"]) is None
    assert assignee_id(client, newer["id"]) is None

    login(client, org.anna.email)
    taken = client.post(f"{API}/routing/next")
    assert taken.status_code == 200, taken.text
    assert taken.json()["id"] == older["id"]
    assert taken.json()["assignee"]["id"] == org.anna.id
    # Manual pick works with any strategy.
    picked = client.post(f"{API}/routing/queue/{newer['id']}/pick")
    assert picked.status_code == 200
    assert client.post(f"{API}/routing/next").status_code == 204


def test_picking_by_hand_respects_who_was_first_and_the_cap(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    for agent in (org.anna, org.ben):
        agent.max_concurrent_chats = 1
    db.commit()
    login(client, org.sue.email)  # nobody online: chats wait
    chats = [open_chat(client, org.chat, customer(db, f"Cust {n}")) for n in range(2)]
    login(client, org.anna.email)
    assert client.post(f"{API}/routing/queue/{chats[0]['id']}/pick").status_code == 200
    at_cap = client.post(f"{API}/routing/queue/{chats[1]['id']}/pick")
    assert at_cap.status_code == 409
    assert "limit of 1" in at_cap.json()["error"]["message"]
    login(client, org.ben.email)
    taken = client.post(f"{API}/routing/queue/{chats[0]['id']}/pick")
    assert taken.status_code == 409
    assert client.post(f"{API}/routing/queue/999999/pick").status_code == 404


def test_no_agent_is_pushed_over_their_cap_and_email_tickets_weigh_less(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    mail = make_inbox(db, "Email", channel="email")
    org.ben.max_concurrent_chats = 1
    db.add(InboxMember(inbox_id=mail.id, user_id=org.ben.id))
    db.commit()
    go_online(client, org.ben)
    login(client, org.sue.email)
    db.add(InboxMember(inbox_id=mail.id, user_id=org.sue.id))
    db.commit()
    # Two email tickets (0.5 each) fill Ben's cap of 1; a chat then waits.
    emails = [open_chat(client, mail, customer(db, f"Mailer {n}")) for n in range(3)]
    assert [assignee_id(client, e["id"]) for e in emails] == [org.ben.id, org.ben.id, None]
    chat = open_chat(client, org.chat, customer(db, "Chatty"))
    assert assignee_id(client, chat["id"]) is None
    agents = client.get(f"{API}/routing/agents").json()["data"]
    ben = next(agent for agent in agents if agent["id"] == org.ben.id)
    assert (ben["open_email_tickets"], ben["load"], ben["max_concurrent_chats"]) == (2, 1.0, 1)


def test_only_agents_who_speak_the_customers_language_are_offered_the_chat(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    hans = make_user(
        db,
        "hans@example.test",
        name="Hans",
        teams=[org.support],
        inboxes=[org.chat],
        languages=["de", "en"],
    )
    db.commit()
    go_online(client, org.anna, hans)
    login(client, org.sue.email)
    german = open_chat(client, org.chat, customer(db, "Greta", language="de-AT"), "Hallo")
    assert assignee_id(client, german["id"]) == hans.id


def test_an_agent_going_offline_hands_their_live_chats_to_colleagues(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    go_online(client, org.anna)
    login(client, org.sue.email)
    chat = open_chat(client, org.chat, customer(db, "Olga"))
    assert assignee_id(client, chat["id"]) == org.anna.id
    login(client, org.anna.email)
    client.post(f"{API}/conversations/{chat['id']}/messages", json={"body": "Hi Olga"})
    go_online(client, org.ben)
    login(client, org.anna.email)
    set_status(client, "offline")
    assert assignee_id(client, chat["id"]) == org.ben.id
    taken = activities(client, chat["id"], "reoffered")
    assert [a["data"]["reason"] for a in taken] == ["agent_offline"]


def test_supervisors_set_an_agents_presence_agents_only_their_own(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    login(client, org.anna.email)
    assert (
        client.put(
            f"{API}/routing/agents/{org.ben.id}/status", json={"status": "online"}
        ).status_code
        == 403
    )
    assert client.get(f"{API}/routing/agents").status_code == 403
    assert client.put(f"{API}/routing/status", json={"status": "sleeping"}).status_code == 422
    login(client, org.sue.email)
    changed = client.put(f"{API}/routing/agents/{org.ben.id}/status", json={"status": "away"})
    assert changed.status_code == 200
    assert changed.json()["status"] == "away"


def test_the_queue_shows_only_what_the_agent_may_see(client: TestClient, db: Session) -> None:
    org = build_org(db)
    other_inbox = make_inbox(db, "Partner chat")
    db.commit()
    login(client, org.admin.email)
    mine = open_chat(client, org.chat, customer(db, "Visible Vic"))
    hidden = open_chat(client, other_inbox, customer(db, "Hidden Hal"))
    login(client, org.ben.email)
    queue = client.get(f"{API}/routing/queue").json()
    assert [entry["conversation_id"] for entry in queue["data"]] == [mine["id"]]
    assert queue["data"][0]["eligible_agents"] == 0  # nobody online
    assert client.get(f"{API}/conversations/{hidden['id']}/queue").status_code == 404
    assert client.get(f"{API}/conversations/{hidden['id']}/sla").status_code == 404
    estimate = client.get(f"{API}/conversations/{mine['id']}/queue").json()
    assert estimate["waiting"] is True
    assert estimate["estimated_wait_seconds"] is None
    assert estimate["reason"] == "no agent who can take this conversation is online"


def test_an_agent_who_solves_a_chat_gets_the_next_waiting_one(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    org.anna.max_concurrent_chats = 1
    db.commit()
    go_online(client, org.anna)
    login(client, org.sue.email)
    first = open_chat(client, org.chat, customer(db, "First Flo"))
    second = open_chat(client, org.chat, customer(db, "Second Sal"))
    assert [assignee_id(client, c["id"]) for c in (first, second)] == [org.anna.id, None]
    login(client, org.anna.email)
    client.post(f"{API}/conversations/{first['id']}/messages", json={"body": "Done!"})
    solved = client.post(f"{API}/conversations/{first['id']}/status", json={"status": "solved"})
    assert solved.status_code == 200
    assert assignee_id(client, second["id"]) == org.anna.id
