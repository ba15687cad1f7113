"""Fixtures: the application on a throwaway database, clients, and factories.

The suite runs on SQLite (a fresh copy of an empty database file per test) unless
`SHARING_TEST_DATABASE_URL` names a PostgreSQL server, e.g.
`postgresql+psycopg://postgres@127.0.0.1:5432/test`: a throwaway database is then created
on that server for each test process, emptied after each test, and dropped at the end.
Tests marked `postgresql` always need a server: they use `SHARING_TEST_DATABASE_URL`
or, when unset, try 127.0.0.1:5432, and are skipped with the reason when none answers.
"""

import gc
import multiprocessing
import os
import shutil
import threading
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import g
from flask_babel import refresh as refresh_language
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from sharing import create_app
from sharing.core.database import is_postgresql
from sharing.core.extensions import db
from sharing.core.limits import limiter
from sharing.models import Booking, Membership, Organisation, Resource, Site, User
from sharing.services.notifications import silenced

# Shared fixtures: a real SMTP server (`inbox`, `smtp_port`).
pytest_plugins = ["mail_helpers"]

DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct horse battery"
RAM_DISK = Path("/dev/shm")

# Each test's SQLite file, its WAL and its instance folder go to RAM where the machine has
# a tmpfs: on disk, a third of the SQLite run's wall time was spent waiting on writes.
if RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK):
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(RAM_DISK))


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
            # A throwaway database need not wait for its WAL to reach the disk at each
            # commit; what a crash of the server would lose is never read again.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        self.created.append(name)
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


