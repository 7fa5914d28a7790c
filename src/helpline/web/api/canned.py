"""REST routes for canned responses: manage them, check and preview templates, rank
them for the composer's `/` picker, count their use, CSV import and export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from helpline.adapters.db.models import CannedResponse
from helpline.domain.access import Viewer
from helpline.domain.templates import parse_template
from helpline.services import canned as canned_service
from helpline.services.errors import ValidationFailed
from helpline.settings import Settings
from helpline.web.api.articles import KnowledgeDb
from helpline.web.deps import AppSettings, CurrentViewer, Now
from helpline.web.schemas.canned import (
    BodyPreviewRequest,
    CannedCreate,
    CannedList,
    CannedPublic,
    CannedUpdate,
    FromMessageCreate,
    FromMessagePublic,
    ImportResultPublic,
    MaintenancePublic,
    PreviewRequest,
    PreviewResult,
    Replacement,
    SuggestionList,
    SuggestionPublic,
    TemplateCheck,
    TemplateCheckResult,
    TemplateIssuePublic,
    UsagePublic,
    UsageRequest,
    VersionList,
    VersionPublic,
)

router = APIRouter(prefix="/canned", tags=["canned responses"])

ResponseId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The response's id")]
MAX_CSV_BYTES = 2 * 1024 * 1024


def public_views(
    db: Session,
    viewer: Viewer,
    responses: list[CannedResponse],
    settings: Settings,
    now: datetime,
) -> list[CannedPublic]:
    """Responses with their staleness and whether the viewer may edit them."""
    articles = canned_service.linked_articles(db, responses)
    return [
        CannedPublic.of(
            response,
            canned_service.staleness(
                response,
                articles.get(response.article_id) if response.article_id else None,
                now=now,
                review_days=settings.canned_review_days,
            ),
            can_edit=canned_service.can_manage(
                viewer, response.scope, response.owner_id, response.team_id
            ),
        )
        for response in responses
    ]


def _one(
    db: Session,
    viewer: Viewer,
    response: CannedResponse,
    settings: Settings,
    now: datetime,
) -> CannedPublic:
    return public_views(db, viewer, [response], settings, now)[0]


@router.get("", response_model=CannedList)
def list_canned(
    db: KnowledgeDb,
    viewer: CurrentViewer,
    settings: AppSettings,
    now: Now,
    q: Annotated[str | None, Query(max_length=200)] = None,
    scope: Annotated[str | None, Query(pattern="^(personal|team|shared)$")] = None,
    include_archived: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> CannedList:
    """The responses you can see, by shortcut; `q` matches the shortcut and title."""
    rows, total = canned_service.list_canned(
        db, viewer, q=q, scope=scope, include_archived=include_archived, limit=limit
    )
    return CannedList(data=public_views(db, viewer, rows, settings, now), count=total)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CannedPublic)
def create_canned(
    payload: CannedCreate, db: KnowledgeDb, viewer: CurrentViewer, settings: AppSettings, now: Now
) -> CannedPublic:
    """422 with `details.issues` (positions included) when the template has problems,
    unless `draft` is true; 409 when the shortcut is taken in that scope."""
    response = canned_service.do_create_canned(
        db,
        viewer,
        canned_service.CannedInput(
            shortcut=payload.shortcut,
            title=payload.title,
            body=payload.body,
            language=payload.language,
            scope=payload.scope,
            team_id=payload.team_id,
            tags=payload.tags.to_tags(),
            article_id=payload.article_id,
            draft=payload.draft,
        ),
        now=now,
    )
    return _one(db, viewer, response, settings, now)


@router.post("/validate", response_model=TemplateCheckResult)
def validate_template(payload: TemplateCheck, _viewer: CurrentViewer) -> TemplateCheckResult:
    """Check a template while it is being written: every problem with its position."""
    parsed = parse_template(payload.body)
    return TemplateCheckResult(
        valid=not parsed.issues,
        issues=[
            TemplateIssuePublic(**canned_service.issue_payload(issue)) for issue in parsed.issues
        ],
        variables=list(parsed.variables),
    )


@router.post("/preview", response_model=PreviewResult)
def preview_unsaved(
    payload: BodyPreviewRequest, db: KnowledgeDb, viewer: CurrentViewer
) -> PreviewResult:
    """Render a template that is not saved yet with a real conversation."""
    return PreviewResult.of(
        canned_service.preview_body(db, viewer, payload.body, payload.conversation_id)
    )


@router.get("/suggest", response_model=SuggestionList)
def suggest(
    db: KnowledgeDb,
    viewer: CurrentViewer,
    conversation_id: Annotated[int, Query(ge=1, le=2_147_483_647)],
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SuggestionList:
    """The composer's `/` picker: responses that fit the conversation (language,
    category, customer type, urgency) first, then by how well they match `q`; each
    rendered for this conversation, ready to insert."""
    suggestions = canned_service.suggest_canned(db, viewer, conversation_id, q=q, limit=limit)
    data = [SuggestionPublic.of(suggestion) for suggestion in suggestions]
    return SuggestionList(data=data, count=len(data))


@router.get("/maintenance", response_model=MaintenancePublic)
def maintenance(
    db: KnowledgeDb, viewer: CurrentViewer, settings: AppSettings, now: Now
) -> MaintenancePublic:
    """Supervisors and admins: team and shared responses that are stale (not reviewed
    for `HELPLINE_CANNED_REVIEW_DAYS` days, or their article changed) or never used."""
    report = canned_service.maintenance_report(
        db, viewer, now=now, review_days=settings.canned_review_days
    )
    return MaintenancePublic(
        review_days=report.review_days,
        stale=public_views(db, viewer, [row for row, _ in report.stale], settings, now),
        never_used=public_views(db, viewer, report.never_used, settings, now),
    )


@router.get("/export")
def export_csv(db: KnowledgeDb, viewer: CurrentViewer) -> Response:
    """Every response you can see as CSV (archived ones included)."""
    return Response(
        canned_service.export_csv(db, viewer),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="canned-responses.csv"'},
    )


async def csv_body(request: Request) -> str:
    """The request body as CSV text (UTF-8, a byte-order mark is fine)."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type not in ("text/csv", "text/plain", "application/csv"):
        raise HTTPException(415, "send the CSV file as the body (Content-Type: text/csv)")
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(413, f"the CSV file is larger than {MAX_CSV_BYTES} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "the file is not UTF-8 text; nothing was imported",
            {"errors": [{"line": 1, "field": None, "message": "not UTF-8 text"}]},
        ) from None


