"""Reusable knowledge: canned responses for agents, articles for the help center,
and what visitors do with them (votes, self-service sessions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpline.adapters.db.base import Base, JSONType, utcnow


class CannedResponse(Base):
    __tablename__ = "canned_responses"
    __table_args__ = (CheckConstraint("scope IN ('personal', 'team', 'shared')", name="scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    """Template with placeholders such as {{ contact.first_name | default("there") }}."""
    language: Mapped[str] = mapped_column(String(16), default="en")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    """Family-prefixed tags: "urgency:urgent", "topic:refunds", "customer:loyal"
    (a tag without a prefix counts as a topic)."""
    scope: Mapped[str] = mapped_column(String(16), default="shared")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    archived: Mapped[bool] = mapped_column(default=False)
    draft: Mapped[bool] = mapped_column(default=False)
    """Saved with template problems on purpose; never offered in the composer."""
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    """The help-center article this answer relies on (stale when it changes)."""
    usage_count: Mapped[int] = mapped_column(default=0)
    last_used_at: Mapped[datetime | None]
    last_reviewed_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(default=0)
    """The knowledge counter's value at the last write; search caches catch up by it."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedResponseVersion(Base):
    """A snapshot of a canned response after each change, with who made it."""

    __tablename__ = "canned_response_versions"
    __table_args__ = (UniqueConstraint("canned_response_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    canned_response_id: Mapped[int] = mapped_column(
        ForeignKey("canned_responses.id", ondelete="CASCADE")
    )
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))
    """created, edited, archived, restored, reviewed or imported."""
    changed_fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    body_markdown: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40), default="general")
    language: Mapped[str] = mapped_column(String(16), default="en")
    translation_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inboxes.id", ondelete="SET NULL"))
    """Shown only in this inbox's help center; None: in every help center."""
    published: Mapped[bool] = mapped_column(default=False)
    internal: Mapped[bool] = mapped_column(default=False)
    """Visible to agents only."""
    helpful_yes: Mapped[int] = mapped_column(default=0)
    helpful_no: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(default=0)
    """The knowledge counter's value at the last write; search caches catch up by it."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleVote(Base):
    """One "Was this helpful?" answer per visitor (a signed cookie) and article."""

    __tablename__ = "article_votes"
    __table_args__ = (UniqueConstraint("article_id", "visitor_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    visitor_key: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the visitor's cookie id: the raw id never reaches the database."""
    helpful: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeflectionSession(Base):
    """A widget visitor reading articles; settled as deflected when no chat follows."""

    __tablename__ = "deflection_sessions"
    __table_args__ = (
        CheckConstraint("outcome IN ('pending', 'deflected', 'chat')", name="outcome"),
        Index("ix_deflection_sessions_visitor", "inbox_id", "visitor_key", "last_viewed_at"),
        Index("ix_deflection_sessions_due", "outcome", "last_viewed_at"),
        Index("ix_deflection_sessions_first_viewed", "first_viewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    visitor_key: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the visitor: their contact id for a signed widget visitor token,
    otherwise the token itself."""
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    """The widget visitor's contact, when known: a chat they start is found by it."""
    article_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    """Articles opened in this session, in order, without repeats."""
    first_viewed_at: Mapped[datetime]
    last_viewed_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    settled_at: Mapped[datetime | None]
