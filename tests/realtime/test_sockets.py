"""Visitor and agent sockets talking: messages, typing, read marks, queue positions,
notes that never reach the visitor, and bad frames that leave the socket usable."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import ConversationRead, Message
from helpline.settings import Settings
from tests.factories import make_user
from tests.support import login
from tests.widget_api.support import (
    ack_of,
    drain,
    events_of,
    headers,
    make_chat_inbox,
    open_session,
    receive,
    receive_until,
    receive_until_ack,
    start_conversation,
    visitor_socket,
    widget_url,
)

AGENT_ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"realtime_max_frame_bytes": 4096})


def _subscribe(ws: Any, conversation_id: int, after_seq: int = 0) -> list[dict[str, Any]]:
    ws.send_json({"type": "subscribe", "conversation_id": conversation_id, "after_seq": after_seq})
    return drain(ws)


def _message_bodies(frames: list[dict[str, Any]]) -> list[str]:
    return [
        frame["event"]["message"]["body"]
        for frame in events_of(frames)
        if frame["event"]["type"] == "message.created"
    ]


def test_visitor_and_agent_talk_live(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, inboxes=[inbox], role="supervisor", name="Anna")
    db.commit()
    token = open_session(client, inbox, name="Mia")
    cid = start_conversation(client, inbox, token, "Hi there")["id"]
    login(client, agent.email)
    with (
        visitor_socket(client, inbox, token) as visitor,
        client.websocket_connect("/api/v1/ws", headers=AGENT_ORIGIN) as staff,
    ):
        assert receive(visitor)["type"] == "hello"
        assert receive(staff) == {
            "type": "hello",
            "user": {"id": agent.id, "name": "Anna"},
            "ping_seconds": 25,
        }
        assert _message_bodies(_subscribe(visitor, cid)) == ["Hi there"]
        staff_snapshot = _subscribe(staff, cid)
        assert _message_bodies(staff_snapshot) == ["Hi there"]

        visitor.send_json(
            {
                "type": "message",
                "conversation_id": cid,
                "body": "Are you there?",
                "client_message_id": "v1",
            }
        )
        frames, ack = receive_until_ack(visitor)
        # The message's own event is its acknowledgement: no separate ack frame.
        own = frames[-1]
        assert own["type"] == "event" and own["event"]["message"]["body"] == "Are you there?"
        assert ack["client_message_id"] == "v1" and ack["duplicate"] is False
        assert ack["seq"] == own["seq"] and ack["message_id"] == own["event"]["message"]["id"]
        agent_sees = receive(staff)
        assert "ack" not in agent_sees  # only the socket that sent it
        assert agent_sees["type"] == "event" and agent_sees["seq"] == ack["seq"]
        assert agent_sees["event"]["type"] == "message.created"
        assert agent_sees["event"]["message"]["body"] == "Are you there?"

        staff.send_json(
            {
                "type": "message",
                "conversation_id": cid,
                "body": "Yes! Anna here.",
                "client_message_id": "a1",
            }
        )
        staff_frames, staff_ack = receive_until_ack(staff)
        assert staff_ack["client_message_id"] == "a1" and staff_frames[-1]["type"] == "event"
        assert staff_frames[-1]["event"]["message"]["body"] == "Yes! Anna here."
        seen_by_visitor = drain(visitor)
        assert [frame for frame in seen_by_visitor if ack_of(frame)] == []
        reply = events_of(seen_by_visitor)
        assert reply[0]["event"]["message"]["body"] == "Yes! Anna here."
        assert reply[0]["event"]["message"]["author"] == "agent"
        assert reply[0]["event"]["message"]["author_name"] == "Anna"

        # A retried send is acknowledged again and stored once.
        visitor.send_json(
            {
                "type": "message",
                "conversation_id": cid,
                "body": "Are you there?",
                "client_message_id": "v1",
            }
        )
        retry = receive_until(visitor, "ack")
        assert retry[-1]["seq"] == ack["seq"] and retry[-1]["duplicate"] is True
        assert events_of(retry) == []
    db.expire_all()
    assert db.scalar(select(func.count(Message.id)).where(Message.conversation_id == cid)) == 3


def test_typing_and_read_marks_go_both_ways(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, inboxes=[inbox], role="supervisor", name="Anna")
    db.commit()
    token = open_session(client, inbox, name="Mia")
    cid = start_conversation(client, inbox, token, "Hi")["id"]
    login(client, agent.email)
    with (
        visitor_socket(client, inbox, token) as visitor,
        client.websocket_connect("/api/v1/ws", headers=AGENT_ORIGIN) as staff,
    ):
        receive(visitor), receive(staff)
        last_seq = events_of(_subscribe(visitor, cid))[-1]["seq"]
        _subscribe(staff, cid)

        visitor.send_json({"type": "typing", "conversation_id": cid, "active": True})
        assert receive(staff) == {
            "type": "typing",
            "conversation_id": cid,
            "who": "contact",
            "name": "Mia",
            "active": True,
        }
        staff.send_json({"type": "typing", "conversation_id": cid, "active": False})
        assert receive(visitor) == {
            "type": "typing",
            "conversation_id": cid,
            "who": "agent",
            "name": "Anna",
            "active": False,
        }
        assert drain(staff) == []  # an agent does not hear their own typing

        staff.send_json({"type": "read", "conversation_id": cid, "seq": last_seq})
        assert receive(visitor) == {
            "type": "read",
            "conversation_id": cid,
            "seq": last_seq,
            "by": "agent",
        }
        visitor.send_json({"type": "read", "conversation_id": cid, "seq": 10_000})
        visitor_read = receive(staff)
        assert visitor_read["by"] == "contact" and visitor_read["seq"] == last_seq  # clamped
        # Going back never lowers the mark, and says nothing.
        visitor.send_json({"type": "read", "conversation_id": cid, "seq": 1})
        assert drain(visitor) == []
        assert drain(staff) == []
    listed = client.get(widget_url(inbox, "conversations"), headers=headers(token)).json()
    assert listed["data"][0]["agent_read_seq"] == last_seq
    db.expire_all()
    marks = {
        row.reader_type: (row.reader_id, row.last_read_seq)
        for row in db.scalars(select(ConversationRead))
    }
    assert marks["agent"] == (agent.id, last_seq)
    assert marks["contact"][1] == last_seq


def test_internal_notes_and_changes_never_reach_the_visitor(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, inboxes=[inbox], role="supervisor", name="Anna")
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token, "Hi")["id"]
    login(client, agent.email)
    with (
        visitor_socket(client, inbox, token) as visitor,
        client.websocket_connect("/api/v1/ws", headers=AGENT_ORIGIN) as staff,
    ):
        receive(visitor), receive(staff)
        _subscribe(visitor, cid)
        _subscribe(staff, cid)
        api = f"/api/v1/conversations/{cid}"
        client.post(f"{api}/messages", json={"body": "NOTE: refund fraud?", "kind": "note"})
        staff.send_json(
            {
                "type": "message",
                "conversation_id": cid,
                "body": "NOTE: via socket",
                "client_message_id": "n1",
                "kind": "note",
            }
        )
        staff_frames, _ = receive_until_ack(staff)
        client.put(f"{api}/tags", json={"tags": ["suspicious"]})
        client.patch(api, json={"priority": "urgent", "category": "billing"})
        client.post(
            f"{api}/transfer", json={"to_user_id": agent.id, "note": "NOTE: careful with this one"}
        )
        client.post(f"{api}/messages", json={"body": "Hello from Anna", "kind": "reply"})
        seen = drain(visitor)
        # Escalation rules may add a system message for the customer; the
        # agent's reply and the hand-over are what matter here.
        changes = [frame["event"]["change"] for frame in seen if "change" in frame["event"]]
        assert changes == ["transferred"]
        assert _message_bodies(seen)[-1] == "Hello from Anna"
        assert all(
            frame["event"]["message"]["author"] in ("agent", "system")
            for frame in seen
            if frame["event"]["type"] == "message.created"
        )
        assert "NOTE" not in str(seen) and "suspicious" not in str(seen)
        # Staff saw every one of them.
        staff_frames += drain(staff)
        assert "NOTE: refund fraud?" in str(staff_frames)
        assert "suspicious" in str(staff_frames)
    # Resuming from the start shows the same: no notes.
    with visitor_socket(client, inbox, token) as visitor:
        receive(visitor)
        replay = _subscribe(visitor, cid)
        assert "NOTE" not in str(replay) and "suspicious" not in str(replay)
        assert _message_bodies(replay)[0] == "Hi"
        assert _message_bodies(replay)[-1] == "Hello from Anna"


def test_bad_frames_get_clear_errors_and_the_socket_stays_usable(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token, "Hi")["id"]
    with visitor_socket(client, inbox, token) as ws:
        receive(ws)
        cases: list[tuple[Any, str]] = [
            ("{not json", "bad_frame"),
            ("[]", "bad_frame"),
            ('{"type": "launch_missiles"}', "unknown_type"),
            ('{"type": "subscribe", "conversation_id": "abc"}', "bad_frame"),
            ('{"type": "ping"}' + " " * 5000, "frame_too_large"),
        ]
        for text, code in cases:
            ws.send_text(text)
            error = receive(ws)
            assert error["type"] == "error" and error["code"] == code, text
            ws.send_json({"type": "ping"})
            assert receive(ws) == {"type": "pong"}
        ws.send_bytes(b"\x00\x01")
        assert receive(ws)["code"] == "bad_frame"
        ws.send_json(
            {
                "type": "message",
                "conversation_id": cid,
                "body": "x" * 3000,
                "client_message_id": "ok",
            }
        )
        assert receive_until_ack(ws)[1]["client_message_id"] == "ok"
        too_long = {
            "type": "message",
            "conversation_id": cid,
            "body": "z" * 4100,
            "client_message_id": "long",
        }
        ws.send_json(too_long)
        assert receive(ws)["code"] == "frame_too_large"
        ws.send_json(
            {"type": "message", "conversation_id": cid, "body": "   ", "client_message_id": "blank"}
        )
        blank = receive(ws)
        assert blank["code"] == "validation_failed" and blank["client_message_id"] == "blank"
        ws.send_json({"type": "ping"})
        assert receive(ws) == {"type": "pong"}
    db.expire_all()
    bodies = list(db.scalars(select(Message.body).where(Message.conversation_id == cid)))
    assert len(bodies) == 2 and bodies[1].startswith("xxx")


def test_oversized_message_bodies_are_refused_whole(
    client: TestClient, db: Session, settings: Settings
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token, "Hi")["id"]
    settings.max_message_chars = 100  # the app shares this settings object
    with visitor_socket(client, inbox, token) as ws:
        receive(ws)
        ws.send_json(
            {
                "type": "message",
                "conversation_id": cid,
                "body": "q" * 101,
                "client_message_id": "big",
            }
        )
        error = receive(ws)
        assert error["code"] == "validation_failed"
        assert error["details"]["max_chars"] == 100
        ws.send_json(
            {
                "type": "message",
                "conversation_id": cid,
                "body": "fine",
                "client_message_id": "small",
            }
        )
        assert receive_until_ack(ws)[1]["client_message_id"] == "small"
    db.expire_all()
    assert db.scalar(select(func.count(Message.id)).where(Message.conversation_id == cid)) == 2


def test_waiting_visitors_see_their_queue_position_move(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    admin = make_user(db, role="admin", name="Anna")
    db.commit()
    first = start_conversation(client, inbox, open_session(client, inbox, name="First"), "one")
    token = open_session(client, inbox, name="Second")
    second = start_conversation(client, inbox, token, "two")
    assert second["queue"]["position"] == 2
    login(client, admin.email)
    with visitor_socket(client, inbox, token) as ws:
        receive(ws)
        frames = _subscribe(ws, second["id"])
        queue = [frame for frame in frames if frame["type"] == "queue"]
        assert queue == [
            {
                "type": "queue",
                "conversation_id": second["id"],
                "position": 2,
                "expected_wait_seconds": queue[0]["expected_wait_seconds"],
            }
        ]
        client.post(f"/api/v1/conversations/{first['id']}/assign", json={"assignee_id": admin.id})
        moved = receive(ws)  # the queue round runs about once a second
        assert moved["type"] == "queue" and moved["position"] == 1
        client.post(f"/api/v1/conversations/{second['id']}/assign", json={"assignee_id": admin.id})
        assigned = receive(ws)
        assert assigned["event"]["change"] == "assigned"
        assert assigned["event"]["assignee_name"] == "Anna"


def test_a_staff_socket_closes_once_its_session_is_signed_out(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.websockets import WebSocketDisconnect

    from helpline.web.realtime import connection as connection_module

    monkeypatch.setattr(connection_module, "RECHECK_SECONDS", 0.05)
    agent = make_user(db, name="Anna")
    db.commit()
    login(client, agent.email)
    with client.websocket_connect("/api/v1/ws", headers=AGENT_ORIGIN) as staff:
        assert receive(staff)["type"] == "hello"
        staff.send_json({"type": "ping"})
        assert receive(staff)["type"] == "pong"  # still signed in: the socket works
        assert client.post("/api/v1/auth/logout").status_code == 204
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                receive(staff)
        assert closed.value.code == 4401


def test_messages_sent_at_once_in_several_chats_keep_each_chats_order(
    client: TestClient, db: Session
) -> None:
    """On PostgreSQL the writer stores groups for several shares of the conversations
    at the same time (lanes by conversation id); each chat's messages must still be
    stored once, in the order they were sent."""
    inbox = make_chat_inbox(db)
    db.commit()
    chats = []
    for n in range(4):
        token = open_session(client, inbox, name=f"Visitor {n}")
        chats.append((token, start_conversation(client, inbox, token, f"Hello {n}")["id"]))
    sockets = [visitor_socket(client, inbox, token) for token, _ in chats]
    opened = [socket.__enter__() for socket in sockets]
    try:
        for ws in opened:
            assert receive(ws)["type"] == "hello"
        for number in range(10):
            for ws, (_, cid) in zip(opened, chats, strict=True):
                ws.send_json(
                    {
                        "type": "message",
                        "conversation_id": cid,
                        "body": f"line {number}",
                        "client_message_id": f"c{cid}-{number}",
                    }
                )
        for ws, (_, cid) in zip(opened, chats, strict=True):
            acks = [receive_until_ack(ws)[1] for _ in range(10)]
            assert [ack["client_message_id"] for ack in acks] == [f"c{cid}-{n}" for n in range(10)]
            seqs = [ack["seq"] for ack in acks]
            assert seqs == sorted(seqs) and len(set(seqs)) == 10
    finally:
        for socket in sockets:
            socket.__exit__(None, None, None)
    db.expire_all()
    for n, (_, cid) in enumerate(chats):
        bodies = db.scalars(
            select(Message.body).where(Message.conversation_id == cid).order_by(Message.seq)
        ).all()
        assert bodies == [f"Hello {n}", *(f"line {line}" for line in range(10))]
