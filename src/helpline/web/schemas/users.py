"""Public shapes of a user: what colleagues and admins see, and what a user sees of themselves."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from helpline.domain.enums import AgentStatus, Role


class UserPublic(BaseModel):
    """A user as the API shows them; never the password hash or secrets."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    tier: int
    max_concurrent_chats: int
    refund_limit_cents: int
    skills: list[str]
    languages: list[str]
    status: AgentStatus
    status_since: datetime
    created_at: datetime
    last_login_at: datetime | None


class MePublic(UserPublic):
    """The signed-in user's own record (plus when they last changed their password)."""

    password_changed_at: datetime
