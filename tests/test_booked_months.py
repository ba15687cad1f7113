"""The bookings' counts per month that whole-month reports read: kept in the flush that
writes each booking (booked, moved, approved, cancelled) and counted again when a site's
clock or a resource's owner changes, equal at every step to a count made again from the
bookings, and giving reports the figures of a count booking by booking, for periods cut
anywhere."""

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from engine_helpers import NOW, at
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.engine import BookingChanges, book, cancel, decide, move
from sharing.models import COUNTS, BookedMonth, recount_booked_months
from sharing.services.reports import impact_report, read_query


def stored_counts() -> list[tuple]:
    """(month, resource, organisation, seconds, unit-seconds, bookings, cancelled, late)"""
    return sorted(db.session.execute(select(
        BookedMonth.month, BookedMonth.resource_id, BookedMonth.organisation_id,
        *[getattr(BookedMonth, name) for name in COUNTS])).all())


def counted_again() -> list[tuple]:
    """The counts made again from the bookings (rows at zero are left out: a count
    brought back to zero stays as a row)."""
    db.session.commit()
    recount_booked_months(db.session.connection())
    recounted = stored_counts()
    db.session.rollback()
    return recounted


def kept_counts() -> list[tuple]:
    return [row for row in stored_counts() if any(row[3:])]


def test_each_engine_change_keeps_the_counts_of_the_bookings(scene, create_resource,
                                                             create_user):
    """A booking over the night that ends March counts in both months; moved to another
    room, another day, with two units; cancelled; a request approved: counted again each
    time."""
    room = scene.room
    other = create_resource(kind="room", owner=scene.owner, quantity=3, name="Salle Érable",
                            site=room.site, capacity=12, slot_minutes=15)
    first = book(scene.member, scene.request("2027-03-31 22:00", "2027-04-01 02:00"),
                 now=NOW).bookings[0]
    assert kept_counts() == counted_again() == [
        (date(2027, 3, 1), room.id, scene.booker.id, 7200, 7200, 1, 0, 0),
        (date(2027, 4, 1), room.id, scene.booker.id, 7200, 7200, 0, 0, 0)]
    move(scene.member, first.id, BookingChanges(
        resource_id=other.id, quantity=2, start=at("2027-04-02 10:00"),
        end=at("2027-04-02 12:00")), now=NOW)
    assert kept_counts() == counted_again() == [
        (date(2027, 4, 1), other.id, scene.booker.id, 7200, 14400, 1, 0, 0)]
    second = book(scene.member, scene.request("2027-05-10 10:00", "2027-05-10 11:30"),
                  now=NOW).bookings[0]
    cancel(scene.member, first.id, now=NOW)  # weeks before: in time
    assert kept_counts() == counted_again() == [
        (date(2027, 4, 1), other.id, scene.booker.id, 0, 0, 0, 1, 0),
        (date(2027, 5, 1), room.id, scene.booker.id, 5400, 5400, 1, 0, 0)]
    # an organisation that only cancelled there booked nothing of the room
    april = impact_report(create_user(email="admin@example.org", is_admin=True),
                          read_query({"start": "2027-04-01", "end": "2027-04-30"}))
    assert [(line["hours"], line["organisations"]) for line in april["by_resource"]
            if line["id"] == other.id] == [(0, 0)]
    assert (april["totals"]["organisations_served"], april["totals"]["cancellations"]) == (0, 1)
    room.requires_approval = True
    db.session.commit()
    request = book(scene.member, scene.request("2027-05-11 10:00", "2027-05-11 11:00"),
                   now=NOW).bookings[0]
    assert request.status == "pending" and kept_counts() == counted_again()
    decide(scene.manager, request.id, approve=True)
    assert kept_counts() == counted_again() == [
        (date(2027, 4, 1), other.id, scene.booker.id, 0, 0, 0, 1, 0),
        (date(2027, 5, 1), room.id, scene.booker.id, 9000, 9000, 2, 0, 0)]
    assert second.id != request.id


def test_a_site_on_a_new_clock_counts_its_months_again(scene, create_booking):
    """23:00-01:00 UTC at the turn of March: Paris counts it all in April, Reykjavik (on
    UTC all year) half in each month."""
    create_booking(scene.room, scene.booker, scene.member,
                   datetime(2027, 3, 31, 23, 0, tzinfo=UTC), minutes=120)
    assert [row[0] for row in kept_counts()] == [date(2027, 4, 1)]
    scene.room.site.timezone = "Atlantic/Reykjavik"
    db.session.commit()
    assert [(row[0], row[3]) for row in kept_counts()] == [
        (date(2027, 3, 1), 3600), (date(2027, 4, 1), 3600)]
    assert kept_counts() == counted_again()


