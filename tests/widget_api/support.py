"""Helpers for visitor-API and WebSocket tests: a chat inbox, a visitor session,
a started conversation — all through the public API, as the widget does it."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession

from helpline.adapters.db.engine import make_session_factory
from helpline.adapters.db.models import Inbox
from tests.factories import make_inbox

ORIGIN = "https://shop.example"
_ids = itertools.count(1)


def make_chat_inbox(db: Session, **settings: Any) -> Inbox:
    settings.setdefault("allowed_domains", ["shop.example", "*.shop.example"])
    return make_inbox(db, channel="chat", settings=settings)


def widget_url(inbox: Inbox, path: str) -> str:
    return f"/api/v1/widget/{inbox.public_key}/{path}"


def headers(token: str | None = None, origin: str = ORIGIN) -> dict[str, str]:
    result = {"Origin": origin}
    if token is not None:
        result["Authorization"] = f"Bearer {token}"
    return result


def open_session(client: TestClient, inbox: Inbox, **fields: Any) -> str:
    fields.setdefault("name", "Mia Rossi")
    response = client.post(widget_url(inbox, "sessions"), json=fields, headers=headers())
    assert response.status_code == 200, response.text
    token: str = response.json()["visitor_token"]
    return token


def client_id() -> str:
    return f"c-{next(_ids)}"


def start_conversation(
    client: TestClient, inbox: Inbox, token: str, message: str = "Hello, I need help"
) -> dict[str, Any]:
    response = client.post(
        widget_url(inbox, "conversations"),
        json={"message": message, "client_message_id": client_id()},
        headers=headers(token),
    )
    assert response.status_code == 201, response.text
    conversation: dict[str, Any] = response.json()
    return conversation


def send(client: TestClient, inbox: Inbox, token: str, conversation_id: int, body: str) -> Any:
    return client.post(
        widget_url(inbox, f"conversations/{conversation_id}/messages"),
        json={"body": body, "client_message_id": client_id()},
        headers=headers(token),
    )


def history(
    client: TestClient, inbox: Inbox, token: str, conversation_id: int, after: int = 0
) -> Any:
    response = client.get(
        widget_url(inbox, f"conversations/{conversation_id}/history?after_seq={after}"),
        headers=headers(token),
    )
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- WebSocket helpers


def receive(ws: WebSocketTestSession, timeout: float = 10.0) -> dict[str, Any]:
    """The next frame, failing the test instead of hanging when none comes."""

    async def next_message() -> Any:
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    message = ws.portal.call(next_message)
    ws._raise_on_close(message)
    frame: dict[str, Any] = json.loads(message["text"])
    return frame


def receive_until(ws: WebSocketTestSession, frame_type: str) -> list[dict[str, Any]]:
    """Frames up to and including the first of `frame_type`."""
    frames = []
    while True:
        frame = receive(ws)
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


def ack_of(frame: dict[str, Any]) -> dict[str, Any] | None:
    """The acknowledgement a frame carries, shaped as an `ack` frame: the frame
    itself, or the `ack` member of the live event of a message sent on this socket."""
    if frame["type"] == "ack":
        return frame
    if frame["type"] == "event" and "ack" in frame:
        return {"type": "ack", "conversation_id": frame["conversation_id"], **frame["ack"]}
    return None


def receive_until_ack(ws: WebSocketTestSession) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Frames up to and including the first that acknowledges a message, and that
    acknowledgement (`ack_of`)."""
    frames = []
    while True:
        frame = receive(ws)
        frames.append(frame)
        ack = ack_of(frame)
        if ack is not None:
            return frames, ack


def drain(ws: WebSocketTestSession) -> list[dict[str, Any]]:
    """Everything queued for this client so far: a ping's pong comes after all of
    it (the server sends one connection's frames in order)."""
    ws.send_json({"type": "ping"})
    return receive_until(ws, "pong")[:-1]


def visitor_socket(client: TestClient, inbox: Inbox, token: str) -> Any:
    return client.websocket_connect(widget_url(inbox, f"ws?token={token}"), headers=headers())


def events_of(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [frame for frame in frames if frame["type"] == "event"]


@contextmanager
def fresh_session(db: Session) -> Iterator[Session]:
    """A separate short session for checks in the middle of a test: it leaves the
    test's own objects alone (no expiry, so no lazy reload holding SQLite's write
    lock while the app works) and ends its transaction when done."""
    with make_session_factory(db.get_bind())() as session:  # type: ignore[arg-type]
        yield session
        session.rollback()


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
