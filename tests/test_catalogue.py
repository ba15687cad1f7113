"""The four catalogue pages: lists and filters, detail, create, edit, withdraw; who may."""

import re
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import event, func, select

from sharing.core.extensions import db
from sharing.models import Membership, Organisation, Resource, Site, User

PREFIX = {"room": "rooms", "equipment": "equipment", "staff": "staff", "expertise": "expertise"}
KINDS = list(PREFIX)
# Each kind's own fields as typed in its form, and as they must be stored.
KIND_FORM = {
    "room": ({"capacity": "12", "surface_m2": "40", "accessible": "y"},
             {"capacity": 12, "surface_m2": 40, "accessible": True}),
    "equipment": ({"pickup_place": "Quai 2", "licence_required": "B"},
                  {"pickup_place": "Quai 2", "licence_required": "B"}),
    "staff": ({"weekly_hours": "7"}, {"weekly_hours": 7}),
    "expertise": ({"topic": "Énergie", "delivery_mode": "remote", "session_minutes": "90"},
                  {"topic": "Énergie", "delivery_mode": "remote", "session_minutes": 90}),
}
WITH_PERSON = ("staff", "expertise")


@dataclass
class Scene:
    owner: Organisation
    other: Organisation
    site: Site
    manager: User  # manages `owner`
    member: User  # member of `owner`
    outsider: User  # manager of `other`
    admin: User


@pytest.fixture
def scene(load_once, create_organisation, create_site, create_user):
    """Built by the module's first test, its rows copied into each later test's database:
    nearly every test here wants it, and its seven commits cost about as much as the
    test's own request. Each user's address names the part they play."""

    def build() -> None:
        owner = create_organisation(slug="ressourcerie", name="La Ressourcerie")
        other = create_organisation(slug="patisserie", name="Pâtisserie solidaire")
        create_site(name="Voiron")
        create_user(email="manager@example.org", organisation=owner, role="manager",
                    name="Aline Manager", locale="en")
        create_user(email="member@example.org", organisation=owner, name="Bruno Membre",
                    locale="en")
        create_user(email="outsider@example.org", organisation=other, role="manager",
                    locale="en")
        create_user(email="admin@example.org", is_admin=True, locale="en")

    load_once("catalogue", build)
    organisations = {o.slug: o for o in db.session.scalars(select(Organisation))}
    users = {u.email.split("@")[0]: u for u in db.session.scalars(select(User))}
    return Scene(owner=organisations["ressourcerie"], other=organisations["patisserie"],
                 site=db.session.scalar(select(Site)), **users)


def form_data(kind, scene, **overrides):
    data = {"owner": str(scene.owner.id), "name": "Salle des Tilleuls",
            "description": "Au rez-de-chaussée", "site_id": str(scene.site.id), "quantity": "2",
            "tags": "Réunion, cuisine , réunion", "visibility": "all",
            "min_duration_minutes": "30", "max_duration_minutes": "240", "slot_minutes": "15",
            "buffer_minutes": "10", "min_notice_minutes": "0", "max_advance_days": "",
            "requires_approval": "y", "hours_mon": "13:30-18:00, 08:00-12:00",
            "price": "2.5", "price_unit": "hour", "free_cancellation_minutes": "1440",
            **KIND_FORM[kind][0]}
    if kind in WITH_PERSON:
        data["person_id"] = str(scene.member.id)
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def count_resources():
    return db.session.scalar(select(func.count()).select_from(Resource))


def stored(resource_id):
    db.session.expire_all()
    return db.session.get(Resource, resource_id)


def field_error(html, field):
    """The message shown beside a field, or None."""
    match = re.search(rf'id="{field}-error">([^<]*)<', html)
    return match and match.group(1)


@contextmanager
def counted_statements():
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def make(create_resource, kind, scene, **fields):
    if kind in WITH_PERSON:
        fields.setdefault("person", scene.member)
    return create_resource(kind=kind, owner=fields.pop("owner", scene.owner),
                           site=fields.pop("site", scene.site), **fields)


