"""Outbound HTTP for self-service lookups: one signed GET to a shop's endpoint.

The only place Helpline calls a URL that an administrator configured, so it is
strict: the host must be on the lookup's allow-list, redirects are never followed
(a 3xx is a failure, whatever its target), the answer is read in chunks up to a
size limit and within a deadline, and proxies from the environment are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

FailureKind = Literal[
    "host_not_allowed", "redirect", "timeout", "too_large", "bad_status", "not_json", "unreachable"
]
USER_AGENT = "Helpline-Lookup/1"
SIGNATURE_HEADER = "X-Helpline-Signature"
TIMESTAMP_HEADER = "X-Helpline-Timestamp"


class LookupFailure(Exception):
    """The endpoint could not be asked or gave no usable answer."""

    def __init__(self, kind: FailureKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind: FailureKind = kind
        self.detail = detail


def host_matches(host: str, allowed: str) -> bool:
    """`shop.example` matches itself; `*.shop.example` matches its subdomains only."""
    host, allowed = host.lower().rstrip("."), allowed.lower().rstrip(".")
    if allowed.startswith("*."):
        return host.endswith(allowed[1:]) and host != allowed[2:]
    return host == allowed


def url_allowed(url: str, allowed_hosts: tuple[str, ...], *, allow_http: bool) -> bool:
    """An absolute http(s) URL without user info whose host is on the list."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # a malformed port raises here
    except ValueError:
        return False
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not host or "@" in parts.netloc:
        return False
    return any(host_matches(host, allowed) for allowed in allowed_hosts)


def signature(secret: str, timestamp: int, url: str) -> str:
    """What the shop recomputes: hex HMAC-SHA256 of "<timestamp>.<url>" keyed with
    the lookup's secret, prefixed with the scheme version."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{url}".encode(), hashlib.sha256)
    return "v1=" + digest.hexdigest()


@dataclass(frozen=True, slots=True)
class LookupCall:
    url: str
    secret: str
    allowed_hosts: tuple[str, ...]
    timeout_seconds: float
    max_bytes: int
    allow_http: bool = False


@dataclass(frozen=True, slots=True)
class LookupAnswer:
    status: int
    payload: Any
    """The decoded JSON; None for a 404."""


def fetch(
    call: LookupCall, *, now: float | None = None, transport: httpx.BaseTransport | None = None
) -> LookupAnswer:
    """GET the URL and decode its JSON answer; LookupFailure when anything is off.
    A 404 is an answer (nothing found), not a failure."""
    if not url_allowed(call.url, call.allowed_hosts, allow_http=call.allow_http):
        raise LookupFailure("host_not_allowed", "the URL's host is not on the allowed list")
    timestamp = int(time.time() if now is None else now)
    headers = {
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(call.secret, timestamp, call.url),
    }
    deadline = time.monotonic() + call.timeout_seconds
    try:
        with (
            httpx.Client(
                follow_redirects=False,
                timeout=httpx.Timeout(call.timeout_seconds),
                trust_env=False,
                transport=transport,
            ) as client,
            client.stream("GET", call.url, headers=headers) as response,
        ):
            if response.is_redirect or 300 <= response.status_code < 400:
                target = response.headers.get("Location", "")
                raise LookupFailure("redirect", f"the endpoint redirected to {target[:200]!r}")
            if response.status_code == 404:
                return LookupAnswer(status=404, payload=None)
            if not 200 <= response.status_code < 300:
                raise LookupFailure("bad_status", f"the endpoint answered {response.status_code}")
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > call.max_bytes:
                raise LookupFailure("too_large", f"the answer is over {call.max_bytes} bytes")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > call.max_bytes:
                    raise LookupFailure("too_large", f"the answer is over {call.max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise LookupFailure("timeout", "the answer took too long")
            status = response.status_code
    except httpx.TimeoutException as error:
        raise LookupFailure("timeout", "the endpoint did not answer in time") from error
    except httpx.HTTPError as error:
        raise LookupFailure("unreachable", type(error).__name__) from error
    try:
        payload = json.loads(bytes(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LookupFailure("not_json", "the answer is not JSON") from error
    return LookupAnswer(status=status, payload=payload)
