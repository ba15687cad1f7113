"""Finding bookings for people: what a user may see, filtered, in a bounded number of queries.

Changing bookings is the engine's work (`sharing.engine`); this module only reads.
"""

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from sharing.engine.policy import LONGEST_BOOKING_MINUTES
from sharing.extensions import db
from sharing.models import Booking, Resource, User
from sharing.permissions import can_see_booking, visible_resources_clause
from sharing.validation import is_row_id

LISTING_LIMIT = 1000


def visible_bookings_clause(user: User):
    own = [m.organisation_id for m in user.memberships]
    return or_(visible_resources_clause(user), Booking.organisation_id.in_(own))


def find_bookings(user: User, start: datetime, end: datetime, resource_id: int | None = None,
                  organisation_id: int | None = None, status: str | None = None
                  ) -> list[Booking]:
    """Bookings overlapping [start, end) that the user may see, by start time."""
    query = (
        select(Booking).join(Booking.resource)
        .where(visible_bookings_clause(user), Booking.starts_at < end, Booking.ends_at > start,
               Booking.starts_at >= start - timedelta(minutes=LONGEST_BOOKING_MINUTES))
        .options(selectinload(Booking.resource).selectinload(Resource.site))
        .order_by(Booking.starts_at, Booking.id).limit(LISTING_LIMIT))
    if resource_id is not None:
        query = query.where(Booking.resource_id == resource_id)
    if organisation_id is not None:
        query = query.where(Booking.organisation_id == organisation_id)
    if status is not None:
        query = query.where(Booking.status == status)
    return list(db.session.scalars(query))


def get_visible_booking(user: User, booking_id: int) -> Booking | None:
    booking = db.session.get(Booking, booking_id) if is_row_id(booking_id) else None
    return booking if booking is not None and can_see_booking(user, booking) else None
