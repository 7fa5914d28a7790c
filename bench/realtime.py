"""Live-chat benchmark: N conversations, a visitor and an agent each, over WebSockets.

    python -m bench.realtime [--quick] [--backends sqlite,postgresql,relay]
                             [--sizes 100,1000,5000] [--step-seconds 8] [--json out.json]

For each backend one server process runs pinned to CPU 0 (`helpline serve` on SQLite
or PostgreSQL, or a bare ASGI WebSocket relay under uvicorn with no database as the
reference); this process, pinned to CPU 1, opens 2·N real WebSocket connections on
loopback (a minimal RFC 6455 client on uvloop, so the client is not what limits the
numbers) and sends messages open-loop at rising total rates, alternating visitor and
agent in every conversation. Each step reports the achieved rate, p50/p99 latency
from send until the *other* side receives the message, the server's CPU and memory,
and delivered/sent. The ramp doubles the rate until a step fails (p99 ≥ 100 ms or a
message lost), then bisects twice. Targets are from issue 4.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

P99_LIMIT_MS = 100.0
TARGET_RATE = 1000.0
TARGET_RATIO = 0.2
PG_ADMIN = os.environ.get("HELPLINE_BENCH_PG", "postgresql://127.0.0.1:5432/test")
PG_DATABASE = "helpline_bench_realtime"
SECRET_KEY = "bench-realtime-secret-key-0123456789-abcdefghijklmnop"
CONNECT_CONCURRENCY = 64
STARTUP_TIMEOUT_S = 60.0

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU = 0
CLIENT_CPU = 1


# ---------------------------------------------------------------- relay (reference)


async def relay_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Bare ASGI WebSocket relay, no database: `/relay/{conversation}/{v|a}`; a text
    frame from one side goes to the other side of the same conversation."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"relay"})
        return
    _, _, conversation, side = scope["path"].split("/")
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    room = _ROOMS.setdefault(conversation, {})
    room[side] = send
    other = "a" if side == "v" else "v"
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.receive":
                peer = room.get(other)
                if peer is not None:
                    await peer({"type": "websocket.send", "text": message.get("text")})
            elif message["type"] == "websocket.disconnect":
                return
    finally:
        room.pop(side, None)


_ROOMS: dict[str, dict[str, Any]] = {}


# ---------------------------------------------------------------- a lean WebSocket client


class WsClient(asyncio.Protocol):
    """Just enough RFC 6455 for a load client: handshake, masked text frames out,
    unfragmented frames in, pings answered. Each received text payload goes to
    `on_text(payload)`."""

    def __init__(self, path: str, host: str, headers: dict[str, str]) -> None:
        self.path = path
        self.host = host
        self.headers = headers
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.open: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.on_text: Callable[[bytes], None] = lambda _payload: None
        self.waiting_for: tuple[bytes, asyncio.Future[bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they behave like one.
        self.transport = cast(asyncio.Transport, transport)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {self.host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in self.headers.items()),
        ]
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.open.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b"\r\n", 1)[0]
            del self.buffer[: end + 4]
            if b" 101 " not in status + b" ":
                self.open.set_exception(ConnectionError(status.decode(errors="replace")))
                return
            self.open.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            length = buffer[1] & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length = int.from_bytes(buffer[2:4], "big")
                offset = 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length = int.from_bytes(buffer[2:10], "big")
                offset = 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            if opcode in (1, 2):
                if self.waiting_for is not None and self.waiting_for[0] in payload:
                    self.waiting_for[1].set_result(payload)
                    self.waiting_for = None
                self.on_text(payload)
            elif opcode == 9:
                self._write(0xA, payload)
            elif opcode == 8 and self.transport is not None:
                self.transport.close()

    def _write(self, opcode: int, payload: bytes) -> None:
        # Clients must mask; an all-zero mask key leaves the payload as it is.
        length = len(payload)
        if length < 126:
            header = bytes((0x80 | opcode, 0x80 | length))
        elif length < 65536:
            header = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
        assert self.transport is not None
        self.transport.write(header + b"\0\0\0\0" + payload)

    def send_text(self, payload: bytes) -> None:
        self._write(0x1, payload)

    def expect(self, marker: bytes) -> asyncio.Future[bytes]:
        """The next received frame that contains `marker`."""
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.waiting_for = (marker, future)
        return future

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._write(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.open.done():
            self.open.set_exception(exc or ConnectionError("closed during handshake"))
        if not self.closed.done():
            self.closed.set_result(None)


async def ws_connect(port: int, path: str, headers: dict[str, str]) -> WsClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: WsClient(path, f"127.0.0.1:{port}", headers), "127.0.0.1", port
    )
    await asyncio.wait_for(client.open, 30)
    return client


# ---------------------------------------------------------------- measuring


@dataclass
class Step:
    backend: str
    conversations: int
    target_rate: float
    achieved_rate: float
    sent: int
    delivered: int
    p50_ms: float
    p99_ms: float
    server_cpu_percent: float
    server_rss_mb: float
    client_cpu_percent: float
    """This process (the load client); near 100 % means the client limits the step."""

    @property
    def passed(self) -> bool:
        return self.delivered == self.sent and self.p99_ms < P99_LIMIT_MS

    @property
    def server_ms_per_message(self) -> float:
        """Server CPU time per message sent: the number to steer by on a busy machine."""
        if not self.achieved_rate:
            return float("nan")
        return self.server_cpu_percent / 100 / self.achieved_rate * 1000


@dataclass
class Tally:
    """Messages in flight: serial → (send time, sender side)."""

    in_flight: dict[int, tuple[float, int]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    """Send times (perf_counter) of `latencies`, for `HELPLINE_BENCH_TRACE`."""
    delivered: int = 0

    def received(self, serial: int, side: int) -> None:
        sent = self.in_flight.get(serial)
        if sent is None or sent[1] == side:
            return  # an echo of our own message, or a duplicate
        del self.in_flight[serial]
        self.latencies.append((time.perf_counter() - sent[0]) * 1000)
        self.sent_at.append(sent[0])
        self.delivered += 1


TRACE_BUCKET_SECONDS = 0.25


def write_trace(path: str, label: str, tally: Tally) -> None:
    """Latency over the step in 250 ms buckets (messages by send time: count, p50,
    max), appended to `path`: tells a short stall (one bucket) from a queue that
    builds up."""
    if not tally.sent_at:
        return
    start = min(tally.sent_at)
    buckets: dict[int, list[float]] = {}
    for sent, latency in zip(tally.sent_at, tally.latencies, strict=True):
        buckets.setdefault(int((sent - start) / TRACE_BUCKET_SECONDS), []).append(latency)
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(f"# {label}\n")
        for index in sorted(buckets):
            values = sorted(buckets[index])
            out.write(
                f"{index * TRACE_BUCKET_SECONDS:6.2f}s n={len(values):5d} "
                f"p50={values[len(values) // 2]:7.1f} max={values[-1]:7.1f}\n"
            )


BODY_MARK = b'"body":"b'


def serial_in_event(payload: bytes) -> int | None:
    """The serial in a Helpline message event ("body":"b123"), without a JSON parse:
    the client must stay cheap so that the server is what is measured."""
    start = payload.find(BODY_MARK)
    if start < 0:
        return None
    start += len(BODY_MARK)
    end = payload.find(b'"', start)
    try:
        return int(payload[start:end])
    except ValueError:
        return None


def serial_in_relay(payload: bytes) -> int | None:
    try:
        return int(payload)
    except ValueError:
        return None


class ServerProbe:
    """CPU time and resident memory of the server process, from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.ticks = os.sysconf("SC_CLK_TCK")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.ticks

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


