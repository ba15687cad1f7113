"""What the API answers: times in UTC with Z, bookings redacted for other organisations,
conflicts and availability as the booking endpoints return them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from api_helpers import make_pole

from sharing.blueprints.api.serialize import (
    availability_json,
    booking_json,
    booking_result_json,
    iso,
    refusal_json,
)
from sharing.core.contracts import Contract, Time, validate
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.engine import (
    Alternative,
    Availability,
    BookingRefused,
    BookingResult,
    Conflict,
    Skipped,
)


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 8, 2, hour, minute, tzinfo=UTC)


# --- times ----------------------------------------------------------------------------

def test_iso_is_utc_with_z():
    paris_summer = timezone(timedelta(hours=2))
    assert iso(datetime(2027, 8, 1, 10, 30, tzinfo=paris_summer)) == "2027-08-01T08:30:00Z"
    assert iso(None) is None


class When(Contract):
    start: Time


def parse_datetime(value, field):
    assert field == "start"
    return validate(When, {"start": value}).start


@pytest.mark.parametrize("text, expected", [
    ("2027-03-28T03:30:00+02:00", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    ("2027-03-28T01:30:00Z", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    ("2027-03-28T01:30Z", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
])
def test_parse_datetime_accepts_offsets_and_z(app, text, expected):
    assert parse_datetime(text, "start") == expected


@pytest.mark.parametrize("value", [
    "2027-03-28T01:30:00", "2027-03-28", "", "demain", None, 1234, [], "2027-02-30T10:00Z",
    "0001-01-01T00:00:00+01:00", "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z",
])
def test_parse_datetime_refuses_naive_and_malformed_naming_the_field(app, value):
    with app.test_request_context(), pytest.raises(InvalidInput) as raised:
        parse_datetime(value, "start")
    assert list(raised.value.fields) == ["start"]


# --- bookings, as the booking endpoints show them -------------------------------------

def test_booking_json_hides_another_organisations_details(app, pole, create_booking):
    booking = create_booking(pole.van, pole.partner, pole.partner_member,
                             datetime(2027, 8, 2, 8, tzinfo=UTC), minutes=90,
                             title="Livraison marché")
    booking.note = "Clé chez Sam"
    db.session.commit()
    with app.test_request_context():
        own = booking_json(booking, pole.partner_member)
        assert own == {
            "id": booking.id, "uid": booking.uid, "resource_id": pole.van.id,
            "organisation_id": pole.partner.id, "user_id": pole.partner_member.id,
            "start": "2027-08-02T08:00:00Z", "end": "2027-08-02T09:30:00Z", "quantity": 1,
            "title": "Livraison marché", "note": "Clé chez Sam", "status": "confirmed",
            "series_id": None, "sequence": 0}
        assert booking_json(booking, pole.manager) == own  # the van's owner
        assert booking_json(booking, pole.admin) == own
        # another organisation's booking is busy time, and nothing more
        assert booking_json(booking, pole.outsider_member) == {
            "busy": True, "resource_id": pole.van.id, "start": "2027-08-02T08:00:00Z",
            "end": "2027-08-02T09:30:00Z", "quantity": 1}


def test_refusal_names_each_reason_and_alternative():
    paris = timezone(timedelta(hours=2))
    refused = BookingRefused(
        [Conflict("capacity", {}, datetime(2027, 8, 2, 10, tzinfo=paris), at(9),
                  resource_id=7),
         Conflict("too_soon", {"n": 30})],
        [Alternative(7, at(10), at(11)), Alternative(8, at(8), at(9))])
    assert refusal_json(refused) == {
        "error": "conflict",
        "conflicts": [
            {"code": "capacity", "message": "Busy.", "start": "2027-08-02T08:00:00Z",
             "end": "2027-08-02T09:00:00Z", "resource_id": 7},
            {"code": "too_soon", "message": "Book at least 30 min ahead."}],
        "alternatives": [
            {"resource_id": 7, "start": "2027-08-02T10:00:00Z", "end": "2027-08-02T11:00:00Z"},
            {"resource_id": 8, "start": "2027-08-02T08:00:00Z", "end": "2027-08-02T09:00:00Z"}],
    }


def test_booking_result_lists_bookings_and_skipped_occurrences(app, pole, create_booking):
    booking = create_booking(pole.room, pole.owner, pole.member, at(8))
    closed = Conflict("closed", {"reason": "Fermé"})
    result = BookingResult([booking], [Skipped(at(9), at(10), [closed])])
    with app.test_request_context():
        data = booking_result_json(result, pole.member)
    assert [b["id"] for b in data["bookings"]] == [booking.id]
    assert data["skipped"] == [{"start": "2027-08-02T09:00:00Z", "end": "2027-08-02T10:00:00Z",
                                "conflicts": [{"code": "closed", "message": "Fermé"}]}]


def test_availability_in_utc():
    availability = Availability(busy=[(at(8), at(9), 2)], free=[(at(9), at(12, 30))])
    assert availability_json(availability) == {
        "busy": [{"start": "2027-08-02T08:00:00Z", "end": "2027-08-02T09:00:00Z", "units": 2}],
        "free": [{"start": "2027-08-02T09:00:00Z", "end": "2027-08-02T12:30:00Z"}],
    }
