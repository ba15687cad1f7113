"""Benchmark of a resource's feed holding 5,000 bookings in its window.

Run by hand (not collected by pytest), from the repository root:

    .venv/bin/python bench/feeds.py                 # SQLite in a temporary folder
    .venv/bin/python bench/feeds.py --events 5000 --repeat 15 \
        --db postgresql+psycopg://postgres@127.0.0.1:5432/postgres

It seeds one room with `--events` bookings spread over the feed's window (half of them
another organisation's, shown as busy), then times, MEDIAN over `--repeat` runs, through
the application's own HTTP handling (Flask's test client, no network), the three taking
turns so that other work on the machine weighs on each alike:

- 200: the feed served in full (no validator sent);
- 304: the same feed asked with the ETag of the last answer;
- floor: `icalendar` alone building and serialising the same events from plain values
  already in memory (no database, no HTTP): what any feed built with it costs at least;

and prints the ratios feed/floor (goal ≤ 1.3) and 304/200 (goal ≤ 0.05).
"""

import argparse
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from icalendar import Calendar, Event  # noqa: E402
from reports import medians_taking_turns  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from sharing import create_app  # noqa: E402
from sharing.core.extensions import db  # noqa: E402
from sharing.models import Booking, Membership, Organisation, Resource, Site, User  # noqa: E402
from sharing.services.feeds import resource_feed_url  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--db", default="", help="a PostgreSQL server URL; SQLite if empty")
    return parser.parse_args()


def database_url(server: str, folder: Path) -> tuple[str, str | None]:
    """A throwaway database: a file, or a database made on the server (dropped after)."""
    if not server:
        return f"sqlite:///{folder / 'bench.sqlite3'}", None
    name = f"sharing_bench_{uuid.uuid4().hex[:8]}"
    with create_engine(server, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(server).set(database=name).render_as_string(hide_password=False), name


def drop_database(server: str, name: str | None) -> None:
    if name:
        with create_engine(server, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def seed(events: int) -> tuple[User, Resource]:
    site = Site(name="Voiron", address="12 rue de la République, 38500 Voiron")
    owner, other = Organisation(slug="owner", name="Ressourcerie"), \
        Organisation(slug="other", name="Pâtisserie")
    reader = User(email="reader@example.org", display_name="Marc Perrin")
    booker = User(email="booker@example.org", display_name="Léa Martin")
    reader.memberships.append(Membership(organisation=owner, role="member"))
    booker.memberships.append(Membership(organisation=other, role="member"))
    room = Resource(kind="room", name="Salle des Tilleuls", slug="salle", owner=owner, site=site)
    db.session.add_all([site, owner, other, reader, booker, room])
    db.session.commit()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=29)
    step = timedelta(days=390) / events
    rows = [{"uid": f"{uuid.uuid4()}@sharing", "resource_id": room.id,
             "organisation_id": (owner if i % 2 else other).id,
             "user_id": (reader if i % 2 else booker).id,
             "starts_at": start + i * step, "ends_at": start + i * step + timedelta(minutes=45),
             "blocks_until": start + i * step + timedelta(minutes=45),
             "title": f"Réunion n°{i}, ordre du jour ; budget", "note": "Apporter les devis.",
             "status": "cancelled" if i % 20 == 0 else "confirmed", "sequence": i % 3,
             "created_at": start, "updated_at": start} for i in range(events)]
    db.session.execute(insert(Booking), rows)
    db.session.commit()
    return reader, room


def plain_events(body: bytes) -> list[dict]:
    """The served events' values, read back once: the floor builds the same events."""
    return [{name: event.decoded(name) for name in event}
            for event in Calendar.from_ical(body).walk("VEVENT")]


def floor(events: list[dict]) -> bytes:
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", "-//bench//EN")
    for values in events:
        event = Event()
        for name, value in values.items():
            event.add(name, value)
        calendar.add_component(event)
    return calendar.to_ical()


def main() -> None:
    args = arguments()
    with tempfile.TemporaryDirectory() as folder:
        url, made = database_url(args.db, Path(folder))
        try:
            bench(args, url, Path(folder))
        finally:
            drop_database(args.db, made)


def bench(args: argparse.Namespace, url: str, folder: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "BASE_URL": "https://pole.example.org"})
    with app.app_context():
        db.create_all()
        reader, room = seed(args.events)
        path = resource_feed_url(reader, room).removeprefix("https://pole.example.org")
    # Each request then has its own application context and session, as in production.
    client = app.test_client()
    first = client.get(path)
    assert first.status_code == 200, first.status_code
    etag = first.headers["ETag"]
    events = plain_events(first.data)
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    medians = medians_taking_turns({
        "full": lambda: client.get(path),
        "conditional": lambda: client.get(path, headers={"If-None-Match": etag}),
        "alone": lambda: floor(events)}, args.repeat)
    full, conditional, alone = medians["full"], medians["conditional"], medians["alone"]
    with app.app_context():
        db.engine.dispose()
    print(f"database: {make_url(url).get_backend_name()}, events in the feed: {len(events)}, "
          f"body: {len(first.data):,} bytes, median of {args.repeat}")
    print(f"200 (feed served):        {full * 1000:8.1f} ms")
    print(f"304 (If-None-Match):      {conditional * 1000:8.1f} ms")
    print(f"floor (icalendar alone):  {alone * 1000:8.1f} ms")
    print(f"feed/floor: {full / alone:.2f} (goal ≤ 1.3)")
    print(f"304/200:    {conditional / full:.3f} (goal ≤ 0.05)")


if __name__ == "__main__":
    main()
