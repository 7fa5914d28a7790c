"""REST routes for signing in and out, the caller's own account and API tokens.

The public endpoints (login, password reset) accept JSON only, so another site
cannot post to them from a plain HTML form, and are rate limited per client IP.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request, Response

from helpline.adapters.ratelimit import RateLimiter
from helpline.services.accounts import (
    do_change_password,
    do_login,
    do_logout,
    do_request_password_reset,
    do_reset_password,
    do_update_me,
)
from helpline.services.api_tokens import do_create_api_token, do_revoke_api_token, list_api_tokens
from helpline.services.errors import PermissionDenied, RateLimited
from helpline.settings import Settings
from helpline.web.app_state import per_ip_limiter
from helpline.web.deps import (
    SESSION_COOKIE,
    AppSettings,
    AuthenticatedCaller,
    CurrentUser,
    DbSession,
    Now,
    client_ip,
)
from helpline.web.schemas.auth import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenList,
    ApiTokenPublic,
    AuthState,
    LoginRequest,
    MeUpdate,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
)
from helpline.web.schemas.users import MePublic

router = APIRouter(prefix="/auth", tags=["auth"])

PUBLIC_REQUESTS_PER_WINDOW = 20
PUBLIC_WINDOW_SECONDS = 60.0


def public_auth_limiter(app: FastAPI) -> RateLimiter:
    """The app's per-IP limiter for public auth endpoints (see `app_state`; replace
    `app.state.auth_rate_limiter` to change the limit). Shared by all server
    processes through Redis when the app has it."""
    return per_ip_limiter(
        app, "auth_rate_limiter", PUBLIC_REQUESTS_PER_WINDOW, PUBLIC_WINDOW_SECONDS
    )


def limit_per_ip(request: Request, now: Now) -> None:
    """Refuse a client address that called the public auth endpoints too often."""
    retry_after = public_auth_limiter(request.app).hit(client_ip(request), now=now.timestamp())
    if retry_after is not None:
        raise RateLimited("too many requests from your address; try again later", retry_after)


def require_json(request: Request) -> None:
    """Only JSON bodies: browsers do not send those cross-site without CORS approval."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(415, "send a JSON body (Content-Type: application/json)")


PublicJsonEndpoint = [Depends(require_json), Depends(limit_per_ip)]


def set_session_cookie(response: Response, raw_token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        raw_token,
        max_age=settings.session_days * 24 * 60 * 60,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
    )


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


@router.post("/login", dependencies=PublicJsonEndpoint)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> AuthState:
    """Sign in with email and password; sets the `helpline_session` cookie."""
    raw, agent_session, user = do_login(
        db,
        body.email,
        body.password,
        now=now,
        ip=client_ip(request),
        user_agent=_user_agent(request),
        settings=settings,
    )
    set_session_cookie(response, raw, settings)
    return AuthState(user=MePublic.model_validate(user), csrf_token=agent_session.csrf_token)


@router.post("/logout", status_code=204)
def logout(
    auth: AuthenticatedCaller, response: Response, db: DbSession, settings: AppSettings
) -> None:
    """End this browser session (with an API token there is nothing to end)."""
    if auth.session is not None:
        do_logout(db, auth.session.id)
    clear_session_cookie(response, settings)


@router.get("/me")
def read_me(auth: AuthenticatedCaller) -> AuthState:
    """The caller, and the CSRF token of their browser session."""
    return AuthState(
        user=MePublic.model_validate(auth.user),
        csrf_token=auth.session.csrf_token if auth.session is not None else None,
    )


@router.patch("/me")
def update_me(body: MeUpdate, auth: AuthenticatedCaller, db: DbSession, now: Now) -> AuthState:
    """Change one's own name, languages or status; other fields are refused (422)."""
    user = do_update_me(
        db, auth.user, name=body.name, languages=body.languages, status=body.status, now=now
    )
    return AuthState(
        user=MePublic.model_validate(user),
        csrf_token=auth.session.csrf_token if auth.session is not None else None,
    )


@router.post("/password", status_code=204)
def change_password(
    body: PasswordChange,
    auth: AuthenticatedCaller,
    request: Request,
    response: Response,
    db: DbSession,
    now: Now,
    settings: AppSettings,
) -> None:
    """Change the password; every browser is signed out except this one, which
    gets a fresh session cookie (its CSRF token stays the same)."""
    replacement = do_change_password(
        db,
        auth.user,
        current_password=body.current_password,
        new_password=body.new_password,
        now=now,
        settings=settings,
        ip=client_ip(request),
        user_agent=_user_agent(request),
        current_session=auth.session,
    )
    if replacement is not None:
        set_session_cookie(response, replacement[0], settings)


@router.post("/password-reset", status_code=202, dependencies=PublicJsonEndpoint)
def request_password_reset(
    body: PasswordResetRequest, request: Request, db: DbSession, now: Now, settings: AppSettings
) -> dict[str, str]:
    """Email a reset link if the address belongs to an active account; the answer
    is the same either way."""
    do_request_password_reset(
        db,
        body.email,
        now=now,
        base_url=settings.base_url,
        ip=client_ip(request),
        valid_minutes=settings.password_reset_minutes,
    )
    return {"message": "If an account uses this address, a reset link is on its way."}


@router.post("/password-reset/confirm", status_code=204, dependencies=PublicJsonEndpoint)
def confirm_password_reset(
    body: PasswordResetConfirm, request: Request, db: DbSession, now: Now
) -> None:
    """Set a new password with the token from the emailed link (works once)."""
    do_reset_password(db, body.token, body.new_password, now=now, ip=client_ip(request))


@router.get("/tokens")
def read_api_tokens(user: CurrentUser, db: DbSession) -> ApiTokenList:
    """The caller's working API tokens (names and prefixes, never the secrets)."""
    tokens = [ApiTokenPublic.model_validate(token) for token in list_api_tokens(db, user)]
    return ApiTokenList(data=tokens, count=len(tokens))


@router.post("/tokens", status_code=201)
def create_api_token(
    body: ApiTokenCreate, auth: AuthenticatedCaller, request: Request, db: DbSession, now: Now
) -> ApiTokenCreated:
    """Issue a personal API token; the raw value is in this response only.

    Only from a signed-in browser: a leaked token must not be able to mint more."""
    if auth.session is None:
        raise PermissionDenied("create API tokens from a signed-in browser session")
    raw, token = do_create_api_token(db, auth.user, name=body.name, now=now, ip=client_ip(request))
    return ApiTokenCreated(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        token=raw,
    )


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_api_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    user: CurrentUser,
    request: Request,
    db: DbSession,
    now: Now,
) -> None:
    """Revoke one of the caller's tokens; someone else's answers 404."""
    do_revoke_api_token(db, user, token_id, now=now, ip=client_ip(request))
