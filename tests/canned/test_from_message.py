"""Saving a sent reply as a canned response."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.services.conversations import do_add_note, do_add_reply
from helpline.services.viewer import load_viewer
from tests.canned.support import as_user, make_desk
from tests.factories import make_contact, make_conversation
from tests.support import FrozenClock


def test_a_sent_reply_becomes_a_template(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = make_desk(db)
    posted = do_add_reply(
        db,
        load_viewer(db, desk.ada),
        desk.conversation.id,
        body=f"Hi Sarah, order 1245 (ticket #{desk.conversation.number}) left our warehouse. Ada",
        now=clock(),
    )
    as_user(client, desk.ada)

    saved = client.post(
        f"/api/v1/canned/from-message/{posted.id}",
        json={"shortcut": "/shipped", "title": "Order shipped"},
    )

    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert body["body"] == (
        'Hi {{ contact.first_name | default("there") }}, order {{ contact.custom.order_number }} '
        "(ticket #{{ conversation.number }}) left our warehouse. {{ agent.first_name }}"
    )
    assert body["scope"] == "personal"
    assert body["tags"]["topic"] == ["orders"]
    assert {row["text"] for row in body["replaced"]} == {
        "Sarah",
        "1245",
        f"#{desk.conversation.number}",
        "Ada",
    }

    # The next customer gets their own details.
    other = make_contact(db, name="Tom Baker", custom_attributes={"order_number": "A-77"})
    conversation = make_conversation(db, desk.inbox, other, team_id=desk.team.id)
    db.commit()
    as_user(client, desk.bob)
    as_user(client, desk.ada)
    preview = client.post(
        f"/api/v1/canned/{body['id']}/preview", json={"conversation_id": conversation.id}
    ).json()
    assert preview["text"] == (
        f"Hi Tom, order A-77 (ticket #{conversation.number}) left our warehouse. Ada"
    )


def test_only_visible_agent_replies_can_be_saved(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = make_desk(db)
    note = do_add_note(
        db, load_viewer(db, desk.ada), desk.conversation.id, body="Internal", now=clock()
    )
    reply = do_add_reply(
        db, load_viewer(db, desk.ada), desk.conversation.id, body="Hello", now=clock()
    )
    as_user(client, desk.ada)
    refused = client.post(f"/api/v1/canned/from-message/{note.id}", json={"shortcut": "n"})
    assert refused.status_code == 422
    as_user(client, desk.carol)
    hidden = client.post(f"/api/v1/canned/from-message/{reply.id}", json={"shortcut": "r"})
    assert hidden.status_code == 404
