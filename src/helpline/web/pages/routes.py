"""Server-rendered pages: sign-in and password reset, the inbox, a conversation.

Mounted by `create_app`; static files are served from /static. A page that needs a
signed-in agent redirects to /login?next=... instead of answering 401.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from helpline.web.pages import (
    admin_ai,
    admin_lookups,
    admin_people,
    admin_routing,
    articles_admin,
    auth_pages,
    canned_pages,
    help_center,
    inbox_pages,
    reports,
    supervisor,
    widget_demo,
    workspace,
)
from helpline.web.pages.rendering import STATIC_DIR, page_headers, render
from helpline.web.pages.security import FormExpired, LoginRequired


async def _login_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    location = "/login?next=" + quote(exc.next_path, safe="/")
    return page_headers(RedirectResponse(location, status_code=303))


async def _form_expired(request: Request, _exc: Exception) -> Response:
    return render(
        request,
        "error.html",
        {
            "title": "Form expired",
            "heading": "This form has expired",
            "message": "Go back, reload the page and try again.",
        },
        status_code=403,
    )


def mount_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth_pages.router)
    app.include_router(inbox_pages.router)
    app.include_router(widget_demo.router)
    app.include_router(help_center.router)
    app.include_router(canned_pages.router)
    app.include_router(articles_admin.router)
    app.include_router(admin_routing.router)
    app.include_router(admin_people.router)
    app.include_router(admin_lookups.router)
    app.include_router(admin_ai.router)
    app.include_router(supervisor.router)
    app.include_router(reports.router)
    app.include_router(workspace.router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(FormExpired, _form_expired)
