"""Workspace fixtures: the live server and Chromium of tests/browser, the shop page
and chat inbox of tests/browser_widget, and an agent signed in to /workspace.

Every test here runs in the "browser" xdist group so one Chromium serves them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, LiveServer, browser, live_server  # noqa: F401
from tests.browser_widget.conftest import (  # noqa: F401 (fixtures)
    AGENT_EMAIL,
    AgentClient,
    ChatDesk,
    HostSite,
    agent,
    desk,
    host_site,
)
from tests.support import DEFAULT_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


EXPECT_TIMEOUT_MS = 15_000
"""Generous: the shared test machine is slow at times; nothing here is a timing test."""


@pytest.fixture(autouse=True)
def _patient_expect() -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


def sign_in(page: Page, base_url: str, email: str = AGENT_EMAIL) -> None:
    page.goto(f"{base_url}/login?next=/workspace")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/workspace")
    page.locator("#ws[data-state='ready'][data-socket='open']").wait_for()


@pytest.fixture
def wide_context(browser: Browser) -> Iterator[BrowserContext]:  # noqa: F811
    """A 1920x1080 window: four panes side by side."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-GB")
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def workspace(
    wide_context: BrowserContext,
    live_server: LiveServer,  # noqa: F811
    desk: ChatDesk,  # noqa: F811
) -> Page:
    """The desk's agent, signed in, on /workspace."""
    page = wide_context.new_page()
    sign_in(page, live_server.url)
    return page


@pytest.fixture
def visitor_pages(browser: Browser) -> Iterator[list[Page]]:  # noqa: F811
    """Three visitors, each in their own browser profile."""
    contexts = [
        browser.new_context(viewport={"width": 1000, "height": 800}, locale="en-GB")
        for _ in range(3)
    ]
    for context in contexts:
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        yield [context.new_page() for context in contexts]
    finally:
        for context in contexts:
            context.close()
