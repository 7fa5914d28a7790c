"""GET /api/v1/reports/overview: the team's numbers over local days, for supervisors
and admins, from conversations stored with known times and answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api.test_conversations import World, build_world
from tests.factories import make_conversation
from tests.support import login

URL = "/api/v1/reports/overview"


def _at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _arrange(db: Session) -> World:
    world = build_world(db)
    chat, mail = world.chat, world.mail
    make_conversation(
        db,
        chat,
        world.contact,
        created_at=_at(2, 8),
        first_response_at=_at(2, 8, 1),
        solved_at=_at(2, 9),
        status="solved",
        sla_state="met",
        csat_score=5,
        nps_score=10,
        assignee_id=world.agent_a.id,
    )
    make_conversation(
        db,
        chat,
        world.contact,
        created_at=_at(2, 10),
        first_response_at=_at(2, 10, 5),
        sla_state="missed",
        csat_score=2,
        nps_score=3,
        assignee_id=world.agent_a.id,
    )
    make_conversation(db, mail, world.contact, created_at=_at(3, 23, 30), team_id=world.team_b.id)
    # Created before the period, solved in it: a resolution, not volume.
    make_conversation(
        db,
        chat,
        world.contact,
        created_at=_at(27, 12, month=2),
        solved_at=_at(3, 12),
        status="solved",
    )
    make_conversation(db, chat, world.contact, created_at=_at(5, 9))  # after the period
    db.commit()
    return world


def test_the_report_counts_volume_times_sla_and_satisfaction(
    client: TestClient, db: Session
) -> None:
    world = _arrange(db)
    login(client, world.supervisor.email)
    response = client.get(URL, params={"from": "2026-03-02", "to": "2026-03-04"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["from"], report["to"], report["time_zone"]) == (
        "2026-03-02",
        "2026-03-04",
        "UTC",
    )
    assert report["created"] == 3
    assert report["channels"]["chat"] == {"count": 2, "share": 2 / 3}
    assert report["channels"]["email"]["count"] == 1
    assert report["channels"]["phone"] == {"count": 0, "share": 0}
    assert report["first_response"] == {
        "count": 2,
        "median_seconds": 60,
        "p90_seconds": 300,
        "mean_seconds": 180,
        "unanswered": 1,
    }
    assert report["solved"] == 2
    assert report["resolution"]["median_seconds"] == 3600
    assert report["resolution"]["p90_seconds"] == timedelta(days=3, hours=24).total_seconds()
    assert report["sla"] == {"met": 1, "missed": 1, "attainment": 0.5}
    assert report["csat"]["responses"] == 2
    assert report["csat"]["average"] == 3.5
    assert report["csat"]["satisfied_share"] == 0.5
    assert report["csat"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert report["nps"] == {
        "responses": 2,
        "promoters": 1,
        "passives": 0,
        "detractors": 1,
        "score": 0,
    }
    assert [
        (d["day"], d["created"], d["chat"], d["email"], d["solved"]) for d in report["days"]
    ] == [
        ("2026-03-02", 2, 2, 0, 1),
        ("2026-03-03", 1, 0, 1, 1),
        ("2026-03-04", 0, 0, 0, 0),
    ]
    assert report["days"][0]["first_response_median_seconds"] == 60
    assert report["agents"] == [
        {
            "user_id": world.agent_a.id,
            "name": "Ana",
            "conversations": 2,
            "solved": 1,
            "first_response_median_seconds": 60,
            "csat_responses": 2,
            "csat_average": 3.5,
        },
        {  # the email ticket nobody holds
            "user_id": None,
            "name": "",
            "conversations": 1,
            "solved": 0,
            "first_response_median_seconds": None,
            "csat_responses": 0,
            "csat_average": None,
        },
    ]
    assert report["days"][2]["first_response_median_seconds"] is None


def test_days_follow_the_readers_time_zone_and_filters_narrow_the_count(
    client: TestClient, db: Session
) -> None:
    world = _arrange(db)
    login(client, world.admin.email)
    params = {"from": "2026-03-02", "to": "2026-03-04", "time_zone": "Europe/Warsaw"}
    days = client.get(URL, params=params).json()["days"]
    # 23:30 UTC on the 3rd is 00:30 on the 4th in Warsaw.
    assert [(d["day"], d["created"]) for d in days] == [
        ("2026-03-02", 2),
        ("2026-03-03", 0),
        ("2026-03-04", 1),
    ]
    assert client.get(URL, params={**params, "channel": "email"}).json()["created"] == 1
    by_team = client.get(URL, params={**params, "team_id": world.team_b.id}).json()
    assert (by_team["created"], by_team["channels"]["email"]["count"]) == (1, 1)
    by_inbox = client.get(URL, params={**params, "inbox_id": world.chat.id}).json()
    assert (by_inbox["created"], by_inbox["solved"]) == (2, 2)


def test_only_supervisors_and_admins_read_it_and_bad_ranges_are_refused(
    client: TestClient, db: Session
) -> None:
    world = _arrange(db)
    login(client, world.agent_a.email)
    denied = client.get(URL, params={"from": "2026-03-02", "to": "2026-03-04"})
    assert denied.status_code == 403
    login(client, world.supervisor.email)
    for params, field in (
        ({"from": "2026-03-04", "to": "2026-03-02"}, "to"),
        ({"from": "2025-01-01", "to": "2026-03-02"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-04", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"from": "2026-03-02", "to": "2026-03-04", "channel": "fax"}, "channel"),
    ):
        refused = client.get(URL, params=params)
        assert refused.status_code == 422, params
        assert field in refused.text
    assert client.get(URL, params={"from": "yesterday", "to": "2026-03-04"}).status_code == 422
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    assert client.get(URL, params={"from": "2026-03-02", "to": "2026-03-04"}).status_code == 401
