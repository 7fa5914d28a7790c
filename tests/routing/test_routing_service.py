"""The routing service's atomic apply step and the locking repository, on both
databases: a stale plan never assigns a conversation twice or pushes an agent over
their cap, and PostgreSQL routers pass over rows another transaction holds."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from helpline.adapters.db import routing_repo as repo
from helpline.adapters.db.engine import is_postgres, make_session_factory
from helpline.adapters.db.models import Activity, Conversation
from helpline.services import routing
from helpline.services.events import LiveEvent, install_publisher
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


def test_the_claim_counts_the_locked_agents_loads_as_open_loads_does(
    db: Session, clock: FrozenClock
) -> None:
    """The arrival's claim also counts its agents' open chats and email tickets (one
    round trip fewer); a conversation that is no longer waiting is not claimed."""
    now = clock()
    busy, idle = make_user(db, status="online"), make_user(db, status="online")
    inbox = make_inbox(db)
    for channel in ("chat", "chat", "email"):
        make_conversation(db, inbox, make_contact(db), assignee_id=busy.id).channel = channel
    make_conversation(db, inbox, make_contact(db), assignee_id=busy.id, status="solved")
    waiting, taken = _waiting(db, 2, now)
    taken.assignee_id = idle.id
    db.commit()

    repo.lock_agents(db, [busy.id, idle.id])
    claimed, loads = repo.claim_waiting_counting(db, [waiting.id, taken.id], [busy.id, idle.id])

    assert set(claimed) == {waiting.id}
    assert loads == repo.open_loads(db, [busy.id, idle.id]) == {busy.id: (2, 1), idle.id: (1, 0)}
    db.rollback()


def test_a_routed_assignment_is_written_once_and_the_session_sees_it(
    db: Session, clock: FrozenClock
) -> None:
    """The assignment's writes bypass the ORM's flush (one statement on PostgreSQL):
    the database, the session's objects and the live event agree."""
    now = clock()
    agent = make_user(db, status="online")
    chat, email = _waiting(db, 2, now)
    email.channel = "email"
    db.commit()
    seqs = {chat.id: chat.last_seq, email.id: email.last_seq}
    events: list[LiveEvent] = []
    install_publisher(db, events.append)

    outcome = routing.route_waiting(db, now=now, conversation_ids=[chat.id, email.id])

    assert sorted(outcome.assigned) == sorted([(chat.id, agent.id), (email.id, agent.id)])
    assert agent.last_assigned_at == now
    entries = {entry.conversation_id: entry for entry in db.scalars(select(Activity))}
    for conversation, offered in ((chat, True), (email, False)):
        assert conversation.assignee_id == agent.id and conversation.assigned_at == now
        assert conversation.last_seq == seqs[conversation.id] + 1 == entries[conversation.id].seq
        assert (conversation.offered_to_id == agent.id) is offered
        stored = db.execute(
            select(
                Conversation.assignee_id, Conversation.last_seq, Conversation.offered_to_id
            ).where(Conversation.id == conversation.id)
        ).one()
        assert tuple(stored) == (
            agent.id,
            conversation.last_seq,
            agent.id if offered else None,
        )
        entry = entries[conversation.id]
        assert (entry.kind, entry.actor_type, entry.created_at) == ("assigned", "system", now)
        assert entry.data["to"] == agent.id and entry.data["strategy"] == "priority"
    payloads = {event.conversation_id: event.payload for event in events}
    for conversation_id, entry in entries.items():
        (activity,) = payloads[conversation_id]["activities"]
        assert (activity["id"], activity["seq"], activity["data"]) == (
            entry.id,
            entry.seq,
            entry.data,
        )
        assert payloads[conversation_id]["conversation"]["assignee_id"] == agent.id
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


def test_the_candidate_prefilter_reads_exactly_the_eligible_agents(
    db: Session, clock: FrozenClock
) -> None:
    """A new chat's round reads only the agents who may take it (team, category by
    skills or teams, language, tier), chosen by the domain's own check on cached
    configuration: never one too few (and, with everyone online and free, none too
    many)."""
    from helpline.adapters.db.models import Team
    from helpline.domain.routing.eligibility import static_problems
    from helpline.domain.routing.model import normalise_language

    billing = Team(name="Billing", tier=1, categories=["billing"])
    anything = Team(name="Anything", tier=1, categories=[])
    seniors = Team(name="Seniors", tier=2, categories=["technical"])
    db.add_all([billing, anything, seniors])
    db.flush()
    shapes = [
        {"skills": ["billing"], "languages": ["en"], "teams": []},
        {"skills": [], "languages": ["PT-BR"], "teams": [billing]},
        {"skills": [], "languages": ["en", "de"], "teams": [anything]},
        {"skills": [], "languages": ["de"], "teams": []},
        {"skills": ["technical", "account"], "languages": ["pl"], "teams": [seniors], "tier": 2},
        {"skills": [], "languages": ["en"], "teams": [seniors], "tier": 2},
        {"skills": ["a_b"], "languages": ["en"], "teams": []},
    ]
    for shape in shapes:
        make_user(db, status="online", **shape)  # type: ignore[arg-type]
    db.commit()
    teams = routing.load_teams(db)
    everyone = routing.load_agents(db)
    for team_id in (None, billing.id, seniors.id):
        for category in (None, "billing", "technical", "axb", "a_b"):
            for language in (None, "en", "pt", "de", "pl"):
                for tier in (1, 2):
                    row = repo.WaitingRow(
                        id=1,
                        inbox_id=1,
                        team_id=team_id,
                        channel="chat",
                        category=category,
                        priority="normal",
                        language=language,
                        tier=tier,
                        urgent_reason=None,
                        waiting_since=clock(),
                        last_activity_at=clock(),
                        first_response_due_at=None,
                        first_response_at=None,
                        previous_agent_id=None,
                        first_contact=False,
                        routing_excluded_ids=[],
                        custom_attributes={},
                        plan=None,
                        lifetime_value_cents=0,
                        orders_count=0,
                        priority_score=0.0,
                        frustration=None,
                    )
                    needs = routing._static_needs(row)
                    found = {
                        agent.id
                        for agent in routing.load_routable_agents(db, email_weight=0.5, needs=needs)
                    }
                    eligible = {
                        agent.id
                        for agent in everyone
                        if not static_problems(
                            agent,
                            team_id=team_id,
                            category=category if team_id is None else None,
                            language=normalise_language(language),
                            tier=tier,
                            teams=teams,
                        )
                    }
                    assert eligible == found, (team_id, category, language, tier)
    db.rollback()


def test_a_queue_position_reads_the_row_as_it_is_now(db: Session, db_engine: Engine) -> None:
    """The FAQ bot (or an agent) took the chat after this session last read it: the
    answer says so instead of looking for it in the queue."""
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    (chat,) = _waiting(db, 1, now)
    db.commit()
    assert routing.queue_position(db, chat.id, now=now).waiting
    with make_session_factory(db_engine)() as other:
        other.get_one(Conversation, chat.id).bot_active = True
        other.commit()

    estimate = routing.queue_position(db, chat.id, now=now)

    assert not estimate.waiting
    assert estimate.reason == "the FAQ bot is answering"
