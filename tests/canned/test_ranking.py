"""The composer's `/` picker: what fits the conversation comes first."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.models import ConversationTag
from tests.canned.support import as_user, create, make_desk
from tests.factories import make_contact, make_conversation


def _shortcuts(client: TestClient, conversation_id: int, q: str = "") -> list[str]:
    response = client.get(
        "/api/v1/canned/suggest", params={"conversation_id": conversation_id, "q": q}
    )
    assert response.status_code == 200, response.text
    return [row["shortcut"] for row in response.json()["data"]]


def test_responses_that_fit_the_conversation_come_first(client: TestClient, db: Session) -> None:
    desk = make_desk(db)
    customer = make_contact(db, name="Zofia Nowak", plan="enterprise", orders_count=12)
    conversation = make_conversation(
        db,
        desk.inbox,
        customer,
        team_id=desk.team.id,
        category="billing",
        language="pl",
        priority="urgent",
    )
    db.add(ConversationTag(conversation_id=conversation.id, tag="invoice"))
    db.commit()
    as_user(client, desk.ada)
    create(client, shortcut="general", body="Hello!", language="en")
    create(client, shortcut="billing-en", body="About billing", tags={"topic": ["billing"]})
    create(
        client,
        shortcut="billing-pl",
        body="Rozliczenia",
        language="pl",
        tags={"topic": ["billing"]},
    )
    create(
        client,
        shortcut="billing-pl-vip",
        body="Pilne rozliczenia",
        language="pl",
        tags={
            "topic": ["billing", "invoice"],
            "customer_type": ["enterprise"],
            "urgency": ["urgent"],
        },
    )
    create(client, shortcut="draft", body="{{ broken", draft=True, language="pl")

    response = client.get(
        "/api/v1/canned/suggest", params={"conversation_id": conversation.id}
    ).json()

    assert [row["shortcut"] for row in response["data"]] == [
        "billing-pl-vip",
        "billing-pl",
        "billing-en",
        "general",
    ]
    assert response["data"][0]["reasons"] == [
        "language",
        "category",
        "topic",
        "customer_type",
        "urgency",
    ]


def test_typing_filters_by_text_with_typos_and_an_exact_shortcut_leads(
    client: TestClient, db: Session
) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)
    create(
        client, shortcut="refund-status", title="Refund status", body="Your refund is on its way"
    )
    create(client, shortcut="refund-policy", title="Refund policy", body="Refunds take 5 days")
    create(
        client,
        shortcut="track",
        title="Tracking",
        body="Track your parcel",
        tags={"topic": ["orders"]},
    )
    create(client, shortcut="hello", title="Greeting", body="Hi there")

    assert set(_shortcuts(client, desk.conversation.id, "refnd")) == {
        "refund-status",
        "refund-policy",
    }
    assert _shortcuts(client, desk.conversation.id, "/refund-policy")[0] == "refund-policy"
    assert _shortcuts(client, desk.conversation.id, "/trac") == ["track"]
    # Without text, the orders response fits this orders conversation best.
    assert _shortcuts(client, desk.conversation.id)[0] == "track"


def test_suggestions_come_rendered_and_respect_access(client: TestClient, db: Session) -> None:
    desk = make_desk(db)
    as_user(client, desk.bob)
    create(client, shortcut="bobs", body="Bob's own")
    as_user(client, desk.ada)
    create(client, shortcut="hi", body='Hi {{ contact.first_name | default("there") }}!')

    data = client.get(
        "/api/v1/canned/suggest", params={"conversation_id": desk.conversation.id}
    ).json()["data"]

    assert [(row["shortcut"], row["text"]) for row in data] == [("hi", "Hi Sarah!")]
    as_user(client, desk.carol)  # not in the conversation's team or inbox
    hidden = client.get("/api/v1/canned/suggest", params={"conversation_id": desk.conversation.id})
    assert hidden.status_code == 404
