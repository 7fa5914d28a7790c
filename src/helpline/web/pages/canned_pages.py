"""Agents' and supervisors' pages for canned responses: list, write and edit with
template checks, archive, review, history, CSV import/export, the maintenance list.

Plain forms (no JavaScript): each POST redirects back with a message (PRG); a form
with problems is shown again with them, template problems with line and column.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Article, CannedResponse, Team
from helpline.domain.access import Viewer
from helpline.domain.enums import Priority
from helpline.domain.errors import DomainError
from helpline.domain.templates import DOCUMENTED_VARIABLES, validate_template
from helpline.services import canned as canned_service
from helpline.services.errors import NotFound, ValidationFailed
from helpline.settings import Settings
from helpline.web.api.articles import KnowledgeDb
from helpline.web.deps import AppSettings, Now
from helpline.web.pages.rendering import (
    error_page,
    page_headers,
    page_id,
    redirect_with_flash,
    render,
    sentence,
)
from helpline.web.pages.security import PageCaller, PageFormUser, PageUser

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
SCOPE_LABELS = {"personal": "Personal", "team": "Team", "shared": "Shared"}
STALE_LABELS = {
    "not_reviewed": "not reviewed for a long time",
    "article_missing": "its article was deleted",
    "article_unpublished": "its article is unpublished",
    "article_changed": "its article changed since the last review",
}
ACTION_LABELS = {
    "created": "created it",
    "edited": "edited",
    "archived": "archived it",
    "restored": "restored it",
    "reviewed": "reviewed it",
    "imported": "imported",
}


# ---------------------------------------------------------------- helpers


def _common(caller: PageCaller, title: str) -> dict[str, Any]:
    return {"title": title, "nav": "canned", "caller": caller, "csrf_token": caller.csrf_token}


def _not_found(request: Request, caller: PageCaller) -> HTMLResponse:
    return error_page(
        request,
        _common(caller, "Not found"),
        status_code=404,
        heading="Canned response not found",
        message="It does not exist, or it is someone else's personal response.",
    )


def _teams_for(db: Session, viewer: Viewer) -> list[Team]:
    """Teams whose responses the viewer may manage (for the scope picker)."""
    teams = db.scalars(select(Team).order_by(Team.name)).all()
    return [team for team in teams if canned_service.can_manage(viewer, "team", None, team.id)]


def _team_names(db: Session) -> dict[int, str]:
    return {team.id: team.name for team in db.scalars(select(Team))}


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _row(
    response: CannedResponse,
    state: canned_service.Staleness,
    viewer: Viewer,
    teams: dict[int, str],
) -> dict[str, Any]:
    tags = canned_service.CannedTags.from_stored(response.tags or ())
    scope = SCOPE_LABELS.get(response.scope, response.scope)
    if response.scope == "team" and response.team_id is not None:
        scope = f"Team {teams.get(response.team_id, '')}".strip()
    return {
        "response": response,
        "scope": scope,
        "tags": tags,
        "stale": state.stale,
        "stale_reasons": [STALE_LABELS.get(reason, reason) for reason in state.reasons],
        "can_edit": canned_service.can_manage(
            viewer, response.scope, response.owner_id, response.team_id
        ),
    }


def _rows(
    db: Session,
    viewer: Viewer,
    responses: list[CannedResponse],
    settings: Settings,
    now: datetime,
) -> list[dict[str, Any]]:
    articles = canned_service.linked_articles(db, responses)
    teams = _team_names(db)
    return [
        _row(
            response,
            canned_service.staleness(
                response,
                articles.get(response.article_id) if response.article_id else None,
                now=now,
                review_days=settings.canned_review_days,
            ),
            viewer,
            teams,
        )
        for response in responses
    ]


# ---------------------------------------------------------------- the list


@router.get("/canned", response_class=HTMLResponse)
def canned_list(
    request: Request,
    caller: PageUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
    scope: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    archived: Annotated[str, Query(max_length=3)] = "",
) -> Response:
    viewer = caller.viewer
    scope = scope if scope in SCOPE_LABELS else ""
    show_archived = archived == "yes"
    responses, total = canned_service.list_canned(
        db,
        viewer,
        q=q.strip() or None,
        scope=scope or None,
        include_archived=show_archived,
    )
    tabs = [("", "All"), *SCOPE_LABELS.items()]
    return render(
        request,
        "canned/list.html",
        {
            **_common(caller, "Canned responses"),
            "rows": _rows(db, viewer, responses, settings, now),
            "total": total,
            "scope": scope,
            "q": q.strip(),
            "show_archived": show_archived,
            "tabs": [
                (key, label, "/canned?" + urlencode({"scope": key, "q": q.strip()}))
                for key, label in tabs
            ],
            "is_supervisor": viewer.is_supervisor_or_admin,
            "now": now,
        },
    )


# ---------------------------------------------------------------- writing


def _form_values(response: CannedResponse | None) -> dict[str, Any]:
    if response is None:
        return {
            "shortcut": "",
            "title": "",
            "body": "",
            "language": "en",
            "scope": "personal",
            "team_id": "",
            "urgency": [],
            "topic": "",
            "customer_type": "",
            "article": "",
            "draft": False,
        }
    tags = canned_service.CannedTags.from_stored(response.tags or ())
    return {
        "shortcut": response.shortcut,
        "title": response.title,
        "body": response.body,
        "language": response.language,
        "scope": response.scope,
        "team_id": str(response.team_id or ""),
        "urgency": list(tags.urgency),
        "topic": ", ".join(tags.topic),
        "customer_type": ", ".join(tags.customer),
        "article": "",
        "draft": response.draft,
    }


def _editor(
    request: Request,
    caller: PageCaller,
    db: Session,
    *,
    response: CannedResponse | None,
    values: dict[str, Any],
    error: str | None = None,
    issues: list[dict[str, Any]] | None = None,
    status_code: int = 200,
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    title = "New canned response" if response is None else f"/{response.shortcut}"
    return render(
        request,
        "canned/edit.html",
        {
            **_common(caller, title),
            "response": response,
            "values": values,
            "error": error,
            "issues": issues or [],
            "teams": _teams_for(db, caller.viewer),
            "scopes": [
                (key, label)
                for key, label in SCOPE_LABELS.items()
                if key != "shared" or caller.viewer.is_supervisor_or_admin
            ],
            "priorities": [priority.value for priority in Priority],
            "variables": list(DOCUMENTED_VARIABLES),
            "history": [],
            "row": None,
            **(extra or {}),
        },
        status_code=status_code,
    )


Text = Annotated[str, Form(max_length=30_000)]
Short = Annotated[str, Form(max_length=300)]


def _submitted(
    shortcut: Short = "",
    title: Short = "",
    body: Text = "",
    language: Short = "en",
    scope: Short = "personal",
    team_id: Short = "",
    urgency: Annotated[list[str] | None, Form()] = None,
    topic: Short = "",
    customer_type: Short = "",
    article: Short = "",
    draft: Short = "",
) -> dict[str, Any]:
    """The editor's fields as typed (shown again when the form is refused)."""
    return {
        "shortcut": shortcut,
        "title": title,
        "body": body,
        "language": language or "en",
        "scope": scope or "personal",
        "team_id": team_id,
        "urgency": urgency or [],
        "topic": topic,
        "customer_type": customer_type,
        "article": article,
        "draft": draft == "yes",
    }


