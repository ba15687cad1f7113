"""Benchmark of the booking engine as the data grows: 10,000 then 1,000,000 bookings.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python bench/engine.py                    # both backends when PostgreSQL answers
    .venv/bin/python bench/engine.py --db sqlite --sizes 10000,100000 --repeat 10

It seeds 1,000 resources of the four kinds on two sites, a few organisations and users,
then bookings (~2 years, 30 min to 4 h, about 5% cancelled, never more units at once than
a resource has), first the smallest size, then grows the SAME database to each larger
size. For each size it times, MEDIAN and p90 over `--repeat` runs, and counts the SQL
statements of:

- create: one booking through `engine.book` on a free slot, its own transaction;
- create+quota: the same for an organisation that has weekly and monthly quotas;
- availability: `get_availability` of one resource over one week;
- free search: `find_free_resources` over the 1,000 resources for one 2-hour slot;

and prints the ratio largest/smallest for each (the issue wants < 1.5: indexes, not
scans), then the query plans of the engine's queries at the largest size. See
bench/README.md.
"""

import argparse
import gc
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from math import ceil
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from sharing import create_app  # noqa: E402
from sharing.core.extensions import db  # noqa: E402
from sharing.engine import (  # noqa: E402
    BookingRequest,
    book,
    check,
    find_free_resources,
    get_availability,
)
from sharing.models import (  # noqa: E402
    RESOURCE_KINDS,
    Booking,
    Membership,
    Organisation,
    Quota,
    Resource,
    Site,
    User,
)

DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PARIS = ZoneInfo("Europe/Paris")
RESOURCES = 1_000
ORGANISATIONS = 8
DAYS = 730  # the bookings span about two years…
FIRST_DAY = date(2026, 1, 5)  # …from a Monday
NOW = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)  # "now" in the middle: a year behind, a year ahead
BATCH = 10_000
WARM_UP = 3
CANCELLED_SHARE = 0.05
DAY_OPENS, DAY_CLOSES = 8 * 60, 21 * 60  # seeded bookings fall between these local times
PEER_FIGURES = (
    "Indico 3.3.14 room booking, same shape of data on PostgreSQL 15, this machine (issue 10):\n"
    "  create a booking 32.9 ms at 10k, 31.3 ms at 1M; free rooms among 1,000 for a 2-hour\n"
    "  slot: 33.6 ms at 10k -> 5,383 ms at 1M (its NOT EXISTS anti-join has no time bound).\n"
    "LibreBooking: week grid of 1,000 resources 11.5 s on the server, 18,010 SQL statements."
)
ENGINE_FILES = ("sharing/engine", "sharing/models.py", "sharing/core/database.py",
                "sharing/services/permissions.py")
OPERATIONS = ("create", "create+quota", "availability", "free search")


# --- the database -------------------------------------------------------------------------

@dataclass
class Backend:
    name: str
    url: str
    cleanup: object  # a callable run at the end


def sqlite_backend(workdir: Path) -> Backend:
    path = workdir / "bench.sqlite3"
    return Backend("sqlite", f"sqlite:///{path}", lambda: None)


