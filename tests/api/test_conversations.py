"""Conversation API scenarios an agent lives through: create, reply, note, status,
history, reopening, idempotent sends, assignment, transfer, tags, email replies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import (
    Activity,
    Contact,
    Conversation,
    Inbox,
    Message,
    OutboxItem,
    Team,
    User,
)
from helpline.services.events import LiveEvent
from tests.factories import make_contact, make_inbox, make_team, make_user
from tests.support import FrozenClock, login

API = "/api/v1"


@dataclass
class World:
    """A small support organisation: two teams, a chat and an email inbox."""

    team_a: Team
    team_b: Team
    chat: Inbox
    mail: Inbox
    agent_a: User
    """Team A, member of the chat inbox."""
    agent_a2: User
    """Team A, no inboxes."""
    agent_b: User
    """Team B, member of the email inbox."""
    supervisor: User
    """Team A, member of the chat inbox."""
    admin: User
    contact: Contact


def build_world(db: Session) -> World:
    team_a = make_team(db, "Billing")
    team_b = make_team(db, "Technical")
    chat = make_inbox(db, "Website chat", channel="chat")
    mail = make_inbox(db, "Support email", channel="email", email_address="help@shop.example")
    world = World(
        team_a=team_a,
        team_b=team_b,
        chat=chat,
        mail=mail,
        agent_a=make_user(db, "ana@example.test", name="Ana", teams=[team_a], inboxes=[chat]),
        agent_a2=make_user(db, "abe@example.test", name="Abe", teams=[team_a]),
        agent_b=make_user(db, "ben@example.test", name="Ben", teams=[team_b], inboxes=[mail]),
        supervisor=make_user(
            db, "sue@example.test", name="Sue", role="supervisor", teams=[team_a], inboxes=[chat]
        ),
        admin=make_user(db, "ada@example.test", name="Ada", role="admin"),
        contact=make_contact(db, "carla@customer.example", name="Carla", plan="paid"),
    )
    db.commit()
    return world


def count_rows(db: Session, model: type[Any], *conditions: Any) -> int:
    """Count, then end the read transaction: on SQLite an open transaction holds the
    write lock the app needs (commit, not rollback, keeps loaded objects usable)."""
    value = db.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    db.commit()
    return value


def create_conversation(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post(f"{API}/conversations", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def post_message(
    client: TestClient, conversation_id: int, body: str, kind: str = "reply", **extra: Any
) -> dict[str, Any]:
    response = client.post(
        f"{API}/conversations/{conversation_id}/messages",
        json={"body": body, "kind": kind, **extra},
    )
    assert response.status_code == 201, response.text
    message: dict[str, Any] = response.json()
    return message


def history(client: TestClient, conversation_id: int, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}/conversations/{conversation_id}/history", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_create_reply_note_solve_then_read_the_history_in_order(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(
        client,
        inbox_id=world.chat.id,
        contact_id=world.contact.id,
        subject="  Refund   for order 1234 ",
        first_message="Hi, I was charged twice.",
        priority="high",
        category="billing",
        tags=["Refund", "refund", " VIP "],
    )
    assert created["number"] == 1
    assert created["subject"] == "Refund for order 1234"
    assert created["status"] == "open"
    assert created["priority"] == "high"
    assert created["category"] == "billing"
    assert created["tags"] == ["refund", "vip"]
    assert created["channel"] == "chat"
    assert created["contact"] == {
        "id": world.contact.id,
        "name": "Carla",
        "email": "carla@customer.example",
        "plan": "paid",
    }
    assert created["assignee"] is None
    assert created["waiting_since"].startswith("2026-03-02T09:00")
    assert created["first_response_at"] is None
    assert created["last_seq"] == 2  # the "created" activity, then the customer's message
    conversation_id = created["id"]

    clock.advance(minutes=3)
    reply = post_message(client, conversation_id, "  Sorry about that, Carla!  ")
    assert reply["body"] == "Sorry about that, Carla!"
    assert reply["author_type"] == "agent"
    assert reply["author_name"] == "Ana"
    assert reply["seq"] == 3

    clock.advance(minutes=1)
    post_message(client, conversation_id, "Refund approved by finance", kind="note")
    clock.advance(minutes=1)
    solved = client.post(f"{API}/conversations/{conversation_id}/status", json={"status": "solved"})
    assert solved.status_code == 200, solved.text
    assert solved.json()["status"] == "solved"
    assert solved.json()["solved_at"] is not None

    detail = client.get(f"{API}/conversations/{conversation_id}").json()
    assert detail["first_response_at"].startswith("2026-03-02T09:03")
    assert detail["waiting_since"] is None
    assert detail["last_seq"] == 5

    page = history(client, conversation_id)
    assert [(e["seq"], e["kind"]) for e in page["data"]] == [
        (1, "activity"),
        (2, "message"),
        (3, "message"),
        (4, "message"),
        (5, "activity"),
    ]
    entries = page["data"]
    assert entries[0]["activity"]["kind"] == "created"
    assert entries[1]["message"]["author_type"] == "contact"
    assert entries[1]["author_name"] == "Carla"
    assert entries[2]["message"]["kind"] == "reply"
    assert entries[3]["message"]["kind"] == "note"
    assert entries[4]["activity"]["kind"] == "status_changed"
    assert entries[4]["activity"]["data"]["from"] == "open"
    assert entries[4]["activity"]["data"]["to"] == "solved"
    assert entries[4]["author_name"] == "Ana"
    assert page["last_seq"] == 5
    assert page["next_after_seq"] is None

    resumed = history(client, conversation_id, after_seq=3, limit=1)
    assert [e["seq"] for e in resumed["data"]] == [4]
    assert resumed["next_after_seq"] == 4


def test_a_note_is_not_a_response_and_keeps_the_customer_waiting(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(
        client, inbox_id=world.chat.id, contact_id=world.contact.id, first_message="Hello?"
    )
    clock.advance(minutes=2)
    post_message(client, created["id"], "checking the order system", kind="note")
    detail = client.get(f"{API}/conversations/{created['id']}").json()
    assert detail["first_response_at"] is None
    assert detail["waiting_since"] == created["waiting_since"]


def test_first_response_time_is_set_once(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(
        client, inbox_id=world.chat.id, contact_id=world.contact.id, first_message="Hi"
    )
    clock.advance(minutes=5)
    post_message(client, created["id"], "Hello!")
    first = client.get(f"{API}/conversations/{created['id']}").json()["first_response_at"]

    clock.advance(minutes=5)
    relayed = client.post(
        f"{API}/conversations/{created['id']}/incoming", json={"body": "Are you there?"}
    )
    assert relayed.status_code == 201
    waiting = client.get(f"{API}/conversations/{created['id']}").json()
    assert waiting["waiting_since"].startswith("2026-03-02T09:10")

    clock.advance(minutes=5)
    post_message(client, created["id"], "Yes!")
    detail = client.get(f"{API}/conversations/{created['id']}").json()
    assert detail["first_response_at"] == first
    assert detail["waiting_since"] is None


def test_a_customer_message_reopens_a_solved_conversation(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    conversation_id = created["id"]
    client.post(f"{API}/conversations/{conversation_id}/status", json={"status": "solved"})

    clock.advance(hours=2)
    relayed = client.post(
        f"{API}/conversations/{conversation_id}/incoming", json={"body": "It broke again"}
    )
    assert relayed.status_code == 201, relayed.text
    assert relayed.json()["author_type"] == "contact"
    assert relayed.json()["author_name"] == "Carla"

    detail = client.get(f"{API}/conversations/{conversation_id}").json()
    assert detail["status"] == "open"
    assert detail["solved_at"] is None
    assert detail["waiting_since"].startswith("2026-03-02T11:00")
    kinds = [
        e["activity"]["kind"] for e in history(client, conversation_id)["data"] if e["activity"]
    ]
    assert kinds == ["created", "status_changed", "reopened"]
    reopened = history(client, conversation_id)["data"][-2]["activity"]
    assert reopened["data"] == {"from": "solved", "to": "open"}
    assert reopened["actor_type"] == "contact"


def test_pending_and_on_hold_reopen_on_a_customer_message(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    for status in ("pending", "on_hold"):
        created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
        client.post(f"{API}/conversations/{created['id']}/status", json={"status": status})
        client.post(f"{API}/conversations/{created['id']}/incoming", json={"body": "Any news?"})
        assert client.get(f"{API}/conversations/{created['id']}").json()["status"] == "open"


def test_a_closed_conversation_refuses_customer_messages_and_replies(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    conversation_id = created["id"]
    for status in ("solved", "closed"):
        response = client.post(
            f"{API}/conversations/{conversation_id}/status", json={"status": status}
        )
        assert response.status_code == 200, response.text
    before = count_rows(db, Message)

    incoming = client.post(f"{API}/conversations/{conversation_id}/incoming", json={"body": "Hi"})
    assert incoming.status_code == 409
    assert incoming.json()["error"]["code"] == "conversation_closed"
    reply = client.post(f"{API}/conversations/{conversation_id}/messages", json={"body": "Hi"})
    assert reply.status_code == 409
    reopen = client.post(f"{API}/conversations/{conversation_id}/status", json={"status": "open"})
    assert reopen.status_code == 409
    assert reopen.json()["error"]["code"] == "invalid_transition"
    assert count_rows(db, Message) == before


def test_the_same_client_message_id_stores_one_message(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    url = f"{API}/conversations/{created['id']}/messages"
    payload = {"body": "On my way", "client_message_id": "tab-1-msg-7"}

    first = client.post(url, json=payload)
    retry = client.post(url, json=payload)

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.json() == first.json()
    stored = count_rows(db, Message, Message.conversation_id == created["id"])
    assert stored == 1
    incoming_url = f"{API}/conversations/{created['id']}/incoming"
    relayed = {"body": "Thanks", "client_message_id": "widget-42"}
    assert client.post(incoming_url, json=relayed).status_code == 201
    assert client.post(incoming_url, json=relayed).status_code == 200


def test_a_conversation_for_a_new_customer_identifies_them_by_email(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(
        client,
        inbox_id=world.chat.id,
        contact={"email": "New.Person@Customer.Example", "name": "Nia"},
        subject="Hello",
    )
    assert created["contact"]["email"] == "new.person@customer.example"
    again = create_conversation(
        client, inbox_id=world.chat.id, contact={"email": "new.person@customer.example"}
    )
    assert again["contact"]["id"] == created["contact"]["id"]

    make_contact(db, "other@customer.example", external_id="shop-9")
    db.commit()
    conflict = client.post(
        f"{API}/conversations",
        json={
            "inbox_id": world.chat.id,
            "contact": {"email": "new.person@customer.example", "external_id": "shop-9"},
        },
    )
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "identity_conflict"


def test_an_agent_cannot_open_conversations_in_an_inbox_they_do_not_work(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    response = client.post(
        f"{API}/conversations", json={"inbox_id": world.mail.id, "contact_id": world.contact.id}
    )
    assert response.status_code == 403
    assert count_rows(db, Conversation) == 0


def test_an_email_reply_queues_one_email_to_the_customer(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_b.email)
    created = create_conversation(
        client,
        inbox_id=world.mail.id,
        contact_id=world.contact.id,
        subject="Where is my parcel?",
        first_message="It has been a week.",
    )
    reply = post_message(client, created["id"], "It left the warehouse today.")
    post_message(client, created["id"], "Carrier says Tuesday", kind="note")

    items = list(db.scalars(select(OutboxItem)))
    assert len(items) == 1
    email = items[0]
    assert email.kind == "email"
    assert email.dedupe_key == f"message:{reply['id']}"
    assert email.payload["to"] == "carla@customer.example"
    assert email.payload["subject"] == f"Re: [#{created['number']}] Where is my parcel?"
    assert email.payload["text"] == "It left the warehouse today."
    assert email.payload["reply_to"] == "help@shop.example"
    assert email.payload["headers"]["Message-ID"] == f"<message-{reply['id']}@shop.example>"


def test_a_chat_reply_sends_no_email(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    post_message(client, created["id"], "Hello")
    assert count_rows(db, OutboxItem) == 0


def test_agents_take_unassigned_conversations_and_supervisors_assign_anyone(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    url = f"{API}/conversations/{created['id']}/assign"

    taken = client.post(url, json={"assignee_id": world.agent_a.id})
    assert taken.status_code == 200, taken.text
    assert taken.json()["assignee"] == {"id": world.agent_a.id, "name": "Ana"}
    assert taken.json()["assigned_at"] is not None

    # An agent cannot hand the conversation to someone else...
    refused = client.post(url, json={"assignee_id": world.agent_a2.id})
    assert refused.status_code == 403
    # ...but may let go of it.
    released = client.post(url, json={"assignee_id": None})
    assert released.status_code == 200
    assert released.json()["assignee"] is None

    login(client, world.supervisor.email)
    assigned = client.post(url, json={"assignee_id": world.agent_a2.id})
    assert assigned.status_code == 200
    assert assigned.json()["assignee"]["name"] == "Abe"

    login(client, world.agent_a.email)
    assert client.post(url, json={"assignee_id": world.agent_a.id}).status_code == 403

    activities = [e["activity"] for e in history(client, created["id"])["data"] if e["activity"]]
    assert [(a["kind"], a["data"]["from"], a["data"]["to"]) for a in activities[1:]] == [
        ("assigned", None, world.agent_a.id),
        ("unassigned", world.agent_a.id, None),
        ("assigned", None, world.agent_a2.id),
    ]
    assert [a["actor_user_id"] for a in activities[1:]] == [
        world.agent_a.id,
        world.agent_a.id,
        world.supervisor.id,
    ]


def test_assigning_an_inactive_or_unknown_user_is_refused(client: TestClient, db: Session) -> None:
    world = build_world(db)
    gone = make_user(db, "gone@example.test", is_active=False, teams=[world.team_a])
    db.commit()
    login(client, world.supervisor.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    url = f"{API}/conversations/{created['id']}/assign"
    for assignee_id in (gone.id, 999_999):
        response = client.post(url, json={"assignee_id": assignee_id})
        assert response.status_code == 422
        assert response.json()["error"]["details"]["field"] == "assignee_id"


def test_transfer_to_a_team_sets_the_team_and_clears_the_assignee(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    client.post(
        f"{API}/conversations/{created['id']}/assign", json={"assignee_id": world.agent_a.id}
    )

    moved = client.post(
        f"{API}/conversations/{created['id']}/transfer",
        json={"to_team_id": world.team_b.id, "note": "Needs a developer"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["team"] == {"id": world.team_b.id, "name": "Technical"}
    assert moved.json()["assignee"] is None

    # Ana no longer sees it; Ben (team B) does, with the note in the history.
    assert client.get(f"{API}/conversations/{created['id']}").status_code == 404
    login(client, world.agent_b.email)
    transfer = history(client, created["id"])["data"][-1]["activity"]
    assert transfer["kind"] == "transferred"
    assert transfer["data"]["from_user_id"] == world.agent_a.id
    assert transfer["data"]["to_team_id"] == world.team_b.id
    assert transfer["data"]["from_team_id"] is None
    assert transfer["data"]["note"] == "Needs a developer"
    assert transfer["actor_user_id"] == world.agent_a.id


def test_transfer_to_an_agent_needs_an_active_member_of_the_inbox_or_team(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    outsider = make_user(db, "out@example.test")
    inactive = make_user(db, "old@example.test", is_active=False, inboxes=[world.chat])
    db.commit()
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    url = f"{API}/conversations/{created['id']}/transfer"

    for user in (outsider, inactive):
        refused = client.post(url, json={"to_user_id": user.id})
        assert refused.status_code == 422, refused.text
    # Abe is no inbox member but belongs to the target team.
    moved = client.post(url, json={"to_user_id": world.agent_a2.id, "to_team_id": world.team_a.id})
    assert moved.status_code == 200, moved.text
    assert moved.json()["assignee"]["id"] == world.agent_a2.id
    assert moved.json()["team"]["id"] == world.team_a.id
    # Ana is no longer the assignee, so she may not move Abe's conversation.
    again = client.post(url, json={"to_team_id": world.team_b.id})
    assert again.status_code == 403
    login(client, world.supervisor.email)
    admin_target = client.post(url, json={"to_user_id": world.admin.id})
    assert admin_target.status_code == 200
    assert client.post(url, json={}).status_code == 422


def test_tags_are_normalised_replaced_and_recorded(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(
        client, inbox_id=world.chat.id, contact_id=world.contact.id, tags=["old"]
    )
    url = f"{API}/conversations/{created['id']}/tags"

    response = client.put(url, json={"tags": ["  Refund ", "REFUND", "Late Delivery"]})
    assert response.status_code == 200, response.text
    assert response.json()["tags"] == ["late delivery", "refund"]
    activity = history(client, created["id"])["data"][-1]["activity"]
    assert activity["kind"] == "tags_changed"
    assert activity["data"]["from"] == ["old"]
    assert activity["data"]["added"] == ["late delivery", "refund"]
    assert activity["data"]["removed"] == ["old"]

    too_many = client.put(url, json={"tags": [f"t{i}" for i in range(21)]})
    assert too_many.status_code == 422
    too_long = client.put(url, json={"tags": ["x" * 51]})
    assert too_long.status_code == 422
    empty = client.put(url, json={"tags": ["   "]})
    assert empty.status_code == 422
    assert client.put(url, json={"tags": []}).json()["tags"] == []


def test_priority_and_category_changes_are_recorded_with_old_and_new_values(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    response = client.patch(
        f"{API}/conversations/{created['id']}",
        json={"priority": "urgent", "category": "Billing", "subject": "Double charge"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["priority"], body["category"], body["subject"]) == (
        "urgent",
        "billing",
        "Double charge",
    )
    activities = [e["activity"] for e in history(client, created["id"])["data"] if e["activity"]]
    assert [(a["kind"], a["data"]) for a in activities[1:]] == [
        ("priority_changed", {"from": "normal", "to": "urgent"}),
        ("category_changed", {"from": None, "to": "billing"}),
    ]
    # The same values again change nothing and record nothing.
    client.patch(f"{API}/conversations/{created['id']}", json={"priority": "urgent"})
    assert count_rows(db, Activity) == 3


def test_snoozing_sets_pending_until_the_given_time(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    until = "2026-03-03T09:00:00+00:00"
    response = client.post(
        f"{API}/conversations/{created['id']}/status",
        json={"status": "pending", "snooze_until": until},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
    assert response.json()["snoozed_until"].startswith("2026-03-03T09:00")
    activity = history(client, created["id"])["data"][-1]["activity"]
    assert activity["kind"] == "snoozed"
    assert activity["data"]["from"] == "open"
    past = client.post(
        f"{API}/conversations/{created['id']}/status",
        json={"status": "pending", "snooze_until": "2026-03-01T09:00:00Z"},
    )
    assert past.status_code == 409


def test_a_reply_publishes_one_event_to_everyone_who_can_see_it(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    outsider = make_user(db, "out@example.test", teams=[world.team_b])
    db.commit()
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    events: list[LiveEvent] = []
    unsubscribe = client.app.state.bus.subscribe(events.append)  # type: ignore[attr-defined]
    try:
        reply = post_message(client, created["id"], "Hi Carla")
    finally:
        unsubscribe()

    assert len(events) == 1
    event = events[0]
    assert event.type == "message.created"
    assert event.conversation_id == created["id"]
    assert event.seq == reply["seq"]
    assert event.to_contact is True
    # Team-less chat conversation: chat inbox members (Ana, Sue) and admins; not Ben,
    # not Abe (team A but no inbox), not the outsider.
    assert event.user_ids == {world.agent_a.id, world.supervisor.id, world.admin.id}
    assert outsider.id not in event.user_ids
    assert event.payload["message"]["body"] == "Hi Carla"

    # The recipients follow the conversation: after a transfer to team B, Ben hears.
    client.post(
        f"{API}/conversations/{created['id']}/transfer", json={"to_team_id": world.team_b.id}
    )
    login(client, world.agent_b.email)
    events.clear()
    unsubscribe = client.app.state.bus.subscribe(events.append)  # type: ignore[attr-defined]
    try:
        post_message(client, created["id"], "internal", kind="note")
    finally:
        unsubscribe()
    assert len(events) == 1
    assert events[0].to_contact is False
    assert events[0].user_ids == {
        world.agent_b.id,
        outsider.id,
        world.supervisor.id,
        world.admin.id,
    }


def test_initial_state_plus_events_equals_a_fresh_fetch(client: TestClient, db: Session) -> None:
    """A client that fetched a conversation once and then applied the events it was
    sent holds what a fresh fetch shows."""
    world = build_world(db)
    login(client, world.supervisor.email)
    created = create_conversation(
        client, inbox_id=world.chat.id, contact_id=world.contact.id, first_message="Hello"
    )
    url = f"{API}/conversations/{created['id']}"
    known = {
        "status": created["status"],
        "priority": created["priority"],
        "category": created["category"],
        "assignee_id": None,
        "team_id": None,
        "waiting_since": created["waiting_since"],
        "last_seq": created["last_seq"],
    }
    events: list[LiveEvent] = []
    unsubscribe = client.app.state.bus.subscribe(events.append)  # type: ignore[attr-defined]
    try:
        client.post(f"{url}/assign", json={"assignee_id": world.agent_a.id})
        client.patch(url, json={"priority": "high", "category": "orders"})
        post_message(client, created["id"], "On it")
        client.put(f"{url}/tags", json={"tags": ["vip"]})
        client.post(f"{url}/incoming", json={"body": "Thanks!"})
        client.post(f"{url}/status", json={"status": "solved"})
    finally:
        unsubscribe()

    assert len(events) == 6
    assert all(world.supervisor.id in event.user_ids for event in events)
    assert [event.seq for event in events] == sorted(event.seq or 0 for event in events)
    for event in events:
        state = event.payload["conversation"]
        known.update({key: state[key] for key in known})

    fresh = client.get(url).json()
    assert known == {
        "status": fresh["status"],
        "priority": fresh["priority"],
        "category": fresh["category"],
        "assignee_id": fresh["assignee"]["id"],
        "team_id": fresh["team"],
        "waiting_since": fresh["waiting_since"] and fresh["waiting_since"].replace("Z", "+00:00"),
        "last_seq": fresh["last_seq"],
    }