CannedForm = Annotated[dict[str, Any], Depends(_submitted)]


def _article_id(db: Session, slug: str) -> int | None:
    slug = slug.strip()
    if not slug:
        return None
    article_id = db.scalar(select(Article.id).where(Article.slug == slug))
    if article_id is None:
        raise ValidationFailed(f"there is no article {slug!r}", {"field": "article"})
    return article_id


@router.get("/canned/new", response_class=HTMLResponse)
def canned_new(request: Request, caller: PageUser, db: KnowledgeDb) -> Response:
    return _editor(request, caller, db, response=None, values=_form_values(None))


def _failed(exc: DomainError) -> tuple[str, list[dict[str, Any]]]:
    issues = exc.details.get("issues")
    return sentence(exc.message), list(issues) if isinstance(issues, list) else []


def _fields(db: Session, values: dict[str, Any]) -> dict[str, Any]:
    """The submitted form as the canned service takes it; raises ValidationFailed for
    bad tags or an unknown article."""
    team_id: str = values["team_id"]
    return {
        "shortcut": values["shortcut"],
        "title": values["title"],
        "body": values["body"],
        "language": values["language"],
        "scope": values["scope"],
        "team_id": int(team_id) if team_id.isdigit() else None,
        "tags": canned_service.check_tags(
            urgency=values["urgency"],
            topic=_split(values["topic"]),
            customer=_split(values["customer_type"]),
        ),
        "article_id": _article_id(db, values["article"]),
        "draft": values["draft"],
    }


