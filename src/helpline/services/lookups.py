"""Self-service lookups: "where is my order?" answered by the shop's own endpoint.

Admins configure per inbox a lookup (URL template, allowed hosts, timeout; a secret
is generated to sign each request). The widget runs one for a **verified**
customer only (the site proved who they are with `identifier_hash`); the call goes
out from the server to an allowed host only, and the answer is checked against the
response contract (docs/self-service-lookups.md) before anything reaches the
visitor as plain text.
"""

from __future__ import annotations

import logging
import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact, Inbox, SelfServiceLookup
from helpline.adapters.lookup_client import LookupCall, LookupFailure, fetch, url_allowed
from helpline.adapters.redis_ratelimit import RedisRateLimits
from helpline.domain.access import Viewer
from helpline.domain.errors import DomainError
from helpline.services.audit import record_audit
from helpline.services.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from helpline.services.visitors import FROM_SETTINGS, Visitor, shared_rate_limits, window_limiter
from helpline.settings import Settings

log = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
HOST_PATTERN = re.compile(
    r"^(\*\.)?(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
TEMPLATE_FIELDS = frozenset({"external_id", "input", "language"})
MAX_HOSTS = 20
MAX_LOOKUPS_PER_INBOX = 10
MAX_LABEL_CHARS = 80
MAX_INPUT_CHARS = 100
MIN_TIMEOUT_SECONDS = 0.5
MAX_TIMEOUT_SECONDS = 15.0
MAX_FIELDS = 20
MAX_VALUE_CHARS = 500
MAX_TITLE_CHARS = 200
MAX_MESSAGE_CHARS = 1000


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class LookupInput:
    key: str
    label: Mapping[str, str] | str
    url_template: str
    allowed_hosts: Sequence[str]
    input_label: Mapping[str, str] | str | None = None
    timeout_seconds: float = 5.0
    enabled: bool = True


def _check_admin(viewer: Viewer) -> None:
    if not viewer.is_admin:
        raise PermissionDenied("only admins configure self-service lookups")


def check_key(raw: str) -> str:
    value = raw.strip()
    if not KEY_PATTERN.match(value):
        raise ValidationFailed(
            "a key is 1 to 40 lower-case letters, digits or '_', starting with a letter",
            {"field": "key"},
        )
    return value


def check_label(raw: Mapping[str, str] | str | None, field_name: str) -> dict[str, str]:
    """A text per language: {"en": "Order status", "pl": "Status zamówienia"}."""
    texts = {"en": raw} if isinstance(raw, str) else dict(raw or {})
    clean: dict[str, str] = {}
    for language, text in texts.items():
        if not isinstance(language, str) or not re.match(
            r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$", language
        ):
            raise ValidationFailed(
                "label languages are codes such as en or pl", {"field": field_name}
            )
        value = " ".join(str(text).split()) if isinstance(text, str) else ""
        if not value or len(value) > MAX_LABEL_CHARS:
            raise ValidationFailed(
                f"each label is 1 to {MAX_LABEL_CHARS} characters", {"field": field_name}
            )
        clean[language] = value
    if not clean:
        raise ValidationFailed("give a label in at least one language", {"field": field_name})
    return clean


def check_hosts(raw: Sequence[str]) -> list[str]:
    hosts: list[str] = []
    for item in raw:
        host = str(item).strip().lower().rstrip(".")
        if not HOST_PATTERN.match(host):
            raise ValidationFailed(
                f"{str(item)[:100]!r} is not a host name such as shop.example or *.shop.example",
                {"field": "allowed_hosts"},
            )
        if host not in hosts:
            hosts.append(host)
    if not hosts or len(hosts) > MAX_HOSTS:
        raise ValidationFailed(f"list 1 to {MAX_HOSTS} allowed hosts", {"field": "allowed_hosts"})
    return hosts


def check_url_template(raw: str, hosts: Sequence[str], *, allow_http: bool) -> str:
    """An https URL on an allowed host whose placeholders are {external_id} (required),
    {input} and {language}; they may only appear after the host."""
    value = raw.strip()
    problem = {"field": "url_template"}
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as error:
        raise ValidationFailed(f"the URL template is malformed: {error}", problem) from error
    unknown = sorted(set(names) - TEMPLATE_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"unknown placeholders {unknown}; use {{external_id}}, {{input}}, {{language}}",
            problem,
        )
    if "external_id" not in names:
        raise ValidationFailed(
            "the URL must carry the customer's {external_id}, so the signature covers it",
            problem,
        )
    sample = value.format(external_id="x", input="x", language="en")
    prefix = value.split("{", 1)[0]
    if len(value) > 2000 or not url_allowed(sample, tuple(hosts), allow_http=allow_http):
        scheme = "http(s)" if allow_http else "https"
        raise ValidationFailed(f"the URL must be {scheme} on one of the allowed hosts", problem)
    if urlsplit(prefix).netloc != urlsplit(sample).netloc:
        raise ValidationFailed("placeholders may not be part of the host", problem)
    return value


def check_timeout(raw: float) -> float:
    if not MIN_TIMEOUT_SECONDS <= raw <= MAX_TIMEOUT_SECONDS:
        raise ValidationFailed(
            f"the timeout is {MIN_TIMEOUT_SECONDS} to {MAX_TIMEOUT_SECONDS} seconds",
            {"field": "timeout_seconds"},
        )
    return float(raw)


def list_lookups(db: Session, viewer: Viewer, inbox_id: int) -> list[SelfServiceLookup]:
    _check_admin(viewer)
    if db.get(Inbox, inbox_id) is None:
        raise NotFound("inbox", inbox_id)
    return list(
        db.scalars(
            select(SelfServiceLookup)
            .where(SelfServiceLookup.inbox_id == inbox_id)
            .order_by(SelfServiceLookup.id)
        )
    )


def access_lookup(db: Session, viewer: Viewer, inbox_id: int, key: str) -> SelfServiceLookup:
    _check_admin(viewer)
    lookup = db.scalar(
        select(SelfServiceLookup).where(
            SelfServiceLookup.inbox_id == inbox_id, SelfServiceLookup.key == key
        )
    )
    if lookup is None:
        raise NotFound("lookup", key)
    return lookup


def do_create_lookup(
    db: Session,
    viewer: Viewer,
    inbox_id: int,
    data: LookupInput,
    *,
    settings: Settings,
    now: datetime,
) -> tuple[SelfServiceLookup, str]:
    """Admins: add a lookup to an inbox. Returns it with its new signing secret,
    which is shown this once."""
    _check_admin(viewer)
    inbox = db.get(Inbox, inbox_id)
    if inbox is None:
        raise NotFound("inbox", inbox_id)
    key = check_key(data.key)
    hosts = check_hosts(data.allowed_hosts)
    existing = list_lookups(db, viewer, inbox_id)
    if any(lookup.key == key for lookup in existing):
        raise Conflict(f"this inbox already has a lookup {key!r}", {"field": "key"})
    if len(existing) >= MAX_LOOKUPS_PER_INBOX:
        raise ValidationFailed(f"an inbox has at most {MAX_LOOKUPS_PER_INBOX} lookups")
    secret = secrets.token_urlsafe(32)
    lookup = SelfServiceLookup(
        inbox_id=inbox_id,
        key=key,
        label=check_label(data.label, "label"),
        input_label=(
            check_label(data.input_label, "input_label") if data.input_label is not None else None
        ),
        url_template=check_url_template(
            data.url_template, hosts, allow_http=settings.lookup_allow_http
        ),
        allowed_hosts=hosts,
        timeout_seconds=check_timeout(data.timeout_seconds),
        secret=secret,
        enabled=data.enabled,
        created_at=now,
        updated_at=now,
    )
    db.add(lookup)
    record_audit(
        db,
        actor_user_id=viewer.user_id,
        action="lookup.created",
        target_type="inbox",
        target_id=inbox_id,
        details={"key": key, "allowed_hosts": hosts},
        now=now,
    )
    db.commit()
    return lookup, secret


EDITABLE = frozenset(
    {"label", "input_label", "url_template", "allowed_hosts", "timeout_seconds", "enabled"}
)


def do_update_lookup(
    db: Session,
    viewer: Viewer,
    inbox_id: int,
    key: str,
    changes: Mapping[str, Any],
    *,
    rotate_secret: bool = False,
    settings: Settings,
    now: datetime,
) -> tuple[SelfServiceLookup, str | None]:
    """Change the given fields (the URL is checked against the resulting hosts);
    `rotate_secret` makes a new secret and returns it."""
    lookup = access_lookup(db, viewer, inbox_id, key)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed("unknown fields", {"fields": sorted(unknown)})
    hosts = (
        check_hosts(changes["allowed_hosts"])
        if "allowed_hosts" in changes
        else lookup.allowed_hosts
    )
    template = changes.get("url_template", lookup.url_template)
    lookup.url_template = check_url_template(template, hosts, allow_http=settings.lookup_allow_http)
    lookup.allowed_hosts = list(hosts)
    if "label" in changes:
        lookup.label = check_label(changes["label"], "label")
    if "input_label" in changes:
        raw = changes["input_label"]
        lookup.input_label = check_label(raw, "input_label") if raw is not None else None
    if "timeout_seconds" in changes:
        lookup.timeout_seconds = check_timeout(changes["timeout_seconds"])
    if "enabled" in changes:
        lookup.enabled = bool(changes["enabled"])
    secret = None
    if rotate_secret:
        secret = secrets.token_urlsafe(32)
        lookup.secret = secret
    lookup.updated_at = now
    record_audit(
        db,
        actor_user_id=viewer.user_id,
        action="lookup.updated",
        target_type="inbox",
        target_id=inbox_id,
        details={"key": key, "fields": sorted(changes), "secret_rotated": rotate_secret},
        now=now,
    )
    db.commit()
    return lookup, secret


def do_delete_lookup(
    db: Session, viewer: Viewer, inbox_id: int, key: str, *, now: datetime
) -> None:
    lookup = access_lookup(db, viewer, inbox_id, key)
    db.delete(lookup)
    record_audit(
        db,
        actor_user_id=viewer.user_id,
        action="lookup.deleted",
        target_type="inbox",
        target_id=inbox_id,
        details={"key": key},
        now=now,
    )
    db.commit()


def widget_lookups(db: Session, inbox: Inbox) -> list[dict[str, Any]]:
    """The public part of the inbox's enabled lookups, for the widget's config."""
    rows = db.scalars(
        select(SelfServiceLookup)
        .where(SelfServiceLookup.inbox_id == inbox.id, SelfServiceLookup.enabled.is_(True))
        .order_by(SelfServiceLookup.id)
    )
    return [{"key": row.key, "label": row.label, "input_label": row.input_label} for row in rows]


# ---------------------------------------------------------------- running one


class LookupUnavailable(DomainError):
    """The shop's endpoint failed (down, slow, refused, malformed): 502."""

    code = "lookup_unavailable"


class VerificationRequired(PermissionDenied):
    """Only customers the site signed in (identifier_hash) may run lookups."""

    code = "verification_required"


@dataclass(frozen=True, slots=True)
class LookupField:
    label: str
    value: str
    kind: Literal["text", "link"] = "text"


@dataclass(frozen=True, slots=True)
class LookupResult:
    found: bool
    title: str | None = None
    message: str | None = None
    fields: list[LookupField] = field(default_factory=list)


def _text(value: object, limit: int) -> str | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        clean = " ".join(value.split())
        return clean[:limit] if clean else None
    return None


def read_answer(payload: Any) -> LookupResult:
    """Check the shop's JSON against the contract; ValueError when it does not fit.

    {"found": true, "title": "Order #1245",
     "fields": [{"label": "Status", "value": "Shipped"},
                {"label": "Track it", "value": "https://…", "type": "link"}],
     "message": "optional sentence"}
    """
    if not isinstance(payload, dict):
        raise ValueError("the answer is not a JSON object")
    found = payload.get("found", True)
    if not isinstance(found, bool):
        raise ValueError("'found' is not true or false")
    raw_fields = payload.get("fields", [])
    if not isinstance(raw_fields, list):
        raise ValueError("'fields' is not a list")
    fields: list[LookupField] = []
    for raw in raw_fields[:MAX_FIELDS]:
        if not isinstance(raw, dict):
            raise ValueError("a field is not an object")
        label = _text(raw.get("label"), MAX_LABEL_CHARS)
        value = _text(raw.get("value"), MAX_VALUE_CHARS)
        kind = raw.get("type", "text")
        if label is None or value is None or kind not in ("text", "link"):
            raise ValueError("a field needs a label, a value and type text or link")
        if kind == "link" and urlsplit(value).scheme not in ("https", "http"):
            kind = "text"  # never a javascript: link; show the text instead
        fields.append(LookupField(label=label, value=value, kind=kind))
    title = _text(payload.get("title"), MAX_TITLE_CHARS)
    message = _text(payload.get("message"), MAX_MESSAGE_CHARS)
    if found and not fields and title is None and message is None:
        raise ValueError("a found answer has a title, a message or fields")
    return LookupResult(found=found, title=title, message=message, fields=fields)


class LookupLimits:
    """Per-customer and per-address sliding windows: in Redis, shared by all server
    processes, when `settings.redis_url` is set; else in this process's memory
    (like `visitors.VisitorLimits`). `hit` blocks on Redis: call it from a worker
    thread (the lookup route is sync)."""

    def __init__(self, settings: Settings, shared: RedisRateLimits | None = FROM_SETTINGS) -> None:
        self.shared = shared_rate_limits(settings) if shared is FROM_SETTINGS else shared
        self.visitor = window_limiter(
            self.shared, "lookups_visitor", settings.lookup_per_visitor_per_minute, 60.0
        )
        self.ip = window_limiter(self.shared, "lookups_ip", settings.lookup_per_ip_per_minute, 60.0)

    def hit(self, visitor: Visitor, ip: str, *, now: datetime) -> None:
        for limiter, key in ((self.visitor, visitor.rate_key), (self.ip, ip)):
            wait = limiter.hit(key, now=now.timestamp())
            if wait is not None:
                raise RateLimited(f"too many lookups; try again in {wait} seconds", wait)


def run_lookup(
    db: Session,
    inbox: Inbox,
    visitor: Visitor,
    key: str,
    value: str | None,
    *,
    language: str,
    settings: Settings,
    limits: LookupLimits,
    ip: str,
    now: datetime,
    transport: httpx.BaseTransport | None = None,
) -> LookupResult:
    """Ask the shop for a verified customer; the visitor sees only what the contract
    allows. Reads only; the call happens outside any write transaction."""
    lookup = db.scalar(
        select(SelfServiceLookup).where(
            SelfServiceLookup.inbox_id == inbox.id,
            SelfServiceLookup.key == key,
            SelfServiceLookup.enabled.is_(True),
        )
    )
    if lookup is None:
        raise NotFound("lookup", key)
    contact = db.get(Contact, visitor.contact_id)
    if not visitor.verified or contact is None or not contact.verified or not contact.external_id:
        raise VerificationRequired("sign in on the site first: lookups are for verified customers")
    limits.hit(visitor, ip, now=now)
    given = " ".join((value or "").split())
    if lookup.input_label is not None and not given:
        raise ValidationFailed("fill in the field first", {"field": "input"})
    if len(given) > MAX_INPUT_CHARS:
        raise ValidationFailed(
            f"at most {MAX_INPUT_CHARS} characters",
            {"field": "input", "max_chars": MAX_INPUT_CHARS},
        )
    url = lookup.url_template.format(
        external_id=quote(contact.external_id, safe=""),
        input=quote(given, safe=""),
        language=quote(language[:16], safe=""),
    )
    call = LookupCall(
        url=url,
        secret=lookup.secret,
        allowed_hosts=tuple(lookup.allowed_hosts),
        timeout_seconds=min(lookup.timeout_seconds, MAX_TIMEOUT_SECONDS),
        max_bytes=settings.lookup_max_response_bytes,
        allow_http=settings.lookup_allow_http,
    )
    db.rollback()  # end the read transaction before waiting on the network
    try:
        answer = fetch(call, now=now.timestamp(), transport=transport)
    except LookupFailure as failure:
        log.warning("lookup %s of inbox %s failed: %s", key, inbox.id, failure)
        raise LookupUnavailable(
            "the lookup is not available right now", {"reason": failure.kind}
        ) from failure
    if answer.status == 404:
        return LookupResult(found=False)
    try:
        return read_answer(answer.payload)
    except ValueError as error:
        log.warning("lookup %s of inbox %s answered off contract: %s", key, inbox.id, error)
        raise LookupUnavailable(
            "the lookup is not available right now", {"reason": "malformed"}
        ) from error
