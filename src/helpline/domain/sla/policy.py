"""SLA policies: which targets apply to a conversation.

Policies are matched in order of position; each may require a priority, category,
plan and channel (None matches anything). The first match gives the targets and
the business-hours calendar they are measured on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from helpline.domain.enums import Channel, Plan, Priority
from helpline.domain.sla.calendar import BusinessCalendar


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """Minutes of business time allowed for each target (None: no target)."""

    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None

    def __post_init__(self) -> None:
        for minutes in (
            self.first_response_minutes,
            self.next_response_minutes,
            self.resolution_minutes,
        ):
            if minutes is not None and minutes <= 0:
                raise ValueError("SLA targets must be positive numbers of minutes")


@dataclass(frozen=True, slots=True)
class SlaPolicyRule:
    name: str
    targets: SlaTargets
    position: int = 0
    priority: Priority | None = None
    category: str | None = None
    plan: Plan | None = None
    channel: Channel | None = None
    calendar: BusinessCalendar | None = None
    """Business hours the targets count in; None: around the clock."""
    id: int | None = None

    def matches(
        self,
        *,
        priority: Priority,
        category: str | None,
        plan: Plan | None,
        channel: Channel,
    ) -> bool:
        return (
            (self.priority is None or self.priority == priority)
            and (self.category is None or self.category == category)
            and (self.plan is None or self.plan == plan)
            and (self.channel is None or self.channel == channel)
        )


def match_policy(
    policies: Iterable[SlaPolicyRule],
    *,
    priority: Priority,
    category: str | None,
    plan: Plan | None,
    channel: Channel,
) -> SlaPolicyRule | None:
    """The first policy (lowest position; ties keep the given order) that matches."""
    ordered = sorted(enumerate(policies), key=lambda item: (item[1].position, item[0]))
    for _, policy in ordered:
        if policy.matches(priority=priority, category=category, plan=plan, channel=channel):
            return policy
    return None
