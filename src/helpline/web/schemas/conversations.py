"""Request and response shapes of the conversations API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from helpline.adapters.db.models import Activity, Message
from helpline.domain.enums import (
    ActivityKind,
    AuthorType,
    Channel,
    ConversationStatus,
    MessageKind,
    Plan,
    Priority,
)
from helpline.services.conversation_queries import ConversationRow
from helpline.services.conversations import HistoryEntry, ai_fields
from helpline.web.schemas.contacts import ContactIdentify, PlainText

MAX_BODY_CHARS = 1_000_000
"""A hard ceiling; the configured limit (settings.max_message_chars) is checked by
the service, so operators can change it without a code change."""

MAX_DB_ID = 2_147_483_647
"""Ids are 32-bit integers on PostgreSQL; larger numbers cannot name anything."""

DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]
MessageBody = Annotated[PlainText, Field(max_length=MAX_BODY_CHARS)]
ClientMessageId = Annotated[PlainText, Field(min_length=1, max_length=64)]
Subject = Annotated[PlainText, Field(max_length=300)]
Category = Annotated[PlainText, Field(min_length=1, max_length=40)]
Tag = Annotated[PlainText, Field(max_length=100)]


# ---------------------------------------------------------------- requests


class ConversationCreate(BaseModel):
    """Open a conversation for a contact given by id or identified by email/external id."""

    model_config = ConfigDict(extra="forbid")

    inbox_id: DbId
    contact_id: DbId | None = None
    contact: ContactIdentify | None = None
    subject: Subject = ""
    first_message: MessageBody | None = None
    """What the customer wrote first, if anything."""
    priority: Priority = Priority.NORMAL
    category: Category | None = None
    team_id: DbId | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=100)


class ConversationUpdate(BaseModel):
    """Fields sent are changed; fields left out (or null) stay as they are."""

    model_config = ConfigDict(extra="forbid")

    priority: Priority | None = None
    category: Category | None = None
    subject: Subject | None = None


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: MessageBody
    kind: MessageKind = MessageKind.REPLY
    """`reply` goes to the customer; `note` is internal."""
    client_message_id: ClientMessageId | None = None
    """Chosen by the client; sending the same id again returns the stored message."""


class IncomingMessage(BaseModel):
    """A customer message relayed by an integration."""

    model_config = ConfigDict(extra="forbid")

    body: MessageBody
    client_message_id: ClientMessageId | None = None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ConversationStatus
    snooze_until: AwareDatetime | None = None
    """Only with `pending`: the conversation reopens by itself at this time."""


class TagsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[Tag] = Field(max_length=100)


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: DbId | None
    """A user id, or null to unassign."""


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_user_id: DbId | None = None
    to_team_id: DbId | None = None
    note: Annotated[PlainText, Field(max_length=1000)] | None = None


# ---------------------------------------------------------------- responses


class Ref(BaseModel):
    """A named object a conversation points at."""

    id: int
    name: str


class ContactSummary(BaseModel):
    id: int
    name: str
    email: str | None
    plan: Plan | None


class PriorityReason(BaseModel):
    """One reason for the priority score ("urgent: login problem", 40)."""

    reason: str
    points: float


class FrustrationReason(BaseModel):
    """One piece of evidence behind the frustration score ("trigger_phrase", "lawyer")."""

    kind: str
    evidence: str


class ConversationPublic(BaseModel):
    id: int
    number: int
    """The human number shown as #1245."""
    subject: str
    status: ConversationStatus
    priority: Priority
    priority_score: float
    category: str | None
    tags: list[str]
    team: Ref | None
    assignee: Ref | None
    contact: ContactSummary
    channel: Channel
    inbox_id: int
    language: str | None
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    waiting_since: datetime | None
    """Since when the customer waits for an answer; null once answered."""
    first_response_at: datetime | None
    assigned_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    snoozed_until: datetime | None
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    last_seq: int
    """Sequence number of the newest history entry (resume point for clients)."""
    priority_breakdown: list[PriorityReason] = []
    """Why `priority_score` is what it is (services.routing keeps it current)."""
    sla_state: Literal["active", "met", "missed"] | None = None
    """null: no SLA policy applies (details: GET /conversations/{id}/sla)."""
    frustration: float | None = None
    """0..1 from AI assist over the customer's recent messages; null: not analysed."""
    frustration_level: Literal["low", "medium", "high"] | None = None
    frustration_reasons: list[FrustrationReason] = []
    """What the workspace's frustration badge shows."""
    ai_category: str | None = None
    """The classifier's category (kept when a person chose another `category`)."""
    ai_category_confidence: float | None = None
    ai_language: str | None = None
    """The language detected from the customer's messages (null: not reliable)."""

    @classmethod
    def of(cls, row: ConversationRow) -> ConversationPublic:
        conversation, contact = row.conversation, row.contact
        return cls(
            id=conversation.id,
            number=conversation.number,
            subject=conversation.subject,
            status=ConversationStatus(conversation.status),
            priority=Priority(conversation.priority),
            priority_score=conversation.priority_score,
            category=conversation.category,
            tags=row.tags,
            team=Ref(id=conversation.team_id, name=row.team_name or "")
            if conversation.team_id is not None
            else None,
            assignee=Ref(id=conversation.assignee_id, name=row.assignee_name or "")
            if conversation.assignee_id is not None
            else None,
            contact=ContactSummary(
                id=contact.id,
                name=contact.name,
                email=contact.email,
                plan=Plan(contact.plan) if contact.plan else None,
            ),
            channel=Channel(conversation.channel),
            inbox_id=conversation.inbox_id,
            language=conversation.language,
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
            last_activity_at=conversation.last_activity_at,
            waiting_since=conversation.waiting_since,
            first_response_at=conversation.first_response_at,
            assigned_at=conversation.assigned_at,
            solved_at=conversation.solved_at,
            closed_at=conversation.closed_at,
            snoozed_until=conversation.snoozed_until,
            first_response_due_at=conversation.first_response_due_at,
            next_response_due_at=conversation.next_response_due_at,
            resolution_due_at=conversation.resolution_due_at,
            last_seq=conversation.last_seq,
            priority_breakdown=[
                PriorityReason(reason=str(reason), points=float(points))
                for reason, points in conversation.priority_breakdown or []
            ],
            sla_state=conversation.sla_state,
            **ai_fields(conversation),
        )


