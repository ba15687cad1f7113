"""Who may do what. Views, the API and the engine ask here and nowhere else.

Platform admins (the pole's coordinator) manage sites and organisations; managers manage
their organisation's members and resources; members see the shared catalogue and book
on behalf of their organisations.
"""

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from sharing.core.extensions import db
from sharing.models import Booking, Organisation, Quota, Resource, ResourceVisibility, User


def is_admin(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.active and user.is_admin)


def role_in(user: User | None, organisation: Organisation | int) -> str | None:
    """The user's role in the organisation (`member`, `manager`) or None."""
    if not user or not user.is_authenticated:
        return None
    org_id = organisation if isinstance(organisation, int) else organisation.id
    for membership in user.memberships:
        if membership.organisation_id == org_id:
            return membership.role
    return None


def is_member(user: User | None, organisation: Organisation | int) -> bool:
    return role_in(user, organisation) is not None


def is_manager(user: User | None, organisation: Organisation | int) -> bool:
    return role_in(user, organisation) == "manager"


def can_manage_sites(user: User | None) -> bool:
    return is_admin(user)


def can_manage_organisations(user: User | None) -> bool:
    return is_admin(user)


def can_manage_personal_data(user: User | None) -> bool:
    """Exporting and anonymising people: the coordinator, for the whole pole."""
    return is_admin(user)


def can_manage(user: User | None, organisation: Organisation | int) -> bool:
    """Manage an organisation's members, resources, quotas and approvals."""
    return is_admin(user) or is_manager(user, organisation)


def can_manage_resource(user: User | None, resource: Resource) -> bool:
    return can_manage(user, resource.owner_organisation_id)


def can_create_resource_for(user: User | None, organisation: Organisation) -> bool:
    return organisation.active and can_manage(user, organisation)


def managed_organisations(user: User | None) -> list[Organisation]:
    """Organisations on whose behalf the user may publish resources."""
    if is_admin(user):
        return list(db.session.scalars(select(Organisation).where(Organisation.active)))
    if not user or not user.is_authenticated:
        return []
    return [m.organisation for m in user.memberships
            if m.role == "manager" and m.organisation.active]


def bookable_organisations(user: User | None) -> list[Organisation]:
    """Organisations on whose behalf the user may book."""
    if not user or not user.is_authenticated:
        return []
    return [m.organisation for m in user.memberships if m.organisation.active]


def is_visible_to_organisation(resource: Resource, organisation_id: int) -> bool:
    if resource.visibility == "all" or resource.owner_organisation_id == organisation_id:
        return True
    return organisation_id in resource.visible_to_ids


def can_see_resource(user: User | None, resource: Resource) -> bool:
    if is_admin(user) or (user and can_manage_resource(user, resource)):
        return True
    if not resource.active or not user or not user.is_authenticated:
        return False
    return any(is_visible_to_organisation(resource, m.organisation_id) for m in user.memberships)


def can_book_for(user: User | None, organisation: Organisation | int) -> bool:
    """Act on behalf of the organisation when booking: its members."""
    return is_member(user, organisation)


def can_book(user: User | None, resource: Resource, organisation: Organisation | int) -> bool:
    """Book the resource on behalf of the organisation."""
    org_id = organisation if isinstance(organisation, int) else organisation.id
    org = organisation if isinstance(organisation, Organisation) else db.session.get(
        Organisation, org_id)
    return bool(
        resource.active and org and org.active and can_book_for(user, org_id)
        and user.active and is_visible_to_organisation(resource, org_id)
    )


def can_see_booking(user: User | None, booking: Booking) -> bool:
    """That the booking exists: whoever sees its resource, and the booking organisation."""
    return (is_admin(user) or is_member(user, booking.organisation_id)
            or can_see_resource(user, booking.resource))


def is_person_of(user: User | None, resource: Resource) -> bool:
    """The staff member or expert whose time the resource is."""
    return bool(user and user.is_authenticated and resource.person_id == user.id)


def can_see_booking_details(user: User | None, booking: Booking) -> bool:
    """Title, note and who booked: for the booking organisation, the resource's owners and
    the staff member or expert whose time was booked."""
    return (is_admin(user) or is_member(user, booking.organisation_id)
            or can_manage(user, booking.resource.owner_organisation_id)
            or is_person_of(user, booking.resource))


def can_subscribe_organisation(user: User | None, organisation: Organisation) -> bool:
    """The feed of everything an organisation booked: its members and the coordinator."""
    return is_admin(user) or is_member(user, organisation)


