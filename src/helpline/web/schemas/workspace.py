"""Request and response shapes of the workspace API (preferences, saved views,
inbox views with counts, bulk actions, the customer sidebar)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from helpline.domain.enums import ConversationStatus
from helpline.services.preferences import Preferences
from helpline.services.workspace import BulkOutcome, CustomerContext
from helpline.web.schemas.contacts import ContactPublic
from helpline.web.schemas.conversations import MAX_DB_ID, ConversationPublic


class PreferencesPublic(BaseModel):
    keymap: dict[str, list[str]]
    """Every action with its chords (defaults merged with the agent's changes)."""
    remapped: list[str]
    """Actions the agent changed from the default."""
    saved_views: list[dict[str, Any]]
    notifications: dict[str, bool]

    @classmethod
    def of(cls, preferences: Preferences) -> PreferencesPublic:
        return cls(
            keymap=preferences.keymap,
            remapped=sorted(preferences.remapped),
            saved_views=preferences.saved_views,
            notifications=preferences.notifications,
        )


class KeymapUpdate(BaseModel):
    keymap: dict[str, list[str] | None] = Field(max_length=100)
    """Action -> chords ("Ctrl+Alt+S"); [] removes the shortcut, null restores the default."""


class NotificationsUpdate(BaseModel):
    sound: bool | None = None
    desktop: bool | None = None


class SavedViewCreate(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    filters: dict[str, Any] = Field(default_factory=dict, max_length=20)


class SavedViewPublic(BaseModel):
    id: str
    name: str
    filters: dict[str, Any]


class InboxPage(BaseModel):
    data: list[ConversationPublic]
    count: int
    counts: dict[str, int]
    """Active conversations per view (Mine, Unassigned, My teams, All)."""


class ViewCounts(BaseModel):
    counts: dict[str, int]


class BulkRequest(BaseModel):
    conversation_ids: list[int] = Field(min_length=1, max_length=100)
    action: Literal["assign", "status", "tag"]
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_DB_ID)
    """For `assign`: a user id, or null to unassign."""
    status: ConversationStatus | None = None
    tag: str | None = Field(default=None, max_length=50)


class BulkResult(BaseModel):
    conversation_id: int
    ok: bool
    code: str | None = None
    message: str | None = None

    @classmethod
    def of(cls, outcome: BulkOutcome) -> BulkResult:
        return cls(
            conversation_id=outcome.conversation_id,
            ok=outcome.ok,
            code=outcome.code,
            message=outcome.message,
        )


class BulkResponse(BaseModel):
    data: list[BulkResult]
    count: int
    failed: int


class PreviousConversation(BaseModel):
    id: int
    number: int
    subject: str
    status: ConversationStatus
    created_at: datetime


class CustomerPublic(BaseModel):
    contact: ContactPublic
    conversation: ConversationPublic
    previous: list[PreviousConversation]

    @classmethod
    def of(cls, context: CustomerContext) -> CustomerPublic:
        return cls(
            contact=ContactPublic.of(context.contact),
            conversation=ConversationPublic.of(context.conversation),
            previous=[
                PreviousConversation(
                    id=c.id,
                    number=c.number,
                    subject=c.subject,
                    status=ConversationStatus(c.status),
                    created_at=c.created_at,
                )
                for c in context.previous
            ],
        )
