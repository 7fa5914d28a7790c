"""Account security: login lockout, per-IP limits, password change and reset."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from helpline.adapters.db.engine import make_session_factory
from helpline.adapters.db.models import (
    AuditLog,
    LoginThrottle,
    OutboxItem,
    PasswordResetToken,
    User,
)
from helpline.services.accounts import do_login
from helpline.services.errors import AuthenticationFailed
from helpline.services.tokens import hash_token
from helpline.settings import Settings
from tests.factories import make_user
from tests.support import DEFAULT_PASSWORD, FrozenClock, login

NEW_PASSWORD = "a much better passphrase"


def _login(client: TestClient, email: str, password: str) -> int:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code


def _audit_actions(db: Session) -> list[str]:
    db.expire_all()
    actions = list(db.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    db.commit()  # on SQLite an open transaction holds the write lock the app needs
    return actions


def _reset_token_from_outbox(db: Session, to: str) -> str:
    db.expire_all()
    emails = [
        item.payload
        for item in db.scalars(select(OutboxItem).order_by(OutboxItem.id))
        if item.kind == "email" and item.payload["to"] == to
    ]
    db.commit()  # on SQLite an open transaction holds the write lock the app needs
    assert emails, f"no email to {to}"
    match = re.search(r"http://testserver/reset-password\?token=(\S+)", emails[-1]["text"])
    assert match, emails[-1]["text"]
    return match.group(1)


# --- lockout --------------------------------------------------------------------


def test_repeated_wrong_passwords_lock_the_account_until_the_time_passes(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    user = make_user(db, "target@example.test")
    db.commit()

    early = [_login(client, "target@example.test", f"guess {n}") for n in range(4)]
    locking = client.post(
        "/api/v1/auth/login", json={"email": "target@example.test", "password": "guess 5"}
    )

    assert early == [401] * 4
    assert locking.status_code == 429
    assert locking.json()["error"]["code"] == "rate_limited"
    assert locking.headers["Retry-After"] == "900"

    # While locked, even the right password is refused, and the wait shrinks.
    clock.advance(seconds=600)
    right_but_locked = client.post(
        "/api/v1/auth/login",
        json={"email": "TARGET@example.test", "password": DEFAULT_PASSWORD},
    )
    assert right_but_locked.status_code == 429
    assert right_but_locked.headers["Retry-After"] == "300"
    assert "set-cookie" not in right_but_locked.headers

    clock.advance(seconds=301)
    login(client, "target@example.test")
    assert client.get("/api/v1/auth/me").json()["user"]["id"] == user.id
    assert "auth.login_locked" in _audit_actions(db)


def test_a_successful_login_resets_the_failure_count(client: TestClient, db: Session) -> None:
    make_user(db, "typo@example.test")
    db.commit()

    first = [_login(client, "typo@example.test", "typo") for _ in range(4)]
    success = _login(client, "typo@example.test", DEFAULT_PASSWORD)
    again = [_login(client, "typo@example.test", "typo") for _ in range(5)]

    assert first == [401] * 4
    assert success == 200
    assert again == [401, 401, 401, 401, 429]


def test_unknown_addresses_lock_like_real_ones(client: TestClient) -> None:
    answers = [_login(client, "nobody@example.test", "guess") for _ in range(6)]

    assert answers == [401, 401, 401, 401, 429, 429]


def test_per_ip_limit_on_public_endpoints(app: FastAPI, db: Session, clock: FrozenClock) -> None:
    make_user(db, "busy@example.test")
    db.commit()
    with (
        TestClient(app, client=("203.0.113.7", 4000)) as noisy,
        TestClient(app, client=("198.51.100.2", 4000)) as neighbour,
    ):
        allowed = [
            noisy.post("/api/v1/auth/password-reset", json={"email": f"x{n}@example.test"})
            for n in range(20)
        ]
        refused_reset = noisy.post("/api/v1/auth/password-reset", json={"email": "y@example.test"})
        refused_login = noisy.post(
            "/api/v1/auth/login", json={"email": "busy@example.test", "password": DEFAULT_PASSWORD}
        )
        other_address = _login(neighbour, "busy@example.test", DEFAULT_PASSWORD)

        assert {response.status_code for response in allowed} == {202}
        assert refused_reset.status_code == 429
        assert refused_reset.headers["Retry-After"] == "60"
        assert refused_login.status_code == 429
        assert other_address == 200

        clock.advance(seconds=60)
        assert _login(noisy, "busy@example.test", DEFAULT_PASSWORD) == 200


# --- password change ------------------------------------------------------------


def test_password_change_signs_out_other_browsers_but_not_this_one(
    app: FastAPI, db: Session, clock: FrozenClock
) -> None:
    user = make_user(db, "mover@example.test")
    db.commit()
    with TestClient(app) as laptop, TestClient(app) as phone:
        csrf = login(laptop, "mover@example.test")
        login(phone, "mover@example.test")
        old_cookie = laptop.cookies["helpline_session"]
        clock.advance(minutes=1)

        response = laptop.post(
            "/api/v1/auth/password",
            json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        )

        assert response.status_code == 204, response.text
        assert laptop.cookies["helpline_session"] != old_cookie
        assert phone.get("/api/v1/auth/me").status_code == 401
        me = laptop.get("/api/v1/auth/me")
        assert me.status_code == 200
        assert me.json()["csrf_token"] == csrf
        assert laptop.patch("/api/v1/auth/me", json={"status": "online"}).status_code == 200

        assert _login(phone, "mover@example.test", DEFAULT_PASSWORD) == 401
        assert _login(phone, "mover@example.test", NEW_PASSWORD) == 200
    db.expire_all()
    stored = db.get(User, user.id)
    assert stored is not None
    assert stored.password_changed_at == clock()
    assert "auth.password_changed" in _audit_actions(db)


def test_password_change_needs_the_current_password(client: TestClient, db: Session) -> None:
    user = make_user(db, "careful@example.test")
    old_hash = user.password_hash
    db.commit()
    login(client, "careful@example.test")

    response = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "current_password"
    db.expire_all()
    assert db.get(User, user.id).password_hash == old_hash  # type: ignore[union-attr]
    db.commit()
    assert client.get("/api/v1/auth/me").status_code == 200


def test_password_policy(client: TestClient, db: Session) -> None:
    make_user(db, "policy.person@example.test")
    db.commit()
    login(client, "policy.person@example.test")

    def change(new_password: str) -> int:
        return client.post(
            "/api/v1/auth/password",
            json={"current_password": DEFAULT_PASSWORD, "new_password": new_password},
        ).status_code

    assert change("short") == 422
    assert change("a" * 12) == 422
    assert change("Policy.Person@example.test") == 422
    assert change("x" * 257) == 422
    assert client.get("/api/v1/auth/me").status_code == 200  # still signed in
    assert change("ten chars!") == 204


# --- password reset -------------------------------------------------------------


def test_reset_link_works_once(app: FastAPI, db: Session, clock: FrozenClock) -> None:
    user = make_user(db, "forgetful@example.test")
    db.commit()
    with TestClient(app) as signed_in, TestClient(app) as anonymous:
        login(signed_in, "forgetful@example.test")

        requested = anonymous.post(
            "/api/v1/auth/password-reset", json={"email": "Forgetful@example.test"}
        )
        assert requested.status_code == 202
        raw = _reset_token_from_outbox(db, "forgetful@example.test")
        stored = db.scalar(select(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
        assert stored is not None
        assert stored.token_hash == hash_token(raw)
        assert stored.expires_at == clock() + timedelta(minutes=60)
        db.commit()

        clock.advance(minutes=5)
        confirmed = anonymous.post(
            "/api/v1/auth/password-reset/confirm", json={"token": raw, "new_password": NEW_PASSWORD}
        )
        again = anonymous.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": raw, "new_password": "yet another passphrase"},
        )

        assert confirmed.status_code == 204
        assert again.status_code == 400
        assert again.json()["error"]["code"] == "invalid_token"
        assert signed_in.get("/api/v1/auth/me").status_code == 401
        assert _login(anonymous, "forgetful@example.test", DEFAULT_PASSWORD) == 401
        assert _login(anonymous, "forgetful@example.test", NEW_PASSWORD) == 200
    assert "auth.password_reset" in _audit_actions(db)


def test_reset_link_expires(client: TestClient, db: Session, clock: FrozenClock) -> None:
    make_user(db, "slow@example.test")
    db.commit()
    client.post("/api/v1/auth/password-reset", json={"email": "slow@example.test"})
    raw = _reset_token_from_outbox(db, "slow@example.test")

    clock.advance(minutes=61)
    response = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": raw, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"
    assert _login(client, "slow@example.test", NEW_PASSWORD) == 401
    assert _login(client, "slow@example.test", DEFAULT_PASSWORD) == 200


def test_unknown_reset_token_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": "made-up-token", "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"


def test_reset_request_does_not_reveal_accounts(client: TestClient, db: Session) -> None:
    make_user(db, "former@example.test", is_active=False)
    db.commit()

    unknown = client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.test"})
    inactive = client.post("/api/v1/auth/password-reset", json={"email": "former@example.test"})

    assert unknown.status_code == inactive.status_code == 202
    assert unknown.json() == inactive.json()
    assert db.scalars(select(OutboxItem)).all() == []


def test_reset_emails_are_not_sent_twice_within_a_minute(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    make_user(db, "impatient@example.test")
    db.commit()

    for _ in range(3):
        client.post("/api/v1/auth/password-reset", json={"email": "impatient@example.test"})
    clock.advance(seconds=61)
    client.post("/api/v1/auth/password-reset", json={"email": "impatient@example.test"})

    assert len(db.scalars(select(OutboxItem)).all()) == 2


def test_a_newer_reset_link_and_the_new_password_void_older_links(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    make_user(db, "twice@example.test")
    db.commit()
    client.post("/api/v1/auth/password-reset", json={"email": "twice@example.test"})
    first = _reset_token_from_outbox(db, "twice@example.test")
    clock.advance(minutes=2)
    client.post("/api/v1/auth/password-reset", json={"email": "twice@example.test"})
    second = _reset_token_from_outbox(db, "twice@example.test")

    used = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": second, "new_password": NEW_PASSWORD}
    )
    stale = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": first, "new_password": "some other passphrase"},
    )

    assert used.status_code == 204
    assert stale.status_code == 400


def test_password_reset_lifts_a_lockout(client: TestClient, db: Session) -> None:
    make_user(db, "locked@example.test")
    db.commit()
    assert [_login(client, "locked@example.test", "wrong") for _ in range(5)][-1] == 429

    client.post("/api/v1/auth/password-reset", json={"email": "locked@example.test"})
    raw = _reset_token_from_outbox(db, "locked@example.test")
    confirmed = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": raw, "new_password": NEW_PASSWORD}
    )

    assert confirmed.status_code == 204
    assert _login(client, "locked@example.test", NEW_PASSWORD) == 200


def test_concurrent_failures_from_many_processes_are_all_counted(
    db_engine: Engine, db: Session, settings: Settings, clock: FrozenClock
) -> None:
    """Several server processes failing at once for a new address (the throttle
    row does not exist yet) must neither crash nor lose a failure."""
    generous = settings.model_copy(update={"login_max_failures": 50})
    factory = make_session_factory(db_engine)
    start = threading.Barrier(6)
    outcomes: list[str] = []

    def attempt() -> None:
        start.wait()
        with factory() as session:
            try:
                do_login(
                    session,
                    "raced@example.test",
                    "wrong",
                    now=clock(),
                    ip="192.0.2.1",
                    user_agent="test",
                    settings=generous,
                )
            except AuthenticationFailed:
                outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == ["refused"] * 6
    throttle = db.get(LoginThrottle, "raced@example.test")
    assert throttle is not None
    assert throttle.failures == 6
