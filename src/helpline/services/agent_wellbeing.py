"""An agent's presence, load and breaks: what the status control in every agent
page shows, the break reminder's accept / snooze, and the worker job that sends
reminders (`domain.wellbeing` decides when).

Presence itself belongs to routing (`routing.do_set_agent_status`): taking a break
goes through it, so nothing new is routed to an agent on a break.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import AgentWellbeing, User
from helpline.domain.access import Viewer
from helpline.domain.enums import AgentStatus
from helpline.domain.wellbeing import (
    SNOOZE_MINUTES,
    BreakPlan,
    break_due_at,
    break_plan,
    reminder_needed,
)
from helpline.services import routing
from helpline.services.errors import NotFound, ValidationFailed
from helpline.services.events import LiveEvent, queue_event
from helpline.settings import Settings


@dataclass(frozen=True, slots=True)
class WellbeingView:
    user_id: int
    name: str
    status: AgentStatus
    status_since: datetime
    open_chats: int
    open_email_tickets: int
    max_concurrent_chats: int
    plan: BreakPlan
    own_stretch_minutes: int | None
    own_break_minutes: int | None
    break_due_at: datetime | None
    break_due: bool
    snoozed_until: datetime | None
    break_ends_at: datetime | None


def _row(db: Session, user_id: int) -> AgentWellbeing | None:
    return db.get(AgentWellbeing, user_id)


def _plan(row: AgentWellbeing | None, settings: Settings) -> BreakPlan:
    return break_plan(
        pomodoro=bool(row and row.pomodoro),
        own_stretch_minutes=row.break_after_minutes if row else None,
        own_break_minutes=row.break_minutes if row else None,
        default_stretch_minutes=settings.break_reminder_minutes,
        default_break_minutes=settings.break_minutes,
    )


def _view(
    user: User,
    row: AgentWellbeing | None,
    load: routing.AgentLoad | None,
    *,
    now: datetime,
    settings: Settings,
) -> WellbeingView:
    plan = _plan(row, settings)
    status = AgentStatus(user.status)
    due = break_due_at(
        status=status,
        status_since=user.status_since,
        plan=plan,
        snoozed_until=row.snoozed_until if row else None,
    )
    return WellbeingView(
        user_id=user.id,
        name=user.name,
        status=status,
        status_since=user.status_since,
        open_chats=load.open_chats if load else 0,
        open_email_tickets=load.open_email_tickets if load else 0,
        max_concurrent_chats=user.max_concurrent_chats,
        plan=plan,
        own_stretch_minutes=row.break_after_minutes if row else None,
        own_break_minutes=row.break_minutes if row else None,
        break_due_at=due,
        break_due=due is not None and now >= due,
        snoozed_until=row.snoozed_until if row else None,
        break_ends_at=row.break_ends_at if row and status == AgentStatus.ON_BREAK else None,
    )


def get_wellbeing(
    db: Session, viewer: Viewer, *, now: datetime, settings: Settings
) -> WellbeingView:
    """The caller's status, time in it, load against their cap and break plan."""
    user = db.get(User, viewer.user_id)
    if user is None:
        raise NotFound("user", viewer.user_id)
    loads = routing.list_agent_loads(db, agent_ids=[user.id], settings=settings)
    view = _view(user, _row(db, user.id), loads[0] if loads else None, now=now, settings=settings)
    db.commit()
    return view


def _own_row(db: Session, user_id: int, now: datetime) -> AgentWellbeing:
    row = db.scalar(
        select(AgentWellbeing).where(AgentWellbeing.user_id == user_id).with_for_update()
    )
    if row is None:
        row = AgentWellbeing(user_id=user_id, pomodoro=False, updated_at=now)
        db.add(row)
    row.updated_at = now
    return row


def _check_minutes(value: int | None, field: str, low: int, high: int) -> int | None:
    if value is not None and not low <= value <= high:
        raise ValidationFailed(f"choose between {low} and {high} minutes", {"field": field})
    return value


