"""Synthetic support data at scale, bulk-inserted for benchmarks.

Deterministic (fixed seed): teams, inboxes, agents, contacts, conversations with
messages and activities, shaped like a busy shop's history.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, update

from helpline.adapters.db.models import (
    Activity,
    Contact,
    Conversation,
    ConversationTag,
    Counter,
    Inbox,
    InboxMember,
    Message,
    Team,
    TeamMember,
    User,
)
from helpline.adapters.passwords import hash_password

BENCH_PASSWORD = "bench-password-123"
CATEGORIES = ["billing", "account", "technical", "orders", "sales", "general"]
STATUSES = ["open"] * 3 + ["pending", "on_hold"] + ["solved"] * 3 + ["closed"] * 4
PRIORITIES = ["urgent", "high", "normal", "normal", "normal", "low"]
CHANNELS = ["chat", "email", "phone"]
BATCH = 5_000


@dataclass(frozen=True)
class BenchData:
    agent_email: str
    agent_id: int
    conversation_ids_visible: list[int]
    conversation_ids_replyable: list[int]
    """Visible and not closed: agents may still write in them."""


def _batched_insert(engine: Engine, model: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for start in range(0, len(rows), BATCH):
            conn.execute(insert(model), rows[start : start + BATCH])


def generate(
    engine: Engine,
    *,
    conversations: int,
    messages_per_conversation: int,
    agents: int = 60,
    contacts: int = 20_000,
    seed: int = 7,
) -> BenchData:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    password_hash = hash_password(BENCH_PASSWORD)

    teams = [
        {"id": i + 1, "name": c.title(), "categories": [c], "tier": 1}
        for i, c in enumerate(CATEGORIES)
    ]
    _batched_insert(engine, Team, teams)
    inboxes = [
        {
            "id": i + 1,
            "name": f"{ch} inbox",
            "channel": ch,
            "public_key": f"bench{ch}",
            "secret": "s" * 64,
            "settings": {},
        }
        for i, ch in enumerate(CHANNELS)
    ]
    _batched_insert(engine, Inbox, inboxes)
    users: list[dict[str, Any]] = [
        {
            "id": i + 1,
            "email": f"agent{i + 1}@bench.test",
            "name": f"Agent {i + 1}",
            "password_hash": password_hash,
            "role": "agent",
            "status": "online",
            "skills": [],
            "languages": ["en"],
        }
        for i in range(agents)
    ]
    _batched_insert(engine, User, users)
    _batched_insert(
        engine,
        TeamMember,
        [{"team_id": (i % len(teams)) + 1, "user_id": i + 1} for i in range(agents)],
    )
    _batched_insert(
        engine,
        InboxMember,
        [{"inbox_id": inbox["id"], "user_id": u["id"]} for inbox in inboxes for u in users],
    )
    _batched_insert(
        engine,
        Contact,
        [
            {
                "id": i + 1,
                "name": f"Customer {i + 1}",
                "email": f"c{i + 1}@shop.test",
                "plan": rng.choice([None, "free", "trial", "paid", "enterprise"]),
                "lifetime_value_cents": rng.randint(0, 500_000),
                "orders_count": rng.randint(0, 40),
                "custom_attributes": {},
            }
            for i in range(contacts)
        ],
    )

    conversation_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    activity_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    agent_id = 1
    visible: list[int] = []
    replyable: list[int] = []
    for cid in range(1, conversations + 1):
        category_index = rng.randrange(len(CATEGORIES))
        team_id = category_index + 1
        created = now - timedelta(minutes=rng.randint(10, 60 * 24 * 365))
        status = rng.choice(STATUSES)
        assignee = rng.choice(
            [u["id"] for u in users if (u["id"] - 1) % len(teams) + 1 == team_id] + [None]
        )
        inbox_id = rng.randrange(len(CHANNELS)) + 1
        seq = 0
        last = created
        for m in range(messages_per_conversation):
            seq += 1
            last = created + timedelta(minutes=m * 3)
            from_contact = m % 2 == 0
            message_rows.append(
                {
                    "conversation_id": cid,
                    "seq": seq,
                    "author_type": "contact" if from_contact else "agent",
                    "author_user_id": None if from_contact else assignee,
                    "author_contact_id": None,
                    "kind": "reply",
                    "body": f"Message {m} about order {rng.randint(1000, 99999)} and a problem.",
                    "attachments": [],
                    "created_at": last,
                }
            )
        seq += 1
        activity_rows.append(
            {
                "conversation_id": cid,
                "seq": seq,
                "kind": "status_changed",
                "actor_type": "agent",
                "actor_user_id": assignee,
                "data": {"from": "open", "to": status},
                "created_at": last,
            }
        )
        conversation_rows.append(
            {
                "id": cid,
                "number": cid,
                "inbox_id": inbox_id,
                "channel": CHANNELS[inbox_id - 1],
                "contact_id": rng.randint(1, contacts),
                "subject": f"Question {cid}",
                "status": status,
                "priority": rng.choice(PRIORITIES),
                "priority_score": rng.random() * 100,
                "category": CATEGORIES[category_index],
                "team_id": team_id,
                "assignee_id": assignee,
                "language": "en",
                "created_at": created,
                "updated_at": last,
                "last_activity_at": last,
                "waiting_since": last if status == "open" else None,
                "last_seq": seq,
                "custom_attributes": {},
            }
        )
        if rng.random() < 0.3:
            tag_rows.append({"conversation_id": cid, "tag": rng.choice(["vip", "refund", "bug"])})
        if team_id == 1 or assignee == agent_id:
            visible.append(cid)
            if status != "closed":
                replyable.append(cid)
        if len(message_rows) >= 100_000:
            _flush(engine, conversation_rows, message_rows, activity_rows, tag_rows)
    _flush(engine, conversation_rows, message_rows, activity_rows, tag_rows)
    with engine.begin() as conn:
        conn.execute(insert(Counter).values(name="conversation", value=conversations))
        conn.execute(update(User).values(status="online"))
    return BenchData(
        agent_email="agent1@bench.test",
        agent_id=agent_id,
        conversation_ids_visible=visible,
        conversation_ids_replyable=replyable,
    )


def _flush(
    engine: Engine,
    conversations: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    activities: list[dict[str, Any]],
    tags: list[dict[str, Any]],
) -> None:
    _batched_insert(engine, Conversation, conversations)
    _batched_insert(engine, Message, messages)
    _batched_insert(engine, Activity, activities)
    _batched_insert(engine, ConversationTag, tags)
    for rows in (conversations, messages, activities, tags):
        rows.clear()
