"""Admin pages for routing: settings per installation, inbox and team; SLA policies;
business calendars; escalation rules.

Plain server-rendered forms: each POST carries the session's CSRF token, is checked
by the same services the API uses, and either redirects back with a message (PRG)
or shows the form again with what was wrong next to what was typed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Team
from helpline.domain.enums import Channel, Plan, Priority
from helpline.domain.routing import Strategy
from helpline.domain.sla.calendar import WEEKDAYS
from helpline.services import escalation, routing, sla
from helpline.web.deps import AppSettings, DbSession, Now, client_ip
from helpline.web.pages.admin_forms import (
    add_delete_action,
    add_list_pages,
    admin_context,
    admin_of,
    attempt,
    done,
    find,
    form_text,
)
from helpline.web.pages.rendering import Form, forbidden_page, render, valid_id
from helpline.web.pages.security import PageCaller, PageFormUser, PageUser

router = APIRouter(prefix="/admin", include_in_schema=False)

STRATEGY_LABELS = {
    Strategy.PRIORITY: "Priority (urgent and valuable first)",
    Strategy.FIFO: "First come, first served",
    Strategy.ROUND_ROBIN: "Round robin (agents in turn)",
    Strategy.LEAST_LOADED: "Least loaded agent",
    Strategy.EASIEST_FIRST: "Easiest first (shortest handling time)",
    Strategy.PULL: "Pull (nothing pushed; agents take chats)",
}
WEIGHT_LABELS = {
    "urgent_points": "Urgent topic",
    "first_time_points": "First-time customer",
    "waiting_points_per_minute": "Waiting, per minute",
    "lifetime_value_points_per_100": "Lifetime value, per 100 spent",
    "lifetime_value_max_points": "Lifetime value, at most",
    "repeat_customer_min_orders": "Repeat customer: orders",
    "repeat_customer_points": "Repeat customer",
    "large_order_cents": "Large order from (cents)",
    "large_order_points": "Large order",
    "sla_risk_window_minutes": "SLA risk window (minutes)",
    "sla_risk_max_points": "SLA risk, at most",
    "sla_overdue_points": "SLA overdue",
    "frustration_points": "Frustrated customer, at full frustration (AI assist)",
    "frustration_threshold": "Frustration counts from (score 0 to 1)",
}
TRIGGER_LABELS = escalation.TRIGGERS


def _optional_number(form: Mapping[str, Any], name: str, errors: dict[str, str]) -> float | None:
    raw = form_text(form, name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        errors[name] = "Enter a number."
        return None
    if value != value or value in (float("inf"), float("-inf")):
        errors[name] = "Enter a number."
        return None
    return value


def _optional_int(form: Mapping[str, Any], name: str, errors: dict[str, str]) -> int | None:
    raw = form_text(form, name)
    if not raw:
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 12:
        errors[name] = "Enter a whole number."
        return None
    return int(raw)


def _choice(form: Mapping[str, Any], name: str, choices: type[Any], errors: dict[str, str]) -> Any:
    raw = form_text(form, name)
    if not raw:
        return None
    if raw not in choices._value2member_map_:
        errors[name] = "Choose one of the options."
        return None
    return choices(raw)


def _forbidden(request: Request, caller: PageCaller) -> HTMLResponse:
    return forbidden_page(
        request,
        caller,
        "Admins only",
        "Routing, SLA and escalation settings are changed by admins.",
    )


# ---------------------------------------------------------------- routing settings


def _routing_page(
    request: Request,
    db: Session,
    caller: PageCaller,
    settings: AppSettings,
    *,
    errors: dict[str, str] | None = None,
    form: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = routing.get_routing_settings(db, settings=settings)
    weights = view.effective.weights
    values = {name: getattr(weights, name) for name in WEIGHT_LABELS}
    plan_points = {plan.value: weights.plan_points.get(plan, 0.0) for plan in Plan}
    context = admin_context(
        caller,
        "Routing settings",
        "routing",
        view=view,
        strategies=STRATEGY_LABELS,
        weight_labels=WEIGHT_LABELS,
        weights=values,
        plan_points=plan_points,
        teams=list(db.scalars(select(Team).order_by(Team.name))),
        errors=errors or {},
        form=form or {},
    )
    return render(request, "admin/routing.html", context, status_code=status_code)


@router.get("/routing", response_class=HTMLResponse)
def routing_page(
    request: Request, caller: PageUser, db: DbSession, settings: AppSettings
) -> Response:
    if admin_of(db, caller) is None:
        return _forbidden(request, caller)
    return _routing_page(request, db, caller, settings)


@router.post("/routing/global")
def routing_global_submit(
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> Response:
    admin = admin_of(db, caller)
    if admin is None:
        return _forbidden(request, caller)
    errors: dict[str, str] = {}
    weights: dict[str, Any] = {}
    for name in WEIGHT_LABELS:
        value = _optional_number(form, f"w_{name}", errors)
        if value is not None:
            weights[name] = value
    plan_points = {}
    for plan in Plan:
        value = _optional_number(form, f"plan_{plan.value}", errors)
        if value is not None:
            plan_points[plan.value] = value
    if plan_points:
        weights["plan_points"] = plan_points
    tier2 = _optional_int(form, "tier2_team_id", errors)
    values: dict[str, Any] = {
        "weights": weights,
        "email_weight": _optional_number(form, "email_weight", errors),
        "sticky_wait_seconds": _optional_number(form, "sticky_wait_seconds", errors),
        "answer_timeout_seconds": _optional_number(form, "answer_timeout_seconds", errors),
        "tier2_team_id": tier2 if tier2 else None,
    }
    if attempt(
        lambda: routing.do_update_global_settings(
            db, admin, now=now, ip=client_ip(request), settings=settings, **values
        ),
        errors,
    ):
        return done(request, settings, "/admin/routing", "Routing settings saved.")
    db.rollback()
    return _routing_page(
        request, db, caller, settings, errors=errors, form=dict(form), status_code=422
    )


@router.post("/routing/{scope}/{scope_id}")
def routing_scope_submit(
    scope: str,
    scope_id: int,
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> Response:
    admin = admin_of(db, caller)
    if admin is None:
        return _forbidden(request, caller)
    if scope not in ("inboxes", "teams") or not valid_id(scope_id):
        return _routing_page(request, db, caller, settings, status_code=404)
    errors: dict[str, str] = {}
    prefix = f"{scope}_{scope_id}_"
    strategy = _choice(form, prefix + "strategy", Strategy, errors)
    sticky = _optional_number(form, prefix + "sticky_wait_seconds", errors)
    timeout = _optional_number(form, prefix + "answer_timeout_seconds", errors)

    def save() -> object:
        return routing.do_update_scope_settings(
            db,
            admin,
            inbox_id=scope_id if scope == "inboxes" else None,
            team_id=scope_id if scope == "teams" else None,
            strategy=strategy,
            sticky_wait_seconds=sticky,
            answer_timeout_seconds=timeout,
            now=now,
            ip=client_ip(request),
            settings=settings,
        )

    scoped: dict[str, str] = {}
    if attempt(save, scoped):
        return done(request, settings, "/admin/routing", "Routing settings saved.")
    db.rollback()
    errors.update({prefix + key: text for key, text in scoped.items()})
    return _routing_page(
        request, db, caller, settings, errors=errors, form=dict(form), status_code=422
    )


# ---------------------------------------------------------------- business calendars


def _hours_text(data: Mapping[str, Any]) -> dict[str, str]:
    hours = data.get("weekly_hours") or {}
    return {
        day: ", ".join(f"{start}-{end}" for start, end in hours.get(day, [])) for day in WEEKDAYS
    }


def _calendar_form(form: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The calendar's stored form from the page's fields: one text field per weekday
    ("09:00-12:00, 13:00-17:00"), holidays one per line."""
    weekly: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        raw = form_text(form, f"hours_{day}")
        if not raw:
            continue
        intervals = []
        for part in raw.split(","):
            start, dash, end = part.strip().partition("-")
            if not dash or not start.strip() or not end.strip():
                errors[f"hours_{day}"] = "Write hours as 09:00-17:00, several separated by commas."
                break
            intervals.append([start.strip(), end.strip()])
        weekly[day] = intervals
    holidays = [line.strip() for line in form_text(form, "holidays").splitlines() if line.strip()]
    return {
        "time_zone": form_text(form, "time_zone") or "UTC",
        "weekly_hours": weekly,
        "holidays": holidays,
    }


