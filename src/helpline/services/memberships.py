"""Shared checks for replacing a team's or an inbox's member list."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import User
from helpline.services.errors import ValidationFailed


def check_member_ids(db: Session, user_ids: Sequence[int]) -> list[int]:
    """The wanted members, sorted and de-duplicated; unknown users are refused."""
    wanted = sorted(set(user_ids))
    found = set(db.scalars(select(User.id).where(User.id.in_(wanted)))) if wanted else set()
    unknown = [user_id for user_id in wanted if user_id not in found]
    if unknown:
        raise ValidationFailed("unknown users", {"field": "user_ids", "ids": unknown})
    return wanted


def membership_change(before: Sequence[int], wanted: Sequence[int]) -> dict[str, list[int]]:
    """Who joins and who leaves, as the audit log records it."""
    return {
        "added": sorted(set(wanted) - set(before)),
        "removed": sorted(set(before) - set(wanted)),
    }
