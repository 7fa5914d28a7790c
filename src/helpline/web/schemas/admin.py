"""Request and response shapes of the admin API: users, teams, inboxes, audit log.

Input models refuse unknown fields (422), so a request cannot slip in a field the
endpoint does not offer (mass assignment). Update models change only the fields
sent; a field that cannot be empty refuses an explicit null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from helpline.domain.enums import Channel, Role
from helpline.domain.routing.config import Strategy
from helpline.web.schemas.auth import LanguageCode
from helpline.web.schemas.users import UserPublic


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
EmailInput = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]
NewPassword = Annotated[str, Field(min_length=10, max_length=256)]
"""The length part of the password policy; services.accounts checks the rest."""
Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
"""One of the default categories (billing, account, technical, orders, sales,
general) or any lower-case slug."""
Id = Annotated[int, Field(ge=1)]
Categories = Annotated[list[Category], Field(max_length=50), AfterValidator(_unique)]
Languages = Annotated[list[LanguageCode], Field(max_length=20), AfterValidator(_unique)]
IdList = Annotated[list[Id], Field(max_length=1000), AfterValidator(_unique)]
Tier = Annotated[int, Field(ge=1, le=2)]
ChatCap = Annotated[int, Field(ge=1, le=10)]
RefundLimit = Annotated[int, Field(ge=0, le=100_000_000)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Patch(_Input):
    """Only the fields sent change; `nullable` lists those that may be set to null."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> _Patch:
        for field in self.model_fields_set:
            if getattr(self, field) is None and field not in self.nullable:
                raise ValueError(f"{field} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, mode="python")


# --- users ---------------------------------------------------------------------------------


class StaffUserPublic(UserPublic):
    """A colleague with their memberships (which teams and inboxes they work)."""

    team_ids: list[int]
    inbox_ids: list[int]


class StaffUserList(BaseModel):
    data: list[StaffUserPublic]
    count: int


class UserCreate(_Input):
    email: EmailInput
    name: Name
    role: Role = Role.AGENT
    password: NewPassword
    tier: Tier = 1
    max_concurrent_chats: ChatCap = 3
    refund_limit_cents: RefundLimit = 0
    skills: Categories = []
    languages: Languages = ["en"]
    team_ids: IdList = []
    inbox_ids: IdList = []


class UserUpdate(_Patch):
    email: EmailInput | None = None
    name: Name | None = None
    role: Role | None = None
    password: NewPassword | None = None
    tier: Tier | None = None
    max_concurrent_chats: ChatCap | None = None
    refund_limit_cents: RefundLimit | None = None
    skills: Categories | None = None
    languages: Languages | None = None
    team_ids: IdList | None = None
    inbox_ids: IdList | None = None
    is_active: bool | None = None


# --- teams ---------------------------------------------------------------------------------


class TeamPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    tier: int
    categories: list[str]
    member_ids: list[int]
    created_at: datetime


class TeamList(BaseModel):
    data: list[TeamPublic]
    count: int


TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, Field(max_length=2000)]


class TeamCreate(_Input):
    name: TeamName
    description: Description = ""
    tier: Tier = 1
    categories: Categories = []


class TeamUpdate(_Patch):
    name: TeamName | None = None
    description: Description | None = None
    tier: Tier | None = None
    categories: Categories | None = None


class MembersUpdate(_Input):
    """The complete new member list (replaces the old one)."""

    user_ids: IdList


# --- inboxes -------------------------------------------------------------------------------


class InboxPublic(BaseModel):
    """An inbox as its members see it; `public_key` goes in the widget snippet."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    channel: Channel
    public_key: str
    email_address: str | None
    default_team_id: int | None
    routing_strategy: str
    settings: dict[str, Any]
    is_active: bool
    member_ids: list[int]
    created_at: datetime


class InboxAdmin(InboxPublic):
    """Admins only: includes the secret that keys identity-verification HMACs."""

    secret: str


class InboxList(BaseModel):
    data: list[InboxPublic]
    count: int


InboxName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class InboxCreate(_Input):
    name: InboxName
    channel: Channel
    email_address: EmailInput | None = None
    default_team_id: Id | None = None
    routing_strategy: Strategy = Strategy.PRIORITY
    settings: dict[str, Any] = {}


class InboxUpdate(_Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"email_address", "default_team_id"})

    name: InboxName | None = None
    email_address: EmailInput | None = None
    default_team_id: Id | None = None
    routing_strategy: Strategy | None = None
    settings: dict[str, Any] | None = None
    is_active: bool | None = None


# --- audit log -----------------------------------------------------------------------------


class AuditEntryPublic(BaseModel):
    id: int
    actor_user_id: int | None
    actor_name: str | None
    action: str
    target_type: str
    target_id: str | None
    details: dict[str, Any]
    ip: str
    created_at: datetime


class AuditLogPage(BaseModel):
    data: list[AuditEntryPublic]
    count: int
    next_cursor: str | None
