"""Chat visitors: signed visitor tokens, identity verification, and rate limits.

A visitor token is signed with the installation's secret key and names the inbox
and the contact it opens; the browser keeps it so the chat survives reloads.
A site may prove who its signed-in customer is with `identifier_hash` (HMAC-SHA256
of the customer's id keyed with the inbox secret). Unproven claims never find,
open or merge into an existing contact: they only ever get a contact of their own.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact, Conversation, Inbox
from helpline.adapters.ratelimit import RateLimiter, SlidingWindowLimiter
from helpline.adapters.redis_ratelimit import RedisRateLimits
from helpline.domain.enums import Channel
from helpline.services.contacts import check_email, check_external_id, create_contact
from helpline.services.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from helpline.settings import Settings

TOKEN_PREFIX = "hv1"  # noqa: S105 (a format marker, not a secret)
MAX_TOKEN_CHARS = 512
MAX_NAME_CHARS = 200
_HEX_64 = re.compile(r"^[0-9a-fA-F]{64}$")
_TOKEN_CONTEXT = b"helpline visitor token v1"
_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who a valid visitor token speaks for."""

    inbox_id: int
    contact_id: int
    verified: bool
    issued_at: datetime

    @property
    def rate_key(self) -> str:
        return f"{self.inbox_id}:{self.contact_id}"


@dataclass(frozen=True, slots=True)
class VisitorSession:
    visitor: Visitor
    contact: Contact
    token: str
    expires_at: datetime


# ---------------------------------------------------------------- tokens


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signing_key(secret_key: str) -> bytes:
    # A key of its own, so a visitor token can never be mistaken for any other
    # signature made with the installation secret.
    return hmac.new(secret_key.encode(), _TOKEN_CONTEXT, hashlib.sha256).digest()


def sign_visitor_token(secret_key: str, visitor: Visitor) -> str:
    issued = int(visitor.issued_at.timestamp())
    body = f"{visitor.inbox_id}.{visitor.contact_id}.{int(visitor.verified)}.{issued}"
    encoded = _b64(body.encode())
    signature = hmac.new(_signing_key(secret_key), encoded.encode(), hashlib.sha256).digest()
    return f"{TOKEN_PREFIX}.{encoded}.{_b64(signature)}"


def read_visitor_token(
    secret_key: str, token: str | None, *, now: datetime, max_age: timedelta
) -> Visitor | None:
    """The visitor a token names, or None when it is malformed, forged or expired."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    _, encoded, signature = parts
    expected = hmac.new(_signing_key(secret_key), encoded.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(signature)
        fields = _unb64(encoded).decode("ascii").split(".")
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(expected, given) or len(fields) != 4:
        return None
    try:
        inbox_id, contact_id, verified, issued = (int(field) for field in fields)
    except ValueError:
        return None
    issued_at = datetime.fromtimestamp(issued, UTC)
    if issued_at > now + _CLOCK_SKEW or now - issued_at > max_age:
        return None
    return Visitor(
        inbox_id=inbox_id, contact_id=contact_id, verified=verified == 1, issued_at=issued_at
    )


def identifier_hash(inbox_secret: str, external_id: str) -> str:
    """What a site computes on its server for its signed-in customer."""
    return hmac.new(inbox_secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def check_identifier_hash(inbox_secret: str, external_id: str, given: str | None) -> bool:
    """Constant-time comparison of the site's hash with ours."""
    if not given or not _HEX_64.match(given):
        return False
    expected = identifier_hash(inbox_secret, external_id)
    return hmac.compare_digest(expected.encode(), given.lower().encode())


# ---------------------------------------------------------------- access


def access_widget_inbox(db: Session, public_key: str) -> Inbox:
    """The active chat inbox with this public key; anything else is not found."""
    if not public_key or len(public_key) > 64:
        raise NotFound("inbox")
    inbox = db.scalar(select(Inbox).where(Inbox.public_key == public_key))
    if inbox is None or not inbox.is_active or inbox.channel != Channel.CHAT.value:
        raise NotFound("inbox")
    return inbox


def access_visitor(
    db: Session,
    inbox: Inbox,
    token: str | None,
    *,
    secret_key: str,
    now: datetime,
    max_age: timedelta,
) -> Visitor:
    """The visitor behind a token for this inbox; AuthenticationFailed otherwise
    (another inbox's token, a deleted contact, a forged or expired token)."""
    visitor = read_visitor_token(secret_key, token, now=now, max_age=max_age)
    if visitor is None or visitor.inbox_id != inbox.id:
        raise AuthenticationFailed("the visitor token is missing, invalid or expired")
    if db.get(Contact, visitor.contact_id) is None:
        raise AuthenticationFailed("the visitor token is missing, invalid or expired")
    return visitor


