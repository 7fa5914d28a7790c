"""Request and response shapes of the routing, SLA and escalation-rule API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from helpline.domain.enums import AgentStatus, Channel, Plan, Priority
from helpline.domain.routing import ScorePart, Strategy

DbId = Annotated[int, Field(ge=1, le=2_147_483_647)]
Seconds = Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)]
TimeoutSeconds = Annotated[float, Field(ge=5, le=3600, allow_inf_nan=False)]
Minutes = Annotated[int, Field(ge=1, le=365 * 24 * 60)]
Name = Annotated[str, Field(min_length=1, max_length=100)]


# ---------------------------------------------------------------- routing settings


class GlobalSettingsUpdate(BaseModel):
    """Fields sent are changed (null: back to the environment's default)."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[str, Any] | None = None
    """Priority weights by name, e.g. `{"urgent_points": 50, "plan_points": {"paid": 20}}`."""
    handling_minutes: dict[str, float] | None = None
    """Expected handling minutes by category (easiest-first and wait estimates)."""
    email_weight: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] | None = None
    sticky_wait_seconds: Seconds | None = None
    answer_timeout_seconds: TimeoutSeconds | None = None
    tier2_team_id: DbId | None = None


class ScopeSettingsUpdate(BaseModel):
    """An inbox's or a team's routing (null: inherit)."""

    model_config = ConfigDict(extra="forbid")

    strategy: Strategy | None = None
    sticky_wait_seconds: Seconds | None = None
    answer_timeout_seconds: TimeoutSeconds | None = None


class ScopeSettingsPublic(BaseModel):
    id: int
    name: str
    strategy: Strategy | None
    """For inboxes: their strategy; for teams: null means the inbox's applies."""
    sticky_wait_seconds: float | None
    answer_timeout_seconds: float | None


class RoutingSettingsPublic(BaseModel):
    strategy_default: Strategy
    weights: dict[str, Any]
    """The weights in force (defaults with the admin's and the environment's changes)."""
    weights_overrides: dict[str, Any]
    handling_minutes: dict[str, float]
    email_weight: float
    sticky_wait_seconds: float
    answer_timeout_seconds: float
    tier2_team_id: int | None
    inboxes: list[ScopeSettingsPublic]
    teams: list[ScopeSettingsPublic]


# ---------------------------------------------------------------- calendars and policies


class CalendarHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    weekly_hours: dict[str, list[list[str]]] = Field(default_factory=dict)
    """Weekday (`mon`…`sun`) to opening intervals `[["09:00", "17:00"]]`; "24:00" is
    midnight at the end of the day."""
    holidays: list[str] = Field(default_factory=list, max_length=400)
    """Closed days, `YYYY-MM-DD`."""


class CalendarCreate(CalendarHours):
    name: Name


class CalendarUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    hours: CalendarHours | None = None


class CalendarPublic(BaseModel):
    id: int
    name: str
    time_zone: str
    weekly_hours: dict[str, list[list[str]]]
    holidays: list[str]
    updated_at: datetime


class CalendarList(BaseModel):
    data: list[CalendarPublic]
    count: int


