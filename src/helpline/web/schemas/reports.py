"""The team report's JSON (GET /api/v1/reports/overview)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportFilters(BaseModel):
    inbox_id: int | None
    team_id: int | None
    channel: str | None


class ChannelCount(BaseModel):
    count: int
    share: float | None
    """Of the conversations created in the period (0 to 1)."""


class Durations(BaseModel):
    count: int
    median_seconds: float | None
    p90_seconds: float | None
    mean_seconds: float | None


class FirstResponse(Durations):
    unanswered: int
    """Created in the period and not answered yet (not in the times)."""


class SlaNumbers(BaseModel):
    met: int
    missed: int
    attainment: float | None


class CsatNumbers(BaseModel):
    responses: int
    average: float | None
    satisfied_share: float | None
    """Answers of 4 or 5 (0 to 1)."""
    distribution: dict[str, int]


class NpsNumbers(BaseModel):
    responses: int
    promoters: int
    passives: int
    detractors: int
    score: float | None
    """-100 to 100."""


class ReportDay(BaseModel):
    day: str
    created: int
    chat: int
    email: int
    phone: int
    api: int
    solved: int
    first_response_median_seconds: float | None


class ReportAgent(BaseModel):
    user_id: int | None
    """None: conversations nobody holds now."""
    name: str
    conversations: int
    solved: int
    first_response_median_seconds: float | None
    csat_responses: int
    csat_average: float | None


class ReportOverviewPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    time_zone: str
    filters: ReportFilters
    created: int
    solved: int
    channels: dict[str, ChannelCount]
    first_response: FirstResponse
    resolution: Durations
    sla: SlaNumbers
    csat: CsatNumbers
    nps: NpsNumbers
    agents: list[ReportAgent]
    """By the conversations' current assignee (opened in the period)."""
    days: list[ReportDay]
