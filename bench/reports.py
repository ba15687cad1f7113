"""Benchmark of the impact report: a year's report over 100,000 bookings on 500 resources,
against the floor of a single `SELECT sum(...)` over the same rows (issue 9: goal <= 3).

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python bench/reports.py                 # SQLite, then PostgreSQL if it answers
    .venv/bin/python bench/reports.py --db sqlite --bookings 20000 --repeat 3

It seeds 500 resources of the four kinds on two sites (40% with opening hours, a few
closures), 10 organisations, then bookings over 2027 (30 min to 4 h, 90% confirmed, 5%
cancelled, 5% pending) and a charge in credits for one booking in ten, and counts the
bookings' months as the migration would (bulk inserts skip the ORM's flush). On PostgreSQL
it then runs ANALYZE, as autovacuum would. It times `impact_report` for
2027-01-01..2027-12-31 as the coordinator, and `SELECT sum(ends_at - starts_at)` over the
confirmed bookings of 2027, taking turns (a load on the machine then weighs on both alike),
and prints the median of `--repeat` runs of each (after two warm-ups) and their ratio.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from sharing import create_app  # noqa: E402
from sharing.core.extensions import db  # noqa: E402
from sharing.models import (  # noqa: E402
    RESOURCE_KINDS,
    Booking,
    Closure,
    CreditEntry,
    Organisation,
    Resource,
    Site,
    User,
    recount_booked_months,
)
from sharing.services.reports import impact_report, read_query, summed_seconds  # noqa: E402

DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
YEAR = {"start": "2027-01-01", "end": "2027-12-31"}
FIRST = datetime(2026, 12, 20, 7, 0, tzinfo=UTC)
SPAN_MINUTES = 380 * 24 * 60
ORGANISATIONS = 10
BATCH = 10_000
OPENING = {day: [["08:00", "12:00"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed",
                                                                      "thu", "fri")}


def seed(resources: int, bookings: int, rng: random.Random) -> User:
    sites = [Site(name=f"Site {n}") for n in range(2)]
    orgs = [Organisation(slug=f"org-{n}", name=f"Organisation {n}") for n in range(ORGANISATIONS)]
    admin = User(email="bench@example.org", display_name="Bench", is_admin=True)
    db.session.add_all([*sites, *orgs, admin])
    db.session.flush()
    rows = [Resource(kind=RESOURCE_KINDS[n % 4], name=f"R{n}", slug=f"r{n}", site=sites[n % 2],
                     owner=orgs[n % ORGANISATIONS], quantity=1 + (n % 7 == 0),
                     opening_hours=OPENING if n % 5 < 2 else {}, longest_booking_minutes=240)
            for n in range(resources)]
    db.session.add_all(rows)
    db.session.flush()
    db.session.add_all([Closure(resource_id=r.id, starts_at=FIRST + timedelta(days=100),
                                ends_at=FIRST + timedelta(days=107)) for r in rows[::25]])
    for start in range(0, bookings, BATCH):
        db.session.execute(insert(Booking), [booking_row(rows, orgs, admin, rng)
                                             for _ in range(min(BATCH, bookings - start))])
    booked = list(db.session.execute(select(Booking.id, Booking.organisation_id,
                                            Booking.resource_id, Booking.starts_at)
                                     .where(Booking.status == "confirmed")))
    owners = {r.id: r.owner_organisation_id for r in rows}
    entries = [entry for b in booked[::10] if owners[b.resource_id] != b.organisation_id
               for entry in charge(b, owners[b.resource_id])]
    if entries:
        db.session.execute(insert(CreditEntry), entries)
    # bulk inserts skip the flush that counts each booking's months: count them as the
    # migration does for the bookings made before it
    recount_booked_months(db.session.connection())
    db.session.commit()
    return admin


def booking_row(resources, orgs, user, rng: random.Random) -> dict:
    start = FIRST + timedelta(minutes=15 * rng.randrange(SPAN_MINUTES // 15))
    end = start + timedelta(minutes=30 * rng.randint(1, 8))
    roll = rng.random()
    status = "confirmed" if roll < 0.9 else "cancelled" if roll < 0.95 else "pending"
    return {"uid": uuid.uuid4().hex, "resource_id": rng.choice(resources).id,
            "organisation_id": rng.choice(orgs).id, "user_id": user.id, "starts_at": start,
            "ends_at": end, "blocks_until": end, "quantity": 1, "title": "", "note": "",
            "status": status, "sequence": 0, "created_at": FIRST, "updated_at": FIRST,
            "decided_at": start - timedelta(minutes=rng.randint(0, 3000))
            if status == "cancelled" else None, "decision_reason": ""}


def charge(booking, owner_id: int) -> list[dict]:
    entry = {"reason": "charge", "booking_id": booking.id, "memo": "", "at": booking.starts_at,
             "booking_organisation_id": booking.organisation_id}
    return [{**entry, "organisation_id": booking.organisation_id, "amount_cents": -300},
            {**entry, "organisation_id": owner_id, "amount_cents": 300}]


def median_seconds(run, repeat: int) -> float:
    run()  # warm-up: caches, plans
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def medians_taking_turns(runs: dict, repeat: int, warm_up: int = 2) -> dict[str, float]:
    """Each run's median time. The runs take turns, so that a load on a shared machine
    weighs on all of them alike and the ratios stay fair."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for turn in range(warm_up + repeat):
        for name, run in runs.items():
            began = time.perf_counter()
            run()
            if turn >= warm_up:
                times[name].append(time.perf_counter() - began)
    return {name: statistics.median(values) for name, values in times.items()}


