"""Moving a booking (its time, units, title, note, or a similar resource), and expiring
the requests nobody decided before they began.

A move is `book`'s transaction on an existing row: the same locks (organisations by id,
then resources by id, the old and the new one), the same rules, the booking stepping out
of its own way (its units and its quota hours do not count against itself). The row, its
`uid` and its credits stay; `sequence` goes up so that calendars replace the event. On a
refusal nothing is written, and alternatives are looked for after the locks are gone.
"""

from dataclasses import replace
from datetime import datetime

from sqlalchemy import exists, select, update

from sharing.core.database import utcnow, write_transaction
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput, Problem, is_row_id
from sharing.engine.alternatives import find_similar_resources
from sharing.engine.booking import (
    alternatives_if_reachable,
    calendar_for,
    field_errors,
    lock_resources,
    slots_of,
)
from sharing.engine.contracts import (
    BookingChanges,
    BookingRefused,
    BookingRequest,
    InvalidTransition,
    NotAllowed,
)
from sharing.engine.credits import (
    CreditRefused,
    charge_difference,
    credit_conflicts,
    lock_organisations,
    settle,
)
from sharing.engine.quotas import Period, QuotaLedger, overlap_hours
from sharing.engine.rules import Conflict, Slot, check_slot
from sharing.engine.times import to_utc
from sharing.models import HOLDING_STATUSES, Booking, Quota, Resource, User
from sharing.services.permissions import can_decide_on, can_move_booking


def move(user: User, booking_id: int, changes: BookingChanges,
         now: datetime | None = None) -> Booking:
    """Change a holding booking that has not ended, all or nothing.

    Raises LookupError (no such booking), NotAllowed, InvalidTransition (not holding,
    over), InvalidInput (malformed change) or BookingRefused (with alternatives).
    """
    now = now or utcnow()
    wanted = None
    try:
        with write_transaction():
            booking = locked_for_move(booking_id, changes.resource_id)
            check_movable(user, booking, now)
            wanted = moved_request(booking, changes)
            apply_move(user, booking, wanted, validated_resource(booking, wanted), now)
    except BookingRefused as refused:
        # As the booking's own organisation and booker: their rules, their quotas.
        refused.alternatives = alternatives_if_reachable(booking.user, wanted, now)
        raise
    return booking


def locked_for_move(booking_id: int, new_resource_id: int | None) -> Booking:
    """The booking, once both organisations whose balances may go down (the booker's,
    and the owner's on a refund) and both resources are locked."""
    booking = db.session.get(Booking, booking_id) if is_row_id(booking_id) else None
    if booking is None:
        raise LookupError(booking_id)
    resource_id = booking.resource_id
    lock_organisations(sorted({booking.organisation_id,
                               booking.resource.owner_organisation_id}))
    new_ids = [new_resource_id] if is_row_id(new_resource_id) else []
    lock_resources(sorted({resource_id, *new_ids}))
    db.session.refresh(booking)
    if booking.resource_id != resource_id:  # moved elsewhere while we waited
        raise InvalidTransition("changed_meanwhile")
    return booking


def why_not_movable(user: User, booking: Booking, now: datetime
                    ) -> NotAllowed | InvalidTransition | None:
    """What stops the user moving the booking now (None: nothing). Only holding bookings
    that have not ended move: the past stays as it was, for feeds and reports."""
    if not can_move_booking(user, booking):
        return NotAllowed()
    if booking.status not in HOLDING_STATUSES:
        return InvalidTransition("already_decided", status=booking.status)
    if booking.ends_at <= now:
        return InvalidTransition("over")
    return None


def check_movable(user: User, booking: Booking, now: datetime) -> None:
    refusal = why_not_movable(user, booking, now)
    if refusal is not None:
        raise refusal


def kept(changes: BookingChanges, name: str, current):
    value = getattr(changes, name)
    return current if value is None else value


def moved_request(booking: Booking, changes: BookingChanges) -> BookingRequest:
    """The booking as it would be after the changes, as a request to the rules."""
    return BookingRequest(
        resource_id=kept(changes, "resource_id", booking.resource_id),
        organisation_id=booking.organisation_id,
        start=kept(changes, "start", booking.starts_at), end=kept(changes, "end", booking.ends_at),
        quantity=kept(changes, "quantity", booking.quantity),
        title=kept(changes, "title", booking.title), note=kept(changes, "note", booking.note))


