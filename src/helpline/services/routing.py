"""The routing engine in the live server: who gets which waiting conversation, now.

A round copies the queue and the online agents out of the database into the
domain's plain data (`helpline.domain.routing`), asks `route(...)` for a plan,
and applies it atomically: the agents it gives work to are locked and their load
counted again under the lock, the conversations are claimed with SKIP LOCKED (see
`adapters.db.routing_repo`), and only assignments that still fit are written.
A conversation is therefore never assigned twice and no agent goes over their cap,
however many server processes route at once.

Rounds run when a conversation arrives or comes back to the queue (targeted at
it), when an agent comes online or frees capacity (targeted at them), and on the
worker's periodic tick (everything). This module also owns the settings that tune
routing, the stored priority score, the queue view with expected waits, picking
from the queue by hand, re-offering unanswered chats and agent status changes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, false, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from helpline.adapters.db import routing_repo as repo
from helpline.adapters.db.base import JSONType
from helpline.adapters.db.models import (
    Activity,
    Contact,
    Conversation,
    Inbox,
    RoutingSettings,
    Team,
    User,
)
from helpline.domain.access import Viewer, can_see_conversation
from helpline.domain.enums import (
    ActivityKind,
    AgentStatus,
    Channel,
    ConversationStatus,
    Plan,
    Priority,
)
from helpline.domain.routing import (
    AgentState,
    Assignment,
    OpenAssignment,
    PriorityScore,
    PriorityWeights,
    QueuedConversation,
    RoutingConfig,
    ScorePart,
    Strategy,
    TeamInfo,
    expected_waits,
    next_for_agent,
    reoffer_due,
    route,
    score_conversation,
)
from helpline.domain.routing.config import DEFAULT_HANDLING_MINUTES
from helpline.domain.routing.eligibility import fits_under_cap, static_problems
from helpline.domain.routing.model import MAX_CHAT_CAP, MIN_CHAT_CAP, normalise_language
from helpline.domain.routing.priority import DEFAULT_WEIGHTS
from helpline.domain.routing.strategies import LIVE_CHANNELS, ReofferReason, Router
from helpline.services import config_cache, sla
from helpline.services.audit import record_audit
from helpline.services.conversations import (
    activity_payload,
    can_see,
    conversation_payload,
)
from helpline.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpline.services.events import LiveEvent, queue_event
from helpline.services.history import record_activity
from helpline.services.recipients import staff_recipients, supervisor_ids
from helpline.settings import Settings, get_settings

log = logging.getLogger(__name__)

GLOBAL_SCOPE = "global"
AGENT_ROUND_QUEUE = 500
"""A round for agents who just got room looks at this many of the best-scored and
this many of the longest-waiting conversations; the periodic round sees all."""
MAX_RETRIES = 3
"""Rounds repeat while another process took some planned agent's room meanwhile."""
RECENT_COMPLETIONS = timedelta(minutes=30)
"""Service rates for wait estimates come from conversations solved this recently."""


# ---------------------------------------------------------------- settings


WEIGHT_FIELDS: dict[str, type] = {
    "urgent_points": float,
    "lifetime_value_points_per_100": float,
    "lifetime_value_max_points": float,
    "repeat_customer_min_orders": int,
    "repeat_customer_points": float,
    "large_order_cents": int,
    "large_order_points": float,
    "first_time_points": float,
    "waiting_points_per_minute": float,
    "sla_risk_window_minutes": float,
    "sla_risk_max_points": float,
    "sla_overdue_points": float,
    "frustration_points": float,
    "frustration_threshold": float,
}
"""Priority weights an admin may change, by name (see `PriorityWeights`)."""
MAPPING_WEIGHTS = {"plan_points": Plan, "priority_points": Priority}
MAX_POINTS = 1000.0


def check_weights(values: Mapping[str, Any]) -> dict[str, Any]:
    """Admin-given weights, checked: scalars by name, `plan_points` and
    `priority_points` by plan or priority, `urgent_categories` as a list."""
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name in WEIGHT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationFailed(f"{name} must be a number", {"field": f"weights.{name}"})
            if not -MAX_POINTS <= value <= 1_000_000_000:
                raise ValidationFailed(f"{name} is out of range", {"field": f"weights.{name}"})
            clean[name] = int(value) if WEIGHT_FIELDS[name] is int else float(value)
        elif name in MAPPING_WEIGHTS:
            if not isinstance(value, Mapping):
                raise ValidationFailed(f"{name} maps names to points", {"field": f"weights.{name}"})
            allowed = {member.value for member in MAPPING_WEIGHTS[name]}
            points: dict[str, float] = {}
            for key, number in value.items():
                if key not in allowed:
                    raise ValidationFailed(
                        f"{name}: unknown {key!r}; use {', '.join(sorted(allowed))}",
                        {"field": f"weights.{name}"},
                    )
                if isinstance(number, bool) or not isinstance(number, int | float):
                    raise ValidationFailed(
                        f"{name}.{key} must be a number", {"field": f"weights.{name}"}
                    )
                if abs(number) > MAX_POINTS:
                    raise ValidationFailed(f"{name}.{key} is out of range", {"field": "weights"})
                points[key] = float(number)
            clean[name] = points
        elif name == "urgent_categories":
            if not isinstance(value, list) or not all(
                isinstance(item, str) and 0 < len(item) <= 40 for item in value
            ):
                raise ValidationFailed(
                    "urgent_categories is a list of category names",
                    {"field": "weights.urgent_categories"},
                )
            clean[name] = sorted({item.strip().lower() for item in value})
        else:
            raise ValidationFailed(f"unknown weight {name!r}", {"field": f"weights.{name}"})
    try:
        build_weights(clean)
    except ValueError as exc:
        raise ValidationFailed(str(exc), {"field": "weights"}) from exc
    return clean


def build_weights(*overrides: Mapping[str, Any]) -> PriorityWeights:
    """The default weights with each mapping of overrides applied in turn."""
    changes: dict[str, Any] = {}
    for values in overrides:
        for name, value in values.items():
            if name in WEIGHT_FIELDS:
                changes[name] = WEIGHT_FIELDS[name](value)
            elif name == "plan_points":
                base = dict(changes.get(name, DEFAULT_WEIGHTS.plan_points))
                base.update({Plan(key): float(points) for key, points in value.items()})
                changes[name] = base
            elif name == "priority_points":
                base = dict(changes.get(name, DEFAULT_WEIGHTS.priority_points))
                base.update({Priority(key): float(points) for key, points in value.items()})
                changes[name] = base
            elif name == "urgent_categories":
                changes[name] = frozenset(value)
    return dataclasses.replace(DEFAULT_WEIGHTS, **changes)


def check_handling_minutes(values: Mapping[str, Any]) -> dict[str, float]:
    clean: dict[str, float] = {}
    for category, minutes in values.items():
        if not isinstance(category, str) or not 0 < len(category) <= 40:
            raise ValidationFailed("categories are 1 to 40 characters", {"field": "handling"})
        if isinstance(minutes, bool) or not isinstance(minutes, int | float):
            raise ValidationFailed(f"{category}: minutes must be a number", {"field": "handling"})
        if not 0 < minutes <= 24 * 60:
            raise ValidationFailed(
                f"{category}: handling time is 0 to 1440 minutes", {"field": "handling"}
            )
        clean[category.strip().lower()] = float(minutes)
    return clean


