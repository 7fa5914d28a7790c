"""Sign-in, sign-out, forgot-password and reset-password pages (plain HTML forms)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from helpline.services.accounts import (
    InvalidToken,
    do_login,
    do_logout,
    do_request_password_reset,
    do_reset_password,
)
from helpline.services.auth import authenticate_session
from helpline.services.errors import AuthenticationFailed, RateLimited, ValidationFailed
from helpline.settings import Settings
from helpline.web.api.auth import clear_session_cookie, public_auth_limiter, set_session_cookie
from helpline.web.deps import SESSION_COOKIE, AppSettings, DbSession, Now, client_ip
from helpline.web.pages.rendering import page_headers, render, retry_wait
from helpline.web.pages.security import (
    PageFormUser,
    form_token,
    form_token_valid,
    safe_next_path,
    set_form_cookie,
)

router = APIRouter(include_in_schema=False)

MAX_EMAIL_CHARS = 254
MAX_PASSWORD_CHARS = 1024
FORM_EXPIRED = "The form expired. Please try again."
NOTICES = {
    "signed_out": "You are signed out.",
    "password_reset": "Your password has been changed. Sign in with the new one.",
}


def _anonymous_page(
    request: Request,
    template: str,
    settings: Settings,
    context: Mapping[str, object],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page with a form used before signing in: it carries a double-submit token."""
    token = form_token(request)
    response = render(
        request,
        template,
        {**context, "form_token": token},
        status_code=status_code,
        headers=headers,
    )
    set_form_cookie(response, request, token, settings)
    return response


def _redirect(location: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    return page_headers(response)


def _limit_per_ip(request: Request, now_seconds: float) -> int | None:
    """The public forms share the API's per-address limit on guessing."""
    return public_auth_limiter(request.app).hit(client_ip(request), now=now_seconds)


# ---------------------------------------------------------------- sign in


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    notice: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw and authenticate_session(db, raw, now=now) is not None:
        return _redirect(safe_next_path(next))
    return _anonymous_page(
        request,
        "login.html",
        settings,
        {
            "title": "Sign in",
            "next": safe_next_path(next),
            "email": "",
            "error": None,
            "notice": NOTICES.get(notice or ""),
        },
    )


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=MAX_EMAIL_CHARS)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD_CHARS)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    target = safe_next_path(next)

    def again(error: str, status_code: int, headers: dict[str, str] | None = None) -> Response:
        context = {
            "title": "Sign in",
            "next": target,
            "email": email,
            "error": error,
            "notice": None,
        }
        return _anonymous_page(
            request, "login.html", settings, context, status_code=status_code, headers=headers
        )

    if not form_token_valid(request, csrf_token):
        return again(FORM_EXPIRED, 403)
    retry_after = _limit_per_ip(request, now.timestamp())
    if retry_after is not None:
        return again(
            f"Too many sign-in attempts from your address. Try again in {retry_wait(retry_after)}.",
            429,
            {"Retry-After": str(retry_after)},
        )
    if not email.strip() or not password:
        return again("Enter your email address and password.", 422)
    try:
        raw, _session, _user = do_login(
            db,
            email,
            password,
            now=now,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            settings=settings,
        )
    except RateLimited as exc:
        wait = retry_wait(exc.retry_after_seconds)
        return again(
            f"Too many failed sign-in attempts. This account is locked; try again in {wait}.",
            429,
            {"Retry-After": str(exc.retry_after_seconds)},
        )
    except AuthenticationFailed:
        return again("Wrong email or password.", 401)
    response = _redirect(target)
    set_session_cookie(response, raw, settings)
    return response


@router.post("/logout")
def logout_submit(caller: PageFormUser, db: DbSession, settings: AppSettings) -> Response:
    assert caller.auth.session is not None
    do_logout(db, caller.auth.session.id)
    response = _redirect("/login?notice=signed_out")
    clear_session_cookie(response, settings)
    return response


# ---------------------------------------------------------------- forgotten password


@router.get("/forgot-password", response_class=HTMLResponse)
def forgot_password_page(request: Request, settings: AppSettings) -> Response:
    context = {"title": "Forgot your password?", "sent": False, "error": None, "email": ""}
    return _anonymous_page(request, "forgot_password.html", settings, context)


@router.post("/forgot-password", response_class=HTMLResponse)
def forgot_password_submit(
    request: Request,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=MAX_EMAIL_CHARS)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    context: dict[str, object] = {
        "title": "Forgot your password?",
        "sent": False,
        "error": None,
        "email": email,
    }
    if not form_token_valid(request, csrf_token):
        context["error"] = FORM_EXPIRED
        return _anonymous_page(request, "forgot_password.html", settings, context, status_code=403)
    retry_after = _limit_per_ip(request, now.timestamp())
    if retry_after is not None:
        context["error"] = f"Too many requests. Try again in {retry_wait(retry_after)}."
        return _anonymous_page(
            request,
            "forgot_password.html",
            settings,
            context,
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )
    if "@" not in email:
        context["error"] = "Enter the email address you sign in with."
        return _anonymous_page(request, "forgot_password.html", settings, context, status_code=422)
    do_request_password_reset(
        db,
        email,
        now=now,
        base_url=settings.base_url,
        ip=client_ip(request),
        valid_minutes=settings.password_reset_minutes,
    )
    # The same answer whether or not the account exists: nothing to enumerate.
    context.update(sent=True, minutes=settings.password_reset_minutes)
    return _anonymous_page(request, "forgot_password.html", settings, context)


@router.get("/reset-password", response_class=HTMLResponse)
def reset_password_page(
    request: Request,
    settings: AppSettings,
    token: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    context = {"title": "Choose a new password", "token": token, "error": None, "invalid": False}
    if not token:
        context["invalid"] = True
    return _anonymous_page(request, "reset_password.html", settings, context)


@router.post("/reset-password", response_class=HTMLResponse)
def reset_password_submit(
    request: Request,
    db: DbSession,
    now: Now,
    settings: AppSettings,
    token: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD_CHARS)] = "",
    password_again: Annotated[str, Form(max_length=MAX_PASSWORD_CHARS)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    context: dict[str, object] = {
        "title": "Choose a new password",
        "token": token,
        "error": None,
        "invalid": False,
    }

    def again(status_code: int, headers: dict[str, str] | None = None) -> Response:
        return _anonymous_page(
            request,
            "reset_password.html",
            settings,
            context,
            status_code=status_code,
            headers=headers,
        )

    if not form_token_valid(request, csrf_token):
        context["error"] = FORM_EXPIRED
        return again(403)
    retry_after = _limit_per_ip(request, now.timestamp())
    if retry_after is not None:
        context["error"] = f"Too many requests. Try again in {retry_wait(retry_after)}."
        return again(429, {"Retry-After": str(retry_after)})
    if not token:
        context["invalid"] = True
        return again(400)
    if password != password_again:
        context["error"] = "The two passwords are not the same."
        return again(422)
    try:
        do_reset_password(db, token, password, now=now, ip=client_ip(request))
    except InvalidToken:
        context["invalid"] = True
        return again(400)
    except ValidationFailed as exc:
        context["error"] = exc.message[:1].upper() + exc.message[1:] + "."
        return again(422)
    return _redirect("/login?notice=password_reset")
