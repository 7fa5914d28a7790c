"""The articles API for staff, the composer's article search and the widget's."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_inbox, make_user
from tests.help_center.support import help_center
from tests.support import FrozenClock, login


def _staff(db: Session, role: str = "agent") -> None:
    make_user(db, f"{role}@example.com", name=f"A {role}", role=role)
    db.commit()


def test_staff_write_publish_and_translate_articles(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    _staff(db)
    login(client, "agent@example.com")
    created = client.post(
        "/api/v1/articles",
        json={
            "title": "Zwrot pieniędzy?",
            "body_markdown": "# Zwrot\n\nZwrot otrzymasz w **14 dni**.",
            "category": "billing",
            "language": "pl",
        },
    )
    assert created.status_code == 201, created.text
    article = created.json()
    assert article["slug"] == "zwrot-pieniedzy"
    assert article["published"] is False
    assert article["url"] is None
    assert "<strong>14 dni</strong>" in article["body_html"]

    clock.advance(minutes=5)
    english = client.post(
        "/api/v1/articles",
        json={
            "title": "Refunds",
            "body_markdown": "Within 14 days.",
            "language": "en",
            "translation_of_id": article["id"],
            "published": True,
        },
    ).json()
    assert english["translation_of_id"] == article["id"]
    assert english["url"] == "http://testserver/help/articles/refunds"
    again = client.post(
        "/api/v1/articles",
        json={"title": "Refunds again", "body_markdown": "x", "translation_of_id": article["id"]},
    )
    assert again.status_code == 409  # there is an English version already

    published = client.patch(f"/api/v1/articles/{article['id']}", json={"published": True})
    assert published.json()["updated_at"] == clock().isoformat().replace("+00:00", "Z")
    fetched = client.get(f"/api/v1/articles/{article['id']}").json()
    assert [link["language"] for link in fetched["translations"]] == ["en"]
    page = client.get("/help/articles/zwrot-pieniedzy").text
    assert 'href="/help/articles/refunds" hreflang="en"' in page

    taken = client.post(
        "/api/v1/articles", json={"title": "x", "body_markdown": "x", "slug": "refunds"}
    )
    assert taken.status_code == 409
    listed = client.get("/api/v1/articles", params={"language": "pl"}).json()
    assert [row["slug"] for row in listed["data"]] == ["zwrot-pieniedzy"]


def test_only_supervisors_delete_and_translations_survive(client: TestClient, db: Session) -> None:
    _staff(db)
    _staff(db, "supervisor")
    login(client, "agent@example.com")
    original = client.post(
        "/api/v1/articles", json={"title": "Original", "body_markdown": "x"}
    ).json()
    pl = client.post(
        "/api/v1/articles",
        json={
            "title": "Po polsku",
            "body_markdown": "x",
            "language": "pl",
            "translation_of_id": original["id"],
        },
    ).json()
    it = client.post(
        "/api/v1/articles",
        json={
            "title": "In italiano",
            "body_markdown": "x",
            "language": "it",
            "translation_of_id": original["id"],
        },
    ).json()
    assert client.delete(f"/api/v1/articles/{original['id']}").status_code == 403

    client.cookies.clear()
    login(client, "supervisor@example.com")
    assert client.delete(f"/api/v1/articles/{original['id']}").status_code == 204
    assert client.get(f"/api/v1/articles/{original['id']}").status_code == 404
    polish = client.get(f"/api/v1/articles/{pl['id']}").json()
    assert polish["translation_of_id"] is None
    assert [link["id"] for link in polish["translations"]] == [it["id"]]


def test_bad_articles_are_refused_clearly(client: TestClient, db: Session) -> None:
    _staff(db)
    login(client, "agent@example.com")
    huge = client.post(
        "/api/v1/articles",
        content=b'{"title": "Big", "body_markdown": "' + b"a" * (5 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    too_long = client.post(
        "/api/v1/articles", json={"title": "Long", "body_markdown": "word " * 50_000}
    )
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"]["fields"][0]["field"] == "body.body_markdown"
    for payload in (
        {"title": "", "body_markdown": "x"},
        {"title": "x", "body_markdown": "x", "slug": "Not a slug!"},
        {"title": "x", "body_markdown": "x", "category": "Bad Category"},
        {"title": "x", "body_markdown": "x", "author_id": 1},
        {"title": "x", "body_markdown": "nul\u0000"},
    ):
        assert client.post("/api/v1/articles", json=payload).status_code == 422, payload
    odd = client.post(
        "/api/v1/articles",
        json={"title": "Odd", "body_markdown": "**unclosed *emphasis\n\n| a |\n|--\n```\ncode"},
    )
    assert odd.status_code == 201
    html = odd.json()["body_html"]
    assert "<pre><code>code" in html
    assert html.count("<strong>") == html.count("</strong>")


def test_the_composer_finds_internal_articles_and_gets_links(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    help_center(db, clock())
    _staff(db)
    login(client, "agent@example.com")

    hits = client.get("/api/v1/articles/search", params={"q": "fraud"}).json()["data"]
    assert [(hit["title"], hit["internal"], hit["url"]) for hit in hits] == [
        ("Handling fraud reports", True, None)
    ]
    public = client.get("/api/v1/articles/search", params={"q": "refund"}).json()["data"]
    assert public[0]["url"] == "http://testserver/help/articles/our-refund-policy"
    assert public[0]["title_html"] == "Our <mark>refund</mark> policy"
    assert client.get("/api/v1/articles/search", params={"q": "exporting"}).json()["count"] == 0

    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    assert client.get("/api/v1/articles/search", params={"q": "fraud"}).status_code == 401


def test_the_widget_suggests_public_articles_of_its_inbox(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    help_center(db, clock())
    inbox = make_inbox(db, "Shop chat")
    db.commit()

    found = client.get(
        f"/api/v1/widget/{inbox.public_key}/articles/search", params={"q": "i forgot my pasword"}
    )

    assert found.status_code == 200
    data = found.json()["data"]
    assert data[0]["title"] == "Reset your password"
    assert (
        data[0]["url"] == f"http://testserver/help/{inbox.public_key}/articles/reset-your-password"
    )
    assert all(not hit["internal"] for hit in data)
    fraud = client.get(f"/api/v1/widget/{inbox.public_key}/articles/search", params={"q": "fraud"})
    assert fraud.json()["count"] == 0
    missing = client.get("/api/v1/widget/nope/articles/search", params={"q": "password"})
    assert missing.status_code == 404