@dataclass(frozen=True, slots=True)
class ScopeOverrides:
    """What an inbox or team changes about routing (None: inherited)."""

    strategy: Strategy | None = None
    sticky_wait_seconds: float | None = None
    answer_timeout_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class RoutingSetup:
    """Every routing setting in force, read once per round."""

    base: RoutingConfig
    inbox_strategies: Mapping[int, Strategy] = field(default_factory=dict)
    inboxes: Mapping[int, ScopeOverrides] = field(default_factory=dict)
    teams: Mapping[int, ScopeOverrides] = field(default_factory=dict)
    tier2_team_id: int | None = None

    def config_for(self, inbox_id: int | None, team_id: int | None) -> RoutingConfig:
        """Team settings win over the inbox's, which win over the installation's."""
        strategy = self.inbox_strategies.get(inbox_id, self.base.strategy) if inbox_id else None
        config = self.base
        layers = [self.inboxes.get(inbox_id) if inbox_id is not None else None]
        layers.append(self.teams.get(team_id) if team_id is not None else None)
        changes: dict[str, Any] = {}
        if strategy is not None and strategy != config.strategy:
            changes["strategy"] = strategy
        for layer in layers:
            if layer is None:
                continue
            if layer.strategy is not None:
                changes["strategy"] = layer.strategy
            if layer.sticky_wait_seconds is not None:
                changes["sticky_wait_seconds"] = layer.sticky_wait_seconds
            if layer.answer_timeout_seconds is not None:
                changes["answer_timeout_seconds"] = layer.answer_timeout_seconds
        return dataclasses.replace(config, **changes) if changes else config

    def shortest_answer_timeout(self) -> float:
        timeouts = [self.base.answer_timeout_seconds]
        for layer in (*self.inboxes.values(), *self.teams.values()):
            if layer.answer_timeout_seconds is not None:
                timeouts.append(layer.answer_timeout_seconds)
        return min(timeouts)


def _overrides(row: RoutingSettings) -> ScopeOverrides:
    return ScopeOverrides(
        strategy=Strategy(row.strategy) if row.strategy else None,
        sticky_wait_seconds=row.sticky_wait_seconds,
        answer_timeout_seconds=row.answer_timeout_seconds,
    )


def load_setup(db: Session, settings: Settings | None = None) -> RoutingSetup:
    """Defaults from the environment (`HELPLINE_ROUTING_*`), then the admin's global
    settings, inbox strategies and inbox/team overrides: read once per process and
    configuration version (see `config_cache`)."""
    settings = settings or get_settings()
    key = (
        "routing_setup",
        tuple(sorted(settings.routing_priority_weights.items())),
        settings.routing_email_weight,
        settings.routing_sticky_wait_seconds,
        settings.routing_answer_timeout_seconds,
    )
    return config_cache.cached(db, key, lambda: read_setup(db, settings))


def read_setup(db: Session, settings: Settings) -> RoutingSetup:
    """`load_setup` without the cache: read from the database now."""
    rows = list(db.scalars(select(RoutingSettings)))
    global_row = next((row for row in rows if row.scope == GLOBAL_SCOPE), None)
    weights = build_weights(
        settings.routing_priority_weights, global_row.weights if global_row else {}
    )
    handling = dict(DEFAULT_HANDLING_MINUTES)
    if global_row is not None:
        handling.update(global_row.handling_minutes or {})

    def pick(value: float | None, default: float) -> float:
        return default if value is None else value

    base = RoutingConfig(
        strategy=Strategy.PRIORITY,
        weights=weights,
        email_weight=pick(
            global_row.email_weight if global_row else None, settings.routing_email_weight
        ),
        sticky_wait_seconds=pick(
            global_row.sticky_wait_seconds if global_row else None,
            settings.routing_sticky_wait_seconds,
        ),
        answer_timeout_seconds=pick(
            global_row.answer_timeout_seconds if global_row else None,
            settings.routing_answer_timeout_seconds,
        ),
        handling_minutes=handling,
    )
    inbox_strategies = {
        inbox_id: Strategy(strategy)
        for inbox_id, strategy in db.execute(select(Inbox.id, Inbox.routing_strategy))
        if strategy in Strategy._value2member_map_
    }
    return RoutingSetup(
        base=base,
        inbox_strategies=inbox_strategies,
        inboxes={row.inbox_id: _overrides(row) for row in rows if row.inbox_id is not None},
        teams={row.team_id: _overrides(row) for row in rows if row.team_id is not None},
        tier2_team_id=global_row.tier2_team_id if global_row else None,
    )


def load_policy_book(db: Session) -> sla.PolicyBook:
    """The SLA policies with their parsed business calendars (cached per
    configuration version; read-only for its users)."""
    return config_cache.cached(db, "sla_policy_book", lambda: sla.load_policies(db))


# ---------------------------------------------------------------- plain data


def _plan(value: str | None) -> Plan | None:
    return Plan(value) if value is not None and value in Plan._value2member_map_ else None


def _priority(value: str) -> Priority:
    return Priority(value) if value in Priority._value2member_map_ else Priority.NORMAL


def _order_value(attributes: Mapping[str, Any] | None) -> int:
    value = (attributes or {}).get("order_value_cents")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def queued_from_row(row: repo.WaitingRow) -> QueuedConversation:
    return QueuedConversation(
        id=row.id,
        waiting_since=row.waiting_since or row.last_activity_at,
        channel=Channel(row.channel),
        category=row.category,
        urgent_reason=row.urgent_reason,
        priority=_priority(row.priority),
        language=row.language,
        team_id=row.team_id,
        tier=row.tier if row.tier in (1, 2) else 1,
        plan=_plan(row.plan),
        lifetime_value_cents=row.lifetime_value_cents,
        orders_count=row.orders_count,
        order_value_cents=_order_value(row.custom_attributes),
        first_time_customer=row.first_contact,
        first_response_due_at=row.first_response_due_at if row.first_response_at is None else None,
        previous_agent_id=row.previous_agent_id,
        excluded_agent_ids=frozenset(int(i) for i in row.routing_excluded_ids or ()),
        frustration=row.frustration or 0.0,
    )


def queued_from_conversation(conversation: Conversation, contact: Contact) -> QueuedConversation:
    """The same plain data for a loaded conversation (scoring inside a write)."""
    return QueuedConversation(
        id=conversation.id,
        waiting_since=conversation.waiting_since or conversation.last_activity_at,
        channel=Channel(conversation.channel),
        category=conversation.category,
        urgent_reason=conversation.urgent_reason,
        priority=_priority(conversation.priority),
        language=conversation.language,
        team_id=conversation.team_id,
        tier=conversation.tier if conversation.tier in (1, 2) else 1,
        plan=_plan(contact.plan),
        lifetime_value_cents=contact.lifetime_value_cents,
        orders_count=contact.orders_count,
        order_value_cents=_order_value(conversation.custom_attributes),
        first_time_customer=conversation.first_contact,
        first_response_due_at=conversation.first_response_due_at
        if conversation.first_response_at is None
        else None,
        previous_agent_id=conversation.previous_agent_id,
        excluded_agent_ids=frozenset(int(i) for i in conversation.routing_excluded_ids or ()),
        frustration=conversation.frustration or 0.0,
    )


def _clamp_cap(cap: int) -> int:
    return min(MAX_CHAT_CAP, max(MIN_CHAT_CAP, cap))


