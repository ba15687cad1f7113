"""Moving a booking through the engine: time, units, resource, texts; the same rules as
booking, the booking out of its own way; uid kept, sequence bumped; nothing written on a
refusal; credits paid or refunded by the difference; and requests that expire."""

from datetime import timedelta

import pytest
from engine_helpers import NOW, at
from sqlalchemy import func, select

from sharing.core.database import utcnow
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.engine import (
    BookingChanges,
    BookingRefused,
    BookingRequest,
    InvalidTransition,
    NotAllowed,
    book,
    check,
    decide,
    expire_past_requests,
    move,
)
from sharing.engine.credits import balance_cents
from sharing.models import Booking, CreditEntry, Quota
from sharing.services import credits
from sharing.services.worker import run_once


def booked(scene, start="2027-03-02 10:00", end="2027-03-02 11:00", **fields):
    return book(scene.member, scene.request(start, end, **fields), now=NOW).bookings[0]


def snapshot(booking_id):
    db.session.rollback()
    row = db.session.get(Booking, booking_id)
    db.session.refresh(row)
    return (row.resource_id, row.starts_at, row.ends_at, row.quantity, row.title, row.note,
            row.status, row.sequence, row.uid)


def to(start, end, **fields):
    return BookingChanges(start=at(start), end=at(end), **fields)


def test_a_move_changes_the_time_on_the_same_row_with_the_same_uid(scene):
    booking = booked(scene)
    uid, sequence, booking_id = booking.uid, booking.sequence, booking.id
    moved = move(scene.member, booking_id, to("2027-03-02 14:00", "2027-03-02 15:30"), now=NOW)
    assert (moved.id, moved.uid, moved.sequence) == (booking_id, uid, sequence + 1)
    assert (moved.starts_at, moved.ends_at) == (at("2027-03-02 14:00"), at("2027-03-02 15:30"))
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_a_move_may_overlap_the_booking_own_old_time(scene):
    booking = booked(scene)  # a one-unit room: the booking must not conflict with itself
    moved = move(scene.member, booking.id, to("2027-03-02 10:30", "2027-03-02 11:30"), now=NOW)
    assert moved.starts_at == at("2027-03-02 10:30")


def test_a_longer_move_still_holds_its_whole_time(scene, create_user):
    """Overlap queries look back as far as the longest booking a resource has had: a move
    that makes a booking longer must widen that bound, or a later booking would not see
    it and take the same room."""
    booking = booked(scene, "2027-03-02 08:00", "2027-03-02 09:00")
    move(scene.member, booking.id, to("2027-03-02 08:00", "2027-03-02 16:00"), now=NOW)
    db.session.refresh(scene.room)
    assert scene.room.longest_booking_minutes >= 8 * 60
    other = create_user(organisation=scene.owner)
    with pytest.raises(BookingRefused) as refused:
        book(other, scene.request("2027-03-02 14:00", "2027-03-02 15:00",
                                  organisation_id=scene.owner.id), now=NOW)
    assert [c.code for c in refused.value.conflicts] == ["capacity"]


def test_a_move_changes_units_and_texts(scene):
    scene.room.quantity = 4
    db.session.commit()
    booking = booked(scene, quantity=1, title="Avant")
    moved = move(scene.member, booking.id, BookingChanges(quantity=3, title=" Après ",
                                                          note="Clés à l'accueil"), now=NOW)
    assert (moved.quantity, moved.title, moved.note) == (3, "Après", "Clés à l'accueil")


def test_a_title_only_change_bumps_the_sequence_and_keeps_the_status(scene):
    scene.room.requires_approval = True
    db.session.commit()
    booking = booked(scene)
    decide(scene.manager, booking.id, approve=True)
    moved = move(scene.member, booking.id, BookingChanges(title="Nouveau titre"), now=NOW)
    assert (moved.status, moved.sequence) == ("confirmed", 2)


def test_a_move_swaps_for_a_similar_resource(scene, create_resource):
    other = create_resource(kind="room", owner=scene.owner, site=scene.room.site,
                            capacity=20, slot_minutes=15)
    booking = booked(scene)
    moved = move(scene.member, booking.id, BookingChanges(resource_id=other.id), now=NOW)
    assert moved.resource_id == other.id


def test_a_resource_of_another_kind_or_site_is_no_swap(scene, create_resource):
    van = create_resource(kind="equipment", owner=scene.owner, site=scene.room.site)
    elsewhere = create_resource(kind="room", owner=scene.owner, capacity=20)
    booking = booked(scene)
    before = snapshot(booking.id)
    for resource in (van, elsewhere):
        with pytest.raises(InvalidInput) as error:
            move(scene.member, booking.id, BookingChanges(resource_id=resource.id), now=NOW)
        assert error.value.fields["resource_id"][0].code == "not_similar"
    assert snapshot(booking.id) == before


