"""The demo pole keeps the rules the engine will enforce: its bookings fall inside opening
hours and on the grid, never exceed a resource's units, and are made by members of
organisations allowed to book; and loading it again, even weeks later, duplicates nothing."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.engine import booking as engine_booking
from sharing.engine.contracts import BookingRequest
from sharing.models import RESOURCE_KINDS, Booking, Resource
from sharing.services import demo
from sharing.services.accounts import authenticate
from sharing.services.permissions import can_book, is_member

# The week before the clocks go forward (Sunday 29 March 2026), then the one after.
BEFORE_DST = date(2026, 3, 25)


def load_demo(today: date) -> None:
    """The pole as loaded at midnight that day."""
    demo.load(today=today, now=datetime.combine(today, time(), ZoneInfo(demo.TIMEZONE)))
    db.session.commit()


@pytest.fixture
def demo_pole(load_once):
    load_once("demo", lambda: load_demo(BEFORE_DST))


def all_bookings() -> list[Booking]:
    return list(db.session.scalars(select(Booking).order_by(Booking.id)))


def test_every_kind_and_policy_is_shown(demo_pole):
    resources = {r.slug: r for r in db.session.scalars(select(Resource))}
    assert {r.kind for r in resources.values()} == set(RESOURCE_KINDS)
    van = resources["camion-frigorifique"]
    assert (van.requires_approval, van.buffer_minutes, van.licence_required) == (True, 30, "B")
    assert resources["chaises-pliantes"].quantity == 40
    assert resources["comptable-mutualisee"].person.email == "nadia.girard@example.org"
    assert resources["salle-chartreuse"].opening_hours["mon"] == [
        ["08:00", "12:00"], ["13:30", "18:00"]]
    listed = [r for r in resources.values() if r.visibility == "listed"]
    assert listed and all(r.visible_to_ids for r in listed)
    assert {"pending", "confirmed"} == {b.status for b in all_bookings()}


def test_the_demo_never_starts_with_a_request_in_the_past(app):
    sunday = BEFORE_DST + timedelta(days=4)  # this week's Friday and Saturday requests begun
    now = datetime.combine(sunday, time(9), ZoneInfo(demo.TIMEZONE))
    demo.load(today=sunday, now=now)
    db.session.commit()
    statuses = {(b.status, b.starts_at <= now) for b in all_bookings()}
    assert ("pending", True) not in statuses
    assert {("expired", True), ("pending", False)} <= statuses


def test_demo_logins_work(demo_pole):
    for person in demo.USERS:
        user = authenticate(person.email, demo.PASSWORD)
        assert user is not None and user.is_admin == person.is_admin


def test_bookings_fall_inside_opening_hours_and_on_the_grid(demo_pole):
    for booking in all_bookings():
        resource = booking.resource
        zone = ZoneInfo(resource.timezone)
        start, end = booking.starts_at.astimezone(zone), booking.ends_at.astimezone(zone)
        assert start.date() == end.date()
        minutes = (end - start).total_seconds() / 60
        assert resource.min_duration_minutes <= minutes <= (resource.max_duration_minutes or 1e9)
        assert (start.hour * 60 + start.minute) % resource.slot_minutes == 0
        assert minutes % resource.slot_minutes == 0
        assert booking.blocks_until == booking.ends_at + timedelta(
            minutes=resource.buffer_minutes)
        if any(resource.opening_hours.values()):
            day = demo.WEEKDAYS[start.weekday()]
            clock = (start.strftime("%H:%M"), end.strftime("%H:%M"))
            assert any(opens <= clock[0] and clock[1] <= closes
                       for opens, closes in resource.opening_hours[day]), (resource.slug, clock)


def test_bookers_may_book_what_they_booked(demo_pole):
    for booking in all_bookings():
        assert is_member(booking.user, booking.organisation_id)
        assert can_book(booking.user, booking.resource, booking.organisation)


def peak_units(bookings: list[Booking]) -> int:
    """Most units held at once, changeover buffers included."""
    changes = sorted([(b.starts_at, b.quantity) for b in bookings]
                     + [(b.blocks_until, -b.quantity) for b in bookings])
    held = peak = 0
    for _moment, change in changes:  # at equal times releases sort first
        held += change
        peak = max(peak, held)
    return peak


def assert_capacity_kept() -> None:
    by_resource = defaultdict(list)
    for booking in all_bookings():
        by_resource[booking.resource].append(booking)
    for resource, bookings in by_resource.items():
        assert peak_units(bookings) <= resource.quantity, resource.slug


def test_bookings_never_exceed_units(demo_pole):
    assert_capacity_kept()
    chairs = db.session.scalar(select(Resource).where(Resource.slug == "chaises-pliantes"))
    assert peak_units([b for b in all_bookings() if b.resource == chairs]) > 1


def test_a_later_run_adds_only_the_new_week_across_the_clock_change(demo_pole):
    before = all_bookings()
    load_demo(BEFORE_DST + timedelta(days=8))
    after = all_bookings()
    assert len(after) == len(before) + len(demo.BOOKINGS)
    assert_capacity_kept()
    summer_meetings = [b for b in after[len(before):] if b.resource.slug == "salle-chartreuse"]
    paris = ZoneInfo("Europe/Paris")
    assert {b.starts_at.astimezone(paris).strftime("%H:%M") for b in summer_meetings} == {
        p.start for p in demo.BOOKINGS if p.resource == "salle-chartreuse"}


def test_the_engine_would_accept_every_demo_booking(demo_pole):
    """Each booking, set aside, fits again beside all the others, asked a day ahead."""
    asked_at = datetime.combine(demo.this_monday(BEFORE_DST), time(), UTC) - timedelta(days=1)
    for booking in all_bookings():
        status, booking.status = booking.status, "cancelled"
        request = BookingRequest(resource_id=booking.resource_id,
                                 organisation_id=booking.organisation_id,
                                 start=booking.starts_at, end=booking.ends_at,
                                 quantity=booking.quantity, title=booking.title)
        assert engine_booking.check(booking.user, request, now=asked_at) == [], booking.title
        booking.status = status
