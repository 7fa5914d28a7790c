"""Request and response shapes of /api/v1/auth: sign-in, own profile, passwords, tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from helpline.domain.enums import AgentStatus
from helpline.web.schemas.users import MePublic

# Lengths are bounded at the edge so nobody can make argon2 hash a megabyte; the
# password policy itself (services.accounts.check_password_policy) says more.
EmailInput = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]
PasswordInput = Annotated[str, Field(min_length=1, max_length=1024)]


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


LanguageCode = Annotated[
    str,
    BeforeValidator(_lower),
    StringConstraints(pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$"),
]
"""A BCP 47 style tag such as `en` or `pt-br`, stored lower-case."""


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailInput
    password: PasswordInput


class AuthState(BaseModel):
    """Who is signed in. `csrf_token` goes in the `X-CSRF-Token` header of every
    state-changing request made with the session cookie (null for API tokens)."""

    user: MePublic
    csrf_token: str | None


class MeUpdate(BaseModel):
    """What agents may change about themselves; anything else is refused (422)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | (
        None
    ) = None
    languages: (
        Annotated[list[LanguageCode], Field(min_length=1, max_length=20), AfterValidator(_unique)]
        | None
    ) = None
    status: AgentStatus | None = None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: PasswordInput
    new_password: PasswordInput


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailInput


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: PasswordInput


class ApiTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiTokenPublic(BaseModel):
    """A token as listed: its name and first characters, never the secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class ApiTokenCreated(ApiTokenPublic):
    token: str
    """The raw token; shown only in this response. Send it as `Authorization: Bearer …`."""


class ApiTokenList(BaseModel):
    data: list[ApiTokenPublic]
    count: int
