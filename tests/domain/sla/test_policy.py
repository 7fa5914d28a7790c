"""Which SLA policy applies: first match by position, None matches anything."""

from __future__ import annotations

import pytest

from helpline.domain.enums import Channel, Plan, Priority
from helpline.domain.sla.policy import SlaPolicyRule, SlaTargets, match_policy

ENTERPRISE_URGENT = SlaPolicyRule(
    name="Enterprise urgent",
    position=1,
    plan=Plan.ENTERPRISE,
    priority=Priority.URGENT,
    targets=SlaTargets(first_response_minutes=5, resolution_minutes=240),
)
EMAIL = SlaPolicyRule(
    name="Email", position=5, channel=Channel.EMAIL, targets=SlaTargets(first_response_minutes=240)
)
BILLING_CHAT = SlaPolicyRule(
    name="Billing chat",
    position=5,
    category="billing",
    channel=Channel.CHAT,
    targets=SlaTargets(first_response_minutes=10),
)
EVERYTHING_ELSE = SlaPolicyRule(
    name="Default", position=100, targets=SlaTargets(first_response_minutes=60)
)
POLICIES = [EVERYTHING_ELSE, BILLING_CHAT, EMAIL, ENTERPRISE_URGENT]


def find(
    *,
    priority: Priority = Priority.NORMAL,
    category: str | None = None,
    plan: Plan | None = None,
    channel: Channel = Channel.CHAT,
) -> str | None:
    policy = match_policy(
        POLICIES, priority=priority, category=category, plan=plan, channel=channel
    )
    return None if policy is None else policy.name


def test_the_most_specific_policy_placed_first_wins() -> None:
    assert find(plan=Plan.ENTERPRISE, priority=Priority.URGENT, channel=Channel.EMAIL) == (
        "Enterprise urgent"
    )


def test_unset_fields_match_anything() -> None:
    assert find(channel=Channel.EMAIL, category="billing") == "Email"
    assert find(category="billing") == "Billing chat"
    assert find(category="sales", plan=Plan.FREE) == "Default"


def test_equal_positions_keep_the_given_order() -> None:
    both = SlaPolicyRule(name="Any billing", position=5, category="billing", targets=SlaTargets(1))
    policies = [EMAIL, both]

    def first(candidates: list[SlaPolicyRule]) -> SlaPolicyRule | None:
        return match_policy(
            candidates,
            priority=Priority.NORMAL,
            category="billing",
            plan=None,
            channel=Channel.EMAIL,
        )

    assert first(policies) == EMAIL
    assert first(list(reversed(policies))) == both


def test_no_match_means_no_sla() -> None:
    assert (
        match_policy([EMAIL], priority=Priority.LOW, category=None, plan=None, channel=Channel.CHAT)
        is None
    )


def test_targets_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SlaTargets(first_response_minutes=0)
