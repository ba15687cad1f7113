"""Benchmark of the planning page at scale (issues 8 and 10): one site with exactly 1,000
resources and 3,000 bookings in the week shown, week view and day view.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python bench/planning.py                  # SQLite, then PostgreSQL if it answers
    .venv/bin/python bench/planning.py --db sqlite --no-browser

It seeds, in a throwaway database, 1,000 resources of the four kinds on one site
(Europe/Paris; 40% with opening hours Mon-Fri 08:00-12:00 and 13:30-18:00, 7% with 2
units, one in 25 closed on the Wednesday), 10 organisations, and 3,000 bookings in the week
of Monday 8 March 2027 (30 min to 3 h between 08:00 and 18:00, no two on one resource at
once; 10% pending). It reads the planning as a member of one organisation (who sees the
titles of 1 booking in 10 and "Booked" for the others): every resource is shown, no
filter, no paging. For the week view and for the day view (Tuesday) it prints the server
time (test client, median of --repeat after one warm-up: wall clock, and the process's CPU
time, which a loaded machine inflates less), the SQL statements sent, the
HTML bytes, and the time until Debian's Chromium has rendered the page from a real server
on loopback (navigation start to the load event, and to the first contentful paint;
median of 3), with the machine's load average (os.getloadavg) before and after.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from zoneinfo import ZoneInfo  # noqa: E402

from reports import DEFAULT_PG_SERVER, median_seconds, on_each_database  # noqa: E402
from sqlalchemy import event, insert, select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from sharing import create_app  # noqa: E402
from sharing.core.extensions import db  # noqa: E402
from sharing.models import (  # noqa: E402
    RESOURCE_KINDS,
    Booking,
    Closure,
    Membership,
    Organisation,
    Resource,
    Site,
    User,
)

RESOURCES = 1_000
BOOKINGS = 3_000
MONDAY = date(2027, 3, 8)
PARIS = ZoneInfo("Europe/Paris")
ORGANISATIONS = 10
PASSWORD = "bench-planning"
OPENING = {day: [["08:00", "12:00"], ["13:30", "18:00"]]
           for day in ("mon", "tue", "wed", "thu", "fri")}
VIEWS = {"week": f"/bookings/planning?date={MONDAY.isoformat()}",
         "day": f"/bookings/planning?view=day&date={(MONDAY + timedelta(days=1)).isoformat()}"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def seed(rng: random.Random) -> User:
    site = Site(name="Tiers-lieu", timezone="Europe/Paris")
    orgs = [Organisation(slug=f"org-{n}", name=f"Organisation {n}") for n in range(ORGANISATIONS)]
    viewer = User(email="bench@example.org", display_name="Bench", locale="fr")
    viewer.set_password(PASSWORD)
    viewer.memberships.append(Membership(organisation=orgs[0], role="member"))
    db.session.add_all([site, *orgs, viewer])
    db.session.flush()
    db.session.execute(insert(Resource), [resource_row(n, site, orgs) for n in range(RESOURCES)])
    ids = list(db.session.scalars(select(Resource.id).order_by(Resource.id)))
    wednesday = at(MONDAY + timedelta(days=2), 0)
    db.session.execute(insert(Closure), [
        {"resource_id": rid, "starts_at": wednesday, "ends_at": wednesday + timedelta(days=1),
         "reason": "Travaux"} for rid in ids[::25]])
    db.session.execute(insert(Booking), booking_rows(ids, orgs, viewer, rng))
    db.session.commit()
    return viewer


def resource_row(n: int, site: Site, orgs: list[Organisation]) -> dict:
    kind = RESOURCE_KINDS[n % 4]
    return {"kind": kind, "name": f"Ressource partagée {n:04d}", "slug": f"{kind}-{n:04d}",
            "site_id": site.id, "owner_organisation_id": orgs[n % ORGANISATIONS].id,
            "quantity": 2 if n % 15 == 0 else 1, "opening_hours": OPENING if n % 5 < 2 else {},
            "longest_booking_minutes": 180, "description": "", "visibility": "all",
            "active": True, "slot_minutes": 30}


def at(day: date, minutes: int) -> datetime:
    wall = datetime(day.year, day.month, day.day, tzinfo=PARIS) + timedelta(minutes=minutes)
    return wall.astimezone(UTC)


def booking_rows(ids: list[int], orgs: list[Organisation], user: User, rng) -> list[dict]:
    """Exactly BOOKINGS bookings in the week: each on a free half-hour lane of a resource."""
    taken: set[tuple[int, date, int]] = set()
    rows = []
    while len(rows) < BOOKINGS:
        rid, day = rng.choice(ids), MONDAY + timedelta(days=rng.randrange(7))
        start, length = rng.randrange(16, 34), rng.randint(1, 6)  # half hours: 08:00-17:00
        lanes = {(rid, day, start + k) for k in range(length)}
        if lanes & taken or start + length > 36:
            continue
        taken |= lanes
        org = rng.choice(orgs)
        starts = at(day, 30 * start)
        ends = starts + timedelta(minutes=30 * length)
        rows.append({"uid": uuid.uuid4().hex, "resource_id": rid, "organisation_id": org.id,
                     "user_id": user.id, "starts_at": starts, "ends_at": ends,
                     "blocks_until": ends, "quantity": 1, "title": f"Atelier {len(rows)}",
                     "note": "", "status": "pending" if rng.random() < 0.1 else "confirmed",
                     "sequence": 0, "created_at": starts - timedelta(days=30),
                     "updated_at": starts - timedelta(days=30), "decision_reason": ""})
    return rows


def sign_in(client, user: User) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def statements_of(client, path: str) -> int:
    statements = []
    listener = lambda *_args: statements.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def server_figures(app, user: User, repeat: int) -> dict[str, tuple]:
    client = app.test_client()
    sign_in(client, user)
    figures = {}
    for view, path in VIEWS.items():
        page = client.get(path)
        assert page.status_code == 200, page.status_code
        cpu = median_cpu_seconds(lambda path=path: client.get(path), repeat)
        seconds = median_seconds(lambda path=path: client.get(path), repeat)
        figures[view] = (seconds, cpu, statements_of(client, path), len(page.data),
                         page.text.count(">+</a>"))
    return figures


def median_cpu_seconds(run, repeat: int) -> float:
    """The process's CPU time per run: on a loaded machine, what the wall clock adds is
    time spent waiting for a core."""
    times = []
    for _ in range(repeat):
        began = time.process_time()
        run()
        times.append(time.process_time() - began)
    return statistics.median(times)


def browser_figures(app) -> dict[str, tuple[float, float]]:
    """Median of 3 page loads in Chromium: ms to the load event, ms to first contentful paint."""
    from playwright.sync_api import sync_playwright

    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    figures = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800},
                                    base_url=f"http://127.0.0.1:{http.server_port}")
            page.goto("/login")
            page.fill("input[name=email]", "bench@example.org")
            page.fill("input[name=password]", PASSWORD)
            page.locator("form button[type=submit]").first.click()
            page.wait_for_load_state()
            for view, path in VIEWS.items():
                loads = [render_times(page, path) for _ in range(3)]
                figures[view] = tuple(median_of_known([t[i] for t in loads]) for i in (0, 1))
            browser.close()
    finally:
        http.shutdown()
    return figures


def median_of_known(values: list[float]) -> float:
    """Chromium sometimes reports no first contentful paint for a page: leave those out."""
    known = [value for value in values if value == value]  # NaN is not equal to itself
    return statistics.median(known) if known else float("nan")


def render_times(page, path: str) -> tuple[float, float]:
    page.goto(path, wait_until="load")
    return page.evaluate("""() => {
        const nav = performance.getEntriesByType("navigation")[0];
        const paint = performance.getEntriesByName("first-contentful-paint")[0];
        return [nav.loadEventEnd, paint ? paint.startTime : NaN];
    }""")


def measure(url: str, label: str, args) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "BASE_URL": "http://127.0.0.1", "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        began = time.perf_counter()
        user = seed(random.Random(args.seed))
        print(f"[{label}] seeded {RESOURCES:,} resources, {BOOKINGS:,} bookings in the week of "
              f"{MONDAY} in {time.perf_counter() - began:.1f} s; all resources shown, "
              "no filter, no paging")
        print(f"[{label}] load average before: {load()}")
        server = server_figures(app, user, args.repeat)
        browser = {} if args.no_browser else browser_figures(app)
        for view, (seconds, cpu, statements, size, pluses) in server.items():
            line = (f"[{label}] {view:4}: server {seconds * 1000:6.1f} ms wall, "
                    f"{cpu * 1000:6.1f} ms CPU (medians of {args.repeat}), {statements} SQL "
                    f"statements, HTML {size / 1e6:.2f} MB ({pluses:,} '+' links)")
            if view in browser:
                loaded, painted = browser[view]
                line += f"; Chromium: load event {loaded:.0f} ms, first paint {painted:.0f} ms"
            print(line)
        print(f"[{label}] load average after: {load()}")
        db.session.remove()
        db.engine.dispose()


def load() -> str:
    return " ".join(f"{figure:.2f}" for figure in os.getloadavg()) + f" ({os.cpu_count()} CPUs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--pg-server", default=os.environ.get("SHARING_BENCH_PG",
                                                              DEFAULT_PG_SERVER))
    on_each_database(parser.parse_args(), measure)


if __name__ == "__main__":
    main()
