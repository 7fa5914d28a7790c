"""Customers: create, search, update, and merge-safe identification.

Identity is the email address (stored lower-case) and the external id from the
shop or CRM. `do_identify_contact` finds or creates a contact from either, and
refuses (never merges) when the two point at different people.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact
from helpline.domain.enums import Plan
from helpline.services.errors import Conflict, NotFound, ValidationFailed

EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s.\x00-\x1f]+(\.[^@\s.\x00-\x1f]+)+$")
MAX_CUSTOM_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_CHARS = 64
MAX_ATTRIBUTE_VALUE_CHARS = 1000
COUNT_CAP = 1000

UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "phone",
        "plan",
        "lifetime_value_cents",
        "orders_count",
        "language",
        "custom_attributes",
        "notes",
    }
)


class IdentityConflict(Conflict):
    """The email and the external id belong to two different contacts."""

    code = "identity_conflict"


@dataclass(frozen=True, slots=True)
class ContactIdentity:
    """What a caller knows about a customer; email and/or external id identify them."""

    email: str | None = None
    external_id: str | None = None
    name: str | None = None
    phone: str | None = None
    plan: Plan | None = None
    language: str | None = None
    verified: bool = False


@dataclass(frozen=True, slots=True)
class ContactPage:
    data: list[Contact]
    count: int
    next_cursor: str | None
    count_capped: bool = False


@dataclass(frozen=True, slots=True)
class IdentifyResult:
    contact: Contact
    created: bool
    filled: list[str] = field(default_factory=list)
    """Fields that were empty on the existing contact and are now set."""


def check_email(email: str | None) -> str | None:
    """Normalise an email address to the stored form (trimmed, lower-case)."""
    if email is None:
        return None
    normalised = email.strip().lower()
    if not normalised:
        return None
    if len(normalised) > 254 or not EMAIL_PATTERN.match(normalised):
        raise ValidationFailed("not a valid email address", {"field": "email"})
    return normalised


def check_external_id(external_id: str | None) -> str | None:
    if external_id is None:
        return None
    value = external_id.strip()
    if not value:
        return None
    if len(value) > 200:
        raise ValidationFailed("external id is too long", {"field": "external_id"})
    if "\x00" in value:
        raise ValidationFailed("external id contains a NUL character", {"field": "external_id"})
    return value


def check_custom_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Flat key → scalar maps only: they are shown to agents and matched by rules."""
    if len(attributes) > MAX_CUSTOM_ATTRIBUTES:
        raise ValidationFailed(
            f"at most {MAX_CUSTOM_ATTRIBUTES} custom attributes", {"field": "custom_attributes"}
        )
    for key, value in attributes.items():
        if not key or len(key) > MAX_ATTRIBUTE_KEY_CHARS:
            raise ValidationFailed(
                f"attribute names are 1 to {MAX_ATTRIBUTE_KEY_CHARS} characters",
                {"field": "custom_attributes", "key": key[:MAX_ATTRIBUTE_KEY_CHARS]},
            )
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValidationFailed(
                "attribute values must be text, numbers, booleans or null",
                {"field": "custom_attributes", "key": key},
            )
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            raise ValidationFailed(
                "attributes cannot contain NUL characters", {"field": "custom_attributes"}
            )
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_VALUE_CHARS:
            raise ValidationFailed(
                f"attribute values are at most {MAX_ATTRIBUTE_VALUE_CHARS} characters",
                {"field": "custom_attributes", "key": key},
            )
    return dict(attributes)


def _text(value: str | None) -> str | None:
    """Free text from outside (an email's From name, a CRM field): NUL characters
    carry no meaning and PostgreSQL cannot store them, so they are dropped."""
    return value.replace("\x00", "").strip() if value is not None else None


def access_contact(db: Session, contact_id: int) -> Contact:
    """Contacts are shared by all staff: only existence is checked."""
    contact = db.get(Contact, contact_id)
    if contact is None:
        raise NotFound("contact", contact_id)
    return contact


