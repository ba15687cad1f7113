"""The conflict rules: why an interval cannot be booked, every reason that applies.

Each reason carries a stable code (the API's `code`) with the values its wording needs
(limits, times; the faces word it in the reader's language), and when it is about a
period (a closure, another booking) that period. Another organisation's booking is only
ever described as busy: its title is given only to its own organisation.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sharing.engine.calendar import ResourceCalendar
from sharing.engine.policy import LONGEST_BOOKING_MINUTES
from sharing.engine.quotas import QuotaLedger, quota_conflicts
from sharing.engine.times import (
    is_covered,
    is_nonexistent,
    is_on_grid,
    open_intervals,
    to_utc,
    zone,
)
from sharing.models import Resource, User
from sharing.services.permissions import can_book

CODES = (
    "invalid_interval", "nonexistent_local_time", "too_short", "too_long", "misaligned",
    "too_soon", "too_far", "outside_opening_hours", "closed", "capacity", "quota",
    "not_allowed", "external_busy", "credit",
)


@dataclass(frozen=True)
class Conflict:
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    resource_id: int | None = None


@dataclass(frozen=True)
class Slot:
    """One resource, one interval, some units: what a booking would take."""

    resource: Resource
    start: datetime
    end: datetime
    quantity: int = 1

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    @property
    def blocks_until(self) -> datetime:
        return to_utc(self.end) + timedelta(minutes=self.resource.buffer_minutes)


def interval_conflicts(slot: Slot) -> list[Conflict]:
    if slot.start.tzinfo is None or slot.end.tzinfo is None or slot.end <= slot.start:
        return [Conflict("invalid_interval")]
    return []


def local_time_conflicts(slot: Slot) -> list[Conflict]:
    tz = zone(slot.resource.timezone)
    return [Conflict("nonexistent_local_time", {"time": moment.strftime("%H:%M")}, moment)
            for moment in (slot.start, slot.end) if is_nonexistent(moment, tz)]


def longest_allowed(max_duration_minutes: int | None) -> int:
    return min(max_duration_minutes or LONGEST_BOOKING_MINUTES, LONGEST_BOOKING_MINUTES)


def duration_problem(minutes: float, shortest: int, longest: int | None) -> str | None:
    """"too_short", "too_long" or None, from the resource's duration limits."""
    if minutes < shortest:
        return "too_short"
    return "too_long" if minutes > longest_allowed(longest) else None


def duration_conflicts(slot: Slot) -> list[Conflict]:
    resource = slot.resource
    shortest, longest = resource.min_duration_minutes, resource.max_duration_minutes
    problem = duration_problem(slot.minutes, shortest, longest)
    if problem is None:
        return []
    return [Conflict(problem, {"n": shortest if problem == "too_short"
                               else longest_allowed(longest)})]


def grid_conflicts(slot: Slot) -> list[Conflict]:
    tz, step = zone(slot.resource.timezone), slot.resource.slot_minutes
    if all(is_on_grid(moment, tz, step) for moment in (slot.start, slot.end)):
        return []
    return [Conflict("misaligned", {"n": step})]


def notice_problem(lead: timedelta, notice_minutes: int, advance_days: int | None
                   ) -> str | None:
    """"too_soon", "too_far" or None for a slot starting `lead` from now."""
    if lead < timedelta(minutes=notice_minutes):
        return "too_soon"
    return "too_far" if advance_days and lead > timedelta(days=advance_days) else None


def notice_conflicts(slot: Slot, now: datetime) -> list[Conflict]:
    resource = slot.resource
    notice, advance = resource.min_notice_minutes, resource.max_advance_days
    problem = notice_problem(slot.start - now, notice, advance)
    if problem is None:
        return []
    return [Conflict(problem, {"n": notice if problem == "too_soon" else advance})]


