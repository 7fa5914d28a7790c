"""Admin pages in Chromium: create and then edit an agent, a team, an inbox with its
widget settings and a self-service lookup, seeing validation messages next to the
fields on the way."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from helpline.adapters.db.models import Inbox, SelfServiceLookup, Team, User
from tests.browser.conftest import LiveServer
from tests.browser_supervision.conftest import SignIn
from tests.factories import make_inbox, make_team, make_user


def _arrange(live_server: LiveServer) -> None:
    with live_server.session() as db:
        team = make_team(db, "Support")
        inbox = make_inbox(db, "Website chat")
        make_user(db, "ada@example.com", name="Ada Admin", role="admin")
        make_user(db, "ben@example.com", name="Ben Okafor", teams=[team], inboxes=[inbox])
        db.commit()


def test_create_and_edit_an_agent(live_server: LiveServer, sign_in: SignIn) -> None:
    _arrange(live_server)
    admin = sign_in("ada@example.com", "/admin/agents")
    expect(admin.get_by_role("link", name="Routing")).to_be_visible()  # one admin navigation
    form = admin.locator("#agent-form")
    form.get_by_label("Name").fill("Zoe Adams")
    form.get_by_label("Email").fill("zoe@example.com")
    form.get_by_label("First password").fill("correct horse battery staple")
    form.get_by_label("Chats at once", exact=False).fill("12")
    form.get_by_label("Support").check()
    form.get_by_role("button", name="Create agent").click()
    expect(admin.locator("#error-max_concurrent_chats")).to_have_text(
        "Enter a whole number from 1 to 10."
    )
    form = admin.locator("#agent-form")
    expect(form.get_by_label("Name")).to_have_value("Zoe Adams")  # kept
    form.get_by_label("First password").fill("correct horse battery staple")
    form.get_by_label("Chats at once", exact=False).fill("4")
    form.get_by_label("Refund limit").fill("49.90")
    form.get_by_label("Languages (codes, comma-separated)").fill("en, pl")
    form.get_by_role("button", name="Create agent").click()
    expect(admin.locator(".flash")).to_have_text("Agent Zoe Adams created.")

    admin.get_by_role("link", name="Zoe Adams").click()
    form = admin.locator("#agent-form")
    expect(form.get_by_label("Refund limit")).to_have_value("49.90")
    form.get_by_label("Role").select_option("supervisor")
    form.get_by_label("Tier").select_option("2")
    form.get_by_label("Website chat").check()
    form.get_by_role("button", name="Save agent").click()
    expect(admin.locator(".flash")).to_have_text("Agent Zoe Adams saved.")
    expect(admin.locator("#agents")).to_contain_text("Supervisor")
    with live_server.session() as db:
        zoe = db.scalar(select(User).where(User.email == "zoe@example.com"))
        assert zoe is not None
        assert (zoe.role, zoe.tier, zoe.max_concurrent_chats, zoe.refund_limit_cents) == (
            "supervisor",
            2,
            4,
            4990,
        )
        assert zoe.languages == ["en", "pl"]


def test_create_and_edit_a_team(live_server: LiveServer, sign_in: SignIn) -> None:
    _arrange(live_server)
    admin = sign_in("ada@example.com", "/admin/teams")
    form = admin.locator("#team-form")
    form.get_by_label("Name").fill("support")
    form.get_by_role("button", name="Create team").click()
    expect(admin.locator(".form-error")).to_contain_text("A team with this name already exists")
    form = admin.locator("#team-form")
    form.get_by_label("Name").fill("Returns")
    form.get_by_label("Categories it handles (comma-separated)").fill("orders, returns")
    form.get_by_label("Ben Okafor").check()
    form.get_by_role("button", name="Create team").click()
    expect(admin.locator(".flash")).to_have_text("Team Returns saved.")
    expect(admin.locator("#teams")).to_contain_text("Ben Okafor")

    admin.get_by_role("link", name="Returns").click()
    form = admin.locator("#team-form")
    form.get_by_label("Name").fill("Returns and exchanges")
    form.get_by_label("Tier").select_option("2")
    form.get_by_role("button", name="Save team").click()
    expect(admin.locator(".flash")).to_have_text("Team Returns and exchanges saved.")
    with live_server.session() as db:
        team = db.scalar(select(Team).where(Team.name == "Returns and exchanges"))
        assert team is not None and (team.tier, team.categories) == (2, ["orders", "returns"])


def test_create_an_inbox_then_set_up_its_widget(live_server: LiveServer, sign_in: SignIn) -> None:
    _arrange(live_server)
    admin = sign_in("ada@example.com", "/admin/inboxes")
    form = admin.locator("#inbox-form")
    form.get_by_role("textbox", name="Name").fill("Shop chat")
    form.get_by_label("Allowed sites, one per line").fill("shop.example\nnot a domain")
    form.get_by_role("button", name="Create inbox").click()
    expect(admin.locator("#error-allowed_domains")).to_contain_text("Not a domain: not a domain")
    form = admin.locator("#inbox-form")
    form.get_by_label("Allowed sites, one per line").fill("shop.example")
    form.get_by_role("button", name="Create inbox").click()
    expect(admin.locator(".flash")).to_have_text("Inbox Shop chat saved.")

    admin.get_by_role("link", name="Shop chat").click()
    with live_server.session() as db:
        inbox = db.scalar(select(Inbox).where(Inbox.name == "Shop chat"))
        assert inbox is not None
        public_key = inbox.public_key
    snippet = admin.get_by_label("Embed snippet (select and copy)")
    expect(snippet).to_have_value(
        f'<script src="{live_server.url}/static/widget/widget.js" data-inbox="{public_key}"'
        " async></script>"
    )
    form = admin.locator("#inbox-form")
    form.get_by_label("Topics, one per line").fill("Payments | billing\nMy order | orders")
    form.get_by_label("Pre-chat form asks for the email").check()
    form.get_by_label("Greeting (English; empty: the default)").fill("Hi! How can we help?")
    form.get_by_label("Identity verification").select_option("enforce")
    form.get_by_label("Ben Okafor").check()
    form.get_by_role("button", name="Save inbox").click()
    expect(admin.locator(".flash")).to_have_text("Inbox Shop chat saved.")
    with live_server.session() as db:
        inbox = db.scalar(select(Inbox).where(Inbox.name == "Shop chat"))
        assert inbox is not None
        assert inbox.settings["allowed_domains"] == ["shop.example"]
        assert [topic["category"] for topic in inbox.settings["topics"]] == ["billing", "orders"]
        assert inbox.settings["require_email"] is True
        assert inbox.settings["greeting"] == {"en": "Hi! How can we help?"}
        assert inbox.settings["identity_verification"] == "enforce"
    # The widget's public configuration follows at once.
    config = admin.request.get(
        f"{live_server.url}/api/v1/widget/{public_key}/config",
        headers={"Origin": "http://shop.example"},
    )
    assert config.ok, config.text()
    body = config.json()
    assert body["prechat"]["email"]["required"] is True
    assert body["greeting"]["en"] == "Hi! How can we help?"


def test_set_up_a_self_service_lookup_from_the_inbox_page(
    live_server: LiveServer, sign_in: SignIn
) -> None:
    _arrange(live_server)
    with live_server.session() as db:
        inbox = db.scalar(select(Inbox).where(Inbox.name == "Website chat"))
        assert inbox is not None
        inbox_id = inbox.id
    admin = sign_in("ada@example.com", f"/admin/inboxes/{inbox_id}")
    admin.get_by_role("link", name="Self-service lookups").click()
    expect(admin.get_by_text("No lookups yet.")).to_be_visible()
    form = admin.locator("#lookup-form")
    form.get_by_label("Key").fill("order_status")
    form.get_by_label("Button label (English)").fill("Check my order")
    form.get_by_label("Input label (English)").fill("Order number")
    form.get_by_label("URL template").fill("https://other.example/o?c={external_id}")
    form.get_by_label("Allowed hosts, one per line").fill("shop.example")
    form.get_by_role("button", name="Add lookup").click()
    expect(admin.locator("#error-url_template")).to_contain_text("on one of the allowed hosts")
    form = admin.locator("#lookup-form")
    form.get_by_label("URL template").fill("https://shop.example/o?c={external_id}&n={input}")
    form.get_by_role("button", name="Add lookup").click()

    secret = admin.get_by_label("Signing secret (select and copy)")
    expect(secret).to_be_visible()
    with live_server.session() as db:
        stored = db.scalar(select(SelfServiceLookup))
        assert stored is not None
        expect(secret).to_have_value(stored.secret)
    admin.get_by_role("link", name="order_status").click()
    expect(admin.get_by_label("Signing secret (select and copy)")).to_have_count(0)
    admin.locator("#lookup-form").get_by_label("Shown in the widget").uncheck()
    admin.get_by_role("button", name="Save lookup").click()
    expect(admin.locator(".flash")).to_have_text("Lookup order_status saved.")
    expect(admin.locator("#lookups")).to_contain_text("Check my order")
    with live_server.session() as db:
        stored = db.scalar(select(SelfServiceLookup))
        assert stored is not None and stored.enabled is False
