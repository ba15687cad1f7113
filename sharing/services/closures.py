"""Closures: one-off periods when a resource cannot be booked (holidays, maintenance)."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.core.validation import InvalidInput, check_date_range
from sharing.models import Closure, Resource, User

REASON_MAX_LENGTH = 200


def find_closures(resource: Resource, start: datetime | None = None,
                  end: datetime | None = None) -> list[Closure]:
    """The resource's closures, in order, that overlap the window if one is given."""
    query = select(Closure).where(Closure.resource_id == resource.id)
    if start is not None:
        query = query.where(Closure.ends_at > start)
    if end is not None:
        query = query.where(Closure.starts_at < end)
    return list(db.session.scalars(query.order_by(Closure.starts_at, Closure.id)))


def check_reason(reason: object) -> str:
    if not isinstance(reason, str):
        raise InvalidInput(reason=_("Enter some text."))
    if len(reason.strip()) > REASON_MAX_LENGTH:
        raise InvalidInput(reason=_("Use at most %(count)s characters.", count=REASON_MAX_LENGTH))
    return reason.strip()


def add_closure(resource: Resource, start: datetime, end: datetime, reason: object = "",
                created_by: User | None = None) -> Closure:
    """Add a closure to the session (the caller commits); the end must follow the start."""
    check_date_range(start=start, end=end)
    if end <= start:
        raise InvalidInput(end=_("The end must come after the start."))
    closure = Closure(resource_id=resource.id, starts_at=start, ends_at=end,
                      reason=check_reason(reason),
                      created_by_id=created_by.id if created_by else None)
    db.session.add(closure)
    return closure


def remove_closure(closure: Closure) -> None:
    """Reopen the period (the caller commits); bookings were never touched by it."""
    db.session.delete(closure)
