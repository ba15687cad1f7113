"""Fair shares: hours per week or month that one organisation may hold, counted per
organisation (not per user), for one resource or every resource of a kind.

Weeks start on Monday and months on the 1st, at midnight on the resource's site.
"""

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, or_, select

from sharing.core.database import UTCDateTime, is_postgresql
from sharing.core.extensions import db
from sharing.engine.calendar import longest_occupancy
from sharing.engine.times import at_wall_minutes, local_days, zone
from sharing.models import HOLDING_STATUSES, Booking, Quota, Resource

Period = tuple[datetime, datetime]
SECONDS_PER_DAY = 86400


def find_quotas(resource: Resource, organisation_id: int) -> list[Quota]:
    return list(db.session.scalars(select(Quota).where(
        Quota.organisation_id == organisation_id,
        or_(Quota.resource_id == resource.id, Quota.resource_kind == resource.kind))))


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


def hours_used(quota: Quota, period: Period, lookback: timedelta | None = None) -> float:
    """Hours the organisation already holds within the period, on the quota's scope;
    `lookback`: the longest occupancy of the scope's resources (read when not given)."""
    in_scope = resources_in_scope(quota)
    if lookback is None:
        lookback = longest_occupancy(in_scope)
    # `resource_id + 0` keeps SQLite on the organisation's (covering) index instead of one
    # range per resource of the kind; PostgreSQL chooses it anyway.
    scope = (Booking.resource_id == quota.resource_id if quota.resource_id is not None
             else (Booking.resource_id + 0).in_(select(Resource.id).where(in_scope)))
    seconds = db.session.scalar(select(func.sum(seconds_within(period))).where(
        Booking.organisation_id == quota.organisation_id,
        Booking.starts_at >= period[0] - lookback,
        Booking.starts_at < period[1], Booking.ends_at > period[0],
        Booking.status.in_(HOLDING_STATUSES), scope))
    return round(seconds or 0) / 3600


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
        self.lookbacks: dict[int, timedelta] = {}

    def quotas_for(self, resource: Resource, organisation_id: int) -> list[Quota]:
        key = (resource.id, organisation_id)
        if key not in self.quotas:
            self.quotas[key] = find_quotas(resource, organisation_id)
        return self.quotas[key]

    def hours_used(self, quota: Quota, period: Period) -> float:
        key = (quota.id, period)
        if key not in self.used:
            self.used[key] = hours_used(quota, period, self.lookback(quota))
        return self.used[key]

    def lookback(self, quota: Quota) -> timedelta:
        if quota.id not in self.lookbacks:  # one read for the week's and the month's sums
            self.lookbacks[quota.id] = longest_occupancy(resources_in_scope(quota))
        return self.lookbacks[quota.id]


def quota_conflicts(resource: Resource, organisation_id: int, start: datetime, end: datetime,
                    ledger: QuotaLedger | None = None) -> list[dict[str, Any]]:
    """For each period whose limit this booking would exceed: the hours it would bring
    the organisation to, the period ("week" or "month") and the limit."""
    ledger = ledger or QuotaLedger()
    tz = zone(resource.timezone)
    exceeded = []
    for quota in ledger.quotas_for(resource, organisation_id):
        limits = [(quota.max_hours_per_week, weeks_touched, "week"),
                  (quota.max_hours_per_month, months_touched, "month")]
        for limit, periods_of, name in limits:
            if limit is None:
                continue
            for period in periods_of(start, end, tz):
                total = ledger.hours_used(quota, period) + overlap_hours(start, end, period)
                if total > limit + 1e-9:
                    exceeded.append({"total": round(total, 2), "period": name,
                                     "limit": round(limit, 2)})
    return exceeded

