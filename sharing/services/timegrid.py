"""Free and busy time at a glance: one resource's day as minutes on its site's clock.

The resource page's week grid, the booking form's day timeline and the planning (week and
day views) all read `load_timelines`: three queries for any number of resources and days
(the bookings, the closures, the owners' external busy time), then work in memory.
What another organisation booked is busy time only: its title and organisation are not
even read unless the viewer may see them.
"""

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import case, select

from sharing.core.database import among, named_rows
from sharing.core.extensions import db
from sharing.engine.calendar import find_closures, find_external_busy, longest_occupancy
from sharing.engine.policy import MINUTES_PER_DAY, weekly_hours
from sharing.engine.times import Interval, at_wall_minutes, subtract, wall_minutes
from sharing.models import HOLDING_STATUSES, Booking, Organisation, Resource, User
from sharing.services.permissions import booking_details_clause

Minutes = tuple[int, int]  # [start, end) in minutes since local midnight; 1440 is 24:00
STEP = 15  # minutes per row (week grid) or column (planning day) of a drawn time axis
HOUR = 60
# Drawn when nothing is open or booked earlier or later: the hours most bookings take.
USUAL_HOURS = (8 * HOUR, 20 * HOUR)
ALWAYS_OPEN = (((0, MINUTES_PER_DAY),),) * 7  # each day of the week, for a resource without hours


@dataclass(slots=True)  # not frozen: a frozen one costs four times as much to make
class Span:
    """Something holding the resource that day, clipped to it: a booking (titled only for
    whoever may see its details), a closure, or the owner's external busy time."""

    kind: str  # "booking", "closure", "external", or "free" (a piece of free time)
    start: int
    end: int
    booking_id: int | None = None
    title: str | None = None  # None: another organisation's, shown as busy only
    organisation: str | None = None
    pending: bool = False

    @property
    def is_own(self) -> bool:
        return self.title is not None

    @property
    def css(self) -> str:
        """Its classes in static/timegrid.css; none for the most common, another
        organisation's confirmed booking (a thousand resources' week holds thousands)."""
        if self.kind != "booking":
            return f"tg-{self.kind}"
        if self.is_own:
            return "own pending" if self.pending else "own"
        return "pending" if self.pending else ""

    @property
    def period(self) -> str:
        """"09:00–10:30" on the site's clock; "24:00" for the end of the day."""
        return f"{clock(self.start)}–{clock(self.end)}"


@dataclass(slots=True)
class DayTimeline:
    resource: Resource | tuple  # a named tuple of its columns will do (`load_timelines`)
    day: date
    past: bool
    now_minutes: int  # free time starts no earlier (today), in minutes
    opening: Sequence[Minutes]  # the whole day for a resource bookable at any time
    spans: Sequence[Span] = ()  # by time
    holds: Sequence[tuple[int, int, int]] = ()  # start, end, units
    is_closed: bool = False  # nothing bookable: no opening hours, or closed through them

    @property
    def is_bookable(self) -> bool:
        return not self.past and not self.is_closed

    def free(self) -> list[Minutes]:
        """Open time, from now on, not closed, not busy elsewhere, with a unit left."""
        if self.past:
            return []
        taken = [(s.start, s.end) for s in self.spans if s.kind != "booking"]
        taken += full_stretches(self.holds, self.resource.quantity)
        taken.append((0, self.now_minutes))
        return [(a, b) for a, b in subtract(self.opening, taken) if b - a >= min_free(self)]

    def shown(self) -> list[Span]:
        """What holds the resource and the free hours, in the order of the day."""
        return sorted([*self.spans, *self.free_pieces()], key=lambda s: (s.start, s.end))

    def free_pieces(self) -> list[Span]:
        """The free time cut at each hour: what one tap on the grid books."""
        return [Span("free", max(a, hour), min(b, hour + HOUR)) for a, b in self.free()
                for hour in range(a - a % HOUR, b, HOUR)
                if min(b, hour + HOUR) - max(a, hour) >= min_free(self)]


def min_free(timeline: DayTimeline) -> int:
    return timeline.resource.slot_minutes


def full_stretches(holds: list[tuple[int, int, int]], quantity: int) -> list[Minutes]:
    """When bookings hold every unit: a sweep over their starts and ends."""
    # at the same minute a release comes before a take: back-to-back bookings do not add up
    events = sorted([(a, units) for a, _b, units in holds]
                    + [(b, -units) for _a, b, units in holds])
    full, in_use, since = [], 0, 0
    for moment, delta in events:
        if in_use >= quantity and moment > since:
            full.append((since, moment))
        in_use, since = in_use + delta, moment
    return full


# --- a day on a site's clock ----------------------------------------------------------------

