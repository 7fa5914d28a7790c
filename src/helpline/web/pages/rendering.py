"""Turning data into HTML: the Jinja2 environment (autoescaped), the headers every
page carries, the words the pages use for statuses and history entries, and the
small helpers every form page shares (ids from the path, PRG redirects, messages)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData

from helpline.services.conversations import HistoryEntry
from helpline.settings import Settings
from helpline.web.pages.security import (
    FLASH_COOKIE,
    FlashKind,
    PageCaller,
    read_flash,
    set_flash,
)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

PRODUCT_NAME = "Helpline"
MAX_ID = 2**31 - 1  # ids are 32-bit integers in every database we support
ResponseT = TypeVar("ResponseT", bound=Response)

# No inline scripts or styles anywhere: the pages work without JavaScript.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; object-src 'none'"
)

STATUS_LABELS = {
    "open": "Open",
    "pending": "Pending",
    "on_hold": "On hold",
    "solved": "Solved",
    "closed": "Closed",
}
PRIORITY_LABELS = {"urgent": "Urgent", "high": "High", "normal": "Normal", "low": "Low"}
CHANNEL_LABELS = {"chat": "Chat", "email": "Email", "phone": "Phone", "api": "API"}
PLAN_LABELS = {
    "free": "Free",
    "trial": "Trial",
    "paid": "Paid",
    "enterprise": "Enterprise",
    None: "No plan",
}
ROLE_LABELS = {"agent": "Agent", "supervisor": "Supervisor", "admin": "Admin"}


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "")


def priority_label(priority: str | None) -> str:
    return PRIORITY_LABELS.get(priority or "", priority or "")


def time_ago(moment: datetime | None, now: datetime) -> str:
    """A short relative time ("5 min ago"); the exact time goes in a title."""
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now" if not future else "in a moment"
    minutes = int(seconds // 60)
    if minutes < 60:
        text = f"{minutes} min"
    elif minutes < 48 * 60:
        hours = minutes // 60
        text = f"{hours} h"
    else:
        text = f"{minutes // (24 * 60)} days"
    return f"in {text}" if future else f"{text} ago"


def exact_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def money(cents: int | None) -> str:
    return f"€{(cents or 0) / 100:,.2f}"


def retry_wait(seconds: int) -> str:
    """How long a locked-out user waits, in words."""
    if seconds < 90:
        return f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes"


# ---------------------------------------------------------------- history wording


def _plural(word: str, items: list[str]) -> str:
    return word if len(items) == 1 else f"{word}s"


def _name(value: object, fallback: str) -> str:
    return value if isinstance(value, str) and value else fallback


def describe_activity(entry: HistoryEntry, *, contact_name: str) -> str:
    """One history line in plain words ("Anna Kowalska changed the status from
    Open to Pending"); unknown kinds still read sensibly."""
    activity = entry.activity
    assert activity is not None
    data: Mapping[str, Any] = activity.data or {}
    if activity.actor_type == "contact":
        actor = contact_name
    elif activity.actor_user_id is None and activity.actor_type in ("system", "agent"):
        actor = "Helpline"
    else:
        actor = entry.author_name
    kind = activity.kind
    if kind == "created":
        return f"{actor} started the conversation"
    if kind == "status_changed":
        old, new = status_label(data.get("from")), status_label(data.get("to"))
        return f"{actor} changed the status from {old} to {new}"
    if kind == "snoozed":
        until = data.get("snoozed_until")
        when = exact_time(datetime.fromisoformat(until)) if isinstance(until, str) else "later"
        return f"{actor} snoozed the conversation until {when}"
    if kind == "reopened":
        if data.get("reason") == "snooze_over":
            return "The snooze ended: the conversation is open again"
        return f"Reopened: {actor} wrote again"
    if kind == "auto_closed":
        days = data.get("after_days")
        after = f" {days:g} days" if isinstance(days, int | float) else ""
        return f"Closed automatically{after} after it was solved"
    if kind == "assigned":
        to_name = _name(data.get("to_name"), "an agent")
        if activity.actor_user_id is not None and activity.actor_user_id == data.get("to"):
            return f"{actor} took the conversation"
        if activity.actor_user_id is None:
            return f"Routed to {to_name}"
        return f"{actor} assigned the conversation to {to_name}"
    if kind == "unassigned":
        return f"{actor} unassigned {_name(data.get('from_name'), 'the agent')}"
    if kind == "transferred":
        target = _name(data.get("to_user_name"), "") or _name(data.get("to_team_name"), "")
        team = _name(data.get("to_team_name"), "")
        where = target or "another team"
        if team and team != target:
            where = f"{where} ({team})"
        return f"{actor} transferred the conversation to {where}"
    if kind == "team_changed":
        team = _name(data.get("to_name") or data.get("to_team_name"), "no team")
        return f"{actor} moved the conversation to {team}"
    if kind == "priority_changed":
        old, new = priority_label(data.get("from")), priority_label(data.get("to"))
        return f"{actor} changed the priority from {old} to {new}"
    if kind == "category_changed":
        old, new = _name(data.get("from"), "none"), _name(data.get("to"), "none")
        return f"{actor} changed the category from {old} to {new}"
    if kind == "tags_changed":
        parts = []
        added = [str(tag) for tag in data.get("added") or []]
        removed = [str(tag) for tag in data.get("removed") or []]
        if added:
            parts.append(f"added the {_plural('tag', added)} " + ", ".join(added))
        if removed:
            parts.append(f"removed the {_plural('tag', removed)} " + ", ".join(removed))
        return f"{actor} " + ("; ".join(parts) if parts else "changed the tags")
    if kind == "sla_breached":
        target = str(data.get("target") or "response").replace("_", " ")
        return f"SLA target missed: {target}"
    if kind == "escalated":
        rules = [str(rule) for rule in data.get("rules") or []]
        if rules:  # fired by escalation rules (services.escalation)
            moved = _name(data.get("to_team_name"), "")
            return f"Escalation rule {', '.join(rules)}" + (f": moved to {moved}" if moved else "")
        team = _name(data.get("to_team_name") or data.get("team_name"), "tier 2")
        return f"{actor} escalated the conversation to {team}"
    if kind == "reoffered":
        agent = _name(data.get("from_name"), "the agent")
        return (
            f"Taken back from {agent} ({data.get('message') or 'not answered'}) and offered again"
        )
    if kind in ("sla_warning", "sla_paused", "sla_resumed"):
        target = str(data.get("target") or "").replace("_", " ")
        return {
            "sla_warning": f"SLA warning: {target} due soon",
            "sla_paused": f"SLA clock paused: {data.get('reason') or 'paused'}",
            "sla_resumed": "SLA clock running again",
        }[kind]
    if kind == "refund_requested":
        return f"{actor} recorded a refund request of {money(data.get('amount_cents'))}"
    if kind == "participant_joined":
        return f"{_name(data.get('user_name'), actor)} joined the conversation"
    if kind == "participant_left":
        return f"{_name(data.get('user_name'), actor)} left the conversation"
    return f"{actor}: {kind.replace('_', ' ')}"


# ---------------------------------------------------------------- rendering


def _build_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        product_name=PRODUCT_NAME,
        status_label=status_label,
        priority_label=priority_label,
        priority_labels=PRIORITY_LABELS,
        channel_labels=CHANNEL_LABELS,
        plan_labels=PLAN_LABELS,
        role_labels=ROLE_LABELS,
        time_ago=time_ago,
        exact_time=exact_time,
        money=money,
    )
    return environment


