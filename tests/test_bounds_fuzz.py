"""Boundary dates thrown at every route that takes one, on the API and the pages: never
a 5xx, and a refused request writes nothing (issue 11, finding 2)."""

from functools import partial

import pytest
from api_helpers import Api, database_state, make_pole
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# The ends of the accepted range and of the calendar, and the nights Paris changes clocks.
MOMENTS = ["0001-01-01T00:00", "1999-12-31T23:59", "2000-01-01T00:00", "2099-12-31T23:59",
           "2100-01-01T00:00", "9999-12-31T23:59", "2031-03-30T02:30", "2031-10-26T02:30",
           "2031-03-03T10:00"]
OFFSETS = ["Z", "+00:00", "+14:00", "-14:00", "+01:00", "+02:00", ""]
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

moments = st.sampled_from(MOMENTS)
instants = st.builds(lambda wall, offset: f"{wall}:00{offset}", moments,
                     st.sampled_from(OFFSETS))


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    pole = make_pole(create_site, create_organisation, create_resource)
    pole.room.buffer_minutes = 30
    return pole


def compact(instant: str) -> str:
    """2031-03-03T10:00:00Z as an RRULE's UNTIL: 20310303T100000Z."""
    return instant[:19].replace("-", "").replace(":", "") + ("Z" if instant[19:] == "Z" else "")


def api_calls(pole, start: str, end: str) -> list[tuple[str, str, dict]]:
    room = f"/resources/{pole.room.id}"
    body = {"resource_id": pole.room.id, "organisation_id": pole.partner.id, "start": start,
            "end": end}
    weekly = {**body, "start": "2031-03-03T10:00:00Z", "end": "2031-03-03T11:00:00Z",
              "recurrence": f"FREQ=WEEKLY;UNTIL={compact(end)}"}
    window = {"start": start, "end": end}
    return [("POST", "/bookings", {"json": body}), ("POST", "/bookings", {"json": weekly}),
            ("GET", "/bookings", {"query_string": window}),
            ("GET", f"{room}/availability", {"query_string": window}),
            ("GET", f"{room}/closures", {"query_string": window}),
            ("GET", "/resources", {"query_string": {"free_start": start, "free_end": end}}),
            ("POST", f"{room}/closures", {"json": window, "manager": True})]


def assert_answered(call, state: dict) -> dict:
    """No 5xx; a refusal leaves the database as it was. The state to compare next."""
    response = call()
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        assert database_state() == state
        return state
    return database_state()


@pytest.fixture
def apis(client, pole) -> tuple[Api, Api]:
    """The member's and the manager's tokens, made once for all the examples."""
    return Api(client, pole.partner_member), Api(client, pole.manager)


@FUZZ
@given(start=instants, end=instants)
def test_the_api_answers_every_boundary_date(apis, pole, start, end):
    member, manager = apis
    state = database_state()
    for method, path, options in api_calls(pole, start, end):
        api = manager if options.pop("manager", False) else member
        state = assert_answered(partial(api.call, method, path, **options), state)


def signed_in(app, user):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = str(user.id), True
    return client


def iso_week(wall: str) -> str:
    return f"{wall[:4]}-W{int(wall[5:7]) * 4 % 53 + 1:02d}"


@FUZZ
@given(start=moments, end=moments, repeat=st.booleans())
def test_the_pages_answer_every_boundary_date(app, pole, start, end, repeat):
    member, manager = signed_in(app, pole.partner_member), signed_in(app, pole.manager)
    form = {"organisation": pole.partner.id, "date": start[:10], "start_time": start[11:],
            "end_time": end[11:], "end_date": end[:10]}
    if repeat:
        form = {**form, "end_date": "", "repeat": "WEEKLY", "until": end[:10]}
    new = f"/bookings/new?resource={pole.room.slug}"
    state = database_state()
    for call in (lambda: member.post(new, data=form),
                 lambda: member.get(f"{new}&date={start[:10]}"),
                 lambda: member.get("/bookings/planning", query_string={"date": start[:10]}),
                 lambda: member.get("/bookings/planning", query_string={"week": iso_week(end)}),
                 lambda: manager.post(f"/resources/{pole.room.id}/closures",
                                      data={"start": start, "end": end})):
        state = assert_answered(call, state)
