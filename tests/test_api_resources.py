"""GET/POST /resources, GET/PATCH /resources/<id>: what each user sees and may change."""

from datetime import timedelta

import pytest
from api_helpers import Api, database_state, make_pole
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.models import Closure, Resource

COMMON_KEYS = {
    "id", "kind", "name", "slug", "description", "site_id", "owner_organisation_id",
    "quantity", "tags", "timezone", "active", "visibility", "requires_approval",
    "opening_hours", "min_duration_minutes", "max_duration_minutes", "slot_minutes",
    "buffer_minutes", "min_notice_minutes", "max_advance_days", "public_busy_feed", "feed_url",
    "price", "price_unit", "free_cancellation_minutes",
}
KIND_KEYS = {
    "room": {"capacity", "surface_m2", "accessible"},
    "equipment": {"pickup_place", "licence_required"},
    "staff": {"person_id", "weekly_hours"},
    "expertise": {"person_id", "topic", "delivery_mode", "session_minutes", "weekly_hours"},
}


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


def names(response) -> set[str]:
    assert response.status_code == 200, response.json
    return {resource["name"] for resource in response.json["resources"]}


def count_resources() -> int:
    return db.session.scalar(select(func.count()).select_from(Resource))


# --- reading --------------------------------------------------------------------------

def test_listed_resource_is_seen_only_by_listed_organisations(client, pole):
    everyone = {"Salle des Tilleuls", "Camion frigorifique"}
    assert names(Api(client, pole.member).get("/resources")) == everyone
    assert names(Api(client, pole.partner_member).get("/resources")) == everyone
    assert names(Api(client, pole.admin).get("/resources")) == everyone
    outsider = Api(client, pole.outsider_member)
    assert names(outsider.get("/resources")) == {"Salle des Tilleuls"}
    assert outsider.get(f"/resources/{pole.van.id}").status_code == 404
    assert outsider.get(f"/resources/{pole.van.id}/closures").status_code == 404


def test_filters(client, pole, create_site, create_resource):
    other_site = create_site(name="Saint-Marcellin")
    create_resource(kind="room", owner=pole.owner, site=other_site, name="Atelier", capacity=30)
    api = Api(client, pole.member)
    assert names(api.get("/resources?kind=equipment")) == {"Camion frigorifique"}
    assert names(api.get(f"/resources?site={other_site.id}")) == {"Atelier"}
    assert names(api.get("/resources?tag=froid")) == {"Camion frigorifique"}
    assert names(api.get("/resources?text=tilleuls")) == {"Salle des Tilleuls"}
    assert names(api.get("/resources?min_capacity=20")) == {"Atelier"}
    assert names(api.get("/resources?min_quantity=2")) == {"Camion frigorifique"}
    assert names(api.get("/resources?site=999999")) == set()


@pytest.mark.parametrize("query, field", [
    ("kind=boat", "kind"), ("kind=", None), ("site=abc", "site"), ("site=-1", "site"),
    ("site=99999999999999999999", "site"), ("min_capacity=lots", "min_capacity"),
    ("min_quantity=1.5", "min_quantity"),
    ("free_start=2027-01-04T10:00:00Z", "free_end"),
    ("free_end=2027-01-04T10:00:00Z", "free_start"),
    ("free_start=2027-01-04T10:00:00&free_end=2027-01-04T11:00:00Z", "free_start"),
    ("free_start=2027-01-04T10:00:00Z&free_end=tomorrow", "free_end"),
    ("free_start=2027-01-04T11:00:00Z&free_end=2027-01-04T10:00:00Z", "free_end"),
])
def test_bad_filters_are_422_naming_the_parameter(client, pole, query, field):
    response = Api(client, pole.member).get(f"/resources?{query}")
    if field is None:  # an empty parameter is no filter
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert response.json["error"] == "invalid" and field in response.json["fields"]


