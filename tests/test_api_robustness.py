"""No request body, however malformed, gets a 500 or writes anything."""

from datetime import UTC, datetime

import pytest
from api_helpers import Api, assert_garbage_refused, database_state, make_pole

from sharing.core.extensions import db
from sharing.models import Closure


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


def test_publishing_a_resource(client, pole):
    assert_garbage_refused(Api(client, pole.manager), "POST", "/resources", {
        "kind": "room", "owner_organisation_id": pole.owner.id, "name": "Salle",
        "site_id": pole.site.id, "capacity": 10, "tags": ["a"],
        "opening_hours": {"mon": [["08:00", "12:00"]]}, "max_duration_minutes": 120})


def test_publishing_staff_time(client, pole):
    assert_garbage_refused(Api(client, pole.admin), "POST", "/resources", {
        "kind": "staff", "owner_organisation_id": pole.owner.id, "name": "Comptable",
        "site_id": pole.site.id, "person_id": pole.member.id, "visibility": "listed",
        "visible_to": [pole.partner.id]})


def test_editing_a_resource(client, pole):
    assert_garbage_refused(Api(client, pole.manager), "PATCH", f"/resources/{pole.van.id}", {
        "name": "Camion", "quantity": 3, "slot_minutes": 30, "requires_approval": True,
        "visible_to": [pole.partner.id], "licence_required": "B", "description": "Froid"})


def test_closing_a_resource(client, pole):
    assert_garbage_refused(Api(client, pole.manager), "POST",
                           f"/resources/{pole.room.id}/closures",
                           {"start": "2027-08-01T00:00:00+02:00",
                            "end": "2027-08-16T00:00:00Z", "reason": "Congés"})


def test_lifting_a_closure_ignores_any_body(client, pole):
    closure = Closure(resource_id=pole.room.id, starts_at=datetime(2027, 8, 1, tzinfo=UTC),
                      ends_at=datetime(2027, 8, 2, tzinfo=UTC))
    db.session.add(closure)
    db.session.commit()
    response = Api(client, pole.manager).delete(
        f"/resources/{pole.room.id}/closures/{closure.id}", data=b"[" * 10_000)
    assert response.status_code == 204


def test_setting_quotas(client, pole):
    assert_garbage_refused(Api(client, pole.admin), "PUT",
                           f"/organisations/{pole.partner.id}/quotas",
                           {"quotas": [{"resource_id": pole.van.id, "max_hours_per_week": 4}]})


def test_setting_one_quota_field_by_field(client, pole):
    """The garbage goes one level down too: into a quota's own fields."""
    api = Api(client, pole.admin)
    valid = {"resource_kind": "room", "max_hours_per_week": 4, "max_hours_per_month": 10}
    for name in valid:
        for value in (None, True, -1, 10**40, "4", [], {}, "\u0000", 1e308):
            before = database_state()
            response = api.put(f"/organisations/{pole.partner.id}/quotas",
                               json={"quotas": [{**valid, name: value}]})
            assert response.status_code in (200, 400, 422), (name, value)
            if response.status_code != 200:
                assert database_state() == before


@pytest.mark.parametrize("query", [
    "kind=%00", "tag=%ff%fe", "site=1e9", "site=%20", "free_start=" + "9" * 1000,
    "free_start=2027-01-01T00:00:00Z&free_end=2099-01-01T00:00:00Z",
    "free_start=0001-01-01T00:00:00%2B01:00&free_end=2027-01-01T00:00:00Z",
    "min_capacity=" + "9" * 100,
])
def test_garbage_queries_are_not_500(client, pole, query):
    response = Api(client, pole.member).get(f"/resources?{query}")
    assert response.status_code in (200, 400, 422)
