"""Page wording and the sign-in redirect rule, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpline.adapters.db.models import Activity
from helpline.services.conversations import HistoryEntry
from helpline.web.pages.rendering import describe_activity, retry_wait, time_ago
from helpline.web.pages.security import safe_next_path

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _entry(
    kind: str,
    data: dict[str, Any],
    *,
    actor_type: str = "agent",
    actor_user_id: int | None = 7,
    author_name: str = "Anna Kowalska",
) -> HistoryEntry:
    activity = Activity(
        conversation_id=1,
        seq=2,
        kind=kind,
        actor_type=actor_type,
        actor_user_id=actor_user_id,
        data=data,
        created_at=NOW,
    )
    return HistoryEntry(
        seq=2, kind="activity", created_at=NOW, author_name=author_name, activity=activity
    )


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        (
            _entry("created", {}, actor_type="contact", actor_user_id=None),
            "Grace Hopper started the conversation",
        ),
        (
            _entry("status_changed", {"from": "open", "to": "on_hold"}),
            "Anna Kowalska changed the status from Open to On hold",
        ),
        (
            _entry("snoozed", {"to": "pending", "snoozed_until": "2026-03-03T09:00:00+00:00"}),
            "Anna Kowalska snoozed the conversation until 2026-03-03 09:00 UTC",
        ),
        (
            _entry("assigned", {"to": 7, "to_name": "Anna Kowalska"}),
            "Anna Kowalska took the conversation",
        ),
        (
            _entry(
                "assigned",
                {"to": 9, "to_name": "Marco Rossi"},
                actor_user_id=None,
                actor_type="system",
                author_name="System",
            ),
            "Routed to Marco Rossi",
        ),
        (
            _entry("assigned", {"to": 9, "to_name": "Marco Rossi"}),
            "Anna Kowalska assigned the conversation to Marco Rossi",
        ),
        (
            _entry(
                "transferred", {"to_user_name": "Tomasz Nowak", "to_team_name": "Senior support"}
            ),
            "Anna Kowalska transferred the conversation to Tomasz Nowak (Senior support)",
        ),
        (
            _entry("tags_changed", {"added": ["refund"], "removed": ["billing", "vip"]}),
            "Anna Kowalska added the tag refund; removed the tags billing, vip",
        ),
        (
            _entry("priority_changed", {"from": "normal", "to": "urgent"}),
            "Anna Kowalska changed the priority from Normal to Urgent",
        ),
        (
            _entry(
                "reopened",
                {"from": "solved", "to": "open"},
                actor_type="contact",
                actor_user_id=None,
            ),
            "Reopened: Grace Hopper wrote again",
        ),
        (
            _entry("reopened", {"reason": "snooze_over"}, actor_type="system", actor_user_id=None),
            "The snooze ended: the conversation is open again",
        ),
        (
            _entry("auto_closed", {"after_days": 7.0}, actor_type="system", actor_user_id=None),
            "Closed automatically 7 days after it was solved",
        ),
        (
            _entry(
                "sla_breached",
                {"target": "first_response"},
                actor_type="system",
                actor_user_id=None,
            ),
            "SLA target missed: first response",
        ),
        (_entry("something_new", {}), "Anna Kowalska: something new"),
    ],
)
def test_history_lines_read_as_sentences(entry: HistoryEntry, text: str) -> None:
    assert describe_activity(entry, contact_name="Grace Hopper") == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/inbox"),
        ("", "/inbox"),
        ("/conversations/5?tab=notes", "/conversations/5?tab=notes"),
        ("/inbox?view=all&status=any", "/inbox?view=all&status=any"),
        ("https://evil.example/x", "/inbox"),
        ("//evil.example", "/inbox"),
        ("/\\evil.example", "/inbox"),
        ("/\tevil", "/inbox"),
        ("javascript:alert(1)", "/inbox"),
        ("/logout", "/inbox"),
        ("/" + "a" * 2001, "/inbox"),
    ],
)
def test_only_same_site_paths_are_followed_after_sign_in(value: str | None, expected: str) -> None:
    assert safe_next_path(value) == expected


def test_relative_times() -> None:
    assert time_ago(NOW - timedelta(seconds=20), NOW) == "just now"
    assert time_ago(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert time_ago(NOW - timedelta(hours=30), NOW) == "30 h ago"
    assert time_ago(NOW - timedelta(days=4), NOW) == "4 days ago"
    assert time_ago(NOW + timedelta(hours=3), NOW) == "in 3 h"
    assert time_ago(None, NOW) == ""


def test_lockout_wait_in_words() -> None:
    assert retry_wait(40) == "40 seconds"
    assert retry_wait(900) == "15 minutes"
    assert retry_wait(61 * 60 + 1) == "62 minutes"
