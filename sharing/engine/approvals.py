"""Deciding many requests at once: whether each still fits, and approving those that do.

A request held its units from the moment it was made, but what changed since (a closure,
the owner's own calendar, fewer units, other rules) may now be in its way.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from sharing.core.database import utcnow
from sharing.engine.booking import decide
from sharing.engine.calendar import ResourceCalendar, load_calendars
from sharing.engine.contracts import BookingRefused, InvalidTransition, NotAllowed
from sharing.engine.rules import Conflict, Slot, resource_conflicts
from sharing.models import Booking, User
from sharing.services.permissions import can_decide_booking

# Notice is about when a request is made, not when it is decided.
NOT_AT_DECISION = ("too_soon", "too_far")


@dataclass
class Approvals:
    """What a bulk approval did: each request approved, or refused with its reasons."""

    approved: list[Booking] = field(default_factory=list)
    refused: list[tuple[Booking, list[Conflict | InvalidTransition]]] = field(
        default_factory=list)


def find_misfits(requests: list[Booking], now: datetime | None = None
                 ) -> dict[int, list[Conflict]]:
    """Request id → what now stands in its way (requests that still fit are left out).

    One calendar load for all the requests, whatever their number: a page of them costs
    a bounded number of queries.
    """
    if not requests:
        return {}
    now = now or utcnow()
    calendars = load_calendars({r.resource_id for r in requests},
                               min(r.starts_at for r in requests),
                               max(r.blocks_until for r in requests))
    found = {r.id: request_conflicts(r, calendars[r.resource_id], now) for r in requests}
    return {ident: conflicts for ident, conflicts in found.items() if conflicts}


def request_conflicts(request: Booking, calendar: ResourceCalendar, now: datetime
                      ) -> list[Conflict]:
    """The resource's rules for the request, as if it were asked now, itself left out."""
    others = replace(calendar, occupancies=[
        o for o in calendar.occupancies if o.booking_id != request.id])
    slot = Slot(request.resource, request.starts_at, request.ends_at, request.quantity)
    return [c for c in resource_conflicts(slot, others, now, request.organisation_id)
            if c.code not in NOT_AT_DECISION]


def approve_fitting(user: User, requests: list[Booking], now: datetime | None = None
                    ) -> Approvals:
    """Approve each request that still fits, through `decide`; refuse the others with
    their reasons. NotAllowed, before anything is written, if one is not the user's to
    decide."""
    if not all(can_decide_booking(user, r) for r in requests):
        raise NotAllowed
    misfits, outcome = find_misfits(requests, now), Approvals()
    for request in requests:
        reasons = misfits.get(request.id) or approval_refusal(user, request)
        if reasons:
            outcome.refused.append((request, reasons))
        else:
            outcome.approved.append(request)
    return outcome


def approval_refusal(user: User, request: Booking) -> list[Conflict | InvalidTransition]:
    """Approve one request; what refused it, if anything."""
    try:
        decide(user, request.id, approve=True)
    except BookingRefused as refused:  # the booker's credits cannot pay
        return list(refused.conflicts)
    except InvalidTransition as error:  # decided meanwhile
        return [error]
    return []
