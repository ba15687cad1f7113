"""The coordinator's administration of people, invitations and resources: search,
deactivate and reactivate (sessions, API tokens and feeds stop), withdrawn invitations,
the resource overview and paging beyond 200 rows."""

from datetime import timedelta

import pytest
from api_helpers import Api
from booking_page_helpers import english  # noqa: F401  (fixture)
from conftest import PASSWORD
from sqlalchemy import func, select
from test_auth import english_pages, signed_in_user_id  # noqa: F401  (autouse fixture)
from test_feeds import get_feed

from sharing.core.extensions import db
from sharing.models import AccountToken, Membership, Organisation, Resource, User
from sharing.services.feeds import personal_feed_url
from sharing.services.paging import PAGE_SIZE
from sharing.services.tokens import issue_account_token


@pytest.fixture
def admin(create_user):
    return create_user(email="coordinator@example.org", name="Coralie Coordinatrice",
                       is_admin=True)


def deactivate(client, login, admin, person):
    login(admin)
    response = client.post(f"/admin/people/{person.id}/deactivate")
    assert response.status_code == 302
    db.session.refresh(person)


# --- people ------------------------------------------------------------------------------

def test_search_by_name_or_address_whatever_the_case(client, login, admin, create_user):
    create_user(email="nour@example.org", name="Nour Benali")
    create_user(email="elodie@ressourcerie.example", name="Élodie Faure")
    login(admin)
    by_name = client.get("/admin/people/?q=benali").text
    assert "Nour Benali" in by_name and "Élodie Faure" not in by_name
    by_address = client.get("/admin/people/?q=RESSOURCERIE").text
    assert "Élodie Faure" in by_address and "Nour Benali" not in by_address
    accented = client.get("/admin/people/?q=élodie").text
    assert "Élodie Faure" in accented
    wildcard = client.get("/admin/people/?q=%25").text
    assert "Nobody matches this search." in wildcard


def test_a_deactivated_person_is_signed_out_and_cannot_sign_in(client, login, admin,
                                                               create_user):
    person = create_user(email="camille@example.org")
    other_browser = client.application.test_client()
    other_browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with other_browser.session_transaction() as session:
        session["_user_id"], session["_fresh"] = person.get_id(), True
    assert other_browser.get("/account/").status_code == 200

    deactivate(client, login, admin, person)
    assert not person.active
    assert "Deactivated" in client.get("/admin/people/").text
    assert other_browser.get("/account/").status_code == 302  # session ended
    client.post("/logout")
    refused = client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert refused.status_code == 422
    assert "This account is deactivated" in refused.text
    assert signed_in_user_id(client) is None
    wrong = client.post("/login", data={"email": person.email, "password": "not the one"})
    assert "Wrong e-mail address or password." in wrong.text  # says nothing without it


def test_api_tokens_and_feeds_stop_and_work_again_on_reactivation(client, login, admin,
                                                                  create_user):
    person = create_user(email="camille@example.org")
    api, feed = Api(client, person), personal_feed_url(person)
    assert api.get("/me").status_code == 200
    assert get_feed(client, feed).status_code == 200

    deactivate(client, login, admin, person)
    assert api.get("/me").status_code == 401
    assert get_feed(client, feed).status_code == 404

    assert client.post(f"/admin/people/{person.id}/reactivate").status_code == 302
    db.session.refresh(person)
    assert person.active
    assert api.get("/me").status_code == 200
    assert get_feed(client, feed).status_code == 200
    client.post("/logout")
    signed_in = client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert signed_in.status_code == 302


def test_only_the_coordinator_deactivates_and_not_themselves(client, login, admin, scene):
    for user in (scene.manager, scene.member):
        login(user)
        assert client.get("/admin/people/").status_code == 403
        assert client.post(f"/admin/people/{scene.member.id}/deactivate").status_code == 403
    login(admin)
    assert client.post(f"/admin/people/{admin.id}/deactivate").status_code == 403
    assert client.post("/admin/people/999999999/deactivate").status_code == 404
    assert client.get(f"/admin/people/{scene.member.id}/deactivate").status_code == 405
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User).where(~User.active)) == 0


def test_deactivating_needs_the_csrf_token(app, client, login, admin, scene):
    app.config["WTF_CSRF_ENABLED"] = True
    login(admin)
    assert client.post(f"/admin/people/{scene.member.id}/deactivate").status_code == 400
    db.session.refresh(scene.member)
    assert scene.member.active


# --- invitations -------------------------------------------------------------------------

def pending_invitation(organisation, email="new@example.org") -> tuple[AccountToken, str]:
    token, raw = issue_account_token("invite", email, timedelta(days=7),
                                     organisation=organisation, role="member")
    db.session.commit()
    return token, f"/invitations/{raw}"


