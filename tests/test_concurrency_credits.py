"""Races between real processes for credits: twenty bookings of one organisation, each on
its own resource, released together; the floor lets exactly five through."""

from datetime import timedelta

import pytest
from conftest import make_app, racing_context
from sqlalchemy import func, select
from test_concurrency import PROCESSES, START, run_rounds

from sharing.core.extensions import db
from sharing.models import Booking, CreditEntry, Membership, Organisation, Resource, Site, User

AFFORDABLE = 5

pytestmark = pytest.mark.slow


def seed() -> tuple[int, int, list[int]]:
    """Vans at 1 credit a booking; the booker has nothing and may go down to -5."""
    site = Site(name="Voiron")
    owner = Organisation(slug="owner", name="Owner")
    booker = Organisation(slug="b", name="B", credit_floor_cents=-100 * AFFORDABLE)
    user = User(email="racer@example.org", display_name="Racer")
    user.memberships.append(Membership(organisation=booker, role="member"))
    vans = [Resource(kind="equipment", name=f"Van {n}", slug=f"van{n}", owner=owner, site=site,
                     price_cents=100, price_unit="booking") for n in range(PROCESSES)]
    db.session.add_all([site, owner, booker, user, *vans])
    db.session.commit()
    return user.id, booker.id, [van.id for van in vans]


def race(database_url, instance_path):
    app = make_app(database_url, instance_path)
    with app.app_context():
        db.create_all()
        user_id, org_id, vans = seed()
        context = racing_context()
        barrier, results = context.Barrier(PROCESSES), context.Queue()
        processes = [context.Process(target=run_rounds, args=(
            database_url, instance_path, user_id,
            [{"organisation_id": org_id, "resource_id": vans[n], "start": START,
              "end": START + timedelta(hours=1)}], barrier, results))
            for n in range(PROCESSES)]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=300)[1] for _ in range(PROCESSES)]
        for process in processes:
            process.join(timeout=60)
        db.session.rollback()  # end the read snapshot taken before the race
        booked = db.session.scalar(select(func.count()).select_from(Booking))
        balance = db.session.scalar(select(func.sum(CreditEntry.amount_cents))
                                    .where(CreditEntry.organisation_id == org_id))
        db.engine.dispose()
    return outcomes, booked, balance


def check_race(database_url, instance_path):
    outcomes, booked, balance = race(database_url, instance_path)
    assert outcomes.count("booked") == AFFORDABLE, outcomes
    assert outcomes.count("refused:credit") == PROCESSES - AFFORDABLE, outcomes
    assert booked == AFFORDABLE and balance == -100 * AFFORDABLE


def test_processes_racing_past_the_floor_on_sqlite(tmp_path):
    check_race(f"sqlite:///{tmp_path / 'race.sqlite3'}", tmp_path / "instance")


@pytest.mark.postgresql
def test_processes_racing_past_the_floor_on_postgresql(postgres, tmp_path):
    check_race(postgres.create(), tmp_path / "instance")
