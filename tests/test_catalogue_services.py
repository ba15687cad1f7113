"""The catalogue services: validation of resource data, slugs, tags, and finding."""

import pytest
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.models import Resource, ResourceTag, ResourceVisibility
from sharing.services.catalogue import (
    create_resource,
    deactivate_resource,
    find_resource_by_slug,
    find_resources,
    get_resource,
    reactivate_resource,
    update_resource,
)

KIND_DATA = {
    "room": {"capacity": 12, "surface_m2": 40, "accessible": True},
    "equipment": {"pickup_place": "Hangar, quai 2", "licence_required": "B"},
    "staff": {"weekly_hours": 7},
    "expertise": {"topic": "Économies d'énergie", "delivery_mode": "remote",
                  "session_minutes": 90},
}


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def owner(create_organisation):
    return create_organisation(slug="ressourcerie")


@pytest.fixture
def site(create_site):
    return create_site(name="Voiron")


@pytest.fixture
def person(create_user, owner):
    return create_user(email="compta@example.org", organisation=owner)


def kind_data(kind, site, person, **extra):
    data = {"name": "Salle des Tilleuls", "site_id": site.id, **KIND_DATA[kind], **extra}
    if kind in ("staff", "expertise"):
        data["person_id"] = person.id
    return data


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("kind", list(KIND_DATA))
def test_create_writes_every_field_of_the_kind(kind, owner, site, person, create_organisation):
    partner = create_organisation()
    resource = create_resource(owner, kind, kind_data(
        kind, site, person, description="Au rez-de-chaussée", quantity=2,
        tags=[" Réunion ", "réunion", "Cuisine", ""], visibility="listed",
        visible_to=[partner.id], requires_approval=True, min_duration_minutes=30,
        max_duration_minutes=240, slot_minutes=30, buffer_minutes=15,
        opening_hours={"mon": [["13:30", "18:00"], ["08:00", "12:00"]]}))
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(Resource, resource.id)
    assert (stored.kind, stored.name, stored.slug) == (kind, "Salle des Tilleuls",
                                                      "salle-des-tilleuls")
    assert stored.owner == owner and stored.site == site and stored.quantity == 2
    assert stored.tags == ["cuisine", "réunion"]
    assert (stored.visibility, list(stored.visible_to_ids)) == ("listed", [partner.id])
    assert stored.requires_approval and stored.buffer_minutes == 15
    assert (stored.min_duration_minutes, stored.max_duration_minutes) == (30, 240)
    assert stored.opening_hours["mon"] == [["08:00", "12:00"], ["13:30", "18:00"]]
    assert stored.opening_hours["sun"] == []
    for name, value in KIND_DATA[kind].items():
        assert getattr(stored, name) == value
    if kind in ("staff", "expertise"):
        assert stored.person == person


def test_slugs_are_generated_unique_and_without_accents(owner, site, person):
    first = create_resource(owner, "room", {"name": "Salle des Tilleuls", "site_id": site.id})
    db.session.commit()
    second = create_resource(owner, "room", {"name": "Sallé des  Tilleuls!", "site_id": site.id})
    db.session.commit()
    third = create_resource(owner, "room", {"name": "New", "site_id": site.id})
    assert (first.slug, second.slug, third.slug) == (
        "salle-des-tilleuls", "salle-des-tilleuls-2", "new-2")


@pytest.mark.parametrize("data, bad_fields", [
    ({}, {"name", "site_id"}),
    ({"name": "  "}, {"name"}),
    ({"quantity": "deux"}, {"quantity"}),
    ({"quantity": 0}, {"quantity"}),
    ({"quantity": True}, {"quantity"}),
    ({"site_id": 9999}, {"site_id"}),
    ({"site_id": "1"}, {"site_id"}),
    ({"colour": "red"}, {"colour"}),
    ({"pickup_place": "Hangar"}, {"pickup_place"}),
    ({"person_id": 1}, {"person_id"}),
    ({"capacity": -3, "surface_m2": 1.5}, {"capacity", "surface_m2"}),
    ({"accessible": "yes"}, {"accessible"}),
    ({"tags": "a, b"}, {"tags"}),
    ({"tags": ["x" * 41]}, {"tags"}),
    ({"visibility": "secret"}, {"visibility"}),
    ({"visible_to": [9999]}, {"visible_to"}),
    ({"slug": "Pas Bon"}, {"slug"}),
    ({"slug": "new"}, {"slug"}),
    ({"min_duration_minutes": 120, "max_duration_minutes": 60}, {"max_duration_minutes"}),
    ({"slot_minutes": 0}, {"slot_minutes"}),
    ({"opening_hours": {"mon": [["08:00", "12:00"], ["11:00", "14:00"]]}}, {"opening_hours"}),
    ({"opening_hours": {"monday": []}}, {"opening_hours"}),
    # PostgreSQL refuses NUL characters and SQLite integers beyond 64 bits: never ask them
    ({"name": "a\x00b", "description": "\x00"}, {"name", "description"}),
    ({"tags": ["a\x00"]}, {"tags"}),
    ({"site_id": 2**64, "visible_to": [10**20]}, {"site_id", "visible_to"}),
    ({"capacity": 10**30}, {"capacity"}),
])
def test_bad_room_data_names_the_fields_and_writes_nothing(owner, site, data, bad_fields):
    data = {"name": "Atelier", "site_id": site.id, **data} if data else data
    with pytest.raises(InvalidInput) as error:
        create_resource(owner, "room", data)
    db.session.commit()
    assert set(error.value.fields) == bad_fields
    assert all(error.value.fields[name] for name in bad_fields)
    assert count(Resource) == count(ResourceTag) == count(ResourceVisibility) == 0


