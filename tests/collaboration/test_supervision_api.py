"""The supervisor overview: waiting per priority and the longest wait, every
agent's status, load and chats, conversations at SLA risk; agents are refused."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Conversation
from tests.routing.support import API, build_org, customer, go_online, open_chat
from tests.support import FrozenClock, login


def test_the_overview_shows_queue_agents_and_sla_risk(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    org = build_org(db)
    go_online(client, org.anna)
    login(client, org.anna.email)
    served = open_chat(client, org.chat, customer(db, "Mia"), "Hello")["id"]
    login(client, org.anna.email)
    answered = client.post(f"{API}/conversations/{served}/messages", json={"body": "Hi Mia!"})
    assert answered.status_code == 201  # answered: stays Anna's when she steps away
    assert client.put(f"{API}/routing/status", json={"status": "away"}).status_code == 200
    urgent = open_chat(client, org.chat, customer(db, "Noor"), "Help", priority="urgent")["id"]
    open_chat(client, org.chat, customer(db, "Olek"), "Hi")
    at_risk = open_chat(client, org.chat, customer(db, "Pia"), "Hey")["id"]
    db.execute(
        update(Conversation)
        .where(Conversation.id == at_risk)
        .values(sla_state="active", first_response_due_at=clock() + timedelta(minutes=5))
    )
    db.commit()
    clock.advance(minutes=3)

    assert client.get(f"{API}/supervision/overview").status_code == 403
    login(client, org.sue.email)
    overview = client.get(f"{API}/supervision/overview")
    assert overview.status_code == 200, overview.text
    body = overview.json()
    queue = body["queue"]
    assert queue["waiting"] == 3
    assert queue["by_priority"] == {"urgent": 1, "high": 0, "normal": 2, "low": 0}
    assert queue["longest_wait_seconds"] == 180
    assert queue["items"][0]["conversation_id"] == urgent  # served first

    agents = {agent["name"]: agent for agent in body["agents"]}
    anna = agents["Anna"]
    assert (anna["status"], anna["open_chats"], anna["max_concurrent_chats"]) == ("away", 1, 3)
    assert anna["chats_today"] == 1
    assert [chat["conversation_id"] for chat in anna["conversations"]] == [served]
    assert agents["Ben"]["status"] == "offline"

    [risk] = body["at_risk"]
    assert risk["conversation_id"] == at_risk
    assert (risk["target"], risk["overdue"]) == ("first_response", False)
