"""Condition → action rules for routing, escalation and automation, as plain data.

A rule holds when its conditions do (all of them, or any, nested as needed); its
actions are then returned for the service layer to carry out. Rules are stored as
JSON (`rule_from_data` / `rule_to_data`) and checked here, so an admin form can
show what is wrong with one. `builtin_rules` gives the examples every installation
starts with: tier-2 escalation, refunds above authority, security keywords and
SLA breaches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from helpline.domain.enums import Channel, ConversationStatus, Plan, Priority

__all__ = [
    "SECURITY_KEYWORDS",
    "Action",
    "ActionKind",
    "Condition",
    "ConditionGroup",
    "Facts",
    "Field",
    "Match",
    "Operator",
    "Rule",
    "builtin_rules",
    "evaluate",
    "matches",
    "matching_rules",
    "rule_from_data",
    "rule_to_data",
]


class Field(StrEnum):
    """What a condition looks at."""

    CATEGORY = "category"
    PRIORITY = "priority"
    PLAN = "plan"
    CHANNEL = "channel"
    STATUS = "status"
    TIER = "tier"
    TEXT = "text"
    """What the customer wrote (keywords match whole words, any case)."""
    MINUTES_UNRESOLVED = "minutes_unresolved"
    SLA_BREACHED = "sla_breached"
    REFUND_AMOUNT = "refund_amount"
    """Requested refund in cents."""
    REFUND_ABOVE_AGENT_LIMIT = "refund_above_agent_limit"
    """The requested refund is more than the assigned agent may grant."""
    FRUSTRATION = "frustration"
    """How frustrated the customer sounds, 0..1 (AI assist; 0.6 and more is high)."""


class Operator(StrEnum):
    IS = "is"
    IS_NOT = "is_not"
    IN = "in"
    NOT_IN = "not_in"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    CONTAINS_ANY = "contains_any"


class Match(StrEnum):
    ALL = "all"
    ANY = "any"


_CHOICE_OPERATORS = frozenset({Operator.IS, Operator.IS_NOT, Operator.IN, Operator.NOT_IN})
_NUMBER_OPERATORS = frozenset({Operator.GT, Operator.GTE, Operator.LT, Operator.LTE})

_CHOICES: dict[Field, frozenset[str] | None] = {
    Field.CATEGORY: None,  # any category name
    Field.PRIORITY: frozenset(Priority),
    Field.PLAN: frozenset(Plan),
    Field.CHANNEL: frozenset(Channel),
    Field.STATUS: frozenset(ConversationStatus),
}

OPERATORS: dict[Field, frozenset[Operator]] = {
    **dict.fromkeys(_CHOICES, _CHOICE_OPERATORS),
    Field.TIER: _CHOICE_OPERATORS | _NUMBER_OPERATORS,
    Field.TEXT: frozenset({Operator.CONTAINS_ANY}),
    Field.MINUTES_UNRESOLVED: _NUMBER_OPERATORS,
    Field.SLA_BREACHED: frozenset({Operator.IS}),
    Field.REFUND_AMOUNT: _NUMBER_OPERATORS,
    Field.REFUND_ABOVE_AGENT_LIMIT: frozenset({Operator.IS}),
    Field.FRUSTRATION: _NUMBER_OPERATORS,
}
"""Which operators make sense for which field."""

ConditionValue = str | float | bool | tuple[str, ...]


def _as_number(value: object, field: Field) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field.value} needs a number, not {value!r}")
    return float(value)


def _as_choice(value: object, field: Field) -> str:
    if field == Field.TIER:
        number = _as_number(value, field)
        if number not in (1, 2):
            raise ValueError("tier is 1 or 2")
        return str(int(number))
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field.value} needs a non-empty text value, not {value!r}")
    choices = _CHOICES.get(field)
    if choices is not None and value not in choices:
        raise ValueError(f"{field.value} must be one of {', '.join(sorted(choices))}")
    return value


def _normalise_value(field: Field, operator: Operator, value: object) -> ConditionValue:
    if operator in (Operator.IN, Operator.NOT_IN, Operator.CONTAINS_ANY):
        if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
            raise ValueError(f"{operator.value} needs a list of values")
        if not value:
            raise ValueError(f"{operator.value} needs at least one value")
        if operator == Operator.CONTAINS_ANY:
            words = []
            for word in value:
                if not isinstance(word, str) or not word.strip():
                    raise ValueError("keywords must be non-empty words or phrases")
                words.append(" ".join(word.casefold().split()))
            return tuple(sorted(set(words)))
        return tuple(sorted({_as_choice(item, field) for item in value}))
    if field in (Field.SLA_BREACHED, Field.REFUND_ABOVE_AGENT_LIMIT):
        if not isinstance(value, bool):
            raise ValueError(f"{field.value} is true or false")
        return value
    if operator in _NUMBER_OPERATORS:
        return _as_number(value, field)
    return _as_choice(value, field)


@dataclass(frozen=True, slots=True)
class Condition:
    field: Field
    operator: Operator
    value: ConditionValue

    def __post_init__(self) -> None:
        field = Field(self.field)
        operator = Operator(self.operator)
        if operator not in OPERATORS[field]:
            allowed = ", ".join(sorted(OPERATORS[field]))
            raise ValueError(f"{field.value} cannot use {operator.value}; use {allowed}")
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "value", _normalise_value(field, operator, self.value))


@dataclass(frozen=True, slots=True)
class ConditionGroup:
    match: Match
    conditions: tuple[Condition | ConditionGroup, ...]


class ActionKind(StrEnum):
    SET_TEAM = "set_team"
    SET_PRIORITY = "set_priority"
    ADD_TAG = "add_tag"
    ESCALATE_TO_TIER2 = "escalate_to_tier2"
    """Needs tier 2 from now on; the value, if any, is the tier-2 team to move to."""
    NOTIFY_SUPERVISOR = "notify_supervisor"
    NOTIFY_SENIOR_AGENTS = "notify_senior_agents"
    """Tell the tier-2 agents of the conversation's team or category."""
    ASSIGN = "assign"
    SET_URGENT = "set_urgent"
    """Mark urgent for the priority score; the value is the reason shown."""


