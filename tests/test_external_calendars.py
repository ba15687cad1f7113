"""Owners' external calendars read as busy time: fetched from a real HTTP server on
loopback, expanded (recurrences, exceptions, all-day events, both clock changes), stored,
kept when the feed fails, and refused by the engine as `external_busy`, busy only."""

import shutil
import ssl
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from api_helpers import Api
from engine_helpers import NOW, at
from flask_babel import gettext
from ics_server import Answer, calendar_file, start, stop
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.core.fetch import is_public
from sharing.engine import check, find_free_resources, get_availability
from sharing.engine.alternatives import find_alternatives
from sharing.models import ExternalBusy, ExternalCalendar
from sharing.services.external_calendars import (
    add_calendar,
    claim_due_calendars,
    remove_calendar,
    sync_calendars,
    sync_due_calendars,
)
from sharing.services.messages import describe
from sharing.services.worker import run_once

PARIS_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""

# Every Monday 10:00-11:00 in Paris from 15 March 2027, six times, across the March change;
# the 22nd taken out (EXDATE), the 5 April moved to 14:00 and the 19th cancelled
# (RECURRENCE-ID); an all-day event; free (TRANSPARENT) and cancelled events; a floating
# time; a weekly event across the October change; an event of more than two days.
OWNER_ICS = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Nextcloud//Calendar//FR
{PARIS_VTIMEZONE}
BEGIN:VEVENT
UID:weekly@owner
SUMMARY:Dentiste secret
DTSTART;TZID=Europe/Paris:20270315T100000
DTEND;TZID=Europe/Paris:20270315T110000
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE;TZID=Europe/Paris:20270322T100000
END:VEVENT
BEGIN:VEVENT
UID:weekly@owner
RECURRENCE-ID;TZID=Europe/Paris:20270405T100000
SUMMARY:Dentiste secret (moved)
DTSTART;TZID=Europe/Paris:20270405T140000
DTEND;TZID=Europe/Paris:20270405T150000
END:VEVENT
BEGIN:VEVENT
UID:weekly@owner
RECURRENCE-ID;TZID=Europe/Paris:20270419T100000
STATUS:CANCELLED
DTSTART;TZID=Europe/Paris:20270419T100000
DTEND;TZID=Europe/Paris:20270419T110000
END:VEVENT
BEGIN:VEVENT
UID:allday@owner
SUMMARY:Van at the garage
DTSTART;VALUE=DATE:20270501
DTEND;VALUE=DATE:20270502
END:VEVENT
BEGIN:VEVENT
UID:free@owner
TRANSP:TRANSPARENT
DTSTART:20270503T080000Z
DTEND:20270503T090000Z
END:VEVENT
BEGIN:VEVENT
UID:cancelled@owner
STATUS:CANCELLED
DTSTART:20270504T080000Z
DTEND:20270504T090000Z
END:VEVENT
BEGIN:VEVENT
UID:floating@owner
DTSTART:20270601T100000
DTEND:20270601T110000
END:VEVENT
BEGIN:VEVENT
UID:autumn@owner
DTSTART;TZID=Europe/Paris:20271025T100000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=2
END:VEVENT
BEGIN:VEVENT
UID:long@owner
DTSTART:20270610T080000Z
DTEND:20270612T200000Z
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n").encode()

ONE_EVENT_ICS = calendar_file("DTSTART:20270301T090000Z", "DTEND:20270301T100000Z")


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


EXPECTED_PERIODS = [
    (utc(2027, 3, 15, 9), utc(2027, 3, 15, 10)),  # winter: Paris is UTC+1
    (utc(2027, 3, 29, 8), utc(2027, 3, 29, 9)),  # after the March change: UTC+2
    (utc(2027, 4, 5, 12), utc(2027, 4, 5, 13)),  # moved to 14:00
    (utc(2027, 4, 12, 8), utc(2027, 4, 12, 9)),
    (utc(2027, 4, 30, 22), utc(2027, 5, 1, 22)),  # all day on the Paris clock
    (utc(2027, 6, 1, 8), utc(2027, 6, 1, 9)),  # floating: read on the site's clock
    (utc(2027, 6, 10, 8), utc(2027, 6, 11, 8)),  # a long event, stored in day pieces
    (utc(2027, 6, 11, 8), utc(2027, 6, 12, 8)),
    (utc(2027, 6, 12, 8), utc(2027, 6, 12, 20)),
    (utc(2027, 10, 25, 8), utc(2027, 10, 25, 9)),  # before the October change
    (utc(2027, 11, 1, 9), utc(2027, 11, 1, 10)),  # after it: UTC+1 again
]


