"""The routing engine's queries: snapshots of the queue and the agents, and the locks
that make an assignment atomic.

An assignment holds two kinds of lock. The agents it gives work to are locked with
`SELECT … FOR UPDATE` (in id order, so two routers never deadlock) and their load is
counted again under that lock; the waiting conversations are claimed with `SELECT …
FOR UPDATE SKIP LOCKED`, so a router passes over rows another process is routing or
changing instead of queueing behind it. SQLite has neither, and needs neither: every
transaction there begins IMMEDIATE and holds the database's single write lock, so
writers are serialised already (one server process only).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    join,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from helpline.adapters.db.engine import is_postgres
from helpline.adapters.db.models import Contact, Conversation, Team, TeamMember, User
from helpline.domain.enums import AgentStatus, Channel, ConversationStatus

OPEN = ConversationStatus.OPEN.value


@dataclass(frozen=True, slots=True)
class WaitingRow:
    """A waiting conversation with the contact facts the priority score needs."""

    id: int
    inbox_id: int
    team_id: int | None
    channel: str
    category: str | None
    priority: str
    language: str | None
    tier: int
    urgent_reason: str | None
    waiting_since: datetime | None
    last_activity_at: datetime
    first_response_due_at: datetime | None
    first_response_at: datetime | None
    previous_agent_id: int | None
    first_contact: bool
    routing_excluded_ids: list[int]
    custom_attributes: dict[str, Any]
    plan: str | None
    lifetime_value_cents: int
    orders_count: int
    priority_score: float
    frustration: float | None


@dataclass(frozen=True, slots=True)
class AgentRow:
    id: int
    name: str
    status: str
    is_active: bool
    tier: int
    max_concurrent_chats: int
    skills: list[str]
    languages: list[str]
    last_assigned_at: datetime | None
    refund_limit_cents: int


_WAITING_COLUMNS = (
    Conversation.id,
    Conversation.inbox_id,
    Conversation.team_id,
    Conversation.channel,
    Conversation.category,
    Conversation.priority,
    Conversation.language,
    Conversation.tier,
    Conversation.urgent_reason,
    Conversation.waiting_since,
    Conversation.last_activity_at,
    Conversation.first_response_due_at,
    Conversation.first_response_at,
    Conversation.previous_agent_id,
    Conversation.first_contact,
    Conversation.routing_excluded_ids,
    Conversation.custom_attributes,
    Contact.plan,
    Contact.lifetime_value_cents,
    Contact.orders_count,
    Conversation.priority_score,
    Conversation.frustration,
)

_AGENT_COLUMNS = (
    User.id,
    User.name,
    User.status,
    User.is_active,
    User.tier,
    User.max_concurrent_chats,
    User.skills,
    User.languages,
    User.last_assigned_at,
    User.refund_limit_cents,
)


def waiting_clause() -> Any:
    """In the queue: open and nobody's (pending and on-hold conversations wait for
    the customer or a third party, not for an agent)."""
    return (
        (Conversation.status == OPEN)
        & Conversation.assignee_id.is_(None)
        & Conversation.bot_active.is_(False)  # the FAQ bot answers it (AI assist)
    )


def _waiting_select() -> Select[Any]:
    return (
        select(*_WAITING_COLUMNS)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(waiting_clause())
    )


def waiting_rows(
    db: Session,
    *,
    conversation_ids: Collection[int] | None = None,
    best: int | None = None,
) -> list[WaitingRow]:
    """The queue as it is now (no locks: routing plans on this, then claims).

    `conversation_ids` narrows it to those conversations; `best` keeps only the
    `best` highest stored scores plus the `best` longest waiting, which is what a
    round for a few agents who just got room needs (the periodic full round sees
    everything).
    """
    if conversation_ids is not None and not conversation_ids:
        return []
    all_of_them, top_scores, oldest = _waiting_statements(conversation_ids is not None)
    params: dict[str, Any] = {
        "b_ids": sorted(conversation_ids) if conversation_ids is not None else [],
        "b_best": best,
    }
    if best is None:
        return [WaitingRow(*row) for row in db.execute(all_of_them, params).all()]
    best_rows = db.execute(top_scores, params).all()
    oldest_rows = db.execute(oldest, params).all()
    unique = {row[0]: row for row in (*best_rows, *oldest_rows)}
    return [WaitingRow(*unique[key]) for key in sorted(unique)]


@functools.lru_cache(maxsize=4)
def _waiting_statements(by_ids: bool) -> tuple[Executable, Executable, Executable]:
    """`waiting_rows`' statements, built once (building them cost more than running
    the arrival's): every row, the best scores, the longest waiting."""
    query = _waiting_select()
    if by_ids:
        query = query.where(Conversation.id.in_(bindparam("b_ids", expanding=True)))
    limit = bindparam("b_best", type_=Integer)
    return (
        query.order_by(Conversation.id),
        query.order_by(Conversation.priority_score.desc(), Conversation.id).limit(limit),
        query.order_by(Conversation.waiting_since.asc().nulls_first(), Conversation.id).limit(
            limit
        ),
    )


