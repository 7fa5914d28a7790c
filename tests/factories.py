"""Factories for test data: real rows through the ORM, sensible defaults."""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from helpline.adapters.db.counters import next_value
from helpline.adapters.db.models import (
    Contact,
    Conversation,
    Inbox,
    InboxMember,
    Team,
    TeamMember,
    User,
)
from helpline.adapters.passwords import hash_password
from tests.support import DEFAULT_PASSWORD

_seq = itertools.count(1)

ACCOUNTS_CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
"""Before tests.support.FrozenClock's default start."""


@lru_cache(maxsize=4)
def _hash(password: str) -> str:
    # argon2 is slow on purpose; hash each distinct test password once.
    return hash_password(password)


def make_team(db: Session, name: str | None = None, **fields: object) -> Team:
    team = Team(name=name or f"Team {next(_seq)}", **fields)
    db.add(team)
    db.flush()
    return team


def make_inbox(
    db: Session, name: str | None = None, channel: str = "chat", **fields: object
) -> Inbox:
    inbox = Inbox(
        name=name or f"Inbox {next(_seq)}",
        channel=channel,
        public_key=secrets.token_hex(8),
        secret=secrets.token_hex(32),
        **fields,
    )
    db.add(inbox)
    db.flush()
    return inbox


def make_user(
    db: Session,
    email: str | None = None,
    *,
    role: str = "agent",
    teams: list[Team] = (),  # type: ignore[assignment]
    inboxes: list[Inbox] = (),  # type: ignore[assignment]
    password: str = DEFAULT_PASSWORD,
    **fields: object,
) -> User:
    n = next(_seq)
    # The password predates the frozen test clock; with the default (the real
    # "now") every session opened at the frozen time would count as older than
    # the last password change and be refused.
    fields.setdefault("password_changed_at", ACCOUNTS_CREATED_AT)
    user = User(
        email=email or f"agent{n}@example.test",
        name=fields.pop("name", f"Agent {n}"),
        password_hash=_hash(password),
        role=role,
        **fields,
    )
    db.add(user)
    db.flush()
    for team in teams:
        db.add(TeamMember(team_id=team.id, user_id=user.id))
    for inbox in inboxes:
        db.add(InboxMember(inbox_id=inbox.id, user_id=user.id))
    db.flush()
    return user


def make_contact(db: Session, email: str | None = None, **fields: object) -> Contact:
    n = next(_seq)
    contact = Contact(
        name=fields.pop("name", f"Customer {n}"),
        email=email if email is not None else f"customer{n}@example.test",
        **fields,
    )
    db.add(contact)
    db.flush()
    return contact


def make_conversation(
    db: Session,
    inbox: Inbox,
    contact: Contact | None = None,
    *,
    created_at: datetime | None = None,
    **fields: object,
) -> Conversation:
    contact = contact or make_contact(db)
    extra: dict[str, object] = {}
    if created_at is not None:
        extra = {"created_at": created_at, "updated_at": created_at, "last_activity_at": created_at}
    conversation = Conversation(
        number=next_value(db, "conversation"),
        inbox_id=inbox.id,
        channel=inbox.channel,
        contact_id=contact.id,
        subject=fields.pop("subject", "Help needed"),
        **extra,
        **fields,
    )
    db.add(conversation)
    db.flush()
    return conversation
