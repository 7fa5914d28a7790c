"""ORM models, one module per area of the domain. Import from here."""

from helpline.adapters.db.models.ai import AiCorrection
from helpline.adapters.db.models.collaboration import AgentWellbeing, Notification
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
from helpline.adapters.db.models.self_service import ArticleCategory, SelfServiceLookup
from helpline.adapters.db.models.workspace import UserPreferences

__all__ = [
    "Activity",
    "AgentSession",
    "AgentWellbeing",
    "AiCorrection",
    "ApiToken",
    "Article",
    "ArticleCategory",
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
    "Notification",
    "OutboxItem",
    "Participant",
    "PasswordResetToken",
    "RoutingSettings",
    "Rule",
    "SLACalendar",
    "SLAPolicy",
    "SelfServiceLookup",
    "Team",
    "TeamMember",
    "User",
    "UserPreferences",
]