def agent_rows(
    db: Session, *, agent_ids: Collection[int] | None = None, online_only: bool = True
) -> list[AgentRow]:
    """Active staff as routing sees them (no locks)."""
    query = select(*_AGENT_COLUMNS).where(User.is_active.is_(True))
    if online_only:
        query = query.where(User.status == AgentStatus.ONLINE.value)
    if agent_ids is not None:
        if not agent_ids:
            return []
        query = query.where(User.id.in_(sorted(agent_ids)))
    return [AgentRow(**row._mapping) for row in db.execute(query.order_by(User.id)).all()]


@dataclass(frozen=True, slots=True)
class StaticNeeds:
    """What one conversation needs of an agent, as far as SQL can tell: a superset
    of the eligible agents (the domain's eligibility check decides)."""

    tier: int
    team_id: int | None = None
    category: str | None = None
    category_team_ids: tuple[int, ...] = ()
    """Teams that handle the category (or every category)."""
    language: str | None = None
    """Primary language subtag, lower-case (`pt` for `pt-BR`)."""


def _like_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class _NeedsShape:
    """Which parts of `StaticNeeds` a statement checks (its values are parameters)."""

    team: bool
    category: bool
    category_teams: bool
    language: bool


def _needs_shape(needs: StaticNeeds) -> _NeedsShape:
    return _NeedsShape(
        team=needs.team_id is not None,
        category=needs.team_id is None and needs.category is not None,
        category_teams=bool(needs.category_team_ids),
        language=needs.language is not None,
    )


def _needs_params(needs: StaticNeeds) -> dict[str, Any]:
    return {
        "b_tier": needs.tier,
        "b_team": needs.team_id,
        "b_skill": f'%"{_like_text(needs.category or "")}"%',
        "b_category_teams": sorted(needs.category_team_ids),
        "b_language": f'%"{_like_text(needs.language or "")}%',
    }


def _needs_clause(shape: _NeedsShape) -> Any:
    """Portable SQL for `StaticNeeds`: team membership, tier, the category in the
    agent's skills (their JSON text) or their teams', the language among theirs."""
    conditions: list[Any] = [User.tier >= bindparam("b_tier")]
    if shape.team:
        conditions.append(
            exists().where(TeamMember.user_id == User.id, TeamMember.team_id == bindparam("b_team"))
        )
    elif shape.category:
        skills = func.lower(cast(User.skills, String))
        no_skills = cast(User.skills, String) == "[]"
        # Uncorrelated IN lists: the database reads team_members once (a hashed
        # subplan on PostgreSQL) instead of probing it twice per agent.
        no_teams = User.id.not_in(select(TeamMember.user_id))
        by_team = (
            User.id.in_(
                select(TeamMember.user_id).where(
                    TeamMember.team_id.in_(bindparam("b_category_teams", expanding=True))
                )
            )
            if shape.category_teams
            else false()
        )
        conditions.append(
            or_(
                skills.like(bindparam("b_skill"), escape="\\"),
                and_(no_skills, or_(no_teams, by_team)),
            )
        )
    if shape.language:
        languages = func.lower(cast(User.languages, String))
        conditions.append(languages.like(bindparam("b_language"), escape="\\"))
    return and_(*conditions)