@dataclass
class Pair:
    """One conversation's two ends."""

    conversation_id: int
    visitor: WsClient
    agent: WsClient


class Load:
    """Open-loop sender: message k goes to conversation k mod N, from the visitor on
    even rounds and the agent on odd ones, at the step's total rate."""

    def __init__(self, pairs: list[Pair], frame: Callable[[Pair, int, int], bytes]) -> None:
        self.pairs = pairs
        self.frame = frame
        # Serials name the messages and their client ids: a fresh range per load,
        # so an earlier run's ids on the same database are never "retries".
        self.serial = secrets.randbelow(10**9) * 10**6
        self.tally = Tally()

    async def run(self, rate: float, seconds: float) -> tuple[int, float]:
        count = len(self.pairs)
        total = int(rate * seconds)
        started = time.perf_counter()
        sent = 0
        while sent < total:
            due = min(total, int((time.perf_counter() - started) * rate) + 1)
            while sent < due:
                index = self.serial % count
                side = (self.serial // count) % 2
                pair = self.pairs[index]
                client = pair.visitor if side == 0 else pair.agent
                self.tally.in_flight[self.serial] = (time.perf_counter(), side)
                client.send_text(self.frame(pair, side, self.serial))
                self.serial += 1
                sent += 1
            await asyncio.sleep(0.001)
        return sent, time.perf_counter() - started

    async def drain(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while self.tally.in_flight and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure_step(
    backend: str, load: Load, probe: ServerProbe, rate: float, seconds: float, drain: float
) -> Step:
    load.tally = Tally()
    gc.collect()
    gc.disable()  # the client's own collector must not show up as server latency
    cpu_before, wall_before = probe.cpu_seconds(), time.perf_counter()
    client_before = time.process_time()
    try:
        sent, elapsed = await load.run(rate, seconds)
        client_cpu = (time.process_time() - client_before) / elapsed * 100
        await load.drain(drain)
    finally:
        gc.enable()
    cpu = (probe.cpu_seconds() - cpu_before) / (time.perf_counter() - wall_before) * 100
    tally = load.tally
    trace = os.environ.get("HELPLINE_BENCH_TRACE")
    if trace:
        write_trace(trace, f"{backend} N={len(load.pairs)} {rate:g}/s", tally)
    return Step(
        backend=backend,
        conversations=len(load.pairs),
        target_rate=rate,
        achieved_rate=sent / elapsed if elapsed else 0.0,
        sent=sent,
        delivered=tally.delivered,
        p50_ms=statistics.median(tally.latencies) if tally.latencies else float("nan"),
        p99_ms=percentile(tally.latencies, 0.99),
        server_cpu_percent=cpu,
        server_rss_mb=probe.rss_mb(),
        client_cpu_percent=client_cpu,
    )


async def ramp(
    backend: str,
    load: Load,
    probe: ServerProbe,
    rates: list[float],
    seconds: float,
    drain: float,
    report: Callable[[Step], None],
    bisect: int = 2,
    keep_going: bool = False,
) -> list[Step]:
    """Rising rates until one fails (every rate with `keep_going`), then `bisect`
    steps between the last good rate and the first bad one."""
    steps: list[Step] = []
    await measure_step(backend, load, probe, rates[0] / 2, min(2.0, seconds), drain)  # warm-up
    good, bad = 0.0, 0.0
    for rate in rates:
        step = await measure_step(backend, load, probe, rate, seconds, drain)
        steps.append(step)
        report(step)
        if not step.passed:
            bad = bad or rate
            if keep_going:
                continue
            break
        good = rate
    for _ in range(bisect if bad else 0):
        rate = round((good + bad) / 2, -1)
        if rate in (good, bad):
            break
        step = await measure_step(backend, load, probe, rate, seconds, drain)
        steps.append(step)
        report(step)
        if step.passed:
            good = rate
        else:
            bad = rate
    await asyncio.sleep(0.5)
    return steps


# ---------------------------------------------------------------- servers


def pin(cpu: int) -> None:
    """Run on one CPU only, and ahead of other work on the machine when allowed
    (as root), so that a busy machine disturbs the numbers less."""
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})
    with suppress(OSError):
        os.nice(-10)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_preexec() -> None:
    pin(SERVER_CPU)
    raise_fd_limit()
    # The server goes when the benchmark goes, however it ends (Linux).
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


