"""Each conflict rule of the booking engine, refused and allowed, with what is written."""

from datetime import UTC, timedelta, timezone

import pytest
from engine_helpers import NOW, PARIS, at
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.engine import BookingRefused, book, check
from sharing.models import Booking, Closure, Quota, ResourceVisibility
from sharing.services.messages import describe

PARIS_FIXED_WINTER = timezone(timedelta(hours=1))


def codes(conflicts):
    return sorted({c.code for c in conflicts})


def refused_codes(scene, request):
    with pytest.raises(BookingRefused) as refused:
        book(scene.member, request, now=NOW)
    return codes(refused.value.conflicts)


def booking_count():
    return db.session.scalar(select(func.count(Booking.id)))


def test_free_room_is_confirmed_with_uid_sequence_and_buffer(scene):
    scene.room.buffer_minutes = 30
    db.session.commit()
    result = book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 11:00",
                                              title="Comité"), now=NOW)
    (booking,) = result.bookings
    stored = db.session.get(Booking, booking.id)
    assert stored.status == "confirmed" and stored.sequence == 0 and stored.uid
    assert stored.starts_at == at("2027-03-02 10:00") and stored.ends_at == at("2027-03-02 11:00")
    assert stored.blocks_until == at("2027-03-02 11:30")
    assert stored.title == "Comité" and stored.user_id == scene.member.id
    assert stored.organisation_id == scene.booker.id


def test_end_before_start_is_invalid_interval(scene):
    assert refused_codes(scene, scene.request("2027-03-02 11:00", "2027-03-02 10:00")) == [
        "invalid_interval"]
    assert refused_codes(scene, scene.request("2027-03-02 11:00", "2027-03-02 11:00")) == [
        "invalid_interval"]
    assert booking_count() == 0


def test_naive_times_are_invalid_input(scene):
    request = scene.request("2027-03-02 10:00", "2027-03-02 11:00")
    request.start = request.start.replace(tzinfo=None)
    with pytest.raises(InvalidInput) as error:
        book(scene.member, request, now=NOW)
    assert "start" in error.value.fields


def test_spring_forward_gap_is_nonexistent_local_time(scene):
    # 28 March 2027: Paris clocks jump from 02:00 to 03:00.
    assert "nonexistent_local_time" in refused_codes(
        scene, scene.request("2027-03-28 02:30", "2027-03-28 03:30"))
    request = scene.request("2027-03-28 02:30", "2027-03-28 04:00")
    request.start = request.start.replace(tzinfo=PARIS_FIXED_WINTER)  # "02:30+01:00"
    assert "nonexistent_local_time" in refused_codes(scene, request)
    # The same instant written in UTC is a real time (03:30 summer time).
    request.start = at("2027-03-28 03:30").astimezone(UTC)
    assert book(scene.member, request, now=NOW).bookings


def test_duration_limits(scene):
    scene.room.min_duration_minutes, scene.room.max_duration_minutes = 60, 120
    db.session.commit()
    assert refused_codes(scene, scene.request("2027-03-02 10:00", "2027-03-02 10:30")) == [
        "too_short"]
    assert refused_codes(scene, scene.request("2027-03-02 10:00", "2027-03-02 12:15")) == [
        "too_long"]
    assert book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 12:00"), now=NOW)


def test_grid_alignment_in_local_time(scene):
    scene.room.slot_minutes = 30
    db.session.commit()
    assert refused_codes(scene, scene.request("2027-03-02 10:15", "2027-03-02 11:00")) == [
        "misaligned"]
    assert refused_codes(scene, scene.request("2027-03-02 10:00", "2027-03-02 10:45")) == [
        "misaligned"]
    assert book(scene.member, scene.request("2027-03-02 10:30", "2027-03-02 11:00"), now=NOW)


def test_notice_and_advance(scene):
    scene.room.min_notice_minutes, scene.room.max_advance_days = 24 * 60, 30
    db.session.commit()
    soon = (NOW + timedelta(hours=2)).astimezone(PARIS)
    request = scene.request("2027-01-01 00:00", "2027-01-01 01:00")
    request.start, request.end = soon, soon + timedelta(hours=1)
    assert refused_codes(scene, request) == ["too_soon"]
    assert refused_codes(scene, scene.request("2027-02-10 10:00", "2027-02-10 11:00")) == [
        "too_far"]
    assert book(scene.member, scene.request("2027-01-20 10:00", "2027-01-20 11:00"), now=NOW)


