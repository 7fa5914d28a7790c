"""Inboxes: admins create and configure them; members see theirs; the secret
stays with admins."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import AuditLog
from tests.factories import make_inbox, make_team, make_user
from tests.support import login


def _audit_entries(db: Session) -> list[AuditLog]:
    entries = list(db.scalars(select(AuditLog).order_by(AuditLog.id)))
    db.commit()  # end the read: on SQLite it holds the write lock
    return entries


def test_admin_creates_an_email_inbox_with_keys(client: TestClient, db: Session) -> None:
    make_user(db, "admin@example.test", role="admin")
    team = make_team(db, "Orders")
    agent = make_user(db, "agent@example.test")
    db.commit()
    team_id, agent_id = team.id, agent.id
    login(client, "admin@example.test")

    response = client.post(
        "/api/v1/inboxes",
        json={
            "name": "Support mail",
            "channel": "email",
            "email_address": "Support@Acme.test",
            "default_team_id": team_id,
            "routing_strategy": "round_robin",
            "settings": {"signature": "The Acme team"},
        },
    )

    assert response.status_code == 201, response.text
    inbox = response.json()
    assert inbox["email_address"] == "support@acme.test"
    assert inbox["public_key"].startswith("pk_")
    assert len(inbox["secret"]) >= 32
    assert inbox["routing_strategy"] == "round_robin"
    members = client.put(f"/api/v1/inboxes/{inbox['id']}/members", json={"user_ids": [agent_id]})
    assert members.json()["member_ids"] == [agent_id]
    entries = _audit_entries(db)
    assert [e.action for e in entries] == ["inbox.created", "inbox.members_set"]
    assert inbox["secret"] not in str([e.details for e in entries])


def test_email_inbox_needs_an_address_and_fields_are_checked(
    client: TestClient, db: Session
) -> None:
    make_user(db, "admin@example.test", role="admin")
    db.commit()
    login(client, "admin@example.test")

    no_address = client.post("/api/v1/inboxes", json={"name": "Mail", "channel": "email"})
    bad_channel = client.post("/api/v1/inboxes", json={"name": "Fax", "channel": "fax"})
    bad_strategy = client.post(
        "/api/v1/inboxes", json={"name": "Chat", "channel": "chat", "routing_strategy": "random"}
    )
    sets_secret = client.post(
        "/api/v1/inboxes", json={"name": "Chat", "channel": "chat", "secret": "chosen"}
    )
    unknown_team = client.post(
        "/api/v1/inboxes", json={"name": "Chat", "channel": "chat", "default_team_id": 42}
    )

    assert no_address.status_code == 422
    assert no_address.json()["error"]["details"]["field"] == "email_address"
    assert bad_channel.status_code == 422
    assert bad_strategy.status_code == 422
    assert sets_secret.status_code == 422
    assert unknown_team.status_code == 422


def test_members_see_their_inboxes_without_the_secret(client: TestClient, db: Session) -> None:
    mine = make_inbox(db, "Web chat")
    other = make_inbox(db, "VIP chat")
    make_user(db, "agent@example.test", inboxes=[mine])
    db.commit()
    mine_id, other_id, secret = mine.id, other.id, mine.secret
    login(client, "agent@example.test")

    listed = client.get("/api/v1/inboxes")
    one = client.get(f"/api/v1/inboxes/{mine_id}")
    not_mine = client.get(f"/api/v1/inboxes/{other_id}")

    assert [i["name"] for i in listed.json()["data"]] == ["Web chat"]
    assert "secret" not in listed.json()["data"][0]
    assert one.status_code == 200
    assert "secret" not in one.json()
    assert secret not in one.text
    assert not_mine.status_code == 404


def test_admin_sees_every_inbox_and_the_secret_of_one(client: TestClient, db: Session) -> None:
    make_user(db, "admin@example.test", role="admin")
    first = make_inbox(db, "A chat")
    make_inbox(db, "B chat")
    db.commit()
    first_id, secret = first.id, first.secret
    login(client, "admin@example.test")

    listed = client.get("/api/v1/inboxes").json()
    one = client.get(f"/api/v1/inboxes/{first_id}").json()

    assert listed["count"] == 2
    assert all("secret" not in inbox for inbox in listed["data"])
    assert one["secret"] == secret


def test_rotating_the_secret_replaces_it_and_is_audited(client: TestClient, db: Session) -> None:
    make_user(db, "admin@example.test", role="admin")
    inbox = make_inbox(db, "Web chat")
    db.commit()
    inbox_id, old_secret, public_key = inbox.id, inbox.secret, inbox.public_key
    login(client, "admin@example.test")

    rotated = client.post(f"/api/v1/inboxes/{inbox_id}/rotate-secret")

    assert rotated.status_code == 200
    assert rotated.json()["secret"] != old_secret
    assert rotated.json()["public_key"] == public_key
    [entry] = _audit_entries(db)
    assert entry.action == "inbox.secret_rotated"
    assert rotated.json()["secret"] not in str(entry.details)
    assert old_secret not in str(entry.details)


def test_admin_updates_an_inbox(client: TestClient, db: Session) -> None:
    make_user(db, "admin@example.test", role="admin")
    team = make_team(db)
    inbox = make_inbox(db, "Mail", channel="email", email_address="old@acme.test")
    db.commit()
    inbox_id, team_id = inbox.id, team.id
    login(client, "admin@example.test")

    updated = client.patch(
        f"/api/v1/inboxes/{inbox_id}",
        json={"email_address": "help@acme.test", "default_team_id": team_id, "is_active": False},
    )
    cleared_team = client.patch(f"/api/v1/inboxes/{inbox_id}", json={"default_team_id": None})
    cleared_address = client.patch(f"/api/v1/inboxes/{inbox_id}", json={"email_address": None})
    channel_change = client.patch(f"/api/v1/inboxes/{inbox_id}", json={"channel": "chat"})

    assert updated.status_code == 200, updated.text
    assert (updated.json()["email_address"], updated.json()["is_active"]) == (
        "help@acme.test",
        False,
    )
    assert cleared_team.json()["default_team_id"] is None
    assert cleared_address.status_code == 422  # an email inbox keeps its address
    assert channel_change.status_code == 422
    [first, second] = _audit_entries(db)
    assert first.details["fields"] == ["default_team_id", "email_address", "is_active"]
    assert second.details["changes"]["default_team_id"] == {"from": team_id, "to": None}


def test_non_admins_get_403_on_every_inbox_mutation(client: TestClient, db: Session) -> None:
    inbox = make_inbox(db, "Web chat")
    make_user(db, "sup@example.test", role="supervisor", inboxes=[inbox])
    db.commit()
    inbox_id = inbox.id
    login(client, "sup@example.test")

    attempts = [
        client.post("/api/v1/inboxes", json={"name": "New", "channel": "chat"}),
        client.patch(f"/api/v1/inboxes/{inbox_id}", json={"name": "Renamed"}),
        client.post(f"/api/v1/inboxes/{inbox_id}/rotate-secret"),
        client.put(f"/api/v1/inboxes/{inbox_id}/members", json={"user_ids": []}),
    ]

    assert [response.status_code for response in attempts] == [403, 403, 403, 403]
    assert _audit_entries(db) == []
