"""Admin page for an inbox's self-service lookups (docs/self-service-lookups.md):
the list, a form to add or change one, its signing secret made anew, delete.

Same pattern as the other admin pages (`admin_forms.py`), with one difference: a
new signing secret is shown on the page that answers the form that made it, once.
It never travels in a redirect, a flash cookie or a later page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox, SelfServiceLookup
from helpline.services import inboxes, lookups
from helpline.services.errors import NotFound
from helpline.web.deps import AppSettings, DbSession, Now
from helpline.web.pages.admin_forms import admin_context, admin_of, attempt, done, find, form_text
from helpline.web.pages.rendering import Form, error_page, forbidden_page, render
from helpline.web.pages.security import PageCaller, PageFormUser, PageUser

router = APIRouter(prefix="/admin", include_in_schema=False)

LANGUAGES = {"en": "English", "pl": "Polish", "it": "Italian", "el": "Greek"}
"""The widget's languages: a label field each on the form. Labels the API stored in
other languages are kept when the form is saved."""
LABELS = {"label": "Button label", "input_label": "Input label"}


def _forbidden(request: Request, caller: PageCaller) -> HTMLResponse:
    return forbidden_page(
        request, caller, "Admins only", "Self-service lookups are managed by admins."
    )


def _find_inbox(db: Session, caller: PageCaller, inbox_id: int) -> Inbox | None:
    row = find(lambda i: inboxes.access_inbox(db, caller.viewer, i), inbox_id)
    return row.inbox if row is not None else None


def _find_lookup(
    db: Session, caller: PageCaller, inbox: Inbox, key: str
) -> SelfServiceLookup | None:
    try:
        return lookups.access_lookup(db, caller.viewer, inbox.id, key[:40])
    except NotFound:
        return None


# ---------------------------------------------------------------- the form


def _form_values(lookup: SelfServiceLookup) -> dict[str, Any]:
    values: dict[str, Any] = {
        "key": lookup.key,
        "url_template": lookup.url_template,
        "allowed_hosts": "\n".join(lookup.allowed_hosts),
        "timeout_seconds": f"{lookup.timeout_seconds:g}",
        "enabled": lookup.enabled,
    }
    for name in LABELS:
        texts = getattr(lookup, name) or {}
        for language in LANGUAGES:
            values[f"{name}_{language}"] = texts.get(language, "")
    return values


def _labels(
    form: Mapping[str, Any], name: str, stored: Mapping[str, str] | None
) -> dict[str, str] | None:
    """The texts typed per language, plus those stored in languages the form does not
    show; None when there is none at all."""
    texts = {
        language: text for language, text in (stored or {}).items() if language not in LANGUAGES
    }
    for language in LANGUAGES:
        text = form_text(form, f"{name}_{language}")
        if text:
            texts[language] = text
    return texts or None


def _timeout(form: Mapping[str, Any], errors: dict[str, str]) -> float:
    """The timeout typed (5 when empty); its range is the service's to check."""
    raw = form_text(form, "timeout_seconds") or "5"
    if re.fullmatch(r"\d{1,3}(\.\d{1,3})?", raw) is None:
        errors["timeout_seconds"] = "Enter a number of seconds, such as 4 or 2.5."
        return 0.0
    return float(raw)


def _hosts(form: Mapping[str, Any]) -> list[str]:
    return [host for host in re.split(r"[\s,]+", form_text(form, "allowed_hosts")) if host]


def _submitted(form: Mapping[str, Any]) -> dict[str, Any]:
    """What was typed, shown again with the errors."""
    return {**{key: form_text(form, key) for key in form}, "enabled": form.get("enabled") == "on"}


# ---------------------------------------------------------------- pages