def test_free_filter_leaves_out_busy_and_closed_resources(client, pole, create_resource,
                                                          create_booking, now):
    start = (now + timedelta(days=7)).replace(minute=0, second=0)
    end = start + timedelta(hours=2)
    closed = create_resource(kind="room", owner=pole.owner, site=pole.site, name="Cuisine")
    db.session.add(Closure(resource_id=closed.id, starts_at=start - timedelta(days=1),
                           ends_at=end + timedelta(days=1), reason="Travaux"))
    create_booking(pole.room, pole.owner, pole.member, start, minutes=60)
    db.session.commit()
    api = Api(client, pole.member)
    window = f"free_start={start.isoformat()}&free_end={end.isoformat()}".replace("+", "%2B")
    assert names(api.get(f"/resources?{window}")) == {"Camion frigorifique"}
    later = f"free_start={(end + timedelta(days=2)).isoformat()}&free_end=" \
            f"{(end + timedelta(days=2, hours=1)).isoformat()}".replace("+", "%2B")
    assert names(api.get(f"/resources?{later}")) == {
        "Salle des Tilleuls", "Camion frigorifique", "Cuisine"}
    # two units of the van: both must be free when asking for two
    create_booking(pole.van, pole.partner, pole.partner_member, start, minutes=60)
    assert names(api.get(f"/resources?{window}&min_quantity=2")) == set()
    assert names(api.get(f"/resources?{window}&min_quantity=1")) == {"Camion frigorifique"}


@pytest.mark.parametrize("kind, fields", [
    ("room", {"capacity": 12, "surface_m2": 40, "accessible": True}),
    ("equipment", {"pickup_place": "Quai 2", "licence_required": "B"}),
    ("staff", {"weekly_hours": 7}),
    ("expertise", {"topic": "Énergie", "delivery_mode": "remote", "session_minutes": 90}),
])
def test_resource_object_has_common_policy_and_kind_fields(client, pole, create_resource,
                                                           kind, fields):
    if kind in ("staff", "expertise"):
        fields["person_id"] = pole.member.id
    resource = create_resource(kind=kind, owner=pole.owner, site=pole.site, **fields,
                               opening_hours={"mon": [["08:00", "12:00"], ["13:30", "18:00"]]},
                               buffer_minutes=15, max_advance_days=90)
    data = Api(client, pole.partner_member).get(f"/resources/{resource.id}").json
    assert set(data) == COMMON_KEYS | KIND_KEYS[kind]
    assert {name: data[name] for name in fields} == fields
    assert data["timezone"] == "Europe/Paris"
    assert data["opening_hours"] == {"mon": [["08:00", "12:00"], ["13:30", "18:00"]],
                                     "tue": [], "wed": [], "thu": [], "fri": [], "sat": [],
                                     "sun": []}
    assert (data["buffer_minutes"], data["max_advance_days"]) == (15, 90)


def test_visible_to_is_shown_to_the_owners_managers_only(client, pole):
    assert Api(client, pole.manager).get(f"/resources/{pole.van.id}").json["visible_to"] == [
        pole.partner.id]
    assert "visible_to" in Api(client, pole.admin).get(f"/resources/{pole.van.id}").json
    for user in (pole.member, pole.partner_member):
        assert "visible_to" not in Api(client, user).get(f"/resources/{pole.van.id}").json


@pytest.mark.parametrize("resource_id", [0, 999_999, 2**31, 10**30])
def test_unknown_resource_is_404(client, pole, resource_id):
    api = Api(client, pole.admin)
    assert api.get(f"/resources/{resource_id}").status_code == 404
    assert api.patch(f"/resources/{resource_id}", json={"name": "x"}).status_code == 404


def test_inactive_resource_is_hidden_from_members_but_not_from_its_managers(client, pole):
    pole.room.active = False
    db.session.commit()
    assert Api(client, pole.partner_member).get(f"/resources/{pole.room.id}").status_code == 404
    assert Api(client, pole.manager).get(f"/resources/{pole.room.id}").status_code == 200


# --- publishing -----------------------------------------------------------------------

def new_room(pole, **extra):
    return {"kind": "room", "owner_organisation_id": pole.owner.id, "name": "Salle Verte",
            "site_id": pole.site.id, "capacity": 8, "tags": ["Réunion", "calme"],
            "opening_hours": {"tue": [["09:00", "17:00"]]}, "slot_minutes": 30, **extra}


def test_manager_publishes_a_resource(client, pole):
    response = Api(client, pole.manager).post("/resources", json=new_room(pole))
    assert response.status_code == 201
    created = db.session.get(Resource, response.json["id"])
    assert (created.kind, created.name, created.owner_organisation_id, created.capacity,
            created.slot_minutes) == ("room", "Salle Verte", pole.owner.id, 8, 30)
    assert created.opening_hours["tue"] == [["09:00", "17:00"]]
    assert response.json["tags"] == ["calme", "réunion"] or response.json["tags"] == [
        "réunion", "calme"]
    assert response.json["slug"] == created.slug


