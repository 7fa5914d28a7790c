"""Condition → action rules: the built-in examples, matching, and the stored form."""

from __future__ import annotations

from typing import Any

import pytest

from helpline.domain.enums import Channel, ConversationStatus, Plan, Priority
from helpline.domain.rules import (
    REFUND_RULE,
    SECURITY_RULE,
    SLA_BREACH_RULE,
    TIER2_RULE,
    Action,
    ActionKind,
    Condition,
    ConditionGroup,
    Facts,
    Field,
    Match,
    Operator,
    Rule,
    builtin_rules,
    evaluate,
    matches,
    matching_rules,
    rule_from_data,
    rule_to_data,
)

RULES = builtin_rules(tier2_team_id=20, security_team_id=30, tier1_minutes=45)


def fired(facts: Facts) -> list[str]:
    return [rule.name for rule in matching_rules(RULES, facts)]


# -- the built-in examples -----------------------------------------------------------------


def test_technical_issue_unresolved_by_tier_one_goes_to_tier_two_after_n_minutes() -> None:
    stuck = Facts(category="technical", tier=1, minutes_unresolved=45)
    assert evaluate(RULES, Facts(category="technical", tier=1, minutes_unresolved=44)) == []
    assert evaluate(RULES, stuck) == [
        Action(ActionKind.ESCALATE_TO_TIER2, 20),
        Action(ActionKind.ADD_TAG, "escalated"),
    ]
    # Already with tier 2, solved, or not technical: nothing to do.
    assert fired(Facts(category="technical", tier=2, minutes_unresolved=300)) == []
    solved = Facts(category="technical", minutes_unresolved=300, status=ConversationStatus.SOLVED)
    assert fired(solved) == []
    assert fired(Facts(category="billing", minutes_unresolved=300)) == []


def test_refund_above_the_agent_s_authority_goes_to_a_supervisor() -> None:
    within = Facts(refund_amount_cents=4_999, agent_refund_limit_cents=5_000)
    above = Facts(refund_amount_cents=5_001, agent_refund_limit_cents=5_000)
    unassigned = Facts(refund_amount_cents=100)  # nobody with authority yet
    assert fired(within) == []
    assert evaluate(RULES, above) == [
        Action(ActionKind.NOTIFY_SUPERVISOR),
        Action(ActionKind.ADD_TAG, "refund-approval"),
    ]
    assert fired(unassigned) == [REFUND_RULE]


@pytest.mark.parametrize(
    "text",
    [
        "My LAWYER will hear about this",
        "I think this is fraud",
        "was there a data breach? my password leaked",
        "Someone logged into   my account and changed the email",
        "my account was hacked!",
        "This looks like an account takeover",
    ],
)
def test_security_keywords_send_the_conversation_to_security_as_urgent(text: str) -> None:
    assert evaluate(RULES, Facts(text=text)) == [
        Action(ActionKind.SET_TEAM, 30),
        Action(ActionKind.SET_URGENT, "security"),
        Action(ActionKind.SET_PRIORITY, "urgent"),
        Action(ActionKind.ADD_TAG, "security"),
    ]


@pytest.mark.parametrize(
    "text", ["I have an issue with my invoice", "the scampi arrived cold", "unhackedable? no"]
)
def test_keywords_match_whole_words_only(text: str) -> None:
    assert fired(Facts(text=text)) == []


def test_sla_breach_notifies_senior_agents_and_the_supervisor() -> None:
    assert evaluate(RULES, Facts(sla_breached=True)) == [
        Action(ActionKind.NOTIFY_SENIOR_AGENTS),
        Action(ActionKind.NOTIFY_SUPERVISOR),
        Action(ActionKind.ADD_TAG, "sla-breached"),
    ]


def test_several_rules_firing_together_do_not_repeat_actions() -> None:
    facts = Facts(sla_breached=True, refund_amount_cents=90_000, agent_refund_limit_cents=10_000)
    actions = evaluate(RULES, facts)
    assert fired(facts) == [REFUND_RULE, SLA_BREACH_RULE]
    assert actions.count(Action(ActionKind.NOTIFY_SUPERVISOR)) == 1