@router.post("/import", response_model=ImportResultPublic)
def import_csv(
    text: Annotated[str, Depends(csv_body)], db: KnowledgeDb, viewer: CurrentViewer, now: Now
) -> ImportResultPublic:
    """Send the CSV as the body (`Content-Type: text/csv`), columns as in the export.
    A row updates the response with the same shortcut in the same scope, or creates
    one. All or nothing: 422 with `details.errors` (line, field, message) when any
    row is wrong, and nothing is imported."""
    result = canned_service.do_import_csv(db, viewer, text, now=now)
    return ImportResultPublic(
        created=result.created, updated=result.updated, unchanged=result.unchanged
    )


@router.post(
    "/from-message/{message_id}",
    status_code=status.HTTP_201_CREATED,
    response_model=FromMessagePublic,
)
def save_from_message(
    message_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    payload: FromMessageCreate,
    db: KnowledgeDb,
    viewer: CurrentViewer,
    settings: AppSettings,
    now: Now,
) -> FromMessagePublic:
    """Save a sent reply as a canned response; the customer's name, the agent's name,
    the conversation number and custom attributes become placeholders."""
    created = canned_service.do_create_from_message(
        db,
        viewer,
        message_id,
        shortcut=payload.shortcut,
        title=payload.title,
        scope=payload.scope,
        team_id=payload.team_id,
        tags=payload.tags.to_tags() if payload.tags is not None else None,
        language=payload.language,
        draft=payload.draft,
        now=now,
    )
    public = _one(db, viewer, created.response, settings, now)
    return FromMessagePublic(
        **public.model_dump(),
        replaced=[
            Replacement(text=text, placeholder=placeholder)
            for text, placeholder in created.replaced
        ],
    )