@contextmanager
def server_process(command: list[str], env: dict[str, str], port: int) -> Iterator[int]:
    keep = os.environ.get("HELPLINE_BENCH_SERVER_LOG")
    # The server's output is kept only when asked for (it logs every connection).
    log = Path(keep).open("ab") if keep else tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_server_preexec,
        cwd=REPO_ROOT,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited early:\n{log.read().decode()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# ---------------------------------------------------------------- Helpline data


@dataclass
class Seeded:
    url: str
    inbox_key: str
    conversations: list[tuple[int, str, str]]
    """(conversation id, visitor token, agent API token) per conversation."""


def database_url(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'realtime.sqlite3'}"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    server = PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+psycopg://{server}/{PG_DATABASE}"


def drop_database(backend: str) -> None:
    if backend != "postgresql":
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


def seed(url: str, count: int) -> Seeded:
    """One chat inbox; per conversation a contact, an agent (with an API token) who
    is its assignee and sees nothing else, so every event has two listeners."""
    from sqlalchemy import insert

    from helpline.adapters.db.engine import make_engine, make_session_factory
    from helpline.adapters.db.migrate import upgrade_to_head
    from helpline.adapters.db.models import (
        ApiToken,
        Contact,
        Conversation,
        Counter,
        Inbox,
        User,
    )
    from helpline.services.auth import API_TOKEN_PREFIX
    from helpline.services.tokens import hash_token, new_token
    from helpline.services.visitors import Visitor, sign_visitor_token

    engine = make_engine(url)
    upgrade_to_head(engine)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as db:
        inbox = Inbox(
            name="Bench chat",
            channel="chat",
            public_key="bench-" + secrets.token_hex(6),
            secret=secrets.token_hex(32),
            settings={},
        )
        db.add(inbox)
        db.flush()
        db.execute(
            insert(User),
            [
                {
                    "email": f"agent{i}@bench.example",
                    "name": f"Agent {i}",
                    "password_hash": "!bench-no-login",
                    "role": "agent",
                    "status": "online",
                    "max_concurrent_chats": 10,
                }
                for i in range(count)
            ],
        )
        db.execute(
            insert(Contact),
            [{"name": f"Visitor {i}", "email": f"visitor{i}@bench.example"} for i in range(count)],
        )
        db.flush()
        user_ids = list(db.scalars(User.__table__.select().with_only_columns(User.id)))
        contact_ids = list(db.scalars(Contact.__table__.select().with_only_columns(Contact.id)))
        user_ids.sort()
        contact_ids.sort()
        raw_tokens = [new_token(API_TOKEN_PREFIX) for _ in range(count)]
        db.execute(
            insert(ApiToken),
            [
                {"user_id": uid, "name": "bench", "token_hash": hash_token(raw), "prefix": raw[:12]}
                for uid, raw in zip(user_ids, raw_tokens, strict=True)
            ],
        )
        db.execute(
            insert(Conversation),
            [
                {
                    "number": i + 1,
                    "inbox_id": inbox.id,
                    "channel": "chat",
                    "contact_id": contact_ids[i],
                    "subject": "Bench",
                    "status": "open",
                    "assignee_id": user_ids[i],
                    "assigned_at": now,
                    "first_response_at": now,
                }
                for i in range(count)
            ],
        )
        db.execute(insert(Counter).values(name="conversation", value=count))
        db.commit()
        _open_each_chat(db, inbox.id)
        rows = db.execute(
            Conversation.__table__.select()
            .with_only_columns(Conversation.id, Conversation.contact_id)
            .order_by(Conversation.id)
        ).all()
        inbox_id, key = inbox.id, inbox.public_key
    engine.dispose()
    tokens = []
    for (conversation_id, contact_id), raw in zip(rows, raw_tokens, strict=True):
        visitor = Visitor(inbox_id=inbox_id, contact_id=contact_id, verified=False, issued_at=now)
        tokens.append((conversation_id, sign_visitor_token(SECRET_KEY, visitor), raw))
    return Seeded(url=url, inbox_key=key, conversations=tokens)


OPENING_LINE = "Hello, I ordered a jacket last week and it has not arrived yet"


def _open_each_chat(db: Any, inbox_id: int) -> None:
    """Each conversation is a chat in progress: its customer's opening line is stored
    and AI assist has analysed it, as the live server did when the chat began (else
    the first steps would measure every conversation's one-time first analysis)."""
    from sqlalchemy import insert, select, update

    from helpline.adapters.db.models import Conversation, Message
    from helpline.services.ai_assist_batch import after_customer_messages

    rows = db.execute(
        select(Conversation.id, Conversation.contact_id).where(Conversation.inbox_id == inbox_id)
    ).all()
    now = datetime.now(UTC)
    db.execute(
        insert(Message),
        [
            {
                "conversation_id": conversation_id,
                "seq": 1,
                "author_type": "contact",
                "author_contact_id": contact_id,
                "kind": "reply",
                "body": OPENING_LINE,
                "attachments": [],
                "created_at": now,
            }
            for conversation_id, contact_id in rows
        ],
    )
    db.execute(update(Conversation).where(Conversation.inbox_id == inbox_id).values(last_seq=1))
    db.commit()
    for first in range(0, len(rows), 500):
        chunk = rows[first : first + 500]
        after_customer_messages(db, {cid: OPENING_LINE for cid, _ in chunk}, now=now)


def use_data_dir(workdir: Path) -> None:
    """Seeding analyses the opening lines: with the server's model cache, not one
    in the current directory."""
    from helpline.settings import get_settings

    os.environ["HELPLINE_DATA_DIR"] = str(workdir / "data")
    get_settings.cache_clear()


def last_seqs(url: str) -> dict[int, int]:
    from sqlalchemy import select

    from helpline.adapters.db.engine import make_engine
    from helpline.adapters.db.models import Conversation

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                row.id: row.last_seq
                for row in conn.execute(select(Conversation.id, Conversation.last_seq))
            }
    finally:
        engine.dispose()


