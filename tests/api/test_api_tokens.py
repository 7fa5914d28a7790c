"""Personal API tokens: shown once, work without CSRF, stop when revoked."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import ApiToken, AuditLog, User
from tests.factories import make_user
from tests.support import FrozenClock, login


def _create_token(client: TestClient, name: str = "CRM sync") -> dict[str, object]:
    response = client.post("/api/v1/auth/tokens", json={"name": name})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_token_is_shown_once_and_listed_without_its_secret(client: TestClient, db: Session) -> None:
    make_user(db, "integrator@example.test")
    db.commit()
    login(client, "integrator@example.test")

    created = _create_token(client, "  CRM sync ")
    listed = client.get("/api/v1/auth/tokens").json()

    raw = str(created["token"])
    assert raw.startswith("hlp_")
    assert created["name"] == "CRM sync"
    assert raw.startswith(str(created["prefix"]))
    assert listed["count"] == 1
    assert listed["data"][0]["id"] == created["id"]
    assert listed["data"][0]["prefix"] == created["prefix"]
    assert raw not in str(listed)
    stored = db.scalar(select(ApiToken))
    assert stored is not None
    assert raw not in (stored.token_hash, stored.prefix)


def test_bearer_token_works_without_csrf_until_revoked(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    user = make_user(db, "bot.owner@example.test", name="Owner")
    db.commit()
    login(client, "bot.owner@example.test")
    created = _create_token(client)

    with TestClient(app) as integration:
        integration.headers["Authorization"] = f"Bearer {created['token']}"
        me = integration.get("/api/v1/auth/me")
        changed = integration.patch("/api/v1/auth/me", json={"name": "Owner (via API)"})

        assert me.status_code == 200
        assert me.json()["user"]["id"] == user.id
        assert me.json()["csrf_token"] is None
        assert changed.status_code == 200

        revoked = client.delete(f"/api/v1/auth/tokens/{created['id']}")

        assert revoked.status_code == 204
        refused = integration.get("/api/v1/auth/me")
        assert refused.status_code == 401
        assert integration.patch("/api/v1/auth/me", json={"name": "x"}).status_code == 401
    assert client.get("/api/v1/auth/tokens").json()["count"] == 0
    db.expire_all()
    assert db.get(User, user.id).name == "Owner (via API)"  # type: ignore[union-attr]
    actions = list(db.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions == ["api_token.created", "api_token.revoked"]


def test_made_up_bearer_token_is_refused(client: TestClient) -> None:
    for value in ("hlp_not-a-real-token", "something-else"):
        response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {value}"})
        assert response.status_code == 401


def test_nobody_can_revoke_someone_elses_token(app: FastAPI, db: Session) -> None:
    make_user(db, "owner@example.test")
    make_user(db, "other@example.test", role="admin")
    db.commit()
    with TestClient(app) as owner, TestClient(app) as other:
        login(owner, "owner@example.test")
        login(other, "other@example.test")
        created = _create_token(owner)

        response = other.delete(f"/api/v1/auth/tokens/{created['id']}")
        missing = other.delete("/api/v1/auth/tokens/999999")

        assert response.status_code == 404
        assert missing.status_code == 404
        assert response.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
        assert other.get("/api/v1/auth/tokens").json()["count"] == 0
        assert owner.get("/api/v1/auth/tokens").json()["count"] == 1


def test_a_token_cannot_mint_more_tokens(app: FastAPI, client: TestClient, db: Session) -> None:
    make_user(db, "careful.owner@example.test")
    db.commit()
    login(client, "careful.owner@example.test")
    created = _create_token(client)

    with TestClient(app) as integration:
        integration.headers["Authorization"] = f"Bearer {created['token']}"
        response = integration.post("/api/v1/auth/tokens", json={"name": "persistence"})

    assert response.status_code == 403


def test_last_use_is_recorded_at_most_once_a_minute(
    app: FastAPI, client: TestClient, db: Session, clock: FrozenClock
) -> None:
    make_user(db, "metered@example.test")
    db.commit()
    login(client, "metered@example.test")
    created = _create_token(client)
    start = clock()

    def last_used() -> object:
        db.expire_all()
        value = db.scalar(select(ApiToken.last_used_at))
        db.commit()
        return value

    with TestClient(app) as integration:
        integration.headers["Authorization"] = f"Bearer {created['token']}"
        assert last_used() is None
        integration.get("/api/v1/auth/me")
        assert last_used() == start
        clock.advance(seconds=30)
        integration.get("/api/v1/auth/me")
        assert last_used() == start
        clock.advance(seconds=31)
        integration.get("/api/v1/auth/me")
        assert last_used() == clock()


def test_deactivated_users_tokens_stop_working(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    user = make_user(db, "departed@example.test")
    db.commit()
    login(client, "departed@example.test")
    created = _create_token(client)

    user.is_active = False
    db.commit()

    with TestClient(app) as integration:
        integration.headers["Authorization"] = f"Bearer {created['token']}"
        assert integration.get("/api/v1/auth/me").status_code == 401
