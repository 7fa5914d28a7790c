"""Reading conversations: the filtered, keyset-paginated inbox list and row loading.

The visibility filter here is the SQL twin of `domain.access.can_see_conversation`
(tests check that both agree). A page is one query for the conversations with
their contact, assignee and team names, one for their tags, and one capped count.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from helpline.adapters.db.models import (
    Contact,
    Conversation,
    ConversationTag,
    Participant,
    Team,
    User,
)
from helpline.domain.access import Viewer
from helpline.domain.enums import Channel, ConversationStatus, Priority, Role
from helpline.services.conversations import can_see
from helpline.services.errors import NotFound, ValidationFailed

ConversationSort = Literal["last_activity", "waiting", "priority", "created"]
SORTS: tuple[ConversationSort, ...] = ("last_activity", "waiting", "priority", "created")
COUNT_CAP = 1000
"""Counting stops here: an exact count of a huge inbox costs more than the page."""
MAX_PAGE = 100
MAX_ID = 2_147_483_647
NUMBER_QUERY = re.compile(r"^#?(\d{1,12})$")


@dataclass(frozen=True, slots=True)
class ConversationFilters:
    """What an agent narrows the inbox list to; None or () means no filter."""

    status: tuple[ConversationStatus, ...] = ()
    assignee: Literal["me", "unassigned"] | int | None = None
    team_id: int | None = None
    inbox_id: int | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    category: str | None = None
    tag: str | None = None
    q: str | None = None
    """Text search: the number (`#12` or `12`), the subject, the contact's name or email."""
    sort: ConversationSort = "last_activity"


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """A conversation with what a list shows next to it."""

    conversation: Conversation
    contact: Contact
    tags: list[str]
    assignee_name: str | None
    team_name: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationPage:
    data: list[ConversationRow]
    count: int
    """Rows matching the filters that the viewer can see, at most COUNT_CAP."""
    next_cursor: str | None
    count_capped: bool = False
    """True when there are more than `count` matching rows."""


# ---------------------------------------------------------------- access in SQL


def visibility_clause(viewer: Viewer) -> ColumnElement[bool]:
    """SQL WHERE clause equal to `can_see_conversation` for this viewer."""
    if viewer.role == Role.ADMIN:
        return true()
    conditions: list[ColumnElement[bool]] = [
        Conversation.assignee_id == viewer.user_id,
        # Joined as a participant and not left (uncorrelated: computed once).
        Conversation.id.in_(
            select(Participant.conversation_id).where(
                Participant.user_id == viewer.user_id, Participant.left_at.is_(None)
            )
        ),
    ]
    if viewer.team_ids:
        conditions.append(Conversation.team_id.in_(sorted(viewer.team_ids)))
    if viewer.inbox_ids:
        in_inbox = Conversation.inbox_id.in_(sorted(viewer.inbox_ids))
        if viewer.role == Role.SUPERVISOR:
            conditions.append(in_inbox)
        else:
            conditions.append(and_(Conversation.team_id.is_(None), in_inbox))
    return or_(*conditions)


# ---------------------------------------------------------------- sorting and cursors


@dataclass(frozen=True, slots=True)
class _SortKey:
    column: InstrumentedAttribute[Any]
    descending: bool
    kind: Literal["datetime", "float", "int"]
    nullable: bool = False


_SORT_KEYS: dict[ConversationSort, _SortKey] = {
    "last_activity": _SortKey(Conversation.last_activity_at, descending=True, kind="datetime"),
    "created": _SortKey(Conversation.created_at, descending=True, kind="datetime"),
    "priority": _SortKey(Conversation.priority_score, descending=True, kind="float"),
    # Longest-waiting first; conversations nobody waits on come last.
    "waiting": _SortKey(
        Conversation.waiting_since, descending=False, kind="datetime", nullable=True
    ),
}


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed("invalid cursor", {"field": "cursor"})


