"""What the documentation's screenshot scripts share: the demo organisation served
from a temporary database on a free local port, and Chromium to look at it.

    with demo_server() as demo, chromium_page({"width": 1360, "height": 860}) as page:
        sign_in(page, demo, DEMO_SUPERVISOR)
        page.screenshot(path="docs/img/inbox.png")
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from helpline.adapters.db.base import utcnow
from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.demo.seed import DemoLogin, seed_demo
from helpline.settings import Settings
from helpline.web.app import create_app
from tests.browser.conftest import CHROMIUM_ARGS, LIVE_SERVER_SECRET, listening_socket
from tests.services import CHROMIUM

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize


@dataclass(frozen=True, slots=True)
class DemoServer:
    url: str
    session_factory: sessionmaker[Session]


@contextmanager
def app_server(prepare: Callable[[Session], None], **config: Any) -> Iterator[DemoServer]:
    """The app over a fresh SQLite database that `prepare` fills, served on a free
    local port until the block ends; `config` goes to uvicorn."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'demo.sqlite3'}")
        upgrade_to_head(engine)
        session_factory = make_session_factory(engine)
        with session_factory() as db:
            prepare(db)
        sock = listening_socket()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = Settings(
            environment="test",
            data_dir=Path(tmp) / "data",
            secret_key=LIVE_SERVER_SECRET,
            migrate_on_start=False,
            run_worker_in_server=False,
            base_url=url,
        )
        app = create_app(settings, engine=engine, start_worker=False)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **config))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            yield DemoServer(url=url, session_factory=session_factory)
        finally:
            server.should_exit = True
            thread.join(timeout=15)
            engine.dispose()


@contextmanager
def demo_server(prepare: Callable[[Session], None] | None = None) -> Iterator[DemoServer]:
    """The demo organisation, seeded now, served until the block ends; `prepare`
    changes the seeded data before the server starts."""

    def seed(db: Session) -> None:
        seed_demo(db, now=utcnow())
        if prepare is not None:
            prepare(db)

    with app_server(seed) as demo:
        yield demo


@contextmanager
def chromium_page(viewport: ViewportSize, **options: Any) -> Iterator[Page]:
    """A page in the system's Chromium (never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport=viewport, **options)
        finally:
            browser.close()


def sign_in(page: Page, demo: DemoServer, login: DemoLogin, path: str = "/login") -> None:
    """Sign in through the login form (`path` may carry ?next=)."""
    page.goto(f"{demo.url}{path}")
    page.get_by_label("Email").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Sign in").click()
