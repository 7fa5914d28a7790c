"""The in-memory search index follows the database, also across processes."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Article
from helpline.services.search_index import KnowledgeIndex
from helpline.settings import Settings
from helpline.web.app import create_app
from tests.help_center.support import editor, write
from tests.support import FrozenClock, login


def _titles(client: TestClient, q: str) -> list[str]:
    response = client.get("/api/v1/articles/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [hit["title"] for hit in response.json()["data"]]


def test_a_second_server_process_sees_writes_of_the_first(
    app: FastAPI,
    settings: Settings,
    db_engine: Engine,
    db: Session,
    clock: FrozenClock,
) -> None:
    editor(db)
    other_app = create_app(settings, engine=db_engine, clock=clock, start_worker=False)
    with TestClient(app) as first, TestClient(other_app) as second:
        login(first, "editor@example.com")
        login(second, "editor@example.com")
        assert _titles(second, "parcel") == []

        created = first.post(
            "/api/v1/articles",
            json={"title": "Where is my parcel?", "body_markdown": "Track it.", "published": True},
        ).json()
        assert _titles(first, "parcel") == ["Where is my parcel?"]
        assert _titles(second, "parcel") == ["Where is my parcel?"]

        first.patch(f"/api/v1/articles/{created['id']}", json={"title": "Where is my order?"})
        assert _titles(second, "parcel") == []
        assert _titles(second, "order") == ["Where is my order?"]

        first.delete(f"/api/v1/articles/{created['id']}")
        assert _titles(second, "order") == []
    index: KnowledgeIndex = other_app.state.knowledge_index
    assert index.full_builds == 1  # the rest were caught up row by row


def test_rows_written_around_the_services_are_noticed(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    author = editor(db)
    write(db, author, clock(), "Gift cards", "Buy one online.")
    login(client, "editor@example.com")
    assert _titles(client, "gift") == ["Gift cards"]

    # The demo seed and imports write rows directly, without the knowledge counter.
    db.add(
        Article(slug="gift-wrapping", title="Gift wrapping", body_markdown="Free.", published=True)
    )
    db.commit()

    assert _titles(client, "gift") == ["Gift cards", "Gift wrapping"]
