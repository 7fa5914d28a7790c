"""Routing as agents and customers live it, through the API, on both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.services.events import LiveEvent
from helpline.settings import Settings
from tests.routing.support import (
    API,
    activities,
    assignee_id,
    build_org,
    conversation,
    customer,
    go_online,
    history,
    open_chat,
    set_status,
    tick,
)
from tests.support import FrozenClock, login


def test_the_seed_example_is_served_in_order_paying_login_problem_prospect_trial(
    client: TestClient, db: Session, clock: FrozenClock, settings: Settings
) -> None:
    org = build_org(db)
    trial = customer(db, "Tina Trial", plan="trial", orders_count=0)
    prospect = customer(db, "Pablo Prospect")
    paying = customer(db, "Paula Paid", plan="paid", orders_count=1)
    for agent in (org.anna, org.ben):
        agent.max_concurrent_chats = 1
    db.commit()
    # Ben is online and busy with one chat; three more arrive and wait: the trial
    # user longest (60 s), the paying customer who cannot log in shortest (20 s).
    go_online(client, org.ben)
    busy = open_chat(client, org.chat, customer(db, "Busy Bea"), "Hi")
    assert assignee_id(client, busy["id"]) == org.ben.id
    client.post(f"{API}/conversations/{busy['id']}/messages", json={"body": "Hi Bea!"})
    login(client, org.admin.email)
    upgrade = open_chat(client, org.chat, trial, "How do I upgrade?", category="sales")
    clock.advance(seconds=20)
    prices = open_chat(client, org.chat, prospect, "What does it cost?", category="sales")
    clock.advance(seconds=20)
    login_problem = open_chat(
        client, org.chat, paying, "I cannot log in, it says system error", category="account"
    )
    clock.advance(seconds=20)
    tick(db, clock, settings)

    queue = client.get(f"{API}/routing/queue").json()
    assert [entry["conversation_id"] for entry in queue["data"]] == [
        login_problem["id"],
        prices["id"],
        upgrade["id"],
    ]
    assert [entry["position"] for entry in queue["data"]] == [1, 2, 3]
    first, second, third = queue["data"]
    assert first["explanation"] == "urgent: account problem +40, paid plan +15, waiting 20 s +1"
    assert second["explanation"] == "first-time customer +10, waiting 40 s +2"
    assert third["explanation"] == "trial plan +5, waiting 1 min +3"
    assert first["priority_score"] == 56.0
    assert first["estimated_wait_seconds"] > 0  # Ben is busy: it waits for him
    assert third["estimated_wait_seconds"] > first["estimated_wait_seconds"]

    # The stored score follows (re-scored on the tick), so the inbox sorts by it too.
    listed = client.get(
        f"{API}/conversations", params={"sort": "priority", "assignee": "unassigned"}
    ).json()["data"]
    assert [c["id"] for c in listed] == [login_problem["id"], prices["id"], upgrade["id"]]
    assert listed[0]["priority_breakdown"][0] == {"reason": "urgent: account problem", "points": 40}

    # Anna, with room for one chat, comes online: the paying customer goes first.
    go_online(client, org.anna)
    assert assignee_id(client, login_problem["id"]) == org.anna.id
    assert assignee_id(client, prices["id"]) is None
    routed = activities(client, login_problem["id"], "assigned")[-1]
    assert routed["actor_user_id"] is None
    assert routed["data"]["to"] == org.anna.id


def test_an_agent_on_a_break_receives_nothing_new(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    org = build_org(db)
    go_online(client, org.anna, org.ben)
    login(client, org.anna.email)
    set_status(client, "on_break")

    login(client, org.sue.email)
    chats = [open_chat(client, org.chat, customer(db, f"Customer {n}")) for n in range(3)]
    assert {assignee_id(client, chat["id"]) for chat in chats} == {org.ben.id}

    # Ben is full (3 chats): the fourth waits rather than going to Anna on her break.
    fourth = open_chat(client, org.chat, customer(db, "Customer 4"))
    assert assignee_id(client, fourth["id"]) is None
    queued = client.get(f"{API}/conversations/{fourth['id']}/queue").json()
    assert queued["waiting"] is True
    assert queued["position"] == 1
    assert (
        queued["reason"] == "every eligible agent is at capacity"
        or queued["estimated_wait_seconds"] is not None
    )

    # Back from the break: the waiting chat is hers at once.
    login(client, org.anna.email)
    set_status(client, "online")
    assert assignee_id(client, fourth["id"]) == org.anna.id


def test_a_returning_customer_gets_their_previous_agent_when_free(
    client: TestClient, db: Session, clock: FrozenClock, settings: Settings
) -> None:
    org = build_org(db)
    regular = customer(db, "Rita Regular", plan="paid", orders_count=4)
    go_online(client, org.anna, org.ben)
    login(client, org.sue.email)

    # Last week Ben helped Rita.
    first = open_chat(client, org.chat, regular, "Where is my parcel?")
    helped_by = assignee_id(client, first["id"])
    assert helped_by is not None
    other = org.anna if helped_by == org.ben.id else org.ben
    previous = org.ben if helped_by == org.ben.id else org.anna
    client.post(f"{API}/conversations/{first['id']}/status", json={"status": "solved"})
    clock.advance(days=7)

    # Her previous agent is busier than the colleague, and still gets her new chat.
    busy = open_chat(client, org.chat, customer(db, "Someone else"))
    client.post(f"{API}/conversations/{busy['id']}/assign", json={"assignee_id": previous.id})
    again = open_chat(client, org.chat, regular, "The parcel came, but one item is missing")
    assert assignee_id(client, again["id"]) == previous.id
    reason = activities(client, again["id"], "assigned")[-1]["data"]["reason"]
    assert reason == "returning customer: their previous agent"

    # When the previous agent is full, she waits for them a while, then anyone helps.
    for n in range(2):
        extra = open_chat(client, org.chat, customer(db, f"Filler {n}"))
        client.post(f"{API}/conversations/{extra['id']}/assign", json={"assignee_id": previous.id})
    third = open_chat(client, org.chat, regular, "And one more question")
    assert assignee_id(client, third["id"]) is None
    clock.advance(seconds=settings.routing_sticky_wait_seconds + 1)
    tick(db, clock, settings)
    assert assignee_id(client, third["id"]) == other.id


def test_an_unanswered_chat_moves_to_someone_else_after_45_seconds(
    client: TestClient, db: Session, clock: FrozenClock, settings: Settings
) -> None:
    org = build_org(db)
    go_online(client, org.anna, org.ben)
    login(client, org.sue.email)
    chat = open_chat(client, org.chat, customer(db, "Impatient Ivy"), "Anyone there?")
    first_agent = assignee_id(client, chat["id"])
    assert first_agent in (org.anna.id, org.ben.id)
    second_agent = org.ben.id if first_agent == org.anna.id else org.anna.id

    clock.advance(seconds=44)
    assert tick(db, clock, settings)["reoffered"] == 0
    assert assignee_id(client, chat["id"]) == first_agent

    clock.advance(seconds=2)
    assert tick(db, clock, settings)["reoffered"] == 1
    assert assignee_id(client, chat["id"]) == second_agent
    reoffered = activities(client, chat["id"], "reoffered")
    assert len(reoffered) == 1
    assert reoffered[0]["data"]["from"] == first_agent
    assert reoffered[0]["data"]["reason"] == "unanswered"

    # The second agent answers in time: the chat stays with them.
    login(client, org.anna.email if second_agent == org.anna.id else org.ben.email)
    reply = client.post(f"{API}/conversations/{chat['id']}/messages", json={"body": "Hi Ivy!"})
    assert reply.status_code == 201
    clock.advance(minutes=5)
    tick(db, clock, settings)
    assert assignee_id(client, chat["id"]) == second_agent


def test_a_refund_request_above_the_agents_authority_escalates_to_the_supervisor(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    org = build_org(db)
    login(client, org.admin.email)
    installed = client.post(
        f"{API}/routing/rules/builtin",
        json={"tier2_team_id": org.tier2.id, "security_team_id": org.security.id},
    )
    assert installed.status_code == 200, installed.text
    go_online(client, org.anna)
    chat = open_chat(client, org.chat, customer(db, "Rob Refund"), "I want my money back")
    assert assignee_id(client, chat["id"]) == org.anna.id
    events: list[LiveEvent] = []
    unsubscribe = client.app.state.bus.subscribe(events.append)  # type: ignore[attr-defined]
    try:
        # Within Anna's authority (50.00): nothing happens.
        small = client.post(
            f"{API}/conversations/{chat['id']}/refund-request", json={"amount_cents": 4_000}
        )
        assert small.status_code == 200, small.text
        assert "refund-approval" not in small.json()["tags"]
        big = client.post(
            f"{API}/conversations/{chat['id']}/refund-request", json={"amount_cents": 25_000}
        )
    finally:
        unsubscribe()
    assert big.status_code == 200, big.text
    assert "refund-approval" in big.json()["tags"]
    escalated = activities(client, chat["id"], "escalated")
    assert len(escalated) == 1
    assert escalated[0]["data"]["rules"] == ["Refund above the agent's authority"]
    assert escalated[0]["data"]["notified"] == [org.sue.id]
    notices = [event for event in events if event.type == "escalation.notified"]
    assert len(notices) == 1
    assert notices[0].user_ids == {org.sue.id}
    # Anna keeps the conversation; the supervisor approves.
    assert assignee_id(client, chat["id"]) == org.anna.id


def test_a_transfer_keeps_the_history_and_tells_the_customer(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    org = build_org(db)
    go_online(client, org.anna, org.tess)
    login(client, org.anna.email)
    chat = open_chat(client, org.chat, customer(db, "Theo Tech"), "The app crashes on start")
    client.post(f"{API}/conversations/{chat['id']}/assign", json={"assignee_id": org.anna.id})
    client.post(f"{API}/conversations/{chat['id']}/messages", json={"body": "Let me check."})
    moved = client.post(
        f"{API}/conversations/{chat['id']}/transfer", json={"to_team_id": org.tier2.id}
    )
    assert moved.status_code == 200, moved.text

    login(client, org.tess.email)
    entries = history(client, chat["id"])
    bodies = [entry["message"]["body"] for entry in entries if entry["kind"] == "message"]
    assert bodies[:2] == ["The app crashes on start", "Let me check."]
    notice = [e["message"] for e in entries if e["kind"] == "message"][-1]
    assert notice["author_type"] == "system"
    assert notice["kind"] == "reply"  # the customer sees it
    assert "no need to repeat" in notice["body"]
    # The tier-2 team's conversation went to its tier-2 agent.
    assert conversation(client, chat["id"])["assignee"]["id"] == org.tess.id
