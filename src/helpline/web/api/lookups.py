"""REST routes of self-service lookups: admins configure them per inbox; the widget
runs one for its verified customer (docs/self-service-lookups.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Request, Response, status

from helpline.services import lookups as lookup_service
from helpline.web.api.widget import CurrentVisitor, WidgetInbox
from helpline.web.app_state import app_object, shared_limits
from helpline.web.deps import AppSettings, CurrentViewer, DbSession, Now, client_ip
from helpline.web.schemas.lookups import (
    LookupCreate,
    LookupList,
    LookupPublic,
    LookupResultPublic,
    LookupRun,
    LookupUpdate,
)

router = APIRouter()
admin = APIRouter(prefix="/inboxes/{inbox_id}/lookups", tags=["lookups"])
widget = APIRouter(prefix="/widget/{public_key}/lookups", tags=["widget"])

InboxId = Annotated[int, Path(ge=1, le=2_147_483_647)]
LookupKey = Annotated[str, Path(min_length=1, max_length=40)]


def lookup_limits(app: FastAPI) -> lookup_service.LookupLimits:
    """The app's lookup rate limits, made on first use (replace
    `app.state.lookup_limits` to change them)."""
    return app_object(
        app,
        "lookup_limits",
        lambda: lookup_service.LookupLimits(app.state.settings, shared=shared_limits(app)),
    )


@admin.get("", response_model=LookupList)
def list_lookups(inbox_id: InboxId, db: DbSession, viewer: CurrentViewer) -> LookupList:
    """Admins: the inbox's lookups (their secrets are never shown again)."""
    rows = lookup_service.list_lookups(db, viewer, inbox_id)
    return LookupList(data=[LookupPublic.of(row) for row in rows], count=len(rows))


@admin.post("", status_code=status.HTTP_201_CREATED, response_model=LookupPublic)
def create_lookup(
    inbox_id: InboxId,
    payload: LookupCreate,
    db: DbSession,
    viewer: CurrentViewer,
    settings: AppSettings,
    now: Now,
) -> LookupPublic:
    """Admins: add a lookup; the answer carries its signing `secret`, shown once."""
    lookup, secret = lookup_service.do_create_lookup(
        db,
        viewer,
        inbox_id,
        lookup_service.LookupInput(
            key=payload.key,
            label=payload.label,
            input_label=payload.input_label,
            url_template=payload.url_template,
            allowed_hosts=payload.allowed_hosts,
            timeout_seconds=payload.timeout_seconds,
            enabled=payload.enabled,
        ),
        settings=settings,
        now=now,
    )
    return LookupPublic.of(lookup, secret)


@admin.patch("/{key}", response_model=LookupPublic)
def update_lookup(
    inbox_id: InboxId,
    key: LookupKey,
    payload: LookupUpdate,
    db: DbSession,
    viewer: CurrentViewer,
    settings: AppSettings,
    now: Now,
) -> LookupPublic:
    lookup, secret = lookup_service.do_update_lookup(
        db,
        viewer,
        inbox_id,
        key,
        payload.changes(),
        rotate_secret=payload.rotate_secret,
        settings=settings,
        now=now,
    )
    return LookupPublic.of(lookup, secret)


@admin.delete("/{key}", status_code=status.HTTP_204_NO_CONTENT)
def delete_lookup(
    inbox_id: InboxId, key: LookupKey, db: DbSession, viewer: CurrentViewer, now: Now
) -> Response:
    lookup_service.do_delete_lookup(db, viewer, inbox_id, key, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@widget.post("/{key}", response_model=LookupResultPublic)
def run_lookup(
    key: LookupKey,
    payload: LookupRun,
    request: Request,
    db: DbSession,
    inbox: WidgetInbox,
    visitor: CurrentVisitor,
    settings: AppSettings,
    now: Now,
) -> LookupResultPublic:
    """A verified customer asks the shop (403 `verification_required` for anyone
    else; 502 `lookup_unavailable` when the shop's endpoint fails)."""
    result = lookup_service.run_lookup(
        db,
        inbox,
        visitor,
        key,
        payload.input,
        language=payload.language,
        settings=settings,
        limits=lookup_limits(request.app),
        ip=client_ip(request),
        now=now,
        transport=getattr(request.app.state, "lookup_transport", None),
    )
    return LookupResultPublic.of(result)


router.include_router(admin)
router.include_router(widget)
