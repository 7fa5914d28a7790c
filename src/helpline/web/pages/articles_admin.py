"""Staff pages for the help center's articles: the list with filters, writing and
editing Markdown with a preview, publishing, translations, internal articles,
named categories, and the deflection report.

Plain forms (no JavaScript needed): each POST carries the session's CSRF token and
redirects back with a message (PRG); a form with problems is shown again with them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Article, Inbox
from helpline.domain.enums import Channel
from helpline.domain.errors import DomainError
from helpline.services import articles as article_service
from helpline.services import deflection as deflection_service
from helpline.services.errors import NotFound
from helpline.services.markdown import render_markdown
from helpline.services.search_index import article_entry
from helpline.settings import Settings
from helpline.web.api.articles import KnowledgeDb, article_path, public_url
from helpline.web.deps import AppSettings, Now
from helpline.web.pages.rendering import (
    error_page,
    page_id,
    redirect_with_flash,
    render,
    sentence,
)
from helpline.web.pages.security import PageCaller, PageFormUser, PageUser

router = APIRouter(include_in_schema=False)

LIST_LIMIT = 500
STATUS_FILTERS = {"": "Any status", "published": "Published", "draft": "Drafts"}
AUDIENCE_FILTERS = {"": "Everyone's", "public": "Public", "internal": "Internal only"}
REPORT_PERIODS = (7, 30, 90, 365)

Body = Annotated[str, Form(max_length=article_service.MAX_BODY_CHARS)]
Short = Annotated[str, Form(max_length=400)]


# ---------------------------------------------------------------- helpers


def _sections(caller: PageCaller) -> list[tuple[str, str, str]]:
    sections = [
        ("articles", "Articles", "/articles"),
        ("categories", "Categories", "/articles/categories"),
    ]
    if caller.viewer.is_supervisor_or_admin:
        sections.append(("deflection", "Deflection", "/articles/deflection"))
    return sections


def _common(caller: PageCaller, title: str, section: str) -> dict[str, Any]:
    return {
        "title": title,
        "nav": "articles",
        "caller": caller,
        "csrf_token": caller.csrf_token,
        "sections": _sections(caller),
        "section": section,
        "errors": {},
    }


def _problem(
    request: Request, caller: PageCaller, status_code: int, heading: str, message: str
) -> HTMLResponse:
    return error_page(
        request,
        _common(caller, heading, "articles"),
        status_code=status_code,
        heading=heading,
        message=message,
    )


def _not_found(request: Request, caller: PageCaller) -> HTMLResponse:
    return _problem(request, caller, 404, "Article not found", "It does not exist any more.")


def _chat_inboxes(db: Session) -> list[Inbox]:
    return list(
        db.scalars(select(Inbox).where(Inbox.channel == Channel.CHAT.value).order_by(Inbox.name))
    )


def _category_choices(db: Session) -> list[tuple[str, str]]:
    names = article_service.category_names(db)
    used = article_service.category_usage(db)
    slugs = list(names) + [slug for slug in article_service.CATEGORY_LABELS if slug not in names]
    slugs += sorted(slug for slug in used if slug not in slugs)
    return [(slug, article_service.category_label(slug, names)) for slug in slugs]


def _public_link(db: Session, settings: Settings, article: Article) -> str | None:
    entry = article_entry(article)
    key = None
    if entry.inbox_id is not None:
        key = db.scalar(select(Inbox.public_key).where(Inbox.id == entry.inbox_id))
    url = public_url(settings, entry, key)
    return article_path(entry.slug, key) if url else None


# ---------------------------------------------------------------- the list


@router.get("/articles", response_class=HTMLResponse)
def articles_list(
    request: Request,
    caller: PageUser,
    db: KnowledgeDb,
    now: Now,
    q: Annotated[str, Query(max_length=200)] = "",
    language: Annotated[str, Query(max_length=16)] = "",
    category: Annotated[str, Query(max_length=40)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    audience: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    status = status if status in STATUS_FILTERS else ""
    audience = audience if audience in AUDIENCE_FILTERS else ""
    rows, total = article_service.list_articles(
        db,
        caller.viewer,
        language=language.strip() or None,
        category=category.strip() or None,
        published={"published": True, "draft": False}.get(status),
        internal={"internal": True, "public": False}.get(audience),
        q=q.strip() or None,
        limit=LIST_LIMIT,
    )
    names = article_service.category_names(db)
    languages = sorted({row[0] for row in db.execute(select(Article.language).distinct())})
    return render(
        request,
        "articles/list.html",
        {
            **_common(caller, "Articles", "articles"),
            "rows": [
                {"article": row, "category": article_service.category_label(row.category, names)}
                for row in rows
            ],
            "total": total,
            "shown": len(rows),
            "filters": {
                "q": q.strip(),
                "language": language,
                "category": category,
                "status": status,
                "audience": audience,
            },
            "languages": [(code, article_service.language_name(code)) for code in languages],
            "categories": _category_choices(db),
            "status_filters": STATUS_FILTERS,
            "audience_filters": AUDIENCE_FILTERS,
            "now": now,
        },
    )


# ---------------------------------------------------------------- writing


def _values(article: Article | None) -> dict[str, Any]:
    if article is None:
        return {
            "title": "",
            "body_markdown": "",
            "slug": "",
            "category": "general",
            "language": "en",
            "translation_of_id": "",
            "inbox_id": "",
            "published": False,
            "internal": False,
        }
    return {
        "title": article.title,
        "body_markdown": article.body_markdown,
        "slug": article.slug,
        "category": article.category,
        "language": article.language,
        "translation_of_id": str(article.translation_of_id or ""),
        "inbox_id": str(article.inbox_id or ""),
        "published": article.published,
        "internal": article.internal,
    }


def _editor(
    request: Request,
    caller: PageCaller,
    db: Session,
    settings: Settings,
    now: datetime,
    *,
    article: Article | None,
    values: dict[str, Any],
    error: str | None = None,
    field: str | None = None,
    preview_html: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    original = None
    if values.get("translation_of_id"):
        original = db.get(Article, int(values["translation_of_id"]))
    translations = article_service.translations(db, article) if article is not None else []
    root_id = (article.translation_of_id or article.id) if article is not None else None
    return render(
        request,
        "articles/edit.html",
        {
            **_common(caller, article.title if article else "New article", "articles"),
            "article": article,
            "values": values,
            "error": error,
            "error_field": field,
            "preview_html": preview_html,
            "categories": _category_choices(db),
            "inboxes": _chat_inboxes(db),
            "original": original,
            "translations": translations,
            "translation_root_id": root_id,
            "public_link": _public_link(db, settings, article) if article is not None else None,
            "author": article_service.author_name(db, article) if article is not None else None,
            "can_delete": caller.viewer.is_supervisor_or_admin,
            "now": now,
        },
        status_code=status_code,
    )


def _submitted(
    title: Short = "",
    body_markdown: Body = "",
    slug: Short = "",
    category: Short = "",
    language: Short = "",
    translation_of_id: Short = "",
    inbox_id: Short = "",
    published: Short = "",
    internal: Short = "",
) -> dict[str, Any]:
    """The editor's fields as typed (shown again when the form is refused)."""
    return {
        "title": title,
        "body_markdown": body_markdown,
        "slug": slug.strip(),
        "category": category.strip() or "general",
        "language": language.strip() or "en",
        "translation_of_id": translation_of_id if page_id(translation_of_id) else "",
        "inbox_id": inbox_id if page_id(inbox_id) else "",
        "published": published == "yes",
        "internal": internal == "yes",
    }


