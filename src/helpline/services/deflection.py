"""Deflection: visitors who found their answer in an article instead of starting a chat.

The widget reports each article a visitor opens (`do_record_view`); views by the same
visitor less than `DEFLECTION_WINDOW` apart form one self-service session. The worker
job `settle_deflections` settles every session whose window has passed: a chat, when
the visitor started a conversation in the inbox between their first view and the end
of the window, otherwise a deflection.

A visitor with a signed widget visitor token is known by their contact, so their chat
is found in the conversations. An anonymous visitor is known only by the random
token the first view returned (stored as a SHA-256 hash); the widget reports their
chat with the chat-started endpoint, or live-chat code calls `note_chat_started`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Article, Conversation, DeflectionSession
from helpline.domain.access import Viewer
from helpline.services.articles import HelpCenter, widget_inbox
from helpline.services.errors import NotFound, PermissionDenied, ValidationFailed
from helpline.services.search_index import article_entry
from helpline.services.visitors import read_visitor_token

DEFLECTION_WINDOW = timedelta(minutes=30)
"""A visitor who opened an article and started no chat this long after counts as deflected."""
MAX_ARTICLES_PER_SESSION = 50
MAX_REPORT_DAYS = 366
SETTLE_BATCH = 1_000
VISITOR_TOKEN = re.compile(r"^[A-Za-z0-9._~-]{16,512}$")
SIGNED_TOKEN_MAX_AGE = timedelta(days=400)
"""Only the visitor's identity is read from a widget token here; its own lifetime is
the widget's business, and an old token names the same visitor."""


def visitor_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _identify(
    token: str, inbox_id: int, secret_key: str | None, now: datetime
) -> tuple[str, int | None]:
    """(visitor key, contact id): a signed widget token names a contact, whatever
    token the visitor holds today; any other token is its own identity."""
    if secret_key is not None:
        visitor = read_visitor_token(secret_key, token, now=now, max_age=SIGNED_TOKEN_MAX_AGE)
        if visitor is not None and visitor.inbox_id == inbox_id:
            return visitor_key(f"contact:{visitor.contact_id}"), visitor.contact_id
    return visitor_key(token), None


def check_visitor_token(token: str | None) -> str:
    """The widget's token, or a new random one when it sent none."""
    if token is None or token == "":
        return secrets.token_urlsafe(24)
    if not VISITOR_TOKEN.match(token):
        raise ValidationFailed(
            "visitor_token is 16 to 512 letters, digits or '.', '_', '~', '-'",
            {"field": "visitor_token"},
        )
    return token


@dataclass(frozen=True, slots=True)
class RecordedView:
    session: DeflectionSession
    visitor_token: str
    """Send it back with the next view and when a chat starts."""


def do_record_view(
    db: Session,
    public_key: str,
    article_id: int,
    visitor_token: str | None,
    *,
    secret_key: str | None = None,
    now: datetime,
) -> RecordedView:
    """Record that a widget visitor opened an article of this inbox's help center.
    `secret_key` (the app's) lets a signed widget visitor token name the contact.
    The visitor's pending session is locked (PostgreSQL) while it is extended."""
    inbox = widget_inbox(db, public_key)
    article = db.get(Article, article_id)
    if article is None or not HelpCenter(inbox=inbox).accepts(article_entry(article)):
        raise NotFound("article", article_id)
    token = check_visitor_token(visitor_token)
    key, contact_id = _identify(token, inbox.id, secret_key, now)
    session = db.scalar(
        select(DeflectionSession)
        .where(
            DeflectionSession.inbox_id == inbox.id,
            DeflectionSession.visitor_key == key,
            DeflectionSession.outcome == "pending",
            DeflectionSession.last_viewed_at > now - DEFLECTION_WINDOW,
        )
        .order_by(DeflectionSession.last_viewed_at.desc())
        .limit(1)
        .with_for_update()
    )
    if session is None:
        session = DeflectionSession(
            inbox_id=inbox.id,
            visitor_key=key,
            contact_id=contact_id,
            article_ids=[article.id],
            first_viewed_at=now,
            last_viewed_at=now,
            outcome="pending",
        )
        db.add(session)
    else:
        viewed = list(session.article_ids or [])
        if article.id not in viewed and len(viewed) < MAX_ARTICLES_PER_SESSION:
            session.article_ids = [*viewed, article.id]
        session.last_viewed_at = max(session.last_viewed_at, now)
    db.commit()
    return RecordedView(session=session, visitor_token=token)


def note_chat_started(
    db: Session,
    *,
    inbox_id: int,
    visitor_token: str,
    secret_key: str | None = None,
    now: datetime,
) -> int:
    """The visitor started a chat: their recent self-service sessions were not enough.

    For live-chat code to call inside its own transaction (it does not commit);
    returns how many sessions it marked. Chats of visitors with a signed widget
    token are also found by `settle_deflections` without this call.
    """
    key, _ = _identify(visitor_token, inbox_id, secret_key, now)
    result = cast(
        CursorResult[Any],
        db.execute(
            update(DeflectionSession)
            .where(
                DeflectionSession.inbox_id == inbox_id,
                DeflectionSession.visitor_key == key,
                DeflectionSession.outcome == "pending",
                DeflectionSession.last_viewed_at >= now - DEFLECTION_WINDOW,
            )
            .values(outcome="chat", settled_at=now)
        ),
    )
    return int(result.rowcount or 0)


