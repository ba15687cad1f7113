"""What an operator runs: health checks, JSON logs, the gunicorn settings, backups."""

import gc
import json
import logging
import os
import runpy
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
from conftest import make_app, racing_context
from mail_helpers import free_port
from test_concurrency_http import wait_until_up

from sharing.core.extensions import db
from sharing.models import Booking, Membership, Organisation, Resource, Site, User

ROOT = Path(__file__).resolve().parent.parent


def migrated_app(tmp_path, **config):
    app = make_app(f"sqlite:///{tmp_path / 'migrated.sqlite3'}", tmp_path / "instance",
                   **config)
    with app.app_context():
        flask_migrate.upgrade()
    return app


# --- health checks ------------------------------------------------------------------------

def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_wants_the_schema_at_the_migrations_head(tmp_path, client):
    not_migrated = client.get("/readyz")  # create_all(): tables, but no migration version
    assert not_migrated.status_code == 503
    assert "migrations" in not_migrated.json["reason"]
    app = migrated_app(tmp_path)
    with app.app_context():
        ready = app.test_client().get("/readyz")
    assert ready.status_code == 200 and ready.json == {"status": "ok"}


def test_readyz_says_when_the_database_does_not_answer(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite3'}",
                   tmp_path / "instance")
    with app.app_context():
        response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["reason"] == "database unreachable"


# --- JSON logs ----------------------------------------------------------------------------

@pytest.fixture
def logging_restored():
    logger = logging.getLogger("sharing")
    kept = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers, logger.level, logger.propagate = kept[0], kept[1], kept[2]


def test_json_logs_carry_the_request_id(tmp_path, capsys, logging_restored):
    app = make_app(f"sqlite:///{tmp_path / 'logs.sqlite3'}", tmp_path / "instance",
                   LOG_FORMAT="json")
    with app.app_context():
        db.create_all()
        client = app.test_client()
        chosen = client.get("/healthz", headers={"X-Request-Id": "proxy-42"})
        own = client.post("/password/forgot", data={"email": "nobody@example.org"})
    assert chosen.headers["X-Request-Id"] == "proxy-42"
    request_id = own.headers["X-Request-Id"]
    assert len(request_id) == 32
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert {"time", "level", "logger", "message", "request_id"} <= set(entries[0])
    by_id = {entry["request_id"]: entry for entry in entries}
    assert by_id["proxy-42"]["message"] == "GET /healthz 200"
    assert by_id[request_id]["status"] == 302 and by_id[request_id]["duration_ms"] >= 0


def test_a_forged_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-Id": "<script>" + "x" * 80})
    assert len(response.headers["X-Request-Id"]) == 32


# --- gunicorn -----------------------------------------------------------------------------

def gunicorn(tmp_path, port, **env) -> subprocess.Popen:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SHARING_", "FLASK_"))}
    environment.update(PYTHONPATH=str(ROOT), WEB_CONCURRENCY="2",
                       SHARING_BIND=f"127.0.0.1:{port}",
                       SHARING_INSTANCE_PATH=str(tmp_path / "instance"),
                       SHARING_DATABASE_URL=f"sqlite:///{tmp_path / 'migrated.sqlite3'}",
                       **env)
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
                            cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_gunicorn_freezes_the_preloaded_application_before_forking():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["preload_app"] is True
    gc.unfreeze()  # the test process froze its own objects (conftest.py)
    settings["when_ready"](None)
    assert gc.get_freeze_count() > 0


@pytest.mark.slow
def test_gunicorn_serves_with_the_repository_settings(tmp_path):
    migrated_app(tmp_path)
    port = free_port()
    server = gunicorn(tmp_path, port, SHARING_BASE_URL=f"http://127.0.0.1:{port}")
    try:
        wait_until_up(port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=30) as ready:
            assert json.load(ready) == {"status": "ok"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30) as page:
            assert page.status == 200 and b"<html" in page.read()
    finally:
        server.terminate()
        server.communicate(timeout=30)


