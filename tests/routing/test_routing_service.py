"""The routing service's atomic apply step and the locking repository, on both
databases: a stale plan never assigns a conversation twice or pushes an agent over
their cap, and PostgreSQL routers pass over rows another transaction holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from helpline.adapters.db import routing_repo as repo
from helpline.adapters.db.engine import is_postgres, make_session_factory
from helpline.adapters.db.models import Activity, Conversation
from helpline.services import routing
from tests.factories import make_contact, make_conversation, make_inbox, make_user
from tests.support import FrozenClock


def _waiting(db: Session, count: int, now: datetime) -> list[Conversation]:
    inbox = make_inbox(db)
    return [
        make_conversation(db, inbox, make_contact(db), waiting_since=now, last_activity_at=now)
        for _ in range(count)
    ]


def _plan(db: Session, now: datetime) -> list[routing.PlannedAssignment]:
    setup = routing.load_setup(db)
    plan = routing.plan_round(routing.load_snapshot(db), setup, now)
    db.commit()
    return plan.assignments


def test_a_round_assigns_each_waiting_conversation_once_and_respects_caps(
    db: Session, clock: FrozenClock
) -> None:
    now = clock()
    agents = [make_user(db, status="online", max_concurrent_chats=2) for _ in range(2)]
    conversations = _waiting(db, 6, now)
    db.commit()

    first = routing.route_waiting(db, now=now)
    again = routing.route_waiting(db, now=now)

    assert len(first.assigned) == 4  # two agents, two chats each
    assert again.assigned == []
    db.expire_all()
    loads = repo.open_loads(db)
    assert {agent.id: loads[agent.id][0] for agent in agents} == {a.id: 2 for a in agents}
    waiting = [c.id for c in conversations if db.get(Conversation, c.id).assignee_id is None]  # type: ignore[union-attr]
    assert len(waiting) == 2
    routed = db.scalars(select(Activity.conversation_id).where(Activity.kind == "assigned")).all()
    assert len(routed) == len(set(routed)) == 4


def test_a_stale_plan_never_pushes_an_agent_over_the_cap(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    now = clock()
    agent = make_user(db, status="online", max_concurrent_chats=1)
    planned_for, taken_meanwhile = _waiting(db, 2, now)
    db.commit()
    plan = _plan(db, now)
    assert [p.assignment.agent_id for p in plan] == [agent.id]

    # Another process gives the agent their one chat before this plan is applied.
    with make_session_factory(db_engine)() as other:
        conversation = other.get(Conversation, taken_meanwhile.id)
        assert conversation is not None
        conversation.assignee_id = agent.id
        other.commit()

    written, skipped = routing.apply_assignments(db, plan, now=now, email_weight=0.5)
    db.commit()
    assert (written, skipped) == ([], 1)
    assert (
        db.scalar(select(Conversation.assignee_id).where(Conversation.id == planned_for.id)) is None
    )


def test_a_stale_plan_never_assigns_a_conversation_someone_else_took(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    now = clock()
    agent = make_user(db, status="online")
    colleague = make_user(db, status="offline")
    (conversation,) = _waiting(db, 1, now)
    db.commit()
    plan = _plan(db, now)
    assert len(plan) == 1

    with make_session_factory(db_engine)() as other:
        taken = other.get(Conversation, conversation.id)
        assert taken is not None
        taken.assignee_id = colleague.id
        other.commit()

    written, skipped = routing.apply_assignments(db, plan, now=now, email_weight=0.5)
    db.commit()
    assert (written, skipped) == ([], 1)
    assert (
        db.scalar(select(Conversation.assignee_id).where(Conversation.id == conversation.id))
        == colleague.id
    )
    assert agent.id not in {a for _, a in written}


def test_an_agent_who_left_after_the_plan_gets_nothing(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    now = clock()
    agent = make_user(db, status="online")
    _waiting(db, 1, now)
    db.commit()
    plan = _plan(db, now)
    with make_session_factory(db_engine)() as other:
        gone = other.get(type(agent), agent.id)
        assert gone is not None
        gone.status = "on_break"
        other.commit()
    assert routing.apply_assignments(db, plan, now=now, email_weight=0.5) == ([], 1)
    db.rollback()


def test_claiming_waiting_rows_skips_those_another_transaction_holds(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    """PostgreSQL: FOR UPDATE SKIP LOCKED. SQLite has one writer at a time, so there
    the claim is a plain read of what is still waiting."""
    now = clock()
    held, free = _waiting(db, 2, now)
    assigned = _waiting(db, 1, now)[0]
    assigned.assignee_id = make_user(db).id
    db.commit()
    if not is_postgres(db_engine):
        claimed = repo.claim_waiting(db, [held.id, free.id, assigned.id])
        assert set(claimed) == {held.id, free.id}
        db.rollback()
        return
    with make_session_factory(db_engine)() as other:
        assert set(repo.claim_waiting(other, [held.id])) == {held.id}  # holds the row lock
        claimed = repo.claim_waiting(db, [held.id, free.id, assigned.id])
        assert set(claimed) == {free.id}
        db.rollback()
        other.rollback()
    assert set(repo.claim_waiting(db, [held.id, free.id])) == {held.id, free.id}
    db.rollback()


def test_locking_agents_waits_for_a_transaction_holding_one_on_postgresql(
    db: Session, db_engine: Engine
) -> None:
    """The cap check counts load under the agent's row lock: a second router asking
    for the same agent waits (here: gives up at once with NOWAIT semantics)."""
    agent = make_user(db, status="online")
    db.commit()
    if not is_postgres(db_engine):
        assert set(repo.lock_agents(db, [agent.id])) == {agent.id}
        db.rollback()
        return
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    with make_session_factory(db_engine)() as other:
        repo.lock_agents(other, [agent.id])
        db.execute(text("SET LOCAL lock_timeout = '100ms'"))
        try:
            repo.lock_agents(db, [agent.id])
        except OperationalError as error:
            assert "lock timeout" in str(error)
        else:  # pragma: no cover - would mean the row was not locked
            raise AssertionError("the agent row was not locked")
        finally:
            db.rollback()
            other.rollback()
