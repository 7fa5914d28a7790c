"""Business-hours arithmetic across weekends, holidays, time zones and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpline.domain.sla.calendar import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    calendar_from_data,
)

WARSAW = ZoneInfo("Europe/Warsaw")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = BusinessCalendar.weekdays(time(9), time(17), time_zone="Europe/Warsaw")


def warsaw(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WARSAW)


def test_no_calendar_means_around_the_clock() -> None:
    start = datetime(2026, 3, 7, 23, 30, tzinfo=UTC)  # a Saturday night
    assert add_business_time(None, start, 90) == datetime(2026, 3, 8, 1, 0, tzinfo=UTC)
    assert business_time_between(None, start, start + timedelta(hours=5)) == timedelta(hours=5)


def test_time_within_one_working_day() -> None:
    assert add_business_time(OFFICE, warsaw(2026, 3, 4, 10, 0), 120) == warsaw(2026, 3, 4, 12, 0)


def test_time_left_on_friday_continues_on_monday_morning() -> None:
    friday_afternoon = warsaw(2026, 3, 6, 16, 30)
    due = add_business_time(OFFICE, friday_afternoon, 60)
    assert due == warsaw(2026, 3, 9, 9, 30)
    assert due.tzinfo == UTC  # deadlines are stored in UTC
    assert business_time_between(OFFICE, friday_afternoon, due) == timedelta(hours=1)


def test_a_conversation_arriving_at_night_starts_counting_at_opening() -> None:
    assert add_business_time(OFFICE, warsaw(2026, 3, 4, 22, 0), 15) == warsaw(2026, 3, 5, 9, 15)
    assert add_business_time(OFFICE, warsaw(2026, 3, 7, 12, 0), 15) == warsaw(2026, 3, 9, 9, 15)


def test_holidays_are_skipped() -> None:
    christmas = BusinessCalendar.weekdays(
        time(9),
        time(17),
        time_zone="Europe/Warsaw",
        holidays=[date(2026, 12, 24), date(2026, 12, 25)],
    )
    wednesday_evening = warsaw(2026, 12, 23, 16, 0)
    assert add_business_time(christmas, wednesday_evening, 120) == warsaw(2026, 12, 28, 10, 0)
    assert business_time_between(
        christmas, wednesday_evening, warsaw(2026, 12, 28, 10, 0)
    ) == timedelta(hours=2)


def test_several_intervals_a_day_skip_the_lunch_break() -> None:
    split_day = BusinessCalendar(
        time_zone="Europe/Warsaw",
        weekly_hours={0: ((time(8), time(12)), (time(13), time(17)))},
    )
    monday_11 = warsaw(2026, 3, 2, 11, 0)
    assert add_business_time(split_day, monday_11, 90) == warsaw(2026, 3, 2, 13, 30)
    assert business_time_between(split_day, monday_11, warsaw(2026, 3, 2, 14, 0)) == timedelta(
        hours=2
    )
    # Only Mondays are open: the next Monday comes after a closed week.
    assert add_business_time(split_day, warsaw(2026, 3, 2, 16, 0), 120) == warsaw(2026, 3, 9, 9, 0)


def test_opening_hours_are_in_the_calendar_s_time_zone_not_the_caller_s() -> None:
    new_york_office = BusinessCalendar.weekdays(time(9), time(17), time_zone="America/New_York")
    # 14:00 UTC on a March Wednesday (after the US clocks changed) is 10:00 in New York.
    start = datetime(2026, 3, 11, 14, 0, tzinfo=UTC)
    due = add_business_time(new_york_office, start, 7 * 60 + 30)
    assert due.astimezone(NEW_YORK) == datetime(2026, 3, 12, 9, 30, tzinfo=NEW_YORK)
    # The same instant given in another zone changes nothing.
    assert add_business_time(new_york_office, start.astimezone(WARSAW), 450) == due


def test_the_day_clocks_go_forward_in_warsaw_is_23_hours_long() -> None:
    always = BusinessCalendar(
        time_zone="Europe/Warsaw", weekly_hours={day: ((time(0), time(0)),) for day in range(7)}
    )
    sunday = warsaw(2026, 3, 29, 0, 0)  # last Sunday of March
    monday = warsaw(2026, 3, 30, 0, 0)
    assert business_time_between(always, sunday, monday) == timedelta(hours=23)
    assert add_business_time(always, sunday, 23 * 60) == monday


def test_the_day_clocks_go_back_in_warsaw_is_25_hours_long() -> None:
    always = BusinessCalendar(
        time_zone="Europe/Warsaw", weekly_hours={day: ((time(0), time(0)),) for day in range(7)}
    )
    sunday = warsaw(2026, 10, 25, 0, 0)  # last Sunday of October
    assert business_time_between(always, sunday, warsaw(2026, 10, 26, 0, 0)) == timedelta(hours=25)


def test_office_hours_over_the_spring_change_open_at_nine_local_both_sides() -> None:
    friday = warsaw(2026, 3, 27, 16, 0)  # UTC+1
    due = add_business_time(OFFICE, friday, 120)
    assert due == warsaw(2026, 3, 30, 10, 0)  # UTC+2
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert business_time_between(OFFICE, friday, due) == timedelta(hours=2)


def test_night_shift_hours_across_the_spring_change_are_an_hour_shorter() -> None:
    night = BusinessCalendar(time_zone="Europe/Warsaw", weekly_hours={6: ((time(1), time(4)),)})
    sunday = date(2026, 3, 29)
    [(opens, closes)] = night.open_intervals(sunday)
    assert closes - opens == timedelta(hours=2)


def test_zero_minutes_is_the_start_itself() -> None:
    saturday = warsaw(2026, 3, 7, 12, 0)
    assert add_business_time(OFFICE, saturday, 0) == saturday


def test_between_is_zero_when_the_end_is_not_after_the_start() -> None:
    start = warsaw(2026, 3, 4, 10, 0)
    assert business_time_between(OFFICE, start, start - timedelta(hours=1)) == timedelta(0)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(OFFICE, datetime(2026, 3, 4, 10, 0), 5)


@settings(max_examples=200, deadline=None, database=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    minutes=st.integers(0, 5 * 24 * 60),
)
def test_adding_then_measuring_gives_back_the_same_business_time(
    start: datetime, minutes: int
) -> None:
    due = add_business_time(OFFICE, start, minutes)
    assert due >= start
    assert business_time_between(OFFICE, start, due) == timedelta(minutes=minutes)


# -- stored form ---------------------------------------------------------------------------


def test_calendar_round_trips_through_its_stored_form() -> None:
    data = {
        "time_zone": "Europe/Warsaw",
        "weekly_hours": {
            "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
            "sat": [["10:00", "24:00"]],
        },
        "holidays": ["2026-12-25"],
    }
    calendar = calendar_from_data(data)
    assert calendar is not None
    assert calendar.weekly_hours[5] == ((time(10), time(0)),)
    assert calendar.to_data() == data
    assert calendar_from_data({}) is None
    assert calendar_from_data(None) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"time_zone": "Mars/Olympus", "weekly_hours": {"mon": [["09:00", "17:00"]]}}, "time zone"),
        ({"weekly_hours": {"funday": [["09:00", "17:00"]]}}, "unknown weekday"),
        ({"weekly_hours": {"mon": [["17:00", "09:00"]]}}, "end after it starts"),
        ({"weekly_hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "not overlap"),
        ({"weekly_hours": {"mon": [["9 am", "17:00"]]}}, "HH:MM"),
        ({"weekly_hours": {}}, "opening hours"),
        ({"weekly_hours": {"mon": [["09:00", "17:00"]]}, "holidays": ["soon"]}, "YYYY-MM-DD"),
        ({"weekly_hours": {"mon": [["09:00", "17:00"]]}, "colour": "blue"}, "unknown calendar"),
    ],
)
def test_broken_calendars_are_refused_with_a_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        calendar_from_data(data)
