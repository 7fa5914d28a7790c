"""Who is calling: browser sessions (cookie + CSRF token) and personal API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import AgentSession, ApiToken, User
from helpline.services.tokens import hash_token, new_token

API_TOKEN_PREFIX = "hlp_"  # noqa: S105 (a marker, not a secret)
TOKEN_USE_RECORD_INTERVAL = timedelta(minutes=1)
"""How stale an API token's `last_used_at` may get before a request updates it."""


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: User
    via: Literal["session", "token"]
    session: AgentSession | None = None


def do_create_session(
    db: Session, user: User, *, now: datetime, lifetime: timedelta, user_agent: str, ip: str
) -> tuple[str, AgentSession]:
    """Open a browser session; returns the raw cookie value (shown once)."""
    raw = new_token()
    agent_session = AgentSession(
        user_id=user.id,
        token_hash=hash_token(raw),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        user_agent=user_agent[:300],
        ip=ip[:64],
    )
    db.add(agent_session)
    return raw, agent_session


def authenticate_session(db: Session, raw: str, *, now: datetime) -> Authenticated | None:
    """The owner of a live browser session, else None: expired sessions, deactivated
    users and sessions older than the last password change are refused."""
    row = db.execute(
        select(AgentSession, User)
        .join(User, User.id == AgentSession.user_id)
        .where(AgentSession.token_hash == hash_token(raw))
    ).first()
    if row is None:
        return None
    agent_session, user = row
    if agent_session.expires_at <= now or not user.is_active:
        return None
    if agent_session.created_at < user.password_changed_at:
        return None
    return Authenticated(user=user, via="session", session=agent_session)


def authenticate_api_token(db: Session, raw: str, *, now: datetime) -> Authenticated | None:
    """The owner of a working token (active user, not revoked), else None.

    Records when the token was last used, committing when it does."""
    if not raw.startswith(API_TOKEN_PREFIX):
        return None
    row = db.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    token, user = row
    if not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RECORD_INTERVAL:
        # Commits at once (at most once a minute per token), so the record
        # survives whatever the request does next and busy integrations do not
        # turn every read into a write.
        token.last_used_at = now
        db.commit()
    return Authenticated(user=user, via="token")


def revoke_sessions(db: Session, user_id: int, *, keep_session_id: int | None = None) -> int:
    """End a user's browser sessions (password change, deactivation); returns how many."""
    query = delete(AgentSession).where(AgentSession.user_id == user_id)
    if keep_session_id is not None:
        query = query.where(AgentSession.id != keep_session_id)
    result = db.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)
