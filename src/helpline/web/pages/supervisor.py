"""The supervisor view (/supervisor): live queue, agents with their load and chats,
conversations at SLA risk; reassigning by drag and drop or with a form.

The board is rendered on the server (`/supervisor/board` returns just the board,
which the page's script fetches again whenever a live event says something moved),
so the page works without JavaScript and its text is always escaped by Jinja.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from helpline.domain.errors import DomainError
from helpline.services import supervision
from helpline.services.conversations import do_assign
from helpline.web.deps import AppSettings, DbSession, Now
from helpline.web.pages.rendering import (
    Form,
    capitalised,
    duration,
    forbidden_page,
    page_id,
    redirect_with_flash,
    render,
)
from helpline.web.pages.security import FlashKind, PageCaller, PageFormUser, PageUser

router = APIRouter(include_in_schema=False)

STATUS_TEXT = {"online": "Online", "away": "Away", "on_break": "On a break", "offline": "Offline"}
TARGET_TEXT = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}


def _forbidden(request: Request, caller: PageCaller) -> HTMLResponse:
    return forbidden_page(
        request, caller, "Supervisors only", "The supervisor view is for supervisors and admins."
    )


def _context(caller: PageCaller, db: DbSession, now: Now, settings: AppSettings) -> dict[str, Any]:
    overview = supervision.get_overview(db, caller.viewer, now=now, settings=settings)
    return {
        "title": "Supervisor",
        "nav": "supervisor",
        "caller": caller,
        "csrf_token": caller.csrf_token,
        "overview": overview,
        "now": now,
        "duration": duration,
        "status_text": STATUS_TEXT,
        "target_text": TARGET_TEXT,
    }


@router.get("/supervisor", response_class=HTMLResponse)
def supervisor_page(
    request: Request, caller: PageUser, db: DbSession, now: Now, settings: AppSettings
) -> Response:
    if not caller.viewer.is_supervisor_or_admin:
        return _forbidden(request, caller)
    return render(request, "supervisor/index.html", _context(caller, db, now, settings))


@router.get("/supervisor/board", response_class=HTMLResponse)
def supervisor_board(
    request: Request, caller: PageUser, db: DbSession, now: Now, settings: AppSettings
) -> Response:
    """Just the board, for the page's live refresh."""
    if not caller.viewer.is_supervisor_or_admin:
        return _forbidden(request, caller)
    return render(request, "supervisor/_board.html", _context(caller, db, now, settings))


def _form_id(form: FormData, name: str) -> int | None:
    raw = form.get(name)
    return page_id(raw.strip()) if isinstance(raw, str) else None


@router.post("/supervisor/reassign")
def reassign_submit(
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> Response:
    """The form behind every chat's "Move to" menu (the drag and drop uses the API)."""
    if not caller.viewer.is_supervisor_or_admin:
        return _forbidden(request, caller)
    conversation_id = _form_id(form, "conversation_id")
    assignee_id = _form_id(form, "assignee_id")
    if conversation_id is None or assignee_id is None:
        return _back(request, settings, "error", "Choose a conversation and an agent.")
    try:
        conversation = do_assign(db, caller.viewer, conversation_id, assignee_id, now=now)
    except DomainError as exc:
        db.rollback()
        return _back(request, settings, "error", capitalised(exc.message))
    return _back(request, settings, "success", f"Conversation #{conversation.number} moved.")


def _back(request: Request, settings: AppSettings, kind: FlashKind, text: str) -> Response:
    return redirect_with_flash(request, settings, "/supervisor", kind, text)
