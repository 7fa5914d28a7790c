"""The public help center in Chromium: browse, search with a typo, read, vote."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from helpline.adapters.db.base import utcnow
from tests.browser.conftest import LiveServer
from tests.help_center.support import editor, write


def _arrange(live_server: LiveServer) -> None:
    with live_server.session() as db:
        author = editor(db)
        now = utcnow()
        write(
            db,
            author,
            now,
            "Reset your password",
            "Open the sign-in page and choose **Forgot password?**. The link works for an hour.",
            category="account",
        )
        write(
            db,
            author,
            now,
            "Two-factor authentication",
            "Keep your backup codes safe; they also help you reset a lost password.",
            category="account",
        )
        write(db, author, now, "Our refund policy", "Refunds take 5 days.", category="billing")


def test_search_with_a_typo_open_the_article_and_vote(page: Page, live_server: LiveServer) -> None:
    _arrange(live_server)
    page.goto(f"{live_server.url}/help")
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    expect(page.get_by_role("heading", name="Billing and payments")).to_be_visible()

    page.get_by_label("Search the help center").fill("pasword")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"/help/search\?lang=en&q=pasword$"))
    first = page.locator(".help-result").first
    expect(first.locator("mark").first).to_have_text(re.compile("password", re.IGNORECASE))
    first.get_by_role("link").click()

    expect(page).to_have_url(f"{live_server.url}/help/articles/reset-your-password")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    expect(page.locator(".help-body strong")).to_have_text("Forgot password?")
    expect(page.locator(".help-related")).to_contain_text("Two-factor authentication")

    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_role("status").first).to_contain_text("Thanks for your feedback!")
    expect(page.locator(".help-voted")).to_contain_text("helpful")
