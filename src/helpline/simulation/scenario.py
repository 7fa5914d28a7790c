"""Scenario files: who works when, who writes in about what, and how routing is set up.

A scenario is a TOML file (read with the standard library's `tomllib`), checked on
load by the pydantic models below, so a mistake is reported with where it is
("agents[1].max_chats: must be at most 10"). `load_scenario` accepts a path or the
name of a shipped scenario (`saas`, `ecommerce`, `overload`); `compile_scenario`
turns the checked file into the plain numbers the engine runs on (`Model`).
"""

from __future__ import annotations

import csv
import dataclasses
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from helpline.domain.enums import DEFAULT_CATEGORIES, Channel, Plan, Priority
from helpline.domain.routing.config import RoutingConfig, Strategy
from helpline.domain.routing.model import TeamInfo
from helpline.domain.routing.priority import DEFAULT_WEIGHTS, PriorityWeights
from helpline.domain.rules import Rule, builtin_rules, rule_from_data
from helpline.domain.sla.calendar import BusinessCalendar, calendar_from_data
from helpline.domain.sla.policy import SlaPolicyRule, SlaTargets
from helpline.simulation.distributions import Distribution

SCENARIO_DIR = Path(__file__).parent / "scenarios"
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COMPARED_STRATEGIES = (
    Strategy.PRIORITY,
    Strategy.FIFO,
    Strategy.ROUND_ROBIN,
    Strategy.LEAST_LOADED,
    Strategy.PULL,
)
"""Our `priority` routing and the four baselines other help desks use."""

DAY = 86_400.0


class ScenarioError(ValueError):
    """A scenario file that cannot be read or does not make sense; the message says why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _clock_seconds(text: str) -> float:
    """`HH:MM` (00:00 to 24:00) as seconds after midnight."""
    try:
        hours_text, minutes_text = text.strip().split(":")
        hours, minutes = int(hours_text), int(minutes_text)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a time of day like 08:30") from error
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return hours * 3600.0 + minutes * 60.0


def _span(text: str) -> tuple[float, float]:
    """`HH:MM-HH:MM` as (start, end) seconds; an end before the start runs past midnight."""
    if "-" not in text:
        raise ValueError(f"{text!r} is not a shift like 08:00-16:30")
    start_text, end_text = text.split("-", 1)
    start, end = _clock_seconds(start_text), _clock_seconds(end_text)
    if end == start:
        raise ValueError(f"{text!r}: a shift must not end when it starts")
    if end < start:
        end += DAY
    return start, end


# -- the file -------------------------------------------------------------------------


class SimulationSection(_Strict):
    start: datetime = datetime.fromisoformat("2026-03-02T00:00:00+00:00")
    """When the simulated period starts (a Monday by default); shifts, breaks and the
    arrival profile are read in this offset's local time."""
    hours: float = Field(default=24.0, gt=0, le=24 * 14)
    seed: int = 1
    replications: int = Field(default=5, ge=1, le=1000)
    warmup_minutes: float = Field(default=0.0, ge=0)
    """Customers arriving before this are simulated but not counted (steady-state runs)."""
    drain_minutes: float = Field(default=0.0, ge=0)
    """Keep the clock running this long after the last arrival, so those still
    waiting at the end get their outcome."""
    sample_seconds: float = Field(default=60.0, gt=0)
    """How often the queue length and agent load are recorded for the plots."""

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.utcoffset() is None:
            raise ValueError("give the start with its UTC offset, e.g. 2026-03-02T00:00:00+01:00")
        return value


class RoutingSection(_Strict):
    strategies: tuple[Strategy, ...] = COMPARED_STRATEGIES
    concurrency_slowdown: float = Field(default=0.0, ge=0, le=5)
    """alpha: each chat beyond the first an agent holds multiplies handling time by 1 + alpha."""
    answer_timeout_seconds: float = Field(default=45.0, gt=0)
    sticky_wait_seconds: float = Field(default=60.0, ge=0)
    service_target_seconds: float = Field(default=45.0, gt=0)
    """Answered within this many seconds counts toward the service level."""
    weights: dict[str, Any] = Field(default_factory=dict)
    """Overrides of the priority weights (`PriorityWeights` field names)."""
    handling_minutes: dict[str, float] | None = None
    """What the router expects per category (easiest_first, wait estimates); by
    default the share-weighted mean of the topics' handling times."""

    @field_validator("strategies")
    @classmethod
    def _some(cls, value: tuple[Strategy, ...]) -> tuple[Strategy, ...]:
        if not value:
            raise ValueError("name at least one strategy")
        if len(set(value)) != len(value):
            raise ValueError("a strategy is named twice")
        return value