@pytest.mark.slow
def test_gunicorn_refuses_to_start_without_base_url(tmp_path):
    migrated_app(tmp_path)
    server = gunicorn(tmp_path, free_port())
    try:
        output, _none = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode != 0
    assert "BASE_URL" in output


# --- backups ------------------------------------------------------------------------------

def seed_scene() -> tuple[int, int, int]:
    site, owner = Site(name="Voiron"), Organisation(slug="owner", name="Owner")
    user = User(email="writer@example.org", display_name="Writer")
    user.memberships.append(Membership(organisation=owner))
    room = Resource(kind="room", name="Salle", slug="salle", owner=owner, site=site,
                    quantity=1_000_000)
    db.session.add_all([site, owner, user, room])
    db.session.commit()
    return room.id, owner.id, user.id


def write_bookings(database_url, instance_path, ids, log_path, stop_path):
    """Another server: books, commits, then notes the id; until told to stop."""
    app = make_app(database_url, instance_path, SERVER_NAME=None)
    start = datetime(2031, 1, 6, 8, tzinfo=UTC)
    with app.app_context(), open(log_path, "a") as log:
        for n in range(5000):
            if os.path.exists(stop_path):
                break
            begins = start + timedelta(hours=n)
            booking = Booking(resource_id=ids[0], organisation_id=ids[1], user_id=ids[2],
                              starts_at=begins, ends_at=begins + timedelta(hours=1),
                              blocks_until=begins + timedelta(hours=1), title=f"n{n}")
            db.session.add(booking)
            db.session.commit()
            log.write(f"{booking.id}\n")
            log.flush()


def committed(log_path: Path) -> set[int]:
    return {int(line) for line in log_path.read_text().split()}


def wait_for_bookings(log_path: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while not (log_path.exists() and len(committed(log_path)) >= count):
        assert time.monotonic() < deadline, "the writer wrote nothing"
        time.sleep(0.05)


def booking_ids(path: Path) -> set[int]:
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {row[0] for row in connection.execute("SELECT id FROM booking")}


@pytest.mark.slow
def test_a_backup_taken_while_bookings_are_written_restores_every_committed_one(tmp_path):
    migrated_app(tmp_path)
    database = tmp_path / "migrated.sqlite3"
    url, log_path, stop_path = f"sqlite:///{database}", tmp_path / "ids", tmp_path / "stop"
    app = make_app(url, tmp_path / "instance")
    with app.app_context():
        ids = seed_scene()
    context = racing_context()
    writer = context.Process(target=write_bookings, daemon=True,
                             args=(url, tmp_path / "instance", ids, log_path, stop_path))
    writer.start()
    try:
        wait_for_bookings(log_path, 20)
        before = committed(log_path)
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.db")])
        assert writer.is_alive(), "the writer stopped before the backup ended"
    finally:
        stop_path.touch()
        writer.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == str(tmp_path / "copy.db")

    restored = tmp_path / "restored.sqlite3"
    shutil.copy(tmp_path / "copy.db", restored)
    in_backup = booking_ids(restored)
    assert before <= in_backup  # every booking committed before the backup began
    assert in_backup <= committed(log_path)  # and nothing that was not committed
    assert in_backup == set(range(1, len(in_backup) + 1))  # one moment: no holes
    assert len(committed(log_path)) > len(before)  # the writer went on meanwhile
    restored_app = make_app(f"sqlite:///{restored}", tmp_path / "instance")
    with restored_app.app_context():
        assert restored_app.test_client().get("/readyz").status_code == 200
        assert db.session.query(Booking).count() == len(in_backup)


def test_a_backup_never_overwrites_a_file(tmp_path, runner):
    (tmp_path / "taken").write_text("keep me")
    result = runner.invoke(args=["backup", str(tmp_path / "taken")])
    assert result.exit_code != 0
    assert (tmp_path / "taken").read_text() == "keep me"


def test_backup_on_postgresql_points_to_pg_dump(postgres, tmp_path):
    app = make_app(postgres.create(), tmp_path / "instance")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.db")])
        db.engine.dispose()
    assert result.exit_code != 0
    assert "pg_dump" in result.output
    assert not (tmp_path / "copy.db").exists()
