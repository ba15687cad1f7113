"""Load bench: several gunicorn servers on one database, many clients, a few hot resources.

Run by hand (not collected by pytest), from the repository root, with gunicorn installed:

    .venv/bin/python bench/load.py --db postgresql          # 2 servers x 4 workers, Redis
    .venv/bin/python bench/load.py --db sqlite              # the same on one SQLite file
    .venv/bin/python bench/load.py --db sqlite --small      # the short run the tests use

It makes a throwaway database (a PostgreSQL database on 127.0.0.1:5432, or a SQLite file),
migrates it, seeds one organisation and one API token per client and a few hot resources
(rooms of one unit and a stock of three, with changeover buffers), starts `--servers`
gunicorn servers of `--workers` workers sharing the database (and Redis for the rate
limits when it answers), then drives them from `--clients` threads in four phases:

1. `GET /api/v1/me` only: the floor of a request that reads one row;
2. booking POSTs that never conflict (each client its own resource): the cost of a booking;
2b. the same POSTs again: each refused (409) with alternatives, computed after the locks;
3. `--attempts` booking attempts at the hot resources, mixed with reads (listings,
   availability, /me) and cancellations of the client's own bookings.

It prints the throughput of each phase, p50/p95/p99 per endpoint, the ratios of phases 2
and 2b to phase 1 (issue 10's goals: at least 0.4 and 0.25), then checks in SQL that no
resource ever holds
more units than it has (buffers included), that every acknowledged booking and
cancellation is stored as acknowledged, and that no booking was written that no client
was told of. The last line is a JSON summary; the exit status is 1 on any violation.

With `--faults`, only phase 3 runs, while every `--fault-interval` seconds a worker is
killed (twice in turn), PostgreSQL is restarted (with `--allow-postgresql-restart`, which
disturbs everything else on the cluster), and a whole server is killed and started again.
A request left without an answer (or answered 5xx) may or may not have been written; the
check allows that many unseen rows and no more:

    .venv/bin/python bench/load.py --db postgresql --faults --allow-postgresql-restart
"""

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS = ("127.0.0.1", 6379)
SLOT = timedelta(minutes=30)
HOT_SLOTS = 96  # two days of half-hours: enough contention to refuse most attempts


@dataclass
class Seeded:
    tokens: list[str]
    organisation_ids: list[int]
    own_resource_ids: list[int]
    hot_resource_ids: list[int]


