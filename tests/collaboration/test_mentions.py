"""@mentions in internal notes: the named colleague gets a notification row and a
live event, lists and reads it; colleagues who cannot see the conversation, the
author and replies to the customer notify nobody."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Notification
from helpline.services.api_tokens import do_create_api_token
from helpline.services.conversations import do_add_note, do_add_reply
from helpline.services.events import LiveEvent, install_publisher
from helpline.services.viewer import load_viewer
from tests.api.test_conversations import API, build_world, count_rows
from tests.factories import make_conversation
from tests.support import FrozenClock, login
from tests.widget_api.support import receive, receive_until, receive_until_ack


def test_a_note_mentioning_a_colleague_notifies_only_them(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    conversation = make_conversation(
        db, world.chat, world.contact, team_id=world.team_a.id, subject="Double charge"
    )
    db.commit()
    heard: list[LiveEvent] = []
    install_publisher(db, heard.append)

    # Abe is in team A; Ben cannot see the conversation; Ana wrote the note.
    do_add_note(
        db,
        load_viewer(db, world.agent_a),
        conversation.id,
        body="@abe can you check the refund? Also @ben and @ana.",
        now=clock(),
    )
    notices = [event for event in heard if event.type == "notification.created"]
    assert [event.user_ids for event in notices] == [frozenset({world.agent_a2.id})]
    assert notices[0].conversation_id is None  # reaches Abe whatever he has open
    data = notices[0].payload["notification"]["data"]
    assert data["actor_name"] == "Ana"
    assert data["conversation_number"] == conversation.number
    assert data["excerpt"].startswith("@abe can you check")
    assert count_rows(db, Notification) == 1

    # A reply to the customer is not a note: mentions there notify nobody.
    do_add_reply(db, load_viewer(db, world.agent_a), conversation.id, body="@abe", now=clock())
    assert count_rows(db, Notification) == 1

    login(client, world.agent_a2.email)
    listed = client.get(f"{API}/notifications").json()
    assert listed["unread"] == 1 and listed["count"] == 1
    [notification] = listed["data"]
    assert notification["conversation_id"] == conversation.id
    assert notification["read_at"] is None
    read = client.post(f"{API}/notifications/read", json={"ids": [notification["id"]]})
    assert read.json() == {"changed": 1}
    assert client.get(f"{API}/notifications", params={"unread": True}).json()["data"] == []
    assert client.get(f"{API}/notifications").json()["data"][0]["read_at"] is not None

    # Nobody else can read or mark Abe's notifications.
    login(client, world.agent_b.email)
    assert client.get(f"{API}/notifications").json()["count"] == 0
    assert client.post(f"{API}/notifications/read", json={}).json() == {"changed": 0}


def test_notifications_about_conversations_out_of_sight_are_hidden(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    conversation = make_conversation(db, world.chat, world.contact, team_id=world.team_a.id)
    db.commit()
    do_add_note(
        db, load_viewer(db, world.supervisor), conversation.id, body="ping @abe", now=clock()
    )
    login(client, world.agent_a2.email)
    assert client.get(f"{API}/notifications").json()["unread"] == 1
    # Transferred to team B: Abe no longer sees it, nor the note's excerpt.
    login(client, world.admin.email)
    moved = client.post(
        f"{API}/conversations/{conversation.id}/transfer", json={"to_team_id": world.team_b.id}
    )
    assert moved.status_code == 200, moved.text
    login(client, world.agent_a2.email)
    assert client.get(f"{API}/notifications").json() == {"data": [], "count": 0, "unread": 0}


def test_a_note_sent_over_the_websocket_notifies_the_colleague_live(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    conversation = make_conversation(db, world.chat, world.contact, team_id=world.team_a.id)
    db.commit()
    token, _ = do_create_api_token(db, world.agent_a2, name="test", now=clock())
    login(client, world.agent_a.email)
    with (
        client.websocket_connect("/api/v1/ws", headers={"Origin": "http://testserver"}) as ana,
        client.websocket_connect("/api/v1/ws", headers={"Authorization": f"Bearer {token}"}) as abe,
    ):
        assert receive(ana)["type"] == "hello" and receive(abe)["type"] == "hello"
        ana.send_json(
            {
                "type": "message",
                "conversation_id": conversation.id,
                "kind": "note",
                "body": "@abe could you look at this one?",
                "client_message_id": "n-1",
            }
        )
        assert receive_until_ack(ana)[1]["client_message_id"] == "n-1"
        frames = receive_until(abe, "event")
        while frames[-1]["event"]["type"] != "notification.created":
            frames = receive_until(abe, "event")
        notification = frames[-1]["event"]["notification"]
        assert notification["conversation_id"] == conversation.id
        assert notification["data"]["actor_name"] == "Ana"
    assert count_rows(db, Notification) == 1
