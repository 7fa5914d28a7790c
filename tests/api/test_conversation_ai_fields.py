"""The conversation API and its live events carry what AI assist computed (frustration
with its reasons, the detected category and language), so the workspace's badges
show it without asking a second endpoint. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.ai.categories import CategoryClassifier
from helpline.ai.frustration import HIGH
from helpline.services import ai_assist
from helpline.services.events import LiveEvent
from tests.ai.fixtures import bitext_sample
from tests.api.test_conversations import build_world, create_conversation
from tests.support import login

API = "/api/v1"
FRUSTRATED = "This is the third time I am writing, I want to talk to a lawyer!!!"


@pytest.fixture(scope="module")
def small_classifier() -> Iterator[CategoryClassifier]:
    """A category model trained in a fraction of a second instead of the starter model."""
    train, _ = bitext_sample(per_category=30)
    classifier = CategoryClassifier(starter_rows=train)
    ai_assist.use_classifier(classifier)
    yield classifier
    ai_assist.use_classifier(None)


def test_a_frustrated_customer_shows_in_the_conversation_and_its_live_update(
    client: TestClient, db: Session, small_classifier: CategoryClassifier
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(
        client,
        inbox_id=world.chat.id,
        contact_id=world.contact.id,
        first_message="Where is my order? It should have arrived yesterday",
    )
    calm = client.get(f"{API}/conversations/{created['id']}").json()
    assert calm["frustration"] == 0.0
    assert calm["frustration_level"] == "low"
    assert calm["frustration_reasons"] == []
    assert calm["ai_language"] == "en"
    assert calm["ai_category"] is not None
    assert 0.0 <= calm["ai_category_confidence"] <= 1.0

    events: list[LiveEvent] = []
    unsubscribe = client.app.state.bus.subscribe(events.append)  # type: ignore[attr-defined]
    try:
        relayed = client.post(
            f"{API}/conversations/{created['id']}/incoming", json={"body": FRUSTRATED}
        )
    finally:
        unsubscribe()
    assert relayed.status_code == 201, relayed.text

    angry = client.get(f"{API}/conversations/{created['id']}").json()
    assert angry["frustration"] >= HIGH
    assert angry["frustration_level"] == "high"
    reasons = {(reason["kind"], reason["evidence"]) for reason in angry["frustration_reasons"]}
    assert ("trigger_phrase", "lawyer") in reasons
    assert "repeated_contact" in {kind for kind, _ in reasons}
    # The priority badge's breakdown names the frustration the router added.
    assert any(part["reason"].startswith("frustrated") for part in angry["priority_breakdown"])
    listed = client.get(f"{API}/conversations").json()["data"]
    assert [row["frustration_level"] for row in listed if row["id"] == created["id"]] == ["high"]

    updates = [
        event.payload["conversation"]
        for event in events
        if event.type == "conversation.updated"
        and event.payload["conversation"].get("frustration_level") == "high"
    ]
    assert updates, [event.type for event in events]
    live = updates[-1]
    assert live["frustration"] == angry["frustration"]
    assert live["frustration_reasons"] == angry["frustration_reasons"]
    assert live["priority_breakdown"] == angry["priority_breakdown"]
    assert live["priority_score"] == angry["priority_score"]


def test_a_conversation_nobody_analysed_has_no_frustration(
    client: TestClient, db: Session, small_classifier: CategoryClassifier
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    created = create_conversation(client, inbox_id=world.chat.id, contact_id=world.contact.id)
    view = client.get(f"{API}/conversations/{created['id']}").json()
    assert view["frustration"] is None
    assert view["frustration_level"] is None
    assert view["frustration_reasons"] == []
