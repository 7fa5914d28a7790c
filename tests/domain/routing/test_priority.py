"""Priority scores: what each factor adds, and the breakdown agents read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpline.domain.enums import Plan, Priority
from helpline.domain.routing.model import QueuedConversation
from helpline.domain.routing.priority import PriorityWeights, score_conversation

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def waiting(seconds: float = 0, **fields: Any) -> QueuedConversation:
    return QueuedConversation(id=1, waiting_since=NOW - timedelta(seconds=seconds), **fields)


def points(conversation: QueuedConversation, weights: PriorityWeights | None = None) -> float:
    return score_conversation(conversation, NOW, weights or PriorityWeights()).total


def test_breakdown_reads_like_the_issue_example() -> None:
    score = score_conversation(
        waiting(180, plan=Plan.PAID, category="account", intent="login_problem"), NOW
    )
    assert score.explain() == "urgent: login problem +40, paid plan +15, waiting 3 min +9"
    assert score.total == 64
    assert [part.reason for part in score.breakdown] == [
        "urgent: login problem",
        "paid plan",
        "waiting 3 min",
    ]


def test_a_conversation_with_nothing_special_explains_that() -> None:
    assert score_conversation(waiting(0), NOW).explain() == "no priority factors"


def test_urgent_category_intent_and_classifier_flag_count_once() -> None:
    by_category = score_conversation(waiting(category="account"), NOW)
    by_intent = score_conversation(waiting(category="billing", intent="payment_failed"), NOW)
    by_flag = score_conversation(waiting(category="general", urgent_reason="fraud"), NOW)
    both = score_conversation(
        waiting(category="account", intent="login_problem", urgent_reason="account takeover"), NOW
    )
    assert by_category.explain() == "urgent: account problem +40"
    assert by_intent.explain() == "urgent: failed payment +40"
    assert by_flag.explain() == "urgent: fraud +40"
    assert both.explain() == "urgent: account takeover +40"


def test_urgent_categories_are_configurable() -> None:
    weights = PriorityWeights(urgent_categories=frozenset({"billing"}))
    assert points(waiting(category="billing"), weights) == 40
    assert points(waiting(category="account"), weights) == 0


def test_priority_field_adds_or_takes_points() -> None:
    assert points(waiting(priority=Priority.URGENT)) == 30
    assert points(waiting(priority=Priority.HIGH)) == 15
    assert points(waiting(priority=Priority.NORMAL)) == 0
    assert points(waiting(priority=Priority.LOW)) == -10


def test_customer_value_plan_lifetime_repeat_and_large_order() -> None:
    assert points(waiting(plan=Plan.ENTERPRISE)) == 25
    assert points(waiting(plan=Plan.FREE)) == 0
    assert points(waiting(lifetime_value_cents=250_000)) == 25 - 10  # 2,500.00 → capped at 15
    assert points(waiting(lifetime_value_cents=50_000)) == 5
    assert points(waiting(orders_count=1)) == 0
    assert points(waiting(orders_count=2)) == 5
    assert points(waiting(order_value_cents=80_000)) == 5
    assert points(waiting(order_value_cents=10_000)) == 0


def test_first_time_customer_bonus() -> None:
    score = score_conversation(waiting(first_time_customer=True), NOW)
    assert score.explain() == "first-time customer +10"


def test_waiting_time_grows_without_bound_so_nothing_starves() -> None:
    fresh_urgent = waiting(0, plan=Plan.ENTERPRISE, priority=Priority.URGENT, category="account")
    old_low = waiting(3 * 3600, plan=Plan.FREE, priority=Priority.LOW, category="general")
    assert points(old_low) > points(fresh_urgent)
    assert score_conversation(old_low, NOW).breakdown[-1].reason == "waiting 3 h"


def test_sla_risk_ramps_up_near_the_deadline_and_peaks_when_overdue() -> None:
    far = waiting(first_response_due_at=NOW + timedelta(minutes=30))
    near = waiting(first_response_due_at=NOW + timedelta(minutes=5))
    overdue = waiting(first_response_due_at=NOW - timedelta(minutes=2))
    assert points(far) == 0
    assert points(near) == 10
    assert score_conversation(near, NOW).explain() == "first response due in 5 min +10"
    assert score_conversation(overdue, NOW).explain() == "first response overdue by 2 min +30"


def test_points_show_one_decimal_at_most() -> None:
    score = score_conversation(waiting(50), NOW)
    assert score.explain() == "waiting 50 s +2.5"


def test_weights_refuse_a_queue_where_waiting_earns_nothing() -> None:
    with pytest.raises(ValueError, match="starve"):
        PriorityWeights(waiting_points_per_minute=0)


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_weights_refuse_a_frustration_threshold_outside_the_score_range(threshold: float) -> None:
    with pytest.raises(ValueError, match="frustration_threshold"):
        PriorityWeights(frustration_threshold=threshold)
