"""What another organisation booked is busy time, and nothing more, through every read
of the API: no id, uid, series, organisation, person, title or note."""

import json

import pytest
from api_helpers import Api, make_pole
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.models import Booking

WINDOW = {"start": "2031-03-01T00:00:00Z", "end": "2031-03-31T00:00:00Z"}
BUSY_KEYS = {"busy", "resource_id", "start", "end", "quantity"}


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


@pytest.fixture
def partner_bookings(client, pole):
    """The pâtisserie's bookings of the shared room: one, a series, one cancelled."""
    api = Api(client, pole.partner_member)
    body = {"resource_id": pole.room.id, "organisation_id": pole.partner.id,
            "title": "Atelier secret", "note": "Code porte 1234"}
    made = [api.post("/bookings", json={**body, "start": "2031-03-03T09:00:00+01:00",
                                        "end": "2031-03-03T10:00:00+01:00"}),
            api.post("/bookings", json={**body, "start": "2031-03-04T09:00:00+01:00",
                                        "end": "2031-03-04T10:00:00+01:00",
                                        "recurrence": "FREQ=WEEKLY;COUNT=3"}),
            api.post("/bookings", json={**body, "start": "2031-03-05T14:00:00+01:00",
                                        "end": "2031-03-05T15:00:00+01:00"})]
    assert all(response.status_code == 201 for response in made)
    cancelled = made[2].json["bookings"][0]["id"]
    assert api.post(f"/bookings/{cancelled}/cancel").status_code == 200
    return list(db.session.scalars(select(Booking).order_by(Booking.id)))


def pairs(value, key=None):
    """Every (key, value) of a JSON document, at any depth."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from pairs(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from pairs(item, key)
    else:
        yield key, value


def objects(value):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from objects(item)


def outsider_reads(api: Api, pole, bookings: list[Booking]) -> list:
    room = pole.room.id
    paths = [
        ("/bookings", WINDOW), ("/bookings", {**WINDOW, "resource_id": room}),
        ("/bookings", {**WINDOW, "organisation_id": pole.partner.id}),
        ("/bookings", {**WINDOW, "status": "cancelled"}),
        (f"/resources/{room}/availability", WINDOW), (f"/resources/{room}", {}),
        ("/resources", {}), (f"/resources/{room}/closures", {}), ("/me", {}),
        *((f"/bookings/{booking.id}", {}) for booking in bookings),
    ]
    answers = []
    for path, query in paths:
        response = api.get(path, query_string=query)
        assert response.status_code == 200, (path, response.json)
        answers.append(response.json)
    return answers


@pytest.mark.parametrize("who", ["outsider_member", "outsider_manager", "member"])
def test_an_outsider_sees_busy_time_only(client, pole, partner_bookings, who):
    """The owner's plain member does not manage the room: an outsider to the booking too."""
    answers = outsider_reads(Api(client, getattr(pole, who)), pole, partner_bookings)
    secrets = {("organisation_id", pole.partner.id), ("user_id", pole.partner_member.id)}
    for booking in partner_bookings:
        secrets |= {("uid", booking.uid), ("title", booking.title), ("note", booking.note),
                    ("series_id", booking.series_id)}
    assert not set(pairs(answers)) & secrets
    telling = {"id", "uid", "title", "note", "series_id", "organisation_id", "user_id"}
    for item in objects(answers):
        if "start" in item and "resource_id" in item:  # a booking, as the outsider sees it
            assert not set(item) & telling, item
    text = json.dumps(answers, ensure_ascii=False)
    for secret in ("Atelier secret", "Code porte", "patisserie", *(b.uid for b in
                                                                   partner_bookings)):
        assert secret not in text
    busy = [item for item in objects(answers) if item.get("busy") is True]
    assert busy and all(set(item) == BUSY_KEYS for item in busy)


def test_busy_time_is_the_holding_bookings_only(client, pole, partner_bookings):
    listed = Api(client, pole.outsider_member).get("/bookings", query_string=WINDOW).json
    holding = [b for b in partner_bookings if b.status in ("pending", "confirmed")]
    assert len(listed["bookings"]) == len(holding) == 4


def test_filtering_by_another_organisation_enumerates_nothing(client, pole,
                                                               partner_bookings):
    query = {**WINDOW, "organisation_id": pole.partner.id}
    assert Api(client, pole.outsider_member).get("/bookings", query_string=query).json == {
        "bookings": []}
    # those who may see the details still filter by organisation
    for who in ("partner_member", "manager", "admin"):
        listed = Api(client, getattr(pole, who)).get("/bookings", query_string=query).json
        assert {b["id"] for b in listed["bookings"]} == {b.id for b in partner_bookings}