AgentOrder = Literal["load", "turn", "open_chats"]
"""The strategies' agent orders: least loaded, longest since their last
assignment (round robin), fewest open chats; each then by last assignment and id."""


@functools.lru_cache(maxsize=128)
def _routable_statements(
    postgres: bool,
    *,
    by_ids: bool,
    with_also: bool,
    order: AgentOrder | None,
    limited: bool,
    needs: _NeedsShape | None,
) -> tuple[Executable | None, Executable]:
    """The statements of `routable_agents` for one shape of call, built once (their
    values are parameters): (previous agents or None, the agents with room)."""
    # Each agent's load by index probes per candidate on (assignee_id, status),
    # whatever the planner guesses about the other filters. PostgreSQL: one LATERAL
    # probe gives both counts, once per agent (correlated scalar counts would be
    # run again for the filter, the sort key and the output). SQLite has no
    # LATERAL: two correlated counts.
    open_of_agent = (Conversation.assignee_id == User.id) & (Conversation.status == OPEN)
    is_email = Conversation.channel == Channel.EMAIL.value
    source: Any = User
    if postgres:
        load = (
            select(
                func.count().filter(~is_email).label("chats"),
                func.count().filter(is_email).label("emails"),
            )
            .where(open_of_agent)
            .lateral("agent_load")
        )
        chats: Any = load.c.chats
        emails: Any = load.c.emails
        source = join(User, load, true())
    else:
        emails = select(func.count()).where(open_of_agent, is_email).scalar_subquery()
        chats = select(func.count()).where(open_of_agent, ~is_email).scalar_subquery()
    weight = bindparam("b_weight", type_=Float)
    load_of = chats + emails * weight
    has_room = load_of + bindparam("b_smallest", type_=Float) <= User.max_concurrent_chats + 1e-9
    teams = (
        select(func.aggregate_strings(cast(TeamMember.team_id, String), ","))
        .where(TeamMember.user_id == User.id)
        .scalar_subquery()
    )
    query: Any = (
        select(*_AGENT_COLUMNS, chats, emails, teams)
        .select_from(source)
        .where(User.is_active.is_(True), User.status == AgentStatus.ONLINE.value)
    )
    if by_ids:
        query = query.where(User.id.in_(bindparam("b_agent_ids", expanding=True)))
    turn = User.last_assigned_at.asc().nulls_first()
    keys: dict[str, list[Any]] = {
        "load": [load_of, turn],
        "turn": [turn],
        "open_chats": [chats, turn],
    }
    ordered = [*keys[order], User.id] if order is not None else [User.id]
    in_also = User.id.in_(bindparam("b_also", expanding=True))
    previous = None
    if limited and with_also:
        # The previous agents come whatever their place in the order.
        previous = query.where(in_also)
    filtered = query.where(or_(has_room, in_also) if with_also else has_room)
    if needs is not None:
        filtered = filtered.where(_needs_clause(needs))
    if limited:
        filtered = filtered.where(~in_also) if with_also else filtered
        filtered = filtered.order_by(*ordered).limit(bindparam("b_limit", type_=Integer))
    else:
        filtered = filtered.order_by(User.id)
    return previous, filtered


def routable_agents(
    db: Session,
    *,
    email_weight: float,
    agent_ids: Collection[int] | None = None,
    also: Collection[int] = (),
    order: AgentOrder | None = None,
    limit: int | None = None,
    needs: StaticNeeds | None = None,
) -> list[tuple[AgentRow, int, int, set[int]]]:
    """Online agents with room for at least an email ticket, with their load and
    teams as (row, open chats, open email tickets, team ids), in one query; plus the
    agents in `also` (returning customers' previous agents) even when full, so a
    round can hold a conversation for them. With `order` and `limit`: only the first agents in the
    strategy's order (the best eligible agent of a single arrival is among them
    whenever any of them is eligible); `needs` leaves out agents who cannot take the
    conversation anyway. No locks: the apply step counts again."""
    if agent_ids is not None and not agent_ids:
        return []
    previous, filtered = _routable_statements(
        is_postgres(db),
        by_ids=agent_ids is not None,
        with_also=bool(also),
        order=order if limit is not None else None,
        limited=limit is not None,
        needs=_needs_shape(needs) if needs is not None else None,
    )
    params: dict[str, Any] = {
        "b_weight": email_weight,
        "b_smallest": min(1.0, email_weight),
        "b_agent_ids": sorted(agent_ids) if agent_ids is not None else [],
        "b_also": sorted(also),
        "b_limit": limit,
        **(_needs_params(needs) if needs is not None else {}),
    }
    result: list[tuple[AgentRow, int, int, set[int]]] = []
    if previous is not None:
        result.extend(_with_load(row) for row in db.execute(previous, params))
    result.extend(_with_load(row) for row in db.execute(filtered, params))
    return result


