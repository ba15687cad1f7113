"""Property-based: random sequences of book / cancel / approve / reject never exceed a
resource's capacity, the engine refuses for capacity exactly when a brute-force count says
so, and every alternative it offers can be booked."""

from datetime import timedelta

import pytest
from engine_helpers import NOW, at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from sharing.core.extensions import db
from sharing.engine import (
    BookingRefused,
    BookingRequest,
    InvalidTransition,
    NotAllowed,
    book,
    cancel,
    check,
    decide,
)
from sharing.models import HOLDING_STATUSES, Booking, BookingSeries, OutboxMessage

DAYS = ("2027-03-01", "2027-03-02", "2027-03-03")

booking_ops = st.tuples(st.just("book"), st.integers(0, 2), st.integers(0, 1),
                        st.integers(0, 1), st.integers(0, 12), st.integers(1, 4),
                        st.integers(1, 3))
decision_ops = st.tuples(st.sampled_from(["cancel", "approve", "reject"]), st.integers(0, 50))
operations = st.lists(st.one_of(booking_ops, booking_ops, decision_ops), min_size=1,
                      max_size=25)


@pytest.fixture
def world(scene, create_resource):
    """Three resources with different rules, and both organisations able to book."""
    site = scene.room.site
    scene.room.quantity, scene.room.buffer_minutes = 2, 15
    scene.room.requires_approval = True
    van = create_resource(kind="equipment", owner=scene.owner, site=site, quantity=1)
    chairs = create_resource(kind="equipment", owner=scene.owner, site=site, quantity=3,
                             opening_hours={d: [["08:00", "12:00"], ["13:30", "18:00"]]
                                            for d in ("mon", "tue", "wed")})
    db.session.commit()
    return scene, [scene.room, van, chairs]


def holding(resource_id: int) -> list[Booking]:
    return list(db.session.scalars(select(Booking).where(
        Booking.resource_id == resource_id, Booking.status.in_(HOLDING_STATUSES))))


def units_at(bookings: list[Booking], moment) -> int:
    return sum(b.quantity for b in bookings if b.starts_at <= moment < b.blocks_until)


def brute_force_peak(bookings: list[Booking], start, end) -> int:
    """Units held at the worst instant of [start, end): every boundary tried in turn."""
    moments = {start} | {b.starts_at for b in bookings if start <= b.starts_at < end}
    return max(units_at(bookings, moment) for moment in moments)


def fits(resource, start, end, quantity) -> bool:
    blocks_until = end + timedelta(minutes=resource.buffer_minutes)
    return brute_force_peak(holding(resource.id), start, blocks_until) + quantity <= \
        resource.quantity


def assert_capacity_kept(resources):
    for resource in resources:
        bookings = holding(resource.id)
        for booking in bookings:
            assert units_at(bookings, booking.starts_at) <= resource.quantity


def run_booking(scene, resources, op):
    _, index, org, day, slot, length, quantity = op
    resource = resources[index]
    start = at(f"{DAYS[day]} 08:00") + timedelta(minutes=15 * slot)
    end = start + timedelta(minutes=15 * length)
    user, organisation = ((scene.member, scene.booker) if org == 0
                          else (scene.manager, scene.owner))
    request = BookingRequest(resource.id, organisation.id, start, end, quantity=quantity)
    expected_to_fit = fits(resource, start, end, quantity)
    try:
        book(user, request, now=NOW)
    except BookingRefused as refused:
        if "capacity" in {c.code for c in refused.conflicts}:
            assert not expected_to_fit
        assert_alternatives_bookable(user, organisation, refused.alternatives, quantity)
        return
    assert expected_to_fit


def assert_alternatives_bookable(user, organisation, alternatives, quantity):
    for alternative in alternatives:
        request = BookingRequest(alternative.resource_id, organisation.id, alternative.start,
                                 alternative.end, quantity=quantity)
        assert check(user, request, now=NOW) == []
    if alternatives:  # and the first one really is booked
        first = alternatives[0]
        book(user, BookingRequest(first.resource_id, organisation.id, first.start, first.end,
                                  quantity=quantity), now=NOW)


def run_decision(scene, op):
    action, pick = op
    bookings = list(db.session.scalars(select(Booking).order_by(Booking.id)))
    if not bookings:
        return
    booking = bookings[pick % len(bookings)]
    try:
        if action == "cancel":
            cancel(scene.manager, booking.id)
        else:
            decide(scene.manager, booking.id, approve=action == "approve", reason="non")
    except (InvalidTransition, NotAllowed):
        pass


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations)
def test_random_operations_keep_capacity_and_offer_bookable_alternatives(world, ops):
    scene, resources = world
    db.session.execute(delete(OutboxMessage))  # the messages about the last example's bookings
    db.session.execute(delete(Booking))
    db.session.execute(delete(BookingSeries))
    db.session.commit()
    for op in ops:
        if op[0] == "book":
            run_booking(scene, resources, op)
        else:
            run_decision(scene, op)
        assert_capacity_kept(resources)