def _encode_cursor(sort: ConversationSort, value: Any, conversation_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps({"s": sort, "v": value, "id": conversation_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: ConversationSort) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        cursor_sort, value, conversation_id = data["s"], data["v"], data["id"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise _invalid_cursor() from exc
    if cursor_sort != sort or not _is_id(conversation_id):
        raise _invalid_cursor()
    key = _SORT_KEYS[sort]
    if value is None:
        if not key.nullable:
            raise _invalid_cursor()
        return None, conversation_id
    try:
        if key.kind == "datetime":
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise _invalid_cursor()
            return parsed, conversation_id
        if key.kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value), conversation_id
    except (TypeError, ValueError) as exc:
        raise _invalid_cursor() from exc
    raise _invalid_cursor()


def _after_cursor(key: _SortKey, value: Any, conversation_id: int) -> ColumnElement[bool]:
    """Rows strictly after (value, id) in the sort order (a keyset condition that
    PostgreSQL turns into an index range when the index ends with (key, id))."""
    if key.descending:
        return tuple_(key.column, Conversation.id) < tuple_(value, conversation_id)
    if value is None:  # only nullable keys sort NULLs last
        return and_(key.column.is_(None), Conversation.id > conversation_id)
    after = tuple_(key.column, Conversation.id) > tuple_(value, conversation_id)
    return or_(after, key.column.is_(None)) if key.nullable else after


def _order_by(key: _SortKey) -> list[Any]:
    if key.descending:
        return [key.column.desc(), Conversation.id.desc()]
    column = key.column.asc().nulls_last() if key.nullable else key.column.asc()
    return [column, Conversation.id.asc()]


# ---------------------------------------------------------------- filters


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_search(q: str) -> ColumnElement[bool]:
    pattern = _like_pattern(q)
    matching_contacts = select(Contact.id).where(
        or_(Contact.name.ilike(pattern, escape="\\"), Contact.email.ilike(pattern, escape="\\"))
    )
    conditions: list[ColumnElement[bool]] = [
        Conversation.subject.ilike(pattern, escape="\\"),
        Conversation.contact_id.in_(matching_contacts),
    ]
    number = NUMBER_QUERY.match(q)
    if number:
        conditions.append(Conversation.number == int(number.group(1)))
    return or_(*conditions)


def filter_conditions(viewer: Viewer, filters: ConversationFilters) -> list[ColumnElement[bool]]:
    """The WHERE clause of a list: what the viewer may see, narrowed by the filters."""
    for name in ("category", "tag", "q"):
        value = getattr(filters, name)
        if value is not None and "\x00" in value:
            # No database can match it, and PostgreSQL refuses it outright.
            raise ValidationFailed(f"{name} contains a NUL character", {"field": name})
    conditions = [visibility_clause(viewer)]
    if filters.status:
        conditions.append(Conversation.status.in_(sorted({s.value for s in filters.status})))
    if filters.assignee == "me":
        conditions.append(Conversation.assignee_id == viewer.user_id)
    elif filters.assignee == "unassigned":
        conditions.append(Conversation.assignee_id.is_(None))
    elif isinstance(filters.assignee, int):
        conditions.append(Conversation.assignee_id == filters.assignee)
    if filters.team_id is not None:
        conditions.append(Conversation.team_id == filters.team_id)
    if filters.inbox_id is not None:
        conditions.append(Conversation.inbox_id == filters.inbox_id)
    if filters.priority is not None:
        conditions.append(Conversation.priority == filters.priority.value)
    if filters.channel is not None:
        conditions.append(Conversation.channel == filters.channel.value)
    if filters.category is not None:
        conditions.append(Conversation.category == filters.category.strip().lower())
    if filters.tag is not None:
        tag = " ".join(filters.tag.split()).lower()
        conditions.append(
            exists().where(
                ConversationTag.conversation_id == Conversation.id, ConversationTag.tag == tag
            )
            if tag
            else false()
        )
    if filters.q is not None and filters.q.strip():
        conditions.append(_text_search(filters.q.strip()))
    return conditions


# ---------------------------------------------------------------- queries


def tags_for(db: Session, conversation_ids: list[int]) -> dict[int, list[str]]:
    """Tags of many conversations in one query."""
    tags: dict[int, list[str]] = {conversation_id: [] for conversation_id in conversation_ids}
    if not conversation_ids:
        return tags
    rows = db.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag)
        .where(ConversationTag.conversation_id.in_(conversation_ids))
        .order_by(ConversationTag.conversation_id, ConversationTag.tag)
    )
    for conversation_id, tag in rows:
        tags[conversation_id].append(tag)
    return tags


