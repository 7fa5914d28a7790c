"""Take the documentation's screenshots from the demo organisation.

    .venv/bin/python -m tests.browser.screenshots [docs/img]

Seeds the demo into a temporary database, serves it on a free local port, signs in
as the demo supervisor in Chromium and saves docs/img/inbox.png and
docs/img/conversation.png.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helpline.adapters.db.base import utcnow
from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.adapters.db.models import Conversation, Message
from helpline.demo.seed import DEMO_SUPERVISOR, seed_demo
from helpline.settings import Settings
from helpline.web.app import create_app
from tests.browser.conftest import CHROMIUM_ARGS, LIVE_SERVER_SECRET, listening_socket
from tests.services import CHROMIUM


def _showcase_conversation(session_factory: sessionmaker[Session]) -> int:
    """An on-hold conversation with the longest history: notes, events, replies."""
    with session_factory() as db:
        notes = (
            select(func.count(Message.id))
            .where(Message.conversation_id == Conversation.id, Message.kind == "note")
            .scalar_subquery()
        )
        conversation_id = db.scalar(
            select(Conversation.id)
            .where(Conversation.status == "on_hold", notes > 0)
            .order_by(Conversation.last_seq.desc(), Conversation.id)
            .limit(1)
        )
        assert conversation_id is not None
        return conversation_id


def take_screenshots(out_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'demo.sqlite3'}")
        upgrade_to_head(engine)
        session_factory = make_session_factory(engine)
        with session_factory() as db:
            seed_demo(db, now=utcnow())
        showcase = _showcase_conversation(session_factory)

        sock = listening_socket()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = Settings(
            environment="test",
            data_dir=Path(tmp) / "data",
            secret_key=LIVE_SERVER_SECRET,  # type: ignore[arg-type]
            migrate_on_start=False,
            run_worker_in_server=False,
            base_url=url,
        )
        app = create_app(settings, engine=engine, start_worker=False)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1360, "height": 860})
                page.goto(f"{url}/login")
                page.get_by_label("Email").fill(DEMO_SUPERVISOR.email)
                page.get_by_label("Password").fill(DEMO_SUPERVISOR.password)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{url}/inbox")
                page.screenshot(path=str(out_dir / "inbox.png"))
                page.goto(f"{url}/conversations/{showcase}")
                page.screenshot(path=str(out_dir / "conversation.png"), full_page=True)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=15)
            engine.dispose()


if __name__ == "__main__":
    take_screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
