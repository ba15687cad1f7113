"""External calendars on a resource's page: its managers attach one (http(s) only, the
field named on refusal, nothing written), synchronise now, see the last good read and
the last error, and detach it. Nobody else sees the (often secret) addresses."""

from datetime import timedelta

import pytest
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from ics_server import Answer, calendar_file, start, stop
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from sharing.core.database import utcnow
from sharing.core.extensions import db
from sharing.models import ExternalBusy, ExternalCalendar


@pytest.fixture
def app_config():
    return {"CALENDAR_FETCH_ALLOW_PRIVATE": True, "CALENDAR_FETCH_TIMEOUT": 2}


@pytest.fixture
def ics():
    server, thread = start()
    tomorrow = (utcnow() + timedelta(days=1)).strftime("%Y%m%dT100000Z")
    server.served.answers["/van.ics"] = Answer(calendar_file(
        "SUMMARY:Livraison privée", f"DTSTART:{tomorrow}", "DURATION:PT2H"))
    yield server.served
    stop(server, thread)


def page(resource) -> str:
    return f"/rooms/{resource.slug}"


def calendars_url(resource, *rest) -> str:
    return "/".join([f"/resources/{resource.id}/calendars", *map(str, rest)])


def calendars() -> list[ExternalCalendar]:
    return list(db.session.scalars(select(ExternalCalendar).order_by(ExternalCalendar.id)))


def attached(client, scene, url: str) -> ExternalCalendar:
    answer = client.post(calendars_url(scene.room), data={"url": url})
    assert answer.status_code == 302
    return calendars()[-1]


def test_a_manager_attaches_and_synchronises_a_calendar(client, login, scene, ics):
    login(scene.manager)
    assert "Attach a calendar" in client.get(page(scene.room)).text
    calendar = attached(client, scene, ics.url("/van.ics"))
    assert calendar.resource_id == scene.room.id
    shown = client.get(page(scene.room)).text
    assert ics.url("/van.ics") in shown and "Not read yet." in shown
    answer = client.post(calendars_url(scene.room, "sync"), follow_redirects=True)
    assert "Calendars synchronised." in answer.text and "Last read:" in answer.text
    assert db.session.scalar(select(func.count()).select_from(ExternalBusy)) == 1


