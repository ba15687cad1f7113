"""A PostgreSQL connection cut under the application (a restart, a failover): the next
request gets a fresh connection (pre-ping), and a request caught by the cut answers 503
with Retry-After, in JSON on the API, never a 500 and never a failure in the teardown."""

import pytest
from conftest import make_app
from flask import request
from sqlalchemy import create_engine, text

from sharing.core.extensions import db
from sharing.models import User
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
