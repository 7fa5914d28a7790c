"""Every REST router under /api/v1, in one list."""

from __future__ import annotations

from fastapi import APIRouter

from helpline.web.api import admin, auth, contacts, conversations, health

api_router = APIRouter(prefix="/api/v1")
for module in (health, auth, admin, contacts, conversations):
    api_router.include_router(module.router)
