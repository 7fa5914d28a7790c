"""REST routes for routing: settings, SLA policies and calendars, escalation rules
(admins), and for staff the queue with positions and expected waits, picking from
it by hand, pulling the next conversation, and presence changes that route at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from helpline.adapters.db.models import Conversation, Rule, SLACalendar, SLAPolicy
from helpline.domain.enums import AgentStatus, Channel, Plan, Priority
from helpline.domain.routing import Strategy
from helpline.services import escalation, routing, routing_hooks, sla
from helpline.services.conversation_queries import describe_conversation
from helpline.services.conversations import access_conversation
from helpline.web.deps import AdminUser, AppSettings, CurrentViewer, DbSession, Now, client_ip
from helpline.web.schemas.conversations import ConversationPublic
from helpline.web.schemas.routing import (
    AgentRoutingList,
    AgentRoutingPublic,
    AgentStatusChange,
    BuiltinRulesInstall,
    CalendarCreate,
    CalendarList,
    CalendarPublic,
    CalendarUpdate,
    GlobalSettingsUpdate,
    PolicyList,
    PolicyPublic,
    PolicyWrite,
    QueueEntryPublic,
    QueueEstimatePublic,
    QueueList,
    RefundRequest,
    RoutingSettingsPublic,
    RuleList,
    RulePublic,
    RuleWrite,
    ScopeSettingsPublic,
    ScopeSettingsUpdate,
    ScoreReason,
    SlaPausePublic,
    SlaPublic,
    SlaTargetPublic,
)

router = APIRouter(tags=["routing"])

ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1)]


# --- shaping -----------------------------------------------------------------------------


def _weights_data(view: routing.SettingsView) -> dict[str, Any]:
    weights = view.effective.weights
    data: dict[str, Any] = {name: getattr(weights, name) for name in routing.WEIGHT_FIELDS}
    data["plan_points"] = {plan.value: points for plan, points in weights.plan_points.items()}
    data["priority_points"] = {p.value: points for p, points in weights.priority_points.items()}
    data["urgent_categories"] = sorted(weights.urgent_categories)
    return data


def _settings(view: routing.SettingsView) -> RoutingSettingsPublic:
    config = view.effective
    row = view.global_row
    return RoutingSettingsPublic(
        strategy_default=config.strategy,
        weights=_weights_data(view),
        weights_overrides=dict(row.weights) if row is not None else {},
        handling_minutes=dict(config.handling_minutes),
        email_weight=config.email_weight,
        sticky_wait_seconds=config.sticky_wait_seconds,
        answer_timeout_seconds=config.answer_timeout_seconds,
        tier2_team_id=view.tier2_team_id,
        inboxes=[
            ScopeSettingsPublic(
                id=inbox.id,
                name=inbox.name,
                strategy=Strategy(inbox.routing_strategy)
                if inbox.routing_strategy in Strategy._value2member_map_
                else Strategy.PRIORITY,
                sticky_wait_seconds=row.sticky_wait_seconds if row else None,
                answer_timeout_seconds=row.answer_timeout_seconds if row else None,
            )
            for inbox, row in view.inboxes
        ],
        teams=[
            ScopeSettingsPublic(
                id=team.id,
                name=team.name,
                strategy=Strategy(row.strategy) if row and row.strategy else None,
                sticky_wait_seconds=row.sticky_wait_seconds if row else None,
                answer_timeout_seconds=row.answer_timeout_seconds if row else None,
            )
            for team, row in view.teams
        ],
    )


def _calendar(calendar: SLACalendar) -> CalendarPublic:
    data = calendar.data or {}
    return CalendarPublic(
        id=calendar.id,
        name=calendar.name,
        time_zone=str(data.get("time_zone", "UTC")),
        weekly_hours=dict(data.get("weekly_hours", {})),
        holidays=list(data.get("holidays", [])),
        updated_at=calendar.updated_at,
    )


def _policy(policy: SLAPolicy) -> PolicyPublic:
    return PolicyPublic(
        id=policy.id,
        name=policy.name,
        position=policy.position,
        match_priority=Priority(policy.match_priority) if policy.match_priority else None,
        match_category=policy.match_category,
        match_plan=Plan(policy.match_plan) if policy.match_plan else None,
        match_channel=Channel(policy.match_channel) if policy.match_channel else None,
        first_response_minutes=policy.first_response_minutes,
        next_response_minutes=policy.next_response_minutes,
        resolution_minutes=policy.resolution_minutes,
        calendar_id=policy.calendar_id,
        calendar=dict(policy.calendar or {}),
        active=policy.active,
    )


def _rule(rule: Rule) -> RulePublic:
    conditions = rule.conditions if isinstance(rule.conditions, list) else [rule.conditions]
    return RulePublic(
        id=rule.id,
        name=rule.name,
        kind=rule.kind,
        trigger=rule.trigger,
        conditions=list(conditions),
        actions=list(rule.actions),
        position=rule.position,
        active=rule.active,
    )


def _estimate_fields(estimate: routing.QueueEstimate) -> dict[str, Any]:
    return {
        "conversation_id": estimate.conversation_id,
        "waiting": estimate.waiting,
        "position": estimate.position,
        "ahead": estimate.ahead,
        "estimated_wait_seconds": estimate.estimated_wait_seconds,
        "reason": estimate.reason,
        "strategy": estimate.strategy,
        "priority_score": estimate.score,
        "priority_breakdown": [ScoreReason.of(part) for part in estimate.breakdown],
        "explanation": estimate.explain(),
    }


def _conversation(db: DbSession, conversation: Conversation) -> ConversationPublic:
    return ConversationPublic.of(describe_conversation(db, conversation))


def _policy_input(body: PolicyWrite) -> sla.PolicyInput:
    return sla.PolicyInput(
        name=body.name,
        position=body.position,
        match_priority=body.match_priority,
        match_category=body.match_category,
        match_plan=body.match_plan,
        match_channel=body.match_channel,
        first_response_minutes=body.first_response_minutes,
        next_response_minutes=body.next_response_minutes,
        resolution_minutes=body.resolution_minutes,
        calendar_id=body.calendar_id,
        calendar=body.calendar.model_dump() if body.calendar is not None else None,
        active=body.active,
    )


def _rule_input(body: RuleWrite) -> escalation.RuleInput:
    return escalation.RuleInput(
        name=body.name,
        kind=body.kind,
        trigger=body.trigger,
        conditions=body.conditions,
        actions=body.actions,
        position=body.position,
        active=body.active,
    )


# --- routing settings (admins) -----------------------------------------------------------


@router.get("/routing/settings", response_model=RoutingSettingsPublic)
def get_settings_route(
    db: DbSession, _admin: AdminUser, settings: AppSettings
) -> RoutingSettingsPublic:
    """The routing settings in force, the installation's changes, and every inbox's
    and team's strategy and timings."""
    return _settings(routing.get_routing_settings(db, settings=settings))


