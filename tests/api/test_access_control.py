"""Access control: a conversation an agent may not see does not exist for them,
whichever way they ask; and the SQL list filter agrees with the Python rule."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.base import utcnow
from helpline.adapters.db.models import Activity, Conversation, Message, Participant, User
from helpline.domain.access import can_see_conversation
from helpline.services.conversation_queries import (
    ConversationFilters,
    list_conversations,
    visibility_clause,
)
from helpline.services.conversations import can_see
from helpline.services.recipients import conversation_recipients, recipients_for
from helpline.services.viewer import load_viewer
from tests.api.test_conversations import API, build_world, count_rows
from tests.factories import make_conversation, make_inbox, make_team, make_user
from tests.support import login


def test_an_agent_of_team_a_cannot_reach_a_team_b_conversation_in_any_way(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    secret = make_conversation(
        db, world.mail, world.contact, team_id=world.team_b.id, subject="Secret server outage"
    )
    mine = make_conversation(db, world.chat, world.contact, subject="Secret santa gift")
    db.commit()
    login(client, world.agent_a.email)
    messages, activities = count_rows(db, Message), count_rows(db, Activity)
    url = f"{API}/conversations/{secret.id}"

    # Reading: by id, in the list, by text search, by number, in the history.
    response = client.get(url)
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "conversation not found",
        "details": {"resource": "conversation", "id": secret.id},
    }
    listed = client.get(f"{API}/conversations").json()
    assert [row["id"] for row in listed["data"]] == [mine.id]
    assert listed["count"] == 1
    searched = client.get(f"{API}/conversations", params={"q": "secret"}).json()
    assert [row["id"] for row in searched["data"]] == [mine.id]
    by_number = client.get(f"{API}/conversations", params={"q": f"#{secret.number}"}).json()
    assert by_number["data"] == []
    by_team = client.get(f"{API}/conversations", params={"team_id": world.team_b.id}).json()
    assert by_team["data"] == []
    assert client.get(f"{url}/history").status_code == 404

    # Writing: every write path answers 404, exactly like a missing conversation.
    writes = [
        ("post", f"{url}/messages", {"body": "hello"}),
        ("post", f"{url}/messages", {"body": "psst", "kind": "note"}),
        ("post", f"{url}/incoming", {"body": "hello"}),
        ("post", f"{url}/status", {"status": "solved"}),
        ("put", f"{url}/tags", {"tags": ["x"]}),
        ("post", f"{url}/assign", {"assignee_id": world.agent_a.id}),
        ("post", f"{url}/transfer", {"to_team_id": world.team_a.id}),
        ("patch", url, {"priority": "urgent"}),
    ]
    for method, path, payload in writes:
        response = client.request(method, path, json=payload)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
        missing = client.request(method, path.replace(str(secret.id), "999999"), json=payload)
        assert missing.status_code == 404

    assert count_rows(db, Message) == messages
    assert count_rows(db, Activity) == activities
    db.refresh(secret)
    assert (secret.status, secret.priority, secret.assignee_id) == (
        "open",
        "normal",
        None,
    )
    db.commit()  # end the read transaction before the app writes again

    # Ben (team B) and the admin do see it.
    login(client, world.agent_b.email)
    assert client.get(url).status_code == 200
    login(client, world.admin.email)
    assert client.get(url).status_code == 200


def test_a_supervisor_sees_other_teams_conversations_in_their_inboxes(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    other_team_in_chat = make_conversation(db, world.chat, world.contact, team_id=world.team_b.id)
    db.commit()
    login(client, world.agent_a.email)
    assert client.get(f"{API}/conversations/{other_team_in_chat.id}").status_code == 404
    login(client, world.supervisor.email)
    assert client.get(f"{API}/conversations/{other_team_in_chat.id}").status_code == 200


def test_every_endpoint_needs_a_signed_in_user(client: TestClient, db: Session) -> None:
    world = build_world(db)
    conversation = make_conversation(db, world.chat, world.contact)
    db.commit()
    url = f"{API}/conversations/{conversation.id}"
    for method, path in [
        ("get", f"{API}/conversations"),
        ("post", f"{API}/conversations"),
        ("get", url),
        ("get", f"{url}/history"),
        ("post", f"{url}/messages"),
    ]:
        assert client.request(method, path, json={}).status_code == 401


def test_cookie_sessions_need_the_csrf_token_to_write(client: TestClient, db: Session) -> None:
    world = build_world(db)
    conversation = make_conversation(db, world.chat, world.contact)
    db.commit()
    login(client, world.agent_a.email)
    del client.headers["X-CSRF-Token"]
    response = client.post(f"{API}/conversations/{conversation.id}/messages", json={"body": "hi"})
    assert response.status_code == 403
    assert count_rows(db, Message) == 0


def test_the_sql_filter_and_the_recipients_agree_with_the_access_rule(db: Session) -> None:
    """A grid of viewers x conversations: list_conversations, the raw WHERE clause
    and the event recipients must each give exactly what can_see_conversation says."""
    team_1, team_2 = make_team(db), make_team(db)
    inbox_1, inbox_2 = make_inbox(db), make_inbox(db, channel="email")
    users = [
        make_user(db, teams=[team_1], inboxes=[inbox_1]),
        make_user(db, teams=[team_2]),
        make_user(db, inboxes=[inbox_2]),
        make_user(db),
        make_user(db, teams=[team_1, team_2], inboxes=[inbox_1, inbox_2]),
        make_user(db, role="supervisor", teams=[team_1], inboxes=[inbox_1]),
        make_user(db, role="supervisor", inboxes=[inbox_2]),
        make_user(db, role="supervisor"),
        make_user(db, role="admin"),
        make_user(db, inboxes=[inbox_1], is_active=False),
    ]
    assignees: list[User | None] = [None, users[3], users[7], users[9]]
    conversations = [
        make_conversation(
            db,
            inbox,
            team_id=team.id if team else None,
            assignee_id=assignee.id if assignee else None,
        )
        for inbox, team, assignee in itertools.product(
            [inbox_1, inbox_2], [None, team_1, team_2], assignees
        )
    ]
    assert len(conversations) == 24
    # Participants: some joined (and stayed), some joined and left again.
    joined: dict[int, set[int]] = {c.id: set() for c in conversations}
    for index, conversation in enumerate(conversations):
        for offset, user in enumerate(users):
            if (index + offset) % 7 == 0:
                left = (index + offset) % 2 == 0
                db.add(
                    Participant(
                        conversation_id=conversation.id,
                        user_id=user.id,
                        left_at=utcnow() if left else None,
                    )
                )
                if not left:
                    joined[conversation.id].add(user.id)
    db.commit()
    assert sum(len(ids) for ids in joined.values()) > 5

    for user in users:
        viewer = load_viewer(db, user)
        expected = {
            c.id
            for c in conversations
            if can_see_conversation(
                viewer,
                assignee_id=c.assignee_id,
                team_id=c.team_id,
                inbox_id=c.inbox_id,
                participant_ids=joined[c.id],
            )
        }
        where = set(db.scalars(select(Conversation.id).where(visibility_clause(viewer))))
        listed = list_conversations(db, viewer, ConversationFilters(), limit=100)
        assert where == expected, user.email
        assert {row.conversation.id for row in listed.data} == expected, user.email
        assert listed.count == len(expected)
        assert {c.id for c in conversations if can_see(viewer, c)} == expected, user.email

    for conversation in conversations:
        expected_users = {
            user.id
            for user in users
            if user.is_active
            and can_see_conversation(
                load_viewer(db, user),
                assignee_id=conversation.assignee_id,
                team_id=conversation.team_id,
                inbox_id=conversation.inbox_id,
                participant_ids=joined[conversation.id],
            )
        }
        assert recipients_for(db, conversation) == expected_users  # cached configuration
        uncached = conversation_recipients(
            db,
            assignee_id=conversation.assignee_id,
            team_id=conversation.team_id,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation.id,
        )
        assert uncached == expected_users
