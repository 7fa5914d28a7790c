"""Request and response shapes of self-service lookups: the admin configuration and
what the widget gets back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from helpline.adapters.db.models import SelfServiceLookup
from helpline.services.lookups import LookupResult

Key = Annotated[str, Field(min_length=1, max_length=40)]
Label = dict[str, Annotated[str, Field(max_length=200)]] | Annotated[str, Field(max_length=200)]


class LookupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Key
    """Stable name, e.g. order_status."""
    label: Label
    """The widget button's text, one string or one per language."""
    input_label: Label | None = None
    """Ask the visitor for a value first (e.g. "Order number"); passed as {input}."""
    url_template: Annotated[str, Field(min_length=1, max_length=2000)]
    allowed_hosts: Annotated[list[Annotated[str, Field(max_length=255)]], Field(max_length=20)]
    timeout_seconds: float = 5.0
    enabled: bool = True


class LookupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Label | None = None
    input_label: Label | None = None
    url_template: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    allowed_hosts: (
        Annotated[list[Annotated[str, Field(max_length=255)]], Field(max_length=20)] | None
    ) = None
    timeout_seconds: float | None = None
    enabled: bool | None = None
    rotate_secret: bool = False
    """Make a new signing secret (returned once in `secret`)."""

    def changes(self) -> dict[str, Any]:
        """The fields sent; `input_label: null` removes the input."""
        sent = self.model_dump(exclude_unset=True, exclude={"rotate_secret"})
        return {
            name: value
            for name, value in sent.items()
            if value is not None or name == "input_label"
        }


class LookupPublic(BaseModel):
    key: str
    label: dict[str, Any]
    input_label: dict[str, Any] | None
    url_template: str
    allowed_hosts: list[str]
    timeout_seconds: float
    enabled: bool
    updated_at: datetime
    secret: str | None = None
    """Only right after creating the lookup or rotating its secret."""

    @classmethod
    def of(cls, lookup: SelfServiceLookup, secret: str | None = None) -> LookupPublic:
        return cls(
            key=lookup.key,
            label=lookup.label,
            input_label=lookup.input_label,
            url_template=lookup.url_template,
            allowed_hosts=list(lookup.allowed_hosts),
            timeout_seconds=lookup.timeout_seconds,
            enabled=lookup.enabled,
            updated_at=lookup.updated_at,
            secret=secret,
        )


class LookupList(BaseModel):
    data: list[LookupPublic]
    count: int


class LookupRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Annotated[str, Field(max_length=100)] | None = None
    language: Annotated[str, Field(max_length=16)] = "en"


class LookupFieldPublic(BaseModel):
    label: str
    value: str
    type: Literal["text", "link"]


class LookupResultPublic(BaseModel):
    found: bool
    title: str | None
    message: str | None
    fields: list[LookupFieldPublic]

    @classmethod
    def of(cls, result: LookupResult) -> LookupResultPublic:
        return cls(
            found=result.found,
            title=result.title,
            message=result.message,
            fields=[
                LookupFieldPublic(label=item.label, value=item.value, type=item.kind)
                for item in result.fields
            ],
        )
