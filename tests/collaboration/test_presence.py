"""Presence over the agent WebSocket: who else has a conversation open and who is
typing in it (the composer's collision warning), learned without stored state."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.services.api_tokens import do_create_api_token
from tests.factories import make_conversation, make_inbox, make_user
from tests.support import FrozenClock, login
from tests.widget_api.support import drain, receive, receive_until

AGENT_ORIGIN = {"Origin": "http://testserver"}


def _presence(frames: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (frame["user_id"], frame["name"], frame["viewing"])
        for frame in frames
        if frame["type"] == "presence"
    ]


def test_colleagues_see_who_is_viewing_and_typing(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox = make_inbox(db)
    anna = make_user(db, name="Anna", inboxes=[inbox])
    maria = make_user(db, name="Maria", inboxes=[inbox])
    conversation = make_conversation(db, inbox)
    db.commit()
    token, _ = do_create_api_token(db, maria, name="test", now=clock())
    login(client, anna.email)
    subscribe = {"type": "subscribe", "conversation_id": conversation.id}
    with client.websocket_connect("/api/v1/ws", headers=AGENT_ORIGIN) as anna_ws:
        assert receive(anna_ws)["type"] == "hello"
        anna_ws.send_json(subscribe)
        assert _presence(drain(anna_ws)) == []  # nobody else there; never herself
        with client.websocket_connect(
            "/api/v1/ws", headers={"Authorization": f"Bearer {token}"}
        ) as maria_ws:
            assert receive(maria_ws)["type"] == "hello"
            maria_ws.send_json(subscribe)
            assert _presence(drain(maria_ws)) == []  # subscribed (the snapshot came)
            # Anna hears Maria arrive; Maria learns that Anna is already there.
            assert _presence(drain(anna_ws)) == [(maria.id, "Maria", True)]
            assert _presence(drain(maria_ws)) == [(anna.id, "Anna", True)]

            maria_ws.send_json(
                {"type": "typing", "conversation_id": conversation.id, "active": True}
            )
            drain(maria_ws)
            typing = [frame for frame in drain(anna_ws) if frame["type"] == "typing"]
            assert typing == [
                {
                    "type": "typing",
                    "conversation_id": conversation.id,
                    "who": "agent",
                    "name": "Maria",
                    "user_id": maria.id,
                    "active": True,
                }
            ]
            maria_ws.send_json({"type": "unsubscribe", "conversation_id": conversation.id})
            drain(maria_ws)
            assert _presence(drain(anna_ws)) == [(maria.id, "Maria", False)]
            maria_ws.send_json(subscribe)
            drain(maria_ws)
            assert _presence(drain(anna_ws)) == [(maria.id, "Maria", True)]
        # Maria closed her connection: she is no longer viewing (the server notices
        # the close on its own time, so wait for the frame).
        assert _presence(receive_until(anna_ws, "presence")) == [(maria.id, "Maria", False)]
