"""Take the documentation's screenshots from the demo organisation.

    .venv/bin/python -m tests.browser.screenshots [docs/img]

Seeds the demo into a temporary database, serves it on a free local port, signs in
as the demo supervisor in Chromium and saves docs/img/inbox.png and
docs/img/conversation.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helpline.adapters.db.models import Conversation, Message
from helpline.demo.seed import DEMO_SUPERVISOR
from tests.browser.shots import chromium_page, demo_server, sign_in


def _showcase_conversation(session_factory: sessionmaker[Session]) -> int:
    """An on-hold conversation with the longest history: notes, events, replies."""
    with session_factory() as db:
        notes = (
            select(func.count(Message.id))
            .where(Message.conversation_id == Conversation.id, Message.kind == "note")
            .scalar_subquery()
        )
        conversation_id = db.scalar(
            select(Conversation.id)
            .where(Conversation.status == "on_hold", notes > 0)
            .order_by(Conversation.last_seq.desc(), Conversation.id)
            .limit(1)
        )
        assert conversation_id is not None
        return conversation_id


def take_screenshots(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with demo_server() as demo:
        showcase = _showcase_conversation(demo.session_factory)
        with chromium_page({"width": 1360, "height": 860}) as page:
            sign_in(page, demo, DEMO_SUPERVISOR)
            page.wait_for_url(f"{demo.url}/inbox")
            page.screenshot(path=str(out_dir / "inbox.png"))
            page.goto(f"{demo.url}/conversations/{showcase}")
            page.screenshot(path=str(out_dir / "conversation.png"), full_page=True)


if __name__ == "__main__":
    take_screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
