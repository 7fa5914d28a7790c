"""The supervisor's picture of the floor, in one read: the queue (waiting per
priority, longest wait, expected waits), every agent (status, time in it, load
against cap, chats today, their open conversations) and the conversations whose
SLA is at risk. Reassigning goes through `conversations.do_assign`.

Supervisors and admins only; the conversations listed are those the access rule
lets the viewer see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact, Conversation, Team, User
from helpline.domain.access import Viewer
from helpline.domain.enums import AgentStatus, ConversationStatus, Priority
from helpline.services import routing
from helpline.services.conversation_queries import visibility_clause
from helpline.services.errors import PermissionDenied
from helpline.settings import Settings

QUEUE_ROWS = 50
RISK_ROWS = 50
CHATS_PER_AGENT = 20


@dataclass(frozen=True, slots=True)
class QueueItem:
    conversation_id: int
    number: int
    subject: str
    contact_name: str
    priority: Priority
    waiting_since: datetime | None
    position: int | None
    estimated_wait_seconds: float | None
    reason: str
    eligible_agents: int


@dataclass(frozen=True, slots=True)
class QueueSummary:
    waiting: int
    by_priority: dict[str, int]
    longest_wait_seconds: float | None
    items: list[QueueItem]


@dataclass(frozen=True, slots=True)
class ChatItem:
    conversation_id: int
    number: int
    subject: str
    contact_name: str
    priority: str
    channel: str
    waiting_since: datetime | None


@dataclass(frozen=True, slots=True)
class AgentItem:
    user_id: int
    name: str
    role: str
    status: AgentStatus
    status_since: datetime
    open_chats: int
    open_email_tickets: int
    max_concurrent_chats: int
    chats_today: int
    conversations: list[ChatItem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RiskItem:
    conversation_id: int
    number: int
    subject: str
    contact_name: str
    priority: str
    assignee_id: int | None
    assignee_name: str | None
    team_name: str | None
    target: str
    due_at: datetime
    overdue: bool


@dataclass(frozen=True, slots=True)
class Overview:
    now: datetime
    queue: QueueSummary
    agents: list[AgentItem]
    at_risk: list[RiskItem]


def _contact_name(contact: Contact) -> str:
    return contact.name or contact.email or "Customer"


def _queue(db: Session, viewer: Viewer, now: datetime, settings: Settings) -> QueueSummary:
    rows, count = routing.list_queue(db, viewer, now=now, limit=500, settings=settings)
    by_priority = {priority.value: 0 for priority in Priority}
    longest: float | None = None
    for row in rows:
        by_priority[row.conversation.priority] = by_priority.get(row.conversation.priority, 0) + 1
        since = row.conversation.waiting_since
        if since is not None:
            waited = (now - since).total_seconds()
            longest = waited if longest is None else max(longest, waited)
    items = [
        QueueItem(
            conversation_id=row.conversation.id,
            number=row.conversation.number,
            subject=row.conversation.subject,
            contact_name=_contact_name(row.contact),
            priority=Priority(row.conversation.priority),
            waiting_since=row.conversation.waiting_since,
            position=row.estimate.position,
            estimated_wait_seconds=row.estimate.estimated_wait_seconds,
            reason=row.estimate.reason,
            eligible_agents=row.eligible_agents,
        )
        for row in rows[:QUEUE_ROWS]
    ]
    return QueueSummary(count, by_priority, longest, items)


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _chats_today(db: Session, agent_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """Conversations assigned to each agent that saw activity since midnight (UTC)."""
    if not agent_ids:
        return {}
    rows = db.execute(
        select(Conversation.assignee_id, func.count())
        .where(
            Conversation.assignee_id.in_(sorted(agent_ids)),
            Conversation.last_activity_at >= _day_start(now),
        )
        .group_by(Conversation.assignee_id)
    )
    return {int(agent_id or 0): int(count) for agent_id, count in rows}


def _open_chats(db: Session, viewer: Viewer, agent_ids: Sequence[int]) -> dict[int, list[ChatItem]]:
    if not agent_ids:
        return {}
    rows = db.execute(
        select(Conversation, Contact)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(
            Conversation.assignee_id.in_(sorted(agent_ids)),
            Conversation.status == ConversationStatus.OPEN.value,
            visibility_clause(viewer),
        )
        .order_by(Conversation.priority_score.desc(), Conversation.id)
    ).all()
    chats: dict[int, list[ChatItem]] = {}
    for conversation, contact in rows:
        assert conversation.assignee_id is not None
        listed = chats.setdefault(conversation.assignee_id, [])
        if len(listed) < CHATS_PER_AGENT:
            listed.append(
                ChatItem(
                    conversation_id=conversation.id,
                    number=conversation.number,
                    subject=conversation.subject,
                    contact_name=_contact_name(contact),
                    priority=conversation.priority,
                    channel=conversation.channel,
                    waiting_since=conversation.waiting_since,
                )
            )
    return chats


def _agents(db: Session, viewer: Viewer, now: datetime, settings: Settings) -> list[AgentItem]:
    loads = routing.list_agent_loads(db, settings=settings)
    ids = [load.user.id for load in loads]
    today = _chats_today(db, ids, now)
    chats = _open_chats(db, viewer, ids)
    return [
        AgentItem(
            user_id=load.user.id,
            name=load.user.name,
            role=load.user.role,
            status=AgentStatus(load.user.status),
            status_since=load.user.status_since,
            open_chats=load.open_chats,
            open_email_tickets=load.open_email_tickets,
            max_concurrent_chats=load.user.max_concurrent_chats,
            chats_today=today.get(load.user.id, 0),
            conversations=chats.get(load.user.id, []),
        )
        for load in loads
    ]


def _at_risk(db: Session, viewer: Viewer, now: datetime, settings: Settings) -> list[RiskItem]:
    """Open conversations with a running SLA whose next deadline is within the
    warning window (HELPLINE_SLA_WARNING_MINUTES) or already past."""
    horizon = now + timedelta(minutes=settings.sla_warning_minutes)
    first = and_(
        Conversation.first_response_at.is_(None),
        Conversation.first_response_due_at <= horizon,
    )
    following = and_(
        Conversation.waiting_since.is_not(None),
        Conversation.first_response_at.is_not(None),
        Conversation.next_response_due_at <= horizon,
    )
    resolution = Conversation.resolution_due_at <= horizon
    assignee = User.__table__.alias("assignee")
    rows = db.execute(
        select(Conversation, Contact, assignee.c.name, Team.name)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(assignee, assignee.c.id == Conversation.assignee_id)
        .outerjoin(Team, Team.id == Conversation.team_id)
        .where(
            Conversation.status == ConversationStatus.OPEN.value,
            Conversation.sla_state == "active",
            or_(first, following, resolution),
            visibility_clause(viewer),
        )
        .limit(RISK_ROWS * 4)
    ).all()
    items = []
    for conversation, contact, assignee_name, team_name in rows:
        candidates = []
        if conversation.first_response_at is None and conversation.first_response_due_at:
            candidates.append(("first_response", conversation.first_response_due_at))
        elif conversation.waiting_since is not None and conversation.next_response_due_at:
            candidates.append(("next_response", conversation.next_response_due_at))
        if conversation.resolution_due_at:
            candidates.append(("resolution", conversation.resolution_due_at))
        due = [pair for pair in candidates if pair[1] <= horizon]
        if not due:
            continue
        target, due_at = min(due, key=lambda pair: pair[1])
        items.append(
            RiskItem(
                conversation_id=conversation.id,
                number=conversation.number,
                subject=conversation.subject,
                contact_name=_contact_name(contact),
                priority=conversation.priority,
                assignee_id=conversation.assignee_id,
                assignee_name=assignee_name,
                team_name=team_name,
                target=target,
                due_at=due_at,
                overdue=due_at <= now,
            )
        )
    items.sort(key=lambda item: (item.due_at, item.conversation_id))
    return items[:RISK_ROWS]


def get_overview(db: Session, viewer: Viewer, *, now: datetime, settings: Settings) -> Overview:
    """Everything the supervisor view shows. Supervisors and admins only."""
    if not viewer.is_supervisor_or_admin:
        raise PermissionDenied("the supervisor view is for supervisors and admins")
    queue = _queue(db, viewer, now, settings)
    agents = _agents(db, viewer, now, settings)
    at_risk = _at_risk(db, viewer, now, settings)
    db.commit()
    return Overview(now=now, queue=queue, agents=agents, at_risk=at_risk)
