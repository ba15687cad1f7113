"""Booking, cancelling, approving: the transactions that change who holds what.

Every change runs in `write_transaction`: on SQLite it holds the database's write lock
from its first statement; on PostgreSQL it locks the booking organisation's row (its
quotas) and the resources' rows, always in that order and by id, before reading
anything it checks. A check and the insert it allows are therefore one atomic step,
whatever the number of processes or servers.
"""

import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload

from sharing.core.database import (
    DATABASE_UNREACHABLE,
    is_postgresql,
    read_transaction,
    utcnow,
    write_transaction,
)
from sharing.core.extensions import db
from sharing.core.validation import (
    LARGEST_COUNT,
    InvalidInput,
    Message,
    Problem,
    date_range_errors,
    is_row_id,
    is_whole_number,
)
from sharing.engine.alternatives import find_alternatives
from sharing.engine.calendar import ResourceCalendar, load_calendar
from sharing.engine.contracts import (
    Alternative,
    BookingRefused,
    BookingRequest,
    BookingResult,
    InvalidTransition,
    NotAllowed,
    Skipped,
)
from sharing.engine.credits import (
    booking_price_cents,
    charge,
    credit_conflicts,
    floor_refusal,
    lock_organisations,
    refund_if_in_time,
)
from sharing.engine.policy import LONGEST_OCCUPANCY
from sharing.engine.quotas import QuotaLedger
from sharing.engine.recurrence import expand
from sharing.engine.rules import Conflict, Slot, check_slot
from sharing.engine.times import to_utc, zone
from sharing.models import HOLDING_STATUSES, Booking, BookingSeries, Organisation, Resource, User
from sharing.services.permissions import can_cancel_booking, can_decide_booking

TITLE_LENGTH = 200
NOTE_LENGTH = 5000
REASON_LENGTH = 500


def field_errors(request: BookingRequest) -> dict[str, list[Message]]:
    errors = shape_errors(request)
    if load_organisation(request.organisation_id, lock=False) is None:
        errors["organisation_id"] = [Problem("unknown_organisation")]
    return errors


def shape_errors(request: BookingRequest) -> dict[str, list[Message]]:
    """What is wrong with the request's fields, but for the organisation's existence."""
    errors: dict[str, list[Message]] = {}
    if not is_whole_number(request.quantity, 1, LARGEST_COUNT):
        errors["quantity"] = [Problem("whole_units")]
    for name, longest in (("title", TITLE_LENGTH), ("note", NOTE_LENGTH)):
        if not isinstance(getattr(request, name), str) or len(getattr(request, name)) > longest:
            errors[name] = [Problem("too_many_characters", {"n": longest})]
    for name in ("start", "end"):
        moment = getattr(request, name)
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            errors[name] = [Problem("offset_required")]
        else:
            errors.update(date_range_errors(**{name: moment}))
    return errors


def load_organisation(organisation_id: object, lock: bool) -> Organisation | None:
    """The booking organisation; with `lock`, read under its row lock on PostgreSQL (as
    `lock_organisations` takes it), which guards its quotas and its credit floor."""
    if not is_row_id(organisation_id):
        return None
    if not (lock and is_postgresql()):
        return db.session.get(Organisation, organisation_id)
    return db.session.scalars(
        select(Organisation).where(Organisation.id == organisation_id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)).first()


def requested_ids(request: BookingRequest) -> list[object]:
    """The main resource first."""
    return [request.resource_id, *request.extra_resource_ids]


def validate_request(request: BookingRequest, lock: bool = False
                     ) -> tuple[Organisation, list[Resource]]:
    """Check the request's shape and load its organisation, then its resources (main
    first), a statement each; raise InvalidInput. The caller keeps the organisation
    while it works: the session holds only what is referenced, and the permission, credit
    and mail steps look it up again.

    `lock`: in a write transaction, under the booking's row locks on PostgreSQL, taken in a
    fixed order (the organisation, then the resources by id): no deadlock. The checks
    then read the policies and `longest_booking_minutes` as they stand under the locks.
    """
    errors = shape_errors(request)
    organisation = load_organisation(request.organisation_id, lock)
    if organisation is None:
        errors["organisation_id"] = [Problem("unknown_organisation")]
    ids = requested_ids(request)
    if len(set(ids)) != len(ids):
        errors["extra_resource_ids"] = [Problem("repeated_resource")]
    resources = load_resources(ids, lock)
    if resources[0] is None:
        errors["resource_id"] = [Problem("unknown_resource")]
    if None in resources[1:]:
        errors["extra_resource_ids"] = [Problem("unknown_resource")]
    if errors:
        raise InvalidInput(errors)
    return organisation, resources


