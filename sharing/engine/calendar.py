"""What already holds a resource over a window: bookings (with buffers), closures, and
the busy periods of the owner's external calendars.

A `ResourceCalendar` is loaded with a bounded number of queries for one resource or
for many at once, then answers overlap and peak-usage questions in memory.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Integer, String, cast, func, literal, null, select, union_all

from sharing.core.database import UTCDateTime, among
from sharing.core.extensions import db
from sharing.engine.times import Interval, merge, to_utc
from sharing.models import (
    BUSY_PIECE_MINUTES,
    HOLDING_STATUSES,
    Booking,
    Closure,
    ExternalBusy,
    Resource,
)

Span = tuple[datetime, datetime, int]  # units held from one moment until another


@dataclass(frozen=True)
class Occupancy:
    """A booking as the engine sees it: the units it holds until its buffer ends."""

    booking_id: int
    organisation_id: int
    starts_at: datetime
    ends_at: datetime
    blocks_until: datetime
    units: int
    title: str


class Closed(NamedTuple):
    """A closure as the engine reads it."""

    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass
class ResourceCalendar:
    resource_id: int
    occupancies: list[Occupancy] = field(default_factory=list)
    closures: list[Closed] = field(default_factory=list)  # by start
    # the owner's own calendars: busy (overlapping periods merged), and nothing more is
    # known of these periods
    external: list[Interval] = field(default_factory=list)

    def occupancies_overlapping(self, start: datetime, end: datetime) -> list[Occupancy]:
        return [o for o in self.occupancies if o.starts_at < end and o.blocks_until > start]

    def closures_overlapping(self, start: datetime, end: datetime) -> list[Closed]:
        return [c for c in self.closures if c.starts_at < end and c.ends_at > start]

    def external_overlapping(self, start: datetime, end: datetime) -> list[Interval]:
        return [(a, b) for a, b in self.external if a < end and b > start]

    def peak_units(self, start: datetime, end: datetime) -> int:
        return peak_units(self.occupancies_overlapping(start, end), start, end)

    def crowded(self, limit: int) -> list[Interval]:
        """Where more than `limit` units are held at once (buffers included)."""
        if not self.occupancies:
            return []
        segments = usage_segments(self.occupancies,
                                  min(o.starts_at for o in self.occupancies),
                                  max(o.blocks_until for o in self.occupancies))
        return merge([(start, end) for start, end, units in segments if units > limit])


def peak_units(occupancies: Iterable[Occupancy], start: datetime, end: datetime) -> int:
    """Most units held at once within [start, end)."""
    return peak_of([(o.starts_at, o.blocks_until, o.units) for o in occupancies], start, end)


def peak_of(spans: Iterable[Span], start: datetime, end: datetime) -> int:
    """Most units held at once within [start, end) by (taken, released, units) spans: a
    sweep. At the same instant a release is counted before a take, so back-to-back
    bookings do not add up."""
    current = peak = 0
    for _moment, _order, delta in usage_events(spans, start, end):
        current += delta
        peak = max(peak, current)
    return peak


def usage_events(spans: Iterable[Span], start: datetime, end: datetime
                 ) -> list[tuple[datetime, int, int]]:
    events = []
    for taken, released, units in spans:
        taken, released = max(taken, start), min(released, end)
        if taken < released:
            events += [(taken, 1, units), (released, 0, -units)]
    return sorted(events)


def usage_segments(occupancies: Iterable[Occupancy], start: datetime, end: datetime
                   ) -> list[tuple[datetime, datetime, int]]:
    """The step function of units in use over [start, end), zero stretches left out."""
    segments, current, since = [], 0, start
    spans = [(o.starts_at, o.blocks_until, o.units) for o in occupancies]
    for moment, _order, delta in usage_events(spans, start, end):
        if moment > since and current:
            segments.append((since, moment, current))
        current, since = current + delta, max(since, moment)
    return merge_equal_neighbours(segments)


def merge_equal_neighbours(segments):
    merged = []
    for segment in segments:
        if merged and merged[-1][1] == segment[0] and merged[-1][2] == segment[2]:
            merged[-1] = (merged[-1][0], segment[1], segment[2])
        else:
            merged.append(segment)
    return merged


def longest_occupancy(*scope) -> timedelta:
    """How long ago a booking of these resources (all, by default) may have started and
    still be running: overlap queries look back this far, not over every earlier row."""
    minutes = db.session.scalar(select(func.max(Resource.longest_booking_minutes)).where(*scope))
    return timedelta(minutes=minutes or 0)


def lookback_groups(resource_ids: Iterable[int], longest: dict[int, int] | None = None
                    ) -> dict[int, list[int]]:
    """Resources grouped by how far back an overlapping booking may have started.

    `longest`: each resource's `longest_booking_minutes` as read in this transaction (under
    the booking's locks, or in a read-only answer); otherwise read fresh from the database,
    since a booking inserted earlier in this transaction may have widened it.
    """
    pairs = longest.items() if longest is not None else db.session.execute(
        select(Resource.id, Resource.longest_booking_minutes)
        .where(Resource.id.in_(list(resource_ids))))
    groups: dict[int, list[int]] = defaultdict(list)
    for resource_id, minutes in pairs:
        groups[rounded_lookback(minutes)].append(resource_id)
    return groups


def rounded_lookback(minutes: int) -> int:
    """Rounded up to a power of two so that few groups (queries) remain."""
    return 1 << max(minutes - 1, 0).bit_length()


def overlapping(ids: list[int], start: datetime, end: datetime, lookback: int) -> tuple:
    """SQL: holding bookings of these resources whose occupancy overlaps [start, end), read
    on `ix_booking_resource_starts` from `lookback` minutes before the window."""
    return (among(Booking.resource_id, ids),
            Booking.starts_at >= to_utc(start) - timedelta(minutes=lookback),
            Booking.starts_at < end,
            Booking.blocks_until > start, Booking.status.in_(HOLDING_STATUSES))


@dataclass
class Holders:
    """What may hold each resource during a slot, for the free search."""

    # a booking holds units that the slot needs: no unit to spare, whatever its times
    full: set[int] = field(default_factory=set)
    # the bookings of the resources with units to spare, which then need their times
    spans: dict[int, list[Span]] = field(default_factory=lambda: defaultdict(list))
    # when each closure over the slot, or the owner's busy period over the slot and the
    # longest buffer, begins (a busy period beyond the resource's own buffer holds nothing)
    blocked_from: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))


class Bounds(NamedTuple):
    """What the free search's query needs to know of one resource."""

    longest: int  # its longest booking, in minutes
    buffer: int  # its changeover buffer, in minutes
    spare: bool  # whether it has units to spare beside one booking's


