"""Routing strategies, sticky agents and re-offering unanswered chats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpline.domain.enums import AgentStatus, Channel, Plan, Priority
from helpline.domain.routing.config import RoutingConfig, Strategy
from helpline.domain.routing.model import AgentState, QueuedConversation, TeamInfo
from helpline.domain.routing.strategies import (
    Assignment,
    Held,
    OpenAssignment,
    ReofferReason,
    Router,
    Unrouted,
    next_for_agent,
    reoffer_due,
    route,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TEAMS = [TeamInfo(id=1)]


def agent(agent_id: int, **fields: Any) -> AgentState:
    fields.setdefault("team_ids", frozenset({1}))
    return AgentState(id=agent_id, **fields)


def chat(conversation_id: int, waited_seconds: float = 0, **fields: Any) -> QueuedConversation:
    return QueuedConversation(
        id=conversation_id, waiting_since=NOW - timedelta(seconds=waited_seconds), **fields
    )


def pairs(
    queue: list[QueuedConversation], agents: list[AgentState], **config: Any
) -> list[tuple[int, int]]:
    plan = route(queue, agents, TEAMS, NOW, RoutingConfig(**config))
    return [(a.conversation_id, a.agent_id) for a in plan.assignments]


# -- priority (default) -------------------------------------------------------------------


def test_priority_serves_the_highest_score_first_to_the_least_loaded_agent() -> None:
    queue = [
        chat(1, 300),
        chat(2, 10, priority=Priority.URGENT, plan=Plan.PAID),
        chat(3, 60),
    ]
    agents = [agent(7, open_chats=2), agent(8, open_chats=0, max_concurrent_chats=1)]
    plan = route(queue, agents, TEAMS, NOW)
    assert [(a.conversation_id, a.agent_id) for a in plan.assignments] == [(2, 8), (1, 7)]
    first, second = (a.score for a in plan.assignments)
    assert first is not None and second is not None
    assert first.total > second.total
    assert plan.unrouted == (Unrouted(3, "every eligible agent is at capacity"),)
    assert plan.loads == {7: 3.0, 8: 1.0}


def test_ties_between_agents_go_to_the_one_waiting_longest_for_work_then_lowest_id() -> None:
    agents = [
        agent(1, last_assigned_at=NOW - timedelta(minutes=1)),
        agent(2, last_assigned_at=NOW - timedelta(minutes=9)),
        agent(3, last_assigned_at=None),
        agent(4, last_assigned_at=None),
    ]
    assert pairs([chat(10, 30), chat(11, 20), chat(12, 10), chat(13, 5)], agents) == [
        (10, 3),
        (11, 4),
        (12, 2),
        (13, 1),
    ]


# -- the other strategies -----------------------------------------------------------------


def test_fifo_serves_the_longest_waiting_first_whatever_the_score() -> None:
    queue = [chat(1, 10, priority=Priority.URGENT), chat(2, 50), chat(3, 30)]
    assert pairs(queue, [agent(7, max_concurrent_chats=2)], strategy=Strategy.FIFO) == [
        (2, 7),
        (3, 7),
    ]


def test_round_robin_takes_agents_in_turn_regardless_of_load() -> None:
    agents = [
        agent(1, open_chats=2, last_assigned_at=NOW - timedelta(minutes=30)),
        agent(2, open_chats=0, last_assigned_at=NOW - timedelta(minutes=5)),
    ]
    queue = [chat(10, 40), chat(11, 30), chat(12, 20)]
    assert pairs(queue, agents, strategy=Strategy.ROUND_ROBIN) == [(10, 1), (11, 2), (12, 2)]


def test_least_loaded_picks_fewest_open_chats_and_breaks_ties_by_longest_since_assignment() -> None:
    agents = [
        agent(1, open_chats=1, open_email_tickets=0),
        agent(2, open_chats=0, open_email_tickets=4, max_concurrent_chats=5),
        agent(3, open_chats=0, last_assigned_at=NOW - timedelta(minutes=1)),
    ]
    assert pairs([chat(10, 10)], agents, strategy=Strategy.LEAST_LOADED) == [(10, 2)]
    assert pairs([chat(10, 10), chat(11, 5)], agents, strategy=Strategy.LEAST_LOADED) == [
        (10, 2),
        (11, 3),
    ]


def test_easiest_first_serves_the_shortest_expected_handling_time_first() -> None:
    queue = [
        chat(1, 90, category="technical"),
        chat(2, 10, category="general"),
        chat(3, 50, category="billing"),
    ]
    agents = [agent(7, max_concurrent_chats=2)]
    assert pairs(queue, agents, strategy=Strategy.EASIEST_FIRST) == [(2, 7), (3, 7)]
    custom = RoutingConfig(strategy=Strategy.EASIEST_FIRST, handling_minutes={"technical": 1.0})
    plan = route(queue, agents, TEAMS, NOW, custom)
    assert [a.conversation_id for a in plan.assignments] == [1, 3]


def test_pull_pushes_nothing_and_agents_take_the_oldest_chat_they_may_take() -> None:
    queue = [
        chat(1, 30, language="de"),
        chat(2, 20),
        chat(3, 90, category="billing", team_id=9),
        chat(4, 10),
    ]
    plan = route(queue, [agent(7)], TEAMS, NOW, RoutingConfig(strategy=Strategy.PULL))
    assert plan.assignments == ()
    assert {u.conversation_id for u in plan.unrouted} == {1, 2, 3, 4}
    picked = next_for_agent(agent(7), queue, TEAMS)
    assert picked is not None and picked.id == 2
    assert next_for_agent(agent(7, open_chats=3), queue, TEAMS) is None
    assert next_for_agent(agent(7, status=AgentStatus.AWAY), queue, TEAMS) is None


# -- sticky preference --------------------------------------------------------------------


def test_a_returning_customer_goes_to_their_previous_agent_when_they_have_room() -> None:
    agents = [agent(1, open_chats=2), agent(2)]
    plan = route([chat(10, 5, previous_agent_id=1)], agents, TEAMS, NOW)
    assert plan.assignments[0].agent_id == 1
    assert plan.assignments[0].reason == "returning customer: their previous agent"


def test_a_busy_previous_agent_is_waited_for_up_to_the_sticky_wait() -> None:
    agents = [agent(1, open_chats=3), agent(2)]
    config = RoutingConfig(sticky_wait_seconds=60)
    early = route([chat(10, 20, previous_agent_id=1)], agents, TEAMS, NOW, config)
    assert early.assignments == ()
    assert early.held == (Held(10, 1, NOW + timedelta(seconds=40)),)
    late = route([chat(10, 61, previous_agent_id=1)], agents, TEAMS, NOW, config)
    assert [(a.conversation_id, a.agent_id) for a in late.assignments] == [(10, 2)]


@pytest.mark.parametrize("status", [AgentStatus.OFFLINE, AgentStatus.ON_BREAK, AgentStatus.AWAY])
def test_an_unavailable_previous_agent_is_not_waited_for(status: AgentStatus) -> None:
    agents = [agent(1, status=status), agent(2)]
    plan = route([chat(10, 1, previous_agent_id=1)], agents, TEAMS, NOW)
    assert [(a.conversation_id, a.agent_id) for a in plan.assignments] == [(10, 2)]


def test_a_previous_agent_no_longer_eligible_is_not_waited_for() -> None:
    agents = [agent(1, open_chats=3), agent(2, tier=2)]
    plan = route([chat(10, 1, previous_agent_id=1, tier=2)], agents, TEAMS, NOW)
    assert plan.agent_for(10) == 2


def test_sticky_wait_of_zero_turns_holding_off() -> None:
    agents = [agent(1, open_chats=3), agent(2)]
    config = RoutingConfig(sticky_wait_seconds=0)
    assert route([chat(10, 0, previous_agent_id=1)], agents, TEAMS, NOW, config).agent_for(10) == 2


# -- guarantees ------------------------------------------------------------------------------


def test_a_conversation_listed_twice_is_assigned_once() -> None:
    plan = route([chat(1, 10), chat(1, 10), chat(2, 5)], [agent(7), agent(8)], TEAMS, NOW)
    assert sorted(a.conversation_id for a in plan.assignments) == [1, 2]


def test_an_agent_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        route([chat(1)], [agent(7), agent(7)], TEAMS, NOW)


def test_same_input_same_plan() -> None:
    queue = [chat(i, 100 - i, category="billing" if i % 2 else None) for i in range(30)]
    agents = [agent(i, open_chats=i % 3) for i in range(10)]
    assert route(queue, agents, TEAMS, NOW) == route(list(reversed(queue)), agents, TEAMS, NOW)


def test_email_tickets_weigh_less_so_a_nearly_full_agent_still_takes_one() -> None:
    agents = [agent(1, open_chats=2, open_email_tickets=1)]  # load 2.5 of 3
    plan = route([chat(10, 20), chat(11, 10, channel=Channel.EMAIL)], agents, TEAMS, NOW)
    assert [a.conversation_id for a in plan.assignments] == [11]
    assert plan.loads == {1: 3.0}


def test_unrouted_conversations_say_why() -> None:
    plan = route([chat(1, language="fi")], [agent(7)], TEAMS, NOW)
    assert plan.unrouted == (Unrouted(1, "no eligible agent is online"),)
    plan = route([chat(1, excluded_agent_ids=frozenset({7}))], [agent(7)], TEAMS, NOW)
    assert plan.unrouted == (Unrouted(1, "only agents who let it go unanswered are online"),)


def test_router_decides_one_conversation_at_a_time() -> None:
    router = Router([agent(7, max_concurrent_chats=1)], TEAMS, NOW)
    first = router.decide(chat(1))
    second = router.decide(chat(2))
    assert isinstance(first, Assignment) and first.agent_id == 7
    assert isinstance(second, Unrouted)
    assert isinstance(router.decide(chat(1)), Unrouted)  # already assigned this round


# -- re-offering --------------------------------------------------------------------------


def offered(seconds_ago: float, **fields: Any) -> OpenAssignment:
    fields.setdefault("agent_status", AgentStatus.ONLINE)
    return OpenAssignment(
        conversation_id=fields.pop("conversation_id", 1),
        agent_id=7,
        assigned_at=NOW - timedelta(seconds=seconds_ago),
        **fields,
    )


def test_an_unanswered_chat_is_reoffered_after_the_answer_timeout() -> None:
    assert reoffer_due([offered(44)], NOW) == []
    [due] = reoffer_due([offered(45)], NOW)
    assert (due.conversation_id, due.agent_id, due.reason) == (1, 7, ReofferReason.UNANSWERED)
    assert due.message == "not answered in time"
    assert reoffer_due([offered(20)], NOW, answer_timeout_seconds=15)[0].reason == "unanswered"


def test_an_answered_chat_stays_with_its_agent() -> None:
    assert reoffer_due([offered(600, answered_at=NOW - timedelta(seconds=580))], NOW) == []


def test_chats_of_an_agent_who_went_offline_move_at_once_answered_or_not() -> None:
    state = [
        offered(5, agent_status=AgentStatus.OFFLINE),
        offered(600, agent_status=AgentStatus.OFFLINE, answered_at=NOW, conversation_id=2),
    ]
    assert [r.reason for r in reoffer_due(state, NOW)] == [ReofferReason.AGENT_OFFLINE] * 2


def test_an_agent_on_break_keeps_answered_chats_but_not_unanswered_ones() -> None:
    state = [
        offered(5, agent_status=AgentStatus.ON_BREAK),
        offered(5, agent_status=AgentStatus.ON_BREAK, answered_at=NOW, conversation_id=2),
    ]
    assert [(r.conversation_id, r.reason) for r in reoffer_due(state, NOW)] == [
        (1, ReofferReason.AGENT_UNAVAILABLE)
    ]


def test_email_tickets_are_never_reoffered_for_slowness() -> None:
    state = [offered(3600, channel=Channel.EMAIL, agent_status=AgentStatus.OFFLINE)]
    assert reoffer_due(state, NOW) == []