def access_visitor_conversation(
    db: Session, visitor: Visitor, conversation_id: int
) -> Conversation:
    """The visitor's own conversation in their inbox; anything else is not found."""
    conversation = db.get(Conversation, conversation_id)
    if (
        conversation is None
        or conversation.contact_id != visitor.contact_id
        or conversation.inbox_id != visitor.inbox_id
    ):
        raise NotFound("conversation", conversation_id)
    return conversation


def check_visitor_conversation(db: Session, visitor: Visitor, conversation_id: int) -> None:
    """`access_visitor_conversation` without loading the row: use it before a
    service locks the conversation, so the locked read is the one the session
    keeps (a row loaded earlier would keep its stale `last_seq`)."""
    found = db.scalar(
        select(Conversation.id).where(
            Conversation.id == conversation_id,
            Conversation.contact_id == visitor.contact_id,
            Conversation.inbox_id == visitor.inbox_id,
        )
    )
    if found is None:
        raise NotFound("conversation", conversation_id)


# ---------------------------------------------------------------- sessions


def _clean_name(name: str | None) -> str:
    if not name:
        return ""
    text = " ".join(name.replace("\x00", "").split())
    return "".join(char for char in text if char.isprintable())[:MAX_NAME_CHARS]


def _email_is_free(db: Session, email: str | None) -> bool:
    if email is None:
        return False
    return db.scalar(select(Contact.id).where(Contact.email == email)) is None


def _new_contact(
    db: Session,
    *,
    name: str,
    email: str | None,
    external_id: str | None,
    verified: bool,
    notes: dict[str, str],
    now: datetime,
) -> Contact:
    """A contact of the visitor's own; an email someone else already has is kept
    as a note only (unique emails are identities, and claiming one proves nothing)."""
    attributes = dict(notes)
    stored_email = email if _email_is_free(db, email) else None
    if email is not None and stored_email is None:
        attributes["unverified_email"] = email
    try:
        return create_contact(
            db,
            email=stored_email,
            external_id=external_id,
            name=name,
            custom_attributes=attributes,
            verified=verified,
            now=now,
        )
    except Conflict:
        # Someone took the email between our check and the insert.
        attributes["unverified_email"] = email or ""
        return create_contact(
            db,
            external_id=external_id,
            name=name,
            custom_attributes=attributes,
            verified=verified,
            now=now,
        )


def _fill_blanks(db: Session, contact: Contact, *, name: str, email: str | None) -> None:
    if name and not contact.name:
        contact.name = name
    if email is not None and contact.email is None:
        if _email_is_free(db, email):
            contact.email = email
        else:
            contact.custom_attributes = {**contact.custom_attributes, "unverified_email": email}


def _verified_contact(
    db: Session, *, external_id: str, name: str, email: str | None, now: datetime
) -> Contact:
    """The contact the site vouched for: found by external id only (never by email,
    so an earlier anonymous visitor who typed the same email is not merged in)."""
    contact = db.scalar(select(Contact).where(Contact.external_id == external_id))
    if contact is None:
        try:
            return _new_contact(
                db,
                name=name,
                email=email,
                external_id=external_id,
                verified=True,
                notes={},
                now=now,
            )
        except Conflict:
            contact = db.scalar(select(Contact).where(Contact.external_id == external_id))
            if contact is None:
                raise
    contact.verified = True
    _fill_blanks(db, contact, name=name, email=email)
    return contact


def do_open_visitor_session(
    db: Session,
    inbox: Inbox,
    *,
    secret_key: str,
    previous: Visitor | None,
    name: str | None,
    email: str | None,
    external_id: str | None,
    identifier_hash: str | None,
    now: datetime,
    lifetime: timedelta,
) -> VisitorSession:
    """Start or renew a visitor's session and commit. No locking: new contacts are
    inserted in a savepoint and unique constraints decide races.

    `previous` is the visitor of a still-valid token the browser sent (already
    checked to belong to this inbox)."""
    claimed_id = check_external_id(external_id)
    clean_email = check_email(email)
    clean_name = _clean_name(name)
    verified = claimed_id is not None and check_identifier_hash(
        inbox.secret, claimed_id, identifier_hash
    )
    enforce = inbox.settings.get("identity_verification") == "enforce"
    if claimed_id is not None and not verified and enforce:
        raise PermissionDenied(
            "this site's identity verification failed", {"reason": "identity_verification"}
        )
    contact: Contact | None = None
    if verified:
        assert claimed_id is not None
        contact = _verified_contact(
            db, external_id=claimed_id, name=clean_name, email=clean_email, now=now
        )
    else:
        if previous is not None and not previous.verified:
            contact = db.get(Contact, previous.contact_id)
            if contact is not None and contact.verified:
                contact = None  # a token never widens into a verified contact
        notes = {"unverified_external_id": claimed_id} if claimed_id is not None else {}
        if contact is None:
            contact = _new_contact(
                db,
                name=clean_name,
                email=clean_email,
                external_id=None,
                verified=False,
                notes=notes,
                now=now,
            )
        else:
            _fill_blanks(db, contact, name=clean_name, email=clean_email)
            if notes:
                contact.custom_attributes = {**contact.custom_attributes, **notes}
    contact.last_seen_at = now
    db.flush()
    visitor = Visitor(
        inbox_id=inbox.id,
        contact_id=contact.id,
        verified=contact.verified and verified,
        issued_at=now.replace(microsecond=0),
    )
    token = sign_visitor_token(secret_key, visitor)
    db.commit()
    return VisitorSession(
        visitor=visitor, contact=contact, token=token, expires_at=visitor.issued_at + lifetime
    )


