"""Bookings: make them (once, recurring, several resources), list, cancel, decide;
and a resource's busy and free time. The booking engine does the work."""

from datetime import timedelta
from typing import Any

from flask import abort, jsonify, request
from flask_babel import gettext as _

from sharing.blueprints.api import (
    api_user,
    bp,
    find_row,
    invalid,
    json_body,
    parse_datetime,
    parse_id,
    parse_query_id,
    query_arg,
    read_fields,
    visible_resource_or_404,
)
from sharing.blueprints.api.serialize import (
    availability_json,
    booking_json,
    booking_result_json,
    refusal_json,
)
from sharing.core.database import utcnow
from sharing.core.validation import InvalidInput
from sharing.engine import (
    BookingRefused,
    BookingRequest,
    InvalidTransition,
    NotAllowed,
    book,
    cancel,
    decide,
    get_availability,
)
from sharing.models import BOOKING_STATUSES, Booking, Resource
from sharing.services.bookings import find_bookings, get_visible_booking
from sharing.services.messages import describe
from sharing.services.permissions import can_book_for, can_see_resource

DEFAULT_LISTING_WINDOW = timedelta(days=31)


def parse_text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise invalid(field, _("Give a text."))
    return value


def parse_optional_text(value: Any, field: str) -> str | None:
    return None if value is None else parse_text(value, field)


def parse_flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(field, _("Give true or false."))
    return value


def parse_quantity(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise invalid(field, _("Give a whole number of units, at least 1."))
    return value


def parse_ids(value: Any, field: str) -> list[int]:
    if not isinstance(value, list) or len(value) > 20:
        raise invalid(field, _("Give a list of at most 20 resource ids."))
    return [parse_id(item, field) for item in value]


def parse_status(value: str, field: str) -> str:
    if value not in BOOKING_STATUSES:
        raise invalid(field, _("Choose one of %(values)s.", values=", ".join(BOOKING_STATUSES)))
    return value


BOOKING_FIELDS = {"resource_id": parse_id, "organisation_id": parse_id,
                  "start": parse_datetime, "end": parse_datetime}
OPTIONAL_BOOKING_FIELDS = {"title": parse_text, "note": parse_text, "quantity": parse_quantity,
                           "recurrence": parse_optional_text, "skip_conflicts": parse_flag,
                           "extra_resource_ids": parse_ids}


def booking_request() -> BookingRequest:
    """The body as an engine request; resources the user cannot see are unknown ids."""
    fields = read_fields(json_body(), BOOKING_FIELDS, OPTIONAL_BOOKING_FIELDS)
    wanted = BookingRequest(**fields)
    for name, ids in (("resource_id", [wanted.resource_id]),
                      ("extra_resource_ids", wanted.extra_resource_ids)):
        if not all(is_visible_resource(resource_id) for resource_id in ids):
            raise invalid(name, _("Unknown resource."))
    if not can_book_for(api_user(), wanted.organisation_id):
        abort(403, _("You can only book for an organisation you belong to."))
    return wanted


def is_visible_resource(resource_id: int) -> bool:
    resource = find_row(Resource, resource_id)
    return resource is not None and can_see_resource(api_user(), resource)


def optional_json_body() -> dict[str, Any]:
    return json_body() if request.get_data() else {}


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
def create_bookings():
    result = book(api_user(), booking_request())
    return jsonify(booking_result_json(result, api_user())), 201


@bp.get("/bookings")
def list_bookings():
    start = query_arg("start", parse_datetime) or utcnow()
    end = query_arg("end", parse_datetime) or start + DEFAULT_LISTING_WINDOW
    if end <= start:
        raise InvalidInput(end=_("The end must come after the start."))
    bookings = find_bookings(api_user(), start, end,
                             resource_id=query_arg("resource_id", parse_query_id),
                             organisation_id=query_arg("organisation_id", parse_query_id),
                             status=query_arg("status", parse_status))
    return jsonify(bookings=[booking_json(b, api_user()) for b in bookings])


def visible_booking_or_404(booking_id: int) -> Booking:
    return get_visible_booking(api_user(), booking_id) or abort(404)


@bp.get("/bookings/<int:booking_id>")
def get_booking(booking_id: int):
    return jsonify(booking_json(visible_booking_or_404(booking_id), api_user()))


@bp.post("/bookings/<int:booking_id>/cancel")
def cancel_booking(booking_id: int):
    visible_booking_or_404(booking_id)
    fields = read_fields(optional_json_body(), {}, {"reason": parse_text, "scope": parse_text})
    cancelled = cancel(api_user(), booking_id, fields.get("reason", ""),
                       fields.get("scope", "one"))
    return jsonify(bookings=[booking_json(b, api_user()) for b in cancelled])


@bp.post("/bookings/<int:booking_id>/approve")
def approve_booking(booking_id: int):
    visible_booking_or_404(booking_id)
    return jsonify(booking_json(decide(api_user(), booking_id, approve=True), api_user()))


@bp.post("/bookings/<int:booking_id>/reject")
def reject_booking(booking_id: int):
    visible_booking_or_404(booking_id)
    fields = read_fields(json_body(), {"reason": parse_text})
    booking = decide(api_user(), booking_id, approve=False, reason=fields["reason"])
    return jsonify(booking_json(booking, api_user()))


@bp.get("/resources/<int:resource_id>/availability")
def resource_availability(resource_id: int):
    resource = visible_resource_or_404(resource_id)
    start, end = query_arg("start", parse_datetime), query_arg("end", parse_datetime)
    if start is None or end is None:
        raise InvalidInput({name: [_("This field is required.")]
                            for name, value in (("start", start), ("end", end)) if value is None})
    return jsonify(availability_json(get_availability(resource, start, end)))
