"""Signing in and out, the caller's own record, CSRF on cookie sessions."""

from __future__ import annotations

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import AgentSession, User
from helpline.adapters.passwords import verify_password
from tests.factories import make_user
from tests.support import DEFAULT_PASSWORD, FrozenClock, login


def test_login_sets_a_protected_session_cookie_and_returns_the_user(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    user = make_user(db, "dana@example.test", name="Dana")
    db.commit()

    response = client.post(
        "/api/v1/auth/login", json={"email": "  Dana@Example.TEST ", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["id"] == user.id
    assert body["user"]["name"] == "Dana"
    assert "password_hash" not in body["user"]
    assert body["csrf_token"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("helpline_session=")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    assert "Max-Age=1209600" in cookie
    assert "Secure" not in cookie
    db.expire_all()
    assert db.get(User, user.id).last_login_at == clock()  # type: ignore[union-attr]


def test_session_cookie_is_secure_when_configured(client: TestClient, db: Session) -> None:
    client.app.state.settings.secure_cookies = True  # type: ignore[attr-defined]
    make_user(db, "sam@example.test")
    db.commit()

    response = client.post(
        "/api/v1/auth/login", json={"email": "sam@example.test", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_unknown_email_and_inactive_account_look_the_same(
    client: TestClient, db: Session
) -> None:
    make_user(db, "active@example.test")
    make_user(db, "gone@example.test", is_active=False)
    db.commit()
    attempts = [
        {"email": "active@example.test", "password": "not the password"},
        {"email": "nobody@example.test", "password": DEFAULT_PASSWORD},
        {"email": "gone@example.test", "password": DEFAULT_PASSWORD},
    ]

    answers = [client.post("/api/v1/auth/login", json=attempt) for attempt in attempts]

    assert {answer.status_code for answer in answers} == {401}
    assert {answer.json()["error"]["code"] for answer in answers} == {"authentication_failed"}
    assert len({answer.json()["error"]["message"] for answer in answers}) == 1
    assert all("set-cookie" not in answer.headers for answer in answers)


def test_login_accepts_json_only(client: TestClient, db: Session) -> None:
    make_user(db, "form@example.test")
    db.commit()

    response = client.post(
        "/api/v1/auth/login", data={"email": "form@example.test", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_login_refuses_unknown_fields(client: TestClient, db: Session) -> None:
    make_user(db, "extra@example.test")
    db.commit()

    response = client.post(
        "/api/v1/auth/login",
        json={"email": "extra@example.test", "password": DEFAULT_PASSWORD, "role": "admin"},
    )

    assert response.status_code == 422


def test_login_rehashes_a_password_hashed_with_old_parameters(
    client: TestClient, db: Session
) -> None:
    old_hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    user = make_user(db, "old@example.test")
    user.password_hash = old_hasher.hash(DEFAULT_PASSWORD)
    old_hash = user.password_hash
    db.commit()

    login(client, "old@example.test")

    db.expire_all()
    new_hash = db.get(User, user.id).password_hash  # type: ignore[union-attr]
    assert new_hash != old_hash
    assert verify_password(new_hash, DEFAULT_PASSWORD)


def test_me_shows_the_caller_and_their_csrf_token(client: TestClient, db: Session) -> None:
    user = make_user(db, "me@example.test", role="supervisor", languages=["en", "de"])
    db.commit()
    csrf = login(client, "me@example.test")

    response = client.get("/api/v1/auth/me")

    assert response.status_code == 200
    body = response.json()
    assert body["csrf_token"] == csrf
    assert body["user"]["id"] == user.id
    assert body["user"]["role"] == "supervisor"
    assert body["user"]["languages"] == ["en", "de"]


def test_requests_without_a_session_are_refused(client: TestClient) -> None:
    response = client.get("/api/v1/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_logout_ends_the_session_and_clears_the_cookie(client: TestClient, db: Session) -> None:
    user = make_user(db, "leaving@example.test")
    db.commit()
    login(client, "leaving@example.test")
    stolen_cookie = client.cookies["helpline_session"]

    response = client.post("/api/v1/auth/logout")

    assert response.status_code == 204
    assert 'helpline_session=""' in response.headers["set-cookie"]
    assert client.get("/api/v1/auth/me").status_code == 401
    # A copy of the cookie taken before logout is worthless too.
    client.cookies.set("helpline_session", stolen_cookie)
    assert client.get("/api/v1/auth/me").status_code == 401
    assert db.scalars(select(AgentSession).where(AgentSession.user_id == user.id)).all() == []


def test_cookie_session_needs_the_csrf_header_to_change_anything(
    client: TestClient, db: Session
) -> None:
    user = make_user(db, "csrf@example.test", name="Before")
    db.commit()
    csrf = login(client, "csrf@example.test")

    del client.headers["X-CSRF-Token"]
    refused = client.patch("/api/v1/auth/me", json={"name": "Forged"})
    wrong = client.patch(
        "/api/v1/auth/me", json={"name": "Forged"}, headers={"X-CSRF-Token": "guess"}
    )
    accepted = client.patch(
        "/api/v1/auth/me", json={"name": "After"}, headers={"X-CSRF-Token": csrf}
    )

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert wrong.status_code == 403
    assert accepted.status_code == 200
    db.expire_all()
    assert db.get(User, user.id).name == "After"  # type: ignore[union-attr]


def test_agent_updates_own_name_languages_and_status(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    user = make_user(db, "profile@example.test", status="offline")
    db.commit()
    login(client, "profile@example.test")
    clock.advance(minutes=3)

    response = client.patch(
        "/api/v1/auth/me",
        json={"name": "  Robin Agent ", "languages": ["EN", "fr", "en"], "status": "online"},
    )

    assert response.status_code == 200, response.text
    shown = response.json()["user"]
    assert shown["name"] == "Robin Agent"
    assert shown["languages"] == ["en", "fr"]
    assert shown["status"] == "online"
    db.expire_all()
    stored = db.get(User, user.id)
    assert stored is not None
    assert (stored.name, stored.languages, stored.status) == ("Robin Agent", ["en", "fr"], "online")
    assert stored.status_since == clock()


def test_agent_cannot_promote_themselves(client: TestClient, db: Session) -> None:
    user = make_user(db, "sneaky@example.test", role="agent", tier=1, name="Sneaky")
    db.commit()
    login(client, "sneaky@example.test")

    as_admin = client.patch("/api/v1/auth/me", json={"role": "admin"})
    with_name = client.patch("/api/v1/auth/me", json={"name": "Boss", "role": "admin"})
    tier_two = client.patch("/api/v1/auth/me", json={"tier": 2})
    bad_status = client.patch("/api/v1/auth/me", json={"status": "invisible"})

    assert [r.status_code for r in (as_admin, with_name, tier_two, bad_status)] == [422] * 4
    assert as_admin.json()["error"]["details"]["fields"][0]["field"] == "body.role"
    db.expire_all()
    stored = db.get(User, user.id)
    assert stored is not None
    assert (stored.role, stored.tier, stored.name) == ("agent", 1, "Sneaky")


def test_deactivated_user_is_signed_out_at_once(app: FastAPI, db: Session) -> None:
    user = make_user(db, "leaver@example.test")
    db.commit()
    with TestClient(app) as browser:
        login(browser, "leaver@example.test")
        assert browser.get("/api/v1/auth/me").status_code == 200

        user.is_active = False
        db.commit()

        assert browser.get("/api/v1/auth/me").status_code == 401
        assert browser.patch("/api/v1/auth/me", json={"name": "x"}).status_code == 401