@router.patch("/routing/settings", response_model=RoutingSettingsPublic)
def update_settings(
    body: GlobalSettingsUpdate,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
    settings: AppSettings,
) -> RoutingSettingsPublic:
    """Change priority weights, handling times, email weight, sticky wait, answer
    timeout or the tier-2 team; fields left out stay, null goes back to default."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    view = routing.do_update_global_settings(
        db, admin, now=now, ip=client_ip(request), settings=settings, **changes
    )
    return _settings(view)


@router.put("/routing/settings/inboxes/{inbox_id}", response_model=RoutingSettingsPublic)
def update_inbox_settings(
    inbox_id: ObjectId,
    body: ScopeSettingsUpdate,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
    settings: AppSettings,
) -> RoutingSettingsPublic:
    """An inbox's strategy (`pull`: nothing is pushed) and timings."""
    view = routing.do_update_scope_settings(
        db,
        admin,
        inbox_id=inbox_id,
        strategy=body.strategy,
        sticky_wait_seconds=body.sticky_wait_seconds,
        answer_timeout_seconds=body.answer_timeout_seconds,
        now=now,
        ip=client_ip(request),
        settings=settings,
    )
    return _settings(view)


@router.put("/routing/settings/teams/{team_id}", response_model=RoutingSettingsPublic)
def update_team_settings(
    team_id: ObjectId,
    body: ScopeSettingsUpdate,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
    settings: AppSettings,
) -> RoutingSettingsPublic:
    """A team's strategy and timings; they win over the inbox's for the team's
    conversations (null: the inbox's apply)."""
    view = routing.do_update_scope_settings(
        db,
        admin,
        team_id=team_id,
        strategy=body.strategy,
        sticky_wait_seconds=body.sticky_wait_seconds,
        answer_timeout_seconds=body.answer_timeout_seconds,
        now=now,
        ip=client_ip(request),
        settings=settings,
    )
    return _settings(view)


