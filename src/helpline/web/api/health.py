"""Liveness and readiness for load balancers and the demo smoke test."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from helpline import __version__
from helpline.web.deps import DbSession

router = APIRouter(tags=["health"])


@router.get("/health")
def health(db: DbSession) -> dict[str, str]:
    db.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}
