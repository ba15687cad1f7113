"""Several application servers, one database, twenty clients posting the same slot at once
over real HTTP: exactly as many 201 as units, every other answer a 409 for capacity, and
never a 500."""

import json
import socket
import threading
import urllib.error
import urllib.request

import pytest
from conftest import make_app, racing_context

from sharing.core.extensions import db
from sharing.models import Booking, Membership, Organisation, Resource, Site, User
from sharing.services.api_tokens import create_api_token

SERVERS = 3
CLIENTS = 20

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(database_url, instance_path, port):
    from werkzeug.serving import make_server

    make_server("127.0.0.1", port, make_app(database_url, instance_path, SERVER_NAME=None),
                threaded=True).serve_forever()


def seed(quantity: int) -> tuple[str, int, int]:
    site, owner = Site(name="Voiron"), Organisation(slug="owner", name="Owner")
    booker = Organisation(slug="booker", name="Booker")
    user = User(email="racer@example.org", display_name="Racer")
    user.memberships.append(Membership(organisation=booker))
    room = Resource(kind="room", name="Salle", slug="salle", owner=owner, site=site,
                    quantity=quantity)
    db.session.add_all([site, owner, booker, user, room])
    db.session.flush()
    _token, raw = create_api_token(user, "race")
    db.session.commit()
    return raw, room.id, booker.id


def post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_until_up(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            threading.Event().wait(0.05)
    raise RuntimeError(f"no server on port {port}")


def race_over_http(database_url, instance_path, quantity):
    app = make_app(database_url, instance_path)
    with app.app_context():
        db.create_all()
        token, room_id, org_id = seed(quantity)
    context = racing_context()
    ports = [free_port() for _ in range(SERVERS)]
    servers = [context.Process(target=serve, args=(database_url, instance_path, port),
                               daemon=True) for port in ports]
    for server in servers:
        server.start()
    try:
        for port in ports:
            wait_until_up(port)
        body = {"resource_id": room_id, "organisation_id": org_id, "title": "Course",
                "start": "2031-06-03T10:00:00+02:00", "end": "2031-06-03T11:00:00+02:00"}
        barrier, answers = threading.Barrier(CLIENTS), []

        def client(n):
            barrier.wait()
            try:
                answers.append(post(f"http://127.0.0.1:{ports[n % SERVERS]}/api/v1/bookings",
                                    token, body))
            except OSError as error:  # no answer at all: reported, not lost
                answers.append((0, {"error": repr(error)}))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    finally:
        for server in servers:
            server.terminate()
            server.join(timeout=10)
    with app.app_context():
        stored = db.session.query(Booking).count()
        db.engine.dispose()
    return answers, stored


def check_http_race(database_url, instance_path, quantity=2):
    answers, stored = race_over_http(database_url, instance_path, quantity)
    statuses = sorted(status for status, _body in answers)
    assert statuses == [201] * quantity + [409] * (CLIENTS - quantity), answers
    for status, body in answers:
        if status == 409:
            assert {c["code"] for c in body["conflicts"]} == {"capacity"}
    assert stored == quantity


def test_http_servers_racing_on_sqlite(tmp_path):
    check_http_race(f"sqlite:///{tmp_path / 'race.sqlite3'}", tmp_path / "instance")


@pytest.mark.postgresql
def test_http_servers_racing_on_postgresql(postgres, tmp_path):
    check_http_race(postgres.create(), tmp_path / "instance")
