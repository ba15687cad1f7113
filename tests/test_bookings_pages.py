"""The booking pages: book through the form, refusals with every reason and bookable
alternatives, bad input, series, cancel, approve and reject, and what others may see."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from engine_helpers import at
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.engine import BookingRequest, book
from sharing.models import Booking

WEEKDAYS_8_TO_18 = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def form(**fields) -> dict:
    """A booking form as a browser posts it: Tuesday 12 January 2027, 10:00–11:00."""
    data = {"date": "2027-01-12", "start_time": "10:00", "end_time": "11:00",
            "title": "Atelier pâtisserie", "note": "", "repeat": ""}
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def post_booking(client, resource, **fields):
    return client.post(f"/bookings/new?resource={resource.slug}", data=form(**fields))


def bookings() -> list[Booking]:
    db.session.expire_all()
    return list(db.session.scalars(select(Booking).order_by(Booking.starts_at, Booking.id)))


def count_bookings() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def field_error(page: str, field: str) -> str | None:
    match = re.search(rf'id="{field}-error">([^<]*)<', page)
    return match and html.unescape(match.group(1))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def alternative_forms(page: str) -> list[tuple[str, dict]]:
    """The one-click alternatives of a refusal page: (action, posted fields)."""
    section = page[page.index('class="alternatives"'):]
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', section, re.S)
    return [(html.unescape(action), {
        name: html.unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', body)})
        for action, body in forms]


# --- booking through the form ---------------------------------------------------------------

def test_the_form_shows_the_rules_and_preselects_the_only_organisation(scene, login):
    scene.room.opening_hours = WEEKDAYS_8_TO_18
    scene.room.buffer_minutes = 15
    db.session.commit()
    page = login(scene.member).get(f"/bookings/new?resource={scene.room.slug}")
    assert page.status_code == 200
    assert re.search(rf'<option selected value="{scene.booker.id}">', page.text)
    assert 'type="time"' in page.text and 'step="900"' in page.text
    assert "08:00–18:00" in page.text
    assert "A changeover of 15 min follows each booking." in page.text
    assert 'name="quantity"' not in page.text  # one unit: nothing to choose


def test_booking_through_the_form_writes_local_time_as_utc(scene, login):
    client = login(scene.member)
    response = post_booking(client, scene.room)
    (row,) = bookings()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/bookings/{row.id}")
    # 10:00 in Paris in winter is 09:00 UTC
    assert (row.starts_at, row.ends_at) == (utc("2027-01-12 09:00"), utc("2027-01-12 10:00"))
    assert (row.organisation_id, row.user_id, row.status) == (
        scene.booker.id, scene.member.id, "confirmed")
    assert row.title == "Atelier pâtisserie"
    page = client.get(response.headers["Location"]).text
    assert "Booking confirmed." in page and "10:00–11:00" in page


def test_a_resource_needing_approval_gives_a_pending_request(scene, login):
    scene.room.requires_approval = True
    db.session.commit()
    response = post_booking(login(scene.member), scene.room)
    (row,) = bookings()
    assert row.status == "pending"
    page = login(scene.member).get(response.headers["Location"]).text
    assert "Request sent: Ressourcerie will approve or refuse it." in page


def test_a_day_from_the_planning_prefills_the_form(scene, login):
    client = login(scene.member)
    page = client.get(f"/bookings/new?resource={scene.room.slug}&date=2027-01-14")
    assert 'value="2027-01-14"' in page.text
    for garbage in ("2027-02-30", "soon", "%00"):
        assert client.get(f"/bookings/new?resource={scene.room.slug}&date={garbage}"
                          ).status_code == 200


def test_extra_resources_are_booked_together(scene, login, create_resource):
    projector = create_resource(kind="equipment", owner=scene.owner, site=scene.room.site,
                                name="Vidéoprojecteur")
    response = post_booking(login(scene.member), scene.room, extra_resources=str(projector.id))
    assert response.status_code == 302
    rows = bookings()
    assert {r.resource_id for r in rows} == {scene.room.id, projector.id}
    assert rows[0].group_uid and rows[0].group_uid == rows[1].group_uid


# --- refusals --------------------------------------------------------------------------------

def test_a_refusal_lists_every_reason_without_leaking_and_offers_bookable_alternatives(
        scene, login, create_booking, create_resource):
    scene.room.opening_hours = WEEKDAYS_8_TO_18
    db.session.commit()
    twin = create_resource(kind="room", owner=scene.owner, site=scene.room.site,
                           name="Salle des Platanes", capacity=20)
    create_booking(scene.room, scene.owner, scene.manager, at("2027-01-12 17:00"),
                   title="Conseil très secret")
    client = login(scene.member)
    response = post_booking(client, scene.room, start_time="17:30", end_time="18:30")
    assert response.status_code == 409
    page = response.text
    codes = re.findall(r'data-code="([a-z_]+)"', page)
    assert set(codes) == {"outside_opening_hours", "capacity"}
    assert "Busy." in page and "17:00–18:00" in page
    assert "Conseil très secret" not in page and "Ressourcerie" not in page
    assert count_bookings() == 1
    offers = alternative_forms(page)
    assert offers, page
    assert any(f"resource={twin.slug}" in action for action, _fields in offers)
    # following an alternative books it, as it says
    action, fields = offers[0]
    assert fields["organisation"] == str(scene.booker.id)
    followed = client.post(action, data=fields)
    assert followed.status_code == 302, followed.text
    assert count_bookings() == 2
    # and the similar room is free at the time asked for
    action, fields = next(o for o in offers if f"resource={twin.slug}" in o[0])
    assert client.post(action, data=fields).status_code == 302
    booked = [b for b in bookings() if b.resource_id == twin.id]
    assert [(b.starts_at, b.ends_at) for b in booked] == [
        (utc("2027-01-12 16:30"), utc("2027-01-12 17:30"))]


def test_a_time_in_the_spring_forward_gap_is_refused_with_its_reason(scene, login):
    response = post_booking(login(scene.member), scene.room, date="2027-03-28",
                            start_time="02:30", end_time="04:00")
    assert response.status_code == 409
    assert 'data-code="nonexistent_local_time"' in response.text
    assert "02:30 does not exist on that day" in response.text
    assert count_bookings() == 0


# --- series ---------------------------------------------------------------------------------

def test_a_weekly_series_keeps_local_time_and_skips_the_conflicting_date(
        scene, login, create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-23 10:00"))
    client = login(scene.member)
    series = form(date="2027-03-16", repeat="WEEKLY", occurrences="4", skip_conflicts="y")
    response = client.post(f"/bookings/new?resource={scene.room.slug}", data=series)
    assert response.status_code == 302
    mine = [b for b in bookings() if b.organisation_id == scene.booker.id]
    # 10:00 in Paris on both sides of the change to summer time (28 March)
    assert [b.starts_at for b in mine] == [
        utc("2027-03-16 09:00"), utc("2027-03-30 08:00"), utc("2027-04-06 08:00")]
    assert len({b.series_id for b in mine}) == 1 and mine[0].series_id
    page = client.get(response.headers["Location"]).text
    assert "3 bookings confirmed." in page
    assert "Skipped because of conflicts" in page and "Tue 23 Mar 2027 10:00" in page


def test_a_series_is_all_or_nothing_by_default(scene, login, create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-23 10:00"))
    response = post_booking(login(scene.member), scene.room, date="2027-03-16",
                            repeat="WEEKLY", until="2027-04-06")
    assert response.status_code == 409
    assert count_bookings() == 1


# --- bad input: an error beside the field, nothing written -----------------------------------

@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"end_time": "09:00"}, "end_time", "The end must come after the start."),
    ({"date": "2027-13-45"}, "date", "Not a valid date value."),
    ({"date": ""}, "date", "This field is required."),
    ({"start_time": "25:99"}, "start_time", "Not a valid time value."),
    ({"end_time": "soon"}, "end_time", "Not a valid time value."),
    ({"organisation": "999999"}, "organisation", "Not a valid choice."),
    ({"organisation": "abc"}, "organisation", "Invalid Choice: could not coerce."),
    ({"repeat": "WEEKLY"}, "repeat", "Give either a number of times or an end date."),
    ({"repeat": "YEARLY", "occurrences": "2"}, "repeat", "Not a valid choice."),
    ({"repeat": "DAILY", "occurrences": "0"}, "occurrences", "Number must be between"),
    ({"repeat": "WEEKLY", "until": "2027-01-01"}, "repeat", "This rule gives no occurrence."),
    ({"repeat": "DAILY", "until": "2030-01-01"}, "repeat", "at most two years"),
    ({"title": "x" * 201}, "title", "Use at most 200 characters."),
    ({"title": "a\x00b"}, "title", "Remove the invisible (NUL) characters."),
    ({"extra_resources": "424242"}, "extra_resources", "not a valid choice"),
])
def test_bad_input_is_shown_beside_its_field_and_nothing_is_written(
        scene, login, create_resource, fields, field, message):
    create_resource(kind="equipment", owner=scene.owner, site=scene.room.site)
    response = post_booking(login(scene.member), scene.room, **fields)
    assert response.status_code == 422
    assert message in (field_error(response.text, field) or ""), response.text
    assert count_bookings() == 0


def test_booking_for_an_organisation_that_is_not_mine_is_refused(scene, login):
    response = post_booking(login(scene.member), scene.room, organisation=str(scene.owner.id))
    assert response.status_code == 422
    assert field_error(response.text, "organisation") == "Not a valid choice."
    assert count_bookings() == 0


def test_a_quantity_of_zero_is_refused_beside_the_field(scene, login, create_resource):
    chairs = create_resource(kind="equipment", owner=scene.owner, site=scene.room.site,
                             quantity=40)
    client = login(scene.member)
    page = client.get(f"/bookings/new?resource={chairs.slug}").text
    assert 'name="quantity"' in page and 'max="40"' in page
    response = post_booking(client, chairs, quantity="0")
    assert response.status_code == 422
    assert "at least 1" in field_error(response.text, "quantity")
    assert count_bookings() == 0
    assert post_booking(client, chairs, quantity="12").status_code == 302
    assert bookings()[0].quantity == 12


@pytest.mark.parametrize("query", ["", "?resource=nothing-here", "?resource=%00",
                                   "?resource=" + "a" * 300])
def test_an_unknown_resource_is_not_found(scene, login, query):
    client = login(scene.member)
    assert client.get(f"/bookings/new{query}").status_code == 404
    assert client.post(f"/bookings/new{query}", data=form()).status_code == 404
    assert count_bookings() == 0


def test_hidden_and_withdrawn_resources_cannot_be_booked(scene, login, create_resource,
                                                         create_organisation):
    hidden = create_resource(owner=scene.owner, visibility="listed",
                             site=scene.room.site)
    withdrawn = create_resource(owner=scene.owner, active=False, site=scene.room.site)
    client = login(scene.member)
    for resource in (hidden, withdrawn):
        assert client.get(f"/bookings/new?resource={resource.slug}").status_code == 404
        assert post_booking(client, resource).status_code == 404
    assert count_bookings() == 0


def test_someone_without_an_organisation_may_not_book(scene, login, create_user):
    loner = create_user(is_admin=True)
    assert login(loner).get(f"/bookings/new?resource={scene.room.slug}").status_code == 403


def test_pages_need_a_login(scene, client):
    for path in ("/bookings/", f"/bookings/new?resource={scene.room.slug}",
                 "/bookings/planning", "/bookings/approvals"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- cancel ---------------------------------------------------------------------------------

def book_series(scene, count=3, **fields):
    request = BookingRequest(resource_id=scene.room.id, organisation_id=scene.booker.id,
                             start=at("2027-02-02 10:00"), end=at("2027-02-02 11:00"),
                             recurrence=f"FREQ=WEEKLY;COUNT={count}", **fields)
    return book(scene.member, request).bookings


def test_cancel_this_one_or_this_and_the_following(scene, login):
    first, second, third, fourth = book_series(scene, count=4)
    client = login(scene.member)
    page = client.get(f"/bookings/{second.id}").text
    assert "This one and the following" in page
    response = client.post(f"/bookings/{second.id}/cancel", data={"scope": "one"})
    assert response.status_code == 302
    assert [b.status for b in bookings()] == ["confirmed", "cancelled", "confirmed", "confirmed"]
    response = client.post(f"/bookings/{third.id}/cancel",
                           data={"scope": "following", "cancel_reason": "Fin du projet",
                                 "back": "index"})
    assert response.headers["Location"].endswith("/bookings/")
    rows = bookings()
    assert [b.status for b in rows] == ["confirmed", "cancelled", "cancelled", "cancelled"]
    assert rows[3].decision_reason == "Fin du projet"


def test_cancelling_twice_says_so_and_changes_nothing(scene, login):
    (booking,) = book_series(scene, count=1)
    client = login(scene.member)
    client.post(f"/bookings/{booking.id}/cancel")
    response = client.post(f"/bookings/{booking.id}/cancel", follow_redirects=True)
    assert "already cancelled" in response.text
    assert bookings()[0].sequence == 1


def test_cancel_permissions_and_bad_input(scene, login, create_user):
    (booking,) = book_series(scene, count=1)
    stranger = create_user(organisation=scene.owner)  # sees the room, may not cancel
    assert login(stranger).post(f"/bookings/{booking.id}/cancel").status_code == 403
    assert login(stranger).get(f"/bookings/{booking.id}").status_code == 200
    client = login(scene.member)
    assert client.post("/bookings/424242/cancel").status_code == 404
    response = client.post(f"/bookings/{booking.id}/cancel", data={"scope": "everything"})
    assert response.status_code == 422
    assert bookings()[0].status == "confirmed"
    # a back page from outside is ignored: the booking's page it is
    response = client.post(f"/bookings/{booking.id}/cancel",
                           data={"back": "https://evil.example/"})
    assert response.headers["Location"].endswith(f"/bookings/{booking.id}")


# --- approve and reject ------------------------------------------------------------------------

@pytest.fixture
def request_to_decide(scene, login):
    scene.room.requires_approval = True
    db.session.commit()
    post_booking(login(scene.member), scene.room, note="Pour 12 personnes")
    return bookings()[0]


def test_the_owner_manager_approves_from_the_approvals_page(scene, login, request_to_decide):
    client = login(scene.manager)
    page = client.get("/bookings/approvals").text
    assert "Atelier pâtisserie" in page and "Pour 12 personnes" in page
    response = client.post(f"/bookings/{request_to_decide.id}/approve",
                           data={"back": "approvals"})
    assert response.headers["Location"].endswith("/bookings/approvals")
    row = bookings()[0]
    assert (row.status, row.decided_by_id) == ("confirmed", scene.manager.id)
    assert "No request is waiting" in client.get("/bookings/approvals").text
    again = client.post(f"/bookings/{row.id}/approve", follow_redirects=True)
    assert "Only a pending request can be decided." in again.text


def test_a_rejection_needs_a_reason(scene, login, request_to_decide):
    client = login(scene.manager)
    response = client.post(f"/bookings/{request_to_decide.id}/reject", data={"reason": " "})
    assert response.status_code == 422
    assert field_error(response.text, "reason") == "Say why the request is rejected."
    assert bookings()[0].status == "pending"
    client.post(f"/bookings/{request_to_decide.id}/reject", data={"reason": "Salle en travaux"})
    row = bookings()[0]
    assert (row.status, row.decision_reason) == ("rejected", "Salle en travaux")
    assert "Salle en travaux" in login(scene.member).get(f"/bookings/{row.id}").text


def test_only_the_owner_managers_decide(scene, login, request_to_decide, create_user):
    member_of_owner = create_user(organisation=scene.owner)
    for user in (scene.member, member_of_owner):
        client = login(user)
        assert client.post(f"/bookings/{request_to_decide.id}/approve").status_code == 403
        assert client.post(f"/bookings/{request_to_decide.id}/reject",
                           data={"reason": "non"}).status_code == 403
        assert client.get("/bookings/approvals").status_code == 403
        assert "Approve" not in client.get(f"/bookings/{request_to_decide.id}").text
    assert bookings()[0].status == "pending"


def test_a_manager_elsewhere_sees_no_request_of_others(scene, login, request_to_decide,
                                                      create_user, create_organisation):
    elsewhere = create_user(organisation=create_organisation(), role="manager")
    client = login(elsewhere)
    assert "No request is waiting" in client.get("/bookings/approvals").text
    assert client.post(f"/bookings/{request_to_decide.id}/approve").status_code == 403


def test_the_home_page_counts_requests_and_lists_coming_bookings(scene, login,
                                                                 request_to_decide):
    page = login(scene.manager).get("/").text
    assert "1 request awaits your approval." in page and "/bookings/approvals" in page
    page = login(scene.member).get("/").text
    assert "awaits your approval" not in page
    assert "Atelier pâtisserie" in page and "10:00–11:00" in page


# --- what others see ------------------------------------------------------------------------

@pytest.fixture
def secret(scene, create_booking, create_user):
    booking = create_booking(scene.room, scene.owner, scene.manager, at("2027-01-12 14:00"),
                             title="Conseil très secret")
    booking.note = "Ordre du jour confidentiel"
    scene.manager.display_name = "Dominique Gérante"
    db.session.commit()
    return booking


LEAKS = ("Conseil très secret", "Ordre du jour confidentiel", "Dominique Gérante",
         "Ressourcerie")


def test_another_organisations_booking_is_only_busy_on_its_page(scene, login, secret):
    page = login(scene.member).get(f"/bookings/{secret.id}").text
    assert "Busy" in page and "14:00–15:00" in page
    assert not [leak for leak in LEAKS if leak in page]
    assert "Cancel the booking" not in page
    owner_page = login(scene.manager).get(f"/bookings/{secret.id}").text
    assert all(leak in owner_page for leak in LEAKS[:3])


def test_my_bookings_lists_only_my_organisations_with_cancel_buttons(scene, login, secret):
    book_series(scene, count=2, title="Atelier")
    page = login(scene.member).get("/bookings/").text
    assert page.count("Atelier") == 2 and page.count("Cancel the booking") == 2
    assert not [leak for leak in LEAKS if leak in page]
    assert "This one and the following" in page
    assert "Atelier" not in login(scene.member).get("/bookings/?past=1").text


def test_a_booking_nobody_shows_me_is_not_found(scene, login, create_user, create_organisation,
                                                create_resource, create_booking):
    other = create_organisation()
    hidden = create_resource(owner=other, visibility="listed")
    booking = create_booking(hidden, other, create_user(organisation=other),
                             at("2027-01-12 14:00"))
    client = login(scene.member)
    for path in (f"/bookings/{booking.id}", "/bookings/424242", "/bookings/99999999999999999999"):
        assert client.get(path).status_code == 404
    assert client.post(f"/bookings/{booking.id}/cancel").status_code == 404
    assert client.post(f"/bookings/{booking.id}/approve").status_code == 404


def test_french_readers_get_french_dates_on_a_24_hour_clock(scene, login):
    scene.member.locale = "fr"
    db.session.commit()
    client = login(scene.member)
    response = post_booking(client, scene.room, start_time="14:00", end_time="15:30")
    page = client.get(response.headers["Location"]).text
    assert "mar. 12 janv. 2027 14:00–15:30" in page


def test_the_way_back_from_a_booking_fits_the_viewer(app, scene, create_booking, login, now):
    """Its organisation's member goes back to her bookings; the owner's manager, who has
    none of her own there, to the resource and the requests he decides."""
    booking = create_booking(resource=scene.room, organisation=scene.booker, user=scene.member,
                             start=now + timedelta(days=2), status="pending")
    booking_url = f"/bookings/{booking.id}"
    member_page = login(scene.member).get(booking_url).get_data(as_text=True)
    assert 'href="/bookings/"' in member_page.split("<h1>")[0]
    manager_page = login(scene.manager).get(booking_url).get_data(as_text=True)
    way_back = manager_page.split("<main")[1].split("<h1>")[0]
    assert 'href="/bookings/"' not in way_back
    assert "Salle des Tilleuls" in way_back and "/bookings/approvals" in way_back
