"""The FAQ bot in the widget, in Chromium: it answers from the help center with the
source, and hands over to a person in every case — not sure, two unhelpful answers,
a frustrated customer, a sensitive topic, asking for a person in words or with the
"Talk to a human" button — and with nobody online the offline form takes the
details and creates a ticket."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from helpline.adapters.db.base import utcnow
from helpline.adapters.db.models import Contact, Conversation, Message
from tests.ai.bot_support import faq_articles
from tests.browser.conftest import LiveServer
from tests.browser_widget.conftest import ChatDesk, HostSite, arrange_chat_inbox
from tests.browser_widget.test_widget_chat import (
    conversation_of,
    eventually,
    log,
    open_widget,
    send_from_widget,
    start_chat,
)

HANDOVER = "I'm passing you to a colleague now."


def bot_desk(live_server: LiveServer, *, agent_online: bool = True) -> ChatDesk:
    desk = arrange_chat_inbox(live_server, agent_online=agent_online, faq_bot=True)
    with live_server.session() as db:
        faq_articles(db, utcnow())
    return desk


def handover_note(live_server: LiveServer, conversation_id: int) -> str | None:
    with live_server.session() as db:
        chat = db.get(Conversation, conversation_id)
        if chat is None or chat.bot_active:
            return None
        return db.scalar(
            select(Message.body).where(
                Message.conversation_id == conversation_id,
                Message.kind == "note",
                Message.author_type == "bot",
            )
        )


def bot_bar(page: Page) -> Locator:
    return page.get_by_role("button", name="Talk to a human")


def test_the_bot_answers_with_its_source_and_hands_over_after_two_unhelpful_answers(
    page: Page, live_server: LiveServer, host_site: HostSite
) -> None:
    desk = bot_desk(live_server)
    page.goto(host_site.embed(desk.public_key))
    start_chat(page, topic="Order", message="How can I track my parcel?")

    answer = log(page).locator(".hl-msg-bot").last
    expect(answer).to_contain_text("follow your parcel on the Orders page")
    expect(answer).to_contain_text("Source: Track your parcel")
    expect(answer.get_by_role("link")).to_have_attribute(
        "href", f"http://127.0.0.1:8000/help/{desk.public_key}/articles/track-your-parcel"
    )
    expect(bot_bar(page)).to_be_visible()

    answer.get_by_role("button", name="That didn't help").click()
    second = log(page).locator(".hl-msg-bot").nth(1)
    expect(second).to_contain_text("Sorry that didn't help.")
    second.get_by_role("button", name="That didn't help").click()

    expect(log(page)).to_contain_text(HANDOVER)
    expect(bot_bar(page)).to_have_count(0)
    conversation_id = conversation_of(live_server, "Mia Rossi")
    note = eventually(lambda: handover_note(live_server, conversation_id))
    assert note.startswith("Bot handed over: two answers did not help.")
    assert "Bot transcript:\nCustomer: How can I track my parcel?" in note


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Do you sell gift cards for weddings in Norway?", "the bot was not sure of an answer"),
        (
            "WHERE IS MY PARCEL??? This is the third time I ask, useless!!!",
            "the customer sounds very frustrated",
        ),
        ("I was charged twice for my order and want a refund", "a sensitive topic"),
        ("Can I talk to a human please?", "the customer asked for a person"),
    ],
    ids=["not-sure", "frustrated", "sensitive", "asks-for-a-person"],
)
def test_the_bot_hands_over_at_once(
    page: Page, live_server: LiveServer, host_site: HostSite, message: str, reason: str
) -> None:
    desk = bot_desk(live_server)
    page.goto(host_site.embed(desk.public_key))
    start_chat(page, topic="Order", message=message)

    expect(log(page)).to_contain_text(HANDOVER)
    expect(bot_bar(page)).to_have_count(0)
    conversation_id = conversation_of(live_server, "Mia Rossi")
    note = eventually(lambda: handover_note(live_server, conversation_id))
    assert note.startswith(f"Bot handed over: {reason}")


def test_talk_to_a_human_is_one_click_after_an_answer(
    page: Page, live_server: LiveServer, host_site: HostSite
) -> None:
    desk = bot_desk(live_server)
    page.goto(host_site.embed(desk.public_key))
    start_chat(page, topic="Order", message="How do I return an item?")
    expect(log(page).locator(".hl-msg-bot").last).to_contain_text("Source: Return an item")

    bot_bar(page).click()

    expect(log(page)).to_contain_text(HANDOVER)
    conversation_id = conversation_of(live_server, "Mia Rossi")
    note = eventually(lambda: handover_note(live_server, conversation_id))
    assert note.startswith("Bot handed over: the customer asked for a person.")
    # The customer keeps writing; it reaches the agents, not the bot.
    send_from_widget(page, "Thanks, I will wait")
    expect(log(page).locator(".hl-msg-mine").last).to_contain_text("Thanks, I will wait")


def test_with_nobody_online_the_bot_answers_and_then_takes_the_details_for_a_ticket(
    page: Page, live_server: LiveServer, host_site: HostSite
) -> None:
    desk = bot_desk(live_server, agent_online=False)
    page.goto(host_site.embed(desk.public_key))
    start_chat(page, topic="Order", message="How can I track my parcel?")
    expect(log(page).locator(".hl-msg-bot").last).to_contain_text("Source: Track your parcel")

    bot_bar(page).click()

    expect(page.get_by_role("heading", name="Leave us a message")).to_be_visible()
    page.get_by_label("Your name").fill("Nora Berg")
    page.get_by_label("Email").fill("nora@example.com")
    page.get_by_label("Message").fill("My parcel 5521 has not moved for a week.")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_text("Thank you! We received your message.")).to_be_visible()

    with live_server.session() as db:
        ticket = db.scalar(
            select(Conversation)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Contact.email == "nora@example.com")
        )
        assert ticket is not None
        assert ticket.channel == "email"


def test_an_inbox_without_the_bot_has_no_bot(
    page: Page, live_server: LiveServer, host_site: HostSite
) -> None:
    desk = arrange_chat_inbox(live_server)
    with live_server.session() as db:
        faq_articles(db, utcnow())
    page.goto(host_site.embed(desk.public_key))
    open_widget(page)
    page.get_by_label("Your name").fill("Mia Rossi")
    page.get_by_label("Message").fill("How can I track my parcel?")
    page.get_by_role("button", name="Start chat").click()
    expect(log(page).locator(".hl-msg-mine")).to_contain_text("How can I track my parcel?")
    expect(bot_bar(page)).to_have_count(0)
    expect(log(page).locator(".hl-msg-bot")).to_have_count(0)
