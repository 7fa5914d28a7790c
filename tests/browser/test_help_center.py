"""The help center in Chromium: browse, search with a typo, read, vote; and an editor
who writes, previews and publishes an article that then shows on /help."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.help_articles import arrange_articles
from tests.help_center.support import editor
from tests.support import DEFAULT_PASSWORD


def _arrange(live_server: LiveServer) -> None:
    arrange_articles(
        live_server,
        (
            "Two-factor authentication",
            "Keep your backup codes safe; they also help you reset a lost password.",
        ),
    )


def test_search_with_a_typo_open_the_article_and_vote(page: Page, live_server: LiveServer) -> None:
    _arrange(live_server)
    page.goto(f"{live_server.url}/help")
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    expect(page.get_by_role("heading", name="Billing and payments")).to_be_visible()

    # Browse: a category's article, and back home.
    billing = page.get_by_role("region", name="Billing and payments")
    billing.get_by_role("link", name="Our refund policy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Our refund policy")
    page.get_by_role("link", name="Billing and payments").click()
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()

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


def test_an_editor_writes_previews_and_publishes_an_article(
    page: Page, live_server: LiveServer
) -> None:
    with live_server.session() as db:
        editor(db)
    page.goto(f"{live_server.url}/articles")
    page.get_by_label("Email").fill("editor@example.com")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Help-center articles")).to_be_visible()

    # A category of their own, with a name for the help center's home page.
    page.get_by_role("link", name="Categories").click()
    page.get_by_label("Short name").fill("returns")
    page.get_by_label("Shown as").fill("Returns and exchanges")
    page.get_by_role("button", name="Save category").click()
    expect(page.get_by_role("status")).to_contain_text("Category “Returns and exchanges” saved.")

    page.get_by_role("link", name="Articles", exact=True).last.click()
    page.get_by_role("link", name="New article").click()
    page.get_by_label("Title").fill("Return a parcel")
    page.get_by_label("Text (Markdown)").fill(
        "Print the **label** and drop the parcel off.\n\n<script>alert(1)</script>"
    )
    page.get_by_label("Category").select_option(label="Returns and exchanges")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".article-preview")
    expect(preview.locator("strong")).to_have_text("label")
    expect(preview).to_contain_text("<script>alert(1)</script>")
    expect(preview.locator("script")).to_have_count(0)

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("“Return a parcel” saved as a draft.")
    expect(page.locator(".meta")).to_contain_text("Draft")
    article_url = page.url

    # A draft is not on the help center.
    page.goto(f"{live_server.url}/help")
    expect(page.get_by_role("link", name="Return a parcel")).to_have_count(0)

    page.goto(article_url)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").first).to_contain_text("is on the help center now")

    # A translation, linked from the original.
    page.get_by_role("link", name="Add a translation").click()
    page.get_by_label("Title").fill("Zwrot paczki")
    page.get_by_label("Text (Markdown)").fill("Wydrukuj **etykietę** i nadaj paczkę.")
    page.get_by_label("Language").fill("pl")
    page.get_by_label("Published").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_contain_text("A translation of Return a parcel")

    page.goto(f"{live_server.url}/help?lang=en")
    returns = page.get_by_role("region", name="Returns and exchanges")
    returns.get_by_role("link", name="Return a parcel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Return a parcel")
    expect(page.locator(".help-body strong")).to_have_text("label")
    page.get_by_role("link", name="Polski").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zwrot paczki")
