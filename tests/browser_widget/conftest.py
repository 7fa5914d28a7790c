"""Widget fixtures: a shop's page on another origin that embeds the widget served by
the live Helpline server, a chat inbox with an agent, and that agent's API client.

The host page is served by a second tiny HTTP server on `localhost` (the Helpline
server listens on `127.0.0.1`), so every widget request is cross-origin and goes
through the server's Origin checks and CORS, as on a real shop's site.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from helpline.adapters.db.models import Conversation, Message
from tests.browser.conftest import LiveServer, browser, live_server, page  # noqa: F401 (fixtures)
from tests.factories import make_inbox, make_user
from tests.support import DEFAULT_PASSWORD

AGENT_EMAIL = "ada@example.com"
AGENT_NAME = "Ada Lovelace"
TOPICS = [
    {"label": {"en": "Billing", "pl": "Płatności"}, "category": "billing"},
    {"label": {"en": "Login problem", "pl": "Problem z logowaniem"}, "category": "account"},
    {"label": {"en": "Order", "pl": "Zamówienie"}, "category": "orders"},
]
# The shop's own CSS tries to restyle everything; the widget's Shadow DOM keeps it out.
HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>* {{ font-family: serif !important; }} button {{ background: orange !important; }}</style>
{settings}
</head>
<body>
<h1>{title}</h1>
<p><a href="/other">Another page of the shop</a></p>
<script src="{server}/static/widget/widget.js" data-inbox="{key}" {attributes} async></script>
</body>
</html>
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in this folder needs Chromium."""
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@dataclass
class HostSite:
    """A shop's website on its own origin; `embed` puts the widget on its pages."""

    url: str
    server_url: str
    pages: dict[str, str] = field(default_factory=dict)

    def embed(
        self,
        public_key: str,
        *,
        settings: dict[str, Any] | None = None,
        attributes: str = "",
    ) -> str:
        script = ""
        if settings is not None:
            # JSON inside <script>: "</" must not end the element early.
            payload = json.dumps(settings).replace("</", "<\\/")
            script = f"<script>window.HelplineSettings = {payload};</script>"
        for path, title in (("/", "Acme shop"), ("/other", "Acme shop: boots")):
            self.pages[path] = HOST_PAGE.format(
                title=title,
                settings=script,
                server=self.server_url,
                key=public_key,
                attributes=attributes,
            )
        return self.url + "/"


@pytest.fixture
def host_site(live_server: LiveServer) -> Iterator[HostSite]:  # noqa: F811
    site = HostSite(url="", server_url=live_server.url)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site.pages.get(self.path.split("?", 1)[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.url = f"http://localhost:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class ChatDesk:
    inbox_id: int
    public_key: str
    secret: str
    agent_id: int


def arrange_chat_inbox(
    live_server: LiveServer,  # noqa: F811
    *,
    agent_online: bool = True,
    allowed_domains: tuple[str, ...] = ("localhost",),
    **settings: Any,
) -> ChatDesk:
    """A chat inbox that the host site may embed, with one agent (online or not)."""
    with live_server.session() as db:
        inbox = make_inbox(
            db,
            "Website chat",
            settings={
                "allowed_domains": list(allowed_domains),
                "greeting": {"en": "Hi! Welcome to Acme support.", "pl": "Cześć! Tu pomoc Acme."},
                "topics": TOPICS,
                "expected_reply": {"en": "We usually answer within one business day."},
                **settings,
            },
        )
        agent = make_user(
            db,
            AGENT_EMAIL,
            name=AGENT_NAME,
            inboxes=[inbox],
            status="online" if agent_online else "offline",
        )
        db.commit()
        return ChatDesk(
            inbox_id=inbox.id, public_key=inbox.public_key, secret=inbox.secret, agent_id=agent.id
        )


def message_bodies(live_server: LiveServer, conversation_id: int) -> list[str]:  # noqa: F811
    """What the conversation holds, straight from the database."""
    with live_server.session() as db:
        return list(
            db.scalars(
                select(Message.body)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.seq)
            )
        )


class AgentClient:
    """The agent's side, through the REST API with a signed-in session."""

    def __init__(self, live_server: LiveServer, desk: ChatDesk) -> None:  # noqa: F811
        self.live_server = live_server
        self.desk = desk
        self.http = httpx.Client(base_url=live_server.url, timeout=10)
        response = self.http.post(
            "/api/v1/auth/login", json={"email": AGENT_EMAIL, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.http.headers["X-CSRF-Token"] = response.json()["csrf_token"]

    def only_conversation(self) -> dict[str, Any]:
        response = self.http.get("/api/v1/conversations", params={"inbox_id": self.desk.inbox_id})
        assert response.status_code == 200, response.text
        conversations: list[dict[str, Any]] = response.json()["data"]
        assert len(conversations) == 1, conversations
        return conversations[0]

    def take(self, conversation_id: int) -> None:
        response = self.http.post(
            f"/api/v1/conversations/{conversation_id}/assign",
            json={"assignee_id": self.desk.agent_id},
        )
        assert response.status_code == 200, response.text

    def reply(self, conversation_id: int, body: str) -> None:
        response = self.http.post(
            f"/api/v1/conversations/{conversation_id}/messages", json={"body": body}
        )
        assert response.status_code in (200, 201), response.text

    def set_status(self, conversation_id: int, status: str) -> None:
        response = self.http.post(
            f"/api/v1/conversations/{conversation_id}/status", json={"status": status}
        )
        assert response.status_code == 200, response.text

    def message_bodies(self, conversation_id: int) -> list[str]:
        return message_bodies(self.live_server, conversation_id)

    def conversation(self, conversation_id: int) -> Conversation:
        with self.live_server.session() as db:
            conversation = db.get(Conversation, conversation_id)
            assert conversation is not None
            db.expunge(conversation)
            return conversation

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def desk(live_server: LiveServer) -> ChatDesk:  # noqa: F811
    return arrange_chat_inbox(live_server)


@pytest.fixture
def agent(live_server: LiveServer, desk: ChatDesk) -> Iterator[AgentClient]:  # noqa: F811
    client = AgentClient(live_server, desk)
    try:
        yield client
    finally:
        client.close()
