"""Every REST router under /api/v1, in one list."""

from __future__ import annotations

from fastapi import APIRouter

from helpline.web.api import (
    admin,
    articles,
    auth,
    canned,
    contacts,
    conversations,
    health,
    widget,
)
from helpline.web.api import routing as routing_api
from helpline.web.realtime import routes as realtime_routes

api_router = APIRouter(prefix="/api/v1")
for module in (health, auth, admin, contacts, conversations, canned, articles):
    api_router.include_router(module.router)
api_router.include_router(widget.router)
api_router.include_router(widget.staff_router)
api_router.include_router(realtime_routes.router)
api_router.include_router(routing_api.router)
