"""The staff article pages: filters, CSRF, preview, errors kept in the form, who may
manage categories and read the deflection report."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Article, ArticleCategory
from tests.factories import make_user
from tests.help_center.support import help_center
from tests.pages.helpers import page_login
from tests.support import FrozenClock


def _form(csrf: str, **fields: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "title": "Change your delivery address",
        "body_markdown": "Open **Orders** and choose *Change address*.",
        "category": "orders",
        "language": "en",
    }
    data.update(fields)
    return data


def test_list_filters_find_drafts_internal_articles_and_titles(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    help_center(db, clock())
    make_user(db, "ada@example.com")
    db.commit()
    page_login(client, "ada@example.com")

    everything = client.get("/articles").text
    assert "6 articles" in everything
    drafts = client.get("/articles", params={"status": "draft"}).text
    assert "Exporting data" in drafts and "Reset your password" not in drafts
    internal = client.get("/articles", params={"audience": "internal"}).text
    assert "Handling fraud reports" in internal and "Exporting data" not in internal
    polish = client.get("/articles", params={"language": "pl"}).text
    assert "Resetowanie hasła" in polish and "Our refund policy" not in polish
    found = client.get("/articles", params={"q": "REFUND"}).text
    assert "1 article" in found and "Our refund policy" in found
    billing = client.get("/articles", params={"category": "billing"}).text
    assert "Our refund policy" in billing and "Two-factor" not in billing


def test_write_preview_and_fix_an_article_through_the_form(client: TestClient, db: Session) -> None:
    make_user(db, "ada@example.com")
    db.commit()
    csrf = page_login(client, "ada@example.com")

    preview = client.post(
        "/articles/new",
        data=_form(csrf, body_markdown="**Bold** <script>alert(1)</script>", action="preview"),
    )
    assert preview.status_code == 200
    assert "<strong>Bold</strong>" in preview.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview.text
    assert "<script>alert" not in preview.text
    assert db.scalar(select(func.count(Article.id))) == 0
    db.rollback()  # end the read: SQLite lets one transaction write at a time

    bad = client.post("/articles/new", data=_form(csrf, language="English!"))
    assert bad.status_code == 422
    assert "A language is a code such as en, pl or pt-br." in bad.text
    assert "Change your delivery address" in bad.text  # what was typed is kept

    forged = client.post("/articles/new", data=_form("wrong"))
    assert forged.status_code == 403

    saved = client.post("/articles/new", data=_form(csrf), follow_redirects=False)
    assert saved.status_code == 303
    page = client.get(saved.headers["location"]).text
    assert "saved as a draft" in page
    assert "<strong>Orders</strong>" in page  # the preview of the saved text
    db.rollback()
    article = db.scalar(select(Article))
    assert article is not None and not article.published
    article_id, slug = article.id, article.slug
    db.rollback()

    taken = client.post("/articles/new", data=_form(csrf, slug=slug))
    assert taken.status_code == 422
    assert "is taken" in taken.text

    huge = client.post(f"/articles/{article_id}", data=_form(csrf, body_markdown="x" * 200_001))
    assert huge.status_code in (413, 422)

    published = client.post(
        f"/articles/{article_id}/publish", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert published.status_code == 303
    assert "Change your delivery address" in client.get("/help").text


def test_only_supervisors_manage_categories_and_read_the_deflection_report(
    client: TestClient, db: Session
) -> None:
    make_user(db, "ada@example.com")
    make_user(db, "sam@example.com", role="supervisor")
    db.commit()
    csrf = page_login(client, "ada@example.com")
    refused = client.post(
        "/articles/categories",
        data={"csrf_token": csrf, "slug": "returns", "name": "Returns"},
    )
    assert refused.status_code == 403
    assert client.get("/articles/deflection").status_code == 403
    assert db.scalar(select(func.count(ArticleCategory.id))) == 0
    db.rollback()

    client.cookies.clear()
    csrf = page_login(client, "sam@example.com")
    saved = client.post(
        "/articles/categories",
        data={"csrf_token": csrf, "slug": "returns", "name": "Returns", "position": "-5"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "Returns" in client.get("/articles/categories").text
    report = client.get("/articles/deflection", params={"days": 7})
    assert report.status_code == 200
    assert "No visitor opened a suggested article" in report.text