environment = _build_environment()


def page_headers(response: ResponseT) -> ResponseT:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # Pages show customers' data: never keep them in shared or back-button caches.
    response.headers["Cache-Control"] = "no-store"
    return response


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a template with the things every page needs (current user, flash)."""
    values: dict[str, Any] = {
        "request": request,
        "caller": None,
        "csrf_token": None,
        "flash": read_flash(request),
        "nav": None,
        "title": PRODUCT_NAME,
    }
    values.update(context or {})
    html = environment.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return page_headers(response)


# ---------------------------------------------------------------- form pages


async def _read_form(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(_read_form)]
"""A POSTed form (the CSRF token is checked by `PageFormUser`)."""


def duration(seconds: float | None) -> str:
    """Like "1 h 05 min", "4 min" or "35 s": short enough for a table cell (the
    supervisor view's timers count on in the browser in the same form)."""
    if seconds is None:
        return "\u2013"  # an en dash: no value
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def page_id(raw: str) -> int | None:
    """An id from a page's path, or None when it cannot be one (shown as not found
    rather than a validation error)."""
    if not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def valid_id(value: int) -> bool:
    """Whether a path's integer can be a row's id (larger ones are not found, not an
    overflow in the database)."""
    return 1 <= value <= MAX_ID


def capitalised(text: str) -> str:
    """A service's message with a capital first letter, as written otherwise."""
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """A service's message as a sentence for a page: capitalised, with a full stop."""
    return capitalised(text) + ("" if text.endswith((".", "?", "!")) else ".")


def redirect_with_flash(
    request: Request, settings: Settings, location: str, kind: FlashKind, text: str
) -> Response:
    """Post/redirect/get: go to `location` and show `text` there once."""
    response = RedirectResponse(location, status_code=303)
    set_flash(response, request, kind, text, settings)
    return page_headers(response)


def error_page(
    request: Request,
    context: Mapping[str, Any],
    *,
    status_code: int,
    heading: str,
    message: str,
) -> HTMLResponse:
    """The plain error page, inside the calling page's frame (`context`)."""
    return render(
        request,
        "error.html",
        {**context, "heading": heading, "message": message},
        status_code=status_code,
    )


def forbidden_page(
    request: Request, caller: PageCaller, heading: str, message: str
) -> HTMLResponse:
    """403 for a signed-in user whose role may not see the page."""
    return error_page(
        request,
        {"title": heading, "caller": caller, "csrf_token": caller.csrf_token},
        status_code=403,
        heading=heading,
        message=message,
    )