ArticleForm = Annotated[dict[str, Any], Depends(_submitted)]


def _changes(values: dict[str, Any]) -> dict[str, Any]:
    """The submitted fields as the articles service takes them."""
    return {
        **values,
        "translation_of_id": page_id(values["translation_of_id"]),
        "inbox_id": page_id(values["inbox_id"]),
    }


def _submit(
    request: Request,
    caller: PageCaller,
    db: Session,
    settings: Settings,
    now: datetime,
    *,
    article: Article | None,
    values: dict[str, Any],
    action: str,
    save: Callable[[], Article],
    done: Callable[[Article], str],
) -> Response:
    """Preview, or save and go to the article; a refusal shows the form again."""
    if action == "preview":
        preview_html = render_markdown(values["body_markdown"], values["title"] or None)
        return _editor(
            request,
            caller,
            db,
            settings,
            now,
            article=article,
            values=values,
            preview_html=preview_html,
        )
    try:
        saved = save()
    except DomainError as exc:
        db.rollback()
        return _editor(
            request,
            caller,
            db,
            settings,
            now,
            article=article,
            values=values,
            error=sentence(exc.message),
            field=str(exc.details.get("field", "")) or None,
            status_code=422,
        )
    return redirect_with_flash(request, settings, f"/articles/{saved.id}", "success", done(saved))