def agent_state(
    row: repo.AgentRow, team_ids: Iterable[int], load: tuple[int, int] | None
) -> AgentState:
    chats, emails = load or (0, 0)
    status = row.status if row.status in AgentStatus._value2member_map_ else "offline"
    return AgentState(
        id=row.id,
        status=AgentStatus(status),
        team_ids=frozenset(team_ids),
        skills=frozenset(row.skills or ()),
        languages=frozenset(row.languages or ()),
        tier=row.tier if row.tier in (1, 2) else 1,
        max_concurrent_chats=_clamp_cap(row.max_concurrent_chats),
        open_chats=chats,
        open_email_tickets=emails,
        last_assigned_at=row.last_assigned_at,
    )


def load_teams(db: Session) -> Mapping[int, TeamInfo]:
    """Every team's tier and categories (cached per configuration version)."""
    return config_cache.cached(db, "routing_teams", lambda: read_teams(db))


def read_teams(db: Session) -> dict[int, TeamInfo]:
    return {
        team_id: TeamInfo(id=team_id, tier=tier if tier in (1, 2) else 1, categories=frozenset(c))
        for team_id, tier, c in repo.all_teams(db)
    }


def load_agents(db: Session, agent_ids: Collection[int] | None = None) -> list[AgentState]:
    """Online agents (or just these, if online) with their current load."""
    rows = repo.agent_rows(db, agent_ids=agent_ids)
    ids = [row.id for row in rows]
    memberships = repo.team_ids_by_user(db, ids)
    loads = repo.open_loads(db, ids)
    return [agent_state(row, memberships.get(row.id, ()), loads.get(row.id)) for row in rows]


@dataclass(frozen=True, slots=True)
class StaticNeeds:
    """What one conversation needs of an agent that does not change while routing
    runs: team, category, language, tier (no presence, no load)."""

    tier: int
    team_id: int | None = None
    category: str | None = None
    language: str | None = None
    """Primary language subtag, lower-case (`pt` for `pt-BR`)."""


def read_staff(db: Session) -> list[AgentState]:
    """Every active agent's static facts (tier, skills, languages, teams); their
    presence and load here mean nothing."""
    rows = repo.agent_rows(db, online_only=False)
    memberships = repo.team_ids_by_user(db)
    return [agent_state(row, memberships.get(row.id, ()), None) for row in rows]


def candidates(db: Session, needs: StaticNeeds) -> repo.AgentIds | None:
    """The active agents who meet `needs` by the domain's own check
    (`static_problems`), or None when all of them do: worked out once per process
    and configuration version (tier, skills, languages and teams are configuration,
    see `config_cache`), so an arrival's query counts the load of these agents
    only and never filters JSON columns row by row."""

    def meeting() -> repo.AgentIds | None:
        staff = config_cache.cached(db, "routing_staff", lambda: read_staff(db))
        teams = load_teams(db)
        ids = repo.AgentIds.of(
            agent.id
            for agent in staff
            if not static_problems(
                agent,
                team_id=needs.team_id,
                category=needs.category,
                language=needs.language,
                tier=needs.tier,
                teams=teams,
            )
        )
        return None if len(ids.ids) == len(staff) else ids

    return config_cache.cached(db, ("routing_candidates", needs), meeting)


def load_routable_agents(
    db: Session,
    *,
    email_weight: float,
    agent_ids: Collection[int] | None = None,
    also: Collection[int] = (),
    order: repo.AgentOrder | None = None,
    limit: int | None = None,
    needs: StaticNeeds | None = None,
) -> list[AgentState]:
    """The agents a round can give work to: online with room, plus the previous
    agents in `also` (a returning customer may be held for a full one). Leaving out
    the full ones keeps a round's cost to the agents who matter; `order`/`limit`
    keep only the first in the strategy's order (see `repo.routable_agents`);
    `needs`: only the agents who meet them (`candidates`)."""
    rows = repo.routable_agents(
        db,
        email_weight=email_weight,
        agent_ids=agent_ids,
        also=also,
        order=order,
        limit=limit,
        candidates=candidates(db, needs) if needs is not None else None,
    )
    return [agent_state(row, teams, (chats, emails)) for row, chats, emails, teams in rows]


@dataclass(slots=True)
class Snapshot:
    """The queue and the agents as one round sees them (read without locks)."""

    queue: list[QueuedConversation]
    scopes: dict[int, tuple[int, int | None]]
    """Conversation id to (inbox, team): which settings apply."""
    agents: list[AgentState]
    teams: Mapping[int, TeamInfo]
    stored_scores: dict[int, float] = field(default_factory=dict)


def load_snapshot(
    db: Session,
    *,
    conversation_ids: Collection[int] | None = None,
    agent_ids: Collection[int] | None = None,
    best: int | None = None,
    routable_only: float | None = None,
    agent_order: repo.AgentOrder | None = None,
    agent_limit: int | None = None,
    rows: list[repo.WaitingRow] | None = None,
    needs: StaticNeeds | None = None,
    teams: Mapping[int, TeamInfo] | None = None,
) -> Snapshot:
    """The queue (all of it, these conversations, or the `best` top) and the agents:
    every online one, or with `routable_only` (the email weight) only those a round
    can give work to (the first `agent_limit` in `agent_order`, if given). `rows`:
    the queue already read."""
    if rows is None:
        rows = repo.waiting_rows(db, conversation_ids=conversation_ids, best=best)
    if not rows:
        agents: list[AgentState] = []
    elif routable_only is not None:
        previous = {row.previous_agent_id for row in rows if row.previous_agent_id is not None}
        agents = load_routable_agents(
            db,
            email_weight=routable_only,
            agent_ids=agent_ids,
            also=previous,
            order=agent_order,
            limit=agent_limit,
            needs=needs,
        )
    else:
        agents = load_agents(db, agent_ids)
    return Snapshot(
        queue=[queued_from_row(row) for row in rows],
        scopes={row.id: (row.inbox_id, row.team_id) for row in rows},
        agents=agents,
        teams=(teams if teams is not None else load_teams(db)) if rows else {},
        stored_scores={row.id: row.priority_score for row in rows},
    )


# ---------------------------------------------------------------- planning


@dataclass(frozen=True, slots=True)
class PlannedAssignment:
    assignment: Assignment
    config: RoutingConfig


@dataclass(slots=True)
class RoundPlan:
    assignments: list[PlannedAssignment] = field(default_factory=list)
    held: int = 0
    unrouted: dict[int, str] = field(default_factory=dict)


def _partition_key(config: RoutingConfig) -> tuple[str, float, float]:
    return (config.strategy.value, config.sticky_wait_seconds, config.answer_timeout_seconds)


