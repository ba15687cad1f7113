"""Mutual credits through the engine: confirm, approve, reject, move, cancel in and out
of time, the floor and its `credit` reason, grants, and the append-only ledger."""

from datetime import timedelta

import pytest
from engine_helpers import NOW, at
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from sharing.core.database import write_transaction
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.engine import BookingRefused, NotAllowed, book, cancel, check, decide
from sharing.engine.credits import CreditRefused, balance_cents, charge_difference
from sharing.models import Booking, CreditEntry, CreditSettings
from sharing.services import credits
from sharing.services.messages import describe


@pytest.fixture
def coordinator(create_user):
    return create_user(email="coordination@example.org", is_admin=True)


@pytest.fixture
def priced(scene, coordinator):
    """The room costs 4 credits an hour; the booker was granted 10."""
    scene.room.price_cents = 400
    db.session.commit()
    credits.grant(coordinator, scene.booker, 10, "Dotation annuelle 2027")
    return scene


def entries(booking_id=None):
    query = select(CreditEntry).order_by(CreditEntry.id)
    if booking_id is not None:
        query = query.where(CreditEntry.booking_id == booking_id)
    return list(db.session.scalars(query))


def balances(scene):
    return balance_cents(scene.booker.id), balance_cents(scene.owner.id)


def test_a_confirmed_booking_moves_its_price_from_booker_to_owner(priced):
    (booking,) = book(priced.member, priced.request("2027-03-02 10:00", "2027-03-02 11:30"),
                      now=NOW).bookings
    assert balances(priced) == (1000 - 600, 600)
    debit, credit = entries(booking.id)
    assert (debit.organisation_id, debit.amount_cents, debit.reason) == \
        (priced.booker.id, -600, "charge")
    assert (credit.organisation_id, credit.amount_cents) == (priced.owner.id, 600)


def test_the_owner_books_its_own_resource_for_free(priced):
    book(priced.manager, priced.request("2027-03-02 10:00", "2027-03-02 11:00",
                                        organisation_id=priced.owner.id), now=NOW)
    assert balances(priced) == (1000, 0) and len(entries()) == 1  # the grant only


def test_a_price_per_booking_counts_each_unit(priced):
    priced.room.price_unit, priced.room.price_cents, priced.room.quantity = "booking", 150, 3
    db.session.commit()
    book(priced.member, priced.request("2027-03-02 10:00", "2027-03-02 18:00", quantity=2),
         now=NOW)
    assert balances(priced) == (700, 300)


def test_a_request_costs_nothing_until_approved_and_nothing_if_rejected(priced):
    priced.room.requires_approval = True
    db.session.commit()
    first, second = (book(priced.member, priced.request(f"2027-03-0{d} 10:00",
                                                        f"2027-03-0{d} 11:00"), now=NOW)
                     .bookings[0] for d in (2, 3))
    assert first.status == "pending" and balances(priced) == (1000, 0)
    decide(priced.manager, first.id, approve=True)
    assert balances(priced) == (600, 400)
    decide(priced.manager, second.id, approve=False, reason="Complet")
    assert balances(priced) == (600, 400) and entries(second.id) == []


def test_approval_is_refused_when_the_balance_no_longer_covers_the_price(priced, create_resource):
    priced.room.requires_approval = True
    van = create_resource(kind="equipment", owner=priced.owner, site=priced.room.site,
                          price_cents=700)
    (request,) = book(priced.member, priced.request("2027-03-02 10:00", "2027-03-02 11:00"),
                      now=NOW).bookings
    book(priced.member, priced.request("2027-03-03 10:00", "2027-03-03 11:00", resource=van),
         now=NOW)
    with pytest.raises(BookingRefused) as refused:
        decide(priced.manager, request.id, approve=True)
    (conflict,) = refused.value.conflicts
    assert conflict.code == "credit" and "4" in describe(conflict) and "3" in describe(conflict)
    assert db.session.get(Booking, request.id).status == "pending"
    assert balances(priced) == (300, 700)


def test_a_booking_that_would_cross_the_floor_is_refused_with_balance_and_price(priced):
    with pytest.raises(BookingRefused) as refused:
        book(priced.member, priced.request("2027-03-02 10:00", "2027-03-02 13:00"), now=NOW)
    (conflict,) = refused.value.conflicts
    assert conflict.code == "credit" and conflict.resource_id == priced.room.id
    assert "12" in describe(conflict) and "10" in describe(conflict) and "0" in describe(conflict)
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
    assert balances(priced) == (1000, 0)
    assert [c.code for c in check(priced.member, priced.request(
        "2027-03-02 10:00", "2027-03-02 13:00"), now=NOW)] == ["credit"]


