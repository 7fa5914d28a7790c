"""An agent's workspace preferences: remapped shortcuts, saved inbox filters and
notification choices. One row per agent, written only when they change something;
every read falls back to the defaults, so a missing row is a fresh agent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from helpline.adapters.db.models import UserPreferences
from helpline.domain.shortcuts import (
    ACTION_NAMES,
    MAX_CHORDS_PER_ACTION,
    default_keymap,
    normalise_chord,
)
from helpline.services.errors import NotFound, ValidationFailed

MAX_SAVED_VIEWS = 30
VIEW_FILTER_KEYS = (
    "view",
    "status",
    "priority",
    "channel",
    "category",
    "tag",
    "language",
    "sla_risk",
    "sort",
)
"""What a saved view may hold (the same parameters as GET /workspace/inbox)."""
NOTIFICATION_KEYS = ("sound", "desktop")


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the workspace needs: the full keymap (defaults merged in), which actions
    were remapped, the saved views and notification switches."""

    keymap: dict[str, list[str]]
    remapped: frozenset[str]
    saved_views: list[dict[str, Any]] = field(default_factory=list)
    notifications: dict[str, bool] = field(default_factory=dict)


def _row(db: Session, user_id: int) -> UserPreferences | None:
    return db.get(UserPreferences, user_id)


def _row_for_update(db: Session, user_id: int, now: datetime) -> UserPreferences:
    row = db.get(UserPreferences, user_id, with_for_update=True)
    if row is None:
        row = UserPreferences(
            user_id=user_id, keymap={}, saved_views=[], notifications={}, updated_at=now
        )
        db.add(row)
    row.updated_at = now
    return row


def _describe(row: UserPreferences | None) -> Preferences:
    keymap = default_keymap()
    remapped: set[str] = set()
    if row is not None:
        for action, chords in (row.keymap or {}).items():
            if action in keymap and isinstance(chords, list):
                keymap[action] = [str(chord) for chord in chords]
                remapped.add(action)
    notifications = {"sound": False, "desktop": False}
    if row is not None:
        for key in NOTIFICATION_KEYS:
            if isinstance((row.notifications or {}).get(key), bool):
                notifications[key] = row.notifications[key]
    views = list(row.saved_views or []) if row is not None else []
    return Preferences(
        keymap=keymap,
        remapped=frozenset(remapped),
        saved_views=views,
        notifications=notifications,
    )


def get_preferences(db: Session, user_id: int) -> Preferences:
    return _describe(_row(db, user_id))


def check_keymap(changes: dict[str, list[str]]) -> dict[str, list[str]]:
    """Canonical chords per action; refuses unknown actions, bad chords and a chord
    bound to two actions (after merging with the defaults)."""
    cleaned: dict[str, list[str]] = {}
    for action, chords in changes.items():
        if action not in ACTION_NAMES:
            raise ValidationFailed(f"unknown action {action!r}", {"field": "keymap"})
        if len(chords) > MAX_CHORDS_PER_ACTION:
            raise ValidationFailed(
                f"at most {MAX_CHORDS_PER_ACTION} shortcuts per action", {"field": action}
            )
        canonical: list[str] = []
        for chord in chords:
            normal = normalise_chord(chord)
            if normal is None:
                raise ValidationFailed(
                    f"{chord!r} is not a usable shortcut", {"field": action, "chord": chord}
                )
            if normal not in canonical:
                canonical.append(normal)
        cleaned[action] = canonical
    return cleaned


def _check_no_clash(keymap: dict[str, list[str]], changed: set[str]) -> None:
    """A chord belongs to one action; the error names the action being changed."""
    owner: dict[str, str] = {}
    for action, chords in keymap.items():
        if action not in changed:
            for chord in chords:
                owner.setdefault(chord, action)
    for action in sorted(changed):
        for chord in keymap.get(action, []):
            if chord in owner and owner[chord] != action:
                raise ValidationFailed(
                    f"{chord} is already the shortcut for {owner[chord]}",
                    {"field": action, "chord": chord, "taken_by": owner[chord]},
                )
            owner[chord] = action


def do_update_keymap(
    db: Session,
    user_id: int,
    changes: dict[str, list[str] | None],
    *,
    now: datetime,
) -> Preferences:
    """Remap actions (a list of chords; [] leaves the action without a shortcut;
    null restores the default). Locks the agent's preferences row."""
    to_set = check_keymap({k: v for k, v in changes.items() if v is not None})
    for action in changes:
        if action not in ACTION_NAMES:
            raise ValidationFailed(f"unknown action {action!r}", {"field": "keymap"})
    row = _row_for_update(db, user_id, now)
    stored = dict(row.keymap or {})
    for action, chords in changes.items():
        if chords is None:
            stored.pop(action, None)
        else:
            stored[action] = to_set[action]
    merged = default_keymap()
    merged.update(stored)
    _check_no_clash(merged, set(to_set))
    row.keymap = stored
    db.commit()
    return _describe(row)


def do_reset_keymap(db: Session, user_id: int, *, now: datetime) -> Preferences:
    row = _row_for_update(db, user_id, now)
    row.keymap = {}
    db.commit()
    return _describe(row)


def do_update_notifications(
    db: Session, user_id: int, changes: dict[str, bool], *, now: datetime
) -> Preferences:
    row = _row_for_update(db, user_id, now)
    current = dict(row.notifications or {})
    for key, value in changes.items():
        if key not in NOTIFICATION_KEYS:
            raise ValidationFailed(f"unknown notification setting {key!r}", {"field": key})
        current[key] = bool(value)
    row.notifications = current
    db.commit()
    return _describe(row)


def check_view_filters(filters: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in filters.items():
        if key not in VIEW_FILTER_KEYS:
            raise ValidationFailed(f"unknown filter {key!r}", {"field": key})
        if value is None or value == "":
            continue
        if key == "sla_risk":
            cleaned[key] = bool(value)
        elif isinstance(value, str) and len(value) <= 100:
            cleaned[key] = value.strip()
        else:
            raise ValidationFailed(f"{key} is a short text", {"field": key})
    return cleaned


def do_save_view(
    db: Session, user_id: int, *, name: str, filters: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Add a named filter, or replace the one with the same name (names are
    case-insensitive). Locks the agent's preferences row."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 60:
        raise ValidationFailed("a view name is 1 to 60 characters", {"field": "name"})
    cleaned = check_view_filters(filters)
    row = _row_for_update(db, user_id, now)
    views = [dict(view) for view in row.saved_views or []]
    existing = next((v for v in views if str(v.get("name", "")).lower() == name.lower()), None)
    if existing is not None:
        existing["filters"] = cleaned
        existing["name"] = name
        saved = existing
    else:
        if len(views) >= MAX_SAVED_VIEWS:
            raise ValidationFailed(f"at most {MAX_SAVED_VIEWS} saved views", {"field": "name"})
        saved = {"id": secrets.token_hex(6), "name": name, "filters": cleaned}
        views.append(saved)
    row.saved_views = views
    db.commit()
    return saved


def do_delete_view(db: Session, user_id: int, view_id: str, *, now: datetime) -> None:
    row = _row_for_update(db, user_id, now)
    views = [dict(view) for view in row.saved_views or []]
    remaining = [view for view in views if view.get("id") != view_id]
    if len(remaining) == len(views):
        db.rollback()
        raise NotFound("saved view", view_id)
    row.saved_views = remaining
    db.commit()
