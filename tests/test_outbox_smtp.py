"""Outbox delivery against a real SMTP server (aiosmtpd on 127.0.0.1).

What a customer lives through: a reply by email arrives exactly once, even when
the worker dies or restarts in between; when the mail server is down it arrives
once the server is back; a message that cannot be delivered is given up on.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from helpline.adapters.db.engine import make_session_factory
from helpline.adapters.db.models import OutboxItem
from helpline.adapters.mailer import SmtpMailer, build_message
from helpline.services.outbox import do_claim_due, enqueue_email, lock_due_items, retry_delay
from helpline.settings import Settings
from helpline.worker import run_jobs_once
from tests.support import FrozenClock

pytestmark = pytest.mark.smtp


T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run the worker's coroutine on a fresh event loop in its own thread, so the
    test works whatever loop another fixture (e.g. Playwright's) keeps in this one."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


class RecordingHandler:
    """An SMTP server's DATA handler that keeps what it received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on a fixed local port that a test can stop and start."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = RecordingHandler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def start(self) -> None:
        assert self._controller is None
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Not started: each test decides when the mail server is up."""
    server = SmtpServer(_free_port())
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.model_copy(
        update={
            "mail_backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_timeout_seconds": 5.0,
            "mail_from": "Acme Support <support@acme.test>",
            "outbox_max_attempts": 4,
        }
    )


@pytest.fixture
def session_factory(db_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)


def _enqueue_reply(db: Session, clock: FrozenClock, to: str = "customer@example.test") -> int:
    item = enqueue_email(
        db,
        to=to,
        subject="Re: My order #1042 has not arrived",
        text="Hi Sam,\n\nyour parcel left our warehouse this morning.\n",
        html="<p>Hi Sam,</p><p>your parcel left our warehouse this morning.</p>",
        reply_to="support+c17@acme.test",
        headers={"X-Helpline-Conversation": "17"},
        now=clock(),
    )
    db.commit()
    return item.id


def _item(db: Session, item_id: int) -> OutboxItem:
    db.expire_all()
    item = db.scalar(select(OutboxItem).where(OutboxItem.id == item_id))
    assert item is not None
    # End the read transaction: on SQLite it holds the write lock the worker needs.
    db.commit()
    return item


def test_reply_email_is_delivered_once_with_a_stable_message_id(
    db: Session,
    clock: FrozenClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    smtp_server.start()
    item_id = _enqueue_reply(db, clock)
    mailer = SmtpMailer(smtp_settings)

    counts = _run(run_jobs_once(session_factory, smtp_settings, mailer, clock()))
    again = _run(run_jobs_once(session_factory, smtp_settings, mailer, clock.advance(minutes=5)))

    assert counts["emails_sent"] == 1
    assert again["emails_sent"] == 0
    [received] = smtp_server.messages
    assert received["To"] == "customer@example.test"
    assert received["From"] == "Acme Support <support@acme.test>"
    assert received["Subject"] == "Re: My order #1042 has not arrived"
    assert received["Reply-To"] == "support+c17@acme.test"
    assert received["X-Helpline-Conversation"] == "17"
    assert received["Message-ID"] == f"<outbox-{item_id}@acme.test>"
    text = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert text is not None and "parcel left our warehouse" in text.get_content()
    assert html is not None and "<p>Hi Sam,</p>" in html.get_content()
    assert smtp_server.handler.envelopes == [("support@acme.test", ["customer@example.test"])]
    item = _item(db, item_id)
    assert item.status == "sent"
    assert item.sent_at == clock() - timedelta(minutes=5)
    assert item.locked_until is None


def test_worker_that_died_after_claiming_is_replaced_after_the_lease(
    db: Session,
    clock: FrozenClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    smtp_server.start()
    item_id = _enqueue_reply(db, clock)
    # The first worker claims the email, then dies before sending it.
    [claimed] = do_claim_due(db, now=clock(), lease=timedelta(minutes=2))
    assert claimed.id == item_id

    restarted = SmtpMailer(smtp_settings)
    during_lease = _run(
        run_jobs_once(session_factory, smtp_settings, restarted, clock.advance(minutes=1))
    )
    after_lease = _run(
        run_jobs_once(session_factory, smtp_settings, restarted, clock.advance(minutes=2))
    )
    later = _run(run_jobs_once(session_factory, smtp_settings, restarted, clock.advance(hours=1)))

    assert during_lease["emails_sent"] == 0
    assert after_lease["emails_sent"] == 1
    assert later["emails_sent"] == 0
    assert len(smtp_server.messages) == 1
    assert _item(db, item_id).status == "sent"


def test_restarted_worker_sends_nothing_already_sent(
    db: Session,
    clock: FrozenClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    smtp_server.start()
    first_id = _enqueue_reply(db, clock, to="first@example.test")
    _run(run_jobs_once(session_factory, smtp_settings, SmtpMailer(smtp_settings), clock()))

    # A new worker process (fresh mailer and sessions) starts; a new email is queued.
    second_id = _enqueue_reply(db, clock, to="second@example.test")
    fresh_factory = make_session_factory(db.get_bind())  # type: ignore[arg-type]
    counts = _run(
        run_jobs_once(
            fresh_factory, smtp_settings, SmtpMailer(smtp_settings), clock.advance(minutes=10)
        )
    )

    assert counts["emails_sent"] == 1
    assert [m["To"] for m in smtp_server.messages] == ["first@example.test", "second@example.test"]
    assert _item(db, first_id).status == "sent"
    assert _item(db, second_id).status == "sent"


def test_mail_server_down_is_retried_with_backoff_then_delivered(
    db: Session,
    clock: FrozenClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    item_id = _enqueue_reply(db, clock)
    mailer = SmtpMailer(smtp_settings)

    first = _run(run_jobs_once(session_factory, smtp_settings, mailer, clock()))
    assert first["emails_failed"] == 1
    item = _item(db, item_id)
    assert item.status == "pending"
    assert item.attempts == 1
    assert item.last_error
    assert item.next_attempt_at == clock() + retry_delay(1)

    # Not due yet: the worker leaves it alone, even though it runs again.
    smtp_server.start()
    too_early = _run(run_jobs_once(session_factory, smtp_settings, mailer, clock()))
    assert too_early["emails_sent"] == too_early["emails_failed"] == 0
    assert smtp_server.messages == []

    smtp_server.stop()
    second = _run(run_jobs_once(session_factory, smtp_settings, mailer, item.next_attempt_at))
    assert second["emails_failed"] == 1
    item = _item(db, item_id)
    assert item.attempts == 2
    assert item.next_attempt_at - clock() > retry_delay(1)  # the wait grows

    smtp_server.start()
    third = _run(run_jobs_once(session_factory, smtp_settings, mailer, item.next_attempt_at))
    assert third["emails_sent"] == 1
    assert len(smtp_server.messages) == 1
    item = _item(db, item_id)
    assert item.status == "sent"
    assert item.last_error is None


def test_undeliverable_email_is_given_up_after_max_attempts(
    db: Session,
    clock: FrozenClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    item_id = _enqueue_reply(db, clock)
    mailer = SmtpMailer(smtp_settings)
    outcomes = []
    for _ in range(smtp_settings.outbox_max_attempts):
        counts = _run(run_jobs_once(session_factory, smtp_settings, mailer, clock.advance(hours=2)))
        outcomes.append((counts["emails_failed"], counts["emails_dead"]))

    assert outcomes == [(1, 0), (1, 0), (1, 0), (0, 1)]
    item = _item(db, item_id)
    assert item.status == "dead"
    assert item.attempts == smtp_settings.outbox_max_attempts

    smtp_server.start()
    after = _run(run_jobs_once(session_factory, smtp_settings, mailer, clock.advance(days=1)))
    assert after["emails_sent"] == 0
    assert smtp_server.messages == []


def test_end_to_end_agent_reply_on_email_conversation_reaches_the_customer(
    db: Session,
    clock: FrozenClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    conversations = pytest.importorskip("helpline.services.conversations")
    from helpline.services.viewer import load_viewer
    from tests.factories import make_contact, make_conversation, make_inbox, make_user

    smtp_server.start()
    inbox = make_inbox(db, channel="email", email_address="support@acme.test")
    agent = make_user(db, inboxes=[inbox], name="Dana")
    contact = make_contact(db, email="sam@example.test", name="Sam")
    conversation = make_conversation(
        db, inbox, contact, assignee_id=agent.id, subject="Parcel missing"
    )
    db.commit()

    conversations.do_add_reply(
        db,
        load_viewer(db, agent),
        conversation.id,
        body="Your parcel is on its way.",
        now=clock(),
    )
    mailer = SmtpMailer(smtp_settings)
    first = _run(run_jobs_once(session_factory, smtp_settings, mailer, clock()))
    second = _run(run_jobs_once(session_factory, smtp_settings, mailer, clock.advance(hours=1)))

    assert (first["emails_sent"], second["emails_sent"]) == (1, 0)
    [received] = smtp_server.messages
    assert received["To"] is not None and "sam@example.test" in received["To"]
    assert received["Message-ID"].startswith("<message-")  # threads by message, stable
    body = received.get_body(preferencelist=("plain",))
    assert body is not None and "Your parcel is on its way." in body.get_content()


def test_build_message_drops_headers_that_would_forge_the_sender(settings: Settings) -> None:
    message = build_message(
        7,
        {
            "to": "sam@example.test",
            "subject": "Hello",
            "text": "Hi",
            "headers": {"From": "ceo@acme.test", "X-Ok": "yes", "X-Bad": "a\r\nBcc: x@y.test"},
        },
        settings,
    )

    assert message["From"] == settings.mail_from
    assert message["X-Ok"] == "yes"
    assert message["X-Bad"] is None
    assert message["Bcc"] is None
    assert message["Message-ID"] == "<outbox-7@helpline.localhost>"


def test_concurrent_workers_never_claim_the_same_email(
    db: Session, db_engine: Engine, clock: FrozenClock, session_factory: sessionmaker[Session]
) -> None:
    ids = [_enqueue_reply(db, clock, to=f"customer{n}@example.test") for n in range(4)]
    lease = timedelta(minutes=2)

    if db_engine.dialect.name == "postgresql":
        # Worker A is in the middle of its claim, holding row locks on two items;
        # worker B skips those rows instead of waiting for them or taking them.
        with session_factory() as worker_a:
            in_progress = lock_due_items(worker_a, kinds=("email",), now=clock(), limit=2)
            taken_by_a = [item.id for item in in_progress]
            with session_factory() as worker_b:
                taken_by_b = do_claim_due(worker_b, now=clock(), lease=lease, limit=4)
            worker_a.rollback()
    else:
        # SQLite has one writer at a time: B's claim starts after A's committed.
        with session_factory() as worker_a:
            taken_by_a = [
                item.id for item in do_claim_due(worker_a, now=clock(), lease=lease, limit=2)
            ]
        with session_factory() as worker_b:
            taken_by_b = do_claim_due(worker_b, now=clock(), lease=lease, limit=4)

    assert len(taken_by_a) == 2
    assert sorted(taken_by_a + [item.id for item in taken_by_b]) == sorted(ids)
