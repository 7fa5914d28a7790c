"""ORM models, one module per area of the domain. Import from here."""

from helpline.adapters.db.models.contacts import Contact
from helpline.adapters.db.models.content import (
    Article,
    ArticleVote,
    CannedResponse,
    CannedResponseVersion,
    DeflectionSession,
)
from helpline.adapters.db.models.conversations import (
    Activity,
    Conversation,
    ConversationTag,
    Message,
    Participant,
)
from helpline.adapters.db.models.live_chat import Attachment, ConversationRead
from helpline.adapters.db.models.outbox import Counter, OutboxItem
from helpline.adapters.db.models.people import Inbox, InboxMember, Team, TeamMember, User
from helpline.adapters.db.models.policies import RoutingSettings, Rule, SLACalendar, SLAPolicy
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
    "ArticleVote",
    "Attachment",
    "AuditLog",
    "CannedResponse",
    "CannedResponseVersion",
    "Contact",
    "Conversation",
    "ConversationRead",
    "ConversationTag",
    "Counter",
    "DeflectionSession",
    "Inbox",
    "InboxMember",
    "LoginThrottle",
    "Message",
    "OutboxItem",
    "Participant",
    "PasswordResetToken",
    "RoutingSettings",
    "Rule",
    "SLACalendar",
    "SLAPolicy",
    "Team",
    "TeamMember",
    "User",
]