def test_a_withdrawn_invitation_says_so_and_creates_nobody(client, login, scene):
    invitation, link = pending_invitation(scene.owner)
    assert client.get(link).status_code == 200
    login(scene.manager)
    page = client.get(f"/organisations/{scene.owner.slug}/").text
    assert "new@example.org" in page and "Withdraw" in page
    withdrawn = client.post(
        f"/organisations/{scene.owner.slug}/invitations/{invitation.id}/withdraw")
    assert withdrawn.status_code == 302
    after = client.get(f"/organisations/{scene.owner.slug}/").text
    assert "The invitation of new@example.org is withdrawn" in after
    assert f"/invitations/{invitation.id}/withdraw" not in after
    client.post("/logout")
    for answer in (client.get(link), client.post(link, data={
            "name": "Nour", "password": "long enough pass", "confirm": "long enough pass"})):
        assert answer.status_code == 400
        assert "This invitation was withdrawn: the link is no longer valid." in answer.text
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None


def test_only_the_organisations_managers_and_the_coordinator_withdraw(client, login, admin,
                                                                      scene, create_user):
    invitation, link = pending_invitation(scene.owner)
    path = f"/organisations/{scene.owner.slug}/invitations/{invitation.id}/withdraw"
    colleague = create_user(organisation=scene.owner)
    for user, status in ((scene.member, 404), (colleague, 403)):
        login(user)
        assert client.post(path).status_code == status
    login(scene.manager)
    other = f"/organisations/{scene.booker.slug}/invitations/{invitation.id}/withdraw"
    assert client.post(other).status_code in (403, 404)
    db.session.refresh(invitation)
    assert invitation.withdrawn_at is None
    login(admin)
    assert client.post(path).status_code == 302
    assert client.post(path).status_code == 404  # no longer pending


def test_an_accepted_invitation_cannot_be_withdrawn(client, login, scene, create_user):
    invitation, link = pending_invitation(scene.owner, email="guest@example.org")
    guest = create_user(email="guest@example.org")
    login(guest)
    assert client.post(link).status_code == 302
    login(scene.manager)
    path = f"/organisations/{scene.owner.slug}/invitations/{invitation.id}/withdraw"
    assert client.post(path).status_code == 404
    assert db.session.scalar(select(Membership).where(Membership.user_id == guest.id))


# --- resources overview ------------------------------------------------------------------

def test_resource_overview_for_the_coordinator_only(client, login, admin, scene,
                                                    create_resource, create_site):
    annexe = create_site(name="Annexe de Moirans")
    create_resource(kind="equipment", owner=scene.booker, site=annexe, name="Camion frigo",
                    quantity=2, requires_approval=True, price_cents=1250, price_unit="booking",
                    active=False)
    for user in (scene.member, scene.manager):
        login(user)
        assert client.get("/admin/resources/").status_code == 403
    login(admin)
    page = client.get("/admin/resources/")
    assert page.status_code == 200
    text = page.text
    for fact in ("Salle des Tilleuls", "Premises", "Voiron", "Ressourcerie", "Camion frigo",
                 "Equipment", "Annexe de Moirans", "Patisserie", "Withdrawn", "Needs approval",
                 "12.5 credits per booking", "Confirmed at once", "Free"):
        assert fact in text, fact


# --- paging ------------------------------------------------------------------------------

def test_lists_go_beyond_200_rows_a_page_at_a_time(client, login, admin, create_site):
    site = create_site()
    owner = Organisation(slug="aaa-owner", name="AAA owner")
    db.session.add_all([owner, *(User(email=f"p{n:03d}@example.org",
                                      display_name=f"Person {n:03d}") for n in range(PAGE_SIZE)),
                        *(Organisation(slug=f"org-{n:03d}", name=f"Org {n:03d}")
                          for n in range(PAGE_SIZE))])
    db.session.add_all(Resource(kind="room", name=f"Room {n:03d}", slug=f"room-{n:03d}",
                                owner=owner, site=site) for n in range(PAGE_SIZE + 1))
    db.session.commit()
    login(admin)
    for path, last in (("/admin/people/", "Person 199"), ("/admin/organisations/", "Org 199"),
                       ("/admin/resources/", "Room 200")):
        first = client.get(path).text
        assert last not in first and "page=2" in first, path
        second = client.get(path + "?page=2").text
        assert last in second and "page=3" not in second, path
        for junk in ("0", "-3", "abc", "99999999999999999999"):
            assert client.get(f"{path}?page={junk}").status_code == 404, (path, junk)


def test_search_keeps_its_words_across_pages(client, login, admin):
    db.session.add_all(User(email=f"p{n:03d}@example.org", display_name=f"Dupont {n:03d}")
                       for n in range(PAGE_SIZE + 1))
    db.session.commit()
    login(admin)
    page = client.get("/admin/people/?q=dupont").text
    assert "q=dupont" in page and "page=2" in page
