"""Per-process cache of the admin's configuration (routing settings, teams, SLA
policies and calendars, who hears about a team's or inbox's conversations), kept
correct across several server processes by one version token in the database.

Every write of a configuration table through a `Session` (ORM objects and ORM
bulk statements alike) replaces the `config_version` row of `counters` with a new
random token *in the same transaction*: a `before_flush` / `do_orm_execute`
listener does it, so no admin action can forget it. Readers ask for the token
once per transaction (one primary-key lookup) and reuse what they loaded under
the same token. Staleness bound: none beyond the transaction's own — a routing
round or message hook that starts after an admin's commit sees the new
configuration, in this process and every other one.

Tokens are random rather than counted up so that a rolled-back change or a
truncated test database can never bring back a token that named other contents.
Writes that bypass the Session (raw SQL, `engine.begin()`) must call `bump`.
"""

from __future__ import annotations

import functools
import secrets
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Engine, ScalarSelect, Select, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.orm.attributes import instance_state

from helpline.adapters.db.base import table_of
from helpline.adapters.db.models import (
    Counter,
    Inbox,
    InboxMember,
    RoutingSettings,
    Rule,
    SLACalendar,
    SLAPolicy,
    Team,
    TeamMember,
    User,
)

VERSION_NAME = "config_version"
_T = TypeVar("_T")

WATCHED: dict[type[Any], frozenset[str] | None] = {
    RoutingSettings: None,
    Inbox: None,
    InboxMember: None,
    Team: None,
    TeamMember: None,
    SLAPolicy: None,
    SLACalendar: None,
    Rule: None,
    User: frozenset({"role", "is_active", "tier", "skills", "languages"}),
}
"""Models whose rows are configuration; for an update, the columns that count
(None: every column, except those in IGNORED). A user's tier, skills and languages
count: routing caches which agents may take which conversations."""
IGNORED: dict[type[Any], frozenset[str]] = {RoutingSettings: frozenset({"last_tick_at"})}
"""Columns written by the system all the time (the worker's tick clock): not a change
of configuration."""

_SESSION_VERSION = "config_cache.version"
_SESSION_BUMPED = "config_cache.bumped"


class _Store:
    """What one database's configuration loaded to, under one token."""

    __slots__ = ("values", "version")

    def __init__(self, version: int) -> None:
        self.version = version
        self.values: dict[Hashable, Any] = {}


_stores: weakref.WeakKeyDictionary[Engine, _Store] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _engine(db: Session) -> Engine:
    bind = db.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _upsert(db: Session) -> Any:
    token = secrets.randbelow(2**31 - 2) + 1
    dialect = postgresql if _engine(db).dialect.name == "postgresql" else sqlite
    table = table_of(Counter)
    return (
        dialect.insert(table)
        .values(name=VERSION_NAME, value=token)
        .on_conflict_do_update(index_elements=[table.c.name], set_={"value": token})
    )


def bump(db: Session) -> None:
    """Give the configuration a new token in the caller's transaction (the listener
    does this for Session writes; call it after writes that bypass the Session)."""
    db.connection().execute(_upsert(db))
    _mark_bumped(db)


def _mark_bumped(db: Session) -> None:
    # Until this transaction ends, this session reads its own uncommitted
    # configuration: never share it through the process-wide cache.
    db.info[_SESSION_BUMPED] = db.get_transaction()
    db.info.pop(_SESSION_VERSION, None)


def _bumped_here(db: Session) -> bool:
    marked = db.info.get(_SESSION_BUMPED)
    return marked is not None and marked is db.get_transaction()


@functools.cache
def _version_statement() -> Select[tuple[Any]]:
    table = table_of(Counter)
    return select(table.c.value).where(table.c.name == VERSION_NAME)


@functools.cache
def version_column() -> ScalarSelect[Any]:
    """The token as a scalar subquery: a statement that reads something else at the
    start of a transaction can carry it, saving a round trip (see `note_version`)."""
    return _version_statement().scalar_subquery()


def note_version(db: Session, value: int | None) -> None:
    """Take the token a statement of this transaction read along with its rows (from
    `version_column()`) as this transaction's, unless it has one already."""
    transaction = db.get_transaction()
    memo = db.info.get(_SESSION_VERSION)
    if transaction is None or (memo is not None and memo[0] is transaction):
        return
    db.info[_SESSION_VERSION] = (transaction, int(value or 0))


def version(db: Session) -> int:
    """The configuration's token as this transaction sees it (0: never written),
    read from the database once per transaction."""
    transaction = db.get_transaction()
    memo = db.info.get(_SESSION_VERSION)
    if memo is not None and transaction is not None and memo[0] is transaction:
        return int(memo[1])
    value = db.execute(_version_statement()).scalar()
    db.info[_SESSION_VERSION] = (db.get_transaction(), int(value or 0))
    return int(value or 0)


def cached(db: Session, key: Hashable, load: Callable[[], _T]) -> _T:
    """The value `load()` gives for the configuration in force, loaded once per
    process and token. `load` reads through `db` and must return something its
    callers never change."""
    current = version(db)
    if _bumped_here(db):
        return load()
    engine = _engine(db)
    store = _stores.get(engine)
    if store is not None and store.version == current and key in store.values:
        return store.values[key]  # type: ignore[no-any-return]
    value = load()
    with _lock:
        store = _stores.get(engine)
        if store is None or store.version != current:
            store = _Store(current)
            _stores[engine] = store
        store.values[key] = value
    return value


def clear() -> None:
    """Forget everything cached in this process (tests; never needed for correctness)."""
    with _lock:
        _stores.clear()


# ---------------------------------------------------------------- the listeners


def _counts(obj: Any, *, new_or_deleted: bool) -> bool:
    kind = type(obj)
    if kind not in WATCHED:
        return False
    if new_or_deleted:
        return True
    state = instance_state(obj)
    columns = WATCHED[kind]
    ignored = IGNORED.get(kind, frozenset())
    for attribute in state.attrs:
        if columns is not None and attribute.key not in columns:
            continue
        if attribute.key in ignored:
            continue
        if attribute.history.has_changes():
            return True
    return False


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction(session: Session, transaction: SessionTransaction) -> None:
    """The memos name their transaction; dropping them when it ends also breaks the
    session → info → transaction → session cycle, which otherwise left every session
    (with its connection and event dispatchers) for the cyclic collector."""
    memo = session.info.get(_SESSION_VERSION)
    if memo is not None and memo[0] is transaction:
        del session.info[_SESSION_VERSION]
    if session.info.get(_SESSION_BUMPED) is transaction:
        del session.info[_SESSION_BUMPED]


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    changed = any(_counts(obj, new_or_deleted=True) for obj in (*session.new, *session.deleted))
    changed = changed or any(_counts(obj, new_or_deleted=False) for obj in session.dirty)
    if changed:
        bump(session)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    """ORM-enabled INSERT/UPDATE/DELETE on a configuration table (`db.execute(
    update(Team)…)`). A bulk update of users counts only when it sets their role or
    whether they are active (not their presence, which changes all day)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    kind = mapper.class_ if mapper is not None else None
    if kind not in WATCHED:
        return
    columns = WATCHED[kind]
    if state.is_update and columns is not None:
        values = getattr(state.statement, "_values", None)
        if values is not None:
            keys = {getattr(column, "key", str(column)) for column in values}
            if not keys & columns:
                return
    bump(state.session)
