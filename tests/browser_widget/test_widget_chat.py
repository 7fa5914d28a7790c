"""A visitor on a shop's page chats with an agent through the widget, in Chromium:
pre-chat form, queue position, replies both ways, typing and read state,
attachments, reloads, an ended conversation, and text that is never HTML."""

from __future__ import annotations

import json
import re
import struct
import time
import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from playwright.sync_api import FilePayload, Page, WebSocketRoute, expect
from sqlalchemy import select
from websockets.sync.client import connect

from helpline.adapters.db.base import utcnow
from helpline.adapters.db.models import (
    Attachment,
    Contact,
    Conversation,
    Inbox,
    OutboxItem,
    User,
)
from helpline.services.api_tokens import do_create_api_token
from tests.browser.conftest import LiveServer
from tests.browser_widget.conftest import (
    AGENT_NAME,
    AgentClient,
    ChatDesk,
    HostSite,
    arrange_chat_inbox,
    message_bodies,
)
from tests.factories import make_contact, make_conversation, make_inbox

T = TypeVar("T")


def eventually(check: Callable[[], T | None], *, seconds: float = 10.0) -> T:
    """Poll the server side until `check` returns something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("the server never got there")
        time.sleep(0.05)


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A real PNG (the server decides a file's type from its bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\x20\x60\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def open_widget(page: Page, label: str = "Chat with us") -> None:
    page.get_by_role("button", name=label).click()


def start_chat(
    page: Page,
    *,
    name: str = "Mia Rossi",
    email: str = "mia@example.com",
    topic: str | None = "Billing",
    message: str = "I was charged twice for order 1234.",
) -> None:
    open_widget(page)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    if topic is not None:
        page.get_by_label("Topic").select_option(label=topic)
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Start chat").click()


def log(page: Page) -> Any:
    return page.locator(".hl-log")


def status_strip(page: Page) -> Any:
    return page.locator(".hl-status")


def send_from_widget(page: Page, text: str) -> None:
    composer = page.get_by_role("textbox", name="Message")
    composer.fill(text)
    composer.press("Enter")


def conversation_of(live_server: LiveServer, contact_name: str) -> int:
    def find() -> int | None:
        with live_server.session() as db:
            return db.scalar(
                select(Conversation.id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(Contact.name == contact_name)
            )

    return eventually(find)


def test_visitor_and_agent_talk_through_the_widget(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk, agent: AgentClient
) -> None:
    # The only agent is busy with one chat (her limit) and two customers with failed
    # payments wait already, so the visitor (the AI sees a failed payment too) is
    # third in the queue: same urgency, shorter wait.
    with live_server.session() as db:
        inbox = db.get(Inbox, desk.inbox_id)
        ada = db.get(User, desk.agent_id)
        assert inbox is not None and ada is not None
        ada.max_concurrent_chats = 1
        earlier = utcnow() - timedelta(minutes=10)
        busy = make_conversation(
            db, inbox, make_contact(db, name="Busy Customer"), assignee_id=ada.id
        ).id
        waiting = [
            make_conversation(
                db,
                inbox,
                make_contact(db, name=name),
                created_at=earlier,
                waiting_since=earlier,
                priority="urgent",
                category="billing",
                urgent_reason="failed payment",
            ).id
            for name in ("First Waiting", "Second Waiting")
        ]
        db.commit()

    page.goto(host_site.embed(desk.public_key))
    start_chat(page)

    expect(log(page)).to_contain_text("I was charged twice for order 1234.")
    expect(status_strip(page)).to_contain_text("You are number 3")

    # The queue moves while the visitor watches.
    agent.set_status(waiting[0], "solved")
    expect(status_strip(page)).to_contain_text("You are number 2")

    conversation_id = conversation_of(live_server, "Mia Rossi")
    assert agent.conversation(conversation_id).category == "billing"
    agent.set_status(busy, "solved")
    agent.take(conversation_id)
    expect(status_strip(page)).to_have_text(f"{AGENT_NAME} is helping you")
    expect(log(page)).to_contain_text(f"{AGENT_NAME} joined the chat")

    agent.reply(conversation_id, "Hello Mia, I see the two charges. Refunding one now.")
    reply = log(page).locator(".hl-msg-agent").last
    expect(reply).to_contain_text("Refunding one now.")
    expect(reply).to_contain_text(AGENT_NAME)

    send_from_widget(page, "Thank you, that was quick!")
    expect(log(page).locator(".hl-msg-mine").last).to_contain_text("Thank you, that was quick!")
    eventually(lambda: "Thank you, that was quick!" in agent.message_bodies(conversation_id))
    # Nothing shown twice: the first message, the reply, the thank-you.
    expect(log(page).locator(".hl-msg")).to_have_count(3)


def test_typing_and_read_state_travel_both_ways(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk, agent: AgentClient
) -> None:
    with live_server.session() as db:
        user = db.get(User, desk.agent_id)
        assert user is not None
        raw_token, _ = do_create_api_token(db, user, name="test", now=utcnow())
    page.goto(host_site.embed(desk.public_key))
    start_chat(page)
    conversation_id = conversation_of(live_server, "Mia Rossi")
    agent.take(conversation_id)
    expect(status_strip(page)).to_have_text(f"{AGENT_NAME} is helping you")

    ws_url = live_server.url.replace("http://", "ws://") + "/api/v1/ws"
    with connect(ws_url, additional_headers={"Authorization": f"Bearer {raw_token}"}) as socket:

        def next_frame(wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                frame: dict[str, Any] = json.loads(socket.recv(timeout=10))
                if wanted(frame):
                    return frame
            raise AssertionError("no such frame")

        # Like the agent's conversation page: follow this conversation from now on.
        cursor = agent.conversation(conversation_id).last_seq
        socket.send(
            json.dumps(
                {"type": "subscribe", "conversation_id": conversation_id, "after_seq": cursor}
            )
        )
        # Frames are handled in order: the pong proves the subscription is in place
        # (typing is live only, never replayed, so one sent before would be missed).
        socket.send(json.dumps({"type": "ping"}))
        next_frame(lambda f: f["type"] == "pong")
        page.get_by_role("textbox", name="Message").press_sequentially("Just a sec", delay=20)
        typing = next_frame(lambda f: f["type"] == "typing" and f.get("active") is True)
        assert typing["conversation_id"] == conversation_id
        assert typing["who"] == "contact"

        socket.send(
            json.dumps({"type": "typing", "conversation_id": conversation_id, "active": True})
        )
        expect(page.locator(".hl-typing")).to_have_text(f"{AGENT_NAME} is typing…")

        socket.send(
            json.dumps(
                {
                    "type": "message",
                    "conversation_id": conversation_id,
                    "body": "Take your time.",
                    "client_message_id": "agent-1",
                    "kind": "reply",
                }
            )
        )
        expect(log(page)).to_contain_text("Take your time.")
        expect(page.locator(".hl-typing")).to_have_text("")
        # The widget is open and visible: the visitor has read the reply.
        read = next_frame(lambda f: f["type"] == "read")
        assert read["by"] == "contact"

        page.get_by_role("textbox", name="Message").press("Enter")
        mine = log(page).locator(".hl-msg-mine").last
        expect(mine).to_contain_text("Just a sec")
        sent = next_frame(
            lambda f: (
                f["type"] == "event" and f["event"].get("message", {}).get("body") == "Just a sec"
            )
        )
        socket.send(
            json.dumps({"type": "read", "conversation_id": conversation_id, "seq": sent["seq"]})
        )
        expect(mine.locator(".hl-meta")).to_contain_text("Read")


def test_an_image_goes_from_visitor_to_agent(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk, agent: AgentClient
) -> None:
    image = tiny_png()
    page.goto(host_site.embed(desk.public_key))
    start_chat(page)
    expect(log(page)).to_contain_text("I was charged twice")

    page.locator('input[type="file"]').set_input_files(
        files=[FilePayload(name="receipt.png", mimeType="image/png", buffer=image)]
    )
    preview = log(page).get_by_role("img", name="receipt.png")
    expect(preview).to_have_js_property("naturalWidth", 4)  # the bytes arrived and decode
    expect(log(page)).to_contain_text("Download: receipt.png")

    # A type the inbox does not take is refused before any upload.
    page.locator('input[type="file"]').set_input_files(
        files=[FilePayload(name="setup.exe", mimeType="application/x-msdownload", buffer=b"MZ" * 9)]
    )
    expect(page.locator(".hl-banner")).to_contain_text("Files of this type can't be sent")

    conversation_id = conversation_of(live_server, "Mia Rossi")
    with live_server.session() as db:
        attachments = list(
            db.scalars(select(Attachment).where(Attachment.conversation_id == conversation_id))
        )
    assert [(a.name, a.mime) for a in attachments] == [("receipt.png", "image/png")]
    download = agent.http.get(f"/api/v1/attachments/{attachments[0].id}")
    assert download.status_code == 200
    assert download.content == image
    assert "nosniff" in download.headers["x-content-type-options"]
    assert download.headers["content-disposition"].startswith("attachment")


def test_offline_form_creates_an_email_ticket(
    page: Page, live_server: LiveServer, host_site: HostSite
) -> None:
    desk = arrange_chat_inbox(live_server, agent_online=False)
    page.goto(host_site.embed(desk.public_key))
    open_widget(page)
    expect(page.get_by_role("heading", name="Leave us a message")).to_be_visible()
    page.get_by_label("Your name").fill("Nora Berg")
    page.get_by_label("Email").fill("nora@example.com")
    page.get_by_label("Topic").select_option(label="Order")
    page.get_by_label("Message").fill("Where is my parcel? Order 5521.")
    page.get_by_role("button", name="Send message").click()

    expect(page.get_by_text("Thank you! We received your message.")).to_be_visible()
    expect(page.get_by_text("We usually answer within one business day.")).to_be_visible()
    with live_server.session() as db:
        ticket = db.scalar(
            select(Conversation)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Contact.email == "nora@example.com")
        )
        assert ticket is not None
        assert ticket.channel == "email"
        assert ticket.category == "orders"
    assert message_bodies(live_server, ticket.id) == ["Where is my parcel? Order 5521."]


def test_reload_and_navigation_keep_the_conversation(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk, agent: AgentClient
) -> None:
    page.goto(host_site.embed(desk.public_key))
    start_chat(page)
    conversation_id = conversation_of(live_server, "Mia Rossi")
    agent.take(conversation_id)
    agent.reply(conversation_id, "Hi Mia, looking into it.")
    expect(log(page)).to_contain_text("looking into it")

    page.reload()
    expect(log(page)).to_contain_text("I was charged twice for order 1234.")
    expect(log(page)).to_contain_text("Hi Mia, looking into it.")
    expect(status_strip(page)).to_have_text(f"{AGENT_NAME} is helping you")

    page.get_by_role("link", name="Another page of the shop").click()
    expect(page).to_have_url(re.compile(r"/other$"))
    expect(log(page)).to_contain_text("Hi Mia, looking into it.")
    # Messages sent while the page was away arrive on the next page.
    agent.reply(conversation_id, "Found it: the refund is on its way.")
    expect(log(page)).to_contain_text("the refund is on its way")
    send_from_widget(page, "Great, thanks.")
    eventually(lambda: "Great, thanks." in agent.message_bodies(conversation_id))
    expect(log(page).locator(".hl-msg")).to_have_count(4)


def test_the_widget_reconnects_and_catches_up(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk, agent: AgentClient
) -> None:
    # The widget's WebSocket goes through Playwright, which can cut it like a
    # failing network: open sockets drop and new ones are refused until it is back.
    network = {"up": True}
    sockets: list[WebSocketRoute] = []

    def route(socket: WebSocketRoute) -> None:
        if not network["up"]:
            socket.close()
            return
        socket.connect_to_server()
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/api/v1/widget/.+/ws"), route)
    page.goto(host_site.embed(desk.public_key))
    start_chat(page)
    conversation_id = conversation_of(live_server, "Mia Rossi")
    agent.take(conversation_id)
    expect(status_strip(page)).to_have_text(f"{AGENT_NAME} is helping you")

    network["up"] = False
    for socket in sockets:
        socket.close()
    expect(page.locator(".hl-banner")).to_have_text("Reconnecting…")
    agent.reply(conversation_id, "Missed one.")
    agent.reply(conversation_id, "Missed two.")
    agent.set_status(conversation_id, "pending")
    network["up"] = True
    page.evaluate("window.dispatchEvent(new Event('online'))")

    expect(log(page)).to_contain_text("Missed two.")
    expect(page.locator(".hl-banner")).to_be_hidden()
    agent_lines = log(page).locator(".hl-msg-agent")
    expect(agent_lines).to_have_count(2)
    expect(agent_lines.nth(0)).to_contain_text("Missed one.")
    # Sending works again on the new connection.
    send_from_widget(page, "Back online.")
    eventually(lambda: "Back online." in agent.message_bodies(conversation_id))
    expect(log(page).locator(".hl-msg-mine")).to_have_count(2)


def test_message_text_is_shown_as_text_never_as_html(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk, agent: AgentClient
) -> None:
    attack = '<img src=x onerror="window.__pwned = 1">'
    page.goto(host_site.embed(desk.public_key))
    start_chat(page, message=attack)
    conversation_id = conversation_of(live_server, "Mia Rossi")
    agent.reply(conversation_id, "<b>Not bold</b> — see https://example.com/help?q=refund.")

    expect(log(page).locator(".hl-msg-mine").first).to_contain_text(attack)
    expect(log(page)).to_contain_text("<b>Not bold</b>")
    expect(log(page).locator("img")).to_have_count(0)
    expect(log(page).locator("b")).to_have_count(0)
    link = log(page).get_by_role("link", name="https://example.com/help?q=refund")
    expect(link).to_have_attribute("href", "https://example.com/help?q=refund")
    expect(link).to_have_attribute("target", "_blank")
    assert page.evaluate("window.__pwned") is None
    assert agent.message_bodies(conversation_id)[0] == attack


def test_an_ended_conversation_asks_for_a_rating_and_sends_a_transcript(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk, agent: AgentClient
) -> None:
    with live_server.session() as db:  # this inbox asks the NPS question too
        inbox = db.get(Inbox, desk.inbox_id)
        assert inbox is not None
        inbox.settings = {**inbox.settings, "ask_nps": True}
        db.commit()
    page.goto(host_site.embed(desk.public_key))
    start_chat(page)
    conversation_id = conversation_of(live_server, "Mia Rossi")
    agent.take(conversation_id)
    agent.reply(conversation_id, "Refunded. Anything else?")
    agent.set_status(conversation_id, "solved")

    expect(log(page)).to_contain_text("The agent marked this conversation as solved.")
    expect(status_strip(page)).to_have_text("This conversation has ended.")
    page.get_by_role("button", name="4 out of 5").click()
    page.get_by_label("Comment (optional)").fill("Fast and friendly.")
    recommend = page.get_by_role(
        "group", name="How likely are you to recommend us to a friend or colleague?"
    )
    recommend.get_by_role("button", name="9 out of 10").click()
    expect(recommend.get_by_role("button", name="9 out of 10")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_text("Thank you for your feedback!")).to_be_visible()

    expect(page.get_by_label("Email me a transcript")).to_have_value("mia@example.com")
    page.get_by_role("button", name="Send transcript").click()
    expect(page.get_by_text("We'll email the transcript to mia@example.com.")).to_be_visible()

    rated = agent.conversation(conversation_id)
    assert (rated.csat_score, rated.csat_comment) == (4, "Fast and friendly.")
    with live_server.session() as db:
        stored = db.get(Conversation, conversation_id)
        assert stored is not None and stored.nps_score == 9
    with live_server.session() as db:
        emails = [item.payload for item in db.scalars(select(OutboxItem))]
    assert any("mia@example.com" in json.dumps(payload) for payload in emails)

    # After a reload the answers are remembered, and a new conversation can start.
    page.reload()
    expect(page.get_by_text("Thank you for your feedback!")).to_be_visible()
    page.get_by_role("button", name="Start a new conversation").click()
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()


def test_polish_browser_gets_polish_texts(
    browser: Any, live_server: LiveServer, host_site: HostSite, desk: ChatDesk
) -> None:
    with live_server.session() as db:
        inbox = db.get(Inbox, desk.inbox_id)
        ada = db.get(User, desk.agent_id)
        assert inbox is not None and ada is not None
        ada.max_concurrent_chats = 1
        make_conversation(db, inbox, assignee_id=ada.id)  # she is busy: the visitor waits
        db.commit()
    context = browser.new_context(locale="pl-PL")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(host_site.embed(desk.public_key))
        open_widget(page, "Napisz do nas")
        expect(page.get_by_text("Cześć! Tu pomoc Acme.")).to_be_visible()
        page.get_by_label("Imię i nazwisko").fill("Ola Nowak")
        page.get_by_label("Temat").select_option(label="Płatności")
        page.get_by_label("Wiadomość").fill("Dwa razy pobrano opłatę.")
        page.get_by_role("button", name="Rozpocznij czat").click()
        expect(status_strip(page)).to_contain_text("Jesteś numerem 1 w kolejce")
        expect(page.get_by_role("textbox", name="Wiadomość")).to_have_attribute(
            "placeholder", "Napisz wiadomość…"
        )
    finally:
        context.close()


def test_a_polish_visitor_leaves_an_offline_message_in_polish(
    browser: Any, live_server: LiveServer, host_site: HostSite
) -> None:
    desk = arrange_chat_inbox(
        live_server,
        agent_online=False,
        expected_reply={"en": "We answer tomorrow.", "pl": "Odpowiemy jutro."},
    )
    context = browser.new_context(locale="pl-PL")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(host_site.embed(desk.public_key))
        open_widget(page, "Napisz do nas")
        expect(page.get_by_role("heading", name="Zostaw wiadomość")).to_be_visible()
        page.get_by_label("Imię i nazwisko").fill("Ola Nowak")
        page.locator('input[name="email"]').fill("ola@example.com")
        page.get_by_label("Wiadomość").fill("Gdzie paczka?")
        page.get_by_role("button", name="Wyślij wiadomość").click()
        # The server's expected-reply text in the widget's language, not English.
        expect(page.get_by_text("Odpowiemy jutro.")).to_be_visible()
    finally:
        context.close()
    with live_server.session() as db:
        ticket = db.scalar(
            select(Conversation)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Contact.email == "ola@example.com")
        )
        assert ticket is not None
        assert ticket.language == "pl"  # agents and the AI see the customer's language


def test_a_page_on_a_domain_the_inbox_does_not_allow_gets_no_widget(
    page: Page, live_server: LiveServer, host_site: HostSite
) -> None:
    desk = arrange_chat_inbox(live_server, allowed_domains=("shop.example",))
    with page.expect_console_message(lambda message: "no config" in message.text):
        page.goto(host_site.embed(desk.public_key))
    expect(page.get_by_role("button", name="Chat with us")).to_have_count(0)


def test_a_signed_in_customer_is_recognised_on_every_device(
    browser: Any, page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk
) -> None:
    from helpline.services.visitors import identifier_hash

    identity = {
        "external_id": "customer-42",
        "identifier_hash": identifier_hash(desk.secret, "customer-42"),
        "name": "Mia Rossi",
        "email": "mia@example.com",
    }
    url = host_site.embed(desk.public_key, settings=identity)
    page.goto(url)
    open_widget(page)
    # Name and email come from the shop: the form asks only for the message.
    expect(page.get_by_label("Your name")).to_have_count(0)
    page.get_by_label("Message").fill("Is my order shipped?")
    page.get_by_role("button", name="Start chat").click()
    expect(log(page)).to_contain_text("Is my order shipped?")
    with live_server.session() as db:
        contact = db.scalar(select(Contact).where(Contact.external_id == "customer-42"))
        assert contact is not None
        assert contact.verified

    # The same customer on another device sees the conversation.
    other = browser.new_context(locale="en-GB")
    other.set_default_timeout(10_000)
    try:
        laptop = other.new_page()
        laptop.goto(url)
        open_widget(laptop)
        expect(log(laptop)).to_contain_text("Is my order shipped?")
    finally:
        other.close()


def test_the_demo_page_embeds_the_widget(page: Page, live_server: LiveServer) -> None:
    with live_server.session() as db:
        inbox = make_inbox(db, "Demo chat")
        db.commit()
    page.goto(f"{live_server.url}/widget-demo")
    expect(page.get_by_role("heading", name="Trail Shell Jacket")).to_be_visible()
    expect(page.locator("pre.shop-snippet")).to_contain_text(inbox.public_key)
    open_widget(page)
    # No agent is online: the same-origin page still reaches the API through its CSP.
    expect(page.get_by_role("heading", name="Leave us a message")).to_be_visible()


@pytest.mark.parametrize(
    ("locale", "launcher", "start"),
    [
        ("it-IT", "Chatta con noi", "Inizia la chat"),
        ("el-GR", "Συνομιλήστε μαζί μας", "Έναρξη συνομιλίας"),
    ],
)
def test_italian_and_greek_browsers_get_their_language(
    browser: Any, host_site: HostSite, desk: ChatDesk, locale: str, launcher: str, start: str
) -> None:
    context = browser.new_context(locale=locale)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(host_site.embed(desk.public_key))
        open_widget(page, launcher)
        expect(page.get_by_role("button", name=start)).to_be_visible()
    finally:
        context.close()
