"""REST routes behind the agent workspace: the agent's own preferences (shortcuts,
saved views, notifications), inbox views with counts, bulk actions and the customer
sidebar. Every route acts for the signed-in caller; services check visibility."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from helpline.domain.enums import Channel, ConversationStatus, Priority
from helpline.services import preferences as prefs
from helpline.services import workspace as service
from helpline.services.errors import ValidationFailed
from helpline.web.deps import CurrentUser, CurrentViewer, DbSession, Now
from helpline.web.schemas.conversations import MAX_DB_ID, ConversationPublic
from helpline.web.schemas.workspace import (
    BulkRequest,
    BulkResponse,
    BulkResult,
    CustomerPublic,
    InboxPage,
    KeymapUpdate,
    NotificationsUpdate,
    PreferencesPublic,
    SavedViewCreate,
    SavedViewPublic,
    ViewCounts,
)

router = APIRouter(prefix="/workspace", tags=["workspace"])

ConversationId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]


@router.get("/preferences", response_model=PreferencesPublic)
def get_preferences(db: DbSession, user: CurrentUser) -> PreferencesPublic:
    """Your shortcuts (defaults merged with your changes), saved views, notifications."""
    return PreferencesPublic.of(prefs.get_preferences(db, user.id))


@router.patch("/preferences/keymap", response_model=PreferencesPublic)
def update_keymap(
    payload: KeymapUpdate, db: DbSession, user: CurrentUser, now: Now
) -> PreferencesPublic:
    """Remap actions; 422 for an unknown action, a chord that is not usable (a bare
    letter), or a chord another action already uses."""
    return PreferencesPublic.of(prefs.do_update_keymap(db, user.id, payload.keymap, now=now))


@router.delete("/preferences/keymap", response_model=PreferencesPublic)
def reset_keymap(db: DbSession, user: CurrentUser, now: Now) -> PreferencesPublic:
    """Back to the default shortcuts."""
    return PreferencesPublic.of(prefs.do_reset_keymap(db, user.id, now=now))


@router.patch("/preferences/notifications", response_model=PreferencesPublic)
def update_notifications(
    payload: NotificationsUpdate, db: DbSession, user: CurrentUser, now: Now
) -> PreferencesPublic:
    changes = {k: v for k, v in payload.model_dump().items() if v is not None}
    return PreferencesPublic.of(prefs.do_update_notifications(db, user.id, changes, now=now))


@router.post("/views", status_code=status.HTTP_201_CREATED, response_model=SavedViewPublic)
def save_view(
    payload: SavedViewCreate, db: DbSession, user: CurrentUser, now: Now
) -> SavedViewPublic:
    """Save the current filters under a name (the same name replaces them)."""
    saved = prefs.do_save_view(db, user.id, name=payload.name, filters=payload.filters, now=now)
    return SavedViewPublic(**saved)


@router.delete("/views/{view_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_view(
    view_id: Annotated[str, Path(max_length=40)], db: DbSession, user: CurrentUser, now: Now
) -> Response:
    prefs.do_delete_view(db, user.id, view_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _statuses(values: list[str]) -> tuple[ConversationStatus, ...]:
    if not values or values == ["active"]:
        return service.ACTIVE
    if values == ["any"]:
        return ()
    try:
        return tuple(ConversationStatus(value) for value in values)
    except ValueError as exc:
        raise ValidationFailed(
            "status is active, any, or conversation statuses", {"field": "status"}
        ) from exc


@router.get("/inbox", response_model=InboxPage)
def inbox(
    db: DbSession,
    viewer: CurrentViewer,
    now: Now,
    view: service.WorkspaceView = "mine",
    status_filter: Annotated[list[str], Query(alias="status", max_length=5)] = [],  # noqa: B006
    priority: Priority | None = None,
    channel: Channel | None = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    sla_risk: bool = False,
    sort: service.WorkspaceSort = "priority",
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST)] = service.MAX_LIST,
) -> InboxPage:
    """A view's first conversations by priority score (or waiting time) with the
    active count of every view. `status` is `active` (default), `any` or statuses."""
    query = service.InboxQuery(
        view=view,
        status=_statuses(status_filter),
        priority=priority,
        channel=channel,
        category=category or None,
        tag=tag or None,
        language=language or None,
        sla_risk=sla_risk,
        sort=sort,
        q=q or None,
    )
    rows, count = service.list_inbox(db, viewer, query, now=now, limit=limit)
    return InboxPage(
        data=[ConversationPublic.of(row) for row in rows],
        count=count,
        counts=service.view_counts(db, viewer, now=now),
    )


@router.get("/counts", response_model=ViewCounts)
def counts(db: DbSession, viewer: CurrentViewer, now: Now) -> ViewCounts:
    return ViewCounts(counts=service.view_counts(db, viewer, now=now))


@router.post("/bulk", response_model=BulkResponse)
def bulk(payload: BulkRequest, db: DbSession, viewer: CurrentViewer, now: Now) -> BulkResponse:
    """Assign, set the status of, or tag many conversations; each one succeeds or
    fails on its own (`data[].ok`, with the error code when refused)."""
    outcomes = service.do_bulk(
        db,
        viewer,
        payload.conversation_ids,
        action=payload.action,
        now=now,
        assignee_id=payload.assignee_id,
        status=payload.status,
        tag=payload.tag,
    )
    data = [BulkResult.of(outcome) for outcome in outcomes]
    return BulkResponse(data=data, count=len(data), failed=sum(not r.ok for r in data))


@router.get("/conversations/{conversation_id}/customer", response_model=CustomerPublic)
def customer(
    conversation_id: ConversationId, db: DbSession, viewer: CurrentViewer
) -> CustomerPublic:
    """The customer sidebar: the contact in full and their other conversations you can see."""
    return CustomerPublic.of(service.customer_context(db, viewer, conversation_id))