def validated_resource(booking: Booking, wanted: BookingRequest) -> Resource:
    """The resource after the move: its own, or one similar to it (same kind and site,
    big enough, its tags); raises InvalidInput."""
    errors = field_errors(wanted)
    if wanted.resource_id != booking.resource_id and wanted.resource_id not in {
            r.id for r in find_similar_resources(booking.resource, 1, booking.organisation_id)}:
        errors["resource_id"] = [Problem("not_similar")]
    if errors:
        raise InvalidInput(errors)
    return db.session.get(Resource, wanted.resource_id)


def is_slot_changed(booking: Booking, slot: Slot) -> bool:
    return (slot.resource.id, to_utc(slot.start), to_utc(slot.end), slot.quantity) != (
        booking.resource_id, booking.starts_at, booking.ends_at, booking.quantity)


def apply_move(user: User, booking: Booking, wanted: BookingRequest, resource: Resource,
               now: datetime) -> None:
    slot = slots_of([resource], wanted, wanted.start, wanted.end)[0]
    texts = (wanted.title.strip(), wanted.note.strip())
    if not is_slot_changed(booking, slot):
        if texts != (booking.title, booking.note):
            booking.title, booking.note = texts
            booking.sequence += 1
        return
    conflicts = move_conflicts(booking, slot, now)
    if conflicts:
        raise BookingRefused(conflicts)
    status = status_after_move(user, booking, resource)
    place(booking, slot, status)
    booking.title, booking.note = texts
    booking.sequence += 1
    settle_move(booking, slot)


def move_conflicts(booking: Booking, slot: Slot, now: datetime) -> list[Conflict]:
    """`book`'s rules for the booker, the booking itself out of the way."""
    calendar = calendar_for(slot)
    calendar = replace(calendar, occupancies=[
        o for o in calendar.occupancies if o.booking_id != booking.id])
    return check_slot(slot, calendar, booking.user, booking.organisation_id, now,
                      LedgerWithout(booking))


def status_after_move(user: User, booking: Booking, resource: Resource) -> str:
    """On a resource that asks for approval the moved booking is a request again, unless
    the one who moves it may decide it there."""
    if not resource.requires_approval:
        return "confirmed"
    return booking.status if can_decide_on(user, resource) else "pending"


def place(booking: Booking, slot: Slot, status: str) -> None:
    booking.resource = slot.resource
    booking.starts_at, booking.ends_at = to_utc(slot.start), to_utc(slot.end)
    booking.blocks_until = to_utc(slot.blocks_until)
    booking.quantity = slot.quantity
    if status == "pending" and booking.status != "pending":  # the decision no longer holds
        booking.decided_by_id, booking.decided_at, booking.decision_reason = None, None, ""
    booking.status = status


def settle_move(booking: Booking, slot: Slot) -> None:
    """A confirmed booking pays the difference; a request holds no credits until approved
    (a booking sent back for approval is refunded) but must be payable, as in `book`."""
    db.session.flush()
    if booking.status == "confirmed":
        try:
            charge_difference(booking)
        except CreditRefused as refused:
            raise BookingRefused([refused.conflict]) from None
        return
    settle(booking, 0, "move")
    db.session.flush()
    conflicts = credit_conflicts([slot], booking.organisation_id)
    if conflicts:
        raise BookingRefused(conflicts)


class LedgerWithout(QuotaLedger):
    """Hours used, less those of the booking being moved: it leaves its place."""

    def __init__(self, booking: Booking) -> None:
        super().__init__()
        self.booking = booking

    def hours_used(self, quota: Quota, periods: list[Period]) -> list[float]:
        return [hours - own_hours(self.booking, quota, period) for hours, period
                in zip(super().hours_used(quota, periods), periods, strict=True)]


def own_hours(booking: Booking, quota: Quota, period: Period) -> float:
    in_scope = booking.resource_id == quota.resource_id if quota.resource_id is not None \
        else booking.resource.kind == quota.resource_kind
    return overlap_hours(booking.starts_at, booking.ends_at, period) if in_scope else 0.0


# --- requests nobody decided in time ----------------------------------------------------------

def has_past_requests(now: datetime) -> bool:
    return bool(db.session.scalar(select(exists().where(
        Booking.status == "pending", Booking.starts_at <= now))))


def expire_past_requests(now: datetime | None = None) -> int:
    """Pending requests whose start has passed become `expired` (they held no credits);
    returns how many. One UPDATE that re-reads each row's status: a request approved
    meanwhile stays approved. Cheap when there is nothing to expire (an index read)."""
    now = now or utcnow()
    if not has_past_requests(now):
        return 0
    with write_transaction():
        result = db.session.execute(
            update(Booking).where(Booking.status == "pending", Booking.starts_at <= now)
            .values(status="expired", sequence=Booking.sequence + 1, updated_at=now)
            .execution_options(synchronize_session=False))
    return result.rowcount  # the commit expired the rows loaded: they are read again
