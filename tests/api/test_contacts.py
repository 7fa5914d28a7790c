"""Contacts: create, search, update, and merge-safe identification."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact
from tests.api.test_conversations import API, count_rows
from tests.factories import make_contact, make_user
from tests.support import login


def signed_in_agent(client: TestClient, db: Session) -> None:
    make_user(db, "agent@example.test")
    db.commit()
    login(client, "agent@example.test")


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post(f"{API}/contacts", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_stores_the_email_lower_case_and_refuses_duplicates(
    client: TestClient, db: Session
) -> None:
    signed_in_agent(client, db)
    contact = create(
        client,
        email=" Mia.Rossi@Shop.Example ",
        name="Mia Rossi",
        external_id="cus_123",
        plan="enterprise",
        lifetime_value_cents=125_000,
        orders_count=7,
        custom_attributes={"company": "Rossi SRL", "seats": 40},
    )
    assert contact["email"] == "mia.rossi@shop.example"
    assert contact["plan"] == "enterprise"
    assert contact["custom_attributes"] == {"company": "Rossi SRL", "seats": 40}
    assert contact["verified"] is False

    for duplicate in ({"email": "MIA.ROSSI@shop.example"}, {"external_id": "cus_123"}):
        response = client.post(f"{API}/contacts", json=duplicate)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
    assert count_rows(db, Contact) == 1


def test_contacts_refuse_fields_they_do_not_have(client: TestClient, db: Session) -> None:
    signed_in_agent(client, db)
    response = client.post(f"{API}/contacts", json={"email": "a@b.example", "verified": True})
    assert response.status_code == 422
    bad_email = client.post(f"{API}/contacts", json={"email": "not an email"})
    assert bad_email.status_code == 422
    nested = client.post(f"{API}/contacts", json={"custom_attributes": {"deep": {"no": 1}}})
    assert nested.status_code == 422
    assert count_rows(db, Contact) == 0


def test_search_matches_name_email_phone_and_external_id(client: TestClient, db: Session) -> None:
    signed_in_agent(client, db)
    mia = create(client, email="mia@shop.example", name="Mia Rossi", phone="+39 055 123")
    leo = create(client, email="leo@other.example", name="Leo", external_id="crm-77")

    def found(q: str) -> list[int]:
        response = client.get(f"{API}/contacts", params={"q": q})
        assert response.status_code == 200
        return [row["id"] for row in response.json()["data"]]

    assert found("rossi") == [mia["id"]]
    assert found("SHOP.example") == [mia["id"]]
    assert found("055") == [mia["id"]]
    assert found("crm-77") == [leo["id"]]
    assert found("example") == [leo["id"], mia["id"]]
    assert found("nobody") == []


def test_contact_pages_follow_the_cursor(client: TestClient, db: Session) -> None:
    signed_in_agent(client, db)
    for i in range(7):
        make_contact(db, f"c{i}@shop.example")
    db.commit()
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"{API}/contacts", params=params).json()
        assert page["count"] == 7
        seen += [row["id"] for row in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)


def test_get_and_update_a_contact(client: TestClient, db: Session) -> None:
    signed_in_agent(client, db)
    contact = create(client, email="mia@shop.example", name="Mia")
    response = client.patch(
        f"{API}/contacts/{contact['id']}",
        json={"plan": "paid", "orders_count": 3, "notes": "Prefers email", "language": "it"},
    )
    assert response.status_code == 200, response.text
    updated = client.get(f"{API}/contacts/{contact['id']}").json()
    assert (updated["plan"], updated["orders_count"], updated["notes"], updated["language"]) == (
        "paid",
        3,
        "Prefers email",
        "it",
    )
    assert updated["name"] == "Mia"  # untouched
    assert (
        client.patch(f"{API}/contacts/{contact['id']}", json={"email": "x@y.example"}).status_code
        == 422
    )
    assert (
        client.patch(f"{API}/contacts/{contact['id']}", json={"orders_count": -1}).status_code
        == 422
    )
    assert client.get(f"{API}/contacts/999999").status_code == 404
    assert client.patch(f"{API}/contacts/999999", json={"name": "x"}).status_code == 404


def test_identify_finds_creates_fills_and_never_merges(client: TestClient, db: Session) -> None:
    signed_in_agent(client, db)
    url = f"{API}/contacts/identify"

    created = client.post(url, json={"email": "Zoe@Shop.Example", "name": "Zoe"})
    assert created.status_code == 201, created.text
    assert created.json()["created"] is True

    found = client.post(url, json={"email": "zoe@shop.example"})
    assert found.status_code == 200
    assert found.json()["id"] == created.json()["id"]
    assert found.json()["created"] is False

    # A new external id is filled in on the one contact the email matches.
    filled = client.post(url, json={"email": "zoe@shop.example", "external_id": "cus_9"})
    assert filled.status_code == 200
    assert filled.json()["external_id"] == "cus_9"
    by_external = client.post(url, json={"external_id": "cus_9"})
    assert by_external.json()["id"] == created.json()["id"]

    other = create(client, email="max@shop.example", external_id="cus_10")
    conflict = client.post(url, json={"email": "zoe@shop.example", "external_id": "cus_10"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "identity_conflict"
    assert conflict.json()["error"]["details"] == {
        "email_contact_id": created.json()["id"],
        "external_id_contact_id": other["id"],
    }
    # Zoe already has another external id: refusing is safer than overwriting.
    mismatch = client.post(url, json={"email": "zoe@shop.example", "external_id": "cus_11"})
    assert mismatch.status_code == 409
    assert mismatch.json()["error"]["code"] == "identity_conflict"
    assert client.post(url, json={"name": "No identity"}).status_code == 422
    assert count_rows(db, Contact) == 2


def test_contacts_need_a_signed_in_user(client: TestClient) -> None:
    assert client.get(f"{API}/contacts").status_code == 401
    assert client.post(f"{API}/contacts", json={"email": "a@b.example"}).status_code == 401
