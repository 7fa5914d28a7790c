"""API latency benchmark: inbox page, history page and reply over HTTP on loopback.

    python -m bench.api [--conversations 100000] [--messages 10] [--requests 300]
                        [--backends sqlite,postgresql]

Loads synthetic data (bench/dataset.py), starts a real `uvicorn` server process
on 127.0.0.1, signs in as an agent and measures p50/p95/p99 of each call with a
keep-alive client. Prints a table; targets are from issue 2.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg

from bench.dataset import BENCH_PASSWORD, BenchData, generate
from helpline.adapters.db.engine import make_engine
from helpline.adapters.db.migrate import upgrade_to_head

PG_ADMIN = os.environ.get("HELPLINE_BENCH_PG", "postgresql://127.0.0.1:5432/test")
TARGETS_MS = {"inbox page (50 rows)": 50.0, "history page": 30.0, "post reply": 20.0}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS helpline_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE helpline_bench")
    return (
        "postgresql+psycopg://"
        + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
        + ("/helpline_bench")
    )


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94], cuts[98]


def _measure(call: Callable[[], httpx.Response], requests: int) -> list[float]:
    for _ in range(10):  # warm-up: connection, caches, query plans
        call().raise_for_status()
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return samples


def run_backend(
    backend: str, conversations: int, messages: int, requests: int
) -> list[tuple[str, float, float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = _database(backend, workdir)
        engine = make_engine(url)
        upgrade_to_head(engine)
        started = time.perf_counter()
        data: BenchData = generate(
            engine, conversations=conversations, messages_per_conversation=messages
        )
        engine.dispose()
        print(
            f"[{backend}] loaded {conversations:,} conversations, {conversations * messages:,} "
            f"messages in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        port = _free_port()
        env = {
            **os.environ,
            "HELPLINE_DATABASE_URL": url,
            "HELPLINE_DATA_DIR": str(workdir / "data"),
            "HELPLINE_RUN_WORKER_IN_SERVER": "false",
            "HELPLINE_LOGIN_MAX_FAILURES": "100",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "helpline.web.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base)
            return _measure_all(base, data, requests)
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def _measure_all(
    base: str, data: BenchData, requests: int
) -> list[tuple[str, float, float, float]]:
    rng = random.Random(3)
    with httpx.Client(base_url=base, timeout=30) as client:
        login = client.post(
            "/api/v1/auth/login", json={"email": data.agent_email, "password": BENCH_PASSWORD}
        )
        login.raise_for_status()
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        ids = data.conversation_ids_visible
        results = []

        def inbox() -> httpx.Response:
            params: dict[str, str | int | list[str]] = {
                "status": ["open", "pending"],
                "limit": 50,
                "sort": "last_activity",
            }
            return client.get("/api/v1/conversations", params=params)

        def history() -> httpx.Response:
            conversation_id = rng.choice(ids)
            return client.get(f"/api/v1/conversations/{conversation_id}/history?limit=50")

        def reply() -> httpx.Response:
            conversation_id = rng.choice(data.conversation_ids_replyable)
            return client.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"body": "Thanks for waiting, I am checking this now.", "kind": "reply"},
            )

        for name, call in (
            ("inbox page (50 rows)", inbox),
            ("history page", history),
            ("post reply", reply),
        ):
            results.append((name, *_percentiles(_measure(call, requests))))
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args()
    rows = []
    for backend in args.backends.split(","):
        for name, p50, p95, p99 in run_backend(
            backend, args.conversations, args.messages, args.requests
        ):
            rows.append((backend, name, p50, p95, p99, TARGETS_MS[name]))
    print(
        f"\n{args.conversations:,} conversations, {args.conversations * args.messages:,} "
        f"messages, {args.requests} requests each, HTTP on loopback\n"
    )
    header = (
        f"{'database':<11}{'call':<22}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'target p95':>12}"
    )
    print(header)
    print("-" * len(header))
    for backend, name, p50, p95, p99, target in rows:
        verdict = "ok" if p95 < target else "MISSED"
        print(
            f"{backend:<11}{name:<22}{p50:>8.1f}{p95:>8.1f}{p99:>8.1f}"
            f"{'< ' + format(target, '.0f'):>9} {verdict}"
        )


if __name__ == "__main__":
    main()
