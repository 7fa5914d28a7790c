"""The widget's article suggestions over the API: on by default, off per inbox."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.help_center.support import help_center
from tests.support import FrozenClock
from tests.widget_api.support import headers, make_chat_inbox, widget_url


def test_suggestions_are_on_by_default_and_follow_the_inbox_setting(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    help_center(db, clock())
    chatty = make_chat_inbox(db)
    quiet = make_chat_inbox(db, article_suggestions=False)
    db.commit()

    config = client.get(widget_url(chatty, "config"), headers=headers()).json()
    assert config["article_suggestions"] is True
    assert config["lookups"] == []
    found = client.get(
        widget_url(chatty, "articles/search"), params={"q": "pasword", "language": "en"}
    ).json()
    assert found["data"][0]["title"] == "Reset your password"
    assert found["data"][0]["url"].endswith(
        f"/help/{chatty.public_key}/articles/reset-your-password"
    )

    assert (
        client.get(widget_url(quiet, "config"), headers=headers()).json()["article_suggestions"]
        is False
    )
    nothing = client.get(
        widget_url(quiet, "articles/search"), params={"q": "pasword", "language": "en"}
    ).json()
    assert nothing == {"data": [], "count": 0}
