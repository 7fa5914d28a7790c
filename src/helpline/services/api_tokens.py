"""Personal API tokens: integrations act with their owner's rights, without CSRF.

The raw token is returned once, at creation; only its hash and a short prefix
(to tell tokens apart in a list) are stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import ApiToken, User
from helpline.services.audit import record_audit
from helpline.services.auth import API_TOKEN_PREFIX
from helpline.services.errors import NotFound, ValidationFailed
from helpline.services.tokens import hash_token, new_token

MAX_ACTIVE_TOKENS_PER_USER = 50
SHOWN_PREFIX_CHARS = 12
"""`hlp_` plus eight characters: enough to recognise a token, useless to guess it."""


def list_api_tokens(db: Session, user: User) -> list[ApiToken]:
    """The user's tokens that still work, newest first."""
    return list(
        db.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def access_api_token(db: Session, user: User, token_id: int) -> ApiToken:
    """One of the user's working tokens; NotFound for anyone else's (or a revoked one)."""
    token = db.scalar(
        select(ApiToken).where(
            ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
        )
    )
    if token is None:
        raise NotFound("api_token", token_id)
    return token


def do_create_api_token(
    db: Session, user: User, *, name: str, now: datetime, ip: str = ""
) -> tuple[str, ApiToken]:
    """Issue a token for the user; returns the raw value, which is never shown again."""
    active = db.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_ACTIVE_TOKENS_PER_USER:
        raise ValidationFailed(
            f"you already have {MAX_ACTIVE_TOKENS_PER_USER} API tokens; revoke one first",
            {"field": "name"},
        )
    raw = new_token(API_TOKEN_PREFIX)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(raw),
        prefix=raw[:SHOWN_PREFIX_CHARS],
        created_at=now,
    )
    db.add(token)
    db.flush()
    record_audit(
        db,
        actor_user_id=user.id,
        action="api_token.created",
        target_type="api_token",
        target_id=token.id,
        details={"name": name, "prefix": token.prefix},
        ip=ip,
        now=now,
    )
    db.commit()
    return raw, token


def do_revoke_api_token(
    db: Session, user: User, token_id: int, *, now: datetime, ip: str = ""
) -> None:
    """Stop one of the user's tokens from working, at once."""
    token = access_api_token(db, user, token_id)
    token.revoked_at = now
    record_audit(
        db,
        actor_user_id=user.id,
        action="api_token.revoked",
        target_type="api_token",
        target_id=token.id,
        details={"name": token.name, "prefix": token.prefix},
        ip=ip,
        now=now,
    )
    db.commit()