def postgresql_backend(server_url: str, keep: bool) -> Backend:
    server = make_url(server_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"sharing_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return Backend("postgresql", server.set(database=name).render_as_string(False), drop)


def postgresql_answers(server_url: str) -> str | None:
    try:
        engine = create_engine(server_url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
        engine.dispose()
        return version
    except Exception:  # any failure: no PostgreSQL for this run
        return None


class StatementCounter:
    """Counts (and optionally keeps) the SQL statements sent through an engine."""

    def __init__(self, engine) -> None:
        self.count = 0
        self.kept: list[tuple[str, object]] | None = None
        event.listen(engine, "before_cursor_execute", self.on_execute)

    def on_execute(self, _conn, _cursor, statement, parameters, _context, _executemany):
        self.count += 1
        if self.kept is not None:
            self.kept.append((statement, parameters))


# --- seeding ------------------------------------------------------------------------------

OPENING_HOURS = [
    {d: [["08:00", "12:00"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
]


def seed_reference_data(rng: random.Random) -> dict:
    """Two sites, organisations with one booker each, people for staff/expertise, 1,000
    resources of the four kinds; one organisation has quotas."""
    sites = [Site(name="Voiron", timezone="Europe/Paris"),
             Site(name="Saint-Marcellin", timezone="Europe/Paris")]
    orgs = [Organisation(slug=f"org-{n}", name=f"Organisation {n}") for n in range(ORGANISATIONS)]
    db.session.add_all(sites + orgs)
    db.session.flush()
    bookers = []
    for org in orgs:
        user = User(email=f"booker@{org.slug}.example.org", display_name=f"Booker {org.slug}")
        user.memberships.append(Membership(organisation=org, role="member"))
        bookers.append(user)
    people = [User(email=f"person{n}@example.org", display_name=f"Person {n}")
              for n in range(40)]
    db.session.add_all(bookers + people)
    db.session.flush()
    kinds = ["room"] * 350 + ["equipment"] * 300 + ["staff"] * 150 + ["expertise"] * 200
    rng.shuffle(kinds)
    resources = []
    for n, kind in enumerate(kinds[:RESOURCES]):
        roll = rng.random()
        resource = Resource(
            kind=kind, name=f"{kind} {n}", slug=f"{kind}-{n}", site=sites[n % 2],
            owner_organisation_id=orgs[n % ORGANISATIONS].id,
            quantity=rng.choice([2, 3, 5, 10]) if kind == "equipment" and roll < 0.3 else 1,
            opening_hours=rng.choice(OPENING_HOURS) if rng.random() < 0.4 else {},
            buffer_minutes=rng.choice([15, 30]) if rng.random() < 0.3 else 0,
            slot_minutes=rng.choice([15, 30]),
            min_duration_minutes=30,
            max_duration_minutes=rng.choice([240, 480, None]),
            min_notice_minutes=rng.choice([0, 0, 60, 24 * 60]),
            max_advance_days=rng.choice([None, None, 400]),
            requires_approval=rng.random() < 0.15,
            capacity=rng.choice([4, 8, 12, 20, 40]) if kind == "room" else None,
            person_id=people[n % len(people)].id if kind in ("staff", "expertise") else None,
            session_minutes=60 if kind == "expertise" else None,
        )
        resources.append(resource)
    db.session.add_all(resources)
    quota_org = orgs[1]
    db.session.add_all([
        Quota(organisation_id=quota_org.id, resource_kind=kind, max_hours_per_week=100_000,
              max_hours_per_month=400_000) for kind in RESOURCE_KINDS])
    db.session.commit()
    return {
        "resources": [(r.id, r.quantity, r.buffer_minutes, r.requires_approval)
                      for r in resources],
        "orgs": [(o.id, u.id) for o, u in zip(orgs, bookers, strict=True)],
        "plain_org": orgs[0].id, "quota_org": quota_org.id,
    }


def local_midnights() -> list[datetime]:
    return [datetime.combine(FIRST_DAY + timedelta(days=d), datetime.min.time(), PARIS)
            .astimezone(UTC) for d in range(DAYS)]


def plan_resource(rng: random.Random, count: int, quantity: int) -> list[tuple]:
    """`count` bookings of one resource as (day, start minute, length, units, organisation
    index, status roll): each day has lanes that fill from the morning; units over all
    lanes never exceed `quantity`."""
    lanes = min(quantity, 3)
    units = max(1, quantity // lanes)
    cursors: dict[tuple[int, int], int] = {}
    planned = []
    while len(planned) < count:
        day, lane = rng.randrange(DAYS), rng.randrange(lanes)
        start = cursors.get((day, lane), DAY_OPENS) + rng.choice([0, 0, 30, 60, 120])
        length = rng.choice([30, 60, 60, 90, 120, 120, 180, 240])
        if start + length > DAY_CLOSES:
            continue  # that lane of that day is full: another day
        cursors[(day, lane)] = start + length + 30  # room for any buffer
        planned.append((day, start, length, rng.randint(1, units),
                        rng.randrange(ORGANISATIONS), rng.random()))
    return planned


@dataclass
class Plan:
    """Every booking to seed, split in phases: phase k brings the total to sizes[k]."""

    sizes: list[int]
    seed: int
    reference: dict
    midnights: list[datetime] = field(default_factory=local_midnights)

    def rows(self, phase: int, avoid: dict[int, list[tuple[datetime, datetime]]]):
        """The rows of one phase, skipping any that would overlap `avoid` (bookings the
        bench itself made meanwhile through the engine)."""
        per_resource = self.sizes[-1] // RESOURCES
        bounds = [size // RESOURCES for size in self.sizes]
        low = bounds[phase - 1] if phase else 0
        orgs = self.reference["orgs"]
        for resource_id, quantity, buffer, approval in self.reference["resources"]:
            rng = random.Random(self.seed * 1_000_003 + resource_id)
            planned = plan_resource(rng, per_resource, quantity)
            rng.shuffle(planned)  # which bookings arrive in which phase
            for index in range(low, bounds[phase]):
                day, minute, length, units, org, roll = planned[index]
                starts = self.midnights[day] + timedelta(minutes=minute)
                ends = starts + timedelta(minutes=length)
                blocks = ends + timedelta(minutes=buffer)
                if any(a < blocks and starts < b for a, b in avoid.get(resource_id, ())):
                    continue
                org_id, user_id = orgs[org]
                status = "cancelled" if roll < CANCELLED_SHARE else (
                    "pending" if approval and roll > 0.8 else "confirmed")
                yield {
                    "uid": f"bench-{resource_id}-{index}@sharing",
                    "resource_id": resource_id, "organisation_id": org_id, "user_id": user_id,
                    "starts_at": starts, "ends_at": ends, "blocks_until": blocks,
                    "quantity": units, "title": "Réunion", "note": "", "status": status,
                    "sequence": 0, "created_at": NOW, "updated_at": NOW,
                    "decision_reason": "",
                }


def insert_phase(plan: Plan, phase: int, avoid) -> int:
    """Insert one phase in batches, one transaction each (SQLite: Core executemany;
    PostgreSQL: COPY), then widen each resource's `longest_booking_minutes` as the ORM
    event would have."""
    db.session.remove()  # no old read snapshot may outlive the inserts
    longest: dict[int, int] = defaultdict(int)
    write = copy_rows if db.engine.dialect.name == "postgresql" else executemany_rows
    batch, inserted = [], 0
    for row in plan.rows(phase, avoid):
        minutes = ceil((row["blocks_until"] - row["starts_at"]).total_seconds() / 60)
        longest[row["resource_id"]] = max(longest[row["resource_id"]], minutes)
        batch.append(row)
        if len(batch) == BATCH:
            write(batch)
            inserted += len(batch)
            batch = []
    if batch:
        write(batch)
        inserted += len(batch)
    with db.engine.begin() as conn:
        for resource_id, minutes in longest.items():
            conn.execute(update(Resource).where(Resource.id == resource_id,
                                                Resource.longest_booking_minutes < minutes)
                         .values(longest_booking_minutes=minutes))
    return inserted


def executemany_rows(rows: list[dict]) -> None:
    with db.engine.begin() as conn:
        conn.execute(insert(Booking.__table__), rows)


def copy_rows(rows: list[dict]) -> None:
    columns = list(rows[0])
    raw = db.engine.raw_connection()
    try:
        connection = raw.driver_connection
        with connection.cursor() as cursor, cursor.copy(
                f"COPY booking ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        connection.commit()
    finally:
        raw.close()


def analyze() -> None:
    """Planner statistics. On PostgreSQL also VACUUM, as autovacuum would have done on a
    live database: it sets the visibility map that index-only scans need after a COPY."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) booking"))
            conn.execute(text("ANALYZE"))
        return
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


# --- the timed operations -----------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, ceil(share * len(ordered)) - 1)]


@dataclass
class Measure:
    times: list[float] = field(default_factory=list)  # wall clock
    cpu: list[float] = field(default_factory=list)  # this process only (not a PG server)
    statements: list[int] = field(default_factory=list)
    rss_growth: int | None = None  # KiB: peak resident set over the runs, minus before

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) * 1000

    @property
    def p90_ms(self) -> float:
        return percentile(self.times, 0.9) * 1000


@contextmanager
def measured(measure: Measure, counter: StatementCounter):
    gc.collect()  # a pause owed to the bench's own garbage is not the engine's time
    counter.count = 0
    cpu, started = time.process_time(), time.perf_counter()
    yield
    measure.times.append(time.perf_counter() - started)
    measure.cpu.append(time.process_time() - cpu)
    measure.statements.append(counter.count)


def future_day(rng: random.Random) -> date:
    """A weekday in the year after NOW, where the seeded bookings are."""
    first = NOW.date() + timedelta(days=2)
    while True:
        day = first + timedelta(days=rng.randrange(DAYS // 2 - 10))
        if day.weekday() < 5:
            return day


def wall(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def free_request(rng: random.Random, resource_ids: list[int], org_id: int, user_id: int
                 ) -> BookingRequest:
    """A request that the engine's dry run accepts (found untimed, by trying)."""
    for _attempt in range(500):
        day = future_day(rng)
        hour = rng.choice([9, 10, 14, 15, 16])
        request = BookingRequest(
            resource_id=rng.choice(resource_ids), organisation_id=org_id,
            start=wall(day, hour), end=wall(day, hour + 1), title="Bench")
        db.session.remove()
        if not check(db.session.get(User, user_id), request, now=NOW):
            return request
    raise RuntimeError("no free slot found in 500 tries")


def time_create(rng, reference, org_id, repeat, counter, made) -> Measure:
    measure = Measure()
    user_id = dict(reference["orgs"])[org_id]
    resource_ids = [r[0] for r in reference["resources"]]
    for _ in range(repeat):
        request = free_request(rng, resource_ids, org_id, user_id)
        db.session.remove()
        user = db.session.get(User, user_id)  # what the login would have loaded
        with measured(measure, counter):
            result = book(user, request, now=NOW)
        for booking in result.bookings:
            made[booking.resource_id].append((booking.starts_at, booking.blocks_until))
    return measure


def time_availability(rng, reference, repeat, counter) -> Measure:
    measure = Measure()
    for _ in range(repeat):
        day = future_day(rng)
        monday = day - timedelta(days=day.weekday())
        start = wall(monday, 0).astimezone(UTC)
        end = wall(monday + timedelta(days=7), 0).astimezone(UTC)
        db.session.remove()
        resource = db.session.get(Resource, rng.choice(reference["resources"])[0])
        with measured(measure, counter):
            get_availability(resource, start, end)
    return measure


def time_free_search(rng, repeat, counter) -> tuple[Measure, int]:
    measure, free = Measure(), 0
    db.session.remove()
    resources = list(db.session.scalars(
        select(Resource).options(selectinload(Resource.site)).order_by(Resource.id)))
    before = reset_peak_rss()
    for _ in range(repeat):
        day = future_day(rng)
        start, end = wall(day, 10).astimezone(UTC), wall(day, 12).astimezone(UTC)
        with measured(measure, counter):
            found = find_free_resources(resources, start, end, now=NOW)
        free += len(found)
    measure.rss_growth = peak_rss() - before
    return measure, free // max(repeat, 1)


def rss_kib(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss() -> int:
    """The resident set now, after resetting the peak (Linux: "5" to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass  # the peak then includes what came before: an upper bound
    return rss_kib("VmRSS")


def peak_rss() -> int:
    return rss_kib("VmHWM")


def load_average() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def run_size(seed, reference, repeat, counter, made) -> tuple[dict[str, Measure], int]:
    """Each operation `repeat` times, after a few discarded warm-up runs (caches). Every
    size draws the same resources, weeks and slots (the same random sequence)."""
    warm = random.Random(seed + 1)
    time_create(warm, reference, reference["plain_org"], WARM_UP, counter, made)
    time_create(warm, reference, reference["quota_org"], WARM_UP, counter, made)
    time_availability(warm, reference, WARM_UP, counter)
    time_free_search(warm, WARM_UP, counter)
    rngs = [random.Random(seed + n) for n in range(2, 6)]
    results = {
        "create": time_create(rngs[0], reference, reference["plain_org"], repeat, counter,
                              made),
        "create+quota": time_create(rngs[1], reference, reference["quota_org"], repeat,
                                    counter, made),
        "availability": time_availability(rngs[2], reference, repeat, counter),
    }
    results["free search"], free = time_free_search(rngs[3], repeat, counter)
    return results, free


# --- query plans --------------------------------------------------------------------------

def capture(counter: StatementCounter, action) -> list[tuple[str, object]]:
    counter.kept = []
    try:
        action()
    finally:
        kept, counter.kept = counter.kept, None
    return kept


def explain(backend: str, statement: str, parameters) -> list[str]:
    with db.engine.connect() as conn:
        if backend == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return [f"{'  ' * (parent > 0)}{detail}" for _id, parent, _n, detail in rows]
        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        lines = [row[0] for row in rows]
        conn.rollback()
        return lines


def print_plans(backend: str, rng, reference, counter) -> None:
    """The plans of the engine's reading queries at this size, as the engine sends them."""
    user_id = dict(reference["orgs"])[reference["quota_org"]]
    resource_ids = [r[0] for r in reference["resources"]]
    request = free_request(rng, resource_ids, reference["quota_org"], user_id)
    db.session.remove()
    user = db.session.get(User, user_id)
    seen = capture(counter, lambda: check(user, request, now=NOW))
    db.session.remove()
    resources = list(db.session.scalars(select(Resource).options(selectinload(Resource.site))))
    day = future_day(rng)
    seen += capture(counter, lambda: find_free_resources(
        resources, wall(day, 10).astimezone(UTC), wall(day, 12).astimezone(UTC), now=NOW))
    shown = set()
    for statement, parameters in seen:
        flat = " ".join(statement.split())
        if not flat.upper().startswith("SELECT") or not any(
                f"FROM {table}" in flat for table in ("booking", "closure", "external_busy")):
            continue
        key = flat[:200] + str(len(parameters or ()))
        if key in shown:
            continue
        shown.add(key)
        short = flat if len(flat) < 400 else flat[:300] + " … " + flat[-150:]
        print(f"\n  query: {short}")
        for line in explain(backend, statement, parameters):
            print(f"    {line if len(line) < 240 else line[:200] + ' … ' + line[-30:]}")


# --- reporting ----------------------------------------------------------------------------

def revision() -> str:
    """The commit benchmarked, and whether the engine's files differ from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", *ENGINE_FILES], cwd=root,
                               capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return "revision: unknown (no git)"
    changed = sorted(set(dirty) - {"M", "A", "D", "??", "R"})
    return f"revision: {head}" + (f", uncommitted changes in {' '.join(changed)}"
                                  if changed else "")


def machine(pg_version: str | None) -> str:
    import sqlite3

    uname = platform.uname()
    return "\n".join([
        revision(),
        f"machine: {os.cpu_count()} cores, {platform.processor() or uname.machine}, "
        f"{uname.system} {uname.release}",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {pg_version or 'not used'}",
    ])


def print_table(backend: str, by_size: dict[int, dict[str, Measure]], free: dict[int, int]
                ) -> list[str]:
    sizes = sorted(by_size)
    print(f"\n== {backend}: wall-clock median / p90 in ms (SQL statements per operation); "
          f"ratio of the medians, largest/smallest size; the same ratio of this process's CPU")
    head = f"{'operation':<14}" + "".join(f"{f'{s:,} bookings':>26}" for s in sizes)
    print(head + f"{'ratio':>10}{'cpu ratio':>11}")
    flagged = []
    for op in OPERATIONS:
        cells = []
        for size in sizes:
            m = by_size[size][op]
            queries = statistics.median(m.statements)
            cells.append(f"{m.median_ms:8.2f} /{m.p90_ms:8.2f} ({queries:.0f} q)")
        first, last = by_size[sizes[0]][op], by_size[sizes[-1]][op]
        ratio = last.median_ms / first.median_ms
        flag = "  <-- >= 1.5" if ratio >= 1.5 else ""
        if flag:
            flagged.append(f"{backend} {op}: x{ratio:.2f}")
        cpu_ratio = last.cpu_ms / max(first.cpu_ms, 1e-6)
        print(f"{op:<14}" + "".join(f"{c:>26}" for c in cells)
              + f"{ratio:>9.2f}x{cpu_ratio:>10.2f}x{flag}")
    print("free resources found per 2-hour slot (mean): "
          + ", ".join(f"{free[s]} at {s:,}" for s in sizes))
    print("free search peak RSS growth: " + ", ".join(
        f"{by_size[s]['free search'].rss_growth / 1024:.1f} MB at {s:,}" for s in sizes)
          + f"; {load_average()} (1, 5, 15 min) at the end")
    return flagged


# --- main ---------------------------------------------------------------------------------

def bench_backend(backend: Backend, sizes: list[int], repeat: int, seed: int, plans: bool,
                  workdir: Path) -> list[str]:
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": backend.url,
                      "TESTING": True}, instance_path=workdir / "instance")
    print(f"\n#### {backend.name}: {make_url(backend.url).render_as_string()}")
    with app.app_context():
        try:
            db.create_all()
            rng = random.Random(seed)
            reference = seed_reference_data(rng)
            counter = StatementCounter(db.engine)
            plan = Plan(sizes, seed, reference)
            made: dict[int, list] = defaultdict(list)
            by_size, free = {}, {}
            for phase, size in enumerate(sizes):
                started = time.perf_counter()
                inserted = insert_phase(plan, phase, made)
                seeded = time.perf_counter() - started
                analyze()
                analyzed = time.perf_counter() - started - seeded
                db.session.remove()
                total = db.session.scalar(select(db.func.count()).select_from(Booking))
                print(f"seeded {inserted:,} bookings in {seeded:.1f} s "
                      f"({inserted / max(seeded, 1e-9):,.0f}/s), ANALYZE {analyzed:.1f} s; "
                      f"{total:,} in the database", flush=True)
                by_size[size], free[size] = run_size(seed, reference, repeat, counter, made)
                for op in OPERATIONS:
                    m = by_size[size][op]
                    print(f"  {op:<13} median {m.median_ms:8.2f} ms  p90 {m.p90_ms:8.2f} ms  "
                          f"cpu {m.cpu_ms:8.2f} ms  "
                          f"{statistics.median(m.statements):.0f} statements", flush=True)
                print(f"  free search: peak RSS growth "
                      f"{by_size[size]['free search'].rss_growth / 1024:.1f} MB over "
                      f"{repeat} searches among {RESOURCES:,} resources")
                print(f"  {load_average()} (1, 5, 15 min) after timing", flush=True)
            flagged = print_table(backend.name, by_size, free)
            if plans:
                print(f"\n== {backend.name}: plans of the engine's queries at "
                      f"{sizes[-1]:,} bookings")
                print_plans(backend.name, rng, reference, counter)
            return flagged
        finally:
            db.session.remove()
            db.engine.dispose()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"],
                        help="default: both when PostgreSQL answers, else sqlite")
    parser.add_argument("--sizes", default="10000,1000000",
                        help="booking counts, ascending, multiples of 1,000 (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=30, help="runs per timed operation")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg-server",
                        default=os.environ.get("SHARING_BENCH_PG", DEFAULT_PG_SERVER),
                        help="PostgreSQL server URL; a throwaway database is made there")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--no-plans", action="store_true", help="skip the query plans")
    args = parser.parse_args()
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    if args.sizes != sorted(args.sizes) or any(s % RESOURCES or s <= 0 for s in args.sizes):
        parser.error("--sizes: ascending multiples of 1000")
    return args


def main() -> int:
    args = parse_args()
    pg_version = postgresql_answers(args.pg_server)
    backends = [args.db] if args.db in ("sqlite", "postgresql") else (
        ["sqlite", "postgresql"] if args.db == "both" or pg_version else ["sqlite"])
    if "postgresql" in backends and not pg_version:
        print(f"no PostgreSQL at {make_url(args.pg_server).render_as_string()}")
        return 2
    print(machine(pg_version if "postgresql" in backends else None))
    print(f"{RESOURCES:,} resources, {ORGANISATIONS} organisations, bookings over {DAYS} days; "
          f"sizes {', '.join(f'{s:,}' for s in args.sizes)}; {args.repeat} runs per operation")
    print(PEER_FIGURES)
    print(f"{load_average()} (1, 5, 15 min) at the start", flush=True)
    flagged = []
    for name in backends:
        workdir = Path(tempfile.mkdtemp(prefix="sharing-bench-"))
        backend = sqlite_backend(workdir) if name == "sqlite" else postgresql_backend(
            args.pg_server, args.keep)
        try:
            flagged += bench_backend(backend, args.sizes, args.repeat, args.seed,
                                     not args.no_plans, workdir)
        finally:
            backend.cleanup()
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
    print("\nratios >= 1.5: " + ("; ".join(flagged) if flagged else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
