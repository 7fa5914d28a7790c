"""Configurable policy: SLA targets and condition → action rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, String
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
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