def _find_by_email(db: Session, email: str) -> Contact | None:
    return db.scalar(select(Contact).where(Contact.email == email))


def _find_by_external_id(db: Session, external_id: str) -> Contact | None:
    return db.scalar(select(Contact).where(Contact.external_id == external_id))


def _insert_contact(db: Session, contact: Contact) -> None:
    """Insert in a savepoint so a concurrent duplicate becomes a clean 409."""
    try:
        with db.begin_nested():
            db.add(contact)
            db.flush()
    except IntegrityError as exc:
        raise Conflict(
            "a contact with this email or external id already exists",
            {"email": contact.email, "external_id": contact.external_id},
        ) from exc


def create_contact(
    db: Session,
    *,
    email: str | None = None,
    external_id: str | None = None,
    name: str = "",
    phone: str | None = None,
    plan: Plan | None = None,
    language: str | None = None,
    lifetime_value_cents: int = 0,
    orders_count: int = 0,
    custom_attributes: dict[str, Any] | None = None,
    notes: str = "",
    verified: bool = False,
    now: datetime,
) -> Contact:
    """Insert a contact in the caller's transaction (no commit); 409 on duplicates."""
    email = check_email(email)
    external_id = check_external_id(external_id)
    if email is not None and _find_by_email(db, email) is not None:
        raise Conflict("a contact with this email already exists", {"field": "email"})
    if external_id is not None and _find_by_external_id(db, external_id) is not None:
        raise Conflict("a contact with this external id already exists", {"field": "external_id"})
    contact = Contact(
        email=email,
        external_id=external_id,
        name=_text(name) or "",
        phone=_text(phone),
        plan=plan.value if plan is not None else None,
        language=_text(language),
        lifetime_value_cents=lifetime_value_cents,
        orders_count=orders_count,
        custom_attributes=check_custom_attributes(custom_attributes or {}),
        notes=notes.replace("\x00", ""),
        verified=verified,
        first_seen_at=now,
        last_seen_at=now,
        created_at=now,
        updated_at=now,
    )
    _insert_contact(db, contact)
    return contact


def do_create_contact(
    db: Session,
    *,
    email: str | None = None,
    external_id: str | None = None,
    name: str = "",
    phone: str | None = None,
    plan: Plan | None = None,
    language: str | None = None,
    lifetime_value_cents: int = 0,
    orders_count: int = 0,
    custom_attributes: dict[str, Any] | None = None,
    notes: str = "",
    now: datetime,
) -> Contact:
    """Create a contact and commit. No locking: the unique constraints decide races."""
    contact = create_contact(
        db,
        email=email,
        external_id=external_id,
        name=name,
        phone=phone,
        plan=plan,
        language=language,
        lifetime_value_cents=lifetime_value_cents,
        orders_count=orders_count,
        custom_attributes=custom_attributes,
        notes=notes,
        now=now,
    )
    db.commit()
    return contact