# --- list and filters ------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_list_shows_what_the_reader_may_see(kind, scene, client, login, create_resource,
                                            create_organisation, create_user):
    reader_org = create_organisation()
    reader = create_user(organisation=reader_org)
    make(create_resource, kind, scene, name="Ouverte à tous")
    make(create_resource, kind, scene, name="Réservée à d'autres", visibility="listed")
    listed = make(create_resource, kind, scene, name="Réservée au lecteur", visibility="listed")
    listed.visible_to_ids = [reader_org.id]
    db.session.commit()
    make(create_resource, kind, scene, name="Retirée", active=False)
    other_kind = next(k for k in KINDS if k != kind)
    make(create_resource, other_kind, scene, name="Autre catalogue")

    page = login(reader).get(f"/{PREFIX[kind]}").text
    assert "Ouverte à tous" in page and "Réservée au lecteur" in page
    for hidden in ("Réservée à d&#39;autres", "Réservée à d'autres", "Retirée",
                   "Autre catalogue"):
        assert hidden not in page
    # a reader cannot ask for withdrawn resources; their managers can
    assert "Retirée" not in client.get(f"/{PREFIX[kind]}?inactive=y").text
    page = login(scene.manager).get(f"/{PREFIX[kind]}?inactive=y").text
    assert "Retirée" in page and "Réservée à d&#39;autres" in page


