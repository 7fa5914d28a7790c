"""The SQLite engine the chat path relies on: writers of one process take turns on
an in-process lock (no "database is locked", no lost update), read-only sessions
read beside a writer without waiting and refuse to write, and the WAL is copied
into the database file by the background checkpoint."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, update

from helpline.adapters.db.engine import (
    ReadOnlyViolation,
    make_engine,
    make_read_session_factory,
    make_session_factory,
)

metadata = MetaData()
counter = Table(
    "counter", metadata, Column("id", Integer, primary_key=True), Column("value", Integer)
)


@pytest.fixture
def engine_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'engine.sqlite3'}"


def test_writers_take_turns_and_lose_no_update(engine_url: str) -> None:
    engine = make_engine(engine_url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(counter.insert().values(id=1, value=0))
    factory = make_session_factory(engine)
    failures: list[BaseException] = []

    def add_one_hundred_times() -> None:
        try:
            for _ in range(100):
                with factory() as db:
                    value = db.execute(select(counter.c.value)).scalar_one()
                    db.execute(update(counter).values(value=value + 1))
                    db.commit()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=add_one_hundred_times) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with factory() as db:
        assert db.execute(select(counter.c.value)).scalar_one() == 400
    engine.dispose()


def test_a_read_only_session_reads_beside_a_writer_and_cannot_write(engine_url: str) -> None:
    engine = make_engine(engine_url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(counter.insert().values(id=1, value=7))
    writer = make_session_factory(engine)()
    writer.execute(update(counter).values(value=8))  # holds the write lock, uncommitted
    try:
        with make_read_session_factory(engine)() as reader:
            # The committed value, at once (a writer session would wait here).
            assert reader.execute(select(counter.c.value)).scalar_one() == 7
            with pytest.raises(ReadOnlyViolation):
                reader.execute(update(counter).values(value=0))
    finally:
        writer.commit()
        writer.close()
    with make_read_session_factory(engine)() as reader:
        assert reader.execute(select(counter.c.value)).scalar_one() == 8
    engine.dispose()


def test_the_background_checkpoint_empties_the_wal_into_the_database(
    engine_url: str, tmp_path: Path
) -> None:
    engine = make_engine(engine_url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(counter.insert(), [{"id": n, "value": n} for n in range(1, 2001)])
    database = tmp_path / "engine.sqlite3"
    # Commits only append to the WAL; the rows reach the database file when the
    # background checkpoint copies them (no COMMIT waits for that).
    deadline = time.monotonic() + 30
    while database.stat().st_size < 16 * 1024 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert database.stat().st_size >= 16 * 1024
    engine.dispose()
