"""Teams: every agent sees them; admins create, change, staff and delete them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import AuditLog, Conversation, Team, TeamMember, User
from tests.factories import make_conversation, make_inbox, make_team, make_user
from tests.support import login


def _actions(db: Session) -> list[str]:
    actions = list(db.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    db.commit()  # end the read: on SQLite it holds the write lock
    return actions


def test_admin_creates_updates_and_staffs_a_team(client: TestClient, db: Session) -> None:
    admin = make_user(db, "admin@example.test", role="admin")
    agent = make_user(db, "agent@example.test")
    db.commit()
    admin_id, agent_id = admin.id, agent.id
    login(client, "admin@example.test")

    created = client.post(
        "/api/v1/teams",
        json={
            "name": "Payments",
            "description": "Refunds and failed payments",
            "tier": 2,
            "categories": ["billing", "chargebacks"],
        },
    )
    assert created.status_code == 201, created.text
    team_id = created.json()["id"]
    assert created.json()["categories"] == ["billing", "chargebacks"]

    updated = client.patch(f"/api/v1/teams/{team_id}", json={"tier": 1, "name": "Payments EU"})
    staffed = client.put(f"/api/v1/teams/{team_id}/members", json={"user_ids": [agent_id]})

    assert updated.status_code == 200
    assert (updated.json()["tier"], updated.json()["name"]) == (1, "Payments EU")
    assert staffed.status_code == 200
    assert staffed.json()["member_ids"] == [agent_id]
    listed = client.get("/api/v1/teams").json()
    assert listed["count"] == 1
    assert listed["data"][0]["member_ids"] == [agent_id]
    assert _actions(db) == ["team.created", "team.updated", "team.members_set"]
    entry = db.scalar(select(AuditLog).where(AuditLog.action == "team.members_set"))
    assert entry is not None
    assert entry.actor_user_id == admin_id
    assert entry.details["added"] == [agent_id]
    db.commit()


def test_agents_list_teams_but_cannot_change_them(client: TestClient, db: Session) -> None:
    team = make_team(db, "Support", tier=1)
    agent = make_user(db, "agent@example.test", teams=[team])
    db.commit()
    team_id, agent_id = team.id, agent.id
    login(client, "agent@example.test")

    listed = client.get("/api/v1/teams")
    one = client.get(f"/api/v1/teams/{team_id}")
    attempts = [
        client.post("/api/v1/teams", json={"name": "Mine"}),
        client.patch(f"/api/v1/teams/{team_id}", json={"tier": 2}),
        client.put(f"/api/v1/teams/{team_id}/members", json={"user_ids": [agent_id]}),
        client.delete(f"/api/v1/teams/{team_id}"),
    ]

    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()["data"]] == ["Support"]
    assert one.json()["member_ids"] == [agent_id]
    assert [response.status_code for response in attempts] == [403, 403, 403, 403]
    assert _actions(db) == []
    assert db.scalar(select(Team.tier).where(Team.id == team_id)) == 1
    db.commit()


def test_team_input_is_validated(client: TestClient, db: Session) -> None:
    make_user(db, "admin@example.test", role="admin")
    make_team(db, "Existing")
    db.commit()
    login(client, "admin@example.test")

    responses = {
        "tier 3": client.post("/api/v1/teams", json={"name": "A", "tier": 3}),
        "upper-case category": client.post(
            "/api/v1/teams", json={"name": "B", "categories": ["Billing"]}
        ),
        "unknown field": client.post("/api/v1/teams", json={"name": "C", "id": 7}),
        "empty name": client.post("/api/v1/teams", json={"name": "  "}),
        "duplicate": client.post("/api/v1/teams", json={"name": "existing"}),
        "unknown member": client.put("/api/v1/teams/1/members", json={"user_ids": [999]}),
    }

    assert {name: r.status_code for name, r in responses.items()} == {
        "tier 3": 422,
        "upper-case category": 422,
        "unknown field": 422,
        "empty name": 422,
        "duplicate": 409,
        "unknown member": 422,
    }


def test_team_with_open_conversations_cannot_be_deleted(client: TestClient, db: Session) -> None:
    make_user(db, "admin@example.test", role="admin")
    team = make_team(db, "Returns")
    member = make_user(db, teams=[team])
    inbox = make_inbox(db, default_team_id=team.id)
    open_conversation = make_conversation(db, inbox, team_id=team.id, status="pending")
    solved = make_conversation(db, inbox, team_id=team.id, status="solved")
    db.commit()
    team_id, member_id = team.id, member.id
    open_id, solved_id = open_conversation.id, solved.id
    login(client, "admin@example.test")

    refused = client.delete(f"/api/v1/teams/{team_id}")
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["open_conversations"] == 1

    db.get(Conversation, open_id).status = "solved"  # type: ignore[union-attr]
    db.commit()
    deleted = client.delete(f"/api/v1/teams/{team_id}")

    assert deleted.status_code == 204
    assert client.get(f"/api/v1/teams/{team_id}").status_code == 404
    db.expire_all()
    assert db.get(Team, team_id) is None
    assert db.scalars(select(TeamMember).where(TeamMember.team_id == team_id)).all() == []
    kept = db.get(Conversation, solved_id)
    assert kept is not None and kept.team_id is None
    assert db.get(User, member_id) is not None
    assert _actions(db) == ["team.deleted"]