@dataclass
class Outcomes:
    """What the clients were told, per endpoint and per booking."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    booked: set[int] = field(default_factory=set)
    cancelled: set[int] = field(default_factory=set)
    # Cancellations sent without a clear answer: the booking may be either way.
    maybe_cancelled: set[int] = field(default_factory=set)
    # Requests with no answer, or a 5xx, per endpoint: what they did is not known.
    unknown: Counter = field(default_factory=Counter)
    offered_alternatives: int = 0  # refusals (409) that offered at least one
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)
            self.statuses[(endpoint, status)] += 1
            if status >= 500:
                self.unknown[endpoint] += 1

    def unknown_bookings(self) -> int:
        return sum(n for endpoint, n in self.unknown.items() if endpoint.startswith("POST /b")
                   and not endpoint.endswith("cancel"))


# -- the database ----------------------------------------------------------------------

@contextmanager
def throwaway_database(kind: str, workdir: Path, server_url: str):
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'load.sqlite3'}"
        return
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"sharing_load_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(database_url: str, instance: Path, clients: int) -> Seeded:
    """Migrate, then one organisation, member and token per client, and the resources."""
    from flask_migrate import upgrade

    from sharing import create_app
    from sharing.core.extensions import db
    from sharing.models import Membership, Organisation, Resource, Site, User
    from sharing.services.api_tokens import create_api_token

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "load",
                      "TESTING": True}, instance_path=instance)
    with app.app_context():
        upgrade()
        site = Site(name="Voiron", timezone="Europe/Paris")
        owner = Organisation(slug="owner", name="Owner")
        db.session.add_all([site, owner])
        hot = [Resource(kind="room", name=f"Hot room {n}", slug=f"hot-{n}", owner=owner,
                        site=site, quantity=1, buffer_minutes=15, slot_minutes=15)
               for n in range(2)]
        hot.append(Resource(kind="equipment", name="Chairs", slug="hot-chairs", owner=owner,
                            site=site, quantity=3, buffer_minutes=30, slot_minutes=15))
        own, organisations, users = [], [], []
        for n in range(clients):
            organisation = Organisation(slug=f"client-{n}", name=f"Client {n}")
            user = User(email=f"client{n}@example.org", display_name=f"Client {n}")
            user.memberships.append(Membership(organisation=organisation, role="member"))
            own.append(Resource(kind="room", name=f"Own room {n}", slug=f"own-{n}",
                                owner=owner, site=site, quantity=1, slot_minutes=15))
            organisations.append(organisation)
            users.append(user)
        db.session.add_all(hot + own + users)
        db.session.flush()
        tokens = [create_api_token(user, "load")[1] for user in users]
        db.session.commit()
        seeded = Seeded(tokens, [o.id for o in organisations], [r.id for r in own],
                        [r.id for r in hot])
        db.session.remove()
        db.engine.dispose()
    return seeded


# -- the servers -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


def server_environment(database_url: str, instance: Path, port: int) -> dict[str, str]:
    env = {**os.environ, "SHARING_DATABASE_URL": database_url, "SHARING_SECRET_KEY": "load",
           "SHARING_BASE_URL": f"http://127.0.0.1:{port}",
           "SHARING_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT)}
    if redis_answers():
        env["SHARING_RATELIMIT_STORAGE_URI"] = f"redis://{REDIS[0]}:{REDIS[1]}"
    return env


class Server:
    """One gunicorn master and its workers, on a port it keeps across restarts."""

    def __init__(self, database_url: str, instance: Path, workers: int):
        """Started, not yet serving: `wait_until_serving` (servers boot side by side)."""
        self.port, self.workers = free_port(), workers
        self.environment = server_environment(database_url, instance, self.port)
        self.process = self.start()

    def start(self) -> subprocess.Popen:
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        return subprocess.Popen(
            [gunicorn, "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
             "--timeout", "30", "--log-level", "warning", "sharing:create_app()"],
            env=self.environment, cwd=ROOT, start_new_session=True)

    def wait_until_serving(self) -> None:
        wait_until_serving(self.port, self.process)

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def kill_worker(self, rng: random.Random) -> str:
        pids = self.worker_pids()
        if pids:
            os.kill(rng.choice(pids), signal.SIGKILL)  # the master starts another
        return f"killed a worker of the server on port {self.port}"

    def kill_and_restart(self) -> str:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = self.start()
        self.wait_until_serving()
        return f"killed the whole server on port {self.port} and started it again"

    def ask_to_stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def wait_until_stopped(self) -> None:
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def wait_until_serving(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn on port {port} exited with {process.returncode}")
        try:
            if request(port, "GET", "/login", None, None)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn on port {port} did not answer within {seconds}s")


# -- the clients -----------------------------------------------------------------------

def request(port: int, method: str, path: str, token: str | None, body: dict | None,
            timeout: float = 60) -> tuple[int, dict | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, json.dumps(body) if body is not None else None,
                           headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    is_json = response.getheader("Content-Type", "").startswith("application/json")
    return response.status, json.loads(raw) if is_json and raw else None


def timed(outcomes: Outcomes, port: int, endpoint: str, method: str, path: str, token: str,
          body: dict | None = None) -> tuple[int, dict | None] | None:
    started = time.perf_counter()
    try:
        status, data = request(port, method, path, token, body)
    except OSError:
        with outcomes.lock:
            outcomes.unknown[endpoint] += 1
        return None
    outcomes.record(endpoint, status, time.perf_counter() - started)
    return status, data


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def tomorrow_morning() -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 6, tzinfo=UTC)


def booking_body(resource_id: int, organisation_id: int, start: datetime, minutes: int,
                 quantity: int = 1) -> dict:
    return {"resource_id": resource_id, "organisation_id": organisation_id,
            "start": iso(start), "end": iso(start + timedelta(minutes=minutes)),
            "quantity": quantity, "title": "Charge"}


def run_clients(clients: int, work) -> float:
    """Run `work(client_index)` in one thread per client; the wall time of the slowest."""
    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def phase_me(ports, seeded, outcomes, per_client: int) -> float:
    def work(n):
        for _ in range(per_client):
            timed(outcomes, ports[n % len(ports)], "GET /me", "GET", "/api/v1/me",
                  seeded.tokens[n])
    return run_clients(len(seeded.tokens), work)


def phase_free_bookings(ports, seeded, outcomes, per_client: int) -> float:
    start = tomorrow_morning() + timedelta(days=30)

    def work(n):
        for i in range(per_client):
            body = booking_body(seeded.own_resource_ids[n], seeded.organisation_ids[n],
                                start + i * SLOT, 30)
            answer = timed(outcomes, ports[n % len(ports)], "POST /bookings (free)", "POST",
                           "/api/v1/bookings", seeded.tokens[n], body)
            remember_booked(outcomes, answer)
    return run_clients(len(seeded.tokens), work)


def phase_refused_bookings(ports, seeded, outcomes, per_client: int) -> float:
    """Each client asks again for the slots it booked in phase 2: every request is refused
    (409) with the alternatives the engine looks for once its locks are released."""
    start = tomorrow_morning() + timedelta(days=30)

    def work(n):
        for i in range(per_client):
            body = booking_body(seeded.own_resource_ids[n], seeded.organisation_ids[n],
                                start + i * SLOT, 30)
            answer = timed(outcomes, ports[n % len(ports)], "POST /bookings (refused)",
                           "POST", "/api/v1/bookings", seeded.tokens[n], body)
            if answer and answer[0] == 409 and answer[1].get("alternatives"):
                with outcomes.lock:
                    outcomes.offered_alternatives += 1
            remember_booked(outcomes, answer)  # none, unless phase 2 lost one
    return run_clients(len(seeded.tokens), work)


def remember_booked(outcomes: Outcomes, answer) -> list[int]:
    if answer is None or answer[0] != 201:
        return []
    ids = [b["id"] for b in answer[1]["bookings"]]
    with outcomes.lock:
        outcomes.booked.update(ids)
    return ids


def phase_contention(ports, seeded, outcomes, attempts: int, seed_value: int) -> float:
    per_client = attempts // len(seeded.tokens)
    base = tomorrow_morning()

    def work(n):
        rng, mine = random.Random(seed_value + n), []
        port, token = ports[n % len(ports)], seeded.tokens[n]
        for _ in range(per_client):
            mine += attempt_hot_booking(rng, port, token, seeded, n, base, outcomes)
            if rng.random() < 0.25:
                read_something(rng, port, token, seeded, base, outcomes)
            if mine and rng.random() < 0.1:
                cancel_one(mine.pop(rng.randrange(len(mine))), port, token, outcomes)
    return run_clients(len(seeded.tokens), work)


def attempt_hot_booking(rng, port, token, seeded, n, base, outcomes) -> list[int]:
    resource_id = rng.choice(seeded.hot_resource_ids)
    quantity = rng.choice((1, 1, 2)) if resource_id == seeded.hot_resource_ids[-1] else 1
    start = base + rng.randrange(HOT_SLOTS) * SLOT
    body = booking_body(resource_id, seeded.organisation_ids[n], start,
                        rng.choice((30, 60, 90)), quantity)
    answer = timed(outcomes, port, "POST /bookings (hot)", "POST", "/api/v1/bookings", token,
                   body)
    return remember_booked(outcomes, answer)


def read_something(rng, port, token, seeded, base, outcomes) -> None:
    resource_id = rng.choice(seeded.hot_resource_ids)
    window = f"start={iso(base)}&end={iso(base + HOT_SLOTS * SLOT)}"
    endpoint, path = rng.choice((
        ("GET /bookings", f"/api/v1/bookings?resource_id={resource_id}&{window}"),
        ("GET /availability", f"/api/v1/resources/{resource_id}/availability?{window}"),
        ("GET /me", "/api/v1/me")))
    timed(outcomes, port, endpoint, "GET", path, token)


def cancel_one(booking_id: int, port, token, outcomes) -> None:
    answer = timed(outcomes, port, "POST /bookings/<id>/cancel", "POST",
                   f"/api/v1/bookings/{booking_id}/cancel", token, {})
    with outcomes.lock:
        if answer and answer[0] == 200:
            outcomes.cancelled.add(booking_id)
        elif answer is None or answer[0] >= 500:
            outcomes.maybe_cancelled.add(booking_id)


# -- the checks ------------------------------------------------------------------------

OVERBOOKED = text("""
    SELECT b.id, b.resource_id, r.quantity, SUM(o.quantity) AS held
    FROM booking b
    JOIN resource r ON r.id = b.resource_id
    JOIN booking o ON o.resource_id = b.resource_id
                  AND o.starts_at <= b.starts_at AND o.blocks_until > b.starts_at
                  AND o.status IN ('pending', 'confirmed')
    WHERE b.status IN ('pending', 'confirmed')
    GROUP BY b.id, b.resource_id, r.quantity
    HAVING SUM(o.quantity) > r.quantity
