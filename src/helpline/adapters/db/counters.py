"""Gap-free counters (conversation numbers), safe under concurrent writers."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Counter


def next_value(db: Session, name: str) -> int:
    """Increment and return the counter. The UPDATE takes a row lock on PostgreSQL
    (SQLite holds the database write lock), so two transactions never get the same
    value; a rollback gives the number back, so there are no gaps."""
    value: int | None = db.scalar(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    if value is not None:
        return value
    try:
        with db.begin_nested():
            db.execute(insert(Counter).values(name=name, value=1))
        return 1
    except IntegrityError:
        # Another transaction created the counter first; now the UPDATE finds it.
        return next_value(db, name)


def current_value(db: Session, name: str) -> int:
    return db.scalar(select(Counter.value).where(Counter.name == name)) or 0
