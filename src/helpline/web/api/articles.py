"""REST routes for help-center articles (staff), the widget's article search and
deflection tracking (public, per-IP rate limited), and the deflection report.

Every route here reads through the app's own search index (`KnowledgeDb`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Article, Inbox
from helpline.adapters.ratelimit import RateLimiter
from helpline.services import articles as article_service
from helpline.services import deflection as deflection_service
from helpline.services.errors import RateLimited, ValidationFailed
from helpline.services.search_index import ArticleEntry, KnowledgeIndex, article_entry, use_index
from helpline.settings import Settings
from helpline.web.app_state import app_object, per_ip_limiter
from helpline.web.deps import AppSettings, CurrentViewer, DbSession, Now, client_ip
from helpline.web.schemas.articles import (
    ArticleCreate,
    ArticleHit,
    ArticleHitList,
    ArticleList,
    ArticlePublic,
    ArticleSummary,
    ArticleUpdate,
    ChatStarted,
    ChatStartedRecorded,
    DeflectionReportPublic,
    DeflectionView,
    DeflectionViewRecorded,
    TranslationLink,
)

PUBLIC_REQUESTS_PER_WINDOW = 300
"""Help-center pages, widget searches and votes per client address and minute."""
PUBLIC_WINDOW_SECONDS = 60.0


# ---------------------------------------------------------------- app-wide helpers


def app_knowledge_index(app: FastAPI) -> KnowledgeIndex:
    """The app's search index, created on first use (each app, and test, has its own)."""
    return app_object(app, "knowledge_index", KnowledgeIndex)


def get_knowledge_db(request: Request, db: DbSession) -> Session:
    """The request's session, reading through the app's search index."""
    use_index(db, app_knowledge_index(request.app))
    return db


KnowledgeDb = Annotated[Session, Depends(get_knowledge_db)]


def public_limiter(app: FastAPI) -> RateLimiter:
    """Per-IP limiter of the public help center and widget endpoints (see
    `app_state`; replace `app.state.help_rate_limiter` to change the limit). Shared
    by all server processes through Redis when the app has it."""
    return per_ip_limiter(
        app, "help_rate_limiter", PUBLIC_REQUESTS_PER_WINDOW, PUBLIC_WINDOW_SECONDS
    )


def public_retry_after(request: Request, now: datetime) -> int | None:
    """Count one public request; seconds to wait when the address is over its limit."""
    return public_limiter(request.app).hit(client_ip(request), now=now.timestamp())


def limit_public(request: Request, now: Now) -> None:
    retry_after = public_retry_after(request, now)
    if retry_after is not None:
        raise RateLimited("too many requests from your address; try again later", retry_after)


def article_path(slug: str, public_key: str | None = None) -> str:
    prefix = f"/help/{quote(public_key, safe='')}" if public_key else "/help"
    return f"{prefix}/articles/{quote(slug, safe='')}"


def public_url(
    settings: Settings, entry: ArticleEntry, public_key: str | None = None
) -> str | None:
    """Where the public reads the article; None for drafts and internal articles."""
    if not entry.public:
        return None
    if entry.inbox_id is not None and public_key is None:
        return None  # only in its inbox's help center, whose key the caller did not give
    return settings.base_url.rstrip("/") + article_path(entry.slug, public_key)


# ---------------------------------------------------------------- staff


router = APIRouter()
staff = APIRouter(prefix="/articles", tags=["articles"])

ArticleId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The article's id")]


def _inbox_keys(db: Session, entries: list[ArticleEntry]) -> dict[int, str]:
    ids = {entry.inbox_id for entry in entries if entry.inbox_id is not None}
    if not ids:
        return {}
    return dict(db.execute(select(Inbox.id, Inbox.public_key).where(Inbox.id.in_(ids))))


def _url(db: Session, settings: Settings, entry: ArticleEntry) -> str | None:
    keys = _inbox_keys(db, [entry])
    return public_url(settings, entry, keys.get(entry.inbox_id) if entry.inbox_id else None)


def _public(db: Session, settings: Settings, article: Article) -> ArticlePublic:
    summary = ArticleSummary.of(article, _url(db, settings, article_entry(article)))
    return ArticlePublic(
        **summary.model_dump(),
        body_markdown=article.body_markdown,
        body_html=article_service.article_html(article),
        author_id=article.author_id,
        translations=[
            TranslationLink(
                id=other.id,
                slug=other.slug,
                title=other.title,
                language=other.language,
                published=other.published,
            )
            for other in article_service.translations(db, article)
        ],
    )


