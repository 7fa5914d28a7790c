"""What the admin form pages share (`admin_routing.py`, `admin_people.py`): the
admin check, the frame with the section tabs, reading fields, and turning a
service's refusal into a message next to the field it names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from helpline.adapters.db.models import User
from helpline.domain.enums import Role
from helpline.domain.errors import DomainError
from helpline.services.errors import NotFound
from helpline.settings import Settings
from helpline.web.deps import AppSettings, DbSession, Now, client_ip
from helpline.web.pages.rendering import capitalised, redirect_with_flash, valid_id
from helpline.web.pages.security import PageCaller, PageFormUser, PageUser

T = TypeVar("T")
RowT_contra = TypeVar("RowT_contra", contravariant=True)

ADMIN_SECTIONS = [
    ("routing", "Routing", "/admin/routing"),
    ("sla", "SLA policies", "/admin/sla"),
    ("calendars", "Business hours", "/admin/calendars"),
    ("rules", "Escalation rules", "/admin/rules"),
]


def form_text(form: Mapping[str, Any], name: str) -> str:
    """A field's text without surrounding blanks ("" when missing or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def admin_of(db: Session, caller: PageCaller) -> User | None:
    """The signed-in user when an admin (services take the user as the actor)."""
    user = db.get(User, caller.viewer.user_id)
    return user if user is not None and user.role == Role.ADMIN.value else None


def admin_context(caller: PageCaller, title: str, section: str, **values: Any) -> dict[str, Any]:
    """The admin frame: navigation, section tabs, an empty form unless given."""
    return {
        "title": title,
        "nav": "admin",
        "caller": caller,
        "csrf_token": caller.csrf_token,
        "section": section,
        "sections": ADMIN_SECTIONS,
        "errors": {},
        "form": {},
        **values,
    }


def attempt(action: Callable[[], object], errors: dict[str, str]) -> bool:
    """Run one service call unless the form already has errors; a refusal becomes a
    message on the field it names (`weekly_hours.mon` on `weekly_hours`)."""
    if errors:
        return False
    try:
        action()
    except DomainError as exc:
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        errors[str(field).split(".")[0] if field else "form"] = capitalised(exc.message)
        return False
    return True


def find(access: Callable[[int], T], item_id: int) -> T | None:
    """The row behind a path's id, or None (shown as not found) when there is none or
    the id cannot be one."""
    try:
        return access(item_id) if valid_id(item_id) else None
    except NotFound:
        return None


def done(request: Request, settings: Settings, location: str, message: str) -> Response:
    """The redirect after a saved form, with its success message."""
    return redirect_with_flash(request, settings, location, "success", message)


class ListPage(Protocol[RowT_contra]):
    """An admin list page with its form: empty, or filled from the row being edited."""

    def __call__(
        self,
        request: Request,
        db: Session,
        caller: PageCaller,
        *,
        editing: RowT_contra | None = None,
        status_code: int = 200,
    ) -> HTMLResponse: ...


def add_list_pages(
    router: APIRouter,
    path: str,
    page: ListPage[T],
    access: Callable[[Session, PageCaller, int], T],
    forbidden: Callable[[Request, PageCaller], HTMLResponse],
) -> None:
    """GET `path` (the list, a new row's form) and GET `path/{id}` (the list, that
    row's form; 404 with the list when there is no such row), for admins only."""

    @router.get(path, response_class=HTMLResponse)
    def list_page(request: Request, caller: PageUser, db: DbSession) -> Response:
        if admin_of(db, caller) is None:
            return forbidden(request, caller)
        return page(request, db, caller)

    @router.get(f"{path}/{{item_id}}", response_class=HTMLResponse)
    def item_page(item_id: int, request: Request, caller: PageUser, db: DbSession) -> Response:
        if admin_of(db, caller) is None:
            return forbidden(request, caller)
        row = find(lambda i: access(db, caller, i), item_id)
        if row is None:
            return page(request, db, caller, status_code=404)
        return page(request, db, caller, editing=row)


class ErrorPage(Protocol):
    """An admin list page shown again with the refusal of an action."""

    def __call__(
        self,
        request: Request,
        db: Session,
        caller: PageCaller,
        *,
        errors: dict[str, str],
        status_code: int,
    ) -> HTMLResponse: ...


class DeleteAction(Protocol):
    """A service's delete: (db, the admin, the row's id, now=, ip=)."""

    def __call__(
        self, db: Session, admin: User, item_id: int, /, *, now: datetime, ip: str
    ) -> object: ...


def add_delete_action(
    router: APIRouter,
    path: str,
    delete: DeleteAction,
    page: ErrorPage,
    forbidden: Callable[[Request, PageCaller], HTMLResponse],
    *,
    message: str,
    refused_status: int = 404,
) -> None:
    """POST `path/{id}/delete` for admins: the redirect to the list with `message`, or
    the list again with the refusal (`refused_status`: 404, or 409 for a row in use)."""

    @router.post(f"{path}/{{item_id}}/delete")
    def delete_item(
        item_id: int,
        request: Request,
        caller: PageFormUser,
        db: DbSession,
        now: Now,
        settings: AppSettings,
    ) -> Response:
        admin = admin_of(db, caller)
        if admin is None:
            return forbidden(request, caller)
        errors: dict[str, str] = {}
        if attempt(lambda: delete(db, admin, item_id, now=now, ip=client_ip(request)), errors):
            return done(request, settings, router.prefix + path, message)
        db.rollback()
        return page(request, db, caller, errors=errors, status_code=refused_status)
