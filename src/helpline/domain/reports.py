"""Support metrics from plain numbers: durations, scores and counts in, summaries out.

The service (`services/reports.py`) reads the rows; everything a team lead reads
off the report (medians, the 90th percentile, satisfaction shares, the net
promoter score, local days) is worked out here, free of the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SATISFIED_FROM = 4
"""CSAT answers of 4 and 5 (of 5) count as satisfied."""
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6
"""NPS: 9-10 promote, 0-6 detract, 7-8 are passive."""


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of values sorted ascending (not empty): the smallest
    value with at least `fraction` of the values at or below it."""
    if not ordered:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Iterable[float]) -> float | None:
    """The nearest-rank median; None for no values."""
    ordered = sorted(values)
    return percentile(ordered, 0.5) if ordered else None


def share(part: int, whole: int) -> float | None:
    """`part` of `whole` as a fraction; None when there is nothing to divide."""
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """How long something took across conversations, in seconds."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None
    mean_seconds: float | None


def summarise_durations(seconds: Iterable[float]) -> DurationSummary:
    ordered = sorted(max(0.0, value) for value in seconds)
    if not ordered:
        return DurationSummary(0, None, None, None)
    return DurationSummary(
        count=len(ordered),
        median_seconds=percentile(ordered, 0.5),
        p90_seconds=percentile(ordered, 0.9),
        mean_seconds=sum(ordered) / len(ordered),
    )


@dataclass(frozen=True, slots=True)
class CsatSummary:
    """Answers to "How would you rate this conversation?" (1-5)."""

    responses: int
    average: float | None
    satisfied_share: float | None
    """Share of answers of 4 or 5: the usual CSAT percentage."""
    distribution: dict[int, int]


def summarise_csat(scores: Iterable[int]) -> CsatSummary:
    distribution = dict.fromkeys(range(1, 6), 0)
    for score in scores:
        if score in distribution:
            distribution[score] += 1
    responses = sum(distribution.values())
    total = sum(score * count for score, count in distribution.items())
    satisfied = sum(count for score, count in distribution.items() if score >= SATISFIED_FROM)
    return CsatSummary(
        responses=responses,
        average=total / responses if responses else None,
        satisfied_share=share(satisfied, responses),
        distribution=distribution,
    )


@dataclass(frozen=True, slots=True)
class NpsSummary:
    """Answers to "How likely are you to recommend us?" (0-10)."""

    responses: int
    promoters: int
    passives: int
    detractors: int
    score: float | None
    """Promoters' share minus detractors' share, in points from -100 to 100."""


def summarise_nps(scores: Iterable[int]) -> NpsSummary:
    valid = [score for score in scores if 0 <= score <= 10]
    promoters = sum(1 for score in valid if score >= PROMOTER_FROM)
    detractors = sum(1 for score in valid if score <= DETRACTOR_UP_TO)
    responses = len(valid)
    return NpsSummary(
        responses=responses,
        promoters=promoters,
        passives=responses - promoters - detractors,
        detractors=detractors,
        score=(promoters - detractors) * 100 / responses if responses else None,
    )


# ---------------------------------------------------------------- local days


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local days, `first` to `last` inclusive, in a time zone."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        """The first day's local midnight, in UTC."""
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The midnight after the last day, in UTC (exclusive)."""
        return _midnight(self.last + timedelta(days=1), self.zone)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def day_of(self, moment: datetime) -> date:
        """The local day a moment (aware) falls on."""
        return moment.astimezone(self.zone).date()


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # A day that starts in a gap (a clock change at midnight) starts at the first
    # existing instant after it: fold=0 resolves to the moment before the change.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(slots=True)
class DayCounts:
    """One local day of the report."""

    day: date
    created: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    solved: int = 0
    first_response_seconds: list[float] = field(default_factory=list)

    @property
    def first_response_median_seconds(self) -> float | None:
        return median(self.first_response_seconds)


@dataclass(slots=True)
class AgentCounts:
    """The conversations of the period an agent holds now (None: nobody)."""

    user_id: int | None
    name: str = ""
    conversations: int = 0
    solved: int = 0
    first_response_seconds: list[float] = field(default_factory=list)
    csat_scores: list[int] = field(default_factory=list)

    @property
    def first_response_median_seconds(self) -> float | None:
        return median(self.first_response_seconds)

    @property
    def csat(self) -> CsatSummary:
        return summarise_csat(self.csat_scores)
