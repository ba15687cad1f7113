"""Bookings: make them (once, recurring, several resources), list, cancel, decide;
and a resource's busy and free time. The booking engine does the work."""

from datetime import timedelta

from flask import abort, jsonify
from flask_babel import gettext as _
from flask_login import current_user

from sharing.blueprints.api import bp
from sharing.blueprints.api.contracts import (
    Availability,
    Booking,
    BookingFilters,
    BookingMove,
    Bookings,
    BookingsMade,
    Cancel,
    Cancelled,
    NewBooking,
    Reject,
    RequiredWindow,
    SeenBooking,
)
from sharing.blueprints.api.operations import invalid, operation
from sharing.blueprints.api.serialize import (
    availability_json,
    booking_json,
    booking_result_json,
    refusal_json,
)
from sharing.blueprints.lookups import find_row, visible_booking_or_404, visible_resource_or_404
from sharing.core.database import utcnow
from sharing.core.validation import InvalidInput
from sharing.engine import (
    BookingChanges,
    BookingRefused,
    BookingRequest,
    InvalidTransition,
    NotAllowed,
    book,
    cancel,
    decide,
    expire_past_requests,
    get_availability,
    move,
)
from sharing.models import Resource
from sharing.services.bookings import find_bookings
from sharing.services.messages import describe
from sharing.services.permissions import can_book_for, can_see_resource

DEFAULT_LISTING_WINDOW = timedelta(days=31)
FIRST_BOOKING = {"booking_id": "/bookings/0/id"}


def booking_request(body: NewBooking) -> BookingRequest:
    """The body as an engine request; resources the user cannot see are unknown ids."""
    wanted = BookingRequest(**dict(body))
    for name, ids in (("resource_id", [wanted.resource_id]),
                      ("extra_resource_ids", wanted.extra_resource_ids)):
        if not all(is_visible_resource(resource_id) for resource_id in ids):
            raise invalid(name, _("Unknown resource."))
    if not can_book_for(current_user, wanted.organisation_id):
        abort(403, _("You can only book for an organisation you belong to."))
    return wanted


def is_visible_resource(resource_id: int) -> bool:
    resource = find_row(Resource, resource_id)
    return resource is not None and can_see_resource(current_user, resource)


@bp.errorhandler(BookingRefused)
def refused(error: BookingRefused):
    return jsonify(refusal_json(error)), 409


@bp.errorhandler(NotAllowed)
def not_allowed(_error: NotAllowed):
    return jsonify(error="forbidden", message=_("You may not change this booking.")), 403


@bp.errorhandler(InvalidTransition)
def invalid_transition(error: InvalidTransition):
    return jsonify(error="invalid_state", message=describe(error)), 409


@bp.post("/bookings")
@operation("Book one or more resources, once or recurring", tag="bookings", body=NewBooking,
           answers={201: BookingsMade}, errors=(403, 409),
           links={view: FIRST_BOOKING for view in ("get_booking", "cancel_booking",
                                                   "approve_booking", "reject_booking",
                                                   "move_booking")})
def create_bookings(body: NewBooking):
    result = book(current_user, booking_request(body))
    return booking_result_json(result, current_user), 201


@bp.get("/bookings")
@operation("Bookings the user may see, by start (by default the next 31 days); another "
           "organisation's only as busy time", tag="bookings", query=BookingFilters,
           answers={200: Bookings})
def list_bookings(query: BookingFilters):
    start = query.start or utcnow()
    end = query.end or start + DEFAULT_LISTING_WINDOW
    if end <= start:
        raise InvalidInput(end=_("The end must come after the start."))
    expire_past_requests()  # no request whose start passed is listed as pending
    bookings = find_bookings(current_user, start, end, resource_id=query.resource_id,
                             organisation_id=query.organisation_id, status=query.status)
    return {"bookings": [booking_json(b, current_user) for b in bookings]}


@bp.get("/bookings/<int:booking_id>")
@operation("One booking (another organisation's as busy time only)", tag="bookings",
           answers={200: SeenBooking})
def get_booking(booking_id: int):
    return booking_json(visible_booking_or_404(booking_id), current_user)


@bp.patch("/bookings/<int:booking_id>")
@operation("Move or edit a booking: its time, units, title, note, or a similar resource. "
           "The same rules as booking; on a conflict nothing changes", tag="bookings",
           body=BookingMove, answers={200: Booking}, errors=(403, 409))
def move_booking(booking_id: int, body: BookingMove):
    visible_booking_or_404(booking_id)
    if body.resource_id is not None and not is_visible_resource(body.resource_id):
        raise invalid("resource_id", _("Unknown resource."))
    return booking_json(move(current_user, booking_id, BookingChanges(**dict(body))),
                        current_user)


@bp.post("/bookings/<int:booking_id>/cancel")
@operation("Cancel a booking, or it and the following occurrences", tag="bookings",
           body=Cancel, optional_body=True, answers={200: Cancelled}, errors=(403, 409))
def cancel_booking(booking_id: int, body: Cancel):
    visible_booking_or_404(booking_id)
    cancelled = cancel(current_user, booking_id, body.reason, body.scope)
    return {"bookings": [booking_json(b, current_user) for b in cancelled]}


@bp.post("/bookings/<int:booking_id>/approve")
@operation("Approve a pending booking (the resource's owner managers)", tag="bookings",
           answers={200: Booking}, errors=(403, 409))
def approve_booking(booking_id: int):
    visible_booking_or_404(booking_id)
    return booking_json(decide(current_user, booking_id, approve=True), current_user)


@bp.post("/bookings/<int:booking_id>/reject")
@operation("Reject a pending booking, saying why (owner managers)", tag="bookings",
           body=Reject, answers={200: Booking}, errors=(403, 409))
def reject_booking(booking_id: int, body: Reject):
    visible_booking_or_404(booking_id)
    booking = decide(current_user, booking_id, approve=False, reason=body.reason)
    return booking_json(booking, current_user)


@bp.get("/resources/<int:resource_id>/availability")
@operation("Busy and free intervals of a resource: busy, units held; free, at least one "
           "unit bookable, inside opening hours, not closed", tag="bookings",
           query=RequiredWindow, answers={200: Availability})
def resource_availability(resource_id: int, query: RequiredWindow):
    resource = visible_resource_or_404(find_row(Resource, resource_id))
    return availability_json(get_availability(resource, query.start, query.end))