def test_the_organisation_floor_wins_over_the_pole_floor(priced, coordinator):
    credits.set_pole_floor(coordinator, -1)
    request = priced.request("2027-03-02 10:00", "2027-03-02 13:00")
    with pytest.raises(BookingRefused):
        book(priced.member, request, now=NOW)
    credits.set_floor(coordinator, priced.booker, "-2.5")
    book(priced.member, request, now=NOW)
    assert balances(priced) == (-200, 1200)
    credits.set_floor(coordinator, priced.booker, None)
    assert db.session.get(CreditSettings, 1).default_floor_cents == -100
    with pytest.raises(BookingRefused):
        book(priced.member, priced.request("2027-03-03 10:00", "2027-03-03 10:15"), now=NOW)


def test_a_series_stops_where_the_credits_run_out(priced):
    request = priced.request("2027-03-02 10:00", "2027-03-02 11:00",
                             recurrence="FREQ=WEEKLY;COUNT=4", skip_conflicts=True)
    result = book(priced.member, request, now=NOW)
    assert len(result.bookings) == 2
    assert [c.code for s in result.skipped for c in s.conflicts] == ["credit", "credit"]
    assert balances(priced) == (200, 800)


@pytest.fixture
def booked_a_day_ahead(priced):
    """A booking of the room, which is refunded when cancelled at least 24 hours ahead."""
    priced.room.free_cancellation_minutes = 24 * 60
    db.session.commit()
    return book(priced.member, priced.request("2027-03-02 10:00", "2027-03-02 11:00"),
                now=NOW).bookings[0]


def test_a_cancellation_before_the_deadline_refunds_both_sides(priced, booked_a_day_ahead):
    cancel(priced.member, booked_a_day_ahead.id, now=at("2027-03-01 09:59"))
    assert balances(priced) == (1000, 0)
    assert [(e.reason, e.amount_cents) for e in entries(booked_a_day_ahead.id)] == [
        ("charge", -400), ("charge", 400), ("refund", 400), ("refund", -400)]


def test_a_cancellation_after_the_deadline_refunds_nothing(priced, booked_a_day_ahead):
    cancel(priced.member, booked_a_day_ahead.id, now=at("2027-03-01 10:01"))
    assert balances(priced) == (600, 400) and len(entries(booked_a_day_ahead.id)) == 2


def move(booking, minutes):
    with write_transaction():
        booking = db.session.get(Booking, booking.id)
        booking.ends_at += timedelta(minutes=minutes)
        booking.blocks_until += timedelta(minutes=minutes)
        charge_difference(booking)


def test_a_moved_booking_pays_or_gets_back_the_difference(priced):
    (booking,) = book(priced.member, priced.request("2027-03-02 10:00", "2027-03-02 11:00"),
                      now=NOW).bookings
    move(booking, 60)
    assert balances(priced) == (200, 800)
    move(booking, -90)
    assert balances(priced) == (800, 200)
    assert [e.reason for e in entries(booking.id)] == ["charge"] * 2 + ["move"] * 4
    with pytest.raises(CreditRefused) as refused:
        move(booking, 150)  # 3 hours = 12 credits: 10 more than the 2 paid, 8 left
    assert refused.value.conflict.code == "credit"
    assert balances(priced) == (800, 200)


def test_grants_and_withdrawals_carry_a_memo_and_their_author(priced, coordinator):
    entry = credits.grant(coordinator, priced.booker, "-2.25", "  Correction  ")
    assert (entry.amount_cents, entry.memo, entry.author_id) == (-225, "Correction",
                                                                  coordinator.id)
    assert balance_cents(priced.booker.id) == 775


@pytest.mark.parametrize(("amount", "memo", "fields"), [
    (0, "x", {"amount"}), ("1.234", "x", {"amount"}), ("abc", "", {"amount", "memo"}),
    (True, "x", {"amount"}), (10**7, "x", {"amount"}), ("nan", "x", {"amount"}),
    (5, "x" * 301, {"memo"}), (5, None, {"memo"}),
])
def test_bad_grants_name_their_fields_and_write_nothing(priced, coordinator, amount, memo,
                                                        fields):
    with pytest.raises(InvalidInput) as error:
        credits.grant(coordinator, priced.booker, amount, memo)
    assert set(error.value.fields) == fields
    assert len(entries()) == 1


def test_only_the_coordinator_grants_or_sets_floors(priced):
    for user in (priced.manager, priced.member):
        with pytest.raises(NotAllowed):
            credits.grant(user, priced.booker, 5, "Subvention")
        with pytest.raises(NotAllowed):
            credits.set_floor(user, priced.booker, -5)
        with pytest.raises(NotAllowed):
            credits.set_pole_floor(user, -5)
    assert len(entries()) == 1


@pytest.mark.parametrize("statement", [
    "UPDATE credit_entry SET amount_cents = 1", "DELETE FROM credit_entry"])
def test_the_database_refuses_to_edit_or_delete_an_entry(priced, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert [e.amount_cents for e in entries()] == [1000]
