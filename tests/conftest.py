"""Shared fixtures: one migrated database per xdist worker and backend, cleaned
between tests; an app wired to it with a frozen clock; a TestClient.

Tests that use `client`, `app`, `db` or `db_engine` run twice: on SQLite and on
PostgreSQL. Pure domain tests use none of these and run once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from helpline.adapters.db.base import Base
from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.settings import Settings
from helpline.web.app import create_app
from tests.services import PG_ADMIN_URL, missing, postgres_reachable
from tests.support import FrozenClock

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _run_id() -> str:
    """Unique per pytest run (shared by its xdist workers), so parallel runs on one
    machine never share a database."""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]


def _admin_execute(*statements: str) -> None:
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _postgres_database_for_worker() -> str:
    name = f"helpline_test_{_run_id()}_{_worker_id()}"
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return name


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database at the newest migration, one per backend and xdist worker."""
    database = None
    if request.param == "postgresql":
        if not postgres_reachable():
            missing("PostgreSQL", f"start it or set HELPLINE_TEST_PG_URL; tried {PG_ADMIN_URL}")
        database = _postgres_database_for_worker()
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'helpline.sqlite3'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()
    if database is not None:
        _admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _clean(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (fixed table names)


@pytest.fixture
def db_engine(migrated_engine: Engine) -> Engine:
    _clean(migrated_engine)
    return migrated_engine


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key=TEST_SECRET,
        migrate_on_start=False,
        run_worker_in_server=False,
        base_url="http://testserver",
    )


@pytest.fixture
def app(settings: Settings, db_engine: Engine, clock: FrozenClock) -> FastAPI:
    return create_app(settings, engine=db_engine, clock=clock, start_worker=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def db(db_engine: Engine) -> Iterator[Session]:
    """A session for arranging data and checking results; commit to make data visible."""
    with make_session_factory(db_engine)() as session:
        yield session
