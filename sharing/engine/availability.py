"""Free and busy time: one resource over a window, or which resources are free for a slot."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sharing.core.database import utcnow
from sharing.core.validation import InvalidInput, Problem
from sharing.engine.calendar import (
    Occupancy,
    ResourceCalendar,
    load_calendar,
    load_calendars,
    merge_equal_neighbours,
    usage_segments,
)
from sharing.engine.rules import Slot, is_free
from sharing.engine.times import Interval, open_intervals, subtract, zone
from sharing.models import Resource

LONGEST_AVAILABILITY_WINDOW = timedelta(days=62)


@dataclass(frozen=True)
class Availability:
    busy: list[tuple[datetime, datetime, int]]
    free: list[Interval]


def validate_window(start: datetime, end: datetime,
                    longest: timedelta = LONGEST_AVAILABILITY_WINDOW) -> None:
    if end <= start:
        raise InvalidInput(end=Problem("invalid_interval"))
    if end - start > longest:
        raise InvalidInput(end=Problem("window_too_long", {"n": longest.days}))


def get_availability(resource: Resource, start: datetime, end: datetime) -> Availability:
    """Busy: units in use (buffers included; all of them while the owner's own calendar
    says busy). Free: at least one unit, open, not closed."""
    validate_window(start, end)
    calendar = load_calendar(resource.id, start, end)
    busy = units_in_use(calendar, resource.quantity, start, end)
    full = [(a, b) for a, b, units in busy if units >= resource.quantity]
    closed = [(c.starts_at, c.ends_at) for c in calendar.closures]
    spans = open_intervals(resource.opening_hours, zone(resource.timezone), start, end)
    clipped = [(max(a, start), min(b, end)) for a, b in spans]
    return Availability(busy, subtract(clipped, closed + full))


def units_in_use(calendar: ResourceCalendar, quantity: int, start: datetime, end: datetime
                 ) -> list[tuple[datetime, datetime, int]]:
    """Bookings' units, and every unit during the owner's external busy periods."""
    held = [Occupancy(0, 0, a, b, b, quantity, "") for a, b in calendar.external]
    segments = usage_segments(calendar.occupancies + held, start, end)
    return merge_equal_neighbours([(a, b, min(units, quantity)) for a, b, units in segments])


def find_free_resources(resources: list[Resource], start: datetime, end: datetime,
                        quantity: int = 1, now: datetime | None = None) -> list[Resource]:
    """The resources whose own rules (hours, closures, grid, notice, capacity…) allow
    booking [start, end) now, whoever books; in a bounded number of queries."""
    validate_window(start, end)
    now = now or utcnow()
    longest_buffer = max((r.buffer_minutes for r in resources), default=0)
    calendars = load_calendars([r.id for r in resources], start,
                               end + timedelta(minutes=longest_buffer))
    return [r for r in resources
            if is_free(Slot(r, start, end, quantity), calendars[r.id], now)]
