"""The workspace API on both databases: shortcuts remapped per agent, saved views,
inbox views with counts and filters (language, SLA at risk), bulk actions that
respect visibility, and the customer sidebar."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Conversation
from tests.api.test_conversations import API, build_world
from tests.factories import make_contact, make_conversation
from tests.support import FrozenClock, login


def get_json(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}{path}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------- shortcuts


def test_default_keymap_has_every_shortcut_of_the_issue(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    keymap = get_json(client, "/workspace/preferences")["keymap"]
    assert keymap["set_solved"] == ["Ctrl+Alt+S", "Alt+Shift+S"]
    assert keymap["end_chat"][0] == "Shift+Escape" and len(keymap["end_chat"]) == 2
    assert keymap["join_chat"][0] == "Ctrl+Shift+J" and len(keymap["join_chat"]) == 2
    assert keymap["add_attachment"][0] == "Ctrl+Shift+U" and len(keymap["add_attachment"]) == 2
    assert keymap["send_and_solve"] == ["Ctrl+E"]
    assert [keymap[f"focus_pane_{n}"] for n in range(1, 5)] == [[f"Alt+{n}"] for n in range(1, 5)]
    assert keymap["command_palette"] == ["Ctrl+K"] and keymap["cheat_sheet"] == ["?"]


def test_an_agent_remaps_a_shortcut_for_themselves_only(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    response = client.patch(
        f"{API}/workspace/preferences/keymap",
        json={"keymap": {"set_solved": ["alt+shift+z", "Ctrl+Alt+S"]}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["keymap"]["set_solved"] == ["Alt+Shift+Z", "Ctrl+Alt+S"]
    assert response.json()["remapped"] == ["set_solved"]
    assert get_json(client, "/workspace/preferences")["keymap"]["set_solved"][0] == "Alt+Shift+Z"

    client.cookies.clear()
    login(client, world.agent_b.email)
    assert get_json(client, "/workspace/preferences")["keymap"]["set_solved"][0] == "Ctrl+Alt+S"

    client.cookies.clear()
    login(client, world.agent_a.email)
    response = client.patch(
        f"{API}/workspace/preferences/keymap", json={"keymap": {"set_solved": None}}
    )
    assert response.json()["keymap"]["set_solved"] == ["Ctrl+Alt+S", "Alt+Shift+S"]
    assert response.json()["remapped"] == []


def test_refused_shortcuts(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    for change, field in (
        ({"set_solved": ["S"]}, "set_solved"),  # fires while typing
        ({"set_solved": ["Ctrl+Alt+Bogus"]}, "set_solved"),
        ({"set_solved": ["Ctrl+E"]}, "set_solved"),  # send_and_solve has it
        ({"launch_rockets": ["Ctrl+Alt+R"]}, "keymap"),
    ):
        response = client.patch(f"{API}/workspace/preferences/keymap", json={"keymap": change})
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"]["field"] == field
    assert get_json(client, "/workspace/preferences")["remapped"] == []


def test_reset_keymap_and_notifications(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    client.patch(f"{API}/workspace/preferences/keymap", json={"keymap": {"end_chat": []}})
    assert get_json(client, "/workspace/preferences")["keymap"]["end_chat"] == []
    response = client.delete(f"{API}/workspace/preferences/keymap")
    assert response.json()["keymap"]["end_chat"] == ["Shift+Escape", "Alt+Shift+E"]
    response = client.patch(f"{API}/workspace/preferences/notifications", json={"sound": True})
    assert response.json()["notifications"] == {"sound": True, "desktop": False}


def test_preferences_need_a_session_and_csrf(client: TestClient, db: Session) -> None:
    world = build_world(db)
    assert client.get(f"{API}/workspace/preferences").status_code == 401
    login(client, world.agent_a.email)
    del client.headers["X-CSRF-Token"]
    response = client.patch(f"{API}/workspace/preferences/notifications", json={"sound": True})
    assert response.status_code == 403


# ---------------------------------------------------------------- saved views


def test_saved_views_are_per_agent_and_replace_by_name(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    filters = {"view": "unassigned", "priority": "urgent", "sla_risk": True, "language": "pl"}
    response = client.post(f"{API}/workspace/views", json={"name": "Urgent PL", "filters": filters})
    assert response.status_code == 201, response.text
    saved = response.json()
    assert saved["filters"] == filters
    again = client.post(
        f"{API}/workspace/views", json={"name": "urgent  pl", "filters": {"view": "mine"}}
    ).json()
    assert again["id"] == saved["id"]
    views = get_json(client, "/workspace/preferences")["saved_views"]
    assert [(v["name"], v["filters"]) for v in views] == [("urgent pl", {"view": "mine"})]
    bad = client.post(f"{API}/workspace/views", json={"name": "x", "filters": {"evil": "1"}})
    assert bad.status_code == 422

    client.cookies.clear()
    login(client, world.agent_b.email)
    assert get_json(client, "/workspace/preferences")["saved_views"] == []
    assert client.delete(f"{API}/workspace/views/{saved['id']}").status_code == 404

    client.cookies.clear()
    login(client, world.agent_a.email)
    assert client.delete(f"{API}/workspace/views/{saved['id']}").status_code == 204
    assert get_json(client, "/workspace/preferences")["saved_views"] == []


# ---------------------------------------------------------------- inbox views


def test_views_counts_and_filters(client: TestClient, db: Session, clock: FrozenClock) -> None:
    world = build_world(db)
    now = clock()
    mine = make_conversation(
        db, world.chat, world.contact, assignee_id=world.agent_a.id, priority_score=10.0
    )
    waiting_pl = make_conversation(
        db,
        world.chat,
        make_contact(db, name="Piotr"),
        team_id=world.team_a.id,
        language="pl",
        priority_score=50.0,
        waiting_since=now - timedelta(minutes=5),
    )
    at_risk = make_conversation(
        db,
        world.chat,
        make_contact(db, name="Risky"),
        team_id=world.team_a.id,
        priority_score=20.0,
        first_response_due_at=now + timedelta(minutes=10),
        waiting_since=now - timedelta(minutes=30),
    )
    make_conversation(  # solved: not active
        db, world.chat, world.contact, team_id=world.team_a.id, status="solved"
    )
    make_conversation(db, world.mail, world.contact)  # not visible to Ana
    db.commit()
    login(client, world.agent_a.email)

    page = get_json(client, "/workspace/inbox", view="unassigned")
    assert [row["id"] for row in page["data"]] == [waiting_pl.id, at_risk.id]  # by score
    assert page["counts"] == {"mine": 1, "unassigned": 2, "teams": 2}
    assert "all" not in page["counts"]  # agents have no "All" view
    by_wait = get_json(client, "/workspace/inbox", view="unassigned", sort="waiting")
    assert [row["id"] for row in by_wait["data"]] == [at_risk.id, waiting_pl.id]
    assert [r["id"] for r in get_json(client, "/workspace/inbox", view="mine")["data"]] == [mine.id]
    pl = get_json(client, "/workspace/inbox", view="teams", language="PL")
    assert [row["id"] for row in pl["data"]] == [waiting_pl.id]
    risky = get_json(client, "/workspace/inbox", view="teams", sla_risk="true")
    assert [row["id"] for row in risky["data"]] == [at_risk.id]
    any_status = get_json(client, "/workspace/inbox", view="teams", status="any")
    assert any_status["count"] == 3
    assert client.get(f"{API}/workspace/inbox", params={"view": "all"}).status_code == 422

    client.cookies.clear()
    login(client, world.supervisor.email)
    counts = get_json(client, "/workspace/counts")["counts"]
    assert counts["all"] == 3  # the email conversation is outside Sue's inboxes and teams


# ---------------------------------------------------------------- bulk actions


def test_bulk_actions_apply_to_each_visible_conversation(client: TestClient, db: Session) -> None:
    world = build_world(db)
    visible = [
        make_conversation(db, world.chat, world.contact, team_id=world.team_a.id) for _ in range(2)
    ]
    hidden = make_conversation(db, world.mail, world.contact, team_id=world.team_b.id)
    db.commit()
    ids = [c.id for c in visible] + [hidden.id]
    login(client, world.agent_a.email)

    response = client.post(
        f"{API}/workspace/bulk",
        json={"conversation_ids": ids, "action": "assign", "assignee_id": world.agent_a.id},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["failed"] == 1
    assert {r["conversation_id"]: r["code"] for r in body["data"] if not r["ok"]} == {
        hidden.id: "not_found"
    }

    tagged = client.post(
        f"{API}/workspace/bulk", json={"conversation_ids": ids[:2], "action": "tag", "tag": "VIP"}
    ).json()
    assert tagged["failed"] == 0
    solved = client.post(
        f"{API}/workspace/bulk",
        json={"conversation_ids": ids[:2], "action": "status", "status": "solved"},
    ).json()
    assert solved["failed"] == 0
    closed_again = client.post(
        f"{API}/workspace/bulk",
        json={"conversation_ids": ids[:1], "action": "status", "status": "pending"},
    ).json()
    assert closed_again["data"][0]["code"] == "invalid_transition"

    tags = get_json(client, f"/conversations/{visible[0].id}")["tags"]
    assert tags == ["vip"]
    db.expire_all()
    for conversation in visible:
        row = db.get(Conversation, conversation.id)
        assert row is not None
        assert (row.assignee_id, row.status) == (world.agent_a.id, "solved")
    hidden_row = db.get(Conversation, hidden.id)
    assert hidden_row is not None and hidden_row.assignee_id is None
    db.commit()


def test_bulk_refuses_bad_requests(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    for body in (
        {"conversation_ids": [], "action": "assign"},
        {"conversation_ids": [1], "action": "status"},
        {"conversation_ids": [1], "action": "tag", "tag": "  "},
        {"conversation_ids": [1], "action": "delete"},
    ):
        assert client.post(f"{API}/workspace/bulk", json=body).status_code == 422, body


# ---------------------------------------------------------------- customer sidebar


def test_customer_sidebar_lists_only_visible_previous_conversations(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    world.contact.lifetime_value_cents = 123_400
    world.contact.custom_attributes = {"crm_tier": "gold"}
    current = make_conversation(db, world.chat, world.contact, team_id=world.team_a.id)
    earlier = make_conversation(db, world.chat, world.contact, team_id=world.team_a.id)
    make_conversation(db, world.mail, world.contact, team_id=world.team_b.id)  # hidden
    db.commit()
    login(client, world.agent_a.email)
    body = get_json(client, f"/workspace/conversations/{current.id}/customer")
    assert body["contact"]["lifetime_value_cents"] == 123_400
    assert body["contact"]["custom_attributes"] == {"crm_tier": "gold"}
    assert [c["id"] for c in body["previous"]] == [earlier.id]

    client.cookies.clear()
    login(client, world.agent_b.email)
    response = client.get(f"{API}/workspace/conversations/{current.id}/customer")
    assert response.status_code == 404