class PolicyWrite(BaseModel):
    """A whole policy (create, or replace with PUT). Match fields null: any."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    position: Annotated[int, Field(ge=0, le=10_000)] = 0
    match_priority: Priority | None = None
    match_category: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    match_plan: Plan | None = None
    match_channel: Channel | None = None
    first_response_minutes: Minutes | None = None
    next_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    calendar_id: DbId | None = None
    """A shared business calendar; null with `calendar` null: around the clock."""
    calendar: CalendarHours | None = None
    """Hours for this policy only (used when `calendar_id` is null)."""
    active: bool = True


class PolicyPublic(BaseModel):
    id: int
    name: str
    position: int
    match_priority: Priority | None
    match_category: str | None
    match_plan: Plan | None
    match_channel: Channel | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    calendar_id: int | None
    calendar: dict[str, Any]
    active: bool


class PolicyList(BaseModel):
    data: list[PolicyPublic]
    count: int


# ---------------------------------------------------------------- rules


class RuleWrite(BaseModel):
    """A whole rule. `conditions`: a list (all must hold) of `{"field", "op",
    "value"}` or nested `{"any": [...]}` / `{"all": [...]}` groups; `actions`: a list
    of `{"action", "value"}` (see docs/routing.md)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    kind: Literal["routing", "escalation", "automation"] = "escalation"
    trigger: Literal[
        "conversation_created", "customer_message", "conversation_updated", "time", "any"
    ] = "conversation_updated"
    conditions: list[dict[str, Any]] = Field(min_length=1, max_length=50)
    actions: list[dict[str, Any]] = Field(min_length=1, max_length=20)
    position: Annotated[int, Field(ge=0, le=10_000)] = 0
    active: bool = True


class RulePublic(BaseModel):
    id: int
    name: str
    kind: str
    trigger: str
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    position: int
    active: bool


class RuleList(BaseModel):
    data: list[RulePublic]
    count: int


class BuiltinRulesInstall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier2_team_id: DbId | None = None
    security_team_id: DbId | None = None
    tier1_minutes: Annotated[float, Field(ge=1, le=7 * 24 * 60, allow_inf_nan=False)] = 30


# ---------------------------------------------------------------- queue and expected wait


class ScoreReason(BaseModel):
    reason: str
    points: float

    @classmethod
    def of(cls, part: ScorePart) -> ScoreReason:
        return cls(reason=part.reason, points=round(part.points, 2))


class QueueEstimatePublic(BaseModel):
    conversation_id: int
    waiting: bool
    position: int | None
    """1: next to be served among the conversations competing for the same agents."""
    ahead: int | None
    estimated_wait_seconds: float | None
    """null: no estimate (see `reason`), or not waiting."""
    reason: str
    strategy: Strategy
    priority_score: float
    priority_breakdown: list[ScoreReason]
    explanation: str
    """The breakdown in one line: "urgent: login problem +40, paid plan +15, …"."""


class QueueEntryPublic(QueueEstimatePublic):
    number: int
    subject: str
    channel: Channel
    category: str | None
    priority: Priority
    inbox_id: int
    team_id: int | None
    contact_name: str
    plan: Plan | None
    waiting_since: datetime | None
    eligible_agents: int
    """Online agents who could take it (now or once they have room)."""


class QueueList(BaseModel):
    data: list[QueueEntryPublic]
    count: int


# ---------------------------------------------------------------- SLA of a conversation


class SlaTargetPublic(BaseModel):
    target: Literal["first_response", "next_response", "resolution"]
    state: Literal["active", "met", "missed"]
    due_at: datetime | None
    """null while the clock is paused."""
    completed_at: datetime | None
    paused: bool


class SlaPausePublic(BaseModel):
    started_at: datetime
    ended_at: datetime | None
    reason: str


class SlaPublic(BaseModel):
    conversation_id: int
    policy_id: int | None
    policy_name: str | None
    state: Literal["active", "met", "missed"] | None
    """null: no SLA policy applies."""
    paused: bool
    targets: list[SlaTargetPublic]
    pauses: list[SlaPausePublic]


# ---------------------------------------------------------------- agents


class AgentStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AgentStatus


class AgentRoutingPublic(BaseModel):
    id: int
    name: str
    status: AgentStatus
    status_since: datetime
    tier: int
    max_concurrent_chats: int
    open_chats: int
    open_email_tickets: int
    load: float
    """Open chats + email tickets times the email weight, against `max_concurrent_chats`."""


class AgentRoutingList(BaseModel):
    data: list[AgentRoutingPublic]
    count: int


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_cents: Annotated[int, Field(ge=1, le=100_000_000_00)]
    """What the customer asks to get back, in cents."""
