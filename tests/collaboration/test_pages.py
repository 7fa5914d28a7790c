"""The supervisor view and the admin pages for agents, teams and inboxes, over
HTTP: who may open them, CSRF, validation messages next to the fields, and
create/edit round trips that the services really store."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox, Team, User
from tests.api.test_conversations import build_world
from tests.factories import make_conversation
from tests.pages.helpers import csrf_of, page_login


def _sign_in(client: TestClient, email: str) -> str:
    """A fresh browser profile signed in as `email`; returns its CSRF token."""
    client.cookies.clear()
    return page_login(client, email)


def test_the_supervisor_view_is_for_supervisors_and_reassigns_by_form(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    conversation = make_conversation(
        db,
        world.chat,
        world.contact,
        team_id=world.team_a.id,
        assignee_id=world.agent_a.id,
        subject="Refund please",
    )
    db.commit()
    _sign_in(client, world.agent_a.email)
    assert client.get("/supervisor").status_code == 403
    assert client.get("/supervisor/board").status_code == 403

    csrf = _sign_in(client, world.supervisor.email)
    page = client.get("/supervisor")
    assert page.status_code == 200
    assert "Supervisor" in page.text and "Queue" in page.text
    board = client.get("/supervisor/board").text
    assert "<html" not in board  # just the board, for live refreshes
    assert f"#{conversation.number}" in board and "Ana" in board

    form = {"conversation_id": str(conversation.id), "assignee_id": str(world.agent_a2.id)}
    assert client.post("/supervisor/reassign", data=form).status_code == 403  # no CSRF
    moved = client.post(
        "/supervisor/reassign", data={**form, "csrf_token": csrf}, follow_redirects=False
    )
    assert moved.status_code == 303
    db.refresh(conversation)
    assert conversation.assignee_id == world.agent_a2.id
    db.commit()  # end the read: on SQLite an open transaction holds the write lock
    assert "moved" in client.get("/supervisor").text


def test_admins_create_and_edit_an_agent_with_clear_errors(client: TestClient, db: Session) -> None:
    world = build_world(db)
    _sign_in(client, world.agent_a.email)
    assert client.get("/admin/agents").status_code == 403
    csrf = _sign_in(client, world.admin.email)
    page = client.get("/admin/agents")
    assert page.status_code == 200 and "Ana" in page.text
    assert 'href="/admin/routing"' in page.text  # same navigation as the routing pages

    bad = client.post(
        "/admin/agents",
        data={
            "csrf_token": csrf,
            "name": "Zoe",
            "email": "zoe@example.test",
            "password": "correct horse battery staple",
            "role": "agent",
            "tier": "1",
            "max_concurrent_chats": "11",
            "refund_limit": "12,5",
            "languages": "english!",
            "skills": "Billing!",
        },
    )
    assert bad.status_code == 422
    assert "Enter a whole number from 1 to 10." in bad.text
    assert "Use language codes such as en" in bad.text
    assert "Categories are lower-case words" in bad.text
    assert 'value="Zoe"' in bad.text  # what was typed is kept
    assert db.scalar(select(User).where(User.email == "zoe@example.test")) is None
    db.commit()

    created = client.post(
        "/admin/agents",
        data={
            "csrf_token": csrf,
            "name": "Zoe",
            "email": "zoe@example.test",
            "password": "correct horse battery staple",
            "role": "agent",
            "tier": "2",
            "max_concurrent_chats": "4",
            "refund_limit": "49.90",
            "languages": "en, pl",
            "skills": "billing",
            "team_ids": [str(world.team_a.id)],
            "inbox_ids": [str(world.chat.id)],
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    zoe = db.scalar(select(User).where(User.email == "zoe@example.test"))
    assert zoe is not None
    assert (zoe.tier, zoe.max_concurrent_chats, zoe.refund_limit_cents) == (2, 4, 4990)
    assert (zoe.languages, zoe.skills) == (["en", "pl"], ["billing"])
    zoe_id = zoe.id
    db.commit()

    edit = client.get(f"/admin/agents/{zoe_id}")
    assert 'value="49.90"' in edit.text
    taken = client.post(
        f"/admin/agents/{zoe_id}",
        data={
            "csrf_token": csrf_of(edit.text),
            "name": "Zoe",
            "email": "ana@example.test",
            "role": "supervisor",
            "tier": "2",
            "max_concurrent_chats": "4",
            "refund_limit": "49.90",
            "languages": "en",
            "is_active": "on",
        },
    )
    assert taken.status_code == 422 and "A user with this email already exists" in taken.text
    saved = client.post(
        f"/admin/agents/{zoe_id}",
        data={
            "csrf_token": csrf,
            "name": "Zoe Adams",
            "email": "zoe@example.test",
            "role": "supervisor",
            "tier": "1",
            "max_concurrent_chats": "5",
            "refund_limit": "100",
            "languages": "pl",
            "is_active": "on",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    db.refresh(zoe)
    assert (zoe.name, zoe.role, zoe.max_concurrent_chats, zoe.refund_limit_cents) == (
        "Zoe Adams",
        "supervisor",
        5,
        10_000,
    )


def test_admins_create_and_edit_a_team_and_its_members(client: TestClient, db: Session) -> None:
    world = build_world(db)
    csrf = _sign_in(client, world.admin.email)
    bad = client.post(
        "/admin/teams", data={"csrf_token": csrf, "name": "", "tier": "1", "categories": "x y!"}
    )
    assert bad.status_code == 422 and "Give the team a name." in bad.text
    duplicate = client.post(
        "/admin/teams", data={"csrf_token": csrf, "name": "billing", "tier": "1"}
    )
    assert duplicate.status_code == 422
    assert "A team with this name already exists" in duplicate.text
    created = client.post(
        "/admin/teams",
        data={
            "csrf_token": csrf,
            "name": "Returns",
            "tier": "1",
            "categories": "orders, returns",
            "member_ids": [str(world.agent_a.id)],
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    team = db.scalar(select(Team).where(Team.name == "Returns"))
    assert team is not None and team.categories == ["orders", "returns"]
    team_id = team.id
    db.commit()
    assert f"/admin/teams/{team_id}" in client.get("/admin/teams").text
    saved = client.post(
        f"/admin/teams/{team_id}",
        data={
            "csrf_token": csrf,
            "name": "Returns and exchanges",
            "tier": "2",
            "categories": "orders",
            "member_ids": [str(world.agent_a2.id)],
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    db.refresh(team)
    assert (team.name, team.tier, team.categories) == ("Returns and exchanges", 2, ["orders"])
    db.commit()
    assert "Abe" in client.get(f"/admin/teams/{team_id}").text


def test_admins_set_up_an_inbox_and_its_widget(client: TestClient, db: Session) -> None:
    world = build_world(db)
    world.chat.settings = {"greeting": {"en": "Hi!", "pl": "Cześć!"}, "business_hours": {"x": 1}}
    chat_id, public_key = world.chat.id, world.chat.public_key
    db.commit()
    csrf = _sign_in(client, world.admin.email)
    edit = client.get(f"/admin/inboxes/{chat_id}")
    assert edit.status_code == 200
    assert public_key in edit.text  # the embed snippet
    assert "/static/widget/widget.js" in edit.text

    fields = {
        "csrf_token": csrf,
        "name": "Website chat",
        "routing_strategy": "priority",
        "is_active": "on",
        "member_ids": [str(world.agent_a.id)],
        "allowed_domains": "shop.example\n*.shop.example",
        "require_email": "on",
        "ask_nps": "on",
        "faq_bot": "on",
        "topics": "Payments | billing\nWhere is my order? | orders",
        "greeting": "Hello there!",
        "identity_verification": "enforce",
    }
    bad = client.post(
        f"/admin/inboxes/{chat_id}",
        data={**fields, "allowed_domains": "https://shop.example/", "topics": "Oops | Not A Slug"},
    )
    assert bad.status_code == 422
    assert "Not a domain: https://shop.example/" in bad.text
    assert "Line 1: write" in bad.text
    saved = client.post(f"/admin/inboxes/{chat_id}", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    db.refresh(world.chat)
    settings = world.chat.settings
    assert settings["allowed_domains"] == ["shop.example", "*.shop.example"]
    assert (settings["require_name"], settings["require_email"]) == (False, True)
    assert settings["ask_nps"] is True
    assert settings["faq_bot"] is True
    assert settings["topics"] == [
        {"label": {"en": "Payments"}, "category": "billing"},
        {"label": {"en": "Where is my order?"}, "category": "orders"},
    ]
    assert settings["greeting"] == {"en": "Hello there!", "pl": "Cześć!"}  # Polish kept
    assert settings["identity_verification"] == "enforce"
    assert settings["business_hours"] == {"x": 1}  # keys the page does not show are kept
    db.commit()

    created = client.post(
        "/admin/inboxes",
        data={"csrf_token": csrf, "name": "Orders mail", "channel": "email"},
    )
    assert created.status_code == 422
    assert "An email inbox needs an email address" in created.text
    created = client.post(
        "/admin/inboxes",
        data={
            "csrf_token": csrf,
            "name": "Orders mail",
            "channel": "email",
            "email_address": "orders@shop.example",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert db.scalar(select(Inbox).where(Inbox.name == "Orders mail")) is not None
