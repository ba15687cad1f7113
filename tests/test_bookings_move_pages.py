"""The edit page of a booking: an "Edit" button for who may change it, a prefilled form,
a move that keeps the row, a conflict shown with one-click alternatives, form errors with
nothing written, and refusals for others' bookings."""

import re

import pytest
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from engine_helpers import at
from sqlalchemy import select
from test_bookings_pages import alternative_forms, field_error

from sharing.core.extensions import db
from sharing.engine import book
from sharing.models import Booking


def form(**fields) -> dict:
    data = {"date": "2027-01-12", "start_time": "14:00", "end_time": "15:30",
            "title": "Atelier pâtisserie", "note": ""}
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


@pytest.fixture
def booking(scene):
    return book(scene.member, scene.request("2027-01-12 10:00", "2027-01-12 11:00",
                                            title="Atelier pâtisserie")).bookings[0]


def stored(booking_id: int) -> tuple:
    db.session.expire_all()
    row = db.session.get(Booking, booking_id)
    return (row.resource_id, row.starts_at, row.ends_at, row.quantity, row.title, row.note,
            row.status, row.sequence)


def count() -> int:
    return len(db.session.scalars(select(Booking.id)).all())


def test_the_booking_page_offers_edit_to_who_may_change_it(scene, login, booking,
                                                           create_user):
    page = login(scene.member).get(f"/bookings/{booking.id}").text
    assert f'href="/bookings/{booking.id}/edit"' in page
    colleague = create_user(organisation=scene.booker)  # sees it, may not change it
    page = login(colleague).get(f"/bookings/{booking.id}").text
    assert "/edit" not in page


def test_the_form_is_prefilled_in_local_time(scene, login, booking, create_resource):
    twin = create_resource(kind="room", owner=scene.owner, site=scene.room.site,
                           name="Salle des Platanes", capacity=20)
    page = login(scene.member).get(f"/bookings/{booking.id}/edit")
    assert page.status_code == 200
    assert 'value="2027-01-12"' in page.text and 'value="10:00"' in page.text
    assert 'value="11:00"' in page.text and 'value="Atelier pâtisserie"' in page.text
    assert re.search(rf'<option selected value="{scene.room.id}">', page.text)
    assert f'<option value="{twin.id}">Salle des Platanes' in page.text


def test_a_move_through_the_form_keeps_the_row_and_says_so(scene, login, booking):
    client = login(scene.member)
    response = client.post(f"/bookings/{booking.id}/edit", data=form(note="Four chaud"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/bookings/{booking.id}")
    assert stored(booking.id)[1:] == (at("2027-01-12 14:00"), at("2027-01-12 15:30"), 1,
                                      "Atelier pâtisserie", "Four chaud", "confirmed", 1)
    assert count() == 1
    assert "Booking changed." in client.get(response.headers["Location"]).text


def test_a_similar_resource_is_chosen_in_the_form(scene, login, booking, create_resource):
    twin = create_resource(kind="room", owner=scene.owner, site=scene.room.site,
                           name="Salle des Platanes", capacity=20)
    response = login(scene.member).post(f"/bookings/{booking.id}/edit",
                                        data=form(resource=str(twin.id)))
    assert response.status_code == 302 and stored(booking.id)[0] == twin.id


def test_a_conflict_shows_the_reasons_and_alternatives_that_move_it(scene, login, booking,
                                                                   create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-01-12 14:00"),
                   minutes=90, title="Conseil très secret")
    before = stored(booking.id)
    client = login(scene.member)
    response = client.post(f"/bookings/{booking.id}/edit", data=form())
    assert response.status_code == 409
    assert re.findall(r'data-code="([a-z_]+)"', response.text) == ["capacity"]
    assert "Conseil très secret" not in response.text
    assert stored(booking.id) == before
    offers = alternative_forms(response.text)
    assert offers and all(action == f"/bookings/{booking.id}/edit" for action, _ in offers)
    action, fields = offers[0]
    assert client.post(action, data=fields).status_code == 302
    assert stored(booking.id)[7] == 1 and count() == 2


def test_form_errors_write_nothing(scene, login, booking, create_resource):
    create_resource(kind="room", owner=scene.owner, site=scene.room.site, capacity=20)
    elsewhere = create_resource(kind="room", owner=scene.owner, capacity=20)
    before = stored(booking.id)
    client = login(scene.member)
    for fields, field in (({"end_time": "13:00"}, "end_time"), ({"date": "2027-02-30"}, "date"),
                          ({"title": "x" * 201}, "title"),
                          ({"resource": "2147483647"}, "resource"),
                          ({"resource": str(elsewhere.id)}, "resource")):
        response = client.post(f"/bookings/{booking.id}/edit",
                               data=form(**{"resource": str(scene.room.id), **fields}))
        assert response.status_code == 422, fields
        assert field_error(response.text, field), field
    assert stored(booking.id) == before


def test_others_may_not_edit(scene, login, booking, create_user, create_organisation):
    before = stored(booking.id)
    colleague = create_user(organisation=scene.booker)
    assert login(colleague).get(f"/bookings/{booking.id}/edit").status_code == 403
    assert login(colleague).post(f"/bookings/{booking.id}/edit",
                                 data=form()).status_code == 403
    # another organisation sees busy time only: still 403, as for cancelling
    stranger = create_user(organisation=create_organisation())
    assert login(stranger).post(f"/bookings/{booking.id}/edit",
                                data=form()).status_code == 403
    assert login(scene.member).get("/bookings/2147483647/edit").status_code == 404
    assert stored(booking.id) == before


def test_a_cancelled_booking_is_not_edited(scene, login, booking):
    client = login(scene.member)
    client.post(f"/bookings/{booking.id}/cancel", data={"scope": "one"})
    response = client.get(f"/bookings/{booking.id}/edit")
    assert response.status_code == 302
    assert "already cancelled" in client.get(response.headers["Location"]).text
