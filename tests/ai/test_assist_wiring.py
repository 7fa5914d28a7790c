"""AI assist in conversations: every new conversation and customer message is
categorised, marked urgent, its language and the customer's frustration and register
stored, and routing and escalation rules use them. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Activity, Conversation, ConversationTag, Message
from helpline.ai.categories import CategoryClassifier
from helpline.services import ai_assist
from helpline.services.escalation import RuleInput, do_save_rule
from helpline.services.events import LiveEvent
from tests.api.test_conversations import build_world, create_conversation
from tests.support import FrozenClock, login
from tests.widget_api.support import make_chat_inbox, open_session, start_conversation

API = "/api/v1"


def stored(db: Session, conversation_id: int) -> Conversation:
    db.expire_all()
    conversation = db.get(Conversation, conversation_id)
    assert conversation is not None
    db.commit()
    return conversation


def activities(db: Session, conversation_id: int, kind: str) -> list[Activity]:
    rows = list(
        db.scalars(
            select(Activity)
            .where(Activity.conversation_id == conversation_id, Activity.kind == kind)
            .order_by(Activity.seq)
        )
    )
    db.commit()
    return rows


def incoming(client: TestClient, conversation_id: int, body: str) -> None:
    response = client.post(f"{API}/conversations/{conversation_id}/incoming", json={"body": body})
    assert response.status_code == 201, response.text


def test_a_failed_payment_is_categorised_urgent_and_scored_first(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    login(client, world.supervisor.email)
    created = create_conversation(
        client,
        inbox_id=world.chat.id,
        contact_id=world.contact.id,
        first_message="My card payment failed twice today and I need it for rent",
    )

    conversation = stored(db, created["id"])
    assert conversation.category == "billing"
    assert conversation.ai_category == "billing"
    assert conversation.ai_category_source == "urgent_topic"
    assert conversation.priority == "urgent"
    assert conversation.urgent_reason == "failed payment"
    assert conversation.ai_language == "en"
    reasons = [reason for reason, _ in conversation.priority_breakdown]
    assert "urgent: failed payment" in reasons
    (category_change,) = activities(db, created["id"], "category_changed")
    assert category_change.actor_type == "system"
    assert category_change.data["source"] == "ai"
    assert category_change.data["to"] == "billing"
    (priority_change,) = activities(db, created["id"], "priority_changed")
    assert priority_change.data == {
        "from": "normal",
        "to": "urgent",
        "source": "ai",
        "reason": "failed payment",
    }

    analysis = client.get(f"{API}/conversations/{created['id']}/ai").json()
    assert analysis["category"] == "billing"
    assert analysis["urgent_reasons"] == ["failed_payment"]
    assert analysis["language"] == "en"


def test_a_category_chosen_by_a_person_is_kept(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.supervisor.email)
    created = create_conversation(
        client,
        inbox_id=world.chat.id,
        contact_id=world.contact.id,
        first_message="I cannot log in, someone changed my password",
        category="orders",
        priority="low",
    )

    conversation = stored(db, created["id"])
    assert conversation.category == "orders"
    assert conversation.ai_category == "account"
    assert conversation.priority == "low"  # chosen by a person: not raised
    assert activities(db, created["id"], "category_changed") == []


def test_frustration_raises_the_score_with_its_reason_and_is_sent_to_agents(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    login(client, world.supervisor.email)
    created = create_conversation(
        client,
        inbox_id=world.chat.id,
        contact_id=world.contact.id,
        first_message="Where is my order? It should have arrived yesterday",
    )
    calm = stored(db, created["id"])
    assert calm.frustration == 0.0
    calm_score = calm.priority_score

    events: list[LiveEvent] = []
    unsubscribe = client.app.state.bus.subscribe(events.append)  # type: ignore[attr-defined]
    try:
        incoming(client, created["id"], "This is the THIRD time I write!!! Unacceptable.")
    finally:
        unsubscribe()

    angry = stored(db, created["id"])
    assert angry.frustration is not None and angry.frustration >= 0.6
    kinds = {reason["kind"] for reason in angry.frustration_reasons or []}
    assert {"repeated_contact", "trigger_phrase", "repeated_punctuation"} <= kinds
    frustrated = [part for part in angry.priority_breakdown if part[0].startswith("frustrated")]
    assert frustrated and frustrated[0][1] > 10
    assert angry.priority_score > calm_score + 10
    ai_events = [event for event in events if "ai" in event.payload]
    assert len(ai_events) == 1
    assert ai_events[0].payload["ai"]["frustration_level"] == "high"
    assert ai_events[0].to_contact is False
    assert world.supervisor.id in ai_events[0].user_ids


def test_a_frustration_rule_escalates(client: TestClient, db: Session, clock: FrozenClock) -> None:
    world = build_world(db)
    do_save_rule(
        db,
        world.admin,
        RuleInput(
            name="Angry customer",
            trigger="conversation_updated",
            conditions=[{"field": "frustration", "op": "gte", "value": 0.6}],
            actions=[{"action": "add_tag", "value": "frustrated"}],
        ),
        now=clock(),
    )
    login(client, world.supervisor.email)
    created = create_conversation(
        client,
        inbox_id=world.chat.id,
        contact_id=world.contact.id,
        first_message="Hello, a question about my delivery address",
    )
    assert activities(db, created["id"], "escalated") == []

    incoming(client, created["id"], "ARE YOU KIDDING ME??? I want to talk to a lawyer, useless!!")

    (escalated,) = activities(db, created["id"], "escalated")
    assert escalated.data["rules"] == ["Angry customer"]
    tags = set(
        db.scalars(
            select(ConversationTag.tag).where(ConversationTag.conversation_id == created["id"])
        )
    )
    assert "frustrated" in tags


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("nie moge sie zalogowac do konta od wczoraj", "pl"),
        ("Guten Tag, meine Bestellung ist noch nicht angekommen", "de"),
    ],
)
def test_the_language_of_a_widget_chat_is_detected_for_routing(
    client: TestClient, db: Session, text: str, language: str
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    started = start_conversation(client, inbox, token, message=text)

    conversation = stored(db, started["id"])
    assert conversation.language == language
    assert conversation.ai_language == language
    assert conversation.tone_register in ("casual", "neutral", "formal")


class BrokenClassifier(CategoryClassifier):
    def classify_many(self, texts: Any, *, keep: Any = None) -> Any:
        raise RuntimeError("model file vanished")


def test_a_failing_analysis_never_loses_the_message(
    client: TestClient, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(db)
    login(client, world.supervisor.email)
    ai_assist.use_classifier(BrokenClassifier(starter_rows=[]))
    caplog.set_level(logging.ERROR, logger="helpline.services.ai_assist")

    created = create_conversation(
        client, inbox_id=world.chat.id, contact_id=world.contact.id, first_message="My card failed"
    )
    incoming(client, created["id"], "Hello? Anybody there?")

    bodies = list(db.scalars(select(Message.body).where(Message.conversation_id == created["id"])))
    assert bodies == ["My card failed", "Hello? Anybody there?"]
    assert any("AI assist failed" in record.message for record in caplog.records)
    assert stored(db, created["id"]).ai_category is None


def test_tiny_and_repeated_texts_are_not_analysed_again(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.supervisor.email)
    created = create_conversation(
        client,
        inbox_id=world.chat.id,
        contact_id=world.contact.id,
        first_message="My parcel has not arrived, where is my order?",
    )
    digest = stored(db, created["id"]).ai_text_hash
    assert digest is not None

    incoming(client, created["id"], "ok")

    assert stored(db, created["id"]).ai_text_hash == digest


def test_a_transfer_and_an_escalation_carry_a_summary_for_the_next_agent(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    do_save_rule(
        db,
        world.admin,
        RuleInput(
            name="Angry customer",
            trigger="conversation_updated",
            conditions=[{"field": "frustration", "op": "gte", "value": 0.6}],
            actions=[{"action": "notify_supervisor"}],
        ),
        now=clock(),
    )
    login(client, world.supervisor.email)
    created = create_conversation(
        client,
        inbox_id=world.chat.id,
        contact_id=world.contact.id,
        first_message="My order #123456 has not arrived. I paid 49.99 EUR two weeks ago.",
    )
    response = client.post(
        f"{API}/conversations/{created['id']}/transfer", json={"to_team_id": world.team_b.id}
    )
    assert response.status_code == 200, response.text

    (transfer,) = activities(db, created["id"], "transferred")
    assert transfer.data["summary_source"] == "extractive"
    assert "#123456" in transfer.data["summary"]
    assert "49.99 EUR" in transfer.data["summary"]

    incoming(client, created["id"], "THIS IS THE THIRD TIME!!! Unacceptable, I want a refund now")

    (escalated,) = activities(db, created["id"], "escalated")
    assert escalated.data["summary_source"] == "extractive"
    assert "#123456" in escalated.data["summary"]
