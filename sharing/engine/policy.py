"""A resource's booking policy: opening hours and the numeric rules, validated.

Opening hours are weekly ranges per weekday in the site's local time, stored as
`{"mon": [["08:00", "12:00"], ["13:30", "18:00"]], …, "sun": []}`. No range on any
day means the resource can be booked at any time.
"""

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sharing.core.validation import InvalidInput, Problem, is_whole_number

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NO_HOURS = ((),) * len(WEEKDAYS)
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
MINUTES_PER_DAY = 24 * 60
# Bookings longer than this are refused whatever the policy: it bounds the overlap
# queries (a booking found overlapping must start at most this long before the window).
LONGEST_BOOKING_MINUTES = 31 * MINUTES_PER_DAY
LONGEST_BUFFER_MINUTES = MINUTES_PER_DAY
LONGEST_OCCUPANCY = timedelta(minutes=LONGEST_BOOKING_MINUTES + LONGEST_BUFFER_MINUTES)

NUMERIC_RULES = {
    # field: (smallest allowed, largest allowed, may be empty)
    "min_duration_minutes": (0, LONGEST_BOOKING_MINUTES, False),
    "max_duration_minutes": (1, LONGEST_BOOKING_MINUTES, True),
    "slot_minutes": (1, MINUTES_PER_DAY, False),
    "buffer_minutes": (0, LONGEST_BUFFER_MINUTES, False),
    "min_notice_minutes": (0, 366 * MINUTES_PER_DAY, False),
    "max_advance_days": (1, 3 * 366, True),
}


def clock_to_minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def minutes_to_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def validate_ranges(day: str, ranges: Any) -> list[list[str]]:
    """One weekday's ranges: well-formed clock times, each start before its end, no overlap."""
    error = InvalidInput(opening_hours=Problem("opening_ranges", {"day": day}))
    if not isinstance(ranges, list):
        raise error
    spans = []
    for pair in ranges:
        if not (isinstance(pair, list | tuple) and len(pair) == 2
                and all(isinstance(t, str) and CLOCK.match(t) for t in pair)):
            raise error
        spans.append((clock_to_minutes(pair[0]), clock_to_minutes(pair[1])))
    spans.sort()
    if any(start >= end for start, end in spans) or any(
            spans[i][1] > spans[i + 1][0] for i in range(len(spans) - 1)):
        raise error
    return [[minutes_to_clock(start), minutes_to_clock(end)] for start, end in spans]


def validate_opening_hours(value: Any) -> dict[str, list[list[str]]]:
    """Normalise opening hours: every weekday present, ranges sorted; refuse anything else."""
    if value is None:
        value = {}
    if not isinstance(value, dict) or set(value) - set(WEEKDAYS):
        raise InvalidInput(opening_hours=Problem("opening_weekdays",
                                                 {"days": ", ".join(WEEKDAYS)}))
    return {day: validate_ranges(day, value.get(day, [])) for day in WEEKDAYS}


def parse_ranges_line(day: str, text: str) -> list[list[str]]:
    """Read "08:00-12:00, 13:30-18:00" as typed in a form; an empty line means closed."""
    pairs = [part.strip() for part in text.split(",") if part.strip()]
    return validate_ranges(day, [[t.strip() for t in pair.split("-", 1)] for pair in pairs])


def format_ranges_line(ranges: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in ranges)


def has_opening_hours(opening_hours: dict[str, list[list[str]]] | None) -> bool:
    return bool(opening_hours) and any(opening_hours.get(day) for day in WEEKDAYS)


Spans = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class WeeklyHours:
    """Opening hours parsed once: per weekday (0 = Monday) the open spans in minutes since
    local midnight, sorted, touching ones merged. No span on any day: always open."""

    days: tuple[Spans, ...]

    @property
    def always_open(self) -> bool:
        return not any(self.days)

    def covers(self, weekday: int, start_minute: int, end_minute: int) -> bool:
        """Whether one open span holds [start_minute, end_minute) of that local day."""
        return any(a <= start_minute and end_minute <= b for a, b in self.days[weekday])


def weekly_hours(opening_hours: dict[str, list[list[str]]] | str | None) -> WeeklyHours:
    """The parsed hours of the stored value, or of its JSON text."""
    if isinstance(opening_hours, str):
        return hours_of_text(opening_hours)
    if not opening_hours:  # most resources, open at any time: no key to build
        return parsed_hours(NO_HOURS)
    return parsed_hours(tuple(tuple(tuple(pair) for pair in opening_hours.get(day, ()))
                              for day in WEEKDAYS))


@lru_cache(maxsize=4096)
def hours_of_text(text: str) -> WeeklyHours:
    """A page of a thousand resources may read their hours as the column's JSON text: its
    few distinct timetables are then parsed once, and no dicts and lists are built per
    resource for the garbage collector to go through."""
    return weekly_hours(json.loads(text))


@lru_cache(maxsize=4096)
def parsed_hours(days: tuple[tuple[tuple[str, str], ...], ...]) -> WeeklyHours:
    """Cached by value: resources sharing a timetable share its parsed form."""
    return WeeklyHours(tuple(merged_spans((clock_to_minutes(a), clock_to_minutes(b))
                                          for a, b in ranges) for ranges in days))


def merged_spans(spans) -> Spans:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def resource_hours(resource) -> WeeklyHours:
    """The resource's weekly hours, kept on the object for as long as its `opening_hours`
    value is the same (a new value is a new object: the JSON column is not edited in
    place), so that a search over a thousand resources parses nothing."""
    cached = resource.__dict__.get("_weekly_hours")
    if cached is None or cached[0] is not resource.opening_hours:
        cached = (resource.opening_hours, weekly_hours(resource.opening_hours))
        resource.__dict__["_weekly_hours"] = cached
    return cached[1]


def validate_policy(fields: dict[str, Any]) -> dict[str, Any]:
    """Check the numeric rules among `fields` (others pass through untouched)."""
    errors: dict[str, list[str]] = {}
    cleaned = dict(fields)
    for name, (low, high, optional) in NUMERIC_RULES.items():
        if name not in fields:
            continue
        value = fields[name]
        if value is None and optional:
            continue
        if not is_whole_number(value, low, high):
            errors.setdefault(name, []).append(
                Problem("whole_number_between", {"low": low, "high": high}))
    low = cleaned.get("min_duration_minutes")
    high = cleaned.get("max_duration_minutes")
    if not errors and low is not None and high is not None and high < low:
        errors.setdefault("max_duration_minutes", []).append(
            Problem("longest_below_shortest"))
    if "opening_hours" in fields:
        try:
            cleaned["opening_hours"] = validate_opening_hours(fields["opening_hours"])
        except InvalidInput as error:
            errors.update(error.fields)
    if errors:
        raise InvalidInput(errors)
    return cleaned
