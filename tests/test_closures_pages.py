"""Closures on a resource's pages: listed to whoever sees it, added and removed by its
managers, times read on the site's clock and stored in UTC; the engine then refuses."""

from datetime import UTC, datetime

import pytest
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.engine import BookingRefused, BookingRequest, book
from sharing.models import Closure

# Mid-January 2030: Paris is UTC+1, and the dates stay upcoming.
WINTER = {"start": "2030-01-14T10:00", "end": "2030-01-16T18:00", "reason": "Peinture"}


@pytest.fixture
def people(scene, create_user, create_organisation):
    """The scene's owner manager and booker member, plus a manager elsewhere and an admin."""
    elsewhere = create_user(email="elsewhere@example.org", organisation=create_organisation(),
                            role="manager")
    admin = create_user(email="admin@example.org", is_admin=True)
    return scene, elsewhere, admin


def closures() -> list[Closure]:
    return list(db.session.scalars(select(Closure).order_by(Closure.id)))


def add_url(resource) -> str:
    return f"/resources/{resource.id}/closures"


def test_manager_adds_a_closure_read_in_paris_time(client, login, people):
    scene, _elsewhere, _admin = people
    login(scene.manager)
    answer = client.post(add_url(scene.room), data=WINTER, follow_redirects=True)
    assert answer.status_code == 200
    [closure] = closures()
    assert closure.starts_at == datetime(2030, 1, 14, 9, 0, tzinfo=UTC)
    assert closure.ends_at == datetime(2030, 1, 16, 17, 0, tzinfo=UTC)
    assert closure.reason == "Peinture" and closure.created_by_id == scene.manager.id
    assert "Closure added." in answer.text and "10:00" in answer.text


def test_summer_times_are_two_hours_ahead_of_utc(client, login, people):
    scene, _elsewhere, _admin = people
    login(scene.manager)
    client.post(add_url(scene.room), data={**WINTER, "start": "2030-07-01T10:00",
                                           "end": "2030-07-02T10:00"})
    assert closures()[0].starts_at == datetime(2030, 7, 1, 8, 0, tzinfo=UTC)


def test_everyone_who_sees_the_resource_reads_its_closures(client, login, people):
    scene, _elsewhere, admin = people
    login(scene.manager)
    client.post(add_url(scene.room), data=WINTER)
    login(scene.member)
    page = client.get(f"/rooms/{scene.room.slug}")
    assert "Peinture" in page.text and "10:00" in page.text and "18:00" in page.text
    assert "Add the closure" not in page.text and "/remove" not in page.text
    login(admin)
    page = client.get(f"/rooms/{scene.room.slug}")
    assert "Add the closure" in page.text and "/remove" in page.text


def test_adding_tells_how_many_bookings_fall_inside(client, login, people, create_booking):
    scene, _elsewhere, _admin = people
    for hour in (9, 12):  # both on the 15th, inside the closure
        create_booking(scene.room, scene.booker, scene.member,
                       datetime(2030, 1, 15, hour, tzinfo=UTC))
    create_booking(scene.room, scene.booker, scene.member,
                   datetime(2030, 1, 20, 9, tzinfo=UTC))
    create_booking(scene.room, scene.booker, scene.member,
                   datetime(2030, 1, 15, 14, tzinfo=UTC), status="cancelled")
    login(scene.manager)
    answer = client.post(add_url(scene.room), data=WINTER, follow_redirects=True)
    assert "2 existing bookings fall inside the closure" in answer.text


