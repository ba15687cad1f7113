"""Mutual credits: what a booking costs, the floor a booking may not cross, and the ledger
entries that move credits between the booking organisation and the resource's owner.

Amounts are integers in hundredths of a credit, so sums are exact on every database. A
balance is the sum of the organisation's entries (no running total to drift). Debits
happen only while the booking organisation's row is locked (PostgreSQL) or the database's
write lock is held (SQLite), so two bookings never both pass the floor check. Credits to
the owner need no lock: more credit never crosses a floor.
"""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select

from sharing.core.database import is_postgresql
from sharing.core.extensions import db
from sharing.engine.rules import Conflict, Slot
from sharing.models import (
    Booking,
    CreditEntry,
    CreditSettings,
    Organisation,
    Resource,
    free_cancellation_deadline,
)

SECONDS_PER_HOUR = 3600


def price_cents(resource: Resource, organisation_id: int, start: datetime, end: datetime,
                quantity: int = 1) -> int:
    """What booking the resource costs the organisation: the owner's own bookings are
    free; per hour, the price is prorated to the second and rounded to the hundredth."""
    if resource.price_cents is None or resource.owner_organisation_id == organisation_id:
        return 0
    if resource.price_unit == "booking":
        return resource.price_cents * quantity
    seconds = round((end - start).total_seconds())
    return (resource.price_cents * quantity * seconds + SECONDS_PER_HOUR // 2) \
        // SECONDS_PER_HOUR


def booking_price_cents(booking: Booking) -> int:
    return price_cents(booking.resource, booking.organisation_id, booking.starts_at,
                       booking.ends_at, booking.quantity)


def balance_cents(organisation_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(CreditEntry.amount_cents), 0))
                             .where(CreditEntry.organisation_id == organisation_id))


def pole_floor_cents() -> int:
    settings = db.session.get(CreditSettings, 1)
    return settings.default_floor_cents if settings else 0


def floor_cents(organisation: Organisation) -> int:
    if organisation.credit_floor_cents is not None:
        return organisation.credit_floor_cents
    return pole_floor_cents()


def lock_organisations(organisation_ids: list[int]) -> None:
    """Row locks on the organisations whose balances may go down, by id (no deadlock).

    FOR NO KEY UPDATE: writing a ledger entry that names a locked organisation (its
    foreign key takes a KEY SHARE lock) is not blocked by it.
    """
    if is_postgresql():
        db.session.execute(select(Organisation.id).where(Organisation.id.in_(organisation_ids))
                           .order_by(Organisation.id).with_for_update(key_share=True))


def floor_refusal(organisation: Organisation, cost_cents: int) -> dict[str, int] | None:
    """The `credit` reason's values (price, balance, floor, in hundredths of a credit)
    when spending `cost_cents` would cross the floor; None when the balance allows it."""
    balance, floor = balance_cents(organisation.id), floor_cents(organisation)
    if cost_cents <= 0 or balance - cost_cents >= floor:
        return None
    return {"price": cost_cents, "balance": balance, "floor": floor}


def net_by_organisation(booking: Booking) -> dict[int, int]:
    rows = db.session.execute(
        select(CreditEntry.organisation_id, func.sum(CreditEntry.amount_cents))
        .where(CreditEntry.booking_id == booking.id).group_by(CreditEntry.organisation_id))
    return {org_id: total for org_id, total in rows}


def settle(booking: Booking, due_cents: int, reason: str) -> list[CreditEntry]:
    """Write the entries that make the booking's transfer equal `due_cents`, from the
    booking organisation to the resource's owner: a charge, a refund (due 0) or the
    difference after a move. Nothing is written when it already does."""
    target: dict[int, int] = defaultdict(int)  # the booking organisation first
    target[booking.organisation_id] -= due_cents
    target[booking.resource.owner_organisation_id] += due_cents
    current = net_by_organisation(booking)
    entries = [CreditEntry(organisation_id=org_id, booking_id=booking.id, reason=reason,
                           amount_cents=target[org_id] - current.get(org_id, 0))
               for org_id in [*target, *(set(current) - set(target))]
               if target[org_id] != current.get(org_id, 0)]
    db.session.add_all(entries)
    return entries


def charge(bookings: list[Booking]) -> None:
    """Debit the booking organisation and credit the owner for each confirmed booking."""
    db.session.flush()  # the bookings need their ids
    for booking in bookings:
        due = booking_price_cents(booking) if booking.status == "confirmed" else 0
        if due:  # a booking charged here holds no entry yet: a free one needs none
            settle(booking, due, "charge")
    db.session.flush()  # the next balance check must see these entries


def refund_if_in_time(booking: Booking, now: datetime) -> None:
    """Before the resource's free-cancellation deadline both sides are refunded."""
    if now < free_cancellation_deadline(booking.starts_at,
                                        booking.resource.free_cancellation_minutes):
        settle(booking, 0, "refund")


def credit_conflicts(slots: list[Slot], organisation_id: int) -> list[Conflict]:
    """The `credit` reason when what the slots cost would take the booking organisation
    below its floor (a request is checked too, so that it can be approved)."""
    cost = sum(price_cents(slot.resource, organisation_id, slot.start, slot.end, slot.quantity)
               for slot in slots)
    organisation = db.session.get(Organisation, organisation_id)
    refusal = floor_refusal(organisation, cost) if cost > 0 and organisation else None
    return [Conflict("credit", refusal, resource_id=slots[0].resource.id)] if refusal else []


def charge_difference(booking: Booking) -> None:
    """After a booking's interval or units changed: charge or refund the difference.

    The caller holds the locks of `lock_organisations`; a dearer booking that would take
    the booking organisation below its floor is refused with the `credit` reason.
    """
    if booking.status != "confirmed":
        return
    due = booking_price_cents(booking)
    increase = due + net_by_organisation(booking).get(booking.organisation_id, 0)
    refusal = floor_refusal(booking.organisation, increase)
    if refusal:
        raise CreditRefused(Conflict("credit", refusal, booking.starts_at, booking.ends_at,
                                     booking.resource_id))
    settle(booking, due, "move")


class CreditRefused(Exception):
    """The booking organisation's balance cannot pay for this change."""

    def __init__(self, conflict: Conflict):
        super().__init__(conflict.code)
        self.conflict = conflict
