"""Free and busy time: one resource over a window, or which resources are free for a slot."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from operator import attrgetter, itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sharing.core.database import utcnow
from sharing.core.validation import InvalidInput, Problem
from sharing.engine.calendar import (
    Bounds,
    Holders,
    Occupancy,
    ResourceCalendar,
    find_holders,
    load_calendar,
    merge_equal_neighbours,
    peak_of,
    usage_segments,
)
from sharing.engine.policy import MINUTES_PER_DAY, resource_hours
from sharing.engine.rules import (
    Slot,
    duration_problem,
    notice_problem,
    opening_conflicts,
)
from sharing.engine.times import (
    Interval,
    is_nonexistent,
    localize,
    open_intervals,
    subtract,
    to_utc,
    zone,
)
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
    calendar = load_calendar(resource.id, start, end, resource.longest_booking_minutes)
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
    booking [start, end) now, whoever books; in one query.

    The rules that need no data are worked out once per distinct policy, on the slot's
    wall-clock times worked out once per site; then one query reads what holds the
    others in the window (bookings' units, closures, the owner's busy periods), from
    which the remaining rules are decided for each.
    """
    validate_window(start, end)
    if start.tzinfo is None or end.tzinfo is None:
        return []  # no resource takes an interval without an offset (invalid_interval)
    search = SlotSearch(start, end, quantity, start - (now or utcnow()))
    candidates = [(r, values) for r in resources if search.allows(r, values := rule_values(r))]
    held = find_holders({v.id: Bounds(v.longest_booking_minutes, v.buffer_minutes,
                                      v.quantity > quantity) for _r, v in candidates},
                        start, end)
    return [r for r, v in candidates if nothing_in_the_way(held, v, search)]


@dataclass(frozen=True)
class WallSlot:
    """The slot on one time zone's wall clock."""

    weekday: int
    start_minute: int
    end_clock: int  # the end's minutes past its own local midnight (the grid's reading)
    end_minute: int  # the same, but 1440 when the slot ends at the next midnight
    on_whole_minutes: bool
    nonexistent: bool
    simple_day: bool  # within one local day that keeps one UTC offset

    def is_on_grid(self, step: int) -> bool:
        """As `rules.grid_conflicts` reads it."""
        return self.on_whole_minutes and self.start_minute % step == 0 \
            and self.end_clock % step == 0


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


@dataclass
class SlotSearch:
    """What the resources' own rules need of the slot, worked out once per search."""

    start: datetime
    end: datetime
    quantity: int
    lead: timedelta  # from now to the start
    walls: dict[int, WallSlot] = field(default_factory=dict)  # by site
    verdicts: dict[tuple, bool] = field(default_factory=dict)  # by policy

    def __post_init__(self) -> None:
        self.minutes = (self.end - self.start).total_seconds() / 60

    def wall_for(self, resource: Resource, site_id: int) -> WallSlot:
        if site_id not in self.walls:
            self.walls[site_id] = wall_slot(self.start, self.end, zone(resource.timezone))
        return self.walls[site_id]

    def allows(self, resource: Resource, values: "RuleValues") -> bool:
        """`passes_own_rules`, worked out once for the resources sharing a policy."""
        key = (values[:POLICY_FIELDS], resource_hours(resource))
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self.verdicts[key] = passes_own_rules(resource, values, self)
        return verdict


class RuleValues(NamedTuple):
    # the policy: with the opening hours, all that `passes_own_rules` reads
    quantity: int
    min_duration_minutes: int
    max_duration_minutes: int | None
    slot_minutes: int
    min_notice_minutes: int
    max_advance_days: int | None
    site_id: int
    # then what tells the resources apart
    id: int
    buffer_minutes: int
    longest_booking_minutes: int


POLICY_FIELDS = RuleValues._fields.index("id")


loaded_rule_values = itemgetter(*RuleValues._fields)


def rule_values(resource: Resource) -> RuleValues:
    """The policy's numbers from the object's loaded state in one step (read attribute by
    attribute, a thousand resources cost more than their rules); through the ORM when
    some are not loaded."""
    try:
        return RuleValues._make(loaded_rule_values(resource.__dict__))
    except KeyError:
        return RuleValues._make(attrgetter(*RuleValues._fields)(resource))


def passes_own_rules(resource: Resource, values: RuleValues, search: SlotSearch) -> bool:
    """The rules that need nothing from the database, as `resource_conflicts` has them."""
    if search.quantity > values.quantity \
            or duration_problem(search.minutes, values.min_duration_minutes,
                                values.max_duration_minutes) \
            or notice_problem(search.lead, values.min_notice_minutes, values.max_advance_days):
        return False
    wall = search.wall_for(resource, values.site_id)
    if wall.nonexistent or not wall.is_on_grid(values.slot_minutes):
        return False
    hours = resource_hours(resource)
    if hours.always_open:
        return True
    if wall.simple_day:
        return hours.covers(wall.weekday, wall.start_minute, wall.end_minute)
    return not opening_conflicts(Slot(resource, search.start, search.end, search.quantity))


def nothing_in_the_way(held: Holders, values: RuleValues, search: SlotSearch) -> bool:
    """Closures, the owner's busy periods and capacity, as `resource_conflicts` has them."""
    if values.id in held.full:
        return False
    blocked_from, spans = held.blocked_from.get(values.id), held.spans.get(values.id)
    if not (blocked_from or spans):
        return True
    until = to_utc(search.end) + timedelta(minutes=values.buffer_minutes)
    if blocked_from and min(blocked_from) < until:
        return False
    return not spans or peak_of(spans, search.start, until) + search.quantity <= values.quantity
