"""The closed vocabularies of the support domain, shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    ON_BREAK = "on_break"
    OFFLINE = "offline"


class Channel(StrEnum):
    CHAT = "chat"
    EMAIL = "email"
    PHONE = "phone"
    API = "api"


class ConversationStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Plan(StrEnum):
    FREE = "free"
    TRIAL = "trial"
    PAID = "paid"
    ENTERPRISE = "enterprise"


class AuthorType(StrEnum):
    CONTACT = "contact"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class MessageKind(StrEnum):
    REPLY = "reply"
    NOTE = "note"


class ActivityKind(StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    TRANSFERRED = "transferred"
    TEAM_CHANGED = "team_changed"
    PRIORITY_CHANGED = "priority_changed"
    CATEGORY_CHANGED = "category_changed"
    TAGS_CHANGED = "tags_changed"
    SNOOZED = "snoozed"
    REOPENED = "reopened"
    AUTO_CLOSED = "auto_closed"
    SLA_BREACHED = "sla_breached"
    ESCALATED = "escalated"
    PARTICIPANT_JOINED = "participant_joined"
    PARTICIPANT_LEFT = "participant_left"
    REOFFERED = "reoffered"
    """Routing took an unanswered chat back from its agent to offer it to another."""
    SLA_WARNING = "sla_warning"
    SLA_PAUSED = "sla_paused"
    SLA_RESUMED = "sla_resumed"
    REFUND_REQUESTED = "refund_requested"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


DEFAULT_CATEGORIES: tuple[str, ...] = (
    "billing",
    "account",
    "technical",
    "orders",
    "sales",
    "general",
)
