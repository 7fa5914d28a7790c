"""Admin page for AI assist: how often agents kept the classifier's category, per
category, and a button to retrain on their corrections now."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from helpline.domain.enums import Role
from helpline.services import ai_assist
from helpline.web.deps import AppSettings, DbSession, Now
from helpline.web.pages.rendering import page_headers, render
from helpline.web.pages.security import PageCaller, PageFormUser, PageUser, set_flash

router = APIRouter(prefix="/admin", include_in_schema=False)


def _forbidden(request: Request, caller: PageCaller) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {
            "title": "Admins only",
            "caller": caller,
            "csrf_token": caller.csrf_token,
            "heading": "Admins only",
            "message": "The AI assist accuracy is shown to admins.",
        },
        status_code=403,
    )


@router.get("/ai", response_class=HTMLResponse)
def ai_page(request: Request, caller: PageUser, db: DbSession, settings: AppSettings) -> Response:
    if caller.viewer.role != Role.ADMIN:
        return _forbidden(request, caller)
    overview = ai_assist.category_accuracy(db, caller.viewer)
    db.commit()
    return render(
        request,
        "admin/ai.html",
        {
            "title": "AI assist",
            "nav": "admin",
            "caller": caller,
            "csrf_token": caller.csrf_token,
            "section": "ai",
            "sections": [],
            "errors": {},
            "overview": overview,
            "settings": settings,
            "llm_configured": bool(settings.llm_base_url and settings.llm_model),
        },
    )


@router.post("/ai/retrain")
def ai_retrain(
    request: Request, caller: PageFormUser, db: DbSession, now: Now, settings: AppSettings
) -> Response:
    if caller.viewer.role != Role.ADMIN:
        return _forbidden(request, caller)
    report = ai_assist.do_retrain(db, now=now)
    response = RedirectResponse("/admin/ai", status_code=303)
    set_flash(
        response,
        request,
        "success",
        f"Category model retrained on {report.labels} correction(s) ({report.new_labels} new).",
        settings,
    )
    return page_headers(response)
