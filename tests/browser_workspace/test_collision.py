"""Two agents on one conversation in the workspace: each sees the other viewing and
typing, a reply that would collide asks first (Esc keeps the draft, Enter sends),
an @mention reaches the colleague's header live, and the status control lives on
the workspace's one socket."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from helpline.adapters.db.models import Inbox, Notification
from tests.browser.conftest import LiveServer
from tests.browser_widget.conftest import AgentClient, ChatDesk, message_bodies
from tests.browser_widget.test_widget_chat import eventually
from tests.browser_workspace.conftest import EXPECT_TIMEOUT_MS, sign_in
from tests.factories import make_contact, make_conversation, make_user
from tests.support import DEFAULT_PASSWORD

MARIA_EMAIL = "maria@example.com"
MARIA = "Maria Nowak"
ADA = "Ada Lovelace"


@dataclass
class Chat:
    id: int
    number: int


@pytest.fixture
def chat(live_server: LiveServer, desk: ChatDesk) -> Chat:
    """Maria, a second agent of the desk's inbox, and an unassigned conversation
    both of them can see."""
    with live_server.session() as db:
        inbox = db.get(Inbox, desk.inbox_id)
        assert inbox is not None
        make_user(db, MARIA_EMAIL, name=MARIA, inboxes=[inbox])
        contact = make_contact(db, "anna@example.com", name="Anna Kowalska")
        conversation = make_conversation(db, inbox, contact, subject="Parcel missing")
        db.commit()
        return Chat(conversation.id, conversation.number)


@pytest.fixture
def maria_page(browser: Browser, live_server: LiveServer, chat: Chat) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page, live_server.url, MARIA_EMAIL)
        yield page
    finally:
        context.close()


def open_from_unassigned(page: Page, chat: Chat) -> Locator:
    page.locator("#ws-views [data-view='unassigned']").click()
    page.locator(f".row-open[data-id='{chat.id}']").click()
    pane = page.locator(f".pane[data-conversation-id='{chat.id}']")
    expect(pane.locator(".composer-text")).to_be_focused()
    return pane


def test_colleagues_see_each_other_and_a_colliding_reply_asks_first(
    workspace: Page, maria_page: Page, live_server: LiveServer, chat: Chat
) -> None:
    ada_pane = open_from_unassigned(workspace, chat)
    maria_pane = open_from_unassigned(maria_page, chat)

    # Each sees the other viewing (the newcomer asked, the one already there answered).
    expect(ada_pane.locator(".pane-viewer-name")).to_have_text([MARIA])
    expect(maria_pane.locator(".pane-viewer-name")).to_have_text([ADA])
    expect(ada_pane.locator(".pane-viewers")).to_contain_text("Also viewing:")
    expect(ada_pane.locator(".composer-collision")).to_be_empty()

    # Maria starts typing a reply: Ada's composer says so.
    maria_pane.locator(".composer-text").press_sequentially("Let me check the courier")
    expect(ada_pane.locator(".composer-collision")).to_have_text(f"{MARIA} is typing a reply")

    # Ada tries to send over her: asked first; Esc keeps the draft, unsent.
    ada_box = ada_pane.locator(".composer-text")
    ada_box.press_sequentially("We will refund you today.")
    ada_box.press("Enter")
    warning = workspace.get_by_role("alertdialog")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(f"{MARIA} is typing a reply")
    expect(warning.get_by_role("button", name="Send anyway")).to_be_focused()
    workspace.keyboard.press("Escape")
    expect(warning).to_be_hidden()
    expect(ada_box).to_have_value("We will refund you today.")
    expect(ada_box).to_be_focused()
    assert "We will refund you today." not in message_bodies(live_server, chat.id)

    # Maria gives up her draft and answers the customer from elsewhere (the API).
    maria_box = maria_pane.locator(".composer-text")
    maria_box.fill("")  # an empty box: "stopped typing"
    with httpx.Client(base_url=live_server.url, timeout=10) as maria_api:
        login = maria_api.post(
            "/api/v1/auth/login", json={"email": MARIA_EMAIL, "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 200, login.text
        sent = maria_api.post(
            f"/api/v1/conversations/{chat.id}/messages",
            json={"body": "The courier has it, Anna."},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        assert sent.status_code in (200, 201), sent.text
    expect(ada_pane.locator(".timeline")).to_contain_text("The courier has it, Anna.")
    expect(ada_pane.locator(".composer-collision")).to_have_text(
        f"{MARIA} replied since you started writing"
    )

    # Ada sends anyway: the question again, and Enter confirms.
    ada_box.press("Enter")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(f"{MARIA} replied since you started writing")
    workspace.keyboard.press("Enter")
    expect(warning).to_be_hidden()
    expect(ada_pane.locator(".entry.message.agent")).to_contain_text(["We will refund you today."])
    expect(ada_box).to_have_value("")
    expect(ada_pane.locator(".composer-collision")).to_be_empty()
    expect(maria_pane.locator(".timeline")).to_contain_text("We will refund you today.")
    assert message_bodies(live_server, chat.id)[-2:] == [
        "The courier has it, Anna.",
        "We will refund you today.",
    ]

    # Maria closes her pane: Ada no longer sees her there.
    maria_pane.get_by_role("button", name="Close this pane").click()
    expect(ada_pane.locator(".pane-viewers")).to_be_empty()


def test_a_note_needs_no_confirmation_and_a_lone_agent_is_never_asked(
    workspace: Page, maria_page: Page, live_server: LiveServer, chat: Chat
) -> None:
    ada_pane = open_from_unassigned(workspace, chat)
    maria_pane = open_from_unassigned(maria_page, chat)
    expect(ada_pane.locator(".pane-viewers")).to_contain_text(MARIA)
    maria_pane.locator(".composer-text").press_sequentially("Typing away")
    expect(ada_pane.locator(".composer-collision")).to_have_text(f"{MARIA} is typing a reply")

    # An internal note does not reach the customer: nothing to collide with.
    ada_box = ada_pane.locator(".composer-text")
    workspace.keyboard.press("Alt+i")
    ada_box.press_sequentially("Customer is a VIP")
    ada_box.press("Enter")
    expect(ada_pane.locator(".entry.message.note")).to_contain_text("Customer is a VIP")
    expect(workspace.get_by_role("alertdialog")).to_be_hidden()

    # Maria leaves the page entirely: Ada is alone and her reply goes straight out.
    maria_page.close()
    expect(ada_pane.locator(".pane-viewers")).to_be_empty()
    expect(ada_pane.locator(".composer-collision")).to_be_empty()
    workspace.keyboard.press("Alt+i")
    ada_box.press_sequentially("All sorted.")
    ada_box.press("Enter")
    expect(ada_pane.locator(".entry.message.agent.reply")).to_contain_text(["All sorted."])
    expect(workspace.get_by_role("alertdialog")).to_be_hidden()


def test_a_mention_reaches_the_colleague_header_live_and_opens_the_chat(
    workspace: Page, maria_page: Page, live_server: LiveServer, chat: Chat
) -> None:
    count = maria_page.locator("#ws-mentions-count")
    expect(count).to_be_hidden()

    ada_pane = open_from_unassigned(workspace, chat)
    workspace.keyboard.press("Alt+i")
    ada_box = ada_pane.locator(".composer-text")
    ada_box.press_sequentially("@maria can you check the refund?")
    ada_box.press("Enter")
    expect(ada_pane.locator(".entry.message.note")).to_contain_text("@maria can you check")

    # Live: no reload on Maria's side.
    expect(count).to_have_text("1")
    button = maria_page.locator("#ws-mentions-button")
    expect(button).to_have_attribute("aria-label", "Mentions, 1 unread")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    item = maria_page.locator(f".ws-mention[data-conversation-id='{chat.id}']")
    expect(item).to_contain_text(f"{ADA} in chat #{chat.number}: Parcel missing")
    expect(item).to_contain_text("@maria can you check the refund?")
    expect(item).to_be_focused()  # the panel opens with the newest mention focused
    maria_page.keyboard.press("Enter")

    pane = maria_page.locator(f".pane[data-conversation-id='{chat.id}']")
    expect(pane).to_have_class(re.compile(r"\bis-focused\b"))
    expect(pane.locator(".entry.message.note")).to_contain_text("@maria can you check")
    expect(maria_page.locator("#ws-mentions-panel")).to_be_hidden()
    expect(count).to_be_hidden()

    def read() -> bool:
        with live_server.session() as db:
            rows = list(db.scalars(select(Notification)))
            return len(rows) == 1 and rows[0].read_at is not None

    eventually(read)


def test_the_status_control_works_on_the_workspace_socket(
    browser: Browser, live_server: LiveServer, desk: ChatDesk, agent: AgentClient, chat: Chat
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        page = context.new_page()
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        sign_in(page, live_server.url)
        control = page.locator("[data-agent-status]")
        expect(control).to_be_visible()
        load = control.locator("[data-load]")
        expect(load).to_have_text(re.compile(r"^0 / \d+ chats$"))

        # Assigned elsewhere: the load follows live, over the workspace's socket.
        agent.take(chat.id)
        expect(load).to_have_text(re.compile(r"^1 / \d+ chats$"))
        expect(page.locator(f".pane[data-conversation-id='{chat.id}']")).to_be_visible()

        control.get_by_label("My status").select_option("away")
        expect(control).to_have_attribute("data-status", "away")
        assert [url for url in sockets if url.endswith("/api/v1/ws")] == [
            live_server.url.replace("http", "ws") + "/api/v1/ws"
        ]
    finally:
        context.close()
