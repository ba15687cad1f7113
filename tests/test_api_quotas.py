"""/organisations/<id>/quotas: the coordinator sets any, owner managers those on their own
resources; members see their organisation's, owner managers those on their resources."""

import pytest
from api_helpers import Api, database_state, make_pole
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.models import Quota


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


def quotas_of(organisation) -> list[tuple]:
    db.session.expire_all()
    return [(q.resource_id, q.resource_kind, q.max_hours_per_week, q.max_hours_per_month)
            for q in db.session.scalars(select(Quota).where(
                Quota.organisation_id == organisation.id).order_by(Quota.id))]


def set_quota(organisation, **fields) -> Quota:
    quota = Quota(organisation_id=organisation.id, **fields)
    db.session.add(quota)
    db.session.commit()
    return quota


def path(organisation) -> str:
    return f"/organisations/{organisation.id}/quotas"


def test_coordinator_sets_quotas_of_any_scope(client, pole):
    body = {"quotas": [{"resource_kind": "equipment", "max_hours_per_month": 20},
                       {"resource_id": pole.van.id, "max_hours_per_week": 6,
                        "max_hours_per_month": 12.5}]}
    response = Api(client, pole.admin).put(path(pole.partner), json=body)
    assert response.status_code == 200, response.json
    assert quotas_of(pole.partner) == [(None, "equipment", None, 20.0),
                                       (pole.van.id, None, 6.0, 12.5)]
    first = response.json["quotas"][0]
    assert first == {"id": first["id"], "organisation_id": pole.partner.id, "resource_id": None,
                     "resource_kind": "equipment", "max_hours_per_week": None,
                     "max_hours_per_month": 20.0}


def test_put_replaces_the_list(client, pole):
    set_quota(pole.partner, resource_kind="room", max_hours_per_week=4)
    api = Api(client, pole.admin)
    api.put(path(pole.partner), json={"quotas": [{"resource_kind": "staff",
                                                  "max_hours_per_week": 0}]})
    assert quotas_of(pole.partner) == [(None, "staff", 0.0, None)]
    assert api.put(path(pole.partner), json={"quotas": []}).json == {"quotas": []}
    assert quotas_of(pole.partner) == []


def test_owner_manager_sets_quotas_on_own_resources_and_leaves_the_others(client, pole,
                                                                          create_resource):
    set_quota(pole.partner, resource_kind="equipment", max_hours_per_month=20)
    elsewhere = create_resource(kind="room", owner=pole.outsider, site=pole.site)
    set_quota(pole.partner, resource_id=elsewhere.id, max_hours_per_week=2)
    set_quota(pole.partner, resource_id=pole.room.id, max_hours_per_week=9)
    response = Api(client, pole.manager).put(path(pole.partner), json={
        "quotas": [{"resource_id": pole.van.id, "max_hours_per_week": 5}]})
    assert response.status_code == 200, response.json
    assert quotas_of(pole.partner) == [(None, "equipment", None, 20.0),
                                       (elsewhere.id, None, 2.0, None),
                                       (pole.van.id, None, 5.0, None)]
    # the answer shows what this manager may see: their resources' quotas only
    assert [q["resource_id"] for q in response.json["quotas"]] == [pole.van.id]


def test_owner_manager_may_not_set_kind_quotas(client, pole):
    """A kind-wide quota spans other owners' resources: the coordinator's call."""
    before = database_state()
    response = Api(client, pole.manager).put(path(pole.partner), json={"quotas": [
        {"resource_id": pole.van.id, "max_hours_per_week": 5},
        {"resource_kind": "equipment", "max_hours_per_week": 5}]})
    assert response.status_code == 403
    assert database_state() == before


def test_manager_may_not_set_quotas_on_resources_of_others(client, pole):
    before = database_state()
    response = Api(client, pole.outsider_manager).put(path(pole.partner), json={
        "quotas": [{"resource_id": pole.room.id, "max_hours_per_week": 1}]})
    assert response.status_code == 403
    assert database_state() == before


@pytest.mark.parametrize("who", ["member", "partner_member", "outsider_member"])
def test_plain_members_may_not_set_quotas(client, pole, who):
    response = Api(client, getattr(pole, who)).put(path(pole.partner), json={"quotas": []})
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


def test_a_resource_one_cannot_see_is_unknown(client, pole):
    """The van is listed for the pâtisserie only: to énergie's manager it does not exist."""
    pole.outsider_manager.locale = "en"  # the API answers in its user's language
    db.session.commit()
    response = Api(client, pole.outsider_manager).put(path(pole.outsider), json={
        "quotas": [{"resource_id": pole.van.id, "max_hours_per_week": 1}]})
    assert response.status_code == 422
    assert response.json["fields"] == {"quotas[0].resource_id": ["Unknown resource."]}


