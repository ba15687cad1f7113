"""Signing in and out, invitations and password resets, with mail through a real SMTP server."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from booking_page_helpers import english  # noqa: F401  (fixture)
from conftest import PASSWORD
from sqlalchemy import func, select

from sharing.core.database import utcnow
from sharing.core.extensions import db
from sharing.models import AccountToken, Membership, OutboxMessage, User


@pytest.fixture(autouse=True)
def english_pages(request, client):
    """Pages and mail read in English, for people signed in (`english`) and not: the tests
    look for the messages as written in the code, not their French translation."""
    request.getfixturevalue("english")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port}


def signed_in_user_id(client):
    """The user id in the session cookie, without its session version."""
    with client.session_transaction() as session:
        session_id = session.get("_user_id")
    return session_id and session_id.partition(".")[0]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- login and logout -------------------------------------------------------------------

def test_login_with_any_letter_case_then_logout(client, create_user):
    user = create_user(email="camille@example.org")
    response = client.post("/login", data={"email": "  Camille@EXAMPLE.org ",
                                           "password": PASSWORD})
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/"
    assert signed_in_user_id(client) == str(user.id)
    assert client.get("/logout").status_code == 405
    assert signed_in_user_id(client) == str(user.id)
    assert client.post("/logout").status_code == 302
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize("email, password, active", [
    ("camille@example.org", "wrong password", True),
    ("nobody@example.org", PASSWORD, True),
    ("camille@example.org", "wrong password", False),
])
def test_failed_login_says_the_same_whatever_failed(client, create_user, email, password,
                                                    active):
    create_user(email="camille@example.org", active=active)
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 422
    assert b"Wrong e-mail address or password." in response.data
    assert signed_in_user_id(client) is None


def test_login_form_with_missing_fields_is_refused(client, create_user):
    create_user(email="camille@example.org")
    response = client.post("/login", data={"email": "camille@example.org"})
    assert response.status_code == 422
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize("target, expected", [
    ("/account/", "/account/"),
    ("/organisations/?x=1", "/organisations/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example/", "/"),
    ("javascript:alert(1)", "/"),
])
def test_login_goes_back_only_to_this_site(client, create_user, target, expected):
    create_user(email="camille@example.org")
    response = client.post("/login", query_string={"next": target},
                           data={"email": "camille@example.org", "password": PASSWORD})
    location = urlsplit(response.location)
    assert location.netloc in ("", "sharing.test")
    assert location.path == expected


def test_pages_for_members_send_strangers_to_login_and_back(client, create_user):
    create_user(email="camille@example.org")
    response = client.get("/account/")
    assert response.status_code == 302
    login_page = urlsplit(response.location)
    assert login_page.path == "/login"
    back = client.post(f"{login_page.path}?{login_page.query}",
                       data={"email": "camille@example.org", "password": PASSWORD})
    assert urlsplit(back.location).path == "/account/"


def test_a_deactivated_account_loses_its_session(client, login, create_user):
    user = create_user()
    login(user)
    assert client.get("/account/").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/account/").status_code == 302


# --- invitations ------------------------------------------------------------------------

@pytest.fixture
def org_with_manager(create_organisation, create_user):
    organisation = create_organisation(slug="ressourcerie", name="La Ressourcerie")
    manager = create_user(email="manager@example.org", name="Manon", organisation=organisation,
                          role="manager")
    return organisation, manager


def invite(client, login, manager, organisation, email, role="member"):
    login(manager)
    response = client.post(f"/organisations/{organisation.slug}/invite",
                           data={"email": email, "role": role})
    assert response.status_code == 302, response.data
    client.post("/logout")


def test_invitation_creates_an_account_and_membership(client, login, inbox, org_with_manager):
    organisation, manager = org_with_manager
    invite(client, login, manager, organisation, "New.Person@Example.org", role="manager")

    (message,) = inbox.messages
    assert message["To"] == "new.person@example.org"
    assert "La Ressourcerie" in message["Subject"]
    link = inbox.link(message)
    token = db.session.scalar(select(AccountToken))
    assert token.purpose == "invite" and token.role == "manager"
    assert link.rsplit("/", 1)[1] not in token.token_hash
    assert token.expires_at - utcnow() > timedelta(days=6, hours=23)

    page = client.get(link)
    assert page.status_code == 200
    assert b"name=\"password\"" in page.data
    response = client.post(link, data={"name": "Nour", "password": "long enough pass",
                                       "confirm": "long enough pass"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert user.display_name == "Nour" and user.check_password("long enough pass")
    assert [(m.organisation_id, m.role) for m in user.memberships] == [
        (organisation.id, "manager")]
    assert signed_in_user_id(client) == str(user.id)
    db.session.refresh(token)
    assert token.used_at is not None

    client.post("/logout")
    reused = client.get(link)
    assert reused.status_code == 400
    assert b"already been used" in reused.data
    assert client.post(link, data={"name": "Again", "password": "long enough pass",
                                   "confirm": "long enough pass"}).status_code == 400
    assert count(User) == 2


def test_joining_with_a_bad_password_writes_nothing(client, login, inbox, org_with_manager):
    organisation, manager = org_with_manager
    invite(client, login, manager, organisation, "new@example.org")
    link = inbox.link(inbox.messages[0])
    response = client.post(link, data={"name": "Nour", "password": "short",
                                       "confirm": "short"})
    assert response.status_code == 422
    assert b"Use at least 10 characters." in response.data
    missing = client.post(link, data={"password": "long enough pass"})
    assert missing.status_code == 422
    assert count(User) == 1
    assert db.session.scalar(select(AccountToken)).used_at is None


def test_invitation_for_an_existing_account(client, login, inbox, org_with_manager,
                                            create_user):
    organisation, manager = org_with_manager
    invitee = create_user(email="sam@example.org")
    invite(client, login, manager, organisation, "SAM@example.org")
    link = inbox.link(inbox.messages[0])

    anonymous = client.get(link)
    assert anonymous.status_code == 302
    assert urlsplit(anonymous.location).path == "/login"
    assert not invitee.memberships

    login(invitee)
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    db.session.refresh(invitee)
    assert [m.organisation_id for m in invitee.memberships] == [organisation.id]
    assert client.post(link).status_code == 400


def test_someone_elses_invitation_is_refused(client, login, inbox, org_with_manager,
                                             create_user):
    organisation, manager = org_with_manager
    create_user(email="sam@example.org")
    intruder = create_user(email="intruder@example.org")
    invite(client, login, manager, organisation, "sam@example.org")
    link = inbox.link(inbox.messages[0])
    login(intruder)
    assert client.get(link).status_code == 403
    assert client.post(link).status_code == 403
    assert count(Membership) == 1
    assert db.session.scalar(select(AccountToken)).used_at is None


def test_a_new_address_invitation_cannot_be_taken_by_a_signed_in_user(
        client, login, inbox, org_with_manager, create_user):
    organisation, manager = org_with_manager
    invite(client, login, manager, organisation, "new@example.org")
    link = inbox.link(inbox.messages[0])
    login(create_user())
    response = client.post(link, data={"name": "X", "password": "long enough pass",
                                       "confirm": "long enough pass"})
    assert response.status_code == 403
    assert count(User) == 2


def test_expired_and_unknown_invitations(client, login, inbox, org_with_manager):
    organisation, manager = org_with_manager
    invite(client, login, manager, organisation, "new@example.org")
    link = inbox.link(inbox.messages[0])
    token = db.session.scalar(select(AccountToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = client.post(link, data={"name": "Nour", "password": "long enough pass",
                                      "confirm": "long enough pass"})
    assert expired.status_code == 400
    assert b"expired" in expired.data
    assert client.get("/invitations/not-a-real-token").status_code == 404
    assert count(User) == 1


# --- password reset ---------------------------------------------------------------------

def test_forgotten_password_answers_the_same_for_unknown_addresses(client, inbox,
                                                                   create_user):
    create_user(email="camille@example.org")
    known = client.post("/password/forgot", data={"email": "Camille@example.org"},
                        follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org"},
                          follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert known.data == unknown.data
    assert [m["To"] for m in inbox.messages] == ["camille@example.org"]
    assert count(AccountToken) == 1


def test_reset_link_sets_a_new_password_once(client, inbox, create_user):
    user = create_user(email="camille@example.org")
    client.post("/password/forgot", data={"email": "camille@example.org"})
    client.post("/password/forgot", data={"email": "camille@example.org"})
    first, second = (inbox.link(m) for m in inbox.messages)

    assert client.get(second).status_code == 200
    short = client.post(second, data={"password": "short", "confirm": "short"})
    assert short.status_code == 422
    differ = client.post(second, data={"password": "a new password", "confirm": "other one"})
    assert differ.status_code == 422
    db.session.refresh(user)
    assert user.check_password(PASSWORD)

    done = client.post(second, data={"password": "a new password",
                                     "confirm": "a new password"})
    assert done.status_code == 302
    db.session.refresh(user)
    assert user.check_password("a new password")
    assert client.post(second, data={"password": "third password",
                                     "confirm": "third password"}).status_code == 400
    # Using one link withdraws the other links sent before it.
    assert client.get(first).status_code == 400
    db.session.refresh(user)
    assert user.check_password("a new password")
    login = client.post("/login", data={"email": "camille@example.org",
                                        "password": "a new password"})
    assert login.status_code == 302


def test_a_sent_reset_link_does_not_stay_in_the_outbox(client, inbox, create_user):
    create_user(email="camille@example.org")
    client.post("/password/forgot", data={"email": "camille@example.org"})
    token = inbox.link(inbox.messages[0]).rsplit("/", 1)[1]
    row = db.session.scalar(select(OutboxMessage))
    assert (row.kind, row.status, row.recipient) == ("password_reset", "sent",
                                                      "camille@example.org")
    assert token not in row.content and row.content == ""


def test_expired_reset_link(client, inbox, create_user):
    user = create_user(email="camille@example.org")
    client.post("/password/forgot", data={"email": "camille@example.org"})
    link = inbox.link(inbox.messages[0])
    token = db.session.scalar(select(AccountToken))
    assert timedelta(hours=23) < token.expires_at - utcnow() <= timedelta(hours=24)
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(link, data={"password": "a new password",
                                       "confirm": "a new password"})
    assert response.status_code == 400
    db.session.refresh(user)
    assert user.check_password(PASSWORD)
    assert client.get("/password/reset/unknown").status_code == 404


def test_inactive_accounts_get_no_reset_mail(client, inbox, create_user):
    create_user(email="gone@example.org", active=False)
    response = client.post("/password/forgot", data={"email": "gone@example.org"})
    assert response.status_code == 302
    assert inbox.messages == []
    assert client.post("/password/forgot", data={}).status_code == 422


# --- one link, many clicks at once ------------------------------------------------------

def post_together(app, url: str, data: dict, times: int = 10) -> list[int]:
    """POST the same form from `times` threads released at the same instant."""
    barrier = threading.Barrier(times)
    # The test's own session outlives its requests: a POST it served may still hold the
    # SQLite write lock (taken up front for writing requests). Let the threads have it.
    db.session.rollback()

    def post() -> int:
        client = app.test_client()
        barrier.wait()
        return client.post(url, data=data).status_code

    with ThreadPoolExecutor(times) as pool:
        return sorted(pool.map(lambda _: post(), range(times)))


def test_a_reset_link_clicked_many_times_at_once_works_once(app, client, inbox, create_user):
    user = create_user(email="camille@example.org")
    client.post("/password/forgot", data={"email": "camille@example.org"})
    link = inbox.link(inbox.messages[0])
    statuses = post_together(app, link, {"password": "a new password",
                                         "confirm": "a new password"})
    assert statuses == [302] + [400] * 9
    db.session.rollback()  # end this session's read snapshot, to see the threads' writes
    assert user.check_password("a new password")


def test_an_invitation_clicked_many_times_at_once_creates_one_account(
        app, client, login, inbox, org_with_manager):
    organisation, manager = org_with_manager
    invite(client, login, manager, organisation, "new@example.org")
    link = inbox.link(inbox.messages[0])
    statuses = post_together(app, link, {"name": "Nour", "password": "long enough pass",
                                         "confirm": "long enough pass"})
    assert statuses == [302] + [400] * 9
    db.session.rollback()  # end this session's read snapshot, to see the threads' writes
    assert count(User) == 2 and count(Membership) == 2
