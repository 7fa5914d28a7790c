"""Take the workspace screenshots for the docs from the demo organisation.

    .venv/bin/python -m tests.browser_workspace.screenshots [docs/img]

Seeds the demo into a temporary database, serves it on a free local port, signs in
as the demo supervisor in Chromium at 1920x1080 and saves workspace.png (four chats
side by side), workspace-inbox.png (the inbox column) and workspace-cheatsheet.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

from helpline.adapters.db.models import Conversation
from helpline.demo.seed import DEMO_SUPERVISOR
from tests.browser.shots import chromium_page, demo_server, sign_in


def take_screenshots(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with demo_server() as demo:
        with demo.session_factory() as db:
            showcase = list(
                db.scalars(
                    select(Conversation.id)
                    .where(Conversation.status.in_(["open", "pending", "on_hold"]))
                    .order_by(Conversation.last_seq.desc(), Conversation.id)
                    .limit(4)
                )
            )
        with chromium_page({"width": 1920, "height": 1080}) as page:
            sign_in(page, demo, DEMO_SUPERVISOR, "/login?next=/workspace")
            page.locator("#ws[data-state='ready'][data-socket='open']").wait_for()
            page.locator(".ws-list .row").first.wait_for()
            page.screenshot(path=str(out_dir / "workspace-inbox.png"))
            for conversation_id in showcase:
                page.evaluate(
                    "id => window.helplineWorkspace.openConversation(id, {focus: true})",
                    conversation_id,
                )
            page.keyboard.press("Alt+2")
            page.keyboard.type("Thanks for waiting, I am checking your order now.")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out_dir / "workspace.png"))
            page.locator("body").click(position={"x": 5, "y": 5})
            page.keyboard.press("Escape")
            page.locator(".ws-list").focus()
            page.evaluate("() => window.helplineWorkspace.dialogs.cheatSheet()")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out_dir / "workspace-cheatsheet.png"))


if __name__ == "__main__":
    take_screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