# ---------------------------------------------------------------- rate limits


FROM_SETTINGS: Any = object()
"""Limits' default connection: one of their own when `settings.redis_url` is set (an
app passes the one all its limits share, `web.app_state.shared_limits`)."""


def shared_rate_limits(settings: Settings) -> RedisRateLimits | None:
    """Redis for rate limits every server process shares, when one is configured;
    keys live under the installation's channel name (`<channel>:ratelimit:...`)."""
    if not settings.redis_url:
        return None
    return RedisRateLimits(settings.redis_url, namespace=f"{settings.redis_channel}:ratelimit")


def window_limiter(
    shared: RedisRateLimits | None, name: str, limit: int, window_seconds: float
) -> RateLimiter:
    """A limiter in Redis (`shared`, named `name` there) or in this process's memory."""
    if shared is None:
        return SlidingWindowLimiter(limit, window_seconds)
    return shared.limiter(name, limit, window_seconds)


class VisitorLimits:
    """Per-visitor and per-IP sliding windows for the public chat endpoints.

    With `settings.redis_url` the windows live in Redis and all server processes
    count against the same ones (a hit Redis fails to count is counted in process,
    see adapters.redis_ratelimit); without it they live in this process's memory.
    Time comes from the caller (`now`), so tests control it.

    The checks block on Redis: call them from worker threads (sync routes); the
    event loop calls `message_async`."""

    def __init__(self, settings: Settings, shared: RedisRateLimits | None = FROM_SETTINGS) -> None:
        hour, minute = 3600.0, 60.0
        self.shared = shared_rate_limits(settings) if shared is FROM_SETTINGS else shared
        window = partial(window_limiter, self.shared)
        self.sessions_ip = window(
            "widget_sessions_ip", settings.widget_sessions_per_ip_per_hour, hour
        )
        self.conversations_visitor = window(
            "widget_conversations_visitor", settings.widget_conversations_per_visitor_per_hour, hour
        )
        self.conversations_ip = window(
            "widget_conversations_ip", settings.widget_conversations_per_ip_per_hour, hour
        )
        self.messages_visitor = window(
            "widget_messages_visitor", settings.widget_messages_per_visitor_per_minute, minute
        )
        self.messages_ip = window(
            "widget_messages_ip", settings.widget_messages_per_ip_per_minute, minute
        )

    @staticmethod
    def _hit(limiter: RateLimiter, key: str, now: datetime, what: str) -> None:
        wait = limiter.hit(key, now=now.timestamp())
        if wait is not None:
            raise RateLimited(f"too many {what}; try again in {wait} seconds", wait)

    def session(self, ip: str, *, now: datetime) -> None:
        self._hit(self.sessions_ip, ip, now, "chat sessions from this address")

    # The visitor's own window is checked first, so a visitor held back by their
    # own limit does not use up their neighbours' shared address allowance.

    def conversation(self, visitor: Visitor | None, ip: str, *, now: datetime) -> None:
        if visitor is not None:
            self._hit(self.conversations_visitor, visitor.rate_key, now, "new conversations")
        self._hit(self.conversations_ip, ip, now, "new conversations from this address")

    def message(self, visitor: Visitor, ip: str, *, now: datetime) -> None:
        self._hit(self.messages_visitor, visitor.rate_key, now, "messages")
        self._hit(self.messages_ip, ip, now, "messages from this address")

    async def message_async(self, visitor: Visitor, ip: str, *, now: datetime) -> None:
        """`message` for the event loop (the visitor's WebSocket). The Redis round
        trips run in a worker thread, so no socket waits on the network; windows in
        memory are checked right here, as cheaply as `message`."""
        if self.shared is None:
            self.message(visitor, ip, now=now)
        else:
            await asyncio.to_thread(self.message, visitor, ip, now=now)
