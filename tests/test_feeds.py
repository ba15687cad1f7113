"""Calendar feeds: read back by two independent parsers (icalendar and Mozilla's ical.js),
across both daylight-saving changes; privacy, revocation, cancellations, caching."""

import json
import logging
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from sharing.core.extensions import db
from sharing.engine import cancel
from sharing.models import Booking
from sharing.services.feeds import (
    feed_token,
    organisation_feed_url,
    personal_feed_url,
    public_feed_url,
    regenerate_feed_key,
    resource_feed_url,
)

PARIS = ZoneInfo("Europe/Paris")
ICAL_JS_SCRIPT = Path(__file__).resolve().parent / "ical_js.mjs"
ICAL_JS = Path(__file__).resolve().parent.parent / "node_modules" / "ical.js"


def path_of(url: str) -> str:
    return url.removeprefix("http://sharing.test")


def get_feed(client, url: str, **headers):
    return client.get(path_of(url), headers=headers)


def parsed(response) -> Calendar:
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data)


def events_of(response) -> dict[str, dict]:
    """UID → what icalendar reads of the event, times in UTC."""
    return {str(e["uid"]): {"summary": str(e["summary"]), "status": str(e["status"]),
                            "sequence": int(e["sequence"]),
                            "start": e.decoded("dtstart").astimezone(UTC),
                            "end": e.decoded("dtend").astimezone(UTC),
                            "description": str(e.get("description", ""))}
            for e in parsed(response).walk("VEVENT")}


def ical_js(body: bytes) -> dict:
    if shutil.which("node") is None or not ICAL_JS.exists():
        pytest.skip("node or ical.js not installed (npm install): second parser not run")
    run = subprocess.run(["node", str(ICAL_JS_SCRIPT)], input=body, capture_output=True,
                         timeout=60, check=True)
    return json.loads(run.stdout)


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def next_clock_changes(today: date) -> list[date]:
    """The next March and October changes in Europe/Paris, both within a year."""
    changes = [last_sunday(year, month) for year in (today.year, today.year + 1)
               for month in (3, 10)]
    return sorted(d for d in changes if d > today)[:2]


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def staff(create_user, create_resource, scene):
    """The shared accountant: a staff resource whose person is Nadia."""
    nadia = create_user(email="nadia@example.org", name="Nadia Girard")
    return create_resource(kind="staff", owner=scene.owner, name="Comptable partagée",
                           person=nadia)


@pytest.fixture
def dst_bookings(scene, create_booking, now):
    """Bookings on both sides of the next March and October changes (local 01:30, 03:30)."""
    made = []
    for day in next_clock_changes(now.date()):
        for before in (day - timedelta(days=1), day):
            for hour in (1, 3):
                made.append(create_booking(scene.room, scene.booker, scene.member,
                                           paris(before, hour, 30), minutes=90,
                                           title=f"Réunion {before} {hour}h"))
    return made


def test_every_feed_reads_the_database_times_in_both_parsers(
        client, scene, dst_bookings, staff, create_booking, now):
    nadia = staff.person
    create_booking(staff, scene.booker, scene.member, now + timedelta(days=3), title="Bilan")
    urls = [personal_feed_url(scene.member), organisation_feed_url(scene.member, scene.booker.id),
            resource_feed_url(scene.manager, scene.room), personal_feed_url(nadia)]
    scene.room.public_busy_feed = True
    db.session.commit()
    urls.append(public_feed_url(scene.room))
    bookings = {b.id: b for b in db.session.query(Booking)}
    for url in urls:
        response = get_feed(client, url)
        shown = events_of(response)
        assert shown, url
        second = ical_js(response.data)
        assert second["method"] == "PUBLISH"
        assert second["refresh"] == {"type": "duration", "value": "PT1H"}
        by_start = {(b.starts_at, b.ends_at) for b in bookings.values()}
        assert {(e["start"], e["end"]) for e in shown.values()} <= by_start
        assert [(e["start"], e["end"]) for e in second["events"]] == [
            (e["start"].isoformat().replace("+00:00", ".000Z"),
             e["end"].isoformat().replace("+00:00", ".000Z")) for e in shown.values()]
    member_feed = events_of(get_feed(client, urls[0]))
    for booking in dst_bookings:
        event = member_feed[booking.uid]
        assert (event["start"], event["end"]) == (booking.starts_at, booking.ends_at)