def load_rows(db: Session, conversation_ids: list[int]) -> list[ConversationRow]:
    """Conversations with contact, assignee name, team name and tags, in the order
    given, in two queries whatever their number."""
    if not conversation_ids:
        return []
    assignee = User.__table__.alias("assignee")
    rows = db.execute(
        select(Conversation, Contact, assignee.c.name, Team.name)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(assignee, assignee.c.id == Conversation.assignee_id)
        .outerjoin(Team, Team.id == Conversation.team_id)
        .where(Conversation.id.in_(conversation_ids))
    ).all()
    tags = tags_for(db, conversation_ids)
    by_id = {
        conversation.id: ConversationRow(
            conversation=conversation,
            contact=contact,
            tags=tags[conversation.id],
            assignee_name=assignee_name,
            team_name=team_name,
        )
        for conversation, contact, assignee_name, team_name in rows
    }
    return [
        by_id[conversation_id] for conversation_id in conversation_ids if conversation_id in by_id
    ]


def list_conversations(
    db: Session,
    viewer: Viewer,
    filters: ConversationFilters,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> ConversationPage:
    """One page of the conversations the viewer can see, keyset-paginated on
    (sort key, id) so every row appears once across pages even while rows change."""
    if filters.sort not in _SORT_KEYS:
        raise ValidationFailed("unknown sort", {"field": "sort"})
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit is 1 to {MAX_PAGE}", {"field": "limit"})
    key = _SORT_KEYS[filters.sort]
    conditions = filter_conditions(viewer, filters)
    page_conditions = list(conditions)
    if cursor:
        page_conditions.append(_after_cursor(key, *_decode_cursor(cursor, filters.sort)))
    # Two steps: find the page's ids with a narrow, index-friendly query, then load
    # those rows with their contact, assignee and team; sorting never carries wide rows.
    page = db.execute(
        select(Conversation.id, key.column)
        .where(*page_conditions)
        .order_by(*_order_by(key))
        .limit(limit + 1)
    ).all()
    data = load_rows(db, [conversation_id for conversation_id, _ in page[:limit]])
    next_cursor = None
    if len(page) > limit:
        # The cursor holds the sort value this query saw, even if the row changed since.
        last_id, last_value = page[limit - 1]
        next_cursor = _encode_cursor(filters.sort, last_value, last_id)
    # A first page that is not full already is the whole answer: no count query
    # (the expensive case is a rare match, like a search, that scans to find few rows).
    count = len(page) if cursor is None and len(page) <= limit else None
    if count is None:
        count = count_conversations(db, conditions)
    return ConversationPage(
        data=data,
        count=min(count, COUNT_CAP),
        next_cursor=next_cursor,
        count_capped=count > COUNT_CAP,
    )


def count_conversations(db: Session, conditions: list[ColumnElement[bool]]) -> int:
    """Matching rows, counted up to COUNT_CAP + 1 (so callers can tell "more")."""
    matching = select(Conversation.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    return db.scalar(select(func.count()).select_from(matching)) or 0


def describe_conversation(db: Session, conversation: Conversation) -> ConversationRow:
    """The row for one conversation (after a write, or for a detail view)."""
    (row,) = load_rows(db, [conversation.id])
    return row


def get_conversation(db: Session, viewer: Viewer, conversation_id: int) -> ConversationRow:
    """One conversation the viewer can see (NotFound otherwise), ready to show."""
    rows = load_rows(db, [conversation_id])
    if not rows or not can_see(viewer, rows[0].conversation):
        raise NotFound("conversation", conversation_id)
    return rows[0]