def _calendars_page(
    request: Request,
    db: Session,
    caller: PageCaller,
    *,
    editing: Any = None,
    errors: dict[str, str] | None = None,
    form: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if form is None and editing is not None:
        form = {
            "name": editing.name,
            "time_zone": editing.data.get("time_zone", "UTC"),
            "holidays": "\n".join(editing.data.get("holidays", [])),
            **{f"hours_{day}": text for day, text in _hours_text(editing.data).items()},
        }
    context = admin_context(
        caller,
        "Business hours",
        "calendars",
        calendars=sla.list_calendars(db),
        hours_text=_hours_text,
        weekdays=WEEKDAYS,
        editing=editing,
        errors=errors or {},
        form=form or {"time_zone": "UTC"},
    )
    return render(request, "admin/calendars.html", context, status_code=status_code)


add_list_pages(
    router,
    "/calendars",
    _calendars_page,
    lambda db, caller, i: sla.access_calendar(db, i),
    _forbidden,
)


@router.post("/calendars")
@router.post("/calendars/{calendar_id}")
def calendar_submit(
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    calendar_id: int | None = None,
) -> Response:
    admin = admin_of(db, caller)
    if admin is None:
        return _forbidden(request, caller)
    errors: dict[str, str] = {}
    data = _calendar_form(form, errors)
    name = form_text(form, "name")
    if not name:
        errors["name"] = "Give the calendar a name."
    editing = None
    if calendar_id is not None:
        editing = find(lambda i: sla.access_calendar(db, i), calendar_id)
        if editing is None:
            return _calendars_page(request, db, caller, status_code=404)

    def save() -> object:
        if calendar_id is None:
            return sla.do_create_calendar(
                db, admin, name=name, data=data, now=now, ip=client_ip(request)
            )
        return sla.do_update_calendar(
            db, admin, calendar_id, name=name, data=data, now=now, ip=client_ip(request)
        )

    if attempt(save, errors):
        return done(request, settings, "/admin/calendars", f"Calendar “{name}” saved.")
    db.rollback()
    if "calendar" in errors:
        errors["weekly_hours"] = errors.pop("calendar")
    return _calendars_page(
        request, db, caller, editing=editing, errors=errors, form=dict(form), status_code=422
    )


add_delete_action(
    router,
    "/calendars",
    sla.do_delete_calendar,
    _calendars_page,
    _forbidden,
    message="Calendar deleted.",
    refused_status=409,
)


# ---------------------------------------------------------------- SLA policies


def _policy_form_values(policy: Any) -> dict[str, Any]:
    return {
        "name": policy.name,
        "position": str(policy.position),
        "match_priority": policy.match_priority or "",
        "match_category": policy.match_category or "",
        "match_plan": policy.match_plan or "",
        "match_channel": policy.match_channel or "",
        "first_response_minutes": str(policy.first_response_minutes or ""),
        "next_response_minutes": str(policy.next_response_minutes or ""),
        "resolution_minutes": str(policy.resolution_minutes or ""),
        "calendar_id": str(policy.calendar_id or ""),
        "active": "on" if policy.active else "",
    }


def _policies_page(
    request: Request,
    db: Session,
    caller: PageCaller,
    *,
    editing: Any = None,
    errors: dict[str, str] | None = None,
    form: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if form is None:
        form = _policy_form_values(editing) if editing is not None else {"active": "on"}
    context = admin_context(
        caller,
        "SLA policies",
        "sla",
        policies=sla.list_policies(db),
        calendars=sla.list_calendars(db),
        priorities=[p.value for p in Priority],
        plans=[p.value for p in Plan],
        channels=[c.value for c in Channel],
        editing=editing,
        errors=errors or {},
        form=form,
    )
    return render(request, "admin/sla.html", context, status_code=status_code)


add_list_pages(
    router, "/sla", _policies_page, lambda db, caller, i: sla.access_policy(db, i), _forbidden
)


@router.post("/sla")
@router.post("/sla/{policy_id}")
def policy_submit(
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    policy_id: int | None = None,
) -> Response:
    admin = admin_of(db, caller)
    if admin is None:
        return _forbidden(request, caller)
    editing = None
    if policy_id is not None:
        editing = find(lambda i: sla.access_policy(db, i), policy_id)
        if editing is None:
            return _policies_page(request, db, caller, status_code=404)
    errors: dict[str, str] = {}
    minutes: dict[str, Any] = {
        name: _optional_int(form, name, errors)
        for name in ("first_response_minutes", "next_response_minutes", "resolution_minutes")
    }
    calendar_id = _optional_int(form, "calendar_id", errors)
    values = sla.PolicyInput(
        name=form_text(form, "name"),
        position=_optional_int(form, "position", errors) or 0,
        match_priority=_choice(form, "match_priority", Priority, errors),
        match_category=form_text(form, "match_category") or None,
        match_plan=_choice(form, "match_plan", Plan, errors),
        match_channel=_choice(form, "match_channel", Channel, errors),
        calendar_id=calendar_id or None,
        active=form_text(form, "active") == "on",
        **minutes,
    )
    if attempt(
        lambda: sla.do_save_policy(
            db, admin, values, policy_id=policy_id, now=now, ip=client_ip(request)
        ),
        errors,
    ):
        return done(request, settings, "/admin/sla", f"SLA policy “{values.name}” saved.")
    db.rollback()
    return _policies_page(
        request, db, caller, editing=editing, errors=errors, form=dict(form), status_code=422
    )


add_delete_action(
    router,
    "/sla",
    sla.do_delete_policy,
    _policies_page,
    _forbidden,
    message="SLA policy deleted.",
)


# ---------------------------------------------------------------- escalation rules


def _rule_form_values(rule: Any) -> dict[str, Any]:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "trigger": rule.trigger,
        "position": str(rule.position),
        "conditions": json.dumps(rule.conditions, indent=2),
        "actions": json.dumps(rule.actions, indent=2),
        "active": "on" if rule.active else "",
    }


def _rules_page(
    request: Request,
    db: Session,
    caller: PageCaller,
    *,
    editing: Any = None,
    errors: dict[str, str] | None = None,
    form: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if form is None:
        form = (
            _rule_form_values(editing)
            if editing is not None
            else {
                "kind": "escalation",
                "trigger": "conversation_updated",
                "conditions": '[{"field": "category", "op": "is", "value": "billing"}]',
                "actions": '[{"action": "notify_supervisor"}]',
                "active": "on",
            }
        )
    context = admin_context(
        caller,
        "Escalation rules",
        "rules",
        rules=escalation.list_rules(db),
        triggers=TRIGGER_LABELS,
        kinds=escalation.RULE_KINDS,
        teams=list(db.scalars(select(Team).order_by(Team.name))),
        editing=editing,
        errors=errors or {},
        form=form,
        dumps=json.dumps,
    )
    return render(request, "admin/rules.html", context, status_code=status_code)


add_list_pages(
    router, "/rules", _rules_page, lambda db, caller, i: escalation.access_rule(db, i), _forbidden
)


def _json_field(form: Mapping[str, Any], name: str, errors: dict[str, str]) -> Any:
    raw = form_text(form, name)
    if len(raw) > escalation.MAX_RULE_BYTES:
        errors[name] = "This is too long."
        return []
    try:
        value = json.loads(raw) if raw else []
    except json.JSONDecodeError as exc:
        errors[name] = f"Not valid JSON: {exc.msg} (line {exc.lineno})."
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        errors[name] = "Write a list: [ ... ]."
        return []
    return value


@router.post("/rules/builtin")
def rules_builtin_submit(
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> Response:
    admin = admin_of(db, caller)
    if admin is None:
        return _forbidden(request, caller)
    errors: dict[str, str] = {}
    tier2 = _optional_int(form, "tier2_team_id", errors)
    security = _optional_int(form, "security_team_id", errors)
    minutes = _optional_number(form, "tier1_minutes", errors) or 30.0
    if attempt(
        lambda: escalation.do_install_builtin_rules(
            db,
            admin,
            tier2_team_id=tier2 or None,
            security_team_id=security or None,
            tier1_minutes=minutes,
            now=now,
            ip=client_ip(request),
        ),
        errors,
    ):
        return done(request, settings, "/admin/rules", "Built-in rules installed.")
    db.rollback()
    return _rules_page(request, db, caller, errors=errors, status_code=422)


@router.post("/rules")
@router.post("/rules/{rule_id}")
def rule_submit(
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    rule_id: int | None = None,
) -> Response:
    admin = admin_of(db, caller)
    if admin is None:
        return _forbidden(request, caller)
    editing = None
    if rule_id is not None:
        editing = find(lambda i: escalation.access_rule(db, i), rule_id)
        if editing is None:
            return _rules_page(request, db, caller, status_code=404)
    errors: dict[str, str] = {}
    values = escalation.RuleInput(
        name=form_text(form, "name"),
        kind=form_text(form, "kind") or "escalation",
        trigger=form_text(form, "trigger") or "conversation_updated",
        conditions=_json_field(form, "conditions", errors),
        actions=_json_field(form, "actions", errors),
        position=_optional_int(form, "position", errors) or 0,
        active=form_text(form, "active") == "on",
    )
    if attempt(
        lambda: escalation.do_save_rule(
            db, admin, values, rule_id=rule_id, now=now, ip=client_ip(request)
        ),
        errors,
    ):
        return done(request, settings, "/admin/rules", f"Rule “{values.name}” saved.")
    db.rollback()
    return _rules_page(
        request, db, caller, editing=editing, errors=errors, form=dict(form), status_code=422
    )


add_delete_action(
    router,
    "/rules",
    escalation.do_delete_rule,
    _rules_page,
    _forbidden,
    message="Rule deleted.",
)
