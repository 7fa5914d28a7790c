"""What the chat widget offers before a visitor talks to anyone: article suggestions
while they type and the inbox's self-service lookups. Only the public part of the
configuration leaves here (never a lookup's URL or secret)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox
from helpline.services.articles import suggestions_enabled
from helpline.services.lookups import widget_lookups


def widget_help_config(db: Session, inbox: Inbox) -> dict[str, Any]:
    """Extra keys of the widget's config: `article_suggestions` (on by default) and
    `lookups` (key, label and input label of each enabled lookup)."""
    return {
        "article_suggestions": suggestions_enabled(inbox),
        "lookups": widget_lookups(db, inbox),
    }
