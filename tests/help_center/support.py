"""Articles for help-center tests, written through the service like an editor would."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Article, User
from helpline.services.articles import ArticleInput, do_create_article
from helpline.services.viewer import load_viewer
from tests.factories import make_user

_FORM_TOKEN = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]*)">')


def editor(db: Session) -> User:
    user = make_user(db, "editor@example.com", name="Edith Editor", role="supervisor")
    db.commit()
    return user


def existing_editor(db: Session) -> User:
    user = db.scalar(select(User).where(User.email == "editor@example.com"))
    assert user is not None
    return user


def write(
    db: Session,
    author: User,
    now: datetime,
    title: str,
    body: str,
    **fields: object,
) -> Article:
    fields.setdefault("published", True)
    return do_create_article(
        db,
        load_viewer(db, author),
        ArticleInput(title=title, body_markdown=body, **fields),  # type: ignore[arg-type]
        now=now,
    )


def form_token_of(html: str) -> str:
    match = _FORM_TOKEN.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def help_center(db: Session, now: datetime) -> dict[str, Article]:
    """A small help center: two categories, a translation, a draft, an internal article."""
    author = editor(db)
    password = write(
        db,
        author,
        now,
        "Reset your password",
        "# Reset your password\n\nOpen the sign-in page and choose **Forgot password?**. "
        "The link in the email works for one hour.",
        category="account",
    )
    return {
        "password": password,
        "password_pl": write(
            db,
            author,
            now,
            "Resetowanie hasła",
            "Na stronie logowania wybierz **Nie pamiętasz hasła?**.",
            category="account",
            language="pl",
            translation_of_id=password.id,
        ),
        "two_factor": write(
            db,
            author,
            now,
            "Two-factor authentication",
            "Turn on two-factor authentication under Settings. Keep your backup codes safe; "
            "they let you sign in and reset your password if you lose your phone.",
            category="account",
        ),
        "refunds": write(
            db,
            author,
            now,
            "Our refund policy",
            "Refunds go back to your card within 5 working days.",
            category="billing",
        ),
        "draft": write(
            db, author, now, "Exporting data", "Coming soon.", category="technical", published=False
        ),
        "internal": write(
            db,
            author,
            now,
            "Handling fraud reports",
            "Lock the account and refund unauthorised payments.",
            category="account",
            internal=True,
        ),
    }
