"""Sites, member organisations and memberships: the pole's directory."""

import re
from zoneinfo import available_timezones

from flask_babel import gettext as _
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.models import ROLES, Membership, Organisation, Site, User
from sharing.services.paging import Page, page_of
from sharing.services.permissions import is_admin

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def find_organisation_by_slug(slug: str) -> Organisation | None:
    if not SLUG.match(slug):  # e.g. NUL characters, which PostgreSQL would refuse to compare
        return None
    return db.session.scalar(select(Organisation).where(Organisation.slug == slug))


def find_site_by_name(name: str) -> Site | None:
    return db.session.scalar(select(Site).where(Site.name == name))


def get_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.name)))


def get_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def get_organisations_page(page: int) -> Page:
    return page_of(select(Organisation).order_by(Organisation.name, Organisation.id), page)


def get_user_organisations(user: User) -> list[Organisation]:
    """The organisations listed for this user: their own; every one for an admin."""
    if is_admin(user):
        return get_organisations()
    return sorted((m.organisation for m in user.memberships), key=lambda org: org.name)


def get_members(organisation: Organisation) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).join(Membership.user)
        .where(Membership.organisation_id == organisation.id)
        .order_by(func.lower(User.display_name), User.id)))


def is_valid_timezone(name: str) -> bool:
    return name in available_timezones()


def check_site(site: Site | None, name: str, timezone: str) -> str:
    """The cleaned name, or InvalidInput naming every field at fault."""
    name = name.strip()
    fields: dict[str, list[str]] = {}
    if not name:
        fields["name"] = [_("A name is required.")]
    elif (other := find_site_by_name(name)) is not None and other is not site:
        fields["name"] = [_("A site with this name already exists.")]
    if not is_valid_timezone(timezone):
        fields["timezone"] = [_("Unknown timezone %(tz)s.", tz=timezone)]
    if fields:
        raise InvalidInput(fields)
    return name


def create_site(name: str, timezone: str = "Europe/Paris", address: str = "") -> Site:
    """Add a site to the session (the caller commits)."""
    site = Site(name=check_site(None, name, timezone), timezone=timezone,
                address=address.strip())
    db.session.add(site)
    return site


def update_site(site: Site, name: str, timezone: str, address: str) -> None:
    site.name = check_site(site, name, timezone)
    site.timezone, site.address = timezone, address.strip()


def check_organisation(organisation: Organisation | None, slug: str, name: str) -> str:
    """The cleaned name, or InvalidInput naming every field at fault."""
    name = name.strip()
    fields: dict[str, list[str]] = {}
    if not SLUG.match(slug) or len(slug) > 64:
        fields["slug"] = [_("Use lower-case letters, digits and hyphens only.")]
    elif (other := find_organisation_by_slug(slug)) is not None and other is not organisation:
        fields["slug"] = [_("An organisation with this identifier already exists.")]
    if not name:
        fields["name"] = [_("A name is required.")]
    if fields:
        raise InvalidInput(fields)
    return name


def create_organisation(slug: str, name: str, legal_form: str = "") -> Organisation:
    """Add an organisation to the session (the caller commits)."""
    organisation = Organisation(slug=slug, name=check_organisation(None, slug, name),
                                legal_form=legal_form.strip())
    db.session.add(organisation)
    return organisation


def update_organisation(organisation: Organisation, slug: str, name: str,
                        legal_form: str) -> None:
    organisation.name = check_organisation(organisation, slug, name)
    organisation.slug, organisation.legal_form = slug, legal_form.strip()


def set_organisation_active(organisation: Organisation, active: bool) -> None:
    """Deactivating keeps members, resources and bookings; it stops new activity."""
    organisation.active = active


def add_member(user: User, organisation: Organisation, role: str = "member") -> Membership:
    """Make the user a member (or change their role if already one)."""
    if role not in ROLES:
        raise InvalidInput(role=_("Choose member or manager."))
    for membership in user.memberships:
        if membership.organisation_id == organisation.id:
            membership.role = role
            return membership
    membership = Membership(user=user, organisation=organisation, role=role)
    db.session.add(membership)
    return membership


def find_membership(organisation: Organisation, membership_id: int) -> Membership | None:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation.id:
        return None
    return membership


def count_managers(organisation: Organisation) -> int:
    return db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.organisation_id == organisation.id, Membership.role == "manager"))


def is_last_manager(membership: Membership) -> bool:
    return membership.role == "manager" and count_managers(membership.organisation) == 1


def change_role(membership: Membership, role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(role=_("Choose member or manager."))
    if role != "manager" and is_last_manager(membership):
        raise InvalidInput(role=_("An organisation keeps at least one manager."))
    membership.role = role


def remove_member(membership: Membership) -> None:
    if is_last_manager(membership):
        raise InvalidInput(role=_("An organisation keeps at least one manager."))
    membership.user.memberships.remove(membership)