@pytest.fixture
def app_config():
    return {"CALENDAR_FETCH_ALLOW_PRIVATE": True, "CALENDAR_FETCH_TIMEOUT": 1,
            "CALENDAR_FETCH_MAX_BYTES": 64 * 1024, "CALENDAR_MAX_EVENTS": 100}


@pytest.fixture
def ics():
    server, thread = start()
    yield server.served
    stop(server, thread)


@pytest.fixture
def owner_calendar(scene, ics):
    ics.answers["/owner.ics"] = Answer(OWNER_ICS, etag='"v1"')
    return attach(scene, ics.url("/owner.ics"))


def attach(scene, url: str) -> ExternalCalendar:
    calendar = add_calendar(scene.room, url)
    db.session.commit()
    return calendar


def sync(*calendars, now=NOW) -> dict[int, str]:
    return sync_calendars(calendars, now)


def stored_periods(calendar: ExternalCalendar | None = None) -> list[tuple[datetime, datetime]]:
    query = select(ExternalBusy.starts_at, ExternalBusy.ends_at)
    if calendar is not None:
        query = query.where(ExternalBusy.calendar_id == calendar.id)
    return [tuple(row) for row in db.session.execute(query.order_by(ExternalBusy.starts_at))]


def reloaded(calendar: ExternalCalendar) -> ExternalCalendar:
    db.session.expire_all()
    return db.session.get(ExternalCalendar, calendar.id)


# --- reading a calendar -------------------------------------------------------------------

def test_recurrences_exceptions_all_day_and_both_clock_changes(owner_calendar):
    assert sync(owner_calendar) == {}
    assert stored_periods() == EXPECTED_PERIODS
    calendar = reloaded(owner_calendar)
    assert calendar.last_synced_at == NOW and calendar.last_error == ""
    assert calendar.etag == '"v1"'


def test_only_the_booking_window_is_read(scene, ics, owner_calendar):
    scene.room.max_advance_days = 30
    db.session.commit()
    sync(owner_calendar, now=utc(2027, 3, 20))
    # from a day back to the horizon (30 days, and a day more)
    assert stored_periods() == EXPECTED_PERIODS[1:4]


def test_a_not_modified_feed_keeps_its_periods_and_counts_as_read(ics, owner_calendar):
    sync(owner_calendar)
    later = NOW + timedelta(hours=1)
    assert sync(owner_calendar, now=later) == {}
    assert ics.headers_of_last("/owner.ics")["If-None-Match"] == '"v1"'
    assert stored_periods() == EXPECTED_PERIODS
    assert reloaded(owner_calendar).last_synced_at == later


def test_a_day_later_the_file_is_read_in_full_as_the_window_has_moved(scene, ics,
                                                                      owner_calendar):
    scene.room.max_advance_days = 10
    db.session.commit()
    sync(owner_calendar, now=utc(2027, 3, 20))
    assert stored_periods() == EXPECTED_PERIODS[1:2]
    sync(owner_calendar, now=utc(2027, 3, 20, 6))
    assert ics.headers_of_last("/owner.ics")["If-None-Match"] == '"v1"'
    sync(owner_calendar, now=utc(2027, 3, 27))
    assert "If-None-Match" not in ics.headers_of_last("/owner.ics")
    assert stored_periods() == EXPECTED_PERIODS[1:3]


