"""REST routes for the agent's own status, load and break reminders, and the
supervisor overview (queue, agents, SLA risk)."""

from __future__ import annotations

from fastapi import APIRouter

from helpline.domain.wellbeing import SNOOZE_MINUTES
from helpline.services import agent_wellbeing, supervision
from helpline.web.deps import AppSettings, CurrentViewer, DbSession, Now
from helpline.web.schemas.collaboration import (
    AgentItemPublic,
    ChatItemPublic,
    OverviewPublic,
    QueueItemPublic,
    QueueSummaryPublic,
    RiskItemPublic,
    Snooze,
    WellbeingPublic,
    WellbeingUpdate,
)

router = APIRouter(tags=["supervision"])


def _wellbeing(view: agent_wellbeing.WellbeingView) -> WellbeingPublic:
    return WellbeingPublic(
        user_id=view.user_id,
        name=view.name,
        status=view.status,
        status_since=view.status_since,
        open_chats=view.open_chats,
        open_email_tickets=view.open_email_tickets,
        max_concurrent_chats=view.max_concurrent_chats,
        pomodoro=view.plan.pomodoro,
        break_after_minutes=view.plan.stretch_minutes,
        break_minutes=view.plan.break_minutes,
        own_break_after_minutes=view.own_stretch_minutes,
        own_break_minutes=view.own_break_minutes,
        break_due_at=view.break_due_at,
        break_due=view.break_due,
        snoozed_until=view.snoozed_until,
        break_ends_at=view.break_ends_at,
        snooze_minutes=list(SNOOZE_MINUTES),
    )


@router.get("/me/wellbeing", response_model=WellbeingPublic)
def get_wellbeing(
    db: DbSession, viewer: CurrentViewer, now: Now, settings: AppSettings
) -> WellbeingPublic:
    """Your status and time in it, your load against your cap, and your break plan
    (when the next reminder is due). Change the status with `PUT /routing/status`."""
    return _wellbeing(agent_wellbeing.get_wellbeing(db, viewer, now=now, settings=settings))


@router.put("/me/wellbeing", response_model=WellbeingPublic)
def update_wellbeing(
    body: WellbeingUpdate, db: DbSession, viewer: CurrentViewer, now: Now, settings: AppSettings
) -> WellbeingPublic:
    """Your break plan: Pomodoro (25/5), or your own stretch and break length
    (null: the installation's default)."""
    view = agent_wellbeing.do_update_preferences(
        db,
        viewer,
        pomodoro=body.pomodoro,
        break_after_minutes=body.break_after_minutes,
        break_minutes=body.break_minutes,
        now=now,
        settings=settings,
    )
    return _wellbeing(view)


@router.post("/me/wellbeing/snooze", response_model=WellbeingPublic)
def snooze(
    body: Snooze, db: DbSession, viewer: CurrentViewer, now: Now, settings: AppSettings
) -> WellbeingPublic:
    """Remind me later (5, 10, 15 or 30 minutes)."""
    view = agent_wellbeing.do_snooze(db, viewer, minutes=body.minutes, now=now, settings=settings)
    return _wellbeing(view)


@router.post("/me/wellbeing/break", response_model=WellbeingPublic)
def take_break(
    db: DbSession, viewer: CurrentViewer, now: Now, settings: AppSettings
) -> WellbeingPublic:
    """Take the break: nothing new is routed to you until you are back."""
    return _wellbeing(agent_wellbeing.do_take_break(db, viewer, now=now, settings=settings))


@router.post("/me/wellbeing/back", response_model=WellbeingPublic)
def end_break(
    db: DbSession, viewer: CurrentViewer, now: Now, settings: AppSettings
) -> WellbeingPublic:
    """Back online after a break: waiting chats are offered to you again."""
    return _wellbeing(agent_wellbeing.do_end_break(db, viewer, now=now, settings=settings))


@router.get("/supervision/overview", response_model=OverviewPublic)
def overview(
    db: DbSession, viewer: CurrentViewer, now: Now, settings: AppSettings
) -> OverviewPublic:
    """The live queue, every agent's status and load, and conversations at SLA risk
    (supervisors and admins)."""
    view = supervision.get_overview(db, viewer, now=now, settings=settings)
    return OverviewPublic(
        now=view.now,
        queue=QueueSummaryPublic(
            waiting=view.queue.waiting,
            by_priority=view.queue.by_priority,
            longest_wait_seconds=view.queue.longest_wait_seconds,
            items=[
                QueueItemPublic.model_validate(item, from_attributes=True)
                for item in view.queue.items
            ],
        ),
        agents=[
            AgentItemPublic(
                user_id=agent.user_id,
                name=agent.name,
                role=agent.role,
                status=agent.status,
                status_since=agent.status_since,
                open_chats=agent.open_chats,
                open_email_tickets=agent.open_email_tickets,
                max_concurrent_chats=agent.max_concurrent_chats,
                chats_today=agent.chats_today,
                conversations=[
                    ChatItemPublic.model_validate(chat, from_attributes=True)
                    for chat in agent.conversations
                ],
            )
            for agent in view.agents
        ],
        at_risk=[
            RiskItemPublic.model_validate(item, from_attributes=True) for item in view.at_risk
        ],
    )
