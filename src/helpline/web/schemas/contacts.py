"""Request and response shapes of the contacts API (customers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from helpline.adapters.db.models import Contact
from helpline.domain.enums import Plan
from helpline.services.contacts import ContactIdentity, check_email
from helpline.services.errors import ValidationFailed

MAX_CENTS = 2_000_000_000
"""The columns are 32-bit integers on PostgreSQL."""


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail at the database.
    if "\x00" in value:
        raise ValueError("text cannot contain NUL characters")
    return value


def _email(value: str) -> str | None:
    try:
        return check_email(value)
    except ValidationFailed as exc:
        raise ValueError(exc.message) from exc


PlainText = Annotated[str, AfterValidator(_no_nul)]
"""Text that is safe to store on every database."""

EmailAddress = Annotated[str, Field(max_length=254), AfterValidator(_email)]
Name = Annotated[PlainText, Field(max_length=200)]
Phone = Annotated[PlainText, Field(max_length=40)]
ExternalId = Annotated[PlainText, Field(max_length=200)]
Language = Annotated[PlainText, Field(min_length=2, max_length=16)]
Notes = Annotated[PlainText, Field(max_length=10_000)]
Cents = Annotated[int, Field(ge=0, le=MAX_CENTS)]


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailAddress | None = None
    external_id: ExternalId | None = None
    name: Name = ""
    phone: Phone | None = None
    plan: Plan | None = None
    lifetime_value_cents: Cents = 0
    orders_count: Cents = 0
    language: Language | None = None
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    notes: Notes = ""


class ContactUpdate(BaseModel):
    """Only the fields sent are changed; identity (email, external id) is not editable
    here because other systems match customers by it."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    phone: Phone | None = None
    plan: Plan | None = None
    lifetime_value_cents: Cents | None = None
    orders_count: Cents | None = None
    language: Language | None = None
    custom_attributes: dict[str, Any] | None = None
    notes: Notes | None = None


class ContactIdentify(BaseModel):
    """Who the customer is: email and/or external id, plus details for a new contact."""

    model_config = ConfigDict(extra="forbid")

    email: EmailAddress | None = None
    external_id: ExternalId | None = None
    name: Name | None = None
    phone: Phone | None = None
    plan: Plan | None = None
    language: Language | None = None

    def to_identity(self) -> ContactIdentity:
        return ContactIdentity(
            email=self.email,
            external_id=self.external_id,
            name=self.name,
            phone=self.phone,
            plan=self.plan,
            language=self.language,
        )


class ContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str | None
    phone: str | None
    external_id: str | None
    verified: bool
    plan: Plan | None
    lifetime_value_cents: int
    orders_count: int
    language: str | None
    custom_attributes: dict[str, Any]
    notes: str
    first_seen_at: datetime
    last_seen_at: datetime
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactPublic:
        return cls.model_validate(contact)


class ContactList(BaseModel):
    data: list[ContactPublic]
    count: int
    count_capped: bool = False
    """True when more contacts match than `count` (counting stops at 1,000)."""
    next_cursor: str | None = None


class IdentifyResponse(ContactPublic):
    created: bool
    """False: an existing contact matched."""
