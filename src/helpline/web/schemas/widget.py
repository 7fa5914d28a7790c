"""Request and response shapes of the visitor (widget) API; see docs/widget-protocol.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from helpline.web.schemas.contacts import PlainText

MAX_BODY_CHARS = 1_000_000
"""A hard ceiling; the configured limit (settings.max_message_chars) is checked by
the service."""

ClientMessageId = Annotated[PlainText, Field(min_length=1, max_length=64)]
Body = Annotated[PlainText, Field(max_length=MAX_BODY_CHARS)]
ShortText = Annotated[PlainText, Field(max_length=200)]


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visitor_token: Annotated[str, Field(max_length=512)] | None = None
    name: ShortText | None = None
    email: Annotated[PlainText, Field(max_length=254)] | None = None
    external_id: ShortText | None = None
    identifier_hash: Annotated[str, Field(max_length=128)] | None = None


class ContactView(BaseModel):
    name: str
    email: str | None
    verified: bool


class SessionPublic(BaseModel):
    visitor_token: str
    contact: ContactView
    expires_at: str


class ConversationStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: Body
    client_message_id: ClientMessageId
    topic_category: Annotated[PlainText, Field(max_length=40)] | None = None
    locale: Literal["en", "pl", "it", "el"] | None = None
    """The widget's language: the conversation's when the contact has none (the FAQ
    bot answers in it)."""


class VisitorMessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body
    client_message_id: ClientMessageId


class CsatAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[PlainText, Field(max_length=2000)] | None = None
    nps_score: Annotated[int, Field(ge=0, le=10)] | None = None
    """How likely the visitor is to recommend the shop (asked when the inbox's
    `ask_nps` is on)."""


class TranscriptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[PlainText, Field(max_length=254)] | None = None


class OfflineMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText = ""
    email: Annotated[PlainText, Field(min_length=3, max_length=254)]
    message: Body
    topic_category: Annotated[PlainText, Field(max_length=40)] | None = None
    visitor_token: Annotated[str, Field(max_length=512)] | None = None
    locale: Literal["en", "pl", "it", "el"] | None = None
    """The widget's language: `expected_reply` is in it (default English) and it is the
    ticket's language until the customer's own words say otherwise."""


class VisitorConversationList(BaseModel):
    data: list[dict[str, Any]]
    count: int


class VisitorHistoryPage(BaseModel):
    events: list[dict[str, Any]]
    last_seq: int
    next_after_seq: int | None


class PostedVisitorMessage(BaseModel):
    seq: int
    message: dict[str, Any]


class AttachmentPublic(BaseModel):
    id: int
    name: str
    size: int
    mime: str
    image: bool
    url: str


class UploadedAttachment(BaseModel):
    attachment: AttachmentPublic
    seq: int
    message: dict[str, Any]


class TranscriptQueued(BaseModel):
    queued: bool
    to: str


class OfflineTicket(BaseModel):
    expected_reply: str
    expected_reply_texts: dict[str, str]
    conversation_number: int
