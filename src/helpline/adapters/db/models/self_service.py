"""Self-service beyond articles: the shop's lookup endpoints the widget may call for a
verified customer, and the help center's named categories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpline.adapters.db.base import Base, JSONType, utcnow


class SelfServiceLookup(Base):
    """One "order status"-style lookup of an inbox: an HTTP endpoint of the shop that
    Helpline calls server-side, only for verified customers, only to allowed hosts."""

    __tablename__ = "self_service_lookups"
    __table_args__ = (UniqueConstraint("inbox_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    """Stable name in the widget API, e.g. order_status."""
    label: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    """The button's text per language: {"en": "Order status", "pl": "Status zamówienia"}."""
    input_label: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    """When set, the visitor types a value first (e.g. an order number) shown with
    this label; the URL template receives it as {input}."""
    url_template: Mapped[str] = mapped_column(String(2000))
    """https://shop.example/helpline/orders?customer={external_id}&order={input}"""
    allowed_hosts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    timeout_seconds: Mapped[float] = mapped_column(default=5.0)
    secret: Mapped[str] = mapped_column(String(200))
    """Signs every request (HMAC-SHA256) so the shop can trust it; never shown again."""
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleCategory(Base):
    """A help-center category with a name, a description and an order on the home
    page. Articles name their category by `slug`; a slug without a row here shows
    with a built-in or derived name."""

    __tablename__ = "article_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