@router.get("/articles/new", response_class=HTMLResponse)
def article_new(
    request: Request,
    caller: PageUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
    translation_of: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    values = _values(None)
    original_id = page_id(translation_of)
    if original_id is not None:
        original = db.get(Article, original_id)
        if original is not None:
            values.update(
                translation_of_id=str(original.translation_of_id or original.id),
                category=original.category,
                inbox_id=str(original.inbox_id or ""),
                internal=original.internal,
                language="",
            )
    return _editor(request, caller, db, settings, now, article=None, values=values)


@router.post("/articles/new", response_class=HTMLResponse)
def article_create(
    request: Request,
    caller: PageFormUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
    values: ArticleForm,
    action: Short = "save",
) -> Response:
    def save() -> Article:
        fields = {**_changes(values), "slug": values["slug"] or None}
        return article_service.do_create_article(
            db, caller.viewer, article_service.ArticleInput(**fields), now=now
        )

    def done(article: Article) -> str:
        state = "published" if article.published else "saved as a draft"
        return f"“{article.title}” {state}."

    return _submit(
        request,
        caller,
        db,
        settings,
        now,
        article=None,
        values=values,
        action=action,
        save=save,
        done=done,
    )


@router.get("/articles/categories", response_class=HTMLResponse)
def categories_page(request: Request, caller: PageUser, db: KnowledgeDb) -> Response:
    return _categories(request, caller, db)


def _categories(
    request: Request,
    caller: PageCaller,
    db: Session,
    *,
    error: str | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    named = article_service.named_categories(db)
    used = article_service.category_usage(db)
    named_slugs = {row.slug for row in named}
    unnamed = sorted(
        {slug for slug in used if slug not in named_slugs}
        | {slug for slug in article_service.CATEGORY_LABELS if slug not in named_slugs}
    )
    return render(
        request,
        "articles/categories.html",
        {
            **_common(caller, "Help-center categories", "categories"),
            "named": [{"row": row, "count": used.get(row.slug, 0)} for row in named],
            "unnamed": [
                {
                    "slug": slug,
                    "label": article_service.category_label(slug),
                    "count": used.get(slug, 0),
                }
                for slug in unnamed
            ],
            "can_manage": caller.viewer.is_supervisor_or_admin,
            "error": error,
            "values": values or {"slug": "", "name": "", "description": "", "position": "0"},
        },
        status_code=status_code,
    )


@router.post("/articles/categories", response_class=HTMLResponse)
def category_save(
    request: Request,
    caller: PageFormUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
    slug: Short = "",
    name: Short = "",
    description: Annotated[str, Form(max_length=1000)] = "",
    position: Short = "0",
) -> Response:
    values = {"slug": slug, "name": name, "description": description, "position": position}
    try:
        number = int(position.strip() or "0")
    except ValueError:
        number = 10_000  # refused below with the range
    try:
        row = article_service.do_save_category(
            db,
            caller.viewer,
            slug=slug,
            name=name,
            description=description,
            position=number,
            now=now,
        )
    except DomainError as exc:
        db.rollback()
        status_code = 403 if exc.code == "permission_denied" else 422
        return _categories(
            request, caller, db, error=sentence(exc.message), values=values, status_code=status_code
        )
    return redirect_with_flash(
        request, settings, "/articles/categories", "success", f"Category “{row.name}” saved."
    )


@router.post("/articles/categories/{slug}/delete", response_class=HTMLResponse)
def category_delete(
    slug: str, request: Request, caller: PageFormUser, db: KnowledgeDb, settings: AppSettings
) -> Response:
    location = "/articles/categories"
    try:
        article_service.do_delete_category(db, caller.viewer, slug)
    except NotFound:
        return redirect_with_flash(request, settings, location, "error", "No such category.")
    except DomainError as exc:
        return redirect_with_flash(request, settings, location, "error", sentence(exc.message))
    done = f"The name of {slug} was removed; its articles keep the category."
    return redirect_with_flash(request, settings, location, "success", done)


# ---------------------------------------------------------------- the deflection report


@router.get("/articles/deflection", response_class=HTMLResponse)
def deflection_page(
    request: Request,
    caller: PageUser,
    db: KnowledgeDb,
    now: Now,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> Response:
    if not caller.viewer.is_supervisor_or_admin:
        return _problem(
            request, caller, 403, "For supervisors and admins", "Ask a supervisor for the report."
        )
    report = deflection_service.deflection_report(
        db, caller.viewer, start=now - timedelta(days=days), end=now
    )
    return render(
        request,
        "articles/deflection.html",
        {
            **_common(caller, "Deflection", "deflection"),
            "report": report,
            "days": days,
            "periods": [
                (period, f"/articles/deflection?{urlencode({'days': period})}")
                for period in REPORT_PERIODS
            ],
        },
    )


# ---------------------------------------------------------------- one article


def _load(db: Session, caller: PageCaller, raw: str) -> Article | None:
    article_id = page_id(raw)
    if article_id is None:
        return None
    try:
        return article_service.access_article(db, caller.viewer, article_id)
    except NotFound:
        return None


@router.get("/articles/{article_ref}", response_class=HTMLResponse)
def article_show(
    article_ref: str,
    request: Request,
    caller: PageUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
) -> Response:
    article = _load(db, caller, article_ref)
    if article is None:
        return _not_found(request, caller)
    return _editor(
        request,
        caller,
        db,
        settings,
        now,
        article=article,
        values=_values(article),
        preview_html=article_service.article_html(article),
    )


@router.post("/articles/{article_ref}", response_class=HTMLResponse)
def article_update(
    article_ref: str,
    request: Request,
    caller: PageFormUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
    values: ArticleForm,
    action: Short = "save",
) -> Response:
    article = _load(db, caller, article_ref)
    if article is None:
        return _not_found(request, caller)
    article_id = article.id
    values["slug"] = values["slug"] or article.slug
    return _submit(
        request,
        caller,
        db,
        settings,
        now,
        article=article,
        values=values,
        action=action,
        save=lambda: article_service.do_update_article(
            db, caller.viewer, article_id, _changes(values), now=now
        ),
        done=lambda _saved: "Article saved.",
    )


def _set_published(
    article_ref: str,
    request: Request,
    caller: PageCaller,
    db: Session,
    now: datetime,
    settings: Settings,
    published: bool,
) -> Response:
    article = _load(db, caller, article_ref)
    if article is None:
        return _not_found(request, caller)
    article_service.do_update_article(
        db, caller.viewer, article.id, {"published": published}, now=now
    )
    text = "published: it is on the help center now" if published else "unpublished: back to draft"
    return redirect_with_flash(
        request, settings, f"/articles/{article.id}", "success", f"“{article.title}” {text}."
    )


def _publishing(published: bool) -> Callable[..., Response]:
    """The route for the Publish (or Unpublish) button."""

    def route(
        article_ref: str,
        request: Request,
        caller: PageFormUser,
        db: KnowledgeDb,
        now: Now,
        settings: AppSettings,
    ) -> Response:
        return _set_published(article_ref, request, caller, db, now, settings, published)

    return route


router.post("/articles/{article_ref}/publish", response_class=HTMLResponse)(_publishing(True))
router.post("/articles/{article_ref}/unpublish", response_class=HTMLResponse)(_publishing(False))


@router.post("/articles/{article_ref}/delete", response_class=HTMLResponse)
def article_delete(
    article_ref: str,
    request: Request,
    caller: PageFormUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
) -> Response:
    article = _load(db, caller, article_ref)
    if article is None:
        return _not_found(request, caller)
    try:
        article_service.do_delete_article(db, caller.viewer, article.id, now=now)
    except DomainError as exc:
        return redirect_with_flash(
            request, settings, f"/articles/{article.id}", "error", sentence(exc.message)
        )
    return redirect_with_flash(
        request, settings, "/articles", "success", f"“{article.title}” deleted."
    )
