"""An agent's own account: sign in and out, throttling, password change and reset,
and the few profile fields agents may edit themselves.

Password hashing is slow on purpose (argon2), so it never runs inside a write
transaction: on SQLite every transaction holds the database's write lock, and on
PostgreSQL the throttle row lock would make concurrent logins wait on each other.
Each function therefore reads, ends that transaction, hashes, then writes in a
second transaction that re-checks what it relies on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpline.adapters.db.models import AgentSession, LoginThrottle, PasswordResetToken, User
from helpline.adapters.passwords import hash_password, needs_rehash, verify_password
from helpline.domain.enums import AgentStatus
from helpline.domain.errors import DomainError
from helpline.services.audit import record_audit
from helpline.services.auth import do_create_session, revoke_sessions
from helpline.services.errors import AuthenticationFailed, RateLimited, ValidationFailed
from helpline.services.events import LiveEvent, queue_event
from helpline.services.outbox import enqueue_email
from helpline.services.tokens import hash_token, new_token
from helpline.settings import Settings, get_settings

PASSWORD_MIN_CHARS = 10
PASSWORD_MAX_CHARS = 256
RESET_EMAIL_COOLDOWN = timedelta(seconds=60)
"""At most one reset email per account per minute, whoever asks (mail-bomb guard)."""

_LOGIN_FAILED_MESSAGE = "wrong email or password"


class InvalidToken(DomainError):
    """A password-reset link that is unknown, used, expired or for a disabled account.

    One error for all four, so the answer reveals nothing about other accounts."""

    code = "invalid_token"


@dataclass(frozen=True, slots=True)
class _Credentials:
    """What a login needs from the user row, captured before the read transaction ends."""

    user_id: int
    password_hash: str
    is_active: bool


def normalise_email(email: str) -> str:
    """Accounts are matched case-insensitively; this is the form they are compared in."""
    return email.strip().lower()


def check_password_policy(password: str, *, email: str) -> None:
    """Refuse passwords that are too short or trivially guessable from the account."""
    problems: list[str] = []
    if len(password) < PASSWORD_MIN_CHARS:
        problems.append(f"use at least {PASSWORD_MIN_CHARS} characters")
    if len(password) > PASSWORD_MAX_CHARS:
        problems.append(f"use at most {PASSWORD_MAX_CHARS} characters")
    if password and len(set(password)) == 1:
        problems.append("use more than one distinct character")
    if normalise_email(password) == normalise_email(email):
        problems.append("do not use your email address")
    if problems:
        raise ValidationFailed(
            "the new password is not allowed: " + "; ".join(problems),
            {"field": "new_password", "problems": problems},
        )


def _find_user_by_email(db: Session, email: str) -> User | None:
    return db.scalars(
        select(User).where(func.lower(User.email) == normalise_email(email)).order_by(User.id)
    ).first()


# --- login throttling --------------------------------------------------------------


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _raise_if_locked(throttle: LoginThrottle | None, *, now: datetime) -> None:
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        raise RateLimited(
            "too many failed sign-in attempts; try again later",
            _seconds_until(throttle.locked_until, now),
        )


def _lock_throttle(db: Session, email_key: str) -> LoginThrottle | None:
    """The account's throttle row, freshly read and locked for update."""
    return db.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.email == email_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _lock_or_create_throttle(db: Session, email_key: str) -> LoginThrottle:
    """Like `_lock_throttle`, creating the row when missing.

    Two first failures for the same address may race to insert the row on
    PostgreSQL; the loser's savepoint rolls back and it locks the winner's row."""
    throttle = _lock_throttle(db, email_key)
    if throttle is not None:
        return throttle
    try:
        with db.begin_nested():
            db.add(LoginThrottle(email=email_key, failures=0))
    except IntegrityError:
        pass
    throttle = _lock_throttle(db, email_key)
    assert throttle is not None
    return throttle


def _record_failure(
    db: Session,
    throttle: LoginThrottle,
    *,
    user_id: int | None,
    now: datetime,
    settings: Settings,
    ip: str,
) -> int | None:
    """Count one failed attempt; returns the lockout seconds when this one locks.

    Failures older than the lockout period are forgotten, so a typo a week ago
    does not bring an account closer to being locked today."""
    window = timedelta(seconds=settings.login_lockout_seconds)
    lock_expired = throttle.locked_until is not None and throttle.locked_until <= now
    stale = throttle.last_failure_at is None or now - throttle.last_failure_at > window
    if lock_expired or stale:
        throttle.failures = 0
        throttle.locked_until = None
    throttle.failures += 1
    throttle.last_failure_at = now
    if throttle.failures < settings.login_max_failures:
        return None
    throttle.locked_until = now + window
    record_audit(
        db,
        actor_user_id=None,
        action="auth.login_locked",
        target_type="user",
        target_id=user_id,
        details={"email": throttle.email, "failures": throttle.failures},
        ip=ip,
        now=now,
    )
    return settings.login_lockout_seconds


# --- sign in and out ---------------------------------------------------------------