def plan_round(snapshot: Snapshot, setup: RoutingSetup, now: datetime) -> RoundPlan:
    """Route each group of conversations that shares settings, one group after the
    other, each seeing the loads the earlier groups left."""
    groups: dict[tuple[str, float, float], tuple[RoutingConfig, list[QueuedConversation]]] = {}
    for conversation in snapshot.queue:
        inbox_id, team_id = snapshot.scopes[conversation.id]
        config = setup.config_for(inbox_id, team_id)
        groups.setdefault(_partition_key(config), (config, []))[1].append(conversation)
    plan = RoundPlan()
    agents = {agent.id: agent for agent in snapshot.agents}
    channels = {conversation.id: conversation.channel for conversation in snapshot.queue}
    for key in sorted(groups):
        config, queue = groups[key]
        routed = route(queue, list(agents.values()), snapshot.teams, now, config)
        for assignment in routed.assignments:
            plan.assignments.append(PlannedAssignment(assignment, config))
            agent = agents[assignment.agent_id]
            email = channels[assignment.conversation_id] == Channel.EMAIL
            agents[agent.id] = dataclasses.replace(
                agent,
                open_chats=agent.open_chats + (not email),
                open_email_tickets=agent.open_email_tickets + email,
                last_assigned_at=now,
            )
        plan.held += len(routed.held)
        plan.unrouted.update({u.conversation_id: u.reason for u in routed.unrouted})
    return plan


# ---------------------------------------------------------------- applying


@dataclass(slots=True)
class RoutingOutcome:
    """What one call of `route_waiting` did."""

    assigned: list[tuple[int, int]] = field(default_factory=list)
    """(conversation, agent) pairs written."""
    skipped: int = 0
    """Planned assignments dropped because another process changed things first."""
    held: int = 0
    unrouted: dict[int, str] = field(default_factory=dict)


class _Recipients:
    """Who hears about conversations (`recipients.staff_recipients`: the staff of its
    team and inbox from the configuration cache, plus its assignee)."""

    def __init__(self, db: Session) -> None:
        self._db = db

    def __call__(self, conversation: Conversation) -> frozenset[int]:
        return staff_recipients(
            self._db,
            assignee_id=conversation.assignee_id,
            team_id=conversation.team_id,
            inbox_id=conversation.inbox_id,
        )


def queue_updated_event(
    db: Session,
    conversation: Conversation,
    activities: Sequence[Activity],
    *,
    recipients: frozenset[int],
) -> None:
    queue_event(
        db,
        LiveEvent(
            type="conversation.updated",
            payload={
                "conversation": conversation_payload(conversation),
                "activities": [activity_payload(activity) for activity in activities],
            },
            user_ids=recipients,
            conversation_id=conversation.id,
            seq=conversation.last_seq,
        ),
    )


def apply_assignments(
    db: Session, planned: Sequence[PlannedAssignment], *, now: datetime, email_weight: float
) -> tuple[list[tuple[int, int]], int]:
    """Write the planned assignments that still hold; returns (written, skipped).

    Locking: the planned agents' rows FOR UPDATE (id order); then the planned
    conversations FOR UPDATE SKIP LOCKED, keeping only those still open and
    unassigned, with the agents' loads counted again by that statement (it starts
    once the agent locks are held). An assignment is written only if its agent is
    still active and online and the conversation still fits under their cap, with
    its history entry (`repo.write_assignments`). Does not commit.
    """
    if not planned:
        return [], 0
    agents = repo.lock_agents(db, (p.assignment.agent_id for p in planned))
    # Counted by the claiming statement, which starts once the agents are locked.
    claimed, loads = repo.claim_waiting_counting(
        db, (p.assignment.conversation_id for p in planned), list(agents)
    )
    load_of = {
        agent_id: chats + email_weight * emails for agent_id, (chats, emails) in loads.items()
    }
    written: list[tuple[int, int]] = []
    writes: list[repo.AssignmentWrite] = []
    skipped = 0
    for item in planned:
        assignment = item.assignment
        conversation = claimed.pop(assignment.conversation_id, None)
        agent = agents.get(assignment.agent_id)
        if (
            conversation is None
            or agent is None
            or not agent.is_active
            or agent.status != AgentStatus.ONLINE.value
        ):
            skipped += 1
            continue
        cost = email_weight if conversation.channel == Channel.EMAIL.value else 1.0
        load = load_of.get(agent.id, 0.0)
        if not fits_under_cap(load, cost, _clamp_cap(agent.max_concurrent_chats)):
            skipped += 1
            continue
        load_of[agent.id] = load + cost
        score = assignment.score
        writes.append(
            repo.AssignmentWrite(
                conversation=conversation,
                agent=agent,
                offered=Channel(conversation.channel) in LIVE_CHANNELS,
                data={
                    "from": None,
                    "to": agent.id,
                    "from_name": None,
                    "to_name": agent.name,
                    "reason": assignment.reason,
                    "strategy": item.config.strategy.value,
                    "score": round(score.total, 1) if score is not None else None,
                },
            )
        )
        written.append((conversation.id, agent.id))
    # The whole round in one statement on PostgreSQL (updates and history entries).
    entries = repo.write_assignments(db, writes, now=now)
    recipients = _Recipients(db)
    for write, activity in zip(writes, entries, strict=True):
        queue_updated_event(
            db, write.conversation, [activity], recipients=recipients(write.conversation)
        )
    return written, skipped


FEW_ARRIVALS = 10
"""A round for at most this many arriving conversations reads only the first agents
in the strategy's order (`ARRIVAL_AGENTS` + 10 per conversation), falling back to
every agent with room when none of those could take one."""
ARRIVAL_AGENTS = 40
ONE_ARRIVAL_AGENTS = 10
"""A single arrival's agents are only those who meet its static needs (team, tier,
category, language: `candidates`), so the first few in the strategy's order are
nearly always eligible; fewer rows to read and index keep the arrival's decision
fast."""
_AGENT_ORDER: dict[Strategy, repo.AgentOrder] = {
    Strategy.PRIORITY: "load",
    Strategy.FIFO: "load",
    Strategy.EASIEST_FIRST: "load",
    Strategy.ROUND_ROBIN: "turn",
    Strategy.LEAST_LOADED: "open_chats",
}
_NOBODY_FREE = frozenset(
    {
        "no eligible agent is online",
        "every eligible agent is at capacity",
        "only agents who let it go unanswered are online",
    }
)


def _snapshot_and_plan(
    db: Session,
    setup: RoutingSetup,
    now: datetime,
    *,
    conversation_ids: Collection[int] | None,
    agent_ids: Collection[int] | None,
    best: int | None,
    arrivals: list[repo.WaitingRow] | None = None,
) -> tuple[Snapshot, RoundPlan | None]:
    """Read and plan. A few arrivals sharing one strategy (`arrivals`: their rows,
    read already) are planned against the first agents in that strategy's order; if
    one of them found nobody there, the plan is made again against every agent with
    room."""
    order: repo.AgentOrder | None = None
    limit: int | None = None
    needs: StaticNeeds | None = None
    rows = arrivals
    teams: Mapping[int, TeamInfo] | None = None
    if rows is not None:
        strategies = {setup.config_for(row.inbox_id, row.team_id).strategy for row in rows}
        if len(strategies) == 1:
            order = _AGENT_ORDER.get(strategies.pop())
            limit = ARRIVAL_AGENTS + 10 * len(rows) if order is not None else None
        if len(rows) == 1:
            teams = load_teams(db)
            needs = _static_needs(rows[0])
            limit = ONE_ARRIVAL_AGENTS if limit is not None else None
    while True:
        snapshot = load_snapshot(
            db,
            conversation_ids=conversation_ids,
            agent_ids=agent_ids,
            best=best,
            routable_only=setup.base.email_weight,
            agent_order=order,
            agent_limit=limit,
            rows=rows,
            needs=needs,
            teams=teams,
        )
        # Only a full prefix can have left out someone: fewer rows were all there are.
        narrowed = limit is not None and len(snapshot.agents) >= limit
        if not snapshot.queue or not snapshot.agents:
            if narrowed and snapshot.queue:
                limit = order = None  # nobody among the first: look at everyone
                continue
            return snapshot, None
        plan = plan_round(snapshot, setup, now)
        if narrowed and any(reason in _NOBODY_FREE for reason in plan.unrouted.values()):
            limit = order = None
            continue
        return snapshot, plan