def do_record_chat_started(
    db: Session,
    public_key: str,
    visitor_token: str,
    *,
    secret_key: str | None = None,
    now: datetime,
) -> int:
    """`note_chat_started` for the widget endpoint, in its own transaction."""
    inbox = widget_inbox(db, public_key)
    token = check_visitor_token(visitor_token)
    marked = note_chat_started(
        db, inbox_id=inbox.id, visitor_token=token, secret_key=secret_key, now=now
    )
    db.commit()
    return marked


def _chat_followed(db: Session, sessions: list[DeflectionSession]) -> set[int]:
    """Ids of the sessions whose contact opened a conversation in the inbox between
    their first view and the end of their window."""
    contact_ids = {session.contact_id for session in sessions if session.contact_id is not None}
    if not contact_ids:
        return set()
    earliest = min(session.first_viewed_at for session in sessions)
    started: dict[tuple[int, int], list[datetime]] = {}
    for contact_id, inbox_id, created_at in db.execute(
        select(Conversation.contact_id, Conversation.inbox_id, Conversation.created_at).where(
            Conversation.contact_id.in_(sorted(contact_ids)),
            Conversation.created_at >= earliest,
        )
    ):
        started.setdefault((contact_id, inbox_id), []).append(created_at)
    followed: set[int] = set()
    for session in sessions:
        if session.contact_id is None:
            continue
        for created_at in started.get((session.contact_id, session.inbox_id), ()):
            if session.first_viewed_at <= created_at <= session.last_viewed_at + DEFLECTION_WINDOW:
                followed.add(session.id)
                break
    return followed


def settle_deflections(db: Session, now: datetime) -> int:
    """Worker job: settle the sessions whose window has passed, as a chat when the
    visitor's contact started one in time, otherwise as a deflection. Safe to run
    in several workers at once (each row settles once). Returns how many settled."""
    settled = 0
    while True:
        due = list(
            db.scalars(
                select(DeflectionSession)
                .where(
                    DeflectionSession.outcome == "pending",
                    DeflectionSession.last_viewed_at <= now - DEFLECTION_WINDOW,
                )
                .order_by(DeflectionSession.id)
                .limit(SETTLE_BATCH)
            )
        )
        if not due:
            break
        chats = _chat_followed(db, due)
        for outcome, ids in (
            ("chat", [session.id for session in due if session.id in chats]),
            ("deflected", [session.id for session in due if session.id not in chats]),
        ):
            if not ids:
                continue
            result = cast(
                CursorResult[Any],
                db.execute(
                    update(DeflectionSession)
                    .where(DeflectionSession.id.in_(ids), DeflectionSession.outcome == "pending")
                    .values(outcome=outcome, settled_at=now)
                    .execution_options(synchronize_session=False)
                ),
            )
            settled += int(result.rowcount or 0)
        db.commit()
        if len(due) < SETTLE_BATCH:
            break
    db.commit()
    return settled


@dataclass(frozen=True, slots=True)
class ArticleDeflection:
    article_id: int
    title: str | None
    sessions: int
    deflections: int


@dataclass(frozen=True, slots=True)
class DeflectionReport:
    start: datetime
    end: datetime
    sessions: int
    """Self-service sessions that began in [start, end)."""
    deflections: int
    chats: int
    pending: int
    """Still inside their window: neither counted as deflected nor as a chat yet."""
    articles: list[ArticleDeflection]

    @property
    def rate(self) -> float | None:
        """Deflections among settled sessions; None before any settled."""
        settled = self.deflections + self.chats
        return round(self.deflections / settled, 4) if settled else None


def deflection_report(
    db: Session, viewer: Viewer, *, start: datetime, end: datetime
) -> DeflectionReport:
    """Supervisors and admins: how many visitors helped themselves, and with what."""
    if not viewer.is_supervisor_or_admin:
        raise PermissionDenied("reports are for supervisors and admins")
    if end <= start:
        raise ValidationFailed("'to' must be after 'from'", {"field": "to"})
    if end - start > timedelta(days=MAX_REPORT_DAYS):
        raise ValidationFailed(f"a report covers at most {MAX_REPORT_DAYS} days", {"field": "from"})
    in_range = (
        DeflectionSession.first_viewed_at >= start,
        DeflectionSession.first_viewed_at < end,
    )
    counts = dict(
        db.execute(
            select(DeflectionSession.outcome, func.count(DeflectionSession.id))
            .where(*in_range)
            .group_by(DeflectionSession.outcome)
        ).all()
    )
    per_article: dict[int, list[int]] = {}
    for article_ids, outcome in db.execute(
        select(DeflectionSession.article_ids, DeflectionSession.outcome).where(*in_range)
    ):
        for article_id in article_ids or ():
            tally = per_article.setdefault(int(article_id), [0, 0])
            tally[0] += 1
            if outcome == "deflected":
                tally[1] += 1
    titles = dict(
        db.execute(select(Article.id, Article.title).where(Article.id.in_(list(per_article)))).all()
    )
    articles = sorted(
        (
            ArticleDeflection(
                article_id=article_id,
                title=titles.get(article_id),
                sessions=tally[0],
                deflections=tally[1],
            )
            for article_id, tally in per_article.items()
        ),
        key=lambda row: (-row.deflections, -row.sessions, row.article_id),
    )
    return DeflectionReport(
        start=start,
        end=end,
        sessions=sum(counts.values()),
        deflections=counts.get("deflected", 0),
        chats=counts.get("chat", 0),
        pending=counts.get("pending", 0),
        articles=articles,
    )