# The tests that take longest (five seconds or more each on the 2-core machine, by
# `--durations`), longest first: fuzzing over a live server, real browsers, property
# tests, a 500-date series, worker processes. They start first, after the slow ones, so
# that the run does not end with one of them on one worker while the others wait.
LONG_RUNNING = ("tests/test_api_fuzzing.py", "tests/browser/", "tests/test_engine_properties.py",
                "tests/test_credits_properties.py", "tests/test_bounds.py::test_the_worst_series",
                "tests/test_api_bookings.py::test_garbage_bodies", "tests/test_worker.py",
                "tests/test_engine_free_search.py::test_free_search_answers",
                "tests/test_bounds_fuzz.py", "tests/test_api_robustness.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """The tests marked `slow` start processes of their own (20 racers, servers): under
    pytest-xdist (`-n auto`, with `--dist loadgroup` from pyproject.toml) they run one after
    another on one worker while the others share the rest, and they start first so that
    none of them ends the run last. The browser tests go to one worker too: each worker
    that ran some started its own Chromium and loaded its own demo. The long-running ones
    come next."""
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group("races"))
        elif "browser" in item.path.parts:
            item.add_marker(pytest.mark.xdist_group("browser"))
    items.sort(key=lambda item: (item.get_closest_marker("slow") is None, rank(item.nodeid)))


def pytest_collection_finish(session):
    """What the process has imported and collected lives as long as it does: frozen, the
    garbage collector no longer walks it at each full collection, and it collects less
    often (the requests make many short-lived objects). About a tenth of the suite's CPU."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def pytest_xdist_node_collection_finished(node, ids):
    """Under `--dist loadgroup` a browser test's id names its group, the scheduler's only
    clue: pytest 9.2 silently broke that, and the racers then ran beside other tests."""
    browser = [nodeid for nodeid in ids if nodeid.startswith("tests/browser/")]
    if node.config.getvalue("dist") == "loadgroup" and browser and "@" not in browser[0]:
        pytest.exit(f"pytest-xdist did not group {browser[0]}: see pytest's pin in "
                    "pyproject.toml", returncode=pytest.ExitCode.USAGE_ERROR)


def rank(nodeid: str) -> int:
    """Its place in LONG_RUNNING (the longest first), or after all of them."""
    return next((place for place, prefix in enumerate(LONG_RUNNING)
                 if nodeid.startswith(prefix)), len(LONG_RUNNING))


# Racing processes start from a server that has already imported the application and its
# blueprints (which the first application of a process imports): twenty imports would cost
# more than the race. One list for every test: a test process has one such server.
RACER_PRELOAD = ["conftest", "sharing.engine", "sharing.blueprints"]


def racing_context():
    """The multiprocessing context of racing processes: fresh ones, with no connection
    inherited from the test, forked from that server."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(RACER_PRELOAD)
    return context


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
    """The database the whole suite runs on, if it is PostgreSQL; None for SQLite. Under
    pytest-xdist each worker has its own session, hence its own database. The schema is
    built once here; tests empty the tables after themselves."""
    if not os.environ.get("SHARING_TEST_DATABASE_URL"):
        return None
    url = request.getfixturevalue("postgres").create()
    build_schema(url, tmp_path_factory.mktemp("instance"))
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """An empty database with the schema, built once: each test starts from a copy of the
    file, which costs far less than creating the tables again."""
    path = tmp_path_factory.mktemp("template") / "schema.sqlite3"
    build_schema(f"sqlite:///{path}", path.parent / "instance")
    return path


def build_schema(database_url: str, instance_path) -> None:
    app = make_app(database_url, instance_path)
    with app.app_context():
        db.create_all()
        db.engine.dispose()


@pytest.fixture
def database_url(request, tmp_path, suite_database_url):
    if suite_database_url:
        return suite_database_url
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


def fresh_sqlite_file(template: Path, path: Path) -> None:
    """The template copied to a new file under `path`, its WAL and shared-memory files
    gone: a connection some test left open keeps the old file, never sees the new one."""
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    copy = path.with_name(path.name + ".new")
    shutil.copyfile(template, copy)
    os.replace(copy, path)


def make_app(database_url: str, instance_path, **config):
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "sharing.test",
        "BASE_URL": "http://sharing.test",
        # One iteration: tests sign in and set passwords by the hundred, and scrypt took a
        # twentieth of the suite's time. test_production checks production's scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    }
    settings.update(config)
    app = create_app(settings, instance_path=instance_path)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


class MemoryBytecodeCache(BytecodeCache):
    """Templates compiled once per test process rather than once per test's application
    (Jinja checks each template's source against what it compiled)."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = MemoryBytecodeCache()


@pytest.fixture(scope="session", autouse=True)
def url_builders_compiled_once():
    """Each test makes its own application, and three quarters of that went to Werkzeug
    generating and compiling the same Python code again for every URL rule's builder. A
    builder depends only on the rule's text, parts and defaults: compile each once."""
    compile_builder = Rule._compile_builder
    builders = {}

    def compile_once(rule: Rule, append_unknown: bool = True):
        key = (rule.rule, tuple(rule._trace), repr(sorted((rule.defaults or {}).items())),
               append_unknown)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", compile_once)
        yield


@pytest.fixture
def app_config():
    """Override in a test module to change the application's configuration."""
    return {}


class SharedApp:
    """One application per test process for every test that keeps the default
    configuration: making one per test cost a quarter of a simple test's time (the app,
    its templates loaded again, and every SQL statement compiled again by a new engine).

    Between tests it is put back as new: its database (a fresh copy of the template file
    on SQLite; emptied tables on PostgreSQL, as for any test), its configuration, the rate
    limiter (one per process, whose counts are forgotten) and the per-application caches.
    Each test gets its own application context, hence its own `g`, and its own client,
    hence its own session cookie."""

    def __init__(self, database_url: str, instance_path: Path, sqlite_file: Path | None,
                 template: Path | None):
        self.sqlite_file, self.template = sqlite_file, template
        self.app = prepared(make_app(database_url, instance_path))
        self.config = dict(self.app.config)
        self.limiter_state = dict(limiter.__dict__)

    def reset(self) -> None:
        """Before a test: the state a new application on a new database would have."""
        if self.sqlite_file is not None:
            fresh_sqlite_file(self.template, self.sqlite_file)
        self.app.config.clear()
        self.app.config.update(self.config)
        self.app.extensions.pop("feed_validators", None)
        # An application made since (a test's own) took the process's limiter over.
        limiter.__dict__.clear()
        limiter.__dict__.update(self.limiter_state)
        limiter.storage.reset()


@pytest.fixture(scope="session")
def shared_app(request, tmp_path_factory, suite_database_url) -> SharedApp:
    instance_path = tmp_path_factory.mktemp("shared-instance")
    if suite_database_url:
        return SharedApp(suite_database_url, instance_path, None, None)
    template = request.getfixturevalue("sqlite_template")
    sqlite_file = tmp_path_factory.mktemp("shared-database") / "test.sqlite3"
    fresh_sqlite_file(template, sqlite_file)
    return SharedApp(f"sqlite:///{sqlite_file}", instance_path, sqlite_file, template)


# Settings the application reads each time it uses them, never while it is made: a test's
# `app_config` of these alone is set on the shared application (put back before the next
# test) rather than paying for an application of its own.
READ_WHEN_USED = frozenset({
    "SERVER_NAME", "LANGUAGES", "WTF_CSRF_ENABLED", "MAIL_SERVER", "MAIL_PORT",
    "RATELIMIT_SIGN_IN", "RATELIMIT_ACCOUNT_LINKS", "RATELIMIT_TOKEN_FAILURES",
    "CALENDAR_FETCH_ALLOW_PRIVATE", "CALENDAR_FETCH_TIMEOUT", "CALENDAR_FETCH_MAX_BYTES",
    "CALENDAR_MAX_EVENTS",
})


def needs_own_app(request, app_config) -> bool:
    """A test whose `app_config` changes a setting read when the application is made, or
    marked `own_app` (it adds routes or hooks, which an application refuses once it has
    served)."""
    return (not READ_WHEN_USED.issuperset(app_config)
            or request.node.get_closest_marker("own_app") is not None)


@pytest.fixture
def app(request, tmp_path, app_config):
    shared = None
    if needs_own_app(request, app_config):
        app = prepared(make_app(request.getfixturevalue("database_url"), tmp_path / "instance",
                                **app_config))
    else:
        shared = request.getfixturevalue("shared_app")
        shared.reset()
        app = shared.app
        app.config.update(app_config)
    with app.app_context():
        yield app
        db.session.remove()
        if is_postgresql():
            empty_all_tables()
        # The SQLite file is replaced before the next test: let go of it. The shared app
        # keeps its PostgreSQL connections (each was rolled back into the pool).
        if shared is None or not is_postgresql():
            db.engine.dispose()


def prepared(app):
    app.before_request_funcs.setdefault(None, []).insert(0, forget_cached_user)
    app.teardown_request(end_transaction)
    return app


def forget_cached_user() -> None:
    """The test keeps one app context, hence one `g`, across requests: Flask-Login would
    then keep the previous request's user, and Flask-Babel its language. Each request
    picks its own, as in production."""
    g.pop("_login_user", None)
    refresh_language()


def end_transaction(_error) -> None:
    """In production each request's session ends with its app context; the test keeps one
    context, so end the request's transaction here (and with it any SQLite write lock)."""
    db.session.rollback()


def empty_all_tables():
    """Children first, in one round trip. DELETE takes a few milliseconds on these small
    tables where TRUNCATE … RESTART IDENTITY takes tens: ids therefore go on across tests.
    Triggers are off for it: the credit ledger's refuse any DELETE, as they should."""
    with db.engine.begin() as conn:
        quote = conn.dialect.identifier_preparer.format_table
        conn.exec_driver_sql("; ".join(
            ["SET LOCAL session_replication_role = replica"]
            + [f"DELETE FROM {quote(table)}" for table in reversed(db.metadata.sorted_tables)]))


@pytest.fixture(scope="module")
def module_scenes() -> dict[str, dict]:
    """The rows of each scene a module's tests load with `load_once`."""
    return {}


@pytest.fixture
def load_once(app, module_scenes):
    """`load_once(name, build)`: the module's first test runs `build` and keeps a copy of
    every row; later tests get the rows written back into their own fresh database. For a
    scene too costly to build per test (the demo hashes a password per user)."""

    def load(name: str, build) -> None:
        if name in module_scenes:
            write_rows(module_scenes[name])
        else:
            build()
            module_scenes[name] = read_rows()

    return load


@pytest.fixture
def demo(runner, load_once):
    """The demo pole (`flask demo`, today's dates), loaded by the module's first test and
    copied into the next ones' databases."""
    load_once("demo", lambda: load_demo(runner))


def load_demo(runner) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0


def read_rows() -> dict:
    with db.engine.connect() as conn:
        return {table: [row._asdict() for row in conn.execute(select(table))]
                for table in db.metadata.sorted_tables}


def write_rows(rows: dict) -> None:
    with db.engine.begin() as conn:
        for table, table_rows in rows.items():
            if table_rows:
                conn.execute(table.insert(), table_rows)
                if is_postgresql():
                    follow_sequence(conn, table)


def follow_sequence(conn, table) -> None:
    """Rows written with their ids leave PostgreSQL's sequence behind: move it past them."""
    id_column = table.autoincrement_column
    if id_column is not None:
        quoted_name = conn.dialect.identifier_preparer.format_table(table)
        sequence = func.pg_get_serial_sequence(quoted_name, id_column.name)
        conn.execute(select(func.setval(sequence, func.max(id_column))))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Loopback:
    """The process's one server on 127.0.0.1 (a port the system chose), passing each
    request to the current test's application (503 between tests)."""

    def __init__(self):
        self.app = None
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.address = f"http://127.0.0.1:{self.server.server_port}"

    def __call__(self, environ, start_response):
        return (self.app or ServiceUnavailable())(environ, start_response)


@pytest.fixture(scope="session")
def loopback():
    """One address for the whole process: a browser context can outlive a test."""
    serving = Loopback()
    # Polled often, so that stopping it does not hold the process's last test half a second.
    thread = threading.Thread(target=serving.server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    yield serving
    serving.server.shutdown()
    serving.server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def live_server(app, loopback):
    """The test's application on 127.0.0.1, served by the process's `loopback` server:
    its address. Give the module `app_config` `{"SERVER_NAME": None}` to serve any host."""
    loopback.app = app
    yield loopback.address
    loopback.app = None


@pytest.fixture
def login(client):
    """Sign a user in on the test client (as Flask-Login would after a password check)."""

    def sign_in(user: User):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return sign_in


ONE_COMMIT = "factories_commit_at_the_end"


def _save(obj):
    db.session.add(obj)
    if not db.session.info.get(ONE_COMMIT):
        commit_keeping_values()
    return obj


def commit_keeping_values() -> None:
    """A factory's commit, its objects left loaded: they hold what was just written, and
    expiring them cost a SELECT per object at its next read. Columns the database fills
    itself are still read back when first used."""
    session = db.session()  # the session itself: scoped_session does not pass this on
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@contextmanager
def one_commit():
    """The rows the factories add in the block, committed together at its end: each
    commit flushes, expires and reloads, so a scene of six rows cost six times that."""
    db.session.info[ONE_COMMIT] = True
    try:
        yield
        commit_keeping_values()
    finally:
        db.session.info.pop(ONE_COMMIT, None)


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
        user.set_password(password)
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
    """A booking row written directly (no engine rules) and told to nobody (no mail
    rendered with its calendar attachment, which was 40% of some modules' time): for
    setting up a scene."""

    def factory(resource, organisation, user, start, minutes=60, quantity=1,
                status="confirmed", title="Réunion", buffer_minutes=None):
        end = start + timedelta(minutes=minutes)
        buffer = resource.buffer_minutes if buffer_minutes is None else buffer_minutes
        with silenced():
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

    with one_commit():
        site = create_site(name="Voiron", timezone="Europe/Paris")
        owner = create_organisation(slug="ressourcerie")
        booker = create_organisation(slug="patisserie")
        manager = create_user(email="manager@example.org", organisation=owner, role="manager")
        member = create_user(email="member@example.org", organisation=booker)
        room = create_resource(kind="room", owner=owner, site=site, name="Salle des Tilleuls",
                               capacity=12, slot_minutes=15)
    return Scene(owner, booker, manager, member, room)