@router.post("/canned/new", response_class=HTMLResponse)
def canned_create(
    request: Request,
    caller: PageFormUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
    values: CannedForm,
) -> Response:
    try:
        response = canned_service.do_create_canned(
            db, caller.viewer, canned_service.CannedInput(**_fields(db, values)), now=now
        )
    except DomainError as exc:
        db.rollback()
        error, issues = _failed(exc)
        return _editor(
            request,
            caller,
            db,
            response=None,
            values=values,
            error=error,
            issues=issues,
            status_code=422,
        )
    return redirect_with_flash(
        request, settings, f"/canned/{response.id}", "success", f"/{response.shortcut} saved."
    )


# ---------------------------------------------------------------- one response


def _history(db: Session, viewer: Viewer, response_id: int) -> list[dict[str, Any]]:
    return [
        {
            "version": row.version.version,
            "who": row.changed_by_name or "Someone",
            "what": ACTION_LABELS.get(row.version.action, row.version.action),
            "fields": list(row.version.changed_fields or ()),
            "at": row.version.changed_at,
        }
        for row in canned_service.list_versions(db, viewer, response_id)
    ]


def _show(
    request: Request,
    caller: PageCaller,
    db: Session,
    response: CannedResponse,
    settings: Settings,
    now: datetime,
    *,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    issues: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    row = _rows(db, caller.viewer, [response], settings, now)[0]
    form = values or _form_values(response)
    if values is None and response.article_id is not None:
        article = db.get(Article, response.article_id)
        form["article"] = article.slug if article is not None else ""
    if issues is None and response.draft:
        issues = [canned_service.issue_payload(issue) for issue in validate_template(response.body)]
    return _editor(
        request,
        caller,
        db,
        response=response,
        values=form,
        error=error,
        issues=issues,
        status_code=status_code,
        extra={"history": _history(db, caller.viewer, response.id), "row": row, "now": now},
    )


@router.get("/canned/maintenance", response_class=HTMLResponse)
def canned_maintenance(
    request: Request, caller: PageUser, db: KnowledgeDb, now: Now, settings: AppSettings
) -> Response:
    viewer = caller.viewer
    if not viewer.is_supervisor_or_admin:
        return error_page(
            request,
            _common(caller, "Supervisors only"),
            status_code=403,
            heading="For supervisors and admins",
            message="Ask a supervisor to review team and shared responses.",
        )
    report = canned_service.maintenance_report(
        db, viewer, now=now, review_days=settings.canned_review_days
    )
    return render(
        request,
        "canned/maintenance.html",
        {
            **_common(caller, "Responses to look after"),
            "review_days": report.review_days,
            "stale": _rows(db, viewer, [row for row, _ in report.stale], settings, now),
            "never_used": _rows(db, viewer, report.never_used, settings, now),
            "now": now,
        },
    )


@router.get("/canned/{response_ref}", response_class=HTMLResponse)
def canned_show(
    response_ref: str,
    request: Request,
    caller: PageUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
) -> Response:
    response_id = page_id(response_ref)
    if response_id is None:
        return _not_found(request, caller)
    try:
        response = canned_service.access_canned(db, caller.viewer, response_id)
    except NotFound:
        return _not_found(request, caller)
    return _show(request, caller, db, response, settings, now)


@router.post("/canned/{response_ref}", response_class=HTMLResponse)
def canned_update(
    response_ref: str,
    request: Request,
    caller: PageFormUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
    values: CannedForm,
) -> Response:
    response_id = page_id(response_ref)
    if response_id is None:
        return _not_found(request, caller)
    try:
        changes = _fields(db, values)
        updated = canned_service.do_update_canned(db, caller.viewer, response_id, changes, now=now)
    except NotFound:
        db.rollback()
        return _not_found(request, caller)
    except DomainError as exc:
        db.rollback()
        error, issues = _failed(exc)
        current = canned_service.access_canned(db, caller.viewer, response_id)
        return _show(
            request,
            caller,
            db,
            current,
            settings,
            now,
            values=values,
            error=error,
            issues=issues,
            status_code=422 if isinstance(exc, ValidationFailed) else 409,
        )
    return redirect_with_flash(
        request, settings, f"/canned/{updated.id}", "success", f"/{updated.shortcut} saved."
    )


def _act(
    request: Request,
    caller: PageCaller,
    db: Session,
    settings: Settings,
    response_ref: str,
    action: str,
    now: datetime,
) -> Response:
    response_id = page_id(response_ref)
    if response_id is None:
        return _not_found(request, caller)
    location = f"/canned/{response_id}"
    try:
        if action == "review":
            canned_service.do_review_canned(db, caller.viewer, response_id, now=now)
            done = "Marked as reviewed."
        else:
            archived = action == "archive"
            canned_service.do_archive_canned(
                db, caller.viewer, response_id, archived=archived, now=now
            )
            done = "Archived: it no longer shows in the composer." if archived else "Restored."
    except NotFound:
        return _not_found(request, caller)
    except DomainError as exc:
        return redirect_with_flash(request, settings, location, "error", sentence(exc.message))
    return redirect_with_flash(request, settings, location, "success", done)


def _action_route(action: str) -> Callable[..., Response]:
    """The route for one of the Archive, Restore and Reviewed buttons."""

    def route(
        response_ref: str,
        request: Request,
        caller: PageFormUser,
        db: KnowledgeDb,
        now: Now,
        settings: AppSettings,
    ) -> Response:
        return _act(request, caller, db, settings, response_ref, action, now)

    return route


for _action in ("archive", "restore", "review"):
    router.post(f"/canned/{{response_ref}}/{_action}")(_action_route(_action))


# ---------------------------------------------------------------- CSV


@router.get("/canned-export.csv")
def canned_export(caller: PageUser, db: KnowledgeDb) -> Response:
    return page_headers(
        Response(
            canned_service.export_csv(db, caller.viewer),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="canned-responses.csv"'},
        )
    )


@router.post("/canned-import", response_class=HTMLResponse)
def canned_import(
    request: Request,
    caller: PageFormUser,
    db: KnowledgeDb,
    now: Now,
    settings: AppSettings,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    def problems(message: str, errors: list[dict[str, Any]], status_code: int) -> HTMLResponse:
        return render(
            request,
            "canned/import.html",
            {**_common(caller, "Import refused"), "message": message, "errors": errors},
            status_code=status_code,
        )

    if file is None or not file.filename:
        return problems("Choose a CSV file to import.", [], 422)
    raw = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        return problems("The file is larger than 2 MB; nothing was imported.", [], 413)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return problems("The file is not UTF-8 text; nothing was imported.", [], 422)
    try:
        result = canned_service.do_import_csv(db, caller.viewer, text, now=now)
    except DomainError as exc:
        db.rollback()
        errors = exc.details.get("errors")
        return problems(
            sentence(exc.message), list(errors) if isinstance(errors, list) else [], 422
        )
    return redirect_with_flash(
        request,
        settings,
        "/canned",
        "success",
        f"Imported: {result.created} new, {result.updated} updated, {result.unchanged} unchanged.",
    )
