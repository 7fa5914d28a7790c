"""Alembic environment: runs Helpline's migrations on the configured database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from helpline.adapters.db import models  # noqa: F401  (registers every table)
from helpline.adapters.db.base import Base
from helpline.adapters.db.engine import make_engine

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite needs table rebuilds for ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    existing = config.attributes.get("connection")
    if existing is not None:
        _run(existing)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


run_online()