def test_past_is_too_soon_without_notice(scene):
    assert refused_codes(scene, scene.request("2026-12-01 10:00", "2026-12-01 11:00")) == [
        "too_soon"]


def test_opening_hours_in_two_ranges(scene):
    scene.room.opening_hours = {"tue": [["08:00", "12:00"], ["13:30", "18:00"]]}
    db.session.commit()
    # Tuesday 2 March 2027
    assert book(scene.member, scene.request("2027-03-02 08:00", "2027-03-02 12:00"), now=NOW)
    assert book(scene.member, scene.request("2027-03-02 13:30", "2027-03-02 18:00"), now=NOW)
    for start, end in [("2027-03-09 11:30", "2027-03-09 14:00"),  # across the lunch gap
                       ("2027-03-09 17:30", "2027-03-09 18:30"),  # after closing
                       ("2027-03-10 09:00", "2027-03-10 10:00")]:  # Wednesday: closed
        assert refused_codes(scene, scene.request(start, end)) == ["outside_opening_hours"]


def test_opening_hours_follow_the_wall_clock_across_dst(scene):
    scene.room.opening_hours = {"mon": [["08:00", "12:00"]]}
    db.session.commit()
    # 22 March (winter time) and 29 March (summer time) 2027: both 08:00 on the wall.
    assert book(scene.member, scene.request("2027-03-22 08:00", "2027-03-22 09:00"), now=NOW)
    assert book(scene.member, scene.request("2027-03-29 08:00", "2027-03-29 09:00"), now=NOW)
    assert refused_codes(scene, scene.request("2027-03-29 07:00", "2027-03-29 08:00")) == [
        "outside_opening_hours"]


def test_closure_refuses_and_names_its_period(scene):
    db.session.add(Closure(resource_id=scene.room.id, starts_at=at("2027-03-01 00:00"),
                           ends_at=at("2027-03-08 00:00"), reason="Travaux"))
    db.session.commit()
    with pytest.raises(BookingRefused) as refused:
        book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 11:00"), now=NOW)
    (closed,) = refused.value.conflicts
    assert closed.code == "closed" and describe(closed) == "Travaux"
    assert closed.start == at("2027-03-01 00:00") and closed.end == at("2027-03-08 00:00")
    assert book(scene.member, scene.request("2027-03-08 10:00", "2027-03-08 11:00"), now=NOW)


def test_every_reason_is_listed(scene):
    scene.room.min_duration_minutes = 60
    scene.room.opening_hours = {"mon": [["08:00", "12:00"]]}
    db.session.add(Closure(resource_id=scene.room.id, starts_at=at("2027-03-02 00:00"),
                           ends_at=at("2027-03-03 00:00"), reason="Fermé"))
    db.session.commit()
    assert refused_codes(scene, scene.request("2027-03-02 20:05", "2027-03-02 20:35")) == [
        "closed", "misaligned", "outside_opening_hours", "too_short"]


def test_capacity_back_to_back_is_fine_overlap_is_not(scene, create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-02 10:00"), 60)
    assert book(scene.member, scene.request("2027-03-02 11:00", "2027-03-02 12:00"), now=NOW)
    assert book(scene.member, scene.request("2027-03-02 09:00", "2027-03-02 10:00"), now=NOW)
    assert refused_codes(scene, scene.request("2027-03-02 10:45", "2027-03-02 11:00")) == [
        "capacity"]


def test_buffer_applies_at_both_ends(scene, create_booking):
    scene.room.buffer_minutes = 30
    db.session.commit()
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-02 10:00"), 60)
    # after: the existing booking's changeover runs until 11:30
    assert refused_codes(scene, scene.request("2027-03-02 11:00", "2027-03-02 11:30")) == [
        "capacity"]
    assert book(scene.member, scene.request("2027-03-02 11:30", "2027-03-02 12:00"), now=NOW)
    # before: a new booking needs its own changeover before 10:00
    assert refused_codes(scene, scene.request("2027-03-02 09:00", "2027-03-02 10:00")) == [
        "capacity"]
    assert book(scene.member, scene.request("2027-03-02 09:00", "2027-03-02 09:30"), now=NOW)


def test_capacity_is_peak_concurrency_not_a_count(scene, create_booking):
    scene.room.quantity = 3
    db.session.commit()
    for start in ("10:00", "11:00", "12:00"):  # staggered two-hour bookings, one unit each
        create_booking(scene.room, scene.owner, scene.manager, at(f"2027-03-02 {start}"), 120)
    # three bookings overlap 10:00-14:00, but at most two at once: one unit stays free
    assert book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 14:00"), now=NOW)
    assert refused_codes(scene, scene.request("2027-03-02 11:00", "2027-03-02 12:00")) == [
        "capacity"]


def test_quantity_over_units(scene, create_booking):
    scene.room.quantity = 40
    db.session.commit()
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-02 10:00"), 60,
                   quantity=30)
    assert refused_codes(scene, scene.request("2027-03-02 10:00", "2027-03-02 11:00",
                                              quantity=11)) == ["capacity"]
    assert refused_codes(scene, scene.request("2027-03-03 10:00", "2027-03-03 11:00",
                                              quantity=41)) == ["capacity"]
    assert book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 11:00",
                                            quantity=10), now=NOW)


