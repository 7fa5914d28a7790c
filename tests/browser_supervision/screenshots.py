"""Take the supervisor view's and the admin pages' screenshots from the demo.

    .venv/bin/python -m tests.browser_supervision.screenshots [docs/img]

Seeds the demo into a temporary database, serves it on a free local port, signs in
as the demo supervisor (then an admin) in Chromium and saves docs/img/supervisor.png,
docs/img/supervisor-tablet.png, docs/img/reports.png and docs/img/admin-inbox.png.
"""

from __future__ import annotations

import contextlib
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox, User
from helpline.adapters.passwords import hash_password
from helpline.demo.seed import DEMO_SUPERVISOR, DemoLogin
from tests.browser.shots import DemoServer, chromium_page, demo_server, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

ADMIN = DemoLogin(
    role="admin",
    name="Screenshot Admin",
    email="screenshots-admin@example.com",
    password="correct horse battery staple",
)


def _add_admin(db: Session) -> None:
    db.add(
        User(
            email=ADMIN.email,
            name=ADMIN.name,
            password_hash=hash_password(ADMIN.password),
            role="admin",
        )
    )
    db.commit()


def _open(page: Page, demo: DemoServer, login: DemoLogin, path: str) -> None:
    sign_in(page, demo, login, f"/login?next={path}")
    page.wait_for_url(f"{demo.url}{path}")


def take_screenshots(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with demo_server(_add_admin) as demo:
        with demo.session_factory() as db:
            chat_inbox = db.scalar(select(Inbox.id).where(Inbox.channel == "chat").limit(1))
        with chromium_page({"width": 1440, "height": 900}) as page:
            _open(page, demo, DEMO_SUPERVISOR, "/supervisor")
            page.locator("#live-state").get_by_text("Live").wait_for()
            page.screenshot(path=str(out_dir / "supervisor.png"), full_page=True)
            tablet = page.context.browser.new_page(  # type: ignore[union-attr]
                viewport={"width": 1024, "height": 768}, has_touch=True, is_mobile=True
            )
            _open(tablet, demo, DEMO_SUPERVISOR, "/supervisor")
            tablet.screenshot(path=str(out_dir / "supervisor-tablet.png"))
            last = date.today()
            page.goto(f"{demo.url}/reports?from={last - timedelta(days=13)}&to={last}")
            # The break reminder comes up a moment after the page.
            with contextlib.suppress(PlaywrightTimeoutError):
                page.get_by_role("button", name="Later").click(timeout=3000)
            page.screenshot(path=str(out_dir / "reports.png"), full_page=True)
            admin = page.context.browser.new_page(  # type: ignore[union-attr]
                viewport={"width": 1360, "height": 900}
            )
            _open(admin, demo, ADMIN, f"/admin/inboxes/{chat_inbox}")
            admin.screenshot(path=str(out_dir / "admin-inbox.png"), full_page=True)


if __name__ == "__main__":
    take_screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