def test_a_conflict_leaves_the_booking_unchanged_and_offers_alternatives(scene, create_user):
    other_member = create_user(organisation=scene.owner)
    book(other_member, scene.request("2027-03-02 14:00", "2027-03-02 15:00",
                                     organisation_id=scene.owner.id), now=NOW)
    booking = booked(scene)
    before = snapshot(booking.id)
    with pytest.raises(BookingRefused) as refused:
        move(scene.member, booking.id, to("2027-03-02 14:00", "2027-03-02 15:00"), now=NOW)
    assert {c.code for c in refused.value.conflicts} == {"capacity"}
    assert refused.value.alternatives
    assert all(a.start != at("2027-03-02 14:00") or a.resource_id != scene.room.id
               for a in refused.value.alternatives)
    assert snapshot(booking.id) == before


def test_a_move_obeys_the_quota_counting_the_booking_once(scene):
    db.session.add(Quota(organisation_id=scene.booker.id, resource_id=scene.room.id,
                         max_hours_per_week=2))
    db.session.commit()
    booking = booked(scene, "2027-03-02 10:00", "2027-03-02 12:00")  # the whole share
    moved = move(scene.member, booking.id, to("2027-03-03 10:00", "2027-03-03 12:00"), now=NOW)
    assert moved.starts_at == at("2027-03-03 10:00")  # its own 2 hours do not count twice
    with pytest.raises(BookingRefused) as refused:
        move(scene.member, booking.id, to("2027-03-03 10:00", "2027-03-03 13:00"), now=NOW)
    assert [c.code for c in refused.value.conflicts] == ["quota"]


def test_a_move_obeys_opening_hours(scene):
    scene.room.opening_hours = {"tue": [["08:00", "18:00"]]}
    db.session.commit()
    booking = booked(scene)
    with pytest.raises(BookingRefused) as refused:
        move(scene.member, booking.id, to("2027-03-02 17:00", "2027-03-02 19:00"), now=NOW)
    assert [c.code for c in refused.value.conflicts] == ["outside_opening_hours"]


@pytest.mark.parametrize(("mover", "status", "decided"), [
    ("member", "pending", False),  # a request again, the approval forgotten
    ("manager", "confirmed", True),  # who may decide it moves it without a new request
])
def test_on_an_approval_resource_a_moved_booking_is_a_request_again(scene, mover, status,
                                                                    decided):
    scene.room.requires_approval = True
    db.session.commit()
    booking = booked(scene)
    decide(scene.manager, booking.id, approve=True)
    moved = move(getattr(scene, mover), booking.id, to("2027-03-02 14:00", "2027-03-02 15:00"),
                 now=NOW)
    assert (moved.status, moved.decided_by_id is not None) == (status, decided)


def test_only_who_may_cancel_may_move(scene, create_user, create_organisation):
    stranger = create_user(organisation=create_organisation())
    colleague = create_user(organisation=scene.booker)  # a member, not the booker
    booking = booked(scene)
    before = snapshot(booking.id)
    for user in (stranger, colleague):
        with pytest.raises(NotAllowed):
            move(user, booking.id, to("2027-03-02 14:00", "2027-03-02 15:00"), now=NOW)
    assert snapshot(booking.id) == before


def test_a_past_or_cancelled_booking_does_not_move(scene, create_booking):
    past = create_booking(scene.room, scene.booker, scene.member, NOW - timedelta(hours=3))
    with pytest.raises(InvalidTransition) as refused:
        move(scene.member, past.id, to("2027-03-02 14:00", "2027-03-02 15:00"), now=NOW)
    assert refused.value.code == "over"
    cancelled = create_booking(scene.room, scene.booker, scene.member, at("2027-03-05 10:00"),
                               status="cancelled")
    with pytest.raises(InvalidTransition) as refused:
        move(scene.member, cancelled.id, to("2027-03-02 14:00", "2027-03-02 15:00"), now=NOW)
    assert refused.value.code == "already_decided"


def test_a_missing_booking_and_bad_input(scene):
    with pytest.raises(LookupError):
        move(scene.member, 2**31 - 1, BookingChanges(title="x"), now=NOW)
    booking = booked(scene)
    before = snapshot(booking.id)
    with pytest.raises(InvalidInput) as error:
        move(scene.member, booking.id, BookingChanges(quantity=0, title="x" * 201), now=NOW)
    assert set(error.value.fields) == {"quantity", "title"}
    assert snapshot(booking.id) == before


# --- credits ------------------------------------------------------------------------------

