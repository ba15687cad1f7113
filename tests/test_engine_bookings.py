"""Series across daylight-saving changes, approvals, cancellations, multi-resource bookings,
alternatives and availability."""

from datetime import UTC, datetime, timedelta

import pytest
from engine_helpers import NOW, PARIS, at
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.engine import (
    BookingRefused,
    BookingRequest,
    InvalidTransition,
    NotAllowed,
    book,
    cancel,
    check,
    decide,
    find_free_resources,
    get_availability,
)
from sharing.models import Booking, Closure
from sharing.services.bookings import count_bookings_during, find_bookings


def stored(status=None):
    query = select(Booking).order_by(Booking.starts_at, Booking.id)
    if status:
        query = query.where(Booking.status == status)
    return list(db.session.scalars(query))


def test_a_long_booking_before_the_clocks_go_forward_holds_the_slots_after_them(scene):
    """Wall-clock times (as the pages send them) on the night the clocks skip an hour:
    4 hours from 22:00 UTC, then 01:30-02:30 UTC. Looking back from 03:30 on the wall
    clock lost the skipped hour, missed the first booking and booked the second on top."""
    book(scene.member, scene.request("2027-03-27 23:00", "2027-03-28 04:00"), now=NOW)
    later = scene.request("2027-03-28 03:30", "2027-03-28 04:30")
    assert find_free_resources([scene.room], later.start, later.end, now=NOW) == []
    with pytest.raises(BookingRefused) as refused:
        book(scene.member, later, now=NOW)
    assert [c.code for c in refused.value.conflicts] == ["capacity"]


def test_the_booking_lists_look_back_in_real_time_over_the_skipped_hour(scene):
    """The lists' look back for long bookings, from wall-clock times as the pages hold
    them: 03:30 less the longest booking (4 hours) is 22:30 the evening before in real
    time, 23:30 on the wall clock, which missed the booking started at 23:00."""
    made = book(scene.member, scene.request("2027-03-27 23:00", "2027-03-28 04:00"), now=NOW)
    later = scene.request("2027-03-28 03:30", "2027-03-28 04:30")
    assert find_bookings(scene.member, later.start, later.end) == made.bookings
    assert count_bookings_during(scene.room, later.start, later.end) == 1


def test_a_changeover_across_the_skipped_hour_lasts_its_minutes(scene):
    """01:30 + 90 minutes of changeover is 04:00 on that night's wall clock, not 03:00."""
    scene.room.buffer_minutes = 90
    db.session.commit()
    first = book(scene.member, scene.request("2027-03-28 00:30", "2027-03-28 01:30"), now=NOW)
    assert first.bookings[0].blocks_until == datetime(2027, 3, 28, 2, 0, tzinfo=UTC)
    with pytest.raises(BookingRefused):
        book(scene.member, scene.request("2027-03-28 03:30", "2027-03-28 04:00"), now=NOW)


def test_a_changeover_across_the_repeated_hour_lasts_its_minutes(scene):
    """In October the wall clock goes through 02:00-03:00 twice: 01:30 summer time + 90
    minutes is 02:00 winter time (01:00 UTC), not 03:00 (02:00 UTC)."""
    scene.room.buffer_minutes = 90
    db.session.commit()
    first = book(scene.member, scene.request("2027-10-31 00:30", "2027-10-31 01:30"), now=NOW)
    assert first.bookings[0].blocks_until == datetime(2027, 10, 31, 1, 0, tzinfo=UTC)


def test_weekly_series_keeps_local_time_across_both_dst_changes(scene):
    # Tuesdays 10:00-11:00 from 16 March to 9 November 2027 (clocks change 28 March and
    # 31 October).
    request = scene.request("2027-03-16 10:00", "2027-03-16 11:00", title="Comité",
                            recurrence="FREQ=WEEKLY;BYDAY=TU;UNTIL=20271109")
    result = book(scene.member, request, now=NOW)
    assert len(result.bookings) == 35 and not result.skipped
    rows = stored()
    assert {b.starts_at.astimezone(PARIS).strftime("%a %H:%M") for b in rows} == {"Tue 10:00"}
    assert {b.ends_at.astimezone(PARIS).strftime("%H:%M") for b in rows} == {"11:00"}
    utc_hours = [b.starts_at.astimezone(UTC).hour for b in rows]
    assert utc_hours[0] == 9 and utc_hours[2] == 8 and utc_hours[-1] == 9
    assert len({b.series_id for b in rows}) == 1 and rows[0].series_id is not None
    assert len({b.uid for b in rows}) == 35


