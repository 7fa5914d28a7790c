"""Planner statistics: SQLite gets them on demand, PostgreSQL is left to autovacuum."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from helpline.adapters.db.maintenance import refresh_planner_statistics
from tests.factories import make_conversation, make_inbox


def test_sqlite_gets_statistics_and_postgres_is_left_alone(db: Session, db_engine: Engine) -> None:
    inbox = make_inbox(db)
    for _ in range(5):
        make_conversation(db, inbox)
    db.commit()

    ran = refresh_planner_statistics(db_engine)

    if db_engine.dialect.name == "sqlite":
        assert ran
        with db_engine.connect() as connection:
            analysed = connection.execute(
                text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'conversations'")
            ).scalar_one()
        assert analysed > 0
    else:
        assert not ran
