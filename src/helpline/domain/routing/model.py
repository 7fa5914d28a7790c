"""The plain data the router works on: waiting conversations, agents and teams.

The service layer copies these out of the database (or the simulator builds them);
routing functions never see ORM objects, so they run the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from helpline.domain.enums import AgentStatus, Channel, Plan, Priority

MIN_CHAT_CAP = 1
MAX_CHAT_CAP = 10
TIERS = (1, 2)


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class QueuedConversation:
    """A conversation waiting for an agent, with what routing and scoring need."""

    id: int
    waiting_since: datetime
    """When it (re-)entered the queue: waiting time and sticky waits count from here."""
    channel: Channel = Channel.CHAT
    category: str | None = None
    intent: str | None = None
    """Finer topic from the classifier (e.g. `login_problem`); unknown: None."""
    urgent_reason: str | None = None
    """Set by the classifier's urgent keywords or a `set_urgent` rule ("fraud")."""
    priority: Priority = Priority.NORMAL
    language: str | None = None
    """Language of the customer; None (not detected) lets any agent take it."""
    team_id: int | None = None
    """Routed only to members of this team when set (transfer, escalation)."""
    tier: int = 1
    """Tier-2 conversations need tier-2 agents."""
    plan: Plan | None = None
    lifetime_value_cents: int = 0
    orders_count: int = 0
    order_value_cents: int = 0
    """Value of the order the conversation is about (0: none or unknown)."""
    first_time_customer: bool = False
    first_response_due_at: datetime | None = None
    previous_agent_id: int | None = None
    """The agent who last served this contact: the sticky preference."""
    excluded_agent_ids: frozenset[int] = frozenset()
    """Agents who let it go unanswered; it is not offered to them again."""
    frustration: float = 0.0
    """How frustrated the customer sounds, 0..1 (AI assist); raises the score."""

    def __post_init__(self) -> None:
        _require_aware(self.waiting_since, "waiting_since")
        _require_aware(self.first_response_due_at, "first_response_due_at")
        if self.tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}")


@dataclass(frozen=True, slots=True)
class AgentState:
    """An agent as routing sees them at one moment."""

    id: int
    status: AgentStatus = AgentStatus.ONLINE
    team_ids: frozenset[int] = frozenset()
    skills: frozenset[str] = frozenset()
    """Categories this agent handles; empty: whatever their teams handle."""
    languages: frozenset[str] = frozenset({"en"})
    tier: int = 1
    max_concurrent_chats: int = 3
    open_chats: int = 0
    """Open live conversations (chat, phone, API) assigned to the agent."""
    open_email_tickets: int = 0
    last_assigned_at: datetime | None = None

    def __post_init__(self) -> None:
        if not MIN_CHAT_CAP <= self.max_concurrent_chats <= MAX_CHAT_CAP:
            raise ValueError(
                f"max_concurrent_chats must be between {MIN_CHAT_CAP} and {MAX_CHAT_CAP}"
            )
        if self.tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}")
        if self.open_chats < 0 or self.open_email_tickets < 0:
            raise ValueError("open conversation counts cannot be negative")
        _require_aware(self.last_assigned_at, "last_assigned_at")


@dataclass(frozen=True, slots=True)
class TeamInfo:
    """A team as routing sees it: which categories it handles (empty: all of them)."""

    id: int
    tier: int = 1
    categories: frozenset[str] = frozenset()


@lru_cache(maxsize=1024)
def normalise_language(language: str | None) -> str | None:
    """Compare languages by their primary subtag: `pt-BR` and `pt` are the same."""
    if language is None:
        return None
    primary = language.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary or None