def booking_details_clause(user: User | None) -> ColumnElement[bool]:
    """SQL filter, like can_see_booking_details (the query joins the booking's resource)."""
    if is_admin(user):
        return true()
    if not user or not user.is_authenticated:
        return false()
    own = [m.organisation_id for m in user.memberships]
    managed = [m.organisation_id for m in user.memberships if m.role == "manager"]
    return or_(Booking.organisation_id.in_(own), Resource.owner_organisation_id.in_(managed),
               Resource.person_id == user.id)


def can_cancel_booking(user: User | None, booking: Booking) -> bool:
    """Whoever made it, the booking organisation's managers, the resource's managers."""
    return bool(
        (user and user.is_authenticated and user.active and booking.user_id == user.id)
        or can_manage(user, booking.organisation_id)
        or can_manage(user, booking.resource.owner_organisation_id)
    )


def can_decide_booking(user: User | None, booking: Booking) -> bool:
    """Approve or reject a request: the resource owner's managers."""
    return can_decide_on(user, booking.resource)


def can_decide_on(user: User | None, resource: Resource) -> bool:
    """Decide the requests on a resource (and so move one there without a new request)."""
    return can_manage(user, resource.owner_organisation_id)


def can_move_booking(user: User | None, booking: Booking) -> bool:
    """Change a booking's time, units, texts or resource: whoever may cancel it."""
    return can_cancel_booking(user, booking)


def visible_resources_clause(user: User | None) -> ColumnElement[bool]:
    """SQL filter: the resources this user may see in the catalogue."""
    if is_admin(user):
        return true()
    # Like can_see_resource: the shared catalogue is for members of an organisation.
    if not user or not user.is_authenticated or not user.memberships:
        return false()
    memberships = user.memberships
    org_ids = [m.organisation_id for m in memberships]
    managed_ids = [m.organisation_id for m in memberships if m.role == "manager"]
    listed = exists().where(
        ResourceVisibility.resource_id == Resource.id,
        ResourceVisibility.organisation_id.in_(org_ids),
    )
    shared = or_(Resource.visibility == "all", Resource.owner_organisation_id.in_(org_ids), listed)
    return or_(Resource.owner_organisation_id.in_(managed_ids), and_(Resource.active, shared))


def can_see_members(user: User | None, organisation: Organisation) -> bool:
    """Who belongs to an organisation, and in which role: its members and the coordinator."""
    return is_admin(user) or is_member(user, organisation)


def can_manage_members(user: User | None, organisation: Organisation) -> bool:
    """Invite, change roles, remove: the coordinator, or managers while the organisation
    is active (a deactivated organisation is frozen, not deleted)."""
    return is_admin(user) or (organisation.active and is_manager(user, organisation))


def can_set_quota(user: User | None, quota: Quota) -> bool:
    """The coordinator sets any quota; a resource's owner managers set quotas on it."""
    return is_admin(user) or (
        quota.resource is not None and can_manage_resource(user, quota.resource))


def is_coordinator_or_manager(user: User | None) -> bool:
    return is_admin(user) or bool(
        user and user.is_authenticated and any(m.role == "manager" for m in user.memberships))


def can_set_quotas(user: User | None) -> bool:
    """Whether the user may set quotas at all: the coordinator and managers."""
    return is_coordinator_or_manager(user)


def can_see_quota(user: User | None, quota: Quota) -> bool:
    """The quota's organisation and whoever may set it."""
    return is_member(user, quota.organisation_id) or can_set_quota(user, quota)


def can_see_quotas_of(user: User | None, organisation: Organisation) -> bool:
    """Open an organisation's quotas: its members and the coordinator see them all,
    managers elsewhere those on their own resources."""
    return is_member(user, organisation) or can_set_quotas(user)


def can_review_requests(user: User | None) -> bool:
    """Open the list of booking requests to approve: the coordinator and managers (each
    sees the requests on resources they may decide, see `can_decide_booking`)."""
    return is_coordinator_or_manager(user)


def can_manage_credits(user: User | None) -> bool:
    """Grant or withdraw credits, set floors: the coordinator."""
    return is_admin(user)


def can_see_credit_account(user: User | None, organisation: Organisation | int) -> bool:
    """An organisation's balance and statements: its members and the coordinator."""
    return is_admin(user) or is_member(user, organisation)


def can_see_report_of(user: User | None, organisation: Organisation | int) -> bool:
    """An organisation's part of the impact report: its members and the coordinator."""
    return is_admin(user) or is_member(user, organisation)
