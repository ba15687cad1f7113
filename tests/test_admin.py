"""The coordinator's administration: sites and organisations; everyone else is refused."""

import pytest
from booking_page_helpers import english  # noqa: F401  (fixture)
from sqlalchemy import func, select
from test_auth import english_pages  # noqa: F401  (autouse fixture)

from sharing.core.extensions import db
from sharing.models import Membership, Organisation, Site


@pytest.fixture
def admin(create_user):
    return create_user(email="coordinator@example.org", is_admin=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


ADMIN_PAGES = ["/admin/", "/admin/sites/", "/admin/sites/new", "/admin/organisations/",
               "/admin/organisations/new"]


def test_only_the_coordinator_gets_in(client, login, admin, create_user, create_organisation,
                                      create_site):
    org = create_organisation()
    site = create_site()
    pages = [*ADMIN_PAGES, f"/admin/sites/{site.id}/edit",
             f"/admin/organisations/{org.id}/edit"]
    for page in pages:
        assert client.get(page).status_code == 302, page
    for user in (create_user(organisation=org, role="manager"), create_user(),
                 create_user(is_admin=True, active=False)):
        login(user)
        for page in pages:
            status = client.get(page).status_code
            assert status in (302, 403) if not user.active else status == 403, page
        assert client.post(f"/admin/organisations/{org.id}/deactivate").status_code in (
            302, 403)
        assert client.post("/admin/sites/new", data={
            "name": "Intrus", "timezone": "Europe/Paris"}).status_code in (302, 403)
    db.session.refresh(org)
    assert org.active and count(Site) == 1
    login(admin)
    for page in pages:
        assert client.get(page).status_code == 200, page


def test_create_and_edit_a_site(client, login, admin):
    login(admin)
    created = client.post("/admin/sites/new", data={
        "name": " Voiron ", "address": "12 rue des Tanneurs", "timezone": "Europe/Paris"})
    assert created.status_code == 302
    site = db.session.scalar(select(Site))
    assert (site.name, site.address, site.timezone) == (
        "Voiron", "12 rue des Tanneurs", "Europe/Paris")
    assert "Voiron" in client.get("/admin/sites/").text
    edited = client.post(f"/admin/sites/{site.id}/edit", data={
        "name": "Voiron centre", "address": "", "timezone": "America/Martinique"})
    assert edited.status_code == 302
    db.session.refresh(site)
    assert (site.name, site.timezone) == ("Voiron centre", "America/Martinique")


@pytest.mark.parametrize("data, field", [
    ({"name": "Taken", "timezone": "Europe/Paris"}, "name"),
    ({"name": "New", "timezone": "Europe/Lutece"}, "timezone"),
    ({"name": "", "timezone": "Europe/Paris"}, "name"),
    ({"name": "x" * 121, "timezone": "Europe/Paris"}, "name"),
    ({}, "name"),
])
def test_bad_sites_are_refused_and_nothing_changes(client, login, admin, create_site,
                                                    data, field):
    taken = create_site(name="Taken")
    other = create_site(name="Saint-Marcellin")
    login(admin)
    created = client.post("/admin/sites/new", data=data)
    assert created.status_code == 422
    assert f'id="{field}-error"' in created.text
    edited = client.post(f"/admin/sites/{other.id}/edit", data=data)
    assert edited.status_code == 422
    db.session.refresh(other)
    assert (other.name, other.timezone) == ("Saint-Marcellin", "Europe/Paris")
    assert count(Site) == 2 and taken.name == "Taken"


def test_unknown_ids_are_404(client, login, admin):
    login(admin)
    assert client.get("/admin/sites/999/edit").status_code == 404
    assert client.post("/admin/sites/999/edit", data={"name": "x"}).status_code == 404
    assert client.get("/admin/organisations/999/edit").status_code == 404
    assert client.post("/admin/organisations/999/deactivate").status_code == 404
    assert client.post("/admin/organisations/999/reactivate").status_code == 404
    assert client.get("/admin/organisations/abc/edit").status_code == 404


def test_create_edit_deactivate_reactivate_an_organisation(client, login, admin,
                                                          create_user):
    login(admin)
    created = client.post("/admin/organisations/new", data={
        "slug": "ressourcerie", "name": "La Ressourcerie", "legal_form": "association"})
    assert created.status_code == 302
    org = db.session.scalar(select(Organisation))
    assert (org.slug, org.name, org.legal_form, org.active) == (
        "ressourcerie", "La Ressourcerie", "association", True)
    member = create_user(organisation=org)

    edited = client.post(f"/admin/organisations/{org.id}/edit", data={
        "slug": "ressourcerie-voiron", "name": "Ressourcerie du Voironnais",
        "legal_form": "SCIC"})
    assert edited.status_code == 302
    db.session.refresh(org)
    assert (org.slug, org.name, org.legal_form) == (
        "ressourcerie-voiron", "Ressourcerie du Voironnais", "SCIC")

    assert client.post(f"/admin/organisations/{org.id}/deactivate").status_code == 302
    db.session.refresh(org)
    assert not org.active
    # Deactivating keeps the organisation's people (and everything else).
    assert count(Membership) == 1 and member.memberships[0].organisation_id == org.id
    assert client.post(f"/admin/organisations/{org.id}/reactivate").status_code == 302
    db.session.refresh(org)
    assert org.active


@pytest.mark.parametrize("data, field", [
    ({"slug": "taken", "name": "Again"}, "slug"),
    ({"slug": "Not A Slug", "name": "X"}, "slug"),
    ({"slug": "-x-", "name": "X"}, "slug"),
    ({"slug": "fine", "name": "   "}, "name"),
    ({"slug": "fine", "name": "X", "legal_form": "x" * 61}, "legal_form"),
    ({}, "slug"),
])
def test_bad_organisations_are_refused_and_nothing_changes(client, login, admin,
                                                           create_organisation, data, field):
    create_organisation(slug="taken")
    other = create_organisation(slug="other", name="Other")
    login(admin)
    created = client.post("/admin/organisations/new", data=data)
    assert created.status_code == 422
    assert f'id="{field}-error"' in created.text
    edited = client.post(f"/admin/organisations/{other.id}/edit", data=data)
    assert edited.status_code == 422
    db.session.refresh(other)
    assert (other.slug, other.name) == ("other", "Other")
    assert count(Organisation) == 2


def test_deactivate_needs_post(client, login, admin, create_organisation):
    org = create_organisation()
    login(admin)
    assert client.get(f"/admin/organisations/{org.id}/deactivate").status_code == 405
    db.session.refresh(org)
    assert org.active