def test_a_cancellation_is_late_in_real_time_on_the_night_the_clocks_go_forward(
        scene, create_booking):
    """Two hours' free cancellation before 03:30 on 28 March 2027, summer time's first
    morning in Paris: the deadline is 23:30 UTC (01:30 winter time), not 00:30 UTC, which
    two hours subtracted on the wall clock give. A decision at midnight UTC is late."""
    scene.room.free_cancellation_minutes = 120
    booking = create_booking(scene.room, scene.booker, scene.member,
                             datetime(2027, 3, 28, 3, 30, tzinfo=ZoneInfo("Europe/Paris")))
    booking.status, booking.decided_at = "cancelled", datetime(2027, 3, 28, 0, 0, tzinfo=UTC)
    db.session.commit()
    [row] = kept_counts()
    assert row[COUNTS.index("cancelled_late") + 3] == 1
    assert kept_counts() == counted_again()


def booked_hours(bookings, tz: ZoneInfo, start: date, end: date) -> dict:
    """Booking by booking: the hours inside the period per resource and per month."""
    period = (datetime.combine(start, datetime.min.time(), tz),
              datetime.combine(end + timedelta(days=1), datetime.min.time(), tz))
    per_resource, per_month = defaultdict(float), defaultdict(float)
    for booking in bookings:
        starts, ends = (moment.astimezone(UTC) for moment in (booking.starts_at,
                                                               booking.ends_at))
        moment = max(starts, period[0])
        while moment < min(ends, period[1]):  # hour by hour, cut at local months
            local = moment.astimezone(tz)
            month_end = datetime.combine(
                (local.date().replace(day=1) + timedelta(days=31)).replace(day=1),
                datetime.min.time(), tz).astimezone(UTC)
            step_end = min(ends, period[1], month_end)
            seconds = (step_end - moment).total_seconds()
            per_resource[booking.resource_id] += seconds
            per_month[f"{local:%Y-%m}"] += seconds
            moment = step_end
    return ({resource: round(s / 3600, 2) for resource, s in per_resource.items()},
            {month: round(s / 3600, 2) for month, s in sorted(per_month.items())})


@pytest.mark.parametrize("seed", range(3))
def test_reports_read_from_the_counts_as_from_the_bookings(
        seed, scene, create_resource, create_booking, create_user):
    """Random bookings from January to June, some over a month's end or a DST night; random
    periods cut inside months or on their edges: the report's hours per resource and per
    month are those counted booking by booking."""
    rng = random.Random(seed)
    rooms = [scene.room, create_resource(kind="room", owner=scene.booker,
                                         site=scene.room.site, quantity=2)]
    made = []
    for _ in range(40):
        start = at("2027-01-01 00:00") + timedelta(minutes=30 * rng.randrange(8000))
        made.append(create_booking(rng.choice(rooms), rng.choice([scene.owner, scene.booker]),
                                   scene.member, start, minutes=30 * rng.randint(1, 100),
                                   status=rng.choice(["confirmed"] * 4 + ["cancelled"])))
    admin = create_user(email="admin@example.org", is_admin=True)
    confirmed = [booking for booking in made if booking.status == "confirmed"]
    for _ in range(4):
        first = date(2027, 1, 1) + timedelta(days=rng.randrange(150))
        last = first + timedelta(days=rng.choice([0, 20, 31, 59, 90]))
        if rng.random() < 0.5:  # on a month's edges
            first, last = first.replace(day=1), (last.replace(day=1) + timedelta(days=40)) \
                .replace(day=1) - timedelta(days=1)
        report = impact_report(admin, read_query({"start": first.isoformat(),
                                                  "end": last.isoformat()}))
        per_resource, per_month = booked_hours(confirmed, ZoneInfo("Europe/Paris"), first, last)
        assert {line["id"]: line["hours"] for line in report["by_resource"]
                if line["hours"]} == {r: h for r, h in per_resource.items() if h}
        assert {line["month"]: line["hours"] for line in report["by_month"]
                if line["hours"]} == {m: h for m, h in per_month.items() if h}
        assert report["totals"]["cancellations"] == sum(
            1 for booking in made if booking.status == "cancelled"
            and first <= booking.starts_at.astimezone(ZoneInfo("Europe/Paris")).date() <= last)


def test_a_new_owner_shares_the_resource_with_others(scene, create_booking, create_user):
    """The booker's hours in the room are shared while another organisation owns it, its
    own once the room is handed over to it."""
    create_booking(scene.room, scene.booker, scene.member, at("2027-03-02 10:00"), minutes=90)
    admin = create_user(email="admin@example.org", is_admin=True)
    march = read_query({"start": "2027-03-01", "end": "2027-03-31"})
    def cross_org_hours() -> tuple:
        report = impact_report(admin, march)
        return (report["totals"]["cross_org_hours"],
                [month["cross_org_hours"] for month in report["by_month"]])

    assert cross_org_hours() == (1.5, [1.5])
    scene.room.owner = scene.booker
    db.session.commit()
    assert cross_org_hours() == (0, [0])
    assert kept_counts() == counted_again()
