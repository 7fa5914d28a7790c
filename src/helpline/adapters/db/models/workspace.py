"""The agent workspace's per-agent settings: remapped shortcuts, saved inbox filters
and notification choices (issue 8). One row per agent, created on first change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from helpline.adapters.db.base import Base, JSONType, utcnow


class UserPreferences(Base):
    """What an agent changed from the workspace's defaults; absent keys mean default."""

    __tablename__ = "user_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    keymap: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    """Action name -> list of key chords ("Ctrl+Alt+S"); only remapped actions."""
    saved_views: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    """Named inbox filters: {"id", "name", "filters": {...}}."""
    notifications: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    """{"sound": bool, "desktop": bool}."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