def test_cancelled_and_rejected_bookings_free_their_time(scene, create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-02 10:00"), 60,
                   status="cancelled")
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-02 10:00"), 60,
                   status="rejected")
    assert book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 11:00"), now=NOW)


def test_pending_requests_hold_capacity(scene, create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-02 10:00"), 60,
                   status="pending")
    assert refused_codes(scene, scene.request("2027-03-02 10:00", "2027-03-02 11:00")) == [
        "capacity"]


def test_another_organisations_booking_is_only_busy(scene, create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-02 10:00"), 60,
                   title="Entretien confidentiel")
    with pytest.raises(BookingRefused) as refused:
        book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 11:00"), now=NOW)
    (busy,) = refused.value.conflicts
    assert busy.start == at("2027-03-02 10:00") and busy.end == at("2027-03-02 11:00")
    assert "confidentiel" not in describe(busy) and "ressourcerie" not in describe(busy).lower()
    # the booking organisation's own booking is named
    create_booking(scene.room, scene.booker, scene.member, at("2027-03-03 10:00"), 60,
                   title="Notre atelier")
    with pytest.raises(BookingRefused) as own:
        book(scene.member, scene.request("2027-03-03 10:00", "2027-03-03 11:00"), now=NOW)
    assert "Notre atelier" in describe(own.value.conflicts[0])


def test_not_allowed_for_outsiders_and_unlisted_organisations(scene, create_user,
                                                              create_organisation):
    outsider = create_user(email="outsider@example.org")
    with pytest.raises(BookingRefused) as refused:
        book(outsider, scene.request("2027-03-02 10:00", "2027-03-02 11:00"), now=NOW)
    assert codes(refused.value.conflicts) == ["not_allowed"]
    scene.room.visibility = "listed"
    db.session.add(ResourceVisibility(resource_id=scene.room.id,
                                      organisation_id=create_organisation().id))
    db.session.commit()
    assert refused_codes(scene, scene.request("2027-03-02 10:00", "2027-03-02 11:00")) == [
        "not_allowed"]
    scene.room.visible_to_ids.append(scene.booker.id)
    db.session.commit()
    assert book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 11:00"), now=NOW)


def test_inactive_resource_is_not_allowed(scene):
    scene.room.active = False
    db.session.commit()
    assert refused_codes(scene, scene.request("2027-03-02 10:00", "2027-03-02 11:00")) == [
        "not_allowed"]


def test_weekly_quota_per_organisation_not_per_user(scene, create_user):
    db.session.add(Quota(organisation_id=scene.booker.id, resource_id=scene.room.id,
                         max_hours_per_week=3))
    colleague = create_user(email="colleague@example.org", organisation=scene.booker)
    db.session.commit()
    # Monday 1 and Wednesday 3 March 2027: same week
    assert book(scene.member, scene.request("2027-03-01 10:00", "2027-03-01 12:00"), now=NOW)
    with pytest.raises(BookingRefused) as refused:
        book(colleague, scene.request("2027-03-03 10:00", "2027-03-03 11:30"), now=NOW)
    assert codes(refused.value.conflicts) == ["quota"]
    assert book(colleague, scene.request("2027-03-03 10:00", "2027-03-03 11:00"), now=NOW)
    # next week starts afresh (Monday 8 March)
    assert book(colleague, scene.request("2027-03-08 10:00", "2027-03-08 12:00"), now=NOW)
    # another organisation has its own share
    other = create_user(email="other@example.org", organisation=scene.owner)
    request = scene.request("2027-03-04 10:00", "2027-03-04 14:00", organisation_id=scene.owner.id)
    assert book(other, request, now=NOW)


