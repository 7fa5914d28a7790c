"""Working together and looking after agents: notifications (e.g. @mentions in
internal notes) and each agent's break-reminder state (issue 8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from helpline.adapters.db.base import Base, JSONType, utcnow


class Notification(Base):
    """Something a colleague should look at, e.g. "Maria mentioned you in #1245"."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("kind IN ('mention')", name="kind"),
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="mention")
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    """What the list shows without more queries: actor name, number, an excerpt."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class AgentWellbeing(Base):
    """An agent's break-reminder preferences and state; no row means the defaults."""

    __tablename__ = "agent_wellbeing"
    __table_args__ = (
        CheckConstraint(
            "break_after_minutes IS NULL OR break_after_minutes BETWEEN 10 AND 480",
            name="break_after",
        ),
        CheckConstraint(
            "break_minutes IS NULL OR break_minutes BETWEEN 1 AND 120", name="break_minutes"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    pomodoro: Mapped[bool] = mapped_column(default=False)
    """25 minutes of chatting, then a 5-minute break, instead of the long stretch."""
    break_after_minutes: Mapped[int | None]
    """Own stretch length; None: the installation's default."""
    break_minutes: Mapped[int | None]
    """Own break length; None: the installation's default."""
    snoozed_until: Mapped[datetime | None]
    """No reminder before this moment (the agent chose "later")."""
    reminded_at: Mapped[datetime | None]
    """When the last reminder was sent, so the worker sends each one once."""
    break_ends_at: Mapped[datetime | None]
    """While on a break taken from a reminder: when it is meant to end."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
