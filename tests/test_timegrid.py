"""Free time at a glance: the resource page's week grid, the booking form's day timeline
(and its partial), the planning's day view, and what none of them may show or offer."""

import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from engine_helpers import at
from sqlalchemy import insert, select
from test_bookings_planning import statements_for

from sharing.core.extensions import db
from sharing.engine.policy import weekly_hours
from sharing.models import Closure, ExternalBusy, ExternalCalendar, Resource
from sharing.services.timegrid import DayTimeline, Holding, Span

WEEK = "2027-W02"  # Monday 11 to Sunday 17 January 2027
OFFICE = {"mon": [["08:00", "12:00"], ["13:30", "18:00"]], "tue": [["08:00", "12:00"]]}


@pytest.fixture
def room(scene):
    scene.room.opening_hours = OFFICE
    db.session.commit()
    return scene.room


def week_page(client, resource, **args):
    return client.get(f"/rooms/{resource.slug}", query_string={"week": WEEK, **args})


def day_list(page: str, heading: str) -> str:
    """The list under one day's heading of the week grid."""
    start = page.index(f'<h3 class="tg-head">{heading}</h3>')
    return page[start:page.index("</ul>", start)]


def test_the_week_grid_shows_opening_hours_closures_and_bookings_as_the_viewer_may(
        scene, room, login, create_booking):
    create_booking(room, scene.booker, scene.member, at("2027-01-11 09:00"), title="Atelier")
    create_booking(room, scene.owner, scene.manager, at("2027-01-11 14:00"),
                   title="Conseil très secret", status="pending")
    db.session.add(Closure(resource_id=room.id, starts_at=at("2027-01-12 08:00"),
                           ends_at=at("2027-01-12 10:00"), reason="Peinture"))
    calendar = ExternalCalendar(resource_id=room.id, url="https://example.org/agenda.ics")
    db.session.add(calendar)
    db.session.flush()
    db.session.add(ExternalBusy(calendar_id=calendar.id, resource_id=room.id,
                                starts_at=at("2027-01-12 11:00"), ends_at=at("2027-01-12 12:00")))
    db.session.commit()
    page = week_page(login(scene.member), room).text
    monday, tuesday = day_list(page, "Monday 11 January"), day_list(page, "Tuesday 12 January")
    # the viewer's own booking, labelled with its organisation; the other's busy only
    assert "09:00–10:00 <a href=\"/bookings/" in monday and "Atelier</a> · Patisserie" in monday
    assert "14:00–15:00 Booked <em>(pending)</em>" in monday
    assert "Conseil très secret" not in page and "Ressourcerie" not in monday
    # opening hours shaded (the drawn axis starts at 08:00: 08:00-12:00 is rows 1 to 16)
    assert 'class="tg-open at-1 len-16"' in monday and 'class="tg-open at-23 len-18"' in monday
    assert "08:00–10:00 Closed" in tuesday and "11:00–12:00 Busy" in tuesday
    # Wednesday has no opening hours: closed, nothing free
    wednesday = day_list(page, "Wednesday 13 January")
    assert "Closed" in wednesday and "tg-free" not in wednesday


def test_free_hours_link_to_the_form_prefilled_and_only_free_ones(scene, room, login,
                                                                  create_booking):
    create_booking(room, scene.booker, scene.member, at("2027-01-11 09:00"), minutes=90)
    page = week_page(login(scene.member), room).text
    monday = day_list(page, "Monday 11 January")
    prefix = f"/bookings/new?resource={room.slug}&amp;date=2027-01-11"
    assert f'{prefix}&amp;start_time=08:00&amp;end_time=09:00"' in monday
    assert f'{prefix}&amp;start_time=10:30&amp;end_time=11:00"' in monday  # after the booking
    assert "start_time=09:00" not in monday and "start_time=12:00" not in monday
    assert f'{prefix}&amp;start_time=13:30&amp;end_time=14:00"' in monday
    # the link opens the form with those values
    form = login(scene.member).get(f"/bookings/new?resource={room.slug}&date=2027-01-11"
                                   "&start_time=10:30&end_time=11:00").text
    assert 'value="10:30"' in form and 'value="11:00"' in form and 'value="2027-01-11"' in form


def test_the_week_grid_has_week_number_year_and_links_either_side(scene, room, login):
    client = login(scene.member)
    page = week_page(client, room).text
    assert "Week 2 of 2027" in page
    assert f"/rooms/{room.slug}?week=2027-W01" in page
    assert f"/rooms/{room.slug}?week=2027-W03" in page
    assert f'href="/rooms/{room.slug}">Today' in page
    headings = re.findall(r'<h3 class="tg-head">([^<]+)</h3>', page)
    assert headings[0] == "Monday 11 January" and headings[-1] == "Sunday 17 January"
    assert "Week 53 of 2026" in week_page(client, room, week="2026-W53").text
    assert week_page(client, room, week="2027-W60").status_code == 404