def load_resources(ids: list[object], lock: bool) -> list[Resource | None]:
    """The resources in one statement, None for an unknown id; with their site (its
    clock) and their owner (the booking's messages name it)."""
    query = select(Resource).options(joinedload(Resource.site, innerjoin=True),
                                     joinedload(Resource.owner, innerjoin=True)) \
        .where(Resource.id.in_([rid for rid in ids if is_row_id(rid)])).order_by(Resource.id) \
        .execution_options(populate_existing=True)
    if lock and is_postgresql():
        query = query.with_for_update(of=Resource)
    found = {resource.id: resource for resource in db.session.scalars(query)}
    return [found.get(rid) if is_row_id(rid) else None for rid in ids]


def occurrences_of(request: BookingRequest, main: Resource) -> list[tuple[datetime, datetime]]:
    if request.recurrence is None:
        return [(request.start, request.end)]
    if request.end <= request.start:
        raise InvalidInput(end=Problem("invalid_interval"))
    return expand(request.recurrence, request.start, request.end, zone(main.timezone))


def reload_booker(user: User) -> None:
    """The booker and their memberships in one statement: the commit that began the
    transaction expired them, and the permission check reads both."""
    identity = inspect(user).identity
    if identity is not None:
        db.session.scalars(select(User).options(joinedload(User.memberships))
                           .where(User.id == identity[0])
                           .execution_options(populate_existing=True)).unique().all()


def lock_resources(resource_ids: list[int]) -> None:
    if is_postgresql():
        db.session.execute(select(Resource.id).where(Resource.id.in_(resource_ids))
                           .order_by(Resource.id).with_for_update())


def slots_of(resources: list[Resource], request: BookingRequest, start: datetime,
             end: datetime) -> list[Slot]:
    """The main resource with the units asked for; each extra resource with one."""
    return [Slot(resource, start, end, request.quantity if index == 0 else 1)
            for index, resource in enumerate(resources)]


def check_slots(slots: list[Slot], request: BookingRequest, user: User, now: datetime,
                ledger: QuotaLedger | None = None) -> list[Conflict]:
    return [conflict for slot in slots for conflict in check_slot(
        slot, calendar_for(slot), user, request.organisation_id, now, ledger)]


def calendar_for(slot: Slot) -> ResourceCalendar:
    """What holds the resource during the slot, read over no more than the longest
    occupancy: a longer slot is refused (too_long) whatever the calendar holds."""
    end = min(slot.blocks_until, to_utc(slot.start) + LONGEST_OCCUPANCY)
    return load_calendar(slot.resource.id, slot.start, max(slot.start, end),
                         slot.resource.longest_booking_minutes)


def new_booking(slot: Slot, request: BookingRequest, user: User,
                series: BookingSeries | None, group: str | None) -> Booking:
    booking = Booking(
        resource_id=slot.resource.id, organisation_id=request.organisation_id, user_id=user.id,
        starts_at=to_utc(slot.start), ends_at=to_utc(slot.end),
        blocks_until=to_utc(slot.blocks_until), quantity=slot.quantity,
        title=request.title.strip(), note=request.note.strip(),
        status="pending" if slot.resource.requires_approval else "confirmed",
        series=series, group_uid=group)
    db.session.add(booking)
    return booking


def book_occurrences(resources: list[Resource], request: BookingRequest, user: User,
                     occurrences: list[tuple[datetime, datetime]], now: datetime
                     ) -> BookingResult:
    series = BookingSeries(rrule=request.recurrence, created_by_id=user.id) \
        if request.recurrence else None
    result, refused = BookingResult([]), []
    ledger = QuotaLedger()  # the quotas' sums, read once per week and month of the series
    for start, end in occurrences:
        slots = slots_of(resources, request, start, end)
        conflicts = check_slots(slots, request, user, now, ledger) \
            + credit_conflicts(slots, request.organisation_id)
        if conflicts:
            (result.skipped if request.skip_conflicts else refused).append(
                Skipped(start, end, conflicts))
            continue
        group = uuid.uuid4().hex if len(slots) > 1 else None
        booked = [new_booking(slot, request, user, series, group) for slot in slots]
        charge(booked)  # later occurrences (quotas, credits) see these rows and entries
        count_in_quotas(ledger, slots, request.organisation_id)
        result.bookings += booked
    if refused or not result.bookings:
        clashing = refused or result.skipped
        raise BookingRefused([c for skipped in clashing for c in dated(skipped)],
                             clashing=clashing, occurrences=len(occurrences))
    return result


def count_in_quotas(ledger: QuotaLedger, slots: list[Slot], organisation_id: int) -> None:
    for slot in slots:
        ledger.count_booked(slot.resource, organisation_id, slot.start, slot.end)


def dated(skipped: Skipped) -> list[Conflict]:
    """A series' conflicts say which occurrence they are about."""
    return [c if c.start else replace(c, start=skipped.start, end=skipped.end)
            for c in skipped.conflicts]


