"""The routing engine's queries: snapshots of the queue and the agents, and the locks
that make an assignment atomic.

An assignment holds two kinds of lock. The agents it gives work to are locked with
`SELECT … FOR UPDATE` (in id order, so two routers never deadlock) and their load is
counted again under that lock; the waiting conversations are claimed with `SELECT …
FOR UPDATE SKIP LOCKED`, so a router passes over rows another process is routing or
changing instead of queueing behind it. SQLite has neither, and needs neither: every
transaction there begins IMMEDIATE and holds the database's single write lock, so
writers are serialised already (one server process only).

A new chat's round is mostly round trips, so its statements do what they can at
once: the conversation comes with the configuration token, the claim with the
recount, and the writes of an assignment are one statement on PostgreSQL.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    Boolean,
    Connection,
    Float,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    join,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ColumnElement, Executable

from helpline.adapters.db.base import UTCDateTime, table_of
from helpline.adapters.db.engine import is_postgres
from helpline.adapters.db.models import Activity, Contact, Conversation, Team, TeamMember, User
from helpline.domain.enums import ActivityKind, AgentStatus, Channel, ConversationStatus

OPEN = ConversationStatus.OPEN.value


def _core(db: Session) -> Connection:
    """The session's connection, for the Core statements of a new chat's round: the
    ORM layer's work per statement cost more CPU than some of these queries. Pending
    ORM changes are flushed first, as `Session.execute` would."""
    db.flush()
    return db.connection()


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


def waiting_rows_with(
    db: Session, conversation_ids: Collection[int], extra: ColumnElement[Any]
) -> tuple[list[WaitingRow], Any]:
    """These conversations, if waiting, and the value of `extra` (an uncorrelated
    scalar subquery, such as the configuration token) read in the same round trip;
    (no rows, None) when none of them waits."""
    if not conversation_ids:
        return [], None
    statement = _waiting_with_statement(extra)
    rows = _core(db).execute(statement, {"b_ids": sorted(conversation_ids)}).all()
    if not rows:
        return [], None
    return [WaitingRow(*row[:-1]) for row in rows], rows[0][-1]


@functools.lru_cache(maxsize=4)
def _waiting_with_statement(extra: ColumnElement[Any]) -> Executable:
    return (
        _waiting_select()
        .add_columns(extra)
        .where(Conversation.id.in_(bindparam("b_ids", expanding=True)))
        .order_by(Conversation.id)
    )


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
class AgentIds:
    """A fixed set of agent ids (an arrival's candidates), with its PostgreSQL array
    text made once: psycopg dumping a list of hundreds of ints as an array parameter
    took a third as long as the query that uses it."""

    ids: frozenset[int]
    array_text: str

    @classmethod
    def of(cls, ids: Iterable[int]) -> AgentIds:
        unique = frozenset(ids)
        return cls(unique, "{" + ",".join(str(agent_id) for agent_id in sorted(unique)) + "}")


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
    by_candidates: bool,
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
    agents: Any = User
    source: Any
    everyone: Any
    if postgres and by_candidates:
        # The candidates as a joined set, which PostgreSQL hashes against users (an
        # `= ANY(array)` parameter is compared element by element on every row).
        candidates = (
            func.unnest(cast(bindparam("b_candidates", type_=String), ARRAY(Integer)))
            .table_valued("id")
            .render_derived()
            .alias("candidate")
        )
        agents = join(candidates, User, User.id == candidates.c.id)
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
        source = join(agents, load, true())
        everyone = join(User, load, true())
    else:
        emails = select(func.count()).where(open_of_agent, is_email).scalar_subquery()
        chats = select(func.count()).where(open_of_agent, ~is_email).scalar_subquery()
        source = everyone = User
    weight = bindparam("b_weight", type_=Float)
    load_of = chats + emails * weight
    has_room = load_of + bindparam("b_smallest", type_=Float) <= User.max_concurrent_chats + 1e-9
    teams = (
        select(func.aggregate_strings(cast(TeamMember.team_id, String), ","))
        .where(TeamMember.user_id == User.id)
        .scalar_subquery()
    )

    def online(source: Any) -> Any:
        query = (
            select(*_AGENT_COLUMNS, chats, emails, teams)
            .select_from(source)
            .where(User.is_active.is_(True), User.status == AgentStatus.ONLINE.value)
        )
        if by_ids:
            query = query.where(User.id.in_(bindparam("b_agent_ids", expanding=True)))
        return query

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
        previous = online(everyone).where(in_also)
    filtered = online(source).where(or_(has_room, in_also) if with_also else has_room)
    if by_candidates and not postgres:
        filtered = filtered.where(User.id.in_(bindparam("b_candidates", expanding=True)))
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
    candidates: AgentIds | None = None,
) -> list[tuple[AgentRow, int, int, set[int]]]:
    """Online agents with room for at least an email ticket, with their load and
    teams as (row, open chats, open email tickets, team ids), in one query; plus the
    agents in `also` (returning customers' previous agents) even when full, so a
    round can hold a conversation for them. With `order` and `limit`: only the first
    agents in the strategy's order (the best eligible agent of a single arrival is
    among them whenever any of them is eligible); `candidates` leaves out everyone
    else (those who cannot take the conversation anyway: their loads are never
    counted). No locks: the apply step counts again."""
    if agent_ids is not None and not agent_ids:
        return []
    postgres = is_postgres(db)
    previous, filtered = _routable_statements(
        postgres,
        by_ids=agent_ids is not None,
        with_also=bool(also),
        order=order if limit is not None else None,
        limited=limit is not None,
        by_candidates=candidates is not None,
    )
    params: dict[str, Any] = {
        "b_weight": email_weight,
        "b_smallest": min(1.0, email_weight),
        "b_agent_ids": sorted(agent_ids) if agent_ids is not None else [],
        "b_also": sorted(also),
        "b_limit": limit,
    }
    if candidates is not None:
        params["b_candidates"] = candidates.array_text if postgres else sorted(candidates.ids)
    connection = _core(db)
    result: list[tuple[AgentRow, int, int, set[int]]] = []
    if previous is not None:
        result.extend(_with_load(row) for row in connection.execute(previous, params))
    result.extend(_with_load(row) for row in connection.execute(filtered, params))
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


def claim_waiting_counting(
    db: Session, conversation_ids: Iterable[int], agent_ids: Collection[int]
) -> tuple[dict[int, Conversation], dict[int, tuple[int, int]]]:
    """`claim_waiting`, and in the same statement the open loads of `agent_ids` as
    `open_loads` gives them (the arrival's apply step: one round trip fewer).

    The caller holds those agents' row locks already: this statement starts after
    they were granted, so its counts see everything their previous holders
    committed (a count inside the locking statement itself would not: PostgreSQL
    reads it from the snapshot taken before the lock wait). Without a claimed row
    there are no loads either, and nothing to write.
    """
    ids = sorted(set(conversation_ids))
    if not ids:
        return {}, {}
    query = _claim_counting_statement(is_postgres(db))
    params = {"b_ids": ids, "b_agent_ids": sorted(agent_ids)}
    rows = db.execute(query, params).all()
    claimed: dict[int, Conversation] = {row[0].id: row[0] for row in rows}
    counts: str | None = rows[0][1] if rows else None  # the same on every row
    loads: dict[int, tuple[int, int]] = {}
    for item in (counts or "").split(","):
        if item:
            agent_id, total, emails = (int(part) for part in item.split(":"))
            loads[agent_id] = (total - emails, emails)
    return claimed, loads


@functools.lru_cache(maxsize=2)
def _claim_counting_statement(postgres: bool) -> Executable:
    counted = aliased(Conversation)
    is_email = case((counted.channel == Channel.EMAIL.value, 1), else_=0)
    per_agent = (
        select(
            counted.assignee_id.label("agent_id"),
            func.count().label("total"),
            func.sum(is_email).label("emails"),
        )
        .where(
            counted.status == OPEN,
            counted.assignee_id.in_(bindparam("b_agent_ids", expanding=True)),
        )
        .group_by(counted.assignee_id)
        .subquery("per_agent")
    )
    as_text = (
        cast(per_agent.c.agent_id, String)
        + ":"
        + cast(per_agent.c.total, String)
        + ":"
        + cast(per_agent.c.emails, String)
    )
    loads = select(func.aggregate_strings(as_text, ",")).scalar_subquery()
    query = (
        select(Conversation, loads)
        .where(Conversation.id.in_(bindparam("b_ids", expanding=True)), waiting_clause())
        .execution_options(populate_existing=True)
    )
    return query.with_for_update(skip_locked=True, of=Conversation) if postgres else query


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


# -- writes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssignmentWrite:
    """One routed assignment to write: a claimed conversation, its locked agent, and
    what its `assigned` history entry says."""

    conversation: Conversation
    agent: User
    offered: bool
    """A live chat: offered to the agent too (the answer timeout runs from now)."""
    data: dict[str, Any]


def write_assignments(
    db: Session, writes: Sequence[AssignmentWrite], *, now: datetime
) -> list[Activity]:
    """Write what `record_activity` and the assignment's attribute changes would
    (assignee, assignment and offer times, next sequence number, activity times;
    the agent's last assignment; an `assigned` history entry by the system), in one
    statement on PostgreSQL and three on SQLite instead of the ORM flush's three
    round trips. The loaded objects are brought up to date as committed state, so
    the session sees what the database holds; returns the history entries in the
    order of `writes`. The caller holds the rows' locks.
    """
    if not writes:
        return []
    rows: list[dict[str, Any]] = [
        {
            "conversation_id": write.conversation.id,
            "agent_id": write.agent.id,
            "seq": write.conversation.last_seq + 1,
            "offered": write.offered,
            "data": write.data,
        }
        for write in writes
    ]
    if is_postgres(db):
        params = {
            "b_rows": rows,
            "b_now": now,
            "b_conversation_ids": [row["conversation_id"] for row in rows],
            "b_agent_ids": sorted({row["agent_id"] for row in rows}),
        }
        returned = _core(db).execute(_assignments_statement(), params)
        ids = {int(conversation_id): int(entry_id) for conversation_id, entry_id in returned}
    else:
        ids = _write_assignments_sqlite(db, rows, now)
    entries: list[Activity] = []
    for write, row in zip(writes, rows, strict=True):
        conversation, agent = write.conversation, write.agent
        changes: dict[str, Any] = {
            "assignee_id": agent.id,
            "assigned_at": now,
            "last_seq": row["seq"],
            "updated_at": now,
            "last_activity_at": now,
        }
        if write.offered:
            changes |= {"offered_to_id": agent.id, "offered_at": now}
        for name, value in changes.items():
            set_committed_value(conversation, name, value)
        set_committed_value(agent, "last_assigned_at", now)
        entries.append(
            Activity(
                id=ids[conversation.id],
                conversation_id=conversation.id,
                seq=row["seq"],
                kind=ActivityKind.ASSIGNED.value,
                actor_type="system",
                actor_user_id=None,
                data=write.data,
                created_at=now,
            )
        )
    return entries


@functools.cache
def _assignments_statement() -> Executable:
    """PostgreSQL: the assignments as one JSON parameter, unpacked once and used by
    both updates and the history insert (data-modifying CTEs)."""
    conversations, users, activities = (
        table_of(Conversation),
        table_of(User),
        table_of(Activity),
    )
    rows = select(
        func.jsonb_to_recordset(bindparam("b_rows", type_=JSONB))
        .table_valued(
            column("conversation_id", Integer),
            column("agent_id", Integer),
            column("seq", Integer),
            column("offered", Boolean),
            column("data", JSONB),
        )
        .render_derived(with_types=True)
    ).cte("assignment")
    now = bindparam("b_now", type_=UTCDateTime())
    # The ids again as arrays: the planner guesses 100 rows for any JSON record set
    # and would scan whole tables; an `= ANY(array)` finds them by primary key.
    conversation_ids = bindparam("b_conversation_ids", type_=ARRAY(Integer))
    assigned = (
        update(conversations)
        .where(
            conversations.c.id == any_(conversation_ids),
            conversations.c.id == rows.c.conversation_id,
        )
        .values(
            assignee_id=rows.c.agent_id,
            assigned_at=now,
            offered_to_id=case(
                (rows.c.offered, rows.c.agent_id), else_=conversations.c.offered_to_id
            ),
            offered_at=case((rows.c.offered, now), else_=conversations.c.offered_at),
            last_seq=rows.c.seq,
            updated_at=now,
            last_activity_at=now,
        )
        .cte("assigned")
    )
    touched = (
        update(users)
        .where(users.c.id == any_(bindparam("b_agent_ids", type_=ARRAY(Integer))))
        .values(last_assigned_at=now)
        .cte("touched")
    )
    entry = select(
        rows.c.conversation_id,
        rows.c.seq,
        literal(ActivityKind.ASSIGNED.value),
        literal("system"),
        null(),
        rows.c.data,
        now,
    )
    return (
        insert(activities)
        .from_select(
            ["conversation_id", "seq", "kind", "actor_type", "actor_user_id", "data", "created_at"],
            entry,
        )
        .returning(activities.c.conversation_id, activities.c.id)
        .add_cte(assigned, touched)
    )


def _write_assignments_sqlite(
    db: Session, rows: list[dict[str, Any]], now: datetime
) -> dict[int, int]:
    """SQLite has no data-modifying CTEs: the same writes as three statements (in
    process, so no round trips to save)."""
    conversations, users, activities = (
        table_of(Conversation),
        table_of(User),
        table_of(Activity),
    )
    offered = bindparam("b_offered", type_=Boolean)
    agent_id = bindparam("b_agent", type_=Integer)
    db.execute(
        update(conversations)
        .where(conversations.c.id == bindparam("b_conversation", type_=Integer))
        .values(
            assignee_id=agent_id,
            assigned_at=now,
            offered_to_id=case((offered, agent_id), else_=conversations.c.offered_to_id),
            offered_at=case((offered, now), else_=conversations.c.offered_at),
            last_seq=bindparam("b_seq", type_=Integer),
            updated_at=now,
            last_activity_at=now,
        ),
        [
            {
                "b_conversation": row["conversation_id"],
                "b_agent": row["agent_id"],
                "b_offered": row["offered"],
                "b_seq": row["seq"],
            }
            for row in rows
        ],
    )
    db.execute(
        update(users)
        .where(users.c.id.in_(sorted({row["agent_id"] for row in rows})))
        .values(last_assigned_at=now)
    )
    returned = db.execute(
        insert(activities).returning(
            activities.c.conversation_id, activities.c.id, sort_by_parameter_order=True
        ),
        [
            {
                "conversation_id": row["conversation_id"],
                "seq": row["seq"],
                "kind": ActivityKind.ASSIGNED.value,
                "actor_type": "system",
                "actor_user_id": None,
                "data": row["data"],
                "created_at": now,
            }
            for row in rows
        ],
    )
    return {int(conversation_id): int(entry_id) for conversation_id, entry_id in returned}


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