def test_past_days_offer_nothing_to_book(scene, room, login):
    page = week_page(login(scene.member), room, week="2020-W02").text
    assert "tg-free" not in page and page.count("Past day") == 7


def test_a_resource_not_visible_is_not_found_on_every_face(scene, login, create_resource,
                                                            create_organisation):
    hidden = create_resource(owner=create_organisation(), site=scene.room.site,
                             visibility="listed")
    client = login(scene.member)
    assert client.get(f"/rooms/{hidden.slug}").status_code == 404
    assert client.get("/bookings/timeline", query_string={
        "resource": hidden.slug, "date": "2027-01-11"}).status_code == 404
    assert client.get("/bookings/timeline", query_string={
        "resource": "nothing-here", "date": "2027-01-11"}).status_code == 404


# --- the booking form's day timeline ----------------------------------------------------------

def test_the_form_shows_the_chosen_days_timeline_and_the_partial_any_day(
        scene, room, login, create_booking):
    create_booking(room, scene.owner, scene.manager, at("2027-01-12 09:00"), title="Secret")
    client = login(scene.member)
    form = client.get(f"/bookings/new?resource={room.slug}&date=2027-01-12").text
    timeline = form[form.index('id="day-timeline"'):]
    assert "Tuesday 12 January" in timeline and "09:00–10:00 Booked" in timeline
    assert f'data-url="/bookings/timeline?resource={room.slug}"' in form
    assert "timeline.js" in form and "Secret" not in form
    partial = client.get("/bookings/timeline", query_string={"resource": room.slug,
                                                           "date": "2027-01-11"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "Monday 11 January" in partial.text and "Booked" not in partial.text
    assert "date=2027-01-11&amp;start_time=08:00" in partial.text


@pytest.mark.parametrize("day", ["2027-02-30", "tomorrow", "1999-12-31", "\x00", "2027-1-1"])
def test_a_bad_date_for_the_timeline_is_refused_not_an_error(scene, room, login, day):
    response = login(scene.member).get("/bookings/timeline", query_string={
        "resource": room.slug, "date": day})
    assert response.status_code == 400


def test_the_timeline_is_for_signed_in_people_only(scene, room, client):
    response = client.get(f"/bookings/timeline?resource={room.slug}&date=2027-01-11")
    assert response.status_code in (302, 401)


# --- the planning: day view, "+" only where one may book -------------------------------------

def test_the_planning_day_view_puts_bookings_on_a_time_axis(scene, room, login, create_booking):
    create_booking(room, scene.booker, scene.member, at("2027-01-12 10:00"), title="Atelier")
    create_booking(room, scene.owner, scene.manager, at("2027-01-12 08:00"), title="Secret")
    client = login(scene.member)
    page = client.get("/bookings/planning?view=day&date=2027-01-12").text
    assert "Tuesday 12 January" in page and "Week 2 of 2027" in page
    assert re.search(r'<li class="own at-\d+ len-4">10:00–11:00 <a href="/bookings/\d+">'
                     r'Atelier</a> · Patisserie</li>', page)
    assert '<li class="at-1 len-4">08:00–09:00 Booked</li>' in page
    assert "Secret" not in page
    assert f"/bookings/new?resource={room.slug}&amp;date=2027-01-12" in page
    assert "/bookings/planning?date=2027-01-13&amp;view=day" in page  # next day
    assert "/bookings/planning?view=week&amp;date=2027-01-12" in page  # the week view
    # the booking organisation is shown to the owner's manager, who may see it
    assert "Secret</a> · Ressourcerie" in login(scene.manager).get(
        "/bookings/planning?view=day&date=2027-01-12").text


def test_no_plus_on_past_or_closed_days(scene, room, login):
    db.session.add(Closure(resource_id=room.id, starts_at=at("2027-01-11 00:00"),
                           ends_at=at("2027-01-12 00:00")))
    db.session.commit()
    client = login(scene.member)
    week = client.get(f"/bookings/planning?week={WEEK}").text
    # Monday closed all day, Tuesday open, no opening hours the other days
    assert week.count(">+</a>") == 1 and "date=2027-01-12" in week
    assert week.count('<td class="closed">') == 6
    assert client.get("/bookings/planning?week=2020-W02").text.count(">+</a>") == 0
    day = client.get("/bookings/planning?view=day&date=2027-01-11").text
    assert day.count(">+</a>") == 0 and "Closed" in day


def test_this_week_and_the_week_number_in_the_heading(scene, login):
    client = login(scene.member)
    page = client.get("/bookings/planning").text
    assert re.search(r"<h1>Week \d+ of \d{4} · This week</h1>", page)
    assert "· This week" not in client.get(f"/bookings/planning?week={WEEK}").text


@pytest.mark.parametrize("view", ["month", "0"])
def test_an_unknown_view_is_not_found(scene, login, view):
    assert login(scene.member).get(f"/bookings/planning?view={view}").status_code == 404


def add_cheap_resources(scene, first: int, count: int) -> None:
    """Many resources in one INSERT: what the planning reads of them, nothing more."""
    db.session.execute(insert(Resource), [
        {"kind": "equipment", "name": f"Chaise {n:04d}", "slug": f"chaise-{n}",
         "site_id": scene.room.site_id, "owner_organisation_id": scene.owner.id,
         "opening_hours": OFFICE if n % 2 else {}, "description": "", "visibility": "all",
         "active": True} for n in range(first, first + count)])
    db.session.commit()


@pytest.mark.parametrize("view", ["week", "day"])
def test_the_planning_costs_the_same_statements_for_20_or_1000_resources(
        scene, login, create_booking, view):
    client = login(scene.member)
    path = f"/bookings/planning?view={view}&date=2027-01-12"

    def with_resources(count: int) -> int:
        present = len(db.session.scalars(select(Resource.id)).all())
        add_cheap_resources(scene, present, count - present)
        ids = db.session.scalars(select(Resource).order_by(Resource.id)).all()
        for number, resource in enumerate(ids[-5:]):
            create_booking(resource, scene.booker, scene.member,
                           at("2027-01-12 08:00") + timedelta(hours=number))
        db.session.expire_all()
        return statements_for(client, path)

    twenty = with_resources(20)
    assert with_resources(1000) == twenty
    assert client.get(path).text.count("Chaise ") == 999


# --- the timelines themselves ------------------------------------------------------------------

def timeline(resource, **fields) -> DayTimeline:
    values = {"day": at("2027-01-11 00:00").date(), "past": False,
              "now_minutes": 0, "opening": [(480, 720), (810, 1080)], **fields}
    return DayTimeline(resource, **values)


def test_free_time_leaves_out_buffers_full_units_closures_and_what_has_passed(scene, room):
    day = timeline(room, holds=[(540, 600, 1), (600, 615, 1)],  # a booking and its buffer
                   spans=[Span("closure", 840, 900)])
    assert day.free() == [(480, 540), (615, 720), (810, 840), (900, 1080)]
    room.quantity = 2
    assert timeline(room, holds=[(540, 600, 1), (570, 660, 1)]).free() == [
        (480, 570), (600, 720), (810, 1080)]
    assert timeline(room, now_minutes=1000).free() == [(1000, 1080)]
    assert timeline(room, past=True).free() == []
    pieces = [(s.start, s.end) for s in timeline(room, opening=[(510, 660)]).free_pieces()]
    assert pieces == [(510, 540), (540, 600), (600, 660)]



def test_what_holds_a_day_is_cut_on_its_site_clock_also_when_the_clocks_change():
    paris = ZoneInfo("Europe/Paris")
    autumn = Holding(date(2027, 10, 25), date(2027, 10, 31))  # back to 02:00 on the 31st

    def touched(start: str, end: str) -> list:
        return list(autumn.touched(paris, at(start), at(end)))

    assert touched("2027-10-26 09:00", "2027-10-26 10:30") == [
        (date(2027, 10, 26), (540, 630))]
    # 02:30 summer time to 02:15 winter time, 45 minutes later: the wall clock runs back
    summer_half_past_two = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert list(autumn.touched(paris, summer_half_past_two,
                               summer_half_past_two + timedelta(minutes=45))) == [
        (date(2027, 10, 31), (150, 150))]
    assert touched("2027-10-26 22:00", "2027-10-27 02:00") == [
        (date(2027, 10, 26), (1320, 1440)), (date(2027, 10, 27), (0, 120))]
    assert touched("2027-10-20 00:00", "2027-11-20 00:00") == [  # only the days shown
        (date(2027, 10, 25) + timedelta(days=n), (0, 1440)) for n in range(7)]
    assert touched("2027-10-24 10:00", "2027-10-24 11:00") == []


def test_opening_hours_read_as_json_text_are_the_stored_hours():
    assert weekly_hours(json.dumps(OFFICE)) == weekly_hours(OFFICE)
    assert weekly_hours(json.dumps(OFFICE)).days[0] == ((480, 720), (810, 1080))
    assert weekly_hours("{}").always_open and weekly_hours({}).always_open
