"""Migrations: an empty database upgrades to head on both backends, the result
matches the models exactly, and downgrade/upgrade round-trips."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from helpline.adapters.db.base import Base
from helpline.adapters.db.engine import make_engine
from helpline.adapters.db.migrate import alembic_config, pending_revisions, upgrade_to_head
from tests.services import PG_ADMIN_URL, missing, postgres_reachable


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(
    request: pytest.FixtureRequest, tmp_path: Path, worker_id: str
) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    if not postgres_reachable():
        missing("PostgreSQL", f"start it or set HELPLINE_TEST_PG_URL; tried {PG_ADMIN_URL}")
    name = f"helpline_migrations_{os.getpid()}_{worker_id}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    yield engine
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_empty_database_upgrades_to_head_and_matches_models(empty_engine: Engine) -> None:
    assert pending_revisions(empty_engine), "an empty database has migrations to apply"
    upgrade_to_head(empty_engine)

    assert pending_revisions(empty_engine) == []
    assert set(Base.metadata.tables) <= set(inspect(empty_engine).get_table_names())
    with empty_engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert drift == [], f"models and migrations differ: {drift}"


def test_upgrade_is_idempotent_and_downgrade_round_trips(empty_engine: Engine) -> None:
    upgrade_to_head(empty_engine)
    upgrade_to_head(empty_engine)  # a restart with nothing pending changes nothing

    config = alembic_config(empty_engine.url.render_as_string(hide_password=False))
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert "conversations" not in inspect(empty_engine).get_table_names()

    upgrade_to_head(empty_engine)
    assert "conversations" in inspect(empty_engine).get_table_names()


def test_the_assignee_index_carries_the_channel_on_postgresql(empty_engine: Engine) -> None:
    """Routing counts candidate agents' open chats and email tickets from this index
    alone (0006); the drift check above does not compare INCLUDE columns."""
    upgrade_to_head(empty_engine)
    indexes = {index["name"]: index for index in inspect(empty_engine).get_indexes("conversations")}
    index = indexes["ix_conversations_assignee_status"]
    assert index["column_names"] == ["assignee_id", "status", "last_activity_at"]
    if empty_engine.dialect.name == "postgresql":
        assert index.get("dialect_options", {}).get("postgresql_include") == ["channel"]
