"""What the API answers: plain JSON objects, times in UTC with a `Z`.

Every function takes the viewer when what it shows depends on who asks.
"""

from datetime import UTC, datetime
from typing import Any

from sharing.engine import (
    Alternative,
    Availability,
    BookingRefused,
    BookingResult,
    Conflict,
    Skipped,
)
from sharing.engine.policy import NUMERIC_RULES, WEEKDAYS
from sharing.models import Booking, Closure, CreditEntry, Organisation, Quota, Resource, User
from sharing.services.catalogue import KINDS
from sharing.services.credits import Account
from sharing.services.feeds import feed_urls, resource_feed_url
from sharing.services.messages import describe
from sharing.services.permissions import can_manage_resource, can_see_booking_details, role_in

# What a resource says about how it may be booked (opening hours are shown apart).
BOOKING_RULE_FIELDS = ("requires_approval", "public_busy_feed", *NUMERIC_RULES)
BOOKING_DETAILS = ("title", "note", "user_id")


def iso(moment: datetime | None) -> str | None:
    """2026-03-02T09:00:00Z: ISO 8601 in UTC."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def opening_hours_json(opening_hours: dict[str, list[list[str]]] | None) -> dict[str, list]:
    hours = opening_hours or {}
    return {day: [list(pair) for pair in hours.get(day, [])] for day in WEEKDAYS}


def resource_json(resource: Resource, viewer: User) -> dict[str, Any]:
    data = {
        "id": resource.id,
        "kind": resource.kind,
        "name": resource.name,
        "slug": resource.slug,
        "description": resource.description,
        "site_id": resource.site_id,
        "owner_organisation_id": resource.owner_organisation_id,
        "quantity": resource.quantity,
        "tags": list(resource.tags),
        "timezone": resource.timezone,
        "active": resource.active,
        "visibility": resource.visibility,
        "opening_hours": opening_hours_json(resource.opening_hours),
    }
    data.update({name: getattr(resource, name) for name in BOOKING_RULE_FIELDS})
    data.update(price=None if resource.price is None else float(resource.price),
                price_unit=resource.price_unit,
                free_cancellation_minutes=resource.free_cancellation_minutes)
    data.update({name: getattr(resource, name) for name in KINDS[resource.kind].fields})
    data["feed_url"] = resource_feed_url(viewer, resource)
    if can_manage_resource(viewer, resource):
        data["visible_to"] = sorted(resource.visible_to_ids)
    return data


def credits_json(cents: int) -> float:
    return cents / 100


def credit_entry_json(entry: CreditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": iso(entry.at), "amount": credits_json(entry.amount_cents),
            "reason": entry.reason, "booking_id": entry.booking_id, "memo": entry.memo}


def account_json(account: Account) -> dict[str, Any]:
    return {"balance": credits_json(account.balance_cents),
            "floor": credits_json(account.floor_cents),
            "entries": [credit_entry_json(entry) for entry in account.entries],
            "page": account.page, "pages": account.pages, "total": account.total}


def closure_json(closure: Closure) -> dict[str, Any]:
    return {"id": closure.id, "resource_id": closure.resource_id,
            "start": iso(closure.starts_at), "end": iso(closure.ends_at),
            "reason": closure.reason}


def quota_json(quota: Quota) -> dict[str, Any]:
    return {"id": quota.id, "organisation_id": quota.organisation_id,
            "resource_id": quota.resource_id, "resource_kind": quota.resource_kind,
            "max_hours_per_week": quota.max_hours_per_week,
            "max_hours_per_month": quota.max_hours_per_month}


def booking_json(booking: Booking, viewer: User) -> dict[str, Any]:
    """A booking in full; another organisation's is busy time only (`busy_json`)."""
    if not can_see_booking_details(viewer, booking):
        return busy_json(booking)
    return {
        "id": booking.id,
        "uid": booking.uid,
        "resource_id": booking.resource_id,
        "organisation_id": booking.organisation_id,
        "user_id": booking.user_id,
        "start": iso(booking.starts_at),
        "end": iso(booking.ends_at),
        "quantity": booking.quantity,
        "title": booking.title,
        "note": booking.note,
        "status": booking.status,
        "series_id": booking.series_id,
        "sequence": booking.sequence,
    }


def busy_json(booking: Booking) -> dict[str, Any]:
    """No id, uid, series, organisation, person, title or note: nothing to tell who."""
    return {"busy": True, "resource_id": booking.resource_id, "start": iso(booking.starts_at),
            "end": iso(booking.ends_at), "quantity": booking.quantity}


def conflict_json(conflict: Conflict) -> dict[str, Any]:
    """A reason code and its message; the period and resource concerned when there are."""
    data = {"code": conflict.code, "message": describe(conflict)}
    if conflict.start is not None:
        data.update(start=iso(conflict.start), end=iso(conflict.end))
    if conflict.resource_id is not None:
        data["resource_id"] = conflict.resource_id
    return data


def alternative_json(alternative: Alternative) -> dict[str, Any]:
    return {"resource_id": alternative.resource_id, "start": iso(alternative.start),
            "end": iso(alternative.end)}


def refusal_json(refused: BookingRefused) -> dict[str, Any]:
    """The body of a 409."""
    return {"error": "conflict", "conflicts": [conflict_json(c) for c in refused.conflicts],
            "alternatives": [alternative_json(a) for a in refused.alternatives]}


def skipped_json(skipped: Skipped) -> dict[str, Any]:
    return {"start": iso(skipped.start), "end": iso(skipped.end),
            "conflicts": [conflict_json(c) for c in skipped.conflicts]}


def booking_result_json(result: BookingResult, viewer: User) -> dict[str, Any]:
    """The body of a 201 from POST /bookings."""
    return {"bookings": [booking_json(b, viewer) for b in result.bookings],
            "skipped": [skipped_json(s) for s in result.skipped]}


def availability_json(availability: Availability) -> dict[str, Any]:
    return {"busy": [{"start": iso(start), "end": iso(end), "units": units}
                     for start, end, units in availability.busy],
            "free": [{"start": iso(start), "end": iso(end)} for start, end in availability.free]}


def membership_json(organisation: Organisation, user: User) -> dict[str, Any]:
    return {"id": organisation.id, "slug": organisation.slug, "name": organisation.name,
            "role": role_in(user, organisation)}


def me_json(user: User) -> dict[str, Any]:
    organisations = sorted((m.organisation for m in user.memberships), key=lambda o: o.name)
    return {"id": user.id, "email": user.email, "name": user.display_name,
            "is_admin": user.is_admin,
            "organisations": [membership_json(org, user) for org in organisations],
            "feeds": feed_urls(user)}
