"""REST route for the team report (supervisors and admins)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from helpline.services import reports
from helpline.web.deps import CurrentViewer, DbSession
from helpline.web.schemas.reports import ReportOverviewPublic

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/overview", response_model=ReportOverviewPublic)
def report_overview(
    db: DbSession,
    viewer: CurrentViewer,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    time_zone: Annotated[str, Query(max_length=64)] = "UTC",
    inbox_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    team_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
) -> ReportOverviewPublic:
    """Volume per day and channel, first response and resolution times, SLA
    attainment, CSAT and NPS over the local days `from`..`to` (inclusive, at most a
    year) in `time_zone`; optionally one inbox, team or channel."""
    report = reports.check_filter(
        first, last, time_zone=time_zone, inbox_id=inbox_id, team_id=team_id, channel=channel
    )
    return ReportOverviewPublic.model_validate(
        reports.as_dict(reports.overview(db, viewer, report))
    )