class ConversationList(BaseModel):
    data: list[ConversationPublic]
    count: int
    """Matching conversations you can see; counting stops at 1,000 (see count_capped)."""
    count_capped: bool = False
    next_cursor: str | None = None
    """Pass as `cursor` for the next page; null on the last page."""


class MessagePublic(BaseModel):
    id: int
    conversation_id: int
    seq: int
    kind: MessageKind
    author_type: AuthorType
    author_user_id: int | None
    author_contact_id: int | None
    author_name: str
    body: str
    attachments: list[dict[str, Any]]
    client_message_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, message: Message, author_name: str) -> MessagePublic:
        return cls(
            id=message.id,
            conversation_id=message.conversation_id,
            seq=message.seq,
            kind=MessageKind(message.kind),
            author_type=AuthorType(message.author_type),
            author_user_id=message.author_user_id,
            author_contact_id=message.author_contact_id,
            author_name=author_name,
            body=message.body,
            attachments=message.attachments,
            client_message_id=message.client_message_id,
            created_at=message.created_at,
        )


class ActivityPublic(BaseModel):
    id: int
    seq: int
    kind: ActivityKind
    actor_type: str
    actor_user_id: int | None
    actor_name: str
    data: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, activity: Activity, actor_name: str) -> ActivityPublic:
        return cls(
            id=activity.id,
            seq=activity.seq,
            kind=ActivityKind(activity.kind),
            actor_type=activity.actor_type,
            actor_user_id=activity.actor_user_id,
            actor_name=actor_name,
            data=activity.data,
            created_at=activity.created_at,
        )


class HistoryEntryPublic(BaseModel):
    seq: int
    kind: Literal["message", "activity"]
    created_at: datetime
    author_name: str
    message: MessagePublic | None = None
    activity: ActivityPublic | None = None

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryEntryPublic:
        return cls(
            seq=entry.seq,
            kind=entry.kind,
            created_at=entry.created_at,
            author_name=entry.author_name,
            message=MessagePublic.of(entry.message, entry.author_name)
            if entry.message is not None
            else None,
            activity=ActivityPublic.of(entry.activity, entry.author_name)
            if entry.activity is not None
            else None,
        )


class HistoryPage(BaseModel):
    data: list[HistoryEntryPublic]
    count: int
    next_after_seq: int | None
    """Pass as `after_seq` for the next page; null when this page reached the end."""
    last_seq: int
