"""CSV export and import: a round trip changes nothing; a bad file changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import CannedResponse
from tests.canned.support import as_user, create, make_desk


def _import(client: TestClient, text: str) -> tuple[int, dict[str, Any]]:
    response = client.post(
        "/api/v1/canned/import",
        content=text.encode(),
        headers={"Content-Type": "text/csv"},
    )
    return response.status_code, response.json()


def test_export_then_import_is_a_round_trip(client: TestClient, db: Session) -> None:
    desk = make_desk(db)
    as_user(client, desk.sue)
    article = client.post(
        "/api/v1/articles",
        json={"title": "Refunds", "body_markdown": "Five days.", "published": True},
    ).json()
    create(
        client,
        shortcut="refund-status",
        title="Refund status",
        body='Hi {{ contact.first_name | default("there") }},\n"quoted", and =SUM(A1)',
        tags={"urgency": ["high"], "topic": ["refunds", "billing"], "customer_type": ["loyal"]},
        article_id=article["id"],
    )
    team = create(client, shortcut="team-one", scope="team", team_id=desk.team.id, language="pl")
    create(client, shortcut="dash", title="+1 answer", scope="shared", body="- a list item")
    archived = create(client, shortcut="old", scope="shared")
    client.post(f"/api/v1/canned/{archived['id']}/archive")
    exported = client.get("/api/v1/canned/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    first = exported.text
    assert "'=SUM" not in first  # quoted fields keep their text; only cell starts are guarded
    assert "'- a list item" in first
    assert "'+1 answer" in first

    status, result = _import(client, first)
    assert (status, result) == (200, {"created": 0, "updated": 0, "unchanged": 4})

    client.patch(f"/api/v1/canned/{team['id']}", json={"title": "Changed"})
    status, result = _import(client, first)
    assert (status, result) == (200, {"created": 0, "updated": 1, "unchanged": 3})
    assert client.get("/api/v1/canned/export").text == first

    # With every shortcut changed, the import brings all four back as new responses.
    count = db.scalar(select(func.count(CannedResponse.id)))
    db.rollback()
    for row in client.get("/api/v1/canned", params={"include_archived": True}).json()["data"]:
        client.patch(f"/api/v1/canned/{row['id']}", json={"shortcut": row["shortcut"] + "-x"})
    status, result = _import(client, first)
    assert (status, result) == (200, {"created": 4, "updated": 0, "unchanged": 0})
    assert db.scalar(select(func.count(CannedResponse.id))) == (count or 0) + 4
    db.rollback()


def test_a_bad_file_is_refused_with_line_numbers_and_nothing_is_imported(
    client: TestClient, db: Session
) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)
    text = (
        "shortcut,title,body,language,scope,urgency\r\n"
        'good,Good,"Two\r\nlines",en,personal,\r\n'
        "bad-template,Bad,{{ contact.nme }},en,personal,\r\n"
        "bad-urgency,Bad,Hello,en,personal,someday\r\n"
        "shared-one,Shared,Hello,en,shared,\r\n"
        'good,Again,"dup",en,personal,\r\n'
        "too,few\r\n"
    )

    status, body = _import(client, text)

    assert status == 422
    error = body["error"]
    assert "nothing was imported" in error["message"]
    problems = [(row["line"], row["field"]) for row in error["details"]["errors"]]
    assert problems == [
        (4, "body"),
        (5, "tags"),
        (6, "scope"),
        (7, "shortcut"),
        (8, None),
    ]
    assert error["details"]["errors"][0]["issues"][0]["code"] == "unknown_variable"
    assert db.scalar(select(func.count(CannedResponse.id))) == 0
    db.rollback()


def test_import_refuses_what_is_not_csv(client: TestClient, db: Session) -> None:
    desk = make_desk(db)
    as_user(client, desk.ada)
    wrong_type = client.post(
        "/api/v1/canned/import", content=b"x", headers={"Content-Type": "application/json"}
    )
    assert wrong_type.status_code == 415
    status, body = _import(client, "name,text\r\nx,y\r\n")
    assert status == 422
    assert body["error"]["details"]["errors"][0]["line"] == 1
    not_utf8 = client.post(
        "/api/v1/canned/import", content=b"\xff\xfe\x00", headers={"Content-Type": "text/csv"}
    )
    assert not_utf8.status_code == 422
