"""Browser fixtures: one Chromium per xdist worker, and a live Helpline server.

The server is the real app under uvicorn, in a background thread, on a free
127.0.0.1 port, with its own migrated SQLite database (browser tests run on SQLite
only; the API and page tests cover PostgreSQL). Tests arrange data through
`live_server.session()` and drive the pages with Playwright's sync API.

Chromium comes from the system (Debian's package): never `playwright install`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.settings import Settings
from helpline.web.app import create_app
from tests.services import require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

LIVE_SERVER_SECRET = "browser-test-secret-key-0123456789-abcdefghij"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
STARTUP_TIMEOUT_SECONDS = 20.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in this folder needs Chromium."""
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the browser tests of this package.

    Package scope, not session: Playwright's sync API keeps an event loop running
    in the main thread while it is started, which would break asyncio tests that
    run afterwards in the same worker. Pytest tears a package fixture down as soon
    as a test from elsewhere runs, and the `xdist_group` below keeps the browser
    tests together, so Chromium still starts once per worker.
    """
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies) per test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def listening_socket() -> socket.socket:
    """A socket bound to a free port, handed to uvicorn (no port race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    engine: Engine
    settings: Settings

    def session(self) -> Session:
        """A database session for arranging data; commit so the server sees it."""
        return make_session_factory(self.engine)()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    sock = listening_socket()
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key=LIVE_SERVER_SECRET,
        migrate_on_start=False,
        run_worker_in_server=False,
        base_url=url,
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    upgrade_to_head(engine)
    app = create_app(settings, engine=engine, start_worker=False)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(url=url, engine=engine, settings=settings)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        engine.dispose()