def test_without_a_security_team_the_conversation_still_becomes_urgent() -> None:
    actions = evaluate(builtin_rules(), Facts(text="fraud"))
    assert Action(ActionKind.SET_URGENT, "security") in actions
    assert all(action.kind != ActionKind.SET_TEAM for action in actions)


# -- evaluation -----------------------------------------------------------------------------


def rule(name: str, *conditions: Condition, actions: tuple[Action, ...], **flags: Any) -> Rule:
    return Rule(name=name, when=ConditionGroup(Match.ALL, conditions), actions=actions, **flags)


def test_rules_that_already_fired_once_do_not_fire_again() -> None:
    facts = Facts(sla_breached=True, fired_rules=frozenset({SLA_BREACH_RULE}))
    assert evaluate(RULES, facts) == []
    repeating = rule(
        "tag every time",
        Condition(Field.SLA_BREACHED, Operator.IS, True),
        actions=(Action(ActionKind.ADD_TAG, "late"),),
        once=False,
    )
    assert evaluate(
        [repeating], Facts(sla_breached=True, fired_rules=frozenset({"tag every time"}))
    )


def test_inactive_rules_are_skipped_and_stop_ends_the_evaluation() -> None:
    always = Condition(Field.TIER, Operator.GTE, 1)
    first = rule("first", always, actions=(Action(ActionKind.ADD_TAG, "a"),), stop=True)
    second = rule("second", always, actions=(Action(ActionKind.ADD_TAG, "b"),))
    off = rule("off", always, actions=(Action(ActionKind.ADD_TAG, "c"),), active=False)
    assert evaluate([off, first, second], Facts()) == [Action(ActionKind.ADD_TAG, "a")]


def test_the_first_rule_setting_a_value_wins() -> None:
    always = Condition(Field.TIER, Operator.IS, 1)
    vip = rule("vip", always, actions=(Action(ActionKind.SET_PRIORITY, "high"),))
    low = rule("low", always, actions=(Action(ActionKind.SET_PRIORITY, "low"),))
    assert evaluate([vip, low], Facts()) == [Action(ActionKind.SET_PRIORITY, "high")]


def test_any_and_all_groups_nest() -> None:
    valuable = ConditionGroup(
        Match.ANY,
        (
            Condition(Field.PLAN, Operator.IN, ("paid", "enterprise")),
            Condition(Field.PRIORITY, Operator.IS, "urgent"),
        ),
    )
    chat_about_billing = ConditionGroup(
        Match.ALL,
        (
            Condition(Field.CHANNEL, Operator.IS, "chat"),
            Condition(Field.CATEGORY, Operator.IS, "billing"),
            valuable,
        ),
    )
    assert matches(chat_about_billing, Facts(category="billing", plan=Plan.PAID))
    assert matches(chat_about_billing, Facts(category="billing", priority=Priority.URGENT))
    assert not matches(chat_about_billing, Facts(category="billing", plan=Plan.FREE))
    assert not matches(
        chat_about_billing, Facts(category="billing", plan=Plan.PAID, channel=Channel.EMAIL)
    )


@pytest.mark.parametrize(
    ("condition", "facts", "expected"),
    [
        (Condition(Field.MINUTES_UNRESOLVED, Operator.GT, 10), Facts(minutes_unresolved=10), False),
        (Condition(Field.MINUTES_UNRESOLVED, Operator.LTE, 10), Facts(minutes_unresolved=10), True),
        (Condition(Field.REFUND_AMOUNT, Operator.GTE, 10_000), Facts(), False),
        (
            Condition(Field.REFUND_AMOUNT, Operator.LT, 10_000),
            Facts(refund_amount_cents=500),
            True,
        ),
        (Condition(Field.STATUS, Operator.IS_NOT, "open"), Facts(), False),
        (Condition(Field.PLAN, Operator.NOT_IN, ("free",)), Facts(plan=None), True),
        # Rules arrive as JSON: lists of numbers are accepted and normalised.
        (Condition(Field.TIER, Operator.IN, [2]), Facts(tier=2), True),  # type: ignore[arg-type]
        (Condition(Field.CATEGORY, Operator.IS, "sales"), Facts(category=None), False),
    ],
)
def test_operators(condition: Condition, facts: Facts, expected: bool) -> None:
    assert matches(condition, facts) is expected


