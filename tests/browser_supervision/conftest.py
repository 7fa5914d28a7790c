"""Browser fixtures for the supervisor view, agent status and admin pages: the shared
Chromium and live server of tests/browser, and signed-in pages for several people."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import LiveServer, browser, live_server, page  # noqa: F401 (fixtures)
from tests.support import DEFAULT_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in this folder needs Chromium, in the browser group (one
    Chromium per worker, never overlapping asyncio tests)."""
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


SignIn = Callable[..., "Page"]


@pytest.fixture
def sign_in(browser: Browser, live_server: LiveServer) -> Iterator[SignIn]:  # noqa: F811
    """`sign_in(email, path, **context options)`: a new browser profile, signed in
    through the login form, on `path`."""
    contexts = []

    def open_as(email: str, path: str = "/inbox", **options: object) -> Page:
        settings: dict[str, object] = {
            "viewport": {"width": 1280, "height": 900},
            "locale": "en-GB",
        }
        settings.update(options)
        context = browser.new_context(**settings)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        contexts.append(context)
        signed_in = context.new_page()
        signed_in.goto(f"{live_server.url}/login?next={path}")
        signed_in.get_by_label("Email").fill(email)
        signed_in.get_by_label("Password").fill(DEFAULT_PASSWORD)
        signed_in.get_by_role("button", name="Sign in").click()
        signed_in.wait_for_url(f"{live_server.url}{path}")
        return signed_in

    yield open_as
    for context in contexts:
        context.close()
