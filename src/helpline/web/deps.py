"""FastAPI dependencies as `Annotated` aliases: database session, clock, caller.

Routes declare what they need (`DbSession`, `Now`, `CurrentUser`, `CurrentViewer`,
`AdminUser`); authentication and CSRF checks happen here, once.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from helpline.adapters.db.models import User
from helpline.domain.access import Viewer
from helpline.domain.enums import Role
from helpline.services.auth import Authenticated, authenticate_api_token, authenticate_session
from helpline.services.events import Publisher, install_publisher
from helpline.services.viewer import load_viewer
from helpline.settings import Settings

SESSION_COOKIE = "helpline_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    publisher: Publisher = request.app.state.publish
    with factory() as db:
        install_publisher(db, publisher)
        yield db


def get_now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


AppSettings = Annotated[Settings, Depends(get_settings_dep)]
DbSession = Annotated[Session, Depends(get_db)]
Now = Annotated[datetime, Depends(get_now)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return None


def csrf_token_from_request(request: Request) -> str | None:
    return request.headers.get(CSRF_HEADER)


def get_authenticated(request: Request, db: DbSession, now: Now) -> Authenticated:
    """Resolve the caller; cookie sessions must also present their CSRF token
    on state-changing requests (API tokens are not sent by browsers on their own)."""
    bearer = _bearer_token(request)
    if bearer is not None:
        auth = authenticate_api_token(db, bearer, now=now)
        if auth is None:
            raise HTTPException(401, "invalid or revoked API token")
        return auth
    raw = request.cookies.get(SESSION_COOKIE)
    auth = authenticate_session(db, raw, now=now) if raw else None
    if auth is None:
        raise HTTPException(401, "sign in first")
    if request.method not in SAFE_METHODS:
        assert auth.session is not None
        sent = getattr(request.state, "csrf_form_token", None) or csrf_token_from_request(request)
        if not sent or not hmac.compare_digest(sent, auth.session.csrf_token):
            raise HTTPException(403, "missing or wrong CSRF token")
    return auth


AuthenticatedCaller = Annotated[Authenticated, Depends(get_authenticated)]


def get_current_user(auth: AuthenticatedCaller) -> User:
    return auth.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_viewer(db: DbSession, user: CurrentUser) -> Viewer:
    return load_viewer(db, user)


CurrentViewer = Annotated[Viewer, Depends(get_viewer)]


def get_admin(user: CurrentUser) -> User:
    if user.role != Role.ADMIN:
        # Admin endpoints are not secret, so a plain 403 leaks nothing.
        raise HTTPException(403, "admins only")
    return user


AdminUser = Annotated[User, Depends(get_admin)]
