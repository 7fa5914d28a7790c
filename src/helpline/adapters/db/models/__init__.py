"""ORM models, one module per area of the domain. Import from here."""

from helpline.adapters.db.models.contacts import Contact
from helpline.adapters.db.models.content import Article, CannedResponse
from helpline.adapters.db.models.conversations import (
    Activity,
    Conversation,
    ConversationTag,
    Message,
    Participant,
)
from helpline.adapters.db.models.outbox import Counter, OutboxItem
from helpline.adapters.db.models.people import Inbox, InboxMember, Team, TeamMember, User
from helpline.adapters.db.models.policies import Rule, SLAPolicy
from helpline.adapters.db.models.security import (
    AgentSession,
    ApiToken,
    AuditLog,
    LoginThrottle,
    PasswordResetToken,
)

__all__ = [
    "Activity",
    "AgentSession",
    "ApiToken",
    "Article",
    "AuditLog",
    "CannedResponse",
    "Contact",
    "Conversation",
    "ConversationTag",
    "Counter",
    "Inbox",
    "InboxMember",
    "LoginThrottle",
    "Message",
    "OutboxItem",
    "Participant",
    "PasswordResetToken",
    "Rule",
    "SLAPolicy",
    "Team",
    "TeamMember",
    "User",
]
