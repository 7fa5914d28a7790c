"""Queue position and expected wait, checked against Erlang C."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpline.domain.enums import AgentStatus, Priority
from helpline.domain.routing.config import RoutingConfig, Strategy
from helpline.domain.routing.expected_wait import NO_AGENT_ONLINE, expected_waits
from helpline.domain.routing.model import AgentState, QueuedConversation, TeamInfo

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TEAMS = [TeamInfo(id=1)]


def agent(agent_id: int, **fields: Any) -> AgentState:
    fields.setdefault("team_ids", frozenset({1}))
    return AgentState(id=agent_id, **fields)


def chat(conversation_id: int, waited_seconds: float = 0, **fields: Any) -> QueuedConversation:
    return QueuedConversation(
        id=conversation_id, waiting_since=NOW - timedelta(seconds=waited_seconds), **fields
    )


def test_position_counts_only_conversations_competing_for_the_same_agents() -> None:
    agents = [
        agent(1, skills=frozenset({"billing"}), open_chats=3),
        agent(2, skills=frozenset({"sales"}), open_chats=3),
    ]
    queue = [
        chat(10, 300, category="billing"),
        chat(11, 200, category="sales"),
        chat(12, 100, category="billing"),
        chat(13, 50, category="sales"),
    ]
    waits = expected_waits(queue, agents, TEAMS, NOW)
    assert {cid: w.position for cid, w in waits.items()} == {10: 1, 11: 1, 12: 2, 13: 2}


def test_an_agent_handling_both_categories_links_the_two_queues() -> None:
    agents = [
        agent(1, skills=frozenset({"billing"}), open_chats=3),
        agent(2, skills=frozenset({"billing", "sales"}), open_chats=3),
    ]
    queue = [chat(10, 300, category="billing"), chat(11, 200, category="sales")]
    assert expected_waits(queue, agents, TEAMS, NOW)[11].ahead == 1


def test_position_grows_when_an_urgent_chat_arrives() -> None:
    agents = [agent(1, open_chats=3)]
    queue = [chat(10, 120), chat(11, 60)]
    before = expected_waits(queue, agents, TEAMS, NOW)
    urgent = chat(12, 0, priority=Priority.URGENT, category="account")
    after = expected_waits([*queue, urgent], agents, TEAMS, NOW)
    assert (before[10].position, before[11].position) == (1, 2)
    assert (after[12].position, after[10].position, after[11].position) == (1, 2, 3)
    assert after[11].seconds is not None and before[11].seconds is not None
    assert after[11].seconds > before[11].seconds


def test_fifo_positions_follow_arrival_whatever_the_urgency() -> None:
    agents = [agent(1, open_chats=3)]
    queue = [chat(10, 120), chat(12, 0, priority=Priority.URGENT)]
    waits = expected_waits(queue, agents, TEAMS, NOW, RoutingConfig(strategy=Strategy.FIFO))
    assert (waits[10].position, waits[12].position) == (1, 2)


def test_no_wait_while_an_agent_has_room() -> None:
    waits = expected_waits([chat(10), chat(11)], [agent(1, open_chats=1)], TEAMS, NOW)
    assert waits[10].seconds == 0 and waits[11].seconds == 0
    assert waits[10].reason == "an agent has room now"


def test_wait_comes_from_the_pool_s_recent_service_rate() -> None:
    agents = [
        agent(1, max_concurrent_chats=1, open_chats=1),
        agent(2, max_concurrent_chats=1, open_chats=1),
    ]
    queue = [chat(10, 30), chat(11, 20), chat(12, 10)]
    waits = expected_waits(queue, agents, TEAMS, NOW, completions_per_minute={1: 1.0, 2: 1.0})
    # Two agents finish two chats a minute: the third in line waits for the third slot.
    assert [waits[c].seconds for c in (10, 11, 12)] == [30.0, 60.0, 90.0]
    assert waits[12].reason == "recent service rate"


def test_without_history_the_expected_handling_time_gives_the_rate() -> None:
    agents = [agent(1, max_concurrent_chats=2, open_chats=2)]
    waits = expected_waits([chat(10, category="billing")], agents, TEAMS, NOW)
    # Two chats per 8 minutes of billing work: the next slot frees in 4 minutes.
    assert waits[10].seconds == 240.0
    assert waits[10].reason.startswith("expected handling time")


def test_no_agent_online_gives_no_estimate_and_says_why() -> None:
    agents = [agent(1, status=AgentStatus.OFFLINE), agent(2, status=AgentStatus.ON_BREAK)]
    waits = expected_waits([chat(10, 60), chat(11, 30)], agents, TEAMS, NOW)
    assert waits[10].seconds is None and waits[10].reason == NO_AGENT_ONLINE
    assert (waits[10].position, waits[11].position) == (1, 2)


def test_estimate_averages_to_erlang_c_speed_of_answer() -> None:
    """An M/M/N queue in its steady state: averaging our estimate over what an
    arriving customer finds gives the Erlang C average speed of answer."""
    reference = json.loads((Path(__file__).parent / "erlang_reference_values.json").read_text())
    case = next(c for c in reference["erlang_c"]["cases"] if c["N"] == 14)
    traffic, servers, handling = case["A"], case["N"], case["aht_minutes"]
    arrivals = traffic / handling

    # What a newcomer finding k customers already waiting is told: ask the estimator
    # about one long queue in front of fully busy one-chat agents.
    waiting_max = 400
    agents = [agent(i, max_concurrent_chats=1, open_chats=1) for i in range(1, servers + 1)]
    queue = [chat(k, waiting_max - k) for k in range(waiting_max)]
    rates = {a.id: 1 / handling for a in agents}
    waits = expected_waits(queue, agents, TEAMS, NOW, completions_per_minute=rates)
    told = [waits[k].seconds or 0.0 for k in range(waiting_max)]
    assert all(waits[k].seconds for k in range(waiting_max))
    free_agent = [agent(1, max_concurrent_chats=1)]
    assert expected_waits([chat(0)], free_agent, TEAMS, NOW)[0].seconds == 0

    # Steady state of the birth-death chain, written out independently of queueing.py.
    weights = [1.0]
    for n in range(1, servers + waiting_max):
        weights.append(weights[-1] * arrivals / (min(n, servers) / handling))
    total = sum(weights)
    mean_seconds = sum(weights[servers + k] / total * told[k] for k in range(waiting_max))
    assert mean_seconds == pytest.approx(case["asa_seconds"], abs=0.1)
    assert math.isclose(mean_seconds, 7.836, abs_tol=0.01)
