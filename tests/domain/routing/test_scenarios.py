"""Routing scenarios in plain words, as a support team would tell them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from helpline.domain.enums import AgentStatus, Plan
from helpline.domain.routing.config import RoutingConfig
from helpline.domain.routing.model import AgentState, QueuedConversation, TeamInfo
from helpline.domain.routing.priority import score_conversation
from helpline.domain.routing.strategies import OpenAssignment, ReofferReason, reoffer_due, route
from helpline.domain.rules import ActionKind, Facts, builtin_rules, evaluate

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SUPPORT = TeamInfo(id=1)


def seconds_ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


# Anna, Ben and Carla work the chat; all of them in the one support team.
ANNA = AgentState(id=1, team_ids=frozenset({1}), max_concurrent_chats=1)
BEN = AgentState(id=2, team_ids=frozenset({1}), max_concurrent_chats=1)
CARLA = AgentState(id=3, team_ids=frozenset({1}), max_concurrent_chats=1)

# The seed example: three chats waiting at once.
LOCKED_OUT_PAYING_CUSTOMER = QueuedConversation(
    id=101,
    waiting_since=seconds_ago(20),
    plan=Plan.PAID,
    category="account",
    intent="login_problem",  # cannot log in because of a system error
)
PROSPECT_ASKING_PRICES = QueuedConversation(
    id=102,
    waiting_since=seconds_ago(40),
    plan=None,
    category="sales",
    first_time_customer=True,
)
TRIAL_USER_ASKING_TO_UPGRADE = QueuedConversation(
    id=103,
    waiting_since=seconds_ago(60),
    plan=Plan.TRIAL,
    category="sales",
)
SEED_QUEUE = [TRIAL_USER_ASKING_TO_UPGRADE, PROSPECT_ASKING_PRICES, LOCKED_OUT_PAYING_CUSTOMER]


def test_seed_example_paying_customer_first_then_prospect_then_trial_user() -> None:
    # With one agent free at a time, they are served in this order.
    served = []
    queue = list(SEED_QUEUE)
    for _ in range(3):
        plan = route(queue, [ANNA], [SUPPORT], NOW)
        [assignment] = plan.assignments
        served.append(assignment.conversation_id)
        queue = [c for c in queue if c.id != assignment.conversation_id]
    assert served == [101, 102, 103]

    # And the breakdown each agent sees says why.
    explained = [score_conversation(c, NOW).explain() for c in SEED_QUEUE[::-1]]
    assert explained == [
        "urgent: login problem +40, paid plan +15, waiting 20 s +1",
        "first-time customer +10, waiting 40 s +2",
        "trial plan +5, waiting 1 min +3",
    ]


def test_seed_example_with_three_agents_the_locked_out_customer_is_assigned_first() -> None:
    plan = route(SEED_QUEUE, [ANNA, BEN, CARLA], [SUPPORT], NOW)
    assert [a.conversation_id for a in plan.assignments] == [101, 102, 103]
    assert [a.agent_id for a in plan.assignments] == [1, 2, 3]


def test_an_agent_going_on_break_receives_nothing_new() -> None:
    anna_busy = dataclasses.replace(ANNA, open_chats=1)
    assert route(SEED_QUEUE, [anna_busy, BEN], [SUPPORT], NOW).agent_for(101) == BEN.id

    ben_on_break = dataclasses.replace(BEN, status=AgentStatus.ON_BREAK)
    plan = route(SEED_QUEUE, [anna_busy, ben_on_break], [SUPPORT], NOW)
    assert plan.assignments == ()
    assert {u.reason for u in plan.unrouted} == {"every eligible agent is at capacity"}


def test_a_returning_customer_gets_their_previous_agent_when_free() -> None:
    returning = dataclasses.replace(PROSPECT_ASKING_PRICES, previous_agent_id=CARLA.id)
    plan = route([returning], [ANNA, BEN, CARLA], [SUPPORT], NOW)
    assert plan.agent_for(returning.id) == CARLA.id

    # Carla is busy: the customer waits a little for her rather than go to Anna ...
    carla_busy = dataclasses.replace(CARLA, open_chats=1)
    config = RoutingConfig(sticky_wait_seconds=60)
    plan = route([returning], [ANNA, carla_busy], [SUPPORT], NOW, config)
    assert plan.assignments == () and plan.held[0].agent_id == CARLA.id
    # ... but not for ever.
    plan = route([returning], [ANNA, carla_busy], [SUPPORT], NOW + timedelta(seconds=30), config)
    assert plan.agent_for(returning.id) == ANNA.id


def test_an_unanswered_chat_moves_to_another_agent_after_45_seconds() -> None:
    plan = route([LOCKED_OUT_PAYING_CUSTOMER], [ANNA, BEN], [SUPPORT], NOW)
    assert plan.agent_for(101) == ANNA.id
    offered = OpenAssignment(
        conversation_id=101, agent_id=ANNA.id, assigned_at=NOW, agent_status=AgentStatus.ONLINE
    )

    assert reoffer_due([offered], NOW + timedelta(seconds=30)) == []
    later = NOW + timedelta(seconds=45)
    [due] = reoffer_due([offered], later)
    assert (due.conversation_id, due.reason) == (101, ReofferReason.UNANSWERED)

    # Taken back from Anna (she has room again) and queued without her.
    requeued = dataclasses.replace(
        LOCKED_OUT_PAYING_CUSTOMER, excluded_agent_ids=frozenset({due.agent_id})
    )
    plan = route([requeued], [ANNA, BEN], [SUPPORT], later)
    assert plan.agent_for(101) == BEN.id


def test_a_refund_request_above_the_agent_s_authority_escalates_to_a_supervisor() -> None:
    rules = builtin_rules()
    small = Facts(category="billing", refund_amount_cents=2_000, agent_refund_limit_cents=5_000)
    large = Facts(category="billing", refund_amount_cents=25_000, agent_refund_limit_cents=5_000)
    assert evaluate(rules, small) == []
    kinds = [action.kind for action in evaluate(rules, large)]
    assert ActionKind.NOTIFY_SUPERVISOR in kinds
