"""Bounded dates and bounded work (issue 11, findings 1 and 2): every date the application
accepts lies in [2000-01-01, 2100-01-01) UTC, no stored row outside that range breaks a
page, and no request costs more than a bounded amount whatever the span it asks for."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from api_helpers import Api, database_state, make_pole
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from test_catalogue import counted_statements

from sharing.core.extensions import db
from sharing.models import Booking, Closure, Quota

THOUSAND_YEARS = ("2026-12-01T08:00:00Z", "3026-12-01T08:00:00Z")


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


@pytest.fixture
def api(client, pole):
    return Api(client, pole.partner_member)


def booking_body(pole, start, end, **fields):
    return {"resource_id": pole.room.id, "organisation_id": pole.partner.id, "start": start,
            "end": end, **fields}


def assert_refused(response, *fields):
    assert response.status_code == 422, response.get_data(as_text=True)
    assert set(fields) <= set(response.json["fields"]), response.json


# --- finding 1: a long interval -------------------------------------------------------------

def test_a_thousand_year_booking_is_refused_naming_the_end(pole, api):
    before = database_state()
    assert_refused(api.post("/bookings", json=booking_body(pole, *THOUSAND_YEARS)), "end")
    assert database_state() == before


def test_a_thousand_year_booking_in_the_form_is_a_form_error(pole, client, login):
    login(pole.partner_member)
    before = database_state()
    answer = client.post(f"/bookings/new?resource={pole.room.slug}", data={
        "organisation": pole.partner.id, "date": "2026-12-01", "start_time": "08:00",
        "end_time": "08:00", "end_date": "3026-12-01"})
    assert answer.status_code == 422
    assert "Give a date from 2000-01-01 to 2099-12-31." in answer.text
    assert database_state() == before


def test_a_series_until_the_year_9999_is_refused(pole, api):
    body = booking_body(pole, "2031-03-03T10:00:00Z", "2031-03-03T11:00:00Z",
                        recurrence="FREQ=WEEKLY;UNTIL=99991231T235959Z")
    assert_refused(api.post("/bookings", json=body), "recurrence")


# --- finding 2: extreme dates -----------------------------------------------------------------

@pytest.mark.parametrize(("start", "end", "buffer"), [
    ("0001-01-01T00:00:00Z", "0001-01-01T01:00:00Z", 0),
    ("9999-12-31T22:00:00Z", "9999-12-31T23:30:00Z", 30),
    ("2031-03-03T10:00:00Z", "9999-12-31T23:30:00Z", 0),
])
def test_extreme_booking_dates_are_refused(pole, api, start, end, buffer):
    pole.room.buffer_minutes = buffer
    db.session.commit()
    before = database_state()
    response = api.post("/bookings", json=booking_body(pole, start, end))
    assert_refused(response, "end" if start.startswith("2031") else "start")
    assert database_state() == before


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"])
def test_extreme_listing_and_availability_dates_are_refused(pole, api, start):
    assert_refused(api.get("/bookings", query_string={"start": start}), "start")
    assert_refused(api.get(f"/resources/{pole.room.id}/availability",
                           query_string={"start": start, "end": "2031-01-01T00:00:00Z"}),
                   "start")


def test_an_extreme_free_search_is_refused(api):
    assert_refused(api.get("/resources", query_string={
        "free_start": "0001-01-01T00:00:00Z", "free_end": "0001-01-01T01:00:00Z"}),
        "free_start")


@pytest.mark.parametrize("query", ["date=9999-12-31", "week=0001-W01", "week=9999-W52",
                                   "date=1999-12-31", "week=2100-W01", "week=2027-W60"])
def test_an_extreme_planning_week_is_404(pole, client, login, query):
    login(pole.partner_member)
    assert client.get(f"/bookings/planning?{query}").status_code == 404


def test_the_first_and_last_weeks_in_range_are_shown(pole, client, login):
    login(pole.partner_member)
    for query in ("week=2000-W01", "date=2099-12-31"):
        assert client.get(f"/bookings/planning?{query}").status_code == 200, query


def test_an_extreme_closure_is_refused_by_the_api_and_the_page(pole, client, login):
    before = database_state()
    manager = Api(client, pole.manager)
    assert_refused(manager.post(f"/resources/{pole.room.id}/closures", json={
        "start": "9999-12-31T22:00:00Z", "end": "9999-12-31T23:59:00Z"}), "start", "end")
    login(pole.manager)
    answer = client.post(f"/resources/{pole.room.id}/closures",
                         data={"start": "9999-12-31T22:00", "end": "9999-12-31T23:59"})
    assert answer.status_code == 422
    assert "Give a date from 2000-01-01 to 2099-12-31." in answer.text
    assert database_state() == before


@pytest.mark.parametrize("target", ["/%0a%0dSet-Cookie:%20x=1", "/%09/evil.example", "/%00"])
def test_a_next_address_with_control_characters_goes_home(client, create_user, target):
    create_user(email="camille@example.org", password="correct horse battery")
    answer = client.post(f"/login?next={target}", data={
        "email": "camille@example.org", "password": "correct horse battery"})
    assert answer.status_code == 302
    assert answer.headers["Location"] in ("/", "http://sharing.test/")


# --- data written before the bounds never breaks a page -----------------------------------------

def far_future_rows(pole) -> Booking:
    """A closure and a booking at the very end of the year 9999, written straight into the
    database as they could have been before the bounds."""
    start = datetime(9999, 12, 31, 22, 0, tzinfo=UTC)
    db.session.add(Closure(resource_id=pole.room.id, starts_at=start,
                           ends_at=start + timedelta(minutes=119), reason="Fin des temps"))
    booking = Booking(resource_id=pole.room.id, organisation_id=pole.partner.id,
                      user_id=pole.partner_member.id, starts_at=start,
                      ends_at=start + timedelta(minutes=90),
                      blocks_until=start + timedelta(minutes=119), title="Veille")
    db.session.add(booking)
    db.session.commit()
    return booking


def test_far_future_rows_break_no_page(pole, client, login):
    booking = far_future_rows(pole)
    login(pole.partner_member)
    for path in ("/", "/bookings/", f"/bookings/{booking.id}", "/rooms",
                 f"/rooms/{pole.room.slug}", f"/resources/{pole.room.id}/closures",
                 "/bookings/planning?week=2099-W53", "/bookings/planning"):
        answer = client.get(path)
        assert answer.status_code == 200, path
    assert "Fin des temps" in client.get(f"/resources/{pole.room.id}/closures").text
    login(pole.manager)
    assert client.get(f"/rooms/{pole.room.slug}").status_code == 200


def test_far_future_rows_break_no_api_answer(pole, api):
    booking = far_future_rows(pole)
    for path in (f"/bookings/{booking.id}", f"/resources/{pole.room.id}/closures",
                 f"/resources/{pole.room.id}", "/bookings?start=2099-12-01T00:00:00Z"):
        assert api.get(path).status_code == 200, path
    assert api.get(f"/resources/{pole.room.id}/closures").json["closures"][0]["start"] \
        == "9999-12-31T22:00:00Z"


# --- bounded work -------------------------------------------------------------------------

def worst_room(pole, create_resource, similar: int):
    """The longest bookings allowed, a day's buffer, opening hours, quotas per week and
    month on the room and on its kind, and similar rooms to offer instead."""
    room = pole.room
    room.max_duration_minutes = None  # the engine's own ceiling, 31 days
    room.buffer_minutes, room.slot_minutes = 24 * 60, 15
    room.opening_hours = {day: [["08:00", "12:00"], ["13:30", "18:00"]]
                          for day in ("mon", "tue", "wed", "thu", "fri")}
    db.session.add_all([
        Quota(organisation_id=pole.partner.id, resource_id=room.id, max_hours_per_week=2000,
              max_hours_per_month=5000),
        Quota(organisation_id=pole.partner.id, resource_kind="room", max_hours_per_week=2000,
              max_hours_per_month=5000)])
    for number in range(similar):
        create_resource(kind="room", owner=pole.owner, site=pole.site, capacity=20,
                        tags=["reunion"], name=f"Salle {number}", buffer_minutes=60)
    db.session.commit()
    return room


def statements_of(api, body) -> tuple[int, dict]:
    db.session.expire_all()
    with counted_statements() as statements:
        response = api.post("/bookings", json=body)
    return len(statements), response


def test_the_worst_single_request_costs_a_bounded_number_of_statements(
        pole, api, create_resource):
    worst_room(pole, create_resource, similar=12)
    start = "2031-03-03T08:00:00+01:00"
    busy = datetime(2031, 3, 10, 9, 0, tzinfo=UTC)
    db.session.add(Booking(resource_id=pole.room.id, organisation_id=pole.owner.id,
                           user_id=pole.member.id, starts_at=busy,
                           ends_at=busy + timedelta(hours=1),
                           blocks_until=busy + timedelta(hours=25), title="Déjà là"))
    db.session.commit()
    count, response = statements_of(api, booking_body(pole, start, "2031-04-03T08:00:00+02:00"))
    assert response.status_code == 409, response.json
    assert "capacity" in {c["code"] for c in response.json["conflicts"]}
    assert response.json["alternatives"]
    print(f"worst single request: {count} statements")
    assert count <= 120


def test_the_worst_series_costs_a_bounded_number_of_statements(pole, api, create_resource):
    worst_room(pole, create_resource, similar=0)
    pole.room.opening_hours, pole.room.buffer_minutes = {}, 60
    db.session.commit()
    body = booking_body(pole, "2031-03-03T08:00:00+01:00", "2031-03-03T09:00:00+01:00",
                        recurrence="FREQ=DAILY;COUNT=500", skip_conflicts=True)
    count, response = statements_of(api, body)
    assert response.status_code == 201, response.json
    assert len(response.json["bookings"]) == 500
    print(f"worst series: {count} statements")
    # about 17 per occurrence (its calendar, its quota periods, its credit check, its row),
    # plus a few for the whole series: its notifications (recipients, preferences, outbox)
    assert count <= 17 * 500 + 50


def test_a_request_beyond_the_longest_booking_stops_at_too_long(pole, api, create_resource):
    """As few statements for 68 years as for a month and a day (no quota period, no
    opening day is walked), and no alternative."""
    worst_room(pole, create_resource, similar=3)
    statements_of(api, booking_body(pole, "2031-03-03T08:00:00Z", "2031-03-03T09:00:00Z"))
    counts = []
    for end in ("2031-04-04T08:00:00Z", "2098-12-31T08:00:00Z"):
        count, response = statements_of(api, booking_body(pole, "2031-03-03T08:00:00Z", end))
        assert response.status_code == 409
        assert [c["code"] for c in response.json["conflicts"]] == ["too_long"]
        assert response.json["alternatives"] == []
        counts.append(count)
    assert max(counts) <= 20, counts


# --- alternatives are computed with no lock held ------------------------------------------------

def can_lock_now(pole) -> bool:
    """From a connection of its own: could another request take the locks a booking of the
    room takes (SQLite's write lock; the organisation's and room's rows on PostgreSQL)?"""
    if db.engine.dialect.name == "sqlite":
        connection = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    with db.engine.connect() as connection:
        try:
            for table, row_id in (("organisation", pole.partner.id), ("resource", pole.room.id)):
                connection.exec_driver_sql(
                    f"SELECT id FROM {table} WHERE id = {row_id} FOR UPDATE NOWAIT")
            return True
        except OperationalError:
            return False
        finally:
            connection.rollback()


def test_alternatives_are_computed_while_others_can_book(pole, api, create_resource):
    """Each statement looking for alternatives runs while another connection can lock."""
    worst_room(pole, create_resource, similar=3)
    busy = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
    db.session.add(Booking(resource_id=pole.room.id, organisation_id=pole.owner.id,
                           user_id=pole.member.id, starts_at=busy,
                           ends_at=busy + timedelta(hours=1),
                           blocks_until=busy + timedelta(hours=25),
                           title="Déjà là"))
    db.session.commit()
    probes = []

    def probe(_conn, _cursor, statement, *_args):
        # the similar rooms' query: only alternatives ask for rooms of the same kind
        if statement.lstrip().startswith("SELECT") and "resource.quantity >= " in statement:
            probes.append(can_lock_now(pole))

    event.listen(db.engine, "before_cursor_execute", probe)
    try:
        response = api.post("/bookings", json=booking_body(
            pole, "2031-03-03T10:00:00+01:00", "2031-03-03T11:00:00+01:00"))
    finally:
        event.remove(db.engine, "before_cursor_execute", probe)
    assert response.status_code == 409 and response.json["alternatives"]
    assert probes and all(probes), probes
