"""The two WebSocket endpoints and their handshakes.

A handshake from a page that may not connect (wrong Origin, unknown inbox) is
refused before it is accepted (the browser sees a failed handshake; close code
1008). Missing or bad credentials are accepted and closed at once with 4401, so a
client can tell "sign in again" from a network failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, WebSocket
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact
from helpline.domain.access import Viewer
from helpline.domain.errors import DomainError
from helpline.services import visitors
from helpline.services.auth import authenticate_api_token, authenticate_session
from helpline.services.errors import AuthenticationFailed
from helpline.services.viewer import load_viewer
from helpline.settings import Settings
from helpline.web.api.widget import widget_limits
from helpline.web.deps import SESSION_COOKIE
from helpline.web.origins import allowed_domains, same_origin, widget_origin_allowed
from helpline.web.realtime.agent import AgentConnection
from helpline.web.realtime.hub import get_hub
from helpline.web.realtime.visitor import VisitorConnection, VisitorContext, contact_view

router = APIRouter()

CLOSE_POLICY = 1008
CLOSE_UNAUTHENTICATED = 4401

Outcome = Literal["ok", "refuse", "unauthenticated"]


def _ip(websocket: WebSocket) -> str:
    return websocket.client.host if websocket.client else ""


# ---------------------------------------------------------------- visitors


@dataclass(frozen=True, slots=True)
class _VisitorHandshake:
    outcome: Outcome
    context: VisitorContext | None = None


def _visitor_handshake(
    db: Session,
    public_key: str,
    *,
    origin: str | None,
    token: str | None,
    settings: Settings,
    secret_key: str,
    now: datetime,
) -> _VisitorHandshake:
    try:
        inbox = visitors.access_widget_inbox(db, public_key)
    except DomainError:
        return _VisitorHandshake("refuse")
    if not widget_origin_allowed(origin, allowed_domains(inbox.settings), settings=settings):
        return _VisitorHandshake("refuse")
    try:
        visitor = visitors.access_visitor(
            db,
            inbox,
            token,
            secret_key=secret_key,
            now=now,
            max_age=timedelta(days=settings.visitor_token_days),
        )
    except AuthenticationFailed:
        return _VisitorHandshake("unauthenticated")
    contact = db.get(Contact, visitor.contact_id)
    assert contact is not None
    email = contact.email or contact.custom_attributes.get("unverified_email")
    context = VisitorContext(
        visitor=visitor,
        public_key=inbox.public_key,
        contact_name=contact.name or "Customer",
        contact=contact_view(
            contact.name, email if isinstance(email, str) else None, visitor.verified
        ),
    )
    db.commit()
    return _VisitorHandshake("ok", context)


@router.websocket("/widget/{public_key}/ws")
async def visitor_socket(
    websocket: WebSocket,
    public_key: str,
    token: Annotated[str | None, Query(max_length=512)] = None,
) -> None:
    """The visitor's live connection (`?token=<visitor_token>`)."""
    app = websocket.app
    hub = get_hub(app)
    handshake = await hub.run_db(
        _visitor_handshake,
        public_key[:64],
        origin=websocket.headers.get("origin"),
        token=token,
        settings=app.state.settings,
        secret_key=app.state.secret_key,
        now=hub.now(),
    )
    if handshake.outcome == "refuse":
        await websocket.close(code=CLOSE_POLICY)
        return
    await websocket.accept()
    if handshake.outcome == "unauthenticated" or handshake.context is None:
        await websocket.close(code=CLOSE_UNAUTHENTICATED, reason="visitor token invalid or expired")
        return
    connection = VisitorConnection(
        hub,
        websocket,
        ip=_ip(websocket),
        context=handshake.context,
        limits=widget_limits(app),
    )
    await connection.run()


# ---------------------------------------------------------------- agents


@dataclass(frozen=True, slots=True)
class _AgentHandshake:
    outcome: Outcome
    viewer: Viewer | None = None
    name: str = ""


def _agent_handshake(
    db: Session,
    *,
    bearer: str | None,
    cookie: str | None,
    origin: str | None,
    host: str | None,
    settings: Settings,
    now: datetime,
) -> _AgentHandshake:
    if bearer is not None:
        auth = authenticate_api_token(db, bearer, now=now)
    elif cookie is not None:
        # A cookie is sent by the browser whatever page opens the socket: only
        # Helpline's own pages may use it (no cross-site WebSocket hijacking).
        if not same_origin(origin, host_header=host, settings=settings):
            return _AgentHandshake("refuse")
        auth = authenticate_session(db, cookie, now=now)
    else:
        auth = None
    if auth is None:
        return _AgentHandshake("unauthenticated")
    viewer = load_viewer(db, auth.user)
    name = auth.user.name
    db.commit()
    return _AgentHandshake("ok", viewer, name)


def _bearer(websocket: WebSocket) -> str | None:
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@router.websocket("/ws")
async def agent_socket(websocket: WebSocket) -> None:
    """Staff live connection: session cookie from our own pages, or an API token."""
    app = websocket.app
    hub = get_hub(app)
    handshake = await hub.run_db(
        _agent_handshake,
        bearer=_bearer(websocket),
        cookie=websocket.cookies.get(SESSION_COOKIE),
        origin=websocket.headers.get("origin"),
        host=websocket.headers.get("host"),
        settings=app.state.settings,
        now=hub.now(),
    )
    if handshake.outcome == "refuse":
        await websocket.close(code=CLOSE_POLICY)
        return
    await websocket.accept()
    if handshake.outcome == "unauthenticated" or handshake.viewer is None:
        await websocket.close(code=CLOSE_UNAUTHENTICATED, reason="sign in first")
        return
    connection = AgentConnection(
        hub, websocket, ip=_ip(websocket), viewer=handshake.viewer, name=handshake.name
    )
    cookie = websocket.cookies.get(SESSION_COOKIE)
    if _bearer(websocket) is None and cookie is not None:
        user_id = handshake.viewer.user_id

        async def still_signed_in() -> bool:
            return await hub.run_read(_still_signed_in, cookie, user_id=user_id, now=hub.now())

        connection.still_authorised = still_signed_in
    await connection.run()


def _still_signed_in(db: Session, cookie: str, *, user_id: int, now: datetime) -> bool:
    """The browser session that opened a staff socket still works for its user (not
    signed out or expired, user active, password unchanged since)."""
    auth = authenticate_session(db, cookie, now=now)
    db.commit()
    return auth is not None and auth.user.id == user_id
