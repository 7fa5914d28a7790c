"""What routing, SLAs and escalation do when a conversation changes.

`services.conversations` calls one `on_*` function inside its transaction (holding
the conversation's row lock) and, after its commit, `route_after` with what that
function returned. Inside: escalation rules, the SLA clock, the stored priority
score. After the commit: routing rounds for the conversation that now waits and
for the agent who freed capacity (routing never runs inside someone else's write,
so a slow round cannot hold their locks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Activity, Contact, Conversation, Team
from helpline.domain.access import Viewer
from helpline.domain.enums import ActivityKind, ConversationStatus, Plan
from helpline.services import escalation, routing, sla
from helpline.services.conversations import _lock_visible, _queue_conversation_event
from helpline.services.errors import ValidationFailed
from helpline.services.escalation import EscalationResult, Event, tell_customer
from helpline.services.history import record_activity
from helpline.settings import Settings, get_settings

MAX_REFUND_CENTS = 100_000_000_00


@dataclass(slots=True)
class RouteAfter:
    """The routing rounds a change calls for once it is committed."""

    conversation_ids: set[int] = field(default_factory=set)
    freed_agent_ids: set[int] = field(default_factory=set)
    activities: list[Activity] = field(default_factory=list)
    """History written by the hooks (for the caller's live event)."""


@dataclass(frozen=True, slots=True)
class _Context:
    setup: routing.RoutingSetup
    book: sla.PolicyBook
    warn_before: timedelta


def _context(db: Session, settings: Settings | None = None) -> _Context:
    settings = settings or get_settings()
    return _Context(
        setup=routing.load_setup(db, settings),
        book=routing.load_policy_book(db),
        warn_before=sla.warn_before(settings),
    )


HookContext = _Context


def hook_context(db: Session) -> HookContext:
    """Routing setup, SLA policies and warning lead time in force (cached per
    configuration version), for code that applies the hooks' rules itself
    (`chat_messages`)."""
    return _context(db)


def _is_waiting(conversation: Conversation) -> bool:
    return conversation.status == ConversationStatus.OPEN.value and conversation.assignee_id is None


def _follow_up(
    db: Session,
    conversation: Conversation,
    context: _Context,
    after: RouteAfter,
    *,
    now: datetime,
    rules: EscalationResult | None = None,
    rematch_policy: bool = False,
) -> RouteAfter:
    """After the facts changed: SLA (re-matching the policy when priority or category
    may have changed), the score, and what to route."""
    if rules is not None:
        after.activities.extend(rules.activities)
        if rules.freed_agent_id is not None:
            after.freed_agent_ids.add(rules.freed_agent_id)
        rematch_policy = rematch_policy or rules.priority_changed
    if rematch_policy:
        changes = sla.apply_policy(
            db, conversation, now=now, book=context.book, warn_before=context.warn_before
        )
    else:
        changes = sla.sync_sla(
            db, conversation, now=now, book=context.book, warn_before=context.warn_before
        )
    after.activities.extend(changes.activities)
    if changes.breached:
        breach = escalation.run_rules(
            db,
            conversation,
            event="sla_breached",
            now=now,
            tier2_team_id=context.setup.tier2_team_id,
        )
        after.activities.extend(breach.activities)
        if breach.freed_agent_id is not None:
            after.freed_agent_ids.add(breach.freed_agent_id)
    routing.rescore(db, conversation, now=now, weights=context.setup.base.weights)
    if _is_waiting(conversation):
        after.conversation_ids.add(conversation.id)
    return after


def _rules(
    db: Session,
    conversation: Conversation,
    context: _Context,
    event: Event,
    *,
    now: datetime,
    text: str = "",
) -> EscalationResult:
    return escalation.run_rules(
        db,
        conversation,
        event=event,
        now=now,
        text=text,
        tier2_team_id=context.setup.tier2_team_id,
    )


# ---------------------------------------------------------------- hooks inside the write


def on_conversation_created(
    db: Session, conversation: Conversation, *, text: str, now: datetime
) -> RouteAfter:
    """A new conversation: who served this customer before (sticky routing), whether
    this is their first contact, escalation rules, SLA policy and deadlines, score."""
    context = _context(db)
    contact = db.get(Contact, conversation.contact_id)
    assert contact is not None
    same_contact = (Conversation.contact_id == contact.id) & (Conversation.id != conversation.id)
    conversation.previous_agent_id = db.scalar(
        select(Conversation.assignee_id)
        .where(same_contact, Conversation.assignee_id.is_not(None))
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    has_earlier = db.scalar(select(Conversation.id).where(same_contact).limit(1))
    conversation.first_contact = (
        has_earlier is None
        and contact.plan in (None, Plan.FREE.value)
        and contact.orders_count == 0
    )
    words = "\n".join(part for part in (conversation.subject, text) if part)
    rules = _rules(db, conversation, context, "created", now=now, text=words)
    return _follow_up(
        db, conversation, context, RouteAfter(), now=now, rules=rules, rematch_policy=True
    )


def on_customer_message(
    db: Session, conversation: Conversation, *, text: str, now: datetime
) -> RouteAfter:
    """The customer wrote: keyword rules, next-response clock (or a reopen), score."""
    context = _context(db)
    rules = _rules(db, conversation, context, "message", now=now, text=text)
    return _follow_up(db, conversation, context, RouteAfter(), now=now, rules=rules)


def on_agent_reply(
    db: Session,
    conversation: Conversation,
    *,
    agent_id: int | None,
    replied_to: datetime | None,
    now: datetime,
) -> RouteAfter:
    """An agent answered: a routed chat counts as accepted (no re-offer), and the
    response targets are met or missed."""
    if agent_id is not None and conversation.offered_to_id == agent_id:
        conversation.offered_to_id = None
        conversation.offered_at = None
    context = _context(db)
    after = RouteAfter()
    changes = sla.sync_sla(
        db,
        conversation,
        now=now,
        book=context.book,
        warn_before=context.warn_before,
        replied_to=replied_to,
    )
    after.activities.extend(changes.activities)
    if changes.breached:
        breach = _rules(db, conversation, context, "sla_breached", now=now)
        after.activities.extend(breach.activities)
    return after


def on_status_changed(
    db: Session,
    conversation: Conversation,
    *,
    previous_status: ConversationStatus,
    now: datetime,
) -> RouteAfter:
    """Pending and on hold pause the SLA clock, solving stops it; leaving `open`
    frees the agent's capacity; coming back to `open` unassigned waits for routing."""
    context = _context(db)
    after = RouteAfter()
    if (
        previous_status == ConversationStatus.OPEN
        and conversation.status != ConversationStatus.OPEN.value
        and conversation.assignee_id is not None
    ):
        after.freed_agent_ids.add(conversation.assignee_id)
    rules = _rules(db, conversation, context, "updated", now=now)
    return _follow_up(db, conversation, context, after, now=now, rules=rules)


def on_conversation_updated(
    db: Session, conversation: Conversation, *, now: datetime
) -> RouteAfter:
    """Priority or category changed: rules, SLA policy, score."""
    context = _context(db)
    rules = _rules(db, conversation, context, "updated", now=now)
    return _follow_up(
        db, conversation, context, RouteAfter(), now=now, rules=rules, rematch_policy=True
    )


def on_assignment_changed(
    db: Session, conversation: Conversation, *, previous_assignee_id: int | None, now: datetime
) -> RouteAfter:
    """Assigned or unassigned by hand: not a routed offer any more. An agent who gives
    a conversation back is not offered it again; their capacity is free."""
    conversation.offered_to_id = None
    conversation.offered_at = None
    after = RouteAfter()
    if previous_assignee_id is not None and conversation.assignee_id != previous_assignee_id:
        after.freed_agent_ids.add(previous_assignee_id)
        if conversation.assignee_id is None:
            excluded = set(conversation.routing_excluded_ids or ())
            excluded.add(previous_assignee_id)
            conversation.routing_excluded_ids = sorted(excluded)
    context = _context(db)
    return _follow_up(db, conversation, context, after, now=now)


def before_transfer_recorded(db: Session, conversation: Conversation, *, now: datetime) -> None:
    """Tell the customer their conversation is being passed on (before the transfer
    entry, so the history reads: notice, then who moved it where)."""
    tell_customer(db, conversation, escalation.TRANSFER_NOTICE, now=now)


def on_transfer(
    db: Session,
    conversation: Conversation,
    *,
    previous_assignee_id: int | None,
    previous_team_id: int | None,
    now: datetime,
) -> RouteAfter:
    """A transfer keeps the whole history; a tier-2 team's conversations need tier-2
    agents; a team-only transfer puts it back in the queue."""
    conversation.offered_to_id = None
    conversation.offered_at = None
    if conversation.team_id != previous_team_id and conversation.team_id is not None:
        team = db.get(Team, conversation.team_id)
        if team is not None and team.tier in (1, 2):
            conversation.tier = max(conversation.tier, team.tier)
    after = RouteAfter()
    if previous_assignee_id is not None and conversation.assignee_id != previous_assignee_id:
        after.freed_agent_ids.add(previous_assignee_id)
    context = _context(db)
    return _follow_up(db, conversation, context, after, now=now)


# ---------------------------------------------------------------- after the commit


def route_after(db: Session, after: RouteAfter | None, *, now: datetime) -> None:
    """Run the routing rounds a committed change calls for (never raises for a
    database failure: the periodic round catches up)."""
    escalated = [a.id for a in after.activities if a.kind == "escalated"] if after else []
    if escalated:  # AI assist: a summary for whoever the escalation reaches
        from helpline.services import ai_assist

        ai_assist.after_handover(db, escalated, now=now)
    if after is None or not (after.conversation_ids or after.freed_agent_ids):
        return
    routing.route_after_commit(
        db,
        now=now,
        conversation_ids=sorted(after.conversation_ids),
        freed_agent_ids=sorted(after.freed_agent_ids),
    )


# ---------------------------------------------------------------- refund requests


def do_record_refund_request(
    db: Session, viewer: Viewer, conversation_id: int, *, amount_cents: int, now: datetime
) -> Conversation:
    """Record the refund the customer asks for; rules such as "refund above the
    agent's authority → supervisor" look at it at once. Locks the conversation;
    commits, then routes if a rule moved it."""
    if not 1 <= amount_cents <= MAX_REFUND_CENTS:
        raise ValidationFailed("amount_cents must be a positive amount", {"field": "amount_cents"})
    conversation = _lock_visible(db, viewer, conversation_id)
    conversation.refund_requested_cents = amount_cents
    activity = record_activity(
        db,
        conversation,
        ActivityKind.REFUND_REQUESTED,
        now=now,
        actor_user_id=viewer.user_id,
        data={"amount_cents": amount_cents},
    )
    context = _context(db)
    rules = _rules(db, conversation, context, "refund", now=now)
    after = _follow_up(db, conversation, context, RouteAfter(), now=now, rules=rules)
    _queue_conversation_event(
        db,
        "conversation.updated",
        conversation,
        activities=[activity, *after.activities],
        also_notify=rules.previous_recipients,
    )
    db.commit()
    route_after(db, after, now=now)
    return conversation
