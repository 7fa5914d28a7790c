"""The frustration badge in Chromium: the customer's angry message arrives, AI assist
scores it, and the open pane shows the badge with its reasons, live, with no reload;
the priority badge's breakdown names the frustration the router added."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from helpline.ai.categories import CategoryClassifier
from helpline.services import ai_assist
from tests.ai.fixtures import bitext_sample
from tests.browser_workspace.test_shortcuts import (  # noqa: F401 (fixtures)
    AGENT,
    Desk,
    agent_page,
    desk_server,
    new_chats,
    open_panes,
    pane,
    ws,
)
from tests.support import DEFAULT_PASSWORD

FRUSTRATED = "This is the third time I am writing, I want to talk to a lawyer!!!"


@pytest.fixture(scope="module", autouse=True)
def small_classifier() -> Iterator[CategoryClassifier]:
    """The live server runs in this process: a small category model keeps it quick."""
    train, _ = bitext_sample(per_category=30)
    classifier = CategoryClassifier(starter_rows=train)
    ai_assist.use_classifier(classifier)
    yield classifier
    ai_assist.use_classifier(None)


def test_the_frustration_badge_appears_live_with_its_reason(
    ws: Page,  # noqa: F811
    desk_server: Desk,  # noqa: F811
) -> None:
    (chat,) = new_chats(desk_server, "Zoe Angry")
    open_panes(ws, [chat])
    badge = pane(ws, chat).locator(".badge.frustration")
    expect(badge).to_be_hidden()
    ws.evaluate("() => { window.__sameDocument = true; }")

    http = httpx.Client(base_url=desk_server.url, timeout=10)
    try:
        login = http.post("/api/v1/auth/login", json={"email": AGENT, "password": DEFAULT_PASSWORD})
        assert login.status_code == 200, login.text
        relayed = http.post(  # an integration relays what the customer wrote
            f"/api/v1/conversations/{chat}/incoming",
            json={"body": FRUSTRATED},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        assert relayed.status_code == 201, relayed.text
    finally:
        http.close()

    expect(pane(ws, chat).locator(".timeline")).to_contain_text("talk to a lawyer")
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("data-level", "high")
    expect(badge).to_contain_text("Frustration high")
    reasons = (
        "repeated contact: this is the third time; trigger phrase: lawyer; "
        "repeated punctuation: !!!"
    )
    expect(badge).to_have_attribute("title", reasons)
    expect(badge).to_have_attribute(
        "aria-label", re.compile(rf"^Frustration high, \d+%: {re.escape(reasons)}$")
    )
    assert ws.evaluate("() => window.__sameDocument === true")  # no reload happened

    priority = pane(ws, chat).locator(".badge.priority")
    priority.click()
    expect(pane(ws, chat).locator(".breakdown li").filter(has_text="frustrated")).to_have_count(1)
