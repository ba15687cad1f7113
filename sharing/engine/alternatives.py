"""What to offer instead of a refused booking: the nearest free times on the same
resource (same day first, then the following days), and similar resources free at the
requested time. Each offer passes every rule for this user, so it can be booked.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import exists, select

from sharing.core.extensions import db
from sharing.engine.calendar import ResourceCalendar, load_calendar, load_calendars
from sharing.engine.contracts import Alternative, BookingRequest
from sharing.engine.policy import LONGEST_BOOKING_MINUTES, MINUTES_PER_DAY
from sharing.engine.quotas import QuotaLedger
from sharing.engine.rules import (
    Slot,
    booker_conflicts,
    check_slot,
    duration_conflicts,
    resource_conflicts,
)
from sharing.engine.times import (
    Coverage,
    Interval,
    at_wall_minutes,
    open_intervals,
    subtract,
    to_utc,
    zone,
)
from sharing.models import Organisation, Resource, ResourceTag, User
from sharing.services.permissions import is_visible_to_organisation

LIMIT = 5
SEARCH_DAYS = 14
SIMILAR_CANDIDATES = 50


def find_alternatives(user: User, request: BookingRequest, now: datetime) -> list[Alternative]:
    resource = db.session.get(Resource, request.resource_id)
    if resource is None or not is_offerable(request):
        return []
    # held while candidates are checked: each permission check looks it up again
    _organisation = db.session.get(Organisation, request.organisation_id)
    ledger = QuotaLedger()
    same = list(nearest_free_slots(user, resource, request, now, ledger))
    others = similar_free_resources(user, resource, request, now, ledger)
    keep_same = max(LIMIT - len(others), min(3, len(same)))
    return (same[:keep_same] + others)[:LIMIT]


def is_offerable(request: BookingRequest) -> bool:
    """An interval no resource may take has no alternative: looking for one would cost
    in proportion to the span asked for."""
    return timedelta(0) < to_utc(request.end) - to_utc(request.start) \
        <= timedelta(minutes=LONGEST_BOOKING_MINUTES)


def candidate_starts(resource: Resource, request: BookingRequest) -> Iterator[datetime]:
    """Grid times on the requested local day nearest first, then the following days."""
    tz, step = zone(resource.timezone), resource.slot_minutes
    first_day = request.start.astimezone(tz).date()
    for offset in range(SEARCH_DAYS + 1):
        day = first_day + timedelta(days=offset)
        starts = [at_wall_minutes(day, m, tz) for m in range(0, MINUTES_PER_DAY, step)]
        if offset == 0:
            starts.sort(key=lambda moment: abs(moment - request.start))
        yield from (moment for moment in starts if moment != request.start)


def nearest_free_slots(user: User, resource: Resource, request: BookingRequest, now: datetime,
                       ledger: QuotaLedger) -> Iterator[Alternative]:
    if duration_conflicts(Slot(resource, request.start, request.end)) \
            or request.quantity > resource.quantity:
        # no time will do on this resource: each of the fifteen days' times would be
        # checked against every rule only to be refused
        return
    length = to_utc(request.end) - to_utc(request.start)
    tz = zone(resource.timezone)
    window_start = at_wall_minutes(request.start.astimezone(tz).date(), 0, tz)
    window_end = window_start + timedelta(days=SEARCH_DAYS + 2) + length
    calendar = load_calendar(resource.id, window_start,
                             window_end + timedelta(minutes=resource.buffer_minutes),
                             resource.longest_booking_minutes)
    maybe_free = Coverage(subtract(open_and_not_closed(resource, calendar, window_start,
                                                       window_end),
                                   too_full(resource, calendar, request.quantity)))
    found = 0
    for start in candidate_starts(resource, request):
        if found == LIMIT:
            return
        if start < now or not maybe_free.covers(start, start + length):
            continue
        slot = Slot(resource, start, start + length, request.quantity)
        # the resource's own rules first: they need no query
        if not resource_conflicts(slot, calendar, now) and not booker_conflicts(
                slot, user, request.organisation_id, ledger):
            found += 1
            yield Alternative(resource.id, slot.start, slot.end)


def open_and_not_closed(resource: Resource, calendar: ResourceCalendar, start: datetime,
                        end: datetime) -> list[tuple[datetime, datetime]]:
    """A cheap first filter before the full rules: open hours minus closures and the
    owner's external busy periods."""
    spans = open_intervals(resource.opening_hours, zone(resource.timezone), start, end)
    return subtract(spans, [(c.starts_at, c.ends_at) for c in calendar.closures]
                    + calendar.external)


def too_full(resource: Resource, calendar: ResourceCalendar, quantity: int) -> list[Interval]:
    """Where a booking of `quantity` units may not lie, its buffer included: in front of
    each time when fewer units are left. On a busy day most candidate times fall there,
    and each would otherwise cost a check of every rule."""
    buffer = timedelta(minutes=resource.buffer_minutes)
    return [(start - buffer, end)
            for start, end in calendar.crowded(resource.quantity - quantity)]


def find_similar_resources(resource: Resource, quantity: int, organisation_id: int
                           ) -> list[Resource]:
    """Active resources of the same kind and site, big enough, with at least its tags."""
    query = select(Resource).where(
        Resource.kind == resource.kind, Resource.site_id == resource.site_id,
        Resource.active, Resource.id != resource.id, Resource.quantity >= quantity)
    if resource.capacity:
        query = query.where(Resource.capacity >= resource.capacity)
    for tag in resource.tags:
        query = query.where(exists().where(ResourceTag.resource_id == Resource.id,
                                           ResourceTag.tag == tag))
    candidates = db.session.scalars(
        query.order_by(Resource.capacity, Resource.name).limit(SIMILAR_CANDIDATES))
    return [r for r in candidates if is_visible_to_organisation(r, organisation_id)]


def similar_free_resources(user: User, resource: Resource, request: BookingRequest,
                           now: datetime, ledger: QuotaLedger) -> list[Alternative]:
    similar = find_similar_resources(resource, request.quantity, request.organisation_id)
    ledger.read_quotas(similar, request.organisation_id)
    calendars = load_calendars([r.id for r in similar], request.start,
                               to_utc(request.end) + timedelta(minutes=max(
                                   (r.buffer_minutes for r in similar), default=0)),
                               {r.id: r.longest_booking_minutes for r in similar})
    offers = [Alternative(r.id, request.start, request.end) for r in similar
              if not check_slot(Slot(r, request.start, request.end, request.quantity),
                                calendars[r.id], user, request.organisation_id, now, ledger)]
    return offers[:LIMIT]
