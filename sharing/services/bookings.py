"""Finding bookings for people: what a user may see, filtered, in a bounded number of queries.

Changing bookings is the engine's work (`sharing.engine`); this module only reads.
"""

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from sharing.core.extensions import db
from sharing.core.validation import is_row_id
from sharing.engine.calendar import longest_occupancy
from sharing.engine.times import to_utc
from sharing.models import HOLDING_STATUSES, Booking, Resource, User
from sharing.services.paging import PAGE_SIZE, Page, page_of
from sharing.services.permissions import (
    booking_details_clause,
    can_see_booking,
    is_admin,
    visible_resources_clause,
)

LISTING_LIMIT = 1000


def visible_bookings_clause(user: User):
    own = [m.organisation_id for m in user.memberships]
    return or_(visible_resources_clause(user), Booking.organisation_id.in_(own))


def overlapping(start: datetime, end: datetime):
    """SQL filter: bookings overlapping [start, end), read as an index range on starts_at
    (looking back in real time: `start` may be a wall-clock time of a page)."""
    return and_(Booking.starts_at < end, Booking.ends_at > start,
                Booking.starts_at >= to_utc(start) - longest_occupancy())


def find_bookings(user: User, start: datetime, end: datetime, resource_id: int | None = None,
                  organisation_id: int | None = None, status: str | None = None
                  ) -> list[Booking]:
    """Bookings overlapping [start, end) that the user may see, by start time: in full,
    or, another organisation's, as the busy time they hold. `organisation_id` selects
    among the former only: busy time is never attributed to an organisation."""
    details = booking_details_clause(user)
    busy = and_(visible_resources_clause(user), Booking.status.in_(HOLDING_STATUSES))
    query = (
        select(Booking).join(Booking.resource)
        .where(or_(details, busy), overlapping(start, end))
        .options(selectinload(Booking.resource).selectinload(Resource.site))
        .order_by(Booking.starts_at, Booking.id).limit(LISTING_LIMIT))
    if resource_id is not None:
        query = query.where(Booking.resource_id == resource_id)
    if organisation_id is not None:
        query = query.where(Booking.organisation_id == organisation_id, details)
    if status is not None:
        query = query.where(Booking.status == status)
    return list(db.session.scalars(query))


def count_bookings_during(resource: Resource, start: datetime, end: datetime) -> int:
    """How many bookings holding the resource overlap [start, end): a closure added over
    them does not cancel them, so the owner knows how many to contact."""
    return db.session.scalar(
        select(func.count()).select_from(Booking)
        .where(Booking.resource_id == resource.id, overlapping(start, end),
               Booking.status.in_(HOLDING_STATUSES)))


def get_visible_booking(user: User, booking_id: int) -> Booking | None:
    booking = db.session.get(Booking, booking_id) if is_row_id(booking_id) else None
    return booking if booking is not None and can_see_booking(user, booking) else None


# --- for the booking pages: each function is one query (plus its eager loads) -----------

# What a booking row on a page shows: its resource and site, who booked, for whom, and
# who decided ("Cancelled by …", "Rejected by …").
SHOWN_WITH_A_BOOKING = (joinedload(Booking.resource).joinedload(Resource.site),
                        joinedload(Booking.organisation), joinedload(Booking.user),
                        joinedload(Booking.decided_by))




def find_organisation_bookings(user: User, now: datetime, past: bool = False, page: int = 1,
                               size: int = PAGE_SIZE) -> Page:
    """Bookings of all the user's organisations in one list by time: the coming ones
    soonest first, or the past ones latest first."""
    own = [m.organisation_id for m in user.memberships]
    when = Booking.ends_at <= now if past else Booking.ends_at > now
    order = (Booking.starts_at.desc(), Booking.id.desc()) if past \
        else (Booking.starts_at, Booking.id)
    return page_of(select(Booking).where(Booking.organisation_id.in_(own), when)
                   .options(*SHOWN_WITH_A_BOOKING).order_by(*order), page, size)


def pending_requests_clause(user: User):
    """SQL filter: pending requests on resources whose owner the user manages."""
    pending = Booking.status == "pending"
    if is_admin(user):
        return pending
    managed = [m.organisation_id for m in user.memberships if m.role == "manager"]
    return and_(pending, Booking.resource.has(Resource.owner_organisation_id.in_(managed)))


def find_pending_for_manager(user: User, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """Requests awaiting the user's decision, the soonest to start first."""
    return page_of(select(Booking).where(pending_requests_clause(user))
                   .options(*SHOWN_WITH_A_BOOKING)
                   .order_by(Booking.starts_at, Booking.id), page, size)


def find_bookings_by_id(booking_ids: list[int]) -> list[Booking]:
    """These bookings (the ids that exist), by start time, with what a page shows."""
    ids = [ident for ident in booking_ids if is_row_id(ident)]
    return list(db.session.scalars(
        select(Booking).where(Booking.id.in_(ids))
        .options(*SHOWN_WITH_A_BOOKING).order_by(Booking.starts_at, Booking.id)))


def count_pending_for_manager(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Booking).where(pending_requests_clause(user)))