@staff.get("", response_model=ArticleList)
def list_articles(
    db: KnowledgeDb,
    viewer: CurrentViewer,
    settings: AppSettings,
    language: Annotated[str | None, Query(max_length=16)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    published: bool | None = None,
    internal: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> ArticleList:
    """Every article, drafts and internal ones included; most recently changed first."""
    rows, total = article_service.list_articles(
        db,
        viewer,
        language=language,
        category=category,
        published=published,
        internal=internal,
        limit=limit,
    )
    entries = [article_entry(row) for row in rows]
    keys = _inbox_keys(db, entries)
    return ArticleList(
        data=[
            ArticleSummary.of(
                row,
                public_url(settings, entry, keys.get(entry.inbox_id) if entry.inbox_id else None),
            )
            for row, entry in zip(rows, entries, strict=True)
        ],
        count=total,
    )


@staff.post("", status_code=status.HTTP_201_CREATED, response_model=ArticlePublic)
def create_article(
    payload: ArticleCreate, db: KnowledgeDb, viewer: CurrentViewer, now: Now, settings: AppSettings
) -> ArticlePublic:
    """Write an article in Markdown; 409 when the slug or the translation's language
    is taken."""
    article = article_service.do_create_article(
        db,
        viewer,
        article_service.ArticleInput(
            title=payload.title,
            body_markdown=payload.body_markdown,
            slug=payload.slug,
            category=payload.category,
            language=payload.language,
            translation_of_id=payload.translation_of_id,
            inbox_id=payload.inbox_id,
            published=payload.published,
            internal=payload.internal,
        ),
        now=now,
    )
    return _public(db, settings, article)


@staff.get("/search", response_model=ArticleHitList)
def search_articles(
    db: KnowledgeDb,
    viewer: CurrentViewer,
    settings: AppSettings,
    q: Annotated[str, Query(max_length=500)] = "",
    language: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> ArticleHitList:
    """For the composer: published articles, internal ones included, each with the
    link to insert (none for internal ones)."""
    hits = article_service.search_for_agents(db, viewer, q, language=language, limit=limit)
    keys = _inbox_keys(db, [entry for entry, _ in hits])
    data = [
        ArticleHit.of(
            entry,
            hit,
            public_url(settings, entry, keys.get(entry.inbox_id) if entry.inbox_id else None),
        )
        for entry, hit in hits
    ]
    return ArticleHitList(data=data, count=len(data))


@staff.get("/{article_id}", response_model=ArticlePublic)
def get_article(
    article_id: ArticleId, db: KnowledgeDb, viewer: CurrentViewer, settings: AppSettings
) -> ArticlePublic:
    return _public(db, settings, article_service.access_article(db, viewer, article_id))


@staff.patch("/{article_id}", response_model=ArticlePublic)
def update_article(
    article_id: ArticleId,
    payload: ArticleUpdate,
    db: KnowledgeDb,
    viewer: CurrentViewer,
    now: Now,
    settings: AppSettings,
) -> ArticlePublic:
    article = article_service.do_update_article(db, viewer, article_id, payload.changes(), now=now)
    return _public(db, settings, article)


@staff.delete("/{article_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_article(
    article_id: ArticleId, db: KnowledgeDb, viewer: CurrentViewer, now: Now
) -> Response:
    """Supervisors and admins only; others unpublish instead."""
    article_service.do_delete_article(db, viewer, article_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- the widget (public)


widget = APIRouter(
    prefix="/widget/{public_key}", tags=["widget"], dependencies=[Depends(limit_public)]
)
PublicKey = Annotated[str, Path(min_length=1, max_length=64)]


@widget.get("/articles/search", response_model=ArticleHitList)
def widget_search(
    public_key: PublicKey,
    db: KnowledgeDb,
    settings: AppSettings,
    q: Annotated[str, Query(max_length=500)] = "",
    language: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
) -> ArticleHitList:
    """Articles to suggest while the visitor types their first message: this inbox's
    public help center, in the visitor's language when any match there."""
    _center, hits = article_service.search_for_widget(
        db, public_key, q, language=language, limit=limit
    )
    data = [
        ArticleHit.of(entry, hit, public_url(settings, entry, public_key)) for entry, hit in hits
    ]
    return ArticleHitList(data=data, count=len(data))


@widget.post(
    "/deflection/view", status_code=status.HTTP_201_CREATED, response_model=DeflectionViewRecorded
)
def record_view(
    public_key: PublicKey, payload: DeflectionView, request: Request, db: KnowledgeDb, now: Now
) -> DeflectionViewRecorded:
    """The visitor opened a suggested article. Keep the returned `visitor_token` and
    send it with later views and when a chat starts."""
    recorded = deflection_service.do_record_view(
        db,
        public_key,
        payload.article_id,
        payload.visitor_token,
        secret_key=request.app.state.secret_key,
        now=now,
    )
    return DeflectionViewRecorded(
        session_id=recorded.session.id, visitor_token=recorded.visitor_token
    )


@widget.post("/deflection/chat-started", response_model=ChatStartedRecorded)
def record_chat_started(
    public_key: PublicKey, payload: ChatStarted, request: Request, db: DbSession, now: Now
) -> ChatStartedRecorded:
    """The visitor started a chat after reading: not a deflection."""
    marked = deflection_service.do_record_chat_started(
        db, public_key, payload.visitor_token, secret_key=request.app.state.secret_key, now=now
    )
    return ChatStartedRecorded(sessions=marked)


# ---------------------------------------------------------------- report


reports = APIRouter(prefix="/reports", tags=["reports"])


@reports.get("/deflection", response_model=DeflectionReportPublic)
def deflection_report(
    db: DbSession,
    viewer: CurrentViewer,
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
) -> DeflectionReportPublic:
    """Supervisors and admins: self-service sessions begun in [from, to), how many
    ended without a chat (deflections) and the rate. Times are ISO 8601 with a zone."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("give 'from' and 'to' with a time zone, e.g. 2026-03-01T00:00:00Z")
    report = deflection_service.deflection_report(db, viewer, start=start, end=end)
    return DeflectionReportPublic.of(report)


router.include_router(staff)
router.include_router(widget)
router.include_router(reports)
