"""An agent answers three visitors at once in the workspace with the keyboard only,
and every visitor gets exactly their own answers."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from helpline.adapters.db.models import Conversation
from tests.browser.conftest import LiveServer
from tests.browser_widget.conftest import AgentClient, ChatDesk, HostSite, message_bodies
from tests.browser_widget.test_widget_chat import conversation_of, eventually, log, start_chat

VISITORS = [
    ("Anna Kowalska", "anna@example.com", "Order", "My parcel never arrived."),
    ("Mia Rossi", "mia@example.com", "Billing", "I was charged twice."),
    ("Ravi Patel", "ravi@example.com", "Login problem", "I cannot log in."),
]


def add_canned(agent: AgentClient, shortcut: str, body: str, title: str) -> None:
    response = agent.http.post(
        "/api/v1/canned", json={"shortcut": shortcut, "title": title, "body": body}
    )
    assert response.status_code == 201, response.text


def pane_of(page: Page, conversation_id: int) -> object:
    return page.locator(f".pane[data-conversation-id='{conversation_id}']")


def test_three_chats_answered_with_the_keyboard_reach_the_right_visitors(
    workspace: Page,
    visitor_pages: list[Page],
    live_server: LiveServer,
    host_site: HostSite,
    desk: ChatDesk,
    agent: AgentClient,
) -> None:
    add_canned(
        agent,
        "thanks",
        "Thank you {{ contact.first_name }}, chat #{{ conversation.number }} is sorted.",
        "Thanks and sorted",
    )
    url = host_site.embed(desk.public_key)
    conversation_ids: list[int] = []
    for visitor, (name, email, topic, message) in zip(visitor_pages, VISITORS, strict=True):
        visitor.goto(url)
        start_chat(visitor, name=name, email=email, topic=topic, message=message)
        expect(log(visitor)).to_contain_text(message)
        conversation_ids.append(conversation_of(live_server, name))

    # Routing gives all three to the only online agent; each opens in its own pane.
    for conversation_id, (name, _email, _topic, message) in zip(
        conversation_ids, VISITORS, strict=True
    ):
        pane = workspace.locator(f".pane[data-conversation-id='{conversation_id}']")
        expect(pane.locator(".pane-name")).to_have_text(name)
        expect(pane.locator(".timeline")).to_contain_text(message)
    expect(workspace.locator(".pane")).to_have_count(3)

    with live_server.session() as db:
        numbers = {
            c.id: c.number
            for c in db.scalars(select(Conversation).where(Conversation.id.in_(conversation_ids)))
        }

    keyboard = workspace.keyboard
    for index, (conversation_id, (name, _email, _topic, _message)) in enumerate(
        zip(conversation_ids, VISITORS, strict=True), start=1
    ):
        pane = workspace.locator(f".pane[data-conversation-id='{conversation_id}']")
        keyboard.press(f"Alt+{index}")
        expect(pane).to_have_class(re.compile(r"\bis-focused\b"))
        composer = pane.locator(".composer-text")
        expect(composer).to_be_focused()
        expect(pane.locator(".composer-target")).to_contain_text(
            f"Replying to {name}, chat #{numbers[conversation_id]}"
        )
        keyboard.press("/")
        search = pane.get_by_role("combobox", name="Search canned responses")
        expect(search).to_be_focused()
        keyboard.type("thanks")
        expect(pane.locator(".picker-item").first).to_contain_text("/thanks")
        keyboard.press("Enter")
        first_name = name.split()[0]
        expected = f"Thank you {first_name}, chat #{numbers[conversation_id]} is sorted."
        expect(composer).to_have_value(expected)
        keyboard.type(" Bye!")  # still editable after insertion
        keyboard.press("Enter")
        expect(pane.locator(".entry.message.agent")).to_contain_text(expected + " Bye!")
        keyboard.press("Control+Alt+s")
        expect(pane.locator(".badge.status")).to_have_text("Solved")

    for visitor, conversation_id, (name, _email, _topic, _message) in zip(
        visitor_pages, conversation_ids, VISITORS, strict=True
    ):
        own = f"Thank you {name.split()[0]}, chat #{numbers[conversation_id]} is sorted. Bye!"
        expect(log(visitor)).to_contain_text(own)
        for other_id, (other, _e, _t, _m) in zip(conversation_ids, VISITORS, strict=True):
            if other_id != conversation_id:
                expect(log(visitor)).not_to_contain_text(f"Thank you {other.split()[0]}")
        agent_bodies = [
            body
            for body in message_bodies(live_server, conversation_id)
            if body.startswith("Thank")
        ]
        assert agent_bodies == [own]

    def all_solved() -> bool:
        with live_server.session() as db:
            statuses = db.scalars(
                select(Conversation.status).where(Conversation.id.in_(conversation_ids))
            )
            return all(status == "solved" for status in statuses)

    eventually(all_solved)