@pytest.fixture
def priced(scene, create_user):
    """The room costs 4 credits an hour; the booker was granted 10."""
    scene.room.price_cents = 400
    db.session.commit()
    coordinator = create_user(is_admin=True)
    credits.grant(coordinator, scene.booker, 10, "Dotation annuelle 2027")
    return scene


def balances(scene):
    return balance_cents(scene.booker.id), balance_cents(scene.owner.id)


def assert_ledger_sums_are_balances(*organisations):
    for organisation in organisations:
        assert balance_cents(organisation.id) == db.session.scalar(
            select(func.sum(CreditEntry.amount_cents))
            .where(CreditEntry.organisation_id == organisation.id))


def test_a_longer_move_pays_the_difference_and_a_shorter_one_gets_it_back(priced):
    booking = booked(priced)  # 1 hour: 4 credits
    assert balances(priced) == (600, 400)
    move(priced.member, booking.id, to("2027-03-02 10:00", "2027-03-02 12:00"), now=NOW)
    assert balances(priced) == (200, 800)
    move(priced.member, booking.id, to("2027-03-04 09:00", "2027-03-04 09:30"), now=NOW)
    assert balances(priced) == (800, 200)
    reasons = db.session.scalars(select(CreditEntry.reason)
                                 .where(CreditEntry.booking_id == booking.id)).all()
    assert sorted(set(reasons)) == ["charge", "move"]
    assert_ledger_sums_are_balances(priced.booker, priced.owner)


def test_a_move_that_would_cross_the_floor_is_refused_with_the_credit_reason(priced):
    booking = booked(priced)  # 4 paid, 6 left: 3 hours (12) would need 8 more
    before = snapshot(booking.id)
    with pytest.raises(BookingRefused) as refused:
        move(priced.member, booking.id, to("2027-03-02 10:00", "2027-03-02 13:00"), now=NOW)
    assert [c.code for c in refused.value.conflicts] == ["credit"]
    assert snapshot(booking.id) == before and balances(priced) == (600, 400)


def test_a_booking_sent_back_for_approval_is_refunded_until_approved(priced):
    booking = booked(priced)
    priced.room.requires_approval = True
    db.session.commit()
    move(priced.member, booking.id, to("2027-03-02 14:00", "2027-03-02 16:00"), now=NOW)
    assert balances(priced) == (1000, 0)
    decide(priced.manager, booking.id, approve=True)
    assert balances(priced) == (200, 800)
    assert_ledger_sums_are_balances(priced.booker, priced.owner)


def test_a_swap_to_another_owner_moves_the_credit_to_that_owner(priced, create_resource,
                                                                 create_organisation):
    other_owner = create_organisation()
    other = create_resource(kind="room", owner=other_owner, site=priced.room.site, capacity=12,
                            slot_minutes=15, price_cents=200)
    booking = booked(priced)
    move(priced.member, booking.id, BookingChanges(resource_id=other.id), now=NOW)
    assert balances(priced) == (800, 0) and balance_cents(other_owner.id) == 200
    assert_ledger_sums_are_balances(priced.booker, priced.owner, other_owner)


# --- expiry -------------------------------------------------------------------------------

def test_past_requests_expire_hold_nothing_and_cannot_be_approved(priced, create_booking):
    priced.room.requires_approval = True
    db.session.commit()
    request = create_booking(priced.room, priced.booker, priced.member,
                             NOW + timedelta(hours=2), status="pending")
    later = create_booking(priced.room, priced.booker, priced.member,
                           NOW + timedelta(days=2), status="pending")
    assert expire_past_requests(NOW + timedelta(hours=3)) == 1
    assert expire_past_requests(NOW + timedelta(hours=3)) == 0
    db.session.refresh(request)
    assert (request.status, request.sequence) == ("expired", 1)
    assert db.session.get(Booking, later.id).status == "pending"
    with pytest.raises(InvalidTransition) as refused:
        decide(priced.manager, request.id, approve=True)
    assert refused.value.code == "expired"
    assert balances(priced) == (1000, 0)  # an expired request never cost anything


def test_the_worker_expires_requests_and_their_units_are_free_again(scene, create_booking):
    scene.room.requires_approval = True
    db.session.commit()
    start = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    request = create_booking(scene.room, scene.booker, scene.member, start, minutes=120,
                             status="pending")
    assert run_once()["expiry"] == 1
    db.session.refresh(request)
    assert request.status == "expired"
    # the time it asked for is free: another booking of the one-unit room fits there
    free = check(scene.manager, BookingRequest(
        resource_id=scene.room.id, organisation_id=scene.owner.id,
        start=start + timedelta(minutes=60), end=start + timedelta(minutes=90)),
        now=start - timedelta(days=1))
    assert "capacity" not in {c.code for c in free}
