"""The widget demo page: a plain shop-like page that embeds the chat widget for the
first active chat inbox, so the demo shows what a customer's visitors see."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox
from helpline.domain.enums import Channel
from helpline.web.deps import DbSession
from helpline.web.pages.rendering import render

router = APIRouter(include_in_schema=False)

# The host page is ours, so it may be strict: the widget needs only its own script
# and stylesheet, its API and WebSocket (same origin) and blob: image previews.
WIDGET_DEMO_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)


def demo_chat_inbox(db: Session) -> Inbox | None:
    """The chat inbox the demo page embeds: the oldest active one."""
    return db.scalars(
        select(Inbox)
        .where(Inbox.channel == Channel.CHAT.value, Inbox.is_active.is_(True))
        .order_by(Inbox.id)
        .limit(1)
    ).first()


@router.get("/widget-demo", response_class=HTMLResponse)
def widget_demo(request: Request, db: DbSession) -> HTMLResponse:
    inbox = demo_chat_inbox(db)
    response = render(
        request,
        "widget_demo.html",
        {
            "title": "Widget demo",
            "inbox_name": inbox.name if inbox is not None else None,
            "public_key": inbox.public_key if inbox is not None else None,
        },
        status_code=200 if inbox is not None else 404,
    )
    response.headers["Content-Security-Policy"] = WIDGET_DEMO_POLICY
    return response