def writes_without_waiting(url: str) -> bool:
    """Whether another connection can write the calendar's and the resource's rows at once."""
    sqlite = url.startswith("sqlite")
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 0} if sqlite
                           else {"options": "-c lock_timeout=200"})
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE external_calendar SET last_error = last_error"))
            connection.execute(text("UPDATE resource SET quantity = quantity"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def test_nothing_is_locked_while_the_calendar_server_answers(client, login, scene, ics):
    """On SQLite a POST holds the write lock from its first statement: the sync ends that
    transaction before it fetches."""
    login(scene.manager)
    attached(client, scene, ics.url("/van.ics"))
    url = db.engine.url.render_as_string(hide_password=False)
    ics.answers["/van.ics"].while_asked = lambda: writes_without_waiting(url)
    sync_url = calendars_url(scene.room, "sync")
    db.session.commit()  # the request starts its own transaction, as in production
    answer = client.post(sync_url, follow_redirects=True)
    assert ics.seen == [True] and "Calendars synchronised." in answer.text


def test_the_button_leaves_to_the_worker_what_does_not_fit_in_its_time(client, login, scene,
                                                                       ics, app):
    # the slow server never answers in time, whatever the time: short, it is waited for
    app.config["CALENDAR_SYNC_NOW_SECONDS"] = 0.3
    ics.answers["/slow.ics"] = Answer(ics.answers["/van.ics"].body, stall_seconds=3)
    login(scene.manager)
    slow = attached(client, scene, ics.url("/slow.ics"))
    attached(client, scene, ics.url("/van.ics"))
    answer = client.post(calendars_url(scene.room, "sync"), follow_redirects=True)
    assert "2 calendars could not be read" in answer.text
    assert [path for path, _headers in ics.requests] == ["/slow.ics"]
    assert [calendar.last_error for calendar in calendars()] == ["timeout", ""]
    assert slow.id == calendars()[0].id


def test_a_failed_sync_shows_why_and_keeps_the_last_good_read(client, login, scene, ics):
    login(scene.manager)
    attached(client, scene, ics.url("/van.ics"))
    client.post(calendars_url(scene.room, "sync"))
    ics.answers["/van.ics"] = Answer(status=500)
    answer = client.post(calendars_url(scene.room, "sync"), follow_redirects=True)
    assert "1 calendar could not be read: its previous busy times are kept." in answer.text
    assert "The server answered with the HTTP status 500." in answer.text
    assert "Last read:" in answer.text
    assert db.session.scalar(select(func.count()).select_from(ExternalBusy)) == 1


INVALID = "Enter a valid address starting with http:// or https://."


@pytest.mark.parametrize("url, message", [
    ("", "This field is required."),
    ("ftp://calendars.example.org/van.ics", INVALID),
    ("file:///etc/passwd", INVALID),
    ("javascript:alert(1)", INVALID),
    ("https://", INVALID),
    ("https://calendars.example.org:99999/van.ics", INVALID),
    ("https://[::1/van.ics", INVALID),
    ("https://calendars.example.org/" + "x" * 2000, "Use at most 2000 characters."),
])
def test_bad_addresses_are_refused_beside_the_field(client, login, scene, url, message):
    login(scene.manager)
    answer = client.post(calendars_url(scene.room), data={"url": url})
    assert answer.status_code == 422
    assert 'id="url-error"' in answer.text and message in answer.text
    assert calendars() == []


def test_the_same_calendar_is_attached_once(client, login, scene, ics):
    login(scene.manager)
    attached(client, scene, ics.url("/van.ics"))
    answer = client.post(calendars_url(scene.room), data={"url": ics.url("/van.ics")})
    assert answer.status_code == 422 and "This calendar is already attached." in answer.text
    assert len(calendars()) == 1


def test_detaching_forgets_its_busy_times(client, login, scene, ics):
    login(scene.manager)
    calendar = attached(client, scene, ics.url("/van.ics"))
    client.post(calendars_url(scene.room, "sync"))
    answer = client.post(calendars_url(scene.room, calendar.id, "remove"), follow_redirects=True)
    assert "Calendar detached" in answer.text
    assert calendars() == [] and db.session.scalars(select(ExternalBusy)).all() == []


def test_a_calendar_of_another_resource_is_not_found(client, login, scene, ics,
                                                     create_resource):
    login(scene.manager)
    calendar = attached(client, scene, ics.url("/van.ics"))
    other = create_resource(kind="room", owner=scene.owner, site=scene.room.site)
    assert client.post(calendars_url(other, calendar.id, "remove")).status_code == 404
    assert len(calendars()) == 1


def test_nobody_else_sees_or_changes_the_calendars(client, login, scene, ics, create_user,
                                                    create_organisation):
    login(scene.manager)
    calendar = attached(client, scene, ics.url("/van.ics"))
    client.post(calendars_url(scene.room, "sync"))
    elsewhere = create_user(email="other-manager@example.org", organisation=create_organisation(),
                            role="manager")
    for user in (scene.member, elsewhere):
        login(user)
        shown = client.get(page(scene.room)).text
        assert "van.ics" not in shown and "Your own calendars" not in shown
        assert "Livraison" not in shown
        assert client.get(calendars_url(scene.room)).status_code == 403
        assert client.post(calendars_url(scene.room), data={"url": ics.url("/x.ics")}
                           ).status_code == 403
        assert client.post(calendars_url(scene.room, "sync")).status_code == 403
        assert client.post(calendars_url(scene.room, calendar.id, "remove")).status_code == 403
    assert len(calendars()) == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, scene):
    answer = client.get(calendars_url(scene.room))
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]