def helpline_env(url: str, port: int, workdir: Path) -> dict[str, str]:
    unlimited = "1000000000"
    return {
        "HELPLINE_ENVIRONMENT": "development",
        "HELPLINE_DATABASE_URL": url,
        "HELPLINE_DATA_DIR": str(workdir / "data"),
        "HELPLINE_SECRET_KEY": SECRET_KEY,
        "HELPLINE_BASE_URL": f"http://127.0.0.1:{port}",
        "HELPLINE_HOST": "127.0.0.1",
        "HELPLINE_PORT": str(port),
        # The background worker (SLA clock, routing, outbox) runs as its own
        # process in a deployment this size; here it would only add noise.
        "HELPLINE_RUN_WORKER_IN_SERVER": "false",
        "HELPLINE_WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE": unlimited,
        "HELPLINE_WIDGET_MESSAGES_PER_IP_PER_MINUTE": unlimited,
        "HELPLINE_WIDGET_SESSIONS_PER_IP_PER_HOUR": unlimited,
    }


async def connect_all(
    count: int, opener: Callable[[int], Any], concurrency: int = CONNECT_CONCURRENCY
) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Any:
        async with gate:
            return await opener(index)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def helpline_pairs(port: int, seeded: Seeded, count: int) -> list[Pair]:
    origin = f"http://127.0.0.1:{port}"
    path = f"/api/v1/widget/{seeded.inbox_key}/ws?token="
    cursors = last_seqs(seeded.url)

    async def open_pair(index: int) -> Pair:
        conversation_id, visitor_token, agent_token = seeded.conversations[index]
        visitor = await ws_connect(port, path + visitor_token, {"Origin": origin})
        agent = await ws_connect(port, "/api/v1/ws", {"Authorization": f"Bearer {agent_token}"})
        subscribe = {
            "type": "subscribe",
            "conversation_id": conversation_id,
            "after_seq": cursors.get(conversation_id, 0),
        }
        visitor.send_text(json.dumps(subscribe).encode())
        # Frames are handled in order: the pongs say both ends are fully set up.
        for client in (visitor, agent):
            pong = client.expect(b'"pong"')
            client.send_text(b'{"type":"ping"}')
            await asyncio.wait_for(pong, 120)
        return Pair(conversation_id, visitor, agent)

    return await connect_all(count, open_pair)


