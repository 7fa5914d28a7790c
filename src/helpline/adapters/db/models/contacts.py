"""Customers: who they are and what they are worth to the business."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpline.adapters.db.base import Base, JSONType, utcnow


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint(
            "plan IS NULL OR plan IN ('free', 'trial', 'paid', 'enterprise')", name="plan"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    """Stored lower-case so lookups are merge-safe."""
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    """The customer's id in the shop or CRM."""
    verified: Mapped[bool] = mapped_column(default=False)
    """True when the identity was proven (signed widget id, authenticated API)."""
    plan: Mapped[str | None] = mapped_column(String(16))
    """None: a prospect with no account yet."""
    lifetime_value_cents: Mapped[int] = mapped_column(default=0)
    orders_count: Mapped[int] = mapped_column(default=0)
    language: Mapped[str | None] = mapped_column(String(16))
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
