"""An agent's day through the real pages in Chromium: sign in, read, reply, reset."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from helpline.adapters.db.base import utcnow
from helpline.adapters.db.models import OutboxItem
from helpline.services.conversations import do_add_note, do_create_conversation
from helpline.services.viewer import load_viewer
from tests.browser.conftest import LiveServer
from tests.factories import make_contact, make_inbox, make_team, make_user
from tests.support import DEFAULT_PASSWORD


def _arrange_desk(live_server: LiveServer) -> int:
    """An agent with two conversations; returns the id of the one with a note."""
    with live_server.session() as db:
        team = make_team(db, "Billing")
        inbox = make_inbox(db, "Website chat")
        agent = make_user(db, "ada@example.com", name="Ada Lovelace", teams=[team], inboxes=[inbox])
        grace = make_contact(db, name="Grace Hopper")
        linus = make_contact(db, name="Linus Berg")
        db.commit()
        viewer = load_viewer(db, agent)
        first = do_create_conversation(
            db,
            viewer,
            inbox_id=inbox.id,
            contact_id=grace.id,
            subject="Charged twice for my order",
            first_message="I see two payments of 89.90 on my card.",
            team_id=team.id,
            now=utcnow(),
        )
        do_add_note(db, viewer, first.id, body="Duplicate capture, refund it.", now=utcnow())
        do_create_conversation(
            db,
            viewer,
            inbox_id=inbox.id,
            contact_id=linus.id,
            subject="Where is my parcel?",
            first_message="Tracking has not moved for days.",
            team_id=team.id,
            now=utcnow(),
        )
        return first.id


def _sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_open_a_conversation_and_reply(page: Page, live_server: LiveServer) -> None:
    conversation_id = _arrange_desk(live_server)

    page.goto(f"{live_server.url}/inbox")
    expect(page).to_have_url(re.compile(r"/login\?next=/inbox$"))
    _sign_in(page, "ada@example.com", DEFAULT_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/inbox")
    page.get_by_role("link", name="My teams").click()
    rows = page.locator("tr.conversation-row")
    expect(rows).to_have_count(2)
    expect(page.locator("table.conversations")).to_contain_text("Charged twice for my order")
    expect(page.locator("table.conversations")).to_contain_text("Grace Hopper")

    page.get_by_role("link", name="Charged twice for my order").click()
    expect(page).to_have_url(re.compile(rf"/conversations/{conversation_id}$"))
    expect(page.locator(".msg-contact")).to_contain_text("two payments of 89.90")
    expect(page.locator(".msg-note")).to_contain_text("Internal note")

    page.get_by_label(re.compile("^Reply to Grace")).fill("Refunded the duplicate payment.")
    page.get_by_role("button", name="Send reply").click()

    expect(page.locator(".flash-success")).to_have_text("Reply sent.")
    expect(page.locator(".msg-agent").last).to_contain_text("Refunded the duplicate payment.")
    expect(page.locator(".msg-agent").last).to_contain_text("Ada Lovelace")


def test_wrong_password_shows_an_error(page: Page, live_server: LiveServer) -> None:
    with live_server.session() as db:
        make_user(db, "ada@example.com")
        db.commit()
    page.goto(f"{live_server.url}/login")
    _sign_in(page, "ada@example.com", "not my password")
    expect(page.locator("#form-error")).to_have_text("Wrong email or password.")
    expect(page.get_by_label("Email")).to_have_value("ada@example.com")
    page.goto(f"{live_server.url}/inbox")
    expect(page).to_have_url(re.compile(r"/login"))


def test_forgot_and_reset_password_through_the_pages(page: Page, live_server: LiveServer) -> None:
    with live_server.session() as db:
        make_user(db, "ada@example.com", name="Ada Lovelace")
        db.commit()

    page.goto(f"{live_server.url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#reset-sent")).to_contain_text("If an account uses this address")

    with live_server.session() as db:
        item = db.scalars(select(OutboxItem)).one()
        link = re.search(r"http\S+/reset-password\?token=[\w-]+", item.payload["text"])
    assert link is not None

    page.goto(link.group(0))
    page.get_by_label("New password", exact=True).fill("my new passphrase")
    page.get_by_label("New password again").fill("my new passphrase")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator(".notice")).to_contain_text("Your password has been changed")

    _sign_in(page, "ada@example.com", "my new passphrase")
    expect(page).to_have_url(f"{live_server.url}/inbox")
    expect(page.locator("h1")).to_have_text("Inbox")

    page.goto(link.group(0))  # the link works once
    page.get_by_label("New password", exact=True).fill("another passphrase")
    page.get_by_label("New password again").fill("another passphrase")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#form-error")).to_contain_text("This reset link is not valid")