def find_holders(bounds: dict[int, Bounds], start: datetime, end: datetime) -> Holders:
    """What holds the resources over a slot, in one query (the free search).

    Bookings are read per (buffer, units to spare) group, exactly: those that overlap
    [start, end + the buffer), on index ranges starting as far back as the group's longest
    booking (few groups: building the statement costs more than a longer range on the
    covering index); only their resource's id when it has no unit to spare (the times of
    a booking then change nothing, and reading them is most of the cost).
    """
    holders = Holders()
    if not bounds:
        return holders
    groups: dict[tuple[int, bool], list[int]] = defaultdict(list)
    lookbacks: dict[tuple[int, bool], int] = defaultdict(int)
    for resource_id, bound in bounds.items():
        groups[bound.buffer, bound.spare].append(resource_id)
        lookbacks[bound.buffer, bound.spare] = max(lookbacks[bound.buffer, bound.spare],
                                                   bound.longest)
    ids = list(bounds)
    until = to_utc(end) + timedelta(minutes=max(bound.buffer for bound in bounds.values()))
    arms = [select(Booking.resource_id, *(booking_span if spare else NO_SPAN))
            .where(*overlapping(group, start, to_utc(end) + timedelta(minutes=buffer),
                                lookbacks[buffer, spare]))
            for (buffer, spare), group in groups.items()]
    arms += [select(Closure.resource_id, Closure.starts_at, Closure.ends_at, NO_UNITS)
             .where(*closures_overlapping(ids, start, end)),
             select(ExternalBusy.resource_id, ExternalBusy.starts_at, ExternalBusy.ends_at,
                    NO_UNITS).where(*external_overlapping(ids, start, until))]
    for resource_id, taken, released, units in db.session.execute(union_all(*arms)):
        if taken is None:
            holders.full.add(resource_id)
        elif units is None:
            holders.blocked_from[resource_id].append(taken)
        else:
            holders.spans[resource_id].append((taken, released, units))
    return holders


