"""Free and busy time: one resource over a window, or which resources are free for a slot."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sharing.core.database import utcnow
from sharing.core.validation import InvalidInput, Problem
from sharing.engine.calendar import (
    Occupancy,
    ResourceCalendar,
    find_holders,
    load_calendar,
    load_calendars,
    merge_equal_neighbours,
    usage_segments,
)
from sharing.engine.policy import MINUTES_PER_DAY, resource_hours
from sharing.engine.rules import (
    Slot,
    duration_conflicts,
    final_conflicts,
    is_free,
    notice_conflicts,
    opening_conflicts,
)
from sharing.engine.times import Interval, is_nonexistent, localize, open_intervals, subtract, zone
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
    booking [start, end) now, whoever books; in a bounded number of queries.

    The rules that need no data are checked first, on the slot's wall-clock times worked
    out once per time zone; then one query tells which of the others hold anything in the
    window. A single-unit resource holding a booking is busy; the few whose answer needs
    more (several units, closures, the owner's calendars) get the full check.
    """
    validate_window(start, end)
    now = now or utcnow()
    walls: dict[str, WallSlot] = {}
    candidates = [r for r in resources
                  if passes_own_rules(Slot(r, start, end, quantity), now, walls)]
    held = find_holders(candidates, start, end)
    doubtful = [r for r in candidates
                if r.id in held.blocked or (r.id in held.occupied and r.quantity > 1)]
    free_after_all = fully_checked_free(doubtful, start, end, quantity, now)
    return [r for r in candidates
            if r.id in free_after_all or not (r.id in held.occupied or r.id in held.blocked)]


@dataclass(frozen=True)
class WallSlot:
    """The slot on one time zone's wall clock, worked out once per search."""

    weekday: int
    start_minute: int
    end_clock: int  # the end's minutes past its own local midnight (the grid's reading)
    end_minute: int  # the same, but 1440 when the slot ends at the next midnight
    on_whole_minutes: bool
    nonexistent: bool
    simple_day: bool  # within one local day that keeps one UTC offset


def wall_slot(start: datetime, end: datetime, tz: ZoneInfo) -> WallSlot:
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = local_start.date()
    midnight = localize(datetime.combine(day, time()), tz)
    next_midnight = localize(datetime.combine(day + timedelta(days=1), time()), tz)
    end_clock = local_end.hour * 60 + local_end.minute
    return WallSlot(
        weekday=day.weekday(), start_minute=local_start.hour * 60 + local_start.minute,
        end_clock=end_clock,
        end_minute=MINUTES_PER_DAY if end == next_midnight else end_clock,
        on_whole_minutes=all(m.second == 0 and m.microsecond == 0
                             for m in (local_start, local_end)),
        nonexistent=any(is_nonexistent(m, tz) for m in (start, end)),
        simple_day=(local_end.date() == day or end == next_midnight)
        and midnight.utcoffset() == next_midnight.utcoffset(),
    )


def passes_own_rules(slot: Slot, now: datetime, walls: dict[str, "WallSlot"]) -> bool:
    """The rules that need nothing from the database, as `resource_conflicts` has them."""
    resource = slot.resource
    if slot.quantity > resource.quantity or final_conflicts(slot) \
            or duration_conflicts(slot) or notice_conflicts(slot, now):
        return False
    name = resource.timezone
    if name not in walls:
        walls[name] = wall_slot(slot.start, slot.end, zone(name))
    wall = walls[name]
    if wall.nonexistent or not is_on_wall_grid(wall, resource.slot_minutes):
        return False
    hours = resource_hours(resource)
    if hours.always_open:
        return True
    if wall.simple_day:
        return hours.covers(wall.weekday, wall.start_minute, wall.end_minute)
    return not opening_conflicts(slot)


def is_on_wall_grid(wall: WallSlot, step: int) -> bool:
    return wall.on_whole_minutes and wall.start_minute % step == 0 \
        and wall.end_clock % step == 0


def fully_checked_free(resources: list[Resource], start: datetime, end: datetime,
                       quantity: int, now: datetime) -> set[int]:
    """Ids of those resources that every rule lets book [start, end), by the reference
    check on their loaded calendars."""
    if not resources:
        return set()
    longest_buffer = max(r.buffer_minutes for r in resources)
    calendars = load_calendars([r.id for r in resources], start,
                               end + timedelta(minutes=longest_buffer),
                               longest={r.id: r.longest_booking_minutes for r in resources})
    return {r.id for r in resources
            if is_free(Slot(r, start, end, quantity), calendars[r.id], now)}
