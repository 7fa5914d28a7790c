"""Report arithmetic: percentiles, satisfaction, promoters, local days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from helpline.domain.reports import (
    DayCounts,
    Period,
    percentile,
    share,
    summarise_csat,
    summarise_durations,
    summarise_nps,
)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 11)]  # 1..10
    assert percentile(values, 0.5) == 5
    assert percentile(values, 0.9) == 9
    assert percentile(values, 1.0) == 10
    assert percentile([7.0], 0.9) == 7
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_durations_summarise_and_clip_clock_skew() -> None:
    summary = summarise_durations([30, 90, 60, -5])
    assert summary.count == 4
    assert summary.median_seconds == 30  # 0, 30, 60, 90: the second
    assert summary.p90_seconds == 90
    assert summary.mean_seconds == 45
    assert summarise_durations([]).median_seconds is None


def test_csat_counts_fours_and_fives_as_satisfied() -> None:
    csat = summarise_csat([5, 4, 3, 1, 5])
    assert csat.responses == 5
    assert csat.average == pytest.approx(3.6)
    assert csat.satisfied_share == pytest.approx(0.6)
    assert csat.distribution == {1: 1, 2: 0, 3: 1, 4: 1, 5: 2}
    empty = summarise_csat([])
    assert (empty.responses, empty.average, empty.satisfied_share) == (0, None, None)


def test_nps_is_promoters_minus_detractors_in_points() -> None:
    nps = summarise_nps([10, 9, 8, 7, 6, 0, 10, 3])
    assert (nps.promoters, nps.passives, nps.detractors) == (3, 2, 3)
    assert nps.score == 0
    assert summarise_nps([10, 10, 6]).score == pytest.approx(100 / 3)
    assert summarise_nps([]).score is None


def test_share_of_nothing_is_unknown_not_zero() -> None:
    assert share(1, 4) == 0.25
    assert share(0, 0) is None


def test_days_are_local_and_clock_changes_keep_whole_days() -> None:
    # Europe/Warsaw moves to summer time on 2026-03-29: that day has 23 hours.
    period = Period(date(2026, 3, 28), date(2026, 3, 29), ZoneInfo("Europe/Warsaw"))
    assert period.start == datetime(2026, 3, 27, 23, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert period.days() == [date(2026, 3, 28), date(2026, 3, 29)]
    # 23:30 UTC on the 28th is already the 29th in Warsaw.
    assert period.day_of(datetime(2026, 3, 28, 23, 30, tzinfo=UTC)) == date(2026, 3, 29)


def test_a_day_reports_its_median_first_response() -> None:
    day = DayCounts(date(2026, 3, 2), first_response_seconds=[120, 30, 60])
    assert day.first_response_median_seconds == 60
    assert DayCounts(date(2026, 3, 2)).first_response_median_seconds is None
