"""Request and response shapes for working together (participants, notifications),
agent wellbeing (status, load, breaks) and the supervisor overview."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from helpline.domain.enums import AgentStatus, Priority

DbId = Annotated[int, Field(ge=1, le=2_147_483_647)]


# ---------------------------------------------------------------- participants


class ParticipantAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: DbId


class ParticipantPublic(BaseModel):
    user_id: int
    name: str
    role: str
    joined_at: datetime


class ParticipantList(BaseModel):
    data: list[ParticipantPublic]
    count: int


# ---------------------------------------------------------------- notifications


class NotificationPublic(BaseModel):
    id: int
    kind: str
    conversation_id: int | None
    message_id: int | None
    actor_user_id: int | None
    data: dict[str, Any]
    """`actor_name`, `conversation_number`, `subject`, `excerpt`."""
    created_at: datetime
    read_at: datetime | None


class NotificationList(BaseModel):
    data: list[NotificationPublic]
    count: int
    unread: int
    """Unread notifications in all (not only on this page)."""


class NotificationsRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[DbId], Field(max_length=500)] | None = None
    """These notifications; leave out to mark all read."""


class NotificationsReadResult(BaseModel):
    changed: int


# ---------------------------------------------------------------- wellbeing


class WellbeingPublic(BaseModel):
    user_id: int
    name: str
    status: AgentStatus
    status_since: datetime
    open_chats: int
    open_email_tickets: int
    max_concurrent_chats: int
    pomodoro: bool
    break_after_minutes: int
    """The stretch in use: own, Pomodoro (25) or the installation's default."""
    break_minutes: int
    own_break_after_minutes: int | None
    own_break_minutes: int | None
    break_due_at: datetime | None
    """When the next break reminder is due (online agents only)."""
    break_due: bool
    snoozed_until: datetime | None
    break_ends_at: datetime | None
    snooze_minutes: list[int]


class WellbeingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pomodoro: bool = False
    break_after_minutes: Annotated[int, Field(ge=10, le=480)] | None = None
    break_minutes: Annotated[int, Field(ge=1, le=120)] | None = None


class Snooze(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: Annotated[int, Field(ge=1, le=120)] = 10


# ---------------------------------------------------------------- supervision


class QueueItemPublic(BaseModel):
    conversation_id: int
    number: int
    subject: str
    contact_name: str
    priority: Priority
    waiting_since: datetime | None
    position: int | None
    estimated_wait_seconds: float | None
    reason: str
    eligible_agents: int


class QueueSummaryPublic(BaseModel):
    waiting: int
    by_priority: dict[str, int]
    longest_wait_seconds: float | None
    items: list[QueueItemPublic]


class ChatItemPublic(BaseModel):
    conversation_id: int
    number: int
    subject: str
    contact_name: str
    priority: str
    channel: str
    waiting_since: datetime | None


class AgentItemPublic(BaseModel):
    user_id: int
    name: str
    role: str
    status: AgentStatus
    status_since: datetime
    open_chats: int
    open_email_tickets: int
    max_concurrent_chats: int
    chats_today: int
    conversations: list[ChatItemPublic]


class RiskItemPublic(BaseModel):
    conversation_id: int
    number: int
    subject: str
    contact_name: str
    priority: str
    assignee_id: int | None
    assignee_name: str | None
    team_name: str | None
    target: str
    due_at: datetime
    overdue: bool


class OverviewPublic(BaseModel):
    now: datetime
    queue: QueueSummaryPublic
    agents: list[AgentItemPublic]
    at_risk: list[RiskItemPublic]
