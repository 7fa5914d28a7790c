"""The audit log: admins read who changed what, newest first, page by page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.services.audit import record_audit
from tests.factories import make_user
from tests.support import FrozenClock, login


def test_admin_pages_through_the_log_newest_first(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    admin = make_user(db, "admin@example.test", role="admin", name="Ada")
    admin_id = admin.id
    db.commit()
    login(client, "admin@example.test")
    for number in range(5):
        client.post("/api/v1/teams", json={"name": f"Team {number}"})
        clock.advance(minutes=1)

    first = client.get("/api/v1/audit-log", params={"limit": 2}).json()
    second = client.get(
        "/api/v1/audit-log", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    third = client.get(
        "/api/v1/audit-log", params={"limit": 2, "cursor": second["next_cursor"]}
    ).json()

    names = [
        entry["details"]["values"]["name"]
        for page in (first, second, third)
        for entry in page["data"]
    ]
    assert names == ["Team 4", "Team 3", "Team 2", "Team 1", "Team 0"]
    assert first["count"] == 5
    assert third["next_cursor"] is None
    newest = first["data"][0]
    assert newest["actor_user_id"] == admin_id
    assert newest["actor_name"] == "Ada"
    assert newest["action"] == "team.created"
    assert newest["target_type"] == "team"
    assert newest["ip"]


def test_filter_by_action_and_actor(client: TestClient, db: Session, clock: FrozenClock) -> None:
    admin = make_user(db, "admin@example.test", role="admin")
    other = make_user(db, "other@example.test", role="admin")
    record_audit(db, actor_user_id=other.id, action="team.created", target_type="team", now=clock())
    record_audit(db, actor_user_id=admin.id, action="user.updated", target_type="user", now=clock())
    record_audit(
        db, actor_user_id=admin.id, action="user.deactivated", target_type="user", now=clock()
    )
    record_audit(db, actor_user_id=None, action="inbox.created", target_type="inbox", now=clock())
    db.commit()
    admin_id, other_id = admin.id, other.id
    login(client, "admin@example.test")

    def actions(**params: object) -> list[str]:
        response = client.get("/api/v1/audit-log", params=params)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return [entry["action"] for entry in response.json()["data"]]

    assert actions(action="user.updated") == ["user.updated"]
    assert actions(action="user.") == ["user.deactivated", "user.updated"]
    assert actions(actor_id=other_id) == ["team.created"]
    assert actions(actor_id=admin_id, action="user.deactivated") == ["user.deactivated"]
    assert client.get("/api/v1/audit-log", params={"cursor": "not-a-cursor"}).status_code == 422


def test_only_admins_read_the_audit_log(client: TestClient, db: Session) -> None:
    make_user(db, "sup@example.test", role="supervisor")
    db.commit()
    login(client, "sup@example.test")

    assert client.get("/api/v1/audit-log").status_code == 403
