"""Admins manage staff accounts; everyone else may only look up colleagues."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import AgentSession, ApiToken, AuditLog, User
from helpline.services.auth import API_TOKEN_PREFIX
from helpline.services.tokens import hash_token
from tests.factories import make_inbox, make_team, make_user
from tests.support import FrozenClock, login

NEW_AGENT = {
    "email": "Riley@Example.test",
    "name": "Riley Chen",
    "password": "a long enough passphrase",
    "role": "agent",
    "tier": 2,
    "max_concurrent_chats": 4,
    "refund_limit_cents": 5000,
    "skills": ["billing", "returns"],
    "languages": ["en", "de"],
}


def _audit(db: Session, action: str) -> list[AuditLog]:
    """Read the audit log and end the read (on SQLite it holds the write lock)."""
    entries = list(
        db.scalars(
            select(AuditLog)
            .where(AuditLog.action == action)
            .order_by(AuditLog.id)
            .execution_options(populate_existing=True)
        )
    )
    db.commit()
    return entries


def _as_admin(client: TestClient, db: Session) -> User:
    admin = make_user(db, "admin@example.test", role="admin", name="Ada Admin")
    db.commit()
    login(client, admin.email)
    return admin


def test_admin_creates_a_user_who_can_then_sign_in(client: TestClient, db: Session) -> None:
    admin = _as_admin(client, db)
    team = make_team(db, "Billing")
    inbox = make_inbox(db, "Web chat")
    db.commit()

    response = client.post(
        "/api/v1/users", json={**NEW_AGENT, "team_ids": [team.id], "inbox_ids": [inbox.id]}
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == "riley@example.test"
    assert created["tier"] == 2
    assert created["max_concurrent_chats"] == 4
    assert created["skills"] == ["billing", "returns"]
    assert created["team_ids"] == [team.id]
    assert created["inbox_ids"] == [inbox.id]
    assert "password" not in created and "password_hash" not in created

    [entry] = _audit(db, "user.created")
    assert entry.actor_user_id == admin.id
    assert entry.target_id == str(created["id"])
    assert entry.ip
    assert "a long enough passphrase" not in str(entry.details)
    assert "password" in entry.details["fields"]

    client.cookies.clear()
    login(client, "riley@example.test", "a long enough passphrase")
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["user"]["id"] == created["id"]


def test_new_user_defaults_and_password_policy(client: TestClient, db: Session) -> None:
    _as_admin(client, db)

    too_short = client.post(
        "/api/v1/users", json={"email": "a@example.test", "name": "A", "password": "short"}
    )
    same_as_email = client.post(
        "/api/v1/users",
        json={
            "email": "sam.sample@example.test",
            "name": "S",
            "password": "sam.sample@example.test",
        },
    )
    created = client.post(
        "/api/v1/users", json={"email": "b@example.test", "name": "B", "password": "x" * 9 + "y"}
    )

    assert too_short.status_code == 422
    assert same_as_email.status_code == 422
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["role"], body["tier"], body["max_concurrent_chats"]) == ("agent", 1, 3)
    assert body["is_active"] is True


@pytest.mark.parametrize(
    "field_values",
    [
        {"tier": 3},
        {"max_concurrent_chats": 0},
        {"max_concurrent_chats": 11},
        {"refund_limit_cents": -1},
        {"skills": ["Billing!"]},
        {"role": "owner"},
        {"password_hash": "$argon2id$..."},
        {"is_active": False},
    ],
)
def test_invalid_or_unknown_user_fields_are_refused(
    client: TestClient, db: Session, field_values: dict[str, Any]
) -> None:
    _as_admin(client, db)

    response = client.post(
        "/api/v1/users",
        json={"email": "c@example.test", "name": "C", "password": "long enough pw", **field_values},
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


def test_duplicate_email_is_a_conflict(client: TestClient, db: Session) -> None:
    _as_admin(client, db)
    make_user(db, "taken@example.test")
    db.commit()

    response = client.post(
        "/api/v1/users",
        json={"email": "TAKEN@example.test", "name": "T", "password": "long enough pw"},
    )

    assert response.status_code == 409


def test_non_admins_get_403_on_every_user_mutation(client: TestClient, db: Session) -> None:
    supervisor = make_user(db, "sup@example.test", role="supervisor")
    colleague = make_user(db, "colleague@example.test")
    db.commit()
    login(client, supervisor.email)

    create = client.post(
        "/api/v1/users", json={"email": "x@example.test", "name": "X", "password": "long enough pw"}
    )
    update = client.patch(f"/api/v1/users/{colleague.id}", json={"name": "Renamed"})
    deactivate = client.patch(f"/api/v1/users/{colleague.id}", json={"is_active": False})

    assert [create.status_code, update.status_code, deactivate.status_code] == [403, 403, 403]
    db.expire_all()
    assert db.get(User, colleague.id).name != "Renamed"  # type: ignore[union-attr]
    assert db.scalar(select(User).where(User.email == "x@example.test")) is None


def test_agent_cannot_make_itself_admin(client: TestClient, db: Session) -> None:
    agent = make_user(db, "agent@example.test", name="Alex")
    db.commit()
    login(client, agent.email)

    response = client.patch(f"/api/v1/users/{agent.id}", json={"role": "admin"})
    sneaky = client.patch("/api/v1/auth/me", json={"role": "admin"})

    assert response.status_code == 403
    assert sneaky.status_code == 422
    db.expire_all()
    unchanged = db.get(User, agent.id)
    assert unchanged is not None
    assert unchanged.role == "agent"
    assert _audit(db, "user.updated") == []


def test_staff_list_active_colleagues_admins_also_see_inactive(
    client: TestClient, db: Session
) -> None:
    team = make_team(db, "Tier 2")
    agent = make_user(db, "agent@example.test", name="Alex", teams=[team])
    make_user(db, "bea@example.test", name="Bea", role="supervisor")
    make_user(db, "gone@example.test", name="Gone", is_active=False)
    gone_id = make_user(db, "gone2@example.test", name="Gone 2", is_active=False).id
    admin = make_user(db, "admin@example.test", name="Ada", role="admin")
    db.commit()

    login(client, agent.email)
    as_agent = client.get("/api/v1/users").json()
    in_team = client.get("/api/v1/users", params={"team_id": team.id}).json()
    by_text = client.get("/api/v1/users", params={"q": "BE"}).json()
    agent_asks_inactive = client.get("/api/v1/users", params={"include_inactive": True}).json()
    hidden = client.get(f"/api/v1/users/{gone_id}")

    assert [u["name"] for u in as_agent["data"]] == ["Ada", "Alex", "Bea"]
    assert as_agent["count"] == 3
    assert [u["name"] for u in in_team["data"]] == ["Alex"]
    assert in_team["data"][0]["team_ids"] == [team.id]
    assert [u["name"] for u in by_text["data"]] == ["Bea"]
    assert "Gone" not in [u["name"] for u in agent_asks_inactive["data"]]
    assert hidden.status_code == 404
    assert all("password_hash" not in u for u in as_agent["data"])

    client.cookies.clear()
    login(client, admin.email)
    everyone = client.get("/api/v1/users", params={"include_inactive": True}).json()
    supervisors = client.get("/api/v1/users", params={"role": "supervisor"}).json()
    assert [u["name"] for u in everyone["data"]] == ["Ada", "Alex", "Bea", "Gone", "Gone 2"]
    assert [u["name"] for u in supervisors["data"]] == ["Bea"]


def test_admin_changes_a_user_and_the_audit_log_says_what_changed(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    admin = _as_admin(client, db)
    team = make_team(db)
    agent = make_user(db, "agent@example.test", name="Alex")
    db.commit()

    response = client.patch(
        f"/api/v1/users/{agent.id}",
        json={"role": "supervisor", "max_concurrent_chats": 5, "team_ids": [team.id]},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["role"], body["max_concurrent_chats"], body["team_ids"]) == (
        "supervisor",
        5,
        [team.id],
    )
    [entry] = _audit(db, "user.updated")
    assert entry.actor_user_id == admin.id
    assert entry.created_at == clock()
    assert entry.details["fields"] == ["max_concurrent_chats", "role", "team_ids"]
    assert entry.details["changes"]["role"] == {"from": "agent", "to": "supervisor"}


def test_null_for_a_required_field_is_refused(client: TestClient, db: Session) -> None:
    _as_admin(client, db)
    agent = make_user(db)
    db.commit()

    response = client.patch(f"/api/v1/users/{agent.id}", json={"name": None})

    assert response.status_code == 422


def test_deactivation_ends_sessions_and_api_tokens(client: TestClient, db: Session) -> None:
    agent = make_user(db, "leaving@example.test")
    raw_token = API_TOKEN_PREFIX + "leaving-agent-token"
    db.add(ApiToken(user_id=agent.id, name="CRM", token_hash=hash_token(raw_token), prefix="hlp_"))
    admin = make_user(db, "admin@example.test", role="admin")
    db.commit()
    with TestClient(client.app) as agent_browser:
        login(agent_browser, agent.email)
        assert agent_browser.get("/api/v1/users").status_code == 200
        login(client, admin.email)

        response = client.patch(f"/api/v1/users/{agent.id}", json={"is_active": False})

        assert response.status_code == 200, response.text
        assert response.json()["is_active"] is False
        assert agent_browser.get("/api/v1/users").status_code == 401
    by_token = client.get("/api/v1/users", headers={"Authorization": f"Bearer {raw_token}"})
    assert by_token.status_code == 401
    db.expire_all()
    assert db.scalars(select(AgentSession).where(AgentSession.user_id == agent.id)).all() == []
    token = db.scalar(select(ApiToken).where(ApiToken.user_id == agent.id))
    assert token is not None and token.revoked_at is not None
    db.commit()
    assert len(_audit(db, "user.deactivated")) == 1
    failed = client.post(
        "/api/v1/auth/login",
        json={"email": "leaving@example.test", "password": "correct horse battery staple"},
    )
    assert failed.status_code == 401


def test_the_last_active_admin_cannot_deactivate_or_demote_themselves(
    client: TestClient, db: Session
) -> None:
    admin = _as_admin(client, db)
    make_user(db, "former@example.test", role="admin", is_active=False)
    db.commit()

    deactivate = client.patch(f"/api/v1/users/{admin.id}", json={"is_active": False})
    demote = client.patch(f"/api/v1/users/{admin.id}", json={"role": "supervisor"})

    assert deactivate.status_code == 409
    assert demote.status_code == 409
    db.expire_all()
    still = db.get(User, admin.id)
    assert still is not None and (still.role, still.is_active) == ("admin", True)
    db.commit()
    assert client.get("/api/v1/users").status_code == 200  # still signed in


def test_an_admin_may_step_down_when_another_admin_remains(client: TestClient, db: Session) -> None:
    admin = _as_admin(client, db)
    make_user(db, "second@example.test", role="admin")
    db.commit()

    response = client.patch(f"/api/v1/users/{admin.id}", json={"role": "supervisor"})

    assert response.status_code == 200
    assert response.json()["role"] == "supervisor"
    assert client.post("/api/v1/teams", json={"name": "Now forbidden"}).status_code == 403


def test_admin_resets_a_password_which_signs_the_user_out(client: TestClient, db: Session) -> None:
    agent = make_user(db, "forgetful@example.test")
    admin = make_user(db, "admin@example.test", role="admin")
    db.commit()
    with TestClient(client.app) as agent_browser:
        login(agent_browser, agent.email)
        login(client, admin.email)

        response = client.patch(
            f"/api/v1/users/{agent.id}", json={"password": "a brand new passphrase"}
        )

        assert response.status_code == 200, response.text
        assert agent_browser.get("/api/v1/users").status_code == 401
        login(agent_browser, agent.email, "a brand new passphrase")
    [entry] = _audit(db, "user.updated")
    assert entry.details["fields"] == ["password"]
    assert "a brand new passphrase" not in str(entry.details)


def test_unknown_user_is_404(client: TestClient, db: Session) -> None:
    _as_admin(client, db)

    assert client.get("/api/v1/users/999").status_code == 404
    assert client.patch("/api/v1/users/999", json={"name": "Nobody"}).status_code == 404


def test_signed_out_callers_get_401(client: TestClient) -> None:
    assert client.get("/api/v1/users").status_code == 401
    assert client.post("/api/v1/users", json={}).status_code == 401
