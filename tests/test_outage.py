"""A PostgreSQL connection cut under the application (a restart, a failover): the next
request gets a fresh connection (pre-ping), and a request caught by the cut answers 503
with Retry-After, in JSON on the API, never a 500 and never a failure in the teardown."""

from datetime import UTC, datetime, timedelta

import pytest
from conftest import make_app
from flask import has_request_context, request
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from sharing.core.extensions import db
from sharing.models import Booking, Membership, Organisation, Resource, Site, User
from sharing.services.api_tokens import create_api_token

pytestmark = pytest.mark.postgresql
CUT_HEADER = "X-Test-Cut-Connection"


@pytest.fixture
def outage(postgres, tmp_path):
    """An app on its own database, a token, and an admin connection that can cut it."""
    url = postgres.create()
    app = make_app(url, tmp_path / "instance")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    app.before_request(lambda: cut_own_connection(admin) if CUT_HEADER in request.headers
                       else None)
    with app.app_context():
        db.create_all()
        user = User(email="cut@example.org", display_name="Cut")
        seed_a_taken_room(user)
        db.session.add(user)
        db.session.flush()
        raw = create_api_token(user, "outage")[1]
        db.session.commit()
        app.config["TEST_USER_SESSION_ID"] = user.get_id()
        db.session.remove()
    yield app, admin, {"Authorization": f"Bearer {raw}"}
    admin.dispose()
    with app.app_context():
        db.engine.dispose()


TAKEN = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=2)


def seed_a_taken_room(user: User) -> None:
    """Two rooms; the first taken at TAKEN by another organisation, the second free."""
    site, owner, other = Site(name="Voiron"), Organisation(slug="o", name="O"), \
        Organisation(slug="p", name="P")
    user.memberships.append(Membership(organisation=owner))
    rooms = [Resource(kind="room", name=f"Salle {n}", slug=f"salle-{n}", owner=owner,
                      site=site) for n in (1, 2)]
    db.session.add_all(rooms)
    db.session.flush()
    db.session.add(Booking(resource=rooms[0], organisation=other, user=user, starts_at=TAKEN,
                           ends_at=TAKEN + timedelta(hours=1),
                           blocks_until=TAKEN + timedelta(hours=1)))


def cut_own_connection(admin) -> None:
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def cut_every_connection(admin) -> int:
    with admin.connect() as conn:
        return conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()


def test_the_first_request_after_idle_connections_were_cut_succeeds(outage):
    app, admin, headers = outage
    client = app.test_client()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert cut_every_connection(admin) >= 1  # the pool's idle connection
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_an_api_request_caught_by_a_cut_answers_503_then_the_next_succeeds(outage):
    app, admin, headers = outage
    client = app.test_client()
    cut = client.get("/api/v1/me", headers={**headers, CUT_HEADER: "1"})
    assert cut.status_code == 503
    assert cut.headers["Retry-After"] == "5"
    assert cut.get_json()["error"] == "unavailable"
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_page_caught_by_a_cut_answers_a_503_page(outage):
    app, admin, _headers = outage
    client = app.test_client()
    with client.session_transaction() as session:  # signed in: the page reads the database
        session["_user_id"] = app.config["TEST_USER_SESSION_ID"]
    cut = client.get("/", headers={CUT_HEADER: "1"})
    assert cut.status_code == 503 and cut.mimetype == "text/html"
    assert "Service momentanément indisponible" in cut.text
    assert "Retry-After" in cut.headers
    assert client.get("/").status_code == 200


@pytest.fixture
def cut_after_the_refusal(outage):
    """Cut the request's connection at the first statement after the booking's write
    transaction rolled back: where the alternatives are sought."""
    _app, admin, _headers = outage
    state = {"cut": "waiting"}

    def arm(_session):
        if has_request_context() and state["cut"] == "waiting":  # the write transaction's
            state["cut"] = "armed"

    def cut(conn, _cursor, _statement, _parameters, _context, _many):
        if state["cut"] == "armed":
            state["cut"] = "done"
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    event.listen(Session, "after_rollback", arm)
    with _app.app_context():
        event.listen(db.engine, "before_cursor_execute", cut)
    yield state
    event.remove(Session, "after_rollback", arm)
    with _app.app_context():
        event.remove(db.engine, "before_cursor_execute", cut)


def booking_of_the_taken_room(app, headers):
    with app.app_context():
        room_id, org_id = db.session.execute(text(
            "SELECT r.id, r.owner_organisation_id FROM resource r WHERE r.slug = 'salle-1'"
        )).one()
    body = {"resource_id": room_id, "organisation_id": org_id,
            "start": TAKEN.isoformat(), "end": (TAKEN + timedelta(hours=1)).isoformat()}
    return app.test_client().post("/api/v1/bookings", json=body, headers=headers)


def test_alternatives_cut_off_leave_the_refusal_without_them(outage, cut_after_the_refusal):
    app, _admin, headers = outage
    refused = booking_of_the_taken_room(app, headers)
    assert refused.status_code == 409, refused.json
    assert [c["code"] for c in refused.json["conflicts"]] == ["capacity"]
    assert refused.json["alternatives"] == []
    assert cut_after_the_refusal["cut"] == "done"
    again = booking_of_the_taken_room(app, headers)  # no cut armed any more: alternatives
    assert again.status_code == 409 and again.json["alternatives"]
