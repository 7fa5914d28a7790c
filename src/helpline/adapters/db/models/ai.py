"""AI assist (issue 7): the labels agents give when they correct a category.

An agent changing a conversation's category is a training label: the customer's
words, what the classifier said, and what the agent chose. `trained_at` tells the
retraining job which labels are new.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpline.adapters.db.base import Base, utcnow


class AiCorrection(Base):
    __tablename__ = "ai_corrections"
    __table_args__ = (Index("ix_ai_corrections_trained_at", "trained_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    """The customer's words the category is about (subject and first messages)."""
    predicted_category: Mapped[str | None] = mapped_column(String(40))
    """What the classifier said (None: it had said nothing)."""
    corrected_category: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    trained_at: Mapped[datetime | None]
    """When a retrained model first included this label; None: not yet."""
