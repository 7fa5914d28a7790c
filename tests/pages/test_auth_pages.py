"""Sign-in, sign-out and password-reset pages: forms, CSRF, redirects, errors."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import AgentSession, OutboxItem
from tests.factories import make_user
from tests.pages.helpers import csrf_of, page_login
from tests.support import DEFAULT_PASSWORD, FrozenClock

NEW_PASSWORD = "a brand new passphrase"


def _login_form(client: TestClient, **fields: str) -> dict[str, str]:
    token = csrf_of(client.get("/login").text)
    return {"csrf_token": token, "next": "/inbox", **fields}


def test_pages_redirect_to_sign_in_and_come_back(client: TestClient, db: Session) -> None:
    make_user(db, "ada@example.com")
    db.commit()

    response = client.get("/conversations/7?tab=notes", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/conversations/7%3Ftab%3Dnotes"

    login_page = client.get(response.headers["location"])
    assert 'name="next" value="/conversations/7?tab=notes"' in login_page.text
    form = {
        "email": "ada@example.com",
        "password": DEFAULT_PASSWORD,
        "csrf_token": csrf_of(login_page.text),
        "next": "/conversations/7?tab=notes",
    }
    signed_in = client.post("/login", data=form, follow_redirects=False)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/conversations/7?tab=notes"
    assert "helpline_session" in signed_in.cookies


def test_home_goes_to_the_inbox(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"


def test_sign_in_page_is_locked_down(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert "<script" not in response.text
    form_cookie = next(
        header for header in response.headers.get_list("set-cookie") if "helpline_form" in header
    )
    assert "samesite=strict" in form_cookie.lower()
    assert "httponly" in form_cookie.lower()


def test_wrong_password_is_shown_inline(client: TestClient, db: Session) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    form = _login_form(client, email="ada@example.com", password="not the password")
    response = client.post("/login", data=form)
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert 'value="ada@example.com"' in response.text  # the email stays filled in
    assert "helpline_session" not in response.cookies


def test_sign_in_without_the_form_token_is_refused(client: TestClient, db: Session) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    client.get("/login")  # has the cookie, but the form value is forged
    form = {"email": "ada@example.com", "password": DEFAULT_PASSWORD, "csrf_token": "forged"}
    response = client.post("/login", data=form)
    assert response.status_code == 403
    assert "The form expired" in response.text
    assert "helpline_session" not in response.cookies


def test_sign_in_with_a_forged_form_cookie_is_refused(client: TestClient, db: Session) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    client.cookies.set("helpline_form", "chosen.0000")
    form = {"email": "ada@example.com", "password": DEFAULT_PASSWORD, "csrf_token": "chosen"}
    response = client.post("/login", data=form)
    assert response.status_code == 403
    assert "helpline_session" not in response.cookies


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/inbox",
        "/\\evil.example",
        "javascript:alert(1)",
        "inbox",
        "/login",
    ],
)
def test_sign_in_only_returns_to_this_site(client: TestClient, db: Session, next_path: str) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    form = _login_form(client, email="ada@example.com", password=DEFAULT_PASSWORD)
    form["next"] = next_path
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"


def test_lockout_shows_the_wait(client: TestClient, db: Session) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    statuses = []
    for _ in range(6):
        form = _login_form(client, email="ada@example.com", password="guess guess guess")
        response = client.post("/login", data=form)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429
    assert "try again in 15 minutes" in response.text
    assert response.headers["retry-after"] == "900"

    form = _login_form(client, email="ada@example.com", password=DEFAULT_PASSWORD)
    still_locked = client.post("/login", data=form)
    assert still_locked.status_code == 429


def test_signed_in_visitor_skips_the_sign_in_page(client: TestClient, db: Session) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    page_login(client, "ada@example.com")
    response = client.get("/login?next=/conversations/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/conversations/1"


def test_sign_out_needs_the_csrf_token_and_ends_the_session(
    client: TestClient, db: Session
) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    csrf = page_login(client, "ada@example.com")

    refused = client.post("/logout", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert client.get("/inbox", follow_redirects=False).status_code == 200

    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?notice=signed_out"
    db.expire_all()
    assert db.scalars(select(AgentSession)).all() == []
    db.rollback()
    assert "You are signed out." in client.get("/login?notice=signed_out").text
    assert client.get("/inbox", follow_redirects=False).status_code == 303


def _reset_link_token(db: Session) -> str:
    db.expire_all()
    items = db.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
    assert len(items) == 1
    match = re.search(r"/reset-password\?token=([\w-]+)", items[0].payload["text"])
    db.rollback()  # end the read: on SQLite it holds the write lock the app needs
    assert match
    return match.group(1)


def test_forgot_password_answers_the_same_for_unknown_addresses(
    client: TestClient, db: Session
) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    answers = []
    for email in ("nobody@example.com", "ada@example.com"):
        token = csrf_of(client.get("/forgot-password").text)
        response = client.post("/forgot-password", data={"email": email, "csrf_token": token})
        assert response.status_code == 200
        answers.append(re.sub(r'value="[^"]*"', "", response.text))
    assert answers[0] == answers[1]
    assert "If an account uses this address" in answers[1]
    db.expire_all()
    assert [item.payload["to"] for item in db.scalars(select(OutboxItem))] == ["ada@example.com"]
    db.rollback()


def test_password_reset_through_the_pages(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    token = csrf_of(client.get("/forgot-password").text)
    client.post("/forgot-password", data={"email": "ada@example.com", "csrf_token": token})
    raw = _reset_link_token(db)

    page = client.get(f"/reset-password?token={raw}")
    assert page.status_code == 200
    assert f'name="token" value="{raw}"' in page.text
    form = {"token": raw, "csrf_token": csrf_of(page.text)}

    mismatch = client.post(
        "/reset-password", data={**form, "password": NEW_PASSWORD, "password_again": "other"}
    )
    assert mismatch.status_code == 422
    assert "not the same" in mismatch.text

    too_short = client.post(
        "/reset-password", data={**form, "password": "short", "password_again": "short"}
    )
    assert too_short.status_code == 422
    assert "at least 10 characters" in too_short.text

    done = client.post(
        "/reset-password",
        data={**form, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/login?notice=password_reset"

    clock.advance(seconds=1)
    page_login(client, "ada@example.com", NEW_PASSWORD)

    again = client.post(
        "/reset-password",
        data={**form, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert again.status_code == 400
    assert "This reset link is not valid" in again.text


def test_reset_page_without_a_token_explains(client: TestClient) -> None:
    response = client.get("/reset-password")
    assert "This reset link is not valid" in response.text
    assert 'href="/forgot-password"' in response.text


def test_expired_reset_link_is_explained(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    token = csrf_of(client.get("/forgot-password").text)
    client.post("/forgot-password", data={"email": "ada@example.com", "csrf_token": token})
    raw = _reset_link_token(db)
    clock.advance(minutes=61)
    page = client.get(f"/reset-password?token={raw}")
    response = client.post(
        "/reset-password",
        data={
            "token": raw,
            "csrf_token": csrf_of(page.text),
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "may have expired" in response.text