def test_the_engine_then_refuses_a_booking_inside(client, login, people):
    scene, _elsewhere, _admin = people
    login(scene.manager)
    client.post(add_url(scene.room), data=WINTER)
    request = BookingRequest(resource_id=scene.room.id, organisation_id=scene.booker.id,
                             start=datetime(2030, 1, 15, 9, tzinfo=UTC),
                             end=datetime(2030, 1, 15, 10, tzinfo=UTC))
    with pytest.raises(BookingRefused) as refused:
        book(scene.member, request)
    assert "closed" in [conflict.code for conflict in refused.value.conflicts]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"end": "2030-01-14T09:00"}, "end", "must come after"),
    ({"end": "2030-01-14T10:00"}, "end", "must come after"),
    ({"start": "2030-02-30T10:00"}, "start", "Not a valid datetime"),
    ({"start": "2030-01-14T25:00"}, "start", "Not a valid datetime"),
    ({"start": "demain"}, "start", "Not a valid datetime"),
    ({"end": ""}, "end", "This field is required"),
    ({"reason": "x" * 201}, "reason", "at most 200"),
    ({"reason": "Pein\x00ture"}, "reason", "NUL"),
    # 31 March 2030: Paris clocks jump from 02:00 to 03:00
    ({"start": "2030-03-31T02:30", "end": "2030-04-01T10:00"}, "start", "clocks go forward"),
])
def test_bad_input_is_shown_beside_the_field_and_writes_nothing(
        client, login, people, change, field, message):
    scene, _elsewhere, _admin = people
    login(scene.manager)
    answer = client.post(add_url(scene.room), data={**WINTER, **change})
    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.text and message in answer.text
    assert closures() == []


def test_manager_removes_a_closure(client, login, people):
    scene, _elsewhere, _admin = people
    login(scene.manager)
    client.post(add_url(scene.room), data=WINTER)
    [closure] = closures()
    answer = client.post(f"{add_url(scene.room)}/{closure.id}/remove", follow_redirects=True)
    assert answer.status_code == 200 and "Closure removed" in answer.text
    assert closures() == []


@pytest.mark.parametrize("who", ["member", "elsewhere"])
def test_others_may_not_add_or_remove(client, login, people, who):
    scene, elsewhere, admin = people
    login(admin)
    client.post(add_url(scene.room), data=WINTER)
    [closure] = closures()
    login(scene.member if who == "member" else elsewhere)
    assert client.post(add_url(scene.room), data=WINTER).status_code == 403
    assert client.post(f"{add_url(scene.room)}/{closure.id}/remove").status_code == 403
    assert len(closures()) == 1


def test_unknown_resources_and_closures_are_404(client, login, people, create_resource):
    scene, _elsewhere, _admin = people
    login(scene.manager)
    client.post(add_url(scene.room), data=WINTER)
    [closure] = closures()
    other_room = create_resource(owner=scene.owner)
    assert client.post("/resources/999999/closures", data=WINTER).status_code == 404
    assert client.post(f"{add_url(scene.room)}/999999/remove").status_code == 404
    assert client.post(f"{add_url(scene.room)}/99999999999/remove").status_code == 404
    # a closure exists only under its own resource
    assert client.post(f"{add_url(other_room)}/{closure.id}/remove").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 1


def test_a_hidden_resource_is_404(client, login, people, create_resource):
    scene, elsewhere, _admin = people
    hidden = create_resource(owner=scene.owner, visibility="listed")
    login(elsewhere)
    assert client.get(add_url(hidden)).status_code == 404
    assert client.post(add_url(hidden), data=WINTER).status_code == 404
    assert closures() == []


def test_the_closures_page_lists_them_and_offers_the_form_to_managers(client, login, people):
    scene, _elsewhere, _admin = people
    login(scene.manager)
    client.post(add_url(scene.room), data=WINTER)
    assert "Add the closure" in client.get(add_url(scene.room)).text
    login(scene.member)
    page = client.get(add_url(scene.room))
    assert page.status_code == 200 and "Peinture" in page.text
    assert "Add the closure" not in page.text
    assert client.get("/resources/999999/closures").status_code == 404


def test_past_closures_are_not_listed(client, login, people):
    scene, _elsewhere, _admin = people
    login(scene.manager)
    client.post(add_url(scene.room), data={**WINTER, "start": "2020-01-14T10:00",
                                           "end": "2020-01-16T18:00"})
    assert len(closures()) == 1
    assert "Peinture" not in client.get(f"/rooms/{scene.room.slug}").text