@pytest.mark.parametrize("quotas, field", [
    ([{"resource_kind": "room", "max_hours_per_week": -1}], "quotas[0].max_hours_per_week"),
    ([{"resource_kind": "room", "max_hours_per_week": 1},
      {"resource_kind": "staff", "max_hours_per_week": "10"}], "quotas[1].max_hours_per_week"),
    ([{"resource_kind": "room", "max_hours_per_month": True}], "quotas[0].max_hours_per_month"),
    ([{"resource_kind": "room", "max_hours_per_week": 169}], "quotas[0].max_hours_per_week"),
    ([{"resource_kind": "room", "max_hours_per_month": 745}], "quotas[0].max_hours_per_month"),
    ([{"resource_kind": "boat", "max_hours_per_week": 1}], "quotas[0].resource_kind"),
    ([{"resource_kind": ["room"], "max_hours_per_week": 1}], "quotas[0].resource_kind"),
    ([{"resource_id": 999_999, "max_hours_per_week": 1}], "quotas[0].resource_id"),
    ([{"resource_id": "1", "max_hours_per_week": 1}], "quotas[0].resource_id"),
    ([{"resource_id": 10**30, "max_hours_per_week": 1}], "quotas[0].resource_id"),
    ([{"max_hours_per_week": 1}], "quotas[0]"),
    ([{"resource_kind": "room", "resource_id": "ROOM", "max_hours_per_week": 1}],
     "quotas[0]"),
    ([{"resource_kind": "room"}], "quotas[0]"),
    ([{"resource_kind": "room", "max_hours_per_week": None}], "quotas[0]"),
    ([{"resource_kind": "room", "max_hours_per_week": 1, "per": "day"}], "quotas[0].per"),
    ([{"resource_kind": "room", "max_hours_per_week": 1},
      {"resource_kind": "room", "max_hours_per_month": 1}], "quotas[1]"),
    (["room"], "quotas[0]"),
    ([None], "quotas[0]"),
    ({"resource_kind": "room"}, "quotas"),
    ("room", "quotas"),
    (None, "quotas"),
])
def test_invalid_quotas_are_422_with_the_path_and_write_nothing(client, pole, quotas, field):
    set_quota(pole.partner, resource_kind="room", max_hours_per_week=4)
    before = database_state()
    # "ROOM" stands for a real resource's id (ids are not 1 on a reused database)
    if quotas and isinstance(quotas, list) and isinstance(quotas[0], dict) \
            and quotas[0].get("resource_id") == "ROOM":
        quotas = [{**quotas[0], "resource_id": pole.room.id}]
    response = Api(client, pole.admin).put(path(pole.partner), json={"quotas": quotas})
    assert response.status_code == 422, response.json
    assert response.json["error"] == "invalid" and field in response.json["fields"]
    assert database_state() == before


def test_errors_of_several_items_are_all_reported(client, pole):
    response = Api(client, pole.admin).put(path(pole.partner), json={"quotas": [
        {"resource_kind": "room", "max_hours_per_week": -1},
        {"resource_kind": "staff", "max_hours_per_week": 2},
        {"resource_id": 999_999, "max_hours_per_month": 1}]})
    assert set(response.json["fields"]) == {"quotas[0].max_hours_per_week",
                                            "quotas[2].resource_id"}


def test_unknown_body_fields_are_refused(client, pole):
    response = Api(client, pole.admin).put(path(pole.partner), json={"quotas": [], "mode": "x"})
    assert response.status_code == 422 and "mode" in response.json["fields"]


def test_unknown_organisation_is_404(client, pole):
    api = Api(client, pole.admin)
    assert api.get("/organisations/999999/quotas").status_code == 404
    assert api.put("/organisations/999999/quotas", json={"quotas": []}).status_code == 404
    assert api.get(f"/organisations/{10**30}/quotas").status_code == 404


# --- who sees what --------------------------------------------------------------------

@pytest.fixture
def quotas(pole, create_resource):
    """The pâtisserie's quotas: one kind-wide, one on the van, one on another's resource."""
    elsewhere = create_resource(kind="room", owner=pole.outsider, site=pole.site)
    return [set_quota(pole.partner, resource_kind="equipment", max_hours_per_month=20),
            set_quota(pole.partner, resource_id=pole.van.id, max_hours_per_week=5),
            set_quota(pole.partner, resource_id=elsewhere.id, max_hours_per_week=2)]


def seen(client, user, organisation) -> list[int]:
    response = Api(client, user).get(path(organisation))
    assert response.status_code == 200, response.json
    return [quota["id"] for quota in response.json["quotas"]]


def test_the_organisations_members_and_the_coordinator_see_all(client, pole, quotas):
    all_ids = [quota.id for quota in quotas]
    assert seen(client, pole.partner_member, pole.partner) == all_ids
    assert seen(client, pole.admin, pole.partner) == all_ids


def test_owner_managers_see_only_quotas_on_their_resources(client, pole, quotas):
    assert seen(client, pole.manager, pole.partner) == [quotas[1].id]
    assert seen(client, pole.outsider_manager, pole.partner) == [quotas[2].id]


@pytest.mark.parametrize("who", ["member", "outsider_member"])
def test_other_organisations_members_may_not_look(client, pole, quotas, who):
    response = Api(client, getattr(pole, who)).get(path(pole.partner))
    assert response.status_code == 403
    assert "quotas" not in response.json
