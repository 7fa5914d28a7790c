"""Conversations (a chat and a ticket are one entity), their messages and history.

Messages and activities share one per-conversation sequence (`seq`), so the
history is a single ordering and a reconnecting client resumes from a number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from helpline.adapters.db.base import Base, JSONType, utcnow


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'pending', 'on_hold', 'solved', 'closed')", name="status"
        ),
        CheckConstraint("priority IN ('urgent', 'high', 'normal', 'low')", name="priority"),
        CheckConstraint("channel IN ('chat', 'email', 'phone', 'api')", name="channel"),
        CheckConstraint("csat_score IS NULL OR csat_score BETWEEN 1 AND 5", name="csat"),
        CheckConstraint("nps_score IS NULL OR nps_score BETWEEN 0 AND 10", name="nps"),
        CheckConstraint("tier IN (1, 2)", name="tier"),
        CheckConstraint(
            "sla_state IS NULL OR sla_state IN ('active', 'met', 'missed')", name="sla_state"
        ),
        Index("ix_conversations_status_activity", "status", "last_activity_at", "id"),
        # PostgreSQL also carries the channel: routing counts each candidate agent's
        # open chats and email tickets from the index alone.
        Index(
            "ix_conversations_assignee_status",
            "assignee_id",
            "status",
            "last_activity_at",
            postgresql_include=["channel"],
        ),
        Index("ix_conversations_team_status", "team_id", "status", "last_activity_at"),
        Index("ix_conversations_inbox_status", "inbox_id", "status", "last_activity_at"),
        Index("ix_conversations_status_score", "status", "priority_score"),
        # Keyset pages of the inbox list across all statuses (newest activity or
        # newest created first) and of the open queue by waiting time.
        Index("ix_conversations_activity", "last_activity_at", "id"),
        Index("ix_conversations_created", "created_at", "id"),
        Index("ix_conversations_status_waiting", "status", "waiting_since", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    """Human-friendly, gap-free sequential number ("#1245")."""
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inboxes.id"))
    channel: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    priority_score: Mapped[float] = mapped_column(default=0.0)
    category: Mapped[str | None] = mapped_column(String(40))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    language: Mapped[str | None] = mapped_column(String(16))
    sentiment: Mapped[float | None]
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    first_response_due_at: Mapped[datetime | None]
    next_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    waiting_since: Mapped[datetime | None]
    """Since when the customer waits for an agent's answer; None once answered."""
    first_response_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    solved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    last_seq: Mapped[int] = mapped_column(default=0)
    csat_score: Mapped[int | None]
    csat_comment: Mapped[str | None] = mapped_column(Text)
    nps_score: Mapped[int | None]
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    # -- routing, SLA and escalation (services/routing.py, sla.py, escalation.py) --------
    priority_breakdown: Mapped[list[list[Any]]] = mapped_column(JSONType, default=list)
    """Why `priority_score` is what it is: `[[reason, points], ...]`, shown to agents."""
    tier: Mapped[int] = mapped_column(default=1)
    """2 once escalated to tier 2: only tier-2 agents are offered it then."""
    urgent_reason: Mapped[str | None] = mapped_column(String(100))
    """Set by a `set_urgent` rule (e.g. "security"); counts as urgent in the score."""
    previous_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    """The agent who last served this contact: offered the conversation first (sticky)."""
    first_contact: Mapped[bool] = mapped_column(default=False)
    """The customer's first conversation, with no plan or orders yet (score bonus)."""
    offered_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """The agent the router gave this chat to, until they answer (re-offer check)."""
    offered_at: Mapped[datetime | None]
    """When the router gave it to `offered_to_id`; None once answered or reassigned."""
    routing_excluded_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    """Agents who let this chat go unanswered: it is not offered to them again."""
    fired_rules: Mapped[list[str]] = mapped_column(JSONType, default=list)
    """Names of the escalation rules that already fired for this conversation."""
    refund_requested_cents: Mapped[int | None]
    """The refund the customer asks for, as recorded by an agent or an integration."""
    sla_state: Mapped[str | None] = mapped_column(String(16))
    """active, met or missed; None without an SLA policy."""
    sla_pauses: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    """`[{"started_at", "ended_at", "reason"}]`: the clock stops while pending or on hold."""
    sla_notified: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    """Warnings and breaches already announced (`{"warned": [...], "breached": [...]}`)."""
    sla_next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    """When the SLA clock next needs a look (a warning or a deadline is due)."""

    # -- AI assist (services/ai_assist.py, services/bot.py; migration 0003) ---------------
    ai_category: Mapped[str | None] = mapped_column(String(40))
    """The classifier's category for what the customer wrote (kept even when an agent
    or the customer chose another: comparing the two measures the classifier)."""
    ai_category_confidence: Mapped[float | None]
    ai_category_source: Mapped[str | None] = mapped_column(String(16))
    """urgent_topic, keyword, model or correction: why the classifier said so."""
    ai_urgent_reasons: Mapped[list[str] | None] = mapped_column(JSONType)
    """Urgent topics found (failed_payment, account_security, fraud)."""
    ai_language: Mapped[str | None] = mapped_column(String(16))
    """Language detected from the customer's messages (None: not reliable)."""
    frustration: Mapped[float | None]
    """0..1 over the customer's recent messages; raises the priority score."""
    frustration_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    """`[{"kind", "evidence"}]`: what the badge shows."""
    tone_register: Mapped[str | None] = mapped_column(String(16))
    """casual, neutral or formal: the register replies should match."""
    ai_text_hash: Mapped[str | None] = mapped_column(String(32))
    """Digest of the text last analysed: the same words are not analysed twice."""
    bot_active: Mapped[bool] = mapped_column(default=False, server_default=false())
    """The FAQ bot answers this conversation; it is kept out of the agents' queue."""
    bot_unhelpful: Mapped[int] = mapped_column(default=0, server_default="0")
    """Bot answers the customer called unhelpful (two hand over to a person)."""


class ConversationTag(Base):
    __tablename__ = "conversation_tags"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)


class Participant(Base):
    """An agent helping in a conversation besides its assignee."""

    __tablename__ = "participants"
    # One row per agent and conversation: joining again clears `left_at`.
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("conversation_id", "client_message_id"),
        CheckConstraint("author_type IN ('contact', 'agent', 'bot', 'system')", name="author"),
        CheckConstraint("kind IN ('reply', 'note')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int]
    author_type: Mapped[str] = mapped_column(String(16))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(8), default="reply")
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    client_message_id: Mapped[str | None] = mapped_column(String(64))
    """Chosen by the sender so that a retried send is stored once."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Activity(Base):
    """One change to a conversation, with who made it and when."""

    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
