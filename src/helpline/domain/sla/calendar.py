"""Business-hours calendars: when the SLA clock runs.

A calendar has an IANA time zone, opening hours per weekday (several intervals a
day allowed) and holidays. Business time is real elapsed time inside opening
hours, so a day when clocks change is an hour shorter or longer, as it is for the
people working it. No calendar (None) means around the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "WEEKDAYS",
    "BusinessCalendar",
    "add_business_time",
    "business_time_between",
    "calendar_from_data",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names as stored; index = `date.weekday()`."""

_MAX_DAYS_SEARCHED = 366 * 5
"""A target not reachable within five years of opening hours is a broken calendar."""

Interval = tuple[time, time]
"""Opening hours within one day; an end of 00:00 means midnight at the day's end."""


def _format_time(value: time, *, closing: bool) -> str:
    return "24:00" if closing and value == time(0) else value.strftime("%H:%M")


def _check_intervals(weekday: int, intervals: tuple[Interval, ...]) -> None:
    previous_end: time | None = None
    for start, end in intervals:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("opening hours are local times without a time zone")
        if end != time(0) and end <= start:
            raise ValueError(f"{WEEKDAYS[weekday]}: an interval must end after it starts")
        if previous_end is not None and (previous_end == time(0) or start < previous_end):
            raise ValueError(f"{WEEKDAYS[weekday]}: intervals must be in order and not overlap")
        previous_end = end


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    time_zone: str = "UTC"
    weekly_hours: Mapping[int, tuple[Interval, ...]] = field(default_factory=dict)
    """Weekday (0 = Monday) to its opening intervals, in order; missing: closed."""
    holidays: frozenset[date] = frozenset()
    """Whole local days closed."""

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from error
        for weekday, intervals in self.weekly_hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) to 6, not {weekday}")
            _check_intervals(weekday, tuple(intervals))
        if not any(self.weekly_hours.values()):
            raise ValueError("a business calendar needs opening hours on at least one day")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @classmethod
    def weekdays(
        cls,
        opens: time,
        closes: time,
        time_zone: str = "UTC",
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """The common case: the same hours Monday to Friday."""
        return cls(
            time_zone=time_zone,
            weekly_hours=dict.fromkeys(range(5), ((opens, closes),)),
            holidays=frozenset(holidays),
        )

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening hours as UTC instants (empty on holidays and closed days)."""
        if day in self.holidays:
            return []
        zone = self.zone
        result = []
        for start, end in self.weekly_hours.get(day.weekday(), ()):
            opens = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
            end_day = day + timedelta(days=1) if end == time(0) else day
            closes = datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)
            if closes > opens:
                result.append((opens, closes))
        return result

    def intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening intervals (UTC) that end after `moment`, in order, without end."""
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS_SEARCHED):
            for opens, closes in self.open_intervals(day):
                if closes > moment:
                    yield opens, closes
            day += timedelta(days=1)
        raise ValueError("the calendar has no opening hours in the next five years")

    def to_data(self) -> dict[str, Any]:
        """The stored form (see `calendar_from_data`)."""
        return {
            "time_zone": self.time_zone,
            "weekly_hours": {
                WEEKDAYS[day]: [
                    [_format_time(start, closing=False), _format_time(end, closing=True)]
                    for start, end in intervals
                ]
                for day, intervals in sorted(self.weekly_hours.items())
                if intervals
            },
            "holidays": sorted(day.isoformat() for day in self.holidays),
        }


def _parse_time(value: object) -> time:
    if not isinstance(value, str):
        raise ValueError(f"a time must be written HH:MM, not {value!r}")
    if value == "24:00":
        return time(0)
    try:
        return time.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"a time must be written HH:MM, not {value!r}") from error


def calendar_from_data(data: Mapping[str, Any] | None) -> BusinessCalendar | None:
    """Read a stored calendar; empty or None means around the clock.

    Shape: `{"time_zone": "Europe/Warsaw", "weekly_hours": {"mon": [["09:00",
    "17:00"]], ...}, "holidays": ["2025-12-25"]}`. "24:00" closes at midnight.
    Raises ValueError with a message fit for an admin form.
    """
    if not data:
        return None
    unknown = set(data) - {"time_zone", "weekly_hours", "holidays"}
    if unknown:
        raise ValueError(f"unknown calendar fields: {', '.join(sorted(unknown))}")
    hours_data = data.get("weekly_hours") or {}
    if not isinstance(hours_data, Mapping):
        raise ValueError("weekly_hours must map weekday names to intervals")
    weekly_hours: dict[int, tuple[Interval, ...]] = {}
    for name, intervals in hours_data.items():
        if name not in WEEKDAYS:
            raise ValueError(f"unknown weekday {name!r}; use {', '.join(WEEKDAYS)}")
        parsed = []
        for interval in intervals:
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                raise ValueError(f"{name}: each interval is [opens, closes]")
            parsed.append((_parse_time(interval[0]), _parse_time(interval[1])))
        weekly_hours[WEEKDAYS.index(name)] = tuple(parsed)
    holidays = set()
    for value in data.get("holidays") or ():
        try:
            holidays.add(date.fromisoformat(str(value)))
        except ValueError as error:
            raise ValueError(f"a holiday must be a date YYYY-MM-DD, not {value!r}") from error
    return BusinessCalendar(
        time_zone=str(data.get("time_zone") or "UTC"),
        weekly_hours=weekly_hours,
        holidays=frozenset(holidays),
    )


def _require_aware(moment: datetime) -> None:
    if moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")


def add_business_time(
    calendar: BusinessCalendar | None, start: datetime, minutes: float
) -> datetime:
    """The moment `minutes` of business time after `start` (UTC).

    Zero minutes is `start` itself, even outside opening hours.
    """
    _require_aware(start)
    start = start.astimezone(UTC)
    if minutes <= 0:
        return start
    remaining = timedelta(minutes=minutes)
    if calendar is None:
        return start + remaining
    for opens, closes in calendar.intervals_from(start):
        begin = max(opens, start)
        available = closes - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable: intervals_from never ends quietly")


def business_time_between(calendar: BusinessCalendar | None, a: datetime, b: datetime) -> timedelta:
    """Business time from `a` to `b` (zero when `b` is not after `a`)."""
    _require_aware(a)
    _require_aware(b)
    if b <= a:
        return timedelta(0)
    if calendar is None:
        return b - a
    total = timedelta(0)
    for opens, closes in calendar.intervals_from(a):
        if opens >= b:
            break
        total += min(closes, b) - max(opens, a)
    return total
