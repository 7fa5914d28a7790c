"""The public help center without JavaScript: plain HTML pages and forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Article, ArticleVote
from tests.factories import make_inbox
from tests.help_center.support import editor, existing_editor, form_token_of, help_center, write
from tests.support import FrozenClock


def test_home_lists_published_articles_by_category(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    help_center(db, clock())

    page = client.get("/help")

    assert page.status_code == 200
    html = page.text
    assert '<h2 id="cat-account">Your account</h2>' in html
    assert '<h2 id="cat-billing">Billing and payments</h2>' in html
    assert 'href="/help/articles/reset-your-password"' in html
    assert "Exporting data" not in html  # a draft
    assert "Handling fraud reports" not in html  # internal
    assert "Resetowanie hasła" not in html  # the English help center by default
    assert "<script" not in html
    assert page.headers["content-security-policy"].startswith("default-src 'self'")

    polish = client.get("/help", params={"lang": "pl"}).text
    assert "Resetowanie hasła" in polish
    assert "Reset your password" not in polish
    browser_polish = client.get("/help", headers={"Accept-Language": "pl-PL,pl;q=0.9"}).text
    assert "Resetowanie hasła" in browser_polish


def test_an_article_page_shows_sanitised_markdown_translations_and_related(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    help_center(db, clock())

    page = client.get("/help/articles/reset-your-password")

    assert page.status_code == 200
    html = page.text
    assert "<h1>Reset your password</h1>" in html
    assert html.count("Reset your password</h") == 1  # the body's own heading is not repeated
    assert "<strong>Forgot password?</strong>" in html
    assert 'Last updated <time datetime="2026-03-02T09:00:00+00:00">2 March 2026</time>' in html
    assert 'href="/help/articles/resetowanie-hasla" hreflang="pl"' in html
    related = html.split("Related articles", 1)[1]
    assert "Two-factor authentication" in related
    assert "Handling fraud reports" not in related
    assert "Was this helpful?" in html


def test_drafts_and_internal_articles_do_not_exist_publicly(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    articles = help_center(db, clock())
    for key in ("draft", "internal"):
        page = client.get(f"/help/articles/{articles[key].slug}")
        assert page.status_code == 404
        assert articles[key].title not in page.text
    assert client.get("/help/articles/no-such-article").status_code == 404
    results = client.get("/help/search", params={"q": "fraud"}).text
    assert "fraud" not in results.split("Results for", 1)[1].split("</h1>", 1)[1]


def test_search_highlights_matches_and_forgives_typos(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    help_center(db, clock())

    page = client.get("/help/search", params={"q": "pasword"})

    assert page.status_code == 200
    results = re.findall(r'<a class="help-result-title" href="([^"]+)">(.*?)</a>', page.text)
    assert results[0] == ("/help/articles/reset-your-password", "Reset your <mark>password</mark>")
    assert 'id="result-count">' in page.text
    polish = client.get("/help/search", params={"q": "hasło", "lang": "pl"}).text
    assert "Resetowanie <mark>hasła</mark>" in polish
    nothing = client.get("/help/search", params={"q": "xylophone"}).text
    assert "No articles match" in nothing
    hostile = client.get("/help/search", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert" not in hostile
    assert "&lt;script&gt;" in hostile


def test_markdown_cannot_inject_script(client: TestClient, db: Session, clock: FrozenClock) -> None:
    author = editor(db)
    write(
        db,
        author,
        clock(),
        "Tricky <b>title</b>",
        "<script>alert('x')</script>\n\n[click](javascript:alert(1)) "
        '<img src=x onerror="alert(1)"> [docs](https://example.com/docs)\n\n'
        '![pic](javascript:alert(2))\n\n<iframe src="https://evil.example"></iframe>',
        slug="tricky",
    )

    html = client.get("/help/articles/tricky").text
    body = html.split('<div class="help-body">', 1)[1].split("</div>", 1)[0]

    assert "<script" not in body and "<img src=x" not in body and "<iframe" not in body
    assert "&lt;script&gt;" in body
    assert '="javascript:' not in body  # such links stay plain text
    assert '<a href="https://example.com/docs" rel="nofollow noopener">docs</a>' in body
    assert "Tricky &lt;b&gt;title&lt;/b&gt;" in html


def test_a_visitor_votes_once_per_article_with_a_plain_form(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    articles = help_center(db, clock())
    page = client.get("/help/articles/our-refund-policy")
    token = form_token_of(page.text)

    first = client.post(
        "/help/articles/our-refund-policy/vote",
        data={"helpful": "yes", "csrf_token": token},
        follow_redirects=False,
    )
    assert first.status_code == 303
    assert first.headers["location"] == "/help/articles/our-refund-policy#feedback"
    after = client.get("/help/articles/our-refund-policy").text
    assert "Thanks for your feedback!" in after
    assert "You said this article was helpful" in after
    assert 'name="helpful"' not in after

    again = client.post(
        "/help/articles/our-refund-policy/vote",
        data={"helpful": "no", "csrf_token": token},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert "You already told us" in client.get(again.headers["location"]).text

    db.expire_all()
    refunds = db.get(Article, articles["refunds"].id)
    assert refunds is not None
    assert (refunds.helpful_yes, refunds.helpful_no) == (1, 0)
    assert refunds.updated_at == clock()  # a vote is not an edit
    assert len(db.scalars(select(ArticleVote)).all()) == 1
    db.rollback()


def test_a_vote_without_the_form_token_is_refused(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    articles = help_center(db, clock())
    client.get("/help/articles/our-refund-policy")

    forged = client.post(
        "/help/articles/our-refund-policy/vote",
        data={"helpful": "yes", "csrf_token": "guessed"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    internal = client.post(
        f"/help/articles/{articles['internal'].slug}/vote", data={"helpful": "yes"}
    )
    assert internal.status_code == 404
    db.expire_all()
    assert db.scalar(select(ArticleVote.id)) is None
    db.rollback()


def test_each_inbox_has_its_own_help_center(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    help_center(db, clock())
    author = existing_editor(db)
    shop = make_inbox(db, "Shop chat")
    other = make_inbox(db, "Partner chat")
    db.commit()
    write(db, author, clock(), "Shop opening hours", "We are open 9 to 5.", inbox_id=shop.id)

    shop_home = client.get(f"/help/{shop.public_key}").text
    assert "Shop opening hours" in shop_home
    assert "Reset your password" in shop_home
    assert f'href="/help/{shop.public_key}/articles/shop-opening-hours"' in shop_home
    assert "Shop chat help center" in shop_home
    assert "Shop opening hours" not in client.get("/help").text
    assert "Shop opening hours" not in client.get(f"/help/{other.public_key}").text
    assert client.get("/help/articles/shop-opening-hours").status_code == 404
    assert client.get(f"/help/{shop.public_key}/articles/shop-opening-hours").status_code == 200
    found = client.get(f"/help/{shop.public_key}/search", params={"q": "opening"}).text
    assert "Shop <mark>opening</mark> hours" in found
    assert client.get("/help/not-a-key").status_code == 404


def test_public_pages_are_rate_limited_per_address(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    from helpline.adapters.ratelimit import SlidingWindowLimiter

    help_center(db, clock())
    client.app.state.help_rate_limiter = SlidingWindowLimiter(3, 60)  # type: ignore[attr-defined]
    for _ in range(3):
        assert client.get("/help").status_code == 200
    limited = client.get("/help/search", params={"q": "refund"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "Too many requests" in limited.text