def _static_needs(row: repo.WaitingRow) -> StaticNeeds:
    """What decides, before presence and load, who may take one conversation."""
    return StaticNeeds(
        tier=row.tier if row.tier in (1, 2) else 1,
        team_id=row.team_id,
        category=row.category if row.team_id is None else None,
        language=normalise_language(row.language),
    )


def _read_arrivals(
    db: Session, conversation_ids: Collection[int] | None
) -> list[repo.WaitingRow] | None:
    """A few arrivals' rows (None for other rounds) and, in the same round trip, the
    configuration token: the round's settings then come from the cache without a
    query of their own."""
    if conversation_ids is None or not 0 < len(conversation_ids) <= FEW_ARRIVALS:
        return None
    rows, token = repo.waiting_rows_with(db, conversation_ids, config_cache.version_column())
    if rows:
        config_cache.note_version(db, token)
    return rows


def route_waiting(
    db: Session,
    *,
    now: datetime,
    settings: Settings | None = None,
    conversation_ids: Collection[int] | None = None,
    agent_ids: Collection[int] | None = None,
    best: int | None = None,
    rescore: bool = False,
) -> RoutingOutcome:
    """One routing round (repeated while another process took planned room first),
    each attempt its own transaction; commits.

    `conversation_ids`: route just these (they arrived or came back); `agent_ids`:
    offer waiting conversations to just these agents (they came online or freed
    capacity), looking at the `best` top of the queue. Neither: everything.
    `rescore`: also store the new priority score of what is still waiting.
    """
    outcome = RoutingOutcome()
    for attempt in range(MAX_RETRIES):
        arrivals = _read_arrivals(db, conversation_ids)
        setup = load_setup(db, settings)
        snapshot, plan = _snapshot_and_plan(
            db,
            setup,
            now,
            conversation_ids=conversation_ids,
            agent_ids=agent_ids,
            best=best,
            arrivals=arrivals,
        )
        written: list[tuple[int, int]] = []
        skipped = 0
        if plan is not None:
            written, skipped = apply_assignments(
                db, plan.assignments, now=now, email_weight=setup.base.email_weight
            )
            outcome.held = plan.held
            outcome.unrouted = plan.unrouted
        else:
            outcome.unrouted = {c.id: "no agent with room is online" for c in snapshot.queue}
        db.commit()
        outcome.assigned.extend(written)
        outcome.skipped += skipped
        if rescore and attempt == 0:
            taken = {conversation_id for conversation_id, _ in written}
            still_waiting = [c for c in snapshot.queue if c.id not in taken]
            write_scores(
                db, still_waiting, snapshot.stored_scores, now=now, weights=setup.base.weights
            )
        if not skipped:
            break
    return outcome


def route_after_commit(
    db: Session,
    *,
    now: datetime,
    conversation_ids: Collection[int] = (),
    freed_agent_ids: Collection[int] = (),
    settings: Settings | None = None,
) -> None:
    """The rounds a committed change calls for. A database failure here is logged and
    rolled back, never undoing the change that is already committed: the periodic
    round routes what is left."""
    try:
        if conversation_ids:
            route_waiting(db, now=now, settings=settings, conversation_ids=conversation_ids)
        if freed_agent_ids:
            route_waiting(
                db, now=now, settings=settings, agent_ids=freed_agent_ids, best=AGENT_ROUND_QUEUE
            )
    except SQLAlchemyError:
        db.rollback()
        log.exception("routing after a change failed; the periodic round will retry")


# ---------------------------------------------------------------- the priority score


def breakdown_data(score: PriorityScore) -> list[list[Any]]:
    return [[part.reason, round(part.points, 2)] for part in score.breakdown]


def breakdown_parts(data: Iterable[Sequence[Any]] | None) -> list[ScorePart]:
    parts = []
    for item in data or ():
        if len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], int | float):
            parts.append(ScorePart(item[0], float(item[1])))
    return parts


def rescore(
    db: Session, conversation: Conversation, *, now: datetime, weights: PriorityWeights
) -> PriorityScore:
    """Store the conversation's priority score and its reasons (inside the caller's
    transaction, holding the conversation)."""
    contact = db.get(Contact, conversation.contact_id)
    assert contact is not None
    score = score_conversation(queued_from_conversation(conversation, contact), now, weights)
    conversation.priority_score = round(score.total, 2)
    conversation.priority_breakdown = breakdown_data(score)
    return score


SCORE_STEP = 1.0
"""A stored score is rewritten when it moved by at least this much (waiting adds
3 points a minute by default: about every 20 seconds per waiting conversation)."""


def _score_update() -> Any:
    table = Conversation.__table__
    return (
        update(table)  # type: ignore[arg-type]
        .where(table.c.id == bindparam("b_id"))
        .values(
            priority_score=bindparam("b_score"),
            priority_breakdown=bindparam("b_breakdown", type_=JSONType),
        )
    )


def write_scores(
    db: Session,
    queue: Iterable[QueuedConversation],
    stored: Mapping[int, float],
    *,
    now: datetime,
    weights: PriorityWeights,
) -> int:
    """Store fresh scores of waiting conversations whose score moved by SCORE_STEP
    or more, in one executemany; commits. Plain UPDATEs without row locks: the score
    is a hint for ordering lists, and any writer holding a conversation may
    overwrite it with a fresher one."""
    changed = []
    for conversation in queue:
        score = score_conversation(conversation, now, weights)
        total = round(score.total, 2)
        if abs(total - stored.get(conversation.id, 0.0)) >= SCORE_STEP:
            changed.append(
                {"b_id": conversation.id, "b_score": total, "b_breakdown": breakdown_data(score)}
            )
    if changed:
        db.execute(_score_update(), changed)
    db.commit()
    return len(changed)


def rescore_queue(db: Session, *, now: datetime, settings: Settings | None = None) -> int:
    """Re-score every waiting conversation (waiting time and SLA risk grow); commits."""
    setup = load_setup(db, settings)
    rows = repo.waiting_rows(db)
    stored = {row.id: row.priority_score for row in rows}
    queue = [queued_from_row(row) for row in rows]
    return write_scores(db, queue, stored, now=now, weights=setup.base.weights)


# ---------------------------------------------------------------- expected wait


@dataclass(frozen=True, slots=True)
class QueueEstimate:
    """Where a conversation stands in the queue, for the agent and for the widget."""

    conversation_id: int
    waiting: bool
    """False when it is assigned, or not open (nobody waits for an agent)."""
    position: int | None
    """1: next to be served among the conversations competing for its agents."""
    ahead: int | None
    estimated_wait_seconds: float | None
    """None when there is no estimate (see `reason`)."""
    reason: str
    strategy: Strategy
    score: float
    breakdown: tuple[ScorePart, ...]

    def explain(self) -> str:
        return ", ".join(str(part) for part in self.breakdown) or "no priority factors"


