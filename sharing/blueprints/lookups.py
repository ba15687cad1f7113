"""Finding what a request names, permission checked, for the pages and the API alike.

What the user may not see answers 404, as if it did not exist; what they see but may not
change answers 403. Each function takes what was found (or None) by id or by slug.
"""

from typing import TypeVar

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from sharing.core.extensions import db
from sharing.core.validation import is_row_id
from sharing.models import Booking, Organisation, Resource
from sharing.services.bookings import get_visible_booking
from sharing.services.catalogue import find_resource_by_slug
from sharing.services.permissions import (
    can_manage_members,
    can_manage_resource,
    can_see_members,
    can_see_quotas_of,
    can_see_resource,
)

T = TypeVar("T")
# Further pages are refused: no list is that long, and OFFSET costs grow with it.
LAST_PAGE = 100_000


def signed_in_only(bp: Blueprint) -> Blueprint:
    """Every view of `bp` is for signed-in people: the others are sent to sign in."""
    bp.before_request(login_required(lambda: None))
    return bp


def requested_page() -> int:
    """?page=N of a long list, from 1; a malformed or absurd one is no page (404)."""
    page = request.args.get("page", "1")
    return int(page) if page.isascii() and page.isdigit() and 1 <= int(page) <= LAST_PAGE \
        else abort(404)


def find_row(model: type[T], ident: int) -> T | None:
    """The row with this id; None also for ids no integer column can hold."""
    return db.session.get(model, ident) if is_row_id(ident) else None


def row_or_404(model: type[T], ident: int) -> T:
    return find_row(model, ident) or abort(404)


def visible_resource_or_404(resource: Resource | None) -> Resource:
    if resource is None or not can_see_resource(current_user, resource):
        abort(404)
    return resource


def bookable_resource_or_404(slug: str | None) -> Resource:
    """A resource to book, by slug: one withdrawn from the catalogue is not found."""
    resource = find_resource_by_slug(slug)
    if resource is None or not resource.active or not can_see_resource(current_user, resource):
        abort(404)
    return resource


def managed_resource_or_403(resource: Resource | None) -> Resource:
    resource = visible_resource_or_404(resource)
    if not can_manage_resource(current_user, resource):
        abort(403)
    return resource


def visible_booking_or_404(booking_id: int) -> Booking:
    return get_visible_booking(current_user, booking_id) or abort(404)


def organisation_members_or_404(organisation: Organisation | None) -> Organisation:
    """Membership lists are not public: outsiders get 404."""
    if organisation is None or not can_see_members(current_user, organisation):
        abort(404)
    return organisation


def managed_members_or_403(organisation: Organisation | None) -> Organisation:
    organisation = organisation_members_or_404(organisation)
    if not can_manage_members(current_user, organisation):
        abort(403)
    return organisation


def organisation_quotas_or_403(organisation: Organisation | None) -> Organisation:
    """Organisations are no secret (resources name their owners); their quotas are."""
    if organisation is None:
        abort(404)
    if not can_see_quotas_of(current_user, organisation):
        abort(403)
    return organisation
