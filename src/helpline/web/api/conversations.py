"""(being written) REST routes for conversations."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["conversations"])
