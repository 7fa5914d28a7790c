"""Widget rate limits with Redis: two server processes (two apps on one database and
one Redis) count a visitor's requests once in total, over HTTP and WebSocket alike;
with Redis unreachable, requests still succeed and each process's own limit holds."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox, Message
from helpline.services.errors import RateLimited
from helpline.services.lookups import LookupLimits
from helpline.services.visitors import Visitor, VisitorLimits
from helpline.settings import Settings
from helpline.web.api import articles as articles_api
from helpline.web.api import auth as auth_api
from helpline.web.app import create_app
from tests.services import require_redis
from tests.support import FrozenClock
from tests.test_redis_ratelimit import closed_port_url
from tests.widget_api.support import (
    client_id,
    headers,
    make_chat_inbox,
    open_session,
    receive,
    receive_until,
    send,
    start_conversation,
    visitor_socket,
    widget_url,
)

RATE_LIMIT_LOGGER = "helpline.adapters.redis_ratelimit"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "widget_messages_per_visitor_per_minute": 3,
            "widget_messages_per_ip_per_minute": 100,
            "widget_conversations_per_visitor_per_hour": 10,
            "widget_conversations_per_ip_per_hour": 10,
            "widget_sessions_per_ip_per_hour": 2,
            "lookup_per_visitor_per_minute": 2,
        }
    )


@pytest.fixture
def shared_settings(settings: Settings) -> Settings:
    """Redis for both "processes"; a channel of the test's own keeps its events and
    its rate-limit keys (`<channel>:ratelimit:...`) apart from every other test's."""
    return settings.model_copy(
        update={
            "redis_url": require_redis(),
            "redis_channel": f"helpline-test:{uuid.uuid4().hex}",
        }
    )


def _client(settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine, clock=clock, start_worker=False)
    with TestClient(app) as client:  # the app closes its Redis pool when it stops
        yield client


@pytest.fixture
def first(shared_settings: Settings, db_engine: Engine, clock: FrozenClock) -> Iterator[TestClient]:
    yield from _client(shared_settings, db_engine, clock)


@pytest.fixture
def second(
    shared_settings: Settings, db_engine: Engine, clock: FrozenClock, first: TestClient
) -> Iterator[TestClient]:
    yield from _client(shared_settings, db_engine, clock)


# ---------------------------------------------------------------- two processes


def _visitor_chat(client: TestClient, db: Session) -> tuple[Inbox, str, int]:
    """A chat inbox, a visitor's session on it and their conversation."""
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    return inbox, token, int(start_conversation(client, inbox, token)["id"])


