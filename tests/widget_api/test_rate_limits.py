"""Rate limits per visitor and per IP: HTTP 429 with Retry-After, WebSocket error
frames that leave the connection usable."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Message
from helpline.settings import Settings
from tests.support import FrozenClock
from tests.widget_api.support import (
    client_id,
    headers,
    make_chat_inbox,
    open_session,
    receive,
    send,
    start_conversation,
    visitor_socket,
    widget_url,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "widget_messages_per_visitor_per_minute": 3,
            "widget_messages_per_ip_per_minute": 5,
            "widget_conversations_per_visitor_per_hour": 2,
            "widget_conversations_per_ip_per_hour": 3,
            "widget_sessions_per_ip_per_hour": 10,
        }
    )


def test_messages_are_limited_per_visitor_and_per_ip(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    mia, ola = open_session(client, inbox, name="Mia"), open_session(client, inbox, name="Ola")
    mia_chat = start_conversation(client, inbox, mia)["id"]
    ola_chat = start_conversation(client, inbox, ola)["id"]
    for _ in range(3):
        assert send(client, inbox, mia, mia_chat, "hi").status_code == 201
    limited = send(client, inbox, mia, mia_chat, "one too many")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    # Another visitor is not held back by Mia... until the address's limit.
    assert send(client, inbox, ola, ola_chat, "hello").status_code == 201
    assert send(client, inbox, ola, ola_chat, "hello").status_code == 201
    assert send(client, inbox, ola, ola_chat, "hello").status_code == 429  # 5 from this IP
    clock.advance(seconds=61)
    assert send(client, inbox, mia, mia_chat, "later").status_code == 201
    db.expire_all()
    stored = db.scalar(select(func.count(Message.id)).where(Message.conversation_id == mia_chat))
    assert stored == 1 + 3 + 1


def test_new_conversations_are_limited(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    start_conversation(client, inbox, token)
    start_conversation(client, inbox, token)
    third = client.post(
        widget_url(inbox, "conversations"),
        json={"message": "again", "client_message_id": client_id()},
        headers=headers(token),
    )
    assert third.status_code == 429 and "Retry-After" in third.headers
    other = open_session(client, inbox, name="Other")
    start_conversation(client, inbox, other)
    ip_limited = client.post(
        widget_url(inbox, "conversations"),
        json={"message": "again", "client_message_id": client_id()},
        headers=headers(other),
    )
    assert ip_limited.status_code == 429


def test_websocket_messages_are_limited_with_an_error_frame(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token)["id"]
    with visitor_socket(client, inbox, token) as ws:
        receive(ws)
        answers = []
        for number in range(4):
            ws.send_json(
                {
                    "type": "message",
                    "conversation_id": cid,
                    "body": f"m{number}",
                    "client_message_id": f"w{number}",
                }
            )
            answers.append(receive(ws))
        assert [answer["type"] for answer in answers] == ["ack", "ack", "ack", "error"]
        assert answers[3]["code"] == "rate_limited"
        assert answers[3]["client_message_id"] == "w3"
        assert answers[3]["details"]["retry_after_seconds"] >= 1
        ws.send_json({"type": "ping"})
        assert receive(ws) == {"type": "pong"}