SINGLE_VALUED = frozenset(
    {
        ActionKind.SET_TEAM,
        ActionKind.SET_PRIORITY,
        ActionKind.ESCALATE_TO_TIER2,
        ActionKind.ASSIGN,
        ActionKind.SET_URGENT,
    }
)
"""Actions that set one thing: when several rules set it, the first rule wins."""

MAX_TAG_LENGTH = 50


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    value: int | str | None = None

    def __post_init__(self) -> None:
        kind = ActionKind(self.kind)
        object.__setattr__(self, "kind", kind)
        value = self.value
        if kind in (ActionKind.SET_TEAM, ActionKind.ASSIGN):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{kind.value} needs an id")
        elif kind == ActionKind.ESCALATE_TO_TIER2:
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError("escalate_to_tier2 takes a team id or nothing")
        elif kind == ActionKind.SET_PRIORITY:
            if value not in frozenset(Priority):
                raise ValueError(f"set_priority needs one of {', '.join(Priority)}")
            object.__setattr__(self, "value", Priority(str(value)).value)
        elif kind == ActionKind.ADD_TAG:
            if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_TAG_LENGTH:
                raise ValueError(f"add_tag needs a tag of 1 to {MAX_TAG_LENGTH} characters")
            object.__setattr__(self, "value", value.strip().lower())
        elif kind == ActionKind.SET_URGENT:
            if value is None:
                object.__setattr__(self, "value", "urgent")
            elif not isinstance(value, str) or not value.strip():
                raise ValueError("set_urgent takes a reason")
        elif value is not None:
            raise ValueError(f"{kind.value} takes no value")


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: ConditionGroup
    actions: tuple[Action, ...]
    active: bool = True
    once: bool = True
    """Fire at most once per conversation (the service records fired rules)."""
    stop: bool = False
    """When this rule fires, later rules are not looked at."""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a rule needs a name")
        if not self.actions:
            raise ValueError("a rule needs at least one action")


@dataclass(frozen=True, slots=True)
class Facts:
    """What rules may look at, gathered by the service layer for one conversation."""

    category: str | None = None
    priority: Priority = Priority.NORMAL
    plan: Plan | None = None
    channel: Channel = Channel.CHAT
    status: ConversationStatus = ConversationStatus.OPEN
    tier: int = 1
    text: str = ""
    minutes_unresolved: float = 0.0
    sla_breached: bool = False
    refund_amount_cents: int | None = None
    agent_refund_limit_cents: int | None = None
    """The assigned agent's refund authority; None: no agent assigned."""
    fired_rules: frozenset[str] = frozenset()
    """Names of rules that already fired for this conversation."""
    frustration: float = 0.0
    """The customer's frustration score, 0..1 (AI assist)."""

    @property
    def refund_above_agent_limit(self) -> bool:
        if self.refund_amount_cents is None:
            return False
        limit = self.agent_refund_limit_cents or 0
        return self.refund_amount_cents > limit


