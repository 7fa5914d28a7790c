"""Files in conversations: limits per inbox, type sniffing, storing, and access.

The type of a file is decided from its first bytes, never from the name or the
browser's claim; it is stored under a server-generated key (adapters.storage) and
served only as a download to the parties of its conversation. A refused upload
leaves nothing behind: the file is removed when any later step fails.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from helpline.adapters.db.models import Attachment
from helpline.adapters.storage import LocalStorage, StoredFile, TooLarge
from helpline.domain.access import Viewer
from helpline.domain.enums import MessageKind
from helpline.domain.errors import DomainError
from helpline.services import conversations
from helpline.services.errors import NotFound
from helpline.services.visitors import (
    Visitor,
    access_visitor_conversation,
    check_visitor_conversation,
)
from helpline.settings import Settings

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_NAME_CHARS = 200
STAFF_URL = "/api/v1/attachments/{id}"

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
)


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    max_bytes: int
    allowed_types: tuple[str, ...]


def attachment_limits(inbox_settings: Mapping[str, Any], settings: Settings) -> AttachmentLimits:
    """The inbox's limits, never looser than the installation's."""
    configured = inbox_settings.get("attachments")
    configured = configured if isinstance(configured, Mapping) else {}
    max_bytes = settings.upload_max_bytes
    wanted = configured.get("max_bytes")
    if isinstance(wanted, int) and not isinstance(wanted, bool) and 0 < wanted < max_bytes:
        max_bytes = wanted
    allowed = tuple(settings.upload_allowed_types)
    types = configured.get("allowed_types")
    if isinstance(types, list):
        allowed = tuple(kind for kind in allowed if kind in types)
    return AttachmentLimits(max_bytes=max_bytes, allowed_types=allowed)


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The sample may end inside a multi-byte character.
        if error.start < len(head) - 3:
            return False
        text = head[: error.start].decode("utf-8")
    return all(char.isprintable() or char in "\t\n\r\f" for char in text)


def sniff_type(head: bytes) -> str | None:
    """The MIME type these first bytes prove, or None when they prove nothing."""
    for signature, mime in _SIGNATURES:
        if head.startswith(signature):
            return mime
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if _looks_like_text(head):
        return "text/plain"
    return None


def check_file_name(name: str | None) -> str:
    """A display name only: no directories, no control characters, bounded."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    cleaned = "".join(char for char in base if char.isprintable() and char not in '"<>')
    cleaned = cleaned.strip().lstrip(".") or "file"
    if len(cleaned) > MAX_NAME_CHARS:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and len(extension) <= 10:
            cleaned = stem[: MAX_NAME_CHARS - len(extension) - 1] + "." + extension
        else:
            cleaned = cleaned[:MAX_NAME_CHARS]
    return cleaned


def store_upload(
    storage: LocalStorage, chunks: Iterable[bytes], limits: AttachmentLimits
) -> tuple[StoredFile, str]:
    """Write the upload and decide its type; refused uploads are deleted at once."""
    try:
        stored = storage.save(chunks, max_bytes=limits.max_bytes)
    except TooLarge as error:
        raise PayloadTooLarge(
            f"the file is larger than {limits.max_bytes} bytes", {"max_bytes": limits.max_bytes}
        ) from error
    mime = sniff_type(stored.head) if stored.size else None
    if mime is None or mime not in limits.allowed_types:
        storage.delete(stored.key)
        raise UnsupportedMediaType(
            "this type of file is not accepted",
            {"detected": mime, "allowed_types": list(limits.allowed_types)},
        )
    return stored, mime


def attachment_summary(attachment: Attachment) -> dict[str, Any]:
    """What a message's `attachments` list holds (the URL is the staff one; the
    widget rewrites it to its own)."""
    return {
        "id": attachment.id,
        "name": attachment.name,
        "size": attachment.size,
        "mime": attachment.mime,
        "image": attachment.is_image,
        "url": STAFF_URL.format(id=attachment.id),
    }


