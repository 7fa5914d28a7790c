"""A small support organisation for routing scenarios, and API shortcuts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.engine import make_session_factory
from helpline.adapters.db.models import Contact, Inbox, Team, User
from helpline.services import routing_jobs
from helpline.services.events import install_publisher
from helpline.settings import Settings
from tests.factories import make_contact, make_inbox, make_team, make_user
from tests.support import FrozenClock, login

API = "/api/v1"


@dataclass
class Org:
    chat: Inbox
    support: Team
    tier2: Team
    security: Team
    anna: User
    """Tier 1, support team, refund authority 50.00."""
    ben: User
    """Tier 1, support team."""
    tess: User
    """Tier 2 (senior), tier-2 team."""
    sam: User
    """Security team."""
    sue: User
    """Supervisor of the support team."""
    admin: User


def build_org(db: Session) -> Org:
    support = make_team(db, "Support")
    tier2 = make_team(db, "Tier 2", tier=2)
    security = make_team(db, "Security")
    chat = make_inbox(db, "Website chat", channel="chat")
    org = Org(
        chat=chat,
        support=support,
        tier2=tier2,
        security=security,
        anna=make_user(
            db,
            "anna@example.test",
            name="Anna",
            teams=[support],
            inboxes=[chat],
            refund_limit_cents=5_000,
        ),
        ben=make_user(db, "ben@example.test", name="Ben", teams=[support], inboxes=[chat]),
        tess=make_user(db, "tess@example.test", name="Tess", teams=[tier2], inboxes=[chat], tier=2),
        sam=make_user(db, "sam@example.test", name="Sam", teams=[security], inboxes=[chat]),
        sue=make_user(
            db, "sue@example.test", name="Sue", role="supervisor", teams=[support], inboxes=[chat]
        ),
        admin=make_user(db, "admin@example.test", name="Ada", role="admin"),
    )
    db.commit()
    return org


def customer(db: Session, name: str, **fields: Any) -> Contact:
    contact = make_contact(db, name=name, **fields)
    db.commit()
    return contact


def set_status(client: TestClient, status: str) -> dict[str, Any]:
    response = client.put(f"{API}/routing/status", json={"status": status})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def go_online(client: TestClient, *people: User) -> None:
    """Each person signs in and comes online (the client ends signed in as the last)."""
    for person in people:
        login(client, person.email)
        set_status(client, "online")


def open_chat(
    client: TestClient, inbox: Inbox, contact: Contact, text: str = "Hello", **fields: Any
) -> dict[str, Any]:
    response = client.post(
        f"{API}/conversations",
        json={"inbox_id": inbox.id, "contact_id": contact.id, "first_message": text, **fields},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def conversation(client: TestClient, conversation_id: int) -> dict[str, Any]:
    response = client.get(f"{API}/conversations/{conversation_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def history(client: TestClient, conversation_id: int) -> list[dict[str, Any]]:
    response = client.get(f"{API}/conversations/{conversation_id}/history")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def activities(client: TestClient, conversation_id: int, kind: str) -> list[dict[str, Any]]:
    return [
        entry["activity"]
        for entry in history(client, conversation_id)
        if entry["kind"] == "activity" and entry["activity"]["kind"] == kind
    ]


def assignee_id(client: TestClient, conversation_id: int) -> int | None:
    assignee = conversation(client, conversation_id)["assignee"]
    return int(assignee["id"]) if assignee else None


def tick(
    db: Session, clock: FrozenClock, settings: Settings, client: TestClient | None = None
) -> dict[str, int]:
    """One round of the worker's routing jobs at the clock's time, in a session of
    its own like the worker's (live events go to the app's bus when `client` is given)."""
    with make_session_factory(db.get_bind())() as session:  # type: ignore[arg-type]
        if client is not None:
            install_publisher(session, client.app.state.publish)  # type: ignore[attr-defined]
        return routing_jobs.tick(session, now=clock(), settings=settings)