def test_coordinator_publishes_for_any_organisation(client, pole):
    response = Api(client, pole.admin).post(
        "/resources", json=new_room(pole, owner_organisation_id=pole.outsider.id))
    assert response.status_code == 201
    assert response.json["owner_organisation_id"] == pole.outsider.id


@pytest.mark.parametrize("who", ["member", "partner_member", "outsider_manager"])
def test_only_the_owners_managers_publish(client, pole, who):
    before = count_resources()
    response = Api(client, getattr(pole, who)).post("/resources", json=new_room(pole))
    assert response.status_code == 403 and response.json["error"] == "forbidden"
    assert count_resources() == before


@pytest.mark.parametrize("changes, field", [
    ({"owner_organisation_id": 999_999}, "owner_organisation_id"),
    ({"owner_organisation_id": "1"}, "owner_organisation_id"),
    ({"kind": "boat"}, "kind"),
    ({"kind": ["room"]}, "kind"),
    ({"name": ""}, "name"),
    ({"site_id": 999_999}, "site_id"),
    ({"capacity": -3}, "capacity"),
    ({"pickup_place": "Quai"}, "pickup_place"),
    ({"opening_hours": {"mon": [["12:00", "08:00"]]}}, "opening_hours"),
    ({"max_duration_minutes": 10, "min_duration_minutes": 60}, "max_duration_minutes"),
    ({"visible_to": [999_999]}, "visible_to"),
    ({"colour": "green"}, "colour"),
])
def test_invalid_resource_is_422_naming_the_field_and_writes_nothing(client, pole, changes,
                                                                     field):
    before = database_state()
    response = Api(client, pole.manager).post("/resources", json=new_room(pole, **changes))
    assert response.status_code == 422, response.json
    assert field in response.json["fields"]
    assert database_state() == before


def test_missing_required_fields_are_all_named(client, pole):
    response = Api(client, pole.manager).post(
        "/resources", json={"kind": "staff", "owner_organisation_id": pole.owner.id})
    assert response.status_code == 422
    assert {"name", "site_id", "person_id"} <= set(response.json["fields"])


# --- editing --------------------------------------------------------------------------

def test_manager_edits_a_resource(client, pole):
    response = Api(client, pole.manager).patch(f"/resources/{pole.room.id}", json={
        "name": "Salle des Tilleuls (rénovée)", "requires_approval": True, "buffer_minutes": 30,
        "opening_hours": {"mon": [["08:00", "12:00"]]}, "visibility": "listed",
        "visible_to": [pole.partner.id]})
    assert response.status_code == 200, response.json
    db.session.expire_all()
    room = db.session.get(Resource, pole.room.id)
    assert (room.name, room.requires_approval, room.buffer_minutes, room.visibility) == (
        "Salle des Tilleuls (rénovée)", True, 30, "listed")
    assert list(room.visible_to_ids) == [pole.partner.id]
    assert response.json["visible_to"] == [pole.partner.id]
    # now listed: the outsider no longer sees it
    assert Api(client, pole.outsider_member).get(f"/resources/{pole.room.id}").status_code == 404


@pytest.mark.parametrize("who", ["member", "partner_member", "outsider_manager"])
def test_others_may_not_edit(client, pole, who):
    before = database_state()
    response = Api(client, getattr(pole, who)).patch(f"/resources/{pole.room.id}",
                                                     json={"name": "Pris"})
    assert response.status_code == 403
    assert database_state() == before


def test_editing_a_resource_one_cannot_see_is_404(client, pole):
    response = Api(client, pole.outsider_manager).patch(f"/resources/{pole.van.id}",
                                                        json={"name": "Pris"})
    assert response.status_code == 404


@pytest.mark.parametrize("changes, field", [
    ({"kind": "equipment"}, "kind"),
    ({"owner_organisation_id": 1}, "owner_organisation_id"),
    ({"slot_minutes": 0}, "slot_minutes"),
    ({"quantity": True}, "quantity"),
    ({"tags": "froid"}, "tags"),
    ({"name": "Nouveau nom", "min_notice_minutes": -1}, "min_notice_minutes"),
])
def test_invalid_edit_is_422_and_changes_nothing(client, pole, changes, field):
    before = database_state()
    response = Api(client, pole.manager).patch(f"/resources/{pole.room.id}", json=changes)
    assert response.status_code == 422
    assert field in response.json["fields"]
    assert database_state() == before
