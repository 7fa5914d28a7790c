"""Visitor sessions: signed tokens, renewal, and identity verification."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact, Conversation
from helpline.services.visitors import (
    Visitor,
    check_identifier_hash,
    identifier_hash,
    read_visitor_token,
    sign_visitor_token,
)
from tests.factories import make_contact, make_conversation
from tests.support import FrozenClock
from tests.widget_api.support import (
    headers,
    history,
    make_chat_inbox,
    open_session,
    start_conversation,
    widget_url,
)

SECRET = "a-secret-key-for-visitor-tokens-0123456789"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _visitor(**fields: object) -> Visitor:
    values: dict[str, object] = {
        "inbox_id": 3,
        "contact_id": 42,
        "verified": False,
        "issued_at": NOW,
    }
    values.update(fields)
    return Visitor(**values)  # type: ignore[arg-type]


def test_a_signed_token_names_its_inbox_and_contact() -> None:
    token = sign_visitor_token(SECRET, _visitor(verified=True))
    visitor = read_visitor_token(SECRET, token, now=NOW + DAY, max_age=30 * DAY)
    assert visitor == _visitor(verified=True)


def test_forged_expired_and_malformed_tokens_are_refused() -> None:
    token = sign_visitor_token(SECRET, _visitor())
    prefix, _body, signature = token.split(".")
    other_contact = sign_visitor_token(SECRET, _visitor(contact_id=43)).split(".")[1]
    assert (
        read_visitor_token(SECRET, f"{prefix}.{other_contact}.{signature}", now=NOW, max_age=DAY)
        is None
    )
    assert (
        read_visitor_token("another-secret-key-0123456789-abcdef", token, now=NOW, max_age=DAY)
        is None
    )
    assert read_visitor_token(SECRET, token, now=NOW + 31 * DAY, max_age=30 * DAY) is None
    assert read_visitor_token(SECRET, token, now=NOW - DAY, max_age=30 * DAY) is None
    for bad in ("", "hv1", "hv1..", "x.y.z", token + "x", "hv1.!!!.???", "a" * 5000):
        assert read_visitor_token(SECRET, bad, now=NOW, max_age=DAY) is None


def test_identifier_hash_is_hmac_sha256_of_the_external_id() -> None:
    # What a site computes on its own server, with any HMAC library.
    expected = hmac.new(b"inbox-secret", b"customer-42", hashlib.sha256).hexdigest()
    assert identifier_hash("inbox-secret", "customer-42") == expected
    assert check_identifier_hash("inbox-secret", "customer-42", expected)
    assert check_identifier_hash("inbox-secret", "customer-42", expected.upper())
    assert not check_identifier_hash("inbox-secret", "customer-43", expected)
    assert not check_identifier_hash("other-secret", "customer-42", expected)
    assert not check_identifier_hash("inbox-secret", "customer-42", None)
    assert not check_identifier_hash("inbox-secret", "customer-42", "not hex")


def test_a_new_visitor_gets_a_token_and_a_contact_of_their_own(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    response = client.post(
        widget_url(inbox, "sessions"),
        json={"name": "  Mia   Rossi ", "email": "Mia@Shop.Example"},
        headers=headers(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["contact"] == {"name": "Mia Rossi", "email": "mia@shop.example", "verified": False}
    db.expire_all()
    contact = db.scalar(select(Contact).where(Contact.email == "mia@shop.example"))
    assert contact is not None and contact.name == "Mia Rossi" and not contact.verified


def test_a_returning_visitor_keeps_their_contact_and_history(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox, name="Mia")
    conversation = start_conversation(client, inbox, token, "Where is my order?")
    renewed = client.post(
        widget_url(inbox, "sessions"), json={"visitor_token": token}, headers=headers()
    ).json()["visitor_token"]
    page = history(client, inbox, renewed, conversation["id"])
    bodies = [
        frame["event"]["message"]["body"] for frame in page["events"] if "message" in frame["event"]
    ]
    assert bodies == ["Where is my order?"]


def test_a_token_from_another_inbox_or_an_expired_one_is_not_accepted(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox, other = make_chat_inbox(db), make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    response = client.get(widget_url(other, "conversations"), headers=headers(token))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert client.get(widget_url(inbox, "conversations"), headers=headers()).status_code == 401
    clock.advance(days=31)
    assert client.get(widget_url(inbox, "conversations"), headers=headers(token)).status_code == 401
    # Sending the expired token to `sessions` simply starts a new visitor.
    renewed = client.post(
        widget_url(inbox, "sessions"), json={"visitor_token": token}, headers=headers()
    )
    assert renewed.status_code == 200


def test_unknown_fields_are_refused(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    response = client.post(
        widget_url(inbox, "sessions"), json={"name": "Mia", "verified": True}, headers=headers()
    )
    assert response.status_code == 422


def test_enforce_mode_refuses_unsigned_and_wrongly_signed_ids(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db, identity_verification="enforce")
    db.commit()
    url = widget_url(inbox, "sessions")
    missing = client.post(url, json={"external_id": "customer-42"}, headers=headers())
    wrong = client.post(
        url,
        json={"external_id": "customer-42", "identifier_hash": identifier_hash("nope", "x")},
        headers=headers(),
    )
    for response in (missing, wrong):
        assert response.status_code == 403, response.text
        assert response.json()["error"]["details"]["reason"] == "identity_verification"
    db.expire_all()
    assert db.scalar(select(Contact).where(Contact.external_id == "customer-42")) is None
    db.rollback()  # release SQLite's write lock for the app
    # Anonymous visitors may still chat.
    assert client.post(url, json={"name": "Guest"}, headers=headers()).status_code == 200


def test_a_correct_hash_opens_the_customers_own_history_on_any_device(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db, identity_verification="enforce")
    customer = make_contact(db, email="jan@shop.example", external_id="customer-42", name="Jan")
    earlier = make_conversation(db, inbox, customer, subject="Earlier chat")
    db.commit()
    signed = {
        "external_id": "customer-42",
        "identifier_hash": identifier_hash(inbox.secret, "customer-42"),
    }
    response = client.post(widget_url(inbox, "sessions"), json=signed, headers=headers())
    assert response.status_code == 200, response.text
    assert response.json()["contact"]["verified"] is True
    token = response.json()["visitor_token"]
    listed = client.get(widget_url(inbox, "conversations"), headers=headers(token)).json()
    assert [row["id"] for row in listed["data"]] == [earlier.id]
    db.expire_all()
    refreshed = db.get(Contact, customer.id)
    assert refreshed is not None and refreshed.verified


def test_without_enforce_an_unverified_id_never_reaches_the_verified_contact(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    customer = make_contact(
        db, email="jan@shop.example", external_id="customer-42", name="Jan", verified=True
    )
    secret_chat = make_conversation(db, inbox, customer, subject="Private matter")
    db.commit()
    response = client.post(
        widget_url(inbox, "sessions"),
        json={
            "external_id": "customer-42",
            "identifier_hash": "0" * 64,
            "email": "jan@shop.example",
            "name": "Impostor",
        },
        headers=headers(),
    )
    assert response.status_code == 200
    session = response.json()
    assert session["contact"]["verified"] is False
    token = session["visitor_token"]
    listed = client.get(widget_url(inbox, "conversations"), headers=headers(token)).json()
    assert listed["data"] == []
    history_response = client.get(
        widget_url(inbox, f"conversations/{secret_chat.id}/history"), headers=headers(token)
    )
    assert history_response.status_code == 404
    start_conversation(client, inbox, token, "hello")
    db.expire_all()
    impostor = db.scalar(
        select(Contact).where(Contact.id != customer.id, Contact.name == "Impostor")
    )
    assert impostor is not None
    assert impostor.external_id is None and impostor.email is None
    assert impostor.custom_attributes["unverified_external_id"] == "customer-42"
    assert impostor.custom_attributes["unverified_email"] == "jan@shop.example"
    owners = set(
        db.scalars(select(Conversation.contact_id).where(Conversation.inbox_id == inbox.id))
    )
    assert owners == {customer.id, impostor.id}
    unchanged = db.get(Contact, customer.id)
    assert unchanged is not None and unchanged.name == "Jan"


def test_a_verified_token_is_not_reused_once_the_page_stops_proving_it(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    signed = {
        "external_id": "c-7",
        "identifier_hash": identifier_hash(inbox.secret, "c-7"),
        "name": "Ola",
    }
    verified_token = client.post(
        widget_url(inbox, "sessions"), json=signed, headers=headers()
    ).json()["visitor_token"]
    start_conversation(client, inbox, verified_token, "my account")
    # Signed out on a shared computer: the widget still has the old token.
    after_logout = client.post(
        widget_url(inbox, "sessions"), json={"visitor_token": verified_token}, headers=headers()
    ).json()
    assert after_logout["contact"]["verified"] is False
    listed = client.get(
        widget_url(inbox, "conversations"), headers=headers(after_logout["visitor_token"])
    ).json()
    assert listed["data"] == []