def test_last_modified_is_sent_back_and_a_change_is_read(ics, scene):
    stamp = "Mon, 04 Jan 2027 06:00:00 GMT"
    ics.answers["/lm.ics"] = Answer(ONE_EVENT_ICS, last_modified=stamp)
    calendar = attach(scene, ics.url("/lm.ics"))
    sync(calendar)
    sync(calendar)
    assert ics.headers_of_last("/lm.ics")["If-Modified-Since"] == stamp
    assert stored_periods() == [(utc(2027, 3, 1, 9), utc(2027, 3, 1, 10))]
    ics.answers["/lm.ics"] = Answer(OWNER_ICS, last_modified="Tue, 05 Jan 2027 06:00:00 GMT")
    sync(calendar)
    assert stored_periods() == EXPECTED_PERIODS


# The deadline of a fetch that fails: a server stalling or trickling is waited for this
# long, while every other failing answer comes at once from loopback.
SHORT_FETCH_TIMEOUT = 0.3


@pytest.mark.parametrize("answer, error", [
    (Answer(b"<html>Sign in to see this calendar</html>"), "not_calendar"),
    (Answer(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2027xx\r\nEND:VEVENT\r\n"
            b"END:VCALENDAR\r\n"), "not_calendar"),
    (Answer(status=500), "http_status:500"),
    (Answer(status=404), "http_status:404"),
    (Answer(b"X" * (65 * 1024)), "too_large"),
    (Answer(b"X" * (65 * 1024), declare_length=False), "too_large"),
    (Answer(OWNER_ICS, stall_seconds=3), "timeout"),
    # each byte comes before a per-read timeout would fire, the whole never does
    (Answer(OWNER_ICS, trickle_seconds=SHORT_FETCH_TIMEOUT / 6), "timeout"),
])
def test_a_failed_sync_keeps_the_previous_periods_and_says_why(app, ics, owner_calendar,
                                                               answer, error):
    sync(owner_calendar)
    app.config["CALENDAR_FETCH_TIMEOUT"] = SHORT_FETCH_TIMEOUT
    ics.answers["/owner.ics"] = answer
    later = NOW + timedelta(hours=1)
    assert sync(owner_calendar, now=later) == {owner_calendar.id: error}
    assert stored_periods() == EXPECTED_PERIODS
    calendar = reloaded(owner_calendar)
    assert calendar.last_error == error and calendar.last_attempt_at == later
    assert calendar.last_synced_at == NOW


def test_an_unreachable_server(scene, ics):
    calendar = attach(scene, ics.url("/owner.ics").replace(str(ics.port), "1"))
    assert sync(calendar)[calendar.id].startswith("unreachable")


