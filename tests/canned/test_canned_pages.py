"""The canned-response pages for agents and supervisors (plain forms, PRG)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import CannedResponse
from tests.canned.support import make_desk
from tests.pages.helpers import page_login
from tests.support import FrozenClock


def _form(csrf: str, **fields: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "shortcut": "/refund-status",
        "title": "Refund status",
        "body": 'Hi {{ contact.first_name | default("there") }}, your refund is on its way.',
        "language": "en",
        "scope": "personal",
        "topic": "refunds, billing",
    }
    data.update(fields)
    return data


def test_write_a_response_fix_its_template_and_see_it_listed(
    client: TestClient, db: Session
) -> None:
    make_desk(db)
    csrf = page_login(client, "ada@example.com")
    assert "New response" in client.get("/canned").text

    broken = client.post(
        "/canned/new", data=_form(csrf, body="Hi {{ contact.nme }}"), follow_redirects=False
    )
    assert broken.status_code == 422
    assert "Line 1, column 7: unknown variable &#39;contact.nme&#39;" in broken.text
    assert "Hi {{ contact.nme }}</textarea>" in broken.text  # what was typed is kept

    saved = client.post("/canned/new", data=_form(csrf), follow_redirects=False)
    assert saved.status_code == 303
    page = client.get(saved.headers["location"]).text
    assert "/refund-status saved." in page
    assert "created it" in page

    listed = client.get("/canned").text
    assert "<code>/refund-status</code>" in listed
    assert '<span class="tag">refunds</span>' in listed

    forged = client.post("/canned/new", data=_form("wrong", shortcut="x"))
    assert forged.status_code == 403
    assert db.scalar(select(func.count(CannedResponse.id))) == 1
    db.rollback()


def test_edit_archive_and_review_from_the_page(client: TestClient, db: Session) -> None:
    make_desk(db)
    csrf = page_login(client, "sue@example.com")
    location = client.post(
        "/canned/new", data=_form(csrf, scope="shared"), follow_redirects=False
    ).headers["location"]

    edited = client.post(
        location,
        data=_form(csrf, scope="shared", title="Where is my refund?"),
        follow_redirects=False,
    )
    assert edited.status_code == 303
    page = client.get(location).text
    assert "Where is my refund?" in page
    assert "edited title" in page

    archived = client.post(f"{location}/archive", data={"csrf_token": csrf}, follow_redirects=False)
    assert "Archived" in client.get(archived.headers["location"]).text
    assert "refund-status" not in client.get("/canned").text
    assert "refund-status" in client.get("/canned", params={"archived": "yes"}).text
    reviewed = client.post(f"{location}/review", data={"csrf_token": csrf}, follow_redirects=False)
    assert "Marked as reviewed." in client.get(reviewed.headers["location"]).text


def test_colleagues_cannot_open_a_personal_response_page(client: TestClient, db: Session) -> None:
    make_desk(db)
    csrf = page_login(client, "ada@example.com")
    location = client.post("/canned/new", data=_form(csrf), follow_redirects=False).headers[
        "location"
    ]
    client.cookies.clear()
    csrf = page_login(client, "bob@example.com")
    assert client.get(location).status_code == 404
    assert client.post(location, data=_form(csrf, title="Mine now")).status_code == 404


def test_supervisors_see_the_maintenance_list(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    make_desk(db)
    csrf = page_login(client, "sue@example.com")
    client.post("/canned/new", data=_form(csrf, scope="shared"), follow_redirects=False)
    clock.advance(days=120)
    client.cookies.clear()
    page_login(client, "sue@example.com")
    page = client.get("/canned/maintenance").text
    assert "Stale (1)" in page
    assert "Never used (1)" in page
    client.cookies.clear()
    page_login(client, "ada@example.com")
    assert client.get("/canned/maintenance").status_code == 403


def test_import_and_export_from_the_page(client: TestClient, db: Session) -> None:
    make_desk(db)
    csrf = page_login(client, "ada@example.com")
    bad = "shortcut,title,body\r\nok,Fine,Hello\r\nbad,Bad,{{ nope }}\r\n"
    refused = client.post(
        "/canned-import",
        data={"csrf_token": csrf},
        files={"file": ("responses.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    assert "nothing was imported" in refused.text
    assert "<td>3</td><td>body</td>" in refused.text

    good = "shortcut,title,body\r\nok,Fine,Hello\r\n"
    imported = client.post(
        "/canned-import",
        data={"csrf_token": csrf},
        files={"file": ("responses.csv", good.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert imported.status_code == 303
    assert "Imported: 1 new, 0 updated, 0 unchanged." in client.get("/canned").text
    exported = client.get("/canned-export.csv")
    assert exported.status_code == 200
    assert exported.text.splitlines()[1].startswith("ok,Fine,Hello,en,personal")
