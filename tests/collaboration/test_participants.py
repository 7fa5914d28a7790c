"""Joining and leaving a conversation: a participant sees it, replies in it and
hears its events; leaving takes that away again; only the assignee, supervisors
and admins add or remove colleagues."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Activity, Participant
from helpline.services.events import LiveEvent, install_publisher
from helpline.services.participants import do_join, do_leave
from helpline.services.viewer import load_viewer
from tests.api.test_conversations import API, build_world, count_rows
from tests.factories import make_conversation
from tests.support import FrozenClock, login


def test_a_supervisor_adds_a_colleague_who_then_sees_replies_and_leaves(
    client: TestClient, db: Session
) -> None:
    world = build_world(db)
    # Team A's chat, assigned to Ana: Ben (team B, mail inbox only) cannot see it.
    conversation = make_conversation(
        db, world.chat, world.contact, team_id=world.team_a.id, assignee_id=world.agent_a.id
    )
    db.commit()
    url = f"{API}/conversations/{conversation.id}"

    login(client, world.agent_b.email)
    assert client.get(url).status_code == 404
    assert client.post(f"{url}/join").status_code == 404  # cannot join what you cannot see
    db.commit()

    # Ana (the assignee) may add a colleague; Abe (same team, not assignee) may not.
    login(client, world.agent_a2.email)
    refused = client.post(f"{url}/participants", json={"user_id": world.agent_b.id})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"

    login(client, world.supervisor.email)
    added = client.post(f"{url}/participants", json={"user_id": world.agent_b.id})
    assert added.status_code == 200, added.text
    assert [p["name"] for p in added.json()["data"]] == ["Ben"]
    again = client.post(f"{url}/participants", json={"user_id": world.agent_b.id})
    assert again.json()["count"] == 1  # adding twice changes nothing

    login(client, world.agent_b.email)
    assert client.get(url).status_code == 200
    listed = client.get(f"{API}/conversations").json()
    assert conversation.id in [row["id"] for row in listed["data"]]
    reply = client.post(f"{url}/messages", json={"body": "Ben here, I can help."})
    assert reply.status_code == 201, reply.text
    assert client.get(f"{url}/participants").json()["data"][0]["user_id"] == world.agent_b.id

    left = client.post(f"{url}/leave")
    assert left.status_code == 200 and left.json()["count"] == 0
    assert client.get(url).status_code == 404
    assert client.post(f"{url}/leave").status_code == 404

    kinds = [
        a.kind
        for a in db.scalars(
            select(Activity)
            .where(Activity.conversation_id == conversation.id)
            .order_by(Activity.seq)
        )
    ]
    assert kinds == ["participant_joined", "participant_left"]
    assert count_rows(db, Participant) == 1  # one row per agent, reused on rejoin


def test_join_and_leave_tell_the_participant_and_everyone_who_sees_it(
    db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    conversation = make_conversation(db, world.chat, world.contact, team_id=world.team_a.id)
    db.commit()
    heard: list[LiveEvent] = []
    install_publisher(db, heard.append)
    supervisor = load_viewer(db, world.supervisor)

    do_join(db, supervisor, conversation.id, now=clock(), user_id=world.agent_b.id)
    [joined] = heard
    assert joined.type == "conversation.updated"
    assert joined.payload["activities"][0]["kind"] == "participant_joined"
    team_a = {world.agent_a.id, world.agent_a2.id, world.supervisor.id, world.admin.id}
    assert joined.user_ids == team_a | {world.agent_b.id}

    heard.clear()
    do_leave(db, load_viewer(db, world.agent_b), conversation.id, now=clock())
    [left] = heard
    assert left.payload["activities"][0]["kind"] == "participant_left"
    # Ben hears that he left (his screens drop the conversation), then nothing more.
    assert left.user_ids == team_a | {world.agent_b.id}
    heard.clear()
    do_join(db, load_viewer(db, world.agent_a), conversation.id, now=clock())
    assert world.agent_b.id not in heard[0].user_ids


def test_an_agent_removes_only_themselves_unless_assignee(client: TestClient, db: Session) -> None:
    world = build_world(db)
    conversation = make_conversation(db, world.chat, world.contact, team_id=world.team_a.id)
    db.commit()
    url = f"{API}/conversations/{conversation.id}"
    login(client, world.agent_a.email)
    assert client.post(f"{url}/join").status_code == 200
    login(client, world.agent_a2.email)
    assert client.post(f"{url}/join").json()["count"] == 2
    refused = client.delete(f"{url}/participants/{world.agent_a.id}")
    assert refused.status_code == 403
    assert client.delete(f"{url}/participants/{world.agent_a2.id}").json()["count"] == 1
    login(client, world.admin.email)
    assert client.delete(f"{url}/participants/{world.agent_a.id}").json()["count"] == 0