def test_the_calendar_says_what_it_is(client, scene, create_booking, now):
    create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=1))
    response = get_feed(client, personal_feed_url(scene.member))
    calendar = parsed(response)
    for name in ("VERSION", "PRODID", "NAME", "X-WR-CALNAME", "DESCRIPTION",
                 "X-PUBLISHED-TTL"):
        assert name in calendar, name
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in response.data
    assert b"\r\nMETHOD:PUBLISH\r\n" in response.data
    assert response.headers["Cache-Control"] == "private"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    event = next(iter(calendar.walk("VEVENT")))
    assert str(event["url"]) == f"http://sharing.test/bookings/{Booking.query.one().id}"
    assert str(event["location"]).startswith("Voiron")


def test_user_text_is_escaped_and_folded(client, scene, create_booking, now):
    title = "Réunion; bilan, budget\nsuite " + "é" * 80
    booking = create_booking(scene.room, scene.booker, scene.member,
                             now + timedelta(days=1), title=title)
    response = get_feed(client, personal_feed_url(scene.member))
    assert events_of(response)[booking.uid]["summary"] == title
    lines = response.data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in response.data.replace(b"\r\n", b"")


def test_another_organisation_sees_busy_time_only(
        client, scene, create_booking, create_organisation, create_user, now):
    booking = create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=1),
                             title="Conseil d'administration secret")
    booking.note = "Ordre du jour confidentiel"
    db.session.commit()
    other = create_user(email="other@example.org", organisation=create_organisation(),
                        locale="en")
    response = get_feed(client, resource_feed_url(other, scene.room))
    body = response.data.decode()
    event = events_of(response).popitem()[1]
    assert event["summary"] == "Booked"
    for secret in ("secret", "confidentiel", booking.uid, scene.booker.name,
                   scene.member.display_name):
        assert secret not in body
    scene.room.public_busy_feed = True
    db.session.commit()
    public = get_feed(client, public_feed_url(scene.room))
    assert events_of(public).popitem()[1]["summary"] == "Réservé"
    assert "secret" not in public.data.decode() and booking.uid not in public.data.decode()


def test_details_for_the_booking_organisation_owners_and_the_person_concerned(
        client, scene, staff, create_booking, now):
    booking = create_booking(staff, scene.booker, scene.member, now + timedelta(days=2),
                             title="Clôture des comptes")
    for reader in (scene.member, scene.manager, staff.person):
        shown = events_of(get_feed(client, resource_feed_url(reader, staff))
                          if reader is not staff.person
                          else get_feed(client, personal_feed_url(reader)))
        assert shown[booking.uid]["summary"] == "Clôture des comptes"
        assert scene.member.display_name in shown[booking.uid]["description"]


def test_a_feed_outside_what_its_owner_may_see_is_not_found(
        client, scene, create_organisation, create_user, create_resource):
    stranger = create_user(email="stranger@example.org", organisation=create_organisation())
    private_room = create_resource(owner=scene.owner, visibility="listed")
    assert get_feed(client, organisation_feed_url(stranger, scene.booker.id)).status_code == 404
    assert get_feed(client, resource_feed_url(stranger, private_room)).status_code == 404
    assert get_feed(client, public_feed_url(scene.room)).status_code == 404


def test_regenerating_revokes_every_old_url(client, scene):
    old = [personal_feed_url(scene.member), organisation_feed_url(scene.member, scene.booker.id),
           resource_feed_url(scene.member, scene.room)]
    regenerate_feed_key(scene.member)
    for url in old:
        response = get_feed(client, url)
        assert response.status_code == 404
        assert response.data == b"Not Found\n"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert get_feed(client, personal_feed_url(scene.member)).status_code == 200


def test_unknown_tokens_and_deactivated_users_get_404(client, scene):
    url = personal_feed_url(scene.member)
    assert client.get("/feeds/" + "A" * 43 + "/me.ics").status_code == 404
    assert client.get("/feeds/short/me.ics").status_code == 404
    scene.member.active = False
    db.session.commit()
    assert get_feed(client, url).status_code == 404


def test_the_token_is_random_and_stored_hashed(scene):
    from sharing.models import FeedKey

    token = feed_token(scene.member)
    key = db.session.get(FeedKey, scene.member.id)
    assert len(token) == 43  # 256 bits
    assert token not in (key.nonce, key.token_hash)
    assert feed_token(scene.member) == token


def test_cancelled_and_rejected_bookings_stay_with_a_higher_sequence(
        client, scene, create_booking, now):
    booking = create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=1))
    rejected = create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=2),
                              status="rejected")
    pending = create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=3),
                             status="pending")
    url = personal_feed_url(scene.member)
    before = events_of(get_feed(client, url))[booking.uid]
    cancel(scene.member, booking.id)
    after = events_of(get_feed(client, url))
    assert after[booking.uid]["status"] == "CANCELLED"
    assert after[booking.uid]["sequence"] > before["sequence"]
    assert after[rejected.uid]["status"] == "CANCELLED"
    assert after[pending.uid]["status"] == "TENTATIVE"


