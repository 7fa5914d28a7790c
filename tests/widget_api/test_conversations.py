"""The visitor's chat over HTTP: config, starting and listing conversations,
messages, history without internal notes, CSAT, transcript, offline tickets."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Conversation, Message, OutboxItem
from tests.factories import make_inbox, make_user
from tests.support import FrozenClock, login
from tests.widget_api.support import (
    client_id,
    fresh_session,
    headers,
    history,
    make_chat_inbox,
    open_session,
    send,
    start_conversation,
    widget_url,
)


def test_config_tells_the_widget_its_texts_topics_limits_and_availability(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(
        db,
        greeting={"en": "Hello!", "pl": "Cześć!"},
        offline_message="Back at 9.",
        topics=[
            {"label": {"en": "Billing", "pl": "Płatności"}, "category": "billing"},
            {"label": "Other", "category": "general"},
            {"label": "Broken", "category": "NOT A CATEGORY!"},
        ],
        attachments={"max_bytes": 1000, "allowed_types": ["image/png", "application/x-evil"]},
        require_email=True,
    )
    agent = make_user(db, inboxes=[inbox], status="offline")
    db.commit()
    config = client.get(widget_url(inbox, "config"), headers=headers()).json()
    assert config["online"] is False
    assert config["greeting"]["en"] == "Hello!" and config["greeting"]["pl"] == "Cześć!"
    assert config["greeting"]["el"] == "Hello!"  # falls back to the configured English
    assert set(config["offline_message"].values()) == {"Back at 9."}
    assert config["topics"] == [
        {
            "label": {"en": "Billing", "pl": "Płatności", "it": "Billing", "el": "Billing"},
            "category": "billing",
        },
        {"label": dict.fromkeys(("en", "pl", "it", "el"), "Other"), "category": "general"},
    ]
    assert config["attachments"] == {"max_bytes": 1000, "allowed_types": ["image/png"]}
    assert config["prechat"] == {"name": {"required": True}, "email": {"required": True}}
    assert "secret" not in str(config)

    agent.status = "online"
    db.commit()
    assert client.get(widget_url(inbox, "config"), headers=headers()).json()["online"] is True


def test_outside_business_hours_the_widget_is_offline(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    # The frozen clock starts on Monday 2026-03-02 at 09:00 UTC.
    inbox = make_chat_inbox(
        db,
        business_hours={"time_zone": "UTC", "weekly_hours": {"mon": [["10:00", "18:00"]]}},
    )
    make_user(db, inboxes=[inbox], status="online")
    db.commit()
    assert client.get(widget_url(inbox, "config"), headers=headers()).json()["online"] is False
    clock.advance(hours=2)
    assert client.get(widget_url(inbox, "config"), headers=headers()).json()["online"] is True


def test_unknown_archived_or_non_chat_inboxes_are_not_found(
    client: TestClient, db: Session
) -> None:
    archived = make_chat_inbox(db)
    archived.is_active = False
    email_inbox = make_inbox(db, channel="email")
    db.commit()
    for url in (
        "/api/v1/widget/no-such-key/config",
        widget_url(archived, "config"),
        widget_url(email_inbox, "config"),
    ):
        response = client.get(url, headers=headers())
        assert response.status_code == 404, url


def test_a_visitor_starts_a_chat_that_waits_in_the_queue(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db, topics=[{"label": "Billing", "category": "billing"}])
    db.commit()
    first_token = open_session(client, inbox, name="First")
    client.post(
        widget_url(inbox, "conversations"),
        json={
            "message": "A question about my invoice",
            "client_message_id": "first",
            "topic_category": "billing",
        },
        headers=headers(first_token),
    )
    token = open_session(client, inbox)
    response = client.post(
        widget_url(inbox, "conversations"),
        json={
            "message": "Another question\nabout my invoice",
            "client_message_id": "start-1",
            "topic_category": "billing",
        },
        headers=headers(token),
    )
    assert response.status_code == 201, response.text
    conversation = response.json()
    assert conversation["status"] == "open"
    assert conversation["category"] == "billing"
    assert conversation["queue"]["position"] == 2
    assert conversation["assignee_name"] is None
    # A retry (the answer was lost) finds the same conversation.
    retry = client.post(
        widget_url(inbox, "conversations"),
        json={"message": "Another question\nabout my invoice", "client_message_id": "start-1"},
        headers=headers(token),
    )
    assert retry.status_code == 200
    assert retry.json()["id"] == conversation["id"]
    db.expire_all()
    stored = db.get(Conversation, conversation["id"])
    assert stored is not None
    assert stored.channel == "chat" and stored.subject == "Another question"
    assert stored.waiting_since is not None


def test_topics_and_prechat_fields_are_enforced(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(
        db, topics=[{"label": "Billing", "category": "billing"}], require_email=True
    )
    db.commit()
    nameless = client.post(widget_url(inbox, "sessions"), json={}, headers=headers()).json()
    refused = client.post(
        widget_url(inbox, "conversations"),
        json={"message": "hi", "client_message_id": client_id()},
        headers=headers(nameless["visitor_token"]),
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["field"] == "name"
    token = open_session(client, inbox, name="Mia", email="mia@shop.example")
    wrong_topic = client.post(
        widget_url(inbox, "conversations"),
        json={"message": "hi", "client_message_id": client_id(), "topic_category": "sales"},
        headers=headers(token),
    )
    assert wrong_topic.status_code == 422
    db.expire_all()
    assert db.scalar(select(func.count(Conversation.id))) == 0


def test_the_visitor_lists_only_their_own_conversations_newest_first(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    other = open_session(client, inbox, name="Someone else")
    older = start_conversation(client, inbox, token, "first")
    clock.advance(minutes=5)
    newer = start_conversation(client, inbox, token, "second")
    start_conversation(client, inbox, other, "not mine")
    listed = client.get(widget_url(inbox, "conversations"), headers=headers(token)).json()
    assert [row["id"] for row in listed["data"]] == [newer["id"], older["id"]]
    assert listed["count"] == 2


def test_messages_are_idempotent_on_the_client_id(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    conversation = start_conversation(client, inbox, token)
    url = widget_url(inbox, f"conversations/{conversation['id']}/messages")
    payload = {"body": "Order 1234", "client_message_id": "m-1"}
    first = client.post(url, json=payload, headers=headers(token))
    again = client.post(url, json=payload, headers=headers(token))
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["message"]["client_message_id"] == "m-1"
    assert first.json()["message"]["author"] == "contact"
    db.expire_all()
    count = db.scalar(
        select(func.count(Message.id)).where(Message.conversation_id == conversation["id"])
    )
    assert count == 2


def test_bad_messages_are_refused_and_nothing_is_stored(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    conversation = start_conversation(client, inbox, token)
    url = widget_url(inbox, f"conversations/{conversation['id']}/messages")
    too_long = client.post(
        url, json={"body": "x" * 20_001, "client_message_id": "m-1"}, headers=headers(token)
    )
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"]["max_chars"] == 20_000
    for payload in (
        {"body": "   ", "client_message_id": "m-2"},
        {"body": "hi"},
        {"body": "hi", "client_message_id": ""},
        {"body": "hi", "client_message_id": "x" * 65},
        {"body": "nul \x00 here", "client_message_id": "m-3"},
        {"body": "hi", "client_message_id": "m-4", "kind": "note"},
    ):
        response = client.post(url, json=payload, headers=headers(token))
        assert response.status_code == 422, payload
    db.expire_all()
    count = db.scalar(
        select(func.count(Message.id)).where(Message.conversation_id == conversation["id"])
    )
    assert count == 1


def test_history_never_shows_internal_notes_or_internal_changes(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, inboxes=[inbox], role="supervisor", name="Anna")
    db.commit()
    token = open_session(client, inbox)
    conversation = start_conversation(client, inbox, token, "Hi")
    cid = conversation["id"]
    login(client, agent.email)
    api = f"/api/v1/conversations/{cid}"
    assert client.post(f"{api}/assign", json={"assignee_id": agent.id}).status_code == 200
    client.post(f"{api}/messages", json={"body": "Customer seems angry", "kind": "note"})
    client.put(f"{api}/tags", json={"tags": ["vip-complaint"]})
    client.patch(api, json={"priority": "urgent"})
    client.post(f"{api}/messages", json={"body": "Hello, I am Anna", "kind": "reply"})
    client.post(f"{api}/status", json={"status": "solved"})
    page = history(client, inbox, token, cid)
    events = [frame["event"] for frame in page["events"]]
    assert [event["type"] for event in events] == [
        "conversation.updated",
        "message.created",
        "conversation.updated",
        "message.created",
        "conversation.updated",
    ]
    assert events[2] == {
        "type": "conversation.updated",
        "change": "assigned",
        "assignee_name": "Anna",
        "created_at": events[2]["created_at"],
    }
    assert events[3]["message"]["body"] == "Hello, I am Anna"
    assert events[3]["message"]["author"] == "agent"
    assert events[4]["status"] == "solved"
    text = str(page)
    for secret in ("angry", "vip-complaint", "urgent", "note"):
        assert secret not in text
    seqs = [frame["seq"] for frame in page["events"]]
    assert seqs == sorted(seqs) and page["last_seq"] == seqs[-1]
    assert len(seqs) < seqs[-1]  # internal entries are skipped, not renumbered
    # Resuming after the reply gives exactly what came later.
    later = history(client, inbox, token, cid, after=seqs[3])
    assert [frame["seq"] for frame in later["events"]] == [seqs[4]]


def test_a_message_to_a_solved_chat_reopens_it_and_a_closed_chat_refuses(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, inboxes=[inbox], role="admin")
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token)["id"]
    login(client, agent.email)
    client.post(f"/api/v1/conversations/{cid}/status", json={"status": "solved"})
    assert send(client, inbox, token, cid, "one more thing").status_code == 201
    page = history(client, inbox, token, cid)
    assert page["events"][-2]["event"] == {
        "type": "conversation.updated",
        "change": "reopened",
        "status": "open",
        "created_at": page["events"][-2]["event"]["created_at"],
    }
    client.post(f"/api/v1/conversations/{cid}/status", json={"status": "solved"})
    client.post(f"/api/v1/conversations/{cid}/status", json={"status": "closed"})
    closed = send(client, inbox, token, cid, "hello?")
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "conversation_closed"


def test_csat_is_stored_on_the_conversation(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token)["id"]
    url = widget_url(inbox, f"conversations/{cid}/csat")
    assert client.post(url, json={"score": 6}, headers=headers(token)).status_code == 422
    response = client.post(
        url, json={"score": 4, "comment": " Quick   and kind "}, headers=headers(token)
    )
    assert response.status_code == 200, response.text
    assert response.json()["csat"] == {"score": 4, "comment": "Quick and kind", "nps": None}
    db.expire_all()
    stored = db.get(Conversation, cid)
    assert stored is not None and stored.csat_score == 4 and stored.csat_comment == "Quick and kind"
    db.commit()

    # With the NPS question: 0 to 10, kept when a later rating leaves it out.
    bad = client.post(url, json={"score": 5, "nps_score": 11}, headers=headers(token))
    assert bad.status_code == 422
    answered = client.post(url, json={"score": 5, "nps_score": 9}, headers=headers(token))
    assert answered.json()["csat"] == {"score": 5, "comment": None, "nps": 9}
    again = client.post(url, json={"score": 3}, headers=headers(token))
    assert again.json()["csat"]["nps"] == 9
    with fresh_session(db) as check:
        rated = check.get(Conversation, cid)
        assert rated is not None and (rated.csat_score, rated.nps_score) == (3, 9)


def test_the_config_says_whether_to_ask_the_nps_question(client: TestClient, db: Session) -> None:
    asking = make_chat_inbox(db, ask_nps=True)
    plain = make_chat_inbox(db)
    db.commit()
    assert client.get(widget_url(asking, "config"), headers=headers()).json()["nps"] is True
    assert client.get(widget_url(plain, "config"), headers=headers()).json()["nps"] is False


def test_a_transcript_is_emailed_through_the_outbox(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, inboxes=[inbox], role="admin", name="Anna")
    db.commit()
    token = open_session(client, inbox, name="Mia", email="mia@shop.example")
    cid = start_conversation(client, inbox, token, "Where is my parcel?")["id"]
    login(client, agent.email)
    client.post(f"/api/v1/conversations/{cid}/messages", json={"body": "Internal", "kind": "note"})
    client.post(
        f"/api/v1/conversations/{cid}/messages", json={"body": "On its way!", "kind": "reply"}
    )
    url = widget_url(inbox, f"conversations/{cid}/transcript")
    response = client.post(url, json={}, headers=headers(token))
    assert response.status_code == 202
    assert response.json() == {"queued": True, "to": "mia@shop.example"}
    db.expire_all()
    item = db.scalar(select(OutboxItem).where(OutboxItem.kind == "email"))
    assert item is not None
    assert item.payload["to"] == "mia@shop.example"
    text = item.payload["text"]
    assert "Where is my parcel?" in text and "On its way!" in text and "Anna" in text
    assert "Internal" not in text


def test_the_offline_form_creates_an_email_ticket(client: TestClient, db: Session) -> None:
    email_inbox = make_inbox(db, channel="email", email_address="help@shop.example")
    linked = make_chat_inbox(db, offline_inbox_id=email_inbox.id, expected_reply={"pl": "Jutro."})
    plain = make_chat_inbox(db)
    db.commit()
    response = client.post(
        widget_url(linked, "offline"),
        json={
            "name": "Mia",
            "email": "Mia@Shop.Example",
            "message": "Call me back",
            "locale": "pl",
        },
        headers=headers(),
    )
    assert response.status_code == 201, response.text
    assert response.json()["expected_reply"] == "Jutro."
    second = client.post(
        widget_url(plain, "offline"),
        json={"name": "Ola", "email": "ola@shop.example", "message": "Refund?"},
        headers=headers(),
    )
    assert second.status_code == 201
    assert second.json()["expected_reply"] == "We usually answer within one business day."
    italian = client.post(
        widget_url(plain, "offline"),
        json={"email": "gio@shop.example", "message": "Rimborso?", "locale": "it"},
        headers=headers(),
    )
    assert italian.json()["expected_reply"] == "Di solito rispondiamo entro un giorno lavorativo."
    with fresh_session(db) as check:
        tickets = {ticket.subject: ticket for ticket in check.scalars(select(Conversation))}
        assert tickets["Call me back"].inbox_id == email_inbox.id
        assert tickets["Call me back"].channel == "email"
        assert tickets["Refund?"].inbox_id == plain.id
        assert tickets["Refund?"].channel == "email"
        # The widget's language is the ticket's until the customer's words say otherwise.
        assert tickets["Rimborso?"].language == "it"
        assert tickets["Refund?"].language is None
    bad = client.post(
        widget_url(plain, "offline"),
        json={"name": "X", "email": "not-an-email", "message": "hi"},
        headers=headers(),
    )
    assert bad.status_code == 422