# --- business calendars (admins) ---------------------------------------------------------


@router.get("/sla/calendars", response_model=CalendarList)
def list_calendars(db: DbSession, _admin: AdminUser) -> CalendarList:
    calendars = sla.list_calendars(db)
    return CalendarList(data=[_calendar(c) for c in calendars], count=len(calendars))


@router.post("/sla/calendars", response_model=CalendarPublic, status_code=201)
def create_calendar(
    body: CalendarCreate, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> CalendarPublic:
    """Opening hours per weekday in a time zone, with holidays (422 explains what is
    wrong, e.g. an unknown time zone or overlapping intervals)."""
    hours = body.model_dump(exclude={"name"})
    calendar = sla.do_create_calendar(
        db, admin, name=body.name, data=hours, now=now, ip=client_ip(request)
    )
    return _calendar(calendar)


@router.get("/sla/calendars/{calendar_id}", response_model=CalendarPublic)
def get_calendar(calendar_id: ObjectId, db: DbSession, _admin: AdminUser) -> CalendarPublic:
    return _calendar(sla.access_calendar(db, calendar_id))


@router.patch("/sla/calendars/{calendar_id}", response_model=CalendarPublic)
def update_calendar(
    calendar_id: ObjectId,
    body: CalendarUpdate,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
) -> CalendarPublic:
    calendar = sla.do_update_calendar(
        db,
        admin,
        calendar_id,
        name=body.name,
        data=body.hours.model_dump() if body.hours is not None else None,
        now=now,
        ip=client_ip(request),
    )
    return _calendar(calendar)


@router.delete("/sla/calendars/{calendar_id}", status_code=204)
def delete_calendar(
    calendar_id: ObjectId, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> Response:
    """Refused (409) while a policy uses the calendar."""
    sla.do_delete_calendar(db, admin, calendar_id, now=now, ip=client_ip(request))
    return Response(status_code=204)


# --- SLA policies (admins) ---------------------------------------------------------------


@router.get("/sla/policies", response_model=PolicyList)
def list_policies(db: DbSession, _admin: AdminUser) -> PolicyList:
    """In matching order: the first active policy that matches a conversation applies."""
    policies = sla.list_policies(db)
    return PolicyList(data=[_policy(p) for p in policies], count=len(policies))


@router.post("/sla/policies", response_model=PolicyPublic, status_code=201)
def create_policy(
    body: PolicyWrite, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> PolicyPublic:
    policy = sla.do_save_policy(db, admin, _policy_input(body), now=now, ip=client_ip(request))
    return _policy(policy)


@router.get("/sla/policies/{policy_id}", response_model=PolicyPublic)
def get_policy(policy_id: ObjectId, db: DbSession, _admin: AdminUser) -> PolicyPublic:
    return _policy(sla.access_policy(db, policy_id))


@router.put("/sla/policies/{policy_id}", response_model=PolicyPublic)
def replace_policy(
    policy_id: ObjectId,
    body: PolicyWrite,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
) -> PolicyPublic:
    policy = sla.do_save_policy(
        db, admin, _policy_input(body), policy_id=policy_id, now=now, ip=client_ip(request)
    )
    return _policy(policy)


@router.delete("/sla/policies/{policy_id}", status_code=204)
def delete_policy(
    policy_id: ObjectId, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> Response:
    sla.do_delete_policy(db, admin, policy_id, now=now, ip=client_ip(request))
    return Response(status_code=204)


# --- escalation rules (admins) -----------------------------------------------------------


@router.get("/routing/rules", response_model=RuleList)
def list_rules(db: DbSession, _admin: AdminUser) -> RuleList:
    rules = escalation.list_rules(db)
    return RuleList(data=[_rule(r) for r in rules], count=len(rules))


@router.post("/routing/rules", response_model=RulePublic, status_code=201)
def create_rule(
    body: RuleWrite, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> RulePublic:
    """A rule: conditions (all must hold; nest `{"any": [...]}` groups) → actions."""
    rule = escalation.do_save_rule(db, admin, _rule_input(body), now=now, ip=client_ip(request))
    return _rule(rule)


@router.post("/routing/rules/builtin", response_model=RuleList)
def install_builtin_rules(
    body: BuiltinRulesInstall, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> RuleList:
    """Install or reset the four built-in escalation rules with your teams."""
    rules = escalation.do_install_builtin_rules(
        db,
        admin,
        tier2_team_id=body.tier2_team_id,
        security_team_id=body.security_team_id,
        tier1_minutes=body.tier1_minutes,
        now=now,
        ip=client_ip(request),
    )
    return RuleList(data=[_rule(r) for r in rules], count=len(rules))


@router.get("/routing/rules/{rule_id}", response_model=RulePublic)
def get_rule(rule_id: ObjectId, db: DbSession, _admin: AdminUser) -> RulePublic:
    return _rule(escalation.access_rule(db, rule_id))


@router.put("/routing/rules/{rule_id}", response_model=RulePublic)
def replace_rule(
    rule_id: ObjectId,
    body: RuleWrite,
    request: Request,
    db: DbSession,
    admin: AdminUser,
    now: Now,
) -> RulePublic:
    rule = escalation.do_save_rule(
        db, admin, _rule_input(body), rule_id=rule_id, now=now, ip=client_ip(request)
    )
    return _rule(rule)


@router.delete("/routing/rules/{rule_id}", status_code=204)
def delete_rule(
    rule_id: ObjectId, request: Request, db: DbSession, admin: AdminUser, now: Now
) -> Response:
    escalation.do_delete_rule(db, admin, rule_id, now=now, ip=client_ip(request))
    return Response(status_code=204)


# --- the queue (staff) -------------------------------------------------------------------


@router.get("/routing/queue", response_model=QueueList)
def queue(
    db: DbSession,
    viewer: CurrentViewer,
    now: Now,
    settings: AppSettings,
    inbox_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    team_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> QueueList:
    """Waiting conversations you can see, in the order they will be served, each
    with its position, expected wait and the reasons for its priority score."""
    rows, count = routing.list_queue(
        db, viewer, now=now, inbox_id=inbox_id, team_id=team_id, limit=limit, settings=settings
    )
    return QueueList(
        data=[
            QueueEntryPublic(
                **_estimate_fields(row.estimate),
                number=row.conversation.number,
                subject=row.conversation.subject,
                channel=Channel(row.conversation.channel),
                category=row.conversation.category,
                priority=Priority(row.conversation.priority),
                inbox_id=row.conversation.inbox_id,
                team_id=row.conversation.team_id,
                contact_name=row.contact.name or row.contact.email or "Customer",
                plan=Plan(row.contact.plan) if row.contact.plan else None,
                waiting_since=row.conversation.waiting_since,
                eligible_agents=row.eligible_agents,
            )
            for row in rows
        ],
        count=count,
    )


@router.post("/routing/queue/{conversation_id}/pick", response_model=ConversationPublic)
def pick(
    conversation_id: ObjectId, db: DbSession, viewer: CurrentViewer, now: Now
) -> ConversationPublic:
    """Take a waiting conversation by hand, whatever the strategy (409 when someone
    took it first or you are at your chat limit)."""
    return _conversation(db, routing.do_pick(db, viewer, conversation_id, now=now))


@router.post(
    "/routing/next",
    response_model=ConversationPublic,
    responses={204: {"description": "Nothing waiting that you may take"}},
)
def take_next(
    db: DbSession, viewer: CurrentViewer, now: Now, settings: AppSettings
) -> ConversationPublic | Response:
    """Pull: take the oldest waiting conversation you may take (team, skills,
    language, tier and room under your cap)."""
    conversation = routing.do_take_next(db, viewer, now=now, settings=settings)
    if conversation is None:
        return Response(status_code=204)
    return _conversation(db, conversation)


@router.get("/conversations/{conversation_id}/queue", response_model=QueueEstimatePublic)
def conversation_queue(
    conversation_id: ObjectId,
    db: DbSession,
    viewer: CurrentViewer,
    now: Now,
    settings: AppSettings,
) -> QueueEstimatePublic:
    """Position in the queue, expected wait and priority breakdown of a conversation."""
    access_conversation(db, viewer, conversation_id)
    estimate = routing.queue_position(db, conversation_id, now=now, settings=settings)
    return QueueEstimatePublic(**_estimate_fields(estimate))


@router.get("/conversations/{conversation_id}/sla", response_model=SlaPublic)
def conversation_sla(
    conversation_id: ObjectId, db: DbSession, viewer: CurrentViewer, now: Now
) -> SlaPublic:
    """The SLA policy, each target's state and deadline, and the pauses with reasons."""
    view = sla.get_sla(db, viewer, conversation_id, now=now)
    return SlaPublic(
        conversation_id=view.conversation_id,
        policy_id=view.policy_id,
        policy_name=view.policy_name,
        state=view.state,
        paused=view.paused,
        targets=[
            SlaTargetPublic(
                target=status.target.value,
                state=status.state.value,
                due_at=status.due_at,
                completed_at=status.completed_at,
                paused=status.paused,
            )
            for status in view.targets
        ],
        pauses=[
            SlaPausePublic(started_at=p.started_at, ended_at=p.ended_at, reason=p.reason)
            for p in view.pauses
        ],
    )


@router.post("/conversations/{conversation_id}/refund-request", response_model=ConversationPublic)
def refund_request(
    conversation_id: ObjectId, body: RefundRequest, db: DbSession, viewer: CurrentViewer, now: Now
) -> ConversationPublic:
    """Record the refund the customer asks for; a refund above the assigned agent's
    authority escalates to the supervisor (built-in rule)."""
    conversation = routing_hooks.do_record_refund_request(
        db, viewer, conversation_id, amount_cents=body.amount_cents, now=now
    )
    return _conversation(db, conversation)


# --- agents ------------------------------------------------------------------------------


@router.put("/routing/status", response_model=AgentRoutingPublic)
def set_my_status(
    body: AgentStatusChange, db: DbSession, viewer: CurrentViewer, now: Now, settings: AppSettings
) -> AgentRoutingPublic:
    """Your presence. Online: waiting conversations are offered to you at once; away
    or on a break: nothing new; offline: your chats go to colleagues."""
    return _set_status(db, viewer, viewer.user_id, body.status, now, settings)


@router.put("/routing/agents/{user_id}/status", response_model=AgentRoutingPublic)
def set_agent_status(
    user_id: ObjectId,
    body: AgentStatusChange,
    db: DbSession,
    viewer: CurrentViewer,
    now: Now,
    settings: AppSettings,
) -> AgentRoutingPublic:
    """Supervisors and admins set a colleague's presence (e.g. someone who left)."""
    return _set_status(db, viewer, user_id, body.status, now, settings)


def _set_status(
    db: DbSession,
    viewer: CurrentViewer,
    user_id: int,
    status: AgentStatus,
    now: Now,
    settings: AppSettings,
) -> AgentRoutingPublic:
    user = routing.do_set_agent_status(db, viewer, user_id, status, now=now, settings=settings)
    return _agents(db, settings, [user.id])[0]


def _agents(
    db: DbSession, settings: AppSettings, ids: list[int] | None = None
) -> list[AgentRoutingPublic]:
    return [
        AgentRoutingPublic(
            id=row.user.id,
            name=row.user.name,
            status=AgentStatus(row.user.status),
            status_since=row.user.status_since,
            tier=row.user.tier,
            max_concurrent_chats=row.user.max_concurrent_chats,
            open_chats=row.open_chats,
            open_email_tickets=row.open_email_tickets,
            load=row.load,
        )
        for row in routing.list_agent_loads(db, agent_ids=ids, settings=settings)
    ]


@router.get("/routing/agents", response_model=AgentRoutingList)
def list_agents(db: DbSession, viewer: CurrentViewer, settings: AppSettings) -> AgentRoutingList:
    """Everyone's presence and load against their cap (supervisors and admins)."""
    if not viewer.is_supervisor_or_admin:
        raise HTTPException(403, "supervisors and admins only")
    agents = _agents(db, settings)
    return AgentRoutingList(data=agents, count=len(agents))
