"""Configurable policy: SLA targets and condition → action rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpline.adapters.db.base import Base, JSONType, utcnow


class SLAPolicy(Base):
    """Targets for conversations matching priority/category/plan/channel (None: any)."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    """Lower positions are matched first."""
    match_priority: Mapped[str | None] = mapped_column(String(16))
    match_category: Mapped[str | None] = mapped_column(String(40))
    match_plan: Mapped[str | None] = mapped_column(String(16))
    match_channel: Mapped[str | None] = mapped_column(String(16))
    first_response_minutes: Mapped[int | None]
    next_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    calendar: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    """Business hours: time zone, weekly hours, holidays. Empty: around the clock."""
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="SET NULL")
    )
    """A shared calendar; when set it wins over the inline `calendar`."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SLACalendar(Base):
    """A named business-hours calendar that SLA policies share."""

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    """`{"time_zone", "weekly_hours", "holidays"}` (see domain.sla.calendar_from_data)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoutingSettings(Base):
    """Routing settings of the installation (`scope` "global"), an inbox ("inbox:3")
    or a team ("team:5"); None fields inherit from the wider scope."""

    __tablename__ = "routing_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), unique=True)
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    strategy: Mapped[str | None] = mapped_column(String(32))
    """A `domain.routing.Strategy` value, checked by the service. Teams only (an inbox
    keeps its strategy in `inboxes.routing_strategy`)."""
    sticky_wait_seconds: Mapped[float | None]
    answer_timeout_seconds: Mapped[float | None]
    email_weight: Mapped[float | None]
    weights: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    """Priority weights by name (global scope only), over the built-in defaults."""
    handling_minutes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    """Expected handling minutes by category (global scope only)."""
    tier2_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    """Where `escalate_to_tier2` without a team sends conversations (global scope)."""
    last_tick_at: Mapped[datetime | None]
    """When a worker last re-scored and re-routed the whole queue (global scope)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rule(Base):
    """Routing, escalation or automation: when `conditions` hold, run `actions`."""

    __tablename__ = "rules"
    __table_args__ = (
        CheckConstraint("kind IN ('routing', 'escalation', 'automation')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(40), default="conversation_created")
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
