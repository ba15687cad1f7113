"""Fair shares: hours per week or month that one organisation may hold, counted per
organisation (not per user), for one resource or every resource of a kind.

Weeks start on Monday and months on the 1st, at midnight on the resource's site.
"""

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, or_, select

from sharing.core.database import UTCDateTime, is_postgresql
from sharing.core.extensions import db
from sharing.engine.times import at_wall_minutes, local_days, zone
from sharing.models import HOLDING_STATUSES, Booking, Quota, Resource

Period = tuple[datetime, datetime]
SECONDS_PER_DAY = 86400


def find_quotas(resources: list[Resource], organisation_id: int) -> list[Quota]:
    """The organisation's quotas on any of the resources, or on any of their kinds."""
    return list(db.session.scalars(select(Quota).where(
        Quota.organisation_id == organisation_id,
        or_(Quota.resource_id.in_({r.id for r in resources}),
            Quota.resource_kind.in_({r.kind for r in resources})))))


def is_quota_on(quota: Quota, resource: Resource) -> bool:
    return quota.resource_id == resource.id or quota.resource_kind == resource.kind


def weeks_touched(start: datetime, end: datetime, tz) -> list[Period]:
    mondays = sorted({day - timedelta(days=day.weekday()) for day in local_days(start, end, tz)})
    return [(at_wall_minutes(m, 0, tz), at_wall_minutes(m + timedelta(days=7), 0, tz))
            for m in mondays]


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def months_touched(start: datetime, end: datetime, tz) -> list[Period]:
    firsts = sorted({day.replace(day=1) for day in local_days(start, end, tz)})
    return [(at_wall_minutes(f, 0, tz), at_wall_minutes(next_month(f), 0, tz)) for f in firsts]


def overlap_hours(start: datetime, end: datetime, period: Period) -> float:
    seconds = (min(end, period[1]) - max(start, period[0])).total_seconds()
    return max(seconds, 0) / 3600


def resources_in_scope(quota: Quota):
    """SQL: the quota's resources (one resource, or every one of a kind)."""
    return (Resource.id == quota.resource_id if quota.resource_id is not None
            else Resource.kind == quota.resource_kind)


def hours_used(quota: Quota, periods: list[Period]) -> list[float]:
    """Hours the organisation already holds within each period, on the quota's scope, in
    one statement: a sum per period over the bookings that may overlap any of them, read
    from as far back before the first as the scope's longest occupancy (which the same
    statement reads)."""
    in_scope = resources_in_scope(quota)
    first, last = min(start for start, _end in periods), max(end for _start, end in periods)
    # `resource_id + 0` keeps SQLite on the organisation's (covering) index instead of one
    # range per resource of the kind; PostgreSQL chooses it anyway.
    scope = (Booking.resource_id == quota.resource_id if quota.resource_id is not None
             else (Booking.resource_id + 0).in_(select(Resource.id).where(in_scope)))
    sums = [func.sum(case((and_(Booking.starts_at < end, Booking.ends_at > start),
                           seconds_within((start, end))))) for start, end in periods]
    row = db.session.execute(select(*sums).where(
        Booking.organisation_id == quota.organisation_id,
        Booking.starts_at >= minutes_before(first, longest_occupancy_minutes(in_scope)),
        Booking.starts_at < last, Booking.ends_at > first,
        Booking.status.in_(HOLDING_STATUSES), scope)).one()
    return [round(seconds or 0) / 3600 for seconds in row]


def longest_occupancy_minutes(in_scope):
    """SQL: how long ago, in minutes, a booking of the scope may have started and still
    be running (see `calendar.longest_occupancy`)."""
    return select(func.coalesce(func.max(Resource.longest_booking_minutes), 0)) \
        .where(in_scope).scalar_subquery()


