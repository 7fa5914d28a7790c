"""The widget's self-service in Chromium: article suggestions while the visitor
types their first message, deflection counting, and an order-status lookup for a
verified customer."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from helpline.adapters.db.base import utcnow
from helpline.adapters.db.models import Contact, Conversation, DeflectionSession, User
from helpline.services.deflection import settle_deflections
from helpline.services.lookups import LookupInput, do_create_lookup
from helpline.services.viewer import load_viewer
from helpline.services.visitors import identifier_hash
from tests.browser.conftest import LiveServer
from tests.browser.help_articles import arrange_articles
from tests.browser_widget.conftest import ChatDesk, HostSite
from tests.browser_widget.test_widget_chat import eventually, open_widget
from tests.factories import make_user
from tests.help_center.shop import orders, running_shop
from tests.support import DEFAULT_PASSWORD


def _arrange_articles(live_server: LiveServer) -> None:
    arrange_articles(
        live_server,
        (
            "Password tips <b>for teams</b>",
            "Share a <script>alert(1)</script> password manager, never the password itself.",
        ),
    )


def _settle_later(live_server: LiveServer) -> None:
    """The worker's job, run as if the 30 minutes were over."""
    with live_server.session() as db:
        settle_deflections(db, utcnow() + timedelta(minutes=31))


def _report(live_server: LiveServer) -> dict[str, Any]:
    """The supervisor's deflection report, over the API."""
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        login = http.post(
            "/api/v1/auth/login",
            json={"email": "editor@example.com", "password": DEFAULT_PASSWORD},
        )
        assert login.status_code == 200, login.text
        now = utcnow()
        response = http.get(
            "/api/v1/reports/deflection",
            params={
                "from": (now - timedelta(days=1)).isoformat(),
                "to": (now + timedelta(days=1)).isoformat(),
            },
        )
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report


def _type_question_and_open_suggestion(page: Page) -> None:
    open_widget(page)
    page.get_by_label("Message").fill("I forgot my pasword")
    suggestions = page.locator(".hl-suggest")
    expect(suggestions).to_contain_text("These articles may answer your question")
    first = suggestions.locator(".hl-suggest-link").first
    expect(first.locator(".hl-suggest-title")).to_have_text("Reset your password")
    expect(first.locator("mark").first).to_have_text(re.compile("password", re.IGNORECASE))
    # An article's own markup is shown as text, never as HTML.
    tips = suggestions.locator(".hl-suggest-link", has_text="Password tips")
    expect(tips.locator(".hl-suggest-title")).to_have_text("Password tips <b>for teams</b>")
    expect(tips.locator("b, script")).to_have_count(0)

    with page.context.expect_page() as opened:
        first.click()
    article = opened.value
    expect(article.get_by_role("heading", level=1)).to_have_text("Reset your password")
    article.close()


def _sessions(live_server: LiveServer) -> list[DeflectionSession]:
    with live_server.session() as db:
        rows = list(db.scalars(select(DeflectionSession)))
        db.expunge_all()
        return rows


def _read_a_suggested_article(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk
) -> None:
    """A visitor on the shop types a question and reads the first suggestion; the
    server records one deflection session."""
    _arrange_articles(live_server)
    page.goto(host_site.embed(desk.public_key))
    _type_question_and_open_suggestion(page)
    eventually(lambda: len(_sessions(live_server)) == 1)


def test_reading_a_suggested_article_and_leaving_counts_as_a_deflection(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk
) -> None:
    _read_a_suggested_article(page, live_server, host_site, desk)
    page.close()  # the visitor leaves without starting a chat

    _settle_later(live_server)
    [session] = _sessions(live_server)
    assert session.outcome == "deflected"
    report = _report(live_server)
    assert (report["sessions"], report["deflections"], report["chats"]) == (1, 1, 0)
    assert report["rate"] == 1.0
    assert report["articles"][0]["title"] == "Reset your password"
    with live_server.session() as db:
        assert db.scalar(select(Conversation.id)) is None


def test_reading_then_starting_a_chat_is_not_a_deflection(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk
) -> None:
    _read_a_suggested_article(page, live_server, host_site, desk)

    # The article did not help: the visitor starts a chat with what they typed.
    page.get_by_label("Your name").fill("Mia Rossi")
    page.get_by_role("button", name="Start chat").click()
    # Generous waits: the first chat of a fresh server also warms up routing and AI.
    expect(page.locator(".hl-log")).to_contain_text("I forgot my pasword", timeout=30_000)
    eventually(lambda: _sessions(live_server)[0].outcome == "chat", seconds=30)

    _settle_later(live_server)
    report = _report(live_server)
    assert (report["sessions"], report["deflections"], report["chats"]) == (1, 0, 1)
    assert report["rate"] == 0.0
    with live_server.session() as db:
        contact = db.scalar(select(Contact).where(Contact.name == "Mia Rossi"))
        assert contact is not None


def test_a_verified_customer_checks_their_order_in_the_widget(
    page: Page, live_server: LiveServer, host_site: HostSite, desk: ChatDesk
) -> None:
    # The test shop speaks plain HTTP on 127.0.0.1; production requires HTTPS.
    live_server.settings.lookup_allow_http = True
    with running_shop() as shop:
        shop.routes["/orders"] = orders(shop)
        with live_server.session() as db:
            admin = make_user(db, "root@example.com", role="admin")
            db.commit()
            _, shop.secret = do_create_lookup(
                db,
                load_viewer(db, db.get(User, admin.id)),  # type: ignore[arg-type]
                desk.inbox_id,
                LookupInput(
                    key="order_status",
                    label={"en": "Check my order", "pl": "Sprawdź zamówienie"},
                    input_label={"en": "Order number"},
                    url_template=shop.url + "/orders?customer={external_id}&order={input}",
                    allowed_hosts=["127.0.0.1"],
                ),
                settings=live_server.settings,
                now=utcnow(),
            )

        # An anonymous visitor is offered nothing.
        page.goto(host_site.embed(desk.public_key))
        open_widget(page)
        expect(page.get_by_label("Message")).to_be_visible()
        expect(page.locator(".hl-lookup")).to_have_count(0)

        # The shop's signed-in customer, proven with identifier_hash, checks an order.
        # Another browser (its own localStorage): the customer's first visit.
        browser = page.context.browser
        assert browser is not None
        customer = browser.new_context().new_page()
        customer.goto(
            host_site.embed(
                desk.public_key,
                settings={
                    "external_id": "customer-42",
                    "identifier_hash": identifier_hash(desk.secret, "customer-42"),
                    "name": "Mia Rossi",
                },
            )
        )
        open_widget(customer)
        customer.get_by_label("Order number").fill("1245")
        customer.get_by_role("button", name="Check my order").click()
        answer = customer.locator(".hl-lookup-answer")
        expect(answer.locator(".hl-lookup-title")).to_have_text("Order #1245")
        expect(answer).to_contain_text("On its way")
        expect(answer.get_by_role("link", name="https://track.example/1245")).to_be_visible()
        # The shop's text is shown as text.
        expect(answer).to_contain_text("<img src=x onerror=alert(1)>")
        expect(answer.locator("img")).to_have_count(0)

        customer.get_by_label("Order number").fill("9999")
        customer.get_by_role("button", name="Check my order").click()
        expect(customer.locator(".hl-lookup-result")).to_have_text(
            "We couldn't find anything for that."
        )
        assert len(shop.received) == 2
        customer.context.close()