def _with_load(row: Any) -> tuple[AgentRow, int, int, set[int]]:
    *agent, chats, emails, teams = tuple(row)
    team_ids = {int(team) for team in teams.split(",")} if teams else set()
    return AgentRow(*agent), int(chats), int(emails), team_ids


def team_ids_by_user(db: Session, user_ids: Collection[int] | None = None) -> dict[int, set[int]]:
    query = select(TeamMember.user_id, TeamMember.team_id)
    if user_ids is not None:
        if not user_ids:
            return {}
        query = query.where(TeamMember.user_id.in_(sorted(user_ids)))
    memberships: dict[int, set[int]] = {}
    for user_id, team_id in db.execute(query):
        memberships.setdefault(user_id, set()).add(team_id)
    return memberships


def all_teams(db: Session) -> list[tuple[int, int, list[str]]]:
    """(id, tier, categories) of every team."""
    return [
        (team_id, tier, list(categories or []))
        for team_id, tier, categories in db.execute(
            select(Team.id, Team.tier, Team.categories).order_by(Team.id)
        )
    ]


def open_loads(db: Session, agent_ids: Collection[int] | None = None) -> dict[int, tuple[int, int]]:
    """Open conversations per agent as (live chats, email tickets).

    Called again under the agents' row locks before an assignment is written, so
    the cap is checked against what is really committed.
    """
    if agent_ids is not None and not agent_ids:
        return {}
    query = _loads_statement(agent_ids is not None)
    params = {"b_ids": sorted(agent_ids) if agent_ids is not None else []}
    loads: dict[int, tuple[int, int]] = {}
    for agent_id, total, emails in db.execute(query, params):
        emails = int(emails or 0)
        loads[int(agent_id)] = (int(total) - emails, emails)
    return loads


@functools.lru_cache(maxsize=2)
def _loads_statement(by_ids: bool) -> Executable:
    is_email = case((Conversation.channel == Channel.EMAIL.value, 1), else_=0)
    query = (
        select(Conversation.assignee_id, func.count(), func.sum(is_email))
        .where(Conversation.status == OPEN, Conversation.assignee_id.is_not(None))
        .group_by(Conversation.assignee_id)
    )
    if by_ids:
        query = query.where(Conversation.assignee_id.in_(bindparam("b_ids", expanding=True)))
    return query


# -- locks ---------------------------------------------------------------------------------


def lock_agents(db: Session, agent_ids: Iterable[int]) -> dict[int, User]:
    """Lock these users' rows for this transaction, in id order, and return them.

    PostgreSQL: `FOR UPDATE` waits for another router or status change holding one
    of them; afterwards every count of their load sees what that one committed.
    SQLite: the transaction already holds the database write lock.
    """
    ids = sorted(set(agent_ids))
    if not ids:
        return {}
    query = _lock_agents_statement(is_postgres(db))
    return {user.id: user for user in db.scalars(query, {"b_ids": ids})}


@functools.lru_cache(maxsize=2)
def _lock_agents_statement(postgres: bool) -> Executable:
    # populate_existing: a user already in this session is refreshed from the locked row.
    query = (
        select(User)
        .where(User.id.in_(bindparam("b_ids", expanding=True)))
        .order_by(User.id)
        .execution_options(populate_existing=True)
    )
    return query.with_for_update() if postgres else query


def lock_conversation_row(db: Session, conversation_id: int) -> Conversation | None:
    """One conversation, locked (waiting for a writer that holds it) and fresh."""
    query = (
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .execution_options(populate_existing=True)
    )
    if is_postgres(db):
        query = query.with_for_update()
    return db.scalar(query)


