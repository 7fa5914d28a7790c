"""The routing engine's periodic work, run by the background worker.

Every worker round: chats nobody answered within the answer timeout (or whose
agent went away or offline) are re-offered, and SLA clocks that are due for a
look raise their warnings and breaches. Every `routing_tick_seconds` (one worker
process at a time, coordinated through the database): the whole queue is
re-scored, time-based escalation rules are checked, and everything still waiting
is routed. Each job commits its own work and returns how much it did.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from helpline.adapters.db import routing_repo as repo
from helpline.adapters.db.models import Activity, Conversation
from helpline.domain.enums import ActivityKind
from helpline.services import escalation, routing, sla
from helpline.services.conversations import activity_payload, conversation_payload
from helpline.services.events import LiveEvent, queue_event
from helpline.services.recipients import recipients_for
from helpline.settings import Settings

log = logging.getLogger(__name__)

SLA_BATCH = 200
"""SLA clocks looked at per run (the worker comes back within a second)."""
ESCALATION_BATCH = 200
"""Conversations escalated by time-based rules per tick (the rest next tick)."""


def reoffer_job(db: Session, *, now: datetime, settings: Settings) -> int:
    """Unanswered or abandoned chats go to someone else; returns how many."""
    return len(routing.reoffer_unanswered(db, now=now, settings=settings))


def _updated_event(db: Session, conversation: Conversation, activities: list[object]) -> None:
    db.flush()
    queue_event(
        db,
        LiveEvent(
            type="conversation.updated",
            payload={
                "conversation": conversation_payload(conversation),
                "activities": [activity_payload(a) for a in activities],  # type: ignore[arg-type]
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=conversation.last_seq,
        ),
    )


def sla_job(db: Session, *, now: datetime, settings: Settings) -> int:
    """SLA warnings and breaches that are due; a breach triggers the escalation rules
    (e.g. "SLA breached → senior agents and the supervisor are told"). Returns the
    number of clocks looked at.

    Locking: each conversation FOR UPDATE SKIP LOCKED (one being changed right now
    is synced by that change, or on the next run). Commits once.
    """
    ids = sla.due_for_check(db, now=now, limit=SLA_BATCH)
    if not ids:
        db.commit()
        return 0
    book = routing.load_policy_book(db)
    warn = sla.warn_before(settings)
    setup = routing.load_setup(db, settings)
    to_route: set[int] = set()
    freed: set[int] = set()
    escalations: list[Activity] = []
    checked = 0
    for conversation in repo.claim_ids(db, ids):
        if conversation.sla_next_check_at is None or conversation.sla_next_check_at > now:
            continue  # synced by someone else meanwhile
        checked += 1
        changes = sla.sync_sla(db, conversation, now=now, book=book, warn_before=warn)
        activities: list[object] = list(changes.activities)
        if changes.breached:
            result = escalation.run_rules(
                db,
                conversation,
                event="sla_breached",
                now=now,
                tier2_team_id=setup.tier2_team_id,
            )
            activities.extend(result.activities)
            escalations.extend(_escalated(result))
            if result.freed_agent_id is not None:
                freed.add(result.freed_agent_id)
            if result.priority_changed:
                sla.apply_policy(db, conversation, now=now, book=book, warn_before=warn)
        if activities:
            routing.rescore(db, conversation, now=now, weights=setup.base.weights)
            _updated_event(db, conversation, activities)
            if conversation.status == "open" and conversation.assignee_id is None:
                to_route.add(conversation.id)
    _commit_and_follow_up(db, escalations, to_route, freed, now=now, settings=settings)
    return checked


def escalation_tick(db: Session, *, now: datetime, settings: Settings) -> int:
    """Time-based rules ("technical issue unresolved by tier 1 after 30 minutes →
    tier 2"): active conversations old enough for the smallest threshold are
    evaluated without locks, and only those a rule fires for are locked and
    changed. Commits; returns how many conversations escalated."""
    rules = escalation.load_rules(db, event="tick")
    threshold = escalation.has_time_rules(rules)
    if threshold is None:
        db.commit()
        return 0
    old_enough = now - timedelta(minutes=threshold)
    firing = escalation.time_rule_candidates(db, now=now, older_than=old_enough)
    db.commit()
    if not firing:
        return 0
    setup = routing.load_setup(db, settings)
    book = routing.load_policy_book(db)
    warn = sla.warn_before(settings)
    escalated = 0
    to_route: set[int] = set()
    freed: set[int] = set()
    escalations: list[Activity] = []
    for conversation in repo.claim_ids(db, firing[:ESCALATION_BATCH]):
        result = escalation.run_rules(
            db,
            conversation,
            event="tick",
            now=now,
            rules=rules,
            tier2_team_id=setup.tier2_team_id,
        )
        if not result.fired:
            continue  # changed meanwhile
        escalated += 1
        escalations.extend(_escalated(result))
        if result.priority_changed:
            sla.apply_policy(db, conversation, now=now, book=book, warn_before=warn)
        routing.rescore(db, conversation, now=now, weights=setup.base.weights)
        _updated_event(db, conversation, list(result.activities))
        if result.freed_agent_id is not None:
            freed.add(result.freed_agent_id)
        if conversation.status == "open" and conversation.assignee_id is None:
            to_route.add(conversation.id)
    _commit_and_follow_up(db, escalations, to_route, freed, now=now, settings=settings)
    return escalated


def _escalated(result: escalation.EscalationResult) -> list[Activity]:
    return [a for a in result.activities if a.kind == ActivityKind.ESCALATED.value]


def _commit_and_follow_up(
    db: Session,
    escalations: list[Activity],
    to_route: set[int],
    freed: set[int],
    *,
    now: datetime,
    settings: Settings,
) -> None:
    """Commit a job's changes, then what they call for: a hand-over summary on each
    escalation (as on escalations fired by a message, for whoever it reaches; AI
    assist, never raises) and the routing rounds."""
    db.flush()
    escalated_ids = [activity.id for activity in escalations]
    db.commit()
    if escalated_ids:
        from helpline.services import ai_assist

        ai_assist.after_handover(db, escalated_ids, now=now)
    if to_route or freed:
        routing.route_after_commit(
            db, now=now, conversation_ids=to_route, freed_agent_ids=freed, settings=settings
        )


def queue_job(db: Session, *, now: datetime, settings: Settings, force: bool = False) -> int:
    """Every `routing_tick_seconds` (one worker at a time): install the built-in rules
    on a fresh installation, re-score the queue, run time-based escalations, and
    route everything still waiting. Returns the number of assignments made."""
    if not force and not routing.claim_tick(
        db, now=now, every_seconds=settings.routing_tick_seconds
    ):
        return 0
    escalation.ensure_builtin_rules(db, now=now)
    escalation_tick(db, now=now, settings=settings)
    outcome = routing.route_waiting(db, now=now, settings=settings, rescore=True)
    return len(outcome.assigned)


def tick(db: Session, *, now: datetime, settings: Settings) -> dict[str, int]:
    """Everything at once, the queue round included whatever the throttle says (for
    tests, the CLI and the simulator's checks)."""
    return {
        "reoffered": reoffer_job(db, now=now, settings=settings),
        "sla_checked": sla_job(db, now=now, settings=settings),
        "routed": queue_job(db, now=now, settings=settings, force=True),
    }