# -- stored form and validation -------------------------------------------------------------


def test_rules_round_trip_through_their_stored_form() -> None:
    for builtin in RULES:
        data = rule_to_data(builtin)
        again = rule_from_data(
            data["name"],
            data["conditions"],
            data["actions"],
            active=data["active"],
            once=data["once"],
            stop=data["stop"],
        )
        assert again == builtin


def test_a_plain_list_of_conditions_means_all_of_them() -> None:
    stored = rule_from_data(
        "Big enterprise refunds",
        [
            {"field": "plan", "op": "is", "value": "enterprise"},
            {"any": [{"field": "refund_amount", "op": "gt", "value": 100_000}]},
        ],
        [{"action": "notify_supervisor"}, {"action": "add_tag", "value": "Big-Refund"}],
    )
    assert stored.when.match == Match.ALL
    assert stored.actions[1] == Action(ActionKind.ADD_TAG, "big-refund")
    facts = Facts(plan=Plan.ENTERPRISE, refund_amount_cents=150_000)
    assert evaluate([stored], facts)[0] == Action(ActionKind.NOTIFY_SUPERVISOR)


@pytest.mark.parametrize(
    ("conditions", "actions", "message"),
    [
        (
            [{"field": "mood", "op": "is", "value": "x"}],
            [{"action": "add_tag", "value": "t"}],
            "unknown field",
        ),
        (
            [{"field": "plan", "op": "gt", "value": 3}],
            [{"action": "add_tag", "value": "t"}],
            "cannot use gt",
        ),
        (
            [{"field": "plan", "op": "is", "value": "gold"}],
            [{"action": "add_tag", "value": "t"}],
            "must be one of",
        ),
        (
            [{"field": "text", "op": "contains_any", "value": "fraud"}],
            [{"action": "add_tag", "value": "t"}],
            "list",
        ),
        (
            [{"field": "tier", "op": "is", "value": 3}],
            [{"action": "add_tag", "value": "t"}],
            "1 or 2",
        ),
        (
            [{"field": "sla_breached", "op": "is", "value": "yes"}],
            [{"action": "add_tag", "value": "t"}],
            "true or false",
        ),
        (
            [{"field": "minutes_unresolved", "op": "gte", "value": "ten"}],
            [{"action": "add_tag", "value": "t"}],
            "number",
        ),
        (
            [{"field": "tier", "op": "is"}],
            [{"action": "add_tag", "value": "t"}],
            '"field", "op" and "value"',
        ),
        ({"all": []}, [{"action": "add_tag", "value": "t"}], "non-empty list"),
        ([{"field": "tier", "op": "is", "value": 1}], [{"action": "explode"}], "unknown action"),
        ([{"field": "tier", "op": "is", "value": 1}], [{"action": "set_team"}], "needs an id"),
        (
            [{"field": "tier", "op": "is", "value": 1}],
            [{"action": "set_priority", "value": "asap"}],
            "set_priority",
        ),
        (
            [{"field": "tier", "op": "is", "value": 1}],
            [{"action": "add_tag", "value": "x" * 51}],
            "1 to 50",
        ),
        (
            [{"field": "tier", "op": "is", "value": 1}],
            [{"action": "notify_supervisor", "value": 5}],
            "takes no value",
        ),
        ([{"field": "tier", "op": "is", "value": 1}], [], "at least one action"),
    ],
)
def test_broken_rules_are_refused_with_a_reason(
    conditions: Any, actions: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rule_from_data("broken", conditions, actions)


def test_builtin_rule_names() -> None:
    assert [r.name for r in RULES] == [SECURITY_RULE, TIER2_RULE, REFUND_RULE, SLA_BREACH_RULE]