@lru_cache(maxsize=512)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """Whole words or phrases, any spacing: "sue" does not fire on "issue"."""
    alternatives = (r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in keywords)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def _fact_value(field: Field, facts: Facts) -> object:
    if field == Field.REFUND_AMOUNT:
        return facts.refund_amount_cents
    if field == Field.REFUND_ABOVE_AGENT_LIMIT:
        return facts.refund_above_agent_limit
    value = getattr(facts, field.value)
    if field == Field.TIER:
        return str(value)
    return value.value if isinstance(value, StrEnum) else value


def _compare(operator: Operator, actual: object, expected: ConditionValue) -> bool:
    if operator == Operator.IS:
        return actual == expected
    if operator == Operator.IS_NOT:
        return actual != expected
    if operator == Operator.IN:
        return isinstance(expected, tuple) and actual in expected
    if operator == Operator.NOT_IN:
        return isinstance(expected, tuple) and actual not in expected
    if operator == Operator.CONTAINS_ANY:
        return (
            isinstance(actual, str)
            and isinstance(expected, tuple)
            and _keyword_pattern(expected).search(actual.casefold()) is not None
        )
    if actual is None or isinstance(actual, bool) or not isinstance(actual, int | float | str):
        return False
    number = float(actual)
    if not isinstance(expected, float):
        return False
    if operator == Operator.GT:
        return number > expected
    if operator == Operator.GTE:
        return number >= expected
    if operator == Operator.LT:
        return number < expected
    return number <= expected


def matches(condition: Condition | ConditionGroup, facts: Facts) -> bool:
    if isinstance(condition, ConditionGroup):
        results = (matches(inner, facts) for inner in condition.conditions)
        return all(results) if condition.match == Match.ALL else any(results)
    actual = _fact_value(condition.field, facts)
    return _compare(condition.operator, actual, condition.value)


def matching_rules(rules: Iterable[Rule], facts: Facts) -> list[Rule]:
    """The rules that fire, in order (inactive and already-fired `once` rules skip)."""
    fired = []
    for rule in rules:
        if not rule.active or (rule.once and rule.name in facts.fired_rules):
            continue
        if matches(rule.when, facts):
            fired.append(rule)
            if rule.stop:
                break
    return fired


def evaluate(rules: Iterable[Rule], facts: Facts) -> list[Action]:
    """The actions to carry out, in rule order, without repeats or contradictions."""
    actions: list[Action] = []
    seen: set[Action] = set()
    set_kinds: set[ActionKind] = set()
    for rule in matching_rules(rules, facts):
        for action in rule.actions:
            if action in seen or (action.kind in SINGLE_VALUED and action.kind in set_kinds):
                continue
            seen.add(action)
            if action.kind in SINGLE_VALUED:
                set_kinds.add(action.kind)
            actions.append(action)
    return actions


# -- stored form ------------------------------------------------------------------------


def _condition_from_data(data: object) -> Condition | ConditionGroup:
    if isinstance(data, list):
        return ConditionGroup(Match.ALL, tuple(_condition_from_data(item) for item in data))
    if not isinstance(data, Mapping):
        raise ValueError("a condition is an object or a list of them")
    groups = [key for key in ("all", "any") if key in data]
    if groups:
        if len(data) != 1:
            raise ValueError("a condition group has exactly one key: all or any")
        inner = data[groups[0]]
        if not isinstance(inner, list) or not inner:
            raise ValueError(f"{groups[0]} needs a non-empty list of conditions")
        return ConditionGroup(Match(groups[0]), tuple(_condition_from_data(i) for i in inner))
    if set(data) != {"field", "op", "value"}:
        raise ValueError('a condition has "field", "op" and "value"')
    try:
        field = Field(data["field"])
    except ValueError as error:
        raise ValueError(f"unknown field {data['field']!r}") from error
    try:
        operator = Operator(data["op"])
    except ValueError as error:
        raise ValueError(f"unknown operator {data['op']!r}") from error
    return Condition(field, operator, data["value"])


def _action_from_data(data: object) -> Action:
    if not isinstance(data, Mapping) or "action" not in data or set(data) - {"action", "value"}:
        raise ValueError('an action is {"action": ..., "value": ...}')
    try:
        kind = ActionKind(data["action"])
    except ValueError as error:
        raise ValueError(f"unknown action {data['action']!r}") from error
    return Action(kind, data.get("value"))


