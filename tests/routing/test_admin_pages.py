"""The admin pages for routing, SLA policies, calendars and rules: real forms,
validated, CSRF-protected, admins only; and the conversation page's routing panel."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox, Rule, SLACalendar, SLAPolicy
from tests.pages.helpers import csrf_of, page_login
from tests.routing.support import build_org, customer, open_chat
from tests.support import FrozenClock, login


def test_only_admins_see_the_routing_pages(client: TestClient, db: Session) -> None:
    org = build_org(db)
    page_login(client, org.anna.email)
    for path in ("/admin/routing", "/admin/sla", "/admin/calendars", "/admin/rules"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Admins only" in response.text
    client.cookies.clear()
    page_login(client, org.admin.email)
    for path in ("/admin/routing", "/admin/sla", "/admin/calendars", "/admin/rules"):
        assert client.get(path).status_code == 200, path


def test_a_form_without_the_session_token_is_refused(client: TestClient, db: Session) -> None:
    org = build_org(db)
    page_login(client, org.admin.email)
    response = client.post("/admin/calendars", data={"name": "Office", "hours_mon": "09:00-17:00"})
    assert response.status_code == 403
    assert db.scalar(select(SLACalendar)) is None


def test_calendar_form_saves_valid_hours_and_explains_invalid_ones(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    csrf = page_login(client, org.admin.email)
    bad = client.post(
        "/admin/calendars",
        data={
            "csrf_token": csrf,
            "name": "Office",
            "time_zone": "Mars/Olympus",
            "hours_mon": "09:00-17:00",
        },
    )
    assert bad.status_code == 422
    assert "Unknown time zone" in bad.text
    assert 'value="Mars/Olympus"' in bad.text  # what was typed is kept

    overlapping = client.post(
        "/admin/calendars",
        data={"csrf_token": csrf, "name": "Office", "hours_mon": "09:00-13:00, 12:00-17:00"},
    )
    assert overlapping.status_code == 422
    assert "overlap" in overlapping.text

    good = client.post(
        "/admin/calendars",
        data={
            "csrf_token": csrf,
            "name": "Warsaw office",
            "time_zone": "Europe/Warsaw",
            "hours_mon": "08:00-12:00, 13:00-17:00",
            "hours_fri": "09:00-15:00",
            "holidays": "2026-12-24\n2026-12-25",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    saved = db.scalar(select(SLACalendar))
    assert saved is not None
    assert saved.data == {
        "time_zone": "Europe/Warsaw",
        "weekly_hours": {
            "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
            "fri": [["09:00", "15:00"]],
        },
        "holidays": ["2026-12-24", "2026-12-25"],
    }
    db.commit()  # end the read (SQLite: every transaction holds the write lock)
    listing = client.get("/admin/calendars").text
    assert "Warsaw office" in listing
    assert "Calendar “Warsaw office” saved." in listing


def test_policy_form_needs_a_target_and_saves_a_policy_on_a_calendar(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    calendar = SLACalendar(
        name="Office", data={"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "17:00"]]}}
    )
    db.add(calendar)
    db.commit()
    csrf = page_login(client, org.admin.email)
    empty = client.post("/admin/sla", data={"csrf_token": csrf, "name": "Nothing", "active": "on"})
    assert empty.status_code == 422
    assert "Set at least one target" in empty.text

    saved = client.post(
        "/admin/sla",
        data={
            "csrf_token": csrf,
            "name": "Paid customers",
            "match_plan": "paid",
            "first_response_minutes": "30",
            "resolution_minutes": "480",
            "calendar_id": str(calendar.id),
            "active": "on",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    policy = db.scalar(select(SLAPolicy))
    assert policy is not None
    assert (policy.match_plan, policy.first_response_minutes, policy.calendar_id) == (
        "paid",
        30,
        calendar.id,
    )


def test_rule_form_checks_conditions_and_installs_the_builtin_rules(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    csrf = page_login(client, org.admin.email)
    broken = client.post(
        "/admin/rules",
        data={
            "csrf_token": csrf,
            "name": "Broken",
            "kind": "escalation",
            "trigger": "conversation_updated",
            "conditions": '[{"field": "mood", "op": "is", "value": "angry"}]',
            "actions": '[{"action": "notify_supervisor"}]',
            "active": "on",
        },
    )
    assert broken.status_code == 422
    assert "Unknown field" in broken.text
    not_json = client.post(
        "/admin/rules",
        data={"csrf_token": csrf, "name": "Broken", "conditions": "[{", "actions": "[]"},
    )
    assert not_json.status_code == 422
    assert "Not valid JSON" in not_json.text

    installed = client.post(
        "/admin/rules/builtin",
        data={
            "csrf_token": csrf,
            "tier2_team_id": str(org.tier2.id),
            "security_team_id": str(org.security.id),
            "tier1_minutes": "20",
        },
        follow_redirects=False,
    )
    assert installed.status_code == 303
    names = set(db.scalars(select(Rule.name)))
    assert names == {
        "Legal, fraud, data breach or account takeover",
        "Technical issue unresolved by tier 1",
        "Refund above the agent's authority",
        "SLA breached",
    }
    db.commit()
    assert "Technical issue unresolved by tier 1" in client.get("/admin/rules").text


def test_routing_settings_form_sets_weights_and_an_inbox_strategy(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    csrf = page_login(client, org.admin.email)
    bad = client.post(
        "/admin/routing/global",
        data={"csrf_token": csrf, "answer_timeout_seconds": "1"},
    )
    assert bad.status_code == 422
    assert "Answer_timeout_seconds is 5 to 3600 seconds" in bad.text
    bad = client.post(
        "/admin/routing/global",
        data={"csrf_token": csrf, "w_frustration_threshold": "3"},
    )
    assert bad.status_code == 422
    assert "Frustration_threshold is a score from 0 to 1" in bad.text
    assert 'name="w_frustration_points"' in client.get("/admin/routing").text

    saved = client.post(
        "/admin/routing/global",
        data={
            "csrf_token": csrf,
            "answer_timeout_seconds": "30",
            "w_urgent_points": "55",
            "w_frustration_points": "35",
            "w_frustration_threshold": "0.5",
            "plan_paid": "20",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    pull = client.post(
        f"/admin/routing/inboxes/{org.chat.id}",
        data={"csrf_token": csrf, f"inboxes_{org.chat.id}_strategy": "pull"},
        follow_redirects=False,
    )
    assert pull.status_code == 303
    admin_email, chat_id = org.admin.email, org.chat.id
    db.expire_all()
    assert db.get(Inbox, chat_id).routing_strategy == "pull"  # type: ignore[union-attr]
    db.commit()

    login(client, admin_email)
    settings = client.get("/api/v1/routing/settings").json()
    assert settings["answer_timeout_seconds"] == 30
    assert settings["weights"]["urgent_points"] == 55
    assert settings["weights"]["frustration_points"] == 35
    assert settings["weights"]["frustration_threshold"] == 0.5
    assert settings["weights"]["plan_points"]["paid"] == 20


def test_the_conversation_page_shows_the_score_breakdown_and_sla_state(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    org = build_org(db)
    db.add(SLAPolicy(name="Everyone", first_response_minutes=60, calendar={}))
    db.commit()
    login(client, org.admin.email)
    chat = open_chat(
        client, org.chat, customer(db, "Paula", plan="paid"), "I cannot log in", category="account"
    )
    client.cookies.clear()
    page_login(client, org.admin.email)
    page = client.get(f"/conversations/{chat['id']}").text
    assert 'id="routing-panel"' in page
    assert 'urgent: account problem <span class="points">+40</span>' in page
    assert 'paid plan <span class="points">+15</span>' in page
    assert "Running" in page  # SLA state active
    assert csrf_of(page)


def test_editing_a_calendar_and_a_policy_through_their_pages(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    calendar = SLACalendar(
        name="Office", data={"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "17:00"]]}}
    )
    policy = SLAPolicy(name="Everyone", first_response_minutes=60, calendar={})
    db.add_all([calendar, policy])
    db.commit()
    calendar_id, policy_id = calendar.id, policy.id
    csrf = page_login(client, org.admin.email)

    form = client.get(f"/admin/calendars/{calendar_id}").text
    assert 'value="09:00-17:00"' in form
    changed = client.post(
        f"/admin/calendars/{calendar_id}",
        data={"csrf_token": csrf, "name": "Office", "hours_tue": "10:00-12:00"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    edited = client.post(
        f"/admin/sla/{policy_id}",
        data={"csrf_token": csrf, "name": "Everyone", "resolution_minutes": "600"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    assert client.get("/admin/calendars/999999").status_code == 404
    db.expire_all()
    assert db.get(SLACalendar, calendar_id).data["weekly_hours"] == {  # type: ignore[union-attr]
        "tue": [["10:00", "12:00"]]
    }
    saved = db.get(SLAPolicy, policy_id)
    assert saved is not None
    assert (saved.first_response_minutes, saved.resolution_minutes, saved.active) == (
        None,
        600,
        False,
    )
    db.commit()


def test_deleting_a_calendar_in_use_is_refused_and_unused_rows_go(
    client: TestClient, db: Session
) -> None:
    org = build_org(db)
    calendar = SLACalendar(
        name="Office", data={"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "17:00"]]}}
    )
    db.add(calendar)
    db.flush()
    policy = SLAPolicy(
        name="Paid", match_plan="paid", resolution_minutes=480, calendar_id=calendar.id
    )
    db.add(policy)
    db.commit()
    calendar_id, policy_id = calendar.id, policy.id

    page_login(client, org.anna.email)
    csrf = csrf_of(client.get("/inbox").text)
    refused = client.post(f"/admin/sla/{policy_id}/delete", data={"csrf_token": csrf})
    assert refused.status_code == 403  # admins only
    client.cookies.clear()

    csrf = page_login(client, org.admin.email)
    in_use = client.post(f"/admin/calendars/{calendar_id}/delete", data={"csrf_token": csrf})
    assert in_use.status_code == 409
    assert "1 SLA policy uses this calendar" in in_use.text  # the list again, with why
    missing = client.post("/admin/rules/999999/delete", data={"csrf_token": csrf})
    assert missing.status_code == 404

    deleted = client.post(
        f"/admin/sla/{policy_id}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/admin/sla")
    assert "SLA policy deleted." in client.get("/admin/sla").text
    gone = client.post(
        f"/admin/calendars/{calendar_id}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert (gone.status_code, gone.headers["location"]) == (303, "/admin/calendars")
    db.expire_all()
    assert db.get(SLAPolicy, policy_id) is None and db.get(SLACalendar, calendar_id) is None
