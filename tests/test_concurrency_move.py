"""Races between real processes moving bookings onto one free slot of a one-unit resource:
by a new time on the same resource, then by a swap to another resource. Exactly one move
goes through each time, on SQLite and on PostgreSQL, and nothing else changes."""

from datetime import UTC, datetime, timedelta

import pytest
from conftest import make_app, racing_context

from sharing.core.extensions import db
from sharing.engine import BookingChanges, BookingRefused, move
from sharing.models import Booking, Membership, Organisation, Resource, Site, User

PROCESSES = 8
START = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

pytestmark = pytest.mark.slow


def run_rounds(database_url, instance_path, user_id, rounds, barrier, results):
    """One racing process: for each round, wait for all, then try its move."""
    app = make_app(database_url, instance_path)
    with app.app_context():
        for number, (booking_id, changes) in enumerate(rounds):
            barrier.wait(timeout=120)
            user = db.session.get(User, user_id)
            try:
                move(user, booking_id, changes)
                outcome = "moved"
            except BookingRefused as refused:
                outcome = "refused:" + ",".join(sorted({c.code for c in refused.conflicts}))
            except Exception as error:  # what the test must never see
                outcome = f"error:{type(error).__name__}:{error}"
                db.session.rollback()
            results.put((number, outcome))


def booking(resource, organisation, user, start) -> Booking:
    return Booking(resource=resource, organisation=organisation, user=user, starts_at=start,
                   ends_at=start + HOUR, blocks_until=start + HOUR, status="confirmed")


def seed():
    """A room holding one booking per racer on as many days; one room each besides, each
    holding its racer's booking at the swap time; and the room all swaps aim for."""
    site = Site(name="Voiron")
    owner, booker = Organisation(slug="owner", name="Owner"), Organisation(slug="b", name="B")
    user = User(email="racer@example.org", display_name="Racer")
    user.memberships.append(Membership(organisation=booker, role="member"))
    rooms = [Resource(kind="room", name=f"R{n}", slug=f"r{n}", owner=owner, site=site)
             for n in range(PROCESSES + 2)]
    shared, target, own = rooms[0], rooms[1], rooms[2:]
    swap_at = START + timedelta(days=PROCESSES + 1)
    on_shared = [booking(shared, booker, user, START + timedelta(days=n + 1))
                 for n in range(PROCESSES)]
    on_own = [booking(room, booker, user, swap_at) for room in own]
    db.session.add_all([site, owner, booker, user, *rooms, *on_shared, *on_own])
    db.session.commit()
    rounds = [[(on_shared[n].id, BookingChanges(start=START, end=START + HOUR)),
               (on_own[n].id, BookingChanges(resource_id=target.id))] for n in range(PROCESSES)]
    return user.id, shared.id, target.id, rounds


def race(database_url, instance_path):
    app = make_app(database_url, instance_path)
    with app.app_context():
        db.create_all()
        user_id, shared, target, rounds = seed()
        context = racing_context()
        barrier, results = context.Barrier(PROCESSES), context.Queue()
        processes = [context.Process(target=run_rounds, args=(
            database_url, instance_path, user_id, rounds[n], barrier, results))
            for n in range(PROCESSES)]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=300) for _ in range(PROCESSES * 2)]
        for process in processes:
            process.join(timeout=60)
        db.session.rollback()  # end the read snapshot taken before the race
        at_start = db.session.query(Booking).filter_by(resource_id=shared,
                                                       starts_at=START).count()
        on_target = db.session.query(Booking).filter_by(resource_id=target).count()
        sequences = sorted(b.sequence for b in db.session.query(Booking))
        db.engine.dispose()
    by_round = [[o for n, o in outcomes if n == number] for number in range(2)]
    return by_round, (at_start, on_target), sequences


def check_race(database_url, instance_path):
    (by_time, by_swap), stored, sequences = race(database_url, instance_path)
    for outcomes in (by_time, by_swap):
        assert outcomes.count("moved") == 1, outcomes
        assert outcomes.count("refused:capacity") == PROCESSES - 1, outcomes
    assert stored == (1, 1)
    assert sequences == [0] * (2 * PROCESSES - 2) + [1, 1]  # only the two moved changed


def test_moves_racing_on_sqlite(tmp_path):
    check_race(f"sqlite:///{tmp_path / 'race.sqlite3'}", tmp_path / "instance")


@pytest.mark.postgresql
def test_moves_racing_on_postgresql(postgres, tmp_path):
    check_race(postgres.create(), tmp_path / "instance")
