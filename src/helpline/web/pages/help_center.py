"""The public help center: home with categories, article pages, search, votes.

Plain HTML, no JavaScript needed: search is a GET form, "Was this helpful?" a POST
form protected by a double-submit token (pages/security.py) that redirects back
(Post/Redirect/Get). Each visitor votes once per article: they are known by a
random id in a signed cookie, and the database keeps one vote per id and article.
Drafts and internal articles do not exist here (404). Every request counts
against the per-address limit of the public endpoints.

`/help/...` is the main help center; `/help/<inbox public key>/...` shows the
articles of every help center plus those written for that inbox only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from helpline.adapters.db.models import Article
from helpline.services import articles as article_service
from helpline.services.errors import NotFound
from helpline.settings import Settings
from helpline.web.api.articles import KnowledgeDb, article_path, public_retry_after
from helpline.web.deps import AppSettings, Now
from helpline.web.pages.rendering import page_headers, render, retry_wait
from helpline.web.pages.security import form_token, form_token_valid, set_flash, set_form_cookie

router = APIRouter(include_in_schema=False)

VISITOR_COOKIE = "helpline_visitor"
VISITOR_COOKIE_SECONDS = 365 * 24 * 60 * 60
SEARCH_LIMIT = 20
MAX_QUERY_CHARS = 200
HELP_TITLE = "Help center"


# ---------------------------------------------------------------- the visitor


def _sign_visitor(request: Request, value: str) -> str:
    key: str = request.app.state.secret_key
    return hmac.new(key.encode(), f"visitor:{value}".encode(), hashlib.sha256).hexdigest()


def visitor_id(request: Request) -> str | None:
    """The visitor's random id from their signed cookie, if it is genuine."""
    value, _, signature = request.cookies.get(VISITOR_COOKIE, "").partition(".")
    if not value or not signature:
        return None
    expected = _sign_visitor(request, value)
    return value if hmac.compare_digest(signature.encode(), expected.encode()) else None


def visitor_key(value: str) -> str:
    """What the database keeps of the visitor id: its hash."""
    return hashlib.sha256(f"help-visitor:{value}".encode()).hexdigest()


