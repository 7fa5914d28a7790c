"""The agent's pages: the inbox list and one conversation with its forms.

Every form POST redirects back (Post/Redirect/Get) with a one-time message, so a
reload never sends a reply twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Team
from helpline.domain.access import Viewer
from helpline.domain.enums import ConversationStatus
from helpline.domain.errors import DomainError
from helpline.domain.lifecycle import ALLOWED_TRANSITIONS
from helpline.services.conversation_queries import (
    ConversationFilters,
    ConversationPage,
    get_conversation,
    list_conversations,
)
from helpline.services.conversations import (
    HistoryEntry,
    do_add_note,
    do_add_reply,
    do_assign,
    do_change_status,
    get_history,
)
from helpline.services.errors import NotFound, ValidationFailed
from helpline.services.teams import list_teams
from helpline.settings import Settings
from helpline.web.deps import AppSettings, DbSession, Now
from helpline.web.pages.rendering import describe_activity, page_headers, render, status_label
from helpline.web.pages.security import (
    FlashKind,
    PageCaller,
    PageFormUser,
    PageUser,
    set_flash,
)

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
HISTORY_BATCH = 500
MAX_ID = 2**31 - 1
ACTIVE = (ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.ON_HOLD)
STATUS_CHOICES: tuple[tuple[str, str], ...] = (
    ("active", "Active (open, pending, on hold)"),
    ("open", "Open"),
    ("pending", "Pending"),
    ("on_hold", "On hold"),
    ("solved", "Solved"),
    ("closed", "Closed"),
    ("any", "Any status"),
)
VIEW_LABELS = {"mine": "Mine", "unassigned": "Unassigned", "teams": "My teams", "all": "All"}
STATUS_ORDER = [status.value for status in ConversationStatus]
SNOOZE_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Don't snooze"),
    ("1", "Snooze 1 hour"),
    ("4", "Snooze 4 hours"),
    ("24", "Snooze 1 day"),
    ("72", "Snooze 3 days"),
)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/inbox", status_code=303)


# ---------------------------------------------------------------- inbox


def _views_for(viewer: Viewer) -> list[str]:
    views = ["mine", "unassigned", "teams"]
    if viewer.is_supervisor_or_admin:
        views.append("all")  # agents see only their part of the queue anyway
    return views


def _teams_of(db: Session, viewer: Viewer) -> list[Team]:
    """The viewer's own teams, by name (for the "My teams" picker)."""
    if not viewer.team_ids:
        return []
    return [row.team for row in list_teams(db) if row.team.id in viewer.team_ids]


def _status_filter(status: str) -> tuple[ConversationStatus, ...]:
    if status == "any":
        return ()
    if status in STATUS_ORDER:
        return (ConversationStatus(status),)
    return ACTIVE


