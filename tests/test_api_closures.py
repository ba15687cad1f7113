"""/resources/<id>/closures: owners close and reopen, whoever sees the resource lists."""

from datetime import UTC, datetime

import pytest
from api_helpers import Api, database_state, make_pole
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.models import Closure

SUMMER = {"start": "2027-08-01T00:00:00+02:00", "end": "2027-08-16T00:00:00+02:00",
          "reason": "Congés d'été"}


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


def closures_of(resource) -> list[Closure]:
    db.session.expire_all()
    return list(db.session.scalars(select(Closure).where(Closure.resource_id == resource.id)))


def close(resource, start, end, reason="") -> Closure:
    closure = Closure(resource_id=resource.id, starts_at=start, ends_at=end, reason=reason)
    db.session.add(closure)
    db.session.commit()
    return closure


def test_manager_closes_a_resource(client, pole):
    response = Api(client, pole.manager).post(f"/resources/{pole.room.id}/closures", json=SUMMER)
    assert response.status_code == 201
    assert response.json == {"id": response.json["id"], "resource_id": pole.room.id,
                             "start": "2027-07-31T22:00:00Z", "end": "2027-08-15T22:00:00Z",
                             "reason": "Congés d'été"}
    [closure] = closures_of(pole.room)
    assert closure.starts_at == datetime(2027, 7, 31, 22, tzinfo=UTC)
    assert closure.created_by_id == pole.manager.id


def test_reason_is_optional(client, pole):
    body = {"start": SUMMER["start"], "end": SUMMER["end"]}
    response = Api(client, pole.admin).post(f"/resources/{pole.room.id}/closures", json=body)
    assert response.status_code == 201 and response.json["reason"] == ""


@pytest.mark.parametrize("who, status", [
    ("member", 403), ("partner_member", 403), ("outsider_manager", 404)])
def test_only_owner_managers_close(client, pole, who, status):
    response = Api(client, getattr(pole, who)).post(f"/resources/{pole.van.id}/closures",
                                                    json=SUMMER)
    assert response.status_code == status
    assert closures_of(pole.van) == []


@pytest.mark.parametrize("changes, fields", [
    ({"start": "2027-08-01T00:00:00"}, {"start"}),  # naive
    ({"end": "2027-08-16"}, {"end"}),  # naive date
    ({"start": "le 1er août"}, {"start"}),
    ({"start": 1785542400}, {"start"}),
    ({"end": SUMMER["start"]}, {"end"}),  # end = start
    ({"end": "2027-07-01T00:00:00Z"}, {"end"}),  # end before start
    ({"start": None, "end": None}, {"start", "end"}),
    ({"reason": 42}, {"reason"}),
    ({"reason": "x" * 201}, {"reason"}),
    ({"until": "2027-09-01T00:00:00Z"}, {"until"}),
])
def test_invalid_closure_is_422_naming_fields_and_writes_nothing(client, pole, changes, fields):
    before = database_state()
    body = {key: value for key, value in {**SUMMER, **changes}.items() if value is not None}
    response = Api(client, pole.manager).post(f"/resources/{pole.room.id}/closures", json=body)
    assert response.status_code == 422
    assert response.json["error"] == "invalid" and set(response.json["fields"]) == fields
    assert database_state() == before


def test_list_in_order_and_by_window(client, pole):
    august = close(pole.room, datetime(2027, 8, 1, tzinfo=UTC), datetime(2027, 8, 16, tzinfo=UTC))
    christmas = close(pole.room, datetime(2027, 12, 24, tzinfo=UTC),
                      datetime(2028, 1, 2, tzinfo=UTC), "Noël")
    close(pole.van, datetime(2027, 9, 1, tzinfo=UTC), datetime(2027, 9, 2, tzinfo=UTC))
    api = Api(client, pole.outsider_member)
    listed = api.get(f"/resources/{pole.room.id}/closures").json["closures"]
    assert [c["id"] for c in listed] == [august.id, christmas.id]
    assert listed[1] == {"id": christmas.id, "resource_id": pole.room.id, "reason": "Noël",
                         "start": "2027-12-24T00:00:00Z", "end": "2028-01-02T00:00:00Z"}
    window = api.get(f"/resources/{pole.room.id}/closures"
                     "?start=2027-12-31T00:00:00Z&end=2028-02-01T00:00:00%2B01:00").json
    assert [c["id"] for c in window["closures"]] == [christmas.id]
    only_end = api.get(f"/resources/{pole.room.id}/closures?end=2027-08-01T00:00:01Z").json
    assert [c["id"] for c in only_end["closures"]] == [august.id]


def test_list_window_must_be_aware(client, pole):
    response = Api(client, pole.member).get(
        f"/resources/{pole.room.id}/closures?start=2027-12-31T00:00:00")
    assert response.status_code == 422 and "start" in response.json["fields"]


def test_listed_resource_closures_are_hidden_from_outsiders(client, pole):
    close(pole.van, datetime(2027, 9, 1, tzinfo=UTC), datetime(2027, 9, 2, tzinfo=UTC))
    assert Api(client, pole.partner_member).get(
        f"/resources/{pole.van.id}/closures").status_code == 200
    assert Api(client, pole.outsider_member).get(
        f"/resources/{pole.van.id}/closures").status_code == 404


def test_manager_lifts_a_closure(client, pole):
    closure = close(pole.room, datetime(2027, 8, 1, tzinfo=UTC), datetime(2027, 8, 2, tzinfo=UTC))
    response = Api(client, pole.manager).delete(f"/resources/{pole.room.id}/closures/{closure.id}")
    assert response.status_code == 204 and response.data == b""
    assert closures_of(pole.room) == []


def test_lifting_needs_the_owners_manager(client, pole):
    closure = close(pole.room, datetime(2027, 8, 1, tzinfo=UTC), datetime(2027, 8, 2, tzinfo=UTC))
    for user in (pole.member, pole.outsider_manager):
        response = Api(client, user).delete(f"/resources/{pole.room.id}/closures/{closure.id}")
        assert response.status_code == 403
    assert len(closures_of(pole.room)) == 1


def test_closure_of_another_resource_is_404(client, pole):
    closure = close(pole.van, datetime(2027, 8, 1, tzinfo=UTC), datetime(2027, 8, 2, tzinfo=UTC))
    api = Api(client, pole.manager)
    assert api.delete(f"/resources/{pole.room.id}/closures/{closure.id}").status_code == 404
    assert api.delete(f"/resources/{pole.room.id}/closures/999999").status_code == 404
    assert api.delete(f"/resources/{pole.room.id}/closures/{10**30}").status_code == 404
    assert len(closures_of(pole.van)) == 1