def do_update_contact(
    db: Session, contact_id: int, changes: dict[str, Any], *, now: datetime
) -> Contact:
    """Apply a partial update (only the keys given) and commit."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationFailed("these fields cannot be changed", {"fields": sorted(unknown)})
    contact = access_contact(db, contact_id)
    for name, value in changes.items():
        if name == "custom_attributes":
            value = check_custom_attributes(value or {})
        elif name == "plan":
            value = Plan(value).value if value is not None else None
        elif name in ("name", "notes"):
            value = _text(value) or ""
        elif name in ("phone", "language"):
            value = _text(value) or None
        elif name in ("lifetime_value_cents", "orders_count") and value is None:
            raise ValidationFailed(f"{name} cannot be empty", {"field": name})
        setattr(contact, name, value)
    contact.updated_at = now
    db.commit()
    return contact


def identify_contact(db: Session, identity: ContactIdentity, *, now: datetime) -> IdentifyResult:
    """Find or create the contact for an identity, in the caller's transaction.

    Exactly one match: that contact (empty identity fields are filled in). No
    match: a new contact. The email and external id naming two different people,
    or a match whose own identifier differs from the one given: IdentityConflict.
    """
    email = check_email(identity.email)
    external_id = check_external_id(identity.external_id)
    if email is None and external_id is None:
        raise ValidationFailed("give an email or an external id", {"fields": ["email"]})
    by_email = _find_by_email(db, email) if email is not None else None
    by_external = _find_by_external_id(db, external_id) if external_id is not None else None
    if by_email is not None and by_external is not None and by_email.id != by_external.id:
        raise IdentityConflict(
            "the email and the external id belong to two different contacts",
            {"email_contact_id": by_email.id, "external_id_contact_id": by_external.id},
        )
    contact = by_email or by_external
    if contact is None:
        try:
            created = create_contact(
                db,
                email=email,
                external_id=external_id,
                name=identity.name or "",
                phone=identity.phone,
                plan=identity.plan,
                language=identity.language,
                verified=identity.verified,
                now=now,
            )
        except Conflict:
            # Someone created the same customer concurrently: use theirs.
            return identify_contact(db, identity, now=now)
        return IdentifyResult(contact=created, created=True)
    if email is not None and contact.email not in (None, email):
        raise IdentityConflict(
            "this external id belongs to a contact with another email",
            {"contact_id": contact.id},
        )
    if external_id is not None and contact.external_id not in (None, external_id):
        raise IdentityConflict(
            "this email belongs to a contact with another external id",
            {"contact_id": contact.id},
        )
    filled: list[str] = []
    if email is not None and contact.email is None:
        contact.email = email
        filled.append("email")
    if external_id is not None and contact.external_id is None:
        contact.external_id = external_id
        filled.append("external_id")
    for name in ("name", "phone", "language"):
        given = _text(getattr(identity, name))
        if given and not getattr(contact, name):
            setattr(contact, name, given)
            filled.append(name)
    if identity.plan is not None and contact.plan is None:
        contact.plan = identity.plan.value
        filled.append("plan")
    if identity.verified and not contact.verified:
        contact.verified = True
        filled.append("verified")
    contact.last_seen_at = now
    if filled:
        contact.updated_at = now
    return IdentifyResult(contact=contact, created=False, filled=filled)


def do_identify_contact(db: Session, identity: ContactIdentity, *, now: datetime) -> IdentifyResult:
    """Lookup-or-create and commit; see `identify_contact`."""
    result = identify_contact(db, identity, now=now)
    db.commit()
    return result


def _encode_cursor(contact_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"id": contact_id}).encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        contact_id = value["id"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed("invalid cursor", {"field": "cursor"}) from exc
    valid = isinstance(contact_id, int) and not isinstance(contact_id, bool)
    if not valid or not 0 < contact_id <= 2_147_483_647:
        raise ValidationFailed("invalid cursor", {"field": "cursor"})
    return int(contact_id)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_contacts(
    db: Session, *, q: str | None = None, cursor: str | None = None, limit: int = 50
) -> ContactPage:
    """Newest first, keyset-paginated on id; `q` matches name, email, phone, external id."""
    conditions = []
    if q is not None and "\x00" in q:
        raise ValidationFailed("q contains a NUL character", {"field": "q"})
    if q and q.strip():
        pattern = _like_pattern(q.strip())
        conditions.append(
            or_(
                Contact.name.ilike(pattern, escape="\\"),
                Contact.email.ilike(pattern, escape="\\"),
                Contact.phone.ilike(pattern, escape="\\"),
                Contact.external_id.ilike(pattern, escape="\\"),
            )
        )
    query = select(Contact).where(*conditions)
    if cursor:
        query = query.where(Contact.id < _decode_cursor(cursor))
    rows = list(db.scalars(query.order_by(Contact.id.desc()).limit(limit + 1)))
    next_cursor = _encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    matching = select(Contact.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    count = db.scalar(select(func.count()).select_from(matching)) or 0
    return ContactPage(
        data=rows[:limit],
        count=min(count, COUNT_CAP),
        next_cursor=next_cursor,
        count_capped=count > COUNT_CAP,
    )