def _inbox_link(**params: object) -> str:
    query = {key: str(value) for key, value in params.items() if value not in (None, "")}
    return "/inbox?" + urlencode(query) if query else "/inbox"


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    caller: PageUser,
    db: DbSession,
    now: Now,
    view: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str, Query(max_length=20)] = "active",
    q: Annotated[str, Query(max_length=200)] = "",
    team: Annotated[str, Query(max_length=12)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    viewer = caller.viewer
    views = _views_for(viewer)
    if view not in views:
        view = "all" if viewer.is_supervisor_or_admin else "mine"
    if status not in dict(STATUS_CHOICES):
        status = "active"
    q = q.strip()
    teams = _teams_of(db, viewer)
    team_id: int | None = None
    if view == "teams" and teams:
        wanted = int(team) if team.isdigit() else None
        team_id = wanted if wanted in {t.id for t in teams} else teams[0].id

    notice = None
    page: ConversationPage | None = None
    if view != "teams" or team_id is not None:
        filters = ConversationFilters(
            status=_status_filter(status),
            assignee="me" if view == "mine" else "unassigned" if view == "unassigned" else None,
            team_id=team_id,
            q=q or None,
        )
        try:
            page = list_conversations(db, viewer, filters, cursor=cursor, limit=PAGE_SIZE)
        except ValidationFailed:
            notice = "That page link is out of date; here is the first page."
            cursor = None
            page = list_conversations(db, viewer, filters, limit=PAGE_SIZE)

    common: dict[str, object] = {"status": status, "q": q, "team": team_id}
    context: dict[str, Any] = {
        "title": "Inbox",
        "nav": "inbox",
        "caller": caller,
        "csrf_token": caller.csrf_token,
        "now": now,
        "view": view,
        "views": [(key, VIEW_LABELS[key]) for key in views],
        "view_links": {key: _inbox_link(view=key, status=status, q=q) for key in views},
        "status": status,
        "status_choices": STATUS_CHOICES,
        "q": q,
        "teams": teams,
        "team_id": team_id,
        "page": page,
        "notice": notice,
        "first_link": _inbox_link(view=view, **common) if cursor else None,
        "next_link": _inbox_link(view=view, cursor=page.next_cursor, **common)
        if page is not None and page.next_cursor
        else None,
    }
    return render(request, "inbox.html", context)


# ---------------------------------------------------------------- one conversation


def _conversation_id(raw: str) -> int | None:
    if not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def _not_found(request: Request, caller: PageCaller) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {
            "title": "Not found",
            "caller": caller,
            "csrf_token": caller.csrf_token,
            "heading": "Conversation not found",
            "message": "It does not exist, or it is not in an inbox or team you work in.",
        },
        status_code=404,
    )


def _full_history(db: Session, viewer: Viewer, conversation_id: int) -> list[HistoryEntry]:
    entries: list[HistoryEntry] = []
    after = 0
    while True:
        batch = get_history(db, viewer, conversation_id, after_seq=after, limit=HISTORY_BATCH)
        entries.extend(batch)
        if len(batch) < HISTORY_BATCH:
            return entries
        after = batch[-1].seq


