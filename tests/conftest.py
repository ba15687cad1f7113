"""Fixtures: the application on a throwaway database, clients, and factories.

The suite runs on SQLite (a fresh file per test) unless `SHARING_TEST_DATABASE_URL`
names a PostgreSQL server, e.g. `postgresql+psycopg://postgres@127.0.0.1:5432/test`:
a throwaway database is then created on that server for the run and dropped after.
Tests marked `postgresql` always need a server: they use `SHARING_TEST_DATABASE_URL`
or, when unset, try 127.0.0.1:5432, and are skipped with the reason when none answers.
"""

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import g
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from sharing import create_app
from sharing.core.extensions import db
from sharing.models import Booking, Membership, Organisation, Resource, Site, User

# Shared fixtures: a real SMTP server (`inbox`, `smtp_port`).
pytest_plugins = ["mail_helpers"]

DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct horse battery"


def postgresql_server_url() -> str:
    return os.environ.get("SHARING_TEST_DATABASE_URL") or DEFAULT_PG_SERVER


def postgresql_unavailable_reason() -> str | None:
    url = postgresql_server_url()
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # any failure to connect means: skip, and say why
        return f"no PostgreSQL server at {make_url(url).render_as_string()}: {error}"
    return None


class ThrowawayPostgres:
    """Creates databases on a PostgreSQL server and drops them (WITH FORCE) afterwards."""

    def __init__(self, server_url: str):
        self.server_url = make_url(server_url)
        self.admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self) -> str:
        name = f"sharing_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres():
    """A factory of throwaway PostgreSQL databases; skips when no server answers."""
    reason = postgresql_unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = ThrowawayPostgres(postgresql_server_url())
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def suite_database_url(request, tmp_path_factory):
    """The database the whole suite runs on, if it is PostgreSQL; None for SQLite."""
    if not os.environ.get("SHARING_TEST_DATABASE_URL"):
        return None
    return request.getfixturevalue("postgres").create()


def make_app(database_url: str, instance_path, **config):
    os.environ["SHARING_INSTANCE_PATH"] = str(instance_path)
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "sharing.test",
        "BASE_URL": "http://sharing.test",
    }
    settings.update(config)
    return create_app(settings)


@pytest.fixture
def app_config():
    """Override in a test module to change the application's configuration."""
    return {}


@pytest.fixture
def app(tmp_path, suite_database_url, app_config):
    url = suite_database_url or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = make_app(url, tmp_path / "instance", **app_config)
    app.before_request_funcs.setdefault(None, []).insert(0, forget_cached_user)
    app.teardown_request(end_transaction)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        if suite_database_url:
            empty_all_tables()
        db.engine.dispose()


def forget_cached_user() -> None:
    """The test keeps one app context, hence one `g`, across requests: Flask-Login would
    then keep the previous request's user. Each request loads its own, as in production."""
    g.pop("_login_user", None)


def end_transaction(_error) -> None:
    """In production each request's session ends with its app context; the test keeps one
    context, so end the request's transaction here (and with it any SQLite write lock)."""
    db.session.rollback()


def empty_all_tables():
    """Faster than dropping the schema between tests on PostgreSQL."""
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    """Sign a user in on the test client (as Flask-Login would after a password check)."""

    def sign_in(user: User):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return sign_in


def _save(obj):
    db.session.add(obj)
    db.session.commit()
    return obj


@pytest.fixture
def create_site(app):
    def factory(name=None, timezone="Europe/Paris", address=""):
        return _save(Site(name=name or f"Site {uuid.uuid4().hex[:6]}", timezone=timezone,
                          address=address))

    return factory


@pytest.fixture
def create_organisation(app):
    def factory(slug=None, name=None, active=True, legal_form="association"):
        slug = slug or f"org-{uuid.uuid4().hex[:6]}"
        return _save(Organisation(slug=slug, name=name or slug.title(), active=active,
                                  legal_form=legal_form))

    return factory


@pytest.fixture
def create_user(app):
    def factory(email=None, name="Camille Martin", password=PASSWORD, organisation=None,
                role="member", is_admin=False, active=True, locale="fr"):
        user = User(email=email or f"u{uuid.uuid4().hex[:8]}@example.org", display_name=name,
                    is_admin=is_admin, active=active, locale=locale)
        # A cheap hash: the factory makes many users; the accounts service's own tests
        # go through User.set_password and its real (scrypt) cost.
        user.password_hash = generate_password_hash(password, "pbkdf2:sha256:1")
        if organisation is not None:
            user.memberships.append(Membership(organisation=organisation, role=role))
        return _save(user)

    return factory


@pytest.fixture
def create_resource(app, create_site, create_organisation):
    def factory(kind="room", owner=None, site=None, name=None, tags=(), **fields):
        name = name or f"{kind.title()} {uuid.uuid4().hex[:6]}"
        resource = Resource(kind=kind, name=name, slug=fields.pop("slug", None)
                            or f"{kind}-{uuid.uuid4().hex[:8]}",
                            owner=owner or create_organisation(), site=site or create_site(),
                            **fields)
        resource.tags = list(tags)
        return _save(resource)

    return factory


@pytest.fixture
def create_booking(app):
    """A booking row written directly (no engine rules): for setting up a scene."""

    def factory(resource, organisation, user, start, minutes=60, quantity=1,
                status="confirmed", title="Réunion", buffer_minutes=None):
        end = start + timedelta(minutes=minutes)
        buffer = resource.buffer_minutes if buffer_minutes is None else buffer_minutes
        return _save(Booking(resource=resource, organisation=organisation, user=user,
                             starts_at=start, ends_at=end,
                             blocks_until=end + timedelta(minutes=buffer),
                             quantity=quantity, status=status, title=title))

    return factory


@pytest.fixture
def now():
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def scene(create_site, create_organisation, create_user, create_resource):
    """Two organisations on a Paris site; the owner shares a meeting room (quantity 1)."""
    from engine_helpers import Scene

    site = create_site(name="Voiron", timezone="Europe/Paris")
    owner = create_organisation(slug="ressourcerie")
    booker = create_organisation(slug="patisserie")
    manager = create_user(email="manager@example.org", organisation=owner, role="manager")
    member = create_user(email="member@example.org", organisation=booker)
    room = create_resource(kind="room", owner=owner, site=site, name="Salle des Tilleuls",
                           capacity=12, slot_minutes=15)
    return Scene(owner, booker, manager, member, room)
