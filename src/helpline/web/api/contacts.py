"""(being written) REST routes for contacts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["contacts"])