def do_login(
    db: Session,
    email: str,
    password: str,
    *,
    now: datetime,
    ip: str,
    user_agent: str,
    settings: Settings,
) -> tuple[str, AgentSession, User]:
    """Check the password and open a browser session; returns the raw cookie value.

    Raises AuthenticationFailed for an unknown address, a wrong password and a
    deactivated account alike, and RateLimited while the account is locked (even
    for the right password). Locks the account's throttle row for the write.
    """
    email_key = normalise_email(email)[:254]
    throttle = db.scalar(select(LoginThrottle).where(LoginThrottle.email == email_key))
    user = _find_user_by_email(db, email_key)
    credentials = (
        _Credentials(user.id, user.password_hash, user.is_active) if user is not None else None
    )
    db.commit()  # end the read; the slow hash check below must not hold locks
    _raise_if_locked(throttle, now=now)

    # A missing account is checked against a dummy hash, so it takes as long.
    password_ok = verify_password(credentials.password_hash if credentials else None, password)
    new_hash = (
        hash_password(password)
        if password_ok and credentials is not None and needs_rehash(credentials.password_hash)
        else None
    )

    throttle = _lock_throttle(db, email_key)
    try:
        _raise_if_locked(throttle, now=now)
    except RateLimited:
        db.rollback()
        raise
    if credentials is None or not password_ok or not credentials.is_active:
        locked_for = _record_failure(
            db,
            throttle or _lock_or_create_throttle(db, email_key),
            user_id=credentials.user_id if credentials else None,
            now=now,
            settings=settings,
            ip=ip,
        )
        db.commit()
        if locked_for is not None:
            raise RateLimited("too many failed sign-in attempts; try again later", locked_for)
        raise AuthenticationFailed(_LOGIN_FAILED_MESSAGE)

    user = db.get(User, credentials.user_id, populate_existing=True)
    if user is None or not user.is_active:  # deactivated since the read above
        db.rollback()
        raise AuthenticationFailed(_LOGIN_FAILED_MESSAGE)
    if throttle is not None:
        db.delete(throttle)  # a successful login resets the count
    if new_hash is not None and user.password_hash == credentials.password_hash:
        user.password_hash = new_hash  # argon2 parameters changed since it was hashed
    user.last_login_at = now
    raw, agent_session = do_create_session(
        db,
        user,
        now=now,
        lifetime=timedelta(days=settings.session_days),
        user_agent=user_agent,
        ip=ip,
    )
    db.commit()
    return raw, agent_session, user


def do_logout(db: Session, session_id: int) -> None:
    """End one browser session (the cookie stops working at once)."""
    db.execute(delete(AgentSession).where(AgentSession.id == session_id))
    db.commit()


# --- the agent's own profile --------------------------------------------------------


def do_update_me(
    db: Session,
    user: User,
    *,
    name: str | None = None,
    languages: list[str] | None = None,
    status: AgentStatus | None = None,
    now: datetime,
) -> User:
    """Change what an agent may change about themselves: name, languages, status.

    Role, tier, limits and skills are an admin's decision and are not parameters
    here on purpose. Tells the user's other tabs via a `user.updated` event."""
    changed: list[str] = []
    if name is not None and name != user.name:
        user.name = name
        changed.append("name")
    if languages is not None and languages != user.languages:
        user.languages = list(languages)
        changed.append("languages")
    if status is not None and status != user.status:
        user.status = status.value
        user.status_since = now
        changed.append("status")
    if changed:
        queue_event(
            db,
            LiveEvent(
                type="user.updated",
                payload={
                    "user_id": user.id,
                    "changed": changed,
                    "name": user.name,
                    "languages": list(user.languages),
                    "status": user.status,
                    "status_since": user.status_since.isoformat(),
                },
                user_ids=frozenset({user.id}),
            ),
        )
    db.commit()
    return user


# --- passwords ------------------------------------------------------------------------


def _set_password(db: Session, user: User, password_hash: str, *, now: datetime) -> None:
    """Store a new password and end everything the old one opened: every browser
    session, outstanding reset links and any login lockout."""
    user.password_hash = password_hash
    user.password_changed_at = now
    revoke_sessions(db, user.id)
    db.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    db.execute(delete(LoginThrottle).where(LoginThrottle.email == normalise_email(user.email)))