def _timeline(entries: list[HistoryEntry], contact_name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for entry in entries:
        if entry.message is not None:
            message = entry.message
            if message.kind == "note":
                side = "note"
            elif message.author_type == "contact":
                side = "contact"
            else:
                side = "agent"
            items.append(
                {
                    "kind": "message",
                    "seq": entry.seq,
                    "side": side,
                    "author": entry.author_name,
                    "body": message.body,
                    "at": entry.created_at,
                }
            )
        else:
            items.append(
                {
                    "kind": "activity",
                    "seq": entry.seq,
                    "text": describe_activity(entry, contact_name=contact_name),
                    "at": entry.created_at,
                }
            )
    return items


@router.get("/conversations/{conversation_ref}", response_class=HTMLResponse)
def conversation_page(
    conversation_ref: str, request: Request, caller: PageUser, db: DbSession, now: Now
) -> Response:
    conversation_id = _conversation_id(conversation_ref)
    if conversation_id is None:
        return _not_found(request, caller)
    viewer = caller.viewer
    try:
        row = get_conversation(db, viewer, conversation_id)
        entries = _full_history(db, viewer, conversation_id)
    except NotFound:
        return _not_found(request, caller)
    conversation = row.conversation
    contact = row.contact
    contact_name = contact.name or contact.email or "Customer"
    current = ConversationStatus(conversation.status)
    allowed = sorted(
        (status.value for status in ALLOWED_TRANSITIONS[current]), key=STATUS_ORDER.index
    )
    context: dict[str, Any] = {
        "title": f"#{conversation.number} {conversation.subject}",
        "nav": "inbox",
        "caller": caller,
        "csrf_token": caller.csrf_token,
        "now": now,
        "row": row,
        "c": conversation,
        "contact": contact,
        "contact_name": contact_name,
        "first_name": contact_name.split(" ", 1)[0],
        "items": _timeline(entries, contact_name),
        "status_options": [(value, status_label(value)) for value in allowed],
        "snooze_choices": SNOOZE_CHOICES,
        "closed": current == ConversationStatus.CLOSED,
        "can_take": conversation.assignee_id != viewer.user_id
        and current != ConversationStatus.CLOSED,
    }
    return render(request, "conversation.html", context)


def _flash_redirect(
    request: Request, settings: Settings, location: str, kind: FlashKind, text: str
) -> Response:
    response = RedirectResponse(location, status_code=303)
    set_flash(response, request, kind, text, settings)
    return page_headers(response)


def _back_to(
    request: Request,
    settings: Settings,
    conversation_id: int,
    action: Callable[[], object],
    success: str,
) -> Response:
    """Run one service call, then redirect to the conversation with a message."""
    location = f"/conversations/{conversation_id}"
    try:
        action()
    except NotFound:
        return _flash_redirect(
            request, settings, "/inbox", "error", "That conversation is not available."
        )
    except DomainError as exc:
        text = exc.message[:1].upper() + exc.message[1:]
        return _flash_redirect(request, settings, location + "#compose", "error", text)
    return _flash_redirect(request, settings, location + "#latest", "success", success)


def _form_target(request: Request, caller: PageCaller, raw: str) -> int | Response:
    conversation_id = _conversation_id(raw)
    if conversation_id is None:
        return _not_found(request, caller)
    return conversation_id


MessageBody = Annotated[str, Form(max_length=1_000_000)]


@router.post("/conversations/{conversation_ref}/reply")
def reply_submit(
    conversation_ref: str,
    request: Request,
    caller: PageFormUser,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    body: MessageBody = "",
) -> Response:
    target = _form_target(request, caller, conversation_ref)
    if isinstance(target, Response):
        return target
    return _back_to(
        request,
        settings,
        target,
        lambda: do_add_reply(db, caller.viewer, target, body=body, now=now),
        "Reply sent.",
    )


@router.post("/conversations/{conversation_ref}/note")
def note_submit(
    conversation_ref: str,
    request: Request,
    caller: PageFormUser,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    body: MessageBody = "",
) -> Response:
    target = _form_target(request, caller, conversation_ref)
    if isinstance(target, Response):
        return target
    return _back_to(
        request,
        settings,
        target,
        lambda: do_add_note(db, caller.viewer, target, body=body, now=now),
        "Internal note added.",
    )


@router.post("/conversations/{conversation_ref}/status")
def status_submit(
    conversation_ref: str,
    request: Request,
    caller: PageFormUser,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    status: Annotated[str, Form(max_length=20)] = "",
    snooze_hours: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    target = _form_target(request, caller, conversation_ref)
    if isinstance(target, Response):
        return target
    if status not in STATUS_ORDER:
        return _flash_redirect(
            request, settings, f"/conversations/{target}", "error", "Choose a status."
        )
    new_status = ConversationStatus(status)
    snooze_until: datetime | None = None
    if new_status == ConversationStatus.PENDING and snooze_hours.isdigit():
        hours = int(snooze_hours)
        if hours in (1, 4, 24, 72):
            snooze_until = now + timedelta(hours=hours)

    def change() -> None:
        do_change_status(db, caller.viewer, target, new_status, now=now, snooze_until=snooze_until)

    done = f"Status changed to {status_label(status)}."
    if snooze_until is not None:
        done = f"Snoozed: the conversation comes back in {snooze_hours} h."
    return _back_to(request, settings, target, change, done)


@router.post("/conversations/{conversation_ref}/assign")
def assign_submit(
    conversation_ref: str,
    request: Request,
    caller: PageFormUser,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> Response:
    target = _form_target(request, caller, conversation_ref)
    if isinstance(target, Response):
        return target
    return _back_to(
        request,
        settings,
        target,
        lambda: do_assign(db, caller.viewer, target, caller.viewer.user_id, now=now),
        "The conversation is yours now.",
    )