def helpline_frame(pair: Pair, side: int, serial: int) -> bytes:
    return b'{"type":"message","conversation_id":%d,"body":"b%d","client_message_id":"c%d"}' % (
        pair.conversation_id,
        serial,
        serial,
    )


async def relay_pairs(port: int, count: int) -> list[Pair]:
    async def open_pair(index: int) -> Pair:
        visitor = await ws_connect(port, f"/relay/{index}/v", {})
        agent = await ws_connect(port, f"/relay/{index}/a", {})
        return Pair(index, visitor, agent)

    return await connect_all(count, open_pair)


def relay_frame(pair: Pair, side: int, serial: int) -> bytes:
    return b"%d" % serial


def wire(load: Load, parse: Callable[[bytes], int | None]) -> None:
    for pair in load.pairs:
        for side, client in ((0, pair.visitor), (1, pair.agent)):

            def on_text(payload: bytes, side: int = side) -> None:
                serial = parse(payload)
                if serial is not None:
                    load.tally.received(serial, side)

            client.on_text = on_text


async def close_all(pairs: list[Pair]) -> None:
    for pair in pairs:
        pair.visitor.close()
        pair.agent.close()
    await asyncio.sleep(1.0)


# ---------------------------------------------------------------- the run


@dataclass
class Plan:
    sizes: list[int]
    rates: list[float]
    relay_rates: list[float]
    seconds: float
    drain: float
    bisect: int
    keep_going: bool = False


