"""Engine and session factory: the one place that knows SQLite from PostgreSQL.

SQLite allows one writer at a time. Every transaction in this process that may
write takes one process-wide writer lock before `BEGIN IMMEDIATE`, so writers
queue in order on a cheap in-process lock instead of sleeping in SQLite's busy
handler (which polls with growing sleeps and was most of a chat message's
latency under load). Sessions made by `make_read_session_factory` promise not to
write: they begin a deferred transaction without the lock and read a WAL snapshot
while a writer works. Other processes (a separate `helpline worker`, the CLI)
still meet this one at SQLite's own lock and wait in the busy handler.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

READ_ONLY = "helpline_read_only"
"""Execution option: this connection's transactions only read (no writer lock)."""
WRITER_LOCK_TIMEOUT_SECONDS = 30.0
_HOLDS_WRITER = "helpline_holds_writer_lock"


class ReadOnlyViolation(RuntimeError):
    """A read-only session tried to write: a bug in the caller, never a user error."""


CHECKPOINT_INTERVAL_SECONDS = 1.0
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
MMAP_SIZE_BYTES = 256 * 1024 * 1024
CACHE_SIZE_KIB = 16 * 1024


class _Checkpointer:
    """Copies the WAL into the database file in a background thread.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 pages
    and waits for the disk (fsync) while holding the write lock: on a busy disk
    that stalled every chat message for hundreds of milliseconds. Here commits
    only append to the WAL (`synchronous=NORMAL`) and a PASSIVE checkpoint on
    a connection of its own — which never blocks writers or readers — runs about
    once a second after something was written. Started at the first commit; stops
    when the engine is disposed or dropped."""

    def __init__(self, database: str, engine: Engine) -> None:
        self.database = database
        self.written = threading.Event()
        self.stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        weakref.finalize(engine, self.stop)

    def note_write(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None and not self.stopped.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name="sqlite-checkpoint", daemon=True
                    )
                    self._thread.start()
        self.written.set()

    def stop(self) -> None:
        self.stopped.set()
        self.written.set()

    def _run(self) -> None:
        import sqlite3

        connection = sqlite3.connect(self.database, timeout=30, check_same_thread=False)
        try:
            while not self.stopped.is_set():
                self.written.wait()
                if self.stopped.is_set():
                    break
                self.written.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    log.warning("SQLite checkpoint failed; retrying later", exc_info=True)
                self.stopped.wait(CHECKPOINT_INTERVAL_SECONDS)
            with contextlib.suppress(sqlite3.Error):
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            connection.close()


def _sqlite_writer_lock(engine: Engine, checkpointer: _Checkpointer | None) -> None:
    """Serialise this engine's writing transactions on one lock (see module doc)."""
    writer_lock = threading.Lock()

    def release(record_info: dict[Any, Any]) -> None:
        if record_info.pop(_HOLDS_WRITER, False):
            writer_lock.release()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        if not writer_lock.acquire(timeout=WRITER_LOCK_TIMEOUT_SECONDS):
            raise OperationalError(
                "BEGIN IMMEDIATE", {}, TimeoutError("database writer lock not free")
            )
        conn.info[_HOLDS_WRITER] = True
        try:
            # Another process may still hold SQLite's lock: its busy handler waits.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(conn.info)
            raise

    @event.listens_for(engine, "commit")
    def _sqlite_commit(conn: Any) -> None:
        if not conn.info.get(_HOLDS_WRITER):
            return
        # Commit here, so the lock is released only after SQLite's COMMIT; the
        # driver's own commit that follows finds no open transaction. A failed
        # COMMIT keeps the lock until the rollback that follows it.
        conn.connection.dbapi_connection.commit()
        release(conn.info)
        if checkpointer is not None:
            checkpointer.note_write()

    @event.listens_for(engine, "rollback")
    def _sqlite_rollback(conn: Any) -> None:
        if not conn.info.get(_HOLDS_WRITER):
            return
        try:
            conn.connection.dbapi_connection.rollback()
        finally:
            release(conn.info)

    @event.listens_for(engine, "checkin")
    def _sqlite_checkin(dbapi_connection: Any, record: Any) -> None:
        # A connection that comes back still holding the lock (its transaction was
        # abandoned, not ended) must not keep every writer waiting.
        if record is not None and record.info.get(_HOLDS_WRITER):
            try:
                dbapi_connection.rollback()
            finally:
                release(record.info)

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_writes(
        conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if context is not None and context.isddl:
            return
        if (
            context is not None
            and (context.isinsert or context.isupdate or context.isdelete)
            and conn.get_execution_options().get(READ_ONLY)
        ):
            raise ReadOnlyViolation(f"write in a read-only session: {statement[:80]}")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings each database needs to be safe.

    SQLite: foreign keys on, WAL so readers never block the writer, writers
    serialised in process (see the module doc), a busy timeout for writers in
    other processes, and WAL checkpoints in a background thread (`_Checkpointer`).
    `synchronous=NORMAL` in WAL mode: a committed message survives a crash of the
    process (it is in the WAL file); only a power cut or an OS crash may lose the
    last commits before the next checkpoint, and never corrupts the database.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        on_disk = bool(parsed.database) and parsed.database != ":memory:"
        checkpointer = _Checkpointer(str(parsed.database), engine) if on_disk else None
        if checkpointer is not None:
            event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Python's sqlite3 opens transactions lazily; take control so the
            # `begin` listener decides between BEGIN and BEGIN IMMEDIATE.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Pages of the database file are read through a memory map (no read()
            # call each), and each connection keeps more of them: under load a chat
            # message's statements otherwise spent a fifth of their time in the kernel.
            cursor.execute(f"PRAGMA mmap_size={MMAP_SIZE_BYTES}")
            cursor.execute(f"PRAGMA cache_size=-{CACHE_SIZE_KIB}")
            if checkpointer is not None:
                cursor.execute("PRAGMA wal_autocheckpoint=0")  # see _Checkpointer
                cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
            cursor.close()

        _sqlite_writer_lock(engine, checkpointer)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that only read: on SQLite they take no writer lock and never wait
    for a writer (a write through them raises `ReadOnlyViolation`)."""
    return sessionmaker(bind=engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"
