"""Agents, supervisors and admins; the teams they work in; the inboxes they serve."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpline.adapters.db.base import Base, JSONType, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('agent', 'supervisor', 'admin')", name="role"),
        CheckConstraint("tier IN (1, 2)", name="tier"),
        CheckConstraint("max_concurrent_chats BETWEEN 1 AND 10", name="chat_cap"),
        CheckConstraint("status IN ('online', 'away', 'on_break', 'offline')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    is_active: Mapped[bool] = mapped_column(default=True)
    tier: Mapped[int] = mapped_column(default=1)
    max_concurrent_chats: Mapped[int] = mapped_column(default=3)
    refund_limit_cents: Mapped[int] = mapped_column(default=0)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    """Categories this agent handles (empty: their teams' categories)."""
    languages: Mapped[list[str]] = mapped_column(JSONType, default=lambda: ["en"])
    status: Mapped[str] = mapped_column(String(16), default="offline")
    status_since: Mapped[datetime] = mapped_column(default=utcnow)
    last_assigned_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (CheckConstraint("tier IN (1, 2)", name="tier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tier: Mapped[int] = mapped_column(default=1)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Inbox(Base):
    """One channel instance: a chat widget, an email address, a phone line, an API."""

    __tablename__ = "inboxes"
    __table_args__ = (
        CheckConstraint("channel IN ('chat', 'email', 'phone', 'api')", name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    """Identifies the inbox to the chat widget; safe to publish."""
    secret: Mapped[str] = mapped_column(String(128))
    """Keys identity-verification HMACs; never shown to visitors."""
    email_address: Mapped[str | None] = mapped_column(String(254))
    default_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    routing_strategy: Mapped[str] = mapped_column(String(32), default="priority")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxMember(Base):
    __tablename__ = "inbox_members"

    inbox_id: Mapped[int] = mapped_column(
        ForeignKey("inboxes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