def plan_for(args: argparse.Namespace) -> Plan:
    plan = _plan_for(args)
    if args.rates:
        plan.rates = plan.relay_rates = args.rates
        plan.bisect = 0
        plan.keep_going = True
    return plan


def _plan_for(args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(
            sizes=args.sizes or [100, 1000],
            rates=[250, 1000, 2000, 4000],
            relay_rates=[2000, 8000, 16000, 32000],
            seconds=args.step_seconds or 3.0,
            drain=5.0,
            bisect=0,
        )
    return Plan(
        sizes=args.sizes or [100, 1000, 5000],
        rates=[100, 250, 500, 1000, 2000, 4000, 8000, 16000],
        relay_rates=[2000, 4000, 8000, 12000, 16000, 24000, 32000, 48000],
        seconds=args.step_seconds or 8.0,
        drain=10.0,
        bisect=2,
    )


HEADER = (
    f"{'backend':<11}{'N':>6}{'target/s':>10}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
    f"{'delivered/sent':>17}{'srv CPU':>9}{'ms/msg':>8}{'srv RSS':>9}{'cli CPU':>9}  ok"
)


def row(step: Step) -> str:
    delivered = f"{step.delivered}/{step.sent}"
    return (
        f"{step.backend:<11}{step.conversations:>6}{step.target_rate:>10.0f}"
        f"{step.achieved_rate:>9.0f}{step.p50_ms:>9.1f}{step.p99_ms:>9.1f}{delivered:>17}"
        f"{step.server_cpu_percent:>8.0f}%{step.server_ms_per_message:>8.3f}"
        f"{step.server_rss_mb:>7.0f}MB"
        f"{step.client_cpu_percent:>8.0f}%  "
        f"{'yes' if step.passed else 'no'}"
    )


def report(step: Step) -> None:
    print(row(step), flush=True)


async def run_helpline(backend: str, plan: Plan, workdir: Path) -> list[Step]:
    url = database_url(backend, workdir)
    use_data_dir(workdir)
    try:
        seeded = seed(url, max(plan.sizes))
        port = free_port()
        command = [sys.executable, "-m", "helpline.cli", "serve", "--port", str(port)]
        steps: list[Step] = []
        for size in plan.sizes:
            # A fresh server per size: the previous size's sockets and caches gone.
            with server_process(command, helpline_env(url, port, workdir), port) as pid:
                pairs = await helpline_pairs(port, seeded, size)
                load = Load(pairs, helpline_frame)
                wire(load, serial_in_event)
                await asyncio.sleep(1.0)
                steps += await ramp(
                    backend,
                    load,
                    ServerProbe(pid),
                    plan.rates,
                    plan.seconds,
                    plan.drain,
                    report,
                    plan.bisect,
                    plan.keep_going,
                )
                await close_all(pairs)
        return steps
    finally:
        drop_database(backend)


async def run_relay(plan: Plan) -> list[Step]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.realtime:relay_app",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--ws",
        "websockets",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    steps: list[Step] = []
    for size in plan.sizes:
        with server_process(command, {}, port) as pid:
            pairs = await relay_pairs(port, size)
            load = Load(pairs, relay_frame)
            wire(load, serial_in_relay)
            await asyncio.sleep(0.5)
            steps += await ramp(
                "relay",
                load,
                ServerProbe(pid),
                plan.relay_rates,
                plan.seconds,
                plan.drain,
                report,
                plan.bisect,
                plan.keep_going,
            )
            await close_all(pairs)
    return steps


def best_rate(steps: list[Step], backend: str, size: int) -> float:
    good = [
        s.target_rate
        for s in steps
        if s.backend == backend and s.conversations == size and s.passed
    ]
    return max(good, default=0.0)


def passed_at(steps: list[Step], backend: str, size: int, rate: float) -> bool | None:
    for step in steps:
        if step.backend == backend and step.conversations == size and step.target_rate == rate:
            return step.passed
    return None


def summary(steps: list[Step], plan: Plan) -> list[str]:
    lines = [""]
    for backend, size in (("sqlite", 1000), ("sqlite", 5000), ("postgresql", 1000)):
        if size not in plan.sizes:
            continue
        ran = [s for s in steps if s.backend == backend and s.conversations == size]
        if not ran:
            continue
        # Not measured means the ramp stopped below the target rate.
        verdict = bool(passed_at(steps, backend, size, TARGET_RATE))
        lines.append(
            f"target {backend} N={size} at {TARGET_RATE:.0f} msg/s with p99 < "
            f"{P99_LIMIT_MS:.0f} ms: " + ("met" if verdict else "NOT met")
        )
    ours = best_rate(steps, "sqlite", 1000)
    relay = best_rate(steps, "relay", 1000)
    if relay:
        ratio = ours / relay
        lines.append(
            f"highest rate with p99 < {P99_LIMIT_MS:.0f} ms at N=1000: sqlite {ours:.0f} msg/s, "
            f"bare relay {relay:.0f} msg/s, ratio {ratio:.3f} "
            f"(target ≥ {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'NOT met'})"
        )
    return lines


SERVICE_BATCHES = (1, 10, 100)
SERVICE_MESSAGES = 2000


def service_profile(backend: str, workdir: Path) -> list[str]:
    """The message service alone, in this process: SQL statements and CPU time per
    message when `chat_messages` stores batches of 1, 10 and 100 messages (half
    from visitors, half from agents, one conversation each). Routing and AI assist
    follow-ups are not included (they run after the acknowledgement)."""
    from sqlalchemy import event

    from helpline.adapters.db.engine import make_engine, make_session_factory
    from helpline.services.auth import authenticate_api_token
    from helpline.services.chat_messages import ChatPost, store_chat_messages
    from helpline.services.viewer import load_viewer
    from helpline.services.visitors import read_visitor_token

    url = database_url(backend, workdir)
    use_data_dir(workdir)
    lines = []
    try:
        count = 200
        seeded = seed(url, count)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        now = datetime.now(UTC)
        visitors, viewers = [], []
        with factory() as db:
            for _, visitor_token, agent_token in seeded.conversations:
                visitor = read_visitor_token(SECRET_KEY, visitor_token, now=now, max_age=_DAY)
                auth = authenticate_api_token(db, agent_token, now=now)
                assert visitor is not None and auth is not None
                visitors.append(visitor)
                viewers.append(load_viewer(db, auth.user))
            db.commit()
        serial = secrets.randbelow(10**9) * 10**6

        def post(n: int) -> ChatPost:
            index = n % count
            conversation_id = seeded.conversations[index][0]
            if (n // count) % 2 == 0:
                return ChatPost(conversation_id, f"b{n}", f"c{n}", visitor=visitors[index])
            return ChatPost(conversation_id, f"b{n}", f"c{n}", viewer=viewers[index])

        statements = [0]

        def counted(*_args: Any) -> None:
            statements[0] += 1

        event.listen(engine, "before_cursor_execute", counted)
        for batch in SERVICE_BATCHES:
            with factory() as db:  # warm-up: caches, compiled statements
                store_chat_messages(db, [post(serial + n) for n in range(batch)], now=now)
            serial += 10**5
            statements[0] = 0
            started = time.process_time()
            for first in range(0, SERVICE_MESSAGES, batch):
                with factory() as db:
                    posts = [post(serial + first + n) for n in range(batch)]
                    store_chat_messages(db, posts, now=datetime.now(UTC))
            cpu = time.process_time() - started
            serial += 10**5
            lines.append(
                f"{backend:<11} batch {batch:>4}: {statements[0] / SERVICE_MESSAGES:6.2f} "
                f"SQL statements/msg, {cpu / SERVICE_MESSAGES * 1000:6.3f} ms CPU/msg"
            )
        engine.dispose()
    finally:
        drop_database(backend)
    return lines


_DAY = timedelta(days=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer sizes, rates and seconds")
    parser.add_argument("--backends", default="sqlite,postgresql,relay")
    parser.add_argument(
        "--sizes", type=lambda text: [int(part) for part in text.split(",")], default=None
    )
    parser.add_argument("--step-seconds", type=float, default=None)
    parser.add_argument(
        "--rates",
        type=lambda text: [float(part) for part in text.split(",")],
        default=None,
        help="measure exactly these total rates (no early stop, no bisection)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the steps here")
    parser.add_argument(
        "--service",
        action="store_true",
        help="only the message service in this process: SQL statements and CPU per message",
    )
    args = parser.parse_args(argv)
    plan = plan_for(args)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    if args.service:
        with tempfile.TemporaryDirectory() as tmp:
            for backend in backends:
                if backend != "relay":
                    for line in service_profile(backend, Path(tmp)):
                        print(line, flush=True)
        return

    pin(CLIENT_CPU)
    raise_fd_limit()
    # `kill` ends the run like Ctrl-C: servers stopped, the database dropped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass

    cpus = os.cpu_count() or 1
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"bench.realtime: {cpus} CPUs (server on CPU {SERVER_CPU}, client on CPU "
        f"{CLIENT_CPU}), sizes {plan.sizes}, {plan.seconds:g} s per step, "
        f"load average before the run {load}, AI assist "
        f"{os.environ.get('HELPLINE_AI_ENABLED', 'on (default)')}"
    )
    print(HEADER, flush=True)
    steps: list[Step] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            if backend == "relay":
                steps += asyncio.run(run_relay(plan))
            else:
                steps += asyncio.run(run_helpline(backend, plan, Path(tmp)))
    for line in summary(steps, plan):
        print(line)
    if args.json:
        args.json.write_text(json.dumps([asdict(step) for step in steps], indent=2))


if __name__ == "__main__":
    main()
