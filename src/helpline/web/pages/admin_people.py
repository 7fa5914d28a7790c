"""Admin pages for people and channels: agents (role, skills, languages, tier,
chat cap, refund limit, teams, inboxes, active), teams (categories, members) and
inboxes with their chat-widget settings and embed snippet.

Same pattern as the routing pages (`admin_routing.py`): server-rendered forms with
the session's CSRF token, checked by the services the admin API uses; success
redirects with a message, a refusal shows the form again with the error next to
the field and what was typed kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from helpline.adapters.db.models import Inbox, Team, User
from helpline.domain.enums import Channel, Role
from helpline.domain.routing import Strategy
from helpline.services import inboxes, teams, users
from helpline.services.conversations import check_category
from helpline.services.errors import ValidationFailed
from helpline.services.users import UserFilters
from helpline.web.deps import AppSettings, DbSession, Now, client_ip, get_settings_dep
from helpline.web.pages.admin_forms import (
    add_list_pages,
    admin_context,
    admin_of,
    attempt,
    done,
    find,
    form_text,
)
from helpline.web.pages.rendering import Form, forbidden_page, render
from helpline.web.pages.security import PageCaller, PageFormUser

router = APIRouter(prefix="/admin", include_in_schema=False)

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
DOMAIN = re.compile(
    r"^(\*\.)?[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*(:\d{1,5})?$"
)
WIDGET_TEXTS = {
    "greeting": "Greeting",
    "offline_message": "Offline message",
    "expected_reply": "Expected reply time",
}
STRATEGY_LABELS = {
    Strategy.PRIORITY: "Priority",
    Strategy.FIFO: "First come, first served",
    Strategy.ROUND_ROBIN: "Round robin",
    Strategy.LEAST_LOADED: "Least loaded agent",
    Strategy.EASIEST_FIRST: "Easiest first",
    Strategy.PULL: "Pull (agents take chats)",
}


# ---------------------------------------------------------------- form helpers


def _ids(form: FormData, name: str) -> list[int]:
    return sorted(
        {int(v) for v in form.getlist(name) if isinstance(v, str) and v.isdigit() and len(v) < 11}
    )


def _int_in(
    form: Mapping[str, Any], name: str, low: int, high: int, errors: dict[str, str]
) -> int | None:
    raw = form_text(form, name)
    if not raw.isdigit() or len(raw) > 9 or not low <= int(raw) <= high:
        errors[name] = f"Enter a whole number from {low} to {high}."
        return None
    return int(raw)


def _money_cents(form: Mapping[str, Any], name: str, errors: dict[str, str]) -> int | None:
    raw = form_text(form, name).replace(",", ".") or "0"
    if not re.fullmatch(r"\d{1,7}(\.\d{1,2})?", raw):
        errors[name] = "Enter an amount such as 50 or 49.90."
        return None
    whole, _, cents = raw.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def _words(raw: str) -> list[str]:
    return [part.strip().lower() for part in re.split(r"[,\s]+", raw) if part.strip()]


def _languages(form: Mapping[str, Any], errors: dict[str, str]) -> list[str]:
    values = list(dict.fromkeys(_words(form_text(form, "languages"))))
    if not values:
        errors["languages"] = "Give at least one language code, such as en."
    elif len(values) > 20 or not all(LANGUAGE.match(value) for value in values):
        errors["languages"] = "Use language codes such as en, pl or pt-br, separated by commas."
    return values


def _categories(form: Mapping[str, Any], name: str, errors: dict[str, str]) -> list[str]:
    values = list(dict.fromkeys(_words(form_text(form, name))))
    try:
        return [check_category(value) for value in values]
    except ValidationFailed:
        errors[name] = "Categories are lower-case words such as billing or returns."
        return values


def _forbidden(request: Request, caller: PageCaller) -> HTMLResponse:
    return forbidden_page(
        request, caller, "Admins only", "Agents, teams and inboxes are managed by admins."
    )


def _all_teams(db: Session) -> list[Team]:
    return list(db.scalars(select(Team).order_by(Team.name)))


def _all_inboxes(db: Session) -> list[Inbox]:
    return list(db.scalars(select(Inbox).order_by(Inbox.name)))


def _staff(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.is_active.desc(), User.name, User.id)))


# ---------------------------------------------------------------- agents


def _agent_form_values(row: users.UserRow) -> dict[str, Any]:
    user = row.user
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "tier": str(user.tier),
        "max_concurrent_chats": str(user.max_concurrent_chats),
        "refund_limit": f"{user.refund_limit_cents / 100:.2f}",
        "skills": ", ".join(user.skills),
        "languages": ", ".join(user.languages),
        "team_ids": row.team_ids,
        "inbox_ids": row.inbox_ids,
        "is_active": user.is_active,
    }


def _agents_page(
    request: Request,
    db: Session,
    caller: PageCaller,
    *,
    editing: users.UserRow | None = None,
    errors: dict[str, str] | None = None,
    form: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = users.list_users(db, caller.viewer, UserFilters(include_inactive=True))
    all_teams = _all_teams(db)
    all_inboxes = _all_inboxes(db)
    if form is None:
        form = (
            _agent_form_values(editing)
            if editing
            else {"role": "agent", "tier": "1", "max_concurrent_chats": "3", "languages": "en"}
        )
        form = {**form, "is_active": form.get("is_active", True)}
    context = admin_context(
        caller,
        "Agents",
        "agents",
        rows=rows,
        editing=editing,
        team_names={team.id: team.name for team in all_teams},
        inbox_names={inbox.id: inbox.name for inbox in all_inboxes},
        all_teams=all_teams,
        all_inboxes=all_inboxes,
        errors=errors or {},
        form=form,
    )
    return render(request, "admin/agents.html", context, status_code=status_code)


def _submitted_agent(form: FormData) -> dict[str, Any]:
    """What was typed, to show again next to the errors."""
    return {
        **{key: form_text(form, key) for key in form if key not in ("team_ids", "inbox_ids")},
        "team_ids": _ids(form, "team_ids"),
        "inbox_ids": _ids(form, "inbox_ids"),
        "is_active": form.get("is_active") == "on",
        "password": "",
    }


add_list_pages(
    router,
    "/agents",
    _agents_page,
    lambda db, caller, i: users.access_user(db, caller.viewer, i),
    _forbidden,
)


@router.post("/agents")
@router.post("/agents/{user_id}")
def agent_submit(
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    user_id: int | None = None,
) -> Response:
    admin = admin_of(db, caller)
    if admin is None:
        return _forbidden(request, caller)
    editing = None
    if user_id is not None:
        editing = find(lambda i: users.access_user(db, caller.viewer, i), user_id)
        if editing is None:
            return _agents_page(request, db, caller, status_code=404)
    errors: dict[str, str] = {}
    name = form_text(form, "name")
    if not name:
        errors["name"] = "Give the agent's name."
    elif len(name) > 200:
        errors["name"] = "Names are at most 200 characters."
    email = form_text(form, "email")
    if not email:
        errors["email"] = "Give the agent's email address."
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    if editing is None and not password:
        errors["password"] = "Choose a first password (at least 10 characters)."  # noqa: S105
    role = form_text(form, "role")
    if role not in Role._value2member_map_:
        errors["role"] = "Choose a role."
    tier = _int_in(form, "tier", 1, 2, errors)
    cap = _int_in(form, "max_concurrent_chats", 1, 10, errors)
    refund = _money_cents(form, "refund_limit", errors)
    languages = _languages(form, errors)
    skills = _categories(form, "skills", errors)
    values: dict[str, Any] = {
        "name": name,
        "email": email,
        "role": role,
        "tier": tier,
        "max_concurrent_chats": cap,
        "refund_limit_cents": refund,
        "skills": skills,
        "languages": languages,
        "team_ids": _ids(form, "team_ids"),
        "inbox_ids": _ids(form, "inbox_ids"),
    }

    def save() -> object:
        if editing is None:
            return users.do_create_user(
                db,
                admin,
                password=password,
                ip=client_ip(request),
                now=now,
                **{**values, "role": Role(role)},
            )
        changes = {**values, "is_active": form.get("is_active") == "on"}
        if password:
            changes["password"] = password
        return users.do_update_user(
            db, admin, editing.user.id, changes, ip=client_ip(request), now=now
        )

    if attempt(save, errors):
        text = f"Agent {name} saved." if editing else f"Agent {name} created."
        return done(request, settings, "/admin/agents", text)
    db.rollback()
    return _agents_page(
        request,
        db,
        caller,
        editing=editing,
        errors=errors,
        form=_submitted_agent(form),
        status_code=422,
    )


# ---------------------------------------------------------------- teams


def _teams_page(
    request: Request,
    db: Session,
    caller: PageCaller,
    *,
    editing: teams.TeamRow | None = None,
    errors: dict[str, str] | None = None,
    form: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if form is None:
        form = (
            {
                "name": editing.team.name,
                "description": editing.team.description,
                "tier": str(editing.team.tier),
                "categories": ", ".join(editing.team.categories),
                "member_ids": editing.member_ids,
            }
            if editing
            else {"tier": "1", "member_ids": []}
        )
    staff = _staff(db)
    context = admin_context(
        caller,
        "Teams",
        "teams",
        rows=teams.list_teams(db),
        editing=editing,
        staff=staff,
        user_names={user.id: user.name for user in staff},
        errors=errors or {},
        form=form,
    )
    return render(request, "admin/teams.html", context, status_code=status_code)


add_list_pages(
    router, "/teams", _teams_page, lambda db, caller, i: teams.access_team(db, i), _forbidden
)


@router.post("/teams")
@router.post("/teams/{team_id}")
def team_submit(
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    team_id: int | None = None,
) -> Response:
    admin = admin_of(db, caller)
    if admin is None:
        return _forbidden(request, caller)
    editing = None
    if team_id is not None:
        editing = find(lambda i: teams.access_team(db, i), team_id)
        if editing is None:
            return _teams_page(request, db, caller, status_code=404)
    errors: dict[str, str] = {}
    name = form_text(form, "name")
    if not name:
        errors["name"] = "Give the team a name."
    elif len(name) > 100:
        errors["name"] = "Team names are at most 100 characters."
    description = form_text(form, "description")
    if len(description) > 2000:
        errors["description"] = "Descriptions are at most 2,000 characters."
    tier = _int_in(form, "tier", 1, 2, errors)
    categories = _categories(form, "categories", errors)
    members = _ids(form, "member_ids")

    def save() -> object:
        ip = client_ip(request)
        if editing is None:
            row = teams.do_create_team(
                db,
                admin,
                name=name,
                description=description,
                tier=tier or 1,
                categories=categories,
                ip=ip,
                now=now,
            )
            target = row.team.id
        else:
            target = editing.team.id
            teams.do_update_team(
                db,
                admin,
                target,
                {"name": name, "description": description, "tier": tier, "categories": categories},
                ip=ip,
                now=now,
            )
        return teams.do_set_team_members(db, admin, target, members, ip=ip, now=now)

    if attempt(save, errors):
        return done(request, settings, "/admin/teams", f"Team {name} saved.")
    db.rollback()
    submitted = {**{key: form_text(form, key) for key in form}, "member_ids": members}
    return _teams_page(
        request, db, caller, editing=editing, errors=errors, form=submitted, status_code=422
    )


# ---------------------------------------------------------------- inboxes and widget


def _english(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("en"), str):
        return str(value["en"])
    return ""


def _topics_text(topics: object) -> str:
    lines = []
    for topic in topics if isinstance(topics, list) else []:
        if isinstance(topic, Mapping) and isinstance(topic.get("category"), str):
            lines.append(
                f"{_english(topic.get('label')) or topic['category']} | {topic['category']}"
            )
    return "\n".join(lines)


def _inbox_form_values(row: inboxes.InboxRow) -> dict[str, Any]:
    inbox = row.inbox
    stored = inbox.settings
    domains = stored.get("allowed_domains")
    return {
        "name": inbox.name,
        "channel": inbox.channel,
        "email_address": inbox.email_address or "",
        "default_team_id": str(inbox.default_team_id or ""),
        "routing_strategy": inbox.routing_strategy,
        "is_active": inbox.is_active,
        "member_ids": row.member_ids,
        "allowed_domains": "\n".join(domains) if isinstance(domains, list) else "",
        "require_name": stored.get("require_name", True) is not False,
        "require_email": stored.get("require_email", False) is True,
        "ask_nps": stored.get("ask_nps", False) is True,
        "faq_bot": stored.get("faq_bot", False) is True,
        "topics": _topics_text(stored.get("topics")),
        "identity_verification": "enforce"
        if stored.get("identity_verification") == "enforce"
        else "optional",
        **{key: _english(stored.get(key)) for key in WIDGET_TEXTS},
    }


def _widget_settings(
    form: FormData, stored: Mapping[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """The inbox settings with the widget's fields from the form; other keys (and
    the other languages of each text) are kept as they were."""
    result = dict(stored)
    domains = [line.strip().lower() for line in form_text(form, "allowed_domains").splitlines()]
    domains = [domain for domain in domains if domain]
    bad = [domain for domain in domains if not DOMAIN.match(domain)]
    if bad:
        errors["allowed_domains"] = (
            f"Not a domain: {bad[0]}. Write one per line, like shop.example or *.shop.example."
        )
    result["allowed_domains"] = domains
    result["require_name"] = form.get("require_name") == "on"
    result["require_email"] = form.get("require_email") == "on"
    result["ask_nps"] = form.get("ask_nps") == "on"
    result["faq_bot"] = form.get("faq_bot") == "on"
    mode = form_text(form, "identity_verification") or "optional"
    if mode not in ("optional", "enforce"):
        errors["identity_verification"] = "Choose optional or enforce."
    result["identity_verification"] = mode
    topics = []
    for number, line in enumerate(form_text(form, "topics").splitlines(), start=1):
        if not line.strip():
            continue
        label, bar, category = line.partition("|")
        category = category.strip().lower() if bar else label.strip().lower()
        try:
            category = check_category(category)
        except ValidationFailed:
            errors["topics"] = (
                f"Line {number}: write “Label | category”, the category in lower-case letters."
            )
            continue
        topics.append({"label": {"en": label.strip() or category}, "category": category})
    result["topics"] = topics
    for key in WIDGET_TEXTS:
        text = form_text(form, key)
        if len(text) > 500:
            errors[key] = "At most 500 characters."
        current = stored.get(key)
        if isinstance(current, Mapping):
            result[key] = (
                {**current, "en": text} if text else {k: v for k, v in current.items() if k != "en"}
            )
        elif text:
            result[key] = {"en": text}
        else:
            result.pop(key, None)
    return result


def _inboxes_page(
    request: Request,
    db: Session,
    caller: PageCaller,
    *,
    editing: inboxes.InboxRow | None = None,
    errors: dict[str, str] | None = None,
    form: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if form is None:
        form = (
            _inbox_form_values(editing)
            if editing
            else {
                "channel": "chat",
                "routing_strategy": "priority",
                "require_name": True,
                "is_active": True,
                "identity_verification": "optional",
                "member_ids": [],
            }
        )
    staff = _staff(db)
    all_teams = _all_teams(db)
    settings = get_settings_dep(request)
    base_url = str(settings.base_url or request.base_url).rstrip("/")
    context = admin_context(
        caller,
        "Inboxes and widget",
        "inboxes",
        rows=inboxes.list_inboxes(db, caller.viewer),
        editing=editing,
        staff=staff,
        all_teams=all_teams,
        team_names={team.id: team.name for team in all_teams},
        team_choices=[(str(team.id), team.name) for team in all_teams],
        strategies=STRATEGY_LABELS,
        widget_texts=WIDGET_TEXTS,
        base_url=base_url,
        errors=errors or {},
        form=form,
    )
    return render(request, "admin/inboxes.html", context, status_code=status_code)


def _find_inbox(db: Session, caller: PageCaller, inbox_id: int) -> inboxes.InboxRow | None:
    return find(lambda i: inboxes.access_inbox(db, caller.viewer, i), inbox_id)


add_list_pages(
    router,
    "/inboxes",
    _inboxes_page,
    lambda db, caller, i: inboxes.access_inbox(db, caller.viewer, i),
    _forbidden,
)


@router.post("/inboxes")
@router.post("/inboxes/{inbox_id}")
def inbox_submit(
    request: Request,
    caller: PageFormUser,
    form: Form,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    inbox_id: int | None = None,
) -> Response:
    admin = admin_of(db, caller)
    if admin is None:
        return _forbidden(request, caller)
    editing = None
    if inbox_id is not None:
        editing = _find_inbox(db, caller, inbox_id)
        if editing is None:
            return _inboxes_page(request, db, caller, status_code=404)
    errors: dict[str, str] = {}
    name = form_text(form, "name")
    if not name:
        errors["name"] = "Give the inbox a name."
    elif len(name) > 100:
        errors["name"] = "Inbox names are at most 100 characters."
    channel = editing.inbox.channel if editing else form_text(form, "channel")
    if channel not in Channel._value2member_map_:
        errors["channel"] = "Choose a channel."
    strategy = form_text(form, "routing_strategy") or Strategy.PRIORITY.value
    if strategy not in Strategy._value2member_map_:
        errors["routing_strategy"] = "Choose a routing strategy."
    team_raw = form_text(form, "default_team_id")
    default_team_id = int(team_raw) if team_raw.isdigit() and len(team_raw) < 11 else None
    email_address = form_text(form, "email_address") or None
    widget = _widget_settings(form, editing.inbox.settings if editing else {}, errors)
    members = _ids(form, "member_ids")

    def save() -> object:
        ip = client_ip(request)
        if editing is None:
            row = inboxes.do_create_inbox(
                db,
                admin,
                name=name,
                channel=Channel(channel),
                email_address=email_address,
                default_team_id=default_team_id,
                routing_strategy=Strategy(strategy),
                settings=widget,
                ip=ip,
                now=now,
            )
            target = row.inbox.id
        else:
            target = editing.inbox.id
            inboxes.do_update_inbox(
                db,
                admin,
                target,
                {
                    "name": name,
                    "email_address": email_address,
                    "default_team_id": default_team_id,
                    "routing_strategy": strategy,
                    "settings": widget,
                    "is_active": form.get("is_active") == "on",
                },
                ip=ip,
                now=now,
            )
        return inboxes.do_set_inbox_members(db, admin, target, members, ip=ip, now=now)

    if attempt(save, errors):
        return done(request, settings, "/admin/inboxes", f"Inbox {name} saved.")
    db.rollback()
    submitted = {
        **{key: form_text(form, key) for key in form if key != "member_ids"},
        "channel": channel,
        "member_ids": members,
        "require_name": form.get("require_name") == "on",
        "require_email": form.get("require_email") == "on",
        "ask_nps": form.get("ask_nps") == "on",
        "faq_bot": form.get("faq_bot") == "on",
        "is_active": form.get("is_active") == "on",
    }
    return _inboxes_page(
        request,
        db,
        caller,
        editing=editing,
        errors=errors,
        form=submitted,
        status_code=422,
    )


@router.post("/inboxes/{inbox_id}/rotate-secret")
def rotate_secret(
    inbox_id: int,
    request: Request,
    caller: PageFormUser,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> Response:
    """New identity-verification secret: hashes made with the old one stop working."""
    admin = admin_of(db, caller)
    if admin is None:
        return _forbidden(request, caller)
    row = _find_inbox(db, caller, inbox_id)
    if row is None:
        return _inboxes_page(request, db, caller, status_code=404)
    inboxes.do_rotate_secret(db, admin, row.inbox.id, ip=client_ip(request), now=now)
    return done(request, settings, f"/admin/inboxes/{row.inbox.id}", "New identity secret created.")
