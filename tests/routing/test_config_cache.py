"""The per-process configuration cache: routing reads settings, teams and SLA
policies once per configuration version, and every change an admin makes — here,
through another session or another process — is used by the very next decision."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from helpline.adapters.db.engine import is_postgres, make_session_factory
from helpline.adapters.db.models import Counter, Inbox, RoutingSettings, User
from helpline.domain.routing import Strategy
from helpline.services import config_cache, routing
from tests.factories import make_conversation, make_inbox, make_team, make_user
from tests.routing.support import API, build_org, customer, go_online, open_chat
from tests.support import FrozenClock, login


def _token(db: Session) -> int:
    db.expire_all()
    value = db.scalar(select(Counter.value).where(Counter.name == config_cache.VERSION_NAME))
    db.commit()
    return int(value or 0)


def test_a_setting_changed_through_the_api_is_used_by_the_next_routing_decision(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    go_online(client, org.anna)
    login(client, org.sue.email)
    pushed = open_chat(client, org.chat, customer(db, "Early Eve"))
    assert pushed["assignee"]["id"] == org.anna.id  # the default strategy pushes

    login(client, org.admin.email)
    changed = client.put(f"{API}/routing/settings/inboxes/{org.chat.id}", json={"strategy": "pull"})
    assert changed.status_code == 200, changed.text
    login(client, org.sue.email)
    waiting = open_chat(client, org.chat, customer(db, "Late Lou"))

    assert waiting["assignee"] is None  # pull: the cached `priority` was not used


def test_a_change_committed_by_another_session_is_seen_by_the_next_transaction(
    db: Session, db_engine: Engine
) -> None:
    inbox_id = make_conversation_inbox(db)
    assert routing.load_setup(db).inbox_strategies[inbox_id] == Strategy.PRIORITY
    db.commit()

    with make_session_factory(db_engine)() as other:
        inbox = other.get(Inbox, inbox_id)
        assert inbox is not None
        inbox.routing_strategy = Strategy.ROUND_ROBIN.value
        other.commit()

    assert routing.load_setup(db).inbox_strategies[inbox_id] == Strategy.ROUND_ROBIN


def make_conversation_inbox(db: Session) -> int:
    inbox = make_inbox(db)
    db.commit()
    return inbox.id


def test_a_change_made_by_another_server_process_is_seen(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    """Another process changes a team's categories through the ORM; this process's
    cached teams are replaced at its next transaction. PostgreSQL: the database
    several server processes share (SQLite runs one server process)."""
    if not is_postgres(db):
        pytest.skip("one server process on SQLite")
    team = make_team(db, "Billing", categories=["billing"])
    db.commit()
    assert routing.load_teams(db)[team.id].categories == frozenset({"billing"})
    db.commit()
    before = _token(db)

    url = db_engine.url.render_as_string(hide_password=False)
    script = textwrap.dedent(
        f"""
        from helpline.adapters.db.engine import make_engine, make_session_factory
        from helpline.adapters.db.models import Team
        import helpline.services.config_cache  # what every server process imports
        engine = make_engine({url!r})
        with make_session_factory(engine)() as db:
            db.get(Team, {team.id}).categories = ["billing", "refunds"]
            db.commit()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)

    assert _token(db) != before
    assert routing.load_teams(db)[team.id].categories == frozenset({"billing", "refunds"})


def test_teams_and_policies_created_directly_are_seen_without_a_restart(
    db: Session, clock: FrozenClock
) -> None:
    """Factories write through the ORM like the services do: the listener bumps."""
    assert routing.load_teams(db) == {}
    db.commit()
    team = make_team(db, "Late team", tier=2)
    db.commit()
    assert routing.load_teams(db)[team.id].tier == 2


def test_presence_and_the_worker_clock_do_not_invalidate_the_cache(
    db: Session, clock: FrozenClock
) -> None:
    agent = make_user(db, status="offline")
    routing.claim_tick(db, now=clock(), every_seconds=5)
    start = _token(db)

    agent.status = "online"
    db.commit()
    db.execute(update(User).where(User.id == agent.id).values(status="away"))
    db.commit()
    clock.advance(seconds=10)
    assert routing.claim_tick(db, now=clock(), every_seconds=5)

    assert _token(db) == start
    row = db.scalar(select(RoutingSettings).where(RoutingSettings.scope == "global"))
    assert row is not None and row.last_tick_at is not None


def test_role_changes_and_bulk_statements_on_configuration_bump_the_version(
    db: Session,
) -> None:
    agent = make_user(db, role="agent")
    db.commit()
    first = _token(db)

    agent.role = "supervisor"
    db.commit()
    second = _token(db)
    db.execute(update(Inbox).values(routing_strategy="fifo"))
    db.commit()
    third = _token(db)

    assert len({first, second, third}) == 3


def test_a_rolled_back_change_never_reaches_other_transactions(
    db: Session, db_engine: Engine
) -> None:
    inbox_id = make_conversation_inbox(db)
    with make_session_factory(db_engine)() as other:
        inbox = other.get(Inbox, inbox_id)
        assert inbox is not None
        inbox.routing_strategy = Strategy.FIFO.value
        other.flush()
        # The writer sees its own change, without sharing it with the process.
        assert routing.load_setup(other).inbox_strategies[inbox_id] == Strategy.FIFO
        other.rollback()

    assert routing.load_setup(db).inbox_strategies[inbox_id] == Strategy.PRIORITY


def test_an_agents_new_skills_and_languages_are_used_by_the_next_arrival(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    """A new chat's candidates (who may take it by tier, skills, languages and teams)
    are cached per configuration version: changing an agent's skills or languages
    from another session is a configuration change."""
    now = clock()
    agent = make_user(db, status="online", skills=["billing"], languages=["en"])
    inbox = make_inbox(db)
    technical = make_conversation(
        db, inbox, category="technical", language="en", waiting_since=now, last_activity_at=now
    )
    german = make_conversation(
        db, inbox, category="billing", language="de", waiting_since=now, last_activity_at=now
    )
    db.commit()
    arrivals = [technical.id, german.id]
    for conversation_id in arrivals:
        assert routing.route_waiting(db, now=now, conversation_ids=[conversation_id]).assigned == []
    agent_id = agent.id  # `_token` expires the session's objects
    before = _token(db)

    with make_session_factory(db_engine)() as other:
        other.execute(
            update(User)
            .where(User.id == agent_id)
            .values(skills=["billing", "technical"], languages=["en", "de-AT"])
        )
        other.commit()

    assert _token(db) != before
    for conversation_id in arrivals:
        outcome = routing.route_waiting(db, now=now, conversation_ids=[conversation_id])
        assert outcome.assigned == [(conversation_id, agent_id)]