""")


def check_database(database_url: str, outcomes: Outcomes) -> dict[str, int]:
    """Peak units at every booking's start (where a peak begins), and what clients saw.

    A booking request left without an answer may or may not have been written: rows that
    no client saw are a violation only beyond the number of such requests."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        overbooked = conn.execute(OVERBOOKED).all()
        rows = dict(conn.execute(text("SELECT id, status FROM booking")).all())
    engine.dispose()
    acknowledged = outcomes.booked
    unseen = len(rows.keys() - acknowledged)
    return {
        "capacity_violations": len(overbooked),
        "acknowledged_missing": len(acknowledged - rows.keys()),
        "wrong_status": sum(1 for b in acknowledged & rows.keys()
                            if rows[b] not in expected_statuses(b, outcomes)),
        "unacknowledged_written": max(0, unseen - outcomes.unknown_bookings()),
        "written_without_answer": min(unseen, outcomes.unknown_bookings()),
        "unknown_outcomes": sum(outcomes.unknown.values()),
    }


def expected_statuses(booking_id: int, outcomes: Outcomes) -> set[str]:
    if booking_id in outcomes.cancelled:
        return {"cancelled"}
    if booking_id in outcomes.maybe_cancelled:
        return {"cancelled", "confirmed"}
    return {"confirmed"}