def do_change_password(
    db: Session,
    user: User,
    *,
    current_password: str,
    new_password: str,
    now: datetime,
    settings: Settings,
    ip: str,
    user_agent: str,
    current_session: AgentSession | None,
) -> tuple[str, AgentSession] | None:
    """Change a signed-in user's password and sign out all their browsers.

    When the caller used a browser session it gets a fresh one (returned with its
    raw cookie value) that keeps the old CSRF token, so the open page keeps
    working. A wrong current password counts towards the login lockout, so a
    stolen session cannot be used to guess the password. API tokens stay valid:
    they are revoked one by one. Locks the throttle row and the user row.
    """
    email_key = normalise_email(user.email)
    throttle = db.scalar(select(LoginThrottle).where(LoginThrottle.email == email_key))
    user_id, email, password_hash = user.id, user.email, user.password_hash
    csrf_token = current_session.csrf_token if current_session is not None else None
    db.commit()
    _raise_if_locked(throttle, now=now)

    password_ok = verify_password(password_hash, current_password)
    new_hash = ""
    if password_ok:
        check_password_policy(new_password, email=email)
        new_hash = hash_password(new_password)

    throttle = _lock_throttle(db, email_key)
    try:
        _raise_if_locked(throttle, now=now)
    except RateLimited:
        db.rollback()
        raise
    if not password_ok:
        locked_for = _record_failure(
            db,
            throttle or _lock_or_create_throttle(db, email_key),
            user_id=user_id,
            now=now,
            settings=settings,
            ip=ip,
        )
        db.commit()
        if locked_for is not None:
            raise RateLimited("too many failed password attempts; try again later", locked_for)
        raise ValidationFailed("the current password is wrong", {"field": "current_password"})

    locked_user = db.scalar(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked_user is None or not locked_user.is_active:
        db.rollback()
        raise AuthenticationFailed("sign in first")
    _set_password(db, locked_user, new_hash, now=now)
    replacement: tuple[str, AgentSession] | None = None
    if current_session is not None:
        raw, agent_session = do_create_session(
            db,
            locked_user,
            now=now,
            lifetime=timedelta(days=settings.session_days),
            user_agent=user_agent,
            ip=ip,
        )
        if csrf_token is not None:
            agent_session.csrf_token = csrf_token
        replacement = (raw, agent_session)
    record_audit(
        db,
        actor_user_id=user_id,
        action="auth.password_changed",
        target_type="user",
        target_id=user_id,
        ip=ip,
        now=now,
    )
    db.commit()
    return replacement


def do_request_password_reset(
    db: Session,
    email: str,
    *,
    now: datetime,
    base_url: str,
    ip: str,
    valid_minutes: int | None = None,
) -> None:
    """Email a single-use reset link to an active account with this address.

    Says nothing either way (no account enumeration): unknown or deactivated
    addresses are silently ignored, as is a second request within a minute.
    Only the token's hash is stored; the email is enqueued in the same
    transaction. `valid_minutes` defaults to the process settings.
    """
    minutes = valid_minutes if valid_minutes is not None else get_settings().password_reset_minutes
    user = _find_user_by_email(db, email)
    if user is None or not user.is_active:
        db.commit()
        return
    latest = db.scalar(
        select(func.max(PasswordResetToken.created_at)).where(PasswordResetToken.user_id == user.id)
    )
    if latest is not None and now - latest < RESET_EMAIL_COOLDOWN:
        db.commit()
        return
    raw = new_token()
    db.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=hash_token(raw),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    link = f"{base_url.rstrip('/')}/reset-password?token={raw}"
    enqueue_email(
        db,
        to=user.email,
        subject="Reset your Helpline password",
        text=(
            f"Hello {user.name},\n\n"
            f"Someone (hopefully you) asked to reset the password of the Helpline "
            f"account {user.email}.\n"
            f"Open this link within {minutes} minutes to choose a new password:\n\n"
            f"{link}\n\n"
            "The link works once. If you did not ask for it, ignore this email: "
            "your password stays as it is.\n"
        ),
        now=now,
    )
    record_audit(
        db,
        actor_user_id=None,
        action="auth.password_reset_requested",
        target_type="user",
        target_id=user.id,
        ip=ip,
        now=now,
    )
    db.commit()


def _usable_reset_token(
    db: Session, raw_token: str, *, now: datetime, for_update: bool
) -> tuple[PasswordResetToken, User]:
    query = (
        select(PasswordResetToken, User)
        .join(User, User.id == PasswordResetToken.user_id)
        .where(PasswordResetToken.token_hash == hash_token(raw_token))
    )
    if for_update:
        query = query.with_for_update(of=PasswordResetToken).execution_options(
            populate_existing=True
        )
    row = db.execute(query).first()
    if row is None:
        raise InvalidToken("this reset link is not valid; ask for a new one")
    token, user = row
    if token.used_at is not None or token.expires_at <= now or not user.is_active:
        raise InvalidToken("this reset link is not valid; ask for a new one")
    return token, user


def do_reset_password(
    db: Session, raw_token: str, new_password: str, *, now: datetime, ip: str = ""
) -> User:
    """Set a new password from an emailed link; the link works exactly once.

    Refuses unknown, used and expired links with InvalidToken. Signs the user out
    everywhere and lifts a login lockout. Locks the token row, so two
    simultaneous uses cannot both succeed.
    """
    try:
        _token, user = _usable_reset_token(db, raw_token, now=now, for_update=False)
        email = user.email
    finally:
        db.commit()
    check_password_policy(new_password, email=email)
    new_hash = hash_password(new_password)

    try:
        token, user = _usable_reset_token(db, raw_token, now=now, for_update=True)
    except InvalidToken:
        db.rollback()
        raise
    token.used_at = now
    _set_password(db, user, new_hash, now=now)
    record_audit(
        db,
        actor_user_id=user.id,
        action="auth.password_reset",
        target_type="user",
        target_id=user.id,
        ip=ip,
        now=now,
    )
    db.commit()
    return user