def _new_attachment(
    conversation_id: int, stored: StoredFile, mime: str, name: str, *, now: datetime
) -> Attachment:
    return Attachment(
        conversation_id=conversation_id,
        storage_key=stored.key,
        name=check_file_name(name),
        size=stored.size,
        mime=mime,
        is_image=mime in IMAGE_TYPES,
        sha256=stored.sha256,
        uploader_type="contact",
        created_at=now,
    )


def do_attach_contact_file(
    db: Session,
    storage: LocalStorage,
    visitor: Visitor,
    conversation_id: int,
    *,
    stored: StoredFile,
    mime: str,
    name: str,
    now: datetime,
    client_message_id: str | None = None,
) -> tuple[Attachment, conversations.PostedMessage]:
    """Record a stored upload and send it as the visitor's message (body: its name),
    in one transaction; the file is deleted if that fails. Locks the conversation."""
    try:
        check_visitor_conversation(db, visitor, conversation_id)
        attachment = _new_attachment(conversation_id, stored, mime, name, now=now)
        attachment.uploader_contact_id = visitor.contact_id
        db.add(attachment)
        db.flush()
        posted = conversations.do_post_contact_message(
            db,
            conversation_id,
            body=attachment.name,
            now=now,
            client_message_id=client_message_id,
            attachments=[attachment_summary(attachment)],
        )
    except BaseException:
        db.rollback()
        storage.delete(stored.key)
        raise
    if not posted.created:
        # A retried upload: the first one is the message; drop this copy.
        _forget(db, storage, attachment)
        kept = _first_attachment(db, posted.message.attachments) or attachment
        return kept, posted
    return attachment, posted


def do_attach_agent_file(
    db: Session,
    storage: LocalStorage,
    viewer: Viewer,
    conversation_id: int,
    *,
    stored: StoredFile,
    mime: str,
    name: str,
    kind: MessageKind,
    now: datetime,
    client_message_id: str | None = None,
) -> tuple[Attachment, conversations.PostedMessage]:
    """An agent's reply (or note) carrying a stored upload; as for visitors, the
    file goes if the message cannot be stored. Locks the conversation."""
    try:
        conversation = conversations.access_conversation(db, viewer, conversation_id)
        # Forget the unlocked read: the message service locks and re-reads the row.
        db.expire(conversation)
        attachment = _new_attachment(conversation_id, stored, mime, name, now=now)
        attachment.uploader_type = "agent"
        attachment.uploader_user_id = viewer.user_id
        db.add(attachment)
        db.flush()
        posted = conversations.do_post_agent_message(
            db,
            viewer,
            conversation_id,
            body=attachment.name,
            kind=kind,
            now=now,
            client_message_id=client_message_id,
            attachments=[attachment_summary(attachment)],
        )
    except BaseException:
        db.rollback()
        storage.delete(stored.key)
        raise
    if not posted.created:
        _forget(db, storage, attachment)
        kept = _first_attachment(db, posted.message.attachments) or attachment
        return kept, posted
    return attachment, posted


def _forget(db: Session, storage: LocalStorage, attachment: Attachment) -> None:
    row = db.get(Attachment, attachment.id)
    if row is not None:
        db.delete(row)
        db.commit()
    storage.delete(attachment.storage_key)


def _first_attachment(db: Session, summaries: list[dict[str, Any]]) -> Attachment | None:
    for summary in summaries:
        found = db.get(Attachment, summary.get("id"))
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------- access


def access_attachment_for_visitor(db: Session, visitor: Visitor, attachment_id: int) -> Attachment:
    attachment = db.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("attachment", attachment_id)
    try:
        access_visitor_conversation(db, visitor, attachment.conversation_id)
    except NotFound as error:
        raise NotFound("attachment", attachment_id) from error
    return attachment


def access_attachment_for_viewer(db: Session, viewer: Viewer, attachment_id: int) -> Attachment:
    attachment = db.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("attachment", attachment_id)
    try:
        conversations.access_conversation(db, viewer, attachment.conversation_id)
    except NotFound as error:
        raise NotFound("attachment", attachment_id) from error
    return attachment