# -- the report ------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def print_latencies(outcomes: Outcomes) -> None:
    for endpoint, values in sorted(outcomes.latencies.items()):
        statuses = ", ".join(f"{s}: {c}" for (e, s), c in sorted(outcomes.statuses.items())
                             if e == endpoint)
        print(f"{endpoint:32} {len(values):6d} {percentile(values, .5) * 1e3:8.1f} "
              f"{percentile(values, .95) * 1e3:8.1f} {percentile(values, .99) * 1e3:8.1f}"
              f"  {statuses}")


def count(outcomes: Outcomes, prefix: str) -> int:
    return sum(len(v) for k, v in outcomes.latencies.items() if k.startswith(prefix))


def main() -> int:
    options = parse_options()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.system()} {platform.release()}; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    workdir = Path(tempfile.mkdtemp(prefix="sharing-load-"))
    try:
        with throwaway_database(options.db, workdir, options.pg_server) as database_url:
            return run(options, database_url, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(options, database_url: str, workdir: Path) -> int:
    seeded = seed(database_url, workdir / "instance", options.clients)
    servers = [Server(database_url, workdir / "instance", options.workers)
               for _ in range(options.servers)]
    ports = [server.port for server in servers]
    try:
        for server in servers:
            server.wait_until_serving()
        print(f"database: {options.db}; {options.servers} gunicorn servers x "
              f"{options.workers} workers; {options.clients} clients; "
              f"Redis for rate limits: {redis_answers()}")
        summary = (drive_with_faults(options, servers, seeded, database_url) if options.faults
                   else drive(options, ports, seeded, database_url))
    finally:
        for server in servers:  # all at once: each takes a moment to end its workers
            server.ask_to_stop()
        for server in servers:
            server.wait_until_stopped()
    print(json.dumps(summary))
    return 1 if any(summary[k] for k in ("capacity_violations", "acknowledged_missing",
                                         "wrong_status", "unacknowledged_written")) else 0


def drive(options, ports, seeded, database_url: str) -> dict:
    me, free, refused, mixed = Outcomes(), Outcomes(), Outcomes(), Outcomes()
    per_client = options.requests // options.clients
    me_seconds = phase_me(ports, seeded, me, per_client)
    free_seconds = phase_free_bookings(ports, seeded, free, per_client)
    refused_seconds = phase_refused_bookings(ports, seeded, refused, per_client)
    mixed_seconds = phase_contention(ports, seeded, mixed, options.attempts, options.seed)
    me_rate = count(me, "GET /me") / me_seconds
    free_rate = count(free, "POST") / free_seconds
    refused_rate = count(refused, "POST") / refused_seconds
    print(f"\nphase 1, GET /me only:            {me_rate:8.1f} req/s")
    print(f"phase 2, booking POSTs, no conflict: {free_rate:8.1f} req/s "
          f"(ratio to GET /me: {free_rate / me_rate:.2f}; goal >= 0.4)")
    print(f"phase 2b, refused booking POSTs:  {refused_rate:8.1f} req/s "
          f"(ratio to GET /me: {refused_rate / me_rate:.2f}; goal >= 0.25; "
          f"{refused.offered_alternatives} of {count(refused, 'POST')} "
          f"refused with alternatives)")
    print(f"phase 3, hot resources and reads:  {count(mixed, '') / mixed_seconds:8.1f} req/s "
          f"({count(mixed, 'POST /bookings (hot)')} booking attempts, "
          f"{len(mixed.booked)} booked, {len(mixed.cancelled)} cancelled)\n")
    print(f"{'endpoint':32} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    for outcomes in (me, free, refused, mixed):
        print_latencies(outcomes)
    combined = merge_outcomes(free, refused, mixed)
    checks = check_database(database_url, combined)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}; checks: {checks}")
    return {"me_rate": round(me_rate, 1), "booking_rate": round(free_rate, 1),
            "ratio": round(free_rate / me_rate, 3), "refused_rate": round(refused_rate, 1),
            "refused_ratio": round(refused_rate / me_rate, 3),
            "refused_with_alternatives": refused.offered_alternatives,
            "booked": len(combined.booked),
            "attempts": count(mixed, "POST /bookings (hot)"), **checks}


def drive_with_faults(options, servers: list[Server], seeded, database_url: str) -> dict:
    """Phase 3 only, while a thread kills workers, restarts PostgreSQL (when allowed) and
    kills a whole server and starts it again, in turn, every `--fault-interval` seconds."""
    outcomes, done = Outcomes(), threading.Event()
    faults = threading.Thread(target=inject_faults, args=(options, servers, done))
    faults.start()
    try:
        seconds = phase_contention([s.port for s in servers], seeded, outcomes,
                                   options.attempts, options.seed)
    finally:
        done.set()
        faults.join()
    print(f"\nphase 3 under faults: {count(outcomes, '') / seconds:.1f} req/s, "
          f"{count(outcomes, 'POST /bookings (hot)')} answered booking attempts, "
          f"{len(outcomes.booked)} booked, {len(outcomes.cancelled)} cancelled\n")
    print(f"{'endpoint':32} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    print_latencies(outcomes)
    checks = check_database(database_url, outcomes)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}; checks: {checks}")
    return {"booked": len(outcomes.booked), "attempts": options.attempts, **checks}


def inject_faults(options, servers: list[Server], done: threading.Event) -> None:
    rng = random.Random(options.seed)
    actions = [lambda: rng.choice(servers).kill_worker(rng)] * 2
    if options.db == "postgresql" and options.allow_postgresql_restart:
        actions.append(restart_postgresql)
    actions.append(lambda: rng.choice(servers).kill_and_restart())
    turn = 0
    while not done.wait(options.fault_interval):
        print(f"fault at {time.strftime('%H:%M:%S')}: {actions[turn % len(actions)]()}",
              flush=True)
        turn += 1


def restart_postgresql() -> str:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                   check=True, capture_output=True)
    return f"restarted PostgreSQL {version}"


