"""Live demo traffic: simulated visitors chat with a real server through the widget protocol."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.adapters.db.models import Conversation, Message
from helpline.settings import Settings
from helpline.simulation.traffic import TrafficDriver, TrafficStats
from helpline.web.app import create_app
from tests.factories import make_inbox, make_user
from tests.simulation.support import model_from_toml
from tests.support import DEFAULT_PASSWORD

SECRET = "traffic-test-secret-key-0123456789-abcdefghijkl"
SPEED = 60.0
"""A simulated minute per real second."""


def listening_socket() -> socket.socket:
    """A socket bound to a free port, handed to uvicorn (no port race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Server:
    url: str
    engine: Engine

    def session(self) -> Session:
        return make_session_factory(self.engine)()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The real app under uvicorn in a thread, on its own migrated SQLite file."""
    sock = listening_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key=SECRET,
        migrate_on_start=False,
        run_worker_in_server=False,
        base_url=url,
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'traffic.sqlite3'}")
    upgrade_to_head(engine)
    app = create_app(settings, engine=engine, start_worker=False)
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.02)
    try:
        yield Server(url=url, engine=engine)
    finally:
        uv.should_exit = True
        thread.join(timeout=15)
        sock.close()
        engine.dispose()


def steady_scenario(patience_minutes: float) -> str:
    """One chat a minute around the clock, fixed patience, billing questions."""
    return f"""
        name = "steady trickle"
        [simulation]
        hours = 2
        seed = 3
        [[agents]]
        group = "pool"
        count = 2
        [[topics]]
        name = "double charge"
        share = 1
        category = "billing"
        handling_minutes = {{ dist = "fixed", mean = 5 }}
        texts = [{{ text = "I was charged twice for my order.", share = 1 }}]
        [customers]
        first_time_share = 0.5
        languages = {{ en = 0.7, pl = 0.3 }}
        patience_minutes = {{ dist = "fixed", mean = {patience_minutes} }}
        [arrivals]
        chats_per_day = 1440
        """


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not come true in time")
        time.sleep(0.05)


def contact_conversations(server: Server) -> list[int]:
    """Conversations whose opening message the visitor wrote."""
    with server.session() as db:
        query = (
            select(Conversation.id)
            .join(Message, Message.conversation_id == Conversation.id)
            .where(Message.author_type == "contact")
            .distinct()
            .order_by(Conversation.id)
        )
        return list(db.scalars(query))


def test_visitors_chat_are_answered_or_leave_and_the_driver_stops(server: Server) -> None:
    with server.session() as db:
        inbox = make_inbox(db, "Website chat")
        make_user(db, "lead@shop.example", role="admin", inboxes=[inbox])
        inbox_key = inbox.public_key
        db.commit()
    lines: list[str] = []
    driver = TrafficDriver(
        server.url,
        inbox_key,
        model_from_toml(steady_scenario(patience_minutes=3)),
        speed=SPEED,
        max_visitors=3,
        report_every=0.5,
        echo=lines.append,
    )
    stats: TrafficStats = driver.stats
    driver.start()
    try:
        wait_until(lambda: len(contact_conversations(server)) >= 1)
        first = contact_conversations(server)[0]

        with httpx.Client(base_url=server.url, headers={"Origin": server.url}) as agent:
            login = agent.post(
                "/api/v1/auth/login",
                json={"email": "lead@shop.example", "password": DEFAULT_PASSWORD},
            )
            assert login.status_code == 200, login.text
            agent.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            reply = agent.post(
                f"/api/v1/conversations/{first}/messages",
                json={"body": "Hello! Let me look at your charges.", "kind": "reply"},
            )
            assert reply.status_code == 201, reply.text

        wait_until(lambda: stats.answered >= 1)
        wait_until(lambda: stats.abandoned >= 1)
    finally:
        stopped_at = time.monotonic()
        driver.stop(timeout=5)
    assert not driver.running
    assert time.monotonic() - stopped_at < 3

    assert stats.errors == 0
    assert stats.started >= 2
    assert stats.messages > stats.started  # visitors wrote again after waiting
    with server.session() as db:
        bodies = list(db.scalars(select(Message.body).where(Message.author_type == "contact")))
    assert any("charged twice" in body or "dwa razy" in body for body in bodies)
    assert any("bye" in body or "do widzenia" in body for body in bodies)  # who gave up said so
    assert any(line.startswith("traffic:") for line in lines)