def completion_rates(db: Session, *, now: datetime) -> dict[int, float]:
    """Conversations each agent solved per minute over the recent past."""
    since = now - RECENT_COMPLETIONS
    rows = db.execute(
        select(Conversation.assignee_id, func.count())
        .where(
            Conversation.assignee_id.is_not(None),
            Conversation.solved_at.is_not(None),
            Conversation.solved_at > since,
            Conversation.solved_at <= now,
        )
        .group_by(Conversation.assignee_id)
    )
    minutes = RECENT_COMPLETIONS.total_seconds() / 60
    return {int(agent_id or 0): count / minutes for agent_id, count in rows}


def _estimates(
    snapshot: Snapshot, setup: RoutingSetup, now: datetime, rates: Mapping[int, float]
) -> dict[int, tuple[QueueEstimate, QueuedConversation]]:
    groups: dict[tuple[str, float, float], tuple[RoutingConfig, list[QueuedConversation]]] = {}
    for conversation in snapshot.queue:
        config = setup.config_for(*snapshot.scopes[conversation.id])
        groups.setdefault(_partition_key(config), (config, []))[1].append(conversation)
    result: dict[int, tuple[QueueEstimate, QueuedConversation]] = {}
    for config, queue in groups.values():
        waits = expected_waits(queue, snapshot.agents, snapshot.teams, now, config, rates)
        for conversation in queue:
            wait = waits[conversation.id]
            score = score_conversation(conversation, now, config.weights)
            seconds = wait.seconds
            reason = wait.reason
            if config.strategy == Strategy.PULL and seconds == 0:
                reason = "pull: an agent with room can take it now"
            result[conversation.id] = (
                QueueEstimate(
                    conversation_id=conversation.id,
                    waiting=True,
                    position=wait.position,
                    ahead=wait.ahead,
                    estimated_wait_seconds=None if seconds is None else round(seconds, 1),
                    reason=reason,
                    strategy=config.strategy,
                    score=round(score.total, 2),
                    breakdown=score.breakdown,
                ),
                conversation,
            )
    return result


def queue_position(
    db: Session,
    conversation_id: int,
    *,
    now: datetime,
    settings: Settings | None = None,
    _again: bool = False,
) -> QueueEstimate:
    """Position and expected wait of one conversation (for the widget and agents).

    No access check: callers decide who may ask (the widget asks for its own chat).
    Raises NotFound for a missing conversation.
    """
    # Always the row as it is now: a copy this session loaded earlier may predate a
    # change made meanwhile (an assignment, the FAQ bot taking the chat).
    conversation = db.get(Conversation, conversation_id, populate_existing=True)
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    setup = load_setup(db, settings)
    config = setup.config_for(conversation.inbox_id, conversation.team_id)
    waiting = (
        conversation.status == ConversationStatus.OPEN.value
        and conversation.assignee_id is None
        and not conversation.bot_active  # the FAQ bot answers it (AI assist)
    )
    if not waiting:
        return QueueEstimate(
            conversation_id=conversation.id,
            waiting=False,
            position=None,
            ahead=None,
            estimated_wait_seconds=None,
            reason="assigned to an agent"
            if conversation.assignee_id is not None
            else "the FAQ bot is answering"
            if conversation.bot_active
            else f"{conversation.status}: not waiting for an agent",
            strategy=config.strategy,
            score=conversation.priority_score,
            breakdown=tuple(breakdown_parts(conversation.priority_breakdown)),
        )
    snapshot = load_snapshot(db)
    found = _estimates(snapshot, setup, now, completion_rates(db, now=now)).get(conversation.id)
    db.commit()
    if found is None:  # left the queue between the two reads: read it once more
        if _again:
            raise RuntimeError(f"conversation {conversation_id} waits but is not in the queue")
        return queue_position(db, conversation_id, now=now, settings=settings, _again=True)
    return found[0]


@dataclass(frozen=True, slots=True)
class QueueRow:
    estimate: QueueEstimate
    conversation: Conversation
    contact: Contact
    eligible_agents: int
    """Online agents who could take it now or once they have room."""


def list_queue(
    db: Session,
    viewer: Viewer,
    *,
    now: datetime,
    inbox_id: int | None = None,
    team_id: int | None = None,
    limit: int = 100,
    settings: Settings | None = None,
) -> tuple[list[QueueRow], int]:
    """The waiting conversations the viewer can see, in the order they will be
    served, with position, expected wait and the score's reasons; and their count."""
    setup = load_setup(db, settings)
    snapshot = load_snapshot(db)
    estimates = _estimates(snapshot, setup, now, completion_rates(db, now=now))
    rows = db.execute(
        select(Conversation, Contact)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Conversation.id.in_(sorted(estimates)) if estimates else false())
    ).all()
    visible = []
    for conversation, contact in rows:
        if not can_see(viewer, conversation):
            continue
        if inbox_id is not None and conversation.inbox_id != inbox_id:
            continue
        if team_id is not None and conversation.team_id != team_id:
            continue
        estimate = estimates[conversation.id][0]
        visible.append(QueueRow(estimate, conversation, contact, 0))
    visible.sort(
        key=lambda row: (
            row.estimate.position or 0,
            -row.estimate.score,
            row.conversation.waiting_since or row.conversation.last_activity_at,
            row.conversation.id,
        )
    )
    shown = visible[:limit]
    if shown:
        # Pools are indexed and shared: counting eligible agents costs little per row.
        router = Router(snapshot.agents, snapshot.teams, now, setup.base)
        shown = [
            dataclasses.replace(
                row,
                eligible_agents=len(router.pool_members(estimates[row.conversation.id][1])),
            )
            for row in shown
        ]
    db.commit()
    return shown, len(visible)


# ---------------------------------------------------------------- taking by hand


def _lock_user(db: Session, user_id: int) -> User:
    user = repo.lock_agents(db, [user_id]).get(user_id)
    if user is None or not user.is_active:
        raise NotFound("user", user_id)
    return user


def _take(
    db: Session, viewer: Viewer, conversation_id: int, *, now: datetime, how: str, cost_check: bool
) -> Conversation:
    """Assign a waiting conversation to the viewer. Locks the viewer's user row,
    then the conversation (waiting for a writer holding it). Does not commit."""
    agent = _lock_user(db, viewer.user_id)
    conversation = repo.lock_conversation_row(db, conversation_id)
    if conversation is None or not can_see(viewer, conversation):
        raise NotFound("conversation", conversation_id)
    if conversation.assignee_id is not None:
        raise Conflict("someone already took this conversation", {"assignee_id": None})
    if conversation.status != ConversationStatus.OPEN.value:
        raise Conflict(f"this conversation is {conversation.status}, not waiting")
    if cost_check:
        setup = load_setup(db)
        weight = setup.base.email_weight
        chats, emails = repo.open_loads(db, [agent.id]).get(agent.id, (0, 0))
        load = chats + weight * emails
        cost = weight if conversation.channel == Channel.EMAIL.value else 1.0
        cap = _clamp_cap(agent.max_concurrent_chats)
        if not fits_under_cap(load, cost, cap):
            raise Conflict(
                f"you are at your limit of {cap} open chats; finish one first",
                {"load": load, "max_concurrent_chats": cap},
            )
    conversation.assignee_id = agent.id
    conversation.assigned_at = now
    conversation.offered_to_id = None
    conversation.offered_at = None
    agent.last_assigned_at = now
    activity = record_activity(
        db,
        conversation,
        ActivityKind.ASSIGNED,
        now=now,
        actor_user_id=agent.id,
        data={"from": None, "to": agent.id, "from_name": None, "to_name": agent.name, "how": how},
    )
    db.flush()
    queue_updated_event(
        db, conversation, [activity], recipients=_Recipients(db)(conversation) | {agent.id}
    )
    return conversation