def opening_conflicts(slot: Slot) -> list[Conflict]:
    resource = slot.resource
    spans = open_intervals(resource.opening_hours, zone(resource.timezone), slot.start, slot.end)
    if is_covered(slot.start, slot.end, spans):
        return []
    return [Conflict("outside_opening_hours")]


def closure_conflicts(slot: Slot, calendar: ResourceCalendar) -> list[Conflict]:
    return [Conflict("closed", {"reason": closure.reason}, closure.starts_at, closure.ends_at)
            for closure in calendar.closures_overlapping(slot.start, slot.end)]


def external_busy_conflicts(slot: Slot, calendar: ResourceCalendar) -> list[Conflict]:
    """The owner's own calendar holds the resource (with the changeover buffer, as for a
    booking); what it holds it for is never known nor said."""
    return [Conflict("external_busy", {}, start, end)
            for start, end in calendar.external_overlapping(slot.start, slot.blocks_until)]


def capacity_conflicts(slot: Slot, calendar: ResourceCalendar, organisation_id: int | None
                       ) -> list[Conflict]:
    """Each booking in the way when the request does not fit, described for this booker."""
    resource = slot.resource
    if slot.quantity > resource.quantity:
        return [Conflict("capacity", {"n": resource.quantity})]
    if fits(slot, calendar):
        return []
    return [Conflict("capacity", busy_params(o, organisation_id), o.starts_at, o.ends_at)
            for o in calendar.occupancies_overlapping(slot.start, slot.blocks_until)]


def fits(slot: Slot, calendar: ResourceCalendar) -> bool:
    """Peak units in use over the interval plus its buffer, plus the request, vs quantity."""
    return calendar.peak_units(slot.start, slot.blocks_until) + slot.quantity \
        <= slot.resource.quantity


def busy_params(occupancy, organisation_id: int | None) -> dict[str, Any]:
    """A booking in the way is named (its title) to its own organisation only."""
    if organisation_id is not None and occupancy.organisation_id == organisation_id:
        return {"title": occupancy.title}
    return {}


FINAL_CODES = ("invalid_interval", "too_long")


def final_conflicts(slot: Slot) -> list[Conflict]:
    """No interval, or a longer one than the resource allows: nothing else is checked,
    so that the cost of a check does not grow with the span asked for (the opening
    hours are walked day by day, the quotas period by period)."""
    return interval_conflicts(slot) or [
        conflict for conflict in duration_conflicts(slot) if conflict.code in FINAL_CODES]


def resource_conflicts(slot: Slot, calendar: ResourceCalendar, now: datetime,
                       organisation_id: int | None = None) -> list[Conflict]:
    """Every rule of the resource itself, whoever books."""
    final = final_conflicts(slot)
    if final:
        return final
    return (local_time_conflicts(slot) + duration_conflicts(slot) + grid_conflicts(slot)
            + notice_conflicts(slot, now) + opening_conflicts(slot)
            + closure_conflicts(slot, calendar) + external_busy_conflicts(slot, calendar)
            + capacity_conflicts(slot, calendar, organisation_id))


def booker_conflicts(slot: Slot, user: User, organisation_id: int,
                     ledger: QuotaLedger | None = None) -> list[Conflict]:
    """The rules about who books: permission and the organisation's fair share."""
    if not can_book(user, slot.resource, organisation_id):
        return [Conflict("not_allowed")]
    return [Conflict("quota", params) for params in
            quota_conflicts(slot.resource, organisation_id, slot.start, slot.end, ledger)]


def check_slot(slot: Slot, calendar: ResourceCalendar, user: User, organisation_id: int,
               now: datetime, ledger: QuotaLedger | None = None) -> list[Conflict]:
    conflicts = resource_conflicts(slot, calendar, now, organisation_id)
    if not (conflicts and conflicts[0].code in FINAL_CODES):
        conflicts += booker_conflicts(slot, user, organisation_id, ledger)
    return [replace(conflict, resource_id=slot.resource.id) for conflict in conflicts]
