"""The reports page (/reports) and its CSV download (/reports.csv): the team's
numbers over a range of local days, for supervisors and admins.

A plain GET form chooses the days, the time zone and an optional inbox, team or
channel; the numbers come from `services/reports.py`, the same as the API's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox, Team
from helpline.domain.errors import DomainError
from helpline.services import reports
from helpline.web.deps import DbSession, Now
from helpline.web.pages.rendering import capitalised, duration, forbidden_page, page_id, render
from helpline.web.pages.security import PageCaller, PageUser

router = APIRouter(include_in_schema=False)

DEFAULT_DAYS = 7
CHANNEL_LABELS = {"chat": "Chat", "email": "Email", "phone": "Phone", "api": "API"}


def span(seconds: float | None) -> str:
    """`duration`, with days from two days on ("3 d 4 h"): resolutions take days."""
    if seconds is not None and seconds >= 2 * 86_400:
        hours = int(seconds) // 3600
        return f"{hours // 24} d {hours % 24} h"
    return duration(seconds)


def percent(value: float | None) -> str:
    return "\u2013" if value is None else f"{value * 100:.0f} %"


def _forbidden(request: Request, caller: PageCaller) -> HTMLResponse:
    return forbidden_page(
        request, caller, "Supervisors only", "Reports are for supervisors and admins."
    )


def _text(params: Mapping[str, str], name: str) -> str:
    return params.get(name, "").strip()[:64]


def _day(raw: str, fallback: date, field: str, errors: dict[str, str]) -> date:
    if not raw:
        return fallback
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = "Enter a date such as 2026-03-02."
        return fallback


def _read_filter(
    params: Mapping[str, str], now: datetime, errors: dict[str, str]
) -> reports.ReportFilter | None:
    """The form's choices (the last 7 days in UTC when none), or None with errors."""
    time_zone = _text(params, "time_zone") or "UTC"
    try:
        today = now.astimezone(ZoneInfo(time_zone)).date()
    except (KeyError, ValueError):
        today = now.date()  # the service says what is wrong with the zone
    last = _day(_text(params, "to"), today, "to", errors)
    first = _day(_text(params, "from"), last - timedelta(days=DEFAULT_DAYS - 1), "from", errors)
    channel = _text(params, "channel") or None
    if errors:
        return None
    try:
        return reports.check_filter(
            first,
            last,
            time_zone=time_zone,
            inbox_id=page_id(_text(params, "inbox_id")),
            team_id=page_id(_text(params, "team_id")),
            channel=channel,
        )
    except DomainError as error:
        field = error.details.get("field") if isinstance(error.details, dict) else None
        errors[str(field or "from")] = capitalised(error.message)
        return None


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, caller: PageUser, db: DbSession, now: Now) -> Response:
    if not caller.viewer.is_supervisor_or_admin:
        return _forbidden(request, caller)
    params = dict(request.query_params)
    errors: dict[str, str] = {}
    report_filter = _read_filter(params, now, errors)
    report = reports.overview(db, caller.viewer, report_filter) if report_filter else None
    context = {
        "title": "Reports",
        "nav": "reports",
        "caller": caller,
        "csrf_token": caller.csrf_token,
        "report": report,
        "form": _form_values(params, report_filter),
        "errors": errors,
        "inboxes": _choices(db, Inbox),
        "teams": _choices(db, Team),
        "channels": CHANNEL_LABELS,
        "span": span,
        "percent": percent,
        "csv_query": request.url.query,
    }
    return render(request, "reports/index.html", context, status_code=422 if errors else 200)


@router.get("/reports.csv")
def reports_csv(request: Request, caller: PageUser, db: DbSession, now: Now) -> Response:
    """The per-day table of the same choices, for a spreadsheet."""
    if not caller.viewer.is_supervisor_or_admin:
        return _forbidden(request, caller)
    errors: dict[str, str] = {}
    report_filter = _read_filter(dict(request.query_params), now, errors)
    if report_filter is None:
        return Response("; ".join(errors.values()), status_code=422, media_type="text/plain")
    rows = reports.daily_rows(reports.overview(db, caller.viewer, report_filter))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    name = f"helpline-report-{report_filter.first}-{report_filter.last}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _form_values(
    params: Mapping[str, str], report_filter: reports.ReportFilter | None
) -> dict[str, str]:
    if report_filter is None:
        return {key: _text(params, key) for key in params}
    return {
        "from": report_filter.first.isoformat(),
        "to": report_filter.last.isoformat(),
        "time_zone": report_filter.time_zone,
        "inbox_id": str(report_filter.inbox_id or ""),
        "team_id": str(report_filter.team_id or ""),
        "channel": report_filter.channel or "",
    }


def _choices(db: Session, model: type[Inbox] | type[Team]) -> list[tuple[str, str]]:
    rows: list[Any] = list(db.scalars(select(model).order_by(model.name)))
    return [(str(row.id), row.name) for row in rows]
