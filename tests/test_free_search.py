""""What is free?": the page answers with exactly what the engine's free search finds and
what booking would accept; each answer opens a prefilled booking form; bad input is shown
on the form and nothing is written."""

import html
import re

import pytest
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from engine_helpers import at
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.engine import BookingRequest, check, find_free_resources
from sharing.models import Booking, Closure
from sharing.services.catalogue import find_resources

WEEKDAYS_8_TO_18 = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# Tuesday 12 January 2027, 10:00–11:00 in Paris
SEARCH = {"free-date": "2027-01-12", "free-start_time": "10:00", "free-end_time": "11:00"}


def search(client, **fields) -> tuple[int, str]:
    response = client.get("/free", query_string={**SEARCH, **fields})
    return response.status_code, response.text


def found_slugs(page: str) -> list[str]:
    section = page[page.index('class="cards free-results"'):]
    return re.findall(r'href="/bookings/new\?resource=([a-z0-9-]+)', section)


def field_error(page: str, field: str) -> str | None:
    match = re.search(rf'id="free-{field}-error">([^<]*)<', page)
    return match and html.unescape(match.group(1))


@pytest.fixture
def rooms(scene, create_resource, create_booking, create_organisation, create_user):
    """Rooms of the scene's site, each kept from 10:00–11:00 by one thing, or free."""
    site, owner = scene.room.site, scene.owner
    other = create_organisation()
    other_user = create_user(organisation=other)
    made = {
        "free": scene.room,  # capacity 12
        "small": create_resource(owner=owner, site=site, name="Petite salle", capacity=4),
        "closed": create_resource(owner=owner, site=site, name="Salle fermée", capacity=20),
        "evening": create_resource(owner=owner, site=site, name="Salle du soir", capacity=20,
                                   opening_hours={"tue": [["18:00", "23:00"]]}),
        "taken": create_resource(owner=owner, site=site, name="Salle prise", capacity=30),
        "hours": create_resource(owner=owner, site=site, name="Salle de jour", capacity=15,
                                 opening_hours=WEEKDAYS_8_TO_18, requires_approval=True),
    }
    db.session.add(Closure(resource=made["closed"], starts_at=at("2027-01-12 09:00"),
                           ends_at=at("2027-01-12 12:00"), reason="Travaux"))
    db.session.commit()
    create_booking(made["taken"], other, other_user, at("2027-01-12 10:30"), title="Secret")
    return made


def engine_accepts(scene, resources) -> set[str]:
    """The resources booking 10:00–11:00 would accept for the scene's booker."""
    return {r.slug for r in resources if not check(scene.member, BookingRequest(
        resource_id=r.id, organisation_id=scene.booker.id,
        start=at("2027-01-12 10:00"), end=at("2027-01-12 11:00")))}


def test_the_answer_is_the_engines_free_search_and_what_booking_accepts(scene, login, rooms):
    status, page = search(login(scene.member), **{"free-kind": "room"})
    assert status == 200
    shown = set(found_slugs(page))
    resources = find_resources(scene.member, kind="room")
    free = {r.slug for r in find_free_resources(resources, at("2027-01-12 10:00"),
                                                at("2027-01-12 11:00"))}
    assert shown == free == engine_accepts(scene, resources)
    assert shown == {rooms[name].slug for name in ("free", "small", "hours")}
    assert "Secret" not in page  # another organisation's booking: no trace of it
    assert "3 resources are free" in page


def test_at_least_n_people_keeps_the_rooms_large_enough(scene, login, rooms):
    _status, page = search(login(scene.member), **{"free-people": "10"})
    assert set(found_slugs(page)) == {rooms["free"].slug, rooms["hours"].slug}
    _status, page = search(login(scene.member), **{"free-people": "13"})
    assert found_slugs(page) == [rooms["hours"].slug]