def merge_outcomes(*parts: Outcomes) -> Outcomes:
    merged = Outcomes()
    for part in parts:
        merged.booked |= part.booked
        merged.cancelled |= part.cancelled
        merged.maybe_cancelled |= part.maybe_cancelled
        merged.unknown += part.unknown
    return merged


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--pg-server", default=PG_SERVER,
                        help="a PostgreSQL server URL allowed to create databases")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--attempts", type=int, default=10_000,
                        help="booking attempts at the hot resources (phase 3)")
    parser.add_argument("--requests", type=int, default=2_000,
                        help="requests in each of phases 1 and 2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", action="store_true",
                        help="phase 3 only, killing workers and servers as it runs")
    parser.add_argument("--fault-interval", type=float, default=30.0)
    parser.add_argument("--allow-postgresql-restart", action="store_true",
                        help="with --faults: restart the local cluster (disturbs its users)")
    parser.add_argument("--small", action="store_true",
                        help="2 servers x 2 workers, 4 clients, 200 attempts (the test)")
    options = parser.parse_args()
    if options.small:
        options.workers, options.clients, options.attempts, options.requests = 2, 4, 200, 80
        options.fault_interval = min(options.fault_interval, 3.0)
    return options


if __name__ == "__main__":
    sys.exit(main())
