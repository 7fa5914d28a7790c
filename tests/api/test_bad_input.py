"""Bad input gets a clear 4xx in the one error shape and leaves the database as it was."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Activity, Contact, Conversation, Message, OutboxItem
from tests.api.test_conversations import API, World, build_world, count_rows
from tests.factories import make_conversation
from tests.support import login


def snapshot(db: Session) -> dict[str, int]:
    return {
        model.__name__: count_rows(db, model)
        for model in (Conversation, Message, Activity, Contact, OutboxItem)
    }


@dataclass
class Arranged:
    world: World
    conversation: Conversation
    """Open, team-less, in the chat inbox: Ana (signed in) may work on it."""


@pytest.fixture
def arranged(client: TestClient, db: Session) -> Iterator[Arranged]:
    world = build_world(db)
    conversation = make_conversation(db, world.chat, world.contact)
    db.commit()
    login(client, world.agent_a.email)
    before = snapshot(db)
    yield Arranged(world, conversation)
    assert snapshot(db) == before, "bad input changed the database"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


def field_names(error: dict[str, Any]) -> set[str]:
    return {field["field"] for field in error["details"]["fields"]}


def test_missing_and_mistyped_fields_on_create(client: TestClient, arranged: Arranged) -> None:
    world = arranged.world
    url = f"{API}/conversations"
    missing = assert_error(client.post(url, json={}), 422, "validation_error")
    assert "body.inbox_id" in field_names(missing)

    wrong = client.post(
        url,
        json={
            "inbox_id": "first",
            "contact_id": world.contact.id,
            "priority": "extreme",
            "tags": "not-a-list",
        },
    )
    assert field_names(assert_error(wrong, 422, "validation_error")) >= {
        "body.inbox_id",
        "body.priority",
        "body.tags",
    }
    not_json = client.post(url, content=b"{oops", headers={"Content-Type": "application/json"})
    assert_error(not_json, 422, "validation_error")
    mass_assignment = client.post(
        url, json={"inbox_id": world.chat.id, "contact_id": world.contact.id, "number": 1}
    )
    assert "body.number" in field_names(assert_error(mass_assignment, 422, "validation_error"))
    both = client.post(url, json={"inbox_id": world.chat.id})
    assert_error(both, 422, "validation_failed")


@pytest.mark.parametrize(
    ("field", "value"),
    [("inbox_id", 999_999), ("contact_id", 999_999), ("team_id", 999_999)],
)
def test_unknown_ids_on_create(
    client: TestClient, arranged: Arranged, field: str, value: int
) -> None:
    world = arranged.world
    payload = {"inbox_id": world.chat.id, "contact_id": world.contact.id, field: value}
    error = assert_error(
        client.post(f"{API}/conversations", json=payload), 422, "validation_failed"
    )
    assert error["details"]["field"] == field


def test_message_bodies_are_checked(client: TestClient, arranged: Arranged) -> None:
    conversation = arranged.conversation
    url = f"{API}/conversations/{conversation.id}/messages"
    one_megabyte = "x" * (1024 * 1024)
    assert_error(client.post(url, json={"body": one_megabyte}), 422, "validation_error")
    too_long = assert_error(client.post(url, json={"body": "y" * 20_001}), 422, "validation_failed")
    assert too_long["details"]["max_chars"] == 20_000
    assert_error(client.post(url, json={"body": "   \n\t "}), 422, "validation_failed")
    assert_error(client.post(url, json={"body": "nul\x00byte"}), 422, "validation_error")
    assert_error(client.post(url, json={"body": 42}), 422, "validation_error")
    assert_error(client.post(url, json={"body": "hi", "kind": "shout"}), 422, "validation_error")
    assert_error(client.post(url, json={"text": "hi"}), 422, "validation_error")
    long_id = {"body": "hi", "client_message_id": "x" * 65}
    assert_error(client.post(url, json=long_id), 422, "validation_error")
    incoming = f"{API}/conversations/{conversation.id}/incoming"
    assert_error(client.post(incoming, json={"body": "z" * 20_001}), 422, "validation_failed")


def test_the_message_limit_comes_from_the_settings(client: TestClient, arranged: Arranged) -> None:
    client.app.state.settings.max_message_chars = 100  # type: ignore[attr-defined]
    conversation = arranged.conversation
    url = f"{API}/conversations/{conversation.id}/messages"
    error = assert_error(client.post(url, json={"body": "a" * 101}), 422, "validation_failed")
    assert error["details"]["max_chars"] == 100


def test_status_changes_are_checked(client: TestClient, arranged: Arranged) -> None:
    conversation = arranged.conversation
    url = f"{API}/conversations/{conversation.id}/status"
    assert_error(client.post(url, json={"status": "archived"}), 422, "validation_error")
    assert_error(client.post(url, json={}), 422, "validation_error")
    naive = {"status": "pending", "snooze_until": "2026-03-05T09:00:00"}
    assert_error(client.post(url, json=naive), 422, "validation_error")
    assert_error(client.post(url, json={"status": "closed"}), 409, "invalid_transition")
    assert_error(client.post(url, json={"status": "open"}), 409, "invalid_transition")
    snooze_open = {"status": "open", "snooze_until": "2026-03-05T09:00:00Z"}
    assert_error(client.post(url, json=snooze_open), 409, "invalid_transition")


def test_unknown_and_malformed_conversation_ids(client: TestClient, arranged: Arranged) -> None:
    for path in ("999999", "999999/history"):
        assert_error(client.get(f"{API}/conversations/{path}"), 404, "not_found")
    for bad in ("abc", "0", "-1", "99999999999999999999"):
        assert_error(client.get(f"{API}/conversations/{bad}"), 422, "validation_error")
    assert_error(
        client.get(f"{API}/conversations", params={"team_id": "99999999999999999999"}),
        422,
        "validation_error",
    )
    assert_error(
        client.get(f"{API}/conversations/999999/history", params={"after_seq": -1}),
        422,
        "validation_error",
    )


def test_other_writes_are_checked(client: TestClient, arranged: Arranged) -> None:
    conversation = arranged.conversation
    url = f"{API}/conversations/{conversation.id}"
    assert_error(client.post(f"{url}/assign", json={}), 422, "validation_error")
    assert_error(client.post(f"{url}/assign", json={"assignee_id": "me"}), 422, "validation_error")
    assert_error(client.put(f"{url}/tags", json={"tags": [1, 2]}), 422, "validation_error")
    assert_error(client.put(f"{url}/tags", json={"tags": "vip"}), 422, "validation_error")
    assert_error(client.post(f"{url}/transfer", json={}), 422, "validation_failed")
    unknown_team = client.post(f"{url}/transfer", json={"to_team_id": 999_999})
    assert_error(unknown_team, 422, "validation_failed")
    assert_error(client.patch(url, json={"priority": "whenever"}), 422, "validation_error")
    assert_error(client.patch(url, json={"category": "not a slug!"}), 422, "validation_failed")
    assert_error(client.patch(url, json={"subject": "s" * 301}), 422, "validation_error")
    assert_error(client.patch(url, json={"status": "solved"}), 422, "validation_error")


def test_nul_characters_never_reach_the_database(client: TestClient, arranged: Arranged) -> None:
    """PostgreSQL cannot store NUL in text or JSON; every way in answers 422 instead."""
    url = f"{API}/conversations/{arranged.conversation.id}"
    searches = [
        (f"{API}/conversations", {"q": "a\x00b"}),
        (f"{API}/conversations", {"tag": "\x00"}),
        (f"{API}/conversations", {"category": "x\x00"}),
        (f"{API}/contacts", {"q": "\x00"}),
    ]
    for path, params in searches:
        assert client.get(path, params=params).status_code == 422, params
    writes = [
        ("patch", url, {"subject": "a\x00"}),
        ("put", f"{url}/tags", {"tags": ["a\x00"]}),
        ("post", f"{url}/transfer", {"to_team_id": arranged.world.team_a.id, "note": "\x00"}),
        ("post", f"{API}/contacts", {"email": "a\x00@b.example"}),
        ("post", f"{API}/contacts", {"custom_attributes": {"k": "v\x00"}}),
        ("post", f"{API}/contacts/identify", {"external_id": "e\x00"}),
    ]
    for method, path, payload in writes:
        response = client.request(method, path, json=payload)
        assert response.status_code == 422, (path, payload, response.text)
