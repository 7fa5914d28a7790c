"""Every REST router under /api/v1, in one list."""

from __future__ import annotations

from fastapi import APIRouter

from helpline.web.api import (
    admin,
    ai,
    articles,
    auth,
    canned,
    collaboration,
    contacts,
    conversations,
    health,
    lookups,
    reports,
    supervision,
    widget,
    workspace,
)
from helpline.web.api import routing as routing_api
from helpline.web.realtime import routes as realtime_routes

api_router = APIRouter(prefix="/api/v1")
for module in (health, auth, admin, contacts, conversations, canned, articles):
    api_router.include_router(module.router)
api_router.include_router(widget.router)
api_router.include_router(widget.staff_router)
api_router.include_router(lookups.router)
api_router.include_router(realtime_routes.router)
api_router.include_router(routing_api.router)
api_router.include_router(collaboration.router)
api_router.include_router(supervision.router)
api_router.include_router(reports.router)
api_router.include_router(workspace.router)
api_router.include_router(ai.router)
