"""Keeping responses current: review dates, stale flags, the supervisor's list."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.canned.support import as_user, create, make_desk
from tests.support import FrozenClock


def _article(client: TestClient, **fields: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "title": "Our refund policy",
        "body_markdown": "Refunds take 5 working days.",
        "category": "billing",
        "published": True,
    }
    payload.update(fields)
    response = client.post("/api/v1/articles", json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_response_not_reviewed_for_90_days_is_stale_until_reviewed(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)
    response = create(client)
    assert response["stale"] is False

    clock.advance(days=89)
    as_user(client, desk.ada)  # sessions last 14 days
    assert client.get(f"/api/v1/canned/{response['id']}").json()["stale"] is False
    clock.advance(days=2)
    stale = client.get(f"/api/v1/canned/{response['id']}").json()
    assert stale["stale"] is True
    assert stale["stale_reasons"] == ["not_reviewed"]

    reviewed = client.post(f"/api/v1/canned/{response['id']}/review").json()
    assert reviewed["stale"] is False
    assert reviewed["last_reviewed_at"].startswith(clock().date().isoformat())


def test_the_review_period_is_a_setting(
    client: TestClient, db: Session, clock: FrozenClock, settings: object
) -> None:
    desk = make_desk(db)
    settings.canned_review_days = 7  # type: ignore[attr-defined]
    as_user(client, desk.ada)
    response = create(client)
    clock.advance(days=8)
    as_user(client, desk.ada)
    assert client.get(f"/api/v1/canned/{response['id']}").json()["stale"] is True


def test_a_response_is_stale_when_its_article_changes_or_is_unpublished(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = make_desk(db)
    as_user(client, desk.sue)
    article = _article(client)
    response = create(client, scope="shared", article_id=article["id"])
    assert response["stale"] is False

    clock.advance(hours=1)
    client.patch(f"/api/v1/articles/{article['id']}", json={"body_markdown": "Now 10 days."})
    assert client.get(f"/api/v1/canned/{response['id']}").json()["stale_reasons"] == [
        "article_changed"
    ]
    client.post(f"/api/v1/canned/{response['id']}/review")
    assert client.get(f"/api/v1/canned/{response['id']}").json()["stale"] is False

    clock.advance(hours=1)
    client.patch(f"/api/v1/articles/{article['id']}", json={"published": False})
    assert client.get(f"/api/v1/canned/{response['id']}").json()["stale_reasons"] == [
        "article_unpublished"
    ]


def test_supervisors_see_stale_and_never_used_responses(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = make_desk(db)
    as_user(client, desk.sue)
    old = create(client, shortcut="old", scope="shared")
    used = create(client, shortcut="used", scope="team", team_id=desk.team.id)
    client.post(f"/api/v1/canned/{used['id']}/used")
    as_user(client, desk.ada)
    create(client, shortcut="private")  # personal: nobody else's business
    clock.advance(days=100)
    as_user(client, desk.sue)
    fresh = create(client, shortcut="fresh", scope="shared")

    report = client.get("/api/v1/canned/maintenance").json()

    assert report["review_days"] == 90
    assert [row["shortcut"] for row in report["stale"]] == ["old", "used"]
    assert [row["shortcut"] for row in report["never_used"]] == ["fresh", "old"]
    assert fresh["stale"] is False
    assert old["id"] in {row["id"] for row in report["stale"]}

    as_user(client, desk.ada)
    assert client.get("/api/v1/canned/maintenance").status_code == 403
