"""The team's numbers over whole local days: volume per day and channel, first
response and resolution times, SLA attainment, CSAT and NPS, and per agent.

For supervisors and admins. Conversations count on the day they were created
(volume, first response, SLA, satisfaction) and resolutions on the day they were
solved, in the time zone the reader asks for. Only the columns the numbers need
are read, and the arithmetic is `domain/reports.py`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.base import table_of
from helpline.adapters.db.models import Conversation, User
from helpline.domain.access import Viewer
from helpline.domain.enums import Channel
from helpline.domain.reports import (
    AgentCounts,
    CsatSummary,
    DayCounts,
    DurationSummary,
    NpsSummary,
    Period,
    share,
    summarise_csat,
    summarise_durations,
    summarise_nps,
)
from helpline.services.errors import PermissionDenied, ValidationFailed

MAX_DAYS = 366
CHANNELS = tuple(channel.value for channel in Channel)


@dataclass(frozen=True, slots=True)
class ReportFilter:
    first: date
    last: date
    time_zone: str = "UTC"
    inbox_id: int | None = None
    team_id: int | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class Overview:
    filter: ReportFilter
    days: list[DayCounts]
    created: int
    by_channel: dict[str, int]
    solved: int
    first_response: DurationSummary
    """Conversations created in the period and answered (whenever)."""
    unanswered: int
    """Conversations created in the period that have no first response yet."""
    resolution: DurationSummary
    """Created to solved, for conversations solved in the period."""
    sla_met: int
    sla_missed: int
    csat: CsatSummary
    nps: NpsSummary
    agents: list[AgentCounts]
    """By current assignee, most conversations first; unassigned ones last."""

    @property
    def sla_attainment(self) -> float | None:
        return share(self.sla_met, self.sla_met + self.sla_missed)

    def channel_share(self, channel: str) -> float | None:
        return share(self.by_channel.get(channel, 0), self.created)


def check_filter(
    first: date,
    last: date,
    *,
    time_zone: str = "UTC",
    inbox_id: int | None = None,
    team_id: int | None = None,
    channel: str | None = None,
) -> ReportFilter:
    if last < first:
        raise ValidationFailed("the last day comes before the first", {"field": "to"})
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"a report covers at most {MAX_DAYS} days", {"field": "from"})
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationFailed(
            f"unknown time zone {time_zone[:60]!r}; use a name such as Europe/Warsaw",
            {"field": "time_zone"},
        ) from error
    if channel is not None and channel not in CHANNELS:
        raise ValidationFailed(f"channel is one of {', '.join(CHANNELS)}", {"field": "channel"})
    return ReportFilter(first, last, time_zone, inbox_id, team_id, channel)


def overview(db: Session, viewer: Viewer, report: ReportFilter) -> Overview:
    """The report (supervisors and admins only)."""
    if not viewer.is_supervisor_or_admin:
        raise PermissionDenied("reports are for supervisors and admins")
    period = Period(report.first, report.last, ZoneInfo(report.time_zone))
    days = {day: DayCounts(day) for day in period.days()}
    by_channel = dict.fromkeys(CHANNELS, 0)
    first_responses: list[float] = []
    unanswered = sla_met = sla_missed = 0
    csat_scores: list[int] = []
    nps_scores: list[int] = []
    agents: dict[int | None, AgentCounts] = {}

    table = table_of(Conversation)
    created = table.c.created_at
    for row in db.execute(
        select(
            created,
            table.c.channel,
            table.c.first_response_at,
            table.c.sla_state,
            table.c.csat_score,
            table.c.nps_score,
            table.c.assignee_id,
            table.c.solved_at,
        ).where(created >= period.start, created < period.end, *_scope(report))
    ):
        day = days[period.day_of(row.created_at)]
        agent = agents.setdefault(row.assignee_id, AgentCounts(row.assignee_id))
        agent.conversations += 1
        agent.solved += row.solved_at is not None
        day.created += 1
        day.by_channel[row.channel] = day.by_channel.get(row.channel, 0) + 1
        by_channel[row.channel] = by_channel.get(row.channel, 0) + 1
        if row.first_response_at is None:
            unanswered += 1
        else:
            waited = (row.first_response_at - row.created_at).total_seconds()
            first_responses.append(waited)
            day.first_response_seconds.append(waited)
            agent.first_response_seconds.append(waited)
        sla_met += row.sla_state == "met"
        sla_missed += row.sla_state == "missed"
        if row.csat_score is not None:
            csat_scores.append(row.csat_score)
            agent.csat_scores.append(row.csat_score)
        if row.nps_score is not None:
            nps_scores.append(row.nps_score)

    resolutions: list[float] = []
    solved = table.c.solved_at
    for opened, closed in db.execute(
        select(created, solved).where(solved >= period.start, solved < period.end, *_scope(report))
    ):
        days[period.day_of(closed)].solved += 1
        resolutions.append((closed - opened).total_seconds())
    named = [user_id for user_id in agents if user_id is not None]
    if named:
        for user_id, name in db.execute(select(User.id, User.name).where(User.id.in_(named))):
            agents[user_id].name = name
    db.commit()

    ordered_days = [days[day] for day in sorted(days)]
    return Overview(
        filter=report,
        days=ordered_days,
        created=sum(day.created for day in ordered_days),
        by_channel=by_channel,
        solved=len(resolutions),
        first_response=summarise_durations(first_responses),
        unanswered=unanswered,
        resolution=summarise_durations(resolutions),
        sla_met=sla_met,
        sla_missed=sla_missed,
        csat=summarise_csat(csat_scores),
        nps=summarise_nps(nps_scores),
        agents=sorted(agents.values(), key=lambda a: (a.user_id is None, -a.conversations, a.name)),
    )


def _scope(report: ReportFilter) -> list[Any]:
    table = table_of(Conversation)
    conditions: list[Any] = []
    if report.inbox_id is not None:
        conditions.append(table.c.inbox_id == report.inbox_id)
    if report.team_id is not None:
        conditions.append(table.c.team_id == report.team_id)
    if report.channel is not None:
        conditions.append(table.c.channel == report.channel)
    return conditions


def daily_rows(report: Overview) -> list[dict[str, Any]]:
    """The per-day table as plain values (the API's and the CSV download's rows)."""
    return [
        {
            "day": day.day.isoformat(),
            "created": day.created,
            **{channel: day.by_channel.get(channel, 0) for channel in CHANNELS},
            "solved": day.solved,
            "first_response_median_seconds": day.first_response_median_seconds,
        }
        for day in report.days
    ]


def as_dict(report: Overview) -> dict[str, Any]:
    """The report as JSON-ready values."""
    return {
        "from": report.filter.first.isoformat(),
        "to": report.filter.last.isoformat(),
        "time_zone": report.filter.time_zone,
        "filters": {
            "inbox_id": report.filter.inbox_id,
            "team_id": report.filter.team_id,
            "channel": report.filter.channel,
        },
        "created": report.created,
        "solved": report.solved,
        "channels": {
            channel: {"count": count, "share": report.channel_share(channel)}
            for channel, count in report.by_channel.items()
        },
        "first_response": _durations(report.first_response) | {"unanswered": report.unanswered},
        "resolution": _durations(report.resolution),
        "sla": {
            "met": report.sla_met,
            "missed": report.sla_missed,
            "attainment": report.sla_attainment,
        },
        "csat": {
            "responses": report.csat.responses,
            "average": report.csat.average,
            "satisfied_share": report.csat.satisfied_share,
            "distribution": {str(score): n for score, n in report.csat.distribution.items()},
        },
        "nps": {
            "responses": report.nps.responses,
            "promoters": report.nps.promoters,
            "passives": report.nps.passives,
            "detractors": report.nps.detractors,
            "score": report.nps.score,
        },
        "agents": [
            {
                "user_id": agent.user_id,
                "name": agent.name,
                "conversations": agent.conversations,
                "solved": agent.solved,
                "first_response_median_seconds": agent.first_response_median_seconds,
                "csat_responses": agent.csat.responses,
                "csat_average": agent.csat.average,
            }
            for agent in report.agents
        ],
        "days": daily_rows(report),
    }


def _durations(summary: DurationSummary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "median_seconds": summary.median_seconds,
        "p90_seconds": summary.p90_seconds,
        "mean_seconds": summary.mean_seconds,
    }
