"""Outgoing mail: turn an outbox payload into a standard message and hand it on.

`SmtpMailer` talks to a real SMTP server; `ConsoleMailer` logs every message and
keeps the latest ones in memory (development and the demo). Delivery retries
live in the outbox, not here: a mailer either sends or raises.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from typing import Any, Protocol

import aiosmtplib

from helpline.settings import Settings

log = logging.getLogger(__name__)

# Headers a payload may not set itself: they identify the sender and the recipients.
_RESERVED_HEADERS = frozenset(
    {"from", "sender", "to", "cc", "bcc", "subject", "date", "reply-to", "message-id"}
)
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")


class Mailer(Protocol):
    """Sends one message or raises; the outbox decides about retries."""

    async def send(self, message: EmailMessage) -> None: ...


def mail_domain(mail_from: str) -> str:
    """The domain of the From address, used to make Message-IDs unique to us."""
    addresses = getaddresses([mail_from])
    address = addresses[0][1] if addresses else ""
    _, _, domain = address.rpartition("@")
    return domain or "helpline.localhost"


def outbox_message_id(outbox_id: int, mail_from: str) -> str:
    """Stable per outbox item, so a receiver can drop a copy sent twice after a crash."""
    return f"<outbox-{outbox_id}@{mail_domain(mail_from)}>"


def build_message(outbox_id: int, payload: Mapping[str, Any], settings: Settings) -> EmailMessage:
    """Build the email for one outbox item: text body, optional HTML alternative.

    The Message-ID is the one the payload names (e.g. one per conversation message,
    for threading) if it is well-formed, else one derived from the outbox id; both
    stay the same when the item is sent again.
    """
    headers = {str(name): str(value) for name, value in dict(payload.get("headers") or {}).items()}
    requested_id = next(
        (value.strip() for name, value in headers.items() if name.lower() == "message-id"), ""
    )
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = str(payload["to"])
    message["Subject"] = str(payload.get("subject", ""))
    message["Message-ID"] = (
        requested_id
        if _MESSAGE_ID.fullmatch(requested_id)
        else outbox_message_id(outbox_id, settings.mail_from)
    )
    message["Date"] = formatdate(localtime=False, usegmt=True)
    reply_to = payload.get("reply_to")
    if reply_to:
        message["Reply-To"] = str(reply_to)
    for name, value in headers.items():
        if name.lower() == "message-id":
            continue
        if name.lower() in _RESERVED_HEADERS or "\n" in value or "\r" in value:
            log.warning("outbox %s: header %r dropped", outbox_id, name)
            continue
        message[name] = value
    message.set_content(str(payload.get("text", "")))
    html = payload.get("html")
    if html:
        message.add_alternative(str(html), subtype="html")
    return message


def envelope_sender(settings: Settings) -> str:
    """The bare address of `mail_from` (SMTP MAIL FROM takes no display name)."""
    addresses = getaddresses([settings.mail_from])
    return addresses[0][1] if addresses and addresses[0][1] else "helpline@localhost"


class SmtpMailer:
    """Sends through the configured SMTP server, one connection per message."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        await aiosmtplib.send(
            message,
            sender=envelope_sender(settings),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )


class ConsoleMailer:
    """Logs each message at INFO and remembers the last `keep` ones (demo, tests)."""

    def __init__(self, keep: int = 50) -> None:
        self._sent: deque[EmailMessage] = deque(maxlen=keep)
        self._lock = threading.Lock()

    async def send(self, message: EmailMessage) -> None:
        log.info("email (console mail backend, not sent):\n%s", message.as_string())
        with self._lock:
            self._sent.append(message)

    @property
    def sent(self) -> list[EmailMessage]:
        """The remembered messages, oldest first."""
        with self._lock:
            return list(self._sent)


def make_mailer(settings: Settings) -> Mailer:
    if settings.mail_backend == "smtp":
        return SmtpMailer(settings)
    return ConsoleMailer()
