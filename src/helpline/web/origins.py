"""Which web pages may talk to Helpline: the widget's allowed domains and the
agent WebSocket's same-origin rule, plus CORS headers for the visitor API.

The Origin header is the browser's word on which page made a request; other sites
cannot forge it from a browser, so checking it on every widget request (HTTP and
WebSocket handshake) keeps a chat inbox on the sites its admin listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpline.domain.errors import DomainError
from helpline.settings import Settings

WIDGET_PATH_PREFIX = "/api/v1/widget/"
MAX_DOMAIN_CHARS = 253


class OriginNotAllowed(DomainError):
    """The request comes from a page the inbox does not allow (403)."""

    code = "origin_not_allowed"


def origin_host(origin: str | None) -> str | None:
    """The lower-case host name of an Origin header (`https://shop.example:8443`),
    or None when it is missing, `null` (sandboxed frames, files) or malformed."""
    if not origin or origin == "null" or len(origin) > 2048:
        return None
    try:
        parts = urlsplit(origin)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return host.lower().rstrip(".")


def normalise_origin(origin: str | None) -> str | None:
    """`scheme://host[:port]` with default ports dropped, for exact comparisons."""
    if origin_host(origin) is None:
        return None
    assert origin is not None
    parts = urlsplit(origin)
    port = parts.port
    default = {"http": 80, "https": 443}[parts.scheme]
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{host}{suffix}"


def domain_matches(host: str, pattern: str) -> bool:
    """`shop.example` matches itself only; `*.shop.example` matches any subdomain
    (`a.shop.example`, `a.b.shop.example`) but not `shop.example` itself."""
    pattern = pattern.strip().lower().rstrip(".")
    if not pattern:
        return False
    if pattern.startswith("*."):
        suffix = pattern[1:]  # ".shop.example"
        return host.endswith(suffix) and len(host) > len(suffix)
    return host == pattern


def allowed_domains(inbox_settings: Mapping[str, Any]) -> list[str]:
    value = inbox_settings.get("allowed_domains") or []
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str) and 0 < len(item) <= MAX_DOMAIN_CHARS]


def unlisted_origins_allowed(settings: Settings) -> bool:
    """An inbox that lists no domains: open in development, closed in production."""
    if settings.widget_allow_unlisted_origins is not None:
        return settings.widget_allow_unlisted_origins
    return settings.environment != "production"


def widget_origin_allowed(
    origin: str | None, domains: Iterable[str], *, settings: Settings
) -> bool:
    """The rule for every widget request: the server's own pages are always
    allowed; otherwise the Origin's host must match one of the inbox's domains, or
    the inbox lists none and the installation allows that."""
    own = normalise_origin(settings.base_url)
    normalised = normalise_origin(origin)
    if normalised is not None and normalised == own:
        return True
    listed = list(domains)
    if not listed:
        return unlisted_origins_allowed(settings)
    host = origin_host(origin)
    if host is None:
        return False
    return any(domain_matches(host, pattern) for pattern in listed)


def check_widget_origin(
    origin: str | None, inbox_settings: Mapping[str, Any], *, settings: Settings
) -> None:
    if not widget_origin_allowed(origin, allowed_domains(inbox_settings), settings=settings):
        raise OriginNotAllowed(
            "this site is not allowed to use this chat inbox",
            {"origin": (origin or "")[:200]},
        )


def same_origin(origin: str | None, *, host_header: str | None, settings: Settings) -> bool:
    """For cookie-authenticated agent WebSockets: the page must be Helpline's own,
    either the configured base URL or the host the request was sent to (a page on
    another site cannot make its Origin equal our Host)."""
    normalised = normalise_origin(origin)
    if normalised is None:
        return False
    if normalised == normalise_origin(settings.base_url):
        return True
    if not host_header:
        return False
    netloc = urlsplit(normalised).netloc
    scheme = urlsplit(normalised).scheme
    host_form = normalise_origin(f"{scheme}://{host_header}")
    return host_form is not None and urlsplit(host_form).netloc == netloc


class WidgetCors:
    """CORS for the visitor API: answer preflights and let the calling page read
    responses. The Origin itself is judged per inbox by the routes (403 when not
    allowed); credentials are never involved (visitors send a bearer token)."""

    allow_methods = b"GET, POST, OPTIONS"
    allow_headers = b"Authorization, Content-Type"

    def __init__(self, app: ASGIApp, prefix: str = WIDGET_PATH_PREFIX) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        (b"access-control-allow-origin", origin),
                        (b"access-control-allow-methods", self.allow_methods),
                        (b"access-control-allow-headers", self.allow_headers),
                        (b"access-control-max-age", b"600"),
                        (b"vary", b"Origin"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", origin),
                    (b"access-control-expose-headers", b"Retry-After, Content-Disposition"),
                    (b"vary", b"Origin"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_cors)
