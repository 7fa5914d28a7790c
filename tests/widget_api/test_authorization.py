"""A visitor token opens only its own conversations: everything else is not found,
over HTTP and over the WebSocket; a socket without valid credentials is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect

from helpline.adapters.db.models import Message
from tests.factories import make_contact, make_conversation, make_user
from tests.support import login
from tests.widget_api.support import (
    PNG_BYTES,
    drain,
    headers,
    make_chat_inbox,
    open_session,
    receive,
    start_conversation,
    visitor_socket,
    widget_url,
)


def test_another_visitors_conversation_is_not_found_everywhere(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    staff_only = make_conversation(db, inbox, make_contact(db), subject="Staff made this")
    db.commit()
    token_a = open_session(client, inbox, name="A")
    token_b = open_session(client, inbox, name="B")
    b_conversation = start_conversation(client, inbox, token_b, "B's secret")["id"]
    upload = client.post(
        widget_url(inbox, f"conversations/{b_conversation}/attachments"),
        files={"file": ("b.png", PNG_BYTES, "image/png")},
        headers=headers(token_b),
    )
    b_attachment = upload.json()["attachment"]["id"]
    for target in (b_conversation, staff_only.id, 999_999):
        base = widget_url(inbox, f"conversations/{target}")
        attempts = [
            client.get(f"{base}/history", headers=headers(token_a)),
            client.post(
                f"{base}/messages",
                json={"body": "hi", "client_message_id": "x"},
                headers=headers(token_a),
            ),
            client.post(
                f"{base}/attachments",
                files={"file": ("a.png", PNG_BYTES, "image/png")},
                headers=headers(token_a),
            ),
            client.post(f"{base}/csat", json={"score": 1}, headers=headers(token_a)),
            client.post(
                f"{base}/transcript", json={"email": "a@x.example"}, headers=headers(token_a)
            ),
        ]
        for response in attempts:
            assert response.status_code == 404, (target, response.request.url, response.text)
            assert response.json()["error"]["code"] == "not_found"
    download = client.get(
        widget_url(inbox, f"attachments/{b_attachment}"), headers=headers(token_a)
    )
    assert download.status_code == 404
    assert (
        client.get(
            widget_url(inbox, f"attachments/{b_attachment}?token={token_a}"), headers=headers()
        ).status_code
        == 404
    )
    db.expire_all()
    assert (
        db.scalar(select(func.count(Message.id)).where(Message.conversation_id == b_conversation))
        == 2
    )  # B's first message and B's upload, nothing from A


def test_the_websocket_gives_nothing_of_another_visitors_conversation(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token_a = open_session(client, inbox, name="A")
    token_b = open_session(client, inbox, name="B")
    b_conversation = start_conversation(client, inbox, token_b, "B's secret")["id"]
    with visitor_socket(client, inbox, token_a) as ws:
        assert receive(ws)["type"] == "hello"
        ws.send_json({"type": "subscribe", "conversation_id": b_conversation, "after_seq": 0})
        error = receive(ws)
        assert error["type"] == "error" and error["code"] == "not_found"
        assert error["conversation_id"] == b_conversation
        for frame in (
            {
                "type": "message",
                "conversation_id": b_conversation,
                "body": "hi",
                "client_message_id": "1",
            },
            {"type": "typing", "conversation_id": b_conversation, "active": True},
            {"type": "read", "conversation_id": b_conversation, "seq": 1},
        ):
            ws.send_json(frame)
            answer = receive(ws)
            assert answer["type"] == "error" and answer["code"] == "not_found", frame
        # B keeps talking: A hears nothing of it.
        with visitor_socket(client, inbox, token_b) as ws_b:
            receive(ws_b)
            ws_b.send_json(
                {
                    "type": "message",
                    "conversation_id": b_conversation,
                    "body": "more",
                    "client_message_id": "b2",
                }
            )
            assert receive(ws_b)["type"] == "ack"
        assert drain(ws) == []


def test_a_socket_without_a_valid_token_is_refused(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    other = make_chat_inbox(db)
    db.commit()
    other_token = open_session(client, other)
    for query in ("", "?token=", "?token=hv1.forged.token", f"?token={other_token}"):
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect(widget_url(inbox, f"ws{query}"), headers=headers()) as ws,
        ):
            receive(ws)
        assert refused.value.code == 4401, query


def test_the_agent_socket_refuses_strangers(client: TestClient, db: Session) -> None:
    agent = make_user(db)
    db.commit()
    with (
        pytest.raises(WebSocketDisconnect) as anonymous,
        client.websocket_connect("/api/v1/ws") as ws,
    ):
        receive(ws)
    assert anonymous.value.code == 4401
    with (
        pytest.raises(WebSocketDisconnect) as bad_token,
        client.websocket_connect("/api/v1/ws", headers={"Authorization": "Bearer hlp_nope"}) as ws,
    ):
        receive(ws)
    assert bad_token.value.code == 4401
    # A signed-in agent's cookie used from another site's page: refused outright.
    login(client, agent.email)
    with (
        pytest.raises(WebSocketDisconnect) as hijack,
        client.websocket_connect("/api/v1/ws", headers={"Origin": "https://evil.example"}) as ws,
    ):
        receive(ws)
    assert hijack.value.code == 1008
    with client.websocket_connect("/api/v1/ws", headers={"Origin": "http://testserver"}) as ws:
        assert receive(ws)["type"] == "hello"


def test_staff_download_only_what_they_can_see(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    outsider = make_user(db)
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token)["id"]
    uploaded = client.post(
        widget_url(inbox, f"conversations/{cid}/attachments"),
        files={"file": ("a.png", PNG_BYTES, "image/png")},
        headers=headers(token),
    ).json()["attachment"]
    assert client.get(f"/api/v1/attachments/{uploaded['id']}").status_code == 401
    login(client, outsider.email)
    assert client.get(f"/api/v1/attachments/{uploaded['id']}").status_code == 404
    refused = client.post(
        f"/api/v1/conversations/{cid}/attachments",
        files={"file": ("b.png", PNG_BYTES, "image/png")},
    )
    assert refused.status_code == 404
