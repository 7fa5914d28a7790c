"""Who may see which conversation: the one access rule every layer applies.

Agents see what is assigned to them, what belongs to one of their teams, and
team-less conversations in inboxes they are members of, and conversations they
joined as a participant (until they leave). Supervisors also see every
conversation in their inboxes, whatever its team. Admins see everything. The
database query in the repository mirrors this predicate and is tested against it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from helpline.domain.enums import Role


@dataclass(frozen=True, slots=True)
class Viewer:
    """The caller as the access rule needs to know them."""

    user_id: int
    role: Role
    team_ids: frozenset[int]
    inbox_ids: frozenset[int]

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_supervisor_or_admin(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


def can_see_conversation(
    viewer: Viewer,
    *,
    assignee_id: int | None,
    team_id: int | None,
    inbox_id: int,
    participant_ids: Collection[int] = (),
) -> bool:
    """`participant_ids`: the agents who joined the conversation and have not left."""
    if viewer.role == Role.ADMIN:
        return True
    if assignee_id == viewer.user_id or viewer.user_id in participant_ids:
        return True
    if team_id is not None and team_id in viewer.team_ids:
        return True
    if inbox_id in viewer.inbox_ids:
        return team_id is None or viewer.role == Role.SUPERVISOR
    return False
