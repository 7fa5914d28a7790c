"""Shortcuts for page tests: read hidden form fields, sign in through the form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support import DEFAULT_PASSWORD

_HIDDEN = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]*)">')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _HIDDEN.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def page_login(client: TestClient, email: str, password: str = DEFAULT_PASSWORD) -> str:
    """Sign in through the HTML form like a browser; returns the session's CSRF token
    as the signed-in pages carry it."""
    form_token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": form_token, "next": "/inbox"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/inbox").text)
