"""Take the widget's documentation screenshot from the demo organisation.

    .venv/bin/python -m tests.browser_widget.screenshot [docs/img]

Seeds the demo into a temporary database, serves it on a free local port, opens the
demo shop page (/widget-demo) in Chromium, starts a chat as a visitor, lets the
demo agent take it and reply through the API, and saves docs/img/widget.png.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact, Conversation, User
from helpline.demo.seed import DEMO_AGENT
from tests.browser.shots import chromium_page, demo_server

VISITOR = "Mia Rossi"


def _wait_for(check: object, seconds: float = 10.0) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()  # type: ignore[operator]
        if result:
            return result
        time.sleep(0.1)
    raise RuntimeError("timed out")


def _only_the_demo_agent_at_the_desk(db: Session) -> None:
    """The widget is online and the chat can only go to the demo agent."""
    for user in db.scalars(select(User)):
        user.status = "online" if user.email == DEMO_AGENT.email else "offline"
    db.commit()


def take_screenshot(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with demo_server(prepare=_only_the_demo_agent_at_the_desk) as demo:
        url = demo.url
        with demo.session_factory() as db:
            agent_id = db.scalar(select(User.id).where(User.email == DEMO_AGENT.email))
            assert agent_id is not None
        with chromium_page({"width": 1100, "height": 760}, locale="en-GB") as page:
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
                with demo.session_factory() as db:
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


if __name__ == "__main__":
    take_screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
