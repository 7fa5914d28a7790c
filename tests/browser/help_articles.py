"""The few help-center articles the browser tests search, suggest and read."""

from __future__ import annotations

from helpline.adapters.db.base import utcnow
from tests.browser.conftest import LiveServer
from tests.help_center.support import editor, write

RESET_PASSWORD = (
    "Reset your password",
    "Open the sign-in page and choose **Forgot password?**. The link works for an hour.",
)
REFUNDS = ("Our refund policy", "Refunds take 5 days.")


def arrange_articles(live_server: LiveServer, second_account_article: tuple[str, str]) -> None:
    """An editor, then published articles: how to reset a password, a second account
    article that also matches "password", and a billing one that does not."""
    with live_server.session() as db:
        author = editor(db)
        now = utcnow()
        for (title, body), category in (
            (RESET_PASSWORD, "account"),
            (second_account_article, "account"),
            (REFUNDS, "billing"),
        ):
            write(db, author, now, title, body, category=category)
