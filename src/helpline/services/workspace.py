"""Reading and bulk-changing conversations for the agent workspace: the inbox views
(Mine, Unassigned, My teams, All) with every filter the workspace offers, counts per
view, the customer sidebar, and bulk assign / status / tag.

The list reuses the inbox list's visibility and filter clauses
(`conversation_queries.filter_conditions`) and adds what only the workspace filters
on (language, SLA at risk, "my teams"); writes go through the conversation actions,
one transaction per conversation, so a bulk action never half-applies to one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact, Conversation
from helpline.domain.access import Viewer
from helpline.domain.enums import Channel, ConversationStatus, Priority
from helpline.domain.errors import DomainError
from helpline.services import conversations as conversation_actions
from helpline.services.conversation_queries import (
    ConversationFilters,
    ConversationRow,
    count_conversations,
    filter_conditions,
    get_conversation,
    load_rows,
    tags_for,
)
from helpline.services.errors import ValidationFailed

WorkspaceView = Literal["mine", "unassigned", "teams", "all"]
WorkspaceSort = Literal["priority", "waiting"]
VIEWS: tuple[WorkspaceView, ...] = ("mine", "unassigned", "teams", "all")
ACTIVE = (ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.ON_HOLD)
SLA_RISK_WINDOW = timedelta(minutes=30)
"""A deadline this close (or already missed) puts a conversation "at risk"."""
MAX_LIST = 100
MAX_BULK = 100
PREVIOUS_CONVERSATIONS = 10


@dataclass(frozen=True, slots=True)
class InboxQuery:
    """One workspace inbox view with its filters; None means no filter."""

    view: WorkspaceView = "mine"
    status: tuple[ConversationStatus, ...] = ACTIVE
    priority: Priority | None = None
    channel: Channel | None = None
    category: str | None = None
    tag: str | None = None
    language: str | None = None
    sla_risk: bool = False
    sort: WorkspaceSort = "priority"
    q: str | None = None


def views_for(viewer: Viewer) -> list[WorkspaceView]:
    """Agents see their part of the queue; "All" is for supervisors and admins."""
    return list(VIEWS) if viewer.is_supervisor_or_admin else ["mine", "unassigned", "teams"]


def _view_condition(viewer: Viewer, view: WorkspaceView) -> ColumnElement[bool] | None:
    if view == "mine":
        return Conversation.assignee_id == viewer.user_id
    if view == "unassigned":
        return Conversation.assignee_id.is_(None)
    if view == "teams":
        if not viewer.team_ids:
            return false()
        return Conversation.team_id.in_(sorted(viewer.team_ids))
    return None


def sla_risk_condition(now: datetime) -> ColumnElement[bool]:
    """Active, with a running SLA deadline within the window or already missed."""
    soon = now + SLA_RISK_WINDOW
    return and_(
        Conversation.status.in_([status.value for status in ACTIVE]),
        or_(
            and_(
                Conversation.first_response_at.is_(None),
                Conversation.first_response_due_at.is_not(None),
                Conversation.first_response_due_at <= soon,
            ),
            and_(
                Conversation.waiting_since.is_not(None),
                Conversation.next_response_due_at.is_not(None),
                Conversation.next_response_due_at <= soon,
            ),
            and_(
                Conversation.resolution_due_at.is_not(None),
                Conversation.resolution_due_at <= soon,
            ),
        ),
    )


def _conditions(viewer: Viewer, query: InboxQuery, now: datetime) -> list[ColumnElement[bool]]:
    if query.view not in views_for(viewer):
        raise ValidationFailed("that view is not available to you", {"field": "view"})
    conditions = filter_conditions(
        viewer,
        ConversationFilters(
            status=query.status,
            priority=query.priority,
            channel=query.channel,
            category=query.category,
            tag=query.tag,
            q=query.q,
        ),
    )
    view = _view_condition(viewer, query.view)
    if view is not None:
        conditions.append(view)
    if query.language:
        conditions.append(Conversation.language == query.language.strip().lower())
    if query.sla_risk:
        conditions.append(sla_risk_condition(now))
    return conditions


def list_inbox(
    db: Session, viewer: Viewer, query: InboxQuery, *, now: datetime, limit: int = MAX_LIST
) -> tuple[list[ConversationRow], int]:
    """The first `limit` conversations of a view, highest priority score (or longest
    waiting) first, and how many match (capped like the inbox list)."""
    conditions = _conditions(viewer, query, now)
    order: list[Any]
    if query.sort == "waiting":
        order = [Conversation.waiting_since.asc().nulls_last(), Conversation.id.asc()]
    else:
        order = [Conversation.priority_score.desc(), Conversation.id.desc()]
    ids = list(
        db.scalars(select(Conversation.id).where(*conditions).order_by(*order).limit(limit + 1))
    )
    count = len(ids) if len(ids) <= limit else count_conversations(db, conditions)
    return load_rows(db, ids[:limit]), count


def view_counts(db: Session, viewer: Viewer, *, now: datetime) -> dict[str, int]:
    """Active conversations per view (capped at the list's count cap)."""
    return {
        view: count_conversations(db, _conditions(viewer, InboxQuery(view=view), now))
        for view in views_for(viewer)
    }


# ---------------------------------------------------------------- customer sidebar


@dataclass(frozen=True, slots=True)
class CustomerContext:
    """The customer next to a conversation: who they are and what they asked before."""

    conversation: ConversationRow
    contact: Contact
    previous: list[Conversation]


def customer_context(db: Session, viewer: Viewer, conversation_id: int) -> CustomerContext:
    """The contact of a conversation the viewer can see, with their other
    conversations that the viewer can also see (newest first)."""
    row = get_conversation(db, viewer, conversation_id)
    conditions = filter_conditions(viewer, ConversationFilters())
    previous = list(
        db.scalars(
            select(Conversation)
            .where(
                *conditions,
                Conversation.contact_id == row.contact.id,
                Conversation.id != conversation_id,
            )
            .order_by(Conversation.created_at.desc(), Conversation.id.desc())
            .limit(PREVIOUS_CONVERSATIONS)
        )
    )
    return CustomerContext(conversation=row, contact=row.contact, previous=previous)


# ---------------------------------------------------------------- bulk actions


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    conversation_id: int
    ok: bool
    code: str | None = None
    message: str | None = None


BulkAction = Literal["assign", "status", "tag"]


def do_bulk(
    db: Session,
    viewer: Viewer,
    conversation_ids: list[int],
    *,
    action: BulkAction,
    now: datetime,
    assignee_id: int | None = None,
    status: ConversationStatus | None = None,
    tag: str | None = None,
) -> list[BulkOutcome]:
    """Apply one action to many conversations, each in its own transaction (the
    conversation actions lock and commit); a refusal for one (not visible, a
    transition the state machine forbids) is reported and the rest go on."""
    unique = list(dict.fromkeys(conversation_ids))
    if not 1 <= len(unique) <= MAX_BULK:
        raise ValidationFailed(
            f"choose 1 to {MAX_BULK} conversations", {"field": "conversation_ids"}
        )
    if action == "status" and status is None:
        raise ValidationFailed("status is required", {"field": "status"})
    if action == "tag":
        if tag is None or not tag.strip():
            raise ValidationFailed("tag is required", {"field": "tag"})
        (tag,) = conversation_actions.check_tags([tag])
    outcomes: list[BulkOutcome] = []
    for conversation_id in unique:
        try:
            if action == "assign":
                conversation_actions.do_assign(db, viewer, conversation_id, assignee_id, now=now)
            elif action == "status":
                assert status is not None
                conversation_actions.do_change_status(db, viewer, conversation_id, status, now=now)
            else:
                assert tag is not None
                current = tags_for(db, [conversation_id])[conversation_id]
                if tag not in current:
                    conversation_actions.do_set_tags(
                        db, viewer, conversation_id, [*current, tag], now=now
                    )
                else:  # still check the viewer may see it: same answer either way
                    conversation_actions.access_conversation(db, viewer, conversation_id)
                    db.rollback()
            outcomes.append(BulkOutcome(conversation_id, ok=True))
        except DomainError as error:
            db.rollback()
            outcomes.append(
                BulkOutcome(conversation_id, ok=False, code=error.code, message=str(error))
            )
    return outcomes
