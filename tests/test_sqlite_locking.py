"""SQLite's write lock: taken up front by writing requests, never held by reading ones."""

import sqlite3

import pytest
from conftest import PASSWORD

from sharing.core.extensions import db


@pytest.fixture
def locked_by_another_writer(app):
    """Another connection holds the database's write lock for the test's duration."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database-wide write lock only")
    other = sqlite3.connect(db.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield
    other.rollback()
    other.close()


@pytest.fixture
def claire(create_user):
    return create_user(email="claire@example.org", password=PASSWORD)


def test_signing_in_does_not_wait_for_the_write_lock(client, claire, locked_by_another_writer):
    email, user_id = claire.email, claire.id
    db.session.rollback()  # the request begins its own transaction, as in production
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["_user_id"] == f"{user_id}.0"


def test_pages_read_while_another_server_writes(client, claire, login,
                                                locked_by_another_writer):
    login(claire)
    assert client.get("/rooms").status_code == 200