KIND_FILTERS = {
    "room": ({"capacity": 40}, {"capacity": 4}, "min_capacity=10"),
    "equipment": ({"quantity": 3}, {"quantity": 1}, "min_quantity=2"),
    "staff": ({}, {}, ""),
    "expertise": ({"topic": "Rénovation énergétique", "delivery_mode": "both"},
                  {"topic": "Droit", "delivery_mode": "on_site"},
                  "topic=rénovation&delivery_mode=remote"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_filters_by_site_tag_text_and_the_kinds_own(kind, scene, login, create_resource,
                                                    create_site):
    elsewhere = create_site(name="Saint-Marcellin")
    wanted, unwanted, own_filter = KIND_FILTERS[kind]
    make(create_resource, kind, scene, name="Alpha", tags=["froid"],
         description="Grand volume", **wanted)
    make(create_resource, kind, scene, name="Bravo", site=elsewhere, **unwanted)
    client = login(scene.member)

    def names(query):
        page = client.get(f"/{PREFIX[kind]}?{query}")
        assert page.status_code == 200
        return [n for n in ("Alpha", "Bravo") if f">{n}</a>" in page.text]

    assert names("") == ["Alpha", "Bravo"]
    assert names(f"site={scene.site.id}") == ["Alpha"]
    assert names(f"site={elsewhere.id}") == ["Bravo"]
    assert names("tag=Froid") == ["Alpha"]
    assert names("q=volume") == names("q=ALPHA") == ["Alpha"]
    assert names("q=nothing-like-this") == []
    if own_filter:
        assert names(own_filter) == ["Alpha"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("query", [
    "site=abc", "site=999999", "min_capacity=lots", "min_quantity=-", "delivery_mode=teleport",
    "inactive=maybe", "q=%25", "tag=" + "x" * 500, "site=1&site=abc", "q=%00", "tag=%00",
    "topic=a%00b", "min_capacity=99999999999999999999", "min_quantity=99999999999999999999",
    "site=99999999999999999999",
])
def test_bad_filter_values_never_fail(kind, query, scene, login, create_resource):
    make(create_resource, kind, scene, name="Alpha")
    response = login(scene.member).get(f"/{PREFIX[kind]}?{query}")
    assert response.status_code == 200


def test_a_bad_filter_is_shown_and_ignored(scene, login, create_resource):
    make(create_resource, "room", scene, name="Alpha", capacity=4)
    page = login(scene.member).get("/rooms?min_capacity=lots&site=abc").text
    assert field_error(page, "min_capacity") and field_error(page, "site")
    assert ">Alpha</a>" in page


def test_list_costs_the_same_queries_whatever_the_number_of_resources(
        scene, login, create_resource, create_organisation, create_site, create_user):
    client = login(scene.member)

    def add_resources(count):
        for _number in range(count):
            owner = create_organisation()
            person = create_user(organisation=owner)
            for kind in KINDS:
                create_resource(kind=kind, owner=owner, site=create_site(),
                                tags=[owner.slug, "commun"], capacity=5,
                                person=person if kind in WITH_PERSON else None)

    def statements_per_list(shown):
        counts = {}
        for kind in KINDS:
            with counted_statements() as statements:
                page = client.get(f"/{PREFIX[kind]}?tag=commun").text
            assert page.count('class="tag"') == 2 * shown
            counts[kind] = len(statements)
        return counts

    add_resources(3)
    with_3 = statements_per_list(3)
    add_resources(27)
    assert statements_per_list(30) == with_3


# --- detail ----------------------------------------------------------------------------

KIND_SHOWN = {
    "room": ("12", "40", "Yes"),
    "equipment": ("Quai 2", "B"),
    "staff": ("Bruno Membre", "7"),
    "expertise": ("Bruno Membre", "Énergie", "Remote", "1 h 30"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_detail_shows_facts_hours_and_rules(kind, scene, login, create_resource):
    resource = make(create_resource, kind, scene, name="Alpha", tags=["froid"],
                    requires_approval=True, buffer_minutes=20,
                    opening_hours={"mon": [["08:00", "12:00"], ["13:30", "18:00"]],
                                   "sat": [["09:00", "12:00"]]},
                    **KIND_FORM[kind][1])
    page = login(scene.member).get(f"/{PREFIX[kind]}/{resource.slug}").text
    assert "La Ressourcerie" in page and "Voiron" in page and ">froid</a>" in page
    assert "08:00–12:00, 13:30–18:00" in page
    days = re.findall(r'<th scope="row">([^<]+)</th>', page)
    assert days == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                    "Sunday"]
    rules = page[page.index('class="rules"'):]  # the week grid above says "Closed" too
    assert rules.count("Closed") == 5
    assert "A changeover of 20 min follows each booking." in page
    assert "approved by La Ressourcerie" in page
    for shown in KIND_SHOWN[kind]:
        assert f"<dd>{shown}</dd>" in page
    assert f"/{PREFIX[kind]}/{resource.slug}/edit" not in page
    page = login(scene.manager).get(f"/{PREFIX[kind]}/{resource.slug}").text
    assert f"/{PREFIX[kind]}/{resource.slug}/edit" in page
    assert f"/{PREFIX[kind]}/{resource.slug}/deactivate" in page


def test_detail_without_hours_says_any_time_and_offers_booking_when_possible(
        app, scene, login, create_resource):
    resource = make(create_resource, "room", scene, name="Alpha")
    page = login(scene.member).get(f"/rooms/{resource.slug}").text
    assert "<table" not in page
    assert f'href="/bookings/new?resource={resource.slug}"' in page


@pytest.mark.parametrize("kind", KINDS)
def test_hidden_unknown_and_misplaced_resources_are_not_found(kind, scene, login,
                                                              create_resource):
    hidden = make(create_resource, kind, scene, owner=scene.other, visibility="listed")
    withdrawn = make(create_resource, kind, scene, active=False)
    other_kind = next(k for k in KINDS if k != kind)
    misplaced = make(create_resource, other_kind, scene)
    client = login(scene.member)
    for slug in (hidden.slug, withdrawn.slug, misplaced.slug, "nothing-here", "%00"):
        assert client.get(f"/{PREFIX[kind]}/{slug}").status_code == 404
        assert client.get(f"/{PREFIX[kind]}/{slug}/edit").status_code == 404
    login(scene.manager)
    assert client.get(f"/{PREFIX[kind]}/{withdrawn.slug}").status_code == 200


def test_catalogue_pages_need_a_signed_in_user(client, scene, create_resource):
    resource = make(create_resource, "room", scene)
    for url in ("/rooms", f"/rooms/{resource.slug}", "/rooms/new", "/expertise"):
        assert client.get(url).status_code in (302, 401)
    assert client.post(f"/rooms/{resource.slug}/deactivate").status_code in (302, 401)
    assert stored(resource.id).active


# --- create ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_manager_creates_a_resource(kind, scene, login):
    client = login(scene.manager)
    assert client.get(f"/{PREFIX[kind]}/new").status_code == 200

    response = client.post(f"/{PREFIX[kind]}/new", data=form_data(kind, scene))

    resource = db.session.scalar(select(Resource))
    assert response.status_code == 302
    assert response.location.endswith(f"/{PREFIX[kind]}/salle-des-tilleuls")
    assert (resource.kind, resource.name, resource.owner) == (kind, "Salle des Tilleuls",
                                                              scene.owner)
    assert resource.site == scene.site and resource.quantity == 2
    assert resource.tags == ["cuisine", "réunion"]
    assert (resource.min_duration_minutes, resource.max_duration_minutes) == (30, 240)
    assert resource.requires_approval and resource.buffer_minutes == 10
    assert resource.max_advance_days is None
    assert (resource.price_cents, resource.price_unit, resource.free_cancellation_minutes) \
        == (250, "hour", 1440)
    assert resource.opening_hours["mon"] == [["08:00", "12:00"], ["13:30", "18:00"]]
    assert resource.opening_hours["tue"] == []
    for name, value in KIND_FORM[kind][1].items():
        assert getattr(resource, name) == value
    if kind in WITH_PERSON:
        assert resource.person == scene.member


def test_listed_visibility_is_saved_with_its_organisations(scene, login):
    login(scene.manager).post("/rooms/new", data={
        **form_data("room", scene), "visibility": "listed", "visible_to": [str(scene.other.id)]})
    resource = db.session.scalar(select(Resource))
    assert resource.visibility == "listed"
    assert list(resource.visible_to_ids) == [scene.other.id]


BAD_POSTS = {
    "garbage number": ({"quantity": "deux"}, "quantity"),
    "zero units": ({"quantity": "0"}, "quantity"),
    "no name": ({"name": "  "}, "name"),
    "unknown site": ({"site_id": "999999"}, "site_id"),
    "garbage site": ({"site_id": "Voiron"}, "site_id"),
    "overlapping hours": ({"hours_tue": "08:00-12:00, 11:00-14:00"}, "hours_tue"),
    "malformed hours": ({"hours_wed": "8h-midi"}, "hours_wed"),
    "max below min": ({"min_duration_minutes": "120", "max_duration_minutes": "60"},
                      "max_duration_minutes"),
    "huge buffer": ({"buffer_minutes": "99999999999999999999"}, "buffer_minutes"),
    "no grid": ({"slot_minutes": ""}, "slot_minutes"),
    "bad visibility": ({"visibility": "secret"}, "visibility"),
    "unknown organisation": ({"visibility": "listed", "visible_to": "424242"}, "visible_to"),
    "taken address": ({"slug": "prise"}, "slug"),
    "bad address": ({"slug": "Pas une adresse"}, "slug"),
    "long tag": ({"tags": "x" * 41}, "tags"),
    "NUL character": ({"name": "Salle\x00"}, "name"),
}
KIND_BAD_POSTS = {
    "room": ({"capacity": "-4"}, "capacity"),
    "equipment": ({"licence_required": "B" * 61}, "licence_required"),
    "staff": ({"weekly_hours": "400"}, "weekly_hours"),
    "expertise": ({"delivery_mode": "telepathy"}, "delivery_mode"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", [*BAD_POSTS, "kind's own"])
def test_bad_input_is_shown_beside_the_field_and_writes_nothing(kind, case, scene, login,
                                                                create_resource):
    make(create_resource, "room", scene, slug="prise")
    overrides, field = BAD_POSTS.get(case) or KIND_BAD_POSTS[kind]
    response = login(scene.manager).post(f"/{PREFIX[kind]}/new",
                                          data=form_data(kind, scene, **overrides))
    assert response.status_code == 422
    assert field_error(response.text, field)
    assert count_resources() == 1


@pytest.mark.parametrize("kind", WITH_PERSON)
def test_the_person_must_belong_to_the_owning_organisation(kind, scene, login, create_user):
    # The manager also manages `other`, so its members are offered: the service refuses.
    scene.manager.memberships.append(Membership(organisation=scene.other, role="manager"))
    db.session.commit()
    stranger = create_user(organisation=scene.other, name="Chloé Ailleurs")
    client = login(scene.manager)
    assert "Chloé Ailleurs" in client.get(f"/{PREFIX[kind]}/new").text
    for person_id in (str(stranger.id), "", "abc", "999999"):
        response = client.post(f"/{PREFIX[kind]}/new",
                               data=form_data(kind, scene, person_id=person_id))
        assert response.status_code == 422
        assert field_error(response.text, "person_id")
    assert count_resources() == 0


def test_the_owner_must_be_an_organisation_the_user_manages(scene, login):
    response = login(scene.manager).post(
        "/rooms/new", data=form_data("room", scene, owner=str(scene.other.id)))
    assert response.status_code == 422 and field_error(response.text, "owner")
    response = login(scene.manager).post("/rooms/new", data=form_data("room", scene,
                                                                      owner="x"))
    assert response.status_code == 422
    assert count_resources() == 0


@pytest.mark.parametrize("kind", KINDS)
def test_only_managers_may_create(kind, scene, login, create_user):
    for user in (scene.member, create_user()):
        client = login(user)
        assert client.get(f"/{PREFIX[kind]}/new").status_code == 403
        assert client.post(f"/{PREFIX[kind]}/new",
                           data=form_data(kind, scene)).status_code == 403
        assert "/new" not in client.get(f"/{PREFIX[kind]}").text
    assert count_resources() == 0


def test_admin_creates_for_any_organisation(scene, login):
    response = login(scene.admin).post("/equipment/new", data=form_data(
        "equipment", scene, owner=str(scene.other.id)))
    assert response.status_code == 302
    assert db.session.scalar(select(Resource)).owner == scene.other


# --- edit ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_edit_form_starts_from_the_resource_and_saves_changes(kind, scene, login,
                                                              create_resource):
    resource = make(create_resource, kind, scene, name="Alpha", tags=["froid", "grand"],
                    opening_hours={"mon": [["08:00", "12:00"], ["13:30", "18:00"]]})
    client = login(scene.manager)
    page = client.get(f"/{PREFIX[kind]}/{resource.slug}/edit").text
    assert 'value="froid, grand"' in page and 'value="08:00-12:00, 13:30-18:00"' in page
    assert 'name="owner"' not in page

    data = form_data(kind, scene, name="Alpha bis", tags="Grand, neuf", hours_mon="",
                     hours_fri="09:00-17:00", owner=None, slug="")
    response = client.post(f"/{PREFIX[kind]}/{resource.slug}/edit", data=data)

    assert response.status_code == 302
    saved = stored(resource.id)
    assert (saved.name, saved.slug, saved.owner) == ("Alpha bis", resource.slug, scene.owner)
    assert saved.tags == ["grand", "neuf"]
    assert saved.opening_hours["mon"] == [] and saved.opening_hours["fri"] == [
        ["09:00", "17:00"]]
    for name, value in KIND_FORM[kind][1].items():
        assert getattr(saved, name) == value


@pytest.mark.parametrize("kind", KINDS)
def test_bad_edit_changes_nothing(kind, scene, login, create_resource):
    resource = make(create_resource, kind, scene, name="Alpha", min_duration_minutes=30)
    client = login(scene.manager)
    for overrides, field in [*BAD_POSTS.values(), KIND_BAD_POSTS[kind]]:
        if field == "slug" and overrides["slug"] == "prise":
            continue
        response = client.post(f"/{PREFIX[kind]}/{resource.slug}/edit",
                               data=form_data(kind, scene, **{
                                   "name": "Changed", "owner": None, **overrides}))
        assert response.status_code == 422, field
        assert field_error(response.text, field), field
        saved = stored(resource.id)
        assert (saved.name, saved.min_duration_minutes, saved.tags) == ("Alpha", 30, [])


@pytest.mark.parametrize("kind", KINDS)
def test_who_may_edit(kind, scene, login, create_resource):
    resource = make(create_resource, kind, scene, name="Alpha")
    url = f"/{PREFIX[kind]}/{resource.slug}/edit"
    for user in (scene.member, scene.outsider):
        client = login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, data=form_data(kind, scene, name="Pirate")).status_code == 403
    assert stored(resource.id).name == "Alpha"
    response = login(scene.admin).post(url, data=form_data(kind, scene, name="By the admin"))
    assert response.status_code == 302
    assert stored(resource.id).name == "By the admin"


# --- withdraw and put back -------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_deactivate_and_reactivate(kind, scene, login, create_resource):
    resource = make(create_resource, kind, scene, name="Alpha")
    base = f"/{PREFIX[kind]}/{resource.slug}"
    for user in (scene.member, scene.outsider):
        assert login(user).post(f"{base}/deactivate").status_code == 403
    assert stored(resource.id).active

    client = login(scene.manager)
    assert client.get(f"{base}/deactivate").status_code == 405
    assert client.post(f"{base}/deactivate").status_code == 302
    assert stored(resource.id).active is False
    assert ">Alpha</a>" not in login(scene.member).get(f"/{PREFIX[kind]}").text

    assert login(scene.admin).post(f"{base}/reactivate").status_code == 302
    assert stored(resource.id).active is True
    assert count_resources() == 1