@pytest.mark.parametrize("kind", ["staff", "expertise"])
def test_the_person_must_be_an_active_member_of_the_owner(kind, owner, site, create_user,
                                                          create_organisation):
    outsider = create_user(organisation=create_organisation())
    former = create_user(organisation=owner, active=False)
    for person_id in (None, outsider.id, former.id, 9999, "x", 2**64, -1):
        with pytest.raises(InvalidInput) as error:
            create_resource(owner, kind, {"name": "Comptable", "site_id": site.id,
                                          "person_id": person_id})
        assert set(error.value.fields) == {"person_id"}
    with pytest.raises(InvalidInput) as error:
        create_resource(owner, kind, {"name": "Comptable", "site_id": site.id})
    assert set(error.value.fields) == {"person_id"}
    db.session.commit()
    assert count(Resource) == 0


def test_unknown_kind_is_refused(owner, site):
    with pytest.raises(InvalidInput) as error:
        create_resource(owner, "spaceship", {"name": "X", "site_id": site.id})
    assert set(error.value.fields) == {"kind"}


def test_update_changes_only_the_fields_given(owner, site, create_site):
    resource = create_resource(owner, "room", {
        "name": "Atelier", "site_id": site.id, "tags": ["bois", "outils"],
        "min_duration_minutes": 60, "capacity": 8})
    db.session.commit()
    other_site = create_site(name="Saint-Marcellin")

    update_resource(resource, {"site_id": other_site.id, "tags": ["Outils", "peinture"],
                               "max_duration_minutes": 120, "description": "Établis"})
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(Resource, resource.id)
    assert stored.site == other_site and stored.description == "Établis"
    assert stored.tags == ["outils", "peinture"]
    assert (stored.min_duration_minutes, stored.max_duration_minutes) == (60, 120)
    assert (stored.name, stored.capacity, stored.slug) == ("Atelier", 8, "atelier")


def test_update_compares_with_the_stored_policy_and_changes_nothing_when_bad(owner, site):
    resource = create_resource(owner, "room", {"name": "Atelier", "site_id": site.id,
                                               "min_duration_minutes": 60})
    other = create_resource(owner, "room", {"name": "Cuisine", "site_id": site.id})
    db.session.commit()

    with pytest.raises(InvalidInput) as error:
        update_resource(resource, {"max_duration_minutes": 30, "name": "Grand atelier",
                                   "slug": other.slug})
    assert set(error.value.fields) == {"max_duration_minutes", "slug"}
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Resource, resource.id)
    assert (stored.name, stored.max_duration_minutes, stored.slug) == ("Atelier", None,
                                                                      "atelier")
    update_resource(stored, {"slug": "atelier"})  # its own address is not "taken"


def test_deactivate_and_reactivate_keep_the_row(owner, site):
    resource = create_resource(owner, "equipment", {"name": "Camion frigorifique",
                                                    "site_id": site.id})
    db.session.commit()
    deactivate_resource(resource)
    db.session.commit()
    assert get_resource(resource.id).active is False
    reactivate_resource(resource)
    db.session.commit()
    assert find_resource_by_slug("camion-frigorifique").active is True


def test_find_resources_applies_visibility_and_every_filter(
        owner, site, create_site, create_organisation, create_user, create_resource):
    reader_org = create_organisation()
    reader = create_user(organisation=reader_org)
    other = create_site()
    big = create_resource(kind="room", name="Grande salle", site=site, capacity=40,
                          tags=["réunion"], description="Vidéoprojecteur 100% fourni")
    small = create_resource(kind="room", name="Bureau", site=other, capacity=4)
    van = create_resource(kind="equipment", name="Camion", site=site, quantity=1)
    bikes = create_resource(kind="equipment", name="Vélos cargo", site=site, quantity=3)
    expert = create_resource(kind="expertise", name="Diagnostic", site=site,
                             topic="Rénovation énergétique", delivery_mode="both")
    create_resource(kind="room", name="Cachée", visibility="listed")
    create_resource(kind="room", name="Fermée", active=False)
    shown = create_resource(kind="room", name="Partagée", visibility="listed")
    shown.visible_to_ids = [reader_org.id]
    db.session.commit()

    def names(**filters):
        return [r.name for r in find_resources(reader, **filters)]

    assert names(kind="room") == ["Bureau", "Grande salle", "Partagée"]
    assert names(kind="room", site_id=site.id) == ["Grande salle"]
    assert names(tag=" Réunion") == ["Grande salle"]
    assert names(text="vidéo") == names(text="100%") == ["Grande salle"]
    # accented capitals too: SQLite's own lower() knows only A to Z
    assert names(text="ÉNERGÉTIQUE") == names(text="DIAG") == ["Diagnostic"]
    assert names(text="VÉLOS") == names(text="vélos") == ["Vélos cargo"]
    assert names(kind="room", min_capacity=10) == ["Grande salle"]
    assert names(kind="equipment", min_quantity=2) == ["Vélos cargo"]
    assert names(kind="expertise", delivery_mode="remote", topic="RÉNOVATION") == [
        "Diagnostic"]
    assert names(kind="expertise", delivery_mode="both") == ["Diagnostic"]
    assert names(kind="expertise", delivery_mode="on_site", topic="droit") == []
    assert names(text="%%") == names(text="_") == []
    assert {r.id for r in find_resources(reader)} == {
        big.id, small.id, van.id, bikes.id, expert.id, shown.id}
    assert "Fermée" not in [r.name for r in find_resources(reader, include_inactive=True)]
    admin = create_user(is_admin=True)
    assert "Fermée" in [r.name for r in find_resources(admin, include_inactive=True)]
    assert "Fermée" not in [r.name for r in find_resources(admin)]