@router.get("/{response_id}", response_model=CannedPublic)
def get_canned(
    response_id: ResponseId, db: KnowledgeDb, viewer: CurrentViewer, settings: AppSettings, now: Now
) -> CannedPublic:
    return _one(db, viewer, canned_service.access_canned(db, viewer, response_id), settings, now)


@router.patch("/{response_id}", response_model=CannedPublic)
def update_canned(
    response_id: ResponseId,
    payload: CannedUpdate,
    db: KnowledgeDb,
    viewer: CurrentViewer,
    settings: AppSettings,
    now: Now,
) -> CannedPublic:
    """Change the fields sent; every change is kept in the version history."""
    response = canned_service.do_update_canned(db, viewer, response_id, payload.changes(), now=now)
    return _one(db, viewer, response, settings, now)


@router.post("/{response_id}/archive", response_model=CannedPublic)
def archive_canned(
    response_id: ResponseId, db: KnowledgeDb, viewer: CurrentViewer, settings: AppSettings, now: Now
) -> CannedPublic:
    response = canned_service.do_archive_canned(db, viewer, response_id, archived=True, now=now)
    return _one(db, viewer, response, settings, now)


@router.post("/{response_id}/restore", response_model=CannedPublic)
def restore_canned(
    response_id: ResponseId, db: KnowledgeDb, viewer: CurrentViewer, settings: AppSettings, now: Now
) -> CannedPublic:
    response = canned_service.do_archive_canned(db, viewer, response_id, archived=False, now=now)
    return _one(db, viewer, response, settings, now)


@router.post("/{response_id}/review", response_model=CannedPublic)
def review_canned(
    response_id: ResponseId, db: KnowledgeDb, viewer: CurrentViewer, settings: AppSettings, now: Now
) -> CannedPublic:
    """Mark the response as checked and still right (no longer stale)."""
    response = canned_service.do_review_canned(db, viewer, response_id, now=now)
    return _one(db, viewer, response, settings, now)


@router.post("/{response_id}/preview", response_model=PreviewResult)
def preview_canned(
    response_id: ResponseId, payload: PreviewRequest, db: KnowledgeDb, viewer: CurrentViewer
) -> PreviewResult:
    """The response as you would send it in this conversation: the customer's and
    your own details filled in, `missing` naming what had no value."""
    return PreviewResult.of(
        canned_service.preview_canned(db, viewer, response_id, payload.conversation_id)
    )


@router.post("/{response_id}/used", response_model=UsagePublic)
def record_usage(
    response_id: ResponseId,
    db: KnowledgeDb,
    viewer: CurrentViewer,
    now: Now,
    payload: UsageRequest | None = None,
) -> UsagePublic:
    """Count a use: call it when a message containing the response was sent."""
    response = canned_service.do_record_usage(
        db,
        viewer,
        response_id,
        conversation_id=payload.conversation_id if payload is not None else None,
        now=now,
    )
    return UsagePublic(
        id=response.id, usage_count=response.usage_count, last_used_at=response.last_used_at
    )


@router.get("/{response_id}/versions", response_model=VersionList)
def versions(response_id: ResponseId, db: KnowledgeDb, viewer: CurrentViewer) -> VersionList:
    """Newest first: who changed what, and the response as it was after each change."""
    rows = canned_service.list_versions(db, viewer, response_id)
    return VersionList(data=[VersionPublic.of(row) for row in rows], count=len(rows))
