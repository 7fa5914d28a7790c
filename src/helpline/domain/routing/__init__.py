"""Routing: priority scores, eligibility, strategies, expected waits, queueing formulas.

Pure functions over plain data with the time passed in, so the live server and the
simulator route with the very same code.
"""

from helpline.domain.routing.config import DEFAULT_CONFIG, RoutingConfig, Strategy
from helpline.domain.routing.eligibility import Eligibility, eligibility, eligible
from helpline.domain.routing.expected_wait import WaitEstimate, expected_waits
from helpline.domain.routing.model import AgentState, QueuedConversation, TeamInfo
from helpline.domain.routing.priority import (
    PriorityScore,
    PriorityWeights,
    ScorePart,
    score_conversation,
)
from helpline.domain.routing.strategies import (
    Assignment,
    Held,
    OpenAssignment,
    Reoffer,
    ReofferReason,
    Router,
    RoutingPlan,
    Unrouted,
    next_for_agent,
    reoffer_due,
    route,
)

__all__ = [
    "DEFAULT_CONFIG",
    "AgentState",
    "Assignment",
    "Eligibility",
    "Held",
    "OpenAssignment",
    "PriorityScore",
    "PriorityWeights",
    "QueuedConversation",
    "Reoffer",
    "ReofferReason",
    "Router",
    "RoutingConfig",
    "RoutingPlan",
    "ScorePart",
    "Strategy",
    "TeamInfo",
    "Unrouted",
    "WaitEstimate",
    "eligibility",
    "eligible",
    "expected_waits",
    "next_for_agent",
    "reoffer_due",
    "route",
    "score_conversation",
]
