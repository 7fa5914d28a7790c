"""The agent workspace page: a Jinja2 shell that hands the browser what it needs to
start (the agent, CSRF token, shortcut catalogue and preferences, teams and
colleagues) as JSON; the ES modules under /static/workspace/ do the rest over the
REST API and the agent WebSocket. No inline script: the JSON sits in a
`type="application/json"` element, which the CSP allows because it never runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from helpline.domain.shortcuts import ACTIONS, ALTGR_CHORDS_NOTE, TAKEN_BY_BROWSER
from helpline.services.inboxes import list_inboxes
from helpline.services.preferences import get_preferences
from helpline.services.teams import list_teams
from helpline.services.users import UserFilters, list_users
from helpline.services.workspace import views_for
from helpline.web.deps import DbSession
from helpline.web.pages.rendering import render
from helpline.web.pages.security import PageUser

router = APIRouter(include_in_schema=False)

VIEW_LABELS = {"mine": "Mine", "unassigned": "Unassigned", "teams": "My teams", "all": "All"}


def workspace_boot(db: DbSession, caller: PageUser) -> dict[str, Any]:
    """Everything the workspace script needs before its first API call."""
    user = caller.auth.user
    viewer = caller.viewer
    preferences = get_preferences(db, user.id)
    return {
        "user": {"id": user.id, "name": user.name, "role": user.role},
        "csrf": caller.csrf_token,
        "views": [{"key": key, "label": VIEW_LABELS[key]} for key in views_for(viewer)],
        "actions": [
            {"name": a.name, "label": a.label, "group": a.group, "defaults": list(a.defaults)}
            for a in ACTIONS
        ],
        "taken_by_browser": TAKEN_BY_BROWSER,
        "altgr_note": ALTGR_CHORDS_NOTE,
        "keymap": preferences.keymap,
        "remapped": sorted(preferences.remapped),
        "saved_views": preferences.saved_views,
        "notifications": preferences.notifications,
        "teams": [
            {"id": row.team.id, "name": row.team.name, "tier": row.team.tier}
            for row in list_teams(db)
        ],
        "my_team_ids": sorted(viewer.team_ids),
        "inboxes": [
            {"id": row.inbox.id, "name": row.inbox.name, "channel": row.inbox.channel}
            for row in list_inboxes(db, viewer)
        ],
        "agents": [
            {"id": row.user.id, "name": row.user.name, "role": row.user.role}
            for row in list_users(db, viewer, UserFilters())
        ],
    }


@router.get("/workspace", response_class=HTMLResponse)
def workspace_page(request: Request, caller: PageUser, db: DbSession) -> HTMLResponse:
    return render(
        request,
        "workspace/workspace.html",
        {
            "title": "Workspace",
            "nav": "workspace",
            "caller": caller,
            "csrf_token": caller.csrf_token,
            "boot": workspace_boot(db, caller),
            # The status control in the top bar hears the workspace's socket
            # (app.js passes its frames on) instead of opening a second one.
            "agent_status_connect": False,
        },
    )
