"""Two real `helpline serve` processes on PostgreSQL + Redis: a visitor connected to
one and an agent connected to the other talk normally — 100 messages each way,
none lost, none duplicated, the same order on both sides."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.models import ApiToken, Inbox, User
from helpline.adapters.passwords import hash_password
from helpline.services.tokens import hash_token
from tests.services import PG_ADMIN_URL, REDIS_URL, missing, postgres_reachable, require_redis

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

MESSAGES_EACH_WAY = 100
ORIGIN = "https://shop.example"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _admin(statement: str) -> None:
    import psycopg

    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture
def database_url() -> Iterator[str]:
    if not postgres_reachable():
        missing("PostgreSQL", f"start it or set HELPLINE_TEST_PG_URL; tried {PG_ADMIN_URL}")
    require_redis()
    name = f"helpline_two_processes_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log = log
        helpline = Path(sys.executable).parent / "helpline"
        self._output = log.open("wb")
        self.process = subprocess.Popen(
            [str(helpline), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited:\n{self.log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"server did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._output.close()


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    env = {
        **os.environ,
        "HELPLINE_ENVIRONMENT": "development",
        "HELPLINE_DATABASE_URL": database_url,
        "HELPLINE_REDIS_URL": REDIS_URL,
        "HELPLINE_REDIS_CHANNEL": f"helpline-test:{uuid.uuid4().hex}",
        "HELPLINE_SECRET_KEY": secrets.token_urlsafe(48),
        "HELPLINE_DATA_DIR": str(tmp_path / "data"),
        "HELPLINE_RUN_WORKER_IN_SERVER": "false",
        "HELPLINE_WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE": "100000",
        "HELPLINE_WIDGET_MESSAGES_PER_IP_PER_MINUTE": "100000",
    }
    first = Server(env, tmp_path / "first.log")
    started = [first]
    try:
        first.wait_ready()  # the first one applies the migrations
        second = Server({**env, "HELPLINE_MIGRATE_ON_START": "false"}, tmp_path / "second.log")
        started.append(second)
        second.wait_ready()
        yield first, second
    finally:
        for server in started:
            server.stop()


def _arrange(database_url: str) -> tuple[str, str]:
    """A chat inbox and an admin with an API token; returns (public key, token)."""
    engine = make_engine(database_url)
    raw_token = "hlp_" + secrets.token_urlsafe(32)
    with make_session_factory(engine)() as db:
        inbox = Inbox(
            name="Shop chat",
            channel="chat",
            public_key=secrets.token_hex(8),
            secret=secrets.token_hex(32),
            settings={"allowed_domains": ["shop.example"]},
        )
        admin = User(
            email="anna@helpline.example",
            name="Anna",
            password_hash=hash_password("correct horse battery staple"),
            role="admin",
        )
        db.add_all([inbox, admin])
        db.flush()
        db.add(
            ApiToken(
                user_id=admin.id,
                name="test",
                token_hash=hash_token(raw_token),
                prefix=raw_token[:8],
            )
        )
        db.commit()
        public_key = inbox.public_key
    engine.dispose()
    return public_key, raw_token


async def _next(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
    return frame


async def _collect(ws: ClientConnection, wanted: int, seen: list[tuple[int, str]]) -> None:
    """Message events until `wanted` of them arrived; other frames are skipped."""
    while len(seen) < wanted:
        frame = await _next(ws)
        if frame["type"] == "event" and frame["event"]["type"] == "message.created":
            seen.append((frame["seq"], frame["event"]["message"]["body"]))


async def _talk(first: Server, second: Server, public_key: str, agent_token: str) -> None:
    widget = f"{first.url}/api/v1/widget/{public_key}"
    async with httpx.AsyncClient(headers={"Origin": ORIGIN}) as http:
        session = (await http.post(f"{widget}/sessions", json={"name": "Mia"})).json()
        token = session["visitor_token"]
        created = await http.post(
            f"{widget}/conversations",
            json={"message": "hello", "client_message_id": "start"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.text
        conversation = created.json()
    cid = conversation["id"]
    visitor_uri = f"ws://127.0.0.1:{first.port}/api/v1/widget/{public_key}/ws?token={token}"
    agent_uri = f"ws://127.0.0.1:{second.port}/api/v1/ws"
    async with (
        connect(visitor_uri, origin=ORIGIN) as visitor,  # type: ignore[arg-type]
        connect(agent_uri, additional_headers={"Authorization": f"Bearer {agent_token}"}) as agent,
    ):
        assert (await _next(visitor))["type"] == "hello"
        assert (await _next(agent))["type"] == "hello"
        start = conversation["last_seq"]
        for ws in (visitor, agent):
            await ws.send(
                json.dumps({"type": "subscribe", "conversation_id": cid, "after_seq": start})
            )

        async def send_all(ws: ClientConnection, prefix: str) -> None:
            for number in range(MESSAGES_EACH_WAY):
                frame = {
                    "type": "message",
                    "conversation_id": cid,
                    "body": f"{prefix} {number}",
                    "client_message_id": f"{prefix}-{number}",
                }
                await ws.send(json.dumps(frame))

        visitor_seen: list[tuple[int, str]] = []
        agent_seen: list[tuple[int, str]] = []
        total = 2 * MESSAGES_EACH_WAY
        await asyncio.gather(
            send_all(visitor, "visitor"),
            send_all(agent, "agent"),
            _collect(visitor, total, visitor_seen),
            _collect(agent, total, agent_seen),
        )
        # A last round trip: nothing more (no duplicates) was on its way.
        for ws, seen in ((visitor, visitor_seen), (agent, agent_seen)):
            await ws.send(json.dumps({"type": "ping"}))
            while (frame := await _next(ws))["type"] != "pong":
                if frame["type"] == "event" and frame["event"]["type"] == "message.created":
                    seen.append((frame["seq"], frame["event"]["message"]["body"]))

    assert visitor_seen == agent_seen, "both sides see the same messages in the same order"
    seqs = [seq for seq, _ in visitor_seen]
    assert seqs == sorted(set(seqs)), "in sequence order, none twice"
    bodies = [body for _, body in visitor_seen]
    for prefix in ("visitor", "agent"):
        mine = [body for body in bodies if body.startswith(prefix)]
        assert mine == [f"{prefix} {number}" for number in range(MESSAGES_EACH_WAY)]


def test_a_visitor_and_an_agent_on_different_processes_talk(
    servers: tuple[Server, Server], database_url: str
) -> None:
    first, second = servers
    public_key, agent_token = _arrange(database_url)
    asyncio.run(_talk(first, second, public_key, agent_token))