def _page(
    request: Request,
    db: Session,
    caller: PageCaller,
    inbox: Inbox,
    *,
    editing: SelfServiceLookup | None = None,
    errors: dict[str, str] | None = None,
    form: Mapping[str, Any] | None = None,
    secret: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """`secret`: (lookup key, its new secret), shown this once."""
    if form is None:
        form = (
            _form_values(editing)
            if editing is not None
            else {"timeout_seconds": "5", "enabled": True}
        )
    context = admin_context(
        caller,
        f"Self-service lookups: {inbox.name}",
        "inboxes",
        inbox=inbox,
        rows=lookups.list_lookups(db, caller.viewer, inbox.id),
        editing=editing,
        languages=LANGUAGES,
        labels=LABELS,
        secret=secret,
        errors=errors or {},
        form=form,
    )
    response = render(request, "admin/lookups.html", context, status_code=status_code)
    if secret is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def _missing(request: Request, caller: PageCaller) -> HTMLResponse:
    return error_page(
        request,
        {"title": "Not found", "caller": caller, "csrf_token": caller.csrf_token},
        status_code=404,
        heading="Not found",
        message="There is no such inbox.",
    )


@router.get("/inboxes/{inbox_id}/lookups", response_class=HTMLResponse)
def lookups_page(inbox_id: int, request: Request, caller: PageUser, db: DbSession) -> Response:
    inbox = _admin_inbox(request, db, caller, inbox_id)
    if not isinstance(inbox, Inbox):
        return inbox
    return _page(request, db, caller, inbox)


@router.get("/inboxes/{inbox_id}/lookups/{key}", response_class=HTMLResponse)
def lookup_page(
    inbox_id: int, key: str, request: Request, caller: PageUser, db: DbSession
) -> Response:
    found = _admin_lookup(request, db, caller, inbox_id, key)
    if not isinstance(found, tuple):
        return found
    inbox, lookup = found
    return _page(request, db, caller, inbox, editing=lookup)


def _admin_inbox(
    request: Request, db: Session, caller: PageCaller, inbox_id: int
) -> Inbox | HTMLResponse:
    """The inbox for an admin, else the page to answer with (403 or 404)."""
    if admin_of(db, caller) is None:
        return _forbidden(request, caller)
    inbox = _find_inbox(db, caller, inbox_id)
    return inbox if inbox is not None else _missing(request, caller)


def _admin_lookup(
    request: Request, db: Session, caller: PageCaller, inbox_id: int, key: str
) -> tuple[Inbox, SelfServiceLookup] | HTMLResponse:
    """The inbox and its lookup for an admin, else the page to answer with (403, or
    404: the inbox's list when only the lookup is missing)."""
    inbox = _admin_inbox(request, db, caller, inbox_id)
    if not isinstance(inbox, Inbox):
        return inbox
    lookup = _find_lookup(db, caller, inbox, key)
    if lookup is None:
        return _page(request, db, caller, inbox, status_code=404)
    return inbox, lookup


def _lookup_input(
    form: Mapping[str, Any], errors: dict[str, str], stored: SelfServiceLookup | None = None
) -> lookups.LookupInput:
    """The lookup as the form gives it; for a `stored` one, its key and the labels in
    languages the form does not show are kept."""
    label = _labels(form, "label", stored.label if stored else None)
    if label is None:
        errors["label"] = "Give the button a label in at least one language."
    return lookups.LookupInput(
        key=stored.key if stored else form_text(form, "key"),
        label=label or {},
        input_label=_labels(form, "input_label", stored.input_label if stored else None),
        url_template=form_text(form, "url_template"),
        allowed_hosts=_hosts(form),
        timeout_seconds=_timeout(form, errors),
        enabled=form.get("enabled") == "on",
    )


@router.post("/inboxes/{inbox_id}/lookups")
def lookup_create(
    inbox_id: int,
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> Response:
    inbox = _admin_inbox(request, db, caller, inbox_id)
    if not isinstance(inbox, Inbox):
        return inbox
    errors: dict[str, str] = {}
    data = _lookup_input(form, errors)
    created: list[tuple[SelfServiceLookup, str]] = []

    def create() -> object:
        created.append(
            lookups.do_create_lookup(db, caller.viewer, inbox.id, data, settings=settings, now=now)
        )
        return None

    if attempt(create, errors):
        lookup, secret = created[0]
        return _page(request, db, caller, inbox, secret=(lookup.key, secret), status_code=201)
    db.rollback()
    return _page(request, db, caller, inbox, errors=errors, form=_submitted(form), status_code=422)


@router.post("/inboxes/{inbox_id}/lookups/{key}")
def lookup_update(
    inbox_id: int,
    key: str,
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> Response:
    found = _admin_lookup(request, db, caller, inbox_id, key)
    if not isinstance(found, tuple):
        return found
    inbox, lookup = found
    errors: dict[str, str] = {}
    data = _lookup_input(form, errors, stored=lookup)
    changes = {name: getattr(data, name) for name in lookups.EDITABLE}
    target = lookup.key
    if attempt(
        lambda: lookups.do_update_lookup(
            db, caller.viewer, inbox.id, target, changes, settings=settings, now=now
        ),
        errors,
    ):
        return done(request, settings, _list_path(inbox), f"Lookup {target} saved.")
    db.rollback()
    return _page(
        request,
        db,
        caller,
        inbox,
        editing=_find_lookup(db, caller, inbox, target),
        errors=errors,
        form={**_submitted(form), "key": target},
        status_code=422,
    )


@router.post("/inboxes/{inbox_id}/lookups/{key}/rotate-secret")
def lookup_rotate_secret(
    inbox_id: int,
    key: str,
    request: Request,
    caller: PageFormUser,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> Response:
    """A new signing secret: the shop must switch to it (the old one stops at once)."""
    found = _admin_lookup(request, db, caller, inbox_id, key)
    if not isinstance(found, tuple):
        return found
    inbox, lookup = found
    lookup, secret = lookups.do_update_lookup(
        db, caller.viewer, inbox.id, lookup.key, {}, rotate_secret=True, settings=settings, now=now
    )
    assert secret is not None
    return _page(request, db, caller, inbox, editing=lookup, secret=(lookup.key, secret))


@router.post("/inboxes/{inbox_id}/lookups/{key}/delete")
def lookup_delete(
    inbox_id: int,
    key: str,
    request: Request,
    caller: PageFormUser,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> Response:
    found = _admin_lookup(request, db, caller, inbox_id, key)
    if not isinstance(found, tuple):
        return found
    inbox, lookup = found
    target = lookup.key
    lookups.do_delete_lookup(db, caller.viewer, inbox.id, target, now=now)
    return done(request, settings, _list_path(inbox), f"Lookup {target} deleted.")


def _list_path(inbox: Inbox) -> str:
    return f"/admin/inboxes/{inbox.id}/lookups"