def test_unchanged_feed_is_byte_identical(client, scene, create_booking, now):
    create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=1))
    url = personal_feed_url(scene.member)
    first = get_feed(client, url).data
    assert get_feed(client, url).data == first


@pytest.mark.parametrize("validator", ["If-None-Match", "If-Modified-Since"])
def test_200_then_304_then_200_after_a_change(client, scene, create_booking, now, validator):
    booking = create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=1))
    booking.updated_at = now - timedelta(hours=1)
    db.session.commit()
    url = personal_feed_url(scene.member)
    first = get_feed(client, url)
    assert first.status_code == 200
    value = first.headers["ETag"] if validator == "If-None-Match" \
        else first.headers["Last-Modified"]
    assert first.headers["ETag"].startswith('"')  # strong
    second = get_feed(client, url, **{validator: value})
    assert second.status_code == 304 and second.data == b""
    cancel(scene.member, booking.id)
    third = get_feed(client, url, **{validator: value})
    assert third.status_code == 200
    assert third.headers["ETag"] != first.headers["ETag"]
    assert third.headers["Last-Modified"] != first.headers["Last-Modified"]


def test_last_modified_moves_when_a_booking_leaves_the_window(
        app, client, scene, create_booking, now):
    leaving = create_booking(scene.room, scene.booker, scene.member, now - timedelta(days=29))
    leaving.updated_at = now - timedelta(days=40)
    db.session.commit()
    url = personal_feed_url(scene.member)
    first = get_feed(client, url)
    app.config["FEED_PAST_DAYS"] = 28
    later = get_feed(client, url, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert later.status_code == 200
    assert leaving.uid not in later.data.decode()
    assert later.last_modified > first.last_modified


def test_feed_tokens_never_reach_the_request_log(client, scene, caplog):
    from sharing.blueprints.feeds import MaskFeedTokens

    token = feed_token(scene.member)
    with caplog.at_level(logging.INFO):
        assert get_feed(client, personal_feed_url(scene.member)).status_code == 200
    assert "/feeds/…/me.ics" in caplog.text and token not in caplog.text
    caplog.clear()
    logger = logging.getLogger("werkzeug")
    assert any(isinstance(f, MaskFeedTokens) for f in logger.filters)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logger.info('%s - - "%s" %s', "127.0.0.1", f"GET /feeds/{token}/me.ics HTTP/1.1", 200)
    access = logging.getLogger("gunicorn.access")  # gunicorn gives its atoms as a mapping
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        access.info('%(h)s "%(r)s" %(s)s', {"h": "10.0.0.1", "s": "200",
                                             "r": f"GET /feeds/{token}/me.ics HTTP/1.1"})
    assert len(caplog.records) == 2 and token not in caplog.text
    assert caplog.text.count("/feeds/…/me.ics") == 2


# --- where people find them ----------------------------------------------------------------

def test_account_page_lists_each_feed_with_a_webcal_link(login, scene):
    page = login(scene.member).get("/account/", headers={"Accept-Language": "en"})
    html = page.data.decode()
    personal = personal_feed_url(scene.member)
    assert personal in html
    assert organisation_feed_url(scene.member, scene.booker.id) in html
    assert personal.replace("http://", "webcal://") in html
    assert "Thunderbird" in html and "Outlook" in html and "Google" in html
    assert 'src="/static/copy.js?v=' in html and "<script>" not in html


def test_regenerating_from_the_account_page_revokes_the_old_urls(client, login, scene):
    old = personal_feed_url(scene.member)
    response = login(scene.member).post("/account/feeds/regenerate")
    assert response.status_code == 302
    assert get_feed(client, old).status_code == 404
    db.session.expire_all()
    assert personal_feed_url(scene.member) != old


def test_resource_page_offers_to_subscribe(login, scene):
    html = login(scene.member).get(f"/rooms/{scene.room.slug}").data.decode()
    assert resource_feed_url(scene.member, scene.room) in html
    assert public_feed_url(scene.room) not in html
    scene.room.public_busy_feed = True
    db.session.commit()
    assert public_feed_url(scene.room) in login(scene.member).get(
        f"/rooms/{scene.room.slug}").data.decode()


def test_managers_publish_the_public_feed_from_the_resource_form(login, scene):
    from sharing.forms.catalogue import ResourceForm

    assert "public_busy_feed" in ResourceForm.AUDIENCE
    page = login(scene.manager).get(f"/rooms/{scene.room.slug}/edit")
    assert 'name="public_busy_feed"' in page.data.decode()


def test_a_booking_page_adds_the_booking_to_my_calendar(login, scene, create_booking, now,
                                                       create_organisation, create_user):
    booking = create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=1),
                             title="Atelier pâtisserie")
    client = login(scene.member)
    assert f"/bookings/{booking.id}.ics" in client.get(f"/bookings/{booking.id}").data.decode()
    response = client.get(f"/bookings/{booking.id}.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    event = events_of(response)[booking.uid]
    assert event["summary"] == "Atelier pâtisserie"
    assert (event["start"], event["end"]) == (booking.starts_at, booking.ends_at)
    assert ical_js(response.data)["events"][0]["summary"] == "Atelier pâtisserie"
    other = create_user(email="other@example.org", organisation=create_organisation())
    busy = login(other).get(f"/bookings/{booking.id}.ics")
    assert "Atelier" not in busy.data.decode() and booking.uid not in busy.data.decode()


# --- the iTIP invitations mail attaches ------------------------------------------------------

def test_itip_request_then_cancel_share_the_uid_with_a_higher_sequence(
        app, scene, create_booking, create_user, now):
    from sharing.services.ical import itip_calendar

    app.config["MAIL_DEFAULT_SENDER"] = "Pôle Centre Isère <pole@example.org>"
    booking = create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=5),
                             title="Réunion de bureau")
    english = create_user(email="en@example.org", name="Sam Taylor",
                          organisation=scene.booker, locale="en")
    request = Calendar.from_ical(itip_calendar(booking, "REQUEST", english))
    cancel(scene.member, booking.id)
    db.session.refresh(booking)
    cancelled = Calendar.from_ical(itip_calendar(booking, "CANCEL", english))
    assert (request["method"], cancelled["method"]) == ("REQUEST", "CANCEL")
    first, second = (next(iter(c.walk("VEVENT"))) for c in (request, cancelled))
    assert str(first["uid"]) == str(second["uid"]) == booking.uid
    assert int(second["sequence"]) > int(first["sequence"])
    assert str(second["status"]) == "CANCELLED"
    assert str(first["organizer"]) == "mailto:pole@example.org"
    assert first["organizer"].params["CN"] == scene.owner.name
    assert str(first["attendee"]) == "mailto:en@example.org"
    assert "booked by" in str(first["description"])  # the recipient's language
    assert first.decoded("dtstart") == booking.starts_at
    for body in (request.to_ical(), cancelled.to_ical()):
        read = ical_js(body)
        assert read["events"][0]["uid"] == booking.uid
    with pytest.raises(ValueError):
        itip_calendar(booking, "PUBLISH", english)