def nothing(type_):
    """SQL: NULL as a column of that type, where another arm of a UNION has a value
    (PostgreSQL types an untyped NULL as text when the arms before it have no other)."""
    return cast(null(), type_)


NO_UNITS = nothing(Integer)
NO_SPAN = (nothing(UTCDateTime), nothing(UTCDateTime), NO_UNITS)
booking_span = (Booking.starts_at, Booking.blocks_until, Booking.quantity)


def find_closures(resource_ids: Iterable[int], start: datetime, end: datetime
                  ) -> dict[int, list[Closure]]:
    found: dict[int, list[Closure]] = defaultdict(list)
    closures = db.session.scalars(
        select(Closure).where(*closures_overlapping(list(resource_ids), start, end))
        .order_by(Closure.starts_at))
    for closure in closures:
        found[closure.resource_id].append(closure)
    return found


def closures_overlapping(ids: list[int], start: datetime, end: datetime) -> tuple:
    return among(Closure.resource_id, ids), Closure.starts_at < end, Closure.ends_at > start


def find_external_busy(resource_ids: Iterable[int], start: datetime, end: datetime
                       ) -> dict[int, list[Interval]]:
    """Busy periods of the owners' calendars overlapping [start, end), overlapping and
    adjacent ones merged. They are stored in pieces of at most a day, so the index range
    read starts only that far before the window."""
    rows = db.session.execute(
        select(ExternalBusy.resource_id, ExternalBusy.starts_at, ExternalBusy.ends_at)
        .where(*external_overlapping(list(resource_ids), start, end)))
    found: dict[int, list[Interval]] = defaultdict(list)
    for resource_id, busy_start, busy_end in rows:
        found[resource_id].append((busy_start, busy_end))
    return {resource_id: merge(periods) for resource_id, periods in found.items()}


def external_overlapping(ids: list[int], start: datetime, end: datetime) -> tuple:
    return (among(ExternalBusy.resource_id, ids),
            ExternalBusy.starts_at >= to_utc(start) - timedelta(minutes=BUSY_PIECE_MINUTES),
            ExternalBusy.starts_at < end, ExternalBusy.ends_at > start)


def load_calendars(resource_ids: Iterable[int], start: datetime, end: datetime,
                   longest: dict[int, int] | None = None) -> dict[int, ResourceCalendar]:
    """Calendars of many resources over one window, in one query: a UNION ALL of their
    bookings (an arm per lookback group, see `lookback_groups` for `longest`), closures
    and the owner's busy periods."""
    ids = list(resource_ids)
    if not ids:
        return {}
    arms = [select(literal("booking"), Booking.resource_id, Booking.starts_at, Booking.ends_at,
                   Booking.blocks_until, Booking.id, Booking.organisation_id, Booking.quantity,
                   Booking.title).where(*overlapping(group, start, end, lookback))
            for lookback, group in lookback_groups(ids, longest).items()]
    not_booked = (nothing(UTCDateTime), nothing(Integer), nothing(Integer), NO_UNITS)
    arms += [select(literal("closure"), Closure.resource_id, Closure.starts_at, Closure.ends_at,
                    *not_booked, Closure.reason).where(*closures_overlapping(ids, start, end)),
             select(literal("busy"), ExternalBusy.resource_id, ExternalBusy.starts_at,
                    ExternalBusy.ends_at, *not_booked, nothing(String))
             .where(*external_overlapping(ids, start, end))]
    calendars = {rid: ResourceCalendar(rid) for rid in ids}
    for kind, resource_id, starts_at, ends_at, *booked, text in db.session.execute(
            union_all(*arms)):
        calendar = calendars[resource_id]
        if kind == "booking":
            blocks_until, booking_id, organisation_id, units = booked
            calendar.occupancies.append(Occupancy(booking_id, organisation_id, starts_at,
                                                  ends_at, blocks_until, units, text))
        elif kind == "closure":
            calendar.closures.append(Closed(starts_at, ends_at, text))
        else:
            calendar.external.append((starts_at, ends_at))
    for calendar in calendars.values():
        calendar.closures.sort()
        calendar.external = merge(calendar.external)
    return calendars


def load_calendar(resource_id: int, start: datetime, end: datetime,
                  longest: int | None = None) -> ResourceCalendar:
    return load_calendars([resource_id], start, end,
                          None if longest is None else {resource_id: longest})[resource_id]