def floor_query():
    """The same rows as the report's hours, summed once: the least any report can cost."""
    start, end = datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    return select(summed_seconds(Booking.starts_at, Booking.ends_at)).where(
        Booking.status == "confirmed", Booking.starts_at >= start, Booking.starts_at < end)


def machine_load() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3]) \
        if Path("/proc/loadavg").exists() else "load average unknown"


def measure(url: str, label: str, args) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        db.create_all()
        began = time.perf_counter()
        admin = seed(args.resources, args.bookings, random.Random(args.seed))
        if db.engine.dialect.name == "postgresql":
            # what autovacuum does to a live table: a fresh one has no statistics, and its
            # plans (sorting instead of hashing groups) would be nobody's in production
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"[{label}] seeded {args.bookings:,} bookings on {args.resources} resources "
              f"in {time.perf_counter() - began:.1f} s")
        query = read_query(YEAR)
        medians = medians_taking_turns({
            "report": lambda: impact_report(admin, query),
            "sum": lambda: db.session.scalar(floor_query())}, args.repeat)
        report_time, sum_time = medians["report"], medians["sum"]
        hours = impact_report(admin, query)["totals"]["hours"]
        print(f"[{label}] year's impact report: {report_time * 1000:.1f} ms "
              f"(median of {args.repeat}; {hours:,.0f} hours booked)")
        print(f"[{label}] single SELECT sum(...):  {sum_time * 1000:.1f} ms")
        print(f"[{label}] ratio report / sum: {report_time / sum_time:.2f} (goal <= 3); "
              f"{machine_load()} on {os.cpu_count()} cores")
        db.session.remove()
        db.engine.dispose()


def on_each_database(args: argparse.Namespace, measure) -> None:
    """Run `measure(url, name, args)` on a throwaway SQLite file and/or PostgreSQL database."""
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            measure(f"sqlite:///{directory}/bench.sqlite3", "sqlite", args)
    if args.db in ("postgresql", "both"):
        url, drop = postgres_database(args.pg_server)
        try:
            measure(url, "postgresql", args)
        finally:
            drop()


def postgres_database(server: str) -> tuple[str, callable]:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"sharing_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--resources", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--pg-server", default=os.environ.get("SHARING_BENCH_PG",
                                                              DEFAULT_PG_SERVER))
    on_each_database(parser.parse_args(), measure)


if __name__ == "__main__":
    main()
