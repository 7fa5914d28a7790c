"""Live chat: files attached to messages, and how far each side has read.

Attachment bytes live in storage (`adapters.storage`) under a server-generated key;
this table records what the file is and which conversation may see it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpline.adapters.db.base import Base, utcnow


class Attachment(Base):
    """A file uploaded into a conversation, by its customer or by an agent."""

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("uploader_type IN ('contact', 'agent')", name="uploader"),
        CheckConstraint("size >= 0", name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    """Server-generated; never derived from the uploaded name."""
    name: Mapped[str] = mapped_column(String(255))
    """The uploaded file name, cleaned; shown and offered as the download name only."""
    size: Mapped[int]
    mime: Mapped[str] = mapped_column(String(100))
    """Decided by sniffing the first bytes, not by what the browser claimed."""
    is_image: Mapped[bool] = mapped_column(default=False)
    sha256: Mapped[str] = mapped_column(String(64))
    uploader_type: Mapped[str] = mapped_column(String(16))
    uploader_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    uploader_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationRead(Base):
    """The highest sequence number a reader (the customer, or one agent) has read."""

    __tablename__ = "conversation_reads"
    __table_args__ = (
        UniqueConstraint("conversation_id", "reader_type", "reader_id"),
        CheckConstraint("reader_type IN ('contact', 'agent')", name="reader"),
        Index("ix_conversation_reads_conversation", "conversation_id", "reader_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    reader_type: Mapped[str] = mapped_column(String(16))
    reader_id: Mapped[int]
    """The contact's id or the agent's user id (by `reader_type`)."""
    last_read_seq: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
