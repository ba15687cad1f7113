"""Property-based: random grants, bookings, approvals, rejections, cancellations and moves
keep the ledger whole. Each balance is the sum of its entries, all balances together are
the sum of all grants, and no booking or approval took its organisation below its floor."""

from datetime import timedelta

import pytest
from engine_helpers import NOW, at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from sharing.core.database import write_transaction
from sharing.core.extensions import db
from sharing.engine import (
    BookingRefused,
    BookingRequest,
    InvalidTransition,
    NotAllowed,
    book,
    cancel,
    decide,
)
from sharing.engine.credits import (
    CreditRefused,
    balance_cents,
    charge_difference,
    floor_cents,
    lock_organisations,
    price_cents,
)
from sharing.models import Booking, CreditEntry
from sharing.services import credits

ORGS = 3
grants = st.tuples(st.just("grant"), st.integers(0, ORGS - 1), st.integers(-500, 1500))
bookings = st.tuples(st.just("book"), st.integers(0, ORGS - 1), st.integers(0, ORGS - 1),
                     st.integers(0, 20), st.integers(1, 8))
decisions = st.tuples(st.sampled_from(["approve", "reject", "cancel_early", "cancel_late"]),
                      st.integers(0, 50))
moves = st.tuples(st.just("move"), st.integers(0, 50), st.integers(-3, 6))
operations = st.lists(st.one_of(grants, bookings, bookings, decisions, moves), min_size=1,
                      max_size=25)


@pytest.fixture
def pole(create_site, create_organisation, create_user, create_resource):
    """A factory of fresh worlds: three organisations, each a member's and a priced room
    of its own (one by request), the coordinator."""
    coordinator = create_user(is_admin=True)

    def world():
        site = create_site()
        orgs = [create_organisation() for _ in range(ORGS)]
        for org, floor in zip(orgs, (0, -300, None), strict=True):
            org.credit_floor_cents = floor
        members = [create_user(organisation=org, role="manager") for org in orgs]
        rooms = [create_resource(owner=org, site=site, price_cents=100 * (n + 1),
                                 requires_approval=n == 1, free_cancellation_minutes=60)
                 for n, org in enumerate(orgs)]
        return coordinator, orgs, members, rooms

    return world


def run_grant(coordinator, orgs, op):
    _, index, amount = op
    if amount:
        credits.grant(coordinator, orgs[index], f"{amount / 100:.2f}", "Dotation")


def run_booking(orgs, members, rooms, op):
    _, who, which, slot, length = op
    start = at("2027-03-01 08:00") + timedelta(minutes=30 * slot)
    end = start + timedelta(minutes=30 * length)
    before = balance_cents(orgs[who].id)
    try:
        book(members[who], BookingRequest(rooms[which].id, orgs[who].id, start, end), now=NOW)
    except BookingRefused as refused:
        if "credit" in {c.code for c in refused.conflicts}:
            cost = price_cents(rooms[which], orgs[who].id, start, end)
            assert before - cost < floor_cents(orgs[who])
        return
    assert_above_floor_if_it_paid(orgs[who], before)


def assert_above_floor_if_it_paid(org, before: int):
    after = balance_cents(org.id)
    if after < before:
        assert after >= floor_cents(org)


def pick(rooms, op) -> Booking | None:
    """One of this world's bookings (earlier examples' stay in the database)."""
    booking_ids = list(db.session.scalars(select(Booking.id).where(
        Booking.resource_id.in_([room.id for room in rooms])).order_by(Booking.id)))
    return db.session.get(Booking, booking_ids[op[1] % len(booking_ids)]) if booking_ids \
        else None


def run_decision(members, rooms, op):
    booking = pick(rooms, op)
    if booking is None:
        return
    org, owner = booking.organisation, members[rooms.index(booking.resource)]
    before = balance_cents(org.id)
    early = booking.starts_at - timedelta(hours=2)
    late = booking.starts_at - timedelta(minutes=30)
    actions = {"approve": lambda: decide(owner, booking.id, approve=True),
               "reject": lambda: decide(owner, booking.id, approve=False, reason="Non"),
               "cancel_early": lambda: cancel(owner, booking.id, now=early),
               "cancel_late": lambda: cancel(owner, booking.id, now=late)}
    try:
        actions[op[0]]()
    except (BookingRefused, InvalidTransition, NotAllowed):
        return
    assert_above_floor_if_it_paid(org, before)


def run_move(rooms, op):
    booking = pick(rooms, op)
    if booking is None or booking.ends_at + timedelta(minutes=30 * op[2]) <= booking.starts_at:
        return
    org = booking.organisation
    before = balance_cents(org.id)
    try:
        with write_transaction():
            lock_organisations(sorted({org.id, booking.resource.owner_organisation_id}))
            booking = db.session.get(Booking, booking.id)
            booking.ends_at += timedelta(minutes=30 * op[2])
            booking.blocks_until = booking.ends_at
            charge_difference(booking)
    except CreditRefused:
        return
    assert_above_floor_if_it_paid(org, before)


def assert_ledger_whole(orgs):
    everything = list(db.session.scalars(select(CreditEntry).where(
        CreditEntry.organisation_id.in_([org.id for org in orgs]))))
    for org in orgs:
        assert balance_cents(org.id) == sum(e.amount_cents for e in everything
                                            if e.organisation_id == org.id)
    granted = sum(e.amount_cents for e in everything if e.reason == "grant")
    assert sum(balance_cents(org.id) for org in orgs) == granted
    every_grant = select(func.coalesce(func.sum(CreditEntry.amount_cents), 0))
    assert db.session.scalar(every_grant) == \
        db.session.scalar(every_grant.where(CreditEntry.reason == "grant"))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations)
def test_random_operations_keep_the_ledger_whole(pole, ops):
    coordinator, orgs, members, rooms = pole()
    for op in ops:
        if op[0] == "grant":
            run_grant(coordinator, orgs, op)
        elif op[0] == "book":
            run_booking(orgs, members, rooms, op)
        elif op[0] == "move":
            run_move(rooms, op)
        else:
            run_decision(members, rooms, op)
        assert_ledger_whole(orgs)