def claim_waiting(db: Session, conversation_ids: Iterable[int]) -> dict[int, Conversation]:
    """Lock the conversations that are still waiting, skipping any row another
    transaction holds (it is being routed or changed there; a later round sees it).

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, and the waiting condition is re-checked on
    the locked, newest row version, so a conversation someone else just assigned is
    never returned. SQLite: a plain read under the database write lock.
    """
    ids = sorted(set(conversation_ids))
    if not ids:
        return {}
    query = _claim_waiting_statement(is_postgres(db))
    return {conversation.id: conversation for conversation in db.scalars(query, {"b_ids": ids})}


@functools.lru_cache(maxsize=2)
def _claim_waiting_statement(postgres: bool) -> Executable:
    query = (
        select(Conversation)
        .where(Conversation.id.in_(bindparam("b_ids", expanding=True)), waiting_clause())
        .execution_options(populate_existing=True)
    )
    return query.with_for_update(skip_locked=True) if postgres else query


def claim_assigned(
    db: Session, conversation_ids: Iterable[int], *, assignee_ids: dict[int, int]
) -> dict[int, Conversation]:
    """Lock conversations that are still assigned as expected (re-offering), skipping
    rows another transaction holds."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return {}
    query = (
        select(Conversation)
        .where(Conversation.id.in_(ids))
        .execution_options(populate_existing=True)
    )
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    return {
        conversation.id: conversation
        for conversation in db.scalars(query)
        if conversation.assignee_id == assignee_ids.get(conversation.id)
        and conversation.status == OPEN
    }


def claim_ids(db: Session, ids: Sequence[int]) -> list[Conversation]:
    """Lock any conversations by id, skipping rows another transaction holds (the
    periodic SLA and escalation checks come back for those on the next run)."""
    if not ids:
        return []
    query = (
        select(Conversation)
        .where(Conversation.id.in_(sorted(set(ids))))
        .execution_options(populate_existing=True)
    )
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    return list(db.scalars(query.order_by(Conversation.id)))


# -- re-offer candidates ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveAssignmentRow:
    conversation_id: int
    agent_id: int
    agent_status: str
    offered_to_id: int | None
    offered_at: datetime | None
    assigned_at: datetime | None
    channel: str
    inbox_id: int
    team_id: int | None

    @property
    def offer_pending(self) -> bool:
        """Routed to this agent and not answered by them yet."""
        return self.offered_at is not None and self.offered_to_id == self.agent_id


def open_live_assignments(
    db: Session,
    *,
    offered_before: datetime,
    agent_ids: Collection[int] | None = None,
) -> list[LiveAssignmentRow]:
    """Assigned live chats that may need re-offering: offers older than
    `offered_before`, offers to agents who are no longer online, and chats of
    agents who went offline (the caller applies each inbox's exact timeout)."""
    live = (Channel.CHAT.value, Channel.PHONE.value)
    offer_pending = Conversation.offered_at.is_not(None) & (
        Conversation.offered_to_id == Conversation.assignee_id
    )
    query = (
        select(
            Conversation.id,
            Conversation.assignee_id,
            User.status,
            Conversation.offered_to_id,
            Conversation.offered_at,
            Conversation.assigned_at,
            Conversation.channel,
            Conversation.inbox_id,
            Conversation.team_id,
        )
        .join(User, User.id == Conversation.assignee_id)
        .where(Conversation.status == OPEN, Conversation.channel.in_(live))
        .where(
            or_(
                User.status == AgentStatus.OFFLINE.value,
                offer_pending
                & (
                    (Conversation.offered_at <= offered_before)
                    | (User.status != AgentStatus.ONLINE.value)
                ),
            )
        )
        .order_by(Conversation.id)
    )
    if agent_ids is not None:
        if not agent_ids:
            return []
        query = query.where(Conversation.assignee_id.in_(sorted(agent_ids)))
    # The join on the assignee makes `assignee_id` non-null in every row.
    return [LiveAssignmentRow(*row) for row in db.execute(query)]  # type: ignore[arg-type]
