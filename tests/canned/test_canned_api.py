"""Canned responses through the API: create, scopes, templates, preview, versions."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import CannedResponse
from helpline.demo.content import CANNED_RESPONSES
from tests.canned.support import as_user, create, make_desk
from tests.support import FrozenClock


def test_the_seed_example_renders_with_a_real_customer(client: TestClient, db: Session) -> None:
    desk = make_desk(db)
    seeded = next(spec for spec in CANNED_RESPONSES if spec.shortcut == "order-on-its-way")
    as_user(client, desk.ada)
    response = create(client, shortcut=seeded.shortcut, title=seeded.title, body=seeded.body)

    preview = client.post(
        f"/api/v1/canned/{response['id']}/preview",
        json={"conversation_id": desk.conversation.id},
    )

    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "text": "Hi Sarah, I can see your order #1245 is on its way! You can track it here. "
        "Let me know if you need anything else.",
        "missing": [],
        "issues": [],
        "ok": True,
        "truncated": False,
    }


def test_preview_lists_missing_values_and_never_sends_braces(
    client: TestClient, db: Session
) -> None:
    desk = make_desk(db)
    desk.sarah.custom_attributes = {}
    db.commit()
    as_user(client, desk.bob)
    response = create(
        client,
        body="Order #{{ contact.custom.order_number }} for {{ contact.first_name }}. "
        "{{ agent.first_name }}, #{{ conversation.number }}",
    )

    result = client.post(
        f"/api/v1/canned/{response['id']}/preview",
        json={"conversation_id": desk.conversation.id},
    ).json()

    assert result["text"] == f"Order # for Sarah. Bob, #{desk.conversation.number}"
    assert result["missing"] == ["contact.custom.order_number"]
    assert result["ok"] is False
    assert "{" not in result["text"]


def test_a_broken_template_is_refused_with_positions_unless_saved_as_draft(
    client: TestClient, db: Session
) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)
    body = "Hi {{ contact.nme }}, {{ ''.__class__ }}"

    refused = client.post("/api/v1/canned", json={"shortcut": "hi", "title": "Hi", "body": body})

    assert refused.status_code == 422
    issues = refused.json()["error"]["details"]["issues"]
    assert issues[0]["code"] == "unknown_variable"
    assert (issues[0]["start"], issues[0]["end"]) == (6, 17)
    assert issues[0]["suggestion"] == "contact.name"
    assert len(issues) == 2
    assert db.scalar(select(CannedResponse.id)) is None
    db.rollback()  # end the read: SQLite transactions hold the write lock

    draft = create(client, shortcut="hi", title="Hi", body=body, draft=True)
    assert draft["draft"] is True
    publish = client.patch(f"/api/v1/canned/{draft['id']}", json={"draft": False})
    assert publish.status_code == 422
    fixed = client.patch(
        f"/api/v1/canned/{draft['id']}",
        json={"draft": False, "body": "Hi {{ contact.name }}"},
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["draft"] is False


def test_the_editor_checks_a_template_while_it_is_written(client: TestClient, db: Session) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)

    checked = client.post(
        "/api/v1/canned/validate",
        json={"body": "Hi {{ contact.first_name | defualt('x') }}\n{% for x in y %}"},
    ).json()

    assert checked["valid"] is False
    assert [issue["code"] for issue in checked["issues"]] == ["unknown_filter", "not_supported"]
    assert checked["issues"][1]["line"] == 2
    assert checked["issues"][0]["suggestion"] == "default"
    ok = client.post("/api/v1/canned/validate", json={"body": "{{ agent.name }}"}).json()
    assert ok == {"valid": True, "issues": [], "variables": ["agent.name"]}


def test_someone_elses_personal_response_does_not_exist(client: TestClient, db: Session) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)
    mine = create(client, shortcut="mine")

    as_user(client, desk.bob)
    assert client.get(f"/api/v1/canned/{mine['id']}").status_code == 404
    assert client.patch(f"/api/v1/canned/{mine['id']}", json={"title": "x"}).status_code == 404
    preview = client.post(
        f"/api/v1/canned/{mine['id']}/preview", json={"conversation_id": desk.conversation.id}
    )
    assert preview.status_code == 404
    assert client.get(f"/api/v1/canned/{mine['id']}/versions").status_code == 404
    assert client.get("/api/v1/canned").json()["count"] == 0

    # Not even an admin reads an agent's personal responses.
    as_user(client, desk.admin)
    assert client.get(f"/api/v1/canned/{mine['id']}").status_code == 404


def test_team_and_shared_scopes(client: TestClient, db: Session) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)
    denied = client.post(
        "/api/v1/canned",
        json={"shortcut": "s", "title": "S", "body": "Hello", "scope": "shared"},
    )
    assert denied.status_code == 403
    denied = client.post(
        "/api/v1/canned",
        json={
            "shortcut": "t",
            "title": "T",
            "body": "Hi",
            "scope": "team",
            "team_id": desk.team.id,
        },
    )
    assert denied.status_code == 403

    as_user(client, desk.sue)
    team = create(client, shortcut="t", scope="team", team_id=desk.team.id)
    shared = create(client, shortcut="s", scope="shared")
    other = client.post(
        "/api/v1/canned",
        json={
            "shortcut": "o",
            "title": "O",
            "body": "Hi",
            "scope": "team",
            "team_id": desk.other_team.id,
        },
    )
    assert other.status_code == 403  # Sue supervises Orders, not Billing

    as_user(client, desk.bob)
    assert client.get(f"/api/v1/canned/{team['id']}").json()["can_edit"] is False
    assert client.patch(f"/api/v1/canned/{team['id']}", json={"title": "x"}).status_code == 403
    assert client.post(f"/api/v1/canned/{shared['id']}/archive").status_code == 403
    assert {row["shortcut"] for row in client.get("/api/v1/canned").json()["data"]} == {"t", "s"}

    as_user(client, desk.carol)
    assert client.get(f"/api/v1/canned/{team['id']}").status_code == 404
    assert client.get(f"/api/v1/canned/{shared['id']}").status_code == 200

    as_user(client, desk.admin)
    assert client.get(f"/api/v1/canned/{team['id']}").json()["can_edit"] is True


def test_shortcuts_are_unique_per_scope_owner(client: TestClient, db: Session) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)
    first = create(client, shortcut="/refund-status")
    again = client.post(
        "/api/v1/canned", json={"shortcut": "refund-status", "title": "Again", "body": "Hi"}
    )
    assert again.status_code == 409
    assert again.json()["error"]["details"]["field"] == "shortcut"

    as_user(client, desk.bob)
    create(client, shortcut="/refund-status")  # Bob's own personal one

    as_user(client, desk.ada)
    client.post(f"/api/v1/canned/{first['id']}/archive")
    create(client, shortcut="/refund-status", title="New wording")
    restore = client.post(f"/api/v1/canned/{first['id']}/restore")
    assert restore.status_code == 409


def test_bad_input_is_refused_at_the_edge(client: TestClient, db: Session) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)
    cases = [
        {"shortcut": "has space", "title": "x", "body": "x"},
        {"shortcut": "ok", "title": "x", "body": "x", "owner_id": desk.bob.id},
        {"shortcut": "ok", "title": "x", "body": "x", "tags": {"urgency": ["someday"]}},
        {"shortcut": "ok", "title": "x", "body": "x" * 20_001},
        {"shortcut": "ok", "title": "x", "body": "x", "language": "english!"},
    ]
    for payload in cases:
        response = client.post("/api/v1/canned", json=payload)
        assert response.status_code == 422, payload


def test_usage_is_counted_when_a_response_is_sent(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)
    response = create(client)
    assert response["usage_count"] == 0

    used = client.post(
        f"/api/v1/canned/{response['id']}/used", json={"conversation_id": desk.conversation.id}
    )
    client.post(f"/api/v1/canned/{response['id']}/used")

    assert used.status_code == 200
    again = client.get(f"/api/v1/canned/{response['id']}").json()
    assert again["usage_count"] == 2
    assert again["last_used_at"] == clock().isoformat().replace("+00:00", "Z")


def test_every_change_is_kept_with_who_made_it(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = make_desk(db)
    as_user(client, desk.sue)
    response = create(client, scope="shared", title="Refunds")
    clock.advance(hours=1)
    client.patch(f"/api/v1/canned/{response['id']}", json={"body": "Refunds take 5 days."})
    as_user(client, desk.admin)
    client.patch(
        f"/api/v1/canned/{response['id']}",
        json={"title": "Refund timing", "tags": {"topic": ["refunds"], "urgency": ["high"]}},
    )
    client.post(f"/api/v1/canned/{response['id']}/archive")

    history = client.get(f"/api/v1/canned/{response['id']}/versions").json()

    assert history["count"] == 4
    rows = [
        (row["version"], row["action"], row["changed_fields"], row["changed_by"]["name"])
        for row in history["data"]
    ]
    assert rows == [
        (4, "archived", ["archived"], "Alex Admin"),
        (3, "edited", ["title", "tags"], "Alex Admin"),
        (2, "edited", ["body"], "Sue Park"),
        (1, "created", [], "Sue Park"),
    ]
    assert history["data"][2]["snapshot"]["body"] == "Refunds take 5 days."
    assert history["data"][3]["snapshot"]["title"] == "Refunds"