class TeamSection(_Strict):
    name: str = Field(min_length=1)
    tier: Literal[1, 2] = 1
    categories: tuple[str, ...] = ()
    """Categories the team handles; empty: all of them."""


class BreakSection(_Strict):
    at: str
    minutes: float = Field(gt=0, le=240)

    @field_validator("at")
    @classmethod
    def _time(cls, value: str) -> str:
        _clock_seconds(value)
        return value


class PomodoroSection(_Strict):
    work_minutes: float = Field(gt=0)
    break_minutes: float = Field(gt=0)


class AwaySection(_Strict):
    per_hour: float = Field(gt=0, le=60)
    """How often an agent steps away (a Poisson rate while online)."""
    minutes: Distribution = Distribution.exponential(3.0)


class AgentGroupSection(_Strict):
    group: str = Field(min_length=1)
    count: int = Field(default=1, ge=0, le=2000)
    teams: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    """Categories these agents handle; empty: whatever their teams handle."""
    languages: tuple[str, ...] = ("en",)
    tier: Literal[1, 2] = 1
    max_chats: int = Field(default=3, ge=1, le=10)
    first_response_seconds: Distribution = Distribution.exponential(8.0)
    """Delay between getting a chat and the first reply (per agent draw)."""
    refund_limit: float = Field(default=50.0, ge=0)
    """Largest refund these agents may grant, in currency units."""
    shifts: tuple[str, ...] = ("00:00-24:00",)
    days: tuple[str, ...] = WEEKDAY_NAMES
    shift_stagger_minutes: float = Field(default=0.0, ge=0, le=720)
    """Agent i of the group starts (and ends) i x this later: spread-out shifts."""
    breaks: tuple[BreakSection, ...] = ()
    break_stagger_minutes: float = Field(default=0.0, ge=0, le=240)
    """Agent i of the group takes each break i x this later, so not all at once."""
    pomodoro: PomodoroSection | None = None
    away: AwaySection | None = None

    @field_validator("shifts")
    @classmethod
    def _shifts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for shift in value:
            _span(shift)
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for day in value:
            if day not in WEEKDAY_NAMES:
                raise ValueError(f"{day!r} is not one of {', '.join(WEEKDAY_NAMES)}")
        return value


class TextSection(_Strict):
    text: str = Field(min_length=1)
    share: float = Field(gt=0, le=1)


class RefundSection(_Strict):
    share: float = Field(gt=0, le=1)
    """Share of the topic's customers asking for a refund."""
    amount: Distribution
    """Refund asked for, in currency units."""


class TopicSection(_Strict):
    name: str = Field(min_length=1)
    share: float = Field(gt=0)
    category: str = Field(min_length=1)
    intent: str | None = None
    priority: Priority = Priority.NORMAL
    handling_minutes: Distribution
    texts: tuple[TextSection, ...] = ()
    """What some customers write (rules look at it: security keywords, ...)."""
    refund: RefundSection | None = None
    order_value: Distribution | None = None
    """Value of the order the conversation is about, in currency units."""

    @model_validator(mode="after")
    def _shares(self) -> TopicSection:
        if sum(text.share for text in self.texts) > 1 + 1e-9:
            raise ValueError("the shares of `texts` add up to more than 1")
        return self


PlanName = Literal["none", "free", "trial", "paid", "enterprise"]


def _only_free() -> dict[PlanName, float]:
    return {"free": 1.0}


