"""The priority score of a waiting conversation, with the reasons behind it.

Higher scores are served first. Every point comes with a reason an agent or a
supervisor can read ("urgent: login problem +40, paid plan +15, waiting 20 s +1"),
so the order of the queue is never a mystery. Waiting time adds points without
bound, so even the least valuable conversation eventually reaches the top.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from helpline.domain.enums import Plan, Priority
from helpline.domain.routing.model import QueuedConversation

K = TypeVar("K")
V = TypeVar("V")


def _frozen(values: dict[K, V]) -> Mapping[K, V]:
    """A read-only view, so a frozen weights object really cannot change."""
    return MappingProxyType(values)


@dataclass(frozen=True, slots=True)
class PriorityWeights:
    """How many points each factor is worth; the defaults are a sensible start."""

    urgent_points: float = 40.0
    """Urgent topics: failed payments, login and account-security problems, fraud."""
    urgent_categories: frozenset[str] = frozenset({"account"})
    """Categories that are urgent as a whole (`account`: login, password, security)."""
    urgent_intents: Mapping[str, str] = field(
        default_factory=lambda: _frozen(
            {
                "login_problem": "login problem",
                "password_reset": "login problem",
                "account_security": "account security",
                "account_takeover": "account takeover",
                "payment_failed": "failed payment",
                "declined_card_payment": "failed payment",
                "compromised_card": "fraud",
                "fraud": "fraud",
            }
        )
    )
    """Classifier intents that are urgent, with the words shown in the breakdown."""
    priority_points: Mapping[Priority, float] = field(
        default_factory=lambda: _frozen(
            {Priority.URGENT: 30.0, Priority.HIGH: 15.0, Priority.NORMAL: 0.0, Priority.LOW: -10.0}
        )
    )
    """Points for the conversation's priority field (set by agents or rules)."""
    plan_points: Mapping[Plan, float] = field(
        default_factory=lambda: _frozen(
            {Plan.ENTERPRISE: 25.0, Plan.PAID: 15.0, Plan.TRIAL: 5.0, Plan.FREE: 0.0}
        )
    )
    """Points for the customer's plan; no plan (a prospect) scores nothing here."""
    lifetime_value_points_per_100: float = 1.0
    """Points per 100 currency units the customer has spent ..."""
    lifetime_value_max_points: float = 15.0
    """... up to this many, so one big spender cannot block everybody else."""
    repeat_customer_min_orders: int = 2
    """A customer with at least this many orders is a repeat customer."""
    repeat_customer_points: float = 5.0
    large_order_cents: int = 50_000
    """An order worth at least this much (500.00) is a large order."""
    large_order_points: float = 5.0
    first_time_points: float = 10.0
    """A first contact is a chance to win a customer: answer it quickly."""
    waiting_points_per_minute: float = 3.0
    """Grows without bound: nothing starves in the queue."""
    sla_risk_window_minutes: float = 10.0
    """Within this many minutes of the first-response deadline, points ramp up ..."""
    sla_risk_max_points: float = 20.0
    """... to this many at the deadline."""
    sla_overdue_points: float = 30.0
    """Points once the first-response deadline has passed."""
    frustration_points: float = 20.0
    """Points for a customer who sounds fully frustrated (score 1.0), in proportion ..."""
    frustration_threshold: float = 0.35
    """... from this frustration score on (below it: calm enough, no points)."""

    def __post_init__(self) -> None:
        if self.waiting_points_per_minute <= 0:
            raise ValueError("waiting_points_per_minute must be positive, or chats could starve")
        if self.sla_risk_window_minutes <= 0:
            raise ValueError("sla_risk_window_minutes must be positive")
        if not 0 <= self.frustration_threshold <= 1:
            raise ValueError("frustration_threshold is a score from 0 to 1")


DEFAULT_WEIGHTS = PriorityWeights()


class ScorePart(NamedTuple):
    """One reason for the score and the points it adds (negative: takes away)."""

    reason: str
    points: float

    def __str__(self) -> str:
        return f"{self.reason} {format_points(self.points)}"


@dataclass(frozen=True, slots=True)
class PriorityScore:
    conversation_id: int
    total: float
    breakdown: tuple[ScorePart, ...]

    def explain(self) -> str:
        """The breakdown as one line for agents and supervisors."""
        return ", ".join(str(part) for part in self.breakdown) or "no priority factors"


def format_points(points: float) -> str:
    rounded = round(points, 1)
    text = f"{rounded:+.1f}".removesuffix(".0")
    return "+0" if text in ("+0", "-0") else text


def format_duration(seconds: float) -> str:
    """Short human wording for a wait: `20 s`, `3 min`, `1 h 5 min`."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def urgency_reason(conversation: QueuedConversation, weights: PriorityWeights) -> str | None:
    """Why the conversation is urgent, in the words the breakdown shows; None if not."""
    if conversation.urgent_reason:
        return conversation.urgent_reason
    if conversation.intent is not None and conversation.intent in weights.urgent_intents:
        return weights.urgent_intents[conversation.intent]
    if conversation.category is not None and conversation.category in weights.urgent_categories:
        return f"{conversation.category} problem"
    return None


def score_conversation(
    waiting: QueuedConversation, now: datetime, weights: PriorityWeights = DEFAULT_WEIGHTS
) -> PriorityScore:
    """Score one waiting conversation at `now`; higher is served first."""
    parts: list[ScorePart] = []

    def add(reason: str, points: float) -> None:
        if points != 0:
            parts.append(ScorePart(reason, points))

    urgent = urgency_reason(waiting, weights)
    if urgent is not None:
        add(f"urgent: {urgent}", weights.urgent_points)
    add(f"{waiting.priority.value} priority", weights.priority_points.get(waiting.priority, 0.0))
    if waiting.plan is not None:
        add(f"{waiting.plan.value} plan", weights.plan_points.get(waiting.plan, 0.0))
    if waiting.lifetime_value_cents > 0:
        value_points = min(
            weights.lifetime_value_max_points,
            waiting.lifetime_value_cents / 10_000 * weights.lifetime_value_points_per_100,
        )
        add(f"lifetime value {waiting.lifetime_value_cents / 100:,.0f}", value_points)
    if waiting.orders_count >= weights.repeat_customer_min_orders:
        add(f"repeat customer ({waiting.orders_count} orders)", weights.repeat_customer_points)
    if waiting.order_value_cents >= weights.large_order_cents:
        add(f"large order {waiting.order_value_cents / 100:,.0f}", weights.large_order_points)
    if waiting.first_time_customer:
        add("first-time customer", weights.first_time_points)
    if waiting.frustration >= weights.frustration_threshold:
        add(
            f"frustrated customer ({waiting.frustration:.2f})",
            weights.frustration_points * waiting.frustration,
        )

    waited = (now - waiting.waiting_since).total_seconds()
    if waited > 0:
        add(f"waiting {format_duration(waited)}", waited / 60 * weights.waiting_points_per_minute)

    if waiting.first_response_due_at is not None:
        left = (waiting.first_response_due_at - now).total_seconds()
        window = weights.sla_risk_window_minutes * 60
        if left < 0:
            add(f"first response overdue by {format_duration(-left)}", weights.sla_overdue_points)
        elif left < window:
            add(
                f"first response due in {format_duration(left)}",
                weights.sla_risk_max_points * (1 - left / window),
            )

    total = sum(points for _, points in parts)
    return PriorityScore(conversation_id=waiting.id, total=total, breakdown=tuple(parts))