def test_series_is_all_or_nothing_by_default(scene, create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-23 10:30"), 60)
    request = scene.request("2027-03-16 10:00", "2027-03-16 11:00",
                            recurrence="FREQ=WEEKLY;COUNT=4")
    with pytest.raises(BookingRefused) as refused:
        book(scene.member, request, now=NOW)
    (conflict,) = refused.value.conflicts
    assert conflict.code == "capacity" and conflict.start == at("2027-03-23 10:30")
    assert len(stored()) == 1  # only the booking that was there


def test_series_with_skip_conflicts_books_the_free_occurrences(scene, create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-23 10:30"), 60)
    request = scene.request("2027-03-16 10:00", "2027-03-16 11:00", skip_conflicts=True,
                            recurrence="FREQ=WEEKLY;COUNT=4")
    result = book(scene.member, request, now=NOW)
    assert [b.starts_at for b in result.bookings] == [
        at("2027-03-16 10:00"), at("2027-03-30 10:00"), at("2027-04-06 10:00")]
    (skipped,) = result.skipped
    assert skipped.start == at("2027-03-23 10:00")
    assert [c.code for c in skipped.conflicts] == ["capacity"]


def test_series_occurrence_in_the_spring_gap_is_skipped(scene):
    request = scene.request("2027-03-21 02:30", "2027-03-21 03:30", skip_conflicts=True,
                            recurrence="FREQ=WEEKLY;BYDAY=SU;COUNT=3")
    result = book(scene.member, request, now=NOW)
    assert [s.start.date().isoformat() for s in result.skipped] == ["2027-03-28"]
    assert "nonexistent_local_time" in {c.code for c in result.skipped[0].conflicts}
    assert len(result.bookings) == 2


@pytest.mark.parametrize("rule", [
    "FREQ=YEARLY;COUNT=2", "FREQ=WEEKLY", "FREQ=WEEKLY;COUNT=2;UNTIL=20270101",
    "FREQ=DAILY;COUNT=501", "FREQ=DAILY;UNTIL=20300101", "FREQ=WEEKLY;BYDAY=XX;COUNT=2",
    "FREQ=WEEKLY;BYSETPOS=1;COUNT=2", "garbage", "", "FREQ=DAILY;INTERVAL=0;COUNT=3",
    "FREQ=DAILY;UNTIL=2027", "FREQ=DAILY;UNTIL=20200101",
])
def test_bad_recurrence_rules_are_invalid_input(scene, rule):
    request = scene.request("2027-03-16 10:00", "2027-03-16 11:00", recurrence=rule)
    with pytest.raises(InvalidInput) as error:
        book(scene.member, request, now=NOW)
    assert "recurrence" in error.value.fields
    assert stored() == []


def test_monthly_series_by_weekday(scene):
    request = scene.request("2027-03-01 10:00", "2027-03-01 11:00",
                            recurrence="FREQ=MONTHLY;BYDAY=1MO;COUNT=3")
    result = book(scene.member, request, now=NOW)
    assert [b.starts_at.astimezone(PARIS).date().isoformat() for b in result.bookings] == [
        "2027-03-01", "2027-04-05", "2027-05-03"]


def test_cancel_one_and_following_occurrences(scene):
    request = scene.request("2027-03-16 10:00", "2027-03-16 11:00",
                            recurrence="FREQ=WEEKLY;COUNT=5")
    bookings = book(scene.member, request, now=NOW).bookings
    (one,) = cancel(scene.member, bookings[1].id, reason="Grève")
    assert one.status == "cancelled" and one.sequence == 1 and one.decision_reason == "Grève"
    following = cancel(scene.member, bookings[3].id, scope="following")
    assert [b.id for b in following] == [bookings[3].id, bookings[4].id]
    assert [b.status for b in stored()] == [
        "confirmed", "cancelled", "confirmed", "cancelled", "cancelled"]
    assert len(stored()) == 5  # nothing is deleted
    with pytest.raises(InvalidTransition):
        cancel(scene.member, bookings[1].id)
    # the freed time can be booked again
    assert book(scene.member, scene.request("2027-03-23 10:00", "2027-03-23 11:00"), now=NOW)


def test_who_may_cancel(scene, create_user):
    (booking,) = book(scene.member, scene.request("2027-03-16 10:00", "2027-03-16 11:00"),
                      now=NOW).bookings
    stranger = create_user(email="stranger@example.org")
    colleague = create_user(email="colleague@example.org", organisation=scene.booker)
    for user in (stranger, colleague):
        with pytest.raises(NotAllowed):
            cancel(user, booking.id)
    assert stored()[0].status == "confirmed"
    assert cancel(scene.manager, booking.id)[0].status == "cancelled"  # the resource's owner


def test_approval_flow(scene, create_user):
    scene.room.requires_approval = True
    db.session.commit()
    (booking,) = book(scene.member, scene.request("2027-03-16 10:00", "2027-03-16 11:00"),
                      now=NOW).bookings
    assert booking.status == "pending"
    with pytest.raises(NotAllowed):
        decide(scene.member, booking.id, approve=True)
    with pytest.raises(InvalidInput):
        decide(scene.manager, booking.id, approve=False, reason="  ")
    approved = decide(scene.manager, booking.id, approve=True)
    assert approved.status == "confirmed" and approved.sequence == 1
    assert approved.decided_by_id == scene.manager.id
    with pytest.raises(InvalidTransition):
        decide(scene.manager, booking.id, approve=False, reason="Trop tard")
    (second,) = book(scene.member, scene.request("2027-03-17 10:00", "2027-03-17 11:00"),
                     now=NOW).bookings
    rejected = decide(scene.manager, second.id, approve=False, reason="Salle réservée au CA")
    assert rejected.status == "rejected" and rejected.decision_reason == "Salle réservée au CA"
    assert book(scene.member, scene.request("2027-03-17 10:00", "2027-03-17 11:00"), now=NOW)


def test_unknown_booking_is_a_lookup_error(scene):
    with pytest.raises(LookupError):
        cancel(scene.member, 12345)


def test_multi_resource_booking_is_all_or_nothing(scene, create_resource, create_booking):
    projector = create_resource(kind="equipment", owner=scene.owner, site=scene.room.site)
    facilitator = create_resource(kind="staff", owner=scene.owner, site=scene.room.site)
    create_booking(projector, scene.owner, scene.manager, at("2027-03-16 10:00"), 60)
    request = scene.request("2027-03-16 10:00", "2027-03-16 11:00",
                            extra_resource_ids=[projector.id, facilitator.id])
    with pytest.raises(BookingRefused) as refused:
        book(scene.member, request, now=NOW)
    assert {(c.code, c.resource_id) for c in refused.value.conflicts} == {
        ("capacity", projector.id)}
    assert len(stored()) == 1
    request.start, request.end = at("2027-03-16 11:00"), at("2027-03-16 12:00")
    result = book(scene.member, request, now=NOW)
    assert {b.resource_id for b in result.bookings} == {scene.room.id, projector.id,
                                                       facilitator.id}
    assert len({b.group_uid for b in result.bookings}) == 1


def book_each(scene, alternatives, length):
    for alternative in alternatives:
        request = BookingRequest(alternative.resource_id, scene.booker.id, alternative.start,
                                 alternative.end)
        assert alternative.end - alternative.start == length
        (booking,) = book(scene.member, request, now=NOW).bookings
        cancel(scene.member, booking.id)


def test_alternatives_nearest_same_day_first_and_bookable(scene, create_booking):
    scene.room.opening_hours = {"tue": [["08:00", "12:00"], ["13:30", "18:00"]],
                                "wed": [["08:00", "12:00"]]}
    scene.room.slot_minutes = 30
    db.session.commit()
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-16 09:00"), 120)
    with pytest.raises(BookingRefused) as refused:
        book(scene.member, scene.request("2027-03-16 10:00", "2027-03-16 11:00"), now=NOW)
    alternatives = refused.value.alternatives
    assert [a.start for a in alternatives] == [
        at("2027-03-16 11:00"), at("2027-03-16 08:00"), at("2027-03-16 13:30"),
        at("2027-03-16 14:00"), at("2027-03-16 14:30")]
    book_each(scene, alternatives, timedelta(hours=1))


def test_alternatives_skip_the_times_too_full_with_their_buffer(scene, create_booking):
    """The times where too few units are left, moved back by the buffer, are passed over
    before any rule is checked: no time that fits may be lost with them."""
    scene.room.opening_hours = {"tue": [["08:00", "12:00"]]}
    scene.room.slot_minutes, scene.room.quantity, scene.room.buffer_minutes = 30, 2, 15
    db.session.commit()
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-16 08:00"), 120)
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-16 09:00"), 120)
    with pytest.raises(BookingRefused) as refused:
        book(scene.member, scene.request("2027-03-16 09:00", "2027-03-16 10:00"), now=NOW)
    # both units are held from 09:00 until 10:15 (the first booking's buffer): 10:00 would
    # need them until 11:15 with its own, 10:30 needs one of them from 10:30
    assert [a.start for a in refused.value.alternatives] == [
        at("2027-03-16 10:30"), at("2027-03-16 11:00"), at("2027-03-23 08:00"),
        at("2027-03-23 08:30"), at("2027-03-23 09:00")]
    book_each(scene, refused.value.alternatives, timedelta(hours=1))


def test_alternatives_move_to_following_days_and_other_resources(scene, create_resource):
    scene.room.opening_hours = {"tue": [["10:00", "11:00"]], "thu": [["14:00", "16:00"]]}
    scene.room.tags = ["projecteur"]
    db.session.commit()
    site = scene.room.site
    twin = create_resource(kind="room", owner=scene.owner, site=site, capacity=20,
                           name="Salle Vercors", tags=["projecteur", "cuisine"])
    create_resource(kind="room", owner=scene.owner, site=site, capacity=4, tags=["projecteur"])
    create_resource(kind="room", owner=scene.owner, site=site, capacity=30)  # no projector
    create_resource(kind="equipment", owner=scene.owner, site=site, tags=["projecteur"])
    book(scene.member, scene.request("2027-03-16 10:00", "2027-03-16 11:00"), now=NOW)
    with pytest.raises(BookingRefused) as refused:
        book(scene.member, scene.request("2027-03-16 10:00", "2027-03-16 11:00"), now=NOW)
    alternatives = refused.value.alternatives
    assert [(a.resource_id, a.start) for a in alternatives] == [
        (scene.room.id, at("2027-03-18 14:00")), (scene.room.id, at("2027-03-18 14:15")),
        (scene.room.id, at("2027-03-18 14:30")), (scene.room.id, at("2027-03-18 14:45")),
        (twin.id, at("2027-03-16 10:00"))]
    book_each(scene, alternatives, timedelta(hours=1))


def test_availability_busy_and_free(scene, create_booking):
    scene.room.opening_hours = {"tue": [["08:00", "12:00"], ["13:30", "18:00"]]}
    scene.room.buffer_minutes = 15
    scene.room.quantity = 2
    db.session.add(Closure(resource_id=scene.room.id, starts_at=at("2027-03-16 16:00"),
                           ends_at=at("2027-03-16 18:00"), reason="Ménage"))
    db.session.commit()
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-16 09:00"), 60)
    create_booking(scene.room, scene.booker, scene.member, at("2027-03-16 09:30"), 60)
    availability = get_availability(scene.room, at("2027-03-16 00:00"), at("2027-03-17 00:00"))
    assert availability.busy == [
        (at("2027-03-16 09:00"), at("2027-03-16 09:30"), 1),
        (at("2027-03-16 09:30"), at("2027-03-16 10:15"), 2),
        (at("2027-03-16 10:15"), at("2027-03-16 10:45"), 1)]
    assert availability.free == [
        (at("2027-03-16 08:00"), at("2027-03-16 09:30")),
        (at("2027-03-16 10:15"), at("2027-03-16 12:00")),
        (at("2027-03-16 13:30"), at("2027-03-16 16:00"))]
    with pytest.raises(InvalidInput):
        get_availability(scene.room, at("2027-03-17 00:00"), at("2027-03-16 00:00"))


def test_find_free_resources(scene, create_resource, create_booking):
    site = scene.room.site
    busy = create_resource(kind="room", owner=scene.owner, site=site, name="Busy")
    closed = create_resource(kind="room", owner=scene.owner, site=site, name="Closed")
    shut = create_resource(kind="room", owner=scene.owner, site=site, name="Shut",
                           opening_hours={"mon": [["08:00", "12:00"]]})
    create_booking(busy, scene.owner, scene.manager, at("2027-03-16 09:00"), 120)
    db.session.add(Closure(resource_id=closed.id, starts_at=at("2027-03-16 00:00"),
                           ends_at=at("2027-03-17 00:00")))
    db.session.commit()
    free = find_free_resources([scene.room, busy, closed, shut], at("2027-03-16 10:00"),
                               at("2027-03-16 12:00"), now=NOW)
    assert free == [scene.room]


def test_check_lists_every_occurrence_conflict(scene, create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-23 10:00"), 60)
    conflicts = check(scene.member, scene.request(
        "2027-03-16 10:00", "2027-03-16 11:00", recurrence="FREQ=WEEKLY;COUNT=3"), now=NOW)
    assert [(c.code, c.start) for c in conflicts] == [("capacity", at("2027-03-23 10:00"))]
    assert db.session.scalar(select(func.count(Booking.id))) == 1


def test_longest_booking_bound_widens_with_long_bookings(scene, create_booking):
    create_booking(scene.room, scene.owner, scene.manager,
                   datetime(2027, 3, 1, 8, tzinfo=UTC), 60 * 24 * 10)
    db.session.refresh(scene.room)
    assert scene.room.longest_booking_minutes == 60 * 24 * 10
    # a booking started nine days earlier is still found
    with pytest.raises(BookingRefused):
        book(scene.member, scene.request("2027-03-10 10:00", "2027-03-10 11:00"), now=NOW)
