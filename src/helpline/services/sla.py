"""SLA policies in the live server: which targets a conversation has, its clock, its
warnings and breaches, and the admin's calendars and policies.

The clock itself is `helpline.domain.sla.SlaClock`, rebuilt from the conversation's
columns each time: created (first response and resolution start), first response,
the customer message waiting for an answer (next response), solved, and the pauses
kept in `sla_pauses` (pending and on hold stop the clock, each pause with its
reason). `sync_sla` keeps the stored deadlines and state (`active`, `met`,
`missed`) true, records each warning and breach once as an Activity with a live
event, and schedules the next look (`sla_next_check_at`) for the worker.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import (
    Activity,
    Contact,
    Conversation,
    SLACalendar,
    SLAPolicy,
    User,
)
from helpline.domain.access import Viewer
from helpline.domain.enums import ActivityKind, Channel, ConversationStatus, Plan, Priority
from helpline.domain.sla import (
    BusinessCalendar,
    Pause,
    SlaClock,
    SlaPolicyRule,
    SlaTarget,
    SlaTargets,
    TargetState,
    TargetStatus,
    calendar_from_data,
    match_policy,
    pause_reason,
)
from helpline.services.audit import record_audit
from helpline.services.conversations import access_conversation, conversation_payload
from helpline.services.errors import Conflict, NotFound, ValidationFailed
from helpline.services.events import LiveEvent, queue_event
from helpline.services.history import record_activity
from helpline.services.recipients import recipients_for
from helpline.services.unique import flush_unique
from helpline.settings import Settings, get_settings

log = logging.getLogger(__name__)

ACTIVE_STATUSES = (
    ConversationStatus.OPEN.value,
    ConversationStatus.PENDING.value,
    ConversationStatus.ON_HOLD.value,
)
RESOLVED_STATUSES = (ConversationStatus.SOLVED.value, ConversationStatus.CLOSED.value)
PAUSED_RECHECK = timedelta(minutes=10)
"""A paused clock is looked at again this often (or when its snooze ends), in case
the conversation was reopened by something that does not call the SLA hooks."""
MAX_TARGET_MINUTES = 365 * 24 * 60
NAME_MAX = 100
CATEGORY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


# ---------------------------------------------------------------- calendars


def check_calendar_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """A calendar in its stored form, checked (ValidationFailed with the reason);
    empty means around the clock."""
    try:
        calendar = calendar_from_data(data)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(str(exc), {"field": "calendar"}) from exc
    return calendar.to_data() if calendar is not None else {}


def _check_name(name: str) -> str:
    value = " ".join(name.split())
    if not 0 < len(value) <= NAME_MAX:
        raise ValidationFailed(f"a name is 1 to {NAME_MAX} characters", {"field": "name"})
    return value


def list_calendars(db: Session) -> list[SLACalendar]:
    return list(db.scalars(select(SLACalendar).order_by(SLACalendar.name)))


def access_calendar(db: Session, calendar_id: int) -> SLACalendar:
    calendar = db.get(SLACalendar, calendar_id)
    if calendar is None:
        raise NotFound("calendar", calendar_id)
    return calendar


def _calendar_name_taken(db: Session, name: str, except_id: int | None = None) -> bool:
    query = select(SLACalendar.id).where(func.lower(SLACalendar.name) == name.lower())
    if except_id is not None:
        query = query.where(SLACalendar.id != except_id)
    return db.scalar(query) is not None


def do_create_calendar(
    db: Session, admin: User, *, name: str, data: Mapping[str, Any], now: datetime, ip: str = ""
) -> SLACalendar:
    """A named business-hours calendar. Audited; commits."""
    clean_name = _check_name(name)
    clean = check_calendar_data(data)
    if not clean:
        raise ValidationFailed("a calendar needs opening hours", {"field": "weekly_hours"})
    if _calendar_name_taken(db, clean_name):
        raise Conflict("a calendar with this name exists", {"field": "name"})
    calendar = SLACalendar(name=clean_name, data=clean, created_at=now, updated_at=now)
    db.add(calendar)
    flush_unique(db, "a calendar with this name exists", "name")
    record_audit(
        db,
        actor_user_id=admin.id,
        action="sla.calendar_created",
        target_type="calendar",
        target_id=calendar.id,
        details={"name": clean_name},
        ip=ip,
        now=now,
    )
    db.commit()
    return calendar


def do_update_calendar(
    db: Session,
    admin: User,
    calendar_id: int,
    *,
    name: str | None = None,
    data: Mapping[str, Any] | None = None,
    now: datetime,
    ip: str = "",
) -> SLACalendar:
    """Rename or change the hours; conversations get new deadlines as their clocks
    are next synced. Audited; commits."""
    calendar = access_calendar(db, calendar_id)
    changed = []
    if name is not None:
        clean_name = _check_name(name)
        if _calendar_name_taken(db, clean_name, except_id=calendar.id):
            raise Conflict("a calendar with this name exists", {"field": "name"})
        calendar.name = clean_name
        changed.append("name")
    if data is not None:
        clean = check_calendar_data(data)
        if not clean:
            raise ValidationFailed("a calendar needs opening hours", {"field": "weekly_hours"})
        calendar.data = clean
        changed.append("data")
    calendar.updated_at = now
    record_audit(
        db,
        actor_user_id=admin.id,
        action="sla.calendar_updated",
        target_type="calendar",
        target_id=calendar.id,
        details={"changed": changed},
        ip=ip,
        now=now,
    )
    db.commit()
    return calendar


def do_delete_calendar(
    db: Session, admin: User, calendar_id: int, *, now: datetime, ip: str = ""
) -> None:
    """Refused (409) while a policy uses it. Audited; commits."""
    calendar = access_calendar(db, calendar_id)
    users = db.scalar(select(func.count()).where(SLAPolicy.calendar_id == calendar.id)) or 0
    if users:
        raise Conflict(
            f"{users} SLA {'policy uses' if users == 1 else 'policies use'} this calendar",
            {"policies": users},
        )
    record_audit(
        db,
        actor_user_id=admin.id,
        action="sla.calendar_deleted",
        target_type="calendar",
        target_id=calendar.id,
        details={"name": calendar.name},
        ip=ip,
        now=now,
    )
    db.delete(calendar)
    db.commit()


# ---------------------------------------------------------------- policies


@dataclass(frozen=True, slots=True)
class PolicyInput:
    """The fields of a policy an admin sets (None: any / no target)."""

    name: str
    position: int = 0
    match_priority: Priority | None = None
    match_category: str | None = None
    match_plan: Plan | None = None
    match_channel: Channel | None = None
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    calendar_id: int | None = None
    calendar: Mapping[str, Any] | None = None
    active: bool = True


def check_policy(db: Session, values: PolicyInput) -> PolicyInput:
    name = _check_name(values.name)
    if not 0 <= values.position <= 10_000:
        raise ValidationFailed("position is 0 to 10000", {"field": "position"})
    category = values.match_category
    if category is not None:
        category = category.strip().lower()
        if not CATEGORY_PATTERN.match(category):
            raise ValidationFailed(
                "a category is 1 to 40 letters, digits, '-' or '_'", {"field": "match_category"}
            )
    targets = {
        "first_response_minutes": values.first_response_minutes,
        "next_response_minutes": values.next_response_minutes,
        "resolution_minutes": values.resolution_minutes,
    }
    for field_name, minutes in targets.items():
        if minutes is not None and not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise ValidationFailed(
                f"{field_name} is 1 to {MAX_TARGET_MINUTES} minutes", {"field": field_name}
            )
    if all(minutes is None for minutes in targets.values()):
        raise ValidationFailed("set at least one target", {"field": "first_response_minutes"})
    if values.calendar_id is not None and db.get(SLACalendar, values.calendar_id) is None:
        raise ValidationFailed("no calendar with this id", {"field": "calendar_id"})
    inline = check_calendar_data(values.calendar) if values.calendar else {}
    return dataclasses.replace(values, name=name, match_category=category, calendar=inline)


def list_policies(db: Session) -> list[SLAPolicy]:
    return list(db.scalars(select(SLAPolicy).order_by(SLAPolicy.position, SLAPolicy.id)))


def access_policy(db: Session, policy_id: int) -> SLAPolicy:
    policy = db.get(SLAPolicy, policy_id)
    if policy is None:
        raise NotFound("sla_policy", policy_id)
    return policy


def _policy_name_taken(db: Session, name: str, except_id: int | None = None) -> bool:
    query = select(SLAPolicy.id).where(func.lower(SLAPolicy.name) == name.lower())
    if except_id is not None:
        query = query.where(SLAPolicy.id != except_id)
    return db.scalar(query) is not None


def _write_policy(policy: SLAPolicy, values: PolicyInput) -> None:
    policy.name = values.name
    policy.position = values.position
    policy.match_priority = values.match_priority.value if values.match_priority else None
    policy.match_category = values.match_category
    policy.match_plan = values.match_plan.value if values.match_plan else None
    policy.match_channel = values.match_channel.value if values.match_channel else None
    policy.first_response_minutes = values.first_response_minutes
    policy.next_response_minutes = values.next_response_minutes
    policy.resolution_minutes = values.resolution_minutes
    policy.calendar_id = values.calendar_id
    policy.calendar = dict(values.calendar or {})
    policy.active = values.active


def do_save_policy(
    db: Session,
    admin: User,
    values: PolicyInput,
    *,
    policy_id: int | None = None,
    now: datetime,
    ip: str = "",
) -> SLAPolicy:
    """Create a policy, or replace one's fields (`policy_id`). New and changed
    policies apply to conversations as they are created or change priority or
    category; running clocks keep the policy they have. Audited; commits."""
    clean = check_policy(db, values)
    policy = access_policy(db, policy_id) if policy_id is not None else SLAPolicy(created_at=now)
    if _policy_name_taken(db, clean.name, except_id=policy_id):
        raise Conflict("a policy with this name exists", {"field": "name"})
    _write_policy(policy, clean)
    if policy_id is None:
        db.add(policy)
    flush_unique(db, "a policy with this name exists", "name")
    record_audit(
        db,
        actor_user_id=admin.id,
        action="sla.policy_created" if policy_id is None else "sla.policy_updated",
        target_type="sla_policy",
        target_id=policy.id,
        details={"name": clean.name},
        ip=ip,
        now=now,
    )
    db.commit()
    return policy


def do_delete_policy(
    db: Session, admin: User, policy_id: int, *, now: datetime, ip: str = ""
) -> None:
    """Conversations measured by it keep their deadlines but get no new ones.
    Audited; commits."""
    policy = access_policy(db, policy_id)
    record_audit(
        db,
        actor_user_id=admin.id,
        action="sla.policy_deleted",
        target_type="sla_policy",
        target_id=policy.id,
        details={"name": policy.name},
        ip=ip,
        now=now,
    )
    db.delete(policy)
    db.commit()


# ---------------------------------------------------------------- matching


@dataclass(slots=True)
class PolicyBook:
    """Active policies with parsed calendars, read once per request or job."""

    rules: list[SlaPolicyRule]
    by_id: dict[int, SlaPolicyRule] = field(default_factory=dict)

    def match(
        self, *, priority: Priority, category: str | None, plan: Plan | None, channel: Channel
    ) -> SlaPolicyRule | None:
        return match_policy(
            self.rules, priority=priority, category=category, plan=plan, channel=channel
        )

    def get(self, policy_id: int | None) -> SlaPolicyRule | None:
        return self.by_id.get(policy_id) if policy_id is not None else None


def _enum_or_none(enum: type[Any], value: str | None) -> Any:
    return enum(value) if value is not None and value in enum._value2member_map_ else None


def load_policies(db: Session) -> PolicyBook:
    """Every policy (inactive ones too, for conversations they already measure);
    only active ones match new conversations. A policy whose calendar no longer
    parses is measured around the clock and logged."""
    calendars = {calendar.id: calendar.data for calendar in db.scalars(select(SLACalendar))}
    book = PolicyBook(rules=[])
    for policy in db.scalars(select(SLAPolicy).order_by(SLAPolicy.position, SLAPolicy.id)):
        data = calendars.get(policy.calendar_id) if policy.calendar_id else policy.calendar
        calendar: BusinessCalendar | None
        try:
            calendar = calendar_from_data(data)
        except (ValueError, TypeError):
            log.warning("SLA policy %s has an invalid calendar; measuring 24/7", policy.id)
            calendar = None
        try:
            targets = SlaTargets(
                first_response_minutes=policy.first_response_minutes,
                next_response_minutes=policy.next_response_minutes,
                resolution_minutes=policy.resolution_minutes,
            )
        except ValueError:
            log.warning("SLA policy %s has invalid targets; ignored", policy.id)
            continue
        rule = SlaPolicyRule(
            name=policy.name,
            targets=targets,
            position=policy.position,
            priority=_enum_or_none(Priority, policy.match_priority),
            category=policy.match_category,
            plan=_enum_or_none(Plan, policy.match_plan),
            channel=_enum_or_none(Channel, policy.match_channel),
            calendar=calendar,
            id=policy.id,
        )
        book.by_id[policy.id] = rule
        if policy.active:
            book.rules.append(rule)
    return book


# ---------------------------------------------------------------- the clock of a conversation


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def stored_pauses(conversation: Conversation) -> list[Pause]:
    pauses = []
    for item in conversation.sla_pauses or ():
        started = _parse_time(item.get("started_at"))
        if started is None:
            continue
        ended = _parse_time(item.get("ended_at"))
        pauses.append(Pause(started_at=started, reason=str(item.get("reason", "")), ended_at=ended))
    return pauses


def _pause_data(pause: Pause) -> dict[str, Any]:
    return {
        "started_at": pause.started_at.isoformat(),
        "ended_at": pause.ended_at.isoformat() if pause.ended_at else None,
        "reason": pause.reason,
    }


def clock_for(
    conversation: Conversation,
    rule: SlaPolicyRule,
    *,
    replied_to: datetime | None = None,
    replied_at: datetime | None = None,
) -> SlaClock:
    """The conversation's clock. `replied_to`/`replied_at`: an agent just answered
    the customer message waiting since `replied_to` (the conversation no longer
    says so, but this answer decides the next-response target)."""
    first = conversation.first_response_at
    awaiting: datetime | None = None
    next_reply: datetime | None = None
    if replied_to is not None and replied_at is not None:
        if first is not None and first != replied_at:  # not the first response itself
            awaiting, next_reply = replied_to, replied_at
    elif first is not None and conversation.waiting_since is not None:
        # Set again by a customer message after an answer (a reply clears it).
        awaiting = conversation.waiting_since if conversation.waiting_since >= first else None
    resolved = conversation.solved_at if conversation.status in RESOLVED_STATUSES else None
    if resolved is None and conversation.status == ConversationStatus.CLOSED.value:
        resolved = conversation.closed_at
    return SlaClock(
        started_at=conversation.created_at,
        targets=rule.targets,
        calendar=rule.calendar,
        pauses=tuple(stored_pauses(conversation)),
        first_response_at=first,
        awaiting_reply_since=awaiting,
        next_reply_at=next_reply,
        resolved_at=resolved,
    )


def _target_key(target: SlaTarget, clock: SlaClock) -> str:
    if target == SlaTarget.NEXT_RESPONSE and clock.awaiting_reply_since is not None:
        return f"{target.value}@{clock.awaiting_reply_since.isoformat()}"
    return target.value


@dataclass(slots=True)
class SlaChanges:
    """What one sync changed, for the caller's live event and escalation."""

    activities: list[Activity] = field(default_factory=list)
    breached: list[SlaTarget] = field(default_factory=list)
    warned: list[SlaTarget] = field(default_factory=list)