def test_any_feed_address_answers_without_referrer(client):
    response = client.get("/feeds/" + "x" * 43 + "/organisations/99999999999.ics")
    assert response.status_code == 404
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_conditional_request_reads_one_aggregate_and_builds_nothing(
        client, scene, create_booking, now):
    """Building the calendar would read the bookings' rows (their titles): it does not."""
    from sqlalchemy import event

    for day in range(1, 30):
        create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=day))
    url = personal_feed_url(scene.member)
    etag = get_feed(client, url).headers["ETag"]
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = get_feed(client, url, **{"If-None-Match": etag})
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 304
    reading_bookings = [s for s in statements if "from booking" in s]
    assert len(reading_bookings) == 1 and "count(" in reading_bookings[0]
    assert not any("booking.title" in s for s in statements)


def test_a_renamed_resource_or_a_new_right_is_a_new_version(
        client, scene, create_booking, now, create_organisation, create_user):
    booking = create_booking(scene.room, scene.booker, scene.member, now + timedelta(days=1),
                             title="Comité de pilotage")
    booking.updated_at = now - timedelta(hours=1)
    db.session.commit()
    reader = create_user(email="reader@example.org", organisation=create_organisation())
    url = resource_feed_url(reader, scene.room)
    first = get_feed(client, url)
    assert "Comité" not in first.data.decode()
    scene.room.name = "Salle des Marronniers"
    db.session.commit()
    renamed = get_feed(client, url, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert renamed.status_code == 200 and "Marronniers" in renamed.data.decode()
    from sharing.services.organisations import add_member

    add_member(reader, scene.booker, "member")
    db.session.commit()
    joined = get_feed(client, url, **{"If-None-Match": renamed.headers["ETag"]})
    assert joined.status_code == 200 and "Comité" in joined.data.decode()
    assert joined.last_modified >= renamed.last_modified > first.last_modified


def test_an_anonymised_person_s_feeds_stop_and_their_key_is_not_exported(client, scene):
    from sharing.services.personal_data import anonymise_person, export_person

    url = personal_feed_url(scene.member)
    assert "feed_key" in export_person(scene.member)
    assert feed_token(scene.member) not in str(export_person(scene.member))
    anonymise_person(scene.member)
    db.session.commit()
    assert get_feed(client, url).status_code == 404
