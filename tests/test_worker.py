"""The background worker: one round runs every job; the loop inside the server
keeps going when a job fails; the separate `helpline worker` process stops cleanly
on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.adapters.db.models import Conversation, OutboxItem
from helpline.adapters.mailer import ConsoleMailer
from helpline.services.outbox import enqueue_email
from helpline.settings import Settings
from helpline.web.app import create_app
from helpline.worker import run_jobs_once
from tests.factories import make_conversation, make_inbox
from tests.support import FrozenClock

WAIT_SECONDS = 20.0


T = TypeVar("T")


def lines_into(lines: queue.Queue[str], stream: Any) -> None:
    """Feed a subprocess's output into a queue (a reader thread's body)."""
    for line in stream or []:
        lines.put(line)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run the worker's coroutine on a fresh event loop in its own thread, so the
    test works whatever loop another fixture (e.g. Playwright's) keeps in this one."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll for something the worker does in the background (no timing asserted)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for: {what}")
        time.sleep(0.02)


def _status(db: Session, conversation_id: int) -> str:
    db.expire_all()
    status = db.scalar(select(Conversation.status).where(Conversation.id == conversation_id))
    db.commit()  # end the read: on SQLite it would hold the write lock
    assert status is not None
    return status


def _welcome_email(db: Session, clock: FrozenClock) -> OutboxItem:
    item = enqueue_email(
        db, to="sam@example.test", subject="Welcome to Acme", text="Hello Sam", now=clock()
    )
    db.commit()
    return item


def test_one_round_runs_every_job_and_counts_what_it_did(
    db: Session, db_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    inbox = make_inbox(db)
    snoozed = make_conversation(
        db, inbox, status="pending", snoozed_until=clock() + timedelta(hours=1)
    )
    solved = make_conversation(db, inbox, status="solved", solved_at=clock())
    _welcome_email(db, clock)
    mailer = ConsoleMailer()

    counts = _run(
        run_jobs_once(make_session_factory(db_engine), settings, mailer, clock.advance(days=8))
    )

    assert counts == {
        "snoozed_woken": 1,
        "auto_closed": 1,
        "reoffered": 0,
        "sla_checked": 0,
        "routed": 0,
        "deflections_settled": 0,
        "ai_labels_learnt": 0,
        "break_reminders": 0,
        "emails_sent": 1,
        "emails_failed": 0,
        "emails_dead": 0,
        "errors": 0,
    }
    assert _status(db, snoozed.id) == "open"
    assert _status(db, solved.id) == "closed"
    [sent] = mailer.sent
    assert sent["Subject"] == "Welcome to Acme"


def test_a_failing_job_does_not_stop_the_others(
    db: Session,
    db_engine: Engine,
    clock: FrozenClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("helpline.worker.wake_snoozed", broken)
    _welcome_email(db, clock)
    mailer = ConsoleMailer()

    counts = _run(run_jobs_once(make_session_factory(db_engine), settings, mailer, clock()))

    assert counts["errors"] == 1
    assert counts["emails_sent"] == 1
    assert len(mailer.sent) == 1


class FlakyMailer(ConsoleMailer):
    """Refuses the first message, like a mail server that is briefly down."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    async def send(self, message: EmailMessage) -> None:
        if self.refused == 0:
            self.refused += 1
            raise ConnectionRefusedError("mail server down")
        await super().send(message)


def test_worker_in_the_server_keeps_running_through_failures(
    db: Session,
    db_engine: Engine,
    clock: FrozenClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("job bug")

    monkeypatch.setattr("helpline.worker.auto_close_solved", broken)
    fast = settings.model_copy(update={"worker_interval_seconds": 0.02})
    app = create_app(fast, engine=db_engine, clock=clock, start_worker=True)
    mailer = FlakyMailer()
    app.state.mailer = mailer
    inbox = make_inbox(db)
    snoozed = make_conversation(
        db, inbox, status="pending", snoozed_until=clock() + timedelta(minutes=30)
    )
    item = _welcome_email(db, clock)

    with TestClient(app):

        def attempted() -> bool:
            db.expire_all()
            attempts = db.scalar(select(OutboxItem.attempts).where(OutboxItem.id == item.id))
            db.commit()
            return attempts == 1

        _wait_until(attempted, "the first delivery attempt")
        assert mailer.sent == []

        clock.advance(hours=1)  # the retry is due and the snooze is over
        _wait_until(lambda: len(mailer.sent) == 1, "the retried delivery")
        _wait_until(lambda: _status(db, snoozed.id) == "open", "the snooze wake-up")

    assert mailer.refused == 1
    assert len(mailer.sent) == 1


def test_worker_process_delivers_and_stops_on_sigterm(tmp_path: Path) -> None:
    database = tmp_path / "worker.sqlite3"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    clock = FrozenClock()
    with make_session_factory(engine)() as db:
        enqueue_email(
            db, to="sam@example.test", subject="Hello from the worker", text="Hi", now=clock()
        )
        db.commit()
    engine.dispose()
    env = {
        **os.environ,
        "HELPLINE_ENVIRONMENT": "development",
        "HELPLINE_DATA_DIR": str(tmp_path / "data"),
        "HELPLINE_DATABASE_URL": url,
        "HELPLINE_MAIL_BACKEND": "console",
        "HELPLINE_WORKER_INTERVAL_SECONDS": "0.05",
    }
    code = (
        "from helpline.settings import Settings\n"
        "from helpline.worker import run_worker_forever\n"
        "run_worker_forever(Settings())\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: lines_into(lines, process.stdout), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not any("Subject: Hello from the worker" in line for line in seen):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("worker did not deliver:\n" + "".join(seen))
            try:
                seen.append(lines.get(timeout=0.1))
            except queue.Empty:
                continue
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
    while not lines.empty():
        seen.append(lines.get())
    assert returncode == 0, "".join(seen)
    assert any("background worker stopped" in line for line in seen)