def book(user: User, request: BookingRequest, now: datetime | None = None) -> BookingResult:
    """Book all or nothing (or, with `skip_conflicts`, the free occurrences of a series).

    Raises InvalidInput (malformed request) or BookingRefused (with alternatives for a
    single interval).
    """
    now = now or utcnow()
    try:
        with write_transaction():
            _organisation, resources = validate_request(request, lock=True)
            occurrences = occurrences_of(request, resources[0])
            reload_booker(user)
            result = book_occurrences(resources, request, user, occurrences, now)
    except BookingRefused as refused:
        if request.recurrence is None and not request.extra_resource_ids:
            refused.alternatives = alternatives_if_reachable(user, request, now)
        raise
    return result


def alternatives_if_reachable(user: User, request: BookingRequest, now: datetime
                              ) -> list[Alternative]:
    """The refusal stands on its own: a connection lost while looking for alternatives
    leaves it without them rather than failing the whole answer."""
    try:
        with read_transaction():
            return find_alternatives(user, request, now)
    except DATABASE_UNREACHABLE:
        db.session.rollback()  # drops the dead connection; the next statement gets another
        return []


def check(user: User, request: BookingRequest, now: datetime | None = None) -> list[Conflict]:
    """What `book` would object to, without booking (a dry run for forms)."""
    now = now or utcnow()
    _organisation, resources = validate_request(request)
    ledger, conflicts = QuotaLedger(), []
    for start, end in occurrences_of(request, resources[0]):
        slots = slots_of(resources, request, start, end)
        found = check_slots(slots, request, user, now, ledger) \
            + credit_conflicts(slots, request.organisation_id)
        if not found:  # as if booked: a series' later occurrences count it, as in `book`
            count_in_quotas(ledger, slots, request.organisation_id)
        conflicts += found
    return conflicts


def following_in_series(booking: Booking) -> list[Booking]:
    return list(db.session.scalars(select(Booking).where(
        Booking.series_id == booking.series_id, Booking.resource_id == booking.resource_id,
        Booking.starts_at >= booking.starts_at, Booking.status.in_(HOLDING_STATUSES))
        .order_by(Booking.starts_at)))


def validate_reason(reason: str, required: bool) -> str:
    if not isinstance(reason, str) or len(reason) > REASON_LENGTH:
        raise InvalidInput(reason=Problem("too_many_characters", {"n": REASON_LENGTH}))
    if required and not reason.strip():
        raise InvalidInput(reason=Problem("reason_required"))
    return reason.strip()


def record_decision(booking: Booking, status: str, user: User, reason: str) -> None:
    booking.status = status
    booking.sequence += 1
    booking.decided_by_id = user.id
    booking.decided_at = utcnow()
    booking.decision_reason = reason


def cancel(user: User, booking_id: int, reason: str = "", scope: str = "one",
           now: datetime | None = None) -> list[Booking]:
    """Cancel a booking, or it and the later occurrences of its series. Rows are kept;
    credits are refunded for each one cancelled before its free-cancellation deadline."""
    now = now or utcnow()
    if scope not in ("one", "following"):
        raise InvalidInput(scope=Problem("unknown_scope"))
    reason = validate_reason(reason, required=False)
    with write_transaction():
        booking = locked_booking(booking_id)
        if not can_cancel_booking(user, booking):
            raise NotAllowed
        if booking.status not in HOLDING_STATUSES:
            raise InvalidTransition("already_decided", status=booking.status)
        targets = following_in_series(booking) if scope == "following" and booking.series_id \
            else [booking]
        for target in targets:
            record_decision(target, "cancelled", user, reason)
            refund_if_in_time(target, now)
    return targets


def decide(user: User, booking_id: int, approve: bool, reason: str = "") -> Booking:
    """Approve or reject a pending request (the resource owner's managers)."""
    reason = validate_reason(reason, required=not approve)
    with write_transaction():
        booking = locked_booking(booking_id)
        if not can_decide_booking(user, booking):
            raise NotAllowed
        if booking.status != "pending":
            raise InvalidTransition("expired" if booking.status == "expired" else "not_pending")
        if approve:
            refuse_below_floor(booking)
        record_decision(booking, "confirmed" if approve else "rejected", user, reason)
        charge([booking])
    return booking


def refuse_below_floor(booking: Booking) -> None:
    refusal = floor_refusal(booking.organisation, booking_price_cents(booking))
    if refusal:
        raise BookingRefused([Conflict("credit", refusal, booking.starts_at, booking.ends_at,
                                       booking.resource_id)])


def locked_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise LookupError(booking_id)
    # both balances may go down: the booker's on approval, the owner's on a refund
    lock_organisations(sorted({booking.organisation_id,
                               booking.resource.owner_organisation_id}))
    lock_resources([booking.resource_id])
    db.session.refresh(booking)
    return booking
