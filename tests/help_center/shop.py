"""A shop's lookup endpoint for tests: a real HTTP server on 127.0.0.1 in a thread,
which checks Helpline's signature like a real shop would and records every request."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ORDERS = {
    ("customer-42", "1245"): {
        "found": True,
        "title": "Order #1245",
        "fields": [
            {"label": "Status", "value": "On its way"},
            {"label": "Expected", "value": "Thursday"},
            {"label": "Track it", "value": "https://track.example/1245", "type": "link"},
            {"label": "Note", "value": "<img src=x onerror=alert(1)>"},
        ],
    }
}


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Shop:
    """Routes by path; `secret` is set once Helpline has made the lookup."""

    url: str = ""
    host: str = "127.0.0.1"
    port: int = 0
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    routes: dict[str, Callable[[BaseHTTPRequestHandler, Received], None]] = field(
        default_factory=dict
    )

    def signature_ok(self, request: BaseHTTPRequestHandler) -> bool:
        if self.secret is None:
            return False
        timestamp = request.headers.get("X-Helpline-Timestamp", "")
        given = request.headers.get("X-Helpline-Signature", "")
        url = f"http://{self.host}:{self.port}{request.path}"
        expected = hmac.new(self.secret.encode(), f"{timestamp}.{url}".encode(), hashlib.sha256)
        return hmac.compare_digest("v1=" + expected.hexdigest(), given)


def answer(request: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
    request.send_response(status)
    request.send_header("Content-Type", kind)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def orders(shop: Shop) -> Callable[[BaseHTTPRequestHandler, Received], None]:
    def route(request: BaseHTTPRequestHandler, received: Received) -> None:
        if not shop.signature_ok(request):
            answer(request, 401, b'{"error": "bad signature"}', "application/json")
            return
        key = (received.query.get("customer", [""])[0], received.query.get("order", [""])[0])
        found = ORDERS.get(key)
        if found is None:
            answer(request, 404, b"{}", "application/json")
            return
        answer(request, 200, json.dumps(found).encode(), "application/json")

    return route


def slow(seconds: float) -> Callable[[BaseHTTPRequestHandler, Received], None]:
    def route(request: BaseHTTPRequestHandler, received: Received) -> None:
        time.sleep(seconds)
        answer(request, 200, b'{"found": false}', "application/json")

    return route


def redirect(location: str) -> Callable[[BaseHTTPRequestHandler, Received], None]:
    def route(request: BaseHTTPRequestHandler, received: Received) -> None:
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return route


def fixed(status: int, body: bytes, kind: str = "application/json") -> Callable[..., None]:
    def route(request: BaseHTTPRequestHandler, received: Received) -> None:
        answer(request, status, body, kind)

    return route


@contextmanager
def running_shop(host: str = "127.0.0.1") -> Iterator[Shop]:
    shop = Shop(host=host)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            received = Received(
                path=parts.path, query=parse_qs(parts.query), headers=dict(self.headers.items())
            )
            shop.received.append(received)
            route = shop.routes.get(parts.path)
            if route is None:
                answer(self, 404, b"{}", "application/json")
                return
            # Helpline may give up waiting: that is the point of some tests.
            with suppress(BrokenPipeError, ConnectionResetError):
                route(self, received)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    shop.port = int(server.server_address[1])
    shop.url = f"http://{host}:{shop.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield shop
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