@pytest.fixture
def tls_ics(tmp_path):
    """The server over TLS with a self-signed certificate, which no client should trust."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    # an elliptic-curve key: made at once, where an RSA one costs a quarter of a second
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server, thread = start(context)
    yield server.served
    stop(server, thread)


def test_https_certificates_are_checked(scene, tls_ics):
    tls_ics.answers["/owner.ics"] = Answer(OWNER_ICS)
    calendar = attach(scene, tls_ics.url("/owner.ics"))
    error = sync(calendar)[calendar.id]
    assert error.startswith("unreachable") and "CERTIFICATE_VERIFY_FAILED" in error
    assert stored_periods() == []


def test_a_recurrence_that_never_ends_is_refused_not_stored(scene, ics):
    ics.answers["/minutely.ics"] = Answer(calendar_file(
        "DTSTART:20270104T080000Z", "DTEND:20270104T080100Z", "RRULE:FREQ=MINUTELY"))
    calendar = attach(scene, ics.url("/minutely.ics"))
    assert sync(calendar) == {calendar.id: "too_many_events"}
    assert db.session.scalar(select(func.count()).select_from(ExternalBusy)) == 0


def test_a_recurrence_too_costly_to_expand_is_stopped(scene, ics, app):
    # the rule would run for hours: half a second stops it as surely as any longer time
    app.config["CALENDAR_EXPAND_TIMEOUT"] = 0.5
    ics.answers["/secondly.ics"] = Answer(calendar_file(
        "DTSTART:20000101T080000Z", "DTEND:20000101T080001Z", "RRULE:FREQ=SECONDLY"))
    calendar = attach(scene, ics.url("/secondly.ics"))
    assert sync(calendar) == {calendar.id: "too_complex"}


def test_redirects_are_followed_and_checked(scene, ics):
    ics.answers["/moved.ics"] = Answer(status=301, location="/owner.ics")
    ics.answers["/owner.ics"] = Answer(OWNER_ICS)
    ics.answers["/ftp.ics"] = Answer(status=302, location="ftp://127.0.0.1/owner.ics")
    moved, ftp = attach(scene, ics.url("/moved.ics")), attach(scene, ics.url("/ftp.ics"))
    assert sync(moved, ftp) == {ftp.id: "scheme"}
    assert stored_periods(moved) == EXPECTED_PERIODS


def test_spaces_and_accents_in_the_address_are_encoded(scene, ics):
    ics.answers["/agenda%20%C3%A9quipe.ics?k=a%2Fb"] = Answer(ONE_EVENT_ICS)
    calendar = attach(scene, ics.url("/agenda équipe.ics?k=a%2Fb"))
    assert sync(calendar) == {}
    assert stored_periods() == [(utc(2027, 3, 1, 9), utc(2027, 3, 1, 10))]


def test_detaching_forgets_the_periods(owner_calendar):
    sync(owner_calendar)
    remove_calendar(owner_calendar)
    db.session.commit()
    assert stored_periods() == [] and db.session.scalars(select(ExternalCalendar)).all() == []


def test_the_worker_syncs_what_is_due(scene, ics, owner_calendar):
    assert sync_due_calendars(NOW) == (1, {})
    assert sync_due_calendars(NOW + timedelta(minutes=5)) == (0, {})
    ics.answers["/owner.ics"] = Answer(status=503)
    assert sync_due_calendars(NOW + timedelta(minutes=31)) == (1, {owner_calendar.id:
                                                                    "http_status:503"})


def test_a_calendar_claimed_by_one_worker_is_not_claimed_by_another(scene, ics, owner_calendar):
    assert [calendar.id for calendar in claim_due_calendars(NOW)] == [owner_calendar.id]
    assert claim_due_calendars(NOW) == []


def test_calendars_of_withdrawn_resources_are_not_read(scene, owner_calendar):
    scene.room.active = False
    db.session.commit()
    assert sync_due_calendars(NOW) == (0, {})


def test_the_command_line_syncs_what_is_due(runner, owner_calendar):
    result = runner.invoke(args=["calendars", "sync"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "Read 1 of 1 calendars due."
    assert len(stored_periods()) > 0


# --- what the server refuses to fetch ---------------------------------------------------

@pytest.mark.parametrize("address, public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.1.10", False), ("172.16.0.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False),
    ("fe80::1%1", False), ("fd00::1", False), ("::ffff:127.0.0.1", False),
    ("224.0.0.1", False), ("8.8.8.8", True), ("2a00:1450:4007:80f::200e", True),
])
def test_only_public_addresses_are_fetched(address, public):
    assert is_public(address) is public


class TestPrivateAddressesByDefault:
    @pytest.fixture
    def app_config(self):
        return {}

    def test_loopback_is_refused_and_never_asked(self, scene, ics):
        ics.answers["/owner.ics"] = Answer(OWNER_ICS)
        calendar = attach(scene, ics.url("/owner.ics"))
        assert sync(calendar) == {calendar.id: "private_address"}
        assert ics.requests == [] and stored_periods() == []

    def test_localhost_by_name_too(self, scene, ics):
        calendar = attach(scene, f"http://localhost:{ics.port}/owner.ics")
        assert sync(calendar) == {calendar.id: "private_address"}


# --- the engine -------------------------------------------------------------------------

def test_a_booking_during_an_external_event_is_refused_as_busy_only(scene, owner_calendar):
    sync(owner_calendar)
    conflicts = check(scene.member, scene.request("2027-03-29 10:30", "2027-03-29 11:30"),
                      now=NOW)
    # busy, and nothing of the event
    assert [(c.code, c.params, c.start, c.end) for c in conflicts] == [
        ("external_busy", {}, utc(2027, 3, 29, 8), utc(2027, 3, 29, 9))]
    assert describe(conflicts[0]) == gettext("Busy in the resource's own calendar.")
    assert check(scene.member, scene.request("2027-03-29 11:00", "2027-03-29 12:00"),
                 now=NOW) == []


def test_the_changeover_buffer_counts_against_an_external_event(scene, owner_calendar):
    sync(owner_calendar)
    scene.room.buffer_minutes = 30
    db.session.commit()
    conflicts = check(scene.member, scene.request("2027-03-29 09:00", "2027-03-29 09:45"),
                      now=NOW)
    assert [c.code for c in conflicts] == ["external_busy"]


def test_a_long_event_is_one_conflict_over_its_pieces(scene, owner_calendar):
    sync(owner_calendar)
    conflicts = check(scene.member, scene.request("2027-06-11 09:00", "2027-06-12 12:00"),
                      now=NOW)
    assert [(c.code, c.start, c.end) for c in conflicts] == [
        ("external_busy", utc(2027, 6, 10, 8), utc(2027, 6, 12, 20))]


def test_availability_shows_the_whole_resource_busy(scene, create_resource, owner_calendar):
    sync(owner_calendar)
    day = (at("2027-03-29 00:00"), at("2027-03-30 00:00"))
    availability = get_availability(scene.room, *day)
    assert availability.busy == [(utc(2027, 3, 29, 8), utc(2027, 3, 29, 9),
                                  scene.room.quantity)]
    assert availability.free == [(day[0], utc(2027, 3, 29, 8)), (utc(2027, 3, 29, 9), day[1])]


def test_the_free_search_and_the_alternatives_skip_external_events(scene, create_resource,
                                                                   owner_calendar):
    sync(owner_calendar)
    twin = create_resource(kind="room", owner=scene.owner, site=scene.room.site, capacity=12)
    busy = (at("2027-03-29 10:00"), at("2027-03-29 11:00"))
    assert find_free_resources([scene.room, twin], *busy, now=NOW) == [twin]
    request = scene.request("2027-03-29 09:30", "2027-03-29 10:30")
    offers = find_alternatives(scene.member, request, NOW)
    assert offers and all(not (o.start < busy[1] and o.end > busy[0])
                          for o in offers if o.resource_id == scene.room.id)
    assert any(o.resource_id == scene.room.id for o in offers)


# --- the JSON API -----------------------------------------------------------------------

def test_the_api_refuses_as_busy_only_and_offers_free_times(client, scene, ics):
    ics.answers["/2031.ics"] = Answer(calendar_file(
        "SUMMARY:Dentiste secret", "DTSTART;TZID=Europe/Paris:20310303T100000",
        "DTEND;TZID=Europe/Paris:20310303T120000"))
    sync(attach(scene, ics.url("/2031.ics")), now=utc(2031, 3, 1))
    api = Api(client, scene.member)
    body = {"resource_id": scene.room.id, "organisation_id": scene.booker.id,
            "start": "2031-03-03T11:00:00+01:00", "end": "2031-03-03T12:00:00+01:00"}
    refused = api.post("/bookings", json=body)
    assert refused.status_code == 409
    assert [(c["code"], c["start"], c["end"]) for c in refused.json["conflicts"]] == [
        ("external_busy", "2031-03-03T09:00:00Z", "2031-03-03T11:00:00Z")]
    assert "Dentiste" not in refused.get_data(as_text=True)
    for alternative in refused.json["alternatives"]:
        booked = api.post("/bookings", json={**body, **alternative})
        assert booked.status_code == 201, booked.json
        api.post(f"/bookings/{booked.json['bookings'][0]['id']}/cancel")
    availability = api.get(f"/resources/{scene.room.id}/availability",
                           query_string={"start": "2031-03-03T00:00:00Z",
                                         "end": "2031-03-04T00:00:00Z"})
    assert availability.json["busy"] == [{"start": "2031-03-03T09:00:00Z",
                                          "end": "2031-03-03T11:00:00Z", "units": 1}]


def test_the_worker_runs_the_calendar_sync(owner_calendar):
    assert run_once(NOW)["calendars"] == 1
    assert stored_periods() == EXPECTED_PERIODS
