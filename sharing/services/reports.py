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

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import ConfigDict
from sqlalchemy import (
    Float,
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
from sharing.engine.policy import WEEKDAYS, has_opening_hours
from sharing.engine.times import at_wall_minutes, merge, open_intervals, zone
from sharing.models import (
    RESOURCE_KINDS,
    Booking,
    Closure,
    CreditEntry,
    Organisation,
    Resource,
    Site,
    User,
)
from sharing.services.permissions import can_see_report_of, is_admin

# Assumed for resources without opening hours, and said so in the report.
DEFAULT_OPENING_HOURS = {day: [["08:00", "20:00"]] if day not in ("sat", "sun") else []
                         for day in WEEKDAYS}
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


def months_of(query: ReportQuery, tz_name: str) -> list[Month]:
    """The period's months, the first and last cut at the period's edges, in UTC."""
    tz, months, first = zone(tz_name), [], query.start.replace(day=1)
    while first <= query.end:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        start, end = max(first, query.start), min(following, query.end + timedelta(days=1))
        months.append(Month(len(months), f"{first:%Y-%m}", at_wall_minutes(start, 0, tz),
                            at_wall_minutes(end, 0, tz)))
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

    def conditions(self) -> list:
        """SQL conditions on the booking alone: no join to read the resource or its site."""
        conditions = [] if self.resource_ids is None else \
            [Booking.resource_id.in_(self.resource_ids)]
        if self.organisation_id is not None:
            conditions.append(Booking.organisation_id == self.organisation_id)
        return conditions


def core_rows(statement) -> list[Row]:
    """The rows of a statement of plain columns, without the ORM's work on each one (a
    report reads thousands)."""
    return db.session.connection().execute(statement).all()


# What a report reads of a resource: rows, lighter than the mapped objects.
NamedResource = Row[tuple[int, str, str, int, int, dict, str]]


def resources_named(query: ReportQuery) -> list[NamedResource]:
    """Every resource the filters name, in the order reports list them."""
    statement = select(Resource.id, Resource.name, Resource.kind,
                       Resource.owner_organisation_id, Resource.quantity,
                       Resource.opening_hours, Site.timezone).join(Site)
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
    """Seconds each resource is open in the period: its weekly hours (or the default)
    on its site's clock, minus its closures. One computation per distinct week."""
    closures = closures_of(resources, query)
    by_pattern: dict[tuple[str, str], list] = {}
    result = {}
    for resource in resources:
        hours = resource.opening_hours if has_opening_hours(resource.opening_hours) \
            else DEFAULT_OPENING_HOURS
        # the same hours written in another order are only computed twice
        key = (repr(hours), resource.timezone)
        if key not in by_pattern:
            by_pattern[key] = open_spans(hours, resource.timezone, query)
        spans, seconds = by_pattern[key]
        holes = closures.get(resource.id)
        result[resource.id] = seconds - seconds_closed(spans, holes) if holes else seconds
    return result


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


def open_spans(hours: dict, tz_name: str, query: ReportQuery) -> tuple[list, float]:
    """A week pattern's open spans in the period, on a clock (sorted, apart), and their
    length."""
    start, end = period_on(tz_name, query)
    spans = [(max(a, start), min(b, end))
             for a, b in open_intervals(hours, zone(tz_name), start, end)]
    return spans, seconds_in(spans)


def seconds_in(spans) -> float:
    return sum((b - a).total_seconds() for a, b in spans)


def seconds_closed(spans: list, holes: list) -> float:
    """Seconds of the open spans inside the holes (both sorted and apart): only the spans
    around each hole are read."""
    closed = 0.0
    for hole_start, hole_end in holes:
        index = bisect_right(spans, hole_start, key=itemgetter(1))
        while index < len(spans) and spans[index][0] < hole_end:
            start, end = spans[index]
            closed += (min(end, hole_end) - max(start, hole_start)).total_seconds()
            index += 1
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

    def add(self, seconds, unit_seconds, sessions, cross: bool, people: bool, org_id):
        self.seconds += seconds
        self.unit_seconds += unit_seconds
        self.cross_seconds += seconds if cross else 0
        self.people_seconds += seconds if people else 0
        self.sessions += sessions if people else 0
        self.organisations.add(org_id)

    def absorb(self, other: "Tally") -> None:
        self.seconds += other.seconds
        self.unit_seconds += other.unit_seconds
        self.cross_seconds += other.cross_seconds
        self.people_seconds += other.people_seconds
        self.sessions += other.sessions
        self.organisations |= other.organisations


@dataclass
class Tallies:
    total: Tally = field(default_factory=Tally)
    resources: dict[int, Tally] = field(default_factory=lambda: defaultdict(Tally))
    organisations: dict[int, Tally] = field(default_factory=lambda: defaultdict(Tally))
    months: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    cancellations: dict[int, tuple[int, int]] = field(default_factory=dict)
    credits: dict[int, int] = field(default_factory=dict)


@dataclass
class Booked:
    """One clock's booked seconds before they are grouped: per (resource, organisation)
    [seconds, unit-seconds, sessions] inside the period, per (month, shared) seconds."""

    owners: dict[int, int]
    pairs: dict[tuple[int, int], list] = field(
        default_factory=lambda: defaultdict(lambda: [0.0, 0.0, 0]))
    months: dict[tuple[int, bool], float] = field(default_factory=lambda: defaultdict(float))

    def add_pair(self, resource_id, org_id, units, seconds, bookings) -> None:
        pair = self.pairs[resource_id, org_id]
        pair[0] += seconds
        pair[1] += seconds * units
        pair[2] += bookings

    def add_crossing(self, boundary, resource_id, org_id, units, seconds, last: int) -> None:
        """What crosses a boundary goes from the month before it to the month after it
        (month k holds its whole bookings + what crosses its start - what crosses its end);
        what crosses the period's start comes in, what crosses its end goes out."""
        shared = self.owners[resource_id] != org_id
        if boundary < last:
            self.months[boundary, shared] += seconds
        if boundary > 0:
            self.months[boundary - 1, shared] -= seconds
        if boundary in (0, last):
            inside = seconds if boundary == 0 else -seconds
            self.add_pair(resource_id, org_id, units, inside, 0)


def booked(scope: Scope, owners: dict[int, int]) -> Booked:
    counted = Booked(owners)
    for resource_id, org_id, units, month, shared, seconds, bookings in whole_rows(scope):
        if resource_id is None:
            counted.months[month, bool(shared)] += float(seconds)
        else:
            counted.add_pair(resource_id, org_id, units, float(seconds), bookings)
    for boundary, resource_id, org_id, units, seconds in crossing_rows(scope):
        counted.add_crossing(boundary, resource_id, org_id, units, float(seconds),
                             last=len(scope.months))
    return counted


def tally(scopes: list[Scope], resources: list[NamedResource]) -> Tallies:
    tallies = Tallies()
    owners = {r.id: r.owner_organisation_id for r in resources}
    people = {r.id for r in resources if r.kind in PEOPLE_KINDS}
    for scope in scopes:
        counted = booked(scope, owners)
        for (resource_id, org_id), (seconds, unit_seconds, sessions) in counted.pairs.items():
            facts = (round(seconds), round(unit_seconds), sessions,
                     owners[resource_id] != org_id, resource_id in people, org_id)
            tallies.resources[resource_id].add(*facts)
            tallies.organisations[org_id].add(*facts)
        for (idx, cross), seconds in counted.months.items():
            tallies.months[scope.months[idx].label].add(round(seconds), 0, 0, cross, False, None)
        for org_id, count, late in cancellation_rows(scope):
            before = tallies.cancellations.get(org_id, (0, 0))
            tallies.cancellations[org_id] = (before[0] + count, before[1] + (late or 0))
        for org_id, cents in credit_rows(scope):
            tallies.credits[org_id] = tallies.credits.get(org_id, 0) + (cents or 0)
    for counted in tallies.resources.values():  # each pair counts in one resource
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
            "resources": sum(1 for r in resources if not has_opening_hours(r.opening_hours))},
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

