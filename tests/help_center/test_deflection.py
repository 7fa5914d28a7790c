"""Deflection: reading an article and not starting a chat within 30 minutes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox
from helpline.services.deflection import settle_deflections
from helpline.services.visitors import Visitor, sign_visitor_token
from tests.conftest import TEST_SECRET
from tests.factories import make_contact, make_conversation, make_inbox, make_user
from tests.help_center.support import help_center
from tests.support import FrozenClock, login


def _view(client: TestClient, inbox: Inbox, article_id: int, token: str | None = None) -> str:
    response = client.post(
        f"/api/v1/widget/{inbox.public_key}/deflection/view",
        json={"article_id": article_id, "visitor_token": token},
    )
    assert response.status_code == 201, response.text
    visitor_token: str = response.json()["visitor_token"]
    return visitor_token


def _report(client: TestClient) -> dict[str, object]:
    response = client.get(
        "/api/v1/reports/deflection",
        params={"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_reading_without_chatting_for_30_minutes_counts_as_a_deflection(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    articles = help_center(db, clock())
    inbox = make_inbox(db, "Shop chat")
    make_user(db, "lead@example.com", role="supervisor")
    db.commit()
    password, refunds = articles["password"].id, articles["refunds"].id

    helped = _view(client, inbox, password)  # reads two articles, then leaves
    clock.advance(minutes=10)
    assert _view(client, inbox, refunds, helped) == helped
    asked = _view(client, inbox, refunds)  # reads, then starts a chat
    clock.advance(minutes=5)
    started = client.post(
        f"/api/v1/widget/{inbox.public_key}/deflection/chat-started",
        json={"visitor_token": asked},
    )
    assert started.json() == {"sessions": 1}

    clock.advance(minutes=24)  # 29 minutes after the last view: too early to tell
    assert settle_deflections(db, clock()) == 0
    clock.advance(minutes=2)
    assert settle_deflections(db, clock()) == 1
    assert settle_deflections(db, clock()) == 0

    login(client, "lead@example.com")
    report = _report(client)
    assert report["from"] == "2026-03-01T00:00:00Z"
    assert (report["sessions"], report["deflections"], report["chats"], report["pending"]) == (
        2,
        1,
        1,
        0,
    )
    assert report["rate"] == 0.5
    assert report["articles"] == [
        {"article_id": refunds, "title": "Our refund policy", "sessions": 2, "deflections": 1},
        {"article_id": password, "title": "Reset your password", "sessions": 1, "deflections": 1},
    ]


def test_a_known_visitor_who_starts_a_chat_is_not_deflected(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    articles = help_center(db, clock())
    inbox = make_inbox(db, "Shop chat")
    customer = make_contact(db, name="Vera Visitor")
    db.commit()
    token = sign_visitor_token(
        TEST_SECRET,
        Visitor(inbox_id=inbox.id, contact_id=customer.id, verified=False, issued_at=clock()),
    )
    later_token = sign_visitor_token(
        TEST_SECRET,
        Visitor(inbox_id=inbox.id, contact_id=customer.id, verified=False, issued_at=clock()),
    )

    assert _view(client, inbox, articles["password"].id, token) == token
    clock.advance(minutes=3)
    _view(client, inbox, articles["two_factor"].id, later_token)
    clock.advance(minutes=20)
    make_conversation(db, inbox, customer, created_at=clock())  # the chat the widget opened
    db.commit()
    clock.advance(minutes=15)

    assert settle_deflections(db, clock()) == 1
    make_user(db, "lead@example.com", role="admin")
    db.commit()
    login(client, "lead@example.com")
    report = _report(client)
    assert (report["sessions"], report["deflections"], report["chats"]) == (1, 0, 1)
    assert report["rate"] == 0.0


def test_views_of_hidden_articles_and_bad_tokens_are_refused(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    articles = help_center(db, clock())
    inbox = make_inbox(db, "Shop chat")
    make_user(db, "agent@example.com")
    db.commit()
    for key in ("draft", "internal"):
        hidden = client.post(
            f"/api/v1/widget/{inbox.public_key}/deflection/view",
            json={"article_id": articles[key].id},
        )
        assert hidden.status_code == 404
    bad = client.post(
        f"/api/v1/widget/{inbox.public_key}/deflection/view",
        json={"article_id": articles["password"].id, "visitor_token": "short"},
    )
    assert bad.status_code == 422

    login(client, "agent@example.com")
    forbidden = client.get(
        "/api/v1/reports/deflection",
        params={"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"},
    )
    assert forbidden.status_code == 403