def test_monthly_quota_for_a_kind_spans_resources(scene, create_resource):
    second = create_resource(kind="room", owner=scene.owner, site=scene.room.site)
    db.session.add(Quota(organisation_id=scene.booker.id, resource_kind="room",
                         max_hours_per_month=4))
    db.session.commit()
    assert book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 13:00"), now=NOW)
    assert refused_codes(scene, scene.request("2027-03-20 10:00", "2027-03-20 12:00",
                                              resource=second)) == ["quota"]
    assert book(scene.member, scene.request("2027-03-20 10:00", "2027-03-20 11:00",
                                            resource=second), now=NOW)
    assert book(scene.member, scene.request("2027-04-01 10:00", "2027-04-01 14:00",
                                            resource=second), now=NOW)


def test_check_is_a_dry_run(scene):
    assert check(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 11:00"),
                 now=NOW) == []
    assert codes(check(scene.member, scene.request("2027-03-02 11:00", "2027-03-02 10:00"),
                       now=NOW)) == ["invalid_interval"]
    assert booking_count() == 0


@pytest.mark.parametrize("field, value", [("quantity", 0), ("quantity", "2"),
                                          ("title", "x" * 201), ("resource_id", 10**30),
                                          ("organisation_id", 999999)])
def test_malformed_requests_are_invalid_input(scene, field, value):
    request = scene.request("2027-03-02 10:00", "2027-03-02 11:00")
    setattr(request, field, value)
    with pytest.raises(InvalidInput) as error:
        book(scene.member, request, now=NOW)
    assert field in error.value.fields
    assert booking_count() == 0



def test_a_release_and_a_take_at_the_same_instant_do_not_add_up(scene, create_booking):
    scene.room.quantity = 2
    db.session.commit()
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-02 10:00"), 60)
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-02 11:00"), 60)
    assert book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 12:00"), now=NOW)


def test_quota_counts_only_the_part_of_a_booking_inside_the_week(scene, create_booking):
    db.session.add(Quota(organisation_id=scene.booker.id, resource_id=scene.room.id,
                         max_hours_per_week=3))
    db.session.commit()
    # Sunday 22:00 to Monday 02:00: two hours in each week
    create_booking(scene.room, scene.booker, scene.member, at("2027-03-07 22:00"), 240)
    assert refused_codes(scene, scene.request("2027-03-08 10:00", "2027-03-08 11:30")) == [
        "quota"]
    assert book(scene.member, scene.request("2027-03-08 10:00", "2027-03-08 11:00"), now=NOW)
    assert book(scene.member, scene.request("2027-03-05 10:00", "2027-03-05 11:00"), now=NOW)


def test_a_series_counts_its_own_earlier_occurrences_in_the_quotas(scene, create_booking):
    db.session.add(Quota(organisation_id=scene.booker.id, resource_id=scene.room.id,
                         max_hours_per_week=5, max_hours_per_month=8))
    db.session.commit()
    create_booking(scene.room, scene.booker, scene.member, at("2027-03-03 14:00"), 60)
    request = scene.request("2027-03-01 10:00", "2027-03-01 12:00", skip_conflicts=True,
                            recurrence="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=8")
    assert [(c.code, c.params["period"]) for c in check(scene.member, request, now=NOW)] == [
        ("quota", "week")] * 3 + [("quota", "month")] * 2  # the dry run agrees
    result = book(scene.member, request, now=NOW)
    assert [b.starts_at for b in result.bookings] == [
        at("2027-03-01 10:00"), at("2027-03-02 10:00"), at("2027-03-08 10:00")]
    assert [(s.start, [(c.code, c.params["period"]) for c in s.conflicts])
            for s in result.skipped] == [
        (at(f"2027-03-{day:02} 10:00"), [("quota", period)])
        for day, period in [(3, "week"), (4, "week"), (5, "week"), (9, "month"),
                            (10, "month")]]