def rule_from_data(
    name: str,
    conditions: Sequence[Any] | Mapping[str, Any],
    actions: Sequence[Any],
    *,
    active: bool = True,
    once: bool = True,
    stop: bool = False,
) -> Rule:
    """Read a stored rule; a list of conditions means all of them must hold.

    Raises ValueError with a message fit for an admin form.
    """
    stored = conditions if isinstance(conditions, Mapping) else list(conditions)
    when = _condition_from_data(stored)
    if isinstance(when, Condition):
        when = ConditionGroup(Match.ALL, (when,))
    return Rule(
        name=name,
        when=when,
        actions=tuple(_action_from_data(action) for action in actions),
        active=active,
        once=once,
        stop=stop,
    )


def _condition_to_data(condition: Condition | ConditionGroup) -> dict[str, Any]:
    if isinstance(condition, ConditionGroup):
        return {condition.match.value: [_condition_to_data(c) for c in condition.conditions]}
    value: Any = condition.value
    if isinstance(value, tuple):
        value = list(value)
    elif condition.field == Field.TIER and isinstance(value, str):
        value = int(value)
    return {"field": condition.field.value, "op": condition.operator.value, "value": value}


def rule_to_data(rule: Rule) -> dict[str, Any]:
    """The stored form: `{"conditions": {...}, "actions": [...]}` (plus flags)."""
    return {
        "name": rule.name,
        "conditions": _condition_to_data(rule.when),
        "actions": [{"action": a.kind.value, "value": a.value} for a in rule.actions],
        "active": rule.active,
        "once": rule.once,
        "stop": rule.stop,
    }


# -- the built-in examples --------------------------------------------------------------

SECURITY_KEYWORDS: tuple[str, ...] = (
    # legal matters
    "lawyer",
    "attorney",
    "legal action",
    "lawsuit",
    "sue you",
    "take you to court",
    # fraud
    "fraud",
    "fraudulent",
    "scam",
    "stolen card",
    # data breach
    "data breach",
    "data leak",
    "leaked my data",
    # account takeover
    "account takeover",
    "hacked",
    "someone logged into my account",
    "unauthorized access",
    "unauthorised access",
)
"""Words that send a conversation to the security team at once."""

TIER2_RULE = "Technical issue unresolved by tier 1"
REFUND_RULE = "Refund above the agent's authority"
SECURITY_RULE = "Legal, fraud, data breach or account takeover"
SLA_BREACH_RULE = "SLA breached"


def builtin_rules(
    *,
    tier2_team_id: int | None = None,
    security_team_id: int | None = None,
    tier1_minutes: float = 30,
    security_keywords: Sequence[str] = SECURITY_KEYWORDS,
) -> tuple[Rule, ...]:
    """The rules a fresh installation starts with (the admin may edit or turn them off)."""
    security_actions = [
        Action(ActionKind.SET_URGENT, "security"),
        Action(ActionKind.SET_PRIORITY, Priority.URGENT.value),
        Action(ActionKind.ADD_TAG, "security"),
    ]
    if security_team_id is not None:
        security_actions.insert(0, Action(ActionKind.SET_TEAM, security_team_id))
    unresolved = (ConversationStatus.SOLVED.value, ConversationStatus.CLOSED.value)
    return (
        Rule(
            name=SECURITY_RULE,
            when=ConditionGroup(
                Match.ALL,
                (Condition(Field.TEXT, Operator.CONTAINS_ANY, tuple(security_keywords)),),
            ),
            actions=tuple(security_actions),
        ),
        Rule(
            name=TIER2_RULE,
            when=ConditionGroup(
                Match.ALL,
                (
                    Condition(Field.CATEGORY, Operator.IS, "technical"),
                    Condition(Field.TIER, Operator.IS, 1),
                    Condition(Field.STATUS, Operator.NOT_IN, unresolved),
                    Condition(Field.MINUTES_UNRESOLVED, Operator.GTE, tier1_minutes),
                ),
            ),
            actions=(
                Action(ActionKind.ESCALATE_TO_TIER2, tier2_team_id),
                Action(ActionKind.ADD_TAG, "escalated"),
            ),
        ),
        Rule(
            name=REFUND_RULE,
            when=ConditionGroup(
                Match.ALL, (Condition(Field.REFUND_ABOVE_AGENT_LIMIT, Operator.IS, True),)
            ),
            actions=(
                Action(ActionKind.NOTIFY_SUPERVISOR),
                Action(ActionKind.ADD_TAG, "refund-approval"),
            ),
        ),
        Rule(
            name=SLA_BREACH_RULE,
            when=ConditionGroup(Match.ALL, (Condition(Field.SLA_BREACHED, Operator.IS, True),)),
            actions=(
                Action(ActionKind.NOTIFY_SENIOR_AGENTS),
                Action(ActionKind.NOTIFY_SUPERVISOR),
                Action(ActionKind.ADD_TAG, "sla-breached"),
            ),
        ),
    )