def _sla_event(
    db: Session, conversation: Conversation, kind: str, target: SlaTarget, due: datetime | None
) -> None:
    queue_event(
        db,
        LiveEvent(
            type=f"sla.{kind}",
            payload={
                "conversation": conversation_payload(conversation),
                "target": target.value,
                "due_at": due.isoformat() if due else None,
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=conversation.last_seq,
        ),
    )


def sync_sla(
    db: Session,
    conversation: Conversation,
    *,
    now: datetime,
    book: PolicyBook,
    warn_before: timedelta,
    replied_to: datetime | None = None,
) -> SlaChanges:
    """Bring the conversation's SLA bookkeeping up to date at `now`: pause or resume
    the clock for its status, store deadlines and state, record each new warning
    and breach (Activity + live event), and schedule the next check. The caller
    holds the conversation and commits."""
    changes = SlaChanges()
    rule = book.get(conversation.sla_policy_id)
    if rule is None:
        conversation.sla_state = None
        conversation.sla_next_check_at = None
        return changes

    pauses = stored_pauses(conversation)
    paused = any(pause.ended_at is None for pause in pauses)
    reason = pause_reason(ConversationStatus(conversation.status))
    if reason is not None and not paused:
        pauses.append(Pause(started_at=now, reason=reason))
        changes.activities.append(
            record_activity(
                db,
                conversation,
                ActivityKind.SLA_PAUSED,
                now=now,
                actor_type="system",
                data={"reason": reason, "status": conversation.status},
            )
        )
    elif reason is None and paused:
        started = next(pause.started_at for pause in pauses if pause.ended_at is None)
        pauses = [
            dataclasses.replace(pause, ended_at=now) if pause.ended_at is None else pause
            for pause in pauses
        ]
        changes.activities.append(
            record_activity(
                db,
                conversation,
                ActivityKind.SLA_RESUMED,
                now=now,
                actor_type="system",
                data={"paused_seconds": max(0, int((now - started).total_seconds()))},
            )
        )
    conversation.sla_pauses = [_pause_data(pause) for pause in pauses]

    clock = clock_for(
        conversation, rule, replied_to=replied_to, replied_at=now if replied_to else None
    )
    notified = dict(conversation.sla_notified or {})
    breached_keys = list(notified.get("breached", []))
    warned_keys = list(notified.get("warned", []))
    statuses = clock.status(now)
    for status in statuses:
        key = _target_key(status.target, clock)
        if status.state == TargetState.MISSED and key not in breached_keys:
            breached_keys.append(key)
            changes.breached.append(status.target)
            changes.activities.append(
                record_activity(
                    db,
                    conversation,
                    ActivityKind.SLA_BREACHED,
                    now=now,
                    actor_type="system",
                    data={
                        "target": status.target.value,
                        "due_at": status.due_at.isoformat() if status.due_at else None,
                        "policy": rule.name,
                    },
                )
            )
            db.flush()
            _sla_event(db, conversation, "breached", status.target, status.due_at)
    resolved = conversation.status in RESOLVED_STATUSES
    if not resolved:
        for target in clock.warning_due(now, warn_before):
            key = _target_key(target, clock)
            if key in warned_keys or key in breached_keys:
                continue
            warned_keys.append(key)
            changes.warned.append(target)
            due = clock.due_at(target)
            changes.activities.append(
                record_activity(
                    db,
                    conversation,
                    ActivityKind.SLA_WARNING,
                    now=now,
                    actor_type="system",
                    data={
                        "target": target.value,
                        "due_at": due.isoformat() if due else None,
                        "policy": rule.name,
                    },
                )
            )
            db.flush()
            _sla_event(db, conversation, "warning", target, due)
    conversation.sla_notified = {"warned": warned_keys, "breached": breached_keys}

    due_of = {status.target: status.due_at for status in statuses}
    conversation.first_response_due_at = due_of.get(SlaTarget.FIRST_RESPONSE)
    conversation.next_response_due_at = (
        due_of.get(SlaTarget.NEXT_RESPONSE) if replied_to is None else None
    )
    conversation.resolution_due_at = due_of.get(SlaTarget.RESOLUTION)

    if breached_keys:
        conversation.sla_state = TargetState.MISSED.value
    elif resolved or not any(status.state == TargetState.ACTIVE for status in statuses):
        conversation.sla_state = TargetState.MET.value
    else:
        conversation.sla_state = TargetState.ACTIVE.value
    conversation.sla_next_check_at = _next_check(
        statuses, clock, now, warn_before, resolved, warned_keys, breached_keys, replied_to
    )
    if conversation.sla_next_check_at is not None and conversation.snoozed_until is not None:
        # A snoozed conversation wakes up by itself: look at its clock right after.
        wake = max(now, conversation.snoozed_until) + timedelta(seconds=1)
        conversation.sla_next_check_at = min(conversation.sla_next_check_at, wake)
    return changes


def _next_check(
    statuses: Sequence[TargetStatus],
    clock: SlaClock,
    now: datetime,
    warn_before: timedelta,
    resolved: bool,
    warned: Sequence[str],
    breached: Sequence[str],
    replied_to: datetime | None,
) -> datetime | None:
    """The next moment something can happen: a warning or a breach not yet
    announced; paused clocks are re-checked now and then; None: nothing to wait for."""
    if resolved:
        return None
    moments: list[datetime] = []
    for status in statuses:
        if status.state != TargetState.ACTIVE:
            continue
        if status.target == SlaTarget.NEXT_RESPONSE and replied_to is not None:
            continue
        key = _target_key(status.target, clock)
        if status.due_at is None:
            moments.append(now + PAUSED_RECHECK)
            continue
        if key in breached:
            continue
        if key not in warned and status.due_at - warn_before > now:
            moments.append(status.due_at - warn_before)
        # Breached the moment after the deadline (the clock says missed when now > due).
        moments.append(max(now, status.due_at) + timedelta(seconds=1))
    return min(moments) if moments else None


def apply_policy(
    db: Session,
    conversation: Conversation,
    *,
    now: datetime,
    book: PolicyBook,
    warn_before: timedelta,
) -> SlaChanges:
    """Match the policy for the conversation's priority, category, plan and channel
    (a change of policy restarts nothing: targets still count from creation), then
    sync. The caller holds the conversation and commits."""
    contact = db.get(Contact, conversation.contact_id)
    rule = book.match(
        priority=Priority(conversation.priority),
        category=conversation.category,
        plan=_enum_or_none(Plan, contact.plan if contact else None),
        channel=Channel(conversation.channel),
    )
    new_id = rule.id if rule is not None else None
    if new_id != conversation.sla_policy_id:
        conversation.sla_policy_id = new_id
        if new_id is None:
            conversation.first_response_due_at = None
            conversation.next_response_due_at = None
            conversation.resolution_due_at = None
    return sync_sla(db, conversation, now=now, book=book, warn_before=warn_before)


def warn_before(settings: Settings | None = None) -> timedelta:
    return timedelta(minutes=(settings or get_settings()).sla_warning_minutes)


def due_for_check(db: Session, *, now: datetime, limit: int = 200) -> list[int]:
    """Conversations whose SLA clock needs a look now (the worker's batch)."""
    return list(
        db.scalars(
            select(Conversation.id)
            .where(
                Conversation.sla_next_check_at.is_not(None),
                Conversation.sla_next_check_at <= now,
            )
            .order_by(Conversation.sla_next_check_at, Conversation.id)
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class SlaView:
    """A conversation's SLA as the API and the conversation page show it."""

    conversation_id: int
    policy_id: int | None
    policy_name: str | None
    state: str | None
    paused: bool
    targets: tuple[TargetStatus, ...]
    pauses: tuple[Pause, ...]
    breached: tuple[str, ...]


def sla_view(db: Session, conversation: Conversation, *, now: datetime) -> SlaView:
    book = load_policies(db)
    rule = book.get(conversation.sla_policy_id)
    pauses = tuple(stored_pauses(conversation))
    if rule is None:
        return SlaView(conversation.id, None, None, None, False, (), pauses, ())
    clock = clock_for(conversation, rule)
    breached = tuple((conversation.sla_notified or {}).get("breached", []))
    return SlaView(
        conversation_id=conversation.id,
        policy_id=rule.id,
        policy_name=rule.name,
        state=conversation.sla_state,
        paused=clock.is_paused(now),
        targets=clock.status(now),
        pauses=pauses,
        breached=breached,
    )


def get_sla(db: Session, viewer: Viewer, conversation_id: int, *, now: datetime) -> SlaView:
    """The SLA of a conversation the viewer can see (NotFound otherwise)."""
    return sla_view(db, access_conversation(db, viewer, conversation_id), now=now)