class CustomerSection(_Strict):
    first_time_share: float = Field(default=0.2, ge=0, le=1)
    """New contacts: no plan, nothing spent yet."""
    returning_share: float = Field(default=0.0, ge=0, le=1)
    """Customers writing again the same day: offered to their previous agent first."""
    plans: dict[PlanName, float] = Field(default_factory=lambda: _only_free())
    lifetime_value: Distribution | dict[PlanName, Distribution] = Distribution.fixed(0.0)
    """Money spent so far, in currency units (one distribution, or one per plan)."""
    orders: Distribution = Distribution.fixed(0.0)
    patience_minutes: Distribution = Distribution.exponential(5.0)
    """How long a customer waits for a first answer before leaving."""
    languages: dict[str, float] = Field(default_factory=lambda: {"en": 1.0})
    channels: dict[Channel, float] = Field(default_factory=lambda: {Channel.CHAT: 1.0})

    @field_validator("plans", "languages", "channels")
    @classmethod
    def _weights(cls, value: dict[Any, float]) -> dict[Any, float]:
        if not value or any(weight < 0 for weight in value.values()) or not sum(value.values()):
            raise ValueError("give non-negative weights, at least one positive")
        return value


class ArrivalSection(_Strict):
    chats_per_day: float | None = Field(default=None, gt=0)
    offered_load: float | None = Field(default=None, gt=0, le=10)
    """Scale arrivals so the day's offered work is this share of the team's chat
    capacity (0.8: normal load); instead of `chats_per_day`."""
    profile: tuple[float, ...] = (1.0,) * 24
    """Relative arrival rate for each local hour of the day, 0:00 to 23:00."""
    weekday_factors: dict[str, float] = Field(default_factory=dict)
    trace: str | None = None
    """A CSV of real arrivals to replay (path relative to the scenario file)."""

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) != 24:
            raise ValueError(f"give 24 hourly weights, not {len(value)}")
        if any(weight < 0 for weight in value) or not sum(value):
            raise ValueError("hourly weights must be non-negative, at least one positive")
        return value

    @field_validator("weekday_factors")
    @classmethod
    def _weekdays(cls, value: dict[str, float]) -> dict[str, float]:
        for day, factor in value.items():
            if day not in WEEKDAY_NAMES:
                raise ValueError(f"{day!r} is not one of {', '.join(WEEKDAY_NAMES)}")
            if factor < 0:
                raise ValueError("weekday factors cannot be negative")
        return value

    @model_validator(mode="after")
    def _one_volume(self) -> ArrivalSection:
        given = [
            name
            for name in ("chats_per_day", "offered_load", "trace")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of chats_per_day, offered_load or trace")
        return self


class CustomRuleSection(_Strict):
    name: str = Field(min_length=1)
    conditions: list[Any] | dict[str, Any]
    actions: list[Any]
    once: bool = True
    stop: bool = False


class RulesSection(_Strict):
    builtin: bool = False
    """Start from the rules every installation ships with (`builtin_rules`)."""
    tier1_minutes: float = Field(default=30.0, gt=0)
    tier2_team: str | None = None
    security_team: str | None = None
    custom: tuple[CustomRuleSection, ...] = ()


class SlaSection(_Strict):
    name: str = Field(min_length=1)
    priority: Priority | None = None
    category: str | None = None
    plan: Plan | None = None
    channel: Channel | None = None
    first_response_minutes: int | None = Field(default=None, gt=0)
    next_response_minutes: int | None = Field(default=None, gt=0)
    resolution_minutes: int | None = Field(default=None, gt=0)


class ScenarioFile(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    simulation: SimulationSection = SimulationSection()
    routing: RoutingSection = RoutingSection()
    teams: tuple[TeamSection, ...] = ()
    agents: Annotated[tuple[AgentGroupSection, ...], Field(min_length=1)]
    topics: Annotated[tuple[TopicSection, ...], Field(min_length=1)]
    customers: CustomerSection = CustomerSection()
    arrivals: ArrivalSection
    rules: RulesSection = RulesSection()
    sla: tuple[SlaSection, ...] = ()
    sla_calendar: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _references(self) -> ScenarioFile:
        team_names = [team.name for team in self.teams]
        if len(set(team_names)) != len(team_names):
            raise ValueError("two teams have the same name")
        groups = [group.group for group in self.agents]
        if len(set(groups)) != len(groups):
            raise ValueError("two agent groups have the same name")
        for index, group in enumerate(self.agents):
            for team in group.teams:
                if team not in team_names:
                    raise ValueError(f"agents[{index}] ({group.group}): unknown team {team!r}")
        for name in (self.rules.tier2_team, self.rules.security_team):
            if name is not None and name not in team_names:
                raise ValueError(f"rules: unknown team {name!r}")
        if not sum(group.count for group in self.agents):
            raise ValueError("the scenario has no agents (every count is 0)")
        topic_names = [topic.name for topic in self.topics]
        if len(set(topic_names)) != len(topic_names):
            raise ValueError("two topics have the same name")
        return self


# -- what the engine runs on ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    share: float
    category: str
    intent: str | None
    priority: Priority
    handling_seconds: Distribution
    texts: tuple[tuple[str, float], ...]
    refund_share: float
    refund_amount: Distribution | None
    order_value: Distribution | None


@dataclass(frozen=True, slots=True)
class AgentSpec:
    id: int
    group: str
    team_ids: frozenset[int]
    skills: frozenset[str]
    languages: frozenset[str]
    tier: int
    max_chats: int
    first_response_seconds: Distribution
    refund_limit_cents: int
    shifts: tuple[tuple[float, float], ...]
    """On-shift intervals in simulated seconds, merged and in order."""
    breaks: tuple[tuple[float, float], ...]
    """Scheduled breaks: (when due, length), simulated seconds."""
    pomodoro: tuple[float, float] | None
    """(work, break) seconds."""
    away_per_second: float
    away_seconds: Distribution | None


@dataclass(frozen=True, slots=True)
class TraceRow:
    at: float
    channel: Channel
    category: str
    plan: Plan | None
    first_time: bool
    language: str | None
    topic: str | None


@dataclass(frozen=True)
class Model:
    """A checked scenario as the engine needs it: seconds, ids and domain objects."""

    file: ScenarioFile
    source: Path | None
    start: datetime
    horizon: float
    """Arrivals happen in [0, horizon) simulated seconds."""
    warmup: float
    end: float
    """When the clock stops: horizon + drain."""
    day_offset: float
    """Seconds from local midnight to the start."""
    teams: Mapping[int, TeamInfo]
    team_names: Mapping[int, str]
    agents: tuple[AgentSpec, ...]
    topics: tuple[Topic, ...]
    routing: RoutingConfig
    """The router's settings; the strategy is replaced per simulated run."""
    slowdown: float
    service_target: float
    rules: tuple[Rule, ...]
    tier2_team_id: int | None
    sla_policies: tuple[SlaPolicyRule, ...]
    hourly_rates: tuple[float, ...]
    """Expected arrivals per second in each simulated hour (empty for a trace)."""
    trace: tuple[TraceRow, ...] | None
    seed: int
    replications: int
    sample_every: float

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def agent_count(self) -> int:
        return len(self.agents)

    def expected_arrivals(self) -> float:
        if self.trace is not None:
            return float(len(self.trace))
        return sum(rate * 3600.0 for rate in self.hourly_rates)

    def with_strategies(self, strategies: Sequence[Strategy]) -> Model:
        routing = self.file.routing.model_copy(update={"strategies": tuple(strategies)})
        return dataclasses.replace(self, file=self.file.model_copy(update={"routing": routing}))


# -- loading --------------------------------------------------------------------------


def shipped_scenarios() -> dict[str, Path]:
    """Shipped scenario names and their files."""
    return {path.stem: path for path in sorted(SCENARIO_DIR.glob("*.toml"))}


def _format_validation(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "(file)"
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)


def read_scenario_file(text: str, *, origin: str = "scenario") -> ScenarioFile:
    """Parse and check TOML text; raises ScenarioError naming every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{origin}: not valid TOML: {error}") from error
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(
            f"{origin} is not a valid scenario:\n{_format_validation(error)}"
        ) from error


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ScenarioError(f"no scenario file at {path}")
        return path
    shipped = shipped_scenarios()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    known = ", ".join(sorted(shipped))
    raise ScenarioError(f"no scenario {str(name_or_path)!r}: give a .toml file or one of {known}")


def load_scenario(
    name_or_path: str | Path,
    *,
    offered_load: float | None = None,
    chats_per_day: float | None = None,
    hours: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
) -> Model:
    """Read, check and compile a scenario; keyword arguments override the file."""
    path = resolve_scenario_path(name_or_path)
    scenario = read_scenario_file(path.read_text(encoding="utf-8"), origin=str(path))
    scenario = override(
        scenario,
        offered_load=offered_load,
        chats_per_day=chats_per_day,
        hours=hours,
        replications=replications,
        seed=seed,
    )
    return compile_scenario(scenario, source=path)


def override(
    scenario: ScenarioFile,
    *,
    offered_load: float | None = None,
    chats_per_day: float | None = None,
    hours: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
) -> ScenarioFile:
    """A copy with the given settings replaced (command-line options), re-checked."""
    data = scenario.model_dump(mode="python", exclude_unset=False)
    if offered_load is not None or chats_per_day is not None:
        if scenario.arrivals.trace is not None:
            raise ScenarioError("this scenario replays a trace: its volume cannot be changed")
        data["arrivals"]["offered_load"] = offered_load
        data["arrivals"]["chats_per_day"] = chats_per_day
    for key, value in (("hours", hours), ("replications", replications), ("seed", seed)):
        if value is not None:
            data["simulation"][key] = value
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"invalid override:\n{_format_validation(error)}") from error


# -- compiling ------------------------------------------------------------------------


def _weights(overrides: Mapping[str, Any]) -> PriorityWeights:
    known = {field.name for field in dataclasses.fields(PriorityWeights)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ScenarioError(f"routing.weights: unknown weight(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in overrides.items():
        if name == "urgent_categories":
            values[name] = frozenset(value)
        elif name == "plan_points":
            values[name] = {Plan(key): float(points) for key, points in value.items()}
        elif name == "priority_points":
            values[name] = {Priority(key): float(points) for key, points in value.items()}
        elif name == "urgent_intents":
            values[name] = dict(value)
        else:
            values[name] = value
    try:
        return dataclasses.replace(DEFAULT_WEIGHTS, **values)
    except (TypeError, ValueError) as error:
        raise ScenarioError(f"routing.weights: {error}") from error


def _merge(intervals: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _agents(
    scenario: ScenarioFile, team_ids: Mapping[str, int], day_offset: float, end: float
) -> tuple[AgentSpec, ...]:
    agents: list[AgentSpec] = []
    days = math.ceil((day_offset + end) / DAY) + 1
    start_weekday = scenario.simulation.start.weekday()
    for group in scenario.agents:
        for member in range(group.count):
            shift_delay = member * group.shift_stagger_minutes * 60
            shifts: list[tuple[float, float]] = []
            breaks: list[tuple[float, float]] = []
            for day in range(-1, days):
                weekday = WEEKDAY_NAMES[(start_weekday + day) % 7]
                if weekday not in group.days:
                    continue
                base = day * DAY - day_offset + shift_delay
                for shift in group.shifts:
                    begin, finish = _span(shift)
                    a, b = max(0.0, base + begin), min(end, base + finish)
                    if a < b:
                        shifts.append((a, b))
                for pause in group.breaks:
                    due = (
                        base + _clock_seconds(pause.at) + member * group.break_stagger_minutes * 60
                    )
                    if 0 <= due < end:
                        breaks.append((due, pause.minutes * 60))
            agents.append(
                AgentSpec(
                    id=len(agents) + 1,
                    group=group.group,
                    team_ids=frozenset(team_ids[name] for name in group.teams),
                    skills=frozenset(group.skills),
                    languages=frozenset(group.languages),
                    tier=group.tier,
                    max_chats=group.max_chats,
                    first_response_seconds=group.first_response_seconds,
                    refund_limit_cents=round(group.refund_limit * 100),
                    shifts=_merge(shifts),
                    breaks=tuple(sorted(breaks)),
                    pomodoro=None
                    if group.pomodoro is None
                    else (group.pomodoro.work_minutes * 60, group.pomodoro.break_minutes * 60),
                    away_per_second=0.0 if group.away is None else group.away.per_hour / 3600,
                    away_seconds=None if group.away is None else group.away.minutes.scaled(60),
                )
            )
    return tuple(agents)


def _topics(scenario: ScenarioFile) -> tuple[Topic, ...]:
    total = sum(topic.share for topic in scenario.topics)
    return tuple(
        Topic(
            name=topic.name,
            share=topic.share / total,
            category=topic.category,
            intent=topic.intent,
            priority=topic.priority,
            handling_seconds=topic.handling_minutes.scaled(60),
            texts=tuple((text.text, text.share) for text in topic.texts),
            refund_share=0.0 if topic.refund is None else topic.refund.share,
            refund_amount=None if topic.refund is None else topic.refund.amount,
            order_value=topic.order_value,
        )
        for topic in scenario.topics
    )


def mean_handling_seconds(topics: Sequence[Topic]) -> float:
    return sum(topic.share * topic.handling_seconds.expected for topic in topics)


def _router_handling_minutes(
    scenario: ScenarioFile, topics: Sequence[Topic]
) -> Mapping[str, float]:
    if scenario.routing.handling_minutes is not None:
        return dict(scenario.routing.handling_minutes)
    by_category: dict[str, list[float]] = {}
    for topic in topics:
        shares = by_category.setdefault(topic.category, [0.0, 0.0])
        shares[0] += topic.share * topic.handling_seconds.expected / 60
        shares[1] += topic.share
    return {category: total / share for category, (total, share) in by_category.items()}


def _rules(scenario: ScenarioFile, team_ids: Mapping[str, int]) -> tuple[Rule, ...]:
    section = scenario.rules
    rules: list[Rule] = []
    if section.builtin:
        rules.extend(
            builtin_rules(
                tier2_team_id=None if section.tier2_team is None else team_ids[section.tier2_team],
                security_team_id=None
                if section.security_team is None
                else team_ids[section.security_team],
                tier1_minutes=section.tier1_minutes,
            )
        )
    for index, custom in enumerate(section.custom):
        actions = []
        for action in custom.actions:
            # Teams are named in scenario files; stored rules hold team ids.
            if (
                isinstance(action, Mapping)
                and action.get("action") in ("set_team", "escalate_to_tier2")
                and isinstance(action.get("value"), str)
            ):
                team = action["value"]
                if team not in team_ids:
                    raise ScenarioError(f"rules.custom[{index}]: unknown team {team!r}")
                action = {**action, "value": team_ids[team]}
            actions.append(action)
        try:
            rules.append(
                rule_from_data(
                    custom.name, custom.conditions, actions, once=custom.once, stop=custom.stop
                )
            )
        except ValueError as error:
            raise ScenarioError(f"rules.custom[{index}] ({custom.name}): {error}") from error
    return tuple(rules)


def _sla(scenario: ScenarioFile) -> tuple[SlaPolicyRule, ...]:
    calendar: BusinessCalendar | None = None
    if scenario.sla_calendar is not None:
        try:
            calendar = calendar_from_data(scenario.sla_calendar)
        except ValueError as error:
            raise ScenarioError(f"sla_calendar: {error}") from error
    policies = []
    for position, section in enumerate(scenario.sla):
        try:
            targets = SlaTargets(
                first_response_minutes=section.first_response_minutes,
                next_response_minutes=section.next_response_minutes,
                resolution_minutes=section.resolution_minutes,
            )
        except ValueError as error:
            raise ScenarioError(f"sla[{position}]: {error}") from error
        policies.append(
            SlaPolicyRule(
                name=section.name,
                targets=targets,
                position=position,
                priority=section.priority,
                category=section.category,
                plan=section.plan,
                channel=section.channel,
                calendar=calendar,
                id=position + 1,
            )
        )
    return tuple(policies)


def agent_availability(agent: AgentSpec, start: float, end: float) -> float:
    """Expected seconds the agent is online in [start, end): shifts less breaks."""
    on_shift = sum(max(0.0, min(b, end) - max(a, start)) for a, b in agent.shifts)
    if on_shift <= 0:
        return 0.0
    breaks = sum(max(0.0, min(due + length, end) - max(due, start)) for due, length in agent.breaks)
    available = max(0.0, on_shift - breaks)
    if agent.pomodoro is not None:
        work, pause = agent.pomodoro
        available *= work / (work + pause)
    if agent.away_seconds is not None:
        away = agent.away_per_second * agent.away_seconds.expected
        available /= 1 + away
    return available


def slot_seconds(agent: AgentSpec, topics: Sequence[Topic], slowdown: float) -> float:
    """Seconds one chat keeps a slot busy when the agent is full: reply delay + handling."""
    return agent.first_response_seconds.expected + mean_handling_seconds(topics) * (
        1 + slowdown
    ) ** (agent.max_chats - 1)


def hourly_capacity(
    agents: Sequence[AgentSpec], topics: Sequence[Topic], slowdown: float, hours: int
) -> list[float]:
    """Chats per second the team can finish in each simulated hour, every agent full."""
    capacity = [0.0] * hours
    for agent in agents:
        per_slot = slot_seconds(agent, topics, slowdown)
        for hour in range(hours):
            online = agent_availability(agent, hour * 3600.0, (hour + 1) * 3600.0)
            capacity[hour] += online / 3600 * agent.max_chats / per_slot
    return capacity


def _hour_weights(scenario: ScenarioFile, day_offset: float, hours: int) -> list[float]:
    arrivals = scenario.arrivals
    start_weekday = scenario.simulation.start.weekday()
    weights = []
    for hour in range(hours):
        local = day_offset / 3600 + hour
        day = int(local // 24)
        weekday = WEEKDAY_NAMES[(start_weekday + day) % 7]
        weights.append(
            arrivals.profile[int(local % 24)] * arrivals.weekday_factors.get(weekday, 1.0)
        )
    return weights


def _read_trace(path: Path, start: datetime, horizon: float) -> tuple[TraceRow, ...]:
    """Rows of timestamp, channel, category, plan, first_time, language (+ topic)."""
    required = {"timestamp", "channel", "category", "plan", "first_time", "language"}
    rows: list[TraceRow] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or ())
        if missing:
            raise ScenarioError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            try:
                moment = datetime.fromisoformat(row["timestamp"].strip())
                if moment.utcoffset() is None:
                    raise ValueError("timestamps need a UTC offset")
                plan_text = row["plan"].strip().lower()
                first_time_text = row["first_time"].strip().lower()
                if first_time_text not in ("true", "false", "1", "0", "yes", "no", ""):
                    raise ValueError(f"first_time {row['first_time']!r} is not true or false")
                rows.append(
                    TraceRow(
                        at=(moment - start).total_seconds(),
                        channel=Channel(row["channel"].strip().lower() or "chat"),
                        category=row["category"].strip(),
                        plan=None if plan_text in ("", "none") else Plan(plan_text),
                        first_time=first_time_text in ("true", "1", "yes"),
                        language=row["language"].strip() or None,
                        topic=(row.get("topic") or "").strip() or None,
                    )
                )
            except ValueError as error:
                raise ScenarioError(f"{path}, line {line}: {error}") from error
    kept = sorted((row for row in rows if 0 <= row.at < horizon), key=lambda row: row.at)
    if not kept:
        raise ScenarioError(f"{path}: no arrivals within the simulated period")
    return tuple(kept)


def compile_scenario(scenario: ScenarioFile, *, source: Path | None = None) -> Model:
    """Turn a checked scenario into the engine's `Model` (raises ScenarioError)."""
    section = scenario.simulation
    start = section.start
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    day_offset = (start - midnight).total_seconds()
    horizon = section.hours * 3600
    end = horizon + section.drain_minutes * 60
    if section.warmup_minutes * 60 >= horizon:
        raise ScenarioError("simulation.warmup_minutes must be shorter than the simulated period")

    team_ids = {team.name: index + 1 for index, team in enumerate(scenario.teams)}
    teams = {
        index + 1: TeamInfo(id=index + 1, tier=team.tier, categories=frozenset(team.categories))
        for index, team in enumerate(scenario.teams)
    }
    known_categories = set(DEFAULT_CATEGORIES) | {t.category for t in scenario.topics}
    for index, team in enumerate(scenario.teams):
        for category in team.categories:
            if category not in known_categories:
                raise ScenarioError(
                    f"teams[{index}] ({team.name}): no topic has category {category!r}"
                )
    agents = _agents(scenario, team_ids, day_offset, end)
    topics = _topics(scenario)
    weights = _weights(scenario.routing.weights)
    try:
        routing = RoutingConfig(
            weights=weights,
            sticky_wait_seconds=scenario.routing.sticky_wait_seconds,
            answer_timeout_seconds=scenario.routing.answer_timeout_seconds,
            handling_minutes=_router_handling_minutes(scenario, topics),
        )
    except ValueError as error:
        raise ScenarioError(f"routing: {error}") from error

    hours = math.ceil(horizon / 3600)
    hourly_rates: tuple[float, ...] = ()
    trace: tuple[TraceRow, ...] | None = None
    arrivals = scenario.arrivals
    if arrivals.trace is not None:
        base = source.parent if source is not None else Path.cwd()
        trace_path = (base / arrivals.trace).resolve()
        if not trace_path.is_file():
            raise ScenarioError(f"arrivals.trace: no file at {trace_path}")
        trace = _read_trace(trace_path, start, horizon)
    else:
        weights_by_hour = _hour_weights(scenario, day_offset, hours)
        if arrivals.chats_per_day is not None:
            # Chats on a day whose weekday factor is 1, spread by the profile.
            scale = arrivals.chats_per_day / sum(arrivals.profile)
        else:
            # The day's offered work (arrivals x slot time) is `load` x its capacity;
            # a partial last hour counts for the part simulated.
            fractions = [min(1.0, (horizon - hour * 3600) / 3600) for hour in range(hours)]
            capacity = hourly_capacity(agents, topics, scenario.routing.concurrency_slowdown, hours)
            offered = sum(w * f for w, f in zip(weights_by_hour, fractions, strict=True))
            available = sum(c * 3600 * f for c, f in zip(capacity, fractions, strict=True))
            if available <= 0 or offered <= 0:
                raise ScenarioError("offered_load needs agents on shift while customers arrive")
            scale = float(arrivals.offered_load or 0.0) * available / offered
        hourly_rates = tuple(weight * scale / 3600 for weight in weights_by_hour)

    return Model(
        file=scenario,
        source=source,
        start=start,
        horizon=horizon,
        warmup=section.warmup_minutes * 60,
        end=end,
        day_offset=day_offset,
        teams=teams,
        team_names={team_id: name for name, team_id in team_ids.items()},
        agents=agents,
        topics=topics,
        routing=routing,
        slowdown=scenario.routing.concurrency_slowdown,
        service_target=scenario.routing.service_target_seconds,
        rules=_rules(scenario, team_ids),
        tier2_team_id=None
        if scenario.rules.tier2_team is None
        else team_ids[scenario.rules.tier2_team],
        sla_policies=_sla(scenario),
        hourly_rates=hourly_rates,
        trace=trace,
        seed=section.seed,
        replications=section.replications,
        sample_every=section.sample_seconds,
    )


def offered_load_by_hour(model: Model) -> list[tuple[float, float]]:
    """(offered chats per second, capacity per second) for each simulated hour."""
    hours = math.ceil(model.horizon / 3600)
    capacity = hourly_capacity(model.agents, model.topics, model.slowdown, hours)
    if model.trace is not None:
        counts = [0.0] * hours
        for row in model.trace:
            counts[min(hours - 1, int(row.at // 3600))] += 1
        rates = [count / 3600 for count in counts]
    else:
        rates = list(model.hourly_rates)
    return list(zip(rates, capacity, strict=True))


def day_load(model: Model) -> tuple[float, float]:
    """(the day's offered load, the busiest staffed hour's), as shares of capacity."""
    pairs = offered_load_by_hour(model)
    offered = sum(rate for rate, _ in pairs)
    capacity = sum(cap for _, cap in pairs)
    busiest = max((rate / cap for rate, cap in pairs if cap > 0), default=math.inf)
    return (offered / capacity if capacity else math.inf), busiest


def local_hour(model: Model, at: float) -> float:
    """Hour of the local day (0-24) at simulated second `at`."""
    return ((model.day_offset + at) / 3600) % 24


def moment(model: Model, at: float) -> datetime:
    return model.start + timedelta(seconds=at)