def _set_visitor_cookie(
    response: Response, request: Request, value: str, settings: Settings
) -> None:
    response.set_cookie(
        VISITOR_COOKIE,
        f"{value}.{_sign_visitor(request, value)}",
        max_age=VISITOR_COOKIE_SECONDS,
        path="/help",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


# ---------------------------------------------------------------- page helpers


def _message_page(
    request: Request,
    center: article_service.HelpCenter | None,
    heading: str,
    message: str,
    *,
    status_code: int,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "help/message.html",
        {
            "title": heading,
            "heading": heading,
            "message": message,
            **_frame(center, q="", language=None, languages=[]),
        },
        status_code=status_code,
        headers=headers,
    )


def _not_found(request: Request, center: article_service.HelpCenter | None) -> HTMLResponse:
    return _message_page(
        request,
        center,
        "Page not found",
        "This page does not exist, or it is no longer published.",
        status_code=404,
    )


def _frame(
    center: article_service.HelpCenter | None,
    *,
    q: str,
    language: str | None,
    languages: list[str],
) -> dict[str, Any]:
    """What the help-center layout needs on every page."""
    prefix = center.prefix if center is not None else "/help"
    name = center.inbox.name if center is not None and center.inbox is not None else None
    return {
        "help_prefix": prefix,
        "help_name": f"{name} help center" if name else HELP_TITLE,
        "q": q,
        "language": language,
        "language_links": [
            (code, article_service.language_name(code), f"{prefix}?{urlencode({'lang': code})}")
            for code in languages
        ],
    }


def _limited(request: Request, now: datetime) -> HTMLResponse | None:
    retry_after = public_retry_after(request, now)
    if retry_after is None:
        return None
    return _message_page(
        request,
        None,
        "Too many requests",
        f"Too many requests from your address. Try again in {retry_wait(retry_after)}.",
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )


def _center(db: KnowledgeDb, public_key: str | None) -> article_service.HelpCenter | None:
    try:
        return article_service.help_center_for(db, public_key)
    except NotFound:
        return None


def _lang_query(language: str | None) -> str:
    return "?" + urlencode({"lang": language}) if language else ""


# ---------------------------------------------------------------- home


def _home(
    request: Request,
    db: KnowledgeDb,
    now: Now,
    public_key: str | None,
    lang: str | None,
) -> Response:
    limited = _limited(request, now)
    if limited is not None:
        return limited
    center = _center(db, public_key)
    if center is None:
        return _not_found(request, None)
    entries = article_service.public_entries(db, center)
    languages = article_service.public_languages(entries)
    language = article_service.choose_language(
        languages, lang, request.headers.get("accept-language")
    )
    frame = _frame(center, q="", language=language, languages=languages)
    groups = article_service.categories(entries, language, article_service.named_categories(db))
    return render(
        request,
        "help/home.html",
        {
            "title": frame["help_name"],
            "groups": groups,
            "article_url": lambda slug: article_path(slug, public_key),
            **frame,
        },
    )


@router.get("/help", response_class=HTMLResponse)
def help_home(
    request: Request,
    db: KnowledgeDb,
    now: Now,
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    return _home(request, db, now, None, lang)


# ---------------------------------------------------------------- search


def _search(
    request: Request,
    db: KnowledgeDb,
    now: Now,
    public_key: str | None,
    q: str,
    lang: str | None,
) -> Response:
    limited = _limited(request, now)
    if limited is not None:
        return limited
    center = _center(db, public_key)
    if center is None:
        return _not_found(request, None)
    entries = article_service.public_entries(db, center)
    languages = article_service.public_languages(entries)
    language = article_service.choose_language(
        languages, lang, request.headers.get("accept-language")
    )
    query = " ".join(q.split())[:MAX_QUERY_CHARS]
    hits = (
        article_service.search_help_center(
            db, center, query + " ", language=language, limit=SEARCH_LIMIT
        )
        if query
        else []
    )
    names = article_service.category_names(db) if hits else {}
    results = [
        {
            "url": article_path(entry.slug, public_key),
            "title_html": hit.highlights.get("title", ""),
            "snippet_html": hit.highlights.get("body", ""),
            "category": article_service.category_label(entry.category, names),
            "language": entry.language,
        }
        for entry, hit in hits
    ]
    return render(
        request,
        "help/search.html",
        {
            "title": f"Search: {query}" if query else "Search",
            "results": results,
            **_frame(center, q=query, language=language, languages=languages),
        },
    )


@router.get("/help/search", response_class=HTMLResponse)
def help_search(
    request: Request,
    db: KnowledgeDb,
    now: Now,
    q: Annotated[str, Query(max_length=500)] = "",
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    return _search(request, db, now, None, q, lang)


# ---------------------------------------------------------------- articles


VOTE_MESSAGES = {
    "thanks": "Thanks for your feedback!",
    "already": "You already told us about this article. Thank you!",
}


def _article(
    request: Request,
    db: KnowledgeDb,
    now: Now,
    settings: Settings,
    public_key: str | None,
    slug: str,
) -> Response:
    limited = _limited(request, now)
    if limited is not None:
        return limited
    center = _center(db, public_key)
    if center is None:
        return _not_found(request, None)
    try:
        article = article_service.public_article(db, center, slug)
    except NotFound:
        return _not_found(request, center)
    language = article.language
    current = visitor_id(request)
    vote = article_service.visitor_vote(db, article.id, visitor_key(current) if current else None)
    translations = article_service.public_translations(db, center, article)
    related = article_service.related_articles(db, center, article)

    def url(target: str) -> str:
        return article_path(target, public_key)

    token = form_token(request)
    response = render(
        request,
        "help/article.html",
        {
            "title": article.title,
            "article": article,
            "body_html": article_service.article_html(article),
            "category_label": article_service.category_label(
                article.category, article_service.category_names(db)
            ),
            "category_url": f"{center.prefix}{_lang_query(language)}#{quote(article.category)}",
            "translations": [
                (other.language, article_service.language_name(other.language), url(other.slug))
                for other in translations
            ],
            "related": [(entry.title, url(entry.slug)) for entry in related],
            "vote": vote,
            "vote_action": url(article.slug) + "/vote",
            "form_token": token,
            **_frame(center, q="", language=language, languages=[]),
        },
    )
    set_form_cookie(response, request, token, settings)
    return response


@router.get("/help/articles/{slug}", response_class=HTMLResponse)
def help_article(
    slug: str, request: Request, db: KnowledgeDb, now: Now, settings: AppSettings
) -> Response:
    return _article(request, db, now, settings, None, slug)


def _vote(
    request: Request,
    db: KnowledgeDb,
    now: Now,
    settings: Settings,
    public_key: str | None,
    slug: str,
    helpful: str,
    csrf_token: str,
) -> Response:
    limited = _limited(request, now)
    if limited is not None:
        return limited
    center = _center(db, public_key)
    if center is None:
        return _not_found(request, None)
    try:
        article: Article = article_service.public_article(db, center, slug)
    except NotFound:
        return _not_found(request, center)
    location = article_path(article.slug, public_key) + "#feedback"
    if not form_token_valid(request, csrf_token) or helpful not in ("yes", "no"):
        return _message_page(
            request,
            center,
            "This form has expired",
            "Go back, reload the page and try again.",
            status_code=403,
        )
    current = visitor_id(request) or secrets.token_urlsafe(18)
    outcome = article_service.do_vote(
        db, article.id, visitor_key(current), helpful=helpful == "yes", now=now
    )
    response = RedirectResponse(location, status_code=303)
    _set_visitor_cookie(response, request, current, settings)
    set_flash(
        response,
        request,
        "success",
        VOTE_MESSAGES["thanks" if outcome.recorded else "already"],
        settings,
    )
    return page_headers(response)


VoteChoice = Annotated[str, Form(max_length=3)]
CsrfField = Annotated[str, Form(max_length=200)]


@router.post("/help/articles/{slug}/vote")
def help_vote(
    slug: str,
    request: Request,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
    helpful: VoteChoice = "",
    csrf_token: CsrfField = "",
) -> Response:
    return _vote(request, db, now, settings, None, slug, helpful, csrf_token)


# ---------------------------------------------------------------- an inbox's help center
# Declared after the fixed paths above, so /help/search is never read as an inbox key.


@router.get("/help/{public_key}", response_class=HTMLResponse)
def inbox_help_home(
    public_key: str,
    request: Request,
    db: KnowledgeDb,
    now: Now,
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    return _home(request, db, now, public_key, lang)


@router.get("/help/{public_key}/search", response_class=HTMLResponse)
def inbox_help_search(
    public_key: str,
    request: Request,
    db: KnowledgeDb,
    now: Now,
    q: Annotated[str, Query(max_length=500)] = "",
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    return _search(request, db, now, public_key, q, lang)


@router.get("/help/{public_key}/articles/{slug}", response_class=HTMLResponse)
def inbox_help_article(
    public_key: str,
    slug: str,
    request: Request,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
) -> Response:
    return _article(request, db, now, settings, public_key, slug)


@router.post("/help/{public_key}/articles/{slug}/vote")
def inbox_help_vote(
    public_key: str,
    slug: str,
    request: Request,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
    helpful: VoteChoice = "",
    csrf_token: CsrfField = "",
) -> Response:
    return _vote(request, db, now, settings, public_key, slug, helpful, csrf_token)