def do_pick(db: Session, viewer: Viewer, conversation_id: int, *, now: datetime) -> Conversation:
    """An agent takes a waiting conversation from the queue by hand (any strategy).

    Refused with Conflict when someone took it first or the agent has no room under
    their cap. Locking: see `_take`. Commits."""
    conversation = _take(db, viewer, conversation_id, now=now, how="picked", cost_check=True)
    db.commit()
    return conversation


def do_take_next(
    db: Session, viewer: Viewer, *, now: datetime, settings: Settings | None = None
) -> Conversation | None:
    """Pull: the oldest waiting conversation this agent may take (by team, skills,
    language, tier and room under their cap), taken. None when there is none.
    Asking counts as being available, whatever the agent's status. Commits."""
    for _attempt in range(MAX_RETRIES):
        rows = repo.agent_rows(db, agent_ids=[viewer.user_id], online_only=False)
        if not rows:
            raise NotFound("user", viewer.user_id)
        loads = repo.open_loads(db, [viewer.user_id])
        memberships = repo.team_ids_by_user(db, [viewer.user_id])
        agent = dataclasses.replace(
            agent_state(rows[0], memberships.get(viewer.user_id, ()), loads.get(viewer.user_id)),
            status=AgentStatus.ONLINE,
        )
        setup = load_setup(db, settings)
        snapshot = load_snapshot(db)
        visible = [
            conversation
            for conversation in snapshot.queue
            if can_see_conversation(
                viewer,
                assignee_id=None,
                team_id=snapshot.scopes[conversation.id][1],
                inbox_id=snapshot.scopes[conversation.id][0],
            )
        ]
        chosen = next_for_agent(agent, visible, load_teams(db), setup.base)
        db.commit()
        if chosen is None:
            return None
        try:
            conversation = _take(db, viewer, chosen.id, now=now, how="pulled", cost_check=True)
        except (Conflict, NotFound):
            db.rollback()  # taken by someone else a moment ago: look again
            continue
        db.commit()
        return conversation
    return None


# ---------------------------------------------------------------- re-offering


def reoffer_unanswered(
    db: Session,
    *,
    now: datetime,
    settings: Settings | None = None,
    agent_ids: Collection[int] | None = None,
) -> list[int]:
    """Take back live chats their agent did not answer in time, or whose agent went
    away, on a break or offline; each is recorded as an Activity (`reoffered`).
    Commits, then routes them to someone else. Returns their ids.

    Locking: the conversations FOR UPDATE SKIP LOCKED (a conversation being
    answered right now is left alone), re-checked under the lock.
    """
    setup = load_setup(db, settings)
    shortest = timedelta(seconds=setup.shortest_answer_timeout())
    rows = repo.open_live_assignments(db, offered_before=now - shortest, agent_ids=agent_ids)
    due: dict[int, ReofferReason] = {}
    expected: dict[int, int] = {}
    for row in rows:
        config = setup.config_for(row.inbox_id, row.team_id)
        offered = row.offered_at if row.offer_pending else None
        state = OpenAssignment(
            conversation_id=row.conversation_id,
            agent_id=row.agent_id,
            assigned_at=offered or row.assigned_at or now,
            agent_status=AgentStatus(row.agent_status),
            answered_at=None if offered is not None else (row.assigned_at or now),
            channel=Channel(row.channel),
        )
        for reoffer in reoffer_due([state], now, config.answer_timeout_seconds):
            due[reoffer.conversation_id] = reoffer.reason
            expected[reoffer.conversation_id] = reoffer.agent_id
    if not due:
        db.commit()
        return []
    claimed = repo.claim_assigned(db, due, assignee_ids=expected)
    names: dict[int, str] = dict(
        db.execute(select(User.id, User.name).where(User.id.in_(set(expected.values())))).all()
    )
    recipients = _Recipients(db)
    taken_back: list[int] = []
    for conversation_id, conversation in sorted(claimed.items()):
        agent_id = expected[conversation_id]
        reason = due[conversation_id]
        before = recipients(conversation)
        conversation.assignee_id = None
        conversation.assigned_at = None
        conversation.offered_to_id = None
        conversation.offered_at = None
        if reason == ReofferReason.UNANSWERED:
            excluded = set(conversation.routing_excluded_ids or ())
            excluded.add(agent_id)
            conversation.routing_excluded_ids = sorted(excluded)
        message = {
            ReofferReason.UNANSWERED: "not answered in time",
            ReofferReason.AGENT_OFFLINE: "the agent went offline",
            ReofferReason.AGENT_UNAVAILABLE: "the agent became unavailable before answering",
        }[reason]
        activity = record_activity(
            db,
            conversation,
            ActivityKind.REOFFERED,
            now=now,
            actor_type="system",
            data={
                "from": agent_id,
                "from_name": names.get(agent_id),
                "reason": reason.value,
                "message": message,
            },
        )
        db.flush()
        queue_updated_event(
            db, conversation, [activity], recipients=before | recipients(conversation)
        )
        taken_back.append(conversation_id)
    db.commit()
    if taken_back:
        route_waiting(db, now=now, settings=settings, conversation_ids=taken_back)
    return taken_back


# ---------------------------------------------------------------- agent status


def do_set_agent_status(
    db: Session,
    actor: Viewer,
    agent_id: int,
    status: AgentStatus,
    *,
    now: datetime,
    settings: Settings | None = None,
) -> User:
    """Change an agent's presence; routing follows at once. Agents change their own,
    supervisors and admins anyone's.

    Online: waiting conversations are offered to them. Away, on a break: nothing
    new, and chats routed to them but not answered yet go to someone else.
    Offline: their live chats go to someone else. Locks the user row; commits.
    """
    if agent_id != actor.user_id and not actor.is_supervisor_or_admin:
        raise PermissionDenied("you can only change your own status")
    agent = _lock_user(db, agent_id)
    previous = agent.status
    if previous != status.value:
        agent.status = status.value
        agent.status_since = now
        queue_event(
            db,
            LiveEvent(
                type="user.updated",
                payload={
                    "user_id": agent.id,
                    "changed": ["status"],
                    "name": agent.name,
                    "languages": list(agent.languages),
                    "status": agent.status,
                    "status_since": agent.status_since.isoformat(),
                },
                user_ids=frozenset({agent.id, actor.user_id}) | supervisor_ids(db),
            ),
        )
    db.commit()
    if previous == status.value:
        return agent
    try:
        if status == AgentStatus.ONLINE:
            route_waiting(
                db, now=now, settings=settings, agent_ids=[agent_id], best=AGENT_ROUND_QUEUE
            )
        else:
            reoffer_unanswered(db, now=now, settings=settings, agent_ids=[agent_id])
    except SQLAlchemyError:
        db.rollback()
        log.exception("routing after a status change failed; the periodic round will retry")
    db.refresh(agent)
    return agent


@dataclass(frozen=True, slots=True)
class AgentLoad:
    """An agent's presence and load against their cap (for supervisors)."""

    user: User
    open_chats: int
    open_email_tickets: int
    load: float