@lru_cache(maxsize=4096)
def day_bounds(day: date, tz: ZoneInfo) -> Interval:
    """The UTC instants of local midnight and the next one: computed once per zone and day."""
    return at_wall_minutes(day, 0, tz), at_wall_minutes(day, MINUTES_PER_DAY, tz)


def clip(start: datetime, end: datetime, day: date, tz: ZoneInfo) -> Minutes | None:
    """[start, end) as wall-clock minutes of that local day; None when it does not touch it."""
    day_start, day_end = day_bounds(day, tz)
    if start >= day_end or end <= day_start:
        return None
    first = wall_minutes(max(start, day_start), tz)
    last = MINUTES_PER_DAY if end >= day_end else wall_minutes(end, tz)
    return first, max(first, last)  # the hour repeated in autumn may run backwards


def opening_week(resource: Resource | tuple) -> tuple[tuple[Minutes, ...], ...]:
    """Monday's to Sunday's open spans, shared by the resources of one timetable (the
    engine parses each timetable once)."""
    hours = weekly_hours(resource.opening_hours)
    return ALWAYS_OPEN if hours.always_open else hours.days


def is_shut(opening: Sequence[Minutes], spans: Sequence[Span]) -> bool:
    """Nothing bookable: no opening hours, or closures through them."""
    if not spans:
        return not opening
    closures = [(s.start, s.end) for s in spans if s.kind == "closure"]
    return not (subtract(opening, closures) if closures else opening)


def window_of(days: list[date], zones: set[ZoneInfo]) -> Interval:
    return (min(day_bounds(days[0], tz)[0] for tz in zones),
            max(day_bounds(days[-1], tz)[1] for tz in zones))


# --- loading --------------------------------------------------------------------------------

def find_holding_bookings(user: User, resource_ids: list[int], start: datetime, end: datetime
                          ) -> Iterator[tuple]:
    """Rows of the bookings holding these resources over [start, end), until their buffer
    ends. Title and organisation come back empty where the user may not see them.

    Read one at a time from the cursor (the session's `execute` would first build them
    all): a row then goes before the garbage collector has to look at it again, and
    thousands of them do not make the next full collection come sooner."""
    details = booking_details_clause(user)
    return named_rows(db.session.connection().execute(
        select(Booking.id, Booking.resource_id, Booking.starts_at, Booking.ends_at,
               Booking.blocks_until, Booking.quantity, Booking.status,
               case((details, Booking.title), else_=None).label("title"),
               case((details, Organisation.name), else_=None).label("organisation"))
        .join(Booking.resource).join(Booking.organisation)
        .where(among(Booking.resource_id, resource_ids), Booking.status.in_(HOLDING_STATUSES),
               Booking.starts_at < end, Booking.blocks_until > start,
               Booking.starts_at >= start - longest_occupancy())
        .order_by(Booking.starts_at, Booking.id)))


@dataclass
class Holding:
    """What holds each (resource id, local day) shown, gathered before the timelines are
    made: most days of a large planning hold nothing, and share one empty tuple."""

    first: date
    last: date
    spans: defaultdict[tuple[int, date], list[Span]] = field(
        default_factory=lambda: defaultdict(list))
    holds: defaultdict[tuple[int, date], list[tuple[int, int, int]]] = field(
        default_factory=lambda: defaultdict(list))

    def touched(self, tz: ZoneInfo, start: datetime, end: datetime):
        """Each shown day that [start, end) touches, with its minutes: only the shown days
        are looked at, however long a closure lasts."""
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        first, last = local_start.date(), local_end.date()
        if first == last:  # most bookings: their minutes without the day's bounds
            if self.first <= first <= self.last:
                a = local_start.hour * HOUR + local_start.minute
                yield first, (a, max(a, local_end.hour * HOUR + local_end.minute))
            return
        first = max(first, self.first)
        for offset in range((min(last, self.last) - first).days + 1):
            day = first + timedelta(days=offset)
            minutes = clip(start, end, day, tz)
            if minutes:
                yield day, minutes

    def add_span(self, resource_id: int, tz: ZoneInfo, kind: str, start: datetime,
                 end: datetime) -> None:
        for day, (a, b) in self.touched(tz, start, end):
            self.spans[resource_id, day].append(Span(kind, a, b))

    def add_booking(self, row, tz: ZoneInfo) -> None:
        for day, (a, b) in self.touched(tz, row.starts_at, row.blocks_until):
            shown = (a, b) if row.blocks_until == row.ends_at else clip(  # without a buffer
                row.starts_at, row.ends_at, day, tz)
            self.holds[row.resource_id, day].append((a, b, row.quantity))
            if shown is not None:  # not only its buffer
                self.spans[row.resource_id, day].append(Span(
                    "booking", *shown, booking_id=row.id, title=row.title,
                    organisation=row.organisation, pending=row.status == "pending"))


