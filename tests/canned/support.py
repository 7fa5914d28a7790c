"""A support desk for canned-response tests: a team, an inbox, agents, a
supervisor, an admin and a conversation with a real customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact, Conversation, Inbox, Team, User
from tests.factories import make_contact, make_conversation, make_inbox, make_team, make_user
from tests.support import login


@dataclass
class Desk:
    team: Team
    other_team: Team
    inbox: Inbox
    ada: User
    bob: User
    carol: User
    """An agent in the other team."""
    sue: User
    """Supervisor of `team`."""
    admin: User
    sarah: Contact
    conversation: Conversation


def make_desk(db: Session) -> Desk:
    team = make_team(db, "Orders")
    other_team = make_team(db, "Billing")
    inbox = make_inbox(db, "Website chat")
    ada = make_user(db, "ada@example.com", name="Ada Lovelace", teams=[team], inboxes=[inbox])
    bob = make_user(db, "bob@example.com", name="Bob Stone", teams=[team], inboxes=[inbox])
    carol = make_user(db, "carol@example.com", name="Carol Diaz", teams=[other_team])
    sue = make_user(
        db, "sue@example.com", name="Sue Park", role="supervisor", teams=[team], inboxes=[inbox]
    )
    admin = make_user(db, "admin@example.com", name="Alex Admin", role="admin")
    sarah = make_contact(
        db,
        "sarah@example.com",
        name="Sarah Connor",
        plan="paid",
        orders_count=7,
        language="en",
        custom_attributes={"order_number": 1245},
    )
    conversation = make_conversation(
        db,
        inbox,
        sarah,
        subject="Where is my parcel?",
        team_id=team.id,
        category="orders",
        language="en",
    )
    db.commit()
    return Desk(team, other_team, inbox, ada, bob, carol, sue, admin, sarah, conversation)


def as_user(client: TestClient, user: User) -> TestClient:
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    login(client, user.email)
    return client


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "shortcut": "/refund-status",
        "title": "Refund status",
        "body": 'Hi {{ contact.first_name | default("there") }}, your refund is on its way.',
    }
    payload.update(fields)
    response = client.post("/api/v1/canned", json=payload)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
