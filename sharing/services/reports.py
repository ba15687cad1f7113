"""Impact reports: how much the pole's members really share, over a period.

Hours come from confirmed bookings, summed by the database per resource and booking
organisation, and per month (never one row per booking into Python). Bookings are
summed whole by the month they start in, in one pass over the same rows as a plain sum
of their lengths; then the few that cross a month's start or the period's end (read
from a short range of the start-time index) move their part across it. So a booking
that straddles the period's edges, or a month's, counts only the part inside it, the
edges being midnight on the resource's site. No-shows are not counted: bookings have no
check-in. Occupancy divides unit-hours booked by unit-hours open,
from the opening hours minus closures; a resource without opening hours counts as open
08:00-20:00 on weekdays, and the report says how many did. Cross-organisation hours are
those booked by another organisation than the resource's owner: the core "mutualisation"
indicator. The coordinator sees the whole pole; a member, only its organisation's part.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import ConfigDict
from sqlalchemy import (
    BigInteger,
    Float,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Row

from sharing.core.contracts import Contract, checked, choice, refuse, row_id, validate
from sharing.core.database import UTCDateTime, is_postgresql
from sharing.core.extensions import db
from sharing.core.validation import EARLIEST_DATE, LATEST_DATE, InvalidInput
from sharing.engine.calendar import longest_occupancy
from sharing.engine.contracts import NotAllowed
from sharing.engine.policy import WEEKDAYS, weekly_hours
from sharing.engine.times import at_wall_minutes, merge, open_intervals, zone
from sharing.models import (
    COUNTS,
    RESOURCE_KINDS,
    BookedMonth,
    Booking,
    Closure,
    CreditEntry,
    Organisation,
    Resource,
    Site,
    User,
    following_month,
)
from sharing.services.permissions import can_see_report_of, is_admin

# Assumed for resources without opening hours, and said so in the report.
DEFAULT_OPENING_HOURS = {day: [["08:00", "20:00"]] if day not in ("sat", "sun") else []
                         for day in WEEKDAYS}
DEFAULT_HOURS_TEXT = json.dumps(DEFAULT_OPENING_HOURS)
LONGEST_PERIOD_DAYS = 3 * 366  # a report's cost is bounded by its months and resources
PEOPLE_KINDS = ("staff", "expertise")
SECONDS_PER_DAY = 86400
SECONDS_PER_HOUR = 3600


def parse_day(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise refuse(_("Give a date such as 2027-01-31."))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise refuse(_("Give a date such as 2027-01-31.")) from None
    if not EARLIEST_DATE.date() <= day < LATEST_DATE.date():
        raise refuse(_("Give a date between %(earliest)s and %(latest)s.",
                       earliest=EARLIEST_DATE.date().isoformat(),
                       latest=LATEST_DATE.date().isoformat()))
    return day


def parse_query_id(value: Any) -> int:
    number = int(value) if isinstance(value, str) and value.isascii() and value.isdigit() \
        and len(value) < 12 else value
    return row_id(number)


def parse_cost(value: Any) -> Decimal:
    try:
        cost = Decimal(value) if isinstance(value, str) and len(value) < 20 else None
    except ArithmeticError:
        cost = None
    if cost is None or not cost.is_finite() or not 0 <= cost <= 100_000:
        raise refuse(_("Enter an hourly cost between 0 and 100000."))
    return cost


Day = Annotated[date, *checked(parse_day, {"type": "string", "format": "date"})]
QueryId = Annotated[int, *checked(parse_query_id, {"type": "integer", "minimum": 1})]
Cost = Annotated[Decimal, *checked(parse_cost, {"type": "number", "minimum": 0,
                                                "maximum": 100_000})]


class ReportQuery(Contract):
    """A report's period (both days included, on the sites' clocks) and filters, as sent
    in a query string by the pages and the API."""

    model_config = ConfigDict(extra="ignore")

    start: Day
    end: Day
    site: QueryId | None = None
    kind: choice(RESOURCE_KINDS, optional=True) = None
    resource: QueryId | None = None
    organisation: QueryId | None = None
    hourly_cost: Cost | None = None


def read_query(args: dict[str, str]) -> ReportQuery:
    """The filters from a query string; empty values are no filter."""
    return checked_period(validate(ReportQuery, {name: value for name, value in args.items()
                                                 if value}))


def checked_period(query: ReportQuery) -> ReportQuery:
    if query.end < query.start:
        raise InvalidInput(end=_("The end must come after the start."))
    if (query.end - query.start).days >= LONGEST_PERIOD_DAYS:
        raise InvalidInput(end=_("A report covers at most %(n)s days.", n=LONGEST_PERIOD_DAYS))
    return query


def scope_for(viewer: User, query: ReportQuery) -> int | None:
    """The organisation the report is restricted to: any or none for the coordinator; for
    anyone else one of their own organisations (the only one, if they have one)."""
    if is_admin(viewer):
        return query.organisation
    organisation_id = query.organisation
    if organisation_id is None and len(viewer.memberships) == 1:
        organisation_id = viewer.memberships[0].organisation_id
    if organisation_id is None:
        raise InvalidInput(organisation=_("Choose one of your organisations."))
    if not can_see_report_of(viewer, organisation_id):
        raise NotAllowed
    return organisation_id


# --- SQL -------------------------------------------------------------------------------------

def summed_seconds(start, end):
    """SQL: the sum of the seconds from `start` to `end` (timestamps) over the rows: the
    intervals are added up and turned into seconds once, not on every row."""
    if is_postgresql():
        return func.extract("epoch", func.sum(end - start))
    return func.sum(func.julianday(end) - func.julianday(start)) * SECONDS_PER_DAY


@dataclass(frozen=True)
class Month:
    index: int
    label: str  # 2027-03
    start: datetime
    end: datetime
    first_day: date
    whole: bool  # not cut by the period's edges


def months_of(query: ReportQuery, tz_name: str) -> list[Month]:
    """The period's months, the first and last cut at the period's edges, in UTC."""
    tz, months, first = zone(tz_name), [], query.start.replace(day=1)
    while first <= query.end:
        following = following_month(first)
        start, end = max(first, query.start), min(following, query.end + timedelta(days=1))
        months.append(Month(len(months), f"{first:%Y-%m}", at_wall_minutes(start, 0, tz),
                            at_wall_minutes(end, 0, tz), first,
                            (start, end) == (first, following)))
        first = following
    return months


@dataclass(frozen=True)
class Scope:
    """The bookings a report counts on one clock: of these resources (None: of every
    resource, so no condition at all) and by this organisation (None: by any)."""

    months: list[Month]
    resource_ids: list[int] | None
    organisation_id: int | None

    @property
    def boundaries(self) -> list[datetime]:
        """Each month's start, then the period's end."""
        return [month.start for month in self.months] + [self.months[-1].end]

    def starting_in_period(self, status: str = "confirmed") -> list:
        return [Booking.status == status, Booking.starts_at >= self.months[0].start,
                Booking.starts_at < self.months[-1].end, *self.conditions()]

    def conditions(self, counted=Booking) -> list:
        """SQL conditions on the bookings (or their months' counts) alone: no join to read
        the resource or its site."""
        conditions = [] if self.resource_ids is None else \
            [counted.resource_id.in_(self.resource_ids)]
        if self.organisation_id is not None:
            conditions.append(counted.organisation_id == self.organisation_id)
        return conditions

    @property
    def whole_months(self) -> list[Month]:
        return [month for month in self.months if month.whole]

    def cut_months(self) -> list["Scope"]:
        """A scope of its own for each month the period's edges cut (at most two)."""
        return [Scope([month], self.resource_ids, self.organisation_id)
                for month in self.months if not month.whole]


def core_rows(statement) -> list[Row]:
    """The rows of a statement of plain columns, without the ORM's work on each one (a
    report reads thousands)."""
    return db.session.connection().execute(statement).all()


# What a report reads of a resource: rows, lighter than the mapped objects; the opening
# hours as their JSON text, parsed once per distinct timetable.
NamedResource = Row[tuple[int, str, str, int, int, str, str]]


def resources_named(query: ReportQuery) -> list[NamedResource]:
    """Every resource the filters name, in the order reports list them."""
    statement = select(Resource.id, Resource.name, Resource.kind,
                       Resource.owner_organisation_id, Resource.quantity,
                       cast(Resource.opening_hours, Text).label("opening_hours"), Site.timezone) \
        .join(Site)
    for wanted, attribute in ((query.site, Resource.site_id), (query.kind, Resource.kind),
                              (query.resource, Resource.id)):
        if wanted is not None:
            statement = statement.where(attribute == wanted)
    return core_rows(statement.order_by(Resource.name, Resource.id))


def scopes_of(query: ReportQuery, organisation_id: int | None,
              resources: list[NamedResource]) -> list[Scope]:
    """One scope per clock the named resources run on (their sites' time zones)."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for resource in resources:
        by_zone[resource.timezone].append(resource.id)
    every = len(by_zone) == 1 and len(resources) == db.session.scalar(
        select(func.count()).select_from(Resource))
    return [Scope(months_of(query, tz_name), None if every else ids, organisation_id)
            for tz_name, ids in sorted(by_zone.items())]


def start_month(months: list[Month]):
    """SQL: the index of the month a booking starts in."""
    if len(months) == 1:
        return literal(0)
    ends = [literal(m.end, UTCDateTime) for m in months[:-1]]
    if is_postgresql():  # a binary search of the months' ends, not one test after another
        return func.width_bucket(Booking.starts_at, postgresql.array(ends))
    return case(*[(Booking.starts_at < end, index) for index, end in enumerate(ends)],
                else_=len(ends))


# For the report's transaction on PostgreSQL. Its statements are planned for their period
# each time: after five runs on a connection the server would settle on a generic plan that
# expects a few bookings and reads a year's through the index. And the planner estimates
# the (month, shared) groups from the distinct start times, tens of thousands, when there
# are at most two a month: with the default work_mem it would sort the period's bookings
# instead of hashing both groupings in one pass.
REPORT_SETTINGS = {"plan_cache_mode": "force_custom_plan", "work_mem": "32MB"}


def planned_for_the_period() -> None:
    if is_postgresql():
        db.session.execute(select(*[func.set_config(name, value, True)
                                    for name, value in REPORT_SETTINGS.items()]))


def whole_rows(scope: Scope):
    """In one statement, (resource, organisation, units, -, -, seconds, bookings) for each
    resource and organisation, then (-, -, -, month, shared, seconds, -) for each month it
    starts in and whether the organisation owns the resource: the bookings counted whole
    (units are a key, so that no length is computed twice)."""
    pair = (Booking.resource_id, Booking.organisation_id, Booking.quantity)
    month = start_month(scope.months).label("start_month")
    seconds = summed_seconds(Booking.starts_at, Booking.ends_at)
    if is_postgresql():
        return grouped_twice(scope, pair, month, seconds)
    return grouped_from_groups(scope, pair, month, seconds)


def grouped_twice(scope: Scope, pair: tuple, month, seconds):
    """PostgreSQL hashes both groupings in one pass over the bookings (grouping sets, with
    the work_mem of `planned_for_the_period`)."""
    shared = (Booking.organisation_id != Resource.owner_organisation_id).label("shared")
    # a float, not a numeric that the driver would read into a Decimal
    statement = select(*pair, month, shared, cast(seconds, Float), func.count()) \
        .join(Resource, Resource.id == Booking.resource_id) \
        .where(*scope.starting_in_period()) \
        .group_by(func.grouping_sets(tuple_(*pair), tuple_(month, shared)))
    return core_rows(statement)


def grouped_from_groups(scope: Scope, pair: tuple, month, seconds):
    """SQLite reads each booking through the start-time index, then the table, which costs
    more than what is done with it: it reads them once, grouped by resource, organisation,
    units and month, and both groupings are made from those groups."""
    groups = select(*pair, month, seconds.label("seconds"), func.count().label("bookings")) \
        .where(*scope.starting_in_period()).group_by(*pair, month).cte("whole")
    grouped = (groups.c.resource_id, groups.c.organisation_id, groups.c.quantity)
    shared = (groups.c.organisation_id != Resource.owner_organisation_id).label("shared")
    total = func.sum(groups.c.seconds)
    by_pair = select(*grouped, null(), null(), total, func.sum(groups.c.bookings)) \
        .group_by(*grouped)
    by_month = select(null(), null(), null(), groups.c.start_month, shared, total, null()) \
        .join(Resource, Resource.id == groups.c.resource_id) \
        .group_by(groups.c.start_month, shared)
    return core_rows(union_all(by_pair, by_month))


def booked_month_rows(scope: Scope) -> list[tuple]:
    """From the bookings' counts per month, over the scope's whole months: (resource,
    organisation, -, -, seconds, unit-seconds, bookings, cancelled, late) per resource and
    organisation, then (-, -, month, shared, seconds, -, -, -, -) per month and whether the
    organisation owns the resource."""
    months = scope.whole_months
    pair, shared = (BookedMonth.resource_id, BookedMonth.organisation_id), BookedMonth.shared
    # whole numbers, not the numerics PostgreSQL sums big integers into (Decimals in Python)
    seconds, *counts = (cast(func.sum(getattr(BookedMonth, name)), BigInteger)
                        for name in COUNTS)
    chosen = (BookedMonth.month >= months[0].first_day,
              BookedMonth.month <= months[-1].first_day, *scope.conditions(BookedMonth))
    if is_postgresql():  # both groupings hashed in one pass
        return core_rows(
            select(*pair, BookedMonth.month, shared, seconds, *counts).where(*chosen)
            .group_by(func.grouping_sets(tuple_(*pair), tuple_(BookedMonth.month, shared))))
    by_pair = select(*pair, null(), null(), seconds, *counts).where(*chosen).group_by(*pair)
    by_month = select(null(), null(), BookedMonth.month, shared, seconds,
                      *[null()] * len(counts)).where(*chosen).group_by(BookedMonth.month, shared)
    return core_rows(union_all(by_pair, by_month))


def crossing_rows(scope: Scope) -> list[tuple]:
    """(boundary, resource, organisation, units, seconds after it) for each confirmed
    booking started before a boundary (a month's start, the period's end) and running past
    it. Each boundary reads only the short range of the start-time index of bookings that
    can still be running then; the few rows found are clipped here."""
    lookback = longest_occupancy()
    edges = [(index, at - lookback, at) for index, at in enumerate(scope.boundaries)]
    # the status in each range, or SQLite reads every confirmed booking's index entry
    crossing = or_(*[and_(Booking.status == "confirmed", Booking.starts_at >= earliest,
                          Booking.starts_at < at, Booking.ends_at > at)
                     for _index, earliest, at in edges])
    rows = core_rows(select(
        Booking.resource_id, Booking.organisation_id, Booking.quantity, Booking.starts_at,
        Booking.ends_at).where(crossing, *scope.conditions()))
    return [(index, resource_id, org_id, units, (ends_at - at).total_seconds())
            for resource_id, org_id, units, starts_at, ends_at in rows
            for index, earliest, at in edges if earliest <= starts_at < at < ends_at]


def late_cancellation():
    """SQL: the booking was cancelled after its free-cancellation deadline."""
    if is_postgresql():
        deadline = Booking.starts_at - Resource.free_cancellation_minutes * literal_column(
            "interval '1 minute'")
        return Booking.decided_at > deadline
    return func.julianday(Booking.decided_at) > func.julianday(Booking.starts_at) \
        - Resource.free_cancellation_minutes / 1440.0


def cancellation_rows(scope: Scope):
    """Cancelled bookings starting in the period, per organisation, and the late ones: read
    from the index of cancelled bookings alone."""
    statement = select(Booking.organisation_id, func.count(),
                       func.sum(case((late_cancellation(), 1), else_=0))) \
        .join(Resource, Resource.id == Booking.resource_id) \
        .where(*scope.starting_in_period("cancelled"))
    return db.session.execute(statement.group_by(Booking.organisation_id)).all()


def credit_rows(scope: Scope):
    """Credits each booking organisation paid (net of refunds) within the period: the
    entries name the booking's organisation, so bookings are read only to keep those of
    some resources."""
    statement = select(CreditEntry.organisation_id, func.sum(-CreditEntry.amount_cents)).where(
        CreditEntry.organisation_id == CreditEntry.booking_organisation_id,
        CreditEntry.at >= scope.months[0].start, CreditEntry.at < scope.months[-1].end)
    if scope.organisation_id is not None:
        statement = statement.where(CreditEntry.organisation_id == scope.organisation_id)
    if scope.resource_ids is not None:
        statement = statement.join(Booking, Booking.id == CreditEntry.booking_id) \
            .where(Booking.resource_id.in_(scope.resource_ids))
    return db.session.execute(statement.group_by(CreditEntry.organisation_id)).all()


# --- open hours ------------------------------------------------------------------------------

def open_seconds(resources: list[NamedResource], query: ReportQuery) -> dict[int, float]:
    """Seconds each resource is open in the period: its weekly hours (or the default) on
    its site's clock, minus its closures. One count per distinct timetable and clock."""
    closures, by_timetable, result = closures_of(resources, query), {}, {}
    for resource in resources:
        hours, tz_name = counted_hours(resource.opening_hours), resource.timezone
        if (hours, tz_name) not in by_timetable:
            by_timetable[hours, tz_name] = weekly_seconds(hours, tz_name, query.start,
                                                          query.end)
        seconds = by_timetable[hours, tz_name]
        holes = closures.get(resource.id)
        result[resource.id] = seconds - seconds_closed(hours, tz_name, holes, query) \
            if holes else seconds
    return result


def counted_hours(opening_hours: str | None) -> str:
    """The resource's weekly hours (JSON text), or the default a report assumes when it
    has none."""
    return DEFAULT_HOURS_TEXT if weekly_hours(opening_hours).always_open else opening_hours


def weekly_seconds(opening_hours: str, tz_name: str, first: date, last: date) -> float:
    """Seconds open from `first` to `last` (whole local days): minutes on the wall clock,
    except on the days the clock changes, whose spans are placed on the timeline."""
    hours, tz, seconds = weekly_hours(opening_hours), zone(tz_name), 0.0
    day, midnight = first, datetime.combine(first, time(), tz)
    while day <= last:
        spans, following = hours.days[day.weekday()], day + timedelta(days=1)
        next_midnight = datetime.combine(following, time(), tz)
        if spans and midnight.utcoffset() == next_midnight.utcoffset():
            seconds += 60 * sum(b - a for a, b in spans)
        elif spans:
            seconds += sum((at_wall_minutes(day, b, tz) - at_wall_minutes(day, a, tz))
                           .total_seconds() for a, b in spans)
        day, midnight = following, next_midnight
    return seconds


def period_on(tz_name: str, query: ReportQuery) -> tuple[datetime, datetime]:
    """The period from midnight to midnight on a clock, in UTC."""
    tz = zone(tz_name)
    return at_wall_minutes(query.start, 0, tz), at_wall_minutes(query.end + timedelta(days=1),
                                                                  0, tz)


def closures_of(resources: list[NamedResource], query: ReportQuery) -> dict[int, list]:
    """The resources' closures touching the period, merged: found by their dates rather than
    by a list of hundreds of resources."""
    periods = [period_on(tz_name, query) for tz_name in {r.timezone for r in resources}]
    if not periods:
        return {}
    named, closures = {r.id for r in resources}, defaultdict(list)
    for resource_id, start, end in db.session.execute(
            select(Closure.resource_id, Closure.starts_at, Closure.ends_at).where(
                Closure.starts_at < max(e for _s, e in periods),
                Closure.ends_at > min(s for s, _e in periods))):
        if resource_id in named:
            closures[resource_id].append((start, end))
    return {resource_id: merge(holes) for resource_id, holes in closures.items()}


def seconds_closed(hours: str, tz_name: str, holes: list, query: ReportQuery
                   ) -> float:
    """Seconds of the open hours inside the holes (apart), within the period: only the
    days of each hole are laid out."""
    start, end = period_on(tz_name, query)
    closed = 0.0
    for hole_start, hole_end in holes:
        hole_start, hole_end = max(hole_start, start), min(hole_end, end)
        closed += sum((min(b, hole_end) - max(a, hole_start)).total_seconds()
                      for a, b in open_intervals(hours, zone(tz_name), hole_start, hole_end))
    return closed


# --- the report ------------------------------------------------------------------------------

def hours(seconds: float) -> float:
    return round(seconds / SECONDS_PER_HOUR, 2)


def share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Tally:
    seconds: float = 0
    cross_seconds: float = 0
    unit_seconds: float = 0
    people_seconds: float = 0
    sessions: int = 0
    organisations: set[int] = field(default_factory=set)

    def absorb(self, other: "Tally") -> None:
        self.seconds += other.seconds
        self.unit_seconds += other.unit_seconds
        self.cross_seconds += other.cross_seconds
        self.people_seconds += other.people_seconds
        self.sessions += other.sessions
        self.organisations |= other.organisations


@dataclass
class Tallies:
    """What the report counts, per resource, booking organisation and month. A resource's
    tally holds seconds, cross-organisation and unit-seconds, and who booked it; an
    organisation's, seconds, cross-organisation and staff seconds, and sessions."""

    owners: dict[int, int]
    people: set[int]
    total: Tally = field(default_factory=Tally)
    resources: dict[int, Tally] = field(default_factory=lambda: defaultdict(Tally))
    organisations: dict[int, Tally] = field(default_factory=lambda: defaultdict(Tally))
    months: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    cancellations: dict[int, tuple[int, int]] = field(default_factory=dict)
    credits: dict[int, int] = field(default_factory=dict)

    def add(self, resource_id: int, org_id: int, seconds: float, unit_seconds: float,
            bookings: int) -> None:
        """Seconds that an organisation booked of a resource (in `bookings` bookings)."""
        resource, organisation = self.resources[resource_id], self.organisations[org_id]
        resource.seconds += seconds
        organisation.seconds += seconds
        resource.unit_seconds += unit_seconds
        resource.organisations.add(org_id)
        if self.owners[resource_id] != org_id:
            resource.cross_seconds += seconds
            organisation.cross_seconds += seconds
        if resource_id in self.people:
            organisation.people_seconds += seconds
            organisation.sessions += bookings

    def add_to_month(self, label: str, seconds: float, shared: bool) -> None:
        month = self.months[label]
        month.seconds += seconds
        month.cross_seconds += seconds if shared else 0

    def count(self, scope: Scope) -> None:
        """One clock's bookings: the whole months from their counts, the months cut by the
        period's edges from the bookings."""
        if scope.whole_months:
            self.count_whole_months(scope)
        for cut in scope.cut_months():
            self.count_bookings(cut)
            for org_id, count, late in cancellation_rows(cut):
                self.add_cancellations(org_id, count, late or 0)
        for org_id, cents in credit_rows(scope):
            self.credits[org_id] = self.credits.get(org_id, 0) + (cents or 0)

    def count_whole_months(self, scope: Scope) -> None:
        for resource_id, org_id, month, shared, seconds, unit_seconds, bookings, cancelled, \
                late in booked_month_rows(scope):
            if resource_id is None:  # a date, or its ISO text from SQLite's union
                self.add_to_month(str(month)[:7], seconds, shared)
                continue
            if seconds or bookings:  # not only cancellations, nor counts back to zero
                self.add(resource_id, org_id, seconds, unit_seconds, bookings)
            if cancelled:
                self.add_cancellations(org_id, cancelled, late)

    def add_cancellations(self, org_id: int, count: int, late: int) -> None:
        before = self.cancellations.get(org_id, (0, 0))
        self.cancellations[org_id] = (before[0] + count, before[1] + late)

    def count_bookings(self, scope: Scope) -> None:
        """Bookings counted whole by the month they start in, then what crosses a
        boundary moves across it."""
        labels = [month.label for month in scope.months]
        for resource_id, org_id, units, month, shared, seconds, bookings in whole_rows(scope):
            seconds = round(seconds)  # SQLite's day fractions are off by microseconds
            if resource_id is None:
                self.add_to_month(labels[month], seconds, shared)
            else:
                self.add(resource_id, org_id, seconds, seconds * units, bookings)
        for boundary, resource_id, org_id, units, seconds in crossing_rows(scope):
            self.move_across(labels, boundary, resource_id, org_id, units, seconds)

    def move_across(self, labels: list[str], boundary: int, resource_id: int, org_id: int,
                    units: int, seconds: float) -> None:
        """What crosses a boundary goes from the month before it to the month after it
        (month k holds its whole bookings + what crosses its start - what crosses its end);
        what crosses the period's start comes in, what crosses its end goes out."""
        shared, last = self.owners[resource_id] != org_id, len(labels)
        if boundary < last:
            self.add_to_month(labels[boundary], seconds, shared)
        if boundary > 0:
            self.add_to_month(labels[boundary - 1], -seconds, shared)
        if boundary in (0, last):
            inside = seconds if boundary == 0 else -seconds
            self.add(resource_id, org_id, inside, inside * units, 0)


def tally(scopes: list[Scope], resources: list[NamedResource]) -> Tallies:
    tallies = Tallies(owners={r.id: r.owner_organisation_id for r in resources},
                      people={r.id for r in resources if r.kind in PEOPLE_KINDS})
    for scope in scopes:
        tallies.count(scope)
    for counted in tallies.resources.values():  # each booking counts in one resource
        tallies.total.absorb(counted)
    return tallies


def impact_report(viewer: User, query: ReportQuery) -> dict[str, Any]:
    """The report as the API sends it; pages, CSV and the summary show the same dict."""
    organisation_id = scope_for(viewer, query)
    planned_for_the_period()
    named = resources_named(query)
    tallies = tally(scopes_of(query, organisation_id, named), named)
    # an organisation's report lists only the resources it used
    resources = named if organisation_id is None else \
        [r for r in named if r.id in tallies.resources]
    open_time = open_seconds(resources, query)
    capacity = sum(open_time[r.id] * r.quantity for r in resources)
    total = tallies.total
    return {
        "period": {"start": query.start.isoformat(), "end": query.end.isoformat()},
        "organisation_id": organisation_id,
        "default_opening_hours": {
            "hours": "08:00-20:00, Monday to Friday",
            "resources": sum(1 for r in resources if weekly_hours(r.opening_hours).always_open)},
        "no_shows_counted": False,  # bookings have no check-in to tell who came
        "totals": {
            "hours": hours(total.seconds), "cross_org_hours": hours(total.cross_seconds),
            "cross_org_share": share(total.cross_seconds, total.seconds),
            "occupancy": share(total.unit_seconds, capacity),
            "organisations_served": len(total.organisations),
            "credits_circulated": sum(tallies.credits.values()) / 100,
            "cancellations": sum(c for c, _late in tallies.cancellations.values()),
            "late_cancellations": sum(late for _c, late in tallies.cancellations.values()),
        },
        "by_resource": [resource_line(r, tallies.resources.get(r.id, Tally()), open_time[r.id])
                        for r in resources],
        "by_organisation": organisation_lines(tallies, query.hourly_cost),
        "by_month": [{"month": label, "hours": hours(t.seconds),
                      "cross_org_hours": hours(t.cross_seconds)}
                     for label, t in sorted(tallies.months.items())],
    }


def resource_line(resource: NamedResource, counted: Tally, open_time: float) -> dict[str, Any]:
    return {"id": resource.id, "name": resource.name, "kind": resource.kind,
            "owner_organisation_id": resource.owner_organisation_id,
            "hours": hours(counted.seconds), "cross_org_hours": hours(counted.cross_seconds),
            "organisations": len(counted.organisations), "open_hours": hours(open_time),
            "occupancy": share(counted.unit_seconds, open_time * resource.quantity)}


def organisation_lines(tallies: Tallies, hourly_cost: Decimal | None) -> list[dict[str, Any]]:
    ids = set(tallies.organisations) | set(tallies.cancellations) | set(tallies.credits)
    names = {org_id: name for org_id, name in db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))}
    people_total = sum(t.people_seconds for t in tallies.organisations.values())
    lines = []
    for org_id in sorted(ids, key=lambda i: names[i]):
        counted = tallies.organisations.get(org_id, Tally())
        cancelled, late = tallies.cancellations.get(org_id, (0, 0))
        cost = None if hourly_cost is None else \
            round(float(hourly_cost) * counted.people_seconds / SECONDS_PER_HOUR, 2)
        lines.append({
            "id": org_id, "name": names[org_id], "hours": hours(counted.seconds),
            "cross_org_hours": hours(counted.cross_seconds),
            "staff_hours": hours(counted.people_seconds), "sessions": counted.sessions,
            "staff_share": share(counted.people_seconds, people_total), "staff_cost": cost,
            "credits_paid": tallies.credits.get(org_id, 0) / 100,
            "cancellations": cancelled, "late_cancellations": late})
    return lines