def list_agent_loads(
    db: Session, *, agent_ids: Collection[int] | None = None, settings: Settings | None = None
) -> list[AgentLoad]:
    """Active staff (or just these) with their open chats and email tickets."""
    weight = load_setup(db, settings).base.email_weight
    query = select(User).where(User.is_active.is_(True)).order_by(User.name, User.id)
    if agent_ids is not None:
        query = query.where(User.id.in_(sorted(agent_ids)))
    users = list(db.scalars(query))
    loads = repo.open_loads(db, [user.id for user in users])
    result = []
    for user in users:
        chats, emails = loads.get(user.id, (0, 0))
        result.append(AgentLoad(user, chats, emails, chats + weight * emails))
    db.commit()
    return result


# ---------------------------------------------------------------- settings: reading and writing


@dataclass(frozen=True, slots=True)
class SettingsView:
    """Routing settings as the admin API and pages show them."""

    global_row: RoutingSettings | None
    effective: RoutingConfig
    tier2_team_id: int | None
    inboxes: list[tuple[Inbox, RoutingSettings | None]]
    teams: list[tuple[Team, RoutingSettings | None]]


def get_routing_settings(db: Session, *, settings: Settings | None = None) -> SettingsView:
    rows = {row.scope: row for row in db.scalars(select(RoutingSettings))}
    setup = load_setup(db, settings)
    inboxes = list(db.scalars(select(Inbox).order_by(Inbox.name)))
    teams = list(db.scalars(select(Team).order_by(Team.name)))
    return SettingsView(
        global_row=rows.get(GLOBAL_SCOPE),
        effective=setup.base,
        tier2_team_id=setup.tier2_team_id,
        inboxes=[(inbox, rows.get(f"inbox:{inbox.id}")) for inbox in inboxes],
        teams=[(team, rows.get(f"team:{team.id}")) for team in teams],
    )


def _settings_row(db: Session, scope: str, **keys: int | None) -> RoutingSettings:
    """The row for a scope, created if missing (another process creating it at the
    same moment is handled: then its row is used)."""
    query = (
        select(RoutingSettings)
        .where(RoutingSettings.scope == scope)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = db.scalar(query)
    if row is not None:
        return row
    try:
        with db.begin_nested():
            row = RoutingSettings(scope=scope, weights={}, handling_minutes={}, **keys)
            db.add(row)
    except IntegrityError:
        row = db.scalar(query)
        assert row is not None
    return row


def _check_seconds(value: float | None, name: str, *, low: float, high: float) -> None:
    if value is None:
        return
    if not math.isfinite(value) or not low <= value <= high:
        raise ValidationFailed(f"{name} is {low:g} to {high:g} seconds", {"field": name})


UNSET: Any = object()
"""Marks a field the caller did not send (None means: inherit)."""


def do_update_global_settings(
    db: Session,
    admin: User,
    *,
    now: datetime,
    ip: str = "",
    weights: Mapping[str, Any] | None = UNSET,
    handling_minutes: Mapping[str, Any] | None = UNSET,
    email_weight: float | None = UNSET,
    sticky_wait_seconds: float | None = UNSET,
    answer_timeout_seconds: float | None = UNSET,
    tier2_team_id: int | None = UNSET,
    settings: Settings | None = None,
) -> SettingsView:
    """Change the installation's routing settings (None: back to the environment's
    default). Audited. Commits."""
    changes: dict[str, Any] = {}
    if weights is not UNSET:
        changes["weights"] = check_weights(weights or {})
    if handling_minutes is not UNSET:
        changes["handling_minutes"] = check_handling_minutes(handling_minutes or {})
    if email_weight is not UNSET:
        if email_weight is not None and not (
            math.isfinite(email_weight) and 0 <= email_weight <= 10
        ):
            raise ValidationFailed("email_weight is 0 to 10", {"field": "email_weight"})
        changes["email_weight"] = email_weight
    if sticky_wait_seconds is not UNSET:
        _check_seconds(sticky_wait_seconds, "sticky_wait_seconds", low=0, high=3600)
        changes["sticky_wait_seconds"] = sticky_wait_seconds
    if answer_timeout_seconds is not UNSET:
        _check_seconds(answer_timeout_seconds, "answer_timeout_seconds", low=5, high=3600)
        changes["answer_timeout_seconds"] = answer_timeout_seconds
    if tier2_team_id is not UNSET:
        if tier2_team_id is not None and db.get(Team, tier2_team_id) is None:
            raise ValidationFailed("no team with this id", {"field": "tier2_team_id"})
        changes["tier2_team_id"] = tier2_team_id
    row = _settings_row(db, GLOBAL_SCOPE)
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now
    record_audit(
        db,
        actor_user_id=admin.id,
        action="routing.settings_updated",
        target_type="routing_settings",
        target_id=GLOBAL_SCOPE,
        details={"changed": sorted(changes)},
        ip=ip,
        now=now,
    )
    db.commit()
    return get_routing_settings(db, settings=settings)


def do_update_scope_settings(
    db: Session,
    admin: User,
    *,
    inbox_id: int | None = None,
    team_id: int | None = None,
    strategy: Strategy | None,
    sticky_wait_seconds: float | None,
    answer_timeout_seconds: float | None,
    now: datetime,
    ip: str = "",
    settings: Settings | None = None,
) -> SettingsView:
    """Set an inbox's or a team's strategy and timings (None: inherit). An inbox's
    strategy is its `routing_strategy` (None keeps `priority`). Audited. Commits."""
    if (inbox_id is None) == (team_id is None):
        raise ValidationFailed("name an inbox or a team", {"field": "scope"})
    _check_seconds(sticky_wait_seconds, "sticky_wait_seconds", low=0, high=3600)
    _check_seconds(answer_timeout_seconds, "answer_timeout_seconds", low=5, high=3600)
    if inbox_id is not None:
        inbox = db.get(Inbox, inbox_id)
        if inbox is None:
            raise NotFound("inbox", inbox_id)
        inbox.routing_strategy = (strategy or Strategy.PRIORITY).value
        scope, keys = f"inbox:{inbox_id}", {"inbox_id": inbox_id}
    else:
        assert team_id is not None
        if db.get(Team, team_id) is None:
            raise NotFound("team", team_id)
        scope, keys = f"team:{team_id}", {"team_id": team_id}
    row = _settings_row(db, scope, **keys)
    row.strategy = strategy.value if strategy is not None and team_id is not None else None
    row.sticky_wait_seconds = sticky_wait_seconds
    row.answer_timeout_seconds = answer_timeout_seconds
    row.updated_at = now
    record_audit(
        db,
        actor_user_id=admin.id,
        action="routing.settings_updated",
        target_type="routing_settings",
        target_id=scope,
        details={
            "strategy": strategy.value if strategy else None,
            "sticky_wait_seconds": sticky_wait_seconds,
            "answer_timeout_seconds": answer_timeout_seconds,
        },
        ip=ip,
        now=now,
    )
    db.commit()
    return get_routing_settings(db, settings=settings)


def claim_tick(db: Session, *, now: datetime, every_seconds: float) -> bool:
    """True for exactly one worker per `every_seconds` (the global settings row is
    the shared clock of every worker process). Commits."""
    row = _settings_row(db, GLOBAL_SCOPE)
    due = row.last_tick_at is None or row.last_tick_at <= now - timedelta(seconds=every_seconds)
    if due:
        row.last_tick_at = now
    db.commit()
    return due
