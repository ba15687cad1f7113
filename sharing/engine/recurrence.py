"""Recurring bookings: a subset of RFC 5545 RRULE, expanded in the site's local time.

A Tuesday 10:00 meeting stays at 10:00 on the wall clock when the clocks change, so
occurrences are computed as wall-clock times and only then converted to UTC.
"""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule

from sharing.core.validation import InvalidInput, Problem, check_date_range
from sharing.engine.times import localize

MAX_OCCURRENCES = 500
MAX_SPAN = timedelta(days=731)
FREQUENCIES = {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY, "MONTHLY": rrule.MONTHLY}
WEEKDAYS = {"MO": rrule.MO, "TU": rrule.TU, "WE": rrule.WE, "TH": rrule.TH, "FR": rrule.FR,
            "SA": rrule.SA, "SU": rrule.SU}
BYDAY = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
UNTIL = re.compile(r"^(\d{8})(T(\d{6})(Z?))?$")


def invalid(code: str, **params) -> InvalidInput:
    return InvalidInput(recurrence=Problem(code, params))


def parse_parts(text: str) -> dict[str, str]:
    if not isinstance(text, str) or not text.strip():
        raise invalid("rule_missing")
    parts = {}
    for item in text.strip().removeprefix("RRULE:").split(";"):
        name, sep, value = item.partition("=")
        if not sep or name.upper() in parts:
            raise invalid("rule_syntax")
        parts[name.upper()] = value.upper()
    allowed = {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL"}
    if set(parts) - allowed:
        raise invalid("rule_parts")
    return parts


def parse_int(value: str, low: int, high: int, name: str) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise invalid("rule_number", name=name, low=low, high=high)
    return int(value)


def parse_until(value: str, tz: ZoneInfo) -> datetime:
    """UNTIL as a local wall-clock time: a date means until the end of that day."""
    match = UNTIL.match(value)
    try:
        if not match:
            raise ValueError(value)
        if match.group(2):
            moment = datetime.strptime(match.group(1) + match.group(3), "%Y%m%d%H%M%S")
        else:
            moment = datetime.strptime(match.group(1), "%Y%m%d") + timedelta(days=1, seconds=-1)
    except ValueError as error:
        raise invalid("rule_until") from error
    instant = moment.replace(tzinfo=UTC) if match.group(4) else localize(moment, tz)
    check_date_range(recurrence=instant)
    return instant.astimezone(tz).replace(tzinfo=None)


def parse_byday(value: str, frequency: str) -> list:
    days = []
    for item in value.split(","):
        match = BYDAY.match(item)
        if not match or (match.group(1) and frequency != "MONTHLY"):
            raise invalid("rule_byday")
        weekday = WEEKDAYS[match.group(2)]
        days.append(weekday(int(match.group(1))) if match.group(1) else weekday)
    return days


def build_rule(text: str, first_wall: datetime, tz: ZoneInfo) -> rrule.rrule:
    parts = parse_parts(text)
    frequency = parts.get("FREQ")
    if frequency not in FREQUENCIES:
        raise invalid("rule_frequency")
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise invalid("rule_count_or_until")
    options = {"dtstart": first_wall,
               "interval": parse_int(parts.get("INTERVAL", "1"), 1, 365, "INTERVAL")}
    if "COUNT" in parts:
        options["count"] = parse_int(parts["COUNT"], 1, MAX_OCCURRENCES, "COUNT")
    else:
        options["until"] = parse_until(parts["UNTIL"], tz)
    if "BYDAY" in parts:
        options["byweekday"] = parse_byday(parts["BYDAY"], frequency)
    return rrule.rrule(FREQUENCIES[frequency], **options)


def expand(text: str, start: datetime, end: datetime, tz: ZoneInfo
           ) -> list[tuple[datetime, datetime]]:
    """Each occurrence's (start, end) in the site's zone, same wall-clock times as the first.

    Refuses rules reaching past two years or 500 occurrences rather than cutting them.
    """
    first_wall = start.astimezone(tz).replace(tzinfo=None)
    length = end.astimezone(tz).replace(tzinfo=None) - first_wall
    occurrences = []
    for wall in build_rule(text, first_wall, tz):
        if wall - first_wall > MAX_SPAN or len(occurrences) == MAX_OCCURRENCES:
            raise invalid("rule_too_long", n=MAX_OCCURRENCES)
        occurrences.append((localize(wall, tz), localize(wall + length, tz)))
    if not occurrences:
        raise invalid("rule_empty")
    return occurrences