def test_opening_hours_and_site_and_tag_narrow_the_answer(scene, login, rooms, create_site,
                                                          create_resource):
    elsewhere = create_resource(owner=scene.owner, site=create_site(), capacity=50,
                                tags=("cuisine",))
    client = login(scene.member)
    _status, page = search(client, **{"free-start_time": "19:00", "free-end_time": "20:00"})
    assert rooms["evening"].slug in found_slugs(page)
    assert rooms["hours"].slug not in found_slugs(page)  # closed at 19:00
    _status, page = search(client, **{"free-site": str(elsewhere.site_id)})
    assert found_slugs(page) == [elsewhere.slug]
    _status, page = search(client, **{"free-tag": "cuisine"})
    assert found_slugs(page) == [elsewhere.slug]


def test_units_of_equipment_must_be_free(scene, login, create_resource, create_booking):
    chairs = create_resource(kind="equipment", owner=scene.owner, site=scene.room.site,
                             name="Chaises pliantes", quantity=5)
    create_booking(chairs, scene.owner, scene.manager, at("2027-01-12 10:00"), quantity=3)
    client = login(scene.member)
    for units, free in (("2", True), ("3", False), ("6", False)):
        _status, page = search(client, **{"free-kind": "equipment", "free-units": units})
        assert (chairs.slug in found_slugs(page)) is free
    request = BookingRequest(chairs.id, scene.booker.id, at("2027-01-12 10:00"),
                             at("2027-01-12 11:00"), quantity=3)
    assert [c.code for c in check(scene.member, request)] == ["capacity"]


def test_each_answer_opens_the_booking_form_prefilled(scene, login, create_resource):
    van = create_resource(kind="equipment", owner=scene.owner, site=scene.room.site,
                          name="Vélos cargo", quantity=4)
    client = login(scene.member)
    _status, page = search(client, **{"free-units": "2", "free-kind": "equipment"})
    link = html.unescape(re.search(r'href="(/bookings/new\?resource=[^"]+)"', page).group(1))
    assert f"resource={van.slug}" in link
    form = client.get(link).text
    assert 'name="date" required type="date" value="2027-01-12"' in form
    assert 'value="10:00"' in form and 'value="11:00"' in form
    assert re.search(r'name="quantity"[^>]*value="2"', form)
    response = client.post(link, data={"date": "2027-01-12", "start_time": "10:00",
                                       "end_time": "11:00", "quantity": "2", "title": "",
                                       "note": "", "repeat": ""})
    assert response.status_code == 302


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"free-date": "2150-01-01"}, "date", "Give a date from 2000-01-01 to 2099-12-31."),
    ({"free-date": "demain"}, "date", "Not a valid date value."),
    ({"free-date": ""}, "date", "This field is required."),
    ({"free-end_time": "09:00"}, "end_time", "The end must come after the start."),
    ({"free-start_time": "25:00"}, "start_time", "Not a valid time value."),
    ({"free-people": "0"}, "people", "Number must be between"),
    ({"free-units": "beaucoup"}, "units", "Not a valid integer value."),
])
def test_bad_input_is_shown_on_the_form_and_nothing_is_written(scene, login, rooms, fields,
                                                              field, message):
    before = db.session.scalar(select(func.count()).select_from(Booking))
    status, page = search(login(scene.member), **fields)
    assert status == 422
    assert message in field_error(page, field)
    assert "free-results" not in page
    assert db.session.scalar(select(func.count()).select_from(Booking)) == before


def test_an_unknown_site_or_kind_is_not_a_valid_choice(scene, login):
    status, page = search(login(scene.member), **{"free-site": "999999999", "free-kind": "boat"})
    assert status == 422
    assert field_error(page, "site") and field_error(page, "kind")


def test_the_form_is_on_the_home_page_and_the_catalogues(scene, login):
    client = login(scene.member)
    home = client.get("/").text
    assert 'action="/free"' in home and "What is free?" in home
    rooms_page = client.get("/rooms").text
    assert 'action="/free"' in rooms_page
    assert '<option selected value="room">' in rooms_page
    assert client.get("/free").status_code == 200  # no search sent: only the form
    assert client.get("/free").text.count("free-results") == 0


def test_signed_out_people_are_sent_to_sign_in(client):
    assert client.get("/free", query_string=SEARCH).status_code == 302
