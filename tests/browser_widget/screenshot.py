"""Take the widget's documentation screenshot from the demo organisation.

    .venv/bin/python -m tests.browser_widget.screenshot [docs/img]

Seeds the demo into a temporary database, serves it on a free local port, opens the
demo shop page (/widget-demo) in Chromium, starts a chat as a visitor, lets the
demo agent take it and reply through the API, and saves docs/img/widget.png.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr
from sqlalchemy import select

from helpline.adapters.db.base import utcnow
from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.adapters.db.models import Contact, Conversation, User
from helpline.demo.seed import DEMO_AGENT, seed_demo
from helpline.settings import Settings
from helpline.web.app import create_app
from tests.browser.conftest import CHROMIUM_ARGS, LIVE_SERVER_SECRET, listening_socket
from tests.services import CHROMIUM

VISITOR = "Mia Rossi"


def _wait_for(check: object, seconds: float = 10.0) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()  # type: ignore[operator]
        if result:
            return result
        time.sleep(0.1)
    raise RuntimeError("timed out")


def take_screenshot(out_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'demo.sqlite3'}")
        upgrade_to_head(engine)
        session_factory = make_session_factory(engine)
        with session_factory() as db:
            seed_demo(db, now=utcnow())
            # Only the demo agent is at the desk: the widget is online and the chat
            # can only go to her.
            for user in db.scalars(select(User)):
                user.status = "online" if user.email == DEMO_AGENT.email else "offline"
            agent = db.scalar(select(User).where(User.email == DEMO_AGENT.email))
            assert agent is not None
            db.commit()
            agent_id = agent.id

        sock = listening_socket()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = Settings(
            environment="test",
            data_dir=Path(tmp) / "data",
            secret_key=SecretStr(LIVE_SERVER_SECRET),
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
                page = browser.new_page(viewport={"width": 1100, "height": 760}, locale="en-GB")
                page.goto(f"{url}/widget-demo")
                page.get_by_role("button", name="Chat with us").click()
                page.get_by_label("Your name").fill(VISITOR)
                page.get_by_label("Email").fill("mia.rossi@example.com")
                page.get_by_label("Message").fill(
                    "Hi! I ordered the Trail Shell Jacket on Monday. Can I still change the size?"
                )
                page.get_by_role("button", name="Start chat").click()
                page.locator(".hl-msg-mine").wait_for()

                def find() -> int | None:
                    with session_factory() as db:
                        return db.scalar(
                            select(Conversation.id)
                            .join(Contact, Contact.id == Conversation.contact_id)
                            .where(Contact.name == VISITOR)
                        )

                conversation_id = _wait_for(find)
                with httpx.Client(base_url=url, timeout=10) as http:
                    login = http.post(
                        "/api/v1/auth/login",
                        json={"email": DEMO_AGENT.email, "password": DEMO_AGENT.password},
                    )
                    login.raise_for_status()
                    http.headers["X-CSRF-Token"] = login.json()["csrf_token"]
                    conversation = http.get(f"/api/v1/conversations/{conversation_id}")
                    conversation.raise_for_status()
                    if conversation.json()["assignee"] is None:
                        http.post(
                            f"/api/v1/conversations/{conversation_id}/assign",
                            json={"assignee_id": agent_id},
                        ).raise_for_status()
                    http.post(
                        f"/api/v1/conversations/{conversation_id}/messages",
                        json={
                            "body": "Hello Mia! Yes, it hasn't shipped yet. Which size would "
                            "you like? Our size guide: https://acme.example/sizes"
                        },
                    ).raise_for_status()
                page.locator(".hl-msg-agent").wait_for()
                page.get_by_role("textbox", name="Message").fill("Medium, please!")
                time.sleep(0.5)  # let the fonts and the panel's animation settle
                page.screenshot(path=str(out_dir / "widget.png"))
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=15)
            engine.dispose()


if __name__ == "__main__":
    take_screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
