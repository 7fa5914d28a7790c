"""Routing settings: the strategy and the numbers that tune it.

The service layer builds one `RoutingConfig` per inbox or team from the stored
settings; the defaults below are what a fresh installation uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from helpline.domain.routing.priority import DEFAULT_WEIGHTS, PriorityWeights


class Strategy(StrEnum):
    """How waiting conversations meet agents; chosen per inbox or team."""

    PRIORITY = "priority"
    """Highest priority score first, each to the least loaded eligible agent."""
    FIFO = "fifo"
    """Longest waiting first, each to the least loaded eligible agent."""
    ROUND_ROBIN = "round_robin"
    """Longest waiting first, agents in turn (longest since their last assignment)."""
    LEAST_LOADED = "least_loaded"
    """Longest waiting first, to the agent with the fewest open chats."""
    EASIEST_FIRST = "easiest_first"
    """Shortest expected handling time first (by category), least loaded agent."""
    PULL = "pull"
    """Nothing is pushed: agents take the oldest waiting chat they may take."""


DEFAULT_HANDLING_MINUTES: Mapping[str, float] = MappingProxyType(
    {
        "general": 4.0,
        "sales": 5.0,
        "orders": 6.0,
        "account": 7.0,
        "billing": 8.0,
        "technical": 12.0,
    }
)


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    strategy: Strategy = Strategy.PRIORITY
    weights: PriorityWeights = DEFAULT_WEIGHTS
    email_weight: float = 0.5
    """An open email ticket counts as this many chats against an agent's cap."""
    sticky_wait_seconds: float = 60.0
    """How long a returning customer waits for their busy previous agent before
    others are offered the conversation (an offline previous agent: not at all)."""
    answer_timeout_seconds: float = 45.0
    """An assigned chat not answered within this time is offered to someone else."""
    handling_minutes: Mapping[str, float] = field(default_factory=lambda: DEFAULT_HANDLING_MINUTES)
    """Expected handling time by category, for `easiest_first` and wait estimates."""
    default_handling_minutes: float = 6.0
    """Expected handling time of a category missing from `handling_minutes`."""

    def __post_init__(self) -> None:
        if not 0 <= self.email_weight <= 10:
            raise ValueError("email_weight must be between 0 and 10")
        if self.sticky_wait_seconds < 0 or self.answer_timeout_seconds <= 0:
            raise ValueError("sticky wait cannot be negative and answer timeout must be positive")
        if self.default_handling_minutes <= 0 or any(
            minutes <= 0 for minutes in self.handling_minutes.values()
        ):
            raise ValueError("handling times must be positive")

    def expected_handling_minutes(self, category: str | None) -> float:
        if category is None:
            return self.default_handling_minutes
        return self.handling_minutes.get(category, self.default_handling_minutes)


DEFAULT_CONFIG = RoutingConfig()