def minutes_before(moment: datetime, minutes):
    """SQL: the instant `minutes` (an SQL integer) before `moment`, comparable with the
    stored timestamps. SQLite's text keeps three decimals of the second where the stored
    values have six: the same instant then reads as earlier, so a `>=` bound keeps it."""
    bound = literal(moment, UTCDateTime)
    if is_postgresql():
        return bound - func.make_interval(0, 0, 0, 0, 0, minutes)
    return func.strftime("%Y-%m-%d %H:%M:%f", bound,
                         "-" + cast(minutes, String) + " minutes")


def seconds_within(period: Period):
    """SQL: seconds of a booking inside the period (summed in the database, so that no row
    of the organisation's period travels to Python)."""
    start, end = (literal(moment, UTCDateTime) for moment in period)
    if is_postgresql():
        return func.extract("epoch", func.least(Booking.ends_at, end)
                            - func.greatest(Booking.starts_at, start))
    # SQLite: julianday() reads the stored text straight into days; the sum is rounded to
    # whole seconds (bookings start and end on them) by the caller.
    return (func.julianday(func.min(Booking.ends_at, end))
            - func.julianday(func.max(Booking.starts_at, start))) * SECONDS_PER_DAY


class QuotaLedger:
    """Quotas and hours used, each read once while nothing is booked in between: many
    candidate times in one week (alternatives) then cost one query, not one each."""

    def __init__(self) -> None:
        self.quotas: dict[tuple[int, int], list[Quota]] = {}
        self.used: dict[tuple[int, Period], float] = {}

    def quotas_for(self, resource: Resource, organisation_id: int) -> list[Quota]:
        self.read_quotas([resource], organisation_id)
        return self.quotas[resource.id, organisation_id]

    def read_quotas(self, resources: list[Resource], organisation_id: int) -> None:
        """Those of many resources in one query (the alternatives' similar resources)."""
        unread = [r for r in resources if (r.id, organisation_id) not in self.quotas]
        if unread:
            found = find_quotas(unread, organisation_id)
            self.quotas.update({(r.id, organisation_id): [q for q in found if is_quota_on(q, r)]
                                for r in unread})

    def hours_used(self, quota: Quota, periods: list[Period]) -> list[float]:
        missing = [period for period in periods if (quota.id, period) not in self.used]
        if missing:  # the week's and the month's sums in one statement
            self.used.update(zip([(quota.id, period) for period in missing],
                                 hours_used(quota, missing), strict=True))
        return [self.used[(quota.id, period)] for period in periods]

    def count_booked(self, resource: Resource, organisation_id: int, start: datetime,
                     end: datetime) -> None:
        """A series' occurrence just booked, or taken as booked in a dry run: its hours
        join the sums already read, so that the next occurrence in the same weeks and
        months reads none again. A sum read later needs nothing added: `book` has flushed
        the booking by then, and each occurrence reads every period it overlaps before it
        is counted (the occurrences come in time order, on the same resources)."""
        quota_ids = {quota.id for quota in self.quotas.get((resource.id, organisation_id), [])}
        for quota_id, period in self.used:
            if quota_id in quota_ids:
                self.used[quota_id, period] += overlap_hours(start, end, period)


def quota_conflicts(resource: Resource, organisation_id: int, start: datetime, end: datetime,
                    ledger: QuotaLedger | None = None) -> list[dict[str, Any]]:
    """For each period whose limit this booking would exceed: the hours it would bring
    the organisation to, the period ("week" or "month") and the limit."""
    ledger = ledger or QuotaLedger()
    tz = zone(resource.timezone)
    exceeded = []
    for quota in ledger.quotas_for(resource, organisation_id):
        limits = [(limit, name, period) for limit, periods_of, name in (
                      (quota.max_hours_per_week, weeks_touched, "week"),
                      (quota.max_hours_per_month, months_touched, "month"))
                  if limit is not None for period in periods_of(start, end, tz)]
        if not limits:
            continue
        used = ledger.hours_used(quota, [period for _limit, _name, period in limits])
        for (limit, name, period), hours in zip(limits, used, strict=True):
            total = hours + overlap_hours(start, end, period)
            if total > limit + 1e-9:
                exceeded.append({"total": round(total, 2), "period": name,
                                 "limit": round(limit, 2)})
    return exceeded
