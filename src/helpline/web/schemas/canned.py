"""Request and response shapes of the canned-responses API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from helpline.adapters.db.models import CannedResponse
from helpline.domain.templates import RenderResult
from helpline.services.canned import (
    MAX_BODY_CHARS,
    MAX_TITLE_CHARS,
    CannedTags,
    Staleness,
    Suggestion,
    VersionRow,
    check_tags,
    issue_payload,
)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text cannot contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Shortcut = Annotated[Text, Field(min_length=1, max_length=70, examples=["/refund-status"])]
Title = Annotated[Text, Field(min_length=1, max_length=MAX_TITLE_CHARS)]
Body = Annotated[Text, Field(min_length=1, max_length=MAX_BODY_CHARS)]
Language = Annotated[Text, Field(min_length=2, max_length=16, examples=["en"])]
Tag = Annotated[Text, Field(min_length=1, max_length=40)]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Scope = Literal["personal", "team", "shared"]


class CannedTagsModel(BaseModel):
    """Tags in three families: urgency (a conversation priority), topic (e.g.
    refunds, account setup) and customer type (e.g. new, loyal, enterprise)."""

    model_config = ConfigDict(extra="forbid")

    urgency: list[Tag] = Field(default_factory=list, max_length=10, examples=[["urgent"]])
    topic: list[Tag] = Field(default_factory=list, max_length=10, examples=[["refunds"]])
    customer_type: list[Tag] = Field(default_factory=list, max_length=10, examples=[["loyal"]])

    def to_tags(self) -> CannedTags:
        return check_tags(urgency=self.urgency, topic=self.topic, customer=self.customer_type)

    @classmethod
    def of(cls, tags: CannedTags) -> CannedTagsModel:
        return cls(
            urgency=list(tags.urgency), topic=list(tags.topic), customer_type=list(tags.customer)
        )


class CannedCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shortcut: Shortcut
    title: Title
    body: Body
    language: Language = "en"
    scope: Scope = "personal"
    team_id: Id | None = None
    tags: CannedTagsModel = Field(default_factory=CannedTagsModel)
    article_id: Id | None = None
    """The help-center article this answer relies on: the response turns stale when
    the article is unpublished or changed."""
    draft: bool = False
    """Save even with template problems; a draft is never offered in the composer."""


class CannedUpdate(BaseModel):
    """Only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    shortcut: Shortcut | None = None
    title: Title | None = None
    body: Body | None = None
    language: Language | None = None
    scope: Scope | None = None
    team_id: Id | None = None
    tags: CannedTagsModel | None = None
    article_id: Id | None = None
    draft: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields that were sent; `article_id`/`team_id` may be sent as null."""
        sent = self.model_dump(exclude_unset=True)
        changes: dict[str, Any] = {}
        for name, value in sent.items():
            if name == "tags":
                assert self.tags is not None
                changes["tags"] = self.tags.to_tags()
            elif value is not None or name in ("article_id", "team_id"):
                changes[name] = value
        return changes


class CannedPublic(BaseModel):
    id: int
    shortcut: str
    title: str
    body: str
    language: str
    scope: Scope
    owner_id: int | None
    team_id: int | None
    tags: CannedTagsModel
    article_id: int | None
    archived: bool
    draft: bool
    usage_count: int
    last_used_at: datetime | None
    last_reviewed_at: datetime | None
    review_due_at: datetime
    stale: bool
    stale_reasons: list[str]
    """not_reviewed, article_missing, article_unpublished or article_changed."""
    can_edit: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, response: CannedResponse, state: Staleness, *, can_edit: bool) -> CannedPublic:
        return cls(
            id=response.id,
            shortcut=response.shortcut,
            title=response.title,
            body=response.body,
            language=response.language,
            scope=response.scope,
            owner_id=response.owner_id,
            team_id=response.team_id,
            tags=CannedTagsModel.of(CannedTags.from_stored(response.tags or ())),
            article_id=response.article_id,
            archived=response.archived,
            draft=response.draft,
            usage_count=response.usage_count,
            last_used_at=response.last_used_at,
            last_reviewed_at=response.last_reviewed_at,
            review_due_at=state.review_due_at,
            stale=state.stale,
            stale_reasons=list(state.reasons),
            can_edit=can_edit,
            created_at=response.created_at,
            updated_at=response.updated_at,
        )


class CannedList(BaseModel):
    data: list[CannedPublic]
    count: int


class TemplateIssuePublic(BaseModel):
    code: str
    message: str
    start: int
    end: int
    """Offsets into the body (end exclusive), for underlining in the editor."""
    line: int
    column: int
    suggestion: str | None


class TemplateCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[Text, Field(max_length=MAX_BODY_CHARS)]


class TemplateCheckResult(BaseModel):
    valid: bool
    issues: list[TemplateIssuePublic]
    variables: list[str]
    """The variables the template uses."""


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: Id


class BodyPreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[Text, Field(max_length=MAX_BODY_CHARS)]
    conversation_id: Id


class PreviewResult(BaseModel):
    text: str
    """What would be sent; never contains raw placeholders."""
    missing: list[str]
    """Variables with no value and no fallback: they rendered as nothing."""
    issues: list[TemplateIssuePublic]
    ok: bool
    """True when the text can be sent as it is."""
    truncated: bool

    @classmethod
    def of(cls, result: RenderResult) -> PreviewResult:
        return cls(
            text=result.text,
            missing=list(result.missing),
            issues=[TemplateIssuePublic(**issue_payload(issue)) for issue in result.issues],
            ok=result.ok,
            truncated=result.truncated,
        )


class UsageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: Id | None = None
    """The conversation the message went to (checked for access)."""


class UsagePublic(BaseModel):
    id: int
    usage_count: int
    last_used_at: datetime | None


class SuggestionPublic(BaseModel):
    id: int
    shortcut: str
    title: str
    language: str
    scope: Scope
    tags: CannedTagsModel
    reasons: list[str]
    """What it has in common with the conversation: language, category, topic,
    customer_type, urgency."""
    text: str
    """Rendered for this conversation, ready to insert."""
    missing: list[str]
    ok: bool

    @classmethod
    def of(cls, suggestion: Suggestion) -> SuggestionPublic:
        entry = suggestion.entry
        return cls(
            id=entry.id,
            shortcut=entry.shortcut,
            title=entry.title,
            language=entry.language,
            scope=entry.scope,
            tags=CannedTagsModel.of(CannedTags.from_stored(entry.tags)),
            reasons=list(suggestion.reasons),
            text=suggestion.rendered.text,
            missing=list(suggestion.rendered.missing),
            ok=suggestion.rendered.ok,
        )


class SuggestionList(BaseModel):
    data: list[SuggestionPublic]
    count: int


class ChangedBy(BaseModel):
    id: int
    name: str | None


class VersionPublic(BaseModel):
    version: int
    action: str
    """created, edited, archived, restored, reviewed or imported."""
    changed_fields: list[str]
    changed_by: ChangedBy | None
    changed_at: datetime
    snapshot: dict[str, Any]
    """The response as it was after this change."""

    @classmethod
    def of(cls, row: VersionRow) -> VersionPublic:
        version = row.version
        return cls(
            version=version.version,
            action=version.action,
            changed_fields=list(version.changed_fields or ()),
            changed_by=ChangedBy(id=version.changed_by_id, name=row.changed_by_name)
            if version.changed_by_id is not None
            else None,
            changed_at=version.changed_at,
            snapshot=dict(version.snapshot or {}),
        )


class VersionList(BaseModel):
    data: list[VersionPublic]
    count: int


class FromMessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shortcut: Shortcut
    title: Title | None = None
    scope: Scope = "personal"
    team_id: Id | None = None
    tags: CannedTagsModel | None = None
    language: Language | None = None
    draft: bool = False


class Replacement(BaseModel):
    text: str
    placeholder: str


class FromMessagePublic(CannedPublic):
    replaced: list[Replacement]
    """What was turned into placeholders (the customer's name, the order number…)."""


class MaintenancePublic(BaseModel):
    review_days: int
    stale: list[CannedPublic]
    never_used: list[CannedPublic]


class ImportResultPublic(BaseModel):
    created: int
    updated: int
    unchanged: int
