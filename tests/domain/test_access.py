"""The access rule: who sees which conversation (the predicate; the SQL twin is
checked against it in tests/api/test_access_control.py)."""

from __future__ import annotations

import pytest

from helpline.domain.access import Viewer, can_see_conversation
from helpline.domain.enums import Role

TEAM_A, TEAM_B = 1, 2
INBOX_CHAT, INBOX_MAIL = 10, 20
ME = 100


def viewer(role: Role, teams: set[int] = set(), inboxes: set[int] = set()) -> Viewer:  # noqa: B006
    return Viewer(ME, role, frozenset(teams), frozenset(inboxes))


AGENT_A = viewer(Role.AGENT, {TEAM_A}, {INBOX_CHAT})
SUPERVISOR_A = viewer(Role.SUPERVISOR, {TEAM_A}, {INBOX_CHAT})
LONE_AGENT = viewer(Role.AGENT)
ADMIN = viewer(Role.ADMIN)


@pytest.mark.parametrize(
    ("who", "assignee_id", "team_id", "inbox_id", "sees"),
    [
        # Assigned to me: always, whatever team or inbox.
        (LONE_AGENT, ME, TEAM_B, INBOX_MAIL, True),
        (AGENT_A, ME, None, INBOX_MAIL, True),
        # My team's conversations, in any inbox, assigned to anyone.
        (AGENT_A, None, TEAM_A, INBOX_MAIL, True),
        (AGENT_A, 7, TEAM_A, INBOX_CHAT, True),
        # Team-less conversations in my inboxes.
        (AGENT_A, None, None, INBOX_CHAT, True),
        (AGENT_A, 7, None, INBOX_CHAT, True),
        # Another team's conversation in my inbox: agents no, supervisors yes.
        (AGENT_A, None, TEAM_B, INBOX_CHAT, False),
        (SUPERVISOR_A, None, TEAM_B, INBOX_CHAT, True),
        # Outside my teams and inboxes.
        (AGENT_A, None, None, INBOX_MAIL, False),
        (AGENT_A, 7, TEAM_B, INBOX_MAIL, False),
        (SUPERVISOR_A, None, TEAM_B, INBOX_MAIL, False),
        (SUPERVISOR_A, None, None, INBOX_MAIL, False),
        (LONE_AGENT, None, None, INBOX_CHAT, False),
        # Admins see everything.
        (ADMIN, None, TEAM_B, INBOX_MAIL, True),
        (ADMIN, 7, None, INBOX_CHAT, True),
    ],
)
def test_who_sees_what(
    who: Viewer, assignee_id: int | None, team_id: int | None, inbox_id: int, sees: bool
) -> None:
    assert (
        can_see_conversation(who, assignee_id=assignee_id, team_id=team_id, inbox_id=inbox_id)
        is sees
    )


def test_roles_know_their_powers() -> None:
    assert ADMIN.is_admin and ADMIN.is_supervisor_or_admin
    assert SUPERVISOR_A.is_supervisor_or_admin and not SUPERVISOR_A.is_admin
    assert not AGENT_A.is_supervisor_or_admin