def do_update_preferences(
    db: Session,
    viewer: Viewer,
    *,
    pomodoro: bool,
    break_after_minutes: int | None,
    break_minutes: int | None,
    now: datetime,
    settings: Settings,
) -> WellbeingView:
    """The caller's own break plan (None: the installation's default). Commits."""
    _check_minutes(break_after_minutes, "break_after_minutes", 10, 480)
    _check_minutes(break_minutes, "break_minutes", 1, 120)
    row = _own_row(db, viewer.user_id, now)
    row.pomodoro = pomodoro
    row.break_after_minutes = break_after_minutes
    row.break_minutes = break_minutes
    db.commit()
    return get_wellbeing(db, viewer, now=now, settings=settings)


def do_snooze(
    db: Session, viewer: Viewer, *, minutes: int, now: datetime, settings: Settings
) -> WellbeingView:
    """ "Remind me later": no reminder for `minutes` (one of SNOOZE_MINUTES). Commits."""
    if minutes not in SNOOZE_MINUTES:
        raise ValidationFailed(
            f"snooze for one of {', '.join(map(str, SNOOZE_MINUTES))} minutes",
            {"field": "minutes"},
        )
    row = _own_row(db, viewer.user_id, now)
    row.snoozed_until = now + timedelta(minutes=minutes)
    db.commit()
    return get_wellbeing(db, viewer, now=now, settings=settings)


def do_take_break(
    db: Session, viewer: Viewer, *, now: datetime, settings: Settings
) -> WellbeingView:
    """Accept the reminder: on a break for the plan's length. Nothing new is routed
    meanwhile and unanswered offers go to colleagues (routing). Commits."""
    row = _own_row(db, viewer.user_id, now)
    plan = _plan(row, settings)
    row.break_ends_at = now + timedelta(minutes=plan.break_minutes)
    row.snoozed_until = None
    db.commit()
    routing.do_set_agent_status(
        db, viewer, viewer.user_id, AgentStatus.ON_BREAK, now=now, settings=settings
    )
    return get_wellbeing(db, viewer, now=now, settings=settings)


def do_end_break(
    db: Session, viewer: Viewer, *, now: datetime, settings: Settings
) -> WellbeingView:
    """Back online: a new stretch starts and waiting chats are offered at once."""
    row = _own_row(db, viewer.user_id, now)
    row.break_ends_at = None
    row.snoozed_until = None
    db.commit()
    routing.do_set_agent_status(
        db, viewer, viewer.user_id, AgentStatus.ONLINE, now=now, settings=settings
    )
    return get_wellbeing(db, viewer, now=now, settings=settings)


# ---------------------------------------------------------------- worker job


def break_reminder_job(db: Session, *, now: datetime, settings: Settings) -> int:
    """Send each due reminder once: "time for a break" to agents online past their
    stretch, "your break is over" to agents whose break ended. Returns how many."""
    rows = db.execute(
        select(User, AgentWellbeing)
        .outerjoin(AgentWellbeing, AgentWellbeing.user_id == User.id)
        .where(
            User.is_active.is_(True),
            User.status.in_([AgentStatus.ONLINE.value, AgentStatus.ON_BREAK.value]),
        )
    ).all()
    sent = 0
    for user, row in rows:
        reminded_at = row.reminded_at if row else None
        if user.status == AgentStatus.ONLINE.value:
            plan = _plan(row, settings)
            due = break_due_at(
                status=AgentStatus.ONLINE,
                status_since=user.status_since,
                plan=plan,
                snoozed_until=row.snoozed_until if row else None,
            )
            kind = "wellbeing.break_due"
            payload = {
                "user_id": user.id,
                "due_at": due.isoformat() if due else None,
                "online_minutes": int((now - user.status_since).total_seconds() // 60),
                "break_minutes": plan.break_minutes,
                "snooze_minutes": list(SNOOZE_MINUTES),
            }
        else:
            due = row.break_ends_at if row else None
            kind = "wellbeing.break_over"
            payload = {"user_id": user.id, "ended_at": due.isoformat() if due else None}
        if not reminder_needed(due, reminded_at, now):
            continue
        own = _own_row(db, user.id, now)
        own.reminded_at = now
        queue_event(db, LiveEvent(type=kind, payload=payload, user_ids=frozenset({user.id})))
        sent += 1
    db.commit()
    return sent
