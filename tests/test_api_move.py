"""PATCH /api/v1/bookings/<id>: move or edit a booking; 200, 409 with alternatives, 422
naming the field, 403 and 404 as for cancelling, nothing written on any error; and the
listing that never shows a request whose start passed as pending."""

from datetime import timedelta

import pytest
from api_helpers import Api, assert_garbage_refused, database_state, make_pole

from sharing.core.database import utcnow
from sharing.core.extensions import db
from sharing.models import Booking

MONDAY = "2031-03-03"


def slot(hour: int, minutes: int = 60, day: str = MONDAY) -> dict[str, str]:
    end_hour, end_minute = divmod(hour * 60 + minutes, 60)
    return {"start": f"{day}T{hour:02d}:00:00+01:00",
            "end": f"{day}T{end_hour:02d}:{end_minute:02d}:00+01:00"}


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


@pytest.fixture
def api_as(client):
    return lambda user: Api(client, user)


@pytest.fixture
def booking_id(pole, api_as):
    response = api_as(pole.partner_member).post("/bookings", json={
        "resource_id": pole.room.id, "organisation_id": pole.partner.id, "title": "Atelier",
        **slot(10)})
    assert response.status_code == 201, response.json
    return response.json["bookings"][0]["id"]


def test_a_patch_moves_the_booking_and_answers_it(pole, api_as, booking_id):
    response = api_as(pole.partner_member).patch(f"/bookings/{booking_id}",
                                                 json={**slot(14, 90), "note": "Four"})
    assert response.status_code == 200, response.json
    moved = response.json
    assert (moved["id"], moved["start"], moved["end"]) == (
        booking_id, "2031-03-03T13:00:00Z", "2031-03-03T14:30:00Z")
    assert (moved["sequence"], moved["title"], moved["note"]) == (1, "Atelier", "Four")


def test_an_empty_patch_changes_nothing(pole, api_as, booking_id):
    api = api_as(pole.partner_member)
    state = database_state()
    response = api.patch(f"/bookings/{booking_id}", json={})
    assert response.status_code == 200 and response.json["sequence"] == 0
    assert database_state() == state


def test_a_conflict_answers_409_with_alternatives_and_writes_nothing(pole, api_as, booking_id):
    api_as(pole.member).post("/bookings", json={
        "resource_id": pole.room.id, "organisation_id": pole.owner.id, **slot(14)})
    state = database_state()
    response = api_as(pole.partner_member).patch(f"/bookings/{booking_id}", json=slot(14))
    assert response.status_code == 409
    assert [c["code"] for c in response.json["conflicts"]] == ["capacity"]
    assert response.json["alternatives"]
    assert database_state() == state


def test_bad_fields_answer_422_naming_them(pole, api_as, booking_id):
    api = api_as(pole.partner_member)
    state = database_state()
    for body, field in (({"quantity": 0}, "quantity"), ({"start": "demain"}, "start"),
                        ({"colour": "red"}, "colour"), ({"title": "x" * 201}, "title"),
                        ({"resource_id": pole.van.id}, "resource_id"),
                        ({"resource_id": 2**31 - 1}, "resource_id")):
        response = api.patch(f"/bookings/{booking_id}", json=body)
        assert response.status_code == 422, body
        assert field in response.json["fields"], response.json
    assert database_state() == state


def test_who_may_not_cancel_may_not_move(pole, api_as, booking_id):
    state = database_state()
    # the owner's plain member sees the details but may not change them
    assert api_as(pole.member).patch(f"/bookings/{booking_id}", json=slot(15)).status_code \
        == 403
    # another organisation sees busy time only: still 403, as for cancelling
    assert api_as(pole.outsider_member).patch(f"/bookings/{booking_id}",
                                              json=slot(15)).status_code == 403
    assert api_as(pole.partner_member).patch("/bookings/2147483647",
                                             json=slot(15)).status_code == 404
    assert database_state() == state
    # the resource's manager may
    assert api_as(pole.manager).patch(f"/bookings/{booking_id}", json=slot(15)).status_code \
        == 200


def test_a_cancelled_booking_answers_409(pole, api_as, booking_id):
    api = api_as(pole.partner_member)
    api.post(f"/bookings/{booking_id}/cancel")
    response = api.patch(f"/bookings/{booking_id}", json=slot(15))
    assert response.status_code == 409 and response.json["error"] == "invalid_state"


def test_garbage_never_fails_nor_writes(pole, api_as, booking_id):
    assert_garbage_refused(api_as(pole.partner_member), "PATCH", f"/bookings/{booking_id}",
                           {"title": "Atelier", "quantity": 1})


def test_the_listing_expires_requests_whose_start_passed(pole, api_as, create_booking):
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    request = create_booking(pole.room, pole.partner, pole.partner_member, start,
                             minutes=180, status="pending")
    listed = api_as(pole.partner_member).get("/bookings", query_string={
        "start": (start - timedelta(hours=1)).isoformat(),
        "end": (start + timedelta(hours=5)).isoformat()}).json["bookings"]
    assert [(b["id"], b["status"]) for b in listed] == [(request.id, "expired")]
    db.session.expire_all()
    assert db.session.get(Booking, request.id).status == "expired"
    response = api_as(pole.manager).post(f"/bookings/{request.id}/approve")
    assert response.status_code == 409 and response.json["error"] == "invalid_state"
