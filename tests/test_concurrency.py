"""Races between real processes: the database, not Python, keeps capacity and quotas.

Each backend gets 20 separate processes, each with its own application and connection,
released together by a barrier into several rounds of bookings of the same slot.
"""

from datetime import UTC, datetime, timedelta

import pytest
from conftest import make_app, racing_context

from sharing.core.extensions import db
from sharing.engine import BookingRefused, BookingRequest, book
from sharing.models import Booking, Membership, Organisation, Quota, Resource, Site, User

PROCESSES = 20
START = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.slow


def run_rounds(database_url, instance_path, user_id, rounds, barrier, results):
    """One racing process: for each round, wait for all, then try to book."""
    app = make_app(database_url, instance_path)
    with app.app_context():
        for number, fields in enumerate(rounds):
            barrier.wait(timeout=120)
            user = db.session.get(User, user_id)
            try:
                book(user, BookingRequest(**fields))
                outcome = "booked"
            except BookingRefused as refused:
                outcome = "refused:" + ",".join(sorted({c.code for c in refused.conflicts}))
            except Exception as error:  # what the test must never see
                outcome = f"error:{type(error).__name__}:{error}"
                db.session.rollback()
            results.put((number, outcome))


def seed(resources_quantities):
    """Rooms of the given quantities, then one van per racer; 2 hours of vans a week."""
    site = Site(name="Voiron")
    owner, booker = Organisation(slug="owner", name="Owner"), Organisation(slug="b", name="B")
    user = User(email="racer@example.org", display_name="Racer")
    user.memberships.append(Membership(organisation=booker, role="member"))
    resources = [Resource(kind="room", name=f"R{n}", slug=f"r{n}", owner=owner, site=site,
                          quantity=quantity) for n, quantity in enumerate(resources_quantities)]
    resources += [Resource(kind="equipment", name=f"Van {n}", slug=f"van{n}", owner=owner,
                           site=site) for n in range(PROCESSES)]
    db.session.add_all([site, owner, booker, user, *resources])
    db.session.flush()
    db.session.add(Quota(organisation_id=booker.id, resource_kind="equipment",
                         max_hours_per_week=2))
    db.session.commit()
    return user.id, booker.id, [r.id for r in resources]


def race(database_url, instance_path):
    """Three rounds: a single unit, three units, and an organisation's 2-hour quota spread
    over many resources. Returns each round's outcomes and the rows stored."""
    app = make_app(database_url, instance_path)
    with app.app_context():
        db.create_all()
        user_id, org_id, (single, triple, *many) = seed([1, 3])
        one_hour = {"organisation_id": org_id, "start": START, "end": START + timedelta(hours=1)}
        quota_start = START + timedelta(days=1)
        rounds_of = [
            lambda n: {**one_hour, "resource_id": single},
            lambda n: {**one_hour, "resource_id": triple},
            lambda n: {"organisation_id": org_id, "resource_id": many[n], "start": quota_start,
                       "end": quota_start + timedelta(hours=1)},
        ]
        context = racing_context()
        barrier, results = context.Barrier(PROCESSES), context.Queue()
        processes = [context.Process(target=run_rounds, args=(
            database_url, instance_path, user_id, [r(n) for r in rounds_of], barrier, results))
            for n in range(PROCESSES)]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=300) for _ in range(PROCESSES * len(rounds_of))]
        for process in processes:
            process.join(timeout=60)
        db.session.rollback()  # end the read snapshot taken before the race
        stored = {rid: db.session.query(Booking).filter_by(resource_id=rid).count()
                  for rid in (single, triple)}
        stored["quota"] = db.session.query(Booking).filter(Booking.resource_id.in_(many)).count()
        db.engine.dispose()
    by_round = [[o for n, o in outcomes if n == number] for number in range(len(rounds_of))]
    return by_round, stored


def assert_exactly(outcomes, winners, code):
    assert len(outcomes) == PROCESSES
    assert outcomes.count("booked") == winners, outcomes
    assert outcomes.count(f"refused:{code}") == PROCESSES - winners, outcomes


def check_race(database_url, instance_path):
    (single, triple, quota), stored = race(database_url, instance_path)
    assert_exactly(single, 1, "capacity")
    assert_exactly(triple, 3, "capacity")
    assert_exactly(quota, 2, "quota")
    assert list(stored.values()) == [1, 3, 2]


def test_processes_racing_on_sqlite(tmp_path):
    check_race(f"sqlite:///{tmp_path / 'race.sqlite3'}", tmp_path / "instance")


@pytest.mark.postgresql
def test_processes_racing_on_postgresql(postgres, tmp_path):
    check_race(postgres.create(), tmp_path / "instance")