@pytest.mark.redis
def test_a_visitors_messages_are_counted_once_across_two_processes(
    first: TestClient, second: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox, token, chat = _visitor_chat(first, db)

    assert send(first, inbox, token, chat, "one").status_code == 201
    clock.advance(seconds=10)
    assert send(second, inbox, token, chat, "two").status_code == 201
    clock.advance(seconds=10)
    assert send(first, inbox, token, chat, "three").status_code == 201
    clock.advance(seconds=10)

    for client in (second, first):
        limited = send(client, inbox, token, chat, "one too many")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "30"  # "one" leaves the window at 60 s
        assert limited.json()["error"]["code"] == "rate_limited"

    clock.advance(seconds=30)
    assert send(second, inbox, token, chat, "later").status_code == 201
    db.expire_all()
    stored = db.scalar(select(func.count(Message.id)).where(Message.conversation_id == chat))
    assert stored == 1 + 3 + 1


@pytest.mark.redis
def test_the_websocket_error_frame_counts_messages_sent_to_the_other_process(
    first: TestClient, second: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox, token, chat = _visitor_chat(first, db)
    for number in range(3):
        assert send(first, inbox, token, chat, f"http {number}").status_code == 201
        clock.advance(seconds=5)
    clock.advance(seconds=10)  # 25 s after the first message

    with visitor_socket(second, inbox, token) as ws:
        assert receive(ws)["type"] == "hello"
        ws.send_json(
            {"type": "message", "conversation_id": chat, "body": "ws", "client_message_id": "w1"}
        )
        refused = receive(ws)
        assert refused["type"] == "error" and refused["code"] == "rate_limited"
        assert refused["details"]["retry_after_seconds"] == 35
        assert refused["client_message_id"] == "w1"

        clock.advance(seconds=35)
        ws.send_json(
            {"type": "message", "conversation_id": chat, "body": "ws", "client_message_id": "w2"}
        )
        acked = receive_until(ws, "ack")[-1]
        assert acked["client_message_id"] == "w2" and not acked["duplicate"]


@pytest.mark.redis
def test_sessions_and_new_conversations_are_counted_across_processes(
    first: TestClient, second: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    open_session(first, inbox)
    token = open_session(second, inbox)

    third = first.post(widget_url(inbox, "sessions"), json={"name": "Ola"}, headers=headers())

    assert third.status_code == 429
    assert third.headers["Retry-After"] == "3600"  # the frozen clock has not moved
    for client in [first, second] * 5:
        start_conversation(client, inbox, token)
    eleventh = second.post(
        widget_url(inbox, "conversations"),
        json={"message": "again", "client_message_id": client_id()},
        headers=headers(token),
    )
    assert eleventh.status_code == 429


@pytest.mark.redis
def test_sign_in_attempts_from_one_address_are_counted_across_processes(
    first: TestClient, second: TestClient
) -> None:
    def wrong(n: int) -> dict[str, str]:  # a new address each time: no account lockout
        return {"email": f"nobody{n}@example.com", "password": "not the password"}

    clients = [first, second] * (auth_api.PUBLIC_REQUESTS_PER_WINDOW // 2)
    for n, client in enumerate(clients):
        assert client.post("/api/v1/auth/login", json=wrong(n)).status_code == 401
    refused = first.post("/api/v1/auth/login", json=wrong(len(clients)))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"  # the frozen clock has not moved


@pytest.mark.redis
def test_help_center_requests_from_one_address_are_counted_across_processes(
    first: TestClient, second: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(articles_api, "PUBLIC_REQUESTS_PER_WINDOW", 4)
    inbox = make_chat_inbox(db)
    db.commit()
    search = widget_url(inbox, "articles/search?q=refund")
    for client in [first, second] * 2:
        assert client.get(search, headers=headers()).status_code == 200
    refused = second.get(search, headers=headers())
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.mark.redis
def test_the_limits_of_two_processes_share_one_window_in_the_service(
    shared_settings: Settings, clock: FrozenClock
) -> None:
    here, there = VisitorLimits(shared_settings), LookupLimits(shared_settings)
    elsewhere, lookups_elsewhere = VisitorLimits(shared_settings), LookupLimits(shared_settings)
    visitor = Visitor(inbox_id=1, contact_id=2, verified=True, issued_at=clock())
    now = clock()

    here.message(visitor, "10.0.0.1", now=now)
    elsewhere.message(visitor, "10.0.0.2", now=now + timedelta(seconds=1))
    here.message(visitor, "10.0.0.3", now=now + timedelta(seconds=2))
    with pytest.raises(RateLimited) as refused:
        elsewhere.message(visitor, "10.0.0.4", now=now + timedelta(seconds=20))
    assert refused.value.retry_after_seconds == 40

    there.hit(visitor, "10.0.0.1", now=now)
    lookups_elsewhere.hit(visitor, "10.0.0.2", now=now)
    with pytest.raises(RateLimited):
        there.hit(visitor, "10.0.0.3", now=now)

    for limits in (here, there, elsewhere, lookups_elsewhere):
        assert limits.shared is not None
        limits.shared.close()


@pytest.mark.redis
async def test_the_websocket_check_runs_redis_off_the_event_loop(
    shared_settings: Settings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = VisitorLimits(shared_settings)
    assert limits.shared is not None
    loop_thread = threading.get_ident()
    threads: list[int] = []
    real_run_hit = limits.shared.run_hit

    def recording_run_hit(key: str, args: list[str | int]) -> bytes | None:
        threads.append(threading.get_ident())
        return real_run_hit(key, args)

    monkeypatch.setattr(limits.shared, "run_hit", recording_run_hit)
    visitor = Visitor(inbox_id=1, contact_id=2, verified=True, issued_at=clock())

    await asyncio.gather(
        *(limits.message_async(visitor, "10.0.0.1", now=clock()) for _ in range(3))
    )
    with pytest.raises(RateLimited):
        await limits.message_async(visitor, "10.0.0.1", now=clock())

    assert len(threads) == 3 * 2 + 1  # visitor and address windows; the fourth stops early
    assert loop_thread not in threads
    limits.shared.close()


# ---------------------------------------------------------------- Redis unreachable


def test_with_redis_unreachable_requests_succeed_and_each_process_limits(
    app: FastAPI,
    client: TestClient,
    settings: Settings,
    db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The app's own Redis event bus would refuse to start; only the limits point at
    # the dead Redis (`app.state.widget_limits` is the documented way to swap them).
    limits = VisitorLimits(settings.model_copy(update={"redis_url": closed_port_url()}))
    assert limits.shared is not None
    app.state.widget_limits = limits
    inbox = make_chat_inbox(db)
    db.commit()

    with caplog.at_level(logging.WARNING, logger=RATE_LIMIT_LOGGER):
        token = open_session(client, inbox)
        chat = start_conversation(client, inbox, token)["id"]
        for number in range(3):
            assert send(client, inbox, token, chat, f"m{number}").status_code == 201
        limited = send(client, inbox, token, chat, "one too many")
        with visitor_socket(client, inbox, token) as ws:
            receive(ws)
            ws.send_json(
                {"type": "message", "conversation_id": chat, "body": "ws", "client_message_id": "w"}
            )
            refused = receive(ws)

    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
    assert refused["code"] == "rate_limited"
    warnings = [record for record in caplog.records if record.name == RATE_LIMIT_LOGGER]
    assert len(warnings) == 1  # not one per request
    limits.shared.close()
