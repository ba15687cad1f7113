"""Local time on a site: converting wall-clock times, DST gaps, opening-hour intervals.

Everything stored is UTC; rules about hours (opening hours, the slot grid, recurrences)
are about the site's wall clock, so they are evaluated in its timezone.
"""

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sharing.engine.policy import weekly_hours

Interval = tuple[datetime, datetime]


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """Attach the site's zone to a wall-clock time (the earlier one when ambiguous)."""
    return wall.replace(tzinfo=tz, fold=0)


def is_nonexistent(moment: datetime, tz: ZoneInfo) -> bool:
    """A wall-clock time skipped when the clocks go forward (e.g. 02:30 on that night).

    Applies to times written as local time: in the site's zone, or with a non-zero
    offset that claims to be local. A time given in UTC always exists.
    """
    if moment.tzinfo is None or moment.utcoffset() == timedelta(0):
        return False
    wall = moment.replace(tzinfo=None)
    round_trip = localize(wall, tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return round_trip != wall


def to_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def wall_minutes(moment: datetime, tz: ZoneInfo) -> int:
    local = moment.astimezone(tz)
    return local.hour * 60 + local.minute


def is_on_grid(moment: datetime, tz: ZoneInfo, slot_minutes: int) -> bool:
    local = moment.astimezone(tz)
    return local.second == 0 and local.microsecond == 0 and (
        (local.hour * 60 + local.minute) % slot_minutes == 0)


def at_wall_minutes(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of `minutes` after local midnight of `day` (24:00 = next midnight)."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return to_utc(localize(wall, tz))


def local_days(start: datetime, end: datetime, tz: ZoneInfo) -> list[date]:
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def open_intervals(opening_hours: dict, tz: ZoneInfo, start: datetime, end: datetime
                   ) -> list[Interval]:
    """The resource's open periods touching [start, end), in UTC, adjacent ones merged.

    Without opening hours the resource is open all the time.
    """
    hours = weekly_hours(opening_hours)
    if hours.always_open:
        return [(start, end)]
    spans = [
        (at_wall_minutes(day, a, tz), at_wall_minutes(day, b, tz))
        for day in local_days(start - timedelta(days=1), end, tz)
        for a, b in hours.days[day.weekday()]
    ]
    return [(a, b) for a, b in merge(spans) if a < end and b > start]


def merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def is_covered(start: datetime, end: datetime, intervals: list[Interval]) -> bool:
    return Coverage(intervals).covers(start, end)


class Coverage:
    """Intervals merged once, then asked about many times (the alternatives' candidate
    times): each question is a bisection."""

    def __init__(self, intervals: list[Interval]):
        self.merged = merge(intervals)
        self.starts = [start for start, _end in self.merged]

    def covers(self, start: datetime, end: datetime) -> bool:
        at = bisect_right(self.starts, start) - 1
        return at >= 0 and end <= self.merged[at][1]


def subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    """What remains of `intervals` outside every hole."""
    result, holes = [], merge(holes)
    for start, end in intervals:
        cursor = start
        for hole_start, hole_end in holes:
            if hole_end <= cursor or hole_start >= end:
                continue
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
        if cursor < end:
            result.append((cursor, end))
    return result
