"""Who is looking at a page, and whether a submitted form really came from our pages.

Signed-in forms carry the session's CSRF token. Forms shown before there is a
session (sign in, forgot and reset password) use a double-submit token: a random
value in a short-lived SameSite=Strict cookie, signed with the app's secret key,
repeated in a hidden field. Short messages that survive a redirect (PRG) travel in
a signed "flash" cookie.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import Response

from helpline.domain.access import Viewer
from helpline.services.auth import Authenticated, authenticate_session
from helpline.services.viewer import load_viewer
from helpline.settings import Settings
from helpline.web.deps import SESSION_COOKIE, DbSession, Now

FORM_COOKIE = "helpline_form"
FORM_COOKIE_SECONDS = 2 * 60 * 60
FLASH_COOKIE = "helpline_flash"
FLASH_COOKIE_SECONDS = 120
DEFAULT_AFTER_LOGIN = "/inbox"


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class FormExpired(Exception):
    """A signed-in form came without the session's CSRF token (or with another one)."""


# ---------------------------------------------------------------- redirects


def safe_next_path(value: str | None) -> str:
    """Where to go after signing in: only a path on this site, never another host.

    Refuses absolute URLs, scheme-relative `//host` and `/\\host` (which browsers
    treat as `//host`), and anything with control characters."""
    if not value or len(value) > 2000:
        return DEFAULT_AFTER_LOGIN
    if any(ord(char) < 32 or ord(char) == 127 for char in value) or "\\" in value:
        return DEFAULT_AFTER_LOGIN
    if not value.startswith("/") or value.startswith("//"):
        return DEFAULT_AFTER_LOGIN
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return DEFAULT_AFTER_LOGIN
    if parts.path in ("/login", "/logout"):
        return DEFAULT_AFTER_LOGIN
    return value


def _requested_page(request: Request) -> str:
    """The page to come back to after signing in. A POST cannot be replayed by a
    redirect, so for forms it is the page the form was on (when it is ours)."""
    if request.method == "GET":
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    referer = request.headers.get("referer", "")
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc == request.url.netloc:
        return safe_next_path(parts.path + (f"?{parts.query}" if parts.query else ""))
    return DEFAULT_AFTER_LOGIN


# ---------------------------------------------------------------- signed-in pages


@dataclass(frozen=True, slots=True)
class PageCaller:
    """The signed-in agent looking at a page."""

    auth: Authenticated
    viewer: Viewer

    @property
    def csrf_token(self) -> str:
        assert self.auth.session is not None
        return self.auth.session.csrf_token


def get_page_caller(request: Request, db: DbSession, now: Now) -> PageCaller:
    """The browser session behind this page request, or a redirect to sign in."""
    raw = request.cookies.get(SESSION_COOKIE)
    auth = authenticate_session(db, raw, now=now) if raw else None
    if auth is None or auth.session is None:
        raise LoginRequired(_requested_page(request))
    return PageCaller(auth=auth, viewer=load_viewer(db, auth.user))


async def get_page_form_caller(
    request: Request, caller: Annotated[PageCaller, Depends(get_page_caller)]
) -> PageCaller:
    """As `get_page_caller`, for a form POST: the form must carry the session's
    CSRF token (compared in constant time)."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(
        sent.encode(), caller.csrf_token.encode()
    ):
        raise FormExpired
    return caller


PageUser = Annotated[PageCaller, Depends(get_page_caller)]
PageFormUser = Annotated[PageCaller, Depends(get_page_form_caller)]


# ---------------------------------------------------------------- forms before sign-in


def _sign(secret_key: str, purpose: str, value: str) -> str:
    message = f"{purpose}:{value}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _form_cookie_value(request: Request) -> str | None:
    """The random value of a genuine (correctly signed) form cookie, if any."""
    cookie = request.cookies.get(FORM_COOKIE, "")
    value, _, signature = cookie.partition(".")
    if not value or not signature:
        return None
    expected = _sign(request.app.state.secret_key, "form", value)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    return value


def form_token(request: Request) -> str:
    """The token to put in an anonymous form: the cookie's, or a new one."""
    return _form_cookie_value(request) or secrets.token_urlsafe(24)


def set_form_cookie(response: Response, request: Request, token: str, settings: Settings) -> None:
    signature = _sign(request.app.state.secret_key, "form", token)
    response.set_cookie(
        FORM_COOKIE,
        f"{token}.{signature}",
        max_age=FORM_COOKIE_SECONDS,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def form_token_valid(request: Request, sent: str | None) -> bool:
    """Double-submit check: the form's token equals the signed cookie's value."""
    expected = _form_cookie_value(request)
    if not expected or not sent:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


# ---------------------------------------------------------------- flash messages

FlashKind = Literal["success", "error"]


@dataclass(frozen=True, slots=True)
class Flash:
    kind: FlashKind
    text: str


def set_flash(
    response: Response, request: Request, kind: FlashKind, text: str, settings: Settings
) -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"k": kind, "t": text[:500]}).encode()).decode()
    signature = _sign(request.app.state.secret_key, "flash", payload)
    response.set_cookie(
        FLASH_COOKIE,
        f"{payload}.{signature}",
        max_age=FLASH_COOKIE_SECONDS,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def read_flash(request: Request) -> Flash | None:
    """The message left by the previous POST, if it is ours (`render` then clears
    the cookie, so it shows once)."""
    cookie = request.cookies.get(FLASH_COOKIE)
    if not cookie:
        return None
    payload, _, signature = cookie.partition(".")
    expected = _sign(request.app.state.secret_key, "flash", payload)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        kind, text = data["k"], data["t"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    if kind not in ("success", "error") or not isinstance(text, str):
        return None
    return Flash(kind=kind, text=text)
