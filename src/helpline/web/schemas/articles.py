"""Request and response shapes of the articles API, the widget's article search,
deflection tracking and its report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from helpline.adapters.db.models import Article
from helpline.domain.search import Hit
from helpline.services.articles import MAX_BODY_CHARS, MAX_SLUG_CHARS, MAX_TITLE_CHARS
from helpline.services.deflection import DeflectionReport
from helpline.services.search_index import ArticleEntry


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text cannot contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Title = Annotated[Text, Field(min_length=1, max_length=MAX_TITLE_CHARS)]
Markdown = Annotated[Text, Field(max_length=MAX_BODY_CHARS)]
Slug = Annotated[Text, Field(min_length=1, max_length=MAX_SLUG_CHARS)]
Category = Annotated[Text, Field(min_length=1, max_length=40)]
Language = Annotated[Text, Field(min_length=2, max_length=16)]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]


class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    body_markdown: Markdown
    slug: Slug | None = None
    """The address: /help/articles/<slug>. Made from the title when not given."""
    category: Category = "general"
    language: Language = "en"
    translation_of_id: Id | None = None
    """The article this one translates (links the language versions)."""
    inbox_id: Id | None = None
    """Show only in this inbox's help center."""
    published: bool = False
    internal: bool = False
    """For agents only: never shown in the public help center."""


class ArticleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    body_markdown: Markdown | None = None
    slug: Slug | None = None
    category: Category | None = None
    language: Language | None = None
    translation_of_id: Id | None = None
    inbox_id: Id | None = None
    published: bool | None = None
    internal: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent; `translation_of_id` and `inbox_id` may be sent as null."""
        sent = self.model_dump(exclude_unset=True)
        return {
            name: value
            for name, value in sent.items()
            if value is not None or name in ("translation_of_id", "inbox_id")
        }


class TranslationLink(BaseModel):
    id: int
    slug: str
    title: str
    language: str
    published: bool


class ArticleSummary(BaseModel):
    id: int
    slug: str
    title: str
    category: str
    language: str
    translation_of_id: int | None
    inbox_id: int | None
    published: bool
    internal: bool
    helpful_yes: int
    helpful_no: int
    url: str | None
    """Its public address; None while it is a draft or internal."""
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, article: Article, url: str | None) -> ArticleSummary:
        return cls(
            id=article.id,
            slug=article.slug,
            title=article.title,
            category=article.category,
            language=article.language,
            translation_of_id=article.translation_of_id,
            inbox_id=article.inbox_id,
            published=article.published,
            internal=article.internal,
            helpful_yes=article.helpful_yes,
            helpful_no=article.helpful_no,
            url=url,
            created_at=article.created_at,
            updated_at=article.updated_at,
        )


class ArticlePublic(ArticleSummary):
    body_markdown: str
    body_html: str
    """Sanitised HTML."""
    author_id: int | None
    translations: list[TranslationLink]


class ArticleList(BaseModel):
    data: list[ArticleSummary]
    count: int


class ArticleHit(BaseModel):
    id: int
    slug: str
    title: str
    category: str
    language: str
    internal: bool
    url: str | None
    """Link to insert into a reply; None for internal articles (agents only)."""
    title_html: str
    """The title, HTML-escaped, matches in <mark>."""
    snippet_html: str
    """A piece of the text around the matches, HTML-escaped, matches in <mark>."""

    @classmethod
    def of(cls, entry: ArticleEntry, hit: Hit[int], url: str | None) -> ArticleHit:
        return cls(
            id=entry.id,
            slug=entry.slug,
            title=entry.title,
            category=entry.category,
            language=entry.language,
            internal=entry.internal,
            url=url,
            title_html=hit.highlights.get("title", ""),
            snippet_html=hit.highlights.get("body", ""),
        )


class ArticleHitList(BaseModel):
    data: list[ArticleHit]
    count: int


class DeflectionView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    article_id: Id
    visitor_token: Annotated[Text, Field(max_length=512)] | None = None
    """The widget's visitor token (its session token, or the one a previous view
    returned); without one a new token is returned: send it next time."""


class DeflectionViewRecorded(BaseModel):
    session_id: int
    visitor_token: str


class ChatStarted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visitor_token: Annotated[Text, Field(min_length=16, max_length=512)]


class ChatStartedRecorded(BaseModel):
    sessions: int
    """Self-service sessions of this visitor that now count as a chat."""


class ArticleDeflectionPublic(BaseModel):
    article_id: int
    title: str | None
    sessions: int
    deflections: int


class DeflectionReportPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    sessions: int
    deflections: int
    chats: int
    pending: int
    rate: float | None
    """Deflections / (deflections + chats); None until a session settled."""
    articles: list[ArticleDeflectionPublic]

    @classmethod
    def of(cls, report: DeflectionReport) -> DeflectionReportPublic:
        return cls(
            start=report.start,
            end=report.end,
            sessions=report.sessions,
            deflections=report.deflections,
            chats=report.chats,
            pending=report.pending,
            rate=report.rate,
            articles=[
                ArticleDeflectionPublic(
                    article_id=row.article_id,
                    title=row.title,
                    sessions=row.sessions,
                    deflections=row.deflections,
                )
                for row in report.articles
            ],
        )
