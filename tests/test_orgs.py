"""Organisation pages: who sees members, who invites, changes roles and removes."""

import pytest
from booking_page_helpers import english  # noqa: F401  (fixture)
from sqlalchemy import func, select
from test_auth import english_pages  # noqa: F401  (autouse fixture)

from sharing.core.extensions import db
from sharing.models import AccountToken, Membership, User


@pytest.fixture
def scene(create_organisation, create_user):
    org = create_organisation(slug="ressourcerie", name="La Ressourcerie")
    other = create_organisation(slug="patisserie", name="Pâtisserie solidaire")
    manager = create_user(email="manager@example.org", name="Manon", organisation=org,
                          role="manager")
    member = create_user(email="member@example.org", name="Mehdi", organisation=org)
    outsider = create_user(email="outsider@example.org", name="Olga", organisation=other,
                           role="manager")
    admin = create_user(email="admin@example.org", name="Ada", is_admin=True)
    return org, other, manager, member, outsider, admin


def membership_of(user, org):
    return db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == org.id))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_index_lists_own_organisations_and_all_for_admins(client, login, scene):
    org, other, manager, member, outsider, admin = scene
    login(member)
    page = client.get("/organisations/")
    assert page.status_code == 200
    assert "La Ressourcerie" in page.text and "Pâtisserie" not in page.text
    login(admin)
    page = client.get("/organisations/")
    assert "La Ressourcerie" in page.text and "Pâtisserie" in page.text


def test_members_are_shown_to_members_and_admins_only(client, login, scene):
    org, other, manager, member, outsider, admin = scene
    for user in (member, manager, admin):
        login(user)
        page = client.get("/organisations/ressourcerie/")
        assert page.status_code == 200
        assert "Mehdi" in page.text and "manager@example.org" in page.text
    login(member)
    assert "Send the invitation" not in client.get("/organisations/ressourcerie/").text
    login(outsider)
    assert client.get("/organisations/ressourcerie/").status_code == 404
    assert client.get("/organisations/no-such-org/").status_code == 404
    client.post("/logout")
    assert client.get("/organisations/ressourcerie/").status_code == 302


def test_manager_invites_and_the_token_is_stored_hashed(client, login, scene):
    org, *_others = scene
    login(scene[2])
    response = client.post("/organisations/ressourcerie/invite",
                           data={"email": " New@Example.org ", "role": "manager"})
    assert response.status_code == 302
    token = db.session.scalar(select(AccountToken))
    assert (token.email, token.role, token.organisation_id) == (
        "new@example.org", "manager", org.id)
    assert len(token.token_hash) == 64
    assert "new@example.org" in client.get("/organisations/ressourcerie/").text


@pytest.mark.parametrize("data, message", [
    ({"email": "member@example.org", "role": "member"}, b"already a member"),
    ({"email": "MEMBER@example.org", "role": "manager"}, b"already a member"),
    ({"email": "not-an-address", "role": "member"}, b"valid e-mail"),
    ({"email": "", "role": "member"}, b"field-error"),
    ({"email": "x@example.org", "role": "owner"}, b"field-error"),
    ({}, b"field-error"),
])
def test_bad_invitations_are_refused_and_nothing_is_written(client, login, scene, data,
                                                             message):
    login(scene[2])
    response = client.post("/organisations/ressourcerie/invite", data=data)
    assert response.status_code == 422
    assert message in response.data
    assert count(AccountToken) == 0


def test_only_managers_of_an_active_organisation_and_admins_invite(client, login, scene):
    org, other, manager, member, outsider, admin = scene
    data = {"email": "x@example.org", "role": "member"}
    login(member)
    assert client.post("/organisations/ressourcerie/invite", data=data).status_code == 403
    login(outsider)
    assert client.post("/organisations/ressourcerie/invite", data=data).status_code == 404
    assert client.post("/organisations/nowhere/invite", data=data).status_code == 404
    org.active = False
    db.session.commit()
    login(manager)
    assert client.post("/organisations/ressourcerie/invite", data=data).status_code == 403
    assert count(AccountToken) == 0
    login(admin)
    assert client.post("/organisations/ressourcerie/invite", data=data).status_code == 302
    assert count(AccountToken) == 1


def test_manager_changes_a_role_but_keeps_a_manager(client, login, scene):
    org, other, manager, member, outsider, admin = scene
    login(manager)
    mine, theirs = membership_of(manager, org), membership_of(member, org)
    refused = client.post(f"/organisations/ressourcerie/members/{mine.id}/role",
                          data={f"m{mine.id}-role": "member"})
    assert refused.status_code == 422
    assert b"at least one manager" in refused.data
    db.session.refresh(mine)
    assert mine.role == "manager"
    promoted = client.post(f"/organisations/ressourcerie/members/{theirs.id}/role",
                           data={f"m{theirs.id}-role": "manager"})
    assert promoted.status_code == 302
    db.session.refresh(theirs)
    assert theirs.role == "manager"
    demoted = client.post(f"/organisations/ressourcerie/members/{mine.id}/role",
                          data={f"m{mine.id}-role": "member"})
    assert demoted.status_code == 302
    db.session.refresh(mine)
    assert mine.role == "member"


def test_role_changes_with_bad_input(client, login, scene):
    org, other, manager, member, outsider, admin = scene
    theirs = membership_of(member, org)
    foreign = membership_of(outsider, other)
    login(manager)
    url = f"/organisations/ressourcerie/members/{theirs.id}/role"
    assert client.post(url, data={f"m{theirs.id}-role": "owner"}).status_code == 400
    assert client.post(url, data={}).status_code == 400
    assert client.post("/organisations/ressourcerie/members/999999/role",
                       data={"m999999-role": "manager"}).status_code == 404
    assert client.post(f"/organisations/ressourcerie/members/{foreign.id}/role",
                       data={f"m{foreign.id}-role": "member"}).status_code == 404
    assert client.post("/organisations/ressourcerie/members/abc/role").status_code == 404
    login(member)
    assert client.post(url, data={f"m{theirs.id}-role": "manager"}).status_code == 403
    db.session.refresh(theirs)
    db.session.refresh(foreign)
    assert (theirs.role, foreign.role) == ("member", "manager")


def test_manager_removes_a_member_but_not_the_last_manager(client, login, scene):
    org, other, manager, member, outsider, admin = scene
    mine, theirs = membership_of(manager, org), membership_of(member, org)
    login(member)
    assert client.post(f"/organisations/ressourcerie/members/{mine.id}/remove"
                       ).status_code == 403
    login(manager)
    refused = client.post(f"/organisations/ressourcerie/members/{mine.id}/remove")
    assert refused.status_code == 422
    assert membership_of(manager, org) is not None
    assert client.post("/organisations/ressourcerie/members/424242/remove").status_code == 404
    removed = client.post(f"/organisations/ressourcerie/members/{theirs.id}/remove")
    assert removed.status_code == 302
    assert membership_of(member, org) is None
    assert db.session.get(User, member.id) is not None
