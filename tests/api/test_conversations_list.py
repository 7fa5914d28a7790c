"""The inbox list: filters, sorting, cursor pagination, capped counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Conversation, ConversationTag
from helpline.services import conversation_queries
from tests.api.test_conversations import API, build_world, create_conversation
from tests.factories import make_contact, make_conversation
from tests.support import FrozenClock, login


def list_page(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}/conversations", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def walk(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every row across all pages, following next_cursor."""
    rows: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = list_page(client, **params, **({"cursor": cursor} if cursor else {}))
        assert len(page["data"]) <= params.get("limit", 50)
        rows += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return rows
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("sort", ["last_activity", "created", "priority", "waiting"])
def test_cursor_pagination_returns_every_row_exactly_once_in_order(
    client: TestClient, db: Session, clock: FrozenClock, sort: str
) -> None:
    world = build_world(db)
    start = clock()
    expected: list[Conversation] = []
    for i in range(23):
        # Few distinct times and scores: ties must be broken by id, not lost.
        at = start - timedelta(minutes=i % 4)
        expected.append(
            make_conversation(
                db,
                world.chat,
                world.contact,
                created_at=at,
                priority_score=float(i % 3),
                waiting_since=None if i % 5 == 0 else at,
            )
        )
    make_conversation(db, world.mail, world.contact)  # not visible to Ana
    db.commit()
    login(client, world.agent_a.email)

    rows = walk(client, sort=sort, limit=5)

    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == 23
    if sort == "waiting":
        waiting = [c for c in expected if c.waiting_since is not None]
        idle = [c for c in expected if c.waiting_since is None]
        waiting.sort(key=lambda c: (c.waiting_since, c.id))
        idle.sort(key=lambda c: c.id)
        assert ids == [c.id for c in waiting + idle]
    else:
        column = {
            "last_activity": "last_activity_at",
            "created": "created_at",
            "priority": "priority_score",
        }[sort]
        assert ids == [
            c.id for c in sorted(expected, key=lambda c: (getattr(c, column), c.id), reverse=True)
        ]
    first = list_page(client, sort=sort, limit=5)
    assert first["count"] == 23
    assert first["count_capped"] is False


def test_a_cursor_from_another_sort_or_garbage_is_refused(client: TestClient, db: Session) -> None:
    world = build_world(db)
    for _ in range(3):
        make_conversation(db, world.chat, world.contact)
    db.commit()
    login(client, world.agent_a.email)
    cursor = list_page(client, limit=1)["next_cursor"]
    assert cursor
    for params in ({"cursor": cursor, "sort": "priority"}, {"cursor": "not-a-cursor"}):
        response = client.get(f"{API}/conversations", params=params)
        assert response.status_code == 422
        assert response.json()["error"]["details"]["field"] == "cursor"


def test_rows_changing_between_pages_are_not_repeated(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    login(client, world.agent_a.email)
    for i in range(4):
        clock.advance(minutes=1)
        create_conversation(
            client, inbox_id=world.chat.id, contact_id=world.contact.id, subject=f"c{i}"
        )
    first = list_page(client, limit=2)
    assert [row["subject"] for row in first["data"]] == ["c3", "c2"]
    # The newest conversation gets a reply: it moves up, behind the cursor.
    clock.advance(minutes=1)
    client.post(f"{API}/conversations/{first['data'][0]['id']}/messages", json={"body": "hi"})
    second = list_page(client, limit=2, cursor=first["next_cursor"])
    assert [row["subject"] for row in second["data"]] == ["c1", "c0"]
    assert second["next_cursor"] is None


def test_filters_narrow_the_list(client: TestClient, db: Session, clock: FrozenClock) -> None:
    world = build_world(db)
    dora = make_contact(db, "dora@explorer.example", name="Dora Explorer")
    open_mine = make_conversation(
        db, world.chat, world.contact, assignee_id=world.agent_a.id, priority="urgent"
    )
    pending = make_conversation(
        db, world.chat, dora, status="pending", category="billing", subject="Invoice copy"
    )
    solved_team = make_conversation(
        db, world.mail, world.contact, status="solved", team_id=world.team_a.id
    )
    on_hold_other = make_conversation(
        db, world.chat, world.contact, status="on_hold", assignee_id=world.agent_a2.id
    )
    db.add(ConversationTag(conversation_id=pending.id, tag="refund"))
    db.commit()
    login(client, world.agent_a.email)

    def ids(**params: Any) -> set[int]:
        page = list_page(client, **params)
        assert page["count"] == len(page["data"])
        return {row["id"] for row in page["data"]}

    everything = {open_mine.id, pending.id, solved_team.id, on_hold_other.id}
    assert ids() == everything
    assert ids(status="open") == {open_mine.id}
    assert ids(status=["pending", "solved"]) == {pending.id, solved_team.id}
    assert ids(assignee="me") == {open_mine.id}
    assert ids(assignee="unassigned") == {pending.id, solved_team.id}
    assert ids(assignee=str(world.agent_a2.id)) == {on_hold_other.id}
    assert ids(team_id=world.team_a.id) == {solved_team.id}
    assert ids(inbox_id=world.mail.id) == {solved_team.id}
    assert ids(channel="email") == {solved_team.id}
    assert ids(priority="urgent") == {open_mine.id}
    assert ids(category="billing") == {pending.id}
    assert ids(tag="Refund") == {pending.id}
    assert ids(q="invoice") == {pending.id}
    assert ids(q="EXPLORER") == {pending.id}
    assert ids(q="dora@explorer") == {pending.id}
    assert ids(q=f"#{solved_team.number}") == {solved_team.id}
    assert ids(q="100%_") == set()
    assert ids(status="open", assignee="unassigned") == set()

    for bad in ({"status": "nope"}, {"assignee": "someone"}, {"limit": 0}, {"limit": 101}):
        assert client.get(f"{API}/conversations", params=bad).status_code == 422


def test_list_rows_carry_contact_tags_team_and_assignee(client: TestClient, db: Session) -> None:
    world = build_world(db)
    conversation = make_conversation(
        db, world.chat, world.contact, assignee_id=world.agent_a.id, team_id=world.team_a.id
    )
    db.add_all(
        [
            ConversationTag(conversation_id=conversation.id, tag="vip"),
            ConversationTag(conversation_id=conversation.id, tag="refund"),
        ]
    )
    db.commit()
    login(client, world.agent_a.email)
    (row,) = list_page(client)["data"]
    assert row["number"] == conversation.number
    assert row["tags"] == ["refund", "vip"]
    assert row["team"] == {"id": world.team_a.id, "name": "Billing"}
    assert row["assignee"] == {"id": world.agent_a.id, "name": "Ana"}
    assert row["contact"]["name"] == "Carla"
    assert row["contact"]["plan"] == "paid"


def test_the_count_is_capped_and_says_so(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conversation_queries, "COUNT_CAP", 3)
    world = build_world(db)
    for _ in range(5):
        make_conversation(db, world.chat, world.contact)
    db.commit()
    login(client, world.agent_a.email)
    page = list_page(client, limit=2)
    assert page["count"] == 3
    assert page["count_capped"] is True
    exact = list_page(client, limit=2, assignee="me")
    assert (exact["count"], exact["count_capped"]) == (0, False)
