"""Resume: a reconnecting client gets exactly the entries it missed, once and in
order, then live ones; races between the snapshot and live events, events the
bus delivers out of order or loses, and cursors that cannot be served."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.domain.access import Viewer
from helpline.domain.enums import MessageKind, Role
from helpline.services.conversations import do_post_agent_message
from helpline.services.events import LiveEvent, install_publisher
from helpline.settings import Settings
from helpline.web.realtime import visitor as visitor_module
from tests.factories import make_user
from tests.support import FrozenClock, login
from tests.widget_api.support import (
    drain,
    events_of,
    history,
    make_chat_inbox,
    open_session,
    receive,
    start_conversation,
    visitor_socket,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"realtime_resume_max_events": 20})


def _subscribe(ws: Any, conversation_id: int, after_seq: int) -> list[dict[str, Any]]:
    ws.send_json({"type": "subscribe", "conversation_id": conversation_id, "after_seq": after_seq})
    return drain(ws)


def _seqs(frames: list[dict[str, Any]]) -> list[int]:
    return [frame["seq"] for frame in events_of(frames)]


def _bodies(frames: list[dict[str, Any]]) -> list[str]:
    return [
        frame["event"]["message"]["body"]
        for frame in events_of(frames)
        if frame["event"]["type"] == "message.created"
    ]


def test_a_reconnecting_visitor_gets_what_they_missed_once_and_in_order(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, inboxes=[inbox], role="supervisor", name="Anna")
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token, "Hello?")["id"]
    login(client, agent.email)
    with visitor_socket(client, inbox, token) as ws:
        receive(ws)
        first = _subscribe(ws, cid, 0)
    cursor = _seqs(first)[-1]

    # While the visitor is away (page reload, train tunnel) the agent works.
    api = f"/api/v1/conversations/{cid}"
    client.post(f"{api}/assign", json={"assignee_id": agent.id})
    for number in range(1, 4):
        client.post(f"{api}/messages", json={"body": f"reply {number}", "kind": "reply"})
    client.post(f"{api}/messages", json={"body": "internal", "kind": "note"})
    client.post(f"{api}/status", json={"status": "pending"})
    client.post(f"{api}/messages", json={"body": "reply 4", "kind": "reply"})

    with visitor_socket(client, inbox, token) as ws:
        receive(ws)
        missed = _subscribe(ws, cid, cursor)
        expected = history(client, inbox, token, cid, after=cursor)["events"]
        assert events_of(missed) == expected
        assert _bodies(missed) == ["reply 1", "reply 2", "reply 3", "reply 4"]
        changes = [frame["event"].get("change") for frame in events_of(missed)]
        assert changes.count("assigned") == 1 and changes.count("status_changed") == 1
        seqs = _seqs(missed)
        assert seqs == sorted(set(seqs)) and seqs[0] > cursor
        # Then live, each once.
        client.post(f"{api}/messages", json={"body": "reply 5", "kind": "reply"})
        live = drain(ws)
        assert _bodies(live) == ["reply 5"] and _seqs(live)[0] > seqs[-1]
        # Subscribing again from the newest cursor repeats nothing.
        assert events_of(_subscribe(ws, cid, _seqs(live)[-1])) == []


def _agent_viewer(agent_id: int) -> Viewer:
    return Viewer(user_id=agent_id, role=Role.ADMIN, team_ids=frozenset(), inbox_ids=frozenset())


def _post_reply(app: FastAPI, agent_id: int, cid: int, body: str, clock: FrozenClock) -> None:
    with app.state.session_factory() as db:
        install_publisher(db, app.state.publish)
        do_post_agent_message(
            db, _agent_viewer(agent_id), cid, body=body, kind=MessageKind.REPLY, now=clock()
        )


def test_messages_committed_around_the_snapshot_are_delivered_once(
    client: TestClient,
    db: Session,
    app: FastAPI,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, role="admin")
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token, "Hello?")["id"]
    real_snapshot = visitor_module.visitor_snapshot

    def racing_snapshot(session: Session, *args: Any, **kwargs: Any) -> Any:
        # Committed after the subscription was registered and before the
        # snapshot is read: its live event is queued AND it is in the snapshot.
        _post_reply(app, agent.id, cid, "before the snapshot", clock)
        snapshot = real_snapshot(session, *args, **kwargs)
        # Committed after the snapshot was read: only its live event carries it.
        _post_reply(app, agent.id, cid, "after the snapshot", clock)
        return snapshot

    monkeypatch.setattr(visitor_module, "visitor_snapshot", racing_snapshot)
    with visitor_socket(client, inbox, token) as ws:
        receive(ws)
        # The second message's event was queued behind the first ping's pong.
        frames = _subscribe(ws, cid, 0) + drain(ws)
    assert _bodies(frames) == ["Hello?", "before the snapshot", "after the snapshot"]
    seqs = _seqs(frames)
    assert seqs == sorted(set(seqs))


@pytest.fixture
def held_events(app: FastAPI) -> Iterator[list[LiveEvent]]:
    """Live events of API calls are held here instead of being published, so a
    test can publish them as a broken bus would: late, out of order, or never."""
    held: list[LiveEvent] = []
    real = app.state.publish
    app.state.publish = held.append
    yield held
    app.state.publish = real


def test_events_published_out_of_order_arrive_in_order(
    client: TestClient, db: Session, app: FastAPI, held_events: list[LiveEvent]
) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, role="admin")
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token, "Hello?")["id"]
    login(client, agent.email)
    with visitor_socket(client, inbox, token) as ws:
        receive(ws)
        cursor = _seqs(_subscribe(ws, cid, 0))[-1]
        held_events.clear()
        for body in ("one", "two", "three"):
            client.post(
                f"/api/v1/conversations/{cid}/messages", json={"body": body, "kind": "reply"}
            )
        one, two, three = held_events
        for event in (three, one, two):  # e.g. two processes racing to Redis
            app.state.bus.publish(event)
        frames = drain(ws)
        assert _bodies(frames) == ["one", "two", "three"]
        assert _seqs(frames) == sorted(set(_seqs(frames))) and _seqs(frames)[0] > cursor


def test_a_lost_event_is_filled_in_from_the_database(
    client: TestClient, db: Session, app: FastAPI, held_events: list[LiveEvent]
) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, role="admin")
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token, "Hello?")["id"]
    login(client, agent.email)
    with visitor_socket(client, inbox, token) as ws:
        receive(ws)
        _subscribe(ws, cid, 0)
        held_events.clear()
        client.post(f"/api/v1/conversations/{cid}/messages", json={"body": "lost", "kind": "reply"})
        client.post(
            f"/api/v1/conversations/{cid}/messages", json={"body": "found", "kind": "reply"}
        )
        app.state.bus.publish(held_events[1])  # the first one never arrives
        assert _bodies(drain(ws)) == ["lost", "found"]


def test_an_unusable_cursor_gets_an_explicit_resync(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, role="admin")
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token, "Hello?")["id"]
    login(client, agent.email)
    for number in range(25):
        client.post(
            f"/api/v1/conversations/{cid}/messages", json={"body": f"r{number}", "kind": "reply"}
        )
    last_seq = history(client, inbox, token, cid)["last_seq"]
    with visitor_socket(client, inbox, token) as ws:
        receive(ws)
        for cursor in (last_seq + 5, 0):  # from the future; too far behind (limit 20)
            answer = _subscribe(ws, cid, cursor)
            assert answer == [{"type": "resync", "conversation_id": cid, "last_seq": last_seq}]
        # Not subscribed after a resync: nothing arrives until subscribing again.
        client.post(f"/api/v1/conversations/{cid}/messages", json={"body": "new", "kind": "reply"})
        assert drain(ws) == []
        assert _bodies(_subscribe(ws, cid, last_seq)) == ["new"]


def test_an_agent_resumes_a_conversation_including_notes(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, inboxes=[inbox], role="supervisor")
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token, "Hello?")["id"]
    login(client, agent.email)
    api = f"/api/v1/conversations/{cid}/messages"
    client.post(api, json={"body": "seen live", "kind": "reply"})
    cursor = history(client, inbox, token, cid)["last_seq"]
    client.post(api, json={"body": "a note", "kind": "note"})
    client.post(api, json={"body": "a reply", "kind": "reply"})
    with client.websocket_connect("/api/v1/ws", headers={"Origin": "http://testserver"}) as ws:
        receive(ws)
        missed = _subscribe(ws, cid, cursor)
        assert [frame["event"]["message"]["body"] for frame in missed] == ["a note", "a reply"]
        assert missed[0]["event"]["message"]["kind"] == "note"
        assert missed[0]["event"]["conversation"]["id"] == cid
        client.post(api, json={"body": "live", "kind": "reply"})
        live = drain(ws)
        assert [frame["event"]["message"]["body"] for frame in live] == ["live"]