def load_timelines(user: User, resources: list[Resource] | list[tuple], days: list[date],
                   now: datetime) -> Mapping[tuple[int, date], DayTimeline]:
    """(resource id, local day) → its timeline, for every resource and consecutive day
    asked. Named tuples of the resources' `id`, `timezone`, `opening_hours` (or its JSON
    text), `quantity` and `slot_minutes` will do."""
    if not resources:
        return {}
    ids = [r.id for r in resources]
    zones = {r.id: ZoneInfo(r.timezone) for r in resources}
    start, end = window_of(days, set(zones.values()))
    holding = Holding(days[0], days[-1])
    for row in find_holding_bookings(user, ids, start, end):
        holding.add_booking(row, zones[row.resource_id])
    for resource_id, closures in find_closures(ids, start, end).items():
        for closure in closures:
            holding.add_span(resource_id, zones[resource_id], "closure", closure.starts_at,
                             closure.ends_at)
    for resource_id, periods in find_external_busy(ids, start, end).items():
        for busy_start, busy_end in periods:
            holding.add_span(resource_id, zones[resource_id], "external", busy_start, busy_end)
    for spans in holding.spans.values():
        spans.sort(key=lambda span: (span.start, span.end))
    return Timelines(resources, days, zones, holding, now)


class Timelines(Mapping):
    """(resource id, local day) → its DayTimeline, made when read: a planning of a thousand
    resources writes each row from its days' timelines and keeps none, so that the
    garbage collector has seven thousand fewer objects to go through."""

    def __init__(self, resources, days: list[date], zones: dict[int, ZoneInfo],
                 holding: Holding, now: datetime):
        self.resources = {r.id: (r, zones[r.id], opening_week(r)) for r in resources}
        self.days, self.holding = days, holding
        self.moments = {(tz, day): moment_of(day, tz, now)
                        for tz in set(zones.values()) for day in days}

    def __getitem__(self, key: tuple[int, date]) -> DayTimeline:
        resource_id, day = key
        resource, tz, week = self.resources[resource_id]
        if not self.days[0] <= day <= self.days[-1]:
            raise KeyError(key)
        opening, spans = week[day.weekday()], self.holding.spans.get(key, ())
        return DayTimeline(resource, day, *self.moments[tz, day], opening, spans,
                           self.holding.holds.get(key, ()), is_shut(opening, spans))

    def __iter__(self):
        return ((resource_id, day) for resource_id in self.resources for day in self.days)

    def __len__(self) -> int:
        return len(self.resources) * len(self.days)


def moment_of(day: date, tz: ZoneInfo, now: datetime) -> tuple[bool, int]:
    """Whether the day is over, and how far into it now is (0 for a day to come)."""
    day_start, day_end = day_bounds(day, tz)
    return day_end <= now, clip(day_start, now, day, tz)[1] if day_start < now else 0


# --- drawing --------------------------------------------------------------------------------

@lru_cache(maxsize=2048)  # a day has 1,441 of them, and a planning thousands of spans
def clock(minutes: int) -> str:
    return f"{minutes // HOUR:02d}:{minutes % HOUR:02d}"


def drawn_hours(timelines: list[DayTimeline]) -> Minutes:
    """The hours a drawn axis covers, in whole hours: the opening hours and the bookings
    (closures and busy time are drawn within, however long); the usual hours where a
    resource is bookable at any time."""
    marks = [m for t in timelines for s in t.spans if s.kind == "booking" for m in (s.start, s.end)]
    for timeline in timelines:
        marks += [m for span in timeline.opening
                  for m in (USUAL_HOURS if span == (0, MINUTES_PER_DAY) else span)]
    if not marks:
        return USUAL_HOURS
    first, last = min(marks), max(marks)
    return first - first % HOUR, last + (-last) % HOUR


@dataclass(frozen=True)
class Axis:
    """Where minutes of the day fall on a drawn axis, as classes of static/timegrid.css:
    `at-N` is the N-th row (or column) of STEP minutes, `len-N` spans N of them."""

    first: int
    last: int

    @property
    def hours(self) -> list[tuple[str, str]]:
        return [(clock(m), self.place(m, m + HOUR)) for m in range(self.first, self.last, HOUR)]

    @property
    def steps(self) -> int:
        return (self.last - self.first) // STEP

    def place(self, start: int, end: int) -> str:
        start, end = max(start, self.first), min(end, self.last)
        at = (start - self.first) // STEP + 1
        return f"at-{at} len-{max(1, -(-(end - self.first) // STEP) - at + 1)}"

    def shows(self, start: int, end: int) -> bool:
        return start < self.last and end > self.first


def axis_for(timelines: list[DayTimeline]) -> Axis:
    return Axis(*drawn_hours(timelines))


def week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]
