"""Personal data (GDPR): the coordinator exports everything held about a person, and
anonymises a person who left, on the web and on the command line."""

import json
from datetime import timedelta

import pytest
from conftest import PASSWORD
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.models import AccountToken, ApiToken, Booking, User
from sharing.services.api_tokens import create_api_token
from sharing.services.personal_data import PERSONAL_REFERENCES
from sharing.services.tokens import issue_account_token


@pytest.fixture
def people(scene, create_user, create_booking, now):
    """Camille (a member who leaves) booked twice with notes; the manager decided one."""
    coordinator = create_user(email="coord@example.org", name="Claire", is_admin=True)
    camille = create_user(email="camille@example.org", name="Camille Martin",
                          organisation=scene.booker)
    start = now + timedelta(days=2)
    bookings = [create_booking(scene.room, scene.booker, camille, start + timedelta(hours=n),
                               title=f"Atelier {n}") for n in range(2)]
    bookings[0].note = "Camille's phone: 06 12 34 56 78"
    bookings[1].decided_by, bookings[1].decision_reason = camille, "Camille says yes"
    others = create_booking(scene.room, scene.booker, scene.member, start + timedelta(days=1))
    others.note = "someone else's note"
    create_api_token(camille, "script")
    issue_account_token("invite", "camille@example.org", timedelta(days=7),
                        organisation=scene.owner, role="member")
    db.session.commit()
    return coordinator, camille, bookings, others


def test_every_reference_to_a_person_is_exported():
    references = {(column.table.name, column.name) for table in db.metadata.sorted_tables
                  for column in table.columns
                  for key in column.foreign_keys if key.column.table.name == "user"}
    exported = {(column.table.name, column.name) for column in PERSONAL_REFERENCES.values()}
    assert references == exported


def test_the_coordinator_exports_everything_held_about_a_person(client, login, people):
    coordinator, camille, bookings, _others = people
    login(coordinator)
    assert b"camille@example.org" in client.get("/admin/people/").data
    response = client.get(f"/admin/people/{camille.id}/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.json
    assert data["person"]["email"] == "camille@example.org"
    assert {b["id"] for b in data["bookings_made"]} == {b.id for b in bookings}
    assert "06 12 34 56 78" in json.dumps(data)
    assert [b["id"] for b in data["bookings_decided"]] == [bookings[1].id]
    assert [m["organisation_id"] for m in data["memberships"]] == [camille.memberships[0]
                                                                   .organisation_id]
    assert [t["name"] for t in data["api_tokens"]] == ["script"]
    assert len(data["invitations_received"]) == 1
    text = json.dumps(data)
    assert "password_hash" not in text and "token_hash" not in text
    assert "someone else's note" not in text


def test_only_the_coordinator_handles_personal_data(client, login, people, scene):
    _coordinator, camille, _bookings, _others = people
    login(scene.manager)
    for url in ("/admin/people/", f"/admin/people/{camille.id}/export",
                f"/admin/people/{camille.id}/anonymise"):
        assert client.get(url).status_code == 403
    assert client.post(f"/admin/people/{camille.id}/anonymise",
                       data={"confirm": "y"}).status_code == 403
    assert db.session.get(User, camille.id).email == "camille@example.org"


def assert_anonymised(camille_id, bookings, others):
    camille = db.session.get(User, camille_id)
    assert "Camille" not in camille.display_name
    assert camille.email == f"anonymised-{camille_id}@invalid"
    assert (camille.active, camille.password_hash, camille.memberships) == (False, None, [])
    assert db.session.scalars(select(ApiToken.revoked_at)).one() is not None
    assert db.session.scalars(select(AccountToken.email)).all() == [camille.email]
    for booking, before in zip(db.session.scalars(select(Booking).where(
            Booking.user_id == camille_id).order_by(Booking.id)), bookings, strict=True):
        assert (booking.organisation_id, booking.resource_id, booking.starts_at,
                booking.ends_at, booking.status) == before
        assert booking.note == "" and booking.decision_reason == ""
    assert db.session.get(Booking, others).note == "someone else's note"


def facts(bookings):
    return [(b.organisation_id, b.resource_id, b.starts_at, b.ends_at, b.status)
            for b in bookings]


def test_anonymising_a_person_who_left(app, client, login, people):
    coordinator, camille, bookings, others = people
    camille_id, before, others_id = camille.id, facts(bookings), others.id
    coordinator.locale = "en"  # the page is read in English
    db.session.commit()
    login(coordinator)
    page = client.get(f"/admin/people/{camille_id}/anonymise")
    assert page.status_code == 200 and b"cannot be undone" in page.data
    unconfirmed = client.post(f"/admin/people/{camille_id}/anonymise", data={})
    assert unconfirmed.status_code == 422
    assert db.session.get(User, camille_id).email == "camille@example.org"

    response = client.post(f"/admin/people/{camille_id}/anonymise", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert_anonymised(camille_id, before, others_id)
    signing_in = app.test_client().post("/login", data={"email": "camille@example.org",
                                                        "password": PASSWORD})
    assert signing_in.status_code == 422


def test_anonymising_needs_the_csrf_token(app, client, login, people):
    coordinator, camille, _bookings, _others = people
    login(coordinator)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/admin/people/{camille.id}/anonymise", data={"confirm": "y"})
    assert response.status_code == 400
    assert db.session.get(User, camille.id).email == "camille@example.org"


def test_the_coordinator_cannot_anonymise_themselves(client, login, people):
    coordinator = people[0]
    login(coordinator)
    response = client.post(f"/admin/people/{coordinator.id}/anonymise", data={"confirm": "y"})
    assert response.status_code == 422
    assert db.session.get(User, coordinator.id).active


def test_the_command_line_exports_and_anonymises(runner, people):
    _coordinator, camille, bookings, others = people
    camille_id, before, others_id = camille.id, facts(bookings), others.id
    exported = runner.invoke(args=["person", "export", "Camille@example.org"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["person"]["id"] == camille_id

    refused = runner.invoke(args=["person", "anonymise", "camille@example.org"], input="n\n")
    assert refused.exit_code != 0
    assert db.session.get(User, camille_id).email == "camille@example.org"
    done = runner.invoke(args=["person", "anonymise", "camille@example.org", "--yes"])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1] == str(camille_id)
    db.session.expire_all()
    assert_anonymised(camille_id, before, others_id)
    unknown = runner.invoke(args=["person", "export", "nobody@example.org"])
    assert unknown.exit_code != 0
